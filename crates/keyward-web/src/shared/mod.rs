//! The neutral ground between the two faces: what the JSON API (`api`) and
//! the pages (`pages`) both need lives here, so that neither imports the
//! other. Nothing here imports `api` or `pages` (the tidy test checks it).

pub mod download;
pub mod limits;
pub mod query;
pub mod sso_input;
pub mod user_query;
