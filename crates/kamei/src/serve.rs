//! `kamei serve`: the gateway. With no arguments it serves the demo world (generated into
//! ./kamei-demo on first start) with the built-in demo configuration on 127.0.0.1:5433.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use kamei_gateway::{
    Audit, ConnectionIo, Gateway, GatewayError, MemoryLimits, Server, ServerOptions, Sources, Tls,
};
use kamei_policy::Config;
use tokio_util::sync::CancellationToken;

use crate::progress;

/// Where the demo world lives when no `--data` is given.
const DEMO_DIR: &str = "kamei-demo";
/// How many users the demo world has when `kamei serve` generates it.
const DEMO_USERS: u64 = 100_000;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// A directory written by `kamei generate` (users.parquet, …); default: the configuration's
    /// `[sources] dir`, or for the demo ./kamei-demo, generated on first start.
    #[arg(long)]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub config: crate::policy::ConfigArgs,
    /// The address to listen on (default: `[server] listen`, else 127.0.0.1:5433).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// The audit log directory (default: `[audit] log`, else ./kamei-demo/audit).
    #[arg(long)]
    pub audit_log: Option<PathBuf>,
    /// The keyring file; overrides `[keyring] path` (master key from `KAMEI_MASTER_KEY`).
    #[arg(long)]
    pub keyring: Option<PathBuf>,
    /// Memory all running statements' operators (sorts, joins, aggregates) may hold together,
    /// in MiB.
    #[arg(long, default_value_t = 1024)]
    pub memory_mib: usize,
    /// Memory one statement's operators may hold, in MiB; a statement that needs more fails
    /// alone.
    #[arg(long, default_value_t = 512)]
    pub statement_memory_mib: usize,
    /// Most client connections at once.
    #[arg(long, default_value_t = 256)]
    pub max_connections: usize,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = Arc::new(crate::policy::load_config(&args.config)?);
    let demo = args.config.config.is_none();
    let data = match (&args.data, config.sources_dir()) {
        (Some(d), _) => d.clone(),
        (None, Some(d)) if !demo => d.to_path_buf(),
        _ => PathBuf::from(DEMO_DIR),
    };
    if demo && args.data.is_none() && !data.join("users.parquet").exists() {
        generate_demo(&data)?;
    }
    let keyring = Arc::new(crate::keys::open_keyring(&config, args.keyring.as_deref())?);
    let log_dir = match (&args.audit_log, config.audit_log()) {
        (Some(d), _) => d.clone(),
        (None, Some(d)) if !demo => d.to_path_buf(),
        _ => data.join("audit"),
    };
    let log = crate::audit::open_with_keyring(&log_dir, &keyring).with_context(|| {
        format!(
            "the audit log `{}` cannot be opened for writing",
            log_dir.display()
        )
    })?;
    let listen: SocketAddr = match (args.listen, config.listen()) {
        (Some(a), _) => a,
        (None, Some(a)) => a
            .parse()
            .with_context(|| format!("[server] listen = `{a}` is not an address such as 127.0.0.1:5433"))?,
        (None, None) => SocketAddr::from(([127, 0, 0, 1], 5433)),
    };
    let tls = match &config.server().tls {
        Some((cert, key)) => Some(Tls::load(cert, key)?),
        None => None,
    };
    if config.server().require_tls && tls.is_none() {
        bail!("[server] require_tls is set but no tls_cert/tls_key is configured");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Planning walks expression trees recursively: room for the deepest one accepted (the
        // guard allows 1,000 nesting operators; 64 MiB is virtual until used).
        .thread_stack_size(64 << 20)
        .build()
        .context("cannot start the async runtime")?;
    // `--data` (or the demo's directory) stands in for the directory of every source of files.
    let files_dir = (demo || args.data.is_some()).then(|| data.clone());
    let sources = runtime.block_on(load_sources(&config, files_dir.as_deref()))?;
    let memory = MemoryLimits {
        server: args.memory_mib.saturating_mul(1 << 20),
        statement: args
            .statement_memory_mib
            .min(args.memory_mib)
            .saturating_mul(1 << 20),
    };
    let gateway = Gateway::new(config.clone(), sources, keyring.clone(), memory)?;
    let options = ServerOptions {
        tls,
        require_tls: config.server().require_tls,
        max_connections: args.max_connections.max(1),
        ..ServerOptions::default()
    };
    let log = Arc::new(log);
    let server = Server::new(gateway, Audit::new(log.clone()), options);

    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let bound = listener.local_addr()?;
        server
            .record_configuration("start")
            .await
            .context("cannot record the configuration in the audit log")?;
        say_how_to_connect(&config, bound, &log_dir, demo);
        let shutdown = CancellationToken::new();
        tokio::spawn(signals(
            shutdown.clone(),
            server.clone(),
            args.config.config.clone(),
            files_dir.clone(),
            keyring.clone(),
            memory,
        ));
        server.serve(listener, shutdown).await?;
        anyhow::Ok(())
    })?;
    log.close().context("cannot close the audit log")?;
    eprintln!("kamei serve: stopped; the audit log is flushed");
    Ok(ExitCode::SUCCESS)
}

