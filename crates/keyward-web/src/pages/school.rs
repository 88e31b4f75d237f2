//! Seed 002's places: the **class database** (a teacher's classes with
//! their class codes and learners), **subscription management** with the
//! **student database** (the lead teacher; with a link to **Single
//! sign-on**, `sso_providers`), and a parent's children.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use keyward_core::i18n::Translate as _;
use serde::Deserialize;

use keyward_core::activation::ActivationError;
use keyward_core::activation::parents::Child;
use keyward_core::admin::DirectoryError;
use keyward_core::authz::{Action, Actor, Denied, Permission, Target, authorize};
use keyward_core::error::Code;
use keyward_core::schools::SCHOOL_ROLES;
use keyward_core::types::{Role, TypedCode};

use super::people::Row;
use super::{Nav, Told, render, render_told};
use crate::error::AppError;
use crate::extract::{Client, PageForm, RepeatedForm, Visitor};
use crate::signed_in::{SignedIn, csrf_forms, return_to};
use crate::state::AppState;

struct ClassBlock {
    id: String,
    name: String,
    code: Option<String>,
    learners: Vec<Row>,
}

#[derive(Template)]
#[template(path = "class_database.html")]
struct ClassDatabasePage {
    nav: Option<Nav>,
    classes: Vec<ClassBlock>,
}

#[derive(Template)]
#[template(path = "subscription.html")]
struct SubscriptionPage {
    nav: Option<Nav>,
    school_name: String,
    /// **Single sign-on**, for those who may connect providers.
    sso_href: Option<String>,
}

#[derive(Template)]
#[template(path = "student_database.html")]
struct StudentDatabasePage {
    nav: Option<Nav>,
    rows: Vec<(Row, String)>,
}

