//! Every setting keyward reads (R-CFG-1): its type, its default, and the rules
//! that make it valid. Settings are validated once, at start-up, into these
//! typed values; the binary merely loads the TOML file and environment overlay.
//! Unknown keys are refused so a typo never silently does nothing.

use ipnet::IpNet;
use serde::{Deserialize, Deserializer};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

/// R-ACC-5: never more than this many failed sign-ins an hour for one account.
pub const MAX_ACCOUNT_FAILURES_PER_HOUR: u32 = 100;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub hashing: HashingSettings,
    pub session: SessionSettings,
    pub throttle: ThrottleSettings,
    pub mail: MailSettings,
    pub recovery: RecoverySettings,
    pub policy: PolicySettings,
    pub sealing: SealingSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    pub bind: SocketAddr,
    pub public_url: Url,
    pub data_dir: PathBuf,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Longest a request may take before it is answered with 503.
    #[serde(deserialize_with = "duration")]
    pub request_timeout: Duration,
    /// Longest graceful shutdown waits for requests in flight.
    #[serde(deserialize_with = "duration")]
    pub shutdown_grace: Duration,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` names the client:
    /// addresses or CIDR networks, IPv4 or IPv6. Empty: the TCP peer is the
    /// client, and those headers are ignored.
    #[serde(deserialize_with = "networks")]
    pub trusted_proxies: Vec<IpNet>,
    /// Where `/metrics` is served, on a listener of its own; `None` (off):
    /// nowhere. Never on the main listener, because the mail counters tell
    /// whether a recovery request named an existing account.
    #[serde(deserialize_with = "optional_socket_addr")]
    pub metrics_bind: Option<SocketAddr>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `sqlite://…` or `postgres://…`; empty means `sqlite://<data_dir>/keyward.db`.
    pub url: String,
    pub max_connections: u32,
    /// How long a request waits for a connection before failing fast with 503.
    #[serde(deserialize_with = "duration")]
    pub acquire_timeout: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HashingSettings {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// How many hashes run at once; the rest queue.
    pub max_concurrent: usize,
    /// How long a request waits in the queue before it gets 503 with `Retry-After`.
    #[serde(deserialize_with = "duration")]
    pub queue_timeout: Duration,
    /// Accept parameters below OWASP's Argon2id minimum. For tests only
    /// (cheap hashing keeps them fast); never in production.
    pub allow_weak: bool,
}

/// OWASP's Argon2id minimums as `(memory_kib, iterations)` pairs, all with
/// one lane: parameters pass when they reach both numbers of any one pair.
pub const OWASP_ARGON2ID_MINIMUMS: [(u32, u32); 5] = [
    (47_104, 1),
    (19_456, 2),
    (12_288, 3),
    (9_216, 4),
    (7_168, 5),
];

