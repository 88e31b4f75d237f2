//! **Account Settings → Two-step verification** (R-MFA-1): where it stands
//! (on or off, recovery codes left); **Set up an authenticator app** (the
//! password again, then the QR code and the key as text, then the app's
//! first code); the recovery codes, shown once with **Download recovery
//! codes**; **Get new recovery codes**; and turning it off, on a confirm page
//! of its own (the password and a code). Each post calls one of the core's
//! `mfa` use cases; a refusal shows the core's message next to the field it
//! is about, with its status, and changes nothing. Like every
//! page these are `Cache-Control: no-store` and `Referrer-Policy:
//! no-referrer` (the security headers), so no cache keeps a secret or a code.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use keyward_core::i18n::Translate as _;
use serde::Deserialize;

use keyward_core::accounts::CurrentSession;
use keyward_core::mfa::{
    CODES_PER_SET, MfaError, RecoveryCodes, SecondStepCode, TotpCode, TotpEnrolment,
};

use super::field_errors::FieldErrors;
use super::{Nav, Told, render_told};
use crate::error::AppError;
use crate::extract::{Client, PageForm, Visitor};
use crate::shared::download::data_url;
use crate::signed_in::{SignedIn, csrf_forms, return_to};
use crate::state::AppState;

/// The file name **Download recovery codes** suggests.
const RECOVERY_CODES_FILE: &str = "keyward-recovery-codes.txt";

/// The fields of a form that sent a password and a code: a refusal of
/// either is shown next to it.
#[derive(Clone, Copy)]
struct Fields {
    password: &'static str,
    code: &'static str,
}

/// **Set up an authenticator app** on the overview (its password).
const SET_UP: Fields = Fields {
    password: "current_password",
    code: "",
};
/// **Get new recovery codes** on the overview.
const NEW_CODES_FORM: Fields = Fields {
    password: "codes_password",
    code: "codes_code",
};
/// The turn-off page.
const TURN_OFF: Fields = Fields {
    password: "off_password",
    code: "off_code",
};
/// The set-up page's first code.
const FIRST_CODE: Fields = Fields {
    password: "",
    code: "code",
};

impl Fields {
    /// Where the refusal `err` (told as `told`) is shown.
    fn errors(self, err: &MfaError, told: &Told) -> FieldErrors {
        let field = match err {
            MfaError::WrongPassword => Some(self.password),
            MfaError::CodeMalformed
            | MfaError::RecoveryCodeMalformed
            | MfaError::CodeWrong
            | MfaError::CodeUsed => Some(self.code),
            _ => None,
        };
        FieldErrors::at(field.filter(|f| !f.is_empty()), told.errors.clone())
    }
}

#[derive(Template)]
#[template(path = "account_mfa.html")]
struct MfaPage {
    nav: Option<Nav>,
    csrf_token: String,
    username: String,
    on: bool,
    pending: bool,
    codes_left: i64,
    codes_per_set: usize,
    errors: FieldErrors,
    /// What was done (a message id).
    notice: Option<&'static str>,
    /// The person's role must have two-step verification and has none yet.
    required: bool,
}

/// What the app needs, shown once when a set-up starts.
struct ShownSecret {
    /// The `otpauth://` address as a QR code: an SVG keyward drew, never
    /// anything a person typed, so the template writes it unescaped.
    qr_svg: String,
    /// The key in groups of four, for typing.
    key: String,
    otpauth_uri: String,
}

impl From<TotpEnrolment> for ShownSecret {
    fn from(enrolment: TotpEnrolment) -> Self {
        let chars: Vec<char> = enrolment.secret.chars().collect();
        let groups: Vec<String> = chars.chunks(4).map(String::from_iter).collect();
        ShownSecret {
            qr_svg: enrolment.qr_svg,
            key: groups.join(" "),
            otpauth_uri: enrolment.otpauth_uri,
        }
    }
}

/// The set-up: the QR code and key (none when a code was refused: the app
/// already has them), and the form for the app's first code.
#[derive(Template)]
#[template(path = "account_mfa_setup.html")]
struct SetupPage {
    nav: Option<Nav>,
    csrf_token: String,
    shown: Option<ShownSecret>,
    errors: FieldErrors,
}

/// Turning it off: a confirm page with the password and a code.
#[derive(Template)]
#[template(path = "account_mfa_off.html")]
struct TurnOffPage {
    nav: Option<Nav>,
    csrf_token: String,
    username: String,
    codes_left: i64,
    errors: FieldErrors,
}

/// Recovery codes, this once.
#[derive(Template)]
#[template(path = "account_mfa_codes.html")]
struct CodesPage {
    nav: Option<Nav>,
    /// Why they are shown (a message id).
    notice: &'static str,
    codes: Vec<String>,
    download_href: String,
    download_name: &'static str,
}

