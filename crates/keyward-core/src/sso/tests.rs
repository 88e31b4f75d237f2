//! Use-case tests of connecting single sign-on providers, on the backend the
//! test run uses: who may, what is checked, the secret sealed and never
//! listed, the per-school limit and removal under parallel requests.

use std::sync::Arc;

use super::*;
use crate::authz::Actor;
use crate::error::{Code, CodedError};
use crate::testing::{
    MONDAY_MORNING, actor_named, ctx_at, demo_keyward, give_second_factor, staff_of_another_school,
};
use crate::types::Role;

const SECRET: &str = "s3cr3t-from-the-provider";

pub(crate) fn google() -> NewSsoProvider {
    NewSsoProvider {
        name: "Google".into(),
        issuer: "https://accounts.google.com".into(),
        client_id: "1234.apps.googleusercontent.com".into(),
        client_secret: zeroize::Zeroizing::new(SECRET.into()),
        scopes: None,
        claim: None,
        roles: None,
        jit_roles: None,
        trust_mfa: false,
    }
}

fn school_of(actor: &Actor) -> crate::types::SchoolId {
    actor.school_id.clone().expect("a school")
}

#[tokio::test]
async fn a_lead_teacher_connects_a_provider_whose_secret_is_sealed_and_never_listed() {
    let (kw, _db, rng) = demo_keyward(141).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    give_second_factor(&kw, &lead.user_id).await;
    let school = school_of(&lead);
    let added = kw
        .add_sso_provider(&ctx, &lead, &school, google())
        .await
        .unwrap();
    assert_eq!(added.scopes, ["openid", "email", "profile"]);
    assert_eq!(added.claim, IdentityClaim::Email);
    assert_eq!(
        added.roles,
        [
            Role::LeadTeacher,
            Role::Teacher,
            Role::Learner,
            Role::Parent
        ]
    );
    assert!(added.jit_roles.is_empty());

    let listed = kw.school_sso_providers(&ctx, &lead, &school).await.unwrap();
    assert_eq!(listed, std::slice::from_ref(&added));
    assert!(!format!("{listed:?}").contains(SECRET));
    assert_eq!(
        kw.sso_provider(&added.id).await.unwrap(),
        Some(added.clone())
    );
    let choices = kw.sign_in_choices().await.unwrap();
    assert_eq!(choices.len(), 1);
    assert_eq!(choices[0].name, "Google");
    assert_eq!(choices[0].school_name, crate::demo::DEMO_SCHOOL_NAME);

    // Sealed at rest, opened only for the token request.
    let stored: Vec<String> = sqlx::query_scalar("SELECT sealed FROM sealed_secrets")
        .fetch_all(kw.db.pool())
        .await
        .unwrap();
    assert!(stored.iter().all(|sealed| !sealed.contains(SECRET)));
    let opened = store::providers::client_secret(&kw.db, &kw.sealer, &added)
        .await
        .unwrap();
    assert_eq!(opened.as_str(), SECRET);
    for row in crate::audit::recent(&kw.db, 50).await.unwrap() {
        assert!(!format!("{row:?}").contains(SECRET));
    }
    assert!(
        crate::testing::audited_actions(&kw, 5)
            .await
            .contains(&"sso.provider_add".to_owned())
    );
    assert_eq!(
        kw.sso_redirect_uri(),
        format!(
            "{}/sso/callback",
            kw.settings.server.public_url.as_str().trim_end_matches('/')
        )
    );
}

#[tokio::test]
async fn only_the_schools_lead_teacher_or_a_platform_admin_manages_its_providers() {
    let (kw, _db, rng) = demo_keyward(142).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    give_second_factor(&kw, &lead.user_id).await;
    let admin = actor_named(&kw, "demo.admin").await;
    give_second_factor(&kw, &admin.user_id).await;
    let school = school_of(&lead);
    for name in ["demo.teacher", "demo.amy", "demo.parent"] {
        let actor = actor_named(&kw, name).await;
        let err = kw
            .add_sso_provider(&ctx, &actor, &school, google())
            .await
            .unwrap_err();
        assert!(
            matches!(err.code(), Code::Forbidden | Code::NotFound),
            "{name}: {err:?}"
        );
        assert!(
            kw.school_sso_providers(&ctx, &actor, &school)
                .await
                .is_err()
        );
    }
    let stranger =
        staff_of_another_school(&kw, &ctx, &admin, lead.user_id.clone(), Role::LeadTeacher).await;
    give_second_factor(&kw, &stranger.user_id).await;
    assert!(
        kw.add_sso_provider(&ctx, &stranger, &school, google())
            .await
            .is_err()
    );
    let added = kw
        .add_sso_provider(&ctx, &admin, &school, google())
        .await
        .unwrap();
    // Another school's lead teacher cannot remove it, nor see it.
    let err = kw
        .remove_sso_provider(&ctx, &stranger, &school, &added.id)
        .await
        .unwrap_err();
    assert!(
        matches!(err.code(), Code::Forbidden | Code::NotFound),
        "{err:?}"
    );
    let theirs = stranger.school_id.clone().unwrap();
    let err = kw
        .remove_sso_provider(&ctx, &stranger, &theirs, &added.id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::SsoProviderNotFound);
    assert_eq!(kw.sign_in_choices().await.unwrap().len(), 1);
    kw.remove_sso_provider(&ctx, &lead, &school, &added.id)
        .await
        .unwrap();
    assert!(kw.sign_in_choices().await.unwrap().is_empty());
}

