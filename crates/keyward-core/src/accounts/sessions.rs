//! A person's own sessions (R-ACC-4, SPEC §8): the list Account Settings
//! shows (browser and system, address, signed in, last seen, "this
//! device"), ending one of them, and ending all but the one in use. Each
//! session is named by a random public id (`SessionId`), never by the digest
//! of its cookie. The person's own session is the authority: only their
//! sessions are listed or ended, so no permission is asked for. Every
//! session ended leaves an audit row (`session.end`) saying how.

use super::user_agent::Device;
use super::{CurrentSession, store};
use crate::Ctx;
use crate::Keyward;
use crate::audit::{self, AuditEntry, action};
use crate::crypto::tokens::Token;
use crate::error::{Code, CodedError, Internal};
use crate::types::UnixTime;
use crate::types::random::{Random, RandomError};

/// The public id of a session: 128 random bits as 32 lowercase hex digits.
/// It names a session in the list and the API; it opens nothing by itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionId(String);

impl SessionId {
    pub(crate) fn generate(rng: &dyn Random) -> Result<Self, RandomError> {
        let mut bytes = [0u8; 16];
        rng.fill(&mut bytes)?;
        Ok(SessionId(hex::encode(bytes)))
    }

    /// Accepts 32 hex digits (either case), so junk from a URL never
    /// reaches SQL.
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| SessionId(text.to_ascii_lowercase()))
    }

    /// For values read back from the database.
    pub(crate) fn from_stored(text: String) -> Self {
        SessionId(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a session was ended, as the audit row's `detail` says.
pub mod ended_how {
    /// One session, ended from another session of the same person.
    pub const SIGNED_OUT_ELSEWHERE: &str = "signed_out_elsewhere";
    /// The session in use, ended through the list (the API allows it).
    pub const SIGNED_OUT_HERE: &str = "signed_out_here";
    /// One of the sessions ended by **Sign out other sessions**.
    pub const ALL_OTHERS: &str = "all_others";
}

/// One live session of the person, as the list shows it.
#[derive(Debug, Clone)]
pub struct SessionSummary {
    pub id: SessionId,
    pub signed_in_at: UnixTime,
    pub last_seen_at: UnixTime,
    /// The address the session was opened from.
    pub client_addr: Option<String>,
    /// The `User-Agent` the session was opened with (at most 200 characters).
    pub user_agent: Option<String>,
    /// What the `User-Agent` tells of the device.
    pub device: Device,
    /// The session of the caller ("this device").
    pub current: bool,
}

/// What ending one session did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionEnded {
    /// The session ended was the caller's own, so the caller is signed out.
    pub was_current: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum EndSessionError {
    /// No live session of the caller has that id: another person's, one
    /// already ended, or none at all. Nothing was changed.
    #[error("That session has already ended, or it is not one of yours.")]
    NotFound,
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CodedError for EndSessionError {
    fn code(&self) -> Code {
        match self {
            EndSessionError::NotFound => Code::SessionNotFound,
            EndSessionError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            EndSessionError::Internal(internal) => internal.retry_after_secs(),
            EndSessionError::NotFound => None,
        }
    }
}

impl From<sqlx::Error> for EndSessionError {
    fn from(err: sqlx::Error) -> Self {
        EndSessionError::Internal(err.into())
    }
}

impl Keyward {
    /// The live sessions of the signed-in person (neither expired nor idle
    /// past the idle timeout), the one in use first, then by last use.
    /// `session_token` is the caller's cookie, which marks "this device".
    pub async fn own_sessions(
        &self,
        ctx: &Ctx<'_>,
        session: &CurrentSession,
        session_token: &Token,
    ) -> Result<Vec<SessionSummary>, Internal> {
        let mut sessions = store::live_sessions(
            &self.db,
            &session.account.id,
            ctx.now,
            self.idle_before(ctx.now),
            &session_token.digest(),
        )
        .await?
        .into_iter()
        .map(|live| SessionSummary {
            device: Device::of(live.user_agent.as_deref()),
            id: live.id,
            signed_in_at: live.created_at,
            last_seen_at: live.last_seen_at,
            client_addr: live.client_addr,
            user_agent: live.user_agent,
            current: live.current,
        })
        .collect::<Vec<_>>();
        // Stable: the rest keep the store's order (last use first).
        sessions.sort_by_key(|s| !s.current);
        Ok(sessions)
    }

    /// Ends one live session of the signed-in person, named by its public
    /// id. Another person's session, or an unknown or ended one, is
    /// `NotFound` and changes nothing. The session is claimed by its DELETE,
    /// so of parallel requests ending one session exactly one succeeds and
    /// writes the audit row.
    pub async fn end_own_session(
        &self,
        ctx: &Ctx<'_>,
        session: &CurrentSession,
        session_token: &Token,
        id: &SessionId,
    ) -> Result<SessionEnded, EndSessionError> {
        let mut tx = self.db.begin_write().await?;
        let Some(was_current) = store::delete_live_session(
            &mut tx,
            &session.account.id,
            id,
            ctx.now,
            self.idle_before(ctx.now),
            &session_token.digest(),
        )
        .await?
        else {
            return Err(EndSessionError::NotFound);
        };
        let how = if was_current {
            ended_how::SIGNED_OUT_HERE
        } else {
            ended_how::SIGNED_OUT_ELSEWHERE
        };
        audit::insert(&mut *tx, &session_ended(ctx, session, how)).await?;
        tx.commit().await?;
        Ok(SessionEnded { was_current })
    }

    /// **Sign out other sessions**: ends every live session of the
    /// signed-in person but the one in use, one audit row each; returns how
    /// many ended.
    pub async fn end_other_sessions(
        &self,
        ctx: &Ctx<'_>,
        session: &CurrentSession,
        session_token: &Token,
    ) -> Result<usize, Internal> {
        let mut tx = self.db.begin_write().await?;
        let ended = store::delete_other_live_sessions(
            &mut tx,
            &session.account.id,
            ctx.now,
            self.idle_before(ctx.now),
            &session_token.digest(),
        )
        .await?;
        for _ in 0..ended {
            audit::insert(
                &mut *tx,
                &session_ended(ctx, session, ended_how::ALL_OTHERS),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(usize::try_from(ended).unwrap_or(usize::MAX))
    }

    /// Sessions last used at or before this moment have passed their idle
    /// timeout.
    fn idle_before(&self, now: UnixTime) -> UnixTime {
        now.minus(self.settings.session.idle_timeout)
    }
}

/// The audit row of one session ended by its owner.
fn session_ended<'a>(
    ctx: &'a Ctx<'_>,
    session: &'a CurrentSession,
    how: &'a str,
) -> AuditEntry<'a> {
    let account = &session.account;
    AuditEntry {
        at: ctx.now,
        actor_id: Some(account.id.as_str()),
        api_token: None,
        target_id: Some(account.id.as_str()),
        school_id: account.school_id.as_ref().map(|s| s.as_str()),
        action: action::SESSION_END,
        outcome: "success",
        client_addr: ctx.client_addr.as_deref(),
        detail: Some(how),
    }
}

#[cfg(test)]
mod tests;
