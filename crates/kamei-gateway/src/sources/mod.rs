//! Where the raw tables come from: the files `kamei generate` writes, held in memory
//! (`files.rs`), or a PostgreSQL database read as it is queried (`postgres/`). Either way a
//! source is a `TableProvider` the guard wraps; nothing reads it but the guard.

mod files;
mod postgres;

pub(crate) use postgres::SourceFailed;
pub use postgres::{ConnectionIo, SampledTable, sample_database};

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use datafusion::catalog::TableProvider;
use kamei_policy::{Config, SourceKind};
use kamei_protect::SubjectDirectory;

use crate::error::GatewayError;

/// The raw source of every catalog table, and the subject directory built from its table.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    tables: HashMap<String, Arc<dyn TableProvider>>,
    directory: Option<Arc<SubjectDirectory>>,
}

impl Sources {
    /// Reads `DIR/<table>.parquet` for every table of the catalog into memory, and the subject
    /// directory from the catalog's directory table.
    pub fn load_dir(config: &Config, dir: &Path) -> Result<Sources, GatewayError> {
        let mut sources = Sources::default();
        for table in &config.catalog().tables {
            sources.add_file_table(config, &table.name, dir)?;
        }
        Ok(sources)
    }

    /// Opens every table of the catalog from the source kamei.toml gives it; `files_dir`, when
    /// given, stands in for the directory of every source of files (`kamei serve --data`).
    /// A database is connected to, and each table's columns checked against the catalog, before
    /// this returns: a source that is down or does not match is an error naming it. `io` says
    /// where the databases' connections run their I/O.
    pub async fn open(
        config: &Config,
        files_dir: Option<&Path>,
        io: ConnectionIo,
    ) -> Result<Sources, GatewayError> {
        let mut sources = Sources::default();
        let mut databases: HashMap<&str, Arc<postgres::Database>> = HashMap::new();
        for table in &config.catalog().tables {
            let Some(source) = config.source_of(&table.name) else {
                return Err(GatewayError::Source {
                    table: table.name.clone(),
                    message: "kamei.toml [sources] gives it no source; add one".into(),
                });
            };
            match &source.kind {
                SourceKind::Files { dir } => {
                    sources.add_file_table(config, &table.name, files_dir.unwrap_or(dir))?;
                }
                SourceKind::Postgres(settings) => {
                    let database = match databases.get(source.name.as_str()) {
                        Some(d) => d.clone(),
                        None => {
                            let d = Arc::new(postgres::Database::connect(&source.name, settings, io).await?);
                            databases.insert(&source.name, d.clone());
                            d
                        }
                    };
                    let provider = postgres::PgTable::open(database, table).await?;
                    if let Some((directory, key, jurisdiction)) = config.catalog().directory_table()
                        && directory.name == table.name
                    {
                        sources.directory = Some(Arc::new(provider.directory(key, jurisdiction).await?));
                    }
                    sources.tables.insert(table.name.clone(), Arc::new(provider));
                }
            }
        }
        Ok(sources)
    }

    fn add_file_table(&mut self, config: &Config, table: &str, dir: &Path) -> Result<(), GatewayError> {
        let (provider, directory) = files::load_table(config, table, dir)?;
        if directory.is_some() {
            self.directory = directory;
        }
        self.tables.insert(table.to_owned(), provider);
        Ok(())
    }

    /// The raw source of a table.
    pub(crate) fn table(&self, name: &str) -> Option<&Arc<dyn TableProvider>> {
        self.tables.get(name)
    }

    pub(crate) fn directory(&self) -> Option<&Arc<SubjectDirectory>> {
        self.directory.as_ref()
    }
}
