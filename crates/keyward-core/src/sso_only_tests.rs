//! Use-case tests of people who sign in only with their school's provider
//! (issue 14.3), on the backend of the test run: teachers' tools say so and
//! refuse password work, the class reset skips them, exports say `sso`,
//! **Forgot password?** sends them to the provider, administrators' reset
//! links are refused, and **Unlink** (once, under parallel requests).

use std::sync::Arc;

use futures_util::future::join_all;

use crate::accounts::AccountStatus;
use crate::admin::{AdminResetError, UserQuery};
use crate::classroom::class_reset::{ClassResetError, ClassResetMode};
use crate::classroom::credentials::CredentialsUse;
use crate::classroom::passwords::{LearnerPasswordError, NewPasswordChoice, PasswordState};
use crate::dispatch::dev_inbox;
use crate::error::{Code, CodedError};
use crate::mfa::{TotpCode, code_for};
use crate::recovery::{RecoveryInput, ResetError};
use crate::settings::MailTransportKind;
use crate::testing::{
    DEMO_PASSWORD, MONDAY_MORNING, TestDb, account_named, actor_named, ctx_at, demo_class,
    demo_keyward, demo_sso_provider, link_sso, make_sso_only, seed_demo_people, settings_for,
    signs_in, staff_of_another_school,
};
use crate::types::random::SeededRandom;
use crate::types::{SsoProviderId, UserId};
use crate::{Ctx, Keyward};

async fn has_password(kw: &Keyward, user: &UserId) -> bool {
    let hash: Option<String> = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(user.as_str())
        .fetch_one(kw.db().pool())
        .await
        .unwrap();
    hash.is_some()
}

async fn audit_rows(kw: &Keyward, act: &str) -> Vec<crate::audit::AuditRow> {
    crate::audit::recent(kw.db(), 500)
        .await
        .unwrap()
        .into_iter()
        .filter(|row| row.action == act)
        .collect()
}

async fn links_of(kw: &Keyward, user: &UserId) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM sso_links WHERE user_id = $1")
        .bind(user.as_str())
        .fetch_one(kw.db().pool())
        .await
        .unwrap()
}

/// The demo school with Amy signing in only with "Google".
async fn amy_with_google(seed: u64) -> (Arc<Keyward>, TestDb, SeededRandom, SsoProviderId) {
    let (kw, db, rng) = demo_keyward(seed).await;
    let google = demo_sso_provider(&kw, "Google").await;
    make_sso_only(&kw, &google, "demo.amy").await;
    (kw, db, rng, google)
}

