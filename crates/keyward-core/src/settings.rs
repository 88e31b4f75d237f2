//! Every setting keyward reads (R-CFG-1), each declared once in the
//! `declare_settings!` table below: its section and key, its type, its default, the
//! rules that make it valid, whether it is a secret, and what it means. From
//! that one declaration come the structs, their `Default`, their `Debug`
//! (secrets masked), `Settings::validate`, `Settings::describe` (what
//! `keyward check-config` prints, secrets masked), `Settings::keys`, and the
//! settings table of README.md (a test keeps it equal to the declaration).
//!
//! Settings are validated once, at start-up, into these typed values; the
//! binary merely loads the TOML file and environment overlay. Unknown keys are
//! refused so a typo never silently does nothing. This module depends on no
//! other part of the core: what validation needs (the throttle's delay rule,
//! the generator's bounds) is defined here and used from here.

use crate::types::Role;
use ipnet::IpNet;
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

/// R-ACC-5: never more than this many failed sign-ins an hour for one account.
pub const MAX_ACCOUNT_FAILURES_PER_HOUR: u32 = 100;

/// The default of `policy.generated_min_bits`.
pub const DEFAULT_GENERATED_MIN_BITS: u32 = 40;
/// The lowest `policy.generated_min_bits` the settings accept.
pub const MIN_GENERATED_BITS: u32 = 24;
/// The highest `policy.generated_min_bits` the settings accept: every shape
/// up to it fits in 64 characters, even with the smaller alphabet of the last
/// draw (the list without its most common letter still gives 10 words and 4
/// digits over 100 bits).
pub const MAX_GENERATED_BITS: u32 = 100;

/// OWASP's Argon2id minimums as `(memory_kib, iterations)` pairs, all with
/// one lane: parameters pass when they reach both numbers of any one pair.
pub const OWASP_ARGON2ID_MINIMUMS: [(u32, u32); 5] = [
    (47_104, 1),
    (19_456, 2),
    (12_288, 3),
    (9_216, 4),
    (7_168, 5),
];

// ------------------------------------------------------------- the settings

