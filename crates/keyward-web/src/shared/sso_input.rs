//! A new single sign-on provider as the JSON API and the **Single sign-on**
//! page send it, parsed into the core's `NewSsoProvider` at the edge. A claim
//! or role name that is not one is refused as the core refuses every other
//! bad setting: `sso_provider_invalid` naming its field, never a generic
//! body error. The secret is moved, never copied or shown.

use keyward_core::sso::{IdentityClaim, NewSsoProvider, SsoConfigError};
use keyward_core::types::Role;

/// The settings as typed; `None` leaves a setting to the core's default.
pub struct SsoProviderInput {
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub scopes: Option<Vec<String>>,
    pub claim: Option<String>,
    pub roles: Option<Vec<String>>,
    pub jit_roles: Option<Vec<String>>,
    pub trust_mfa: bool,
}

impl SsoProviderInput {
    pub fn parse(self) -> Result<NewSsoProvider, SsoConfigError> {
        let claim = match self.claim.as_deref() {
            None => None,
            Some(text) => Some(IdentityClaim::parse(text).ok_or(SsoConfigError::Invalid {
                field: "claim",
                reason: "The claim is `email`, `preferred_username` or `sub`.",
            })?),
        };
        Ok(NewSsoProvider {
            name: self.name,
            issuer: self.issuer,
            client_id: self.client_id,
            client_secret: self.client_secret.into(),
            scopes: self.scopes,
            claim,
            roles: roles("roles", self.roles)?,
            jit_roles: roles("jit_roles", self.jit_roles)?,
            trust_mfa: self.trust_mfa,
        })
    }
}

/// Role names as sent; one that names no role is refused by `field`.
fn roles(
    field: &'static str,
    names: Option<Vec<String>>,
) -> Result<Option<Vec<Role>>, SsoConfigError> {
    names
        .map(|names| {
            names
                .iter()
                .map(|name| {
                    Role::parse(name).ok_or(SsoConfigError::Invalid {
                        field,
                        reason: "Only the school's roles can be named: lead_teacher, teacher, learner or parent.",
                    })
                })
                .collect()
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_core::error::CodedError;

    fn input() -> SsoProviderInput {
        SsoProviderInput {
            name: "Google".into(),
            issuer: "https://accounts.google.com".into(),
            client_id: "id".into(),
            client_secret: "secret".into(),
            scopes: None,
            claim: None,
            roles: None,
            jit_roles: None,
            trust_mfa: false,
        }
    }

    #[test]
    fn unknown_claims_and_roles_are_refused_by_field() {
        type Change = fn(&mut SsoProviderInput);
        let cases: [(&str, Change); 3] = [
            ("claim", |i| i.claim = Some("upn".into())),
            ("roles", |i| i.roles = Some(vec!["janitor".into()])),
            ("jit_roles", |i| i.jit_roles = Some(vec!["Learner".into()])),
        ];
        for (field, change) in cases {
            let mut typed = input();
            change(&mut typed);
            let err = typed.parse().unwrap_err();
            assert_eq!(err.details(), vec![("field", field.into())], "{field}");
        }
        let mut typed = input();
        typed.claim = Some("preferred_username".into());
        typed.roles = Some(vec!["learner".into(), "teacher".into()]);
        let parsed = typed.parse().unwrap();
        assert_eq!(parsed.claim, Some(IdentityClaim::PreferredUsername));
        assert_eq!(parsed.roles, Some(vec![Role::Learner, Role::Teacher]));
        assert_eq!(parsed.client_secret.as_str(), "secret");
    }
}
