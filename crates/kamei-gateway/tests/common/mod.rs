//! A kamei server over the generated demo world on a free loopback port, and real clients
//! (psql, and psycopg through tests/clients.py) to talk to it. scripts/test installs both.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use kamei_audit::AuditLog;
use kamei_core::{Jurisdiction, Level};
use kamei_gateway::{Audit, Gateway, MemoryLimits, Server, ServerOptions, Sources};
use kamei_policy::{Config, DataSource, PasswordFrom, PostgresSettings, SourceKind};
use kamei_protect::Keyring;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use tokio_util::sync::CancellationToken;

/// The demo world (600 users, seed 11), generated once per test binary.
pub fn world() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let opts = kamei_synth::GenerateOptions {
            out: dir.path().to_owned(),
            users: 600,
            seed: 11,
            format: kamei_synth::Format::Parquet,
        };
        kamei_synth::generate(&opts, &|_| {}).unwrap();
        dir
    })
    .path()
}

/// The throw-away PostgreSQL server scripts/test starts: `KAMEI_TEST_POSTGRES` (its URL,
/// without a password) and `KAMEI_TEST_POSTGRES_PASSWORD`.
pub fn postgres() -> Option<(String, String)> {
    let url = std::env::var("KAMEI_TEST_POSTGRES").ok()?;
    let password = std::env::var("KAMEI_TEST_POSTGRES_PASSWORD").unwrap_or_default();
    Some((url, password))
}

/// Whether the suites read the demo world from PostgreSQL (`KAMEI_TEST_SOURCE=postgres`, the
/// second run of scripts/test) instead of its files.
pub fn from_postgres() -> bool {
    std::env::var("KAMEI_TEST_SOURCE").is_ok_and(|s| s == "postgres")
}

/// The demo world loaded into a database of its own on the test server, once per test binary.
pub fn world_database() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| load_world("world"))
}

/// The demo world loaded into a new database `<name>_<pid>` on the test server: `kamei
/// generate --format csv`'s files and its load.sql, through psql. Returns its URL.
pub fn load_world(name: &str) -> String {
    let (url, password) =
        postgres().expect("KAMEI_TEST_POSTGRES names a PostgreSQL server (run scripts/test)");
    let dir = tempfile::tempdir().unwrap().keep();
    let opts = kamei_synth::GenerateOptions {
        out: dir.join("world"),
        users: 600,
        seed: 11,
        format: kamei_synth::Format::Csv,
    };
    kamei_synth::generate(&opts, &|_| {}).unwrap();
    let name = format!("{name}_{}", std::process::id());
    let psql = |db_url: &str, args: &[&str]| {
        let out = Command::new(psql_path())
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", db_url])
            .args(args)
            .current_dir(&opts.out)
            .env("PGPASSWORD", &password)
            .output()
            .expect("psql runs (scripts/test installs it)");
        assert!(
            out.status.success(),
            "psql {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    psql(&url, &["-c", &format!("DROP DATABASE IF EXISTS {name}")]);
    psql(&url, &["-c", &format!("CREATE DATABASE {name}")]);
    let (server, _) = url.rsplit_once('/').unwrap();
    let world = format!("{server}/{name}");
    psql(&world, &["-f", "load.sql"]);
    world
}

/// The raw sources of the demo world: its files, or the same world in PostgreSQL when the tests
/// run against it (opened in a runtime of its own: connections it leaves in the pool die with
/// it, and the pool opens new ones).
pub fn sources(config: &Config) -> Sources {
    if !from_postgres() {
        return Sources::load_dir(config, world()).unwrap();
    }
    open_postgres(config, world_database()).unwrap()
}

/// Every table of `config` read from the PostgreSQL database at `url` (source `world`).
pub fn open_postgres(config: &Config, url: &str) -> Result<Sources, kamei_gateway::GatewayError> {
    let settings = PostgresSettings {
        url: url.to_owned(),
        password: Some(PasswordFrom::Env("KAMEI_TEST_POSTGRES_PASSWORD".into())),
        max_connections: 8,
        ca_file: None,
    };
    let config = config
        .with_sources(vec![DataSource {
            name: "world".into(),
            kind: SourceKind::Postgres(settings),
        }])
        .unwrap();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(Sources::open(
                &config,
                None,
                kamei_gateway::ConnectionIo::OwnRuntime,
            ))
    })
    .join()
    .unwrap()
}

