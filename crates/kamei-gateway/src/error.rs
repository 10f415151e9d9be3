//! What the gateway reports. Messages name tables, columns, principals and policies, never a
//! cell value: error text is an exfiltration channel.

/// A gateway error.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("table `{table}`: {message}")]
    Source { table: String, message: String },
    #[error("unknown principal `{0}`")]
    UnknownPrincipal(String),
    #[error(transparent)]
    Policy(#[from] kamei_policy::PolicyError),
    #[error(transparent)]
    Key(#[from] kamei_protect::KeyError),
    /// The statement was refused before it ran.
    #[error("{0}")]
    Refused(String),
    /// The engine's error: a parse, plan or execution error over protected values.
    #[error("{0}")]
    Query(String),
}
