//! The sealing key material and the file that holds it. One item per line,
//! `#` comments allowed: `lookup <base64 of 32 bytes>` (exactly one: the HMAC
//! key of look-up hashes, which never changes because stored hashes depend on
//! it) and `key <id> <base64 of 32 bytes>` lines (the last one seals new
//! secrets). Items may also be separated by `;`, so the material fits in one
//! environment variable.
//!
//! The file is created with mode 0600, replaced only through a temporary file
//! and a rename, and refused when other users may read it. Errors name the
//! line, never what is on it: a key must not reach a log. This module does
//! no cryptography beyond decoding and generating key bytes.

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use zeroize::Zeroizing;

use super::sealing::SealingError;
use crate::types::UnixTime;
use crate::types::random::Random;

/// Bytes of every key: AES-256 keys and the HMAC-SHA256 look-up key.
pub(crate) const KEY_BYTES: usize = 32;
/// Longest key id; ids are short names such as `k1`.
pub const MAX_KEY_ID_CHARS: usize = 32;
/// A key file is a few lines; anything larger is not one.
const MAX_MATERIAL_BYTES: u64 = 64 * 1024;
/// The id of the first key of a new key file.
const FIRST_KEY_ID: &str = "k1";

/// Standard base64, as `openssl rand -base64 32` prints it; padding optional.
const KEY_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

const NEW_FILE_HEADER: &str = "\
# keyward sealing keys. Keep this file secret (mode 0600) and back it up with
# the database: without it, sealed passwords and codes cannot be shown again.
# `lookup` keys the look-up hashes of codes and must never change. The last
# `key` line seals new secrets; older keys stay so older values still open.
# `keyward keys rotate` adds a key and re-seals every secret under it.
";

pub(crate) type KeyBytes = Zeroizing<[u8; KEY_BYTES]>;

/// Where the key material came from, for messages and for rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `sealing.key_file`.
    File(PathBuf),
    /// `sealing.keys` (for example `KEYWARD_SEALING__KEYS` from a secret store).
    Inline,
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::File(path) => write!(f, "the sealing key file {}", path.display()),
            KeySource::Inline => f.write_str("sealing.keys"),
        }
    }
}

/// Parsed key material.
pub(crate) struct Material {
    pub(crate) lookup: KeyBytes,
    /// In the order given; the last is the current key.
    pub(crate) keys: Vec<(String, KeyBytes)>,
}

/// Which version of the key file a reader saw, to notice a replaced file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileStamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

/// Whether `id` can name a key: 1 to 32 ASCII letters, digits, `-` or `_`
/// (no `.`, which separates the parts of a sealed value).
pub fn is_valid_key_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_KEY_ID_CHARS
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Parses key material. Errors name the line and the problem, never the text.
pub(crate) fn parse(text: &str, source: &KeySource) -> Result<Material, SealingError> {
    let mut lookup: Option<KeyBytes> = None;
    let mut keys: Vec<(String, KeyBytes)> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |problem: &'static str| SealingError::Malformed {
            origin: source.to_string(),
            line: index + 1,
            problem,
        };
        for item in line.split(';').map(str::trim).filter(|i| !i.is_empty()) {
            let fields: Vec<&str> = item.split_whitespace().collect();
            match fields.as_slice() {
                ["lookup", key] => {
                    if lookup.is_some() {
                        return Err(bad("a second `lookup` line; there must be exactly one"));
                    }
                    lookup = Some(decode_key(key).map_err(bad)?);
                }
                ["lookup", ..] => return Err(bad("expected `lookup <base64 of 32 bytes>`")),
                ["key", id, key] => {
                    if !is_valid_key_id(id) {
                        return Err(bad(
                            "a key id is 1 to 32 letters, digits, `-` or `_` (such as k1)",
                        ));
                    }
                    if keys.iter().any(|(known, _)| known == id) {
                        return Err(bad("this key id is already used on an earlier line"));
                    }
                    keys.push(((*id).to_owned(), decode_key(key).map_err(bad)?));
                }
                ["key", ..] => return Err(bad("expected `key <id> <base64 of 32 bytes>`")),
                _ => {
                    return Err(bad(
                        "expected `lookup <base64>`, `key <id> <base64>` or a `#` comment",
                    ));
                }
            }
        }
    }
    let Some(lookup) = lookup else {
        return Err(SealingError::Incomplete {
            origin: source.to_string(),
            problem: "no `lookup <base64 of 32 bytes>` line (exactly one is needed)",
        });
    };
    if keys.is_empty() {
        return Err(SealingError::Incomplete {
            origin: source.to_string(),
            problem: "no `key <id> <base64 of 32 bytes>` line (at least one is needed)",
        });
    }
    Ok(Material { lookup, keys })
}