#[tokio::test]
async fn a_teacher_sees_signs_in_with_and_no_password_work_is_done_on_an_sso_only_learner() {
    let (kw, _db, rng, google) = amy_with_google(1).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = actor_named(&kw, "demo.teacher").await;
    let amy = account_named(&kw, "demo.amy").await;

    let view = kw
        .learner_password_view(&ctx, &teacher, &amy.id)
        .await
        .unwrap();
    assert_eq!(view.state, PasswordState::Sso);
    assert_eq!(view.state.as_str(), "sso");
    let sso = view.sso.expect("the provider");
    assert_eq!(
        (sso.provider_id.as_str(), sso.provider_name.as_str()),
        (google.as_str(), "Google")
    );
    assert_eq!(sso.start_path(), format!("/sso/{google}/start"));

    let refusals = [
        kw.reset_learner_password(&ctx, &teacher, &amy.id, NewPasswordChoice::Generate)
            .await
            .unwrap_err(),
        kw.reset_learner_password(
            &ctx,
            &teacher,
            &amy.id,
            NewPasswordChoice::Chosen("Sunny-Meadow-42".into()),
        )
        .await
        .unwrap_err(),
        kw.propose_learner_password(&ctx, &teacher, &amy.id)
            .await
            .unwrap_err(),
        kw.reveal_learner_password(&ctx, &teacher, &amy.id)
            .await
            .unwrap_err(),
    ];
    for err in &refusals {
        assert!(
            matches!(err, LearnerPasswordError::SignsInWithSso(_)),
            "{err:?}"
        );
        assert_eq!(err.code(), Code::SignsInWithSso);
        assert_eq!(err.details()[0], ("provider", "Google".into()));
        assert_eq!(err.details()[1], ("provider_id", google.as_str().into()));
    }
    assert!(!has_password(&kw, &amy.id).await, "no password was set");
    assert!(
        audit_rows(&kw, crate::audit::action::LEARNER_PASSWORD_RESET)
            .await
            .is_empty()
    );

    // The class database tells the teacher, in the same answer as the rest.
    let class = demo_class(&kw).await;
    let learners = kw.class_learners(&ctx, &teacher, &class).await.unwrap();
    let listed: Vec<(&str, bool, Option<&str>)> = learners
        .iter()
        .map(|l| {
            (
                l.account.username.as_str(),
                l.sso_only,
                l.sso.as_ref().map(|s| s.provider_name.as_str()),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("demo.amy", true, Some("Google")),
            ("demo.ben", false, None),
            ("demo.cara", false, None)
        ]
    );
    // So does the student database, for the lead teacher.
    let lead = actor_named(&kw, "demo.lead").await;
    let school = lead.school_id.clone().unwrap();
    let all = kw.school_learners(&ctx, &lead, &school).await.unwrap();
    let amy_row = all
        .iter()
        .find(|(l, _)| l.account.id == amy.id)
        .expect("Amy in the student database");
    assert!(amy_row.0.sso_only);
}

#[tokio::test]
async fn a_linked_learner_with_a_password_is_no_different_for_teachers() {
    let (kw, _db, rng) = demo_keyward(2).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let google = demo_sso_provider(&kw, "Google").await;
    let ben = account_named(&kw, "demo.ben").await;
    link_sso(&kw, &google, "ben-at-google", &ben.id).await;
    let teacher = actor_named(&kw, "demo.teacher").await;

    let view = kw
        .learner_password_view(&ctx, &teacher, &ben.id)
        .await
        .unwrap();
    assert_ne!(view.state, PasswordState::Sso);
    assert!(view.sso.is_none());
    let issued = kw
        .reset_learner_password(&ctx, &teacher, &ben.id, NewPasswordChoice::Generate)
        .await
        .unwrap();
    assert!(signs_in(&kw, &rng, "demo.ben", issued.password.expose()).await);
    // The class database still names his provider, but he is not SSO-only.
    let class = demo_class(&kw).await;
    let learners = kw.class_learners(&ctx, &teacher, &class).await.unwrap();
    let ben_row = learners.iter().find(|l| l.account.id == ben.id).unwrap();
    assert!(!ben_row.sso_only);
    assert_eq!(ben_row.sso.as_ref().unwrap().provider_name, "Google");
}

#[tokio::test]
async fn the_class_reset_skips_sso_only_learners_and_resets_the_rest_together() {
    let (kw, _db, rng, _google) = amy_with_google(3).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = actor_named(&kw, "demo.teacher").await;
    let class = demo_class(&kw).await;
    let amy = account_named(&kw, "demo.amy").await;

    let preview = kw
        .class_reset_preview(&ctx, &teacher, &class)
        .await
        .unwrap();
    assert_eq!((preview.learners, preview.pending, preview.sso), (2, 0, 1));

    let reset = kw
        .reset_class_passwords(&ctx, &teacher, &class, ClassResetMode::Individual)
        .await
        .unwrap();
    let reset_names: Vec<&str> = reset.learners.iter().map(|l| l.username.as_str()).collect();
    assert_eq!(reset_names, ["demo.ben", "demo.cara"]);
    assert!(reset.skipped_pending.is_empty());
    assert_eq!(reset.skipped_sso.len(), 1);
    assert_eq!(reset.skipped_sso[0].user_id, amy.id);
    assert_eq!(reset.skipped_sso[0].first_name, "Amy");
    assert_eq!(
        reset.skipped_sso[0].sso.as_ref().unwrap().provider_name,
        "Google"
    );
    for learner in &reset.learners {
        assert!(
            signs_in(
                &kw,
                &rng,
                learner.username.as_str(),
                learner.password.expose()
            )
            .await
        );
    }
    assert!(!has_password(&kw, &amy.id).await);
    assert!(!reset.to_csv().unwrap().contains("demo.amy"));
    let audited = audit_rows(&kw, crate::audit::action::CLASS_PASSWORD_RESET).await;
    assert_eq!(audited.len(), 1);
    let detail = audited[0].detail.as_deref().unwrap();
    assert!(detail.contains("learners=2"), "{detail}");
    assert!(detail.contains("skipped_sso=1"), "{detail}");
}

#[tokio::test]
async fn a_class_whose_learners_all_sign_in_with_sso_has_nothing_to_reset() {
    let (kw, _db, rng, google) = amy_with_google(4).await;
    make_sso_only(&kw, &google, "demo.ben").await;
    make_sso_only(&kw, &google, "demo.cara").await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = actor_named(&kw, "demo.teacher").await;
    let class = demo_class(&kw).await;
    let err = kw
        .reset_class_passwords(&ctx, &teacher, &class, ClassResetMode::Same(None))
        .await
        .unwrap_err();
    assert!(matches!(err, ClassResetError::ClassEmpty), "{err:?}");
}

#[tokio::test]
async fn credentials_say_sso_and_leave_the_password_blank() {
    let (kw, _db, rng, _google) = amy_with_google(5).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = actor_named(&kw, "demo.teacher").await;
    let class = demo_class(&kw).await;
    let credentials = kw
        .class_credentials(&ctx, &teacher, &class, CredentialsUse::Export)
        .await
        .unwrap();
    let amy = credentials
        .rows
        .iter()
        .find(|row| row.username.as_deref() == Some("demo.amy"))
        .unwrap();
    assert_eq!(amy.password_state, PasswordState::Sso);
    assert_eq!(amy.status_text(), "sso");
    assert!(amy.password.is_none());
    assert_eq!(amy.sso.as_ref().unwrap().provider_name, "Google");

    let (header, rows) = crate::testing::parse_csv(&credentials.to_csv().unwrap());
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let amy_row = rows
        .iter()
        .find(|row| row[at("username")] == "demo.amy")
        .unwrap();
    assert_eq!(amy_row[at("password_status")], "sso");
    assert_eq!(amy_row[at("password")], "");
    let ben_row = rows
        .iter()
        .find(|row| row[at("username")] == "demo.ben")
        .unwrap();
    assert_ne!(ben_row[at("password_status")], "sso");
}

/// Turns on an authenticator app for `username` (administrators' resets ask
/// for a second factor on their own account).
async fn enrol_totp(kw: &Keyward, ctx: &Ctx<'_>, username: &str) {
    let account = account_named(kw, username).await;
    let enrolment = kw
        .start_totp_enrolment(ctx, &account, &DEMO_PASSWORD.into())
        .await
        .unwrap();
    let code = TotpCode::parse(&code_for(&enrolment.secret, ctx.now).unwrap()).unwrap();
    kw.confirm_totp_enrolment(ctx, &account, &code)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_administrators_reset_link_is_refused_but_a_temporary_password_is_allowed() {
    let (kw, _db, rng) = demo_keyward(6).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let google = demo_sso_provider(&kw, "Google").await;
    enrol_totp(&kw, &ctx, "demo.lead").await;
    let lead = actor_named(&kw, "demo.lead").await;
    let teacher = make_sso_only(&kw, &google, "demo.teacher").await;
    sqlx::query("UPDATE users SET last_sign_in_at = $1 WHERE id = $2")
        .bind(MONDAY_MORNING.secs() - 60)
        .bind(teacher.id.as_str())
        .execute(kw.db().pool())
        .await
        .unwrap();

    let target = kw
        .reset_target(
            &ctx,
            &lead,
            &teacher.id,
            crate::authz::Action::ResetPassword,
        )
        .await
        .unwrap();
    assert!(matches!(
        target.link_blocked(),
        Some(AdminResetError::SignsInWithSso(_))
    ));
    assert!(target.temporary_blocked().is_none());
    let err = kw
        .send_password_reset(&ctx, &lead, &teacher.id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::SignsInWithSso);
    assert_eq!(err.details()[0], ("provider", "Google".into()));
    let audited = audit_rows(&kw, crate::audit::action::ADMIN_PASSWORD_RESET).await;
    assert_eq!(
        (audited[0].outcome.as_str(), audited[0].detail.as_deref()),
        ("refused", Some("signs_in_with_sso"))
    );
    let mails: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE user_id = $1")
        .bind(teacher.id.as_str())
        .fetch_one(kw.db().pool())
        .await
        .unwrap();
    assert_eq!(mails, 0);

    // The way in when the provider is broken: a temporary password.
    let temporary = kw
        .set_temporary_password(&ctx, &lead, &teacher.id)
        .await
        .unwrap();
    assert!(signs_in(&kw, &rng, "demo.teacher", temporary.password.expose()).await);
    assert!(
        crate::accounts::sso_only_of(kw.db().pool(), &teacher.id)
            .await
            .unwrap()
            .is_none()
    );
}

/// The demo school with mail written to files and readable back.
async fn demo_with_mail(seed: u64) -> (Arc<Keyward>, TestDb, tempfile::TempDir, SeededRandom) {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings_for(&db);
    settings.server.data_dir = dir.path().to_path_buf();
    settings.mail.transport = MailTransportKind::File;
    settings.mail.dev_inbox = true;
    let kw = Keyward::new(db.db.clone(), settings, &SeededRandom::new(seed)).unwrap();
    let rng = SeededRandom::new(seed + 1);
    seed_demo_people(&kw, &rng).await;
    (kw, db, dir, rng)
}

/// Sends due mail; every message as (recipient, subject, text).
async fn mailbox(kw: &Keyward, ctx: &Ctx<'_>) -> Vec<(String, String, String)> {
    kw.deliver_due_mail(ctx).await.unwrap();
    let mut out = Vec::new();
    for entry in dev_inbox::list(kw).await.unwrap() {
        let message = dev_inbox::read(kw, &entry.id).await.unwrap();
        out.push((entry.to, message.subject, message.text));
    }
    out
}

#[tokio::test]
async fn forgot_password_sends_an_sso_only_person_to_their_provider_and_answers_as_for_anyone() {
    let (kw, _db, _dir, rng) = demo_with_mail(7).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let google = demo_sso_provider(&kw, "Google").await;
    let teacher = make_sso_only(&kw, &google, "demo.teacher").await;

    for name in ["demo.teacher", "demo.lead", "nobody.here"] {
        let input = RecoveryInput {
            username: Some(name.into()),
            email: None,
        };
        // The same answer, whatever the account: a handle for the code page.
        kw.request_recovery(&ctx, &input).await.unwrap();
    }
    let mail = mailbox(&kw, &ctx).await;
    assert_eq!(mail.len(), 2, "one email each to the two people");
    let to_teacher = mail
        .iter()
        .find(|(to, ..)| to.contains("tom.baker"))
        .expect("an email to the teacher");
    let (_, subject, text) = to_teacher;
    assert_eq!(subject, "Sign in to keyward with Google");
    let start = format!("/sso/{google}/start");
    assert!(text.contains(&start), "{text}");
    assert!(text.contains("you sign in with Google"), "{text}");
    assert!(!text.contains("/recovery/"), "no reset link: {text}");
    let code_line = text.lines().map(str::trim).any(|line| {
        line.len() == crate::recovery::CODE_DIGITS && line.bytes().all(|b| b.is_ascii_digit())
    });
    assert!(!code_line, "no code: {text}");
    // The request ended at once: there is no link or code to wait for.
    let ended: Vec<Option<String>> =
        sqlx::query_scalar("SELECT ended_reason FROM recovery_requests WHERE user_id = $1")
            .bind(teacher.id.as_str())
            .fetch_all(kw.db().pool())
            .await
            .unwrap();
    assert_eq!(ended, [Some("sso_only".to_owned())]);
    let audited = audit_rows(&kw, crate::audit::action::RECOVERY_REQUEST).await;
    let outcomes: Vec<&str> = audited.iter().map(|row| row.outcome.as_str()).collect();
    assert!(outcomes.contains(&"sso_only"), "{outcomes:?}");
}

#[tokio::test]
async fn an_old_reset_link_of_someone_now_sso_only_sets_no_password() {
    let (kw, _db, _dir, rng) = demo_with_mail(8).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    // The lead teacher signed in once, so a link is sent.
    assert!(signs_in(&kw, &rng, "demo.lead", DEMO_PASSWORD).await);
    let input = RecoveryInput {
        username: Some("demo.lead".into()),
        email: None,
    };
    kw.request_recovery(&ctx, &input).await.unwrap();
    let mail = mailbox(&kw, &ctx).await;
    let text = &mail[0].2;
    let start = text.find("/recovery/").expect("a reset link") + "/recovery/".len();
    let token: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert!(kw.check_reset_link(&ctx, &token).await.is_ok());

    let google = demo_sso_provider(&kw, "Google").await;
    let lead = make_sso_only(&kw, &google, "demo.lead").await;
    let err = kw.check_reset_link(&ctx, &token).await.unwrap_err();
    assert!(matches!(err, ResetError::SignsInWithSso(_)), "{err:?}");
    assert_eq!(err.code(), Code::SignsInWithSso);
    let new = "a brand new passphrase";
    let err = kw
        .reset_with_link(&ctx, &token, new.into(), &new.into(), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::SignsInWithSso);
    assert!(!has_password(&kw, &lead.id).await);
}

#[tokio::test]
async fn a_reset_email_composed_after_the_person_became_sso_only_carries_no_link() {
    let (kw, _db, _dir, rng) = demo_with_mail(9).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    assert!(signs_in(&kw, &rng, "demo.lead", DEMO_PASSWORD).await);
    let input = RecoveryInput {
        username: Some("demo.lead".into()),
        email: None,
    };
    kw.request_recovery(&ctx, &input).await.unwrap();
    // Before the worker composes it, the person becomes SSO-only.
    let google = demo_sso_provider(&kw, "Google").await;
    make_sso_only(&kw, &google, "demo.lead").await;
    let mail = mailbox(&kw, &ctx).await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].1, "Sign in to keyward with Google");
    assert!(!mail[0].2.contains("/recovery/"));
}

