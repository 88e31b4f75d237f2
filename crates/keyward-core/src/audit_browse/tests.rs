//! Browsing the audit log on the backend of the run: scope, every filter,
//! keyset pages while rows arrive, the streamed CSV, and rows that never
//! hold a secret.

use std::collections::BTreeSet;
use std::sync::Arc;

use futures_util::StreamExt;

use super::*;
use crate::accounts::SignInOutcome;
use crate::audit::{AuditQueryText, InvalidFilter};
use crate::authz::Permission;
use crate::classroom::passwords::NewPasswordChoice;
use crate::mfa::{SecondStepCode, TotpCode, code_for};
use crate::recovery::RecoveryInput;
use crate::settings::MailTransportKind;
use crate::testing::{
    DEMO_PASSWORD, MONDAY_MORNING, TestDb, account_named, actor_named, create_pending_user, ctx_at,
    demo_class, grant_through_custom_role, parse_csv, seed_demo_people, settings_for, view_ctx,
};
use crate::types::random::SeededRandom;
use crate::types::{Password, TypedCode};

struct World {
    kw: Arc<Keyward>,
    _db: TestDb,
    _dir: tempfile::TempDir,
    rng: SeededRandom,
}

/// The demo school, with mail written to files and readable back.
async fn world() -> World {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings_for(&db);
    settings.server.data_dir = dir.path().to_path_buf();
    settings.mail.transport = MailTransportKind::File;
    settings.mail.dev_inbox = true;
    let kw = Keyward::new(db.db.clone(), settings, &SeededRandom::new(1)).unwrap();
    let rng = SeededRandom::new(2);
    seed_demo_people(&kw, &rng).await;
    World {
        kw,
        _db: db,
        _dir: dir,
        rng,
    }
}

impl World {
    fn ctx(&self) -> Ctx<'_> {
        ctx_at(MONDAY_MORNING, &self.rng)
    }

    async fn school(&self) -> SchoolId {
        actor_named(&self.kw, "demo.lead").await.school_id.unwrap()
    }

    async fn browse(&self, who: &str, text: AuditQueryText) -> Result<AuditPage, AuditError> {
        let actor = actor_named(&self.kw, who).await;
        let query = AuditQuery::parse(&text).unwrap();
        self.kw.browse_audit(&view_ctx(), &actor, &query).await
    }

    /// Every row `who` may see with these filters, following the pages.
    async fn all(&self, who: &str, mut text: AuditQueryText) -> Vec<AuditRecord> {
        text.limit = "500".into();
        let mut out = Vec::new();
        loop {
            let page = self.browse(who, text.clone()).await.unwrap();
            out.extend(page.entries);
            match page.older {
                Some(before) => text.before = before.to_string(),
                None => return out,
            }
        }
    }

    async fn row(&self, entry: AuditEntry<'_>) {
        audit::insert(self.kw.db().pool(), &entry).await.unwrap();
    }
}

fn entry<'a>(act: &'static str, school: Option<&'a str>) -> AuditEntry<'a> {
    AuditEntry {
        at: MONDAY_MORNING,
        actor_id: None,
        target_id: None,
        school_id: school,
        action: act,
        outcome: "success",
        client_addr: Some("192.0.2.1"),
        detail: None,
        api_token: None,
    }
}

fn filters(f: impl FnOnce(&mut AuditQueryText)) -> AuditQueryText {
    let mut text = AuditQueryText::default();
    f(&mut text);
    text
}

fn actions(rows: &[AuditRecord]) -> Vec<&str> {
    rows.iter().map(|r| r.action.as_str()).collect()
}

