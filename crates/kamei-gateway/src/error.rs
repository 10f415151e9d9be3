//! What the gateway reports. Messages name tables, columns, principals and policies, never a
//! cell value: error text is an exfiltration channel.

/// A gateway error.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("table `{table}`: {message}")]
    Source { table: String, message: String },
    /// A database source that cannot be reached or read at start.
    #[error("source `{name}`: {message}")]
    Database { name: String, message: String },
    #[error("unknown principal `{0}`")]
    UnknownPrincipal(String),
    #[error(transparent)]
    Policy(#[from] kamei_policy::PolicyError),
    #[error(transparent)]
    Key(#[from] kamei_protect::KeyError),
    /// The statement was refused before it ran.
    #[error("{0}")]
    Refused(String),
    /// The statement names columns the principal may not read; `policies` decided it.
    #[error("{message}")]
    Denied { message: String, policies: Vec<String> },
    /// The engine's error: a parse, plan or execution error over protected values.
    #[error("{0}")]
    Query(String),
    /// A prepared statement whose result columns or parameters changed under a reloaded
    /// configuration.
    #[error(
        "the configuration was reloaded and this prepared statement's result columns or parameters changed; prepare it again"
    )]
    Stale,
    /// A source failed while a statement read it (a database gone away, a connection cut).
    /// `cause` is the source's message, scrubbed like any error over data.
    #[error("source `{source_name}` failed while reading table `{table}`: {cause}")]
    SourceFailed {
        source_name: String,
        table: String,
        cause: String,
    },
    /// The audit log could not take the statement's record: nothing was sent.
    #[error("the audit log cannot record this statement, so it did not run: {0}")]
    Audit(String),
}

impl GatewayError {
    /// The PostgreSQL error code clients see.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            GatewayError::Refused(_) | GatewayError::Denied { .. } => "42501",
            GatewayError::UnknownPrincipal(_) => "28000",
            GatewayError::Query(_) => "42000",
            GatewayError::Audit(_) => "58030",
            // PostgreSQL's "cached plan must not change result type".
            GatewayError::Stale => "0A000",
            // PostgreSQL's "connection failure", as a client would see from the source itself.
            GatewayError::SourceFailed { .. } => "08006",
            _ => "XX000",
        }
    }

    /// Why a statement that ran stopped before its end, for its audit record: the source and
    /// table for a source that failed, and nothing of any message, which could hold a value.
    /// Names the audit log would refuse (a table named with a date, say) give way to a fixed
    /// sentence: the record must never be lost over a field the gateway wrote itself.
    pub(crate) fn failure(&self) -> String {
        let named = match self {
            GatewayError::SourceFailed {
                source_name, table, ..
            } => format!("source `{source_name}` failed while reading table `{table}`"),
            _ => return "the statement failed while it ran".into(),
        };
        if kamei_audit::record::purpose_ok(&named) {
            named
        } else {
            "a source failed while the statement ran".into()
        }
    }
}

/// A guarded table's refusal of denied columns, carried through the engine to the audit
/// record with its deciding policies.
#[derive(Debug, Clone)]
pub struct DeniedColumns {
    pub message: String,
    pub policies: Vec<String>,
}

impl std::fmt::Display for DeniedColumns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeniedColumns {}

/// Engine error text with anything that could be a value taken out: quoted strings become
/// `'…'` and runs of four or more digits `#`. Engine errors over protected values (a failed
/// cast, a bad regex built from a column) would otherwise echo the value.
pub fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if digits.chars().count() >= 4 {
            out.push('#');
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in text.chars() {
        match quote {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                quote = None;
            }
            Some(_) => {}
            None if c == '\'' => {
                flush(&mut digits, &mut out);
                out.push(c);
                quote = Some(c);
            }
            None if c.is_numeric() => digits.push(c),
            None => {
                flush(&mut digits, &mut out);
                out.push(c);
            }
        }
    }
    if quote.is_some() {
        out.push_str("…'");
    }
    flush(&mut digits, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::{GatewayError, scrub};

    #[test]
    fn a_failure_the_log_would_refuse_becomes_a_fixed_sentence() {
        let failure = |table: &str| {
            GatewayError::SourceFailed {
                source_name: "line".into(),
                table: table.into(),
                cause: "connection closed".into(),
            }
            .failure()
        };
        assert_eq!(
            failure("users"),
            "source `line` failed while reading table `users`"
        );
        assert_eq!(
            failure("orders_20240101"),
            "a source failed while the statement ran"
        );
    }

    #[test]
    fn scrub_removes_quoted_values_and_long_numbers() {
        assert_eq!(
            scrub("Cannot cast string '+81 90-1234-5678' to value of Int64 type"),
            "Cannot cast string '…' to value of Int64 type"
        );
        assert_eq!(
            scrub("value 09012345678 too large for column 3"),
            "value # too large for column 3"
        );
        assert_eq!(scrub("unterminated 'abc"), "unterminated '…'");
    }
}
