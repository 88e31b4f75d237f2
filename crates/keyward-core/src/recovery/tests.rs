//! Use-case tests of recovery, on the backend the test run uses. Mail goes
//! through the real outbox and the file transport and is read back.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::accounts::{NewUser, insert_user};
use crate::dispatch::dev_inbox;
use crate::settings::MailTransportKind;
use crate::testing::{MONDAY_MORNING, TestDb, ctx_at, settings_for};
use crate::types::Role;
use crate::types::random::SeededRandom;
use crate::types::{SchoolId, UserId};

struct World {
    kw: Arc<Keyward>,
    _db: TestDb,
    _dir: tempfile::TempDir,
    rng: SeededRandom,
}

async fn world_with(adjust: impl FnOnce(&mut crate::settings::Settings)) -> World {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings_for(&db);
    settings.server.data_dir = dir.path().to_path_buf();
    settings.mail.transport = MailTransportKind::File;
    settings.mail.dev_inbox = true;
    adjust(&mut settings);
    let kw = Keyward::new(db.db.clone(), settings, &SeededRandom::new(1)).unwrap();
    World {
        kw,
        _db: db,
        _dir: dir,
        rng: SeededRandom::new(2),
    }
}

async fn world() -> World {
    world_with(|_| {}).await
}

impl World {
    fn ctx(&self, now: UnixTime) -> Ctx<'_> {
        ctx_at(now, &self.rng)
    }

    /// Adds an active account with password `correct horse battery`.
    async fn user(&self, username: &str, email: Option<&str>, signed_in: bool) -> UserId {
        let ctx = self.ctx(MONDAY_MORNING);
        let hash = self
            .kw
            .hashing
            .hash(&Password::from("correct horse battery"), &self.rng)
            .await
            .unwrap();
        let id = UserId::generate(&self.rng).unwrap();
        let username = Username::parse(username).unwrap();
        let email = email.map(|e| EmailAddress::parse(e).unwrap());
        insert_user(
            self.kw.db().pool(),
            &NewUser {
                id: &id,
                school_id: None::<&SchoolId>,
                role: Role::Teacher,
                username: &username,
                email: email.as_ref(),
                first_name: "Tess",
                last_name: "Teacher",
                status: AccountStatus::Active,
                password_hash: Some(&hash),
                created_at: ctx.now,
            },
        )
        .await
        .unwrap();
        if signed_in {
            sqlx::query("UPDATE users SET last_sign_in_at = $1 WHERE id = $2")
                .bind(MONDAY_MORNING.secs() - 86_400)
                .bind(id.as_str())
                .execute(self.kw.db().pool())
                .await
                .unwrap();
        }
        id
    }

    async fn ask(&self, now: UnixTime, username: &str) -> RecoveryAccepted {
        let input = RecoveryInput {
            username: Some(username.into()),
            email: None,
        };
        self.kw
            .request_recovery(&self.ctx(now), &input)
            .await
            .unwrap()
    }

    /// Sends due mail and returns the texts of all messages, newest first.
    async fn mail(&self, now: UnixTime) -> Vec<(String, String)> {
        self.kw.deliver_due_mail(&self.ctx(now)).await.unwrap();
        let mut out = Vec::new();
        for entry in dev_inbox::list(&self.kw).await.unwrap() {
            let message = dev_inbox::read(&self.kw, &entry.id).await.unwrap();
            out.push((message.subject, message.text));
        }
        out
    }

    /// Types `code` `times` times on the code page of `asked`'s browser, at
    /// `MONDAY_MORNING`, and returns the error codes of the answers.
    async fn wrong_codes(
        &self,
        asked: &RecoveryAccepted,
        code: &str,
        times: usize,
    ) -> Vec<&'static str> {
        let ctx = self.ctx(MONDAY_MORNING);
        let mut answers = Vec::new();
        for _ in 0..times {
            let err = self
                .kw
                .redeem_recovery_code(
                    &ctx,
                    asked.handle.expose(),
                    &crate::types::TypedCode::from(code),
                )
                .await
                .expect_err("a wrong code is refused");
            answers.push(err.code().as_str());
        }
        answers
    }

    async fn newest_link_and_code(&self, now: UnixTime) -> (String, String) {
        let mail = self.mail(now).await;
        let text = &mail
            .iter()
            .find(|(subject, _)| subject.contains("Reset"))
            .expect("a reset email")
            .1;
        (token_in(text, "/recovery/"), code_in(text))
    }
}

