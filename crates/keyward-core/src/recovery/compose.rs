//! The emails of recovery, composed at send time: the reset link and code
//! are minted here and only their hashes stored; so is the "this wasn't me"
//! token of the "password changed" and "email address changed" notices.
//! Someone who signs in only with their school's provider gets, instead of a
//! link and a code, an email that sends them to the provider's sign-in
//! (`{public_url}/sso/{provider_id}/start`); so does one who became SSO-only
//! between their request and its email.

use askama::Template;

use super::{CODE_DIGITS, NOT_ME_TTL_SECS, code_digest, store};
use crate::accounts::recovery_requests as requests;
use crate::accounts::{self, Account, AccountStatus, SsoSignIn};
use crate::crypto::tokens::Token;
use crate::error::Internal;
use crate::i18n::{self, Message, Translate as _};
use crate::mail::{Composed, MailFrame, OutboxRow, public_link, render_pair};
use crate::types::random::random_below;
use crate::types::{UnixTime, UserId};
use crate::{Ctx, Keyward};

#[derive(Template)]
#[template(path = "mail/reset_link.txt")]
struct ResetLinkText<'a> {
    frame: &'a MailFrame,
    name: &'a str,
    username: &'a str,
    link: &'a str,
    code: &'a str,
    link_ttl: &'a str,
    code_ttl: &'a str,
    /// The administrator who asked (R-ADM-2); then the code is left out,
    /// since no browser of the person holds the request it belongs to.
    by_admin: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "mail/reset_link.html")]
struct ResetLinkHtml<'a> {
    frame: &'a MailFrame,
    name: &'a str,
    username: &'a str,
    link: &'a str,
    code: &'a str,
    link_ttl: &'a str,
    code_ttl: &'a str,
    /// The administrator who asked (R-ADM-2); then the code is left out,
    /// since no browser of the person holds the request it belongs to.
    by_admin: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "mail/contact_admin.txt")]
struct ContactAdminText<'a> {
    frame: &'a MailFrame,
    name: &'a str,
    username: &'a str,
}

#[derive(Template)]
#[template(path = "mail/contact_admin.html")]
struct ContactAdminHtml<'a> {
    frame: &'a MailFrame,
    name: &'a str,
    username: &'a str,
}

#[derive(Template)]
#[template(path = "mail/sso_sign_in.txt")]
struct SsoSignInText<'a> {
    frame: &'a MailFrame,
    name: &'a str,
    username: &'a str,
    provider: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/sso_sign_in.html")]
struct SsoSignInHtml<'a> {
    frame: &'a MailFrame,
    name: &'a str,
    username: &'a str,
    provider: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/password_changed.txt")]
struct PasswordChangedText<'a> {
    frame: &'a MailFrame,
    name: &'a str,
    username: &'a str,
    when: &'a str,
    not_me_link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/password_changed.html")]
struct PasswordChangedHtml<'a> {
    frame: &'a MailFrame,
    name: &'a str,
    username: &'a str,
    when: &'a str,
    not_me_link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/email_changed.txt")]
struct EmailChangedText<'a> {
    frame: &'a MailFrame,
    name: &'a str,
    username: &'a str,
    when: &'a str,
    new_address: &'a str,
    not_me_link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/email_changed.html")]
struct EmailChangedHtml<'a> {
    frame: &'a MailFrame,
    name: &'a str,
    username: &'a str,
    when: &'a str,
    new_address: &'a str,
    not_me_link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/not_me_alert.txt")]
struct NotMeAlertText<'a> {
    frame: &'a MailFrame,
    name: &'a str,
    username: &'a str,
    when: &'a str,
}

#[derive(Template)]
#[template(path = "mail/not_me_alert.html")]
struct NotMeAlertHtml<'a> {
    frame: &'a MailFrame,
    name: &'a str,
    username: &'a str,
    when: &'a str,
}

/// When a notice's change happened: its payload's `changed_at`, else when it was queued.
fn changed_at(row: &OutboxRow) -> UnixTime {
    UnixTime(
        row.payload
            .get("changed_at")
            .and_then(|v| v.as_i64())
            .unwrap_or(row.created_at.secs()),
    )
}

/// "2026-09-07 08:00 UTC".
pub(crate) fn when(time: UnixTime) -> String {
    let secs = u64::try_from(time.secs()).unwrap_or(0);
    let system = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    let text = humantime::format_rfc3339_seconds(system).to_string();
    format!(
        "{} UTC",
        text.replace('T', " ")
            .trim_end_matches('Z')
            .get(..16)
            .unwrap_or(&text)
    )
}

/// An 8-digit code, every digit uniform.
fn mint_code(ctx: &Ctx<'_>) -> Result<String, Internal> {
    let mut code = String::with_capacity(CODE_DIGITS);
    for _ in 0..CODE_DIGITS {
        let digit = random_below(ctx.rng, 10)?;
        code.push(char::from(b'0' + u8::try_from(digit).unwrap_or(0)));
    }
    Ok(code)
}

