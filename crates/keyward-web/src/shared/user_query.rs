//! The users list's search, filters and paging, read from a query string
//! into the core's typed `UserQuery` — one parser for the page (`/users`)
//! and the API (`GET /api/v1/users`), so both accept and refuse the same
//! values. An empty value means "any"; a value that is not one the filter
//! knows is refused with `invalid_filter` naming the parameter, never
//! ignored and never a server error.

use keyward_core::accounts::AccountStatus;
use keyward_core::admin::{
    DEFAULT_PER_PAGE, DirectoryError, MAX_PER_PAGE, MAX_SEARCH_CHARS, Paging, UserQuery,
};
use keyward_core::authz::Denied;
use keyward_core::types::{ClassId, Role, SchoolId};

use super::query::query_param;

fn invalid(field: &'static str, message: &'static str) -> DirectoryError {
    DirectoryError::InvalidFilter { field, message }
}

/// A parameter's value, trimmed; `None` when absent or empty.
fn param(query: Option<&str>, key: &str) -> Option<String> {
    let value = query_param(query, key);
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// A whole number of at least 1 (and at most `max`), else `err`.
fn number(
    query: Option<&str>,
    key: &str,
    default: u32,
    max: u32,
    err: DirectoryError,
) -> Result<u32, DirectoryError> {
    match param(query, key) {
        None => Ok(default),
        Some(text) => match text.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(err),
        },
    }
}

/// The users list's query from a raw query string. A `school_id` that is
/// not an id answers 404 (as a school outside the caller's scope does).
pub fn parse_user_query(query: Option<&str>) -> Result<UserQuery, DirectoryError> {
    let role = match param(query, "role") {
        None => None,
        Some(text) => Some(Role::parse(&text).ok_or(invalid(
            "role",
            "The role is platform_admin, lead_teacher, teacher, learner or parent.",
        ))?),
    };
    let class = match param(query, "class_id") {
        None => None,
        Some(text) => Some(ClassId::parse(&text).ok_or(invalid(
            "class_id",
            "That class is not one of the school's classes.",
        ))?),
    };
    let status = match param(query, "status") {
        None => None,
        Some(text) => Some(AccountStatus::parse(&text).ok_or(invalid(
            "status",
            "The status is pending, active or disabled.",
        ))?),
    };
    let mfa = match param(query, "mfa").as_deref() {
        None => None,
        Some("on") => Some(true),
        Some("off") => Some(false),
        Some(_) => {
            return Err(invalid(
                "mfa",
                "The two-step verification filter is on or off.",
            ));
        }
    };
    let school = match param(query, "school_id") {
        None => None,
        Some(text) => Some(SchoolId::parse(&text).ok_or(Denied::Hidden)?),
    };
    let page_err = invalid("page", "The page is a whole number from 1.");
    let page = number(query, "page", 1, u32::MAX, page_err)?;
    let size_err = invalid("per_page", "per_page is a whole number from 1 to 200.");
    let per_page = number(query, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE, size_err)?;
    Ok(UserQuery {
        text: query_param(query, "q")
            .trim()
            .chars()
            .take(MAX_SEARCH_CHARS)
            .collect(),
        school,
        role,
        class,
        status,
        mfa,
        paging: Paging::new(page, per_page).ok_or(invalid("page", "No such page."))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_core::error::CodedError;

    fn field_of(query: &str) -> &'static str {
        match parse_user_query(Some(query)) {
            Err(DirectoryError::InvalidFilter { field, .. }) => field,
            other => panic!("{query}: expected invalid_filter, got {other:?}"),
        }
    }

    #[test]
    fn empty_values_filter_nothing() {
        let query = parse_user_query(Some("q=&role=&class_id=&status=&mfa=&page=&per_page="))
            .expect("nothing to refuse");
        assert_eq!(query.role, None);
        assert_eq!(query.status, None);
        assert_eq!(query.mfa, None);
        assert_eq!(query.paging, Paging::default());
        assert_eq!(
            parse_user_query(None).expect("none").paging,
            Paging::default()
        );
    }

    #[test]
    fn every_filter_is_read() {
        let query = parse_user_query(Some(
            "q=+Amy+&role=learner&status=disabled&mfa=off&page=3&per_page=200",
        ))
        .expect("valid");
        assert_eq!(query.text, "Amy");
        assert_eq!(query.role, Some(Role::Learner));
        assert_eq!(query.status, Some(AccountStatus::Disabled));
        assert_eq!(query.mfa, Some(false));
        assert_eq!((query.paging.number(), query.paging.size()), (3, 200));
    }

    #[test]
    fn a_bad_value_names_its_parameter() {
        assert_eq!(field_of("role=wizard"), "role");
        assert_eq!(field_of("status=asleep"), "status");
        assert_eq!(field_of("mfa=maybe"), "mfa");
        assert_eq!(field_of("class_id=%00"), "class_id");
        assert_eq!(field_of("page=0"), "page");
        assert_eq!(field_of("page=-1"), "page");
        assert_eq!(field_of("page=99999999999"), "page");
        assert_eq!(field_of("per_page=201"), "per_page");
        assert_eq!(field_of("per_page=ten"), "per_page");
        let err = parse_user_query(Some("mfa=maybe")).expect_err("refused");
        assert_eq!(err.code(), "invalid_filter");
        assert!(matches!(
            parse_user_query(Some("school_id=%FF")),
            Err(DirectoryError::Denied(Denied::Hidden))
        ));
    }
}