fn decode_key(text: &str) -> Result<KeyBytes, &'static str> {
    let bytes = Zeroizing::new(
        KEY_BASE64
            .decode(text)
            .map_err(|_| "the key is not base64 (make one with `openssl rand -base64 32`)")?,
    );
    let mut key = Zeroizing::new([0u8; KEY_BYTES]);
    if bytes.len() != KEY_BYTES {
        return Err("the key is not 32 bytes (make one with `openssl rand -base64 32`)");
    }
    key.copy_from_slice(&bytes);
    Ok(key)
}

fn random_key(rng: &dyn Random) -> Result<Zeroizing<String>, SealingError> {
    let mut key = Zeroizing::new([0u8; KEY_BYTES]);
    rng.fill(&mut *key)?;
    Ok(Zeroizing::new(KEY_BASE64.encode(*key)))
}

/// Reads the key file: `None` when it does not exist. Refuses a file that
/// other users may read or write.
pub(crate) fn read(path: &Path) -> Result<Option<(Zeroizing<String>, FileStamp)>, SealingError> {
    let read_error = |cause: String| SealingError::Read {
        path: path.to_path_buf(),
        cause,
    };
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(read_error(err.to_string())),
    };
    let meta = file.metadata().map_err(|e| read_error(e.to_string()))?;
    if !meta.is_file() {
        return Err(read_error("not a regular file".into()));
    }
    check_private(path, &meta)?;
    if meta.len() > MAX_MATERIAL_BYTES {
        return Err(read_error("larger than 64 KiB, so not a key file".into()));
    }
    let capacity = usize::try_from(meta.len()).unwrap_or(0).saturating_add(1);
    let mut bytes = Zeroizing::new(Vec::with_capacity(capacity));
    file.take(MAX_MATERIAL_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|e| read_error(e.to_string()))?;
    if std::str::from_utf8(&bytes).is_err() {
        return Err(read_error("not UTF-8 text".into()));
    }
    let text = Zeroizing::new(String::from_utf8(std::mem::take(&mut *bytes)).unwrap_or_default());
    Ok(Some((text, stamp(&meta))))
}

/// The stamp of the file now, `None` if it cannot be read.
pub(crate) fn current_stamp(path: &Path) -> Option<FileStamp> {
    std::fs::metadata(path).ok().map(|meta| stamp(&meta))
}

fn stamp(meta: &std::fs::Metadata) -> FileStamp {
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(meta);
    #[cfg(not(unix))]
    let inode = 0;
    FileStamp {
        len: meta.len(),
        modified: meta.modified().ok(),
        inode,
    }
}

