//! `PUT /api/v1/me/locale`: the signed-in person's own language for pages
//! and the emails sent to them (issue 15), or `null` to follow the browser
//! again. The code is parsed here, at the edge; an unknown one is 422
//! `unknown_locale` and changes nothing.

use axum::Json;
use axum::extract::State;
use keyward_core::error::Code;
use keyward_core::i18n::Locale;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ErrorBody;
use crate::error::AppError;
use crate::extract::{ApiJson, ApiSession};
use crate::state::AppState;

/// The language to use.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LocaleRequest {
    /// `en` or `es`; `null` follows the browser's `Accept-Language` again
    /// (and emails are in English). Required: a missing field is 422
    /// `invalid_request`, another code 422 `unknown_locale`.
    #[serde(deserialize_with = "Option::deserialize")]
    #[schema(required = true, example = "es")]
    pub locale: Option<String>,
}

/// The language now chosen.
#[derive(Serialize, ToSchema)]
pub struct LocaleAnswer {
    /// `en`, `es`, or null (the browser's).
    pub locale: Option<String>,
}

/// Choose the language of your pages and of the emails sent to you.
#[utoipa::path(
    put,
    operation_id = "set_locale",
    path = "/me/locale",
    tag = "session",
    request_body = LocaleRequest,
    responses(
        (status = 200, description = "Chosen; the language now stored", body = LocaleAnswer),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`csrf_failed`", body = ErrorBody),
        (status = 422, description = "`unknown_locale`: not a language keyward speaks (en, es); nothing changed", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []))
)]
pub async fn set_locale(
    State(state): State<AppState>,
    caller: ApiSession,
    ApiJson(body): ApiJson<LocaleRequest>,
) -> Result<Json<LocaleAnswer>, AppError> {
    let locale = match body.locale.as_deref() {
        None => None,
        Some(code) => Some(Locale::parse(code).ok_or_else(unknown_locale)?),
    };
    state.kw.set_own_locale(&caller.session, locale).await?;
    Ok(Json(LocaleAnswer {
        locale: locale.map(|l| l.code().to_owned()),
    }))
}

/// 422 `unknown_locale`, naming the languages there are.
pub fn unknown_locale() -> AppError {
    AppError::new(
        Code::UnknownLocale,
        "keyward speaks en (English) and es (Spanish); send one of these codes, or null to follow the browser.",
    )
}
