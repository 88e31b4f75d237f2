//! Seed 002's **User accounts** → **Show access codes** → **Download CSV**
//! (R-TCH-5), for a class (`/classes/{id}/accounts`, its teachers and the
//! lead teacher) and for the whole school (`/school/accounts`, the lead
//! teacher). **User accounts** shows no secret; **Show access codes** is a
//! plain link to a page that shows them (audited by the core, never cached:
//! every page is `Cache-Control: no-store`); **Download CSV** is a link to
//! the CSV, which the core audits too. Printed, **Show access codes** gives
//! one login card per learner (the password, or the access code of a
//! learner who has not set up their account); **User accounts** prints as a
//! plain class list.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use keyward_core::i18n::{self, Message, Translate as _};

use keyward_core::authz::Actor;
use keyward_core::classroom::credentials::{
    CredentialRow, Credentials, CredentialsError, CredentialsOf, CredentialsScope, CredentialsUse,
};
use keyward_core::classroom::passwords::PasswordState;
use keyward_core::types::ClassId;

use super::login_cards::{LoginCard, LoginCards};
use super::people::status_label;
use super::trail::{self, Crumbs};
use super::{Nav, render};
use crate::error::{AppError, coded};
use crate::extract::{Client, Visitor, path_id};
use crate::shared::download::csv_download;
use crate::signed_in::{SignedIn, return_to};
use crate::state::AppState;

/// Every password state, in the order the legend lists them.
const STATES: [PasswordState; 5] = [
    PasswordState::Retrievable,
    PasswordState::Private,
    PasswordState::NotKept,
    PasswordState::Pending,
    PasswordState::Sso,
];

/// The message ids of a password state: a few words for a table cell, and
/// what it means for staff (the legend, a learner's **Reset password**).
pub(super) fn state_messages(state: PasswordState) -> (&'static str, &'static str) {
    match state {
        PasswordState::Retrievable => (
            "teacher-password-state-retrievable",
            "teacher-password-state-retrievable-explained",
        ),
        PasswordState::Private => (
            "teacher-password-state-private",
            "teacher-password-state-private-explained",
        ),
        PasswordState::NotKept => (
            "teacher-password-state-not-kept",
            "teacher-password-state-not-kept-explained",
        ),
        PasswordState::Pending => (
            "teacher-password-state-pending",
            "teacher-password-state-pending-explained",
        ),
        PasswordState::Sso => (
            "teacher-password-state-sso",
            "teacher-password-state-sso-explained",
        ),
    }
}

/// A row's password state in words: an SSO-only learner's names the provider.
fn row_state_label(row: &CredentialRow) -> String {
    match (&row.sso, row.password_state) {
        (Some(sso), PasswordState::Sso) => Message::new("teacher-signs-in-with")
            .with("provider", &sso.provider_name)
            .to_string(),
        (_, state) => i18n::text(state_messages(state).0),
    }
}

struct AccountRow {
    /// The row's anchor (`#learner-{id}`), where a list's **Show access
    /// codes** for one learner lands.
    id: String,
    name: String,
    class_name: String,
    username: Option<String>,
    /// The message id of the account's status (`people::status_label`).
    status: &'static str,
    state_label: String,
    password: Option<String>,
    access_code: Option<String>,
    parent_access_code: Option<String>,
    withheld: bool,
}

impl AccountRow {
    fn of(row: &CredentialRow) -> AccountRow {
        let name = format!("{} {}", row.first_name, row.last_name);
        let name = match (name.trim(), &row.username) {
            ("", Some(username)) => username.clone(),
            ("", None) => i18n::text("teacher-no-name"),
            (name, _) => name.to_owned(),
        };
        AccountRow {
            id: row.user_id.to_string(),
            name,
            class_name: row.class_name.clone(),
            username: row.username.clone(),
            status: status_label(row.status),
            state_label: row_state_label(row),
            password: row.password.as_ref().map(|p| p.expose().to_owned()),
            access_code: row.access_code.clone(),
            parent_access_code: row.parent_access_code.clone(),
            withheld: row.withheld,
        }
    }
}

