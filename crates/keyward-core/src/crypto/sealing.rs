//! Sealing (the mechanism of R-TCH-4 and of section 6's codes): secrets that
//! staff must be able to show again — learner passwords, access codes, parent
//! access codes — are kept encrypted with AES-256-GCM under a server key named
//! by a key id, so the key can be rotated; codes also get a keyed look-up hash
//! (HMAC-SHA256), so what a person types can be found without storing it.
//!
//! A sealed value is `v2.<key id>.<base64url nonce>.<base64url ciphertext>`,
//! with a fresh 96-bit nonce per seal and the caller's context as associated
//! data (for a stored secret: its row id, the user it belongs to and its
//! purpose, see `store.rs`), so a value cannot be moved to another row, user
//! or purpose. Values of the older format `v1` (whose context named no owner)
//! still open; new seals and `keyward keys rotate` write `v2`.
//! This module holds no SQL (`store.rs` does) and never puts a key, a
//! plaintext or a sealed value in an error, a log line or `Debug`.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use super::key_file::{self, FileStamp, KeySource, Material};
use crate::error::Internal;
use crate::settings::SealingSettings;
use crate::types::random::{Random, RandomError};

/// The format version that starts every new sealed value.
pub const SEALED_VERSION: &str = "v2";
/// The format before sealed values were bound to their owner: still opened
/// (with the context of its time), never written.
pub const LEGACY_SEALED_VERSION: &str = "v1";
/// Bytes of the AES-GCM nonce (96 bits, fresh and random for every seal).
const NONCE_BYTES: usize = 12;
/// Bytes of the AES-GCM authentication tag at the end of every ciphertext.
const TAG_BYTES: usize = 16;
/// What the look-up key is checked against when the key file is read again,
/// so a replaced look-up key is noticed (stored look-up hashes depend on it).
const LOOKUP_CHECK_PURPOSE: &str = "keyward/lookup-key-check";
/// What each sealing key is checked against across instances: the database
/// keeps HMAC-SHA256 under the key of this label, never the key.
const KEY_CHECK_PURPOSE: &str = "keyward/sealing-key-check";

/// Why key material could not be loaded or a sealed value opened. No case
/// carries a key, a plaintext or a sealed value.
#[derive(Debug, thiserror::Error)]
pub enum SealingError {
    #[error("cannot read {path}: {cause}", path = .path.display())]
    Read { path: PathBuf, cause: String },
    #[error("cannot write {path}: {cause}", path = .path.display())]
    Write { path: PathBuf, cause: String },
    #[error(
        "the sealing key file {path} may be read by other users (mode {mode:03o}); \
         run `chmod 600 {path}`",
        path = .path.display()
    )]
    NotPrivate { path: PathBuf, mode: u32 },
    #[error("{origin}, line {line}: {problem}")]
    Malformed {
        origin: String,
        line: usize,
        problem: &'static str,
    },
    #[error("{origin}: {problem}")]
    Incomplete {
        origin: String,
        problem: &'static str,
    },
    #[error(
        "{0} now holds a different `lookup` key than when keyward started; \
         put the original `lookup` line back (look-up hashes depend on it)"
    )]
    LookupChanged(String),
    #[error("another `keyward keys rotate` is running (it holds {path})", path = .path.display())]
    Busy { path: PathBuf },
    #[error("sealing.key_file is empty and sealing.keys is not set")]
    NoKeys,
    #[error(
        "the sealing keys of {origin} are not the ones this database was first used with \
         ({names} differ): every instance must use the same sealing keys, the same \
         sealing.key_file contents (copy the file of the first instance before another's \
         first start) or the same sealing.keys"
    )]
    Mismatch { origin: String, names: String },
    #[error(transparent)]
    Random(#[from] RandomError),
    #[error("not a sealed value of format {SEALED_VERSION} or {LEGACY_SEALED_VERSION}")]
    BadFormat,
    #[error("sealed under key {0:?}, which is not among the sealing keys")]
    UnknownKey(String),
    #[error("a sealed value failed authentication (another key or context, or altered)")]
    NotAuthentic,
}

impl From<SealingError> for Internal {
    fn from(err: SealingError) -> Self {
        Internal::new(err)
    }
}

struct SealingKey {
    id: String,
    cipher: Aes256Gcm,
    /// HMAC-SHA256 under the key of [`KEY_CHECK_PURPOSE`].
    check: [u8; 32],
}