declare_settings! {
    /// Every setting, by section.
    pub struct Settings in "" {
        server: ServerSettings = section(),
        database: DatabaseSettings = section(),
        hashing: HashingSettings = section(),
        session: SessionSettings = section(),
        throttle: ThrottleSettings = section(),
        mail: MailSettings = section(),
        recovery: RecoverySettings = section(),
        policy: PolicySettings = section(),
        sealing: SealingSettings = section(),
        mfa: MfaSettings = section(),
        admin: AdminSettings = section(),
        sso: SsoSettings = section(),
    }

    /// Where keyward listens and how it treats requests.
    pub struct ServerSettings in "server" {
        /// address to listen on
        bind: SocketAddr = default(SocketAddr::from(([127, 0, 0, 1], 8080))),
        /// the address people use; the only base for links in emails; `https`
        /// makes cookies `Secure` and turns on HSTS
        public_url: Url = default(default_public_url())
            .rule(|url, _| {
                require(
                    matches!(url.scheme(), "http" | "https") && url.host_str().is_some(),
                    "must be an http:// or https:// URL with a host",
                )
            })
            .rule(|url, _| {
                require(
                    url.query().is_none() && url.fragment().is_none(),
                    "must not have a query or fragment",
                )
            }),
        /// SQLite file, mail files, demo accounts file, sealing key file
        data_dir: PathBuf = default(PathBuf::from("./keyward-data"))
            .rule(|dir, _| require(!dir.as_os_str().is_empty(), "must not be empty")),
        /// largest request body accepted (413 above it)
        max_body_bytes: usize = default(64 * 1024).check(between(1024, 16 * 1024 * 1024)),
        /// a request taking longer is answered with 503
        #[serde(deserialize_with = "duration")]
        request_timeout: Duration = default(secs(30)).check(at_least(secs(1))),
        /// on SIGTERM/Ctrl-C, how long requests in flight may finish
        #[serde(deserialize_with = "duration")]
        shutdown_grace: Duration = default(secs(20)),
        /// addresses or CIDR networks (IPv4 or IPv6) of reverse proxies whose
        /// `Forwarded` / `X-Forwarded-For` names the client, as a TOML list
        /// (`["127.0.0.1", "10.0.0.0/8"]`) or a comma-separated string
        /// (`KEYWARD_SERVER__TRUSTED_PROXIES=127.0.0.1,::1`); empty: the
        /// connecting address is the client and those headers are ignored.
        /// See [Behind a reverse proxy](#behind-a-reverse-proxy)
        #[serde(deserialize_with = "networks")]
        trusted_proxies: Vec<IpNet> = default(Vec::new()),
        /// a separate listener for `/metrics`, for example `127.0.0.1:9090`;
        /// off: `/metrics` is served nowhere. The main listener never serves
        /// it (its email counters would tell who has an account)
        #[serde(deserialize_with = "optional_socket_addr")]
        metrics_bind: Option<SocketAddr> = default(None),
    }

    /// The database and its connection pool.
    pub struct DatabaseSettings in "database" {
        /// `sqlite://PATH` or `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`;
        /// other schemes are refused; the password is masked by `check-config`
        url: String = default(String::new())
            .readme_default("`sqlite://<data_dir>/keyward.db`")
            .fill(|url, all| {
                url.trim()
                    .is_empty()
                    .then(|| format!("sqlite://{}/keyward.db", all.server.data_dir.display()))
            })
            .rule(|url, _| {
                require(
                    Backend::of_url(url).is_some(),
                    "unknown scheme: use sqlite://PATH or postgres://USER@HOST/DB",
                )
            })
            .mask(|url| mask_url_password(url)),
        /// size of the connection pool
        max_connections: u32 = default(10).check(at_least(1)),
        /// how long a request waits for a connection before failing fast (503)
        #[serde(deserialize_with = "duration")]
        acquire_timeout: Duration = default(secs(3)),
    }

    /// Argon2id's parameters and the pool that runs it.
    pub struct HashingSettings in "hashing" {
        /// Argon2id memory (OWASP); hashes made with other parameters are
        /// upgraded at the next sign-in; see `hashing.allow_weak` for the
        /// minimum
        memory_kib: u32 = default(19_456).rule(|&memory, all| {
            let parallelism = all.hashing.parallelism.max(1);
            require(
                (8 * parallelism..=4 * 1024 * 1024).contains(&memory),
                "must be between 8×parallelism and 4194304",
            )
        }),
        /// Argon2id passes
        iterations: u32 = default(2).check(between(1, 100)),
        /// Argon2id lanes
        parallelism: u32 = default(1).check(between(1, 64)),
        /// how many hashes run at once; the rest wait in a queue
        max_concurrent: usize = default(
            std::thread::available_parallelism().map_or(2, |n| n.get()),
        )
        .readme_default("number of cores")
        .check(between(1, 1024)),
        /// a request waiting longer for a hashing slot gets 503 with `Retry-After`
        #[serde(deserialize_with = "duration")]
        queue_timeout: Duration = default(secs(10)).check(more_than_zero()),
        /// **for tests only; never in production.** Without it, parameters
        /// below OWASP's Argon2id minimum stop start-up: at least 19456 KiB
        /// with 2 iterations, or one of 47104 × 1, 12288 × 3, 9216 × 4,
        /// 7168 × 5 (KiB × iterations). With it, keyward starts and logs a
        /// warning
        allow_weak: bool = default(false),
    }
    then owasp_minimum;

    /// How long a session lasts.
    pub struct SessionSettings in "session" {
        /// a session unused this long ends
        #[serde(deserialize_with = "duration")]
        idle_timeout: Duration = default(secs(2 * 3600)).check(at_least(secs(60))),
        /// a session ends this long after sign-in
        #[serde(deserialize_with = "duration")]
        absolute_timeout: Duration = default(secs(12 * 3600)).rule(|&absolute, all| {
            require(
                absolute >= all.session.idle_timeout,
                "must be at least session.idle_timeout",
            )
        }),
    }

    /// How wrong guesses are slowed (R-ACC-5).
    pub struct ThrottleSettings in "throttle" {
        /// failed sign-ins for one account from one client (a browser that
        /// signed in to it before, or else one address) before delays start
        account_free_failures: u32 = default(5).check(at_most(20)),
        /// longest delay between tries for one account from one client; must
        /// leave at most 100 failed tries an hour
        #[serde(deserialize_with = "duration")]
        account_max_delay: Duration = default(secs(40)).rule(|&max_delay, all| {
            let per_hour = failures_per_hour(all.throttle.account_free_failures, max_delay);
            if per_hour > MAX_ACCOUNT_FAILURES_PER_HOUR {
                return Err(format!(
                    "allows {per_hour} failed tries an hour for one account; raise it so at most {MAX_ACCOUNT_FAILURES_PER_HOUR} are possible"
                ));
            }
            Ok(())
        }),
        /// failed sign-ins from one client address before delays start (a
        /// whole school may share one address)
        // A whole school signs in from one address on a Monday morning:
        // generous, and short waits, while each account keeps its own limit.
        address_free_failures: u32 = default(100),
        /// longest delay between tries for one address
        #[serde(deserialize_with = "duration")]
        address_max_delay: Duration = default(secs(15)).check(more_than_zero()),
        /// failure counters are forgotten after this long without a failure
        #[serde(deserialize_with = "duration")]
        forget_after: Duration = default(secs(3600)).check(at_least(secs(60))),
    }

    /// How email leaves keyward (R-MAIL-2) and the outbox that sends it.
    pub struct MailSettings in "mail" {
        /// `smtp`, `file` (each message as an `.eml` file in
        /// `<data_dir>/mail`; `keyward serve` warns at start that nobody
        /// receives it) or `log` (recipient and subject only)
        transport: MailTransportKind = default(MailTransportKind::File),
        /// sender of every email
        from: String = default("keyward <noreply@localhost>".to_owned()).rule(|from, _| {
            // The same parser the transport uses, so a sender that passes
            // here can always be put on a message.
            require(
                from.parse::<lettre::message::Mailbox>().is_ok(),
                "must be an address like `keyward <noreply@school.example>`",
            )
        }),
        smtp: SmtpSettings = section(),
        /// show captured mail at `/dev/mail` (on in `keyward demo`; needs the
        /// file transport); refused when `server.public_url` is https, since
        /// it shows everyone's reset links
        dev_inbox: bool = default(false).rule(|&on, all| {
            require(
                !(on && all.server.public_url.scheme() == "https"),
                "must be false when server.public_url is https: /dev/mail would show \
                 everyone's reset links to anyone",
            )
        }),
        /// delivery attempts before a message is given up
        max_attempts: u32 = default(12).check(between(1, 100)),
        /// wait after the first failed attempt; it doubles each time, up to 1 h
        #[serde(deserialize_with = "duration")]
        retry_base: Duration = default(secs(10)).check(more_than_zero()),
        /// how often the outbox worker looks for mail written by other instances
        #[serde(deserialize_with = "duration")]
        poll_interval: Duration = default(secs(5)).check(at_least(Duration::from_millis(100))),
        /// messages the outbox worker sends at once, each on its own SMTP
        /// connection (kept open for the next message)
        max_parallel: usize = default(8).check(between(1, 64)),
    }

    /// The SMTP server of `mail.transport = "smtp"`.
    pub struct SmtpSettings in "mail.smtp" {
        /// SMTP server
        host: String = default("127.0.0.1".to_owned()).rule(|host, all| {
            require(
                all.mail.transport != MailTransportKind::Smtp || !host.trim().is_empty(),
                "must be set when mail.transport is smtp",
            )
        }),
        /// SMTP port
        port: u16 = default(25).rule(|&port, _| require(port != 0, "must be a port number")),
        /// `none`, `starttls` or `tls`
        security: SmtpSecurity = default(SmtpSecurity::None),
        /// user name for SMTP authentication (set both or neither)
        username: String = default(String::new()),
        /// password for SMTP authentication (set both or neither); masked by
        /// `check-config`
        password: String = default(String::new())
            .rule(|password, all| {
                require(
                    all.mail.smtp.username.is_empty() == password.is_empty(),
                    "mail.smtp.username and mail.smtp.password go together",
                )
            })
            .secret(),
        /// give up one delivery attempt after this long
        #[serde(deserialize_with = "duration")]
        timeout: Duration = default(secs(30)).check(more_than_zero()),
    }

    /// Forgotten passwords (R-REC-1).
    pub struct RecoverySettings in "recovery" {
        /// how **Forgot password?** names the account: `username` (seed 000,
        /// **Next**), `email_and_username` (seed 001, **Send Reset Link**) or
        /// `email`
        identify_by: IdentifyBy = default(IdentifyBy::Username),
        /// lifetime of a reset link
        #[serde(deserialize_with = "duration")]
        link_ttl: Duration = default(secs(3600)).check(between(secs(300), secs(7 * 24 * 3600))),
        /// lifetime of the 8-digit code in the same email
        #[serde(deserialize_with = "duration")]
        code_ttl: Duration = default(secs(600)).check(between(secs(60), secs(3600))),
        /// wrong tries of one code before it stops working
        code_max_tries: u32 = default(5).check(between(1, 10)),
        /// ask for the username again on the reset page (seed 001)
        confirm_username: bool = default(false),
        /// seed 001's rule: only accounts that signed in at least once (or
        /// were created by their owner) get a link; the others get an email
        /// saying to contact their administrator
        require_prior_sign_in: bool = default(true),
        /// reset emails to one account per hour; beyond it nothing is sent,
        /// and the answer stays the same
        max_links_per_account_per_hour: u32 = default(3).check(between(1, 20)),
        /// recovery requests from one client address per hour
        max_requests_per_address_per_hour: u32 = default(30).check(at_least(1)),
    }

    /// The deployment-wide password policy presets; a school may override them.
    pub struct PolicySettings in "policy" {
        /// password rules for teachers, lead teachers, admins and parents:
        /// `nist` (at least 8 characters, common passwords and the username
        /// refused) or `classic`
        staff: PolicyPreset = default(PolicyPreset::Nist),
        /// password rules for learners: `classic` (seed 000: at least 6
        /// characters, a lowercase and an uppercase letter, a digit, no
        /// special characters) or `nist`
        learner: PolicyPreset = default(PolicyPreset::Classic),
        /// least entropy, in bits, of a generated password (capitalised
        /// simple words then digits 2–9, like `TigerMangoRobot358`)
        generated_min_bits: u32 = default(DEFAULT_GENERATED_MIN_BITS).check(
            between(MIN_GENERATED_BITS, MAX_GENERATED_BITS)
                .noting("bits of entropy of a generated password"),
        ),
    }

    /// Where the AES-256-GCM sealing keys come from (R-TCH-4's mechanism).
    pub struct SealingSettings in "sealing" {
        /// the AES-256-GCM keys that seal what staff may show again (learner
        /// passwords, access codes); created with mode 0600 on first start
        /// and refused when other users may read it (`chmod 600`). Back it up
        /// with the database: without it, sealed values cannot be shown again
        key_file: PathBuf = default(PathBuf::new())
            .readme_default("`<data_dir>/sealing.key`")
            .fill(|file, all| {
                file.as_os_str()
                    .is_empty()
                    .then(|| all.server.data_dir.join("sealing.key"))
            }),
        /// the same keys without a file (for example `KEYWARD_SEALING__KEYS`
        /// from a secret store): `lookup <base64 of 32 bytes>` once, then
        /// `key <id> <base64 of 32 bytes>` lines, the last one sealing new
        /// secrets; one per line or separated by `;`; masked by `check-config`
        keys: String = default(String::new()).secret(),
    }

    /// Two-step verification (R-MFA-1).
    pub struct MfaSettings in "mfa" {
        /// roles that must turn on two-step verification, in every school
        /// (a school can add more in its settings): `platform_admin`,
        /// `lead_teacher`, `teacher`, `learner`, `parent`, as a TOML list or
        /// comma-separated (`none`: no role); such a person is taken to Account Settings >
        /// Two-step verification right after signing in and can do nothing
        /// else until it is on
        #[serde(deserialize_with = "roles")]
        required_roles: Vec<Role> = default(Vec::new()),
    }

    /// What administrators do to other people's accounts (R-ADM-3).
    pub struct AdminSettings in "admin" {
        /// how long a temporary password set by an administrator signs in;
        /// the person must replace it before doing anything else, and after
        /// this it no longer works (they ask for a new one)
        #[serde(deserialize_with = "duration")]
        temporary_password_ttl: Duration = default(secs(24 * 3600))
            .readme_default("`24h`")
            .check(between(secs(300), secs(30 * 24 * 3600))),
    }

    /// Single sign-on through schools' OpenID Connect providers.
    pub struct SsoSettings in "sso" {
        /// how long one call to a school's sign-in service (its discovery
        /// document, its keys, the token exchange) may take; a slower service
        /// is told to the person as not answering (connecting may take 2 s)
        #[serde(deserialize_with = "duration")]
        http_timeout: Duration = default(secs(5)).check(between(secs(1), secs(30))),
        /// let keyward call sign-in services on the machine itself or on a
        /// private network: off, a provider's issuer and every address its
        /// discovery document names must be `https://` and reach only public
        /// addresses (no loopback, private, link-local, unique-local, CGNAT,
        /// multicast or unspecified address, checked on the address and again
        /// after each DNS answer); on, such addresses are allowed and plain
        /// `http://` too, on loopback only. For tests and the demo, never on a
        /// server anyone outside can configure
        allow_private_addresses: bool = default(false),
        /// sign-ins through a school's provider that one client address
        /// (IPv6: its /64) may start in a minute; each start is a row for ten
        /// minutes. A whole school behind one address signs in at 8:30, so
        /// keep it well above the number of people who start at once
        starts_per_address_per_minute: u32 = default(600).check(between(1, 1_000_000)),
    }
}

