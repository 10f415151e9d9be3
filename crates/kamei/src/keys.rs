//! `kamei keys …` (issue 4): the keyring. Prints key ids, purposes and times, never key
//! material.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use kamei_policy::Config;
use kamei_protect::{KeyPurpose, Keyring, MasterKey};

use crate::policy::ConfigArgs;

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Create a new keyring encrypted under the master key.
    Init(KeysArgs),
    /// Add a new current key; older keys stay to read what they protected.
    Rotate {
        #[command(flatten)]
        args: KeysArgs,
        /// The purpose of the key to rotate; every purpose when not given.
        #[arg(long, value_enum)]
        purpose: Option<PurposeArg>,
    },
    /// List key ids, purposes and creation times (never key material).
    List(KeysArgs),
}

#[derive(Debug, clap::Args)]
pub struct KeysArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The keyring file; overrides `[keyring] path` of kamei.toml. Its master key comes from
    /// `KAMEI_MASTER_KEY` (or `[keyring] master_key_file` with --config).
    #[arg(long)]
    pub keyring: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PurposeArg {
    Pseudonym,
    Token,
    AuditSigning,
}

impl From<PurposeArg> for KeyPurpose {
    fn from(p: PurposeArg) -> KeyPurpose {
        match p {
            PurposeArg::Pseudonym => KeyPurpose::Pseudonym,
            PurposeArg::Token => KeyPurpose::Token,
            PurposeArg::AuditSigning => KeyPurpose::AuditSigning,
        }
    }
}

/// The configuration named by `--config`, else the built-in demo (said on stderr).
pub(crate) fn load_config(args: &ConfigArgs) -> anyhow::Result<Config> {
    match &args.config {
        Some(path) => Ok(Config::load(path)?),
        None => {
            eprintln!(
                "kamei: using the built-in demo configuration (kamei init DIR writes it; --config to use yours)"
            );
            Ok(Config::demo()?)
        }
    }
}

/// The keyring file to create or rotate: never the demo's fixed keys.
fn keyring_file(
    config: &Config,
    keyring: Option<&Path>,
    what: &str,
) -> anyhow::Result<(PathBuf, Option<PathBuf>)> {
    match config.keyring().file(keyring)? {
        Some(path) => Ok((path, config.keyring().master_key_file.clone())),
        None => bail!(
            "the built-in demo uses fixed demo keys that {what}; pass --config with a [keyring] path, or --keyring FILE"
        ),
    }
}

fn say_demo() {
    eprintln!("kamei: using demo keys (a fixed, public demo master key: never for real data)");
}

/// The keyring the configuration names (or `--keyring`), unsealed; the demo keyring for the
/// built-in demo (said on stderr).
pub(crate) fn open_keyring(config: &Config, keyring: Option<&Path>) -> anyhow::Result<Keyring> {
    match config.keyring().file(keyring)? {
        None => {
            say_demo();
            Ok(Keyring::demo())
        }
        Some(path) => Ok(Keyring::open(&path, config.keyring().master_key_file.as_deref())?),
    }
}

pub fn run(cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KeysCommand::Init(args) => {
            let config = load_config(&args.config)?;
            let (path, master_key_file) = keyring_file(&config, args.keyring.as_deref(), "need no keyring")?;
            if path.exists() {
                bail!(
                    "keyring `{}` already exists; use `kamei keys rotate` to add keys",
                    path.display()
                );
            }
            let master = MasterKey::from_file_or_env(master_key_file.as_deref())?;
            let ring = Keyring::generate();
            ring.save(&path, &master)
                .with_context(|| format!("cannot write keyring `{}`", path.display()))?;
            eprintln!("kamei: created keyring `{}`", path.display());
            print_list(&ring);
        }
        KeysCommand::Rotate { args, purpose } => {
            let config = load_config(&args.config)?;
            let (path, master_key_file) =
                keyring_file(&config, args.keyring.as_deref(), "cannot be rotated")?;
            let master = MasterKey::from_file_or_env(master_key_file.as_deref())?;
            let mut ring = Keyring::open(&path, master_key_file.as_deref())?;
            let purposes: Vec<KeyPurpose> = match purpose {
                Some(p) => vec![p.into()],
                None => KeyPurpose::ALL.to_vec(),
            };
            for p in purposes {
                let id = ring.rotate(p);
                eprintln!("kamei: new current {p} key `{id}`");
            }
            ring.save(&path, &master)?;
            print_list(&ring);
        }
        KeysCommand::List(args) => {
            let config = load_config(&args.config)?;
            let ring = open_keyring(&config, args.keyring.as_deref())?;
            print_list(&ring);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_list(ring: &Keyring) {
    println!("{:<6} {:<14} {:<21} current", "id", "purpose", "created");
    for k in ring.list() {
        println!(
            "{:<6} {:<14} {:<21} {}",
            k.id,
            k.purpose.as_str(),
            k.created_at,
            if k.current { "yes" } else { "no" }
        );
    }
}
