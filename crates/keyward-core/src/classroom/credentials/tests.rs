//! Use-case tests of the credentials export (R-TCH-5), on the backend of the
//! test run.

use super::*;
use crate::audit::{AuditRow, action};
use crate::authz::Permission;
use crate::testing::{
    DEMO_PASSWORD, MONDAY_MORNING, account_named, actor_named, another_teacher,
    change_own_password_as, create_pending_user, ctx_at, demo_class, demo_keyward,
    grant_through_custom_role, parse_csv, staff_of_another_school, view_ctx,
};
use crate::types::{Password, Role};

/// A new pending learner of the demo school, in `classes`.
async fn new_learner(
    kw: &Keyward,
    ctx: &Ctx<'_>,
    first: &str,
    last: &str,
    classes: &[ClassId],
) -> crate::admin::CreatedUser {
    let lead = actor_named(kw, "demo.lead").await;
    create_pending_user(kw, ctx, &lead, Role::Learner, (first, last), classes).await
}

fn row_of<'a>(credentials: &'a Credentials, first_name: &str) -> &'a CredentialRow {
    credentials
        .rows
        .iter()
        .find(|row| row.first_name == first_name)
        .unwrap()
}

#[tokio::test]
async fn the_class_csv_has_the_spec_columns_and_one_row_per_learner_by_name() {
    let (kw, _db, rng) = demo_keyward(61).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = actor_named(&kw, "demo.teacher").await;
    let class = demo_class(&kw).await;

    let credentials = kw
        .class_credentials(&ctx, &teacher, &class, CredentialsUse::Export)
        .await
        .unwrap();
    assert_eq!(
        credentials.file_name(),
        "riverside-primary-school-class-4b-credentials.csv"
    );
    let bytes = credentials.to_csv().unwrap();
    assert!(!bytes.starts_with(b"\xEF\xBB\xBF"), "no byte-order mark");
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.starts_with(
        "school,class,first_name,last_name,username,password,password_status,access_code,parent_access_code\r\n"
    ));
    assert_eq!(text.matches("\r\n").count(), 4, "CRLF after every record");
    assert_eq!(text.matches('\n').count(), 4);

    let (header, rows) = parse_csv(&bytes);
    assert_eq!(header, CSV_HEADER);
    let usernames: Vec<&str> = rows.iter().map(|r| r[4].as_str()).collect();
    assert_eq!(usernames, ["demo.amy", "demo.ben", "demo.cara"]);
    for row in &rows {
        assert_eq!(row[0], "Riverside Primary School");
        assert_eq!(row[1], "Class 4B");
        assert!(!row[8].is_empty(), "every learner has a parent access code");
        assert_eq!(row[7], "", "active learners have no access code");
    }
    // Amy's and Ben's passwords were given by a teacher and are kept; Cara
    // chose hers.
    assert_eq!(
        rows[0][2..7],
        ["Amy", "Adams", "demo.amy", DEMO_PASSWORD, "retrievable"]
    );
    assert_eq!(rows[1][5..7], [DEMO_PASSWORD, "retrievable"]);
    assert_eq!(rows[2][5..7], ["", "private"]);

    // The parent access code is the one a parent can use.
    let amy = account_named(&kw, "demo.amy").await;
    let lead = actor_named(&kw, "demo.lead").await;
    let shown = kw
        .show_user(&crate::testing::view_ctx(), &lead, &amy.id)
        .await
        .unwrap();
    assert_eq!(Some(rows[0][8].clone()), shown.parent_access_code);
}