#[derive(Template)]
#[template(path = "user_accounts.html")]
struct UserAccountsPage {
    nav: Option<Nav>,
    trail: Crumbs,
    /// The class's name, or the school's for the whole school.
    scope_name: String,
    school_name: String,
    school_wide: bool,
    /// Whether this is **Show access codes** (secrets on the page).
    codes: bool,
    accounts_href: String,
    codes_href: String,
    csv_href: String,
    rows: Vec<AccountRow>,
    /// (label, explanation) of each password state in the table: message ids.
    legend: Vec<(&'static str, &'static str)>,
    /// Some learner has not set up their account yet.
    has_pending: bool,
    /// Printed with **Show access codes**.
    login_cards: LoginCards,
}

impl UserAccountsPage {
    fn of(page: Shown<'_>, credentials: &Credentials, codes: bool) -> UserAccountsPage {
        let (scope_name, school_wide, base, trail) = match &credentials.scope {
            CredentialsScope::Class { id, name } => (
                name.clone(),
                false,
                format!("/classes/{id}"),
                trail::class(page.actor, &id.to_string(), name),
            ),
            CredentialsScope::School => (
                credentials.school_name.clone(),
                true,
                "/school".to_owned(),
                trail::to_school_hub(page.actor),
            ),
        };
        let mut trail = trail;
        if codes {
            let label = i18n::text("teacher-user-accounts-title");
            trail.push((format!("{base}/accounts"), label));
        }
        let rows: Vec<AccountRow> = credentials.rows.iter().map(AccountRow::of).collect();
        let cards = credentials
            .rows
            .iter()
            .zip(&rows)
            .map(|(row, shown)| LoginCard::of_row(row, &shown.name))
            .collect();
        UserAccountsPage {
            nav: Nav::of(page.visitor),
            trail,
            scope_name,
            school_name: credentials.school_name.clone(),
            school_wide,
            codes,
            accounts_href: format!("{base}/accounts"),
            codes_href: format!("{base}/accounts/codes"),
            csv_href: format!("{base}/credentials.csv"),
            rows,
            legend: legend(credentials),
            has_pending: credentials
                .rows
                .iter()
                .any(|row| row.password_state == PasswordState::Pending),
            login_cards: LoginCards::new(page.state, &credentials.school_name, cards),
        }
    }
}

/// (label, explanation) of each password state the rows have: message ids.
fn legend(credentials: &Credentials) -> Vec<(&'static str, &'static str)> {
    STATES
        .into_iter()
        .filter(|state| {
            credentials
                .rows
                .iter()
                .any(|row| row.password_state == *state)
        })
        .map(state_messages)
        .collect()
}

/// Who a page is shown to, and where.
#[derive(Clone, Copy)]
struct Shown<'a> {
    state: &'a AppState,
    visitor: &'a Visitor,
    actor: &'a Actor,
}

fn class_id(path: Result<Path<String>, PathRejection>) -> Result<ClassId, AppError> {
    path_id(path, ClassId::parse)
}

/// What a page wants of the core.
#[derive(Clone, Copy)]
enum Want {
    /// **User accounts**: no secret.
    Accounts,
    /// **Show access codes** or **Download CSV**.
    Secrets(CredentialsUse),
}

async fn class_credentials(
    state: &AppState,
    client: &Client,
    actor: &Actor,
    class: &ClassId,
    want: Want,
) -> Result<Credentials, CredentialsError> {
    let ctx = state.ctx(client);
    match want {
        Want::Accounts => state.kw.class_accounts(&ctx, actor, class).await,
        Want::Secrets(use_) => state.kw.class_credentials(&ctx, actor, class, use_).await,
    }
}

async fn school_credentials(
    state: &AppState,
    client: &Client,
    actor: &Actor,
    want: Want,
) -> Result<Credentials, AppError> {
    // The school's pages are the actor's own school's.
    let school = actor.school_id.clone().ok_or_else(AppError::not_found)?;
    let ctx = state.ctx(client);
    match want {
        Want::Accounts => state.kw.school_accounts(&ctx, actor, &school).await,
        Want::Secrets(use_) => {
            state
                .kw
                .school_credentials(&ctx, actor, &school, use_)
                .await
        }
    }
    .map_err(coded)
}

