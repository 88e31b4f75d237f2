//! The audit log's filters as typed values (R-AUD-1): what a page's filter
//! form or an API query typed, parsed once at the edge into an
//! [`AuditQuery`]; each problem names its field. Dates are whole days in
//! UTC, `from` and `to` both included.

use crate::error::{Code, CodedError};
use crate::types::{SchoolId, UnixTime, UserId, Username};

/// Rows on one page when the query names no `limit`.
pub const PAGE_SIZE_DEFAULT: u32 = 50;
/// The most rows one page may ask for.
pub const PAGE_SIZE_MAX: u32 = 500;
/// The longest action or outcome name a filter accepts.
const MAX_NAME_CHARS: usize = 64;
const SECS_PER_DAY: i64 = 86_400;

/// Whose rows: a person as actor or as target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonFilter {
    Id(UserId),
    Username(Username),
}

/// Which actions: one by its exact name, or every action under a prefix
/// ending in `.` (`mfa.` for `mfa.enrol`, `mfa.remove`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionFilter {
    Exact(String),
    Prefix(String),
}

/// Where a page starts: the newest rows, the rows older than an id (the
/// **Older** link), or the rows newer than an id (the **Newer** link).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageAt {
    Newest,
    Before(i64),
    After(i64),
}

/// One search of the audit log, valid by construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    /// Which school's rows; platform admins may pick any (or none: every
    /// row), others get their own.
    pub school: Option<SchoolId>,
    pub person: Option<PersonFilter>,
    pub action: Option<ActionFilter>,
    pub outcome: Option<String>,
    /// From the start of this day (UTC).
    pub from: Option<UnixTime>,
    /// Before the end of this day (UTC): the first second of the next day.
    pub until: Option<UnixTime>,
    pub page: PageAt,
    /// Rows per page, 1 to [`PAGE_SIZE_MAX`].
    pub limit: u32,
}

impl Default for AuditQuery {
    fn default() -> Self {
        AuditQuery {
            school: None,
            person: None,
            action: None,
            outcome: None,
            from: None,
            until: None,
            page: PageAt::Newest,
            limit: PAGE_SIZE_DEFAULT,
        }
    }
}

/// The filters as typed (a query string's parameters); empty means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQueryText {
    pub person: String,
    pub action: String,
    pub outcome: String,
    pub from: String,
    pub to: String,
    pub school_id: String,
    pub before: String,
    pub after: String,
    pub limit: String,
}

/// A filter that cannot be read. Its message is safe to show (it never
/// repeats what was typed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidFilter {
    /// The parameter at fault, as the query string names it.
    pub field: &'static str,
    pub message: &'static str,
}

impl CodedError for InvalidFilter {
    fn code(&self) -> Code {
        Code::InvalidFilter
    }

    fn details(&self) -> Vec<(&'static str, serde_json::Value)> {
        vec![("field", serde_json::Value::from(self.field))]
    }
}

fn invalid(field: &'static str, message: &'static str) -> InvalidFilter {
    InvalidFilter { field, message }
}

impl AuditQuery {
    /// Reads every filter; the first problem is reported.
    pub fn parse(text: &AuditQueryText) -> Result<AuditQuery, InvalidFilter> {
        let from = parse_day(&text.from, "from")?;
        let to = parse_day(&text.to, "to")?;
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Err(invalid("to", "The end date is before the start date."));
        }
        let before = parse_id(&text.before, "before")?;
        let after = parse_id(&text.after, "after")?;
        let page = match (before, after) {
            (None, None) => PageAt::Newest,
            (Some(id), None) => PageAt::Before(id),
            (None, Some(id)) => PageAt::After(id),
            (Some(_), Some(_)) => {
                return Err(invalid("after", "Give either before or after, not both."));
            }
        };
        Ok(AuditQuery {
            school: parse_school(&text.school_id)?,
            person: parse_person(&text.person)?,
            action: parse_action(&text.action)?,
            outcome: parse_outcome(&text.outcome)?,
            from,
            until: to.map(|day| UnixTime(day.secs() + SECS_PER_DAY)),
            page,
            limit: parse_limit(&text.limit)?,
        })
    }
}

fn parse_school(text: &str) -> Result<Option<SchoolId>, InvalidFilter> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    SchoolId::parse(text)
        .map(Some)
        .ok_or_else(|| invalid("school_id", "The school is not a school id."))
}

fn parse_person(text: &str) -> Result<Option<PersonFilter>, InvalidFilter> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Some(id) = UserId::parse(text) {
        return Ok(Some(PersonFilter::Id(id)));
    }
    Username::parse(text)
        .map(|u| Some(PersonFilter::Username(u)))
        .map_err(|_| {
            invalid(
                "person",
                "The person must be a username (letters, digits, dots, dashes and underscores) or a user id.",
            )
        })
}

/// Action and outcome names: lowercase letters, digits, `_` and `.`.
fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text.chars().count() <= MAX_NAME_CHARS
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.'))
}

fn parse_action(text: &str) -> Result<Option<ActionFilter>, InvalidFilter> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if !is_name(text) || text.starts_with('.') {
        return Err(invalid(
            "action",
            "The action must be an action's name, like sign_in, or a prefix ending in a dot, like mfa.",
        ));
    }
    Ok(Some(if text.ends_with('.') {
        ActionFilter::Prefix(text.to_owned())
    } else {
        ActionFilter::Exact(text.to_owned())
    }))
}

