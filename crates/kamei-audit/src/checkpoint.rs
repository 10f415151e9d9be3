//! Signed checkpoints and the log's signing key.
//!
//! SPEC: c2sp.org/tlog-checkpoint: the note text is the origin line, the tree size in decimal,
//! the root hash in standard base64, each ending in a newline (no extension lines).
//! SPEC: c2sp.org/signed-note: a blank line, then one `— <key name> <base64(key id || signature)>`
//! line per signature; Ed25519 keys (algorithm byte 0x01), key id = first four bytes of
//! SHA-256(name || 0x0A || 0x01 || public key). The `signed_note` crate implements the note
//! format; this module only builds and checks the checkpoint body.

use crate::merkle::Hash;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use signed_note::{Note, Signer as _, StandardSigner, StandardVerifier, VerifierList};
use std::fmt;
use zeroize::Zeroizing;

/// A checkpoint's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

/// Why a checkpoint or key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("the checkpoint is not a signed note: {0}")]
    Note(String),
    #[error("the checkpoint body is malformed: {0}")]
    Body(&'static str),
    #[error("the checkpoint's signature does not verify with key `{0}`")]
    Signature(String),
    #[error("the checkpoint's origin `{found}` is not the log's origin `{expected}`")]
    Origin { found: String, expected: String },
    #[error("the key file is malformed ({0})")]
    Key(&'static str),
}

impl Checkpoint {
    /// The note text (what is signed).
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root.0)
        )
    }

    fn parse_body(text: &[u8]) -> Result<Self, CheckpointError> {
        let text = std::str::from_utf8(text).map_err(|_| CheckpointError::Body("not UTF-8"))?;
        let mut lines = text.split('\n');
        let origin = lines
            .next()
            .filter(|l| !l.is_empty())
            .ok_or(CheckpointError::Body("no origin line"))?;
        let size_line = lines.next().ok_or(CheckpointError::Body("no size line"))?;
        if size_line.is_empty()
            || !size_line.bytes().all(|b| b.is_ascii_digit())
            || (size_line.len() > 1 && size_line.starts_with('0'))
        {
            return Err(CheckpointError::Body("the size is not a decimal number"));
        }
        let size = size_line
            .parse()
            .map_err(|_| CheckpointError::Body("the size is too large"))?;
        let root_line = lines.next().ok_or(CheckpointError::Body("no root hash line"))?;
        let root: [u8; 32] = STANDARD
            .decode(root_line)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or(CheckpointError::Body("the root hash is not 32 bytes of base64"))?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root: Hash(root),
        })
    }

    /// Parses a signed checkpoint and checks its signature with `vkey` (note verifier key format).
    pub fn open(bytes: &[u8], vkey: &str) -> Result<Self, CheckpointError> {
        let verifier = StandardVerifier::new(vkey).map_err(|_| CheckpointError::Key("bad verifier key"))?;
        let name = vkey.split('+').next().unwrap_or_default().to_owned();
        let note = Note::from_bytes(bytes).map_err(|e| CheckpointError::Note(e.to_string()))?;
        let list = VerifierList::new(vec![Box::new(verifier)]);
        note.verify(&list)
            .map_err(|_| CheckpointError::Signature(name.clone()))?;
        let cp = Self::parse_body(note.text())?;
        if cp.origin != name {
            return Err(CheckpointError::Origin {
                found: cp.origin,
                expected: name,
            });
        }
        Ok(cp)
    }
}

/// The log's Ed25519 signing key. Never printed: Debug shows only the public verifier key.
pub struct LogKey {
    signer: StandardSigner,
    vkey: String,
}

impl fmt::Debug for LogKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogKey")
            .field("vkey", &self.vkey)
            .finish_non_exhaustive()
    }
}

impl LogKey {
    /// A fresh key for `name` (the log's origin): (secret key text, key).
    pub fn generate(name: &str) -> Result<(Zeroizing<String>, Self), CheckpointError> {
        if !signed_note::is_key_name_valid(name) {
            return Err(CheckpointError::Key("the origin is not a valid key name"));
        }
        let (skey, _) = signed_note::generate_key(&mut rand_core::OsRng, name);
        let skey = Zeroizing::new(skey);
        let key = Self::from_secret(&skey)?;
        Ok((skey, key))
    }

