//! What `Debug` shows in place of a secret (a code, a token, a password), so
//! that no secret reaches a log through `{:?}`: whether it is there, never
//! what it is.

/// Shown in place of a secret.
pub const REDACTED: &str = "<redacted>";

/// A secret that may be absent, for `Debug`.
pub fn redacted<T>(secret: &Option<T>) -> Option<&'static str> {
    secret.as_ref().map(|_| REDACTED)
}

/// Every struct of the core that holds a secret, printed with `{:?}`: the
/// secret is never in it.
#[cfg(test)]
mod tests {
    use crate::accounts::{Account, AccountStatus, CurrentSession, SignedIn};
    use crate::activation::{ActivationInput, ClassCodeInfo, JoinInput};
    use crate::admin::{CreatedUser, UserDetails};
    use crate::classroom::class_reset::{ClassResetMode, ResetLearner};
    use crate::classroom::passwords::{IssuedPassword, NewPasswordChoice, ProposedPassword};
    use crate::crypto::tokens::Token;
    use crate::schools::Class;
    use crate::types::random::SeededRandom;
    use crate::types::{ClassId, Password, Role, SchoolId, UnixTime, UserId, Username};

    const SECRET: &str = "Sesame-42-XYZ";

    fn shows_no_secret(debug: String) {
        assert!(!debug.contains(SECRET), "{debug}");
        assert!(debug.contains(super::REDACTED), "{debug}");
    }

    fn account() -> Account {
        Account {
            id: UserId::from_stored("u1".into()),
            school_id: None,
            role: Role::Learner,
            username: Username::parse("amy").unwrap(),
            email: None,
            first_name: "Amy".into(),
            last_name: "Adams".into(),
            status: AccountStatus::Active,
            last_sign_in_at: None,
            locale: None,
        }
    }

    #[test]
    fn inputs_holding_a_code_or_a_password_are_redacted() {
        shows_no_secret(format!(
            "{:?}",
            ActivationInput {
                code: SECRET.into(),
                password: SECRET.into(),
                confirm_password: Some(SECRET.into()),
                ..ActivationInput::default()
            }
        ));
        shows_no_secret(format!(
            "{:?}",
            JoinInput {
                class_code: SECRET.into(),
                password: SECRET.into(),
                confirm_password: Some(SECRET.into()),
                ..JoinInput::default()
            }
        ));
        shows_no_secret(format!("{:?}", ClassResetMode::Same(Some(SECRET.into()))));
        shows_no_secret(format!("{:?}", NewPasswordChoice::Chosen(SECRET.into())));
        shows_no_secret(format!(
            "{:?}",
            NewPasswordChoice::Proposed {
                password: SECRET.into(),
                proof: "p".into(),
            }
        ));
    }

    #[test]
    fn codes_shown_to_staff_are_redacted() {
        let id = UserId::from_stored("u1".into());
        shows_no_secret(format!(
            "{:?}",
            CreatedUser {
                id,
                access_code: SECRET.into(),
                parent_access_code: Some(SECRET.into()),
            }
        ));
        shows_no_secret(format!(
            "{:?}",
            UserDetails {
                account: account(),
                created_at: UnixTime(0),
                custom_roles: Vec::new(),
                classes: Vec::new(),
                mfa: crate::admin::MfaSummary {
                    authenticator_app: false,
                    passkeys: 0,
                },
                may_manage: true,
                access_code: Some(SECRET.into()),
                parent_access_code: Some(SECRET.into()),
                sso_links: Vec::new(),
                sso_only: false,
            }
        ));
        shows_no_secret(format!(
            "{:?}",
            ClassCodeInfo {
                class_id: ClassId::from_stored("c1".into()),
                class_name: "4B".into(),
                code: Some(SECRET.into()),
                enabled: true,
            }
        ));
        shows_no_secret(format!(
            "{:?}",
            Class {
                id: ClassId::from_stored("c1".into()),
                school_id: SchoolId::from_stored("s1".into()),
                name: "4B".into(),
                class_code: Some(SECRET.into()),
                class_code_enabled: true,
                learner_count: 1,
            }
        ));
    }

    #[test]
    fn passwords_given_out_are_redacted() {
        let password = Password::from(SECRET);
        shows_no_secret(format!(
            "{:?}",
            ProposedPassword {
                password: password.clone(),
                proof: "p".into(),
            }
        ));
        shows_no_secret(format!(
            "{:?}",
            IssuedPassword {
                username: "amy".into(),
                password: password.clone(),
                kept: true,
            }
        ));
        shows_no_secret(format!(
            "{:?}",
            ResetLearner {
                user_id: UserId::from_stored("u1".into()),
                username: Username::parse("amy").unwrap(),
                first_name: "Amy".into(),
                last_name: "Adams".into(),
                password,
            }
        ));
    }

    #[test]
    fn sessions_are_redacted() {
        let token = Token::generate(&SeededRandom::new(7)).unwrap();
        let signed_in = SignedIn {
            account: account(),
            session_token: token.clone(),
            csrf_token: SECRET.into(),
            device_token: SECRET.into(),
        };
        let debug = format!("{signed_in:?}");
        assert!(!debug.contains(token.expose()), "{debug}");
        shows_no_secret(debug);
        shows_no_secret(format!(
            "{:?}",
            CurrentSession {
                account: account(),
                csrf_token: SECRET.into(),
                expires_at: UnixTime(0),
                mfa_enrolment_due: false,
                password_change_due: false,
                mfa_at_provider: false,
            }
        ));
    }
}