#[tokio::test]
async fn user_accounts_show_states_but_no_secret_and_are_not_audited() {
    let (kw, _db, rng) = demo_keyward(61).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = actor_named(&kw, "demo.teacher").await;
    let class = demo_class(&kw).await;
    let before = crate::audit::recent(kw.db(), 1000).await.unwrap().len();

    let accounts = kw.class_accounts(&ctx, &teacher, &class).await.unwrap();
    assert_eq!(accounts.rows.len(), 3);
    assert_eq!(
        row_of(&accounts, "Amy").password_state,
        PasswordState::Retrievable
    );
    assert_eq!(
        row_of(&accounts, "Cara").password_state,
        PasswordState::Private
    );
    assert!(accounts.rows.iter().all(|row| row.password.is_none()
        && row.access_code.is_none()
        && row.parent_access_code.is_none()));
    assert_eq!(
        crate::audit::recent(kw.db(), 1000).await.unwrap().len(),
        before
    );
    let school = teacher.school_id.clone().unwrap();
    let err = kw
        .school_accounts(&ctx, &teacher, &school)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
}

#[tokio::test]
async fn a_teacher_reaches_only_the_classes_they_teach_and_never_the_school() {
    let (kw, _db, rng) = demo_keyward(61).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let teacher = actor_named(&kw, "demo.teacher").await;
    let school = lead.school_id.clone().unwrap();
    let other = kw
        .create_class(&ctx, &lead, &school, "Class 5A", &[])
        .await
        .unwrap();

    for use_ in [CredentialsUse::Show, CredentialsUse::Export] {
        let err = kw
            .class_credentials(&ctx, &teacher, &other.id, use_)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "forbidden");
        let err = kw
            .school_credentials(&ctx, &teacher, &school, use_)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "forbidden");
    }
    let err = kw
        .class_accounts(&ctx, &teacher, &other.id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
    let unknown = ClassId::generate(&rng).unwrap();
    let err = kw
        .class_credentials(&ctx, &teacher, &unknown, CredentialsUse::Export)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found");
    // A learner may not export anything, not even their own class.
    let amy = actor_named(&kw, "demo.amy").await;
    let class = demo_class(&kw).await;
    let err = kw
        .class_credentials(&ctx, &amy, &class, CredentialsUse::Export)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
    // The lead teacher reaches every class of the school.
    let credentials = kw
        .class_credentials(&ctx, &lead, &other.id, CredentialsUse::Export)
        .await
        .unwrap();
    assert!(credentials.rows.is_empty());
    assert_eq!(parse_csv(&credentials.to_csv().unwrap()).1.len(), 0);
}

#[tokio::test]
async fn the_lead_teacher_exports_the_whole_school_but_no_other_school() {
    let (kw, _db, rng) = demo_keyward(61).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let admin = actor_named(&kw, "demo.admin").await;
    let lead = actor_named(&kw, "demo.lead").await;
    let school = lead.school_id.clone().unwrap();
    let class_4b = demo_class(&kw).await;
    let class_3a = kw
        .create_class(&ctx, &lead, &school, "Class 3A", &[])
        .await
        .unwrap();
    // Dan is in two classes, Eve in none.
    new_learner(
        &kw,
        &ctx,
        "Dan",
        "Dunn",
        &[class_4b.clone(), class_3a.id.clone()],
    )
    .await;
    new_learner(&kw, &ctx, "Eve", "Evans", &[]).await;

    let credentials = kw
        .school_credentials(&ctx, &lead, &school, CredentialsUse::Export)
        .await
        .unwrap();
    assert_eq!(
        credentials.file_name(),
        "riverside-primary-school-credentials.csv"
    );
    let (_, rows) = parse_csv(&credentials.to_csv().unwrap());
    let listed: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[1].as_str(), r[2].as_str()))
        .collect();
    assert_eq!(
        listed,
        [
            ("Class 3A", "Dan"),
            ("Class 4B", "Amy"),
            ("Class 4B", "Ben"),
            ("Class 4B", "Cara"),
            ("Class 4B", "Dan"),
            ("", "Eve"),
        ]
    );
    // Only learners: no staff, no parent.
    assert!(rows.iter().all(|r| !r[4].starts_with("demo.")
        || ["demo.amy", "demo.ben", "demo.cara"].contains(&r[4].as_str())));

    // Another school, with a class and a learner of its own.
    let hill = kw.create_school(&ctx, &admin, "Hill Top").await.unwrap();
    let hill_class = kw
        .create_class(&ctx, &admin, &hill.id, "Year 1", &[])
        .await
        .unwrap();
    let err = kw
        .school_credentials(&ctx, &lead, &hill.id, CredentialsUse::Export)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found");
    let err = kw
        .class_credentials(&ctx, &lead, &hill_class.id, CredentialsUse::Export)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found");
    let err = kw.school_accounts(&ctx, &lead, &hill.id).await.unwrap_err();
    assert_eq!(err.code(), "not_found");
    // A platform admin (and the operator) reach any school; unknown ones are 404.
    let theirs = kw
        .school_credentials(&ctx, &admin, &hill.id, CredentialsUse::Export)
        .await
        .unwrap();
    assert_eq!(theirs.school_name, "Hill Top");
    assert!(theirs.rows.is_empty());
    let operator = Keyward::operator_actor();
    let ours = kw
        .school_credentials(&ctx, &operator, &school, CredentialsUse::Export)
        .await
        .unwrap();
    assert_eq!(ours.rows.len(), 6);
    let unknown = SchoolId::generate(&rng).unwrap();
    let err = kw
        .school_credentials(&ctx, &admin, &unknown, CredentialsUse::Export)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found");
}

