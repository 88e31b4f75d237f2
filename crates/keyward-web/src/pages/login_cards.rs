//! Printed login cards (R-CARD-1, without the QR code yet): one card per
//! learner to cut out, saying where to sign in — the school, the
//! deployment's public address — and who with: class, name, username and the
//! password, or for a learner who has not set up their account the access
//! code to use under **Use a code**. Pages include `login_cards.html`, which
//! shows the cards only when printed (app.css); the whole-class reset's
//! result, **Show access codes** and a learner's **Reset password** print them.

use keyward_core::accounts::AccountStatus;
use keyward_core::classroom::credentials::CredentialRow;
use keyward_core::classroom::passwords::PasswordState;
use keyward_core::i18n::{self, Message};

use crate::state::AppState;

/// One learner's card.
pub struct LoginCard {
    /// Blank for a learner in no class (or a single learner's card).
    pub class_name: String,
    pub name: String,
    /// `None` while the learner has not chosen one.
    pub username: Option<String>,
    /// The password, or for a pending learner the access code.
    pub secret: Option<String>,
    /// The learner has not set up their account: the secret is an access code.
    pub pending: bool,
    /// Why no password is printed (a private password, single sign-on…),
    /// in the page's language.
    pub note: Option<String>,
}

impl LoginCard {
    /// A card with a password staff have just set or shown.
    pub fn with_password(class_name: &str, name: &str, username: &str, password: &str) -> Self {
        LoginCard {
            class_name: class_name.to_owned(),
            name: name.to_owned(),
            username: Some(username.to_owned()),
            secret: Some(password.to_owned()),
            pending: false,
            note: None,
        }
    }

    /// A card from a row of **Show access codes**.
    pub fn of_row(row: &CredentialRow, name: &str) -> Self {
        let pending = row.status == AccountStatus::Pending;
        let secret = match (&row.password, pending) {
            (Some(password), _) => Some(password.expose().to_owned()),
            (None, true) => row.access_code.clone(),
            (None, false) => None,
        };
        let note = match (&secret, &row.sso) {
            (Some(_), _) => None,
            (None, Some(sso)) => Some(
                Message::new("teacher-signs-in-with")
                    .with("provider", &sso.provider_name)
                    .to_string(),
            ),
            (None, None) => Some(i18n::text(missing_secret(row.password_state, pending))),
        };
        LoginCard {
            class_name: row.class_name.clone(),
            name: name.to_owned(),
            username: row.username.clone(),
            secret,
            pending,
            note,
        }
    }
}

/// The message id of why a card carries no password, in a learner's words.
fn missing_secret(state: PasswordState, pending: bool) -> &'static str {
    match state {
        _ if pending => "teacher-login-card-ask-for-code",
        PasswordState::Private => "teacher-login-card-own-password",
        _ => "teacher-login-card-ask-for-password",
    }
}

/// The cards of one page, with what every card says.
pub struct LoginCards {
    pub school_name: String,
    /// Where to sign in: the deployment's public address.
    pub address: String,
    pub cards: Vec<LoginCard>,
}

impl LoginCards {
    pub fn new(state: &AppState, school_name: &str, cards: Vec<LoginCard>) -> Self {
        LoginCards {
            school_name: school_name.to_owned(),
            address: sign_in_address(state),
            cards,
        }
    }
}

/// The address learners type to sign in: `server.public_url`, without its
/// trailing slash.
pub fn sign_in_address(state: &AppState) -> String {
    let url = state.kw.settings().server.public_url.as_str();
    url.trim_end_matches('/').to_owned()
}