#[tokio::test]
async fn a_lead_teacher_sees_their_school_only_and_a_platform_admin_everything() {
    let w = world().await;
    let school = w.school().await;
    let elsewhere = SchoolId::generate(&w.rng).unwrap();
    w.row(entry("test.ours", Some(school.as_str()))).await;
    w.row(entry("test.theirs", Some(elsewhere.as_str()))).await;
    w.row(entry("test.nobody", None)).await;
    let only_tests = || filters(|t| t.action = "test.".into());

    let lead = w.all("demo.lead", only_tests()).await;
    assert_eq!(actions(&lead), ["test.ours"]);
    assert!(
        w.all("demo.lead", AuditQueryText::default())
            .await
            .iter()
            .all(|r| r.school_id.as_deref() == Some(school.as_str()))
    );

    let admin = w.all("demo.admin", only_tests()).await;
    assert_eq!(actions(&admin), ["test.nobody", "test.theirs", "test.ours"]);
    let one_school = w
        .all(
            "demo.admin",
            filters(|t| {
                t.action = "test.".into();
                t.school_id = elsewhere.to_string();
            }),
        )
        .await;
    assert_eq!(actions(&one_school), ["test.theirs"]);

    // Another school's log is hidden from a lead teacher, and the refusal audited.
    let err = w
        .browse(
            "demo.lead",
            filters(|t| t.school_id = elsewhere.to_string()),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AuditError::Denied(Denied::Hidden)), "{err:?}");
    let denied = w
        .all("demo.admin", filters(|t| t.action = "authz.denied".into()))
        .await;
    assert!(
        denied[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("action=view_audit")
    );
}

#[tokio::test]
async fn a_teacher_needs_audit_view_and_a_custom_role_gives_it_for_their_school() {
    let w = world().await;
    let school = w.school().await;
    w.row(entry("test.ours", Some(school.as_str()))).await;
    w.row(entry("test.nobody", None)).await;
    let err = w
        .browse("demo.teacher", AuditQueryText::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, AuditError::Denied(Denied::Forbidden)),
        "{err:?}"
    );
    assert_eq!(err.code(), Code::Forbidden);

    let lead = actor_named(&w.kw, "demo.lead").await;
    grant_through_custom_role(
        &w.kw,
        &w.ctx(),
        &lead,
        "demo.teacher",
        &[Permission::AuditView],
    )
    .await;
    let seen = w
        .all("demo.teacher", filters(|t| t.action = "test.".into()))
        .await;
    assert_eq!(actions(&seen), ["test.ours"]);
}

#[tokio::test]
async fn a_school_s_auditor_sees_its_people_s_sign_ins_but_never_unknown_names() {
    let w = world().await;
    let ctx = w.ctx();
    let amy = account_named(&w.kw, "demo.amy").await;
    w.kw.sign_in(&ctx, "demo.amy", DEMO_PASSWORD.into())
        .await
        .unwrap();
    w.kw.sign_in(&ctx, "demo.amy", "not her password".into())
        .await
        .unwrap_err();
    w.kw.sign_in(&ctx, "no.such.person", "whatever".into())
        .await
        .unwrap_err();
    w.kw.request_recovery(
        &ctx,
        &RecoveryInput {
            username: Some("demo.lead".into()),
            email: None,
        },
    )
    .await
    .unwrap();
    w.kw.request_recovery(
        &ctx,
        &RecoveryInput {
            username: Some("no.such.person".into()),
            email: None,
        },
    )
    .await
    .unwrap();

    let sign_ins = w
        .all(
            "demo.lead",
            filters(|t| {
                t.action = "sign_in".into();
                t.person = "demo.amy".into();
            }),
        )
        .await;
    let outcomes: Vec<_> = sign_ins.iter().map(|r| r.outcome.as_str()).collect();
    assert_eq!(outcomes, ["failure", "success"]);
    let failure = &sign_ins[0];
    let target = failure.target.as_ref().unwrap();
    assert_eq!(target.id, amy.id.as_str());
    assert_eq!(target.username.as_deref(), Some("demo.amy"));
    assert!(failure.actor.is_none());
    let requests = w
        .all(
            "demo.lead",
            filters(|t| t.action = "recovery.request".into()),
        )
        .await;
    assert_eq!(
        requests.len(),
        1,
        "only the request naming a person of the school"
    );

    // Unknown names stay school-less: platform admins alone see them.
    let unknown = w
        .all(
            "demo.admin",
            filters(|t| {
                t.action = "sign_in".into();
                t.outcome = "failure".into();
            }),
        )
        .await;
    assert_eq!(unknown.len(), 2);
    assert!(unknown[0].target.is_none() && unknown[0].school_id.is_none());
}

