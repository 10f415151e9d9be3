//! The keyring: secret keys encrypted at rest under a master key, and the per-domain keys
//! derived from them.
//!
//! A keyring file is JSON: per key its id, purpose, creation time, and the key sealed with
//! AES-256-GCM under the master key (a fresh random nonce per key; the id and purpose are the
//! associated data, so a sealed key cannot be moved to another id or purpose). Rotation adds
//! a new current key per purpose and keeps the old ones, so reversible outputs that carry an
//! older key id can still be read.

use std::fmt;
use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use hkdf::Hkdf;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::KeyError;

/// The environment variable the master key is read from when no file is configured.
pub const MASTER_KEY_ENV: &str = "KAMEI_MASTER_KEY";

const FORMAT: &str = "kamei-keyring/1";
const AAD_PREFIX: &[u8] = b"kamei keyring v1\0";

/// 32 secret bytes. Zeroized on drop; its Debug prints no key material.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct Secret32([u8; 32]);

impl Secret32 {
    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for Secret32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret32(<redacted>)")
    }
}

/// The key that seals every key of a keyring (AES-256-GCM). Zeroized on drop; never printed.
#[derive(Clone)]
pub struct MasterKey {
    secret: Secret32,
    demo: bool,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("demo", &self.demo)
            .finish_non_exhaustive()
    }
}

impl MasterKey {
    /// The fixed, public demo master key. It protects nothing: anyone can read this source.
    /// It exists so the README's commands work without setup; every command that uses it says
    /// "demo keys" on stderr.
    pub fn demo() -> MasterKey {
        let digest =
            Sha256::digest(b"kamei DEMO master key: public, protects nothing, never use for real data");
        MasterKey {
            secret: Secret32(digest.into()),
            demo: true,
        }
    }

    /// Whether this is the public demo key.
    pub fn is_demo(&self) -> bool {
        self.demo
    }

    /// Parses 32 bytes given as 64 hex digits or base64 (standard or URL-safe, padded or not).
    /// The error never quotes the input.
    pub fn parse(text: &str, source: &str) -> Result<MasterKey, KeyError> {
        let text = Zeroizing::new(text.trim().to_owned());
        let decoded: Option<Zeroizing<Vec<u8>>> = if text.len() == 64 {
            hex::decode(text.as_bytes()).ok().map(Zeroizing::new)
        } else {
            None
        };
        let decoded = decoded.or_else(|| {
            [
                &base64::engine::general_purpose::STANDARD,
                &base64::engine::general_purpose::STANDARD_NO_PAD,
                &base64::engine::general_purpose::URL_SAFE,
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            ]
            .iter()
            .find_map(|e| e.decode(text.as_bytes()).ok())
            .map(Zeroizing::new)
        });
        match decoded {
            Some(bytes) if bytes.len() == 32 => {
                let mut secret = [0u8; 32];
                secret.copy_from_slice(&bytes);
                Ok(MasterKey {
                    secret: Secret32(secret),
                    demo: false,
                })
            }
            _ => Err(KeyError::BadMasterKey {
                source_name: source.to_owned(),
            }),
        }
    }

    /// The master key from a file (hex, base64 or 32 raw bytes), else from `KAMEI_MASTER_KEY`.
    pub fn from_file_or_env(file: Option<&Path>) -> Result<MasterKey, KeyError> {
        if let Some(path) = file {
            let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| KeyError::Io {
                path: path.display().to_string(),
                message: e.to_string(),
            })?);
            if bytes.len() == 32 {
                let mut secret = [0u8; 32];
                secret.copy_from_slice(&bytes);
                return Ok(MasterKey {
                    secret: Secret32(secret),
                    demo: false,
                });
            }
            let text = std::str::from_utf8(&bytes).map_err(|_| KeyError::BadMasterKey {
                source_name: path.display().to_string(),
            })?;
            return MasterKey::parse(text, &path.display().to_string());
        }
        match std::env::var(MASTER_KEY_ENV) {
            Ok(value) => {
                let value = Zeroizing::new(value);
                MasterKey::parse(&value, MASTER_KEY_ENV)
            }
            Err(_) => Err(KeyError::NoMasterKey),
        }
    }
}

