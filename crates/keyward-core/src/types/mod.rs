//! Domain values that are valid by construction: a `Username` has been checked,
//! a `Password` never prints itself (nor does any struct holding a secret:
//! `REDACTED`). The core takes these, never raw strings.

mod client_addr;
mod ctx;
mod email;
mod ids;
mod password;
pub mod random;
mod redact;
mod role;
mod time;
mod typed_code;
mod username;

pub use client_addr::throttle_group;
pub use ctx::Ctx;
pub use email::{EmailAddress, EmailError};
pub use ids::{ClassId, PasskeyId, SchoolId, SsoProviderId, UserId};
pub use password::{MAX_PASSWORD_CHARS, Password};
pub use redact::{REDACTED, redacted};
pub use role::{Role, role_list, stored_role_list};
pub use time::UnixTime;
pub use typed_code::TypedCode;
pub(crate) use username::username_key;
pub use username::{MAX_USERNAME_CHARS, MIN_USERNAME_CHARS, Username, UsernameError};