    /// Loads a key from its signed-note secret key text (`PRIVATE+KEY+name+id+base64`).
    pub fn from_secret(skey: &str) -> Result<Self, CheckpointError> {
        let skey = skey.trim();
        let signer =
            StandardSigner::new(skey).map_err(|_| CheckpointError::Key("not a signed-note Ed25519 key"))?;
        let seed_b64 = skey.splitn(5, '+').nth(4).unwrap_or_default();
        let raw = Zeroizing::new(
            STANDARD
                .decode(seed_b64)
                .map_err(|_| CheckpointError::Key("bad base64"))?,
        );
        let seed: [u8; 32] = raw
            .get(1..)
            .and_then(|s| s.try_into().ok())
            .ok_or(CheckpointError::Key("bad length"))?;
        let seed = Zeroizing::new(seed);
        let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
        let vkey = signed_note::new_ed25519_verifier_key(signer.name(), &signing.verifying_key());
        Ok(LogKey { signer, vkey })
    }

    /// The key for `name` whose Ed25519 secret is `seed` (a keyring key derives it, so the
    /// log itself keeps no secret).
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, CheckpointError> {
        if !signed_note::is_key_name_valid(name) {
            return Err(CheckpointError::Key("the origin is not a valid key name"));
        }
        let signing = ed25519_dalek::SigningKey::from_bytes(seed);
        let vkey = signed_note::new_ed25519_verifier_key(name, &signing.verifying_key());
        // SPEC: signed-note (C2SP), "PRIVATE+KEY+<name>+<key hash>+base64(0x01 || seed)";
        // the key hash is the one the verifier key carries (its second field: a key name holds
        // no `+`, base64 may).
        let hash = vkey.split('+').nth(1).unwrap_or_default();
        let mut raw = Zeroizing::new(Vec::with_capacity(33));
        raw.push(0x01);
        raw.extend_from_slice(seed);
        let encoded = Zeroizing::new(STANDARD.encode(&*raw));
        let skey = Zeroizing::new(format!("PRIVATE+KEY+{name}+{hash}+{}", *encoded));
        Self::from_secret(&skey)
    }

    /// The key's name (the log's origin).
    pub fn name(&self) -> &str {
        self.signer.name()
    }

    /// The public verifier key, `<name>+<key id hex>+<base64(0x01 || public key)>`.
    pub fn verifier_key(&self) -> &str {
        &self.vkey
    }

    /// Signs a checkpoint and returns the note bytes.
    pub fn sign(&self, cp: &Checkpoint) -> Result<Vec<u8>, CheckpointError> {
        let mut note =
            Note::new(cp.body().as_bytes(), &[]).map_err(|e| CheckpointError::Note(e.to_string()))?;
        note.add_sigs(&[&self.signer])
            .map_err(|e| CheckpointError::Note(e.to_string()))?;
        Ok(note.to_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_and_refuses_edits() {
        let (skey, key) = LogKey::generate("kamei.local/audit").unwrap();
        assert!(!format!("{key:?}").contains(skey.splitn(5, '+').nth(4).unwrap()));
        let again = LogKey::from_secret(&skey).unwrap();
        assert_eq!(again.verifier_key(), key.verifier_key());
        let cp = Checkpoint {
            origin: "kamei.local/audit".into(),
            size: 7,
            root: Hash([3; 32]),
        };
        let note = key.sign(&cp).unwrap();
        let text = String::from_utf8(note.clone()).unwrap();
        assert!(text.starts_with("kamei.local/audit\n7\nAwMD"), "{text}");
        assert!(text.contains("\n\n\u{2014} kamei.local/audit "), "{text}");
        assert_eq!(Checkpoint::open(&note, key.verifier_key()).unwrap(), cp);
        let edited = text.replacen("\n7\n", "\n8\n", 1);
        assert!(matches!(
            Checkpoint::open(edited.as_bytes(), key.verifier_key()),
            Err(CheckpointError::Signature(_))
        ));
        let (_, other) = LogKey::generate("kamei.local/audit").unwrap();
        assert!(Checkpoint::open(&note, other.verifier_key()).is_err());
    }

    #[test]
    fn a_key_from_a_seed_is_the_key_of_its_secret_text() {
        let a = LogKey::from_seed("kamei.local/audit", &[7; 32]).unwrap();
        let b = LogKey::from_seed("kamei.local/audit", &[7; 32]).unwrap();
        let c = LogKey::from_seed("kamei.local/audit", &[8; 32]).unwrap();
        assert_eq!(a.verifier_key(), b.verifier_key());
        assert_ne!(a.verifier_key(), c.verifier_key());
        let cp = Checkpoint {
            origin: "kamei.local/audit".into(),
            size: 1,
            root: Hash([1; 32]),
        };
        assert_eq!(
            Checkpoint::open(&a.sign(&cp).unwrap(), b.verifier_key()).unwrap(),
            cp
        );
        assert!(LogKey::from_seed("bad name+", &[7; 32]).is_err());
    }
}
