//! The transport single sign-on talks to providers through
//! (`keyward_core::sso::SsoHttp`), made with reqwest over rustls: it owns the
//! timeouts (connect 2 s, the whole request `sso.http_timeout`), follows no
//! redirect, reads no proxy settings and refuses answers over 1 MiB. Also
//! [`install_tls_provider`]: rustls's ring provider, installed once for the
//! process before any reqwest client is built (reqwest is built without a
//! provider of its own, so there is one TLS stack in the tree).

use std::sync::OnceLock;
use std::time::Duration;

use keyward_core::sso::{HttpRequest, HttpResponse, SsoHttp, SsoHttpError, SsoHttpFuture};

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
    client: OnceLock<Result<reqwest::Client, String>>,
}

impl ReqwestSsoHttp {
    /// A transport whose requests take at most `timeout` each. The client is
    /// built at the first request.
    pub fn new(timeout: Duration) -> ReqwestSsoHttp {
        ReqwestSsoHttp {
            timeout,
            client: OnceLock::new(),
        }
    }

    fn client(&self) -> Result<&reqwest::Client, SsoHttpError> {
        self.client
            .get_or_init(|| {
                install_tls_provider();
                reqwest::Client::builder()
                    .connect_timeout(CONNECT_TIMEOUT.min(self.timeout))
                    .timeout(self.timeout)
                    .redirect(reqwest::redirect::Policy::none())
                    .no_proxy()
                    .user_agent("keyward")
                    .build()
                    .map_err(|err| err.to_string())
            })
            .as_ref()
            .map_err(|err| SsoHttpError::Unreachable(format!("no HTTP client: {err}")))
    }

    async fn send_now(&self, request: HttpRequest) -> Result<HttpResponse, SsoHttpError> {
        let client = self.client()?;
        let (parts, body) = request.into_parts();
        let mut response = client
            .request(parts.method, parts.uri.to_string())
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
        SsoHttpError::Timeout
    } else {
        SsoHttpError::Unreachable(err.without_url().to_string())
    }
}