#[tokio::test]
async fn after_the_learner_chooses_their_own_password_the_row_is_blank_and_private() {
    let (kw, _db, rng) = demo_keyward(61).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = actor_named(&kw, "demo.teacher").await;
    let class = demo_class(&kw).await;
    change_own_password_as(&kw, &ctx, "demo.amy", DEMO_PASSWORD, "MySecret88").await;

    let credentials = kw
        .class_credentials(&ctx, &teacher, &class, CredentialsUse::Export)
        .await
        .unwrap();
    let amy = row_of(&credentials, "Amy");
    assert_eq!(amy.password_state, PasswordState::Private);
    assert!(amy.password.is_none());
    let (_, rows) = parse_csv(&credentials.to_csv().unwrap());
    assert_eq!(rows[0][4..7], ["demo.amy", "", "private"]);
    assert!(
        !String::from_utf8(credentials.to_csv().unwrap())
            .unwrap()
            .contains("MySecret88")
    );
    // Ben's copy is untouched.
    assert_eq!(rows[1][5..7], [DEMO_PASSWORD, "retrievable"]);
}

#[tokio::test]
async fn a_pending_learner_has_their_access_code_and_no_username() {
    let (kw, _db, rng) = demo_keyward(61).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = actor_named(&kw, "demo.teacher").await;
    let class = demo_class(&kw).await;
    let created = new_learner(&kw, &ctx, "Finn", "Ford", std::slice::from_ref(&class)).await;

    let credentials = kw
        .class_credentials(&ctx, &teacher, &class, CredentialsUse::Show)
        .await
        .unwrap();
    let finn = row_of(&credentials, "Finn");
    assert_eq!(finn.user_id, created.id);
    assert_eq!(finn.username, None);
    assert_eq!(finn.status, AccountStatus::Pending);
    assert_eq!(finn.password_state, PasswordState::Pending);
    assert!(finn.password.is_none());
    assert_eq!(
        finn.access_code.as_deref(),
        Some(created.access_code.as_str())
    );
    assert_eq!(finn.parent_access_code, created.parent_access_code);
    let (_, rows) = parse_csv(&credentials.to_csv().unwrap());
    let row = rows.iter().find(|r| r[2] == "Finn").unwrap();
    assert_eq!(row[4..8], ["", "", "pending", created.access_code.as_str()]);
    assert!(!format!("{credentials:?}").contains(&created.access_code));

    // A fresh code replaces the shown one at once.
    let lead = actor_named(&kw, "demo.lead").await;
    let fresh = kw
        .reissue_access_code(&ctx, &lead, &created.id)
        .await
        .unwrap();
    let credentials = kw
        .class_credentials(&ctx, &teacher, &class, CredentialsUse::Show)
        .await
        .unwrap();
    assert_eq!(
        row_of(&credentials, "Finn").access_code.as_deref(),
        Some(fresh.as_str())
    );
    // An expired code is not shown: it could not be used.
    let later = ctx_at(
        MONDAY_MORNING.plus(crate::activation::ACCESS_CODE_TTL),
        &rng,
    );
    let credentials = kw
        .class_credentials(&later, &teacher, &class, CredentialsUse::Show)
        .await
        .unwrap();
    let finn = row_of(&credentials, "Finn");
    assert_eq!(finn.access_code, None);
    assert!(finn.parent_access_code.is_some());
}

