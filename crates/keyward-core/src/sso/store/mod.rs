//! SQL of single sign-on: `providers` (`sso_providers`), `flows`
//! (`sso_flows`) and `links` (`sso_links`), each table written by its file
//! alone.

pub(crate) mod flows;
pub(crate) mod links;
pub(crate) mod providers;