fn token_in(text: &str, marker: &str) -> String {
    let start = text.find(marker).expect("link in mail") + marker.len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

fn code_in(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| l.len() == CODE_DIGITS && l.bytes().all(|b| b.is_ascii_digit()))
        .expect("code in mail")
        .to_owned()
}

const NEW: &str = "a brand new passphrase";

/// A well-formed code that is not `code`.
fn a_wrong_code(code: &str) -> &'static str {
    if code == "00000000" {
        "11111111"
    } else {
        "00000000"
    }
}

#[tokio::test]
async fn the_emailed_link_resets_the_password_and_opening_it_does_not_use_it_up() {
    let w = world().await;
    w.user("tess", Some("tess@school.example"), true).await;
    w.ask(MONDAY_MORNING, "tess").await;
    let (token, _) = w.newest_link_and_code(MONDAY_MORNING).await;
    let ctx = w.ctx(MONDAY_MORNING);
    // Mail scanners and chat previews open links: that must change nothing.
    for _ in 0..3 {
        assert_eq!(
            w.kw.check_reset_link(&ctx, &token)
                .await
                .unwrap()
                .username
                .as_str(),
            "tess"
        );
    }
    w.kw.reset_with_link(&ctx, &token, NEW.into(), &NEW.into(), None)
        .await
        .unwrap();
    assert!(w.kw.sign_in(&ctx, "tess", NEW.into()).await.is_ok());
    let err = w.kw.check_reset_link(&ctx, &token).await.unwrap_err();
    assert_eq!(err.code(), "link_used");
}

#[tokio::test]
async fn two_submits_of_one_link_at_the_same_moment_give_exactly_one_success() {
    let w = world().await;
    w.user("tess", Some("tess@school.example"), true).await;
    w.ask(MONDAY_MORNING, "tess").await;
    let (token, _) = w.newest_link_and_code(MONDAY_MORNING).await;
    let mut tasks = Vec::new();
    for i in 0..4 {
        let kw = w.kw.clone();
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let rng = SeededRandom::new(100 + i);
            let ctx = ctx_at(MONDAY_MORNING, &rng);
            let password = format!("racing passphrase {i}");
            kw.reset_with_link(
                &ctx,
                &token,
                password.clone().into(),
                &password.into(),
                None,
            )
            .await
            .is_ok()
        }));
    }
    let mut successes = 0;
    for task in tasks {
        successes += usize::from(task.await.unwrap());
    }
    assert_eq!(successes, 1);
}

#[tokio::test]
async fn the_link_dies_after_its_time() {
    let w = world().await;
    w.user("tess", Some("tess@school.example"), true).await;
    w.ask(MONDAY_MORNING, "tess").await;
    let (token, _) = w.newest_link_and_code(MONDAY_MORNING).await;
    let ttl = w.kw.settings().recovery.link_ttl;
    let just_before = w.ctx(MONDAY_MORNING.plus(ttl - Duration::from_secs(1)));
    assert!(w.kw.check_reset_link(&just_before, &token).await.is_ok());
    let after = w.ctx(MONDAY_MORNING.plus(ttl));
    assert_eq!(
        w.kw.check_reset_link(&after, &token)
            .await
            .unwrap_err()
            .code(),
        "link_expired"
    );
    let err =
        w.kw.reset_with_link(&after, &token, NEW.into(), &NEW.into(), None)
            .await
            .unwrap_err();
    assert_eq!(err.code(), "link_expired");
}

