//! Where the catalog's tables are read from: kamei.toml `[sources]`.
//!
//! ```toml
//! [sources]
//! dir = "demo"                 # shorthand: one source of files, named `files`
//!
//! [sources.main]               # a named source
//! kind = "postgres"
//! url = "postgres://kamei@db.internal:5432/line?sslmode=require"
//! password_env = "KAMEI_PG_PASSWORD"   # or password_file = "pg.password"
//! ```
//!
//! A password is never part of the configuration: only where to find it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::Problem;
use crate::source::Source;

/// The name of the source `[sources] dir` declares.
pub const FILES_SOURCE: &str = "files";

/// One source of raw tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSource {
    pub name: String,
    pub kind: SourceKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKind {
    /// A directory of `<table>.parquet` or `<table>.csv` files, read into memory at start.
    Files { dir: PathBuf },
    /// A PostgreSQL database; each catalog table is read from its table of the same name.
    Postgres(PostgresSettings),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresSettings {
    /// `postgres://USER@HOST:PORT/DB[?sslmode=…]`, without a password.
    pub url: String,
    pub password: Option<PasswordFrom>,
    /// The most connections kamei opens to this database at once.
    pub max_connections: usize,
    /// PEM certificates of the authorities the server's certificate must chain to, when the
    /// URL asks for TLS.
    pub ca_file: Option<PathBuf>,
}

/// Where a password is read from when the source is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordFrom {
    Env(String),
    File(PathBuf),
}

/// The default bound of a PostgreSQL source's connection pool.
pub const DEFAULT_MAX_CONNECTIONS: usize = 16;

#[derive(Deserialize)]
pub(crate) struct SourcesFile {
    dir: Option<String>,
    /// (Spans are lost inside a flattened map, so problems name the table instead.)
    #[serde(flatten)]
    named: BTreeMap<String, SourceFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceFile {
    kind: String,
    dir: Option<String>,
    url: Option<String>,
    password_env: Option<String>,
    password_file: Option<String>,
    max_connections: Option<usize>,
    ca_file: Option<String>,
}

/// The sources of `[sources]`, paths relative to `dir`; problems for what is missing or
/// contradictory.
pub(crate) fn parse(
    file: SourcesFile,
    dir: &Path,
    source: &Source<'_>,
    problems: &mut Vec<Problem>,
) -> Vec<DataSource> {
    let mut sources = Vec::new();
    if let Some(d) = file.dir {
        sources.push(DataSource {
            name: FILES_SOURCE.to_owned(),
            kind: SourceKind::Files { dir: dir.join(d) },
        });
    }
    for (name, s) in file.named {
        let mut problem =
            |message: String| problems.push(source.problem(format!("[sources.{name}]: {message}")));
        if name == FILES_SOURCE && sources.iter().any(|s| s.name == FILES_SOURCE) {
            problem(format!(
                "`{FILES_SOURCE}` is the name `[sources] dir` gives its source; choose another name"
            ));
            continue;
        }
        let kind = match s.kind.as_str() {
            "files" => match (&s.dir, &s.url) {
                (Some(d), None) => SourceKind::Files { dir: dir.join(d) },
                _ => {
                    problem("a source of kind \"files\" takes `dir` (and no `url`)".to_owned());
                    continue;
                }
            },
            "postgres" => {
                let Some(url) = &s.url else {
                    problem(
                        "a source of kind \"postgres\" needs `url = \"postgres://USER@HOST:PORT/DB\"`"
                            .to_owned(),
                    );
                    continue;
                };
                if let Err(message) = check_url(url) {
                    problem(message);
                    continue;
                }
                let password = match (s.password_env, s.password_file) {
                    (Some(var), None) => Some(PasswordFrom::Env(var)),
                    (None, Some(f)) => Some(PasswordFrom::File(dir.join(f))),
                    (None, None) => None,
                    (Some(_), Some(_)) => {
                        problem("give `password_env` or `password_file`, not both".to_owned());
                        continue;
                    }
                };
                let max_connections = s.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS);
                if max_connections == 0 {
                    problem("`max_connections` must be at least 1".to_owned());
                    continue;
                }
                SourceKind::Postgres(PostgresSettings {
                    url: url.clone(),
                    password,
                    max_connections,
                    ca_file: s.ca_file.map(|f| dir.join(f)),
                })
            }
            other => {
                problem(format!("unknown kind `{other}`; use \"files\" or \"postgres\""));
                continue;
            }
        };
        sources.push(DataSource { name, kind });
    }
    sources
}