#[tokio::test]
async fn cells_a_spreadsheet_would_run_are_neutralised() {
    let (kw, _db, rng) = demo_keyward(61).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = actor_named(&kw, "demo.teacher").await;
    let class = demo_class(&kw).await;
    new_learner(
        &kw,
        &ctx,
        "=HYPERLINK(\"http://evil.example\",\"x\")",
        "+1",
        std::slice::from_ref(&class),
    )
    .await;
    new_learner(&kw, &ctx, "@SUM(A1)", " -2", std::slice::from_ref(&class)).await;

    let credentials = kw
        .class_credentials(&ctx, &teacher, &class, CredentialsUse::Export)
        .await
        .unwrap();
    let (_, rows) = parse_csv(&credentials.to_csv().unwrap());
    let firsts: Vec<&str> = rows.iter().map(|r| r[2].as_str()).collect();
    assert!(firsts.contains(&"'=HYPERLINK(\"http://evil.example\",\"x\")"));
    assert!(firsts.contains(&"'@SUM(A1)"));
    let lasts: Vec<&str> = rows.iter().map(|r| r[3].as_str()).collect();
    assert!(lasts.contains(&"'+1"));
    assert!(lasts.contains(&"'-2") || lasts.contains(&"' -2"));
    // Nothing else starts like a formula.
    for row in &rows {
        for cell in row {
            assert_eq!(spreadsheet_safe(cell), cell.as_str(), "{cell:?}");
        }
    }
    // The screen shows names as stored.
    assert!(
        credentials
            .rows
            .iter()
            .any(|r| r.first_name == "=HYPERLINK(\"http://evil.example\",\"x\")")
    );
}

#[tokio::test]
async fn every_showing_and_export_is_audited_with_scope_and_row_count_only() {
    let (kw, _db, rng) = demo_keyward(61).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = actor_named(&kw, "demo.teacher").await;
    let lead = actor_named(&kw, "demo.lead").await;
    let school = lead.school_id.clone().unwrap();
    let class = demo_class(&kw).await;

    let shown = kw
        .class_credentials(&ctx, &teacher, &class, CredentialsUse::Show)
        .await
        .unwrap();
    kw.class_credentials(&ctx, &teacher, &class, CredentialsUse::Export)
        .await
        .unwrap();
    kw.school_credentials(&ctx, &lead, &school, CredentialsUse::Export)
        .await
        .unwrap();
    kw.school_credentials(
        &ctx,
        &Keyward::operator_actor(),
        &school,
        CredentialsUse::Export,
    )
    .await
    .unwrap();
    // A refused export is no showing: it is audited as a refusal.
    let _ = kw
        .school_credentials(&ctx, &teacher, &school, CredentialsUse::Export)
        .await
        .unwrap_err();

    let rows: Vec<_> = crate::audit::recent(kw.db(), 5)
        .await
        .unwrap()
        .into_iter()
        .rev()
        .collect();
    let seen: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.action.as_str(),
                r.actor_id.as_deref(),
                r.target_id.as_deref(),
                r.detail.as_deref(),
            )
        })
        .collect();
    let class_detail = format!("scope=class:{class}; rows=3");
    let school_detail = format!("scope=school:{school}; rows=3");
    assert_eq!(
        seen,
        [
            (
                action::CREDENTIALS_SHOW,
                Some(teacher.user_id.as_str()),
                Some(class.as_str()),
                Some(class_detail.as_str())
            ),
            (
                action::CREDENTIALS_EXPORT,
                Some(teacher.user_id.as_str()),
                Some(class.as_str()),
                Some(class_detail.as_str())
            ),
            (
                action::CREDENTIALS_EXPORT,
                Some(lead.user_id.as_str()),
                Some(school.as_str()),
                Some(school_detail.as_str())
            ),
            (
                action::CREDENTIALS_EXPORT,
                None,
                Some(school.as_str()),
                Some(school_detail.as_str())
            ),
            (
                action::AUTHZ_DENIED,
                Some(teacher.user_id.as_str()),
                Some(school.as_str()),
                Some("action=export_school_credentials answer=forbidden")
            ),
        ]
    );
    let secrets: Vec<&str> = shown
        .rows
        .iter()
        .filter_map(|r| r.parent_access_code.as_deref())
        .chain([DEMO_PASSWORD])
        .collect();
    for row in &rows {
        for secret in &secrets {
            assert!(!row.detail.as_deref().unwrap_or("").contains(secret));
        }
    }
}

