//! The demo-world generator: a realistic, deterministic messaging-platform dataset.
//!
//! It writes the four tables of DESIGN.md (`users`, `messages`, `reports`, `payments`) with
//! personal data in the forms people in Japan, Thailand, Taiwan and Indonesia write it, and a
//! labels file that marks every span of personal data in the message bodies, so detectors can
//! be measured and protections tested on data that looks like production. A share of the
//! bodies (`obfuscate.rs`) hides a contact on purpose — full-width, spelled-out `@`, kanji or
//! Thai digits, emoji between digits, a LINE ID after a cue word — labelled with its form;
//! handles, a column category rather than a personal-data type, go to labels/account_ids.jsonl.
//!
//! Every row is a pure function of (seed, row id): the same arguments give byte-identical
//! files whatever the number of threads. Names and postal codes come from reference tables
//! compiled into the crate (data/README.md).
//!
//! It does not detect, protect or decide anything, and it never writes half a data set: it
//! builds the output in a hidden sibling directory and renames it into place when complete.

mod country;
mod leak;
mod obfuscate;
mod person;
mod postgres;
mod refdata;
mod rng;
mod tables;
mod templates;
mod text;
mod time;
mod world;

pub use kamei_core::check_digit::{digits_of, luhn_valid, my_number_valid};
pub use leak::{STRUCTURED, StructuredSpan, count_survivors, folded, structured_spans, survives};
pub use postgres::load_script;
pub use text::Label;
pub use world::{Format, GenerateError, GenerateOptions, Summary, generate};