/// Runs `sql` with psql against the PostgreSQL database at `url` (as the test server's
/// superuser); returns the rows it prints, unaligned.
pub fn psql_postgres(url: &str, sql: &str) -> Vec<String> {
    let (_, password) = postgres().expect("KAMEI_TEST_POSTGRES names a PostgreSQL server (run scripts/test)");
    let out = Command::new(psql_path())
        .args(["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", url, "-c", sql])
        .env("PGPASSWORD", &password)
        .output()
        .expect("psql runs (scripts/test installs it)");
    assert!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A gateway over the demo world with `config`.
pub fn demo_gateway(config: Config) -> Gateway {
    let sources = sources(&config);
    gateway_over(config, sources)
}

/// A gateway with the demo keys over `sources`.
pub fn gateway_over(config: Config, sources: Sources) -> Gateway {
    Gateway::new(
        Arc::new(config),
        sources,
        Arc::new(Keyring::demo()),
        MemoryLimits::default(),
    )
    .unwrap()
}

/// A Japanese user's id and raw phone.
pub fn a_jp_user() -> (String, String) {
    let countries = raw("users", "country");
    let jp = countries.iter().position(|c| c.as_deref() == Some("JP")).unwrap();
    (
        raw("users", "user_id")[jp].clone().unwrap(),
        raw("users", "phone")[jp].clone().unwrap(),
    )
}

/// A running server; stopped when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub server: Server,
    pub log: Arc<AuditLog>,
    pub log_dir: tempfile::TempDir,
    stop: CancellationToken,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    pub fn start() -> TestServer {
        Self::start_with(ServerOptions::default())
    }

    pub fn start_with(options: ServerOptions) -> TestServer {
        Self::serve(demo_gateway(Config::demo().unwrap()), options)
    }

    /// Serves `gateway`.
    pub fn serve(gateway: Gateway, options: ServerOptions) -> TestServer {
        let log_dir = tempfile::tempdir().unwrap();
        let log = Arc::new(AuditLog::open(log_dir.path()).unwrap());
        let server = Server::new(gateway, Audit::new(log.clone()), options);
        let stop = CancellationToken::new();
        let (tx, rx) = std::sync::mpsc::channel();
        let token = stop.clone();
        let serving = server.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_stack_size(64 << 20)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                serving.serve(listener, token).await.unwrap();
            });
        });
        let addr = rx.recv().unwrap();
        TestServer {
            addr,
            server,
            log,
            log_dir,
            stop,
            thread: Some(thread),
        }
    }

    /// Runs `sql` through psql as `user` (password `<user>-demo`), as one simple-protocol
    /// string; returns stdout and stderr together, and whether psql succeeded.
    pub fn psql(&self, user: &str, sql: &str) -> (String, bool) {
        self.psql_with_password(user, &format!("{user}-demo"), sql)
    }

    pub fn psql_with_password(&self, user: &str, password: &str, sql: &str) -> (String, bool) {
        let out = Command::new(psql_path())
            .args(["-X", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1"])
            .arg(format!(
                "host=127.0.0.1 port={} user={user} dbname=kamei sslmode=disable connect_timeout=10",
                self.addr.port()
            ))
            .arg("-c")
            .arg(sql)
            .env("PGPASSWORD", password)
            .env("PGCONNECT_TIMEOUT", "10")
            .output()
            .expect("psql runs (scripts/test installs it)");
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        (text, out.status.success())
    }

    /// Reloads the demo configuration with `policies` as its policy file (what SIGHUP does).
    pub fn reload(&self, policies: &str) -> u64 {
        let config = Config::demo()
            .unwrap()
            .with_policies("revoked.cedar", policies)
            .unwrap();
        futures::executor::block_on(self.server.reload(demo_gateway(config))).unwrap()
    }

    /// The python interpreter with psycopg (scripts/test provides it).
    pub fn python_command(&self) -> Command {
        Command::new(python_path())
    }

    /// Starts a psycopg script that waits on its stdin between steps; returns it and the lines
    /// it prints.
    pub fn python_script(
        &self,
        script: &str,
    ) -> (
        std::process::Child,
        std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
    ) {
        use std::io::BufRead;
        use std::process::Stdio;
        let mut child = self
            .python_command()
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        (child, lines)
    }

    /// Runs tests/clients.py with psycopg against this server.
    pub fn python(&self, args: &[&str]) -> (String, bool) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients.py");
        let out = Command::new(python_path())
            .arg(script)
            .arg(self.addr.port().to_string())
            .args(args)
            .output()
            .expect("python runs");
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        (text, out.status.success())
    }

    pub fn stop(&mut self) {
        self.stop.cancel();
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn psql_path() -> PathBuf {
    std::env::var_os("KAMEI_TEST_PSQL").map_or_else(|| PathBuf::from("psql"), PathBuf::from)
}

/// The Python with psycopg that scripts/test prepares (`KAMEI_TEST_PYTHON`).
fn python_path() -> PathBuf {
    std::env::var_os("KAMEI_TEST_PYTHON").map_or_else(|| PathBuf::from("python3"), PathBuf::from)
}

/// A raw table's column as text.
pub fn raw(table: &str, column: &str) -> Vec<Option<String>> {
    let file = std::fs::File::open(world().join(format!("{table}.parquet"))).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    reader.flat_map(|b| texts(&b.unwrap(), column)).collect()
}

/// Every row of a result as text, sorted (row order is not part of a result without ORDER BY).
pub fn rows(batches: &[RecordBatch]) -> Vec<String> {
    let mut out = Vec::new();
    for b in batches {
        let columns: Vec<_> = b
            .columns()
            .iter()
            .map(|c| cast(c, &DataType::Utf8).unwrap())
            .collect();
        for i in 0..b.num_rows() {
            let row: Vec<&str> = columns
                .iter()
                .map(|c| c.as_string::<i32>())
                .map(|c| if c.is_null(i) { "NULL" } else { c.value(i) })
                .collect();
            out.push(row.join("|"));
        }
    }
    out.sort();
    out
}

pub fn texts(batch: &RecordBatch, column: &str) -> Vec<Option<String>> {
    let array = cast(batch.column_by_name(column).unwrap(), &DataType::Utf8).unwrap();
    array
        .as_string::<i32>()
        .iter()
        .map(|v| v.map(str::to_owned))
        .collect()
}

/// The raw values `principal` may not see: every value of a personal text column in a row
/// whose subjects' level is below raw for this principal, unless the same value is also
/// legitimately visible raw elsewhere. Short values (under 6 characters) are left out: they
/// would match by chance.
pub fn forbidden(principal: &str) -> HashSet<String> {
    let config = Config::demo().unwrap();
    let users_country: HashMap<String, String> = raw("users", "user_id")
        .into_iter()
        .zip(raw("users", "country"))
        .filter_map(|(k, c)| Some((k?, c?)))
        .collect();
    let mut secret = HashSet::new();
    let mut visible = HashSet::new();
    type Check<'a> = (&'a str, &'a [&'a str], &'a [(&'a str, bool)]);
    let checks: &[Check] = &[
        (
            "users",
            &[
                "line_id",
                "display_name",
                "full_name",
                "full_name_kana",
                "phone",
                "email",
                "address",
                "my_number",
                "postal_code",
            ],
            &[("country", false)],
        ),
        ("payments", &["card_number"], &[("country", false)]),
    ];
    for (table, columns, owners) in checks {
        let plan = config.table_plan(principal, table).unwrap();
        let owner_values: Vec<Vec<Option<String>>> = owners.iter().map(|(c, _)| raw(table, c)).collect();
        let jurisdictions: Vec<Vec<Option<Jurisdiction>>> = owners
            .iter()
            .zip(&owner_values)
            .map(|((_, via_directory), values)| {
                values
                    .iter()
                    .map(|v| {
                        let code = if *via_directory {
                            v.as_ref().and_then(|k| users_country.get(k)).cloned()
                        } else {
                            v.clone()
                        };
                        code.and_then(|c| c.parse().ok())
                    })
                    .collect()
            })
            .collect();
        for column in *columns {
            let Some(cp) = plan.column(column) else { continue };
            for (row, value) in raw(table, column).into_iter().enumerate() {
                let Some(value) = value else { continue };
                if value.chars().count() < 6 {
                    continue;
                }
                let all_raw = jurisdictions
                    .iter()
                    .all(|j| cp.decision(j.get(row).cloned().flatten()).level == Level::Raw);
                if all_raw {
                    visible.insert(value);
                } else {
                    secret.insert(value);
                }
            }
        }
    }
    secret.retain(|v| !visible.contains(v));
    secret
}

