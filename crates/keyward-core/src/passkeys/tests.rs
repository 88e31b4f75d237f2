//! Passkeys end to end in the core, with a software authenticator: staff
//! register, list, rename and remove them (the password again for the
//! changes), use one as the second step or to sign in without a password;
//! ceremonies are used once, also when finished in parallel, and expire;
//! learners need their school's switch; bad answers change nothing.

use std::sync::Arc;

use futures_util::future::join_all;
use serde_json::json;

use super::soft_authenticator::SoftPasskey;
use super::*;
use crate::accounts::PendingSignIn;
use crate::testing::{
    DEMO_PASSWORD, MONDAY_MORNING, TestDb, account_named, actor_named, audited_actions, ctx_at,
    seed_demo_people, settings_for,
};
use crate::types::random::SeededRandom;

const ORIGIN: &str = "http://localhost:8080";

/// The demo school on a server at `http://localhost:8080` (an IP address
/// cannot be a relying party).
async fn passkey_keyward(seed: u64) -> (Arc<Keyward>, TestDb, SeededRandom) {
    let db = TestDb::new().await;
    let mut settings = settings_for(&db);
    settings.server.public_url = Url::parse(ORIGIN).unwrap();
    let kw = Keyward::new(db.db.clone(), settings, &SeededRandom::new(99)).unwrap();
    let rng = SeededRandom::new(seed);
    seed_demo_people(&kw, &rng).await;
    (kw, db, rng)
}

/// Registers `authenticator` as `name` for `username`.
async fn register(
    kw: &Keyward,
    rng: &SeededRandom,
    username: &str,
    name: &str,
    authenticator: &mut SoftPasskey,
) -> Result<PasskeySummary, PasskeyError> {
    let ctx = ctx_at(MONDAY_MORNING, rng);
    let account = account_named(kw, username).await;
    let started = kw
        .start_passkey_registration(&ctx, &account, name, &Password::from(DEMO_PASSWORD))
        .await?;
    let answer = authenticator.register(&started.options);
    kw.finish_passkey_registration(&ctx, &account, &started.ceremony, &answer)
        .await
}

/// Signs in with `authenticator` from the first screen; the account signed in.
async fn sign_in_without_password(
    kw: &Keyward,
    ctx: &Ctx<'_>,
    authenticator: &mut SoftPasskey,
) -> Result<Account, PasskeyError> {
    let started = kw.start_passkey_sign_in(ctx).await?;
    let answer = authenticator
        .sign_in(&started.options)
        .expect("a discoverable request offers every passkey");
    kw.finish_passkey_sign_in(ctx, &started.ceremony, &answer)
        .await
        .map(|signed_in| signed_in.account)
}

/// Signs `username` in with the demo password: the pending second step.
async fn password_step(kw: &Keyward, ctx: &Ctx<'_>, username: &str) -> PendingSignIn {
    kw.sign_in(ctx, username, Password::from(DEMO_PASSWORD))
        .await
        .unwrap()
        .second_step()
        .expect("a second step for an account with a passkey")
}

