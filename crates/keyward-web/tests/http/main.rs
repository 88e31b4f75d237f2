//! HTTP tests of keyward-web: the router driven in process with `oneshot`,
//! and a few over a real socket. Every test gets a fresh database on the
//! backend the run uses (SQLite, or PostgreSQL with KEYWARD_TEST_POSTGRES_URL).

mod admin_pages;
mod api;
mod audit;
mod bad_input;
mod class_reset;
mod codes;
mod cookies;
mod credentials;
mod dev_mail;
mod email;
mod headers;
mod helpers;
mod home;
mod i18n;
mod join;
mod learners;
mod load;
mod mfa_api;
mod mfa_pages;
mod oidc;
mod openapi;
mod ops;
mod pages;
mod passkeys;
mod policy;
mod proxies;
mod races;
mod recovery;
mod roster;
mod schools;
mod sessions;
mod socket;
mod sso;
mod sso_accounts;
mod sso_config;
mod sso_hardening;
mod sso_sessions;
mod teacher_pages;
mod throttling;
mod tokens;
mod user_admin;
mod users;
