//! Roster import tests, on the backend of the test run: a large roster in
//! one go, every kind of bad file refused whole with nothing written, scope,
//! and the reading of the file itself (row numbers, header, formulas).

use std::sync::Arc;
use std::time::Instant;

use super::*;
use crate::activation::ActivationInput;
use crate::classroom::credentials::{looks_like_formula, spreadsheet_safe};
use crate::demo::DEMO_CLASS_NAME;
use crate::error::ErrorKind;
use crate::testing::{MONDAY_MORNING, TestDb, actor_named, ctx_at, demo_keyward};
use crate::types::random::SeededRandom;

struct World {
    kw: Arc<Keyward>,
    _db: TestDb,
    rng: SeededRandom,
    lead: Actor,
    school: SchoolId,
}

impl World {
    fn ctx(&self) -> Ctx<'_> {
        ctx_at(MONDAY_MORNING, &self.rng)
    }

    async fn actor(&self, username: &str) -> Actor {
        actor_named(&self.kw, username).await
    }

    async fn import(&self, csv: impl AsRef<[u8]>) -> Result<RosterReport, RosterError> {
        self.kw
            .import_roster(&self.ctx(), &self.lead, &self.school, csv.as_ref())
            .await
    }

    /// Imports a file that must be refused, and checks that nothing was
    /// written: no user, class, enrolment, code or sealed secret.
    async fn refused(&self, csv: impl AsRef<[u8]>) -> RosterRejection {
        let before = self.counts().await;
        let err = self.import(csv).await.unwrap_err();
        assert_eq!(err.code(), "roster_invalid", "{err:?}");
        assert_eq!(err.kind(), ErrorKind::BadInput);
        assert_eq!(self.counts().await, before, "something was written");
        match err {
            RosterError::Invalid(rejection) => rejection,
            other => panic!("not a rejection: {other:?}"),
        }
    }

    async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(self.kw.db().pool())
            .await
            .unwrap()
    }

    async fn counts(&self) -> Vec<i64> {
        let mut counts = Vec::new();
        for table in [
            "users",
            "classes",
            "class_learners",
            "access_codes",
            "sealed_secrets",
        ] {
            counts.push(self.count(table).await);
        }
        counts
    }
}

async fn world() -> World {
    let (kw, db, rng) = demo_keyward(33).await;
    let lead = actor_named(&kw, "demo.lead").await;
    World {
        school: lead.school_id.clone().unwrap(),
        lead,
        kw,
        _db: db,
        rng,
    }
}

/// Of a rejection, the (row, column, code) of each problem.
fn located(rejection: &RosterRejection) -> Vec<(Option<u64>, Option<&str>, &'static str)> {
    rejection
        .problems
        .iter()
        .map(|p| (p.row, p.column.as_deref(), p.code))
        .collect()
}

fn learner_input(code: &str, username: &str) -> ActivationInput {
    ActivationInput {
        code: code.into(),
        username: username.into(),
        password: "TigerApple42".into(),
        confirm_password: Some("TigerApple42".into()),
        email: None,
        first_name: None,
        last_name: None,
    }
}