#[tokio::test]
async fn the_lead_teacher_unlinks_and_the_person_is_signed_out_and_told_apart() {
    let (kw, _db, rng, google) = amy_with_google(10).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let amy = account_named(&kw, "demo.amy").await;

    // The person's page lists the link.
    let details = kw.show_user(&ctx, &lead, &amy.id).await.unwrap();
    assert!(details.sso_only);
    assert_eq!(details.sso_links.len(), 1);
    assert_eq!(details.sso_links[0].provider_id, google);
    assert_eq!(details.sso_links[0].provider_name, "Google");
    assert_eq!(details.sso_links[0].linked_at, MONDAY_MORNING);
    assert_eq!(details.sso_links[0].last_used_at, None);

    let preview = kw
        .unlink_preview(&ctx, &lead, &amy.id, &google)
        .await
        .unwrap();
    assert!(preview.leaves_no_way_in);
    assert_eq!(preview.link.provider_name, "Google");

    let unlinked = kw.unlink_sso(&ctx, &lead, &amy.id, &google).await.unwrap();
    assert!(unlinked.no_way_in);
    assert_eq!(unlinked.provider_name, "Google");
    assert_eq!(links_of(&kw, &amy.id).await, 0);
    let audited = audit_rows(&kw, crate::audit::action::SSO_UNLINK).await;
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].outcome, "success");
    assert_eq!(audited[0].target_id.as_deref(), Some(amy.id.as_str()));
    assert!(
        audited[0]
            .detail
            .as_deref()
            .unwrap()
            .contains(google.as_str())
    );

    // Now a learner with no password: her teacher can give her one.
    let teacher = actor_named(&kw, "demo.teacher").await;
    let view = kw
        .learner_password_view(&ctx, &teacher, &amy.id)
        .await
        .unwrap();
    assert_ne!(view.state, PasswordState::Sso);
    let issued = kw
        .reset_learner_password(&ctx, &teacher, &amy.id, NewPasswordChoice::Generate)
        .await
        .unwrap();
    assert!(signs_in(&kw, &rng, "demo.amy", issued.password.expose()).await);

    // Unlinking again finds nothing.
    let err = kw
        .unlink_sso(&ctx, &lead, &amy.id, &google)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::SsoLinkNotFound);
}