#[tokio::test]
async fn each_bad_setting_is_refused_by_name_and_changes_nothing() {
    let (kw, _db, rng) = demo_keyward(143).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    give_second_factor(&kw, &lead.user_id).await;
    let school = school_of(&lead);
    type Change = Box<dyn Fn(&mut NewSsoProvider)>;
    let cases: Vec<(&str, Change)> = vec![
        ("name", Box::new(|p| p.name = "  ".into())),
        ("name", Box::new(|p| p.name = "x".repeat(65))),
        ("name", Box::new(|p| p.name = "Goo\ngle".into())),
        // Text that shows other than it reads: bidi overrides and isolates,
        // zero-width and other format characters, line separators.
        (
            "name",
            Box::new(|p| p.name = "Google \u{202E}elgooG".into()),
        ),
        (
            "name",
            Box::new(|p| p.name = "Goo\u{2067}gle\u{2069}".into()),
        ),
        ("name", Box::new(|p| p.name = "Goo\u{200B}gle".into())),
        ("name", Box::new(|p| p.name = "Goo\u{200F}gle".into())),
        ("name", Box::new(|p| p.name = "Goo\u{2060}gle".into())),
        ("name", Box::new(|p| p.name = "\u{FEFF}Google".into())),
        ("name", Box::new(|p| p.name = "Goo\u{00AD}gle".into())),
        ("name", Box::new(|p| p.name = "Goo\u{E0041}gle".into())),
        ("name", Box::new(|p| p.name = "Goo\u{2028}gle".into())),
        (
            "client_id",
            Box::new(|p| p.client_id = "1234\u{202D}.apps".into()),
        ),
        (
            "issuer",
            Box::new(|p| p.issuer = "accounts.google.com".into()),
        ),
        (
            "issuer",
            Box::new(|p| p.issuer = "http://accounts.example.org".into()),
        ),
        (
            "issuer",
            Box::new(|p| p.issuer = "https://u:p@idp.example.org".into()),
        ),
        (
            "issuer",
            Box::new(|p| p.issuer = "https://idp.example.org/?x=1".into()),
        ),
        (
            "issuer",
            Box::new(|p| p.issuer = "ftp://idp.example.org".into()),
        ),
        ("client_id", Box::new(|p| p.client_id = String::new())),
        (
            "client_secret",
            Box::new(|p| p.client_secret = zeroize::Zeroizing::new(" ".into())),
        ),
        (
            "scopes",
            Box::new(|p| p.scopes = Some(vec!["open id".into()])),
        ),
        ("scopes", Box::new(|p| p.scopes = Some(vec!["a\"b".into()]))),
        (
            "scopes",
            Box::new(|p| p.scopes = Some((0..25).map(|i| format!("s{i}")).collect())),
        ),
        ("roles", Box::new(|p| p.roles = Some(vec![]))),
        (
            "roles",
            Box::new(|p| p.roles = Some(vec![Role::PlatformAdmin])),
        ),
        (
            "jit_roles",
            Box::new(|p| p.jit_roles = Some(vec![Role::PlatformAdmin])),
        ),
        (
            "jit_roles",
            Box::new(|p| {
                p.roles = Some(vec![Role::Learner]);
                p.jit_roles = Some(vec![Role::Teacher]);
            }),
        ),
    ];
    for (field, change) in cases {
        let mut new = google();
        change(&mut new);
        let err = kw
            .add_sso_provider(&ctx, &lead, &school, new)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::SsoProviderInvalid, "{field}");
        assert_eq!(err.details(), vec![("field", field.into())], "{field}");
    }
    assert!(kw.sign_in_choices().await.unwrap().is_empty());

    // Plain http only on the machine itself; openid always asked for.
    let mut local = google();
    local.issuer = "http://127.0.0.1:8080/oidc".into();
    local.scopes = Some(vec!["email".into(), "email".into()]);
    local.claim = Some(IdentityClaim::PreferredUsername);
    local.roles = Some(vec![Role::Learner, Role::Teacher]);
    local.jit_roles = Some(vec![Role::Learner]);
    local.trust_mfa = true;
    let added = kw
        .add_sso_provider(&ctx, &lead, &school, local)
        .await
        .unwrap();
    assert_eq!(added.scopes, ["openid", "email"]);
    assert_eq!(added.roles, [Role::Teacher, Role::Learner]);
    assert_eq!(added.jit_roles, [Role::Learner]);
    assert!(added.trust_mfa);
    assert_eq!(kw.sso_provider(&added.id).await.unwrap(), Some(added));
    for issuer in [
        "http://localhost:9",
        "http://[::1]:9",
        "https://idp.example.org/realms/x",
        "https://10.0.0.1",
    ] {
        assert!(
            issuer_allowed(&url::Url::parse(issuer).unwrap(), true),
            "{issuer}"
        );
    }
    assert!(!issuer_allowed(
        &url::Url::parse("http://10.0.0.1").unwrap(),
        true
    ));
    // A name that only looks like one, and accents, are fine.
    let mut named = google();
    named.name = "Schulkonto Zürich (Ελληνικά)".into();
    kw.add_sso_provider(&ctx, &lead, &school, named)
        .await
        .unwrap();
}

