//! The whole configuration, loaded, validated and compiled together.

use std::path::{Path, PathBuf};

use kamei_core::{ColumnPlan, Jurisdiction, TablePlan};
use serde::Deserialize;
use toml::Spanned;

use crate::catalog::{self, Catalog, CatalogColumn, CatalogTable};
use crate::cedar::{self, DataAttrs, PrincipalAttrs};
use crate::compile::{self, DecisionTable, MatrixRow};
use crate::data_sources::{self, DataSource, FILES_SOURCE, SourceKind};
use crate::error::{ConfigError, PolicyError, Problem};
use crate::principals::{self, Principal};
use crate::source::Source;

/// The built-in demo configuration, as `kamei init` writes it: (file name, contents).
pub const DEMO_FILES: [(&str, &str); 4] = [
    ("kamei.toml", include_str!("../demo/kamei.toml")),
    ("catalog.toml", include_str!("../demo/catalog.toml")),
    ("principals.toml", include_str!("../demo/principals.toml")),
    ("policies.cedar", include_str!("../demo/policies.cedar")),
];

/// Where the keyring is and where its master key comes from (kamei.toml `[keyring]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyringSettings {
    /// The encrypted keyring file; `None` in the demo.
    pub path: Option<PathBuf>,
    /// A file holding the master key; else the `KAMEI_MASTER_KEY` environment variable.
    pub master_key_file: Option<PathBuf>,
    /// The built-in demo: a fixed, clearly labelled demo master key, never for real data.
    pub demo: bool,
}

/// Catalog, principals and Cedar policies, validated, with every decision compiled.
///
/// INVARIANT: a `Config` exists only when every file parsed and validated and the decision
/// table covers every principal × catalog column × jurisdiction (constructors: `load`,
/// `demo`, `with_policies`).
#[derive(Debug, Clone)]
pub struct Config {
    demo: bool,
    policies_file: String,
    keyring: KeyringSettings,
    sources: Vec<DataSource>,
    audit_log: Option<PathBuf>,
    server: ServerSettings,
    catalog: Catalog,
    principals: Vec<Principal>,
    policies: cedar::Policies,
    schema: cedar_policy::Schema,
    /// Global index of each table's first column (tables in catalog order).
    column_offset: Vec<usize>,
    decisions: DecisionTable,
    /// Each principal's plan of each table (principal-major), built once on first use and
    /// shared: the gateway asks for one per statement.
    plans: Plans,
}

/// One slot per principal and table.
#[derive(Debug, Clone, Default)]
struct Plans(Vec<std::sync::OnceLock<std::sync::Arc<TablePlan>>>);