/// A page shown as asked: 200, nothing to tell.
fn nothing_told() -> Told {
    Told {
        status: StatusCode::OK,
        retry_after: None,
        errors: Vec::new(),
        notice: None,
    }
}

/// What a page tells when the core refused; an internal error is an error
/// page instead.
fn refused(err: &MfaError) -> Result<Told, AppError> {
    match err {
        MfaError::Internal(internal) => Err(AppError::internal(internal)),
        err => Ok(Told::refused(err)),
    }
}

/// The overview as it stands now, telling `told` (its problems at `errors`).
async fn overview_page(
    state: &AppState,
    visitor: &Visitor,
    session: &CurrentSession,
    told: Told,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    let status = state.kw.mfa_status(&session.account).await?;
    let page = MfaPage {
        nav: Nav::of(visitor),
        csrf_token: visitor.csrf_token(),
        username: session.account.username.to_string(),
        on: status.totp,
        pending: status.enrolment_pending,
        codes_left: status.recovery_codes_left,
        codes_per_set: CODES_PER_SET,
        errors,
        notice: told.notice,
        required: session.mfa_enrolment_due,
    };
    let response = render_told(told.status, told.retry_after, &page);
    Ok(visitor.respond(state, response))
}

fn setup_page(
    state: &AppState,
    visitor: &Visitor,
    shown: Option<ShownSecret>,
    (told, errors): (Told, FieldErrors),
) -> Response {
    let page = SetupPage {
        nav: Nav::of(visitor),
        csrf_token: visitor.csrf_token(),
        shown,
        errors,
    };
    visitor.respond(state, render_told(told.status, told.retry_after, &page))
}

fn codes_page(
    state: &AppState,
    visitor: &Visitor,
    session: &CurrentSession,
    codes: &RecoveryCodes,
    notice: &'static str,
) -> Response {
    let file = codes.as_text_file(session.account.username.as_str());
    let page = CodesPage {
        nav: Nav::of(visitor),
        notice,
        codes: codes.shown(),
        download_href: data_url("text/plain;charset=utf-8", &file),
        download_name: RECOVERY_CODES_FILE,
    };
    visitor.respond(state, render_told(StatusCode::OK, None, &page))
}

pub async fn overview(
    State(state): State<AppState>,
    SignedIn {
        visitor, session, ..
    }: SignedIn<return_to::AccountMfa>,
) -> Result<Response, AppError> {
    overview_page(
        &state,
        &visitor,
        &session,
        nothing_told(),
        FieldErrors::none(),
    )
    .await
}

/// The password typed again.
#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    password: String,
}

/// The app's first code.
#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    code: String,
}

/// Turning it off: the password and a code from the app or a recovery code.
#[derive(Deserialize)]
pub struct TurnOffForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
}

csrf_forms!(PasswordForm, CodeForm, TurnOffForm);

/// **Set up an authenticator app**: the password again, then the QR code.
pub async fn start_setup(
    State(state): State<AppState>,
    client: Client,
    SignedIn {
        visitor,
        session,
        form: PageForm(form),
        ..
    }: SignedIn<return_to::NoPage, PageForm<PasswordForm>>,
) -> Result<Response, AppError> {
    let ctx = state.ctx(&client);
    let password = form.password.into();
    match state
        .kw
        .start_totp_enrolment(&ctx, &session.account, &password)
        .await
    {
        Ok(enrolment) => Ok(setup_page(
            &state,
            &visitor,
            Some(enrolment.into()),
            (nothing_told(), FieldErrors::none()),
        )),
        Err(err) => {
            let told = refused(&err)?;
            let errors = SET_UP.errors(&err, &told);
            overview_page(&state, &visitor, &session, told, errors).await
        }
    }
}

/// The app's first code: on, and the recovery codes.
pub async fn confirm_setup(
    State(state): State<AppState>,
    client: Client,
    SignedIn {
        visitor,
        session,
        form: PageForm(form),
        ..
    }: SignedIn<return_to::NoPage, PageForm<CodeForm>>,
) -> Result<Response, AppError> {
    let confirmed = first_code(&state, &client, &session, &form.code).await;
    let err = match confirmed {
        Ok(codes) => return Ok(codes_page(&state, &visitor, &session, &codes, TURNED_ON)),
        Err(err) => err,
    };
    let told = refused(&err)?;
    let errors = FIRST_CODE.errors(&err, &told);
    match err {
        // Nothing waits for a code (or it is on already): the overview says where it stands.
        MfaError::NotPending | MfaError::AlreadyEnabled => {
            overview_page(&state, &visitor, &session, told, errors).await
        }
        _ => Ok(setup_page(&state, &visitor, None, (told, errors))),
    }
}