#[tokio::test]
async fn a_learner_holding_more_than_the_teacher_keeps_their_secrets_from_them() {
    let (kw, _db, rng) = demo_keyward(61).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let teacher = actor_named(&kw, "demo.teacher").await;
    let class = demo_class(&kw).await;
    grant_through_custom_role(&kw, &ctx, &lead, "demo.ben", &[Permission::UsersView]).await;

    let for_teacher = kw
        .class_credentials(&ctx, &teacher, &class, CredentialsUse::Export)
        .await
        .unwrap();
    let row = row_of(&for_teacher, "Ben");
    assert!(row.withheld);
    assert!(row.password.is_none() && row.parent_access_code.is_none());
    assert_eq!(row.username.as_deref(), Some("demo.ben"));
    assert!(!row_of(&for_teacher, "Amy").withheld);

    let for_lead = kw
        .class_credentials(&ctx, &lead, &class, CredentialsUse::Export)
        .await
        .unwrap();
    let row = row_of(&for_lead, "Ben");
    assert!(!row.withheld);
    assert_eq!(
        row.password.as_ref().map(Password::expose),
        Some(DEMO_PASSWORD)
    );
}

#[test]
fn file_names_are_plain_ascii_slugs() {
    let credentials = |school: &str, class: Option<&str>| Credentials {
        school_id: SchoolId::from_stored("s".into()),
        school_name: school.into(),
        scope: match class {
            Some(name) => CredentialsScope::Class {
                id: ClassId::from_stored("c".into()),
                name: name.into(),
            },
            None => CredentialsScope::School,
        },
        rows: Vec::new(),
    };
    assert_eq!(
        credentials("St. Mary's  School", Some("Year 6 / Blue")).file_name(),
        "st-mary-s-school-year-6-blue-credentials.csv"
    );
    assert_eq!(
        credentials("École Zoë", None).file_name(),
        "cole-zo-credentials.csv"
    );
    assert_eq!(
        credentials("\"; rm -rf", Some("../..")).file_name(),
        "rm-rf-credentials.csv"
    );
    assert_eq!(
        credentials("***", None).file_name(),
        "learner-credentials.csv"
    );
    assert_eq!(
        credentials("***", Some("4B")).file_name(),
        "4b-credentials.csv"
    );
}

