//! Use-case tests of API tokens, on the backend the test run uses: creation
//! capped by what the owner holds, the secret shown once and kept as a
//! digest, expiry and revocation refused, who may revoke whose, and every
//! action done through a token audited under it.

use super::*;
use crate::testing::{MONDAY_MORNING, actor_named, create_pending_user, ctx_at, demo_keyward};

fn new_token(permissions: &[Permission]) -> NewToken {
    NewToken {
        name: "Nightly sync".into(),
        permissions: PermissionSet::of(permissions),
        school_id: None,
        expires_in_days: None,
    }
}

#[tokio::test]
async fn a_token_acts_as_its_owner_narrowed_and_its_secret_is_never_kept() {
    let (kw, _db, rng) = demo_keyward(71).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let created = kw
        .create_token(&ctx, &lead, &new_token(&[Permission::UsersView]))
        .await
        .unwrap();
    let secret = created.secret.expose().to_owned();
    assert!(secret.starts_with("kw_") && secret.len() == 46, "{secret}");
    assert!(!format!("{created:?}").contains(&secret));
    assert_eq!(
        created.summary.expires_at.secs(),
        MONDAY_MORNING.secs() + 90 * 86_400
    );

    let actor = kw.bearer_actor(&ctx, &secret).await.unwrap();
    assert_eq!(actor.user_id, lead.user_id);
    assert_eq!(
        actor.permissions(),
        PermissionSet::of(&[Permission::UsersView])
    );
    assert_eq!(actor.api_token_id(), Some(created.summary.id.as_str()));

    // The listing shows it, without the secret; the audit trail never has it.
    let lists = kw.list_tokens(&lead).await.unwrap();
    assert_eq!(lists.own.len(), 1);
    assert!(!format!("{lists:?}").contains(&secret));
    for row in crate::audit::recent(&kw.db, 50).await.unwrap() {
        assert!(!format!("{row:?}").contains(&secret[3..]));
    }
    let digest = created.secret.digest();
    assert!(
        store::find_by_secret(&kw.db, &digest)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn nobody_gives_a_token_more_than_they_hold_or_a_bad_expiry() {
    let (kw, _db, rng) = demo_keyward(72).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = actor_named(&kw, "demo.teacher").await;
    let learner = actor_named(&kw, "demo.amy").await;
    let refused = |r: Result<CreatedToken, TokenError>| r.unwrap_err().code();
    assert_eq!(
        refused(
            kw.create_token(&ctx, &teacher, &new_token(&[Permission::UsersView]))
                .await
        ),
        Code::Forbidden
    );
    assert_eq!(
        refused(
            kw.create_token(&ctx, &learner, &new_token(&[Permission::LearnersView]))
                .await
        ),
        Code::Forbidden
    );
    assert_eq!(
        refused(kw.create_token(&ctx, &teacher, &new_token(&[])).await),
        Code::TokenPermissionsInvalid
    );
    let mut long = new_token(&[Permission::LearnersView]);
    long.expires_in_days = Some(366);
    assert_eq!(
        refused(kw.create_token(&ctx, &teacher, &long).await),
        Code::TokenExpiryInvalid
    );
    long.expires_in_days = Some(0);
    assert_eq!(
        refused(kw.create_token(&ctx, &teacher, &long).await),
        Code::TokenExpiryInvalid
    );
    let mut unnamed = new_token(&[Permission::LearnersView]);
    unnamed.name = "  ".into();
    assert_eq!(
        refused(kw.create_token(&ctx, &teacher, &unnamed).await),
        Code::InvalidName
    );
    unnamed.name = "Sync\n=cmd\u{0}".into();
    assert_eq!(
        refused(kw.create_token(&ctx, &teacher, &unnamed).await),
        Code::InvalidName
    );
    // A token never mints another.
    let created = kw
        .create_token(&ctx, &teacher, &new_token(&[Permission::LearnersView]))
        .await
        .unwrap();
    let through = kw
        .bearer_actor(&ctx, created.secret.expose())
        .await
        .unwrap();
    assert_eq!(
        refused(
            kw.create_token(&ctx, &through, &new_token(&[Permission::LearnersView]))
                .await
        ),
        Code::Forbidden
    );
}

#[tokio::test]
async fn expired_revoked_and_unknown_tokens_are_refused_and_audited() {
    let (kw, _db, rng) = demo_keyward(73).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let mut short = new_token(&[Permission::UsersView]);
    short.expires_in_days = Some(1);
    let created = kw.create_token(&ctx, &lead, &short).await.unwrap();
    let secret = created.secret.expose();
    let later = UnixTime(MONDAY_MORNING.secs() + 86_400);
    let code = |r: Result<Actor, BearerError>| r.unwrap_err().code();
    assert_eq!(
        code(kw.bearer_actor(&ctx_at(later, &rng), secret).await),
        Code::TokenExpired
    );
    assert_eq!(
        code(kw.bearer_actor(&ctx, "kw_nope").await),
        Code::TokenInvalid
    );
    assert_eq!(
        code(kw.bearer_actor(&ctx, &secret[3..]).await),
        Code::TokenInvalid
    );
    let unknown = Token::generate_prefixed(TOKEN_PREFIX, &rng).unwrap();
    assert_eq!(
        code(kw.bearer_actor(&ctx, unknown.expose()).await),
        Code::TokenInvalid
    );

    let id = &created.summary.id;
    assert_eq!(
        kw.revoke_token(&ctx, &lead, id).await.unwrap(),
        Revoked::Now
    );
    assert_eq!(
        kw.revoke_token(&ctx, &lead, id).await.unwrap(),
        Revoked::Already
    );
    assert_eq!(
        code(kw.bearer_actor(&ctx, secret).await),
        Code::TokenRevoked
    );

    let rows = crate::audit::recent(&kw.db, 20).await.unwrap();
    let refused: Vec<_> = rows
        .iter()
        .filter(|r| r.action == action::TOKEN_REFUSED)
        .collect();
    // The expired and the revoked token; malformed and unknown secrets are
    // logged only (anyone could send them).
    assert_eq!(refused.len(), 2);
    assert!(
        refused
            .iter()
            .all(|r| r.target_id.as_deref() == Some(lead.user_id.as_str()))
    );
    assert!(
        refused
            .iter()
            .any(|r| r.api_token_id.as_deref() == Some(id.as_str())
                && r.detail.as_deref() == Some("revoked"))
    );
    assert_eq!(
        rows.iter()
            .filter(|r| r.action == action::TOKEN_REVOKE)
            .count(),
        1
    );
}

#[tokio::test]
async fn the_lead_revokes_a_teachers_token_and_the_teacher_cannot_touch_the_leads() {
    let (kw, _db, rng) = demo_keyward(74).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let teacher = actor_named(&kw, "demo.teacher").await;
    let teachers = kw
        .create_token(&ctx, &teacher, &new_token(&[Permission::LearnersView]))
        .await
        .unwrap();
    let leads = kw
        .create_token(&ctx, &lead, &new_token(&[Permission::UsersView]))
        .await
        .unwrap();
    let seen = kw.list_tokens(&lead).await.unwrap();
    assert_eq!(seen.managed.len(), 1);
    assert_eq!(seen.managed[0].id, teachers.summary.id);
    assert!(kw.list_tokens(&teacher).await.unwrap().managed.is_empty());
    assert_eq!(
        kw.revoke_token(&ctx, &teacher, &leads.summary.id)
            .await
            .unwrap_err()
            .code(),
        Code::Forbidden
    );
    assert_eq!(
        kw.revoke_token(&ctx, &lead, &teachers.summary.id)
            .await
            .unwrap(),
        Revoked::Now
    );
}

#[tokio::test]
async fn an_action_through_a_token_is_audited_under_the_token() {
    let (kw, _db, rng) = demo_keyward(75).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let created = kw
        .create_token(&ctx, &lead, &new_token(&[Permission::UsersManage]))
        .await
        .unwrap();
    let through = kw
        .bearer_actor(&ctx, created.secret.expose())
        .await
        .unwrap();
    create_pending_user(&kw, &ctx, &through, Role::Parent, ("Tia", "Token"), &[]).await;
    let rows = crate::audit::recent(&kw.db, 5).await.unwrap();
    let row = rows
        .iter()
        .find(|r| r.action == action::USER_CREATE)
        .unwrap();
    assert_eq!(row.actor_id.as_deref(), Some(lead.user_id.as_str()));
    assert_eq!(
        row.api_token_id.as_deref(),
        Some(created.summary.id.as_str())
    );
}

#[tokio::test]
async fn a_platform_admins_token_for_one_school_lists_only_that_school() {
    let (kw, _db, rng) = demo_keyward(76).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let admin = actor_named(&kw, "demo.admin").await;
    let lead = actor_named(&kw, "demo.lead").await;
    let school = lead.school_id.clone().unwrap();
    let other = kw
        .create_school(&ctx, &admin, "Hill Top Academy")
        .await
        .unwrap();
    let mut scoped = new_token(&[Permission::UsersView]);
    scoped.school_id = Some(school.clone());
    let created = kw.create_token(&ctx, &admin, &scoped).await.unwrap();
    let through = kw
        .bearer_actor(&ctx, created.secret.expose())
        .await
        .unwrap();
    let query = crate::admin::UserQuery::default();
    let found = kw.find_users(&ctx, &through, &query).await.unwrap().users;
    assert!(
        found
            .iter()
            .all(|a| a.account.school_id.as_ref() == Some(&school))
    );
    assert!(!found.is_empty());
    let elsewhere = crate::admin::UserQuery {
        school: Some(other.id),
        ..Default::default()
    };
    assert_eq!(
        kw.find_users(&ctx, &through, &elsewhere)
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
}

/// Two instances on one database: a token revoked on one is refused by the
/// other at once (nothing about tokens is kept in a process), and of
/// parallel revokes on both exactly one revokes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_revoked_on_one_instance_is_refused_by_the_other() {
    let (kw, db, rng) = demo_keyward(77).await;
    let second = crate::testing::second_instance(&db).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let created = kw
        .create_token(&ctx, &lead, &new_token(&[Permission::UsersView]))
        .await
        .unwrap();
    let secret = created.secret.expose();
    second.bearer_actor(&ctx, secret).await.unwrap();
    let id = &created.summary.id;
    let answers = futures_util::future::join_all((0..8).map(|i| {
        let instance = if i % 2 == 0 { &kw } else { &second };
        instance.revoke_token(&ctx, &lead, id)
    }))
    .await;
    let now = answers
        .iter()
        .filter(|a| matches!(a, Ok(Revoked::Now)))
        .count();
    assert_eq!(now, 1, "{answers:?}");
    for instance in [&kw, &second] {
        let refused = instance.bearer_actor(&ctx, secret).await.unwrap_err();
        assert_eq!(refused.code(), Code::TokenRevoked);
    }
}
