//! Utilities > Security > **Users** (R-ADM-1): the users list with a search
//! box and filters (role, class, status, two-step verification; the school
//! for platform admins) in a GET form that works without JavaScript, a page
//! of results with their count, and paging links that keep the filters. The
//! query string is read by the parser the API uses too
//! (`shared::user_query`); a value it refuses is said on the page (422).

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use keyward_core::i18n::{self, Message, Translate as _};

use keyward_core::Ctx;
use keyward_core::accounts::AccountStatus;
use keyward_core::admin::{DirectoryError, ListedUser, UserPage};
use keyward_core::authz::{Actor, Permission};
use keyward_core::types::{Role, SchoolId, UnixTime};

use super::people::{role_name, shown_username, status_label};
use super::{Nav, render};
use crate::error::{AppError, coded};
use crate::extract::Client;
use crate::shared::query::query_param;
use crate::shared::user_query::parse_user_query;
use crate::signed_in::{SignedIn, return_to};
use crate::state::AppState;

/// The form's values as sent, shown again (and kept by the paging links).
#[derive(Default)]
struct Filters {
    q: String,
    role: String,
    class_id: String,
    status: String,
    mfa: String,
    school_id: String,
    per_page: String,
}

impl Filters {
    fn of(query: Option<&str>) -> Filters {
        let cut = |key: &str, max: usize| -> String {
            query_param(query, key).trim().chars().take(max).collect()
        };
        Filters {
            q: cut("q", 64),
            role: cut("role", 20),
            class_id: cut("class_id", 36),
            status: cut("status", 20),
            mfa: cut("mfa", 5),
            school_id: cut("school_id", 36),
            per_page: cut("per_page", 3),
        }
    }

    /// `/users?…` with these filters and page `number`.
    fn href(&self, number: u32) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        let pairs = [
            ("q", &self.q),
            ("role", &self.role),
            ("class_id", &self.class_id),
            ("status", &self.status),
            ("mfa", &self.mfa),
            ("school_id", &self.school_id),
            ("per_page", &self.per_page),
        ];
        for (key, value) in pairs.into_iter().filter(|(_, v)| !v.is_empty()) {
            query.append_pair(key, value);
        }
        if number > 1 {
            query.append_pair("page", &number.to_string());
        }
        let query = query.finish();
        if query.is_empty() {
            "/users".to_owned()
        } else {
            format!("/users?{query}")
        }
    }

    fn any(&self) -> bool {
        [&self.q, &self.role, &self.class_id, &self.status, &self.mfa]
            .iter()
            .any(|v| !v.is_empty())
    }
}

/// One person in the results table.
struct ListRow {
    id: String,
    name: String,
    username: String,
    email: String,
    /// Message ids: the role's name, the status, and On or Off.
    role: &'static str,
    status: &'static str,
    /// Disabled: the status is marked (a badge; the word says it).
    disabled: bool,
    mfa: &'static str,
    /// The single sign-on provider they sign in with, if any.
    sso: Option<String>,
    last_sign_in: String,
}

/// A day as the list shows it: `2026-09-07` (UTC).
fn day(at: UnixTime) -> String {
    time::OffsetDateTime::from_unix_timestamp(at.secs())
        .map(|t| format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()))
        .unwrap_or_default()
}

impl ListRow {
    fn of(user: &ListedUser) -> ListRow {
        let account = &user.account;
        ListRow {
            id: account.id.to_string(),
            name: account.display_name(),
            username: shown_username(account),
            email: account
                .email
                .as_ref()
                .map_or_else(String::new, |e| e.as_str().to_owned()),
            role: role_name(account.role),
            status: status_label(account.status),
            disabled: account.status == AccountStatus::Disabled,
            mfa: if user.mfa_on { "admin-on" } else { "admin-off" },
            sso: user.sso.as_ref().map(|sso| sso.provider_name.clone()),
            last_sign_in: (account.last_sign_in_at).map_or_else(|| i18n::text("admin-never"), day),
        }
    }
}

/// The choices of the filter selects: (value, label); the roles' and
/// statuses' labels are message ids.
struct Choices {
    roles: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
    classes: Vec<(String, String)>,
    /// Platform admins only.
    schools: Vec<(String, String)>,
}

impl Choices {
    /// The roles (platform admins only for platform admins) and statuses.
    fn fixed(platform: bool) -> Choices {
        Choices {
            roles: Role::ALL
                .into_iter()
                .filter(|r| platform || *r != Role::PlatformAdmin)
                .map(|r| (r.as_str(), role_name(r)))
                .collect(),
            statuses: [
                AccountStatus::Pending,
                AccountStatus::Active,
                AccountStatus::Disabled,
            ]
            .map(|s| (s.as_str(), status_label(s)))
            .to_vec(),
            classes: Vec::new(),
            schools: Vec::new(),
        }
    }

