//! `/api/v1/schools/{school_id}/password-policy`: a school's password rules
//! for staff and for learners (R-POL-1), read by its members and set by its
//! lead teacher or a platform admin.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use keyward_core::error::Code;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use keyward_core::policy::{PasswordPolicy, PolicyKind, PolicyUpdateError};
use keyward_core::settings::PolicyPreset;
use keyward_core::types::SchoolId;

use super::ErrorBody;
use crate::error::{AppError, coded};
use crate::extract::{ApiJson, ApiSession, Client};
use crate::state::AppState;

/// Password rules.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// From 4 to 64; another value is answered 422 `invalid_policy`.
    #[schema(minimum = 4, maximum = 64)]
    pub min_length: usize,
    /// From 64 to 256; another value is answered 422 `invalid_policy`.
    #[schema(minimum = 64, maximum = 256)]
    pub max_length: usize,
    pub require_lowercase: bool,
    pub require_uppercase: bool,
    pub require_digit: bool,
    /// False: letters and digits only.
    pub allow_special: bool,
    /// Refuse passwords from the embedded list of common passwords.
    pub block_common: bool,
    /// Refuse passwords that contain the username.
    pub block_username: bool,
}

impl From<&PasswordPolicy> for Rules {
    fn from(p: &PasswordPolicy) -> Self {
        Rules {
            min_length: p.min_length,
            max_length: p.max_length,
            require_lowercase: p.require_lowercase,
            require_uppercase: p.require_uppercase,
            require_digit: p.require_digit,
            allow_special: p.allow_special,
            block_common: p.block_common,
            block_username: p.block_username,
        }
    }
}

impl From<Rules> for PasswordPolicy {
    fn from(r: Rules) -> Self {
        PasswordPolicy {
            min_length: r.min_length,
            max_length: r.max_length,
            require_lowercase: r.require_lowercase,
            require_uppercase: r.require_uppercase,
            require_digit: r.require_digit,
            allow_special: r.allow_special,
            block_common: r.block_common,
            block_username: r.block_username,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SchoolRules {
    pub staff: Rules,
    pub learner: Rules,
}

/// The presets by name.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Seed 000: at least 6 characters, lower- and uppercase, a digit, no special characters.
    Classic,
    /// NIST SP 800-63B: at least 8 characters, common passwords and the username refused.
    Nist,
}

impl From<Preset> for PolicyPreset {
    fn from(p: Preset) -> Self {
        match p {
            Preset::Classic => PolicyPreset::Classic,
            Preset::Nist => PolicyPreset::Nist,
        }
    }
}

/// The kind of user a policy is for.
// Names `PolicyKind` in the document only: the handler parses the text.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // describes the document only
pub enum PolicyKindName {
    Staff,
    Learner,
}

/// A preset by name, or every rule spelled out.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum RulesUpdate {
    Preset { preset: Preset },
    Rules(Rules),
}

fn school_of(path: &str) -> Result<SchoolId, AppError> {
    SchoolId::parse(path).ok_or_else(|| AppError::from_coded(&PolicyUpdateError::SchoolNotFound))
}

/// The kind of user of the address: `staff` or `learner`; else 404.
fn kind_of(path: &str) -> Result<PolicyKind, AppError> {
    PolicyKind::parse(path)
        .ok_or_else(|| AppError::new(Code::NotFound, "The kind of user is `staff` or `learner`."))
}

impl RulesUpdate {
    /// The rules asked for: a preset, or rules of one's own.
    fn into_policy(self) -> PasswordPolicy {
        match self {
            RulesUpdate::Preset { preset } => PasswordPolicy::preset(preset.into()),
            RulesUpdate::Rules(rules) => PasswordPolicy::from(rules),
        }
    }
}

/// A school's password rules for staff and learners, as they apply now.
#[utoipa::path(
    get,
    operation_id = "show_password_policy",
    path = "/schools/{school_id}/password-policy",
    tag = "policy",
    params(("school_id" = String, Path)),
    responses(
        (status = 200, description = "The rules in force", body = SchoolRules),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 404, description = "`school_not_found`", body = ErrorBody),
    ),
    security(("session_cookie" = []))
)]
pub async fn show(
    State(state): State<AppState>,
    caller: ApiSession,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<SchoolRules>, AppError> {
    let school = school_of(&path.map(|Path(p)| p).unwrap_or_default())?;
    let (staff, learner) = state
        .kw
        .school_password_policies(&caller.session.account.actor(), &school)
        .await
        .map_err(coded)?;
    Ok(Json(SchoolRules {
        staff: Rules::from(&staff),
        learner: Rules::from(&learner),
    }))
}

/// Set a school's rules for `staff` or `learner` accounts.
#[utoipa::path(
    put,
    operation_id = "set_password_policy",
    path = "/schools/{school_id}/password-policy/{kind}",
    tag = "policy",
    params(("school_id" = String, Path), ("kind" = inline(PolicyKindName), Path, description = "Another kind is answered 404 `not_found`")),
    request_body = RulesUpdate,
    responses(
        (status = 200, description = "The rules now in force for that kind", body = Rules),
        (status = 403, description = "`forbidden` or `csrf_failed`", body = ErrorBody),
        (status = 404, description = "`school_not_found` or `not_found` (kind)", body = ErrorBody),
        (status = 422, description = "`invalid_policy` or `invalid_request`", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    client: Client,
    caller: ApiSession,
    path: Result<Path<(String, String)>, PathRejection>,
    ApiJson(body): ApiJson<RulesUpdate>,
) -> Result<Json<Rules>, AppError> {
    let (school, kind) = path.map(|Path(p)| p).unwrap_or_default();
    let school = school_of(&school)?;
    let kind = kind_of(&kind)?;
    let policy = body.into_policy();
    state
        .kw
        .set_school_password_policy(
            &state.ctx(&client),
            &caller.session.account.actor(),
            &school,
            kind,
            &policy,
        )
        .await
        .map_err(coded)?;
    Ok(Json(Rules::from(&policy)))
}