#[tokio::test]
async fn a_thousand_learners_in_twenty_classes_import_in_one_go_with_working_codes() {
    let w = world().await;
    let mut csv = String::from("first_name,last_name,class,username,email\n");
    for i in 0..1000 {
        // Class 1 is the demo's own class, written in another case.
        let class = match i % 20 {
            0 => DEMO_CLASS_NAME.to_uppercase(),
            n => format!("Year {n}"),
        };
        let username = if i % 10 == 0 {
            format!("pupil.{i}")
        } else {
            String::new()
        };
        let email = if i % 7 == 0 {
            format!("family{i}@example.org")
        } else {
            String::new()
        };
        csv.push_str(&format!(
            "Learner{i},Surname{i},{class},{username},{email}\n"
        ));
    }
    let users_before = w.count("users").await;
    let started = Instant::now();
    let report = w.import(&csv).await.unwrap();
    eprintln!(
        "roster import of 1,000 learners in 20 classes on {}: {:?}",
        TestDb::backend_name(),
        started.elapsed()
    );
    assert_eq!(report.learners.len(), 1000);
    assert_eq!(report.new_classes.len(), 19, "{:?}", report.new_classes);
    assert_eq!(w.count("users").await, users_before + 1000);
    assert_eq!(report.learners[0].row, 2);
    assert_eq!(report.learners[999].row, 1001);
    assert_eq!(report.learners[0].class, DEMO_CLASS_NAME);

    // Every learner is enrolled: the demo class gained 50, each new class 50.
    let classes =
        w.kw.class_database(&crate::testing::view_ctx(), &w.lead, None)
            .await
            .unwrap();
    let demo_class = classes.iter().find(|c| c.name == DEMO_CLASS_NAME).unwrap();
    let year_3 = classes.iter().find(|c| c.name == "Year 3").unwrap();
    assert_eq!(year_3.learner_count, 50);
    assert!(demo_class.learner_count >= 50);
    assert_eq!(year_3.class_code.as_deref().map(str::len), Some(6));

    // Codes are all different, and they work.
    let mut codes: Vec<&str> = report
        .learners
        .iter()
        .flat_map(|l| [l.access_code.as_str(), l.parent_access_code.as_str()])
        .collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), 2000);
    let ctx = w.ctx();
    for learner in report.learners.iter().step_by(97) {
        let info =
            w.kw.inspect_code(&ctx, &crate::types::TypedCode::from(&learner.access_code))
                .await
                .unwrap();
        assert_eq!(info.first_name, learner.first_name);
    }
    let one = &report.learners[3];
    let account =
        w.kw.activate(&ctx, &learner_input(&one.access_code, "learner.three"))
            .await
            .unwrap();
    assert_eq!(account.role, Role::Learner);
    assert_eq!(account.status, AccountStatus::Active);
    let parent =
        w.kw.activate(
            &ctx,
            &ActivationInput {
                email: Some("parent3@example.org".into()),
                password: "a long family passphrase".into(),
                confirm_password: Some("a long family passphrase".into()),
                first_name: Some("Pat".into()),
                last_name: Some("Three".into()),
                ..learner_input(&one.parent_access_code, "parent.three")
            },
        )
        .await
        .unwrap();
    assert_eq!(parent.role, Role::Parent);

    // A username from the file is the account's, and the learner may keep it.
    let named = &report.learners[10];
    assert_eq!(named.username.as_deref(), Some("pupil.10"));
    let kept =
        w.kw.activate(&ctx, &learner_input(&named.access_code, "pupil.10"))
            .await
            .unwrap();
    assert_eq!(kept.id, named.user_id);
    assert_eq!(kept.username.as_str(), "pupil.10");

    // One audit row for the whole import.
    let audit = crate::audit::recent(w.kw.db(), 20).await.unwrap();
    let imports: Vec<_> = audit
        .iter()
        .filter(|row| row.action == action::ROSTER_IMPORT)
        .collect();
    assert_eq!(imports.len(), 1);
    assert_eq!(imports[0].outcome, "success");
    assert_eq!(
        imports[0].detail.as_deref(),
        Some("learners=1000 new_classes=19")
    );
    assert_eq!(
        imports[0].actor_id.as_deref(),
        Some(w.lead.user_id.as_str())
    );
}

#[tokio::test]
async fn a_file_with_bad_rows_is_refused_whole_with_each_row_named() {
    let w = world().await;
    let csv = "first_name,last_name,class,username,email\n\
               Ada,Lovelace,Class 6,ada.l,\n\
               ,Turing,Class 6,,\n\
               Grace,,Class 6,,\n\
               Alan,Kay,,,\n\
               Ada,Again,Class 6,ADA.L,\n\
               Amy,Taken,Class 6,demo.amy,\n\
               Bad,Name,Class 6,a b,\n\
               Bad,Mail,Class 6,,not-an-email\n\
               =SUM(A1),Formula,Class 6,,\n\
               Plus,+1,Class 6,,\n\
               Minus,Cell,-1,,\n\
               At,Cell,Class 6,@x,\n\
               Tab,Cell,Class 6,,\tx@example.org\n\
               Good,Row,Class 6,,\n";
    let rejection = w.refused(csv).await;
    assert_eq!(
        located(&rejection),
        vec![
            (Some(3), Some("first_name"), "missing_value"),
            (Some(4), Some("last_name"), "missing_value"),
            (Some(5), Some("class"), "missing_value"),
            (Some(6), Some("username"), "username_duplicate"),
            (Some(7), Some("username"), "username_taken"),
            (Some(8), Some("username"), "username_bad_character"),
            (Some(9), Some("email"), "email_invalid"),
            (Some(10), Some("first_name"), "formula_cell"),
            (Some(11), Some("last_name"), "formula_cell"),
            (Some(12), Some("class"), "formula_cell"),
            (Some(13), Some("username"), "formula_cell"),
            (Some(14), Some("email"), "formula_cell"),
        ]
    );
    assert_eq!(rejection.problem_count, 12);
    assert!(rejection.problems[3].message.contains("Row 2"));
    // Usernames are compared as at sign-in: case does not matter.
    let csv = "first_name,last_name,class,username\n\
               Ada,Lovelace,Class 6,ada.l\n\
               Amy,Taken,Class 6,DEMO.AMY\n";
    let rejection = w.refused(csv).await;
    assert_eq!(
        located(&rejection),
        vec![(Some(3), Some("username"), "username_taken")]
    );
    // A refused file is audited, with how many problems it had.
    let audit = crate::audit::recent(w.kw.db(), 5).await.unwrap();
    assert_eq!(audit[0].action, action::ROSTER_IMPORT);
    assert_eq!(audit[0].outcome, "failure");
    assert_eq!(audit[0].detail.as_deref(), Some("problems=1"));
}

