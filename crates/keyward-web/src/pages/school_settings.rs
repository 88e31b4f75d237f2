//! **School settings** (under subscription management): whether staff-set
//! learner passwords are kept sealed to be shown again (R-TCH-4), whether
//! learners may use passkeys, and which roles must use two-step
//! verification (R-MFA-1). Its lead teacher changes them; the school's
//! teachers read them. Switching off one of the first two destroys what
//! was kept, so the form asks first on a confirm page (a second post with
//! `confirm`), without JavaScript. The rules are the core's.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use keyward_core::i18n::{self, Translate as _};
use serde::Deserialize;

use keyward_core::Ctx;
use keyward_core::authz::{Action, Actor, Target, authorize};
use keyward_core::error::Code;
use keyward_core::schools::SCHOOL_ROLES;
use keyward_core::types::{Role, SchoolId};

use super::people::roles_name;
use super::trail::{self, Crumbs};
use super::{Nav, render};
use crate::error::AppError;
use crate::extract::{Client, PageForm, RepeatedForm, Visitor};
use crate::signed_in::{SignedIn, csrf_forms, return_to};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "school_settings.html")]
struct SchoolSettingsPage {
    nav: Option<Nav>,
    /// Home › Subscription management, for those who may open it.
    crumbs: Crumbs,
    csrf_token: String,
    retrievable: bool,
    /// Learners may use passkeys (`schools.learner_passkeys`).
    learner_passkeys: bool,
    may_change: bool,
    /// The message id of what was saved.
    notice: Option<&'static str>,
    /// The school's roles (form value, message id of their name for many)
    /// and whether each must use two-step verification.
    mfa_roles: Vec<(&'static str, &'static str, bool)>,
}

impl SchoolSettingsPage {
    /// Whether any role must use two-step verification.
    fn any_required(&self) -> bool {
        self.mfa_roles.iter().any(|(_, _, required)| *required)
    }
}

fn coded(err: impl keyward_core::error::CodedError + std::fmt::Debug) -> AppError {
    AppError::from_coded(&err)
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
        .map_err(coded)?;
    let learner_passkeys = (state.kw)
        .learner_passkeys(&ctx, actor, &school)
        .await
        .map_err(coded)?;
    let required = mfa_rule_of(state, &ctx, actor, &school).await?;
    let page = SchoolSettingsPage {
        nav: Nav::of(visitor),
        crumbs: trail::to_school_hub(actor),
        csrf_token: visitor.csrf_token(),
        retrievable,
        learner_passkeys,
        may_change: may_change(actor, &school),
        notice,
        mfa_roles: role_choices(&required),
    };
    Ok(visitor.respond(state, render(StatusCode::OK, &page)))
}

/// Whether the actor may change the school's settings (its lead teacher):
/// the form is shown, and a switch-off asks first. The core decides again.
fn may_change(actor: &Actor, school: &SchoolId) -> bool {
    authorize(actor, Action::ManageUser, Target::School(school)).is_ok()
}

/// The school's settings, under subscription management.
pub async fn show(
    State(state): State<AppState>,
    client: Client,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::School>,
) -> Result<Response, AppError> {
    settings_page(&state, &visitor, &client, &actor, None).await
}

/// A switch whose turning off destroys what was kept, so it asks first.
#[derive(Clone, Copy)]
enum Switch {
    LearnerPasswords,
    LearnerPasskeys,
}

#[derive(Template)]
#[template(path = "school_setting_confirm.html")]
struct ConfirmPage {
    nav: Option<Nav>,
    crumbs: Crumbs,
    csrf_token: String,
    /// Message ids, as the action is to the form's post.
    title: &'static str,
    consequences: [&'static str; 3],
    action: &'static str,
    button: &'static str,
    cancel: &'static str,
}

impl Switch {
    async fn is_on(
        self,
        state: &AppState,
        ctx: &Ctx<'_>,
        actor: &Actor,
        school: &SchoolId,
    ) -> Result<bool, AppError> {
        match self {
            Switch::LearnerPasswords => state
                .kw
                .learner_passwords_retrievable(ctx, actor, school)
                .await
                .map_err(coded),
            Switch::LearnerPasskeys => state
                .kw
                .learner_passkeys(ctx, actor, school)
                .await
                .map_err(coded),
        }
    }

