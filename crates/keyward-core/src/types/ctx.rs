//! `Ctx`, what every use case is told about the moment it runs in: the time
//! (read once at the edge), the randomness, and who is on the other end.

use super::UnixTime;
use super::random::Random;

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