#[tokio::test]
async fn the_link_dies_when_the_user_signs_in() {
    let w = world().await;
    w.user("tess", Some("tess@school.example"), true).await;
    w.ask(MONDAY_MORNING, "tess").await;
    let (token, _) = w.newest_link_and_code(MONDAY_MORNING).await;
    let ctx = w.ctx(MONDAY_MORNING.plus(Duration::from_secs(60)));
    w.kw.sign_in(&ctx, "tess", "correct horse battery".into())
        .await
        .unwrap()
        .complete()
        .expect("signed in without a second step");
    assert_eq!(
        w.kw.check_reset_link(&ctx, &token)
            .await
            .unwrap_err()
            .code(),
        "link_used"
    );
}

#[tokio::test]
async fn the_link_dies_when_the_password_changes_by_another_path() {
    let w = world().await;
    w.user("tess", Some("tess@school.example"), true).await;
    let ctx = w.ctx(MONDAY_MORNING);
    let signed =
        w.kw.sign_in(&ctx, "tess", "correct horse battery".into())
            .await
            .unwrap()
            .complete()
            .expect("signed in without a second step");
    w.ask(MONDAY_MORNING, "tess").await;
    let (token, _) = w.newest_link_and_code(MONDAY_MORNING).await;
    let session =
        w.kw.current_session(&ctx, &signed.session_token)
            .await
            .unwrap()
            .unwrap();
    w.kw.change_own_password(
        &ctx,
        &session,
        &signed.session_token,
        "correct horse battery".into(),
        NEW.into(),
        &NEW.into(),
    )
    .await
    .unwrap();
    assert_eq!(
        w.kw.check_reset_link(&ctx, &token)
            .await
            .unwrap_err()
            .code(),
        "link_used"
    );
}

#[tokio::test]
async fn a_newer_link_replaces_the_older_one() {
    let w = world().await;
    w.user("tess", Some("tess@school.example"), true).await;
    w.ask(MONDAY_MORNING, "tess").await;
    let (first, _) = w.newest_link_and_code(MONDAY_MORNING).await;
    let later = MONDAY_MORNING.plus(Duration::from_secs(120));
    w.ask(later, "tess").await;
    w.kw.deliver_due_mail(&w.ctx(later)).await.unwrap();
    let ctx = w.ctx(later);
    let err = w.kw.check_reset_link(&ctx, &first).await.unwrap_err();
    assert!(
        matches!(err, ResetError::Link(LinkError::Superseded)),
        "{err:?}"
    );
    assert_eq!(err.code(), "link_used");
}

#[tokio::test]
async fn every_account_state_gets_the_same_answer_and_only_the_right_email() {
    let w = world().await;
    w.user("ready", Some("ready@school.example"), true).await;
    w.user("never", Some("never@school.example"), false).await;
    w.user("noemail", None, true).await;
    for name in ["ready", "never", "noemail", "ghost"] {
        let accepted = w.ask(MONDAY_MORNING, name).await;
        assert_eq!(accepted.handle.expose().len(), 43);
    }
    let mail = w.mail(MONDAY_MORNING).await;
    assert_eq!(mail.len(), 2, "{mail:?}");
    let reset = mail.iter().find(|(s, _)| s.contains("Reset")).unwrap();
    assert!(reset.1.contains("ready"));
    let contact = mail
        .iter()
        .find(|(s, _)| s.contains("About resetting"))
        .unwrap();
    assert!(contact.1.contains("contact your system administrator"));
    assert!(!contact.1.contains("/recovery/"));
}

