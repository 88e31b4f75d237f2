//! Seed 002's places: the **class database** (a teacher's classes with
//! their class codes and learners), and **subscription management** — the
//! school's hub, with shortcuts to its places (`school_settings`, single
//! sign-on in `sso_providers`, …) — with the **student database** (the lead
//! teacher). A parent's children are `children`.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use keyward_core::i18n::Translate as _;

use keyward_core::admin::DirectoryError;
use keyward_core::authz::{Action, Actor, Denied, Permission, Target, authorize};
use keyward_core::types::SchoolId;

use super::class_lists::LearnerRow;
use super::trail::{self, Crumbs};
use super::{Nav, render};
use crate::error::AppError;
use crate::extract::{Client, Visitor};
use crate::signed_in::{SignedIn, return_to};
use crate::state::AppState;

struct ClassBlock {
    id: String,
    name: String,
    code: Option<String>,
    learners: Vec<LearnerRow>,
}

#[derive(Template)]
#[template(path = "class_database.html")]
struct ClassDatabasePage {
    nav: Option<Nav>,
    trail: Crumbs,
    classes: Vec<ClassBlock>,
}

/// **Subscription management**: the school's hub, with a shortcut to each
/// of its places the viewer may open (and only those).
#[derive(Template)]
#[template(path = "subscription.html")]
struct SubscriptionPage {
    nav: Option<Nav>,
    school_name: String,
    /// **Users** (`users.view`).
    users: bool,
    /// **Add a person** and **Import learners** (`users.manage`).
    manage: bool,
    /// **Import learners**: the school's roster page.
    roster_href: String,
    /// **Single sign-on**, for those who may connect providers.
    sso_href: Option<String>,
    /// **User accounts** of the whole school (`credentials.export.school`).
    accounts: bool,
    /// **Audit log** (`audit.view`).
    audit: bool,
}

impl SubscriptionPage {
    fn new(visitor: &Visitor, actor: &Actor, school: &SchoolId, school_name: String) -> Self {
        let may = |action| authorize(actor, action, Target::School(school)).is_ok();
        let manage = may(Action::ManageUser);
        SubscriptionPage {
            nav: Nav::of(visitor),
            school_name,
            users: actor.permissions().contains(Permission::UsersView),
            manage,
            roster_href: format!("/schools/{school}/roster"),
            sso_href: manage.then(|| format!("/schools/{school}/sso")),
            accounts: may(Action::ExportSchoolCredentials),
            audit: may(Action::ViewAudit),
        }
    }
}

#[derive(Template)]
#[template(path = "student_database.html")]
struct StudentDatabasePage {
    nav: Option<Nav>,
    trail: Crumbs,
    school_name: String,
    rows: Vec<(LearnerRow, String)>,
}

fn directory_error(err: DirectoryError) -> AppError {
    match err {
        DirectoryError::Internal(internal) => AppError::internal(&internal),
        other => AppError::from_coded(&other),
    }
}

pub async fn class_database(
    State(state): State<AppState>,
    client: Client,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::Classes>,
) -> Result<Response, AppError> {
    // The class database is the teachers' (learners and parents have none).
    if !actor.permissions().contains(Permission::LearnersView) {
        return Err(AppError::from_coded(&Denied::Forbidden));
    }
    let page = ClassDatabasePage {
        nav: Nav::of(&visitor),
        trail: trail::home(),
        classes: class_blocks(&state, &client, &actor).await?,
    };
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

/// Every class the actor sees, each with its learners.
async fn class_blocks(
    state: &AppState,
    client: &Client,
    actor: &Actor,
) -> Result<Vec<ClassBlock>, AppError> {
    let classes = state
        .kw
        .class_database(&state.ctx(client), actor, actor.school_id.as_ref())
        .await
        .map_err(|e| AppError::from_coded(&e))?;
    let mut blocks = Vec::with_capacity(classes.len());
    for class in classes {
        let learners = state
            .kw
            .class_learners(&state.ctx(client), actor, &class.id)
            .await
            .map_err(directory_error)?;
        blocks.push(ClassBlock {
            id: class.id.to_string(),
            name: class.name,
            code: class.class_code.filter(|_| class.class_code_enabled),
            learners: LearnerRow::all(
                &learners,
                actor,
                &format!("/classes/{}/accounts/codes", class.id),
            ),
        });
    }
    Ok(blocks)
}

pub async fn subscription(
    State(state): State<AppState>,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::School>,
) -> Result<Response, AppError> {
    let school = actor.school_id.clone().ok_or_else(AppError::not_found)?;
    authorize(&actor, Action::ViewLearner, Target::School(&school))
        .map_err(|e| AppError::from_coded(&e))?;
    let schools = state
        .kw
        .visible_schools(&actor)
        .await
        .map_err(|e| AppError::from_coded(&e))?;
    let name = schools.into_iter().next().map(|s| s.name);
    let page = SubscriptionPage::new(&visitor, &actor, &school, name.unwrap_or_default());
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

pub async fn student_database(
    State(state): State<AppState>,
    client: Client,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::SchoolStudents>,
) -> Result<Response, AppError> {
    let school = actor.school_id.clone().ok_or_else(AppError::not_found)?;
    let learners = state
        .kw
        .school_learners(&state.ctx(&client), &actor, &school)
        .await
        .map_err(directory_error)?;
    let codes = "/school/accounts/codes";
    let page = StudentDatabasePage {
        nav: Nav::of(&visitor),
        trail: trail::to_school_hub(&actor),
        school_name: visitor.school_name.clone().unwrap_or_default(),
        rows: learners
            .iter()
            .map(|(learner, classes)| (LearnerRow::of(learner, &actor, codes), classes.join(", ")))
            .collect(),
    };
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}
