//! SQL of the home pages' overviews: each a single read, counted in SQL.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{ClassesByLearner, LearnerClass, SchoolFigures, TaughtClass};
use crate::error::Internal;
use crate::schools::School;
use crate::store::Db;
use crate::types::{ClassId, SchoolId, UserId};

/// The classes `teacher` teaches, each with its learners counted (and those
/// still pending); the `may_*` answers are left for the caller.
pub(super) async fn taught_classes(
    db: &Db,
    teacher: &UserId,
) -> Result<Vec<TaughtClass>, Internal> {
    let rows = sqlx::query(
        "SELECT c.id, c.school_id, c.name, c.class_code, c.class_code_enabled, \
           COUNT(u.id) AS learners, \
           COUNT(CASE WHEN u.status = 'pending' THEN 1 END) AS pending \
         FROM class_teachers t \
         JOIN classes c ON c.id = t.class_id \
         LEFT JOIN class_learners l ON l.class_id = c.id \
         LEFT JOIN users u ON u.id = l.user_id \
         WHERE t.user_id = $1 \
         GROUP BY c.id, c.school_id, c.name, c.class_code, c.class_code_enabled \
         ORDER BY c.name, c.id",
    )
    .bind(teacher.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let enabled = row.try_get::<i64, _>("class_code_enabled")? != 0;
            let code: Option<String> = row.try_get("class_code")?;
            Ok(TaughtClass {
                id: ClassId::from_stored(row.try_get("id")?),
                school_id: SchoolId::from_stored(row.try_get("school_id")?),
                name: row.try_get("name")?,
                class_code: code.filter(|_| enabled),
                learners: row.try_get("learners")?,
                pending: row.try_get("pending")?,
                may_manage: false,
                may_reset: false,
                may_export: false,
            })
        })
        .collect()
}

/// Counts of one school (`Some`) or of every school (`None`, at most 1,000).
const FIGURES: &str = "SELECT s.id, s.name, \
       (SELECT COUNT(*) FROM classes c WHERE c.school_id = s.id) AS classes, \
       COUNT(CASE WHEN u.role = 'learner' AND u.status <> 'disabled' THEN 1 END) AS learners, \
       COUNT(CASE WHEN u.role IN ('teacher', 'lead_teacher') AND u.status <> 'disabled' THEN 1 END) AS staff, \
       COUNT(CASE WHEN u.role = 'parent' AND u.status <> 'disabled' THEN 1 END) AS parents, \
       COUNT(CASE WHEN u.status = 'pending' THEN 1 END) AS pending \
     FROM schools s LEFT JOIN users u ON u.school_id = s.id";
const FIGURES_END: &str = "GROUP BY s.id, s.name ORDER BY s.name, s.id LIMIT 1000";

pub(super) async fn school_figures(
    db: &Db,
    school: Option<&SchoolId>,
) -> Result<Vec<SchoolFigures>, Internal> {
    let rows = match school {
        Some(school) => {
            let sql = sqlx::AssertSqlSafe(format!("{FIGURES} WHERE s.id = $1 {FIGURES_END}"));
            sqlx::query(sql)
                .bind(school.as_str())
                .fetch_all(db.pool())
                .await?
        }
        None => {
            let sql = sqlx::AssertSqlSafe(format!("{FIGURES} {FIGURES_END}"));
            sqlx::query(sql).fetch_all(db.pool()).await?
        }
    };
    rows.iter().map(figures_from_row).collect()
}

fn figures_from_row(row: &AnyRow) -> Result<SchoolFigures, Internal> {
    Ok(SchoolFigures {
        school: School {
            id: SchoolId::from_stored(row.try_get("id")?),
            name: row.try_get("name")?,
        },
        classes: row.try_get("classes")?,
        learners: row.try_get("learners")?,
        staff: row.try_get("staff")?,
        parents: row.try_get("parents")?,
        pending: row.try_get("pending")?,
    })
}

/// The classes of learners, with their teachers: `{FROM}` names the
/// learners (`l.user_id`), `$1` is bound by the caller.
const CLASSES_OF: &str = "SELECT l.user_id AS learner_id, c.id, c.name, t.first_name, t.last_name \
     FROM {FROM} \
     JOIN classes c ON c.id = l.class_id \
     LEFT JOIN class_teachers ct ON ct.class_id = c.id \
     LEFT JOIN users t ON t.id = ct.user_id AND t.status <> 'disabled' \
     WHERE {WHERE} \
     ORDER BY l.user_id, c.name, c.id, t.last_name, t.first_name";

/// The classes `learner` is in.
pub(super) async fn classes_of_learner(
    db: &Db,
    learner: &UserId,
) -> Result<ClassesByLearner, Internal> {
    classes_of(db, "class_learners l", "l.user_id = $1", learner).await
}

/// The classes of each child linked to `parent`.
pub(crate) async fn classes_of_children(
    db: &Db,
    parent: &UserId,
) -> Result<ClassesByLearner, Internal> {
    classes_of(
        db,
        "parent_learners p JOIN class_learners l ON l.user_id = p.learner_id",
        "p.parent_id = $1",
        parent,
    )
    .await
}

async fn classes_of(
    db: &Db,
    from: &'static str,
    filter: &'static str,
    id: &UserId,
) -> Result<ClassesByLearner, Internal> {
    let sql = CLASSES_OF
        .replace("{FROM}", from)
        .replace("{WHERE}", filter);
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.as_str())
        .fetch_all(db.pool())
        .await?;
    let mut found = ClassesByLearner::new();
    for row in &rows {
        let learner = UserId::from_stored(row.try_get("learner_id")?);
        let class = ClassId::from_stored(row.try_get("id")?);
        let classes = found.entry(learner).or_default();
        if classes.last().is_none_or(|c: &LearnerClass| c.id != class) {
            classes.push(LearnerClass {
                id: class,
                name: row.try_get("name")?,
                teachers: Vec::new(),
            });
        }
        let first: Option<String> = row.try_get("first_name")?;
        let last: Option<String> = row.try_get("last_name")?;
        let name = format!("{} {}", first.unwrap_or_default(), last.unwrap_or_default());
        if let (Some(class), false) = (classes.last_mut(), name.trim().is_empty()) {
            class.teachers.push(name.trim().to_owned());
        }
    }
    Ok(found)
}
