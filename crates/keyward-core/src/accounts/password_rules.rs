//! The password rules that apply to an account: its school's override for
//! its kind of user when there is one, else the deployment's preset; and
//! readable generated passwords valid under them (R-POL-2).

use crate::Keyward;
use crate::error::Internal;
use crate::policy::store as policy_store;
use crate::policy::{PasswordPolicy, PolicyKind, generate_password};
use crate::types::{Password, SchoolId};

impl Keyward {
    /// The policy for a kind of user in a school: the school's override when
    /// it has one, else the deployment's preset for that kind.
    pub async fn password_policy(
        &self,
        school: Option<&SchoolId>,
        kind: PolicyKind,
    ) -> Result<PasswordPolicy, Internal> {
        if let Some(school) = school
            && let Some(policy) = policy_store::find_school_policy(&self.db, school, kind).await?
        {
            return Ok(policy);
        }
        let preset = match kind {
            PolicyKind::Staff => self.settings.policy.staff,
            PolicyKind::Learner => self.settings.policy.learner,
        };
        Ok(PasswordPolicy::preset(preset))
    }

    /// A readable generated password (R-POL-2) valid under `policy`, with at
    /// least `policy.generated_min_bits` bits of entropy.
    pub(crate) fn generated_password(
        &self,
        policy: &PasswordPolicy,
        username: Option<&str>,
        ctx: &crate::Ctx<'_>,
    ) -> Result<Password, Internal> {
        let min_bits = self.settings.policy.generated_min_bits;
        let text = generate_password(policy, username, min_bits, ctx.rng)?;
        let password = Password::new(text);
        if password.is_over_long() {
            return Err(Internal::new("generated password is too long"));
        }
        Ok(password)
    }
}