impl HashingSettings {
    /// Whether memory and iterations reach one of [`OWASP_ARGON2ID_MINIMUMS`].
    pub fn meets_owasp_minimum(&self) -> bool {
        OWASP_ARGON2ID_MINIMUMS
            .iter()
            .any(|&(m, t)| self.memory_kib >= m && self.iterations >= t)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionSettings {
    /// A session unused for this long ends.
    #[serde(deserialize_with = "duration")]
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, however busy.
    #[serde(deserialize_with = "duration")]
    pub absolute_timeout: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ThrottleSettings {
    /// Failed sign-ins for one account before delays start.
    pub account_free_failures: u32,
    /// The longest delay between tries for one account; with the free failures
    /// it must leave no account more than 100 failed tries an hour.
    #[serde(deserialize_with = "duration")]
    pub account_max_delay: Duration,
    /// Failed sign-ins from one client address before delays start (a school
    /// shares one address, so this is generous).
    pub address_free_failures: u32,
    #[serde(deserialize_with = "duration")]
    pub address_max_delay: Duration,
    /// Counters are forgotten after this long without a failure.
    #[serde(deserialize_with = "duration")]
    pub forget_after: Duration,
}

/// How email leaves keyward (R-MAIL-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransportKind {
    /// Deliver through an SMTP server.
    Smtp,
    /// Write each message as an `.eml` file under `<data_dir>/mail`.
    File,
    /// Log that a message was sent (recipient and subject only; bodies carry secrets).
    Log,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailSettings {
    pub transport: MailTransportKind,
    /// The sender, for example `keyward <noreply@school.example>`.
    pub from: String,
    pub smtp: SmtpSettings,
    /// Show captured mail at `/dev/mail` (on in `keyward demo`; needs the file transport).
    pub dev_inbox: bool,
    /// Attempts before a message is given up (each failure waits longer).
    pub max_attempts: u32,
    /// The wait after the first failed attempt; it doubles each time, up to 1 h.
    #[serde(deserialize_with = "duration")]
    pub retry_base: Duration,
    /// How often the outbox worker looks for mail written by other instances.
    #[serde(deserialize_with = "duration")]
    pub poll_interval: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: String,
    pub password: String,
    #[serde(deserialize_with = "duration")]
    pub timeout: Duration,
}

/// How a person names their account on **Forgot password?** (R-REC-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentifyBy {
    /// Seed 000: the username, then **Next**.
    Username,
    /// Seed 001: email and username, both required, **Send Reset Link**.
    EmailAndUsername,
    /// The email address alone.
    Email,
}

impl IdentifyBy {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentifyBy::Username => "username",
            IdentifyBy::EmailAndUsername => "email_and_username",
            IdentifyBy::Email => "email",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecoverySettings {
    pub identify_by: IdentifyBy,
    /// Lifetime of a reset link.
    #[serde(deserialize_with = "duration")]
    pub link_ttl: Duration,
    /// Lifetime of the 8-digit code in the same email.
    #[serde(deserialize_with = "duration")]
    pub code_ttl: Duration,
    /// Wrong tries of one code before it stops working.
    pub code_max_tries: u32,
    /// Ask for the username again on the reset page (seed 001).
    pub confirm_username: bool,
    /// Seed 001's rule: only accounts that signed in at least once, or were
    /// created by their owner, get a reset link.
    pub require_prior_sign_in: bool,
    /// Reset links sent to one account per hour.
    pub max_links_per_account_per_hour: u32,
    /// Recovery requests accepted from one client address per hour.
    pub max_requests_per_address_per_hour: u32,
}

/// Where the AES-256-GCM sealing keys come from (R-TCH-4's mechanism).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SealingSettings {
    /// The key file; empty means `<data_dir>/sealing.key`, generated with mode
    /// 0600 on first start when absent.
    pub key_file: PathBuf,
    /// The keys themselves, instead of a file (for example from a secret
    /// store through `KEYWARD_SEALING__KEYS`), in the key file's format.
    pub keys: String,
}

/// The deployment-wide password policy presets; a school may override them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyPreset {
    /// Seed 000: at least 6 characters, lower- and uppercase, a digit, no special characters.
    Classic,
    /// NIST SP 800-63B: at least 8 characters, common passwords and the username refused.
    Nist,
}

impl PolicyPreset {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyPreset::Classic => "classic",
            PolicyPreset::Nist => "nist",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicySettings {
    /// The preset for staff (teachers, lead teachers, admins, parents).
    pub staff: PolicyPreset,
    /// The preset for learners.
    pub learner: PolicyPreset,
    /// The least entropy, in bits, of a generated password (R-POL-2).
    pub generated_min_bits: u32,
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            transport: MailTransportKind::File,
            from: "keyward <noreply@localhost>".into(),
            smtp: SmtpSettings::default(),
            dev_inbox: false,
            max_attempts: 12,
            retry_base: Duration::from_secs(10),
            poll_interval: Duration::from_secs(5),
        }
    }
}

impl Default for SmtpSettings {
    fn default() -> Self {
        SmtpSettings {
            host: "127.0.0.1".into(),
            port: 25,
            security: SmtpSecurity::None,
            username: String::new(),
            password: String::new(),
            timeout: Duration::from_secs(30),
        }
    }
}

impl Default for RecoverySettings {
    fn default() -> Self {
        RecoverySettings {
            identify_by: IdentifyBy::Username,
            link_ttl: Duration::from_secs(3600),
            code_ttl: Duration::from_secs(600),
            code_max_tries: 5,
            confirm_username: false,
            require_prior_sign_in: true,
            max_links_per_account_per_hour: 3,
            max_requests_per_address_per_hour: 30,
        }
    }
}