/// What a key is for. A key is only ever used for its purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyPurpose {
    /// Keyed, irreversible pseudonyms (HMAC-SHA256).
    Pseudonym,
    /// Reversible tokens (AES-SIV, FF1).
    Token,
    /// Signing audit checkpoints (used by kamei-audit).
    AuditSigning,
}

impl KeyPurpose {
    pub const ALL: [KeyPurpose; 3] = [KeyPurpose::Pseudonym, KeyPurpose::Token, KeyPurpose::AuditSigning];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyPurpose::Pseudonym => "pseudonym",
            KeyPurpose::Token => "token",
            KeyPurpose::AuditSigning => "audit-signing",
        }
    }

    /// The letter key ids start with: ids are short because tokens carry them.
    fn id_letter(self) -> char {
        match self {
            KeyPurpose::Pseudonym => 'p',
            KeyPurpose::Token => 't',
            KeyPurpose::AuditSigning => 'a',
        }
    }
}

impl fmt::Display for KeyPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What may be shown about a key: everything except the key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeyInfo {
    pub id: String,
    pub purpose: KeyPurpose,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// The newest key of its purpose: the one new outputs are made with.
    pub current: bool,
}

#[derive(Clone)]
struct KeyEntry {
    id: String,
    purpose: KeyPurpose,
    created_at: String,
    secret: Secret32,
}

