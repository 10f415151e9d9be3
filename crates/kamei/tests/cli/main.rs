//! End-to-end tests of the `kamei` binary: one test binary (one link step) with a module per
//! area of the command line.

mod audit;
mod deid;
mod demo;
mod detect;
mod generate;
mod policy;
mod report;
mod serve;

use std::process::Command;

/// The `kamei` binary cargo built for these tests.
pub fn kamei() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kamei"))
}
