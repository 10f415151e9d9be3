//! SCRAM-SHA-256 verifiers: what principals.toml stores instead of a password.
//!
//! SPEC: RFC 5802 §3 (SaltedPassword, ClientKey, StoredKey, ServerKey), RFC 7677 (SHA-256),
//! stored in PostgreSQL's text form `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`
//! (base64, standard alphabet with padding). The gateway runs the SCRAM exchange with the
//! stored and server keys; it never sees or stores a password.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The fewest PBKDF2 iterations accepted (RFC 7677 §4 recommends at least 4096).
pub const MIN_ITERATIONS: u32 = 4096;

/// A SCRAM-SHA-256 verifier. Its `Debug` and `Display` print neither salt nor keys.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramVerifier {
    iterations: u32,
    salt: Vec<u8>,
    stored_key: [u8; 32],
    server_key: [u8; 32],
}

/// Why a credential string is not a usable verifier. Never quotes the string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScramError {
    #[error(
        "not a SCRAM-SHA-256 verifier; expected `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` \
         as PostgreSQL stores it (plain passwords are not accepted)"
    )]
    Format,
    #[error("the verifier's iteration count is below {MIN_ITERATIONS}")]
    TooFewIterations,
    #[error("the verifier's {0} is not valid base64 of the expected length")]
    Encoding(&'static str),
}

impl ScramVerifier {
    /// Parses PostgreSQL's text form.
    pub fn parse(text: &str) -> Result<Self, ScramError> {
        let rest = text.strip_prefix("SCRAM-SHA-256$").ok_or(ScramError::Format)?;
        let (params, keys) = rest.split_once('$').ok_or(ScramError::Format)?;
        let (iterations, salt) = params.split_once(':').ok_or(ScramError::Format)?;
        let (stored, server) = keys.split_once(':').ok_or(ScramError::Format)?;
        let iterations: u32 = iterations.parse().map_err(|_| ScramError::Format)?;
        if iterations < MIN_ITERATIONS {
            return Err(ScramError::TooFewIterations);
        }
        let salt = B64.decode(salt).map_err(|_| ScramError::Encoding("salt"))?;
        if salt.is_empty() {
            return Err(ScramError::Encoding("salt"));
        }
        let key = |s: &str, what| -> Result<[u8; 32], ScramError> {
            B64.decode(s)
                .ok()
                .and_then(|v| <[u8; 32]>::try_from(v).ok())
                .ok_or(ScramError::Encoding(what))
        };
        Ok(Self {
            iterations,
            salt,
            stored_key: key(stored, "StoredKey")?,
            server_key: key(server, "ServerKey")?,
        })
    }

    /// The verifier of `password` with the given salt and iteration count.
    ///
    /// The password is used as given (no SASLprep); PostgreSQL does the same for passwords
    /// that SASLprep would reject, and kamei's demo passwords are ASCII.
    pub fn compute(password: &str, salt: &[u8], iterations: u32) -> Self {
        let salted = salted_password(password, salt, iterations);
        let client_key = hmac(&salted, b"Client Key");
        Self {
            iterations,
            salt: salt.to_vec(),
            stored_key: Sha256::digest(client_key).into(),
            server_key: hmac(&salted, b"Server Key"),
        }
    }

    /// Whether `password` is the one this verifier was made from (constant-time comparison
    /// of the derived keys).
    pub fn verify_password(&self, password: &str) -> bool {
        let other = Self::compute(password, &self.salt, self.iterations);
        let mut diff = 0u8;
        for (a, b) in other
            .stored_key
            .iter()
            .chain(&other.server_key)
            .zip(self.stored_key.iter().chain(&self.server_key))
        {
            diff |= a ^ b;
        }
        diff == 0
    }