/// Off (the default), `sso.allow_private_addresses` keeps issuers to https
/// on the internet: no address of the machine or of a private network,
/// however it is written.
#[tokio::test]
async fn without_private_addresses_an_issuer_must_be_public_https() {
    let db = crate::testing::TestDb::new().await;
    let mut settings = crate::testing::settings_for(&db);
    settings.sso.allow_private_addresses = false;
    let rng = crate::types::random::SeededRandom::new(145);
    let kw = crate::Keyward::new(db.db.clone(), settings, &rng).unwrap();
    crate::testing::seed_demo_people(&kw, &rng).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    give_second_factor(&kw, &lead.user_id).await;
    let school = school_of(&lead);
    for issuer in [
        "http://127.0.0.1:8080",
        "http://localhost:8080",
        "https://localhost",
        "https://127.0.0.1",
        "https://127.1:1",
        "https://2130706433:1",
        "https://0x7f.1",
        "https://[::1]",
        "https://[::ffff:7f00:1]",
        "https://0.0.0.0",
        "https://10.0.0.1",
        "https://172.20.1.1/realms/x",
        "https://192.168.0.10",
        "https://169.254.169.254/latest/meta-data",
        "https://100.100.100.200",
        "https://[fd12:3456::1]",
        "https://[fe80::1]",
        "https://239.1.1.1",
    ] {
        let mut new = google();
        new.issuer = issuer.into();
        let err = kw
            .add_sso_provider(&ctx, &lead, &school, new)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::SsoProviderInvalid, "{issuer}");
        assert_eq!(err.details(), vec![("field", "issuer".into())], "{issuer}");
        assert!(!issuer_allowed(&url::Url::parse(issuer).unwrap(), false));
    }
    assert!(kw.sign_in_choices().await.unwrap().is_empty());
    for issuer in [
        "https://accounts.google.com",
        "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
        "https://8.8.8.8",
    ] {
        let mut new = google();
        new.issuer = issuer.into();
        kw.add_sso_provider(&ctx, &lead, &school, new)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn parallel_adds_stop_at_the_limit_and_parallel_removals_remove_once() {
    let (kw, db, rng) = demo_keyward(144).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    give_second_factor(&kw, &lead.user_id).await;
    let school = school_of(&lead);
    let other = crate::testing::second_instance(&db).await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let kw: Arc<crate::Keyward> = if i % 2 == 0 {
            kw.clone()
        } else {
            other.clone()
        };
        let (lead, school) = (lead.clone(), school.clone());
        let seed = 1000 + i;
        tasks.push(tokio::spawn(async move {
            let rng = crate::types::random::SeededRandom::new(seed);
            let ctx = ctx_at(MONDAY_MORNING, &rng);
            kw.add_sso_provider(&ctx, &lead, &school, google()).await
        }));
    }
    let mut added = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(provider) => added.push(provider),
            Err(err) => assert_eq!(err.code(), Code::SsoProviderInvalid, "{err:?}"),
        }
    }
    assert_eq!(added.len(), MAX_PROVIDERS_PER_SCHOOL);
    let listed = kw.school_sso_providers(&ctx, &lead, &school).await.unwrap();
    assert_eq!(listed.len(), MAX_PROVIDERS_PER_SCHOOL);

    let target = added[0].id.clone();
    let mut tasks = Vec::new();
    for i in 0..12 {
        let kw: Arc<crate::Keyward> = if i % 2 == 0 {
            kw.clone()
        } else {
            other.clone()
        };
        let (lead, school, target) = (lead.clone(), school.clone(), target.clone());
        tasks.push(tokio::spawn(async move {
            let rng = crate::types::random::SeededRandom::new(2000 + i);
            let ctx = ctx_at(MONDAY_MORNING, &rng);
            kw.remove_sso_provider(&ctx, &lead, &school, &target).await
        }));
    }
    let mut removed = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => removed += 1,
            Err(err) => assert_eq!(err.code(), Code::SsoProviderNotFound),
        }
    }
    assert_eq!(removed, 1);
    let secrets: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sealed_secrets WHERE purpose = 'sso_client_secret'",
    )
    .fetch_one(kw.db.pool())
    .await
    .unwrap();
    assert_eq!(secrets, MAX_PROVIDERS_PER_SCHOOL as i64 - 1);
    let audited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'sso.provider_remove'")
            .fetch_one(kw.db.pool())
            .await
            .unwrap();
    assert_eq!(audited, 1);
}