/// The keys of one installation. Debug lists ids only.
#[derive(Clone)]
pub struct Keyring {
    /// In creation order; the last key of a purpose is its current key.
    keys: Vec<KeyEntry>,
    demo: bool,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field(
                "keys",
                &self.keys.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(),
            )
            .field("demo", &self.demo)
            .finish()
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct FileFormat {
    format: String,
    keys: Vec<SealedKey>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct SealedKey {
    id: String,
    purpose: KeyPurpose,
    created_at: String,
    nonce: String,
    sealed: String,
}

impl Keyring {
    /// A new keyring with one fresh random key per purpose.
    pub fn generate() -> Keyring {
        let mut ring = Keyring {
            keys: Vec::new(),
            demo: false,
        };
        for purpose in KeyPurpose::ALL {
            ring.rotate(purpose);
        }
        ring
    }

    /// The deterministic demo keyring: keys derived from the public demo master key, fixed ids
    /// and times. It protects nothing; it makes the README's outputs reproducible.
    pub fn demo() -> Keyring {
        let master = MasterKey::demo();
        let hk = Hkdf::<Sha256>::new(Some(b"kamei demo keyring"), master.secret.bytes());
        let keys = KeyPurpose::ALL
            .iter()
            .map(|purpose| {
                let mut secret = [0u8; 32];
                // 32 bytes is far below HKDF-SHA256's 8160-byte limit, so expand cannot fail.
                let _ = hk.expand(purpose.as_str().as_bytes(), &mut secret);
                KeyEntry {
                    id: format!("{}1", purpose.id_letter()),
                    purpose: *purpose,
                    created_at: "2026-01-01T00:00:00Z".to_owned(),
                    secret: Secret32(secret),
                }
            })
            .collect();
        Keyring { keys, demo: true }
    }

    /// Whether this is the public demo keyring.
    pub fn is_demo(&self) -> bool {
        self.demo
    }

    /// Adds a fresh random key as the current key of `purpose`; older keys stay readable.
    /// Returns the new key's id.
    pub fn rotate(&mut self, purpose: KeyPurpose) -> String {
        let n = self.keys.iter().filter(|k| k.purpose == purpose).count() + 1;
        let id = format!("{}{n}", purpose.id_letter());
        let mut secret = [0u8; 32];
        OsRng.fill_bytes(&mut secret);
        self.keys.push(KeyEntry {
            id: id.clone(),
            purpose,
            created_at: rfc3339_now(),
            secret: Secret32(secret),
        });
        id
    }

    /// Every key's id, purpose, time and whether it is current; never key material.
    pub fn list(&self) -> Vec<KeyInfo> {
        self.keys
            .iter()
            .map(|k| KeyInfo {
                id: k.id.clone(),
                purpose: k.purpose,
                created_at: k.created_at.clone(),
                current: self.current(k.purpose).is_some_and(|c| c.id == k.id),
            })
            .collect()
    }

    fn current(&self, purpose: KeyPurpose) -> Option<&KeyEntry> {
        self.keys.iter().rev().find(|k| k.purpose == purpose)
    }

    fn by_id(&self, id: &str) -> Option<&KeyEntry> {
        self.keys.iter().find(|k| k.id == id)
    }

    /// The Ed25519 seeds of the audit-signing keys with their ids, newest first. A log stays
    /// signed by the key that created it, so older keys remain usable after a rotation and
    /// the caller picks the one whose public key the log names.
    // SPEC: RFC 5869 (HKDF-SHA256), a label of its own so no other purpose shares the bytes.
    pub fn audit_signing_seeds(&self) -> Vec<(String, Zeroizing<[u8; 32]>)> {
        self.keys
            .iter()
            .rev()
            .filter(|k| k.purpose == KeyPurpose::AuditSigning)
            .filter_map(|k| {
                let hk = Hkdf::<Sha256>::new(Some(b"kamei audit signing v1"), k.secret.bytes());
                let mut seed = Zeroizing::new([0u8; 32]);
                // 32 bytes, far below HKDF-SHA256's limit; a key that could not expand is
                // left out rather than used as zeros.
                hk.expand(b"ed25519 seed", &mut seed[..]).ok()?;
                Some((k.id.clone(), seed))
            })
            .collect()
    }

    /// The keys for one recipient domain (the principal's org), from the current keys.
    // SPEC: RFC 5869 (HKDF-SHA256), the domain in `info`.
    pub fn domain_keys(&self, domain: &str) -> Result<DomainKeys, KeyError> {
        let pseudonym = self.current(KeyPurpose::Pseudonym).ok_or(KeyError::NoKey {
            purpose: KeyPurpose::Pseudonym,
        })?;
        let token = self.current(KeyPurpose::Token).ok_or(KeyError::NoKey {
            purpose: KeyPurpose::Token,
        })?;
        Ok(DomainKeys::derive(domain, pseudonym, token))
    }

    /// The keys for a domain with the token key `token_key_id` (to read tokens made before a
    /// rotation).
    pub fn domain_keys_with_token_key(
        &self,
        domain: &str,
        token_key_id: &str,
    ) -> Result<DomainKeys, KeyError> {
        let pseudonym = self.current(KeyPurpose::Pseudonym).ok_or(KeyError::NoKey {
            purpose: KeyPurpose::Pseudonym,
        })?;
        let token = self
            .by_id(token_key_id)
            .filter(|k| k.purpose == KeyPurpose::Token)
            .ok_or_else(|| KeyError::UnknownKeyId {
                id: token_key_id.chars().take(16).collect(),
            })?;
        Ok(DomainKeys::derive(domain, pseudonym, token))
    }

    /// Opens the keyring file at `path`, unsealed with the master key from `master_key_file`
    /// or `KAMEI_MASTER_KEY`: what the CLI and the gateway do at start.
    pub fn open(path: &Path, master_key_file: Option<&Path>) -> Result<Keyring, KeyError> {
        if !path.exists() {
            return Err(KeyError::Missing {
                path: path.display().to_string(),
            });
        }
        let master = MasterKey::from_file_or_env(master_key_file)?;
        Keyring::load(path, &master)
    }

    /// Reads and unseals a keyring file.
    pub fn load(path: &Path, master: &MasterKey) -> Result<Keyring, KeyError> {
        let io = |e: std::io::Error| KeyError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let text = std::fs::read_to_string(path).map_err(io)?;
        let file: FileFormat = serde_json::from_str(&text).map_err(|e| KeyError::Malformed {
            path: path.display().to_string(),
            message: format!("line {} column {}", e.line(), e.column()),
        })?;
        if file.format != FORMAT {
            return Err(KeyError::Malformed {
                path: path.display().to_string(),
                message: format!("`format` must be `{FORMAT}`"),
            });
        }
        let cipher = Aes256Gcm::new(master.secret.bytes().into());
        let mut keys = Vec::with_capacity(file.keys.len());
        for sealed in file.keys {
            let malformed = |what: &str| KeyError::Malformed {
                path: path.display().to_string(),
                message: format!("key `{}`: {what}", sealed.id),
            };
            let nonce = hex::decode(&sealed.nonce).map_err(|_| malformed("`nonce` is not hex"))?;
            if nonce.len() != 12 {
                return Err(malformed("`nonce` must be 12 bytes"));
            }
            let ct = hex::decode(&sealed.sealed).map_err(|_| malformed("`sealed` is not hex"))?;
            let aad = aad(&sealed.id, sealed.purpose);
            let plain = Zeroizing::new(
                cipher
                    .decrypt(Nonce::from_slice(&nonce), Payload { msg: &ct, aad: &aad })
                    .map_err(|_| KeyError::WrongMasterKey {
                        path: path.display().to_string(),
                        id: sealed.id.clone(),
                    })?,
            );
            if plain.len() != 32 {
                return Err(malformed("sealed key is not 32 bytes"));
            }
            let mut secret = [0u8; 32];
            secret.copy_from_slice(&plain);
            keys.push(KeyEntry {
                id: sealed.id,
                purpose: sealed.purpose,
                created_at: sealed.created_at,
                secret: Secret32(secret),
            });
        }
        Ok(Keyring { keys, demo: false })
    }

    /// Seals every key under `master` and writes the file atomically (a temporary file in the
    /// same directory, permissions 0600, renamed over `path`).
    pub fn save(&self, path: &Path, master: &MasterKey) -> Result<(), KeyError> {
        let io = |e: std::io::Error| KeyError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let cipher = Aes256Gcm::new(master.secret.bytes().into());
        let mut sealed_keys = Vec::with_capacity(self.keys.len());
        for key in &self.keys {
            let mut nonce = [0u8; 12];
            OsRng.fill_bytes(&mut nonce);
            let aad = aad(&key.id, key.purpose);
            let ct = cipher
                .encrypt(
                    Nonce::from_slice(&nonce),
                    Payload {
                        msg: key.secret.bytes(),
                        aad: &aad,
                    },
                )
                .map_err(|_| KeyError::Seal)?;
            sealed_keys.push(SealedKey {
                id: key.id.clone(),
                purpose: key.purpose,
                created_at: key.created_at.clone(),
                nonce: hex::encode(nonce),
                sealed: hex::encode(ct),
            });
        }
        let file = FileFormat {
            format: FORMAT.to_owned(),
            keys: sealed_keys,
        };
        let mut text = serde_json::to_string_pretty(&file).map_err(|_| KeyError::Seal)?;
        text.push('\n');
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".keyring.").suffix(".tmp");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o600));
        }
        let mut tmp = builder.tempfile_in(dir).map_err(io)?;
        tmp.write_all(text.as_bytes()).map_err(io)?;
        tmp.as_file().sync_all().map_err(io)?;
        tmp.persist(path).map_err(|e| io(e.error))?;
        Ok(())
    }
}