/// A PostgreSQL URL kamei accepts: the `postgres` scheme, and no password in it (a password
/// in a configuration file or on a command line ends up in backups, diffs, review tools and
/// shell histories).
pub fn check_url(url: &str) -> Result<(), String> {
    let Some(rest) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
    else {
        return Err("`url` must start with postgres:// (postgres://USER@HOST:PORT/DB)".to_owned());
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if let Some((userinfo, _)) = authority.rsplit_once('@')
        && userinfo.contains(':')
    {
        return Err("`url` holds a password; remove it and set `password_env` or `password_file`".to_owned());
    }
    if rest.contains("password=") {
        return Err(
            "`url` holds a password parameter; remove it and set `password_env` or `password_file`"
                .to_owned(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> (Vec<DataSource>, Vec<String>) {
        #[derive(Deserialize)]
        struct Doc {
            sources: SourcesFile,
        }
        let source = Source {
            name: "kamei.toml",
            text,
        };
        let doc: Doc = source.parse_toml().map_err(|p| p.to_string()).unwrap();
        let mut problems = Vec::new();
        let sources = parse(doc.sources, Path::new("/etc/kamei"), &source, &mut problems);
        (sources, problems.iter().map(|p| p.to_string()).collect())
    }

    #[test]
    fn a_dir_and_a_named_postgres_source() {
        let (sources, problems) = parsed(
            "[sources]\ndir = \"demo\"\n[sources.main]\nkind = \"postgres\"\nurl = \"postgres://kamei@db:5432/line\"\npassword_env = \"PG_PASSWORD\"\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            sources[0].kind,
            SourceKind::Files {
                dir: PathBuf::from("/etc/kamei/demo")
            }
        );
        assert_eq!(
            sources[1],
            DataSource {
                name: "main".into(),
                kind: SourceKind::Postgres(PostgresSettings {
                    url: "postgres://kamei@db:5432/line".into(),
                    password: Some(PasswordFrom::Env("PG_PASSWORD".into())),
                    max_connections: DEFAULT_MAX_CONNECTIONS,
                    ca_file: None,
                }),
            }
        );
    }

    #[test]
    fn a_password_in_the_url_is_refused_without_echoing_it() {
        for url in [
            "postgres://kamei:hunter2@db/line",
            "postgresql://db/line?user=k&password=hunter2",
        ] {
            let (sources, problems) =
                parsed(&format!("[sources.main]\nkind = \"postgres\"\nurl = \"{url}\"\n"));
            assert!(sources.is_empty());
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(
                problems[0].contains("[sources.main]: `url` holds a password"),
                "{problems:?}"
            );
            assert!(!problems[0].contains("hunter2"));
        }
    }

    #[test]
    fn contradictions_and_unknown_kinds_are_named() {
        for (body, expected) in [
            ("kind = \"postgres\"", "needs `url"),
            (
                "kind = \"postgres\"\nurl = \"mysql://db\"",
                "must start with postgres://",
            ),
            (
                "kind = \"postgres\"\nurl = \"postgres://k@db/x\"\npassword_env = \"A\"\npassword_file = \"b\"",
                "not both",
            ),
            (
                "kind = \"postgres\"\nurl = \"postgres://k@db/x\"\nmax_connections = 0",
                "at least 1",
            ),
            ("kind = \"files\"", "takes `dir`"),
            ("kind = \"oracle\"", "unknown kind `oracle`"),
        ] {
            let (_, problems) = parsed(&format!("[sources.main]\n{body}\n"));
            assert!(
                problems.len() == 1 && problems[0].contains(expected),
                "{body}: {problems:?}"
            );
        }
    }
}