#[tokio::test]
async fn unlinking_someone_with_a_password_leaves_them_a_way_in_and_ends_their_sessions() {
    let (kw, _db, rng) = demo_keyward(11).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let google = demo_sso_provider(&kw, "Google").await;
    let teacher = account_named(&kw, "demo.teacher").await;
    link_sso(&kw, &google, "tom", &teacher.id).await;
    let session = kw
        .sign_in(&ctx, "demo.teacher", DEMO_PASSWORD.into())
        .await
        .unwrap()
        .complete()
        .expect("no second step")
        .session_token;
    let lead = actor_named(&kw, "demo.lead").await;

    let preview = kw
        .unlink_preview(&ctx, &lead, &teacher.id, &google)
        .await
        .unwrap();
    assert!(!preview.leaves_no_way_in);
    let unlinked = kw
        .unlink_sso(&ctx, &lead, &teacher.id, &google)
        .await
        .unwrap();
    assert!(!unlinked.no_way_in);
    assert!(kw.current_session(&ctx, &session).await.unwrap().is_none());
    assert!(signs_in(&kw, &rng, "demo.teacher", DEMO_PASSWORD).await);
}

#[tokio::test]
async fn only_those_who_may_manage_the_person_unlink() {
    let (kw, _db, rng, google) = amy_with_google(12).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let amy = account_named(&kw, "demo.amy").await;

    let teacher = actor_named(&kw, "demo.teacher").await;
    let err = kw
        .unlink_sso(&ctx, &teacher, &amy.id, &google)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Forbidden);
    let admin = actor_named(&kw, "demo.admin").await;
    let elsewhere = account_named(&kw, "demo.lead").await.id;
    let stranger = staff_of_another_school(
        &kw,
        &ctx,
        &admin,
        elsewhere,
        crate::types::Role::LeadTeacher,
    )
    .await;
    let err = kw
        .unlink_sso(&ctx, &stranger, &amy.id, &google)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = kw
        .unlink_preview(&ctx, &teacher, &amy.id, &google)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Forbidden);
    assert_eq!(links_of(&kw, &amy.id).await, 1);
    assert!(
        audit_rows(&kw, crate::audit::action::SSO_UNLINK)
            .await
            .is_empty()
    );
    assert!(
        !audit_rows(&kw, crate::audit::action::AUTHZ_DENIED)
            .await
            .is_empty()
    );

    // A platform admin may.
    kw.unlink_sso(&ctx, &admin, &amy.id, &google).await.unwrap();
    assert_eq!(
        account_named(&kw, "demo.amy").await.status,
        AccountStatus::Active
    );
}