#[tokio::test]
async fn accounts_created_by_their_owner_may_recover_before_signing_in() {
    let w = world().await;
    let id = w.user("selfmade", Some("self@school.example"), false).await;
    sqlx::query("UPDATE users SET created_by_owner = 1 WHERE id = $1")
        .bind(id.as_str())
        .execute(w.kw.db().pool())
        .await
        .unwrap();
    w.ask(MONDAY_MORNING, "selfmade").await;
    assert!(
        w.mail(MONDAY_MORNING)
            .await
            .iter()
            .any(|(s, _)| s.contains("Reset"))
    );
}

#[tokio::test]
async fn the_prior_sign_in_rule_can_be_switched_off() {
    let w = world_with(|s| s.recovery.require_prior_sign_in = false).await;
    w.user("never", Some("never@school.example"), false).await;
    w.ask(MONDAY_MORNING, "never").await;
    assert!(
        w.mail(MONDAY_MORNING)
            .await
            .iter()
            .any(|(s, _)| s.contains("Reset"))
    );
}

#[tokio::test]
async fn at_most_three_links_an_hour_go_to_one_account() {
    let w = world().await;
    w.user("tess", Some("tess@school.example"), true).await;
    let mut sent = 0;
    for minute in 0..6 {
        let now = MONDAY_MORNING.plus(Duration::from_secs(60 * minute));
        w.ask(now, "tess").await;
        sent = w.mail(now).await.len();
    }
    assert_eq!(sent, 3);
    // An hour later the account may receive links again.
    let later = MONDAY_MORNING.plus(Duration::from_secs(3700));
    w.ask(later, "tess").await;
    assert_eq!(w.mail(later).await.len(), 4);
}

#[tokio::test]
async fn one_address_is_limited_without_changing_the_answer() {
    let w = world_with(|s| s.recovery.max_requests_per_address_per_hour = 2).await;
    w.user("tess", Some("tess@school.example"), true).await;
    w.ask(MONDAY_MORNING, "ghost1").await;
    w.ask(MONDAY_MORNING, "ghost2").await;
    w.ask(MONDAY_MORNING, "tess").await;
    assert!(w.mail(MONDAY_MORNING).await.is_empty());
}

#[tokio::test]
async fn a_reset_ends_every_session_keeps_nothing_secret_and_tells_the_owner() {
    let w = world().await;
    w.user("tess", Some("tess@school.example"), true).await;
    let ctx = w.ctx(MONDAY_MORNING);
    let session =
        w.kw.sign_in(&ctx, "tess", "correct horse battery".into())
            .await
            .unwrap()
            .complete()
            .expect("signed in without a second step");
    w.ask(MONDAY_MORNING, "tess").await;
    let (token, code) = w.newest_link_and_code(MONDAY_MORNING).await;
    w.kw.reset_with_link(&ctx, &token, NEW.into(), &NEW.into(), None)
        .await
        .unwrap();
    assert!(
        w.kw.current_session(&ctx, &session.session_token)
            .await
            .unwrap()
            .is_none()
    );
    let mail = w.mail(MONDAY_MORNING).await;
    let notice = &mail
        .iter()
        .find(|(s, _)| s.contains("was changed"))
        .unwrap()
        .1;
    assert!(notice.contains("/security/not-me/"));
    // Nothing the person got in plain form rests in the database.
    let not_me = token_in(notice, "/security/not-me/");
    let dump = dump_text_columns(&w.kw).await;
    for secret in [
        token.as_str(),
        code.as_str(),
        not_me.as_str(),
        NEW,
        session.session_token.expose(),
    ] {
        assert!(!dump.contains(secret), "{secret} is stored in plain form");
    }
}