impl Default for PolicySettings {
    fn default() -> Self {
        PolicySettings {
            staff: PolicyPreset::Nist,
            learner: PolicyPreset::Classic,
            generated_min_bits: crate::policy::DEFAULT_GENERATED_MIN_BITS,
        }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: Url::parse("http://127.0.0.1:8080").unwrap_or_else(|_| unreachable_url()),
            data_dir: PathBuf::from("./keyward-data"),
            max_body_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(20),
            trusted_proxies: Vec::new(),
            metrics_bind: None,
        }
    }
}

// `Url::parse` of a literal cannot fail; this keeps `unwrap` out of the core.
fn unreachable_url() -> Url {
    Url::parse("http://127.0.0.1/").unwrap_or_else(|_| unreachable_url())
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            url: String::new(),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

impl Default for HashingSettings {
    fn default() -> Self {
        HashingSettings {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
            max_concurrent: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            queue_timeout: Duration::from_secs(10),
            allow_weak: false,
        }
    }
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            idle_timeout: Duration::from_secs(2 * 3600),
            absolute_timeout: Duration::from_secs(12 * 3600),
        }
    }
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        ThrottleSettings {
            account_free_failures: 5,
            account_max_delay: Duration::from_secs(40),
            // A whole school signs in from one address on a Monday morning:
            // generous, and short waits, while each account keeps its own limit.
            address_free_failures: 100,
            address_max_delay: Duration::from_secs(15),
            forget_after: Duration::from_secs(3600),
        }
    }
}

/// A setting that is present but wrong, named by its full key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid setting {key}: {problem}")]
pub struct SettingError {
    pub key: &'static str,
    pub problem: String,
}

fn bad(key: &'static str, problem: impl Into<String>) -> SettingError {
    SettingError {
        key,
        problem: problem.into(),
    }
}