#[tokio::test]
async fn of_parallel_unlinks_exactly_one_succeeds_and_is_audited_once() {
    let (kw, _db, _rng, google) = amy_with_google(13).await;
    let lead = actor_named(&kw, "demo.lead").await;
    let amy = account_named(&kw, "demo.amy").await;
    let second = crate::testing::second_instance(&_db).await;
    let outcomes = join_all((0..8).map(|i| {
        let kw = if i % 2 == 0 {
            kw.clone()
        } else {
            second.clone()
        };
        let (lead, amy, google) = (lead.clone(), amy.id.clone(), google.clone());
        async move {
            let rng = SeededRandom::new(100 + i);
            let ctx = ctx_at(MONDAY_MORNING, &rng);
            kw.unlink_sso(&ctx, &lead, &amy, &google).await
        }
    }))
    .await;
    let ok = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(ok, 1, "{outcomes:?}");
    for err in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert_eq!(err.code(), Code::SsoLinkNotFound, "{err:?}");
    }
    assert_eq!(
        audit_rows(&kw, crate::audit::action::SSO_UNLINK)
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn the_users_list_names_the_provider_of_linked_people() {
    let (kw, _db, rng, _google) = amy_with_google(14).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let page = kw
        .find_users(&ctx, &lead, &UserQuery::default())
        .await
        .unwrap();
    let providers: Vec<(&str, Option<&str>)> = page
        .users
        .iter()
        .map(|u| {
            (
                u.account.username.as_str(),
                u.sso.as_ref().map(|s| s.provider_name.as_str()),
            )
        })
        .filter(|(name, _)| name.starts_with("demo."))
        .collect();
    assert!(
        providers.contains(&("demo.amy", Some("Google"))),
        "{providers:?}"
    );
    assert!(providers.contains(&("demo.ben", None)), "{providers:?}");
}