#[tokio::test]
async fn each_filter_narrows_the_rows() {
    let w = world().await;
    let school = w.school().await;
    let s = Some(school.as_str());
    let lead = account_named(&w.kw, "demo.lead").await;
    let amy = account_named(&w.kw, "demo.amy").await;
    let day = 86_400;
    let at = |days: i64| UnixTime(MONDAY_MORNING.secs() + days * day);
    w.row(AuditEntry {
        at: at(1),
        actor_id: Some(lead.id.as_str()),
        target_id: Some(amy.id.as_str()),
        detail: Some("first"),
        ..entry("mfa.enrol", s)
    })
    .await;
    w.row(AuditEntry {
        at: at(2),
        actor_id: Some(amy.id.as_str()),
        outcome: "failure",
        detail: Some("second"),
        ..entry("mfa.code", s)
    })
    .await;
    w.row(AuditEntry {
        at: at(3),
        detail: Some("third"),
        ..entry("mfa_like", s)
    })
    .await;
    let later = |f: fn(&mut AuditQueryText)| {
        filters(move |t| {
            t.from = "2026-09-08".into();
            f(t);
        })
    };
    let details = |rows: Vec<AuditRecord>| -> Vec<String> {
        rows.into_iter().filter_map(|r| r.detail).collect()
    };
    assert_eq!(
        details(w.all("demo.lead", later(|_| {})).await),
        ["third", "second", "first"]
    );
    assert_eq!(
        details(
            w.all("demo.lead", later(|t| t.action = "mfa.".into()))
                .await
        ),
        ["second", "first"],
        "a prefix is taken literally: mfa_like is not under mfa."
    );
    assert_eq!(
        details(
            w.all("demo.lead", later(|t| t.action = "mfa.code".into()))
                .await
        ),
        ["second"]
    );
    assert_eq!(
        details(
            w.all("demo.lead", later(|t| t.outcome = "failure".into()))
                .await
        ),
        ["second"]
    );
    // A person as actor or as target, by username or by id.
    assert_eq!(
        details(
            w.all("demo.lead", later(|t| t.person = "DEMO.AMY".into()))
                .await
        ),
        ["second", "first"]
    );
    let by_id = filters(|t| {
        t.from = "2026-09-08".into();
        t.person = lead.id.to_string();
    });
    assert_eq!(details(w.all("demo.lead", by_id).await), ["first"]);
    assert!(
        w.all("demo.lead", later(|t| t.person = "no.such.person".into()))
            .await
            .is_empty()
    );
    // Days are whole UTC days, both ends included.
    assert_eq!(
        details(
            w.all(
                "demo.lead",
                filters(|t| {
                    t.from = "2026-09-09".into();
                    t.to = "2026-09-09".into();
                })
            )
            .await
        ),
        ["second"]
    );
    assert_eq!(
        details(
            w.all("demo.lead", later(|t| t.to = "2026-09-08".into()))
                .await
        ),
        ["first"]
    );
}

#[tokio::test]
async fn names_come_from_one_join_and_pending_placeholders_are_not_usernames() {
    let w = world().await;
    let ctx = w.ctx();
    let lead = actor_named(&w.kw, "demo.lead").await;
    let created = create_pending_user(
        &w.kw,
        &ctx,
        &lead,
        crate::types::Role::Learner,
        ("Nia", "New"),
        &[demo_class(&w.kw).await],
    )
    .await;
    let rows = w
        .all(
            "demo.lead",
            filters(|t| {
                t.action = "user.create".into();
                t.person = created.id.to_string();
            }),
        )
        .await;
    let target = rows[0].target.as_ref().unwrap();
    assert_eq!(target.username, None);
    assert_eq!(target.name.as_deref(), Some("Nia New"));
    let actor = rows[0].actor.as_ref().unwrap();
    assert_eq!(actor.username.as_deref(), Some("demo.lead"));
    assert_eq!(actor.name.as_deref(), Some("Lena Fischer"));
}

/// `count` rows of `act` in `school`, written in large statements.
async fn bulk_rows(kw: &Keyward, count: usize, school: Option<&SchoolId>, act: &str) {
    let school = school.map_or("NULL".to_owned(), |s| format!("'{s}'"));
    let mut written = 0;
    while written < count {
        let n = (count - written).min(500);
        let values: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    "({}, NULL, NULL, {school}, '{act}', 'success', '192.0.2.7', 'row {}')",
                    MONDAY_MORNING.secs(),
                    written + i
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO audit_log (at, actor_id, target_id, school_id, action, outcome, client_addr, detail) VALUES {}",
            values.join(", ")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(kw.db().pool())
            .await
            .unwrap();
        written += n;
    }
}