/// Checks the app's first code and turns two-step verification on.
async fn first_code(
    state: &AppState,
    client: &Client,
    session: &CurrentSession,
    typed: &str,
) -> Result<keyward_core::mfa::RecoveryCodes, MfaError> {
    let code = TotpCode::parse(typed).ok_or(MfaError::CodeMalformed)?;
    state
        .kw
        .confirm_totp_enrolment(&state.ctx(client), &session.account, &code)
        .await
}

/// The notice of the recovery codes page when it was just turned on.
const TURNED_ON: &str = "account-mfa-turned-on";

/// **Get new recovery codes**: the password again and a code; the old codes
/// stop working.
pub async fn new_recovery_codes(
    State(state): State<AppState>,
    client: Client,
    SignedIn {
        visitor,
        session,
        form: PageForm(form),
        ..
    }: SignedIn<return_to::NoPage, PageForm<TurnOffForm>>,
) -> Result<Response, AppError> {
    let made = match SecondStepCode::either(&form.code) {
        Ok(code) => {
            let (ctx, password) = (state.ctx(&client), form.password.into());
            state
                .kw
                .regenerate_recovery_codes(&ctx, &session.account, &password, &code)
                .await
        }
        Err(err) => Err(err),
    };
    match made {
        Ok(codes) => Ok(codes_page(&state, &visitor, &session, &codes, NEW_CODES)),
        Err(err) => {
            let told = refused(&err)?;
            let errors = NEW_CODES_FORM.errors(&err, &told);
            overview_page(&state, &visitor, &session, told, errors).await
        }
    }
}

/// The notice of the recovery codes page after **Get new recovery codes**.
const NEW_CODES: &str = "account-mfa-new-codes-made";

/// **Turn off two-step verification**: the confirm page, asking for the
/// password and a code (the overview when it is not on).
pub async fn turn_off_form(
    State(state): State<AppState>,
    SignedIn {
        visitor, session, ..
    }: SignedIn<return_to::AccountMfa>,
) -> Result<Response, AppError> {
    let page = turn_off_page(&state, &visitor, &session, FieldErrors::none()).await?;
    Ok(match page {
        Some(page) => visitor.respond(&state, render_told(StatusCode::OK, None, &page)),
        None => Redirect::to("/account/mfa").into_response(),
    })
}

/// The turn-off page, if two-step verification is on.
async fn turn_off_page(
    state: &AppState,
    visitor: &Visitor,
    session: &CurrentSession,
    errors: FieldErrors,
) -> Result<Option<TurnOffPage>, AppError> {
    let status = state.kw.mfa_status(&session.account).await?;
    Ok(status.totp.then(|| TurnOffPage {
        nav: Nav::of(visitor),
        csrf_token: visitor.csrf_token(),
        username: session.account.username.to_string(),
        codes_left: status.recovery_codes_left,
        errors,
    }))
}

/// **Turn off two-step verification** confirmed with the password and a
/// code: the overview says it is off; a refusal, the confirm page again.
pub async fn turn_off(
    State(state): State<AppState>,
    client: Client,
    SignedIn {
        visitor,
        session,
        form: PageForm(form),
        ..
    }: SignedIn<return_to::NoPage, PageForm<TurnOffForm>>,
) -> Result<Response, AppError> {
    let turned_off = match SecondStepCode::either(&form.code) {
        Ok(code) => {
            let (ctx, password) = (state.ctx(&client), form.password.into());
            state
                .kw
                .disable_totp(&ctx, &session.account, &password, &code)
                .await
        }
        Err(err) => Err(err),
    };
    match turned_off {
        Ok(()) => {
            let told = Told::done(TURNED_OFF);
            overview_page(&state, &visitor, &session, told, FieldErrors::none()).await
        }
        Err(err) => turn_off_refused(&state, &visitor, &session, &err).await,
    }
}

/// The confirm page again with the refusal at its field; the overview when
/// it is not on (any more).
async fn turn_off_refused(
    state: &AppState,
    visitor: &Visitor,
    session: &CurrentSession,
    err: &MfaError,
) -> Result<Response, AppError> {
    let told = refused(err)?;
    let errors = TURN_OFF.errors(err, &told);
    match turn_off_page(state, visitor, session, errors).await? {
        Some(page) => Ok(visitor.respond(state, render_told(told.status, told.retry_after, &page))),
        None => {
            let errors = FieldErrors::at(None, told.errors.clone());
            overview_page(state, visitor, session, told, errors).await
        }
    }
}

/// The overview's notice once it is off.
const TURNED_OFF: &str = "account-mfa-turned-off";