#[tokio::test]
async fn staff_register_a_passkey_and_sign_in_with_it_without_a_password() {
    let (kw, _db, rng) = passkey_keyward(1).await;
    let mut laptop = SoftPasskey::new(1, ORIGIN);
    let added = register(&kw, &rng, "demo.teacher", "  School laptop ", &mut laptop)
        .await
        .unwrap();
    assert_eq!(added.name, "School laptop");
    let teacher = account_named(&kw, "demo.teacher").await;
    assert_eq!(
        kw.list_passkeys(&teacher).await.unwrap(),
        vec![added.clone()]
    );
    assert_eq!(audited_actions(&kw, 1).await, ["passkey.register"]);

    let later = ctx_at(MONDAY_MORNING.plus(Duration::from_secs(60)), &rng);
    let account = sign_in_without_password(&kw, &later, &mut laptop)
        .await
        .unwrap();
    assert_eq!(account.id, teacher.id);
    let listed = kw.list_passkeys(&teacher).await.unwrap();
    assert_eq!(listed[0].last_used_at, Some(later.now));

    // The options asked for a discoverable, user-verifying credential.
    let started = kw
        .start_passkey_registration(&later, &teacher, "Phone", &Password::from(DEMO_PASSWORD))
        .await
        .unwrap();
    let selection = &started.options["publicKey"]["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "required");
    assert_eq!(selection["requireResidentKey"], true);
    assert_eq!(selection["userVerification"], "required");
    assert_eq!(started.options["publicKey"]["rp"]["id"], "localhost");
    // …and excluded the passkey the account already has.
    assert_eq!(
        started.options["publicKey"]["excludeCredentials"][0]["id"],
        laptop.credential_id()
    );
}

#[tokio::test]
async fn the_second_step_takes_the_accounts_own_passkey_and_no_other() {
    let (kw, _db, rng) = passkey_keyward(2).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let mut mine = SoftPasskey::new(2, ORIGIN);
    let mut theirs = SoftPasskey::new(3, ORIGIN);
    // Without a passkey, the password alone signs in.
    assert!(
        kw.sign_in(&ctx, "demo.teacher", Password::from(DEMO_PASSWORD))
            .await
            .unwrap()
            .complete()
            .is_some()
    );
    register(&kw, &rng, "demo.teacher", "Key", &mut mine)
        .await
        .unwrap();
    register(&kw, &rng, "demo.lead", "Key", &mut theirs)
        .await
        .unwrap();
    let teacher = account_named(&kw, "demo.teacher").await;

    // With one, the password leads to a second step that asks for it.
    let pending = password_step(&kw, &ctx, "demo.teacher").await;
    assert!(pending.second_factors.passkeys);
    assert!(!pending.second_factors.totp);
    let started = kw
        .start_passkey_second_step(&ctx, &pending.token)
        .await
        .unwrap();
    let allowed = started.options["publicKey"]["allowCredentials"]
        .as_array()
        .unwrap();
    assert_eq!(
        allowed.len(),
        1,
        "only the teacher's own passkey is offered"
    );
    assert!(theirs.sign_in(&started.options).is_none());
    // The lead's passkey, answering anyway, is refused.
    let mut open = started.options.clone();
    open["publicKey"]["allowCredentials"] = json!([]);
    let answer = theirs.sign_in(&open).unwrap();
    let err = kw
        .finish_sign_in_with_passkey(&ctx, &pending.token, &started.ceremony, &answer)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "passkey_rejected");
    assert_eq!(audited_actions(&kw, 1).await, ["passkey.assertion"]);

    // Another pending sign-in cannot finish the teacher's ceremony.
    let lead_step = password_step(&kw, &ctx, "demo.lead").await;
    let started = kw
        .start_passkey_second_step(&ctx, &pending.token)
        .await
        .unwrap();
    let answer = mine.sign_in(&started.options).unwrap();
    let err = kw
        .finish_sign_in_with_passkey(&ctx, &lead_step.token, &started.ceremony, &answer)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "passkey_ceremony_expired");

    let started = kw
        .start_passkey_second_step(&ctx, &pending.token)
        .await
        .unwrap();
    let answer = mine.sign_in(&started.options).unwrap();
    let signed_in = kw
        .finish_sign_in_with_passkey(&ctx, &pending.token, &started.ceremony, &answer)
        .await
        .unwrap();
    assert_eq!(signed_in.account.id, teacher.id);
    assert!(
        kw.current_session(&ctx, &signed_in.session_token)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(audited_actions(&kw, 1).await, ["sign_in"]);
    // The step is used up.
    let err = kw
        .start_passkey_second_step(&ctx, &pending.token)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "sign_in_step_expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_ceremonies_of_one_pending_sign_in_open_one_session() {
    let (kw, _db, rng) = passkey_keyward(12).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let mut key = SoftPasskey::new(13, ORIGIN);
    register(&kw, &rng, "demo.teacher", "Key", &mut key)
        .await
        .unwrap();
    let pending = Arc::new(password_step(&kw, &ctx, "demo.teacher").await);
    let mut answers = Vec::new();
    for _ in 0..6 {
        let started = kw
            .start_passkey_second_step(&ctx, &pending.token)
            .await
            .unwrap();
        let answer = key.sign_in(&started.options).unwrap();
        answers.push((Arc::new(started.ceremony), answer));
    }
    let finishes = answers
        .into_iter()
        .enumerate()
        .map(|(i, (ceremony, answer))| {
            let (kw, pending) = (kw.clone(), pending.clone());
            tokio::spawn(async move {
                let rng = SeededRandom::new(300 + i as u64);
                let ctx = ctx_at(MONDAY_MORNING, &rng);
                kw.finish_sign_in_with_passkey(&ctx, &pending.token, &ceremony, &answer)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.code().as_str())
            })
        });
    let outcomes: Vec<_> = join_all(finishes)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(
        outcomes.iter().all(|o| o.is_ok()
            || *o == Err("sign_in_step_expired")
            || *o == Err("passkey_rejected")),
        "{outcomes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_finishes_of_one_ceremony_give_one_success() {
    let (kw, _db, rng) = passkey_keyward(3).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = account_named(&kw, "demo.teacher").await;

    // One registration, its answer sent 12 times at once: one passkey.
    let mut key = SoftPasskey::new(4, ORIGIN);
    let started = kw
        .start_passkey_registration(&ctx, &teacher, "Key", &Password::from(DEMO_PASSWORD))
        .await
        .unwrap();
    let answer = key.register(&started.options);
    let ceremony = Arc::new(started.ceremony);
    let finishes = (0..12).map(|i| {
        let (kw, teacher, answer, ceremony) = (
            kw.clone(),
            teacher.clone(),
            answer.clone(),
            ceremony.clone(),
        );
        tokio::spawn(async move {
            let rng = SeededRandom::new(100 + i);
            let ctx = ctx_at(MONDAY_MORNING, &rng);
            kw.finish_passkey_registration(&ctx, &teacher, &ceremony, &answer)
                .await
                .map_err(|e| e.code().as_str())
        })
    });
    let outcomes: Vec<_> = join_all(finishes)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .all(|o| o.is_ok() || *o == Err("passkey_ceremony_expired"))
    );
    assert_eq!(kw.list_passkeys(&teacher).await.unwrap().len(), 1);

    // One passwordless sign-in, its answer sent 12 times at once: one account.
    let started = kw.start_passkey_sign_in(&ctx).await.unwrap();
    let answer = key.sign_in(&started.options).unwrap();
    let ceremony = Arc::new(started.ceremony);
    let finishes = (0..12).map(|i| {
        let (kw, answer, ceremony) = (kw.clone(), answer.clone(), ceremony.clone());
        tokio::spawn(async move {
            let rng = SeededRandom::new(200 + i);
            let ctx = ctx_at(MONDAY_MORNING, &rng);
            kw.finish_passkey_sign_in(&ctx, &ceremony, &answer)
                .await
                .map(|signed_in| signed_in.account.id)
                .map_err(|e| e.code().as_str())
        })
    });
    let outcomes: Vec<_> = join_all(finishes)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .all(|o| o.is_ok() || *o == Err("passkey_ceremony_expired"))
    );
}

