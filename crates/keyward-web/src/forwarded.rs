//! The client's address behind reverse proxies: the TCP peer, unless it is
//! one of `server.trusted_proxies`; then the hops its `Forwarded` (RFC 7239)
//! or `X-Forwarded-For` header lists, walked from the right (the hop the
//! trusted proxy itself added) to the first address that is not a trusted
//! proxy. It never lets a header from an untrusted peer, or a malformed hop,
//! pick an address: a hop it cannot read stops the walk at the last trusted
//! hop reached.

use axum::http::{HeaderMap, HeaderName, header};
use ipnet::IpNet;
use std::net::IpAddr;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The address of the client, given the TCP peer, the request headers and
/// the trusted proxies. IPv4-mapped IPv6 addresses come back as IPv4.
///
/// When both headers are present and name different clients, neither is
/// believed and the peer is the client: a proxy sets one of them, and the
/// other may be the client's own invention passed through.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    if !is_trusted(peer, trusted) {
        return peer;
    }
    let forwarded = hops(headers, &header::FORWARDED, forwarded_for);
    let x_forwarded_for = hops(headers, &X_FORWARDED_FOR, |element| node_ip(element.trim()));
    match (forwarded, x_forwarded_for) {
        (None, None) => peer,
        (Some(hops), None) | (None, Some(hops)) => walk(peer, &hops, trusted),
        (Some(a), Some(b)) => {
            let (a, b) = (walk(peer, &a, trusted), walk(peer, &b, trusted));
            if a == b { a } else { peer }
        }
    }
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&ip))
}

/// From the nearest hop outwards: each trusted hop moves the client one
/// step further; the first untrusted address is the client; an unreadable
/// hop ends the walk at the last trusted one.
fn walk(peer: IpAddr, hops: &[Option<IpAddr>], trusted: &[IpNet]) -> IpAddr {
    let mut last_trusted = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) if is_trusted(*ip, trusted) => last_trusted = *ip,
            Some(ip) => return *ip,
            None => return last_trusted,
        }
    }
    last_trusted
}

/// Every hop of every line of a header, in order (`None`: unreadable);
/// `None` when the header is absent.
fn hops(
    headers: &HeaderMap,
    name: &HeaderName,
    read: impl Fn(&str) -> Option<IpAddr>,
) -> Option<Vec<Option<IpAddr>>> {
    let mut found = false;
    let mut hops = Vec::new();
    for value in headers.get_all(name) {
        found = true;
        match value.to_str() {
            Ok(text) => hops.extend(split_outside_quotes(text, ',').map(&read)),
            Err(_) => hops.push(None),
        }
    }
    found.then_some(hops)
}

/// The `for=` of one `Forwarded` element (`for=192.0.2.60;proto=http`). A
/// parameter may occur once per element (RFC 7239), so an element naming
/// `for` twice is unreadable.
fn forwarded_for(element: &str) -> Option<IpAddr> {
    let mut values = split_outside_quotes(element, ';').filter_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("for")
            .then(|| value.trim())
    });
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let value = match value.strip_prefix('"') {
        Some(quoted) => unquote(quoted.strip_suffix('"')?)?,
        None => value.to_owned(),
    };
    node_ip(&value)
}

/// A quoted-string's content with its `\` escapes undone.
fn unquote(inner: &str) -> Option<String> {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// An RFC 7239 node: `192.0.2.60`, `192.0.2.60:4711`, `[2001:db8::1]`,
/// `[2001:db8::1]:4711` (or a bare IPv6 address, as X-Forwarded-For writes
/// it). `unknown`, obfuscated identifiers (`_hidden`) and anything else: `None`.
fn node_ip(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    let host = match node.strip_prefix('[') {
        Some(rest) => {
            let (inside, after) = rest.split_once(']')?;
            if !(after.is_empty() || valid_port(after.strip_prefix(':')?)) {
                return None;
            }
            return inside
                .parse::<std::net::Ipv6Addr>()
                .ok()
                .map(|v6| IpAddr::V6(v6).to_canonical());
        }
        None => {
            let (host, port) = node.rsplit_once(':')?;
            if !valid_port(port) {
                return None;
            }
            host
        }
    };
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// A port number, or an obfuscated port (`_abc`), which RFC 7239 allows.
fn valid_port(port: &str) -> bool {
    port.parse::<u16>().is_ok()
        || port.strip_prefix('_').is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
        })
}