impl Keyward {
    async fn active_recipient(&self, row: &OutboxRow) -> Result<Option<Account>, Internal> {
        let Some(user_id) = &row.user_id else {
            return Ok(None);
        };
        Ok(accounts::find_account(&self.db, user_id)
            .await?
            .filter(|a| a.status == AccountStatus::Active))
    }

    /// The reset link and code: minted now; the request must still be open.
    pub(crate) async fn compose_reset_link(
        &self,
        ctx: &Ctx<'_>,
        row: &OutboxRow,
    ) -> Result<Composed, Internal> {
        let Some(request_id) = row.payload.get("request_id").and_then(|v| v.as_str()) else {
            return Ok(Composed::Skip("no request in the payload"));
        };
        let Some(account) = self.active_recipient(row).await? else {
            return Ok(Composed::Skip("account no longer active"));
        };
        if let Some(sso) = accounts::sso_only_of(self.db.pool(), &account.id).await? {
            // SSO-only since the request: no link to mint, and the request
            // ends so that no code is waited for.
            let mut tx = self.db.begin_write().await?;
            requests::end_open_requests(&mut tx, &account.id, requests::ended::SSO_ONLY, ctx.now)
                .await?;
            tx.commit().await?;
            return self.sso_sign_in_email(row, &account, &sso).await;
        }
        let token = Token::generate(ctx.rng)?;
        let code = mint_code(ctx)?;
        let settings = &self.settings.recovery;
        let mut tx = self.db.begin_write().await?;
        let open = requests::find_open_request(&mut tx, request_id).await?;
        if open.is_none_or(|r| r.user_id.as_ref() != Some(&account.id)) {
            return Ok(Composed::Skip("request no longer open"));
        }
        let stored = requests::store_minted(
            &mut tx,
            request_id,
            &token.digest(),
            ctx.now.plus(settings.link_ttl),
            &code_digest(request_id, &code),
            ctx.now.plus(settings.code_ttl),
        )
        .await?;
        if !stored {
            return Ok(Composed::Skip("request no longer open"));
        }
        tx.commit().await?;
        let frame = crate::mail::frame(&self.db, Some(&account.id)).await?;
        let link = public_link(&self.settings, &format!("/recovery/{}", token.expose()));
        let (link_ttl, code_ttl) = i18n::sync_scope(frame.locale, || {
            let words = i18n::duration_words;
            (words(settings.link_ttl), words(settings.code_ttl))
        });
        let name = account.display_name();
        let username = account.username.to_string();
        let by_admin = row.payload.get("by_admin").and_then(|v| v.as_str());
        let email = render_pair(
            &row.to_address,
            &frame,
            Message::new("mail-reset-subject"),
            &ResetLinkText {
                frame: &frame,
                name: &name,
                username: &username,
                link: &link,
                code: &code,
                link_ttl: &link_ttl,
                code_ttl: &code_ttl,
                by_admin,
            },
            &ResetLinkHtml {
                frame: &frame,
                name: &name,
                username: &username,
                link: &link,
                code: &code,
                link_ttl: &link_ttl,
                code_ttl: &code_ttl,
                by_admin,
            },
        )?;
        Ok(Composed::Send(email))
    }

    /// Seed 001: an account that may not reset by itself is told whom to ask.
    pub(crate) async fn compose_contact_admin(
        &self,
        row: &OutboxRow,
    ) -> Result<Composed, Internal> {
        let Some(account) = self.active_recipient(row).await? else {
            return Ok(Composed::Skip("account no longer active"));
        };
        if let Some(sso) = accounts::sso_only_of(self.db.pool(), &account.id).await? {
            return self.sso_sign_in_email(row, &account, &sso).await;
        }
        let frame = crate::mail::frame(&self.db, Some(&account.id)).await?;
        let name = account.display_name();
        let username = account.username.to_string();
        let email = render_pair(
            &row.to_address,
            &frame,
            Message::new("mail-contact-admin-subject"),
            &ContactAdminText {
                frame: &frame,
                name: &name,
                username: &username,
            },
            &ContactAdminHtml {
                frame: &frame,
                name: &name,
                username: &username,
            },
        )?;
        Ok(Composed::Send(email))
    }

    /// **Forgot password?** for someone who signs in only with their
    /// school's provider: where to sign in instead.
    pub(crate) async fn compose_sso_sign_in(&self, row: &OutboxRow) -> Result<Composed, Internal> {
        let Some(account) = self.active_recipient(row).await? else {
            return Ok(Composed::Skip("account no longer active"));
        };
        match accounts::sso_only_of(self.db.pool(), &account.id).await? {
            Some(sso) => self.sso_sign_in_email(row, &account, &sso).await,
            None => Ok(Composed::Skip("no longer signs in with a provider only")),
        }
    }