/// The keys in use: the last one seals, every one opens.
struct KeyRing {
    keys: Vec<SealingKey>,
    /// The key file as it was read (`None` for `sealing.keys`).
    stamp: Option<FileStamp>,
}

impl KeyRing {
    fn current(&self) -> Option<&SealingKey> {
        self.keys.last()
    }

    fn find(&self, id: &str) -> Option<&SealingKey> {
        self.keys.iter().find(|key| key.id == id)
    }
}

/// Seals and opens secrets, and computes look-up hashes. Shared by every use
/// case through `Keyward`; `Debug` shows key ids only.
///
/// A server started before `keyward keys rotate` holds the old keys. When it
/// meets a value sealed under a key it does not know, it reads the key file
/// again (only if the file changed) and from then on seals under the new
/// current key too; a restart does the same.
pub struct Sealer {
    source: KeySource,
    lookup: Hmac<Sha256>,
    lookup_check: [u8; 32],
    ring: RwLock<Arc<KeyRing>>,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ring = self.ring();
        let ids: Vec<&str> = ring.keys.iter().map(|key| key.id.as_str()).collect();
        f.debug_struct("Sealer")
            .field("source", &self.source)
            .field("key_ids", &ids)
            .field("keys", &"<redacted>")
            .finish()
    }
}

/// The parts of a sealed value.
struct SealedParts<'a> {
    version: &'static str,
    key_id: &'a str,
    nonce: [u8; NONCE_BYTES],
    ciphertext: Vec<u8>,
}

fn parse_sealed(sealed: &str) -> Result<SealedParts<'_>, SealingError> {
    let mut parts = sealed.split('.');
    let (Some(version), Some(key_id), Some(nonce), Some(ciphertext), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(SealingError::BadFormat);
    };
    let version = match version {
        SEALED_VERSION => SEALED_VERSION,
        LEGACY_SEALED_VERSION => LEGACY_SEALED_VERSION,
        _ => return Err(SealingError::BadFormat),
    };
    if !key_file::is_valid_key_id(key_id) {
        return Err(SealingError::BadFormat);
    }
    let nonce: [u8; NONCE_BYTES] = URL_SAFE_NO_PAD
        .decode(nonce)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(SealingError::BadFormat)?;
    let ciphertext = URL_SAFE_NO_PAD
        .decode(ciphertext)
        .map_err(|_| SealingError::BadFormat)?;
    if ciphertext.len() < TAG_BYTES {
        return Err(SealingError::BadFormat);
    }
    Ok(SealedParts {
        version,
        key_id,
        nonce,
        ciphertext,
    })
}

impl Sealer {
    /// Loads the keys: from `sealing.keys` when it is set (the file is then
    /// neither read nor created), otherwise from `sealing.key_file`, which is
    /// created with a fresh look-up key and key `k1` when it does not exist.
    pub fn load(settings: &SealingSettings, rng: &dyn Random) -> Result<Sealer, SealingError> {
        if !settings.keys.trim().is_empty() {
            let material = key_file::parse(&settings.keys, &KeySource::Inline)?;
            return Sealer::build(KeySource::Inline, &material, None);
        }
        let path = &settings.key_file;
        if path.as_os_str().is_empty() {
            return Err(SealingError::NoKeys);
        }
        let source = KeySource::File(path.clone());
        let (text, stamp) = match key_file::read(path)? {
            Some(found) => found,
            None => {
                key_file::create(path, rng)?;
                key_file::read(path)?.ok_or_else(|| SealingError::Read {
                    path: path.clone(),
                    cause: "the file vanished after it was created".into(),
                })?
            }
        };
        let material = key_file::parse(&text, &source)?;
        Sealer::build(source, &material, Some(stamp))
    }

    fn build(
        source: KeySource,
        material: &Material,
        stamp: Option<FileStamp>,
    ) -> Result<Sealer, SealingError> {
        let lookup = lookup_mac(material)?;
        let ring = key_ring(material, stamp)?;
        Ok(Sealer {
            source,
            lookup_check: check_of(&lookup),
            lookup,
            ring: RwLock::new(Arc::new(ring)),
        })
    }