/// Splits on `separator` where it is not inside a quoted string.
fn split_outside_quotes(text: &str, separator: char) -> impl Iterator<Item = &str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (at, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == separator && !quoted => {
                parts.push(&text[start..at]);
                start = at + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter()
            .map(|t| keyward_core::settings::parse_network(t).unwrap())
            .collect()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn with(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    fn client(peer: &str, trusted: &[&str], pairs: &[(&str, &str)]) -> String {
        client_ip(ip(peer), &with(pairs), &nets(trusted)).to_string()
    }

    const PROXY: &[&str] = &["10.0.0.1"];

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let spoof = [
            ("x-forwarded-for", "203.0.113.9"),
            ("forwarded", "for=203.0.113.9"),
        ];
        assert_eq!(client("192.0.2.7", &[], &spoof), "192.0.2.7");
        assert_eq!(client("192.0.2.7", PROXY, &spoof), "192.0.2.7");
    }

    #[test]
    fn a_trusted_peer_names_the_client() {
        let xff = [("x-forwarded-for", "203.0.113.9")];
        assert_eq!(client("10.0.0.1", PROXY, &xff), "203.0.113.9");
        let fwd = [("forwarded", "for=203.0.113.9;proto=https;by=10.0.0.1")];
        assert_eq!(client("10.0.0.1", PROXY, &fwd), "203.0.113.9");
        assert_eq!(client("10.0.0.1", PROXY, &[]), "10.0.0.1");
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client_whatever_was_prepended() {
        let xff = [("x-forwarded-for", "1.1.1.1, 2.2.2.2, 203.0.113.9")];
        assert_eq!(client("10.0.0.1", PROXY, &xff), "203.0.113.9");
        // Two proxies in a row, both trusted, on two header lines.
        let trusted = &["10.0.0.0/8"];
        let chain = [
            ("x-forwarded-for", "6.6.6.6, 203.0.113.9"),
            ("x-forwarded-for", "10.0.0.2"),
        ];
        assert_eq!(client("10.0.0.1", trusted, &chain), "203.0.113.9");
        let fwd = [("forwarded", "for=6.6.6.6, for=203.0.113.9, for=10.0.0.2")];
        assert_eq!(client("10.0.0.1", trusted, &fwd), "203.0.113.9");
    }

    #[test]
    fn ipv6_clients_and_proxies_are_read_with_and_without_ports() {
        let fwd = [("forwarded", "For=\"[2001:db8:cafe::17]:4711\"")];
        assert_eq!(client("10.0.0.1", PROXY, &fwd), "2001:db8:cafe::17");
        let fwd = [(
            "forwarded",
            "for=\"[2001:db8:cafe::17]\", for=192.0.2.60:8080",
        )];
        assert_eq!(client("10.0.0.1", PROXY, &fwd), "192.0.2.60");
        let xff = [("x-forwarded-for", "2001:db8::5")];
        assert_eq!(client("::1", &["::1"], &xff), "2001:db8::5");
        assert_eq!(
            client("2001:db8:ff::1", &["2001:db8:ff::/48"], &xff),
            "2001:db8::5"
        );
        let xff = [("x-forwarded-for", "[2001:db8::5]:1234")];
        assert_eq!(client("10.0.0.1", PROXY, &xff), "2001:db8::5");
    }

    #[test]
    fn ipv4_mapped_addresses_are_ipv4() {
        let xff = [("x-forwarded-for", "::ffff:203.0.113.9")];
        assert_eq!(client("::ffff:10.0.0.1", PROXY, &xff), "203.0.113.9");
        assert_eq!(client("::ffff:192.0.2.7", PROXY, &[]), "192.0.2.7");
    }

    #[test]
    fn an_unreadable_hop_stops_at_the_last_trusted_hop() {
        let trusted = &["10.0.0.0/8"];
        for value in [
            "unknown",
            "_hidden",
            "garbage",
            "203.0.113.9:99999",
            "",
            "203.0.113.9, nonsense, 10.0.0.2",
        ] {
            let xff = [("x-forwarded-for", value)];
            let expected = if value.ends_with("10.0.0.2") {
                "10.0.0.2"
            } else {
                "10.0.0.1"
            };
            assert_eq!(client("10.0.0.1", trusted, &xff), expected, "{value:?}");
        }
        for value in [
            "for=unknown",
            "for=_obfuscated",
            "for=\"_gazonk\"",
            "for=\"[2001:db8::1\"",
            "proto=https",
            "for=\"203.0.113.9",
            "for=\"1.2.3.4\"x",
            "for=6.6.6.6;for=203.0.113.9",
        ] {
            let fwd = [("forwarded", value)];
            assert_eq!(client("10.0.0.1", trusted, &fwd), "10.0.0.1", "{value:?}");
        }
        let fwd = [("forwarded", "for=203.0.113.9, for=unknown")];
        assert_eq!(client("10.0.0.1", trusted, &fwd), "10.0.0.1");
    }

    #[test]
    fn quoted_strings_may_hold_separators_and_escapes() {
        let fwd = [(
            "forwarded",
            "for=\"203.0.113.9\";x=\"a,b;c\\\"d\", for=192.0.2.1",
        )];
        assert_eq!(client("10.0.0.1", PROXY, &fwd), "192.0.2.1");
        let fwd = [("forwarded", "for=192.0.2.1;x=\"a,b;c\\\"d\"")];
        assert_eq!(client("10.0.0.1", PROXY, &fwd), "192.0.2.1");
    }

    #[test]
    fn two_headers_naming_different_clients_are_both_disbelieved() {
        let both = [
            ("forwarded", "for=6.6.6.6"),
            ("x-forwarded-for", "203.0.113.9"),
        ];
        assert_eq!(client("10.0.0.1", PROXY, &both), "10.0.0.1");
        let agreeing = [
            ("forwarded", "for=203.0.113.9"),
            ("x-forwarded-for", "203.0.113.9"),
        ];
        assert_eq!(client("10.0.0.1", PROXY, &agreeing), "203.0.113.9");
    }
}