fn parse_outcome(text: &str) -> Result<Option<String>, InvalidFilter> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if !is_name(text) {
        return Err(invalid(
            "outcome",
            "The outcome must be an outcome's name, like success or failure.",
        ));
    }
    Ok(Some(text.to_owned()))
}

/// `YYYY-MM-DD` as the first second of that day in UTC.
fn parse_day(text: &str, field: &'static str) -> Result<Option<UnixTime>, InvalidFilter> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let bad = || {
        invalid(
            field,
            "Dates are written YYYY-MM-DD, for example 2026-09-07.",
        )
    };
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return Err(bad());
    }
    let moment = humantime::parse_rfc3339(&format!("{text}T00:00:00Z")).map_err(|_| bad())?;
    let secs = moment
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| bad())?
        .as_secs();
    Ok(Some(UnixTime(i64::try_from(secs).map_err(|_| bad())?)))
}

fn parse_id(text: &str, field: &'static str) -> Result<Option<i64>, InvalidFilter> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<i64>() {
        Ok(id) if id > 0 => Ok(Some(id)),
        _ => Err(invalid(field, "A page position must be a row number.")),
    }
}

fn parse_limit(text: &str) -> Result<u32, InvalidFilter> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(PAGE_SIZE_DEFAULT);
    }
    match text.parse::<u32>() {
        Ok(limit) if (1..=PAGE_SIZE_MAX).contains(&limit) => Ok(limit),
        _ => Err(invalid(
            "limit",
            "The page size must be a number from 1 to 500.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(f: impl FnOnce(&mut AuditQueryText)) -> Result<AuditQuery, InvalidFilter> {
        let mut text = AuditQueryText::default();
        f(&mut text);
        AuditQuery::parse(&text)
    }

    #[test]
    fn empty_filters_are_the_newest_page_of_everything() {
        assert_eq!(parse(|_| {}).unwrap(), AuditQuery::default());
    }

    #[test]
    fn days_are_whole_utc_days_with_both_ends_included() {
        let q = parse(|t| {
            t.from = "2026-09-07".into();
            t.to = "2026-09-07".into();
        })
        .unwrap();
        assert_eq!(q.from, Some(UnixTime(1_788_739_200)));
        assert_eq!(q.until, Some(UnixTime(1_788_739_200 + 86_400)));
    }

    #[test]
    fn malformed_days_name_their_field() {
        for bad in [
            "2026-9-7",
            "07/09/2026",
            "2026-02-30",
            "2026-13-01",
            "1969-12-31",
            "x",
        ] {
            let err = parse(|t| t.from = bad.into()).unwrap_err();
            assert_eq!(err.field, "from", "{bad}");
            let err = parse(|t| t.to = bad.into()).unwrap_err();
            assert_eq!(err.field, "to", "{bad}");
        }
        let err = parse(|t| {
            t.from = "2026-09-08".into();
            t.to = "2026-09-07".into();
        })
        .unwrap_err();
        assert_eq!(err.field, "to");
    }

    #[test]
    fn a_person_is_a_user_id_or_a_username() {
        let id = "0b9d3e1c-6f0a-4d8e-9a51-2f7c1e0b6a44";
        assert_eq!(
            parse(|t| t.person = id.into()).unwrap().person,
            Some(PersonFilter::Id(UserId::parse(id).unwrap()))
        );
        assert!(matches!(
            parse(|t| t.person = " demo.lead ".into()).unwrap().person,
            Some(PersonFilter::Username(_))
        ));
        assert_eq!(
            parse(|t| t.person = "no spaces please".into())
                .unwrap_err()
                .field,
            "person"
        );
    }

    #[test]
    fn actions_are_exact_names_or_prefixes_ending_in_a_dot() {
        assert_eq!(
            parse(|t| t.action = "sign_in".into()).unwrap().action,
            Some(ActionFilter::Exact("sign_in".into()))
        );
        assert_eq!(
            parse(|t| t.action = "mfa.".into()).unwrap().action,
            Some(ActionFilter::Prefix("mfa.".into()))
        );
        for bad in ["%", "Sign_In", ".", "a b", "x'--"] {
            assert_eq!(
                parse(|t| t.action = bad.into()).unwrap_err().field,
                "action"
            );
        }
        assert_eq!(
            parse(|t| t.outcome = "50%".into()).unwrap_err().field,
            "outcome"
        );
    }

    #[test]
    fn pages_start_before_or_after_a_row_with_a_bounded_size() {
        assert_eq!(
            parse(|t| t.before = "42".into()).unwrap().page,
            PageAt::Before(42)
        );
        assert_eq!(
            parse(|t| t.after = "7".into()).unwrap().page,
            PageAt::After(7)
        );
        assert_eq!(parse(|t| t.limit = "500".into()).unwrap().limit, 500);
        for (field, bad) in [
            ("before", "0"),
            ("before", "-1"),
            ("before", "x"),
            ("limit", "0"),
            ("limit", "501"),
        ] {
            let err = parse(|t| match field {
                "before" => t.before = bad.into(),
                _ => t.limit = bad.into(),
            })
            .unwrap_err();
            assert_eq!(err.field, field, "{bad}");
        }
        assert!(
            parse(|t| {
                t.before = "5".into();
                t.after = "3".into();
            })
            .is_err()
        );
    }

    #[test]
    fn problems_are_coded_and_never_repeat_the_input() {
        let err = parse(|t| t.person = "<script>".into()).unwrap_err();
        assert_eq!(err.code(), Code::InvalidFilter);
        assert!(!err.to_string().contains("script"));
        assert_eq!(
            err.details(),
            vec![("field", serde_json::Value::from("person"))]
        );
    }
}