/// Swaps column `column` of the rows of `table` whose `key` column is `a`
/// and `b` (what someone with write access to the database might do). The
/// names are the test's own literals.
async fn swap_column(kw: &Keyward, table: &str, column: &str, key: &str, a: &str, b: &str) {
    let value_of = |id: &str| {
        let sql = format!("SELECT {column} FROM {table} WHERE {key} = $1");
        let id = id.to_owned();
        async move {
            sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_one(kw.db().pool())
                .await
                .unwrap()
        }
    };
    let (value_a, value_b) = (value_of(a).await, value_of(b).await);
    assert_ne!(value_a, value_b);
    let sql = format!("UPDATE {table} SET {column} = $1 WHERE {key} = $2");
    for (id, value) in [(a, &value_b), (b, &value_a)] {
        sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .bind(value)
            .bind(id)
            .execute(kw.db().pool())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn sealed_copies_swapped_between_two_learners_do_not_open_as_the_other() {
    let (kw, _db, rng) = demo_keyward(67).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let class = demo_class(&kw).await;
    let (amy, ben) = (
        account_named(&kw, "demo.amy").await,
        account_named(&kw, "demo.ben").await,
    );
    // Both passwords are kept and both have a parent access code.
    let amy_codes = kw
        .show_user(&crate::testing::view_ctx(), &lead, &amy.id)
        .await
        .unwrap();
    let ben_codes = kw
        .show_user(&crate::testing::view_ctx(), &lead, &ben.id)
        .await
        .unwrap();
    let ben_code = ben_codes.parent_access_code.clone().unwrap();
    assert!(amy_codes.parent_access_code.is_some());
    kw.reveal_learner_password(&ctx, &lead, &amy.id)
        .await
        .unwrap();

    // The learners' references to their sealed passwords are swapped (and,
    // further down, swapped back).
    let swap_kept_passwords = || {
        swap_column(
            &kw,
            "users",
            "password_sealed_id",
            "id",
            amy.id.as_str(),
            ben.id.as_str(),
        )
    };
    swap_kept_passwords().await;
    let err = kw
        .reveal_learner_password(&ctx, &lead, &amy.id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "internal");
    assert!(!err.to_string().contains(DEMO_PASSWORD));
    let err = kw
        .class_credentials(&ctx, &lead, &class, CredentialsUse::Export)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "internal");
    swap_kept_passwords().await;
    kw.reveal_learner_password(&ctx, &lead, &amy.id)
        .await
        .unwrap();

    // The parent access codes' references to their sealed copies are swapped.
    swap_column(
        &kw,
        "access_codes",
        "sealed_id",
        "user_id",
        amy.id.as_str(),
        ben.id.as_str(),
    )
    .await;
    let err = kw
        .show_user(&crate::testing::view_ctx(), &lead, &amy.id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "internal");
    assert!(!err.to_string().contains(&ben_code));
    let err = kw
        .class_credentials(&ctx, &lead, &class, CredentialsUse::Show)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "internal");
}

async fn audit_rows(kw: &Keyward, name: &str) -> Vec<AuditRow> {
    crate::audit::recent(kw.db(), 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|row| row.action == name)
        .collect()
}