/// Which database a URL names, decided by its scheme only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Option<Backend> {
        let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase())?;
        match scheme.as_str() {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" | "postgresql" => Some(Backend::Postgres),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

impl Settings {
    /// Fills in derived defaults and checks every rule. Call once after loading.
    pub fn validate(mut self) -> Result<Settings, SettingError> {
        let public = &self.server.public_url;
        if !matches!(public.scheme(), "http" | "https") || public.host_str().is_none() {
            return Err(bad(
                "server.public_url",
                "must be an http:// or https:// URL with a host",
            ));
        }
        if public.query().is_some() || public.fragment().is_some() {
            return Err(bad(
                "server.public_url",
                "must not have a query or fragment",
            ));
        }
        if self.server.data_dir.as_os_str().is_empty() {
            return Err(bad("server.data_dir", "must not be empty"));
        }
        if !(1024..=16 * 1024 * 1024).contains(&self.server.max_body_bytes) {
            return Err(bad(
                "server.max_body_bytes",
                "must be between 1024 and 16777216",
            ));
        }
        if self.server.request_timeout < Duration::from_secs(1) {
            return Err(bad("server.request_timeout", "must be at least 1s"));
        }
        if self.database.url.trim().is_empty() {
            self.database.url = format!("sqlite://{}/keyward.db", self.server.data_dir.display());
        }
        if Backend::of_url(&self.database.url).is_none() {
            return Err(bad(
                "database.url",
                "unknown scheme: use sqlite://PATH or postgres://USER@HOST/DB",
            ));
        }
        if self.database.max_connections == 0 {
            return Err(bad("database.max_connections", "must be at least 1"));
        }
        let h = &self.hashing;
        if h.memory_kib < 8 * h.parallelism.max(1) || h.memory_kib > 4 * 1024 * 1024 {
            return Err(bad(
                "hashing.memory_kib",
                "must be between 8×parallelism and 4194304",
            ));
        }
        if !(1..=100).contains(&h.iterations) {
            return Err(bad("hashing.iterations", "must be between 1 and 100"));
        }
        if !(1..=64).contains(&h.parallelism) {
            return Err(bad("hashing.parallelism", "must be between 1 and 64"));
        }
        if !(1..=1024).contains(&h.max_concurrent) {
            return Err(bad("hashing.max_concurrent", "must be between 1 and 1024"));
        }
        if h.queue_timeout.is_zero() {
            return Err(bad("hashing.queue_timeout", "must be more than zero"));
        }
        if !h.allow_weak && !h.meets_owasp_minimum() {
            return Err(bad(
                "hashing.memory_kib",
                format!(
                    "{} KiB with hashing.iterations = {} is below OWASP's Argon2id minimum: \
                     at least 19456 KiB with 2 iterations (or 47104 with 1, 12288 with 3, \
                     9216 with 4, 7168 with 5)",
                    h.memory_kib, h.iterations
                ),
            ));
        }
        let s = &self.session;
        if s.idle_timeout < Duration::from_secs(60) {
            return Err(bad("session.idle_timeout", "must be at least 1m"));
        }
        if s.absolute_timeout < s.idle_timeout {
            return Err(bad(
                "session.absolute_timeout",
                "must be at least session.idle_timeout",
            ));
        }
        let t = &self.throttle;
        if t.account_free_failures > 20 {
            return Err(bad("throttle.account_free_failures", "must be at most 20"));
        }
        let per_hour = crate::accounts::throttle::failures_per_hour(
            t.account_free_failures,
            t.account_max_delay,
        );
        if per_hour > MAX_ACCOUNT_FAILURES_PER_HOUR {
            return Err(bad(
                "throttle.account_max_delay",
                format!(
                    "allows {per_hour} failed tries an hour for one account; raise it so at most {MAX_ACCOUNT_FAILURES_PER_HOUR} are possible"
                ),
            ));
        }
        if t.address_max_delay.is_zero() {
            return Err(bad("throttle.address_max_delay", "must be more than zero"));
        }
        if t.forget_after < Duration::from_secs(60) {
            return Err(bad("throttle.forget_after", "must be at least 1m"));
        }
        if self.sealing.key_file.as_os_str().is_empty() {
            self.sealing.key_file = self.server.data_dir.join("sealing.key");
        }
        let m = &self.mail;
        // The same parser the transport uses, so a sender that passes here
        // can always be put on a message.
        if m.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(bad(
                "mail.from",
                "must be an address like `keyward <noreply@school.example>`",
            ));
        }
        if m.dev_inbox && self.server.public_url.scheme() == "https" {
            return Err(bad(
                "mail.dev_inbox",
                "must be false when server.public_url is https: /dev/mail would show \
                 everyone's reset links to anyone",
            ));
        }
        if m.transport == MailTransportKind::Smtp && m.smtp.host.trim().is_empty() {
            return Err(bad(
                "mail.smtp.host",
                "must be set when mail.transport is smtp",
            ));
        }
        if m.smtp.port == 0 {
            return Err(bad("mail.smtp.port", "must be a port number"));
        }
        if m.smtp.username.is_empty() != m.smtp.password.is_empty() {
            return Err(bad(
                "mail.smtp.password",
                "mail.smtp.username and mail.smtp.password go together",
            ));
        }
        if m.smtp.timeout.is_zero() {
            return Err(bad("mail.smtp.timeout", "must be more than zero"));
        }
        if !(1..=100).contains(&m.max_attempts) {
            return Err(bad("mail.max_attempts", "must be between 1 and 100"));
        }
        if m.retry_base.is_zero() {
            return Err(bad("mail.retry_base", "must be more than zero"));
        }
        if m.poll_interval < Duration::from_millis(100) {
            return Err(bad("mail.poll_interval", "must be at least 100ms"));
        }
        let r = &self.recovery;
        if !(Duration::from_secs(300)..=Duration::from_secs(7 * 24 * 3600)).contains(&r.link_ttl) {
            return Err(bad("recovery.link_ttl", "must be between 5m and 7days"));
        }
        if !(Duration::from_secs(60)..=Duration::from_secs(3600)).contains(&r.code_ttl) {
            return Err(bad("recovery.code_ttl", "must be between 1m and 1h"));
        }
        if !(1..=10).contains(&r.code_max_tries) {
            return Err(bad("recovery.code_max_tries", "must be between 1 and 10"));
        }
        if !(1..=20).contains(&r.max_links_per_account_per_hour) {
            return Err(bad(
                "recovery.max_links_per_account_per_hour",
                "must be between 1 and 20",
            ));
        }
        if r.max_requests_per_address_per_hour == 0 {
            return Err(bad(
                "recovery.max_requests_per_address_per_hour",
                "must be at least 1",
            ));
        }
        let bits = crate::policy::MIN_GENERATED_BITS..=crate::policy::MAX_GENERATED_BITS;
        if !bits.contains(&self.policy.generated_min_bits) {
            return Err(bad(
                "policy.generated_min_bits",
                format!(
                    "must be between {} and {} (bits of entropy of a generated password)",
                    bits.start(),
                    bits.end()
                ),
            ));
        }
        Ok(self)
    }

    pub fn backend(&self) -> Backend {
        Backend::of_url(&self.database.url).unwrap_or(Backend::Sqlite)
    }

    /// Settings that are valid but deserve a word at start-up, as
    /// `(key, warning)`: `keyward serve` logs them (`keyward demo` all but
    /// the file transport's, which is what a demo wants).
    pub fn start_up_warnings(&self) -> Vec<(&'static str, &'static str)> {
        let mut warnings = Vec::new();
        if self.mail.transport == MailTransportKind::File {
            warnings.push((
                "mail.transport",
                "mail.transport is `file`: email is written to files under the data \
                 directory and nobody receives it; set mail.transport = \"smtp\"",
            ));
        }
        if self.hashing.allow_weak && !self.hashing.meets_owasp_minimum() {
            warnings.push((
                "hashing.allow_weak",
                "hashing.allow_weak is on and the hashing parameters are below OWASP's \
                 minimum: passwords are weakly hashed (this is for tests only)",
            ));
        }
        warnings
    }

    /// Whether cookies must carry `Secure` and HSTS is sent.
    pub fn is_https(&self) -> bool {
        self.server.public_url.scheme() == "https"
    }

    /// Every effective setting as `key = value` lines, with secrets masked
    /// (the password inside a database URL), for `keyward check-config`.
    pub fn describe(&self) -> Vec<(String, String)> {
        let d = |v: Duration| humantime::format_duration(v).to_string();
        vec![
            ("server.bind".into(), self.server.bind.to_string()),
            (
                "server.public_url".into(),
                self.server.public_url.to_string(),
            ),
            (
                "server.data_dir".into(),
                self.server.data_dir.display().to_string(),
            ),
            (
                "server.max_body_bytes".into(),
                self.server.max_body_bytes.to_string(),
            ),
            (
                "server.request_timeout".into(),
                d(self.server.request_timeout),
            ),
            (
                "server.shutdown_grace".into(),
                d(self.server.shutdown_grace),
            ),
            (
                "server.trusted_proxies".into(),
                self.server
                    .trusted_proxies
                    .iter()
                    .map(|net| describe_network(*net))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (
                "server.metrics_bind".into(),
                self.server
                    .metrics_bind
                    .map_or_else(|| "off".to_owned(), |addr| addr.to_string()),
            ),
            ("database.url".into(), mask_url_password(&self.database.url)),
            (
                "database.max_connections".into(),
                self.database.max_connections.to_string(),
            ),
            (
                "database.acquire_timeout".into(),
                d(self.database.acquire_timeout),
            ),
            (
                "hashing.memory_kib".into(),
                self.hashing.memory_kib.to_string(),
            ),
            (
                "hashing.iterations".into(),
                self.hashing.iterations.to_string(),
            ),
            (
                "hashing.parallelism".into(),
                self.hashing.parallelism.to_string(),
            ),
            (
                "hashing.max_concurrent".into(),
                self.hashing.max_concurrent.to_string(),
            ),
            (
                "hashing.queue_timeout".into(),
                d(self.hashing.queue_timeout),
            ),
            (
                "hashing.allow_weak".into(),
                self.hashing.allow_weak.to_string(),
            ),
            ("session.idle_timeout".into(), d(self.session.idle_timeout)),
            (
                "session.absolute_timeout".into(),
                d(self.session.absolute_timeout),
            ),
            (
                "throttle.account_free_failures".into(),
                self.throttle.account_free_failures.to_string(),
            ),
            (
                "throttle.account_max_delay".into(),
                d(self.throttle.account_max_delay),
            ),
            (
                "throttle.address_free_failures".into(),
                self.throttle.address_free_failures.to_string(),
            ),
            (
                "throttle.address_max_delay".into(),
                d(self.throttle.address_max_delay),
            ),
            (
                "throttle.forget_after".into(),
                d(self.throttle.forget_after),
            ),
            (
                "mail.transport".into(),
                format!("{:?}", self.mail.transport).to_lowercase(),
            ),
            ("mail.from".into(), self.mail.from.clone()),
            ("mail.smtp.host".into(), self.mail.smtp.host.clone()),
            ("mail.smtp.port".into(), self.mail.smtp.port.to_string()),
            (
                "mail.smtp.security".into(),
                format!("{:?}", self.mail.smtp.security).to_lowercase(),
            ),
            ("mail.smtp.username".into(), self.mail.smtp.username.clone()),
            (
                "mail.smtp.password".into(),
                if self.mail.smtp.password.is_empty() {
                    String::new()
                } else {
                    "****".into()
                },
            ),
            ("mail.smtp.timeout".into(), d(self.mail.smtp.timeout)),
            ("mail.dev_inbox".into(), self.mail.dev_inbox.to_string()),
            (
                "mail.max_attempts".into(),
                self.mail.max_attempts.to_string(),
            ),
            ("mail.retry_base".into(), d(self.mail.retry_base)),
            ("mail.poll_interval".into(), d(self.mail.poll_interval)),
            (
                "recovery.identify_by".into(),
                self.recovery.identify_by.as_str().into(),
            ),
            ("recovery.link_ttl".into(), d(self.recovery.link_ttl)),
            ("recovery.code_ttl".into(), d(self.recovery.code_ttl)),
            (
                "recovery.code_max_tries".into(),
                self.recovery.code_max_tries.to_string(),
            ),
            (
                "recovery.confirm_username".into(),
                self.recovery.confirm_username.to_string(),
            ),
            (
                "recovery.require_prior_sign_in".into(),
                self.recovery.require_prior_sign_in.to_string(),
            ),
            (
                "recovery.max_links_per_account_per_hour".into(),
                self.recovery.max_links_per_account_per_hour.to_string(),
            ),
            (
                "recovery.max_requests_per_address_per_hour".into(),
                self.recovery.max_requests_per_address_per_hour.to_string(),
            ),
            ("policy.staff".into(), self.policy.staff.as_str().into()),
            ("policy.learner".into(), self.policy.learner.as_str().into()),
            (
                "policy.generated_min_bits".into(),
                self.policy.generated_min_bits.to_string(),
            ),
            (
                "sealing.key_file".into(),
                self.sealing.key_file.display().to_string(),
            ),
            (
                "sealing.keys".into(),
                if self.sealing.keys.is_empty() {
                    String::new()
                } else {
                    "****".into()
                },
            ),
        ]
    }
}

/// Replaces the password of a URL with `****`.
pub fn mask_url_password(text: &str) -> String {
    match Url::parse(text) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("****"));
            url.to_string()
        }
        _ => text.to_owned(),
    }
}