/// `hashing.memory_kib` with `hashing.iterations` must reach OWASP's minimum
/// unless `hashing.allow_weak` is on; checked after the hashing bounds.
fn owasp_minimum(hashing: &HashingSettings, _: &Settings) -> Result<(), SettingError> {
    if hashing.allow_weak || hashing.meets_owasp_minimum() {
        return Ok(());
    }
    Err(bad(
        "hashing.memory_kib",
        format!(
            "{} KiB with hashing.iterations = {} is below OWASP's Argon2id minimum: \
             at least 19456 KiB with 2 iterations (or 47104 with 1, 12288 with 3, \
             9216 with 4, 7168 with 5)",
            hashing.memory_kib, hashing.iterations
        ),
    ))
}

fn default_public_url() -> Url {
    Url::parse("http://127.0.0.1:8080").unwrap_or_else(|_| unreachable_url())
}

// `Url::parse` of a literal cannot fail; this keeps `unwrap` out of the core.
fn unreachable_url() -> Url {
    Url::parse("http://127.0.0.1/").unwrap_or_else(|_| unreachable_url())
}

impl HashingSettings {
    /// Whether memory and iterations reach one of [`OWASP_ARGON2ID_MINIMUMS`].
    pub fn meets_owasp_minimum(&self) -> bool {
        OWASP_ARGON2ID_MINIMUMS
            .iter()
            .any(|&(m, t)| self.memory_kib >= m && self.iterations >= t)
    }
}

