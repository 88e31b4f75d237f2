//! The development inbox behind `/dev/mail` (R-MAIL-2): the `.eml` files the
//! file transport wrote under `<data_dir>/mail/`, newest first, and one
//! message's plain-text part. Answers only when `mail.dev_inbox` is on; the
//! web page only renders what this returns. Parsing is mail-parser's.

use std::time::UNIX_EPOCH;

use mail_parser::MessageParser;

use crate::Keyward;
use crate::error::{Code, CodedError, Internal};
use crate::mail::MAIL_DIR_NAME;
use crate::types::UnixTime;

/// The most messages listed.
pub const MAX_LISTED: usize = 200;

/// Largest file read (a composed email is a few kilobytes).
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// One captured message in the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxEntry {
    /// The file's name without `.eml`; names the message in `/dev/mail/{id}`.
    pub id: String,
    pub to: String,
    pub subject: String,
    /// The `Date` header.
    pub date: Option<UnixTime>,
}

/// One captured message, opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxMessage {
    pub id: String,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub date: Option<UnixTime>,
    /// The plain-text part.
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DevInboxError {
    /// `mail.dev_inbox` is off: the inbox does not exist.
    #[error("There is nothing at this address.")]
    Disabled,
    #[error("There is no such message.")]
    NotFound,
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CodedError for DevInboxError {
    fn code(&self) -> Code {
        match self {
            DevInboxError::Disabled => Code::NotFound,
            DevInboxError::NotFound => Code::MessageNotFound,
            DevInboxError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            DevInboxError::Internal(internal) => internal.retry_after_secs(),
            _ => None,
        }
    }
}

/// `2026-09-07T08:00:00Z`, for showing a date.
pub fn format_utc(time: UnixTime) -> String {
    mail_parser::DateTime::from_timestamp(time.secs()).to_rfc3339()
}

fn mail_dir(kw: &Keyward) -> Result<std::path::PathBuf, DevInboxError> {
    if !kw.settings().mail.dev_inbox {
        return Err(DevInboxError::Disabled);
    }
    Ok(kw.settings().server.data_dir.join(MAIL_DIR_NAME))
}

/// Message ids are file stems the file transport wrote: digits, hex and `-`.
/// Anything else (a `/`, `..`) names no message and never reaches the disk.
fn valid_id(id: &str) -> bool {
    (1..=100).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || b == b'-')
}

/// The captured messages, newest first (at most [`MAX_LISTED`]).
pub async fn list(kw: &Keyward) -> Result<Vec<InboxEntry>, DevInboxError> {
    let dir = mail_dir(kw)?;
    let mut files = Vec::new();
    let mut entries = match tokio::fs::read_dir(&dir).await {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(Internal::new(err).into()),
    };
    while let Some(entry) = entries.next_entry().await.map_err(Internal::new)? {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(id) = name.strip_suffix(".eml").filter(|id| valid_id(id)) else {
            continue;
        };
        let modified = entry
            .metadata()
            .await
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .unwrap_or_default();
        files.push((modified, id.to_owned()));
    }
    files.sort_by(|a, b| b.cmp(a));
    files.truncate(MAX_LISTED);
    let mut listed = Vec::with_capacity(files.len());
    for (_, id) in files {
        if let Some(message) = open(&dir, &id).await? {
            listed.push(InboxEntry {
                id: message.id,
                to: message.to,
                subject: message.subject,
                date: message.date,
            });
        }
    }
    Ok(listed)
}

/// One captured message by id.
pub async fn read(kw: &Keyward, id: &str) -> Result<InboxMessage, DevInboxError> {
    let dir = mail_dir(kw)?;
    if !valid_id(id) {
        return Err(DevInboxError::NotFound);
    }
    open(&dir, id).await?.ok_or(DevInboxError::NotFound)
}

/// Reads and parses one file; `None` when it is missing, too large or not a message.
async fn open(dir: &std::path::Path, id: &str) -> Result<Option<InboxMessage>, Internal> {
    let path = dir.join(format!("{id}.eml"));
    match tokio::fs::metadata(&path).await {
        Ok(meta) if meta.is_file() && meta.len() <= MAX_FILE_BYTES => {}
        Ok(_) => return Ok(None),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(Internal::new(err)),
    }
    let bytes = match tokio::fs::read(&path).await {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(Internal::new(err)),
    };
    Ok(parse(id, &bytes))
}

fn parse(id: &str, bytes: &[u8]) -> Option<InboxMessage> {
    let message = MessageParser::default().parse(bytes)?;
    let first_address = |address: Option<&mail_parser::Address<'_>>| {
        address
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_owned()
    };
    Some(InboxMessage {
        id: id.to_owned(),
        from: first_address(message.from()),
        to: first_address(message.to()),
        subject: message.subject().unwrap_or_default().to_owned(),
        date: message.date().map(|d| UnixTime(d.to_timestamp())),
        text: message
            .body_text(0)
            .map(|text| text.into_owned())
            .unwrap_or_default(),
    })
}
