//! Email (R-MAIL-1, R-MAIL-2): the outbox, the kinds of email, templates and
//! transports. A use case that causes an email calls [`enqueue`] inside its
//! own transaction; the row holds no body and no secret, only the kind of
//! message, the recipient and a JSON payload of non-secret ids. The outbox
//! worker (`dispatch`, above every capability) claims due rows with a short
//! lease ([`LEASE`]) that it renews while it is sending them, composes each
//! message at send time by its kind (which may mint a token then), and hands
//! it to the configured transport (SMTP, `.eml` files, or the log). Failures
//! are retried with exponential back-off; after `mail.max_attempts` the row
//! is given up.
//!
//! Delivery is at least once until the row is recorded as sent, and never
//! again after. The duplicate rule: a message goes out twice only when an
//! instance dies (or loses its database) after the SMTP server accepted it
//! and before it recorded it as sent — at most one message for each message
//! in flight, so at most `mail.max_parallel` per instance that dies; the copy
//! carries the same `Message-ID`, so mail clients can tell. A sent row is
//! never claimed again. The mail an instance that died had claimed goes out
//! from another instance once the lease has run out: within [`LEASE`] plus
//! `mail.poll_interval`.
//!
//! How a row ends: `sent_at` set (sent), or `failed_at` set (finished without
//! sending) with `last_error` saying why — a plain error text when it was
//! given up after its last attempt, `skipped: <reason>` when composition
//! decided not to send (for example the account is gone).
//!
//! This module must not log a message body or store one: bodies carry links
//! and codes.

mod smtp;
pub(crate) mod store;
mod templates;
mod transport;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64};
use std::time::Duration;

use sqlx::{Any, Executor};
use tokio::sync::Notify;

use crate::Ctx;
use crate::error::Internal;
use crate::i18n::Locale;
use crate::settings::Settings;
use crate::store::Db;
use crate::types::{UnixTime, UserId};

pub use store::{OutboxState, outbox_states};
pub(crate) use templates::{MailFrame, TestHtml, TestText, render_pair};
pub use transport::MAIL_DIR_NAME;
pub(crate) use transport::{SendError, Transport};

/// How long a claimed row stays reserved for its worker unless the worker
/// renews it. The worker renews the rows still in hand every third of it
/// while its batch is sending, so a batch may take as long as its messages
/// need, however slow the SMTP server; mail claimed by an instance that died
/// waits at most this long for another instance's worker.
pub const LEASE: Duration = Duration::from_secs(30);

/// Rows a worker claims at once for each message it sends in parallel: a
/// batch is `mail.max_parallel` × this many rows.
pub const CLAIM_PER_SLOT: usize = 4;

/// Rows a worker claims at once.
pub fn claim_size(max_parallel: usize) -> usize {
    max_parallel.max(1).saturating_mul(CLAIM_PER_SLOT)
}

/// The longest wait between two attempts, however many failed.
pub const MAX_RETRY_DELAY_SECS: u64 = 3600;

/// Stable names of the kinds of email; `dispatch` composes each by its name.
pub mod kind {
    /// "keyward can send email": a test message to the address in the payload.
    pub const MAIL_TEST: &str = "mail.test";
    pub const RESET_LINK: &str = "recovery.reset_link";
    pub const CONTACT_ADMIN: &str = "recovery.contact_admin";
    /// **Forgot password?** for someone who signs in only with their
    /// school's provider: where to sign in instead (issue 14).
    pub const SSO_SIGN_IN: &str = "recovery.sso_sign_in";
    pub const PASSWORD_CHANGED: &str = "account.password_changed";
    /// To the address an account had: it was replaced (the new one masked).
    pub const EMAIL_CHANGED: &str = "account.email_changed";
    pub const NOT_ME_ADMIN_ALERT: &str = "account.not_me_admin_alert";
    /// An administrator removed the account's two-step verification (R-ADM-4).
    pub const MFA_RESET: &str = "admin.mfa_reset";
}

