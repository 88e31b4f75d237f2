//! Who signs in with their school's provider (issue 14), as every layer
//! below `sso` needs to know it: a person "signs in with <provider>" when a
//! link (`sso_links`) names them, and is *SSO-only* when, besides, they are
//! active and have no keyward password. An SSO-only person has nothing for
//! staff to reset or show, and **Forgot password?** sends them to their
//! school's sign-in instead of a reset link. The links themselves belong to
//! `sso`; this is only what the rest reads of them.

use crate::types::SsoProviderId;

/// The provider a person signs in with: the link they used last (else the
/// first made), by the provider's id and display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoSignIn {
    pub provider_id: SsoProviderId,
    /// The provider's display name, as the school named it ("Google").
    pub provider_name: String,
}

impl SsoSignIn {
    /// Where the browser sign-in through this provider starts (under
    /// `server.public_url`).
    pub fn start_path(&self) -> String {
        format!("/sso/{}/start", self.provider_id)
    }

    /// The details of a `signs_in_with_sso` refusal: the provider's name
    /// (`provider`) and id (`provider_id`).
    pub fn error_details(&self) -> Vec<(&'static str, serde_json::Value)> {
        vec![
            ("provider", serde_json::json!(self.provider_name)),
            ("provider_id", serde_json::json!(self.provider_id.as_str())),
        ]
    }
}