async fn dump_text_columns(kw: &Keyward) -> String {
    let mut dump = String::new();
    for (table, columns) in [
        (
            "recovery_requests",
            "id, handle_hash, COALESCE(token_hash, ''), COALESCE(code_hash, '')",
        ),
        (
            "outbox",
            "id, kind, payload, to_address, COALESCE(last_error, '')",
        ),
        ("security_alert_tokens", "token_hash, user_id"),
        ("users", "username, COALESCE(password_hash, '')"),
        ("sessions", "id_hash, user_id"),
        ("audit_log", "action, outcome, COALESCE(detail, '')"),
    ] {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {columns} FROM {table}"));
        for row in sqlx::query(sql).fetch_all(kw.db().pool()).await.unwrap() {
            use sqlx::Row;
            for i in 0..sqlx::Row::len(&row) {
                dump.push_str(&row.try_get::<String, _>(i).unwrap_or_default());
                dump.push('\n');
            }
        }
    }
    dump
}

#[tokio::test]
async fn this_wasnt_me_ends_every_session_and_tells_the_admins() {
    let w = world().await;
    w.user("tess", Some("tess@school.example"), true).await;
    let admin = w.user("head", Some("head@school.example"), true).await;
    sqlx::query("UPDATE users SET role = 'platform_admin' WHERE id = $1")
        .bind(admin.as_str())
        .execute(w.kw.db().pool())
        .await
        .unwrap();
    let ctx = w.ctx(MONDAY_MORNING);
    w.ask(MONDAY_MORNING, "tess").await;
    let (token, _) = w.newest_link_and_code(MONDAY_MORNING).await;
    w.kw.reset_with_link(&ctx, &token, NEW.into(), &NEW.into(), None)
        .await
        .unwrap();
    let intruder =
        w.kw.sign_in(&ctx, "tess", NEW.into())
            .await
            .unwrap()
            .complete()
            .expect("signed in without a second step");
    let mail = w.mail(MONDAY_MORNING).await;
    let not_me = token_in(
        &mail
            .iter()
            .find(|(s, _)| s.contains("was changed"))
            .unwrap()
            .1,
        "/security/not-me/",
    );
    w.kw.check_not_me(&ctx, &not_me).await.unwrap();
    w.kw.report_not_me(&ctx, &not_me).await.unwrap();
    assert!(
        w.kw.current_session(&ctx, &intruder.session_token)
            .await
            .unwrap()
            .is_none()
    );
    let mail = w.mail(MONDAY_MORNING).await;
    let alert = mail
        .iter()
        .find(|(s, _)| s.contains("Security alert"))
        .expect("admin alerted");
    assert!(alert.1.contains("tess"));
    assert!(matches!(
        w.kw.check_not_me(&ctx, &not_me).await.unwrap_err(),
        ResetError::Link(LinkError::Used)
    ));
}

#[tokio::test]
async fn the_code_leads_to_the_reset_page_from_the_requesting_browser_only() {
    let w = world().await;
    w.user("tess", Some("tess@school.example"), true).await;
    let accepted = w.ask(MONDAY_MORNING, "tess").await;
    let (link, code) = w.newest_link_and_code(MONDAY_MORNING).await;
    let ctx = w.ctx(MONDAY_MORNING.plus(Duration::from_secs(30)));
    let stranger = Token::generate(&w.rng).unwrap();
    assert_eq!(
        w.kw.redeem_recovery_code(
            &ctx,
            stranger.expose(),
            &crate::types::TypedCode::from(&code)
        )
        .await
        .unwrap_err()
        .code(),
        "code_no_request"
    );
    let token =
        w.kw.redeem_recovery_code(
            &ctx,
            accepted.handle.expose(),
            &crate::types::TypedCode::from(&code),
        )
        .await
        .unwrap();
    w.kw.check_reset_link(&ctx, token.expose()).await.unwrap();
    // The code is used up, and the emailed link gave way to the new token.
    assert!(
        w.kw.redeem_recovery_code(
            &ctx,
            accepted.handle.expose(),
            &crate::types::TypedCode::from(&code)
        )
        .await
        .is_err()
    );
    assert!(w.kw.check_reset_link(&ctx, &link).await.is_err());
    w.kw.reset_with_link(&ctx, token.expose(), NEW.into(), &NEW.into(), None)
        .await
        .unwrap();
}