/// The labelled personal data in message bodies (the generator's labels), per message id: the
/// spans' text.
pub fn labelled_spans() -> HashMap<String, Vec<String>> {
    let bodies: HashMap<String, String> = raw("messages", "message_id")
        .into_iter()
        .zip(raw("messages", "body"))
        .filter_map(|(id, b)| Some((id?, b?)))
        .collect();
    let labels = std::fs::read_to_string(world().join("labels/messages.jsonl")).unwrap();
    let mut out = HashMap::new();
    for line in labels.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let id = v["message_id"].to_string();
        let Some(body) = bodies.get(&id) else { continue };
        let chars: Vec<char> = body.chars().collect();
        let spans: Vec<String> = v["entities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let (a, b) = (
                    e["start"].as_u64().unwrap() as usize,
                    e["end"].as_u64().unwrap() as usize,
                );
                chars[a..b].iter().collect()
            })
            .collect();
        if !spans.is_empty() {
            out.insert(id, spans);
        }
    }
    out
}

/// Message bodies as `principal` reads them through the gateway's plain path, by message id.
pub fn guarded_bodies(server: &TestServer, principal: &str) -> HashMap<String, String> {
    let (out, ok) = server.psql(
        principal,
        "SELECT message_id, replace(body, chr(10), ' ') FROM messages",
    );
    assert!(ok, "{out}");
    out.lines()
        .filter_map(|l| l.split_once('|'))
        .map(|(id, body)| (id.to_owned(), body.to_owned()))
        .collect()
}

