//! The port through which single sign-on talks to a provider: the core knows
//! no HTTP client, so the use cases take an [`SsoHttp`] (the web's is
//! reqwest, owning the timeouts, refusing redirects and capping answers), as
//! they take the time and the randomness. Here too: which discovered
//! endpoints may be called, and the adapter openidconnect calls.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
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
    /// An address keyward may not call (see `sso.allow_private_addresses`):
    /// not `https`, or on the machine itself or a private network, named
    /// directly or by what DNS answered.
    #[error("the address is not one keyward may call")]
    NotAllowed,
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

/// Whether keyward may call a provider's endpoint at `url` (the discovery
/// document, keys, token; and, for the browser, the authorization endpoint):
/// `https` to a host that is not internal (see [`is_private_address`]); with
/// `sso.allow_private_addresses` (`allow_private`) any `https` host, and plain
/// `http` on the loopback interface. A name is checked again on what DNS
/// answers for it, by the transport (the web's resolver drops internal
/// addresses).
pub(super) fn endpoint_allowed(url: &Url, allow_private: bool) -> bool {
    let Some(host) = url.host() else {
        return false;
    };
    let (internal, loopback) = match host {
        url::Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            let local = name == "localhost" || name.ends_with(".localhost");
            (local, name == "localhost")
        }
        url::Host::Ipv4(ip) => (is_private_address(IpAddr::V4(ip)), ip.is_loopback()),
        url::Host::Ipv6(ip) => (
            is_private_address(IpAddr::V6(ip)),
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        ),
    };
    match url.scheme() {
        "https" => allow_private || !internal,
        "http" => allow_private && loopback,
        _ => false,
    }
}

/// Whether `ip` belongs to the machine itself or to a network that is not the
/// public internet: unspecified, loopback, private (RFC 1918), link-local
/// (cloud metadata services live there), unique-local, shared (CGNAT),
/// multicast, broadcast, reserved, benchmarking and documentation ranges, and
/// IPv6 addresses that carry such an IPv4 address (mapped, compatible,
/// NAT64, 6to4). keyward calls none of them unless
/// `sso.allow_private_addresses` is on.
pub fn is_private_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => is_private_v6(v6),
    }
}

fn is_private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0 // "this network", 0.0.0.0
        || ip.is_loopback() // 127/8
        || ip.is_private() // 10/8, 172.16/12, 192.168/16
        || ip.is_link_local() // 169.254/16
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT), 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments, 192.0.0/24
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 198 && (b == 18 || b == 19)) // benchmarking, 198.18/15
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || a >= 224 // multicast 224/4, reserved 240/4, broadcast
}

fn is_private_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    let embedded_v4 = |high: usize| {
        let [a, b] = segments[high].to_be_bytes();
        let [c, d] = segments[high + 1].to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_private_v4(v4);
    }
    // Unspecified, loopback and IPv4-compatible (::a.b.c.d, deprecated).
    if segments[..6] == [0; 6] {
        return true;
    }
    // NAT64 (64:ff9b::/96) reaches the IPv4 address it carries.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_private_v4(embedded_v4(6));
    }
    // IPv4-translated (::ffff:0:a.b.c.d, SIIT) reaches the address it carries.
    if segments[..6] == [0, 0, 0, 0, 0xffff, 0] {
        return is_private_v4(embedded_v4(6));
    }
    // 6to4 (2002::/16) carries its IPv4 address in the next 32 bits.
    if segments[0] == 0x2002 {
        return is_private_v4(embedded_v4(1));
    }
    ip.is_multicast() // ff00::/8
        || (segments[0] & 0xfe00) == 0xfc00 // unique local, fc00::/7
        || (segments[0] & 0xffc0) == 0xfe80 // link-local, fe80::/10
        || (segments[0] & 0xffc0) == 0xfec0 // site-local (deprecated), fec0::/10
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || (segments[0] == 0x2001 && segments[1] == 0) // Teredo, 2001::/32
        || segments[..3] == [0x64, 0xff9b, 1] // local-use NAT64, 64:ff9b:1::/48
        || (segments[0] == 0x0100 && segments[1..4] == [0; 3]) // discard-only, 100::/64
}

