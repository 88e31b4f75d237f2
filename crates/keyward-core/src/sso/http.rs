//! The port through which single sign-on talks to a provider: the core knows
//! no HTTP client, so the use cases take an [`SsoHttp`] (the web's is
//! reqwest, owning the timeouts, refusing redirects and capping answers), as
//! they take the time and the randomness. Here too: which issuers may be
//! used at all ([`issuer_allowed`]) and the adapter openidconnect calls.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

pub use openidconnect::{HttpRequest, HttpResponse};
use url::Url;

/// What a transport may fail with; each is told to the person as the
/// provider not answering (`sso_provider_unavailable`).
#[derive(Debug, thiserror::Error)]
pub enum SsoHttpError {
    /// No answer within the transport's time.
    #[error("the sign-in service did not answer in time")]
    Timeout,
    /// No connection (refused, unknown host, TLS failure).
    #[error("the sign-in service could not be reached: {0}")]
    Unreachable(String),
    /// An answer keyward does not take: a redirect, a body over the cap.
    #[error("the sign-in service's answer was refused: {0}")]
    Refused(String),
}

/// The future a transport returns.
pub type SsoHttpFuture<'a> =
    Pin<Box<dyn Future<Output = Result<HttpResponse, SsoHttpError>> + Send + 'a>>;

/// Sends one request to a provider and returns its answer, whatever its
/// status. Implementations bound the time (connect and whole request),
/// follow no redirect and cap the body.
pub trait SsoHttp: Send + Sync {
    fn send(&self, request: HttpRequest) -> SsoHttpFuture<'_>;
}

/// Whether keyward may use `issuer` as a provider: `https://`, or `http://`
/// on the loopback interface only (127.0.0.0/8, `::1`, `localhost`) for
/// tests and development — an ID token fetched over plain HTTP from
/// elsewhere could be read or changed on the way. No query or fragment
/// (OpenID Connect Discovery forbids them in an issuer), no user info.
pub fn issuer_allowed(issuer: &Url) -> bool {
    let clean = issuer.query().is_none()
        && issuer.fragment().is_none()
        && issuer.username().is_empty()
        && issuer.password().is_none()
        && issuer.host().is_some();
    clean
        && match issuer.scheme() {
            "https" => true,
            "http" => is_loopback(issuer),
            _ => false,
        }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// An [`SsoHttp`] as openidconnect's asynchronous HTTP client.
pub(super) struct Transport<'a>(pub &'a dyn SsoHttp);

impl<'c> openidconnect::AsyncHttpClient<'c> for Transport<'_> {
    type Error = SsoHttpError;
    type Future = SsoHttpFuture<'c>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        self.0.send(request)
    }
}

#[cfg(test)]
mod tests {
    use super::issuer_allowed;
    use url::Url;

    #[test]
    fn only_https_or_loopback_http_issuers_are_allowed() {
        let allowed = |text: &str| issuer_allowed(&Url::parse(text).unwrap());
        assert!(allowed("https://accounts.google.com"));
        assert!(allowed("https://login.microsoftonline.com/tenant/v2.0"));
        assert!(allowed("http://127.0.0.1:18500"));
        assert!(allowed("http://127.8.9.10"));
        assert!(allowed("http://localhost:9000/realm"));
        assert!(allowed("http://[::1]:9000"));
        assert!(!allowed("http://accounts.school.example"));
        assert!(!allowed("http://10.0.0.1"));
        assert!(!allowed("http://localhost.evil.example"));
        assert!(!allowed("ftp://127.0.0.1"));
        assert!(!allowed("https://idp.example/?tenant=1"));
        assert!(!allowed("https://idp.example/#x"));
        assert!(!allowed("https://user:pw@idp.example"));
    }
}
