//! The `kamei` command line: a thin layer that parses arguments, calls the library crates and
//! turns their errors into one line and an exit code.
//!
//! Exit codes: 0 success; 1 a check that ran and found a problem (`audit verify` on a
//! tampered log, `policy diff` when exposure grows); 2 a usage or input error, printed as one
//! line `kamei: error: …` that says what, where and what to do.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod audit;
mod deid;
mod demo;
mod detect;
mod generate;
mod keys;
mod leakage;
mod policy;
mod progress;
mod report;
mod serve;

/// kamei stands between the people who operate a messaging service and its users' personal
/// data: it finds personal data, decides per principal and per data subject's jurisdiction in
/// which form a column may be read, applies that on every path out, and records every access
/// in a tamper-evident log.
#[derive(Debug, Parser)]
#[command(name = "kamei", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write the demo world (users, messages, reports, payments) and labels of the personal data in it.
    Generate(generate::GenerateArgs),
    /// Write the demo configuration (kamei.toml, catalog.toml, principals.toml, policies.cedar) to a directory.
    Init(policy::InitArgs),
    /// Find personal data in text, one input line at a time, and print it as JSON lines.
    Detect(detect::DetectArgs),
    /// Replace the personal data in text by its type tag or a mask, line for line.
    Redact(detect::RedactArgs),
    /// Sample every column of every table in a directory and propose a catalog.toml.
    Scan(detect::ScanArgs),
    /// Measure the detector against a gold-labelled JSONL file: precision, recall and F1 per type.
    EvalDetect(detect::EvalDetectArgs),
    /// Check, list, compare and explain the access policy.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Export a table for a recipient with the recipient's levels applied, and a processing record.
    Deid(deid::DeidArgs),
    /// Manage the keyring: create it, rotate keys, list key ids (never key material).
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Append to, prove, verify and query the tamper-evident audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Serve SQL over the PostgreSQL protocol: each principal reads at its levels, every statement is audited.
    Serve(serve::ServeArgs),
    /// Reports for privacy officers, panels and regulators: the exposure register, who accessed whose data, one user's
    /// history, breach triage.
    #[command(subcommand)]
    Report(report::ReportCommand),
    /// Demo material: `demo incident` writes the demo incident's audit log and the reports made from it.
    #[command(subcommand)]
    Demo(demo::DemoCommand),
}

/// What to run next, for the library errors that have a command to help: the libraries name
/// what is wrong, never a command (a psql user of the gateway cannot run one).
fn hint(err: &anyhow::Error) -> &'static str {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<kamei_policy::ConfigError>() {
            if e.problems().len() > 1 {
                return "; run `kamei policy check` to list them";
            }
        } else if let Some(kamei_audit::AuditError::Damaged { .. } | kamei_audit::AuditError::DamagedLog(_)) =
            cause.downcast_ref::<kamei_audit::AuditError>()
        {
            return "; run `kamei audit verify` to find the first bad entry";
        } else if let Some(e) = cause.downcast_ref::<kamei_protect::KeyError>() {
            match e {
                kamei_protect::KeyError::NoKey { .. } => return "; run `kamei keys rotate` to add one",
                kamei_protect::KeyError::Missing { .. } => return "; create it with `kamei keys init`",
                _ => {}
            }
        } else if let Some(kamei_policy::PolicyError::NoKeyring) =
            cause.downcast_ref::<kamei_policy::PolicyError>()
        {
            return ", or pass --keyring FILE";
        }
    }
    ""
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Generate(args) => generate::run(args),
        Command::Init(args) => policy::init(args),
        Command::Detect(args) => detect::detect(args),
        Command::Redact(args) => detect::redact(args),
        Command::Scan(args) => detect::scan(args),
        Command::EvalDetect(args) => detect::eval(args),
        Command::Policy(cmd) => policy::run(cmd),
        Command::Deid(args) => deid::run(args),
        Command::Keys(cmd) => keys::run(cmd),
        Command::Audit(cmd) => audit::run(cmd),
        Command::Serve(args) => serve::run(args),
        Command::Report(cmd) => report::run(cmd),
        Command::Demo(cmd) => demo::run(cmd),
    };
    match outcome {
        Ok(code) => code,
        Err(err) => {
            // `{:#}` prints the whole context chain on one line: "what: where: why".
            eprintln!("kamei: error: {err:#}{}", hint(&err));
            ExitCode::from(2)
        }
    }
}
