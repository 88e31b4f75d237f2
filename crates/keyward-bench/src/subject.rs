//! What a scenario drives: a running server (keyward or the peer) seen from
//! outside, with the requests each scenario sends to it.

use crate::load::Request;

/// A person who can sign in to a subject.
#[derive(Debug, Clone)]
pub struct Account {
    pub username: String,
    pub password: String,
    /// Their email address, when they have one (staff; recovery by email).
    pub email: Option<String>,
}

/// A running server under test.
pub trait Subject: Send + Sync {
    /// "keyward" or "Django + allauth".
    fn name(&self) -> &str;
    /// `http://127.0.0.1:PORT`, no trailing slash.
    fn base_url(&self) -> &str;
    /// The processes whose CPU time and resident memory are the subject's
    /// (gunicorn's master and workers; keyward's one process).
    fn pids(&self) -> Vec<u32>;
    /// Learners with right passwords, for the sign-in scenarios.
    fn learners(&self) -> &[Account];
    /// People with an email address, for the recovery scenario's "existing" half.
    fn staff(&self) -> &[Account];
    /// A sign-in with this account's username and password (JSON); 2xx means signed in.
    fn sign_in(&self, account: &Account) -> Request;
    /// A password recovery request for this email address (existing or not).
    fn recovery(&self, email: &str) -> Request;
    /// The sign-in page a browser opens (HTML).
    fn sign_in_page(&self) -> Request;
}