#[tokio::test]
async fn every_refusal_is_audited_with_the_refused_action_and_no_secret() {
    let (kw, _db, rng) = demo_keyward(68).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let admin = actor_named(&kw, "demo.admin").await;
    let amy = account_named(&kw, "demo.amy").await;
    let school = lead.school_id.clone().unwrap();
    let ola = another_teacher(&kw, &ctx, &lead).await;
    let outsider =
        staff_of_another_school(&kw, &ctx, &admin, lead.user_id.clone(), Role::LeadTeacher).await;
    assert!(audit_rows(&kw, action::AUTHZ_DENIED).await.is_empty());

    // A teacher of no class of Amy's may not show her password...
    let err = kw
        .reveal_learner_password(&ctx, &ola, &amy.id)
        .await
        .unwrap_err();
    assert!(
        matches!(err.code().as_str(), "forbidden" | "not_found"),
        "{err}"
    );
    // ...nor list the school's users; staff of another school may not see her.
    let err = kw
        .find_users(&view_ctx(), &ola, &crate::admin::UserQuery::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
    let err = kw
        .show_user(&view_ctx(), &outsider, &amy.id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found");

    let rows = audit_rows(&kw, action::AUTHZ_DENIED).await;
    assert_eq!(rows.len(), 3, "{rows:?}");
    // Newest first.
    let expected = [
        (
            &outsider.user_id,
            amy.id.as_str(),
            "action=view_user answer=not_found",
        ),
        (
            &ola.user_id,
            school.as_str(),
            "action=view_user answer=forbidden",
        ),
        (
            &ola.user_id,
            amy.id.as_str(),
            "action=reset_learner_password answer=",
        ),
    ];
    for (row, (actor, target, detail)) in rows.iter().zip(expected) {
        assert_eq!(row.outcome, "denied");
        assert_eq!(row.actor_id.as_deref(), Some(actor.as_str()));
        assert_eq!(row.target_id.as_deref(), Some(target));
        assert!(
            row.detail.as_deref().unwrap().starts_with(detail),
            "{row:?}"
        );
        assert_eq!(row.client_addr.as_deref(), Some("192.0.2.10"));
        assert!(!format!("{row:?}").contains(DEMO_PASSWORD));
    }
    // What was allowed left no refusal behind.
    kw.reveal_learner_password(&ctx, &lead, &amy.id)
        .await
        .unwrap();
    assert_eq!(audit_rows(&kw, action::AUTHZ_DENIED).await.len(), 3);
}

#[tokio::test]
async fn showing_access_codes_again_is_audited_without_the_codes() {
    let (kw, _db, rng) = demo_keyward(69).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let teacher = actor_named(&kw, "demo.teacher").await;
    let amy = account_named(&kw, "demo.amy").await;
    let class = demo_class(&kw).await;
    let created = new_learner(&kw, &ctx, "Dan", "Dunn", std::slice::from_ref(&class)).await;

    // The person page opens the codes: a parent code for Amy; an access
    // code and a parent code for Dan, still pending.
    let shown = kw.show_user(&view_ctx(), &teacher, &amy.id).await.unwrap();
    let parent_code = shown.parent_access_code.unwrap();
    let shown = kw.show_user(&view_ctx(), &lead, &created.id).await.unwrap();
    assert!(shown.access_code.is_some());
    let rows = audit_rows(&kw, action::CODES_REVEAL).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].actor_id.as_deref(), Some(lead.user_id.as_str()));
    assert_eq!(rows[0].target_id.as_deref(), Some(created.id.as_str()));
    assert_eq!(rows[0].detail.as_deref(), Some("kinds=activation,parent"));
    assert_eq!(rows[1].actor_id.as_deref(), Some(teacher.user_id.as_str()));
    assert_eq!(rows[1].target_id.as_deref(), Some(amy.id.as_str()));
    assert_eq!(rows[1].detail.as_deref(), Some("kinds=parent"));
    for row in &rows {
        assert_eq!(row.outcome, "success");
        assert!(!format!("{row:?}").contains(&parent_code));
        assert!(!format!("{row:?}").contains(&created.access_code));
    }

    // Someone with no open code to show: nothing is revealed, nothing audited.
    kw.show_user(&view_ctx(), &lead, &lead.user_id)
        .await
        .unwrap();
    assert_eq!(audit_rows(&kw, action::CODES_REVEAL).await.len(), 2);

    // The class's Show access codes is audited as before.
    kw.class_credentials(&ctx, &teacher, &class, CredentialsUse::Show)
        .await
        .unwrap();
    assert_eq!(audit_rows(&kw, action::CREDENTIALS_SHOW).await.len(), 1);
}

/// The CSV of `of` as the pages gather it (every row at once).
async fn collected_csv(kw: &Keyward, ctx: &Ctx<'_>, actor: &Actor, of: &CredentialsOf) -> Vec<u8> {
    let credentials = match of {
        CredentialsOf::School(school) => {
            kw.school_credentials(ctx, actor, school, CredentialsUse::Export)
                .await
        }
        CredentialsOf::Class(class) => {
            kw.class_credentials(ctx, actor, class, CredentialsUse::Export)
                .await
        }
    }
    .unwrap();
    let mut sorted = credentials.rows.clone();
    sort_rows(&mut sorted);
    let ids = |rows: &[CredentialRow]| -> Vec<(UserId, Option<ClassId>)> {
        rows.iter()
            .map(|r| (r.user_id.clone(), r.class_id.clone()))
            .collect()
    };
    assert_eq!(
        ids(&credentials.rows),
        ids(&sorted),
        "batches keep the one global order"
    );
    credentials.to_csv().unwrap()
}

