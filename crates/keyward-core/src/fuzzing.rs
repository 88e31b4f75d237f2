//! What the fuzz targets (`fuzz/`, run by `scripts/fuzz`) reach that the
//! rest of keyward keeps to the crate: the parsers of untrusted text that
//! are not public API. Built only with the `fuzzing` feature (the fuzz crate
//! turns it on) and in the crate's own tests, so it is checked by `cargo
//! test` and clippy; it adds no behaviour, only names.

use crate::classroom::roster::{RosterRejection, parse};
use crate::crypto::tokens::Token;
use crate::types::random::{Random, RandomError};
use crate::types::{EmailAddress, Username};

pub use crate::mfa::recovery_codes::new_set as new_recovery_codes;

/// One learner row a roster file gave, as the import would take it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterRow {
    /// The row as a spreadsheet numbers it (the header is row 1).
    pub row: u64,
    pub first_name: String,
    pub last_name: String,
    pub class_name: String,
    pub username: Option<Username>,
    pub email: Option<EmailAddress>,
}

/// What the roster import makes of a file before it touches the database:
/// the good rows and the problems of the others, or the refusal of the
/// whole file.
pub type RosterParse = Result<(Vec<RosterRow>, RosterRejection), RosterRejection>;

/// Reads a roster file as `Keyward::import_roster` does before the database.
pub fn parse_roster(bytes: &[u8]) -> RosterParse {
    let (rows, problems) = parse::parse_roster(bytes)?;
    let rows = rows
        .into_iter()
        .map(|row| RosterRow {
            row: row.row,
            first_name: row.first_name,
            last_name: row.last_name,
            class_name: row.class_name,
            username: row.username,
            email: row.email,
        })
        .collect();
    Ok((rows, problems.into_rejection()))
}

/// The API token secret as `Authorization: Bearer` sends it, if it can be one.
pub fn parse_bearer_secret(text: &str) -> Option<Token> {
    crate::tokens::bearer::parse_secret(text)
}

/// A new API token secret, as `Keyward::create_token` makes one.
pub fn new_bearer_secret(rng: &dyn Random) -> Result<Token, RandomError> {
    crate::tokens::bearer::generate_secret(rng)
}

/// The key usernames are compared by (NFKC, case folded, NFKC), for any text.
pub fn username_key(text: &str) -> String {
    crate::types::username_key(text)
}
