//! Errors of the keyring and of the protection. None carries a cell value or key material:
//! error text is an exfiltration channel.

use kamei_core::{Category, Level};

use crate::keyring::KeyPurpose;

/// A keyring or master-key problem.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "no master key: set `KAMEI_MASTER_KEY` to 32 bytes in hex or base64, or `master_key_file` under \
         [keyring] in kamei.toml"
    )]
    NoMasterKey,
    #[error("the master key in `{source_name}` is not 32 bytes in hex or base64")]
    BadMasterKey { source_name: String },
    #[error("cannot unseal key `{id}` of `{path}`: wrong master key, or the file was altered")]
    WrongMasterKey { path: String, id: String },
    #[error("malformed keyring `{path}`: {message}")]
    Malformed { path: String, message: String },
    #[error("`{path}`: {message}")]
    Io { path: String, message: String },
    #[error("keyring `{path}` does not exist")]
    Missing { path: String },
    #[error("the keyring holds no {purpose} key")]
    NoKey { purpose: KeyPurpose },
    #[error("the keyring holds no key `{id}`")]
    UnknownKeyId { id: String },
    #[error("internal error: sealing a key failed")]
    Seal,
}

/// A protection problem: a plan that cannot be applied to the data at hand.
#[derive(Debug, thiserror::Error)]
pub enum ProtectError {
    #[error("column `{column}` is denied for every jurisdiction (decided by {})", policies_text(.policies))]
    DeniedColumn { column: String, policies: Vec<String> },
    #[error("`{principal}` may read no column of table `{table}` (decided by {})", policies_text(.policies))]
    DeniedTable {
        principal: String,
        table: String,
        policies: Vec<String>,
    },
    #[error("column `{column}` is not in table `{table}`")]
    UnknownColumn { table: String, column: String },
    #[error("column `{column}` is missing from the input")]
    MissingColumn { column: String },
    #[error(
        "column `{column}` is {category} in the catalog, but the data holds {data_type}; fix the catalog or the \
         data"
    )]
    TypeMismatch {
        column: String,
        category: Category,
        data_type: String,
    },
    #[error("column `{column}`: no {level} transform for {category} on {data_type}")]
    NoTransform {
        column: String,
        category: Category,
        level: Level,
        data_type: String,
    },
    #[error("subject key column holds {data_type}; expected integers or text")]
    KeyType { data_type: String },
    #[error(
        "table `{table}`: subject `{key}` takes its jurisdiction from the subject directory, and none was \
         loaded"
    )]
    NoDirectory { table: String, key: String },
    #[error("table `{table}` has more jurisdictions than a projection can group ({count})")]
    TooManyJurisdictions { table: String, count: usize },
    #[error("jurisdiction column `{column}` holds {data_type}; expected text")]
    JurisdictionType { column: String, data_type: String },
    #[error("token does not decode: not made with key `{key_id}` of this domain, or altered")]
    BadToken { key_id: String },
    /// A bug in kamei, not a user error. The message comes from Arrow about array shapes and
    /// types, never values.
    #[error("internal error in column `{column}`: {message}")]
    Internal { column: String, message: String },
}

fn policies_text(policies: &[String]) -> String {
    if policies.is_empty() {
        "no policy permitting it".to_owned()
    } else {
        policies
            .iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
