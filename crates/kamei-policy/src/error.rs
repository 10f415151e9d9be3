//! Errors: one type for "the configuration is wrong" (with every problem and its location),
//! one for "that principal, table or column does not exist".

use std::fmt;

/// One thing wrong with the configuration, and where.
///
/// Messages never quote a value of the configuration other than identifiers (names of
/// tables, columns, principals, policies): a credential or a password must not reach a
/// terminal or a log through an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, as the user named it (or `<demo>/catalog.toml` for the built-in set).
    pub file: String,
    /// 1-based line and column; `None` when the problem concerns the file as a whole.
    pub line_column: Option<(usize, usize)>,
    /// What is wrong and what to do, lower-case, no final period.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line_column {
            Some((line, column)) => write!(f, "{}:{line}:{column}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// The configuration could not be loaded: every problem found, in file order.
///
/// Displays as the first problem and a count of the others; `kamei policy check` lists all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    problems: Vec<Problem>,
}

impl ConfigError {
    pub(crate) fn new(problems: Vec<Problem>) -> Self {
        debug_assert!(!problems.is_empty());
        Self { problems }
    }

    pub(crate) fn one(file: &str, line_column: Option<(usize, usize)>, message: String) -> Self {
        Self::new(vec![Problem {
            file: file.to_owned(),
            line_column,
            message,
        }])
    }

    /// Every problem found.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.split_first() {
            None => f.write_str("invalid configuration"),
            Some((first, [])) => write!(f, "{first}"),
            Some((first, rest)) => write!(
                f,
                "{first} (and {} more problem{})",
                rest.len(),
                if rest.len() == 1 { "" } else { "s" }
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// A question about a principal, table, column or jurisdiction the configuration does not
/// know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("unknown principal `{0}`; principals.toml lists the known ones")]
    UnknownPrincipal(String),
    #[error("unknown table `{0}`; catalog.toml lists the known ones")]
    UnknownTable(String),
    #[error("unknown column `{column}` in table `{table}`; catalog.toml lists its columns")]
    UnknownColumn { table: String, column: String },
    #[error("unknown jurisdiction `{0}`; catalog.toml `jurisdictions` lists the known ones")]
    UnknownJurisdiction(String),
    #[error("`{0}` is not TABLE.COLUMN")]
    NotTableColumn(String),
    #[error("no keyring configured: set `path` under [keyring] in kamei.toml")]
    NoKeyring,
    /// A bug in kamei: the validated catalog produced a plan that breaks its invariant.
    #[error("internal error: {0}")]
    Internal(String),
}