#[tokio::test]
async fn pages_lose_and_repeat_no_row_while_new_rows_arrive() {
    let w = world().await;
    let school = w.school().await;
    bulk_rows(&w.kw, 103, Some(&school), "test.page").await;
    let expected: Vec<i64> = w
        .all("demo.lead", filters(|t| t.action = "test.page".into()))
        .await
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(expected.len(), 103);

    // Walk back seven at a time while writers add rows concurrently.
    let writer = {
        let kw = w.kw.clone();
        let school = school.clone();
        tokio::spawn(async move {
            for _ in 0..20 {
                bulk_rows(&kw, 3, Some(&school), "test.page").await;
                tokio::task::yield_now().await;
            }
        })
    };
    let mut seen = Vec::new();
    let mut text = filters(|t| {
        t.action = "test.page".into();
        t.limit = "7".into();
        t.before = (expected[0] + 1).to_string();
    });
    let mut pages = Vec::new();
    loop {
        let page = w.browse("demo.lead", text.clone()).await.unwrap();
        assert!(page.entries.len() <= 7);
        seen.extend(page.entries.iter().map(|r| r.id));
        pages.push(page.clone());
        match page.older {
            Some(before) => text.before = before.to_string(),
            None => break,
        }
    }
    writer.await.unwrap();
    assert_eq!(seen, expected, "every row once, in order");
    assert_eq!(pages.len(), 15);

    // And forward again through the Newer links, to the rows that arrived.
    let mut text = filters(|t| {
        t.action = "test.page".into();
        t.limit = "7".into();
        t.after = (expected[expected.len() - 1] - 1).to_string();
    });
    let mut forward = BTreeSet::new();
    loop {
        let page = w.browse("demo.lead", text.clone()).await.unwrap();
        for r in &page.entries {
            assert!(forward.insert(r.id), "row {} twice", r.id);
        }
        match page.newer {
            Some(after) => {
                text.after = after.to_string();
                text.before.clear();
            }
            None => break,
        }
    }
    assert_eq!(forward.len(), 103 + 60);
}

async fn csv_of(w: &World, who: &str, text: AuditQueryText) -> (Vec<String>, Vec<Vec<String>>) {
    let actor = actor_named(&w.kw, who).await;
    let query = AuditQuery::parse(&text).unwrap();
    let csv =
        w.kw.export_audit_csv(&view_ctx(), &actor, &query)
            .await
            .unwrap();
    assert_eq!(csv.file_name, "audit-log-2026-09-07.csv");
    let mut body = Vec::new();
    let mut pieces = csv.body;
    while let Some(piece) = pieces.next().await {
        body.extend(piece.unwrap());
    }
    assert!(body.ends_with(b"\r\n"));
    parse_csv(&body)
}

#[tokio::test]
async fn the_csv_streams_twenty_thousand_rows_with_safe_cells() {
    let w = world().await;
    let school = w.school().await;
    bulk_rows(&w.kw, 20_000, Some(&school), "test.bulk").await;
    w.row(AuditEntry {
        detail: Some("=HYPERLINK(\"http://x\"), with \"quotes\"\nand a line"),
        ..entry("test.bulk", Some(school.as_str()))
    })
    .await;
    let (header, rows) = csv_of(&w, "demo.lead", filters(|t| t.action = "test.bulk".into())).await;
    assert_eq!(header, CSV_COLUMNS);
    assert_eq!(rows.len(), 20_001);
    assert_eq!(
        rows[0][12],
        "'=HYPERLINK(\"http://x\"), with \"quotes\"\nand a line"
    );
    assert_eq!(rows[0][1], "2026-09-07T08:00:00Z");
    assert_eq!(rows[1][12], "row 19999");
    assert_eq!(rows[20_000][12], "row 0");
    // The download is audited, with its filters.
    let exports = w
        .all("demo.lead", filters(|t| t.action = "audit.export".into()))
        .await;
    assert_eq!(exports[0].detail.as_deref(), Some("action=test.bulk"));
    assert_eq!(
        exports[0].actor.as_ref().unwrap().username.as_deref(),
        Some("demo.lead")
    );

    // A username naming nobody gives the header alone.
    let (header, rows) = csv_of(
        &w,
        "demo.lead",
        filters(|t| t.person = "no.such.person".into()),
    )
    .await;
    assert_eq!(header.len(), 14);
    assert!(rows.is_empty());
}