    fn ring(&self) -> Arc<KeyRing> {
        // A panic while the lock was held cannot leave a half-built ring: the
        // ring is swapped whole.
        match self.ring.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Where the keys come from.
    pub fn source(&self) -> &KeySource {
        &self.source
    }

    /// The id of the key that seals new values.
    pub fn current_key_id(&self) -> String {
        self.ring()
            .current()
            .map(|key| key.id.clone())
            .unwrap_or_default()
    }

    /// Seals `plaintext` under the current key in format `v2`, bound to
    /// `context` (for a stored secret see `store::context_of`): opening
    /// needs the same context.
    pub fn seal(
        &self,
        plaintext: &str,
        context: &str,
        rng: &dyn Random,
    ) -> Result<String, Internal> {
        self.seal_as(SEALED_VERSION, plaintext, context, rng)
    }

    /// Seals in the legacy format `v1`, as keyward did before sealed values
    /// were bound to their owner: only tests write it, to check that such
    /// values still open and that rotation upgrades them.
    #[cfg(test)]
    pub(crate) fn seal_legacy(
        &self,
        plaintext: &str,
        context: &str,
        rng: &dyn Random,
    ) -> Result<String, Internal> {
        self.seal_as(LEGACY_SEALED_VERSION, plaintext, context, rng)
    }

    fn seal_as(
        &self,
        version: &str,
        plaintext: &str,
        context: &str,
        rng: &dyn Random,
    ) -> Result<String, Internal> {
        let ring = self.ring();
        let key = ring
            .current()
            .ok_or_else(|| Internal::new("no sealing key is loaded"))?;
        let mut nonce = [0u8; NONCE_BYTES];
        rng.fill(&mut nonce)?;
        let ciphertext = key
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| Internal::new("AES-GCM sealing failed"))?;
        Ok(format!(
            "{version}.{}.{}.{}",
            key.id,
            URL_SAFE_NO_PAD.encode(nonce),
            URL_SAFE_NO_PAD.encode(ciphertext)
        ))
    }