    /// The email that sends `account` to their provider's sign-in.
    async fn sso_sign_in_email(
        &self,
        row: &OutboxRow,
        account: &Account,
        sso: &SsoSignIn,
    ) -> Result<Composed, Internal> {
        let frame = crate::mail::frame(&self.db, Some(&account.id)).await?;
        let link = public_link(&self.settings, &sso.start_path());
        let (name, username) = (account.display_name(), account.username.to_string());
        let provider = sso.provider_name.as_str();
        let email = render_pair(
            &row.to_address,
            &frame,
            Message::new("mail-sso-subject").with("provider", provider),
            &SsoSignInText {
                frame: &frame,
                name: &name,
                username: &username,
                provider,
                link: &link,
            },
            &SsoSignInHtml {
                frame: &frame,
                name: &name,
                username: &username,
                provider,
                link: &link,
            },
        )?;
        Ok(Composed::Send(email))
    }

    /// "Your password was changed", with a "this wasn't me" link minted now.
    pub(crate) async fn compose_password_changed(
        &self,
        ctx: &Ctx<'_>,
        row: &OutboxRow,
    ) -> Result<Composed, Internal> {
        let Some(account) = self.active_recipient(row).await? else {
            return Ok(Composed::Skip("account no longer active"));
        };
        let not_me_link = self.mint_not_me_link(ctx, &account).await?;
        let frame = crate::mail::frame(&self.db, Some(&account.id)).await?;
        let (name, username, when) = (
            account.display_name(),
            account.username.to_string(),
            when(changed_at(row)),
        );
        let email = render_pair(
            &row.to_address,
            &frame,
            Message::new("mail-password-changed-subject"),
            &PasswordChangedText {
                frame: &frame,
                name: &name,
                username: &username,
                when: &when,
                not_me_link: &not_me_link,
            },
            &PasswordChangedHtml {
                frame: &frame,
                name: &name,
                username: &username,
                when: &when,
                not_me_link: &not_me_link,
            },
        )?;
        Ok(Composed::Send(email))
    }

    /// "Your email address was changed", to the old address: the new one
    /// masked, and a "this wasn't me" link minted now.
    pub(crate) async fn compose_email_changed(
        &self,
        ctx: &Ctx<'_>,
        row: &OutboxRow,
    ) -> Result<Composed, Internal> {
        let Some(account) = self.active_recipient(row).await? else {
            return Ok(Composed::Skip("account no longer active"));
        };
        let Some(new_address) = row
            .payload
            .get("new_address_masked")
            .and_then(|v| v.as_str())
        else {
            return Ok(Composed::Skip("no new address in the payload"));
        };
        let not_me_link = self.mint_not_me_link(ctx, &account).await?;
        let frame = crate::mail::frame(&self.db, Some(&account.id)).await?;
        let (name, username, when) = (
            account.display_name(),
            account.username.to_string(),
            when(changed_at(row)),
        );
        let email = render_pair(
            &row.to_address,
            &frame,
            Message::new("mail-email-changed-subject"),
            &EmailChangedText {
                frame: &frame,
                name: &name,
                username: &username,
                when: &when,
                new_address,
                not_me_link: &not_me_link,
            },
            &EmailChangedHtml {
                frame: &frame,
                name: &name,
                username: &username,
                when: &when,
                new_address,
                not_me_link: &not_me_link,
            },
        )?;
        Ok(Composed::Send(email))
    }

    /// A "this wasn't me" link for `account`, its token stored hashed.
    async fn mint_not_me_link(&self, ctx: &Ctx<'_>, account: &Account) -> Result<String, Internal> {
        let token = Token::generate(ctx.rng)?;
        let mut tx = self.db.begin_write().await?;
        store::insert_alert(
            &mut tx,
            &token.digest(),
            &account.id,
            ctx.now,
            ctx.now
                .plus(std::time::Duration::from_secs(NOT_ME_TTL_SECS)),
        )
        .await?;
        tx.commit().await?;
        Ok(public_link(
            &self.settings,
            &format!("/security/not-me/{}", token.expose()),
        ))
    }

    /// Tells an administrator that someone reported "this wasn't me".
    pub(crate) async fn compose_not_me_alert(&self, row: &OutboxRow) -> Result<Composed, Internal> {
        let about = row
            .payload
            .get("about_user_id")
            .and_then(|v| v.as_str())
            .and_then(UserId::parse);
        let Some(about) = about else {
            return Ok(Composed::Skip("no account in the payload"));
        };
        let Some(account) = accounts::find_account(&self.db, &about).await? else {
            return Ok(Composed::Skip("account no longer exists"));
        };
        let reported = UnixTime(
            row.payload
                .get("reported_at")
                .and_then(|v| v.as_i64())
                .unwrap_or(row.created_at.secs()),
        );
        let frame = crate::mail::frame(&self.db, row.user_id.as_ref()).await?;
        let (name, username, when) = (
            account.display_name(),
            account.username.to_string(),
            when(reported),
        );
        let email = render_pair(
            &row.to_address,
            &frame,
            Message::new("mail-not-me-alert-subject").with("username", &username),
            &NotMeAlertText {
                frame: &frame,
                name: &name,
                username: &username,
                when: &when,
            },
            &NotMeAlertHtml {
                frame: &frame,
                name: &name,
                username: &username,
                when: &when,
            },
        )?;
        Ok(Composed::Send(email))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_like_people_write_them() {
        assert_eq!(when(UnixTime(1_788_768_000)), "2026-09-07 08:00 UTC");
    }
}