#[tokio::test]
async fn the_csv_is_refused_like_the_page() {
    let w = world().await;
    let teacher = actor_named(&w.kw, "demo.teacher").await;
    let err =
        w.kw.export_audit_csv(&view_ctx(), &teacher, &AuditQuery::default())
            .await
            .unwrap_err();
    assert_eq!(err.code(), Code::Forbidden);
}

#[test]
fn bad_filters_are_invalid_filter_errors() {
    let err: InvalidFilter =
        AuditQuery::parse(&filters(|t| t.from = "yesterday".into())).unwrap_err();
    assert_eq!(err.code(), Code::InvalidFilter);
    assert_eq!(err.field, "from");
}

/// Every column of every audit row, as text.
async fn every_audit_cell(kw: &Keyward) -> String {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT CAST(id AS TEXT), CAST(at AS TEXT), COALESCE(actor_id, ''), COALESCE(target_id, ''), \
         COALESCE(school_id, ''), action, outcome, COALESCE(client_addr, ''), COALESCE(detail, '') \
         FROM audit_log",
    )
    .fetch_all(kw.db().pool())
    .await
    .unwrap();
    let mut dump = String::new();
    for row in rows {
        for i in 0..row.len() {
            dump.push_str(&row.try_get::<String, _>(i).unwrap());
            dump.push('\n');
        }
    }
    dump
}

/// The texts of every message sent so far.
async fn mail_texts(w: &World) -> Vec<String> {
    w.kw.deliver_due_mail(&w.ctx()).await.unwrap();
    let mut out = Vec::new();
    for entry in crate::dispatch::dev_inbox::list(&w.kw).await.unwrap() {
        out.push(
            crate::dispatch::dev_inbox::read(&w.kw, &entry.id)
                .await
                .unwrap()
                .text,
        );
    }
    out
}

