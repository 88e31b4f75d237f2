//! `Keyward`, the one handle on the core that the web layer and the CLI hold:
//! the database, the hashing pool, the settings, the mail service and the
//! sealer that every use case (`impl Keyward` in each capability) runs on.

use std::sync::Arc;

use crate::crypto::hashing::{HashingPool, HashingStats};
use crate::crypto::sealing::Sealer;
use crate::error::Internal;
use crate::mail::{MailService, MailStats};
use crate::settings::Settings;
use crate::store::Db;
use crate::types::random::Random;

/// Services shared by every use case. Cheap to share behind an `Arc`.
pub struct Keyward {
    pub(crate) db: Db,
    pub(crate) hashing: HashingPool,
    pub(crate) settings: Settings,
    /// The outbox worker's wake-up, the transport and the mail numbers.
    pub(crate) mail: MailService,
    /// Seals secrets staff may show again, and hashes codes for look-up.
    pub(crate) sealer: Sealer,
    /// What single sign-on learnt of each provider (discovery document and
    /// signing keys), by provider id, with when it was fetched: a few minutes
    /// of memory, so a sign-in does not ask the provider twice.
    pub(crate) sso_discovery: SsoDiscoveryCache,
}

/// The discovery cache of [`Keyward::sso_discovery`]: provider id → (fetched
/// at, metadata with its key set — or why the fetch failed, remembered a
/// little while so a broken provider is not asked again at every start).
pub(crate) type SsoDiscoveryCache = std::sync::Mutex<
    std::collections::HashMap<
        String,
        (
            crate::types::UnixTime,
            Result<Arc<openidconnect::core::CoreProviderMetadata>, SsoDiscoveryFailure>,
        ),
    >,
>;

/// A provider's discovery that failed, as single sign-on tells it again.
#[derive(Debug, Clone)]
pub(crate) struct SsoDiscoveryFailure {
    /// The provider did not answer (else: it answered what keyward refuses).
    pub unavailable: bool,
    /// Why, for the log (never a secret).
    pub why: String,
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
            sso_discovery: SsoDiscoveryCache::default(),
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

    /// Tells this instance's outbox worker that mail is waiting, so it goes
    /// out at once instead of at the next poll. Call after the commit.
    pub fn wake_mail_worker(&self) {
        self.mail.wake.notify_one();
    }

    pub fn mail_stats(&self) -> Arc<MailStats> {
        self.mail.stats.clone()
    }
}
