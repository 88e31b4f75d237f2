//! **Account Settings → Two-step verification** (R-MFA-1): where it stands
//! (on or off, recovery codes left); **Set up an authenticator app** (the
//! password again, then the QR code and the key as text, then the app's
//! first code); the recovery codes, shown once with **Download recovery
//! codes**; **Get new recovery codes**; and turning it off (the password and
//! a code). Each post calls one of the core's `mfa` use cases; a refusal
//! shows the core's message with its status and changes nothing. Like every
//! page these are `Cache-Control: no-store` and `Referrer-Policy:
//! no-referrer` (the security headers), so no cache keeps a secret or a code.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use keyward_core::i18n::Translate as _;
use serde::Deserialize;

use keyward_core::accounts::CurrentSession;
use keyward_core::mfa::{
    CODES_PER_SET, MfaError, RecoveryCodes, SecondStepCode, TotpCode, TotpEnrolment,
};

use super::{Nav, Told, render_told};
use crate::error::AppError;
use crate::extract::{Client, PageForm, Visitor};
use crate::shared::download::data_url;
use crate::signed_in::{SignedIn, csrf_forms, return_to};
use crate::state::AppState;

/// The file name **Download recovery codes** suggests.
const RECOVERY_CODES_FILE: &str = "keyward-recovery-codes.txt";

/// The form of the overview that was sent, so that its fields are marked
/// when the page tells a problem.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sent {
    Nothing,
    SetUp,
    NewCodes,
    TurnOff,
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
    sent: Sent,
    errors: Vec<String>,
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
    errors: Vec<String>,
}

/// Recovery codes, this once.
#[derive(Template)]
#[template(path = "account_mfa_codes.html")]
struct CodesPage {
    nav: Option<Nav>,
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
fn refused(err: MfaError) -> Result<Told, AppError> {
    match err {
        MfaError::Internal(internal) => Err(AppError::internal(&internal)),
        err => Ok(Told::refused(&err)),
    }
}

/// The overview as it stands now, telling `told` about the form `sent`.
async fn overview_page(
    state: &AppState,
    visitor: &Visitor,
    session: &CurrentSession,
    sent: Sent,
    told: Told,
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
        sent,
        errors: told.errors,
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
    told: Told,
) -> Response {
    let page = SetupPage {
        nav: Nav::of(visitor),
        csrf_token: visitor.csrf_token(),
        shown,
        errors: told.errors,
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
    overview_page(&state, &visitor, &session, Sent::Nothing, nothing_told()).await
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
            nothing_told(),
        )),
        Err(err) => overview_page(&state, &visitor, &session, Sent::SetUp, refused(err)?).await,
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
    let confirmed = match TotpCode::parse(&form.code) {
        Some(code) => {
            let ctx = state.ctx(&client);
            state
                .kw
                .confirm_totp_enrolment(&ctx, &session.account, &code)
                .await
        }
        None => Err(MfaError::CodeMalformed),
    };
    match confirmed {
        Ok(codes) => Ok(codes_page(&state, &visitor, &session, &codes, TURNED_ON)),
        // Nothing waits for a code (or it is on already): the overview says where it stands.
        Err(err @ (MfaError::NotPending | MfaError::AlreadyEnabled)) => {
            overview_page(&state, &visitor, &session, Sent::Nothing, refused(err)?).await
        }
        Err(err) => Ok(setup_page(&state, &visitor, None, refused(err)?)),
    }
}

const TURNED_ON: &str =
    "Two-step verification is on. Signing in now asks for a code from your app.";

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
        Err(err) => overview_page(&state, &visitor, &session, Sent::NewCodes, refused(err)?).await,
    }
}

const NEW_CODES: &str = "Here are your new recovery codes. The old ones no longer work.";

/// **Turn off two-step verification**: the password and a code.
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
    let told = match turned_off {
        Ok(()) => Told::done(TURNED_OFF),
        Err(err) => refused(err)?,
    };
    overview_page(&state, &visitor, &session, Sent::TurnOff, told).await
}

const TURNED_OFF: &str =
    "Two-step verification is off. Signing in asks only for your password again.";