/// Renders the page.
fn respond(page: Shown<'_>, credentials: &Credentials, want: Want) -> Result<Response, AppError> {
    let response = match want {
        Want::Secrets(_) => render(
            StatusCode::OK,
            &UserAccountsPage::of(page, credentials, true),
        ),
        Want::Accounts => render(
            StatusCode::OK,
            &UserAccountsPage::of(page, credentials, false),
        ),
    };
    Ok(page.visitor.respond(page.state, response))
}

async fn class_page(
    state: AppState,
    me: SignedIn<return_to::Classes>,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    want: Want,
) -> Result<Response, AppError> {
    let class = class_id(path)?;
    let credentials = class_credentials(&state, &client, &me.actor, &class, want)
        .await
        .map_err(coded)?;
    let page = Shown {
        state: &state,
        visitor: &me.visitor,
        actor: &me.actor,
    };
    respond(page, &credentials, want)
}

async fn school_page(
    state: AppState,
    me: SignedIn<return_to::SchoolAccounts>,
    client: Client,
    want: Want,
) -> Result<Response, AppError> {
    let credentials = school_credentials(&state, &client, &me.actor, want).await?;
    let page = Shown {
        state: &state,
        visitor: &me.visitor,
        actor: &me.actor,
    };
    respond(page, &credentials, want)
}

/// `GET /classes/{id}/accounts`: **User accounts** of a class.
pub async fn class_accounts(
    State(state): State<AppState>,
    me: SignedIn<return_to::Classes>,
    client: Client,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    class_page(state, me, client, path, Want::Accounts).await
}

/// `GET /classes/{id}/accounts/codes`: **Show access codes** (audited).
pub async fn class_codes(
    State(state): State<AppState>,
    me: SignedIn<return_to::Classes>,
    client: Client,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    let want = Want::Secrets(CredentialsUse::Show);
    class_page(state, me, client, path, want).await
}

/// `GET /classes/{id}/credentials.csv`: **Download CSV** (audited).
pub async fn class_csv(
    State(state): State<AppState>,
    me: SignedIn<return_to::Classes>,
    client: Client,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    let class = class_id(path)?;
    download(
        &state,
        &me.visitor,
        &client,
        &me.actor,
        CredentialsOf::Class(class),
    )
    .await
}

/// `GET /school/accounts`: **User accounts** of the whole school.
pub async fn school_accounts(
    State(state): State<AppState>,
    me: SignedIn<return_to::SchoolAccounts>,
    client: Client,
) -> Result<Response, AppError> {
    school_page(state, me, client, Want::Accounts).await
}

/// `GET /school/accounts/codes`: **Show access codes** of the whole school.
pub async fn school_codes(
    State(state): State<AppState>,
    me: SignedIn<return_to::SchoolAccounts>,
    client: Client,
) -> Result<Response, AppError> {
    let want = Want::Secrets(CredentialsUse::Show);
    school_page(state, me, client, want).await
}

/// `GET /school/credentials.csv`: **Download CSV** of the whole school.
pub async fn school_csv(
    State(state): State<AppState>,
    me: SignedIn<return_to::SchoolAccounts>,
    client: Client,
) -> Result<Response, AppError> {
    // The school's pages are the actor's own school's.
    let school = me.actor.school_id.clone().ok_or_else(AppError::not_found)?;
    download(
        &state,
        &me.visitor,
        &client,
        &me.actor,
        CredentialsOf::School(school),
    )
    .await
}

/// **Download CSV**: the core's CSV, streamed as a download.
async fn download(
    state: &AppState,
    visitor: &Visitor,
    client: &Client,
    actor: &Actor,
    of: CredentialsOf,
) -> Result<Response, AppError> {
    let csv = state
        .kw
        .export_credentials_csv(&state.ctx(client), actor, &of)
        .await
        .map_err(coded)?;
    Ok(visitor.respond(state, csv_download(csv)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_has_a_label_of_its_own() {
        let labels: std::collections::HashSet<_> =
            STATES.into_iter().map(|s| state_messages(s).0).collect();
        assert_eq!(labels.len(), STATES.len());
    }
}