/// A network as an operator writes it: a single address without its `/32`
/// or `/128`.
fn describe_network(net: IpNet) -> String {
    if net.prefix_len() == net.max_prefix_len() {
        net.addr().to_string()
    } else {
        net.to_string()
    }
}

/// One entry of `server.trusted_proxies`: an address (`192.0.2.7`,
/// `2001:db8::7`) or a CIDR network (`10.0.0.0/8`, `2001:db8::/32`).
pub fn parse_network(text: &str) -> Option<IpNet> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<IpAddr>() {
        return Some(IpNet::from(addr.to_canonical()));
    }
    // `10.1.2.3/8` names the network 10.0.0.0/8, as operators mean it.
    text.parse::<IpNet>().ok().map(|net| match net {
        IpNet::V6(v6) => match v6.addr().to_ipv4_mapped() {
            // ::ffff:10.0.0.0/104 is 10.0.0.0/8: mapped peers are compared as IPv4.
            Some(v4) if v6.prefix_len() >= 96 => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96)
                .map_or(net, |v4net| IpNet::V4(v4net.trunc())),
            _ => net.trunc(),
        },
        IpNet::V4(_) => net.trunc(),
    })
}

/// A list of networks: a TOML array of strings, or one string with the
/// entries separated by commas (as `KEYWARD_SERVER__TRUSTED_PROXIES` gives it).
fn networks<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<IpNet>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        List(Vec<String>),
        Text(String),
    }
    let entries: Vec<String> = match Raw::deserialize(deserializer)? {
        Raw::List(list) => list,
        Raw::Text(text) => text.split(',').map(str::to_owned).collect(),
    };
    entries
        .iter()
        .filter(|entry| !entry.trim().is_empty())
        .map(|entry| {
            parse_network(entry).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "`{}` is not an IP address or CIDR network (write it like 127.0.0.1, 10.0.0.0/8 or 2001:db8::/32)",
                    entry.trim()
                ))
            })
        })
        .collect()
}