fn aad(id: &str, purpose: KeyPurpose) -> Vec<u8> {
    let mut aad = AAD_PREFIX.to_vec();
    aad.extend_from_slice(id.as_bytes());
    aad.push(0);
    aad.extend_from_slice(purpose.as_str().as_bytes());
    aad
}

/// The keys of one recipient domain, derived from the keyring's current keys with HKDF. Two
/// domains get unrelated keys, so their pseudonyms cannot be joined. Zeroized on drop; Debug
/// prints the domain and key ids only.
#[derive(Clone)]
pub struct DomainKeys {
    domain: String,
    pseudonym_key_id: String,
    token_key_id: String,
    pub(crate) pseudonym: Secret32,
    /// FF1 key of the domain's subject-key codes (`subject_code.rs`): from the pseudonym key,
    /// so rotating it unlinks codes and pseudonyms at once.
    pub(crate) subject_code: Secret32,
    pub(crate) siv: Zeroizing<[u8; 64]>,
    pub(crate) ff1: Secret32,
}

impl fmt::Debug for DomainKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DomainKeys")
            .field("domain", &self.domain)
            .field("pseudonym_key_id", &self.pseudonym_key_id)
            .field("token_key_id", &self.token_key_id)
            .finish_non_exhaustive()
    }
}

