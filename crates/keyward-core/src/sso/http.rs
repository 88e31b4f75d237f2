//! The port through which single sign-on talks to a provider: the core knows
//! no HTTP client, so the use cases take an [`SsoHttp`] (the web's is
//! reqwest, owning the timeouts, refusing redirects and capping answers), as
//! they take the time and the randomness. Here too: which discovered
//! endpoints may be called, and the adapter openidconnect calls.

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

/// Whether keyward may call a provider's endpoint (discovered: keys, token):
/// `https`, or plain `http` on the loopback interface only, the rule of
/// [`super::issuer_allowed`] without its ban on a query.
pub(super) fn endpoint_allowed(url: &Url) -> bool {
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => is_loopback(url),
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
    use super::endpoint_allowed;
    use url::Url;

    #[test]
    fn endpoints_are_https_or_on_loopback() {
        let allowed = |text: &str| endpoint_allowed(&Url::parse(text).unwrap());
        assert!(allowed("https://idp.example/keys?p=policy"));
        assert!(allowed("http://127.0.0.1:18500/jwks"));
        assert!(allowed("http://[::1]:9000/token"));
        assert!(allowed("http://localhost/token"));
        assert!(!allowed("http://idp.example/token"));
        assert!(!allowed("http://localhost.evil.example/token"));
        assert!(!allowed("ftp://127.0.0.1/token"));
    }
}