#[tokio::test]
async fn five_wrong_codes_end_the_code_and_it_expires_after_ten_minutes() {
    let w = world().await;
    w.user("tess", Some("tess@school.example"), true).await;
    let accepted = w.ask(MONDAY_MORNING, "tess").await;
    let (_, code) = w.newest_link_and_code(MONDAY_MORNING).await;
    let ctx = w.ctx(MONDAY_MORNING);
    let wrong = a_wrong_code(&code);
    for attempt in 1..=5 {
        let err =
            w.kw.redeem_recovery_code(
                &ctx,
                accepted.handle.expose(),
                &crate::types::TypedCode::from(wrong),
            )
            .await
            .unwrap_err();
        let expected = if attempt < 5 {
            "code_wrong"
        } else {
            "code_too_many_tries"
        };
        assert_eq!(err.code(), expected, "attempt {attempt}");
    }
    let err =
        w.kw.redeem_recovery_code(
            &ctx,
            accepted.handle.expose(),
            &crate::types::TypedCode::from(&code),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "code_too_many_tries");

    let later = MONDAY_MORNING.plus(Duration::from_secs(7200));
    let again = w.ask(later, "tess").await;
    let (_, code) = w.newest_link_and_code(later).await;
    let too_late = w.ctx(later.plus(Duration::from_secs(600)));
    let err =
        w.kw.redeem_recovery_code(
            &too_late,
            again.handle.expose(),
            &crate::types::TypedCode::from(&code),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "code_expired");
}

#[tokio::test]
async fn unknown_accounts_give_the_same_code_answers() {
    let w = world().await;
    let accepted = w.ask(MONDAY_MORNING, "ghost").await;
    let ctx = w.ctx(MONDAY_MORNING);
    for attempt in 1..=5 {
        let err =
            w.kw.redeem_recovery_code(
                &ctx,
                accepted.handle.expose(),
                &crate::types::TypedCode::from("12345678"),
            )
            .await
            .unwrap_err();
        let expected = if attempt < 5 {
            "code_wrong"
        } else {
            "code_too_many_tries"
        };
        assert_eq!(err.code(), expected, "attempt {attempt}");
    }
}