#[cfg(unix)]
fn check_private(path: &Path, meta: &std::fs::Metadata) -> Result<(), SealingError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(SealingError::NotPrivate {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _meta: &std::fs::Metadata) -> Result<(), SealingError> {
    Ok(())
}

/// Creates a key file with a fresh look-up key and key `k1` (and its folder).
/// When another process created the file first, that one is kept.
pub(crate) fn create(path: &Path, rng: &dyn Random) -> Result<(), SealingError> {
    let write_error = |cause: String| SealingError::Write {
        path: path.to_path_buf(),
        cause,
    };
    let dir = parent_dir(path);
    std::fs::create_dir_all(&dir).map_err(|e| write_error(e.to_string()))?;
    let lookup = random_key(rng)?;
    let first = random_key(rng)?;
    let mut text = Zeroizing::new(String::with_capacity(NEW_FILE_HEADER.len() + 160));
    text.push_str(NEW_FILE_HEADER);
    text.push_str("lookup ");
    text.push_str(&lookup);
    text.push_str("\nkey ");
    text.push_str(FIRST_KEY_ID);
    text.push(' ');
    text.push_str(&first);
    text.push('\n');
    let tmp = write_temporary(path, &text, rng)?;
    // A link, unlike a rename, never replaces a key file that another process
    // created meanwhile (whose keys may already seal something).
    let linked = match std::fs::hard_link(&tmp, path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == ErrorKind::AlreadyExists => Ok(()),
        // A file system without hard links: rename, which is still atomic.
        Err(_) if !path.exists() => std::fs::rename(&tmp, path),
        Err(err) => Err(err),
    };
    let _ = std::fs::remove_file(&tmp);
    linked.map_err(|e| write_error(e.to_string()))?;
    sync_dir(&dir);
    Ok(())
}

/// Appends a new key to the key file (through a temporary file and a rename,
/// mode 0600) and returns its id: `k<n+1>` after the highest `k<n>`.
pub(crate) fn append_key(
    path: &Path,
    rng: &dyn Random,
    now: UnixTime,
) -> Result<String, SealingError> {
    let source = KeySource::File(path.to_path_buf());
    let Some((text, _)) = read(path)? else {
        return Err(SealingError::Read {
            path: path.to_path_buf(),
            cause: "the file does not exist".into(),
        });
    };
    let material = parse(&text, &source)?;
    let id = next_key_id(&material.keys);
    let key = random_key(rng)?;
    let when = u64::try_from(now.secs())
        .map(|secs| {
            humantime::format_rfc3339_seconds(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
                .to_string()
        })
        .unwrap_or_default();
    let mut updated = Zeroizing::new(String::with_capacity(text.len() + 200));
    updated.push_str(&text);
    if !updated.is_empty() && !updated.ends_with('\n') {
        updated.push('\n');
    }
    updated.push_str("# added by `keyward keys rotate` at ");
    updated.push_str(&when);
    updated.push_str("\nkey ");
    updated.push_str(&id);
    updated.push(' ');
    updated.push_str(&key);
    updated.push('\n');
    // Check what is about to be written, so a bug here cannot lose the keys.
    parse(&updated, &source)?;
    let tmp = write_temporary(path, &updated, rng)?;
    // An operator running the command as root must not leave the server a
    // file it can no longer read: the new file gets the old one's owner.
    let renamed = keep_owner(path, &tmp).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(err) = renamed {
        let _ = std::fs::remove_file(&tmp);
        return Err(SealingError::Write {
            path: path.to_path_buf(),
            cause: err.to_string(),
        });
    }
    sync_dir(&parent_dir(path));
    Ok(id)
}

#[cfg(unix)]
fn keep_owner(original: &Path, new: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let (was, is) = (std::fs::metadata(original)?, std::fs::metadata(new)?);
    if (was.uid(), was.gid()) == (is.uid(), is.gid()) {
        return Ok(());
    }
    std::os::unix::fs::chown(new, Some(was.uid()), Some(was.gid()))
}

#[cfg(not(unix))]
fn keep_owner(_original: &Path, _new: &Path) -> std::io::Result<()> {
    Ok(())
}

fn next_key_id(keys: &[(String, KeyBytes)]) -> String {
    let highest = keys
        .iter()
        .filter_map(|(id, _)| id.strip_prefix('k')?.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    let mut n = highest.saturating_add(1);
    loop {
        let id = format!("k{n}");
        if !keys.iter().any(|(known, _)| *known == id) {
            return id;
        }
        n = n.saturating_add(1);
    }
}

/// Holds `<key file>.lock` while a rotation runs, so two rotations never
/// add two keys at once (the loser's re-sealed values would be lost).
/// The lock ends when the returned file is dropped.
pub(crate) fn lock(path: &Path) -> Result<File, SealingError> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    let lock_path = path.with_file_name(name);
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(&lock_path).map_err(|e| SealingError::Write {
        path: lock_path.clone(),
        cause: e.to_string(),
    })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(SealingError::Busy { path: lock_path }),
        Err(std::fs::TryLockError::Error(err)) => Err(SealingError::Write {
            path: lock_path,
            cause: err.to_string(),
        }),
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes `text` to a new temporary file beside `path`, mode 0600 from the
/// start, flushed to disk.
fn write_temporary(path: &Path, text: &str, rng: &dyn Random) -> Result<PathBuf, SealingError> {
    let mut suffix = [0u8; 8];
    rng.fill(&mut suffix)?;
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(format!(".{}.tmp", hex::encode(suffix)));
    let tmp = path.with_file_name(name);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&tmp).and_then(|mut file| {
        file.write_all(text.as_bytes())?;
        file.sync_all()
    });
    if let Err(err) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(SealingError::Write {
            path: tmp,
            cause: err.to_string(),
        });
    }
    Ok(tmp)
}

/// Makes a rename or link durable; best effort (not every platform can open
/// a folder).
fn sync_dir(dir: &Path) {
    if let Ok(handle) = File::open(dir) {
        let _ = handle.sync_all();
    }
}
