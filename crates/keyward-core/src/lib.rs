//! keyward-core: the domain of keyward — accounts, credentials, authorization,
//! storage and use cases. It owns every business rule and every SQL statement,
//! and must not know about HTTP: the web crate and the CLI both call into it.

// Architecture invariant: no unwrap, expect or panic outside tests.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod accounts;
pub mod activation;
pub mod admin;
pub mod audit;
pub mod audit_browse;
pub mod authz;
pub mod classroom;
pub mod crypto;
pub mod demo;
pub mod dispatch;
pub mod error;
pub mod i18n;
pub mod mail;
pub mod mfa;
pub mod passkeys;
pub mod policy;
pub mod purge;
pub mod recovery;
pub mod rotation;
pub mod schools;
pub mod settings;
pub mod sso;
pub mod store;
pub mod tokens;
pub mod types;

mod service;
pub use service::Keyward;
pub use types::Ctx;

#[cfg(any(test, feature = "test-support"))]
pub mod testing;

// The fuzz targets' way in (`fuzz/`); not an API.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;

// How the rest of keyward treats people who sign in only through a provider
// (teachers' tools, exports, recovery, admin resets, unlink). They use
// classroom, admin and dispatch, so they live at the crate's root, above
// every layer, not inside `sso`.
#[cfg(test)]
mod sso_only_tests;