#[tokio::test]
async fn an_expired_ceremony_is_refused() {
    let (kw, _db, rng) = passkey_keyward(4).await;
    let teacher = account_named(&kw, "demo.teacher").await;
    let start = ctx_at(MONDAY_MORNING, &rng);
    let late = ctx_at(MONDAY_MORNING.plus(CEREMONY_TTL), &rng);
    let mut key = SoftPasskey::new(5, ORIGIN);
    let started = kw
        .start_passkey_registration(&start, &teacher, "Key", &Password::from(DEMO_PASSWORD))
        .await
        .unwrap();
    let answer = key.register(&started.options);
    let err = kw
        .finish_passkey_registration(&late, &teacher, &started.ceremony, &answer)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "passkey_ceremony_expired");
    assert!(kw.list_passkeys(&teacher).await.unwrap().is_empty());

    register(&kw, &rng, "demo.teacher", "Key", &mut key)
        .await
        .unwrap();
    let started = kw.start_passkey_sign_in(&start).await.unwrap();
    let answer = key.sign_in(&started.options).unwrap();
    let err = kw
        .finish_passkey_sign_in(&late, &started.ceremony, &answer)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "passkey_ceremony_expired");

    // The purge removes ceremonies left unfinished once they expire.
    kw.start_passkey_sign_in(&start).await.unwrap();
    let report = kw.purge_expired(&start).await.unwrap();
    assert_eq!(report.webauthn_ceremonies, 0);
    let report = kw.purge_expired(&late).await.unwrap();
    assert_eq!(report.webauthn_ceremonies, 1);
}

