//! Composition: turning a claimed outbox row into a message at send time.
//! Each kind of email has one arm in [`Keyward::compose`], which calls the
//! composer of the capability that owns the kind; a composer may read the
//! database and mint the token its message carries (the row never holds it).
//! Links come only from `server.public_url` (see `mail::public_link`).

use crate::error::Internal;
use crate::i18n::Message;
use crate::mail::{Composed, OutboxRow, TestHtml, TestText, frame, kind, public_link, render_pair};
use crate::types::EmailAddress;
use crate::{Ctx, Keyward};

impl Keyward {
    /// Composes the message of one outbox row, by its kind.
    pub(crate) async fn compose(
        &self,
        ctx: &Ctx<'_>,
        row: &OutboxRow,
    ) -> Result<Composed, Internal> {
        match row.kind.as_str() {
            kind::MAIL_TEST => self.compose_mail_test(row).await,
            kind::RESET_LINK => self.compose_reset_link(ctx, row).await,
            kind::CONTACT_ADMIN => self.compose_contact_admin(row).await,
            kind::SSO_SIGN_IN => self.compose_sso_sign_in(row).await,
            kind::PASSWORD_CHANGED => self.compose_password_changed(ctx, row).await,
            kind::EMAIL_CHANGED => self.compose_email_changed(ctx, row).await,
            kind::NOT_ME_ADMIN_ALERT => self.compose_not_me_alert(row).await,
            kind::MFA_RESET => self.compose_mfa_reset(row).await,
            _ => Ok(Composed::Skip("unknown kind")),
        }
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
        let frame = frame(&self.db, row.user_id.as_ref()).await?;
        let public_url = public_link(&self.settings, "/");
        let email = render_pair(
            to.as_str(),
            &frame,
            Message::new("mail-test-subject"),
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