    fn page(self, visitor: &Visitor, actor: &Actor) -> ConfirmPage {
        let mut crumbs = trail::to_school_hub(actor);
        let settings = i18n::text("admin-school-settings-title");
        crumbs.push(("/school/settings".into(), settings));
        let (title, consequences, action, button, cancel) = match self {
            Switch::LearnerPasswords => (
                "admin-school-passwords-off-title",
                [
                    "admin-school-passwords-off-destroyed",
                    "admin-school-passwords-off-keep-working",
                    "admin-school-passwords-off-again",
                ],
                "/school/settings",
                "admin-school-passwords-off-button",
                "admin-school-passwords-off-cancel",
            ),
            Switch::LearnerPasskeys => (
                "admin-school-passkeys-off-title",
                [
                    "admin-school-passkeys-off-removed",
                    "admin-school-passkeys-off-password",
                    "admin-school-passkeys-off-again",
                ],
                "/school/settings/passkeys",
                "admin-school-passkeys-off-button",
                "admin-school-passkeys-off-cancel",
            ),
        };
        ConfirmPage {
            nav: Nav::of(visitor),
            crumbs,
            csrf_token: visitor.csrf_token(),
            title,
            consequences,
            action,
            button,
            cancel,
        }
    }
}

/// The confirm page, when switching `switch` off would destroy something
/// and was not confirmed yet; `None`: go ahead (the core decides).
async fn ask_first(
    state: &AppState,
    client: &Client,
    (visitor, actor): (&Visitor, &Actor),
    switch: Switch,
    confirmed: bool,
) -> Result<Option<Response>, AppError> {
    let Some(school) = actor.school_id.as_ref() else {
        return Ok(None);
    };
    if confirmed || !may_change(actor, school) {
        return Ok(None);
    }
    if !switch
        .is_on(state, &state.ctx(client), actor, school)
        .await?
    {
        return Ok(None);
    }
    let page = switch.page(visitor, actor);
    Ok(Some(visitor.respond(state, render(StatusCode::OK, &page))))
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    csrf_token: String,
    /// Present (any value) when the box is ticked.
    #[serde(default)]
    learner_passwords_retrievable: Option<String>,
    /// Present when switching off was confirmed.
    #[serde(default)]
    confirm: Option<String>,
}

#[derive(Deserialize)]
pub struct PasskeySettingForm {
    #[serde(default)]
    csrf_token: String,
    /// Present (any value) when the box is ticked.
    #[serde(default)]
    learner_passkeys: Option<String>,
    /// Present when switching off was confirmed.
    #[serde(default)]
    confirm: Option<String>,
}

csrf_forms!(SettingsForm, PasskeySettingForm);

pub async fn update_learner_passwords(
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
    let confirmed = keep || form.confirm.is_some();
    let switch = Switch::LearnerPasswords;
    if let Some(ask) = ask_first(&state, &client, (&visitor, &actor), switch, confirmed).await? {
        return Ok(ask);
    }
    let ctx = state.ctx(&client);
    let set = state
        .kw
        .set_learner_passwords_retrievable(&ctx, &actor, &school, keep);
    set.await.map_err(coded)?;
    let notice = if keep {
        "admin-school-notice-passwords-kept"
    } else {
        "admin-school-notice-passwords-destroyed"
    };
    settings_page(&state, &visitor, &client, &actor, Some(notice)).await
}

/// The school's switch for learners' passkeys, on the same page.
pub async fn update_learner_passkeys(
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
    let confirmed = on || form.confirm.is_some();
    let switch = Switch::LearnerPasskeys;
    if let Some(ask) = ask_first(&state, &client, (&visitor, &actor), switch, confirmed).await? {
        return Ok(ask);
    }
    let ctx = state.ctx(&client);
    let set = state.kw.set_learner_passkeys(&ctx, &actor, &school, on);
    set.await.map_err(coded)?;
    let notice = if on {
        "admin-school-notice-passkeys-on"
    } else {
        "admin-school-notice-passkeys-off"
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
        .map_err(coded)?;
    let notice = "admin-school-notice-mfa";
    settings_page(&state, &visitor, &client, &actor, Some(notice)).await
}

/// The roles the school requires two-step verification of.
async fn mfa_rule_of(
    state: &AppState,
    ctx: &Ctx<'_>,
    actor: &Actor,
    school: &SchoolId,
) -> Result<Vec<Role>, AppError> {
    state
        .kw
        .school_mfa_required_roles(ctx, actor, school)
        .await
        .map_err(coded)
}

/// The school's roles as checkboxes: (value, message id of the label, ticked).
fn role_choices(required: &[Role]) -> Vec<(&'static str, &'static str, bool)> {
    SCHOOL_ROLES
        .into_iter()
        .map(|role| (role.as_str(), roles_name(role), required.contains(&role)))
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