#[tokio::test]
async fn learners_use_passkeys_only_when_their_school_switches_them_on() {
    let (kw, _db, rng) = passkey_keyward(5).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let mut key = SoftPasskey::new(6, ORIGIN);
    let err = register(&kw, &rng, "demo.amy", "Tablet", &mut key)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "passkeys_off");
    let amy = account_named(&kw, "demo.amy").await;
    assert_eq!(
        kw.passkeys_allowed(&amy).await.unwrap_err().code(),
        "passkeys_off"
    );

    // Parents and other staff may, without any switch.
    let mut other = SoftPasskey::new(7, ORIGIN);
    register(&kw, &rng, "demo.parent", "Phone", &mut other)
        .await
        .unwrap();

    let school = amy.school_id.clone().unwrap();
    let teacher = actor_named(&kw, "demo.teacher").await;
    assert!(!kw.learner_passkeys(&ctx, &teacher, &school).await.unwrap());
    let err = kw
        .set_learner_passkeys(&ctx, &teacher, &school, true)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
    let lead = actor_named(&kw, "demo.lead").await;
    kw.set_learner_passkeys(&ctx, &lead, &school, true)
        .await
        .unwrap();
    assert!(kw.learner_passkeys(&ctx, &teacher, &school).await.unwrap());
    register(&kw, &rng, "demo.amy", "Tablet", &mut key)
        .await
        .unwrap();
    assert_eq!(
        sign_in_without_password(&kw, &ctx, &mut key)
            .await
            .unwrap()
            .id,
        amy.id
    );

    // A registration under way when the school switches off is refused.
    let started = kw
        .start_passkey_registration(&ctx, &amy, "Second", &Password::from(DEMO_PASSWORD))
        .await
        .unwrap();
    let removed = kw
        .set_learner_passkeys(&ctx, &lead, &school, false)
        .await
        .unwrap();
    assert_eq!(removed, 1, "switching off removes the learners' passkeys");
    assert!(kw.list_passkeys(&amy).await.unwrap().is_empty());
    let answer = SoftPasskey::new(8, ORIGIN).register(&started.options);
    let err = kw
        .finish_passkey_registration(&ctx, &amy, &started.ceremony, &answer)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "passkeys_off");
    assert!(kw.list_passkeys(&amy).await.unwrap().is_empty());
    // The parent's passkey stays.
    let parent = account_named(&kw, "demo.parent").await;
    assert_eq!(kw.list_passkeys(&parent).await.unwrap().len(), 1);
    // Amy's authenticator still holds the credential; keyward no longer takes it.
    let err = sign_in_without_password(&kw, &ctx, &mut key)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "passkey_rejected");
}

#[tokio::test]
async fn registering_and_removing_need_the_password_again() {
    let (kw, _db, rng) = passkey_keyward(6).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = account_named(&kw, "demo.teacher").await;
    let err = kw
        .start_passkey_registration(&ctx, &teacher, "Key", &Password::from("not it"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "wrong_current_password");
    assert_eq!(audited_actions(&kw, 1).await, ["passkey.register"]);

    let mut key = SoftPasskey::new(9, ORIGIN);
    let added = register(&kw, &rng, "demo.teacher", "Key", &mut key)
        .await
        .unwrap();
    let err = kw
        .remove_passkey(&ctx, &teacher, &added.id, &Password::from("not it"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "wrong_current_password");
    assert_eq!(kw.list_passkeys(&teacher).await.unwrap().len(), 1);

    // Nobody removes another's passkey, even with their own password.
    let lead = account_named(&kw, "demo.lead").await;
    let err = kw
        .remove_passkey(&ctx, &lead, &added.id, &Password::from(DEMO_PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found");

    let renamed = kw
        .rename_passkey(&ctx, &teacher, &added.id, "Blue key")
        .await
        .unwrap();
    assert_eq!(renamed.name, "Blue key");
    kw.remove_passkey(&ctx, &teacher, &added.id, &Password::from(DEMO_PASSWORD))
        .await
        .unwrap();
    assert!(kw.list_passkeys(&teacher).await.unwrap().is_empty());
    assert_eq!(audited_actions(&kw, 1).await, ["passkey.remove"]);
    // The removed passkey signs nobody in.
    let err = sign_in_without_password(&kw, &ctx, &mut key)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "passkey_rejected");
}

#[tokio::test]
async fn bad_answers_are_refused_and_change_nothing() {
    let (kw, _db, rng) = passkey_keyward(7).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = account_named(&kw, "demo.teacher").await;
    let mut key = SoftPasskey::new(10, ORIGIN);

    for bad in [
        json!({"id": 1}),
        json!("not a credential"),
        json!({"id": "x", "rawId": "!!", "type": "public-key", "response": {}}),
    ] {
        let started = kw
            .start_passkey_registration(&ctx, &teacher, "Key", &Password::from(DEMO_PASSWORD))
            .await
            .unwrap();
        let err = kw
            .finish_passkey_registration(&ctx, &teacher, &started.ceremony, &bad)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "passkey_response_invalid", "{bad}");
    }
    // An answer to another challenge does not verify.
    let first = kw
        .start_passkey_registration(&ctx, &teacher, "Key", &Password::from(DEMO_PASSWORD))
        .await
        .unwrap();
    let second = kw
        .start_passkey_registration(&ctx, &teacher, "Key", &Password::from(DEMO_PASSWORD))
        .await
        .unwrap();
    let answer = key.register(&first.options);
    let err = kw
        .finish_passkey_registration(&ctx, &teacher, &second.ceremony, &answer)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "passkey_response_invalid");
    // A ceremony handle nobody issued.
    let err = kw
        .finish_passkey_registration(&ctx, &teacher, &Token::generate(&rng).unwrap(), &answer)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "passkey_ceremony_expired");
    assert!(kw.list_passkeys(&teacher).await.unwrap().is_empty());

    // Names: 1 to 64 characters.
    for name in ["", "   ", &"x".repeat(65), "tab\there"] {
        let err = kw
            .start_passkey_registration(&ctx, &teacher, name, &Password::from(DEMO_PASSWORD))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_name", "{name:?}");
    }

    // The same credential twice is refused.
    register(&kw, &rng, "demo.teacher", "Key", &mut key)
        .await
        .unwrap();
    let err = register(&kw, &rng, "demo.lead", "Key", &mut key)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "passkey_taken");

    // A tampered signature, or a malformed assertion, signs nobody in.
    let started = kw.start_passkey_sign_in(&ctx).await.unwrap();
    let mut answer = key.sign_in(&started.options).unwrap();
    answer["response"]["signature"] = json!("MEUCIQ");
    let err = kw
        .finish_passkey_sign_in(&ctx, &started.ceremony, &answer)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "passkey_rejected");
    let started = kw.start_passkey_sign_in(&ctx).await.unwrap();
    let err = kw
        .finish_passkey_sign_in(&ctx, &started.ceremony, &json!({"rawId": []}))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "passkey_response_invalid");
}