fn generate_demo(dir: &Path) -> anyhow::Result<()> {
    eprintln!(
        "kamei serve: first start: generating the demo world ({DEMO_USERS} users) into {}",
        dir.display()
    );
    let opts = kamei_synth::GenerateOptions {
        out: dir.to_path_buf(),
        users: DEMO_USERS,
        seed: 1,
        format: kamei_synth::Format::Parquet,
    };
    let bar = progress::bar(DEMO_USERS, "users");
    bar.set_message("generating");
    kamei_synth::generate(&opts, &|n| bar.inc(n))?;
    bar.finish_and_clear();
    Ok(())
}

async fn load_sources(config: &Config, files_dir: Option<&Path>) -> anyhow::Result<Sources> {
    // The server's runtime (multi-threaded, everything enabled) lives as long as the sources.
    let sources = Sources::open(config, files_dir, ConnectionIo::ThisRuntime).await;
    let files = files_dir.or(config.sources_dir());
    match (sources, files) {
        (Ok(s), _) => Ok(s),
        (Err(e @ GatewayError::Source { .. }), Some(dir)) if !dir.join("users.parquet").exists() => {
            Err(anyhow::Error::new(e).context(format!(
                "cannot read the tables in `{}` (write them with `kamei generate --out {}`)",
                dir.display(),
                dir.display()
            )))
        }
        (Err(e), _) => Err(e.into()),
    }
}

fn say_how_to_connect(config: &Config, bound: SocketAddr, log: &Path, demo: bool) {
    eprintln!("kamei serve: listening on {bound}; audit log {}", log.display());
    if demo {
        let names: Vec<&str> = config.principals().iter().map(|p| p.name.as_str()).collect();
        eprintln!(
            "kamei serve: demo principals (password: <name>-demo, loopback only): {}",
            names.join(", ")
        );
        eprintln!(
            "  psql \"host={} port={} user=cn_contractor dbname=kamei\"    # password cn_contractor-demo",
            bound.ip(),
            bound.port()
        );
    }
    eprintln!(
        "kamei serve: Ctrl-C stops (running statements finish first); SIGHUP reloads the configuration"
    );
}

/// SIGINT/SIGTERM stop the server; SIGHUP loads and validates the configuration again and swaps
/// it in for every statement from now on (recorded in the audit log), keeping the last good one
/// on error.
async fn signals(
    shutdown: CancellationToken,
    server: Server,
    config_path: Option<PathBuf>,
    files_dir: Option<PathBuf>,
    keyring: Arc<kamei_protect::Keyring>,
    memory: MemoryLimits,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        eprintln!("kamei serve: cannot install signal handlers; stop it with SIGKILL");
        return;
    };
    loop {
        tokio::select! {
            _ = int.recv() => break,
            _ = term.recv() => break,
            _ = hup.recv() => {
                match reload(config_path.as_deref(), files_dir.as_deref(), &keyring, memory).await {
                    Ok(gateway) => match server.reload(gateway).await {
                        Ok(index) => eprintln!(
                            "kamei serve: configuration reloaded (audit record {index}); statements from now on use it"
                        ),
                        Err(e) => eprintln!("kamei serve: reload refused, keeping the running configuration: {e}"),
                    },
                    Err(e) => {
                        eprintln!("kamei serve: reload refused, keeping the running configuration: {e:#}");
                        // Recorded without its reason: a configuration error can quote the file.
                        let event = "reload refused, the configuration in force stays";
                        if let Err(e) = server.record_configuration(event).await {
                            eprintln!("kamei serve: the refused reload could not be recorded: {e}");
                        }
                    }
                }
            }
        }
    }
    eprintln!("kamei serve: stopping: no new connections; running statements get a grace period");
    shutdown.cancel();
}

async fn reload(
    config_path: Option<&Path>,
    files_dir: Option<&Path>,
    keyring: &Arc<kamei_protect::Keyring>,
    memory: MemoryLimits,
) -> anyhow::Result<Gateway> {
    let config = Arc::new(match config_path {
        Some(p) => Config::load(p)?,
        None => Config::demo()?,
    });
    let sources = load_sources(&config, files_dir).await?;
    Ok(Gateway::new(config, sources, keyring.clone(), memory)?)
}