#[tokio::test]
async fn a_policy_failure_leaves_the_link_usable_and_changes_nothing() {
    let w = world().await;
    w.user("tess", Some("tess@school.example"), true).await;
    w.ask(MONDAY_MORNING, "tess").await;
    let (token, _) = w.newest_link_and_code(MONDAY_MORNING).await;
    let ctx = w.ctx(MONDAY_MORNING);
    let err =
        w.kw.reset_with_link(&ctx, &token, "kwx9v".into(), &"kwx9w".into(), None)
            .await
            .unwrap_err();
    let ResetError::PasswordPolicy { violations, .. } = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        crate::policy::violation_codes(&violations),
        ["too_short", "mismatch"]
    );
    let err =
        w.kw.reset_with_link(
            &ctx,
            &token,
            "x".repeat(300).into(),
            &"x".repeat(300).into(),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "password_policy");
    assert!(w.kw.check_reset_link(&ctx, &token).await.is_ok());
    assert!(
        w.kw.sign_in(&ctx, "tess", "correct horse battery".into())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn junk_tokens_are_unknown_links() {
    let w = world().await;
    let ctx = w.ctx(MONDAY_MORNING);
    for junk in [
        "",
        "x",
        "%FF%FE",
        "ünïcödé",
        &"a".repeat(5000),
        "../../etc/passwd",
        "' OR 1=1 --",
        "\0",
    ] {
        assert_eq!(
            w.kw.check_reset_link(&ctx, junk).await.unwrap_err().code(),
            "link_unknown",
            "{junk:?}"
        );
        let err =
            w.kw.reset_with_link(&ctx, junk, NEW.into(), &NEW.into(), None)
                .await
                .unwrap_err();
        assert_eq!(err.code(), "link_unknown");
    }
}

#[tokio::test]
async fn email_and_username_must_both_match() {
    let w = world_with(|s| s.recovery.identify_by = crate::settings::IdentifyBy::EmailAndUsername)
        .await;
    w.user("tess", Some("Tess@School.example"), true).await;
    let ctx = w.ctx(MONDAY_MORNING);
    let ask = |username: &str, email: &str| RecoveryInput {
        username: Some(username.into()),
        email: Some(email.into()),
    };
    w.kw.request_recovery(&ctx, &ask("tess", "other@school.example"))
        .await
        .unwrap();
    assert!(w.mail(MONDAY_MORNING).await.is_empty());
    w.kw.request_recovery(&ctx, &ask("TESS", "tess@school.example"))
        .await
        .unwrap();
    assert_eq!(w.mail(MONDAY_MORNING).await.len(), 1);
    let missing =
        w.kw.request_recovery(
            &ctx,
            &RecoveryInput {
                username: Some("tess".into()),
                email: None,
            },
        )
        .await;
    assert_eq!(missing.unwrap_err().code(), "email_missing");
}

#[tokio::test]
async fn email_mode_finds_the_account_by_address() {
    let w = world_with(|s| s.recovery.identify_by = crate::settings::IdentifyBy::Email).await;
    w.user("tess", Some("tess@school.example"), true).await;
    let ctx = w.ctx(MONDAY_MORNING);
    let input = RecoveryInput {
        username: None,
        email: Some("TESS@school.example".into()),
    };
    w.kw.request_recovery(&ctx, &input).await.unwrap();
    assert_eq!(w.mail(MONDAY_MORNING).await.len(), 1);
}

#[tokio::test]
async fn the_reset_page_can_ask_for_the_username_again() {
    let w = world_with(|s| s.recovery.confirm_username = true).await;
    w.user("tess", Some("tess@school.example"), true).await;
    w.ask(MONDAY_MORNING, "tess").await;
    let (token, _) = w.newest_link_and_code(MONDAY_MORNING).await;
    let ctx = w.ctx(MONDAY_MORNING);
    assert!(
        w.kw.check_reset_link(&ctx, &token)
            .await
            .unwrap()
            .ask_username
    );
    let err =
        w.kw.reset_with_link(&ctx, &token, NEW.into(), &NEW.into(), Some("someone"))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "username_mismatch");
    w.kw.reset_with_link(&ctx, &token, NEW.into(), &NEW.into(), Some("Tess"))
        .await
        .unwrap();
}