impl Plans {
    fn empty(principals: usize, tables: usize) -> Plans {
        Plans(
            (0..principals * tables)
                .map(|_| std::sync::OnceLock::new())
                .collect(),
        )
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KameiFile {
    catalog: Option<Spanned<String>>,
    principals: Option<Spanned<String>>,
    policies: Option<Spanned<String>>,
    sources: Option<data_sources::SourcesFile>,
    keyring: Option<KeyringFile>,
    audit: Option<AuditFile>,
    server: Option<ServerFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyringFile {
    path: Option<String>,
    master_key_file: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditFile {
    log: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerFile {
    listen: Option<String>,
    tls_cert: Option<String>,
    tls_key: Option<String>,
    #[serde(default)]
    require_tls: bool,
}

/// The gateway's server settings (kamei.toml `[server]`).
#[derive(Debug, Clone, Default)]
pub struct ServerSettings {
    /// The listen address.
    pub listen: Option<String>,
    /// A PEM certificate chain and its key: TLS is offered when both are set.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Refuse clients that do not negotiate TLS.
    pub require_tls: bool,
}

/// The texts of the three files kamei.toml names, with the names errors use.
struct Texts {
    catalog: (String, String),
    principals: (String, String),
    policies: (String, String),
}

impl Texts {
    /// Texts held in memory, named `{dir}catalog.toml` and so on in messages.
    fn in_memory(dir: &str, catalog: &str, principals: &str, policies: &str) -> Texts {
        Texts {
            catalog: (format!("{dir}catalog.toml"), catalog.into()),
            principals: (format!("{dir}principals.toml"), principals.into()),
            policies: (format!("{dir}policies.cedar"), policies.into()),
        }
    }
}

impl KeyringSettings {
    /// The keyring file to open: `override_path` (a command-line choice), else `[keyring] path`;
    /// `None` for the built-in demo, whose fixed keys need no file. An error when neither is
    /// set and this is no demo: a real configuration never falls back to the public demo keys.
    pub fn file(&self, override_path: Option<&Path>) -> Result<Option<PathBuf>, PolicyError> {
        match (override_path, &self.path) {
            (Some(path), _) => Ok(Some(path.to_owned())),
            (None, Some(path)) => Ok(Some(path.clone())),
            (None, None) if self.demo => Ok(None),
            (None, None) => Err(PolicyError::NoKeyring),
        }
    }

    /// No keyring file configured (`demo`: the built-in demo keyring stands in).
    const fn unset(demo: bool) -> KeyringSettings {
        KeyringSettings {
            path: None,
            master_key_file: None,
            demo,
        }
    }
}

impl Config {
    /// Loads `kamei.toml` and the files it names (paths relative to it).
    pub fn load(kamei_toml: &Path) -> Result<Config, ConfigError> {
        let name = kamei_toml.display().to_string();
        let text = std::fs::read_to_string(kamei_toml)
            .map_err(|e| ConfigError::one(&name, None, format!("cannot read the file: {e}")))?;
        let dir = kamei_toml.parent().map(Path::to_path_buf).unwrap_or_default();
        let source = Source {
            name: &name,
            text: &text,
        };
        let file: KameiFile = source.parse_toml().map_err(|p| ConfigError::new(vec![p]))?;
        let mut problems = Vec::new();
        let mut read = |field: &Option<Spanned<String>>, default: &str| -> (String, String) {
            let rel = field.as_ref().map_or(default, |s| s.get_ref().as_str());
            let path = dir.join(rel);
            let shown = path.display().to_string();
            match std::fs::read_to_string(&path) {
                Ok(t) => (shown, t),
                Err(e) => {
                    let offset = field.as_ref().map_or(0, |s| s.span().start);
                    problems.push(source.problem_at(offset, format!("cannot read `{shown}`: {e}")));
                    (shown, String::new())
                }
            }
        };
        let texts = Texts {
            catalog: read(&file.catalog, "catalog.toml"),
            principals: read(&file.principals, "principals.toml"),
            policies: read(&file.policies, "policies.cedar"),
        };
        if !problems.is_empty() {
            return Err(ConfigError::new(problems));
        }
        let keyring = file
            .keyring
            .map_or(KeyringSettings::unset(false), |k| KeyringSettings {
                path: k.path.map(|p| dir.join(p)),
                master_key_file: k.master_key_file.map(|p| dir.join(p)),
                demo: false,
            });
        let config = Self::build(
            false,
            texts,
            keyring,
            match file.sources {
                None => Vec::new(),
                Some(s) => {
                    let mut problems = Vec::new();
                    let sources = data_sources::parse(s, &dir, &source, &mut problems);
                    if !problems.is_empty() {
                        return Err(ConfigError::new(problems));
                    }
                    sources
                }
            },
            file.audit.and_then(|a| a.log).map(|l| dir.join(l)),
            match file.server {
                None => ServerSettings::default(),
                Some(s) => ServerSettings {
                    listen: s.listen,
                    tls: match (s.tls_cert, s.tls_key) {
                        (Some(c), Some(k)) => Some((dir.join(c), dir.join(k))),
                        (None, None) => None,
                        _ => {
                            return Err(ConfigError::one(
                                &name,
                                None,
                                "[server]: give both tls_cert and tls_key, or neither".to_owned(),
                            ));
                        }
                    },
                    require_tls: s.require_tls,
                },
            },
        )?;
        config.check_table_sources(&name)?;
        Ok(config)
    }

    /// Every table's source exists: the one it names, else the only one configured.
    fn check_table_sources(&self, kamei_toml: &str) -> Result<(), ConfigError> {
        if self.sources.is_empty() {
            return Ok(());
        }
        let problems: Vec<Problem> = self
            .catalog
            .tables
            .iter()
            .filter(|t| self.source_of(&t.name).is_none())
            .map(|t| Problem {
                file: kamei_toml.to_owned(),
                line_column: None,
                message: match &t.source {
                    Some(s) => format!("catalog table `{}` names source `{s}`, which [sources] does not define", t.name),
                    None => format!(
                        "catalog table `{}` names no source and [sources] defines several; add `source = \"NAME\"` to it in the catalog",
                        t.name
                    ),
                },
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::new(problems))
        }
    }

    /// A configuration from the texts of catalog.toml, principals.toml and policies.cedar in
    /// memory, with no keyring, sources or log (for fuzzing and tools that hold the files).
    pub fn from_texts(catalog: &str, principals: &str, policies: &str) -> Result<Config, ConfigError> {
        let texts = Texts::in_memory("", catalog, principals, policies);
        Self::build(
            false,
            texts,
            KeyringSettings::unset(false),
            Vec::new(),
            None,
            ServerSettings::default(),
        )
    }

    /// The built-in demo configuration (the files `kamei init` writes), with the demo keyring.
    pub fn demo() -> Result<Config, ConfigError> {
        let [_, (_, catalog), (_, principals), (_, policies)] = DEMO_FILES;
        Self::build(
            true,
            Texts::in_memory("<demo>/", catalog, principals, policies),
            KeyringSettings::unset(true),
            vec![DataSource {
                name: FILES_SOURCE.to_owned(),
                kind: SourceKind::Files {
                    dir: PathBuf::from("demo"),
                },
            }],
            Some(PathBuf::from("audit")),
            ServerSettings {
                listen: Some("127.0.0.1:5433".into()),
                ..ServerSettings::default()
            },
        )
    }

    fn build(
        demo: bool,
        texts: Texts,
        keyring: KeyringSettings,
        sources: Vec<DataSource>,
        audit_log: Option<PathBuf>,
        server: ServerSettings,
    ) -> Result<Config, ConfigError> {
        let schema = cedar::schema().map_err(|e| ConfigError::one("<kamei>", None, e.to_string()))?;
        let mut problems: Vec<Problem> = Vec::new();
        let catalog = catalog::parse(
            &Source {
                name: &texts.catalog.0,
                text: &texts.catalog.1,
            },
            &mut problems,
        );
        let principals = principals::parse(
            &Source {
                name: &texts.principals.0,
                text: &texts.principals.1,
            },
            &mut problems,
        );
        let policies = cedar::parse_policies(
            &Source {
                name: &texts.policies.0,
                text: &texts.policies.1,
            },
            &schema,
            &mut problems,
        );
        let (Some(catalog), Some(principals), Some(policies)) = (catalog, principals, policies) else {
            return Err(ConfigError::new(problems));
        };
        let mut column_offset = Vec::with_capacity(catalog.tables.len());
        let mut n = 0;
        for t in &catalog.tables {
            column_offset.push(n);
            n += t.columns.len();
        }
        let decisions = compile_decisions(&schema, &policies, &catalog, &principals)
            .map_err(|e| ConfigError::one(&texts.policies.0, None, e))?;
        Ok(Config {
            plans: Plans::empty(principals.len(), catalog.tables.len()),
            demo,
            policies_file: texts.policies.0,
            keyring,
            sources,
            audit_log,
            server,
            catalog,
            principals,
            policies,
            schema,
            column_offset,
            decisions,
        })
    }

    /// The same configuration reading its tables from `sources` (tests and tools that put the
    /// same world behind another source); every table must still find its source.
    pub fn with_sources(&self, sources: Vec<DataSource>) -> Result<Config, ConfigError> {
        let config = Config {
            sources,
            ..self.clone()
        };
        config.check_table_sources("[sources]")?;
        Ok(config)
    }

    /// The same catalog and principals under another policy file (for `kamei policy diff`).
    pub fn with_policies(&self, name: &str, text: &str) -> Result<Config, ConfigError> {
        let mut problems = Vec::new();
        let policies = cedar::parse_policies(&Source { name, text }, &self.schema, &mut problems)
            .ok_or_else(|| ConfigError::new(problems))?;
        let decisions = compile_decisions(&self.schema, &policies, &self.catalog, &self.principals)
            .map_err(|e| ConfigError::one(name, None, e))?;
        Ok(Config {
            policies_file: name.to_owned(),
            policies,
            decisions,
            // The plans of the other policies must not be reused.
            plans: Plans::empty(self.principals.len(), self.catalog.tables.len()),
            ..self.clone()
        })
    }

    /// Whether this is the built-in demo configuration.
    pub fn is_demo(&self) -> bool {
        self.demo
    }

    pub fn keyring(&self) -> &KeyringSettings {
        &self.keyring
    }

    /// The directory holding the tables' files (kamei.toml `[sources] dir`, or the first
    /// source of kind "files").
    pub fn sources_dir(&self) -> Option<&Path> {
        self.sources.iter().find_map(|s| match &s.kind {
            SourceKind::Files { dir } => Some(dir.as_path()),
            SourceKind::Postgres(_) => None,
        })
    }

    /// Every source of kamei.toml `[sources]`.
    pub fn sources(&self) -> &[DataSource] {
        &self.sources
    }

    /// The source a catalog table is read from: the one it names, or the only one there is.
    pub fn source_of(&self, table: &str) -> Option<&DataSource> {
        match self.catalog.table(table)?.source.as_deref() {
            Some(name) => self.sources.iter().find(|s| s.name == name),
            None if self.sources.len() == 1 => self.sources.first(),
            None => None,
        }
    }

    /// The audit log directory (kamei.toml `[audit] log`).
    pub fn audit_log(&self) -> Option<&Path> {
        self.audit_log.as_deref()
    }

    /// The gateway's listen address (kamei.toml `[server] listen`).
    pub fn listen(&self) -> Option<&str> {
        self.server.listen.as_deref()
    }

    /// The gateway's server settings (kamei.toml `[server]`).
    pub fn server(&self) -> &ServerSettings {
        &self.server
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn principals(&self) -> &[Principal] {
        &self.principals
    }

    pub fn principal(&self, name: &str) -> Option<&Principal> {
        self.principals.iter().find(|p| p.name == name)
    }

    /// What a configuration holds, in one line for its audit record: `N principals, M tables,
    /// policies from FILE`.
    pub fn summary(&self) -> String {
        format!(
            "{} principals, {} tables, policies from {}",
            self.principals().len(),
            self.catalog().tables.len(),
            self.policies_file()
        )
    }

    /// The policy file's name as errors and outputs show it.
    pub fn policies_file(&self) -> &str {
        &self.policies_file
    }

    /// The policies, in file order.
    pub(crate) fn policy_list(&self) -> &[cedar_policy::Policy] {
        &self.policies.list
    }

    /// The ids of the policies, in file order.
    pub fn policy_ids(&self) -> Vec<String> {
        self.policies.list.iter().map(|p| p.id().to_string()).collect()
    }

    pub fn decisions(&self) -> &DecisionTable {
        &self.decisions
    }

    fn principal_index(&self, name: &str) -> Result<usize, PolicyError> {
        self.principals
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| PolicyError::UnknownPrincipal(name.to_owned()))
    }

    fn table_index(&self, name: &str) -> Result<usize, PolicyError> {
        self.catalog
            .tables
            .iter()
            .position(|t| t.name == name)
            .ok_or_else(|| PolicyError::UnknownTable(name.to_owned()))
    }

    fn data_index(&self, table: usize, column: usize, jurisdiction: usize) -> usize {
        (self.column_offset.get(table).copied().unwrap_or(usize::MAX / 2) + column)
            * self.catalog.jurisdictions.len()
            + jurisdiction
    }

    /// What `principal` may read of `table`: every catalog column in order, its decision per
    /// known jurisdiction, and the fail-closed fallback for any other.
    pub fn table_plan(&self, principal: &str, table: &str) -> Result<std::sync::Arc<TablePlan>, PolicyError> {
        let p = self.principal_index(principal)?;
        let t = self.table_index(table)?;
        let slot = self
            .plans
            .0
            .get(p * self.catalog.tables.len() + t)
            .ok_or_else(|| PolicyError::Internal("no plan slot".into()))?;
        if let Some(plan) = slot.get() {
            return Ok(plan.clone());
        }
        let plan = std::sync::Arc::new(self.build_plan(p, t)?);
        Ok(slot.get_or_init(|| plan).clone())
    }

    fn build_plan(&self, p: usize, t: usize) -> Result<TablePlan, PolicyError> {
        let Some((principal, table)) = self.principals.get(p).zip(self.catalog.tables.get(t)) else {
            return Err(PolicyError::Internal(
                "plan of an unknown principal or table".into(),
            ));
        };
        let columns = table
            .columns
            .iter()
            .enumerate()
            .map(|(c, column)| {
                let by_jurisdiction = self
                    .catalog
                    .jurisdictions
                    .iter()
                    .enumerate()
                    .map(|(j, code)| (*code, self.decisions.decision(p, self.data_index(t, c, j))))
                    .collect();
                ColumnPlan::new(column.name.clone(), column.category, by_jurisdiction)
                    .with_transforms(column.transforms)
                    .with_subjects(column.subjects.clone())
            })
            .collect();
        TablePlan::new(
            principal.name.clone(),
            principal.org.clone(),
            table.name.clone(),
            table.subjects.clone(),
            columns,
        )
        .map_err(|e| PolicyError::Internal(e.to_string()))
    }

    /// The decision for one cell, for `kamei policy explain`.
    pub fn explain(
        &self,
        principal: &str,
        table: &str,
        column: &str,
        jurisdiction: &str,
    ) -> Result<kamei_core::Decision, PolicyError> {
        let p = self.principal_index(principal)?;
        let t = self.table_index(table)?;
        let c = self
            .catalog
            .tables
            .get(t)
            .and_then(|tb| tb.columns.iter().position(|c| c.name == column))
            .ok_or_else(|| PolicyError::UnknownColumn {
                table: table.to_owned(),
                column: column.to_owned(),
            })?;
        let j = jurisdiction
            .parse::<Jurisdiction>()
            .ok()
            .and_then(|code| self.catalog.jurisdictions.iter().position(|k| *k == code))
            .ok_or_else(|| PolicyError::UnknownJurisdiction(jurisdiction.chars().take(16).collect()))?;
        Ok(self.decisions.decision(p, self.data_index(t, c, j)))
    }

    /// Every cell: principal, table, column, jurisdiction (in configuration order).
    fn cells(
        &self,
    ) -> impl Iterator<
        Item = (
            usize,
            &Principal,
            &CatalogTable,
            &CatalogColumn,
            Jurisdiction,
            usize,
        ),
    > + '_ {
        self.principals
            .iter()
            .enumerate()
            .flat_map(move |(p, principal)| {
                self.catalog
                    .tables
                    .iter()
                    .enumerate()
                    .flat_map(move |(t, table)| {
                        table.columns.iter().enumerate().flat_map(move |(c, column)| {
                            self.catalog
                                .jurisdictions
                                .iter()
                                .enumerate()
                                .map(move |(j, code)| {
                                    (p, principal, table, column, *code, self.data_index(t, c, j))
                                })
                        })
                    })
            })
    }

    /// One row per principal, table, column and jurisdiction.
    pub fn matrix(&self) -> Vec<MatrixRow<'_>> {
        self.matrix_rows().collect()
    }

    /// The rows of [`Config::matrix`] one at a time, in the same order: reports that scan
    /// millions of cells (exposure, invariants) need not hold them all.
    pub fn matrix_rows(&self) -> impl Iterator<Item = MatrixRow<'_>> + '_ {
        self.cells().map(|(p, principal, table, column, code, d)| {
            let (level, policies) = self.decisions.get(p, d);
            MatrixRow {
                principal: &principal.name,
                table: &table.name,
                column: &column.name,
                jurisdiction: code,
                category: column.category,
                cross_border_raw: level == kamei_core::Level::Raw
                    && column.category.is_personal()
                    && principal.country != code,
                level,
                policies: policies.collect(),
            }
        })
    }
}

pub(crate) fn cedar_principals(principals: &[Principal]) -> Vec<PrincipalAttrs> {
    principals
        .iter()
        .map(|p| PrincipalAttrs {
            name: p.name.clone(),
            org: p.org.clone(),
            country: p.country.to_string(),
            roles: p.roles.clone(),
        })
        .collect()
}

/// Data items in the order `Config::data_index` numbers them.
pub(crate) fn cedar_data(catalog: &Catalog) -> Vec<DataAttrs> {
    let mut out = Vec::new();
    for t in &catalog.tables {
        for c in &t.columns {
            for j in &catalog.jurisdictions {
                out.push(DataAttrs {
                    table: t.name.clone(),
                    column: c.name.clone(),
                    category: c.category.to_string(),
                    jurisdiction: j.to_string(),
                });
            }
        }
    }
    out
}

fn compile_decisions(
    schema: &cedar_policy::Schema,
    policies: &cedar::Policies,
    catalog: &Catalog,
    principals: &[Principal],
) -> Result<DecisionTable, String> {
    compile::compile(
        schema,
        &policies.list,
        &cedar_principals(principals),
        &cedar_data(catalog),
    )
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use kamei_core::{Category, Level};

    use super::*;

    fn level(c: &Config, p: &str, col: &str, j: &str) -> Level {
        let (t, c2) = col.split_once('.').unwrap();
        c.explain(p, t, c2, j).unwrap().level
    }

    #[test]
    fn demo_loads_with_every_column_and_jurisdiction() {
        let c = Config::demo().unwrap();
        assert!(c.is_demo() && c.keyring().demo && c.keyring().path.is_none());
        assert_eq!(c.principals().len(), 6);
        let cols: usize = c.catalog().tables.iter().map(|t| t.columns.len()).sum();
        assert_eq!(cols, 14 + 7 + 8 + 8);
        assert_eq!(c.matrix().len(), 6 * cols * 4);
    }

    #[test]
    fn demo_levels_follow_the_design_table() {
        let c = Config::demo().unwrap();
        assert_eq!(level(&c, "admin", "users.my_number", "TH"), Level::Raw);
        assert_eq!(level(&c, "jp_support", "users.phone", "JP"), Level::Raw);
        assert_eq!(level(&c, "jp_support", "users.phone", "TH"), Level::Pseudonymized);
        assert_eq!(level(&c, "th_support", "users.phone", "TH"), Level::Raw);
        assert_eq!(level(&c, "th_support", "users.phone", "JP"), Level::Pseudonymized);
        assert_eq!(
            level(&c, "cn_contractor", "users.phone", "JP"),
            Level::Pseudonymized
        );
        assert_eq!(level(&c, "cn_contractor", "users.address", "JP"), Level::Masked);
        assert_eq!(
            level(&c, "cn_contractor", "users.birth_date", "TW"),
            Level::Masked
        );
        assert_eq!(level(&c, "cn_contractor", "messages.body", "JP"), Level::Masked);
        assert_eq!(level(&c, "cn_contractor", "users.my_number", "JP"), Level::Denied);
        assert_eq!(level(&c, "cn_contractor", "payments.amount", "ID"), Level::Raw);
        assert_eq!(level(&c, "kr_moderator", "reports.body", "JP"), Level::Masked);
        assert_eq!(
            level(&c, "kr_moderator", "reports.reporter_id", "JP"),
            Level::Pseudonymized
        );
        assert_eq!(level(&c, "kr_moderator", "messages.sent_at", "JP"), Level::Raw);
        assert_eq!(level(&c, "kr_moderator", "users.user_id", "JP"), Level::Denied);
        assert_eq!(level(&c, "kr_moderator", "payments.amount", "JP"), Level::Denied);
        for row in c.matrix().iter().filter(|r| r.principal == "auditor") {
            assert_eq!(row.level, Level::Denied, "{row:?}");
        }
        for row in c.matrix().iter().filter(|r| r.principal == "cn_contractor") {
            let t = c.catalog().table(row.table).unwrap();
            let cat = t.columns.iter().find(|x| x.name == row.column).unwrap().category;
            if cat != Category::NonPersonal {
                assert_ne!(row.level, Level::Raw, "{row:?}");
            }
        }
    }

    #[test]
    fn explain_names_the_deciding_policies() {
        let c = Config::demo().unwrap();
        let d = c.explain("jp_support", "users", "phone", "JP").unwrap();
        assert_eq!(d.policies, vec!["support-raw-home-jurisdiction".to_string()]);
        let d = c.explain("auditor", "users", "phone", "JP").unwrap();
        assert_eq!(d.policies, vec!["auditor-no-table-data".to_string()]);
        let d = c.explain("cn_contractor", "users", "my_number", "JP").unwrap();
        assert_eq!(d.policies, vec!["engineer-no-my-number".to_string()]);
        assert!(matches!(
            c.explain("nobody", "users", "phone", "JP"),
            Err(PolicyError::UnknownPrincipal(_))
        ));
        assert!(matches!(
            c.explain("admin", "nope", "phone", "JP"),
            Err(PolicyError::UnknownTable(_))
        ));
        assert!(matches!(
            c.explain("admin", "users", "nope", "JP"),
            Err(PolicyError::UnknownColumn { .. })
        ));
        assert!(matches!(
            c.explain("admin", "users", "phone", "US"),
            Err(PolicyError::UnknownJurisdiction(_))
        ));
    }

    /// Second review of issue 13: a jurisdiction removed from the catalog is not "denied" but
    /// the fallback, which can be raw; transform, k-anonymity and org changes are flagged.
    #[test]
    fn diff_models_the_fallback_and_flags_changes_that_reveal_more() {
        let old = Config::demo().unwrap();
        let [_, (_, catalog), (_, principals), (_, policies)] = DEMO_FILES;
        let policies = format!(
            "{policies}\n@id(\"glob-raw\") permit(principal, action == Kamei::Action::\"read_raw\", resource) \
             when {{ principal.roles.contains(\"support\") }} unless {{ resource.jurisdiction == \"TH\" }};"
        );
        let wide = Config::from_texts(catalog, principals, &policies).unwrap();
        let catalog_without_th = catalog.replace("\"TH\", ", "").replace(
            "k_anonymity = 5",
            "k_anonymity = 2\n[transforms.CREDIT_CARD]\npseudonymized = \"token-digits\"",
        );
        let principals_moved = principals.replacen("org = \"ldt-shanghai\"", "org = \"line-jp\"", 1);
        let new = Config::from_texts(&catalog_without_th, &principals_moved, &policies).unwrap();
        let changes = new.exposure_changes_since(&wide);
        assert!(
            changes.iter().any(|c| c.principal == "jp_support"
                && c.column == "phone"
                && c.jurisdiction == "TH"
                && c.increases()),
            "{changes:?}"
        );
        let review = new.review_changes_since(&old).join("\n");
        for expected in [
            "k_anonymity lowered from 5 to 2",
            "payments.card_number: transforms",
            "moved from org `ldt-shanghai`",
        ] {
            assert!(review.contains(expected), "{review}");
        }
        assert!(old.review_changes_since(&old).is_empty());
    }

    #[test]
    fn latent_grants_name_data_roles_orgs_and_jurisdictions_nobody_has() {
        let [_, (_, catalog), (_, principals), (_, policies)] = DEMO_FILES;
        let policies = format!(
            "{policies}\n@id(\"later\") permit(principal, action, resource == Kamei::Data::\"refunds.iban@JP\");\n\
             @id(\"analysts\") permit(principal, action, resource) when {{ principal.roles.contains(\"analyst\") || principal.org == \"acme\" || resource.jurisdiction == \"KR\" }};"
        );
        let c = Config::from_texts(catalog, principals, &policies).unwrap();
        let latent = c.latent_grants().join("\n");
        for expected in [
            "data `refunds.iban@JP`",
            "role `analyst`",
            "org `acme`",
            "jurisdiction `KR`",
        ] {
            assert!(latent.contains(expected), "{latent}");
        }
        assert!(Config::demo().unwrap().latent_grants().is_empty());
    }

    /// Issue 14: the gateway shares one configuration across connections and asks for a plan
    /// per statement: built once, shared, and never reused across policy sets.
    #[test]
    fn plans_are_built_once_shared_and_config_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Config>();
        let c = Config::demo().unwrap();
        let a = c.table_plan("jp_support", "users").unwrap();
        let b = c.table_plan("jp_support", "users").unwrap();
        assert!(std::sync::Arc::ptr_eq(&a, &b));
        let text = "@id(\"all\") permit(principal, action, resource);";
        let wide = c.with_policies("wide.cedar", text).unwrap();
        let w = wide.table_plan("jp_support", "users").unwrap();
        assert_eq!(
            w.column("phone").unwrap().decision(Some(Jurisdiction::TH)).level,
            Level::Raw
        );
        assert_ne!(
            a.column("phone").unwrap().decision(Some(Jurisdiction::TH)).level,
            Level::Raw
        );
    }

    #[test]
    fn table_plan_lists_every_column_in_catalog_order() {
        let c = Config::demo().unwrap();
        let plan = c.table_plan("jp_support", "users").unwrap();
        assert_eq!(plan.domain(), "line-jp");
        assert_eq!(
            plan.subjects()[0].jurisdiction,
            kamei_core::JurisdictionSource::Column("country".into())
        );
        let names: Vec<_> = plan.columns().iter().map(|c| c.column()).collect();
        assert_eq!(names[..3], ["user_id", "line_id", "display_name"]);
        assert_eq!(names.len(), 14);
        let phone = &plan.columns()[5];
        assert_eq!(phone.decision(Some(Jurisdiction::JP)).level, Level::Raw);
        assert_eq!(phone.decision(Some(Jurisdiction::TH)).level, Level::Pseudonymized);
        assert_eq!(
            phone.decision(Some("US".parse().unwrap())).level,
            Level::Pseudonymized
        );
        assert!(matches!(
            c.table_plan("x", "users"),
            Err(PolicyError::UnknownPrincipal(_))
        ));
        assert!(matches!(
            c.table_plan("admin", "x"),
            Err(PolicyError::UnknownTable(_))
        ));
    }

    #[test]
    fn demo_passwords_are_name_dash_demo() {
        let c = Config::demo().unwrap();
        for p in c.principals() {
            assert!(p.demo);
            assert!(
                p.credential.verify_password(&format!("{}-demo", p.name)),
                "{}",
                p.name
            );
            assert!(!p.credential.verify_password(&p.name));
        }
    }

    #[test]
    fn diff_names_who_gains() {
        let c = Config::demo().unwrap();
        let text = format!(
            "{}\npermit(principal == Kamei::Principal::\"cn_contractor\", action == Kamei::Action::\"read_raw\", resource);\n",
            DEMO_FILES[3].1
        );
        let new = c.with_policies("new.cedar", &text).unwrap();
        let changes = new.exposure_changes_since(&c);
        assert!(!changes.is_empty());
        assert!(
            changes
                .iter()
                .all(|ch| ch.principal == "cn_contractor" && ch.increases())
        );
        // My Number stays forbidden: forbid wins over the new permit.
        assert!(!changes.iter().any(|ch| ch.column == "my_number"));
        assert!(c.exposure_changes_since(&c).is_empty());
    }
}

#[cfg(test)]
mod load_tests {
    use super::*;

    /// Writes the demo set with `edits` (file, from, to) applied and loads it.
    fn load_edited(edits: &[(&str, &str, &str)]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in DEMO_FILES {
            let mut text = text.to_owned();
            for (file, from, to) in edits {
                if *file == name {
                    assert!(text.contains(from), "{from:?} not in {name}");
                    text = text.replacen(from, to, 1);
                }
            }
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        Config::load(&dir.path().join("kamei.toml"))
    }

    fn messages(err: ConfigError) -> Vec<String> {
        err.problems().iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn loaded_paths_are_relative_to_kamei_toml() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in DEMO_FILES {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let c = Config::load(&dir.path().join("kamei.toml")).unwrap();
        assert!(!c.is_demo() && !c.keyring().demo);
        assert_eq!(
            c.keyring().path.as_deref(),
            Some(dir.path().join("keyring.json").as_path())
        );
        assert_eq!(c.sources_dir(), Some(dir.path().join("demo").as_path()));
        assert_eq!(c.listen(), Some("127.0.0.1:5433"));
    }

    #[test]
    fn each_table_has_a_source_once_there_are_several() {
        let pg = "[sources.pg]\nkind = \"postgres\"\nurl = \"postgres://kamei@127.0.0.1:5432/line\"\n";
        let two = format!("dir = \"demo\"\n{pg}");
        let m = messages(load_edited(&[("kamei.toml", "dir = \"demo\"\n", &two)]).unwrap_err());
        assert!(
            m.len() == 4
                && m[0].contains("catalog table `users` names no source and [sources] defines several"),
            "{m:?}"
        );
        let named = load_edited(&[
            ("kamei.toml", "dir = \"demo\"\n", &two),
            (
                "catalog.toml",
                "name = \"users\"",
                "name = \"users\"\nsource = \"pg\"",
            ),
            (
                "catalog.toml",
                "name = \"messages\"",
                "name = \"messages\"\nsource = \"files\"",
            ),
            (
                "catalog.toml",
                "name = \"reports\"",
                "name = \"reports\"\nsource = \"files\"",
            ),
            (
                "catalog.toml",
                "name = \"payments\"",
                "name = \"payments\"\nsource = \"nope\"",
            ),
        ]);
        let m = messages(named.unwrap_err());
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].contains("catalog table `payments` names source `nope`"),
            "{m:?}"
        );
        let only_pg = load_edited(&[("kamei.toml", "dir = \"demo\"\n", pg)]).unwrap();
        assert_eq!(only_pg.source_of("users").map(|s| s.name.as_str()), Some("pg"));
        assert_eq!(only_pg.sources_dir(), None);
    }

    #[test]
    fn a_missing_file_is_named_at_its_kamei_toml_line() {
        let err = load_edited(&[(
            "kamei.toml",
            "catalog = \"catalog.toml\"",
            "catalog = \"nope.toml\"",
        )])
        .unwrap_err();
        let m = messages(err);
        assert!(
            m[0].contains("kamei.toml:3:11: cannot read `") && m[0].contains("nope.toml"),
            "{m:?}"
        );
    }

    #[test]
    fn unknown_fields_are_errors_with_their_location() {
        let err = load_edited(&[("kamei.toml", "[audit]", "[audit]\nlgo = \"x\"")]).unwrap_err();
        assert!(messages(err)[0].contains("unknown field `lgo`"));
    }

    #[test]
    fn catalog_structure_is_checked() {
        let m = messages(
            load_edited(&[
                (
                    "catalog.toml",
                    "subject_key = \"user_id\"",
                    "subject_key = \"uid\"",
                ),
                ("catalog.toml", "{ name = \"chat_id\"", "{ name = \"message_id\""),
                (
                    "catalog.toml",
                    "jurisdiction_column = \"reporter_country\"",
                    "jurisdiction_column = \"reporter_country\"\njurisdiction = \"JP\"",
                ),
                ("catalog.toml", "\"TW\", \"ID\"]", "\"TW\", \"Indonesia\"]"),
            ])
            .unwrap_err(),
        );
        assert!(
            m.iter()
                .any(|p| p.contains("field `subject_key` of table `users`: `uid` is not one of its columns")),
            "{m:?}"
        );
        assert!(
            m.iter()
                .any(|p| p.contains("column `message_id` of table `messages` is listed twice")),
            "{m:?}"
        );
        assert!(
            m.iter()
                .any(|p| p.contains("table `reports` has both `jurisdiction_column` and `jurisdiction`")),
            "{m:?}"
        );
        assert!(
            m.iter()
                .any(|p| p.contains("field `jurisdictions`: invalid jurisdiction `Indonesia`")),
            "{m:?}"
        );
        assert!(m.iter().all(|p| p.contains("catalog.toml:")), "{m:?}");
    }

    #[test]
    fn chosen_transforms_reach_the_table_plan_column_over_category() {
        use kamei_core::Transform;
        let c = load_edited(&[
            (
                "catalog.toml",
                "# [transforms.QUASI_IDENTIFIER]\n# masked = \"suppress\"",
                "[transforms.QUASI_IDENTIFIER]\nmasked = \"suppress\"\n[transforms.PHONE]\npseudonymized = \"pseudonym\"",
            ),
            (
                "catalog.toml",
                "{ name = \"phone\", category = \"PHONE\", type = \"TEXT\" }",
                "{ name = \"phone\", category = \"PHONE\", pseudonymized = \"token-digits\" }",
            ),
        ])
        .unwrap();
        let plan = c.table_plan("cn_contractor", "users").unwrap();
        let column = |name: &str| plan.column(name).unwrap();
        assert_eq!(column("gender").transforms().masked, Some(Transform::Suppress));
        assert_eq!(
            column("phone").transforms().pseudonymized,
            Some(Transform::TokenDigits)
        );
        assert_eq!(
            column("email").transforms(),
            kamei_core::TransformChoice::default()
        );
    }

    /// Issue 17: a FREE_TEXT column's redaction profile, recall unless chosen; no other
    /// category takes one.
    #[test]
    fn a_redaction_profile_reaches_free_text_columns_and_only_them() {
        use kamei_core::RedactionProfile;
        let body = "{ name = \"body\", category = \"FREE_TEXT\", subjects = [\"sender_id\", \"recipient_id\"], type = \"TEXT\" }";
        let balanced = body.replace(" }", ", profile = \"balanced\" }");
        let c = load_edited(&[("catalog.toml", body, &balanced)]).unwrap();
        let profile = |table: &str| {
            let plan = c.table_plan("cn_contractor", table).unwrap();
            plan.column("body").unwrap().transforms().redaction_profile()
        };
        assert_eq!(profile("messages"), RedactionProfile::Balanced);
        assert_eq!(profile("reports"), RedactionProfile::Recall);
        let m = messages(
            load_edited(&[
                (
                    "catalog.toml",
                    "{ name = \"phone\", category = \"PHONE\", type = \"TEXT\" }",
                    "{ name = \"phone\", category = \"PHONE\", profile = \"recall\" }",
                ),
                (
                    "catalog.toml",
                    body,
                    &body.replace(" }", ", profile = \"greedy\" }"),
                ),
            ])
            .unwrap_err(),
        );
        for e in [
            "field `profile` of column `phone` in table `users`: a redaction profile applies only to category `FREE_TEXT`, not `PHONE`",
            "field `profile` of column `body` in table `messages`: unknown redaction profile `greedy`",
        ] {
            assert!(m.iter().any(|p| p.contains(e)), "{e}\n{m:?}");
        }
    }

    #[test]
    fn a_transform_that_reveals_more_than_its_level_or_misfits_its_category_is_an_error() {
        let m = messages(
            load_edited(&[
                (
                    "catalog.toml",
                    "{ name = \"phone\", category = \"PHONE\", type = \"TEXT\" }",
                    "{ name = \"phone\", category = \"PHONE\", pseudonymized = \"mask-digits\" }",
                ),
                (
                    "catalog.toml",
                    "{ name = \"email\", category = \"EMAIL\", type = \"TEXT\" }",
                    "{ name = \"email\", category = \"EMAIL\", masked = \"keep\" }",
                ),
                (
                    "catalog.toml",
                    "# [transforms.CREDIT_CARD]\n# pseudonymized = \"token-digits\"",
                    "[transforms.CREDIT_CARD]\npseudonymized = \"tokenise\"",
                ),
            ])
            .unwrap_err(),
        );
        let expected = [
            "field `pseudonymized` of column `phone` in table `users`: `mask-digits` reveals more than the `pseudonymized` level allows",
            "field `masked` of column `email` in table `users`: `keep` does not apply to category `EMAIL`",
            "field `pseudonymized` of `[transforms.CREDIT_CARD]`: unknown transform `tokenise`",
        ];
        for e in expected {
            assert!(m.iter().any(|p| p.contains(e)), "{e}\n{m:?}");
        }
        assert!(m.iter().all(|p| p.contains("catalog.toml:")), "{m:?}");
    }

    #[test]
    fn a_fixed_jurisdiction_reaches_the_table_plan() {
        let c = load_edited(&[(
            "catalog.toml",
            "jurisdiction_column = \"reporter_country\"",
            "jurisdiction = \"TH\"",
        )])
        .unwrap();
        let plan = c.table_plan("th_support", "reports").unwrap();
        assert_eq!(
            plan.subjects()[0].jurisdiction,
            kamei_core::JurisdictionSource::Fixed(Jurisdiction::TH)
        );
    }

    #[test]
    fn principals_are_checked_without_echoing_credentials() {
        let m = messages(
            load_edited(&[
                (
                    "principals.toml",
                    "name = \"th_support\"",
                    "name = \"jp_support\"",
                ),
                ("principals.toml", "country = \"CN\"", "country = \"China\""),
            ])
            .unwrap_err(),
        );
        assert!(
            m.iter()
                .any(|p| p.contains("principal `jp_support` is listed twice")),
            "{m:?}"
        );
        assert!(
            m.iter()
                .any(|p| p
                    .contains("field `country` of principal `cn_contractor`: invalid jurisdiction `China`")),
            "{m:?}"
        );
        let m = messages(
            load_edited(&[(
                "principals.toml",
                "\ndemo = true",
                "\ncredential2 = \"SCRAM-SHA-256$4096:secret\"",
            )])
            .unwrap_err(),
        );
        assert!(
            m.iter().any(|p| p.contains("unknown field `credential2`")),
            "{m:?}"
        );
        let m = messages(
            load_edited(&[("principals.toml", "roles = [\"admin\"]", "roles = \"secret\"")]).unwrap_err(),
        );
        assert!(
            m[0].contains("principals.toml:17:9: invalid type: string \"…\""),
            "{m:?}"
        );
        assert!(!m.iter().any(|p| p.contains("secret")), "{m:?}");
    }

    #[test]
    fn duplicate_policy_ids_and_templates_are_rejected() {
        let m = messages(
            load_edited(&[(
                "policies.cedar",
                "@id(\"auditor-no-table-data\")",
                "@id(\"non-personal-raw\")",
            )])
            .unwrap_err(),
        );
        assert!(
            m[0].contains("policy id `non-personal-raw` is used twice"),
            "{m:?}"
        );
        let m = messages(
            load_edited(&[(
                "policies.cedar",
                "@id(\"auditor-no-table-data\")\nforbid (principal, action, resource)",
                "@id(\"auditor-no-table-data\")\nforbid (principal == ?principal, action, resource)",
            )])
            .unwrap_err(),
        );
        assert!(m[0].contains("templates"), "{m:?}");
    }
}
