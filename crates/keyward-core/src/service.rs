//! `Keyward`, the one handle on the core that the web layer and the CLI hold,
//! and `Ctx`, what every use case is told about the moment it runs in: the
//! time (read once at the edge), the randomness, and who is on the other end.

use std::sync::Arc;

use crate::crypto::hashing::{HashingPool, HashingStats};
use crate::crypto::random::Random;
use crate::crypto::sealing::Sealer;
use crate::error::Internal;
use crate::mail::MailService;
use crate::settings::Settings;
use crate::store::Db;
use crate::types::UnixTime;

/// The moment a use case runs in.
pub struct Ctx<'a> {
    pub now: UnixTime,
    pub rng: &'a dyn Random,
    /// The client's address, for throttling and the audit trail.
    pub client_addr: Option<String>,
    /// The client's user agent, shown in the list of sessions.
    pub user_agent: Option<String>,
    /// The device cookie the browser presented, if any (R-LOCK-1); checked
    /// by sign-in against the account it was earned for.
    pub device: Option<String>,
}

impl<'a> Ctx<'a> {
    pub fn new(now: UnixTime, rng: &'a dyn Random) -> Self {
        Ctx {
            now,
            rng,
            client_addr: None,
            user_agent: None,
            device: None,
        }
    }

    pub fn with_client(mut self, addr: Option<String>, user_agent: Option<String>) -> Self {
        self.client_addr = addr;
        self.user_agent = user_agent.map(|ua| ua.chars().take(200).collect());
        self
    }

    pub fn with_device(mut self, device: Option<String>) -> Self {
        self.device = device;
        self
    }
}

/// Services shared by every use case. Cheap to share behind an `Arc`.
pub struct Keyward {
    pub(crate) db: Db,
    pub(crate) hashing: HashingPool,
    pub(crate) settings: Settings,
    /// The outbox worker's wake-up, the transport and the mail numbers.
    pub(crate) mail: MailService,
    /// Seals secrets staff may show again, and hashes codes for look-up.
    pub(crate) sealer: Sealer,
}

impl Keyward {
    /// Builds the services over an open (and migrated) database. Computes the
    /// dummy hash for unknown users once, with the configured parameters, and
    /// sets up the mail transport (no connection is made here), and loads the
    /// sealing keys (creating the key file, mode 0600, when it is missing).
    pub fn new(db: Db, settings: Settings, rng: &dyn Random) -> Result<Arc<Keyward>, Internal> {
        let hashing = HashingPool::new(&settings.hashing, rng)?;
        let mail = MailService::new(&settings)?;
        let sealer = Sealer::load(&settings.sealing, rng)?;
        Ok(Arc::new(Keyward {
            db,
            hashing,
            settings,
            mail,
            sealer,
        }))
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn hashing_stats(&self) -> Arc<HashingStats> {
        self.hashing.stats()
    }
}