#[derive(Template)]
#[template(path = "children.html")]
struct ChildrenPage {
    nav: Option<Nav>,
    csrf_token: String,
    children: Vec<Child>,
    errors: Vec<String>,
    notice: Option<&'static str>,
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
            learners: learners.iter().map(Row::learner).collect(),
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
    let page = SubscriptionPage {
        nav: Nav::of(&visitor),
        school_name: schools
            .into_iter()
            .next()
            .map(|s| s.name)
            .unwrap_or_default(),
        sso_href: authorize(&actor, Action::ManageUser, Target::School(&school))
            .is_ok()
            .then(|| format!("/schools/{school}/sso")),
    };
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
    let page = StudentDatabasePage {
        nav: Nav::of(&visitor),
        rows: learners
            .iter()
            .map(|(learner, classes)| (Row::learner(learner), classes.join(", ")))
            .collect(),
    };
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

async fn children_page(
    state: &AppState,
    visitor: &Visitor,
    actor: &Actor,
    errors: Vec<String>,
    notice: Option<&'static str>,
) -> Result<ChildrenPage, AppError> {
    Ok(ChildrenPage {
        nav: Nav::of(visitor),
        csrf_token: visitor.csrf_token(),
        children: state.kw.children_of(actor).await?,
        errors,
        notice,
    })
}

pub async fn children(
    State(state): State<AppState>,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::Children>,
) -> Result<Response, AppError> {
    if actor.role != Role::Parent {
        return Err(AppError::from_coded(&Denied::Forbidden));
    }
    let page = children_page(&state, &visitor, &actor, Vec::new(), None).await?;
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

#[derive(Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    parent_access_code: String,
}

pub async fn link_child(
    State(state): State<AppState>,
    client: Client,
    SignedIn {
        visitor,
        actor,
        form: PageForm(form),
        ..
    }: SignedIn<return_to::Home, PageForm<LinkForm>>,
) -> Result<Response, AppError> {
    let linked = state
        .kw
        .link_child(
            &state.ctx(&client),
            &actor,
            &TypedCode::from(&form.parent_access_code),
        )
        .await;
    let told = match linked {
        Ok(_) => Told::done("Your child is now linked to your account."),
        Err(ActivationError::Internal(internal)) => return Err(AppError::internal(&internal)),
        Err(err) => Told::refused(&err),
    };
    let page = children_page(&state, &visitor, &actor, told.errors, told.notice).await?;
    let response = render_told(told.status, told.retry_after, &page);
    Ok(visitor.respond(&state, response))
}

#[derive(Template)]
#[template(path = "school_settings.html")]
struct SchoolSettingsPage {
    nav: Option<Nav>,
    csrf_token: String,
    retrievable: bool,
    /// Learners may use passkeys (`schools.learner_passkeys`).
    learner_passkeys: bool,
    may_change: bool,
    notice: Option<&'static str>,
    /// The school's roles (form value, label) and whether each must use
    /// two-step verification.
    mfa_roles: Vec<(&'static str, &'static str, bool)>,
}

async fn settings_page(
    state: &AppState,
    visitor: &Visitor,
    client: &Client,
    actor: &Actor,
    notice: Option<&'static str>,
) -> Result<Response, AppError> {
    let school = actor.school_id.clone().ok_or_else(AppError::not_found)?;
    let ctx = state.ctx(client);
    let retrievable = (state.kw)
        .learner_passwords_retrievable(&ctx, actor, &school)
        .await
        .map_err(|e| AppError::from_coded(&e))?;
    let learner_passkeys = (state.kw)
        .learner_passkeys(&ctx, actor, &school)
        .await
        .map_err(|e| AppError::from_coded(&e))?;
    let required = mfa_rule_of(state, &ctx, actor, &school).await?;
    let may_change = authorize(actor, Action::ManageUser, Target::School(&school)).is_ok();
    let page = SchoolSettingsPage {
        nav: Nav::of(visitor),
        csrf_token: visitor.csrf_token(),
        retrievable,
        learner_passkeys,
        may_change,
        notice,
        mfa_roles: role_choices(&required),
    };
    Ok(visitor.respond(state, render(StatusCode::OK, &page)))
}

/// The school's settings for learner passwords (R-TCH-4), under
/// subscription management.
pub async fn settings(
    State(state): State<AppState>,
    client: Client,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::School>,
) -> Result<Response, AppError> {
    settings_page(&state, &visitor, &client, &actor, None).await
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    csrf_token: String,
    /// Present (any value) when the box is ticked.
    #[serde(default)]
    learner_passwords_retrievable: Option<String>,
}

#[derive(Deserialize)]
pub struct PasskeySettingForm {
    #[serde(default)]
    csrf_token: String,
    /// Present (any value) when the box is ticked.
    #[serde(default)]
    learner_passkeys: Option<String>,
}

csrf_forms!(LinkForm, SettingsForm, PasskeySettingForm);

pub async fn update_settings(
    State(state): State<AppState>,
    client: Client,
    SignedIn {
        visitor,
        actor,
        form: PageForm(form),
        ..
    }: SignedIn<return_to::School, PageForm<SettingsForm>>,
) -> Result<Response, AppError> {
    let school = actor.school_id.clone().ok_or_else(AppError::not_found)?;
    let keep = form.learner_passwords_retrievable.is_some();
    state
        .kw
        .set_learner_passwords_retrievable(&state.ctx(&client), &actor, &school, keep)
        .await
        .map_err(|e| AppError::from_coded(&e))?;
    let notice = if keep {
        "Saved. From now on, passwords staff give learners can be shown again."
    } else {
        "Saved. keyward keeps no copies of learner passwords, and the copies it had are destroyed."
    };
    settings_page(&state, &visitor, &client, &actor, Some(notice)).await
}

#[derive(Deserialize)]
pub struct MfaRuleForm {
    #[serde(default)]
    csrf_token: String,
    /// The ticked roles, by name.
    #[serde(default)]
    roles: Vec<String>,
}

csrf_forms!(MfaRuleForm);

/// The school's rule for two-step verification: which of its roles must
/// turn it on (R-MFA-1).
pub async fn update_mfa_rule(
    State(state): State<AppState>,
    client: Client,
    SignedIn {
        visitor,
        actor,
        form: RepeatedForm(form),
        ..
    }: SignedIn<return_to::School, RepeatedForm<MfaRuleForm>>,
) -> Result<Response, AppError> {
    let school = actor.school_id.clone().ok_or_else(AppError::not_found)?;
    let roles = parse_roles(&form.roles)?;
    state
        .kw
        .set_school_mfa_required_roles(&state.ctx(&client), &actor, &school, &roles)
        .await
        .map_err(|e| AppError::from_coded(&e))?;
    let notice = "Saved. People in the roles you ticked are asked to turn on two-step verification when they next sign in.";
    settings_page(&state, &visitor, &client, &actor, Some(notice)).await
}

/// The roles the school requires two-step verification of.
async fn mfa_rule_of(
    state: &AppState,
    ctx: &keyward_core::Ctx<'_>,
    actor: &Actor,
    school: &keyward_core::types::SchoolId,
) -> Result<Vec<Role>, AppError> {
    state
        .kw
        .school_mfa_required_roles(ctx, actor, school)
        .await
        .map_err(|e| AppError::from_coded(&e))
}

/// The school's roles as checkboxes: (value, label, ticked).
fn role_choices(required: &[Role]) -> Vec<(&'static str, &'static str, bool)> {
    SCHOOL_ROLES
        .into_iter()
        .map(|role| (role.as_str(), role.label(), required.contains(&role)))
        .collect()
}

/// Role names as a form or a call sends them; an unknown one is refused.
fn parse_roles(names: &[String]) -> Result<Vec<Role>, AppError> {
    names
        .iter()
        .map(|name| {
            Role::parse(name).ok_or_else(|| {
                AppError::new(Code::InvalidRequest, format!("`{name}` is not a role."))
            })
        })
        .collect()
}

/// The school's switch for learners' passkeys, on the same page.
pub async fn update_passkey_setting(
    State(state): State<AppState>,
    client: Client,
    SignedIn {
        visitor,
        actor,
        form: PageForm(form),
        ..
    }: SignedIn<return_to::School, PageForm<PasskeySettingForm>>,
) -> Result<Response, AppError> {
    let school = actor.school_id.clone().ok_or_else(AppError::not_found)?;
    let on = form.learner_passkeys.is_some();
    state
        .kw
        .set_learner_passkeys(&state.ctx(&client), &actor, &school, on)
        .await
        .map_err(|e| AppError::from_coded(&e))?;
    let notice = if on {
        "Saved. Learners at your school can now add passkeys in Account Settings."
    } else {
        "Saved. Learners cannot use passkeys, and the passkeys they had are removed."
    };
    settings_page(&state, &visitor, &client, &actor, Some(notice)).await
}