/// The labelled spans the plain path hides from `principal` (a span the redactor misses is
/// counted by the survival test, not here): no other statement may show them either.
pub fn hidden_spans(server: &TestServer, principal: &str) -> HashSet<String> {
    let guarded = guarded_bodies(server, principal);
    labelled_spans()
        .into_iter()
        .flat_map(|(id, spans)| {
            let seen = guarded.get(&id).cloned().unwrap_or_default();
            spans.into_iter().filter(move |s| !seen.contains(s.as_str()))
        })
        .filter(|s| s.chars().count() >= 6)
        .collect()
}

/// The forbidden values found in `text`: whole values, and for numbers their digits.
pub fn leaks<'a>(text: &str, forbidden: &'a HashSet<String>) -> Vec<&'a str> {
    let cells: Vec<String> = text
        .split(['\n', '|'])
        .map(|c| c.chars().filter(char::is_ascii_digit).collect())
        .collect();
    forbidden
        .iter()
        .filter(|v| {
            if text.contains(v.as_str()) {
                return true;
            }
            let d: String = v.chars().filter(char::is_ascii_digit).collect();
            // Numbers (phones, cards, My Numbers) also count as leaked when their digits appear
            // in one cell with separators changed; a masked form keeps at most half of them.
            d.len() >= 9 && d.len() * 10 >= v.chars().count() * 7 && cells.iter().any(|c| c.contains(&d))
        })
        .map(String::as_str)
        .collect()
}
