//! `/api/v1/me/email`: the signed-in person replaces their own email address,
//! typing their password again (R-MFA-1). The old address is told.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ErrorBody;
use crate::error::{AppError, coded};
use crate::extract::{ApiJson, ApiSession, Client};
use crate::state::AppState;

/// The new address, and the password typed again.
#[derive(Deserialize, ToSchema)]
pub struct ChangeEmailRequest {
    pub password: String,
    /// Checked lightly: one `@`, a dot in the domain, no spaces, at most 254
    /// characters; surrounding spaces are dropped.
    pub email: String,
}

impl std::fmt::Debug for ChangeEmailRequest {
    // The password never reaches a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeEmailRequest")
            .field("password", &keyward_core::types::REDACTED)
            .field("email", &self.email)
            .finish()
    }
}

/// The address the account has now.
#[derive(Serialize, ToSchema)]
pub struct EmailAnswer {
    pub email: String,
}

/// Replace your own email address. The old address gets a notice naming the
/// new one masked, with a "this wasn't me" link; open reset links stop.
#[utoipa::path(
    post,
    operation_id = "change_email",
    path = "/me/email",
    tag = "session",
    request_body = ChangeEmailRequest,
    responses(
        (status = 200, description = "Changed; the address now stored", body = EmailAnswer),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`csrf_failed`", body = ErrorBody),
        (status = 422, description = "`wrong_current_password`, `email_invalid` or `email_unchanged`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`; see Retry-After", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []))
)]
pub async fn change_email(
    State(state): State<AppState>,
    client: Client,
    caller: ApiSession,
    ApiJson(body): ApiJson<ChangeEmailRequest>,
) -> Result<Json<EmailAnswer>, AppError> {
    let email = state
        .kw
        .change_own_email(
            &state.ctx(&client),
            &caller.session,
            &body.password.into(),
            &body.email,
        )
        .await
        .map_err(coded)?;
    Ok(Json(EmailAnswer {
        email: email.as_str().to_owned(),
    }))
}