/// Recovery-code failures audited so far: one per code actually compared.
async fn compared_codes(kw: &Keyward) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'recovery.code' AND outcome = 'failure'",
    )
    .fetch_one(kw.db().pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn parallel_wrong_codes_get_no_more_tries_than_one_after_another() {
    let w = world().await;
    w.user("tess", Some("tess@school.example"), true).await;
    let accepted = w.ask(MONDAY_MORNING, "tess").await;
    let (_, code) = w.newest_link_and_code(MONDAY_MORNING).await;
    let ctx = w.ctx(MONDAY_MORNING);
    let wrong = crate::types::TypedCode::from(a_wrong_code(&code));
    let guesses = (0..100).map(|_| {
        w.kw.redeem_recovery_code(&ctx, accepted.handle.expose(), &wrong)
    });
    let answers = futures_util::future::join_all(guesses).await;
    assert!(answers.iter().all(Result::is_err));
    assert_eq!(compared_codes(&w.kw).await, 5);
    let err =
        w.kw.redeem_recovery_code(
            &ctx,
            accepted.handle.expose(),
            &crate::types::TypedCode::from(&code),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "code_too_many_tries");
}

#[tokio::test]
async fn a_new_email_brings_no_new_code_tries() {
    let w = world().await;
    w.user("tess", Some("tess@school.example"), true).await;
    let first = w.ask(MONDAY_MORNING, "tess").await;
    let ctx = w.ctx(MONDAY_MORNING);
    w.wrong_codes(&first, "23456789", 5).await;
    let again = w.ask(MONDAY_MORNING, "tess").await;
    let (_, code) = w.newest_link_and_code(MONDAY_MORNING).await;
    let err =
        w.kw.redeem_recovery_code(
            &ctx,
            again.handle.expose(),
            &crate::types::TypedCode::from(&code),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "code_too_many_tries");
    // The emailed link itself still works: the owner is not locked out.
    let (link, _) = w.newest_link_and_code(MONDAY_MORNING).await;
    w.kw.check_reset_link(&ctx, &link).await.unwrap();
}

#[tokio::test]
async fn parallel_requests_send_at_most_three_links_to_one_account() {
    let w = world().await;
    w.user("tess", Some("tess@school.example"), true).await;
    let input = RecoveryInput {
        username: Some("tess".into()),
        email: None,
    };
    let ctxs: Vec<_> = (0..20)
        .map(|i| {
            w.ctx(MONDAY_MORNING)
                .with_client(Some(format!("198.51.100.{i}")), None)
        })
        .collect();
    let asks = ctxs.iter().map(|ctx| w.kw.request_recovery(ctx, &input));
    for answer in futures_util::future::join_all(asks).await {
        answer.unwrap();
    }
    // Each link replaces the one before, so count the links made.
    let links: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM recovery_requests \
         WHERE ended_reason IS NULL OR ended_reason = 'superseded'",
    )
    .fetch_one(w.kw.db().pool())
    .await
    .unwrap();
    assert_eq!(links, 3);
}

#[tokio::test]
async fn parallel_requests_from_one_address_stop_at_its_limit() {
    let w = world_with(|s| s.recovery.max_requests_per_address_per_hour = 10).await;
    let ctx = w.ctx(MONDAY_MORNING);
    let inputs: Vec<_> = (0..40)
        .map(|i| RecoveryInput {
            username: Some(format!("ghost{i}")),
            email: None,
        })
        .collect();
    let asks = inputs
        .iter()
        .map(|input| w.kw.request_recovery(&ctx, input));
    for answer in futures_util::future::join_all(asks).await {
        answer.unwrap();
    }
    let throttled: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM recovery_requests WHERE ended_reason = 'throttled'",
    )
    .fetch_one(w.kw.db().pool())
    .await
    .unwrap();
    assert_eq!(throttled, 30);
}

#[tokio::test]
async fn a_throttled_account_answers_the_code_page_like_an_unknown_one() {
    let w = world().await;
    w.user("tess", Some("tess@school.example"), true).await;
    for _ in 0..3 {
        w.ask(MONDAY_MORNING, "tess").await;
    }
    let throttled = w.ask(MONDAY_MORNING, "tess").await;
    let unknown = w.ask(MONDAY_MORNING, "ghost").await;
    let ctx = w.ctx(MONDAY_MORNING);
    for handle in [&throttled.handle, &unknown.handle] {
        let err =
            w.kw.redeem_recovery_code(
                &ctx,
                handle.expose(),
                &crate::types::TypedCode::from("23456789"),
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), "code_wrong");
    }
}

#[tokio::test]
async fn code_answers_across_requests_are_the_same_for_real_and_unknown_names() {
    let w = world().await;
    w.user("tess", Some("tess@school.example"), true).await;
    w.user("nomail", None, true).await;
    let mut answers = Vec::new();
    for name in ["tess", "nomail", "ghost"] {
        let mut seen = Vec::new();
        for _ in 0..2 {
            let accepted = w.ask(MONDAY_MORNING, name).await;
            seen.extend(w.wrong_codes(&accepted, "23456789", 5).await);
        }
        answers.push((name, seen));
    }
    assert_eq!(answers[0].1, answers[2].1, "{answers:?}");
    assert_eq!(answers[1].1, answers[2].1, "{answers:?}");
}
