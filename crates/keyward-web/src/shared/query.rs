//! Reading a raw query string: one parameter at a time, decoded by hand, so
//! that a malformed query never becomes an error answer (an unknown or
//! broken parameter is simply empty). The audit log's filters are read here
//! for both faces, as text the core then parses.

use keyward_core::audit::AuditQueryText;

/// One parameter of a raw query string, decoded; empty when absent.
pub fn query_param(query: Option<&str>, key: &str) -> String {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// The audit log's filters as typed in a query string (page and API alike).
pub fn audit_query_text(query: Option<&str>) -> AuditQueryText {
    let param = |key| query_param(query, key);
    AuditQueryText {
        person: param("person"),
        action: param("action"),
        outcome: param("outcome"),
        from: param("from"),
        to: param("to"),
        school_id: param("school_id"),
        before: param("before"),
        after: param("after"),
        limit: param("limit"),
    }
}