#[tokio::test]
async fn files_that_are_not_rosters_are_refused_with_one_clear_problem() {
    let w = world().await;
    let unknown = w
        .refused("first_name,last_name,class,shoe_size\nAda,Lovelace,6,38\n")
        .await;
    assert_eq!(
        located(&unknown),
        vec![(Some(1), Some("shoe_size"), "unknown_column")]
    );
    let missing = w.refused("first_name,class\nAda,6\n").await;
    assert_eq!(
        located(&missing),
        vec![(Some(1), Some("last_name"), "missing_column")]
    );
    let twice = w
        .refused("first_name,last_name,class,First Name\nAda,L,6,B\n")
        .await;
    assert_eq!(
        located(&twice),
        vec![(Some(1), Some("First Name"), "duplicate_column")]
    );
    // Latin-1 (as Excel's plain "CSV" saves it): é is one byte, 0xE9.
    let latin1 = b"first_name,last_name,class\nZo\xe9,Martin,6\n";
    let encoding = w.refused(latin1).await;
    assert_eq!(located(&encoding), vec![(None, None, "not_utf8")]);
    assert!(encoding.problems[0].message.contains("line 2"));
    // 10 MB of junk is refused by its size, before it is read.
    let junk: Vec<u8> = (0..10 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let large = w.refused(&junk).await;
    assert_eq!(located(&large), vec![(None, None, "file_too_large")]);
    assert_eq!(
        located(&w.refused("").await),
        vec![(None, None, "empty_file")]
    );
    assert_eq!(
        located(&w.refused("\u{feff}\r\n  \r\n").await),
        vec![(None, None, "empty_file")]
    );
    assert_eq!(
        located(&w.refused("first_name,last_name,class\r\n,,\r\n").await),
        vec![(None, None, "no_learners")]
    );
    let mut many = String::from("first_name,last_name,class\n");
    for i in 0..=MAX_ROSTER_LEARNERS {
        many.push_str(&format!("A{i},B,C\n"));
    }
    assert_eq!(
        located(&w.refused(&many).await),
        vec![(None, None, "too_many_rows")]
    );
}

#[tokio::test]
async fn only_those_who_manage_the_schools_users_import() {
    let w = world().await;
    let csv = "first_name,last_name,class\nAda,Lovelace,Class 6\n";
    let before = w.counts().await;
    let teacher = w.actor("demo.teacher").await;
    let err =
        w.kw.import_roster(&w.ctx(), &teacher, &w.school, csv.as_bytes())
            .await
            .unwrap_err();
    assert_eq!(err.code(), "forbidden");
    let learner = w.actor("demo.amy").await;
    let err =
        w.kw.import_roster(&w.ctx(), &learner, &w.school, csv.as_bytes())
            .await
            .unwrap_err();
    assert_eq!(err.code(), "forbidden");
    // Another school's lead teacher learns nothing about this school.
    let admin = w.actor("demo.admin").await;
    let other =
        w.kw.create_school(&w.ctx(), &admin, "Hill Top Academy")
            .await
            .unwrap();
    let other_lead = Actor {
        user_id: UserId::generate(&w.rng).unwrap(),
        role: Role::LeadTeacher,
        school_id: Some(other.id.clone()),
        granted: crate::authz::PermissionSet::EMPTY,
        classes: vec![],
        token: None,
        second_factor_at_provider: false,
    };
    let err =
        w.kw.import_roster(&w.ctx(), &other_lead, &w.school, csv.as_bytes())
            .await
            .unwrap_err();
    assert_eq!(
        (err.code().as_str(), err.kind()),
        ("not_found", ErrorKind::NotFound)
    );
    assert_eq!(w.counts().await, before);
    // The operator at the command line imports anywhere; a school that does
    // not exist is not found.
    let operator = Keyward::operator_actor();
    let report =
        w.kw.import_roster(&w.ctx(), &operator, &other.id, csv.as_bytes())
            .await
            .unwrap();
    assert_eq!(report.school.name, "Hill Top Academy");
    let audit = crate::audit::recent(w.kw.db(), 1).await.unwrap();
    assert_eq!(audit[0].actor_id, None);
    let nowhere = SchoolId::generate(&w.rng).unwrap();
    let err =
        w.kw.import_roster(&w.ctx(), &operator, &nowhere, csv.as_bytes())
            .await
            .unwrap_err();
    assert_eq!(err.code(), "not_found");
}

#[tokio::test]
async fn a_spreadsheet_export_with_bom_crlf_and_quotes_imports() {
    let w = world().await;
    let csv = "\u{feff}First Name , LAST_NAME,Class,Email\r\n\
               \"O'Brien, Jr.\",\"Nuñez \"\"Nico\"\"\",  class   4b ,\r\n\
               ,,,\r\n\
               Zoë,Ørsted,Year 7,zoe@example.org\r\n";
    let report = w.import(csv).await.unwrap();
    let names: Vec<(u64, &str, &str, &str)> = report
        .learners
        .iter()
        .map(|l| {
            (
                l.row,
                l.first_name.as_str(),
                l.last_name.as_str(),
                l.class.as_str(),
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![
            (2, "O'Brien, Jr.", "Nuñez \"Nico\"", "Class 4B"),
            (4, "Zoë", "Ørsted", "Year 7"),
        ]
    );
    // "class 4b" is the demo's Class 4B; only Year 7 is new.
    assert_eq!(report.new_classes, vec!["Year 7".to_owned()]);
    let csv = String::from_utf8(report.codes_csv().unwrap()).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("first_name,last_name,class,access_code,parent_access_code")
    );
    let first = lines.next().unwrap();
    assert!(
        first.starts_with("\"O'Brien, Jr.\",\"Nuñez \"\"Nico\"\"\",Class 4B,"),
        "{first}"
    );
    assert!(first.contains(&report.learners[0].access_code));
}

#[test]
fn rows_are_numbered_as_a_spreadsheet_shows_them() {
    // A blank line is a row; a quoted cell over two lines is one row.
    let csv = "first_name,last_name,class\n\nAda,\"Love\nlace\",6\nAlan,,6\n";
    let (_, problems) = parse::parse_roster(csv.as_bytes()).unwrap();
    let rejection = problems.into_rejection();
    assert_eq!(
        located(&rejection),
        vec![
            (Some(3), Some("last_name"), "value_invalid"),
            (Some(4), Some("last_name"), "missing_value"),
        ]
    );
    // Old Mac line endings (a lone CR) and CRLF count the same.
    for csv in [
        "first_name,last_name,class\r\rAlan,,6\r",
        "first_name,last_name,class\r\n\r\nAlan,,6\r\n",
    ] {
        let (_, problems) = parse::parse_roster(csv.as_bytes()).unwrap();
        assert_eq!(
            located(&problems.into_rejection()),
            vec![(Some(3), Some("last_name"), "missing_value")],
            "{csv:?}"
        );
    }
}

#[test]
fn formulas_are_recognised_also_behind_spaces() {
    for cell in [
        "=1+1",
        "+1",
        "-1",
        "@SUM(A1)",
        "\tx",
        "\rx",
        "  =cmd|' /C calc'!A0",
    ] {
        assert!(looks_like_formula(cell), "{cell:?}");
        assert_eq!(spreadsheet_safe(cell), format!("'{cell}"));
    }
    for cell in ["Ada", "O'Brien", "a-b", "x@example.org", "", " 1"] {
        assert!(!looks_like_formula(cell), "{cell:?}");
        assert_eq!(spreadsheet_safe(cell), cell);
    }
}

#[test]
fn a_long_list_of_problems_is_cut_but_counted() {
    let mut csv = String::from("first_name,last_name,class\n");
    for _ in 0..500 {
        csv.push_str(",,\u{7}\n");
    }
    let (_, problems) = parse::parse_roster(csv.as_bytes()).unwrap();
    let rejection = problems.into_rejection();
    assert_eq!(rejection.problems.len(), MAX_REPORTED_PROBLEMS);
    assert_eq!(rejection.problem_count, 1500);
}

#[tokio::test]
async fn two_imports_racing_for_one_username_leave_one_whole_and_nothing_of_the_other() {
    let w = world().await;
    let roster = |prefix: &str| {
        let mut csv = String::from("first_name,last_name,class,username\n");
        for i in 0..200 {
            csv.push_str(&format!("{prefix}{i},Racer,Class 9,\n"));
        }
        csv.push_str("Last,Racer,Class 9,wanted.name\n");
        csv
    };
    let (a, b) = (roster("A"), roster("B"));
    let users_before = w.count("users").await;
    let (first, second) = tokio::join!(w.import(&a), w.import(&b));
    let outcomes = [first, second];
    let won: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    let lost: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert_eq!((won.len(), lost.len()), (1, 1), "{lost:?}");
    match lost[0] {
        RosterError::Invalid(rejection) => assert_eq!(
            located(rejection),
            vec![(Some(202), Some("username"), "username_taken")]
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(w.count("users").await, users_before + 201);
    let classes =
        w.kw.class_database(&crate::testing::view_ctx(), &w.lead, None)
            .await
            .unwrap();
    assert_eq!(
        classes.iter().filter(|c| c.name == "Class 9").count(),
        1,
        "the loser's new class was rolled back too"
    );
}
