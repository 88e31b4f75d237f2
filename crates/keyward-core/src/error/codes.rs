//! The one list of error codes keyward answers with: each code's text (what
//! clients rely on) and its kind of outcome. The web layer turns each kind
//! into one HTTP status, in one table; the OpenAPI document and the README
//! name only codes of this list (a test checks both).

use std::fmt;

use super::ErrorKind;

macro_rules! error_codes {
    ($( $(#[doc = $doc:literal])+ $name:ident = $text:literal, $kind:ident; )+) => {
        /// A stable, machine-readable error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $( $(#[doc = $doc])+ $name, )+
        }

        impl Code {
            /// Every code, in the order of the list.
            pub const ALL: &'static [Code] = &[$(Code::$name),+];

            /// The code as clients see it, for example `invalid_credentials`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$name => $text,)+
                }
            }

            /// The kind of outcome the code names.
            pub fn kind(self) -> ErrorKind {
                match self {
                    $(Code::$name => ErrorKind::$kind,)+
                }
            }

            /// What the code means, for the README's list.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(Code::$name => concat!($($doc),+).trim_ascii(),)+
                }
            }
        }
    };
}

error_codes! {
    // Anyone, before a use case runs: the request itself.
    /// The JSON body is not valid JSON or lacks a field.
    InvalidJson = "invalid_json", Malformed;
    /// The request body could not be read.
    InvalidBody = "invalid_body", Malformed;
    /// The request could not be understood.
    BadRequest = "bad_request", Malformed;
    /// A form could not be read (a field is missing or malformed).
    InvalidForm = "invalid_form", Malformed;
    /// A field has a wrong value or is missing.
    InvalidRequest = "invalid_request", BadInput;
    /// A value is longer than keyward accepts.
    InputTooLong = "input_too_long", BadInput;
    /// A filter or paging value of a list (users, the audit log) is not valid; `field` names it.
    InvalidFilter = "invalid_filter", BadInput;
    /// The request is larger than this address accepts.
    PayloadTooLarge = "payload_too_large", TooLarge;
    /// The request has the wrong content type.
    UnsupportedMediaType = "unsupported_media_type", UnsupportedMediaType;
    /// This address does not accept that method.
    MethodNotAllowed = "method_not_allowed", MethodNotAllowed;
    /// There is nothing at this address, or the caller may not know it exists.
    NotFound = "not_found", NotFound;
    /// No session: sign in first.
    Unauthenticated = "unauthenticated", Unauthenticated;
    /// A form's or call's CSRF token is missing or wrong.
    CsrfFailed = "csrf_failed", Forbidden;
    /// The request came from another site.
    ForeignOrigin = "foreign_origin", Forbidden;
    /// The actor may not do this.
    Forbidden = "forbidden", Forbidden;
    /// Too many requests from this client; wait `Retry-After` seconds.
    TooManyRequests = "too_many_requests", TooManyRequests;
    /// The server could not answer in time; try again shortly.
    Unavailable = "unavailable", Unavailable;
    /// Every password hashing slot is busy; wait `Retry-After` seconds.
    ServerBusy = "server_busy", Unavailable;
    /// The database does not answer; wait `Retry-After` seconds.
    DatabaseUnavailable = "database_unavailable", Unavailable;
    /// The database's disk is full, so nothing can be saved (reads still
    /// work) until an operator frees space; wait `Retry-After` seconds.
    StorageFull = "storage_full", Unavailable;
    /// A bug or an unexpected failure; the cause is in the server's log.
    Internal = "internal", Internal;
    /// A failure with no more precise code.
    Error = "error", Internal;

    // Signing in and passwords.
    /// The username or the password is wrong.
    InvalidCredentials = "invalid_credentials", Unauthenticated;
    /// Too many wrong tries; wait `Retry-After` seconds.
    TooManyAttempts = "too_many_attempts", TooManyRequests;
    /// The current password typed to confirm a change is wrong.
    WrongCurrentPassword = "wrong_current_password", BadInput;
    /// The new password breaks the rules; `violations` lists how.
    PasswordPolicy = "password_policy", BadInput;
    /// No live session of the caller has that id (another person's, ended, or unknown).
    SessionNotFound = "session_not_found", NotFound;
    /// A password was asked for and not given.
    PasswordMissing = "password_missing", BadInput;
    /// The mode of a reset is not one keyward knows.
    InvalidMode = "invalid_mode", BadInput;
    /// A password was given where the mode makes one itself.
    UnexpectedPassword = "unexpected_password", BadInput;

    // Two-step verification.
    /// A two-step code is not 6 digits (or a recovery code not 10 letters and digits).
    MfaCodeMalformed = "mfa_code_malformed", BadInput;
    /// The two-step code or recovery code is wrong or stale.
    MfaCodeWrong = "mfa_code_wrong", BadInput;
    /// That two-step code was already used; wait for the next one.
    MfaCodeUsed = "mfa_code_used", BadInput;
    /// No enrolment waits for its first code: start again.
    MfaNotPending = "mfa_not_pending", Conflict;
    /// Two-step verification with an authenticator app is already on.
    MfaAlreadyEnabled = "mfa_already_enabled", Conflict;
    /// Two-step verification with an authenticator app is not on.
    MfaNotEnabled = "mfa_not_enabled", Conflict;
    /// The sign-in waiting for its second step is unknown or took too long; sign in again.
    SignInStepExpired = "sign_in_step_expired", Unauthenticated;
    /// This account must turn on two-step verification before doing anything else.
    MfaEnrolmentRequired = "mfa_enrolment_required", Forbidden;

    // Forgot password?
    /// Forgot password? needs a username.
    UsernameMissing = "username_missing", BadInput;
    /// Forgot password? needs an email address.
    EmailMissing = "email_missing", BadInput;
    /// The reset link is not one of keyward's.
    LinkUnknown = "link_unknown", NotFound;
    /// The reset link has expired.
    LinkExpired = "link_expired", Gone;
    /// The reset link was used, or a newer link, a sign-in or a password change overtook it.
    LinkUsed = "link_used", Gone;
    /// The username typed on the reset page is not the link's.
    UsernameMismatch = "username_mismatch", BadInput;
    /// The emailed code is wrong.
    CodeWrong = "code_wrong", BadInput;
    /// There is no recent request to check a code against.
    CodeNoRequest = "code_no_request", BadInput;
    /// Too many wrong codes for this request; request a new email.
    CodeTooManyTries = "code_too_many_tries", Gone;

    // Codes: access, parent and class codes.
    /// No such code.
    CodeUnknown = "code_unknown", NotFound;
    /// The code has expired.
    CodeExpired = "code_expired", Gone;
    /// The code has been used.
    CodeUsed = "code_used", Gone;
    /// The username is taken.
    UsernameTaken = "username_taken", Conflict;
    /// The username is too short.
    UsernameTooShort = "username_too_short", BadInput;
    /// The username is too long.
    UsernameTooLong = "username_too_long", BadInput;
    /// The username has a character keyward does not accept.
    UsernameBadCharacter = "username_bad_character", BadInput;
    /// A name is needed.
    NameMissing = "name_missing", BadInput;
    /// A name is empty or too long.
    InvalidName = "invalid_name", BadInput;
    /// The email address is not valid.
    EmailInvalid = "email_invalid", BadInput;
    /// The new email address is the one the account already has (compared
    /// ignoring case).
    EmailUnchanged = "email_unchanged", BadInput;
    /// The language asked for is not one keyward speaks (`en`, `es`).
    UnknownLocale = "unknown_locale", BadInput;

    // Schools, classes, people and their passwords.
    /// No such school.
    SchoolNotFound = "school_not_found", NotFound;
    /// The password rules are out of bounds.
    InvalidPolicy = "invalid_policy", BadInput;
    /// A teacher named for a class is not a teacher of the school.
    InvalidTeacher = "invalid_teacher", BadInput;
    /// The new user's details are not valid.
    InvalidUser = "invalid_user", BadInput;
    /// The account is disabled already.
    AlreadyDisabled = "already_disabled", Conflict;
    /// The account is not disabled, so there is nothing to enable.
    NotDisabled = "not_disabled", Conflict;
    /// The learner has not activated their account yet.
    NotActivated = "not_activated", Conflict;
    /// The learner's password cannot be shown (`password_status` says why).
    NotRetrievable = "not_retrievable", NotFound;
    /// The class has no learners to reset.
    ClassEmpty = "class_empty", Conflict;
    /// Another reset of the class is running.
    ResetInProgress = "reset_in_progress", Conflict;
    /// The roster has problems; `rows` lists them, and nothing was imported.
    RosterInvalid = "roster_invalid", BadInput;

    // Administrators acting on other people's accounts.
    /// Turn on two-step verification on your own account first (`enable_at` says where).
    MfaRequired = "mfa_required", Forbidden;
    /// The person has never signed in, so no reset link can be sent; `offer` says what to give them instead (`access_code` or `temporary_password`).
    NeverSignedIn = "never_signed_in", Conflict;
    /// The account has no email address to send a link to.
    NoEmailAddress = "no_email_address", Conflict;
    /// The account is disabled (or not set up yet); enable it first.
    AccountNotActive = "account_not_active", Conflict;
    /// This account must choose a new password before doing anything else.
    PasswordChangeRequired = "password_change_required", Forbidden;
    /// The temporary password was right but has expired; ask your administrator for a new one.
    TemporaryPasswordExpired = "temporary_password_expired", Unauthenticated;

    // Passkeys.
    /// Passkeys are off for this account: learners need their school to switch them on.
    PasskeysOff = "passkeys_off", Forbidden;
    /// Passkeys cannot work here: `server.public_url` is not a domain name (an IP address cannot be a WebAuthn relying party).
    PasskeysUnavailable = "passkeys_unavailable", Conflict;
    /// The account has as many passkeys as keyward keeps; remove one first.
    TooManyPasskeys = "too_many_passkeys", Conflict;
    /// That passkey is already registered.
    PasskeyTaken = "passkey_taken", Conflict;
    /// The passkey ceremony is unknown, expired or already used; start again.
    PasskeyCeremonyExpired = "passkey_ceremony_expired", Gone;
    /// The browser's passkey answer could not be read, or did not verify.
    PasskeyResponseInvalid = "passkey_response_invalid", BadInput;
    /// The passkey was not accepted for signing in.
    PasskeyRejected = "passkey_rejected", Unauthenticated;

    // API tokens.
    /// The `Authorization: Bearer` token is malformed or unknown, or its owner
    /// can no longer sign in.
    TokenInvalid = "token_invalid", Unauthenticated;
    /// The API token has expired; create a new one.
    TokenExpired = "token_expired", Unauthenticated;
    /// The API token was revoked.
    TokenRevoked = "token_revoked", Unauthenticated;
    /// This call acts on the caller's own account or tokens: it needs a
    /// session, not an API token.
    TokenNotAllowed = "token_not_allowed", Forbidden;
    /// No API token with that id is in your reach.
    TokenNotFound = "token_not_found", NotFound;
    /// A token's expiry must be between 1 and 365 days.
    TokenExpiryInvalid = "token_expiry_invalid", BadInput;
    /// A token needs at least one permission, each one you hold.
    TokenPermissionsInvalid = "token_permissions_invalid", BadInput;

    // Single sign-on (issue 14).
    /// A single sign-on provider's setting is not valid (`field` names it).
    SsoProviderInvalid = "sso_provider_invalid", BadInput;
    /// No single sign-on provider with that id is in your reach.
    SsoProviderNotFound = "sso_provider_not_found", NotFound;
    /// The sign-in through the school's provider was not started here, was
    /// already used, or took too long; start again.
    SsoStateInvalid = "sso_state_invalid", BadInput;
    /// The school's sign-in provider did not answer in time or could not be
    /// reached.
    SsoProviderUnavailable = "sso_provider_unavailable", Unavailable;
    /// The provider's answer did not prove who is signing in (signature,
    /// issuer, audience, expiry or nonce).
    SsoTokenInvalid = "sso_token_invalid", Unauthenticated;
    /// The provider vouched for someone keyward does not know at that school.
    SsoUnknownPerson = "sso_unknown_person", Unauthenticated;
    /// The provider refused or cancelled the sign-in.
    SsoProviderError = "sso_provider_error", Unauthenticated;
    /// The person's role may not sign in with this provider.
    SsoRoleNotAllowed = "sso_role_not_allowed", Forbidden;
    /// The person's school requires two-step verification of their role,
    /// they have no keyward password to turn it on with, and their
    /// provider's second factor did not count: they use it at the provider,
    /// and the school trusts the provider's.
    SsoMfaRequired = "sso_mfa_required", Forbidden;
    /// The person has no keyward password: they sign in with their school's
    /// provider (`provider` names it).
    SignsInWithSso = "signs_in_with_sso", Conflict;
    /// The person has no link to that single sign-on provider.
    SsoLinkNotFound = "sso_link_not_found", NotFound;

    // Operations.
    /// No captured message with that id.
    MessageNotFound = "message_not_found", NotFound;
    /// The sealing keys come from the settings; keyward cannot add one.
    SealingKeysInline = "sealing_keys_inline", Conflict;
    /// Another key rotation is running.
    RotationRunning = "rotation_running", Conflict;
    /// The sealing key file cannot be used.
    SealingKeysUnusable = "sealing_keys_unusable", Internal;
}

impl Code {
    /// The code named by `text`, if it is one of the list.
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|code| code.as_str() == text)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<Code> for &str {
    fn eq(&self, other: &Code) -> bool {
        *self == other.as_str()
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_written_once() {
        let mut seen = std::collections::BTreeSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "{code} is in the list twice");
            assert_eq!(Code::parse(code.as_str()), Some(*code));
            assert!(!code.meaning().is_empty());
        }
    }
}