    /// With the classes of the school looked at, and for a platform admin
    /// the schools to choose from.
    async fn load(
        state: &AppState,
        ctx: &Ctx<'_>,
        actor: &Actor,
        filters: &Filters,
    ) -> Result<Choices, AppError> {
        let school = SchoolId::parse(&filters.school_id);
        let platform = actor.role == Role::PlatformAdmin;
        let classes = state.kw.users_list_classes(ctx, actor, school.as_ref());
        let classes = classes.await.map_err(coded)?;
        let schools = match platform {
            true => state.kw.visible_schools(actor).await.map_err(coded)?,
            false => Vec::new(),
        };
        let mut choices = Choices::fixed(platform);
        choices.classes = classes
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect();
        choices.schools = schools
            .into_iter()
            .map(|s| (s.id.to_string(), s.name))
            .collect();
        Ok(choices)
    }
}

#[derive(Template)]
#[template(path = "users_list.html")]
struct ListPage {
    nav: Option<Nav>,
    may_add: bool,
    filters: Filters,
    choices: Choices,
    /// A refused filter the form shows under its field: (field, why).
    refused: Option<(&'static str, &'static str)>,
    /// A refused filter the form has no field for (`page`, `per_page`).
    errors: Vec<String>,
    rows: Vec<ListRow>,
    /// "1 person found", "10,000 people found"; empty when the filters were refused.
    count: String,
    /// "Showing 51 to 100", when the page holds anyone.
    range: Option<String>,
    page_label: String,
    previous: Option<String>,
    next: Option<String>,
    /// Past the end of the list: a link back to its first page.
    first: Option<String>,
}

/// A whole number with thousands separated by commas.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl ListPage {
    fn new(nav: Option<Nav>, actor: &Actor, filters: Filters, choices: Choices) -> ListPage {
        ListPage {
            nav,
            may_add: actor.permissions().contains(Permission::UsersManage),
            filters,
            choices,
            refused: None,
            errors: Vec::new(),
            rows: Vec::new(),
            count: String::new(),
            range: None,
            page_label: String::new(),
            previous: None,
            next: None,
            first: None,
        }
    }

    /// Why the filter `field` was refused, when the form shows that field.
    fn error_for(&self, field: &str) -> Option<&'static str> {
        self.refused
            .filter(|(refused, _)| *refused == field && self.shows(field))
            .map(|(_, message)| message)
    }

    /// Whether the form has a field for the filter `field`.
    fn shows(&self, field: &str) -> bool {
        match field {
            "q" | "role" | "status" | "mfa" => true,
            "class_id" => !self.choices.classes.is_empty(),
            "school_id" => !self.choices.schools.is_empty(),
            _ => false,
        }
    }

    /// A refused filter: under its field, or above the list when the form
    /// has none for it.
    fn refuse(mut self, field: &'static str, message: &'static str) -> ListPage {
        self.refused = Some((field, message));
        if !self.shows(field) {
            self.errors.push(message.to_owned());
        }
        self
    }

    fn with_results(mut self, page: &UserPage) -> ListPage {
        let (number, size) = (page.paging.number(), page.paging.size());
        let pages = page.page_count();
        self.rows = page.users.iter().map(ListRow::of).collect();
        self.count = Message::new("admin-users-found")
            .with("count", page.total)
            .with("shown", grouped(page.total))
            .to_string();
        let before = u64::from(number - 1) * u64::from(size);
        if !self.rows.is_empty() {
            let last = before + self.rows.len() as u64;
            let range = Message::new("admin-users-showing")
                .with("first", grouped(before + 1))
                .with("last", grouped(last));
            self.range = Some(range.to_string());
        } else if page.total > 0 {
            self.first = Some(self.filters.href(1));
        }
        let label = Message::new("admin-users-page-of")
            .with("page", grouped(number.into()))
            .with("pages", grouped(pages));
        self.page_label = label.to_string();
        self.previous =
            (number > 1 && u64::from(number) <= pages + 1).then(|| self.filters.href(number - 1));
        self.next = (u64::from(number) < pages).then(|| self.filters.href(number + 1));
        self
    }
}

pub async fn list(
    State(state): State<AppState>,
    client: Client,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::Users>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let ctx = state.ctx(&client);
    let found = match parse_user_query(query.as_deref()) {
        Ok(query) => state.kw.find_users(&ctx, &actor, &query).await,
        Err(err) => Err(err),
    };
    let filters = Filters::of(query.as_deref());
    let choices = Choices::load(&state, &ctx, &actor, &filters).await?;
    let page = ListPage::new(Nav::of(&visitor), &actor, filters, choices);
    let (status, page) = match found {
        Ok(found) => (StatusCode::OK, page.with_results(&found)),
        Err(DirectoryError::InvalidFilter { field, message }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            page.refuse(field, message),
        ),
        Err(err) => return Err(coded(err)),
    };
    Ok(visitor.respond(&state, render(status, &page)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_links_keep_the_filters() {
        let filters = Filters::of(Some("q=Amy+A&role=learner&mfa=&page=4&per_page=20"));
        assert_eq!(filters.href(1), "/users?q=Amy+A&role=learner&per_page=20");
        assert_eq!(
            filters.href(5),
            "/users?q=Amy+A&role=learner&per_page=20&page=5"
        );
        assert_eq!(Filters::default().href(1), "/users");
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(10_000), "10,000");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }
}
