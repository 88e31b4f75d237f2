//! **Audit log** (R-AUD-1): a filter form that works without JavaScript
//! (GET, so every view has an address), one page of rows with **Older** and
//! **Newer** links that keep the filters, and **Download CSV** with the same
//! filters. Scope and filters are the core's; a bad filter is told on the
//! page (422), never a server error.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use keyward_core::i18n::Translate as _;

use keyward_core::audit::{AuditQuery, AuditQueryText, AuditRecord, InvalidFilter, NamedPerson};
use keyward_core::audit_browse::AuditPage;
use keyward_core::authz::Actor;
use keyward_core::types::Role;

use super::{Nav, render};
use crate::error::{AppError, coded};
use crate::extract::Client;
use crate::shared::download::audit_csv_download;
use crate::shared::query::audit_query_text;
use crate::signed_in::{SignedIn, return_to};
use crate::state::AppState;

/// A person as a cell shows them: name and username when they are a user,
/// else the bare id (a school, a class, a removed account).
struct PersonCell {
    name: String,
    username: String,
    id: String,
}

impl PersonCell {
    fn of(person: Option<&NamedPerson>) -> Option<PersonCell> {
        person.map(|p| PersonCell {
            name: p.name.clone().unwrap_or_default(),
            username: p.username.clone().unwrap_or_default(),
            id: p.id.clone(),
        })
    }
}

struct Row {
    id: i64,
    iso: String,
    when: String,
    actor: Option<PersonCell>,
    target: Option<PersonCell>,
    action: String,
    outcome: String,
    client_addr: String,
    detail: String,
    /// The API token the actor acted through; empty for a session.
    via_token: String,
}

impl Row {
    fn of(record: &AuditRecord) -> Row {
        let iso = record.at_rfc3339();
        Row {
            id: record.id,
            when: format!("{} {} UTC", &iso[..10], &iso[11..19]),
            iso,
            actor: PersonCell::of(record.actor.as_ref()),
            target: PersonCell::of(record.target.as_ref()),
            action: record.action.clone(),
            outcome: record.outcome.clone(),
            client_addr: record.client_addr.clone().unwrap_or_default(),
            detail: record.detail.clone().unwrap_or_default(),
            via_token: record.api_token_id.clone().unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "audit_log.html")]
struct AuditLogPage {
    nav: Option<Nav>,
    /// The filters as typed, to fill the form again.
    f: AuditQueryText,
    /// The schools a platform admin may pick from: (id, name); empty for
    /// everyone else (their own school is the scope).
    schools: Vec<(String, String)>,
    /// A refused filter, under its field: (field, why).
    refused: Option<InvalidFilter>,
    /// A refused filter the form has no field for (paging, limit).
    errors: Vec<String>,
    rows: Vec<Row>,
    older: Option<String>,
    newer: Option<String>,
    csv: String,
}

/// The filters (no page position) as a query string, with `extra` added.
fn link(path: &str, f: &AuditQueryText, extra: Option<(&str, i64)>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in [
        ("person", &f.person),
        ("action", &f.action),
        ("outcome", &f.outcome),
        ("from", &f.from),
        ("to", &f.to),
        ("school_id", &f.school_id),
        ("limit", &f.limit),
    ] {
        if !value.trim().is_empty() {
            query.append_pair(key, value.trim());
        }
    }
    if let Some((key, id)) = extra {
        query.append_pair(key, &id.to_string());
    }
    let query = query.finish();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

impl AuditLogPage {
    fn new(nav: Option<Nav>, f: AuditQueryText, schools: Vec<(String, String)>) -> AuditLogPage {
        AuditLogPage {
            nav,
            csv: link("/audit.csv", &f, None),
            f,
            schools,
            refused: None,
            errors: Vec::new(),
            rows: Vec::new(),
            older: None,
            newer: None,
        }
    }

    /// Why the filter `field` was refused, when the form has that field.
    fn error_for(&self, field: &str) -> Option<&'static str> {
        self.refused
            .as_ref()
            .filter(|refused| refused.field == field && self.shows(field))
            .map(|refused| refused.message)
    }

    fn shows(&self, field: &str) -> bool {
        match field {
            "person" | "action" | "outcome" | "from" | "to" => true,
            "school_id" => !self.schools.is_empty(),
            _ => false,
        }
    }

    fn refuse(mut self, invalid: InvalidFilter) -> AuditLogPage {
        if !self.shows(invalid.field) {
            self.errors.push(invalid.to_string());
        }
        self.refused = Some(invalid);
        self
    }

    /// The entries found, or the empty state.
    fn with(mut self, page: &AuditPage) -> AuditLogPage {
        self.rows = page.entries.iter().map(Row::of).collect();
        self.older = page
            .older
            .map(|id| link("/audit", &self.f, Some(("before", id))));
        self.newer = page
            .newer
            .map(|id| link("/audit", &self.f, Some(("after", id))));
        self
    }
}

pub async fn show(
    State(state): State<AppState>,
    client: Client,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::Audit>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let text = audit_query_text(query.as_deref());
    let schools = schools_to_pick(&state, &actor).await?;
    let page = AuditLogPage::new(Nav::of(&visitor), text.clone(), schools);
    let query = match AuditQuery::parse(&text) {
        Ok(query) => query,
        Err(invalid) => {
            let page = page.refuse(invalid);
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
        }
    };
    let found = state
        .kw
        .browse_audit(&state.ctx(&client), &actor, &query)
        .await
        .map_err(coded)?;
    Ok(render(StatusCode::OK, &page.with(&found)))
}

/// A platform admin's schools, to filter by; nobody else picks one.
async fn schools_to_pick(
    state: &AppState,
    actor: &Actor,
) -> Result<Vec<(String, String)>, AppError> {
    if actor.role != Role::PlatformAdmin {
        return Ok(Vec::new());
    }
    let schools = state.kw.visible_schools(actor).await.map_err(coded)?;
    Ok(schools
        .into_iter()
        .map(|s| (s.id.to_string(), s.name))
        .collect())
}

/// **Download CSV**: the rows of the page's filters, streamed.
pub async fn csv(
    State(state): State<AppState>,
    client: Client,
    SignedIn { actor, .. }: SignedIn<return_to::Audit>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let query = AuditQuery::parse(&audit_query_text(query.as_deref())).map_err(coded)?;
    let csv = state
        .kw
        .export_audit_csv(&state.ctx(&client), &actor, &query)
        .await
        .map_err(coded)?;
    Ok(audit_csv_download(csv))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_filters_and_drop_the_old_position() {
        let f = AuditQueryText {
            person: "demo.lead".into(),
            action: "mfa.".into(),
            before: "99".into(),
            ..AuditQueryText::default()
        };
        assert_eq!(
            link("/audit", &f, Some(("after", 42))),
            "/audit?person=demo.lead&action=mfa.&after=42"
        );
        assert_eq!(
            link("/audit.csv", &AuditQueryText::default(), None),
            "/audit.csv"
        );
    }
}