// -------------------------------------------------------- the types of values

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

impl MailTransportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MailTransportKind::Smtp => "smtp",
            MailTransportKind::File => "file",
            MailTransportKind::Log => "log",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    None,
    Starttls,
    Tls,
}

impl SmtpSecurity {
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpSecurity::None => "none",
            SmtpSecurity::Starttls => "starttls",
            SmtpSecurity::Tls => "tls",
        }
    }
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

// ------------------------------------------------------ what settings answer

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

impl Settings {
    /// Fills in derived defaults and checks every rule, in the order the
    /// settings are declared. Call once after loading.
    pub fn validate(mut self) -> Result<Settings, SettingError> {
        let loaded = self.clone();
        self.fill_fields(&loaded);
        self.check_fields(&self)?;
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

    /// Every effective setting as `(key, value)` in the order declared, with
    /// secrets masked (the SMTP password, the sealing keys, the password
    /// inside a database URL), for `keyward check-config`.
    pub fn describe(&self) -> Vec<(String, String)> {
        self.rows()
            .into_iter()
            .map(|row| (row.key.to_owned(), row.value))
            .collect()
    }

    /// The full key of every setting (`server.bind`, `mail.smtp.host`, …), in
    /// the order declared; `KEYWARD_<SECTION>__<KEY>` sets each one.
    pub fn keys() -> Vec<&'static str> {
        Settings::default()
            .rows()
            .iter()
            .map(|row| row.key)
            .collect()
    }

