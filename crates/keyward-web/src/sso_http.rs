//! The transport single sign-on talks to providers through
//! (`keyward_core::sso::SsoHttp`), made with reqwest over rustls: it owns the
//! timeouts (connect 2 s, the whole request `sso.http_timeout`), follows no
//! redirect, reads no proxy settings and refuses answers over 1 MiB. Unless
//! `sso.allow_private_addresses` is on it calls no internal address (loopback,
//! private, link-local, …: `keyward_core::sso::is_private_address`): an
//! address in the URL is refused before connecting, and a name's DNS answers
//! pass through [`PublicOnly`], which drops internal ones — the address
//! connected to is the one checked, so a name that answers a public address
//! first and an internal one later (DNS rebinding) reaches nothing inside. Also
//! [`install_tls_provider`]: rustls's ring provider, installed once for the
//! process before any reqwest client is built (reqwest is built without a
//! provider of its own, so there is one TLS stack in the tree).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use keyward_core::sso::{
    HttpRequest, HttpResponse, SsoHttp, SsoHttpError, SsoHttpFuture, is_private_address,
};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Longest answer read from a provider (a discovery document or key set is
/// a few KiB).
const MAX_ANSWER_BYTES: usize = 1024 * 1024;
/// Longest wait for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Installs rustls's ring crypto provider as the process default, once.
/// Every reqwest client (keyward's and the tests') needs it before it is
/// built.
pub fn install_tls_provider() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        // Err means another provider was installed first: that one serves.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Sends single sign-on's requests with reqwest.
pub struct ReqwestSsoHttp {
    timeout: Duration,
    /// `sso.allow_private_addresses`.
    allow_private: bool,
    client: OnceLock<Result<reqwest::Client, String>>,
}

impl ReqwestSsoHttp {
    /// A transport whose requests take at most `timeout` each, reaching
    /// internal addresses only when `allow_private`. The client is built at
    /// the first request.
    pub fn new(timeout: Duration, allow_private: bool) -> ReqwestSsoHttp {
        ReqwestSsoHttp {
            timeout,
            allow_private,
            client: OnceLock::new(),
        }
    }

    fn client(&self) -> Result<&reqwest::Client, SsoHttpError> {
        self.client
            .get_or_init(|| {
                install_tls_provider();
                let builder = reqwest::Client::builder()
                    .connect_timeout(CONNECT_TIMEOUT.min(self.timeout))
                    .timeout(self.timeout)
                    .redirect(reqwest::redirect::Policy::none())
                    .no_proxy()
                    .user_agent("keyward");
                let builder = if self.allow_private {
                    builder
                } else {
                    builder.dns_resolver(Arc::new(PublicOnly))
                };
                builder.build().map_err(|err| err.to_string())
            })
            .as_ref()
            .map_err(|err| SsoHttpError::Unreachable(format!("no HTTP client: {err}")))
    }

    async fn send_now(&self, request: HttpRequest) -> Result<HttpResponse, SsoHttpError> {
        // Parsed as reqwest parses it (`127.1` is 127.0.0.1): an address in
        // the URL is connected to without asking the resolver.
        let url = reqwest::Url::parse(&request.uri().to_string())
            .map_err(|err| SsoHttpError::Refused(format!("not a URL: {err}")))?;
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        if !self.allow_private && literal.is_some_and(is_private_address) {
            return Err(SsoHttpError::NotAllowed);
        }
        let client = self.client()?;
        let (parts, body) = request.into_parts();
        let mut response = client
            .request(parts.method, url)
            .headers(parts.headers)
            .body(body)
            .send()
            .await
            .map_err(failure)?;
        if response.status().is_redirection() {
            return Err(SsoHttpError::Refused(format!(
                "a redirect ({})",
                response.status()
            )));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failure)? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(SsoHttpError::Refused("an answer over 1 MiB".into()));
            }
            body.extend_from_slice(&chunk);
        }
        let mut answer = HttpResponse::new(body);
        *answer.status_mut() = response.status();
        *answer.headers_mut() = std::mem::take(response.headers_mut());
        Ok(answer)
    }
}

impl SsoHttp for ReqwestSsoHttp {
    fn send(&self, request: HttpRequest) -> SsoHttpFuture<'_> {
        Box::pin(self.send_now(request))
    }
}

/// What went wrong, without the URL (it may carry a code).
fn failure(err: reqwest::Error) -> SsoHttpError {
    if err.is_timeout() {
        return SsoHttpError::Timeout;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(cause) = source {
        if cause.is::<InternalOnly>() {
            return SsoHttpError::NotAllowed;
        }
        source = cause.source();
    }
    SsoHttpError::Unreachable(err.without_url().to_string())
}

/// The system's resolver (`getaddrinfo`, as reqwest's own), keeping only
/// public addresses; a name with none left fails with [`InternalOnly`].
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public = public_addresses(found);
            if public.is_empty() {
                return Err(Box::new(InternalOnly) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// The addresses of `found` that are not internal.
fn public_addresses(found: Vec<SocketAddr>) -> Vec<SocketAddr> {
    found
        .into_iter()
        .filter(|addr| !is_private_address(addr.ip()))
        .collect()
}

/// A name that resolved to internal addresses only (or to none).
#[derive(Debug)]
struct InternalOnly;

impl std::fmt::Display for InternalOnly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the name resolves to no public address")
    }
}

impl std::error::Error for InternalOnly {}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::time::Duration;

    use keyward_core::sso::{SsoHttp, SsoHttpError};

    use super::ReqwestSsoHttp;

    /// A listener on loopback and whether anything connected to it.
    fn listener() -> (TcpListener, u16) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        (listener, port)
    }

    fn get(url: &str) -> keyward_core::sso::HttpRequest {
        axum::http::Request::get(url).body(Vec::new()).unwrap()
    }

    #[tokio::test]
    async fn internal_addresses_are_refused_before_any_connection_unless_allowed() {
        let (listener, port) = listener();
        let strict = ReqwestSsoHttp::new(Duration::from_secs(2), false);
        for url in [
            format!("https://127.0.0.1:{port}/"),
            format!("http://127.0.0.1:{port}/"),
            format!("https://[::ffff:127.0.0.1]:{port}/"),
            format!("https://[::1]:{port}/"),
            // Names: what DNS answers is checked (localhost is 127.0.0.1).
            format!("https://localhost:{port}/"),
            format!("http://localhost:{port}/"),
            format!("https://127.1:{port}/"),
            format!("https://2130706433:{port}/"),
        ] {
            let err = strict.send(get(&url)).await.unwrap_err();
            assert!(matches!(err, SsoHttpError::NotAllowed), "{url}: {err:?}");
        }
        assert!(
            listener.accept().is_err(),
            "something connected to the internal address"
        );
        // With private addresses allowed, the same call connects.
        let relaxed = ReqwestSsoHttp::new(Duration::from_secs(2), true);
        let err = relaxed
            .send(get(&format!("http://localhost:{port}/")))
            .await
            .unwrap_err();
        assert!(!matches!(err, SsoHttpError::NotAllowed), "{err:?}");
        assert!(listener.accept().is_ok(), "no connection when allowed");
    }

    #[test]
    fn dns_answers_keep_only_public_addresses() {
        let found = [
            "10.0.0.1:443",
            "93.184.215.14:443",
            "[fd00::1]:443",
            "169.254.169.254:443",
        ]
        .map(|a| a.parse().unwrap())
        .to_vec();
        assert_eq!(
            super::public_addresses(found),
            ["93.184.215.14:443".parse().unwrap()]
        );
    }
}