fn token_after(text: &str, marker: &str) -> String {
    let start = text.find(marker).expect("a link in the mail") + marker.len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

#[tokio::test]
async fn audit_rows_never_hold_a_secret() {
    let w = world().await;
    let ctx = w.ctx();
    let mut secrets: Vec<String> = vec![DEMO_PASSWORD.into()];

    // Sign-ins: right, wrong, a password typed as a username, unknown names.
    for (who, password) in [
        ("demo.lead", DEMO_PASSWORD),
        ("demo.lead", "Wrong-Secret-1"),
        ("no.such.person", "Unknown-Secret-2"),
        ("Tr0ub4dor&3", "Stray-Secret-3"),
    ] {
        let _ = w.kw.sign_in(&ctx, who, password.into()).await;
        secrets.push(password.into());
    }
    secrets.push("Tr0ub4dor&3".into());

    // Forgot password: the link, the code, the code's own token, the reset.
    w.kw.request_recovery(
        &ctx,
        &RecoveryInput {
            username: Some("demo.lead".into()),
            email: None,
        },
    )
    .await
    .unwrap();
    let accepted =
        w.kw.request_recovery(
            &ctx,
            &RecoveryInput {
                username: Some("demo.lead".into()),
                email: None,
            },
        )
        .await
        .unwrap();
    let mail = mail_texts(&w).await;
    let reset_mail = mail.iter().find(|t| t.contains("/recovery/")).unwrap();
    let link = token_after(reset_mail, "/recovery/");
    let code: String = reset_mail
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 8 && l.bytes().all(|b| b.is_ascii_digit()))
        .unwrap()
        .to_owned();
    secrets.extend([
        link.clone(),
        code.clone(),
        accepted.handle.expose().to_owned(),
    ]);
    let _ =
        w.kw.redeem_recovery_code(&ctx, accepted.handle.expose(), &TypedCode::from("00000000"))
            .await;
    let from_code =
        w.kw.redeem_recovery_code(
            &ctx,
            accepted.handle.expose(),
            &TypedCode::from(code.as_str()),
        )
        .await;
    let token = match from_code {
        Ok(token) => token.expose().to_owned(),
        Err(_) => link.clone(),
    };
    secrets.push(token.clone());
    let new_lead = "Reset-Secret-4 lead";
    w.kw.reset_with_link(&ctx, &token, new_lead.into(), &new_lead.into(), None)
        .await
        .unwrap();
    secrets.push(new_lead.into());
    for text in mail_texts(&w).await {
        if text.contains("/security/not-me/") {
            secrets.push(token_after(&text, "/security/not-me/"));
        }
    }

    // A learner's password set, generated, shown again.
    let teacher = actor_named(&w.kw, "demo.teacher").await;
    let amy = account_named(&w.kw, "demo.amy").await;
    let chosen = "SetByTeacher7";
    w.kw.reset_learner_password(
        &ctx,
        &teacher,
        &amy.id,
        NewPasswordChoice::Chosen(chosen.into()),
    )
    .await
    .unwrap();
    secrets.push(chosen.into());
    let generated =
        w.kw.reset_learner_password(&ctx, &teacher, &amy.id, NewPasswordChoice::Generate)
            .await
            .unwrap();
    secrets.push(generated.password.expose().to_owned());
    let shown =
        w.kw.reveal_learner_password(&ctx, &teacher, &amy.id)
            .await
            .unwrap();
    secrets.push(shown.password.expose().to_owned());

    // An access code used, and a wrong one tried.
    let lead = actor_named(&w.kw, "demo.lead").await;
    let created = create_pending_user(
        &w.kw,
        &ctx,
        &lead,
        crate::types::Role::Learner,
        ("Nia", "New"),
        &[demo_class(&w.kw).await],
    )
    .await;
    secrets.push(created.access_code.clone());
    secrets.extend(created.parent_access_code.clone());
    let chosen_at_activation = "ActivateMe42";
    w.kw.activate(
        &ctx,
        &crate::activation::ActivationInput {
            code: created.access_code.as_str().into(),
            username: "nia.new".into(),
            password: chosen_at_activation.into(),
            confirm_password: Some(chosen_at_activation.into()),
            email: None,
            first_name: None,
            last_name: None,
        },
    )
    .await
    .unwrap();
    secrets.push(chosen_at_activation.into());
    let _ =
        w.kw.inspect_code(&ctx, &TypedCode::from("WRONGCODE2345"))
            .await;

    // Two-step verification: enrolment, its codes, a sign-in with a recovery code.
    let lead_account = account_named(&w.kw, "demo.lead").await;
    let password = Password::from(new_lead);
    let enrolment =
        w.kw.start_totp_enrolment(&ctx, &lead_account, &password)
            .await
            .unwrap();
    let first = code_for(&enrolment.secret, ctx.now).unwrap();
    let codes =
        w.kw.confirm_totp_enrolment(&ctx, &lead_account, &TotpCode::parse(&first).unwrap())
            .await
            .unwrap();
    secrets.push(enrolment.secret.clone());
    secrets.push(enrolment.otpauth_uri.clone());
    for code in &codes.0 {
        secrets.push(code.as_str().to_owned());
    }
    let later = ctx_at(UnixTime(MONDAY_MORNING.secs() + 120), &w.rng);
    let SignInOutcome::SecondStep(pending) =
        w.kw.sign_in(&later, "demo.lead", new_lead.into())
            .await
            .unwrap()
    else {
        panic!("a second step")
    };
    secrets.push(pending.token.expose().to_owned());
    let signed_in =
        w.kw.finish_sign_in_with_code(
            &later,
            &pending.token,
            &SecondStepCode::recovery(codes.0[0].as_str()).unwrap(),
        )
        .await
        .unwrap();
    secrets.push(signed_in.session_token.expose().to_owned());
    secrets.push(signed_in.csrf_token.clone());
    secrets.push(signed_in.device_token.clone());

    let dump = every_audit_cell(&w.kw).await;
    assert!(dump.contains("mfa.recovery_code_use") && dump.contains("recovery.reset"));
    for secret in secrets.iter().filter(|s| s.len() >= 6) {
        assert!(
            !dump.contains(secret.as_str()),
            "an audit row holds {secret:?}"
        );
    }
}
