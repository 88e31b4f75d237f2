//! `AppState`: the one cheap handle every handler gets — the core, metrics,
//! randomness and the few facts about the deployment the web layer needs.

use ipnet::IpNet;
use std::sync::Arc;

use keyward_core::Keyward;
use keyward_core::sso::SsoHttp;
use keyward_core::types::random::{OsRandom, Random};

use crate::metrics::Metrics;
use crate::sso_http::ReqwestSsoHttp;

#[derive(Clone)]
pub struct AppState {
    pub kw: Arc<Keyward>,
    pub metrics: Arc<Metrics>,
    pub rng: Arc<dyn Random>,
    /// `scheme://host[:port]` of `server.public_url`, for the Origin check.
    pub public_origin: String,
    /// Cookies carry `Secure` and the `__Host-` prefix, and responses HSTS,
    /// when the public URL is https.
    pub https: bool,
    /// `server.trusted_proxies`: peers whose forwarding headers name the client.
    pub trusted_proxies: Arc<[IpNet]>,
    /// How single sign-on reaches schools' providers (reqwest; tests may
    /// put another transport here).
    pub sso_http: Arc<dyn SsoHttp>,
}

impl AppState {
    pub fn new(kw: Arc<Keyward>) -> AppState {
        let url = &kw.settings().server.public_url;
        let public_origin = url.origin().ascii_serialization();
        let https = kw.settings().is_https();
        let metrics = Arc::new(Metrics::new(kw.hashing_stats(), kw.mail_stats()));
        let trusted_proxies = kw.settings().server.trusted_proxies.clone().into();
        let sso = &kw.settings().sso;
        let sso_http = Arc::new(ReqwestSsoHttp::new(
            sso.http_timeout,
            sso.allow_private_addresses,
        ));
        AppState {
            kw,
            metrics,
            rng: Arc::new(OsRandom),
            public_origin,
            https,
            trusted_proxies,
            sso_http,
        }
    }
}
