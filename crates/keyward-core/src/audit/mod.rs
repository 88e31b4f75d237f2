//! The audit trail (R-AUD-1): who did what to whom, with what outcome, from
//! where and when — never with a secret. Rows are written in the same
//! transaction as the change they describe.

mod filter;
mod store;

pub use filter::{
    ActionFilter, AuditQuery, AuditQueryText, InvalidFilter, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX,
    PageAt, PersonFilter,
};
pub use store::{AuditRecord, AuditRow, NamedPerson, recent};
pub(crate) use store::{
    Selection, insert, insert_alone, page, select, stream, user_id_by_username_key,
};

use crate::types::UnixTime;

/// Stable names of audited actions.
pub mod action {
    pub const SIGN_IN: &str = "sign_in";
    pub const SIGN_OUT: &str = "sign_out";
    /// A person ended one of their own sessions (`detail`: how).
    pub const SESSION_END: &str = "session.end";
    pub const USER_CREATE: &str = "user.create";
    pub const DEMO_SEED: &str = "demo.seed";
    pub const POLICY_CHANGE: &str = "policy.change";
    pub const RECOVERY_REQUEST: &str = "recovery.request";
    pub const RECOVERY_CODE: &str = "recovery.code";
    pub const RECOVERY_RESET: &str = "recovery.reset";
    pub const PASSWORD_CHANGE: &str = "password.change";
    /// A person changed their own email address (`detail`: `added` or
    /// `replaced`; never the addresses).
    pub const EMAIL_CHANGE: &str = "email.change";
    /// An authenticator app set up ("started", then "success") or refused.
    pub const MFA_ENROL: &str = "mfa.enrol";
    /// Two-step verification with an app turned off.
    pub const MFA_REMOVE: &str = "mfa.remove";
    /// A new set of recovery codes.
    pub const MFA_RECOVERY_CODES: &str = "mfa.recovery_codes";
    /// A recovery code used (the detail says how many are left).
    pub const MFA_RECOVERY_CODE_USE: &str = "mfa.recovery_code_use";
    /// A two-step code that was wrong or replayed.
    pub const MFA_CODE: &str = "mfa.code";
    pub const NOT_ME: &str = "security.not_me";
    pub const SEALING_ROTATE: &str = "sealing.rotate";
    pub const SCHOOL_CREATE: &str = "school.create";
    pub const CLASS_CREATE: &str = "class.create";
    pub const CODE_USE: &str = "code.use";
    pub const ROSTER_IMPORT: &str = "roster.import";
    pub const CODE_REISSUE: &str = "code.reissue";
    pub const ROLE_CREATE: &str = "role.create";
    pub const ROLE_GRANT: &str = "role.grant";
    pub const CLASS_JOIN: &str = "class.join";
    pub const CLASS_CODE_REGENERATE: &str = "class.code_regenerate";
    pub const CLASS_CODE_ENABLE: &str = "class.code_enable";
    pub const CLASS_CODE_DISABLE: &str = "class.code_disable";
    pub const LEARNER_PASSWORD_RESET: &str = "learner.password_reset";
    pub const LEARNER_PASSWORD_REVEAL: &str = "learner.password_reveal";
    pub const CLASS_PASSWORD_RESET: &str = "class.password_reset";
    pub const CREDENTIALS_SHOW: &str = "credentials.show";
    pub const CREDENTIALS_EXPORT: &str = "credentials.export";
    pub const SCHOOL_SETTING_CHANGE: &str = "school.setting_change";
    /// A passkey was registered (or a registration refused).
    pub const PASSKEY_REGISTER: &str = "passkey.register";
    /// A passkey was removed (or a removal refused).
    pub const PASSKEY_REMOVE: &str = "passkey.remove";
    /// A passkey was renamed.
    pub const PASSKEY_RENAME: &str = "passkey.rename";
    /// A passkey assertion (sign-in or second step) that failed.
    pub const PASSKEY_ASSERTION: &str = "passkey.assertion";
    /// An actor was refused an action (`detail`: which, and the answer).
    pub const AUTHZ_DENIED: &str = "authz.denied";
    /// Access codes or parent access codes were shown to staff again.
    pub const CODES_REVEAL: &str = "codes.reveal";
    /// An API token was created (`detail`: its permissions; never the secret).
    pub const TOKEN_CREATE: &str = "token.create";
    /// An API token was revoked.
    pub const TOKEN_REVOKE: &str = "token.revoke";
    /// A bearer call was refused (`detail`: why); the token's id when known.
    pub const TOKEN_REFUSED: &str = "token.refused";
    /// The audit log was downloaded as CSV (`detail`: the filters).
    pub const AUDIT_EXPORT: &str = "audit.export";
    /// An admin disabled an account: its sessions, links and codes ended.
    pub const USER_DISABLE: &str = "user.disable";
    /// An admin enabled a disabled account again.
    pub const USER_ENABLE: &str = "user.enable";
    /// An administrator had a reset link sent to someone (R-ADM-2); outcome
    /// `success` or `refused` with the reason in `detail`, never the link.
    pub const ADMIN_PASSWORD_RESET: &str = "admin.password_reset";
    /// An administrator set a temporary password (R-ADM-3); never the password.
    pub const ADMIN_TEMPORARY_PASSWORD: &str = "admin.temporary_password";
    /// An administrator removed someone's second factors (R-ADM-4).
    pub const ADMIN_MFA_RESET: &str = "admin.mfa_reset";
    /// A school connected a single sign-on provider (`detail`: its id and
    /// issuer; never the client secret).
    pub const SSO_PROVIDER_ADD: &str = "sso.provider_add";
    /// A school removed a single sign-on provider (and with it its links).
    pub const SSO_PROVIDER_REMOVE: &str = "sso.provider_remove";
    /// A sign-in through a school's OpenID Connect provider: `success`,
    /// `second_step` (keyward's own second factor still to come) or
    /// `failure` (`detail`: the provider, the reason code and what the
    /// provider said, cut short; never a token or a code).
    pub const SSO_SIGN_IN: &str = "sso.sign_in";
    /// A person's link to a single sign-on provider was removed (issue 14).
    pub const SSO_UNLINK: &str = "sso.unlink";
}

/// One audit entry to record.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    pub at: UnixTime,
    pub actor_id: Option<&'a str>,
    /// The API token the actor acted through (its public id), if any.
    pub api_token: Option<&'a str>,
    pub target_id: Option<&'a str>,
    /// The school whose auditors see the row. `None` means the target's
    /// school when the target is a user (filled in by the INSERT itself), so
    /// a school's people's sign-ins, failures and requests reach its
    /// auditors; rows about no known person stay school-less (platform
    /// admins only).
    pub school_id: Option<&'a str>,
    pub action: &'static str,
    pub outcome: &'static str,
    pub client_addr: Option<&'a str>,
    /// Extra, non-secret facts (a reason code, a count).
    pub detail: Option<&'a str>,
}