/// An [`SsoHttp`] as openidconnect's asynchronous HTTP client, refusing any
/// address [`endpoint_allowed`] does not allow before the request is sent —
/// discovery fetches the keys from wherever its document says, before
/// keyward has looked at that document.
pub(super) struct Transport<'a> {
    pub http: &'a dyn SsoHttp,
    pub allow_private: bool,
}

impl<'c> openidconnect::AsyncHttpClient<'c> for Transport<'_> {
    type Error = SsoHttpError;
    type Future = SsoHttpFuture<'c>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        let allowed = Url::parse(&request.uri().to_string())
            .is_ok_and(|url| endpoint_allowed(&url, self.allow_private));
        if !allowed {
            return Box::pin(std::future::ready(Err(SsoHttpError::NotAllowed)));
        }
        self.http.send(request)
    }
}

#[cfg(test)]
mod tests {
    use super::{endpoint_allowed, is_private_address};
    use url::Url;

    fn allowed(text: &str, allow_private: bool) -> bool {
        endpoint_allowed(&Url::parse(text).unwrap(), allow_private)
    }

    #[test]
    fn with_private_addresses_allowed_endpoints_are_https_or_on_loopback() {
        for url in [
            "https://idp.example/keys?p=policy",
            "http://127.0.0.1:18500/jwks",
            "http://[::1]:9000/token",
            "http://localhost/token",
            "https://10.0.0.5/token",
            "https://169.254.169.254/latest",
        ] {
            assert!(allowed(url, true), "{url}");
        }
        for url in [
            "http://idp.example/token",
            "http://localhost.evil.example/token",
            "http://10.0.0.5/token",
            "ftp://127.0.0.1/token",
            "javascript:alert(1)",
        ] {
            assert!(!allowed(url, true), "{url}");
        }
    }

    #[test]
    fn otherwise_only_https_to_public_addresses() {
        assert!(allowed("https://idp.example/keys?p=policy", false));
        assert!(allowed("https://8.8.8.8/token", false));
        assert!(allowed("https://[2606:4700::1111]/token", false));
        for url in [
            "http://127.0.0.1:18500/jwks",
            "http://localhost/token",
            "https://localhost/token",
            "https://LocalHost./token",
            "https://idp.localhost/token",
            "https://127.0.0.1/token",
            "https://127.1:1/token",
            "https://2130706433:1/token",
            "https://0x7f000001/token",
            "https://0.0.0.0/token",
            "https://10.1.2.3/token",
            "https://172.16.0.1/token",
            "https://192.168.1.1/token",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/token",
            "https://224.0.0.1/token",
            "https://255.255.255.255/token",
            "https://[::1]/token",
            "https://[::]/token",
            "https://[::ffff:127.0.0.1]/token",
            "https://[::ffff:10.0.0.1]/token",
            "https://[64:ff9b::a9fe:a9fe]/token",
            "https://[2002:7f00:1::]/token",
            "https://[::ffff:0:7f00:1]/token",
            "https://[::ffff:0:a00:1]/token",
            "https://[64:ff9b:1::7f00:1]/token",
            "https://[64:ff9b:1:ffff::808:808]/token",
            "https://[2001::1]/token",
            "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/token",
            "https://[fd00::1]/token",
            "https://[fe80::1]/token",
            "https://[ff02::1]/token",
            "http://idp.example/token",
            "javascript:alert(1)",
            "data:text/html,hi",
        ] {
            assert!(!allowed(url, false), "{url}");
        }
    }

    #[test]
    fn public_addresses_are_not_private() {
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "100.128.0.1",
            "172.32.0.1",
            "2606:4700::1111",
            "::ffff:0:808:808",
            "64:ff9b::808:808",
            "64:ff9b:2::1",
            "2001:4860::8888",
        ] {
            assert!(!is_private_address(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "100.127.255.254",
            "172.31.255.255",
            "198.18.0.1",
            "::ffff:192.168.0.1",
            "::ffff:0:7f00:1",
            "::ffff:0:c0a8:1",
            "64:ff9b:1::1",
            "64:ff9b:1:abcd::808:808",
            "2001::1",
            "2001:0:ffff::1",
        ] {
            assert!(is_private_address(ip.parse().unwrap()), "{ip}");
        }
    }
}