/// A sign-in through a provider that waits for keyward's own second step
/// opens a session of that provider; removing the provider ends its
/// sessions and its waiting steps.
#[tokio::test]
async fn removing_a_provider_ends_its_sessions_and_waiting_second_steps() {
    let (kw, _db, rng) = demo_keyward(151).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let school = school_of(&lead);
    let provider = crate::testing::demo_sso_provider(&kw, "Google").await;
    let teacher = crate::testing::account_named(&kw, "demo.teacher").await;
    sqlx::query(
        "INSERT INTO mfa_totp (user_id, sealed_id, created_at, confirmed_at) VALUES ($1, 'x', 0, 0)",
    )
    .bind(teacher.id.as_str())
    .execute(kw.db.pool())
    .await
    .unwrap();
    let proved = async || {
        let mut tx = kw.db.begin_write().await.unwrap();
        let outcome = kw
            .sign_in_proved_elsewhere(&mut tx, &ctx, teacher.clone(), &provider, false, false)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        outcome.second_step().expect("keyward's own second step")
    };
    let first = proved().await;
    let step = kw
        .pending_sign_in(&ctx, &first.token)
        .await
        .unwrap()
        .unwrap();
    let mut tx = kw.db.begin_write().await.unwrap();
    let signed_in = kw
        .finish_sign_in(&mut tx, &ctx, &step, "totp")
        .await
        .unwrap()
        .expect("the step is claimed");
    tx.commit().await.unwrap();
    let stored: Option<String> =
        sqlx::query_scalar("SELECT sso_provider_id FROM sessions WHERE id_hash = $1")
            .bind(signed_in.session_token.digest().as_str())
            .fetch_one(kw.db.pool())
            .await
            .unwrap();
    assert_eq!(stored.as_deref(), Some(provider.as_str()));
    let waiting = proved().await;

    give_second_factor(&kw, &lead.user_id).await;
    kw.remove_sso_provider(&ctx, &lead, &school, &provider)
        .await
        .unwrap();
    let session = kw.current_session(&ctx, &signed_in.session_token).await;
    assert!(session.unwrap().is_none(), "the provider's session ended");
    let step = kw.pending_sign_in(&ctx, &waiting.token).await.unwrap();
    assert!(step.is_none(), "the provider's waiting step ended");
}

/// Who connects or removes a provider decides whose second factor counts:
/// they need one on their own keyward account — one used at a provider in
/// this session does not do — and are told where to turn it on. The
/// operator at the command line has no account.
#[tokio::test]
async fn connecting_or_removing_a_provider_needs_one_s_own_second_factor() {
    let (kw, _db, rng) = demo_keyward(146).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let mut lead = actor_named(&kw, "demo.lead").await;
    let school = school_of(&lead);
    let operator = crate::Keyward::operator_actor();
    let added = kw
        .add_sso_provider(&ctx, &operator, &school, google())
        .await
        .unwrap();
    for at_provider in [false, true] {
        lead.second_factor_at_provider = at_provider;
        let err = kw
            .add_sso_provider(&ctx, &lead, &school, google())
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::MfaRequired, "{err:?}");
        assert_eq!(
            err.details(),
            vec![("enable_at", serde_json::json!("/account/mfa"))]
        );
        let err = kw
            .remove_sso_provider(&ctx, &lead, &school, &added.id)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::MfaRequired, "{err:?}");
    }
    assert_eq!(kw.sign_in_choices().await.unwrap().len(), 1);
    give_second_factor(&kw, &lead.user_id).await;
    lead.second_factor_at_provider = false;
    kw.add_sso_provider(&ctx, &lead, &school, google())
        .await
        .unwrap();
    kw.remove_sso_provider(&ctx, &lead, &school, &added.id)
        .await
        .unwrap();
    kw.remove_sso_provider(
        &ctx,
        &operator,
        &school,
        &kw.sign_in_choices().await.unwrap()[0].provider_id,
    )
    .await
    .unwrap();
}
