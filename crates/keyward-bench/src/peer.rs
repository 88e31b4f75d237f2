//! The peer a school might deploy instead: Django's auth with django-allauth
//! under gunicorn (2 sync workers), SQLite, the same Argon2id parameters,
//! installed from PyPI (pinned, `bench/peer/requirements.txt`) into a
//! throwaway virtual environment under `target/bench-tools`.

/// What the peer is started with.
#[derive(Debug, Clone)]
pub struct PeerOptions {
    /// Learners (username + password) to create.
    pub learners: usize,
    /// People with an email address to create (the recovery scenario).
    pub staff: usize,
    pub hash: crate::hash_limit::HashParams,
    /// gunicorn's sync workers.
    pub workers: usize,
}

/// A running peer; stopped (SIGTERM to gunicorn) when dropped.
pub struct Peer {}

impl Peer {
    pub async fn start(_options: &PeerOptions) -> anyhow::Result<Peer> {
        anyhow::bail!("the peer is not set up yet")
    }
}