#[tokio::test]
async fn a_replayed_signature_counter_is_refused() {
    let (kw, _db, rng) = passkey_keyward(8).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let mut key = SoftPasskey::new(11, ORIGIN);
    register(&kw, &rng, "demo.teacher", "Key", &mut key)
        .await
        .unwrap();
    sign_in_without_password(&kw, &ctx, &mut key).await.unwrap();
    sign_in_without_password(&kw, &ctx, &mut key).await.unwrap();
    // A clone of the authenticator, one use behind.
    key.set_counter(1);
    let err = sign_in_without_password(&kw, &ctx, &mut key)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "passkey_rejected");
}

#[tokio::test]
async fn failed_assertions_are_throttled_per_address() {
    let (kw, _db, rng) = passkey_keyward(9).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let mut key = SoftPasskey::new(12, ORIGIN);
    register(&kw, &rng, "demo.teacher", "Key", &mut key)
        .await
        .unwrap();
    let mut answers = Vec::new();
    for _ in 0..14 {
        let started = kw.start_passkey_sign_in(&ctx).await.unwrap();
        let mut answer = key.sign_in(&started.options).unwrap();
        answer["response"]["signature"] = json!("MEUCIQ");
        let outcome = kw
            .finish_passkey_sign_in(&ctx, &started.ceremony, &answer)
            .await
            .unwrap_err();
        answers.push(outcome.code().as_str());
    }
    // Ten free failures, one more try, then a wait.
    assert_eq!(
        answers.iter().filter(|a| **a == "passkey_rejected").count(),
        11
    );
    assert_eq!(answers.last(), Some(&"too_many_attempts"));
    // The rightful passkey waits too, from that address…
    let err = sign_in_without_password(&kw, &ctx, &mut key)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "too_many_attempts");
    // …but not from another.
    let elsewhere = Ctx::new(MONDAY_MORNING, &rng).with_client(Some("198.51.100.7".into()), None);
    sign_in_without_password(&kw, &elsewhere, &mut key)
        .await
        .unwrap();
}

#[tokio::test]
async fn passkeys_need_a_domain_name_not_an_ip_address() {
    let (kw, _db, rng) = crate::testing::demo_keyward(10).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = account_named(&kw, "demo.teacher").await;
    assert_eq!(
        kw.passkeys_allowed(&teacher).await.unwrap_err().code(),
        "passkeys_unavailable"
    );
    let err = kw.start_passkey_sign_in(&ctx).await.unwrap_err();
    assert_eq!(err.code(), "passkeys_unavailable");
}

#[test]
fn a_started_ceremony_never_prints_its_handle() {
    let rng = SeededRandom::new(1);
    let challenge = PasskeyChallenge {
        ceremony: Token::generate(&rng).unwrap(),
        options: json!({}),
    };
    let handle = challenge.ceremony.expose().to_owned();
    assert!(!format!("{challenge:?}").contains(&handle));
}