#[tokio::test]
async fn the_streamed_csv_has_the_bytes_of_the_collected_one_across_batches() {
    let (kw, _db, rng) = demo_keyward(67).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let lead = actor_named(&kw, "demo.lead").await;
    let school = lead.school_id.clone().unwrap();
    let class_4b = demo_class(&kw).await;
    let lower = kw
        .create_class(&ctx, &lead, &school, "class 2c", &[])
        .await
        .unwrap();
    let accented = kw
        .create_class(&ctx, &lead, &school, "Ärger", &[])
        .await
        .unwrap();
    let empty = kw
        .create_class(&ctx, &lead, &school, "Empty", &[])
        .await
        .unwrap();
    new_learner(
        &kw,
        &ctx,
        "Dan",
        "Dunn",
        &[class_4b.clone(), lower.id.clone()],
    )
    .await;
    new_learner(
        &kw,
        &ctx,
        "Zoë",
        "Ödegaard",
        std::slice::from_ref(&accented.id),
    )
    .await;
    new_learner(&kw, &ctx, "eve", "evans", std::slice::from_ref(&lower.id)).await;
    new_learner(&kw, &ctx, "Eve", "Evans", &[]).await;
    new_learner(&kw, &ctx, "Fay", "Fox", &[]).await;

    let scopes = [
        CredentialsOf::School(school.clone()),
        CredentialsOf::Class(class_4b),
        CredentialsOf::Class(lower.id),
        CredentialsOf::Class(empty.id),
    ];
    for of in &scopes {
        let collected = collected_csv(&kw, &ctx, &lead, of).await;
        let csv = kw.export_credentials_csv(&ctx, &lead, of).await.unwrap();
        assert_eq!(csv.rows, parse_csv(&collected).1.len(), "{of:?}");
        let pieces: Vec<Vec<u8>> = csv.body.map(Result::unwrap).collect().await;
        assert_eq!(pieces.concat(), collected, "{of:?}");
    }
    let exports = crate::audit::recent(kw.db(), 1).await.unwrap();
    assert_eq!(exports[0].action, action::CREDENTIALS_EXPORT);
    let (_, school_rows) = parse_csv(&collected_csv(&kw, &ctx, &lead, &scopes[0]).await);
    assert_eq!(
        school_rows.len(),
        9,
        "4B's 3 + Dan twice + Zoë + eve + Eve + Fay"
    );
    let csv = kw
        .export_credentials_csv(&ctx, &lead, &scopes[0])
        .await
        .unwrap();
    let newest = crate::audit::recent(kw.db(), 1).await.unwrap();
    assert_eq!(
        newest[0].detail.as_deref(),
        Some(format!("scope=school:{school}; rows={}", school_rows.len()).as_str())
    );
    drop(csv);
}

#[tokio::test]
async fn the_streamed_csv_is_authorized_before_anything_is_read() {
    let (kw, _db, rng) = demo_keyward(68).await;
    let ctx = ctx_at(MONDAY_MORNING, &rng);
    let teacher = actor_named(&kw, "demo.teacher").await;
    let school = teacher.school_id.clone().unwrap();
    let refused = kw
        .export_credentials_csv(&ctx, &teacher, &CredentialsOf::School(school))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "forbidden");
    let amy = actor_named(&kw, "demo.amy").await;
    let class = demo_class(&kw).await;
    let refused = kw
        .export_credentials_csv(&ctx, &amy, &CredentialsOf::Class(class))
        .await
        .unwrap_err();
    assert!(matches!(refused, CredentialsError::Denied(_)));
}