/// What to do with a claimed row, as its composer decided.
#[derive(Debug)]
pub enum Composed {
    /// Send this message.
    Send(RenderedEmail),
    /// Finish the row without sending, for this reason (kept in `last_error`
    /// as `skipped: <reason>`; no secret, no body).
    Skip(&'static str),
}

/// The frame of an email to `user_id`: their school's name, if any, and
/// the language they chose (English when none, or no account).
pub(crate) async fn frame(db: &Db, user_id: Option<&UserId>) -> Result<MailFrame, Internal> {
    let (school_name, locale) = match user_id {
        Some(user_id) => store::recipient_of(db, user_id).await?,
        None => (None, None),
    };
    let locale = locale
        .as_deref()
        .and_then(Locale::parse)
        .unwrap_or_default();
    Ok(MailFrame {
        school_name,
        locale,
    })
}

/// An email to write to the outbox. The payload carries only non-secret ids
/// and facts; anything secret is minted when the message is composed.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    pub kind: &'static str,
    pub user_id: Option<&'a UserId>,
    pub to_address: &'a str,
    pub payload: serde_json::Value,
}

/// An outbox row as the worker claimed it.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: String,
    pub kind: String,
    pub user_id: Option<UserId>,
    pub to_address: String,
    pub payload: serde_json::Value,
    pub created_at: UnixTime,
    /// Attempts so far, this one included.
    pub attempts: u32,
}

impl OutboxRow {
    /// The worker's claim on this row: its id and the attempt it counted.
    pub(crate) fn claim(&self) -> store::Claim {
        store::Claim {
            id: self.id.clone(),
            attempts: i64::from(self.attempts),
        }
    }
}

/// A composed message, ready for a transport. It lives only in memory.
#[derive(Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl std::fmt::Debug for RenderedEmail {
    // The bodies carry links and codes: never print them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenderedEmail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Live numbers for `/metrics`.
#[derive(Debug, Default)]
pub struct MailStats {
    /// Messages waiting in the outbox (every instance's), as last counted by
    /// this instance's worker.
    pub queued: AtomicI64,
    /// Messages this instance handed to the transport.
    pub sent: AtomicU64,
    /// Messages this instance gave up after their last attempt.
    pub failed: AtomicU64,
    /// Failed attempts this instance scheduled to be tried again.
    pub retries: AtomicU64,
    /// Rows this instance finished without sending, on purpose.
    pub skipped: AtomicU64,
}

/// The mail services held by `Keyward`.
pub(crate) struct MailService {
    pub(crate) transport: Transport,
    pub(crate) wake: Notify,
    pub(crate) stats: Arc<MailStats>,
    /// How long a claimed row stays reserved for its worker unless renewed:
    /// [`LEASE`] (tests shorten it).
    pub(crate) lease: Duration,
}

impl MailService {
    pub(crate) fn new(settings: &Settings) -> Result<MailService, Internal> {
        let transport = Transport::from_settings(settings)?;
        Ok(MailService {
            lease: LEASE,
            transport,
            wake: Notify::new(),
            stats: Arc::new(MailStats::default()),
        })
    }
}

/// Writes an email to the outbox, inside the caller's transaction: it is sent
/// only if that transaction commits. Call `Keyward::wake_mail_worker` after
/// the commit so it goes out at once.
pub(crate) async fn enqueue<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    ctx: &Ctx<'_>,
    message: &Outgoing<'_>,
) -> Result<(), Internal> {
    let mut bytes = [0u8; 16];
    ctx.rng.fill(&mut bytes)?;
    let id = uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string();
    let payload = serde_json::to_string(&message.payload).map_err(Internal::new)?;
    store::insert(
        exec,
        &store::NewOutboxRow {
            id: &id,
            kind: message.kind,
            user_id: message.user_id.map(|u| u.as_str()),
            to_address: message.to_address,
            payload: &payload,
            created_at: ctx.now,
        },
    )
    .await
}

/// An absolute link to a page of this keyward, built only from
/// `server.public_url` (never from a request's Host header). Works whether the
/// public URL ends with `/` or not, and keeps a path prefix
/// (`https://school.example/keyward` + `/recover?x=1` →
/// `https://school.example/keyward/recover?x=1`).
pub(crate) fn public_link(settings: &Settings, path_and_query: &str) -> String {
    let base = settings.server.public_url.as_str().trim_end_matches('/');
    let rest = path_and_query.trim_start_matches('/');
    format!("{base}/{rest}")
}