impl DomainKeys {
    fn derive(domain: &str, pseudonym: &KeyEntry, token: &KeyEntry) -> DomainKeys {
        let expand = |secret: &Secret32, label: &str, out: &mut [u8]| {
            let hk = Hkdf::<Sha256>::new(Some(b"kamei domain keys v1"), secret.bytes());
            let mut info = label.as_bytes().to_vec();
            info.push(0);
            info.extend_from_slice(domain.as_bytes());
            // At most 64 bytes, far below HKDF-SHA256's limit: expand cannot fail.
            let _ = hk.expand(&info, out);
        };
        let mut p = [0u8; 32];
        expand(&pseudonym.secret, "pseudonym", &mut p);
        let mut subject_code = [0u8; 32];
        expand(&pseudonym.secret, "subject-key-ff1", &mut subject_code);
        let mut siv = Zeroizing::new([0u8; 64]);
        expand(&token.secret, "token-aes-siv", &mut siv[..]);
        let mut ff1 = [0u8; 32];
        expand(&token.secret, "token-ff1", &mut ff1);
        DomainKeys {
            domain: domain.to_owned(),
            pseudonym_key_id: pseudonym.id.clone(),
            token_key_id: token.id.clone(),
            pseudonym: Secret32(p),
            subject_code: Secret32(subject_code),
            siv,
            ff1: Secret32(ff1),
        }
    }

    /// Keys for tests and benchmarks that need no keyring: derived from fixed bytes.
    pub fn for_testing(domain: &str) -> DomainKeys {
        Keyring::demo()
            .domain_keys(domain)
            .unwrap_or_else(|_| unreachable_demo())
    }

    /// The recipient domain (the principal's org).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The id of the keyring key pseudonyms are derived from (for the processing record).
    pub fn pseudonym_key_id(&self) -> &str {
        &self.pseudonym_key_id
    }

    /// The id of the keyring key tokens are made with; tokens carry it.
    pub fn token_key_id(&self) -> &str {
        &self.token_key_id
    }
}

#[expect(clippy::panic, reason = "the demo keyring always holds one key per purpose")]
fn unreachable_demo() -> DomainKeys {
    panic!("the demo keyring holds no key")
}

/// The current time as RFC 3339 UTC, second precision.
pub(crate) fn rfc3339_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339(secs as i64)
}