    /// The README's settings table as the declaration gives it: key,
    /// default (the default's `check-config` value, `empty`, or the
    /// declared README text) and meaning (the doc comment, then the bounds).
    pub fn readme_table() -> String {
        let mut table = String::from("| key | default | meaning |\n|---|---|---|\n");
        for row in Settings::default().rows() {
            let default = match row.readme_default {
                Some(text) => text.to_owned(),
                None if row.value.is_empty() => "empty".to_owned(),
                None => format!("`{}`", row.value),
            };
            let mut meaning = row
                .doc
                .iter()
                .map(|line| line.trim())
                .filter(|line| !line.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            for allowed in &row.allowed {
                meaning.push_str("; ");
                meaning.push_str(allowed);
            }
            table.push_str(&format!(
                "| `{}` | {} | {} |\n",
                row.key,
                default,
                meaning.replace('|', "\\|")
            ));
        }
        table
    }

    fn rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        self.rows_into(&mut rows);
        rows
    }
}

// ------------------------------------------------ the throttle's delay rule

/// How long the next try must wait after `failures` failures in a row: none
/// for the free failures, then 1 s, 2 s, 4 s, … up to `max_delay`. The
/// throttle applies it; validation simulates it (`throttle.account_max_delay`).
pub fn delay_after(failures: u32, free_failures: u32, max_delay: Duration) -> Duration {
    if failures <= free_failures {
        return Duration::ZERO;
    }
    let exponent = (failures - free_failures - 1).min(20);
    Duration::from_secs(1u64 << exponent).min(max_delay)
}

/// How many failures an attacker who retries the moment it is allowed gets
/// through in one hour under a rule (used to validate the settings).
pub fn failures_per_hour(free_failures: u32, max_delay: Duration) -> u32 {
    let (mut elapsed, mut failures) = (0u64, 0u32);
    while elapsed < 3600 && failures < 10_000 {
        failures += 1;
        elapsed += delay_after(failures, free_failures, max_delay).as_secs();
    }
    failures
}

// ------------------------------------------- how the declaration is read
//
// `declare_settings!` turns each `pub struct … in "prefix" { field: Type = spec, … }`
// into the struct (with its doc comments and serde attributes), its `Default`
// (each spec's default), its masked `Debug`, and a `Node` implementation that
// walks the fields in order to list, fill and check them. A spec is built with
// `default(value)` or `section()` and refined with `.check(limit)` (a bound
// that also documents itself), `.rule(|value, all| …)` (anything else),
// `.secret()` / `.mask(…)`, `.fill(…)` (a default derived from other
// settings) and `.readme_default(…)`. A section's `then rule;` runs after its
// fields' checks, with errors that name their own key.
// Keys are `prefix.field`; a field that is a section carries its own prefix
// (so `Settings`'s is empty). Checks run in the order declared.

