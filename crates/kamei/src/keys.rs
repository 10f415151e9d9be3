//! `kamei keys …` (issue 4): the keyring.

use std::process::ExitCode;

use crate::policy::ConfigArgs;

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Create a new keyring encrypted under the master key.
    Init(ConfigArgs),
    /// Add a new current key; older keys stay to read what they protected.
    Rotate(ConfigArgs),
    /// List key ids, purposes and creation times (never key material).
    List(ConfigArgs),
}

pub fn run(_cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`kamei keys` is not built yet (issue 4, policy and protection)")
}