    /// PostgreSQL's text form. Secret-equivalent for an offline guessing attack: store it
    /// like a password hash, never print it.
    pub fn to_postgres_string(&self) -> String {
        format!(
            "SCRAM-SHA-256${}:{}${}:{}",
            self.iterations,
            B64.encode(&self.salt),
            B64.encode(self.stored_key),
            B64.encode(self.server_key)
        )
    }

    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    pub fn salt(&self) -> &[u8] {
        &self.salt
    }

    /// H(ClientKey): checks a client's proof (RFC 5802 §3).
    pub fn stored_key(&self) -> &[u8; 32] {
        &self.stored_key
    }

    /// Signs the server's final message (RFC 5802 §3).
    pub fn server_key(&self) -> &[u8; 32] {
        &self.server_key
    }
}

impl fmt::Debug for ScramVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ScramVerifier(SCRAM-SHA-256, {} iterations, <redacted>)",
            self.iterations
        )
    }
}

fn salted_password(password: &str, salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt, iterations, &mut out);
    out
}

pub(crate) fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return [0; 32],
    };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    // SPEC: RFC 7677 §3, the example exchange for user "user", password "pencil".
    const SALT_B64: &str = "W22ZaJ0SNY7soEsUEjb6gQ==";
    const AUTH_MESSAGE: &str = "n=user,r=rOprNGfwEbeRWgbNEkqO,\
        r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,\
        c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    const CLIENT_PROOF_B64: &str = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    const SERVER_SIGNATURE_B64: &str = "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    #[test]
    fn rfc7677_example_verifies_client_proof_and_server_signature() {
        let salt = B64.decode(SALT_B64).unwrap();
        let v = ScramVerifier::compute("pencil", &salt, 4096);
        // Server side of the exchange, with only the verifier.
        let client_signature = hmac(v.stored_key(), AUTH_MESSAGE.as_bytes());
        let proof = B64.decode(CLIENT_PROOF_B64).unwrap();
        let client_key: Vec<u8> = proof.iter().zip(client_signature).map(|(p, s)| p ^ s).collect();
        assert_eq!(&<[u8; 32]>::from(Sha256::digest(&client_key)), v.stored_key());
        let server_signature = hmac(v.server_key(), AUTH_MESSAGE.as_bytes());
        assert_eq!(B64.encode(server_signature), SERVER_SIGNATURE_B64);
    }

    #[test]
    fn parses_its_own_postgres_form_and_checks_passwords() {
        let v = ScramVerifier::compute("s3cret", b"0123456789abcdef", 4096);
        let parsed = ScramVerifier::parse(&v.to_postgres_string()).unwrap();
        assert_eq!(parsed, v);
        assert!(parsed.verify_password("s3cret"));
        assert!(!parsed.verify_password("s3cret "));
        assert!(!parsed.verify_password(""));
    }

    #[test]
    fn rejects_plain_passwords_and_weak_or_broken_verifiers() {
        for bad in [
            "hunter2",
            "md5a3556571e93b0d20722ba62be61e8c2d",
            "SCRAM-SHA-256$4096:c2FsdA==$AAAA:BBBB",
            "SCRAM-SHA-256$x:c2FsdA==$a:b",
            "SCRAM-SHA-256$4096:c2FsdA==",
            "",
        ] {
            let err = ScramVerifier::parse(bad).unwrap_err().to_string();
            assert!(
                bad.is_empty() || !err.contains(bad),
                "error echoes the credential"
            );
        }
        let weak = ScramVerifier::compute("x", b"salt", 4096)
            .to_postgres_string()
            .replacen("4096", "1000", 1);
        assert_eq!(ScramVerifier::parse(&weak), Err(ScramError::TooFewIterations));
    }

    #[test]
    fn debug_prints_no_key_material() {
        let v = ScramVerifier::compute("s3cret", b"0123456789abcdef", 4096);
        let debug = format!("{v:?}");
        assert!(!debug.contains(&B64.encode(v.stored_key())));
        assert!(!debug.contains(&B64.encode(v.salt())));
    }
}