macro_rules! declare_settings {
    ($(
        $(#[doc = $section_doc:literal])*
        pub struct $Section:ident in $prefix:literal {
            $(
                $(#[doc = $doc:literal])*
                $(#[serde($($serde:tt)*)])*
                $field:ident: $ty:ty = $spec:expr
            ),* $(,)?
        }
        $(then $rule:path;)?
    )*) => {$(
        $(#[doc = $section_doc])*
        #[derive(Clone, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $Section {
            $(
                $(#[doc = $doc])*
                $(#[serde($($serde)*)])*
                pub $field: $ty,
            )*
        }

        impl Default for $Section {
            fn default() -> Self {
                $Section {
                    $($field: $spec.default,)*
                }
            }
        }

        /// Like a derived `Debug`, with secrets masked as `check-config` masks them.
        impl fmt::Debug for $Section {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut out = f.debug_struct(stringify!($Section));
                $(debug_field(&mut out, stringify!($field), &self.$field, &$spec);)*
                out.finish()
            }
        }

        impl $Section {
            fn rows_into(&self, out: &mut Vec<Row>) {
                $(Node::rows(
                    &self.$field,
                    concat!($prefix, ".", stringify!($field)),
                    &$spec,
                    &[$($doc),*],
                    out,
                );)*
            }

            fn fill_fields(&mut self, all: &Settings) {
                $(Node::fill(&mut self.$field, &$spec, all);)*
            }

            fn check_fields(&self, all: &Settings) -> Result<(), SettingError> {
                $(Node::check(
                    &self.$field,
                    concat!($prefix, ".", stringify!($field)),
                    &$spec,
                    all,
                )?;)*
                $($rule(self, all)?;)?
                Ok(())
            }
        }

        impl Node for $Section {
            fn rows(&self, _: &'static str, _: &Spec<Self>, _: Doc, out: &mut Vec<Row>) {
                self.rows_into(out);
            }

            fn fill(&mut self, _: &Spec<Self>, all: &Settings) {
                self.fill_fields(all);
            }

            fn check(
                &self,
                _: &'static str,
                _: &Spec<Self>,
                all: &Settings,
            ) -> Result<(), SettingError> {
                self.check_fields(all)
            }
        }
    )*};
}
use declare_settings;

/// A field's doc comment, line by line: the setting's meaning.
type Doc = &'static [&'static str];

/// A check beyond the bounds: `Err` holds the problem, the key is added.
type Rule<T> = Box<dyn Fn(&T, &Settings) -> Result<(), String>>;

/// Everything the declaration says about one field besides its name, type
/// and doc comment.
struct Spec<T> {
    default: T,
    rules: Vec<Rule<T>>,
    /// What the bounds allow, for the README (`between 1 and 100`).
    allowed: Vec<String>,
    /// How a secret is shown by `check-config` and `Debug`.
    mask: Option<fn(&T) -> String>,
    /// The README's default when the value itself is not it (derived or
    /// machine-dependent defaults).
    readme_default: Option<&'static str>,
    /// A default derived from other settings, put in by `validate`.
    fill: Option<fn(&T, &Settings) -> Option<T>>,
}

fn default<T>(value: T) -> Spec<T> {
    Spec {
        default: value,
        rules: Vec::new(),
        allowed: Vec::new(),
        mask: None,
        readme_default: None,
        fill: None,
    }
}

fn section<T: Default>() -> Spec<T> {
    default(T::default())
}

impl<T: 'static> Spec<T> {
    fn check(mut self, limit: Limit<T>) -> Self
    where
        T: PartialOrd,
    {
        self.allowed.push(limit.text.clone());
        self.rule(move |value, _| limit.test(value))
    }

    fn rule(mut self, rule: impl Fn(&T, &Settings) -> Result<(), String> + 'static) -> Self {
        self.rules.push(Box::new(rule));
        self
    }

    fn mask(mut self, mask: fn(&T) -> String) -> Self {
        self.mask = Some(mask);
        self
    }

    fn readme_default(mut self, text: &'static str) -> Self {
        self.readme_default = Some(text);
        self
    }

    fn fill(mut self, fill: fn(&T, &Settings) -> Option<T>) -> Self {
        self.fill = Some(fill);
        self
    }
}

impl Spec<String> {
    /// Shown as `****` when set.
    fn secret(self) -> Self {
        self.mask(|text| {
            if text.is_empty() {
                String::new()
            } else {
                "****".into()
            }
        })
    }
}

/// A bound on a value, with the words that say it (`between 1 and 100`).
struct Limit<T> {
    low: Option<T>,
    high: Option<T>,
    /// The low bound itself is refused (`more than zero`).
    above_low: bool,
    text: String,
    note: &'static str,
}

fn between<T: Show>(low: T, high: T) -> Limit<T> {
    Limit {
        text: format!("between {} and {}", low.show(), high.show()),
        ..limit(Some(low), Some(high))
    }
}

fn at_least<T: Show>(low: T) -> Limit<T> {
    Limit {
        text: format!("at least {}", low.show()),
        ..limit(Some(low), None)
    }
}

fn at_most<T: Show>(high: T) -> Limit<T> {
    Limit {
        text: format!("at most {}", high.show()),
        ..limit(None, Some(high))
    }
}

fn more_than_zero<T: Default>() -> Limit<T> {
    Limit {
        above_low: true,
        text: "more than zero".into(),
        ..limit(Some(T::default()), None)
    }
}

fn limit<T>(low: Option<T>, high: Option<T>) -> Limit<T> {
    Limit {
        low,
        high,
        above_low: false,
        text: String::new(),
        note: "",
    }
}

impl<T: PartialOrd> Limit<T> {
    /// Adds a word on what the value is to the error message.
    fn noting(mut self, note: &'static str) -> Self {
        self.note = note;
        self
    }

    fn test(&self, value: &T) -> Result<(), String> {
        let too_low = self.low.as_ref().is_some_and(|low| {
            if self.above_low {
                value <= low
            } else {
                value < low
            }
        });
        let too_high = self.high.as_ref().is_some_and(|high| value > high);
        if !(too_low || too_high) {
            return Ok(());
        }
        if self.note.is_empty() {
            Err(format!("must be {}", self.text))
        } else {
            Err(format!("must be {} ({})", self.text, self.note))
        }
    }
}

fn require(ok: bool, problem: &str) -> Result<(), String> {
    if ok { Ok(()) } else { Err(problem.to_owned()) }
}

fn secs(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

/// One setting as `describe` and the README see it.
struct Row {
    key: &'static str,
    /// As `check-config` shows it: masked when secret.
    value: String,
    doc: Doc,
    allowed: Vec<String>,
    readme_default: Option<&'static str>,
}

/// A field of a section: a setting's value, or a nested section.
trait Node: Sized {
    fn rows(&self, key: &'static str, spec: &Spec<Self>, doc: Doc, out: &mut Vec<Row>);
    fn fill(&mut self, spec: &Spec<Self>, all: &Settings);
    fn check(
        &self,
        key: &'static str,
        spec: &Spec<Self>,
        all: &Settings,
    ) -> Result<(), SettingError>;
}

impl<T: Show> Node for T {
    fn rows(&self, key: &'static str, spec: &Spec<Self>, doc: Doc, out: &mut Vec<Row>) {
        out.push(Row {
            key,
            value: spec.mask.map_or_else(|| self.show(), |mask| mask(self)),
            doc,
            allowed: spec.allowed.clone(),
            readme_default: spec.readme_default,
        });
    }

    fn fill(&mut self, spec: &Spec<Self>, all: &Settings) {
        if let Some(value) = spec.fill.and_then(|fill| fill(self, all)) {
            *self = value;
        }
    }

    fn check(
        &self,
        key: &'static str,
        spec: &Spec<Self>,
        all: &Settings,
    ) -> Result<(), SettingError> {
        spec.rules
            .iter()
            .try_for_each(|rule| rule(self, all).map_err(|problem| bad(key, problem)))
    }
}

fn debug_field<T: fmt::Debug>(
    out: &mut fmt::DebugStruct<'_, '_>,
    name: &str,
    value: &T,
    spec: &Spec<T>,
) {
    match spec.mask {
        Some(mask) => out.field(name, &mask(value)),
        None => out.field(name, value),
    };
}

/// A setting's value as `check-config` prints it and the README shows its
/// default.
trait Show {
    fn show(&self) -> String;
}

macro_rules! show_by_display {
    ($($ty:ty),*) => {$(
        impl Show for $ty {
            fn show(&self) -> String {
                self.to_string()
            }
        }
    )*};
}
show_by_display!(u16, u32, usize, bool, String, SocketAddr, Url);

macro_rules! show_by_name {
    ($($ty:ty),*) => {$(
        impl Show for $ty {
            fn show(&self) -> String {
                self.as_str().to_owned()
            }
        }
    )*};
}
show_by_name!(MailTransportKind, SmtpSecurity, IdentifyBy, PolicyPreset);

impl Show for PathBuf {
    fn show(&self) -> String {
        self.display().to_string()
    }
}

impl Show for Duration {
    fn show(&self) -> String {
        humantime::format_duration(*self).to_string()
    }
}

impl Show for Vec<IpNet> {
    fn show(&self) -> String {
        self.iter()
            .map(|net| describe_network(*net))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Show for Vec<Role> {
    fn show(&self) -> String {
        if self.is_empty() {
            return "none".to_owned();
        }
        self.iter()
            .map(|role| role.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Show for Option<SocketAddr> {
    fn show(&self) -> String {
        self.map_or_else(|| "off".to_owned(), |addr| addr.to_string())
    }
}

// ------------------------------------------------------- parsing and masking

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

/// Role names, as a list or comma-separated text; each once.
fn roles<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Role>, D::Error> {
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
    let mut roles = Vec::new();
    // `none`, as `check-config` shows an empty list, names no role.
    let named = entries.iter().map(|e| e.trim());
    for entry in named.filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("none")) {
        let role = Role::parse(entry).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{entry}` is not a role (use platform_admin, lead_teacher, teacher, learner or parent)"
            ))
        })?;
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    Ok(roles)
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

    #[test]
    fn secrets_are_masked_in_debug() {
        let mut s = Settings::default();
        s.database.url = "postgres://kw:hunter2@db.example/kw".into();
        s.mail.smtp.username = "kw".into();
        s.mail.smtp.password = "mailsecret".into();
        s.sealing.keys = "lookup c2VjcmV0LWtleS1tYXRlcmlhbA==".into();
        for text in [
            format!("{s:?}"),
            format!("{s:#?}"),
            format!("{:?}", s.clone().validate().unwrap()),
            format!("{:?}", s.mail),
            format!("{:?}", s.mail.smtp),
            format!("{:?}", s.database),
        ] {
            assert!(!text.contains("hunter2"), "{text}");
            assert!(!text.contains("mailsecret"), "{text}");
            assert!(!text.contains("c2VjcmV0"), "{text}");
            assert!(text.contains("****"), "{text}");
        }
        let text = format!("{s:?}");
        assert!(text.contains("postgres://kw:****@db.example/kw"), "{text}");
        assert!(text.contains("username: \"kw\""), "{text}");
    }

    #[test]
    fn every_key_is_described_once_in_the_order_declared() {
        let keys = Settings::keys();
        let described: Vec<String> = Settings::default()
            .describe()
            .into_iter()
            .map(|(key, _)| key)
            .collect();
        assert_eq!(keys, described);
        assert_eq!(keys.len(), 55);
        let unique: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(unique.len(), keys.len());
        assert_eq!(keys.first(), Some(&"server.bind"));
        assert!(keys.contains(&"mail.smtp.password"));
        assert_eq!(keys.last(), Some(&"sso.starts_per_address_per_minute"));
    }

    #[test]
    fn bounds_are_refused_with_the_words_that_document_them() {
        let mut s = Settings::default();
        s.hashing.iterations = 101;
        let err = s.validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid setting hashing.iterations: must be between 1 and 100"
        );
        let mut s = Settings::default();
        s.recovery.link_ttl = Duration::from_secs(60);
        assert_eq!(
            s.validate().unwrap_err().problem,
            "must be between 5m and 7days"
        );
        let mut s = Settings::default();
        s.mail.poll_interval = Duration::from_millis(99);
        assert_eq!(s.validate().unwrap_err().problem, "must be at least 100ms");
        let mut s = Settings::default();
        s.hashing.queue_timeout = Duration::ZERO;
        assert_eq!(s.validate().unwrap_err().problem, "must be more than zero");
        let mut s = Settings::default();
        s.policy.generated_min_bits = 101;
        assert_eq!(
            s.validate().unwrap_err().problem,
            "must be between 24 and 100 (bits of entropy of a generated password)"
        );
    }

    /// The settings table of README.md, between these two lines.
    const README_BEGIN: &str =
        "<!-- settings table: generated from crates/keyward-core/src/settings.rs -->";
    const README_END: &str = "<!-- end of settings table -->";

    /// Fails when README.md's settings table is not the one declared here;
    /// `UPDATE_README=1 cargo test -p keyward-core readme` rewrites it.
    #[test]
    fn the_readme_settings_table_is_the_declared_one() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
        let readme = std::fs::read_to_string(&path).unwrap();
        let (before, rest) = readme
            .split_once(README_BEGIN)
            .expect("README.md has the settings table's first marker");
        let (current, after) = rest
            .split_once(README_END)
            .expect("README.md has the settings table's last marker");
        let wanted = format!("\n{}", Settings::readme_table());
        if current == wanted {
            return;
        }
        if std::env::var_os("UPDATE_README").is_some() {
            std::fs::write(
                &path,
                format!("{before}{README_BEGIN}{wanted}{README_END}{after}"),
            )
            .unwrap();
            return;
        }
        panic!(
            "README.md's settings table differs from crates/keyward-core/src/settings.rs; \
             run `UPDATE_README=1 cargo test -p keyward-core readme` to rewrite it. Wanted:\n{wanted}"
        );
    }
}