/// A socket address, or `off` / empty for none.
fn optional_socket_addr<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<SocketAddr>, D::Error> {
    let text = String::deserialize(deserializer)?;
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| {
        serde::de::Error::custom(format!(
            "`{text}` is not an address and port (write it like 127.0.0.1:9090, or off)"
        ))
    })
}

/// Durations are written like `90s`, `10m`, `1h`, or as a whole number of seconds.
fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Secs(u64),
        Text(String),
    }
    match Raw::deserialize(deserializer)? {
        Raw::Secs(secs) => Ok(Duration::from_secs(secs)),
        Raw::Text(text) => match text.trim().parse::<u64>() {
            Ok(secs) => Ok(Duration::from_secs(secs)),
            Err(_) => humantime::parse_duration(text.trim()).map_err(|_| {
                serde::de::Error::custom(format!(
                    "`{text}` is not a duration (write it like 90s, 10m or 1h)"
                ))
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_match_the_spec() {
        let s = Settings::default().validate().unwrap();
        assert_eq!(s.server.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(s.database.url, "sqlite://./keyward-data/keyward.db");
        assert_eq!(
            (
                s.hashing.memory_kib,
                s.hashing.iterations,
                s.hashing.parallelism
            ),
            (19_456, 2, 1)
        );
        assert_eq!(s.backend(), Backend::Sqlite);
    }

    #[test]
    fn unknown_database_scheme_is_refused_by_name() {
        let mut s = Settings::default();
        s.database.url = "mysql://root@localhost/kw".into();
        let err = s.validate().unwrap_err();
        assert_eq!(err.key, "database.url");
    }

    #[test]
    fn a_throttle_allowing_over_100_tries_an_hour_is_refused() {
        let mut s = Settings::default();
        s.throttle.account_max_delay = Duration::from_secs(10);
        assert_eq!(s.validate().unwrap_err().key, "throttle.account_max_delay");
    }

    #[test]
    fn database_password_is_masked_in_the_description() {
        let mut s = Settings::default();
        s.database.url = "postgres://kw:hunter2@db.example/kw".into();
        let text = format!("{:?}", s.validate().unwrap().describe());
        assert!(!text.contains("hunter2"));
        assert!(text.contains("****"));
    }

    #[test]
    fn smtp_password_is_masked_in_the_description() {
        let mut s = Settings::default();
        s.mail.smtp.username = "kw".into();
        s.mail.smtp.password = "mailsecret".into();
        let text = format!("{:?}", s.validate().unwrap().describe());
        assert!(!text.contains("mailsecret"));
    }

    #[test]
    fn recovery_defaults_follow_the_spec() {
        let r = Settings::default().recovery;
        assert_eq!(r.identify_by, IdentifyBy::Username);
        assert_eq!(r.link_ttl, Duration::from_secs(3600));
        assert_eq!(
            (r.code_ttl, r.code_max_tries),
            (Duration::from_secs(600), 5)
        );
        assert!(!r.confirm_username && r.require_prior_sign_in);
        assert_eq!(r.max_links_per_account_per_hour, 3);
    }

    #[test]
    fn a_sender_that_is_not_an_address_is_refused_by_name() {
        for from in ["keyward", "keyward <noreply@>", "keyward <a b@x.org>"] {
            let mut s = Settings::default();
            s.mail.from = from.into();
            assert_eq!(s.validate().unwrap_err().key, "mail.from", "{from}");
        }
        let mut s = Settings::default();
        s.mail.from = "Hill School <noreply@school.example>".into();
        assert!(s.validate().is_ok());
    }

    #[test]
    fn hashing_below_owasps_minimum_is_refused_by_name_with_the_minimum() {
        for (m, t) in [(19_455, 2), (47_103, 1), (19_456, 1), (7_168, 4), (256, 1)] {
            let mut s = Settings::default();
            (s.hashing.memory_kib, s.hashing.iterations) = (m, t);
            let err = s.validate().unwrap_err();
            assert_eq!(err.key, "hashing.memory_kib", "m={m} t={t}");
            assert!(err.problem.contains("19456 KiB with 2 iterations"), "{err}");
        }
        for (m, t) in
            OWASP_ARGON2ID_MINIMUMS
                .into_iter()
                .chain([(65_536, 3), (19_456, 10), (7_168, 12)])
        {
            let mut s = Settings::default();
            (s.hashing.memory_kib, s.hashing.iterations) = (m, t);
            assert!(s.validate().is_ok(), "m={m} t={t}");
        }
    }

    #[test]
    fn allow_weak_lets_tests_hash_cheaply_and_says_so() {
        let mut s = Settings::default();
        (s.hashing.memory_kib, s.hashing.iterations) = (256, 1);
        s.hashing.allow_weak = true;
        let s = s.validate().unwrap();
        assert!(
            s.start_up_warnings()
                .iter()
                .any(|(key, _)| *key == "hashing.allow_weak")
        );
        assert!(
            s.describe()
                .contains(&("hashing.allow_weak".into(), "true".into()))
        );
    }

    #[test]
    fn the_dev_inbox_is_refused_on_https() {
        let mut s = Settings::default();
        s.mail.dev_inbox = true;
        assert!(s.clone().validate().is_ok(), "allowed on http");
        s.server.public_url = Url::parse("https://accounts.school.example").unwrap();
        let err = s.validate().unwrap_err();
        assert_eq!(err.key, "mail.dev_inbox");
        assert!(err.problem.contains("https"), "{err}");
    }

    #[test]
    fn the_file_transport_is_warned_about_and_smtp_is_not() {
        let s = Settings::default();
        let warnings = s.start_up_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].0, "mail.transport");
        assert!(warnings[0].1.contains("nobody receives it"));
        let mut s = Settings::default();
        s.mail.transport = MailTransportKind::Smtp;
        assert!(s.start_up_warnings().is_empty());
    }

    #[test]
    fn trusted_proxies_parse_addresses_and_networks_of_both_families() {
        let parse = |text: &str| parse_network(text).map(|net| net.to_string());
        assert_eq!(parse("127.0.0.1").as_deref(), Some("127.0.0.1/32"));
        assert_eq!(parse(" 10.1.2.3/8 ").as_deref(), Some("10.0.0.0/8"));
        assert_eq!(parse("2001:db8::7").as_deref(), Some("2001:db8::7/128"));
        assert_eq!(parse("2001:db8:1::/48").as_deref(), Some("2001:db8:1::/48"));
        assert_eq!(parse("::ffff:192.0.2.1").as_deref(), Some("192.0.2.1/32"));
        assert_eq!(parse("::ffff:10.0.0.0/104").as_deref(), Some("10.0.0.0/8"));
        for bad in [
            "",
            "localhost",
            "10.0.0.0/33",
            "1.2.3",
            "2001:db8::/129",
            "10.0.0.1:80",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        let mut s = Settings::default();
        s.server.trusted_proxies = ["127.0.0.1", "10.0.0.0/8", "2001:db8::/32"]
            .iter()
            .filter_map(|t| parse_network(t))
            .collect();
        s.server.metrics_bind = Some("127.0.0.1:9090".parse().unwrap());
        let described = s.validate().unwrap().describe();
        assert!(described.contains(&(
            "server.trusted_proxies".into(),
            "127.0.0.1, 10.0.0.0/8, 2001:db8::/32".into()
        )));
        assert!(described.contains(&("server.metrics_bind".into(), "127.0.0.1:9090".into())));
        let defaults = Settings::default().describe();
        assert!(defaults.contains(&("server.trusted_proxies".into(), String::new())));
        assert!(defaults.contains(&("server.metrics_bind".into(), "off".into())));
    }

    #[test]
    fn postgres_schemes_are_recognised() {
        assert_eq!(Backend::of_url("postgres://x/y"), Some(Backend::Postgres));
        assert_eq!(Backend::of_url("postgresql://x/y"), Some(Backend::Postgres));
        assert_eq!(Backend::of_url("SQLITE://x"), Some(Backend::Sqlite));
        assert_eq!(Backend::of_url("nonsense"), None);
    }
}
