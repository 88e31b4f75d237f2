//! A teacher's tools for the people in their classes, on top of `schools`:
//! one learner's **Reset password** (`passwords`, R-TCH-1/2/4), the whole
//! class under a lease (`class_reset`, R-TCH-3), **Show access codes** and the
//! credentials CSV (`credentials`, R-TCH-5), and the roster import
//! (`roster`, R-TCH-6). Every use case authorizes first. The modes of a
//! password reset are parsed here once (`ModeError`), for the pages and the API.

pub mod class_reset;
pub mod credentials;
pub mod passwords;
pub mod roster;

use crate::error::{Code, CodedError};

/// Why the mode of a password reset, as sent, is refused: by
/// [`class_reset::ClassResetMode::parse`] and
/// [`passwords::NewPasswordChoice::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ModeError {
    /// No mode, or one keyward does not know; the message names the modes.
    #[error("{0}")]
    InvalidMode(&'static str),
    /// A password was given with a mode that generates them.
    #[error(
        "A password is given only with mode \"same\"; \"individual\" generates one for each learner."
    )]
    UnexpectedPassword,
    /// The mode sets a password but none was given.
    #[error("Give the password to set, or use mode \"generate\".")]
    PasswordMissing,
}

impl CodedError for ModeError {
    fn code(&self) -> Code {
        match self {
            ModeError::InvalidMode(_) => Code::InvalidMode,
            ModeError::UnexpectedPassword => Code::UnexpectedPassword,
            ModeError::PasswordMissing => Code::PasswordMissing,
        }
    }
}