/// Formats seconds since the Unix epoch as RFC 3339 UTC.
pub fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_and_load_round_trip_and_rotation_keeps_old_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyring.json");
        let master = MasterKey::parse(&"ab".repeat(32), "test").unwrap();
        let mut ring = Keyring::generate();
        ring.save(&path, &master).unwrap();
        let before = Keyring::load(&path, &master).unwrap();
        let old = before.domain_keys("org-a").unwrap();
        assert_eq!(old.token_key_id(), "t1");

        ring.rotate(KeyPurpose::Token);
        ring.save(&path, &master).unwrap();
        let after = Keyring::load(&path, &master).unwrap();
        let new = after.domain_keys("org-a").unwrap();
        assert_eq!(new.token_key_id(), "t2");
        assert_ne!(new.siv[..], old.siv[..]);
        let again = after.domain_keys_with_token_key("org-a", "t1").unwrap();
        assert_eq!(again.siv[..], old.siv[..]);
        let list = after.list();
        assert_eq!(list.iter().filter(|k| k.current).count(), 3);
        assert!(list.iter().any(|k| k.id == "t1" && !k.current));

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn the_file_holds_no_key_material_and_a_wrong_master_key_fails() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyring.json");
        let master = MasterKey::parse(&"01".repeat(32), "test").unwrap();
        let ring = Keyring::generate();
        ring.save(&path, &master).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        for key in &ring.keys {
            assert!(!text.contains(&hex::encode(key.secret.bytes())));
        }
        let other = MasterKey::parse(&"02".repeat(32), "test").unwrap();
        let err = Keyring::load(&path, &other).unwrap_err().to_string();
        assert!(err.contains("master key"), "{err}");
    }

    #[test]
    fn a_sealed_key_cannot_be_moved_to_another_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyring.json");
        let master = MasterKey::parse(&"03".repeat(32), "test").unwrap();
        Keyring::generate().save(&path, &master).unwrap();
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("\"p1\"", "\"p9\"");
        std::fs::write(&path, text).unwrap();
        assert!(Keyring::load(&path, &master).is_err());
    }

    #[test]
    fn master_key_parses_hex_and_base64_and_errors_quote_nothing() {
        let hex_key = "0f".repeat(32);
        let b64 = base64::engine::general_purpose::STANDARD.encode([0x0fu8; 32]);
        let a = MasterKey::parse(&hex_key, "x").unwrap();
        let b = MasterKey::parse(&b64, "x").unwrap();
        assert_eq!(a.secret.bytes(), b.secret.bytes());
        let err = MasterKey::parse("s3cr3t-but-too-short", "KAMEI_MASTER_KEY")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("s3cr3t"), "{err}");
        assert!(err.contains("`KAMEI_MASTER_KEY`"), "{err}");
    }

    #[test]
    fn audit_signing_seeds_follow_rotation_newest_first() {
        let mut ring = Keyring::generate();
        let first = ring.audit_signing_seeds();
        assert_eq!(first.len(), 1);
        let id = ring.rotate(KeyPurpose::AuditSigning);
        let both = ring.audit_signing_seeds();
        assert_eq!(both.len(), 2);
        assert_eq!(both[0].0, id);
        assert_eq!(*both[1].1, *first[0].1, "an older key still gives the same seed");
        assert_ne!(*both[0].1, *both[1].1);
        // Not the raw key bytes: a label of its own.
        let entry = ring.by_id(&id).unwrap();
        assert_ne!(&*both[0].1, entry.secret.bytes());
    }

    #[test]
    fn debug_prints_no_key_material() {
        let ring = Keyring::demo();
        let keys = ring.domain_keys("org").unwrap();
        let text = format!("{ring:?} {keys:?} {:?}", MasterKey::demo());
        for key in &ring.keys {
            assert!(!text.contains(&hex::encode(key.secret.bytes())));
            assert!(!text.contains(&format!("{:?}", key.secret.bytes())));
        }
        assert!(!text.contains(&format!("{:?}", keys.pseudonym.bytes())));
        assert!(text.contains("p1"));
    }

    #[test]
    fn domains_get_different_keys_and_the_demo_is_deterministic() {
        let a = Keyring::demo().domain_keys("org-a").unwrap();
        let b = Keyring::demo().domain_keys("org-b").unwrap();
        let a2 = Keyring::demo().domain_keys("org-a").unwrap();
        assert_ne!(a.pseudonym.bytes(), b.pseudonym.bytes());
        assert_eq!(a.pseudonym.bytes(), a2.pseudonym.bytes());
    }

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
