//! SQL of `sso_links`: which subject at which provider is which person.
