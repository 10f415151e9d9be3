//! Finds personal data in free text and redacts it.
//!
//! A [`Detector`] holds the built-in recognizers for every [`kamei_core::PiiType`]: structured
//! types found by a single pass over the bytes that stops only at cheap triggers (a digit, `@`,
//! `:`, an upper-case letter, a full-width form, a character whose first two bytes may start a
//! digit of another script or a spelled at-marker) and validates candidates by their format's own
//! rule (Luhn and issuer ranges, My Number and Corporate Number check digits, IBAN mod-97,
//! IPv4/IPv6 parsing, real calendar dates), scored by the words around them; Japanese
//! names and addresses found with reference lists (Japan Post municipalities, surnames and
//! given names) compiled into Aho-Corasick automata; names in Latin letters looked up at the
//! capital letters the structured pass stops at (US Census and romaji lists); and Chinese and
//! Thai names found where a title, a cue word, a verb of saying or the shape of the text
//! points at a person (Chinese only in text without kana). Street addresses in English are
//! asked for at a house number before a capitalised word (`street.rs`), Korean road-name
//! addresses at a district word (`korean.rs`).
//!
//! Values written to slip past filters are read as what they are: full-width letters and
//! digits, ＠ and ．, kanji numerals and the decimal digits of every script (`digit.rs`),
//! digit forms mixed in one number (`090-12三4-5678`), digits split by spaces, dots, commas,
//! symbols, arrows, keycaps, flags and other emoji or の, and e-mail addresses with spelled or
//! stand-in separators (`taro at example dot com`, `taroアットexample.jp`, `taro★example.jp`:
//! `email.rs`). Each form is folded only inside a candidate, so the reported offsets are byte
//! offsets into the original text.
//!
//! [`Detector::find_with`] works at either of two operating points ([`Profile`]): balanced
//! (`find`, for reporting) or recall-first (`recall.rs`, for redaction: anything that could
//! be a structured value in context is hidden too).
//!
//! [`redact`] replaces what was found by a type tag, a mask, or whatever a caller computes
//! (the protection crate plugs its keyed pseudonyms in there).
//!
//! [`Detector::classify_column`] proposes a column's category from its name and a sample of
//! its values, with a confidence and the evidence (the command line reads the samples from
//! Arrow arrays for `kamei scan`).
//!
//! This crate does not read files, decide who may see what, or keep any state between calls:
//! the command line streams input through it, and kamei-protect decides which level applies.

mod chinese;
mod column;
mod context;
mod detector;
mod digit;
mod email;
mod entity;
mod fx;
mod korean;
mod latin;
mod names;
mod numeric;
mod recall;
mod street;
mod thai;
mod validate;

pub use column::ColumnProposal;
pub use detector::Detector;
pub use entity::{Entity, mask, redact, redact_mask, redact_tag};
pub use recall::{MIN_DIGITS, Profile, UnknownProfile, digit_value};
