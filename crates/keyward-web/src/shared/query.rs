//! Reading a raw query string: one parameter at a time, decoded by hand, so
//! that a malformed query never becomes an error answer (an unknown or
//! broken parameter is simply empty).

/// One parameter of a raw query string, decoded; empty when absent.
pub fn query_param(query: Option<&str>, key: &str) -> String {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}
