//! Composition: turning a claimed outbox row into a message at send time.
//! Each kind of email has one arm in [`Keyward::compose`]; an arm may read the
//! database and mint the token its message carries (the row never holds it).
//! Links come only from `server.public_url` (see [`super::public_link`]).

use super::templates::{TestHtml, TestText};
use super::{MailFrame, OutboxRow, RenderedEmail, kind, public_link, render_pair, store};
use crate::error::Internal;
use crate::recovery::kind as recovery_kind;
use crate::types::{EmailAddress, UserId};
use crate::{Ctx, Keyward};

/// What to do with a row.
#[derive(Debug)]
pub enum Composed {
    /// Send this message.
    Send(RenderedEmail),
    /// Finish the row without sending, for this reason (kept in `last_error`
    /// as `skipped: <reason>`; no secret, no body).
    Skip(&'static str),
}

impl Keyward {
    /// Composes the message of one outbox row, by its kind.
    pub(crate) async fn compose(
        &self,
        ctx: &Ctx<'_>,
        row: &OutboxRow,
    ) -> Result<Composed, Internal> {
        match row.kind.as_str() {
            kind::MAIL_TEST => self.compose_mail_test(row).await,
            recovery_kind::RESET_LINK => self.compose_reset_link(ctx, row).await,
            recovery_kind::CONTACT_ADMIN => self.compose_contact_admin(row).await,
            recovery_kind::PASSWORD_CHANGED => self.compose_password_changed(ctx, row).await,
            recovery_kind::NOT_ME_ADMIN_ALERT => self.compose_not_me_alert(row).await,
            _ => Ok(Composed::Skip("unknown kind")),
        }
    }

    /// The frame of an email to `user_id`: their school's name, if any.
    pub(crate) async fn mail_frame(&self, user_id: Option<&UserId>) -> Result<MailFrame, Internal> {
        let school_name = match user_id {
            Some(user_id) => store::school_name_of(&self.db, user_id).await?,
            None => None,
        };
        Ok(MailFrame { school_name })
    }

    async fn compose_mail_test(&self, row: &OutboxRow) -> Result<Composed, Internal> {
        let Some(to) = row
            .payload
            .get("to")
            .and_then(|to| to.as_str())
            .and_then(|to| EmailAddress::parse(to).ok())
        else {
            return Ok(Composed::Skip("no valid recipient in the payload"));
        };
        let frame = self.mail_frame(row.user_id.as_ref()).await?;
        let public_url = public_link(&self.settings, "/");
        let email = render_pair(
            to.as_str(),
            "keyward can send email",
            &TestText {
                frame: &frame,
                public_url: &public_url,
            },
            &TestHtml {
                frame: &frame,
                public_url: &public_url,
            },
        )?;
        Ok(Composed::Send(email))
    }
}