    /// The format version of a sealed value (`v2`, or the legacy `v1`).
    pub fn version_of(sealed: &str) -> Result<&'static str, SealingError> {
        parse_sealed(sealed).map(|parts| parts.version)
    }

    /// Opens a sealed value with the key it names and the same context (the
    /// caller gives the context of the value's version, see `version_of`).
    pub fn open(&self, sealed: &str, context: &str) -> Result<String, SealingError> {
        let parts = parse_sealed(sealed)?;
        let mut ring = self.ring();
        if ring.find(parts.key_id).is_none() {
            ring = self.reload_if_changed()?;
        }
        let key = ring
            .find(parts.key_id)
            .ok_or_else(|| SealingError::UnknownKey(parts.key_id.to_owned()))?;
        let plaintext = key
            .cipher
            .decrypt(
                &Nonce::from(parts.nonce),
                Payload {
                    msg: &parts.ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SealingError::NotAuthentic)?;
        // Only our own seals authenticate, and they seal text.
        String::from_utf8(plaintext).map_err(|_| SealingError::BadFormat)
    }

    /// Whether `sealed` is in the current format and under the current key
    /// (rotation skips it).
    pub fn is_current(&self, sealed: &str) -> bool {
        let ring = self.ring();
        match (parse_sealed(sealed), ring.current()) {
            (Ok(parts), Some(current)) => {
                parts.version == SEALED_VERSION && parts.key_id == current.id
            }
            _ => false,
        }
    }

    /// A check value of each key, named as the key material names it
    /// (`lookup`, `key k1`, …): HMAC-SHA256 under the key of a fixed label,
    /// in hex. Equal keys give equal values; a value tells nothing of its
    /// key. The database keeps them, so instances with other keys are
    /// refused (`Keyward::check_sealing_keys`).
    pub fn key_checks(&self) -> Vec<(String, String)> {
        let ring = self.ring();
        let mut checks = vec![("lookup".to_owned(), hex::encode(self.lookup_check))];
        checks.extend(
            ring.keys
                .iter()
                .map(|key| (format!("key {}", key.id), hex::encode(key.check))),
        );
        checks
    }

    /// The keyed look-up hash of `value` for `purpose` (hex HMAC-SHA256 over
    /// `purpose ‖ 0x00 ‖ value`): find a code by what the person typed
    /// without storing the code. The look-up key never rotates.
    pub fn lookup_hash(&self, purpose: &str, value: &str) -> String {
        let mut mac = self.lookup.clone();
        mac.update(purpose.as_bytes());
        mac.update(&[0u8]);
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Reads the key file again when it changed since it was last read, and
    /// uses its keys from then on. Returns the ring in use afterwards.
    fn reload_if_changed(&self) -> Result<Arc<KeyRing>, SealingError> {
        let ring = self.ring();
        let KeySource::File(path) = &self.source else {
            return Ok(ring);
        };
        if ring.stamp.is_some() && key_file::current_stamp(path) == ring.stamp {
            return Ok(ring);
        }
        self.read_key_file_again()
    }

    /// Reads the key file again and uses its keys from then on (rotation
    /// calls this after adding a key). The look-up key must be unchanged.
    pub(crate) fn reload(&self) -> Result<(), SealingError> {
        self.read_key_file_again().map(|_| ())
    }

    fn read_key_file_again(&self) -> Result<Arc<KeyRing>, SealingError> {
        let KeySource::File(path) = &self.source else {
            return Ok(self.ring());
        };
        let Some((text, stamp)) = key_file::read(path)? else {
            return Err(SealingError::Read {
                path: path.clone(),
                cause: "the file does not exist".into(),
            });
        };
        let material = key_file::parse(&text, &self.source)?;
        if check_of(&lookup_mac(&material)?) != self.lookup_check {
            return Err(SealingError::LookupChanged(self.source.to_string()));
        }
        let ring = Arc::new(key_ring(&material, Some(stamp))?);
        match self.ring.write() {
            Ok(mut guard) => *guard = Arc::clone(&ring),
            Err(poisoned) => *poisoned.into_inner() = Arc::clone(&ring),
        }
        Ok(ring)
    }
}

fn lookup_mac(material: &Material) -> Result<Hmac<Sha256>, SealingError> {
    <Hmac<Sha256> as Mac>::new_from_slice(&*material.lookup).map_err(|_| SealingError::Incomplete {
        origin: "sealing keys".into(),
        problem: "the look-up key cannot key HMAC-SHA256",
    })
}

fn key_ring(material: &Material, stamp: Option<FileStamp>) -> Result<KeyRing, SealingError> {
    let keys = material
        .keys
        .iter()
        .map(|(id, bytes)| {
            Aes256Gcm::new_from_slice(&**bytes)
                .ok()
                .zip(<Hmac<Sha256> as Mac>::new_from_slice(&**bytes).ok())
                .map(|(cipher, mac)| SealingKey {
                    id: id.clone(),
                    cipher,
                    check: mac
                        .chain_update(KEY_CHECK_PURPOSE.as_bytes())
                        .finalize()
                        .into_bytes()
                        .into(),
                })
                .ok_or_else(|| SealingError::Incomplete {
                    origin: "sealing keys".into(),
                    problem: "a key cannot key AES-256-GCM",
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(KeyRing { keys, stamp })
}

/// A value derived from the look-up key that tells whether two look-up keys
/// are the same without keeping the key's bytes around.
fn check_of(lookup: &Hmac<Sha256>) -> [u8; 32] {
    let mut mac = lookup.clone();
    mac.update(LOOKUP_CHECK_PURPOSE.as_bytes());
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::random::SeededRandom;

    fn b64<const N: usize>(bytes: [u8; N]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// Inline material with look-up key bytes 9 and the given keys.
    fn material(keys: &[(&str, u8)]) -> String {
        let mut text = format!("lookup {}\n", b64([9; 32]));
        for (id, byte) in keys {
            text.push_str(&format!("key {id} {}\n", b64([*byte; 32])));
        }
        text
    }

    fn inline(keys: &[(&str, u8)]) -> Sealer {
        let settings = SealingSettings {
            key_file: PathBuf::new(),
            keys: material(keys),
        };
        Sealer::load(&settings, &SeededRandom::new(1)).unwrap()
    }

    fn file_settings(dir: &std::path::Path) -> SealingSettings {
        SealingSettings {
            key_file: dir.join("keys").join("sealing.key"),
            keys: String::new(),
        }
    }

    #[cfg(unix)]
    fn mode_of(path: &std::path::Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn sealing_then_opening_gives_back_the_plaintext() {
        let sealer = inline(&[("k1", 1)]);
        let rng = SeededRandom::new(2);
        for text in ["Quiet-Harbour-47", "", "ünïcode ✓ and spaces"] {
            let sealed = sealer.seal(text, "row-1/learner_password", &rng).unwrap();
            assert!(sealed.starts_with("v2.k1."), "{sealed}");
            assert!(!sealed.contains(text) || text.is_empty());
            assert_eq!(
                sealer.open(&sealed, "row-1/learner_password").unwrap(),
                text
            );
            assert!(sealer.is_current(&sealed));
        }
    }

    #[test]
    fn a_sealing_context_binds_the_value_to_its_row() {
        let sealer = inline(&[("k1", 1)]);
        let sealed = sealer
            .seal("secret", "row-1/learner_password", &SeededRandom::new(2))
            .unwrap();
        for other in ["row-2/learner_password", "row-1/access_code", ""] {
            assert!(matches!(
                sealer.open(&sealed, other),
                Err(SealingError::NotAuthentic)
            ));
        }
    }

    #[test]
    fn an_altered_sealing_does_not_open() {
        let sealer = inline(&[("k1", 1)]);
        let sealed = sealer.seal("secret", "ctx", &SeededRandom::new(2)).unwrap();
        let parts: Vec<&str> = sealed.split('.').collect();
        let flip = |text: &str| {
            let mut chars: Vec<char> = text.chars().collect();
            chars[3] = if chars[3] == 'A' { 'B' } else { 'A' };
            chars.into_iter().collect::<String>()
        };
        let altered_ciphertext = format!("v2.k1.{}.{}", parts[2], flip(parts[3]));
        let altered_nonce = format!("v2.k1.{}.{}", flip(parts[2]), parts[3]);
        for altered in [altered_ciphertext, altered_nonce] {
            assert!(matches!(
                sealer.open(&altered, "ctx"),
                Err(SealingError::NotAuthentic)
            ));
        }
        // Another key under the same id does not open it either.
        let other = inline(&[("k1", 2)]);
        assert!(matches!(
            other.open(&sealed, "ctx"),
            Err(SealingError::NotAuthentic)
        ));
        // A key id nobody has, and junk, are told apart.
        let unknown = format!("v2.k7.{}.{}", parts[2], parts[3]);
        assert!(matches!(
            sealer.open(&unknown, "ctx"),
            Err(SealingError::UnknownKey(id)) if id == "k7"
        ));
        for junk in [
            "",
            "secret",
            "v2.k1.AAAA.AAAA",
            &format!("v9.k1.{}.{}", parts[2], parts[3]),
            "v1.k1.AAAA",
            "v1.k.1.AAAA.AAAA",
            "v1.k1.!!.AAAA",
            &format!("v1.k1.{}.AAAA", parts[2]),
            &format!("{sealed}.x"),
        ] {
            assert!(
                matches!(sealer.open(junk, "ctx"), Err(SealingError::BadFormat)),
                "{junk}"
            );
            assert!(!sealer.is_current(junk));
        }
    }

    #[test]
    fn sealing_the_same_text_twice_gives_two_values() {
        let sealer = inline(&[("k1", 1)]);
        let rng = SeededRandom::new(2);
        let first = sealer.seal("same", "ctx", &rng).unwrap();
        let second = sealer.seal("same", "ctx", &rng).unwrap();
        assert_ne!(first, second);
        assert_ne!(first.split('.').nth(2), second.split('.').nth(2));
        assert_eq!(sealer.open(&second, "ctx").unwrap(), "same");
    }

    #[test]
    fn the_last_sealing_key_seals_and_older_ones_still_open() {
        let old = inline(&[("k1", 1)]);
        let both = inline(&[("k1", 1), ("k2", 2)]);
        let rng = SeededRandom::new(2);
        let under_k1 = old.seal("text", "ctx", &rng).unwrap();
        assert_eq!(both.current_key_id(), "k2");
        assert!(!both.is_current(&under_k1));
        assert_eq!(both.open(&under_k1, "ctx").unwrap(), "text");
        let under_k2 = both.seal("text", "ctx", &rng).unwrap();
        assert!(under_k2.starts_with("v2.k2."));
        assert!(both.is_current(&under_k2));
    }

    #[test]
    fn the_sealing_key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let settings = file_settings(dir.path());
        let first = Sealer::load(&settings, &SeededRandom::new(1)).unwrap();
        assert!(settings.key_file.is_file());
        #[cfg(unix)]
        assert_eq!(mode_of(&settings.key_file), 0o600);
        assert_eq!(first.current_key_id(), "k1");
        assert_eq!(first.source(), &KeySource::File(settings.key_file.clone()));
        let contents = std::fs::read_to_string(&settings.key_file).unwrap();
        assert_eq!(
            contents
                .lines()
                .filter(|l| l.starts_with("lookup "))
                .count(),
            1
        );
        assert_eq!(
            contents
                .lines()
                .filter(|l| l.starts_with("key k1 "))
                .count(),
            1
        );
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(settings.key_file.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("sealing.key")]);

        // Another load (other randomness) reads the same keys.
        let second = Sealer::load(&settings, &SeededRandom::new(2)).unwrap();
        assert_eq!(
            std::fs::read_to_string(&settings.key_file).unwrap(),
            contents
        );
        let sealed = first.seal("text", "ctx", &SeededRandom::new(3)).unwrap();
        assert_eq!(second.open(&sealed, "ctx").unwrap(), "text");
        assert_eq!(
            first.lookup_hash("access_code", "ABCD-EFGH"),
            second.lookup_hash("access_code", "ABCD-EFGH")
        );
        // Different randomness makes different keys for another installation.
        let other_dir = tempfile::tempdir().unwrap();
        let other = Sealer::load(&file_settings(other_dir.path()), &SeededRandom::new(2)).unwrap();
        assert!(other.open(&sealed, "ctx").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_sealing_key_file_others_may_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let settings = file_settings(dir.path());
        Sealer::load(&settings, &SeededRandom::new(1)).unwrap();
        for mode in [0o640, 0o604, 0o660, 0o602] {
            std::fs::set_permissions(&settings.key_file, std::fs::Permissions::from_mode(mode))
                .unwrap();
            let err = Sealer::load(&settings, &SeededRandom::new(1)).unwrap_err();
            let message = err.to_string();
            assert!(matches!(err, SealingError::NotPrivate { .. }), "{message}");
            assert!(message.contains("chmod 600"), "{message}");
            assert!(
                message.contains(&settings.key_file.display().to_string()),
                "{message}"
            );
        }
        std::fs::set_permissions(&settings.key_file, std::fs::Permissions::from_mode(0o400))
            .unwrap();
        Sealer::load(&settings, &SeededRandom::new(1)).unwrap();
    }

    #[test]
    fn malformed_sealing_keys_name_the_line_and_never_the_key() {
        let key = b64([7; 32]);
        let short = b64([7; 16]);
        let lookup = format!("lookup {}", b64([9; 32]));
        let cases: Vec<(String, &str)> = vec![
            (format!("{lookup}\n{key}\n"), "line 2"),
            (format!("# c\n{lookup}\nkey k1\n"), "line 3"),
            (format!("{lookup}\nkey k1 {key} extra\n"), "line 2"),
            (format!("{lookup}\nkey k1 {short}\n"), "32 bytes"),
            (format!("{lookup}\nkey k1 {key}!\n"), "not base64"),
            (format!("{lookup}\nkey k.1 {key}\n"), "key id"),
            (format!("{lookup}\nkey k1 {key}\nkey k1 {key}\n"), "line 3"),
            (
                format!("{lookup}\n{lookup}\nkey k1 {key}\n"),
                "second `lookup`",
            ),
            (format!("lookup {key} {key}\nkey k1 {key}\n"), "line 1"),
            (format!("Key k1 {key}\n{lookup}\n"), "line 1"),
            (format!("key k1 {key}\n"), "no `lookup"),
            (format!("{lookup}\n"), "no `key"),
        ];
        for (text, needle) in cases {
            let settings = SealingSettings {
                key_file: PathBuf::new(),
                keys: text.clone(),
            };
            let message = Sealer::load(&settings, &SeededRandom::new(1))
                .unwrap_err()
                .to_string();
            assert!(message.starts_with("sealing.keys"), "{message}");
            assert!(message.contains(needle), "{needle:?} not in {message:?}");
            for secret in [&key, &short, &b64([9; 32])] {
                assert!(!message.contains(secret.as_str()), "{message}");
                assert!(!message.contains(&secret[..12]), "{message}");
            }
        }
        // The same rules for the file, named by its path.
        let dir = tempfile::tempdir().unwrap();
        let settings = file_settings(dir.path());
        std::fs::create_dir_all(settings.key_file.parent().unwrap()).unwrap();
        std::fs::write(&settings.key_file, format!("{lookup}\nkey k1 {short}\n")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&settings.key_file, std::fs::Permissions::from_mode(0o600))
                .unwrap();
        }
        let message = Sealer::load(&settings, &SeededRandom::new(1))
            .unwrap_err()
            .to_string();
        assert!(message.contains("sealing.key, line 2"), "{message}");
        assert!(!message.contains(&short), "{message}");
    }

    #[test]
    fn sealing_keys_may_be_one_line_and_in_any_base64_padding() {
        let unpadded = b64([1; 32]).trim_end_matches('=').to_owned();
        let keys = format!(
            "  lookup {} ;key k1 {unpadded}; key k2 {}\r\n",
            b64([9; 32]),
            b64([2; 32])
        );
        let settings = SealingSettings {
            key_file: PathBuf::new(),
            keys,
        };
        let sealer = Sealer::load(&settings, &SeededRandom::new(1)).unwrap();
        assert_eq!(sealer.current_key_id(), "k2");
        let under_k1 = inline(&[("k1", 1)])
            .seal("text", "ctx", &SeededRandom::new(1))
            .unwrap();
        assert_eq!(sealer.open(&under_k1, "ctx").unwrap(), "text");
    }

    #[test]
    fn inline_sealing_keys_win_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = file_settings(dir.path());
        let from_file = Sealer::load(&settings, &SeededRandom::new(1)).unwrap();
        settings.keys = material(&[("k1", 1)]);
        let before = std::fs::read(&settings.key_file).unwrap();
        let sealer = Sealer::load(&settings, &SeededRandom::new(1)).unwrap();
        assert_eq!(sealer.source(), &KeySource::Inline);
        let sealed = sealer.seal("text", "ctx", &SeededRandom::new(1)).unwrap();
        assert_eq!(inline(&[("k1", 1)]).open(&sealed, "ctx").unwrap(), "text");
        assert!(from_file.open(&sealed, "ctx").is_err());
        assert_eq!(std::fs::read(&settings.key_file).unwrap(), before);

        // With inline keys a missing file is not created.
        let empty = tempfile::tempdir().unwrap();
        let mut settings = file_settings(empty.path());
        settings.keys = material(&[("k1", 1)]);
        Sealer::load(&settings, &SeededRandom::new(1)).unwrap();
        assert!(!settings.key_file.exists());
        assert!(!settings.key_file.parent().unwrap().exists());
    }

    #[test]
    fn a_sealer_debug_shows_key_ids_but_no_key() {
        let sealer = inline(&[("k1", 1), ("k2", 2)]);
        let debug = format!("{sealer:?}");
        assert!(debug.contains("k1") && debug.contains("k2"), "{debug}");
        for byte in [1u8, 2, 9] {
            let encoded = b64([byte; 32]);
            assert!(!debug.contains(&encoded[..8]), "{debug}");
        }
        assert!(!debug.contains("[1, 1, 1"), "{debug}");
    }

    #[test]
    fn sealing_lookup_hashes_are_keyed_and_separated_by_purpose() {
        let sealer = inline(&[("k1", 1)]);
        let hash = sealer.lookup_hash("access_code", "ABCD");
        assert_eq!(hash.len(), 64);
        assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(hash, sealer.lookup_hash("access_code", "ABCD"));
        assert_ne!(hash, sealer.lookup_hash("parent_code", "ABCD"));
        assert_ne!(hash, sealer.lookup_hash("access_code", "ABCE"));
        // The 0x00 separator keeps purpose and value apart.
        assert_ne!(sealer.lookup_hash("ab", "c"), sealer.lookup_hash("a", "bc"));
        // The look-up key does not rotate: another sealing key, same hash.
        assert_eq!(
            hash,
            inline(&[("k1", 1), ("k2", 2)]).lookup_hash("access_code", "ABCD")
        );
        // HMAC-SHA256 with the look-up key, as documented.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&[9; 32]).unwrap();
        mac.update(b"access_code\0ABCD");
        assert_eq!(hash, hex::encode(mac.finalize().into_bytes()));
    }
}
