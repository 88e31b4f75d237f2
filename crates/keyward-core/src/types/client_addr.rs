//! Client addresses as throttling groups them: one IPv4 address is one
//! client, but one IPv6 host usually holds a whole /64, so the /64 is the
//! group. Pure text in, text out; it knows nothing of proxies or headers
//! (the web layer finds the client's address).

use std::net::{IpAddr, Ipv6Addr};

/// The throttling group of a client address: an IPv4 address as it is, an
/// IPv6 address as its /64 network (`2001:db8:1:2::/64`), an IPv4-mapped IPv6
/// address (`::ffff:192.0.2.1`) as the IPv4 address, and anything that is
/// not an address as the text itself, without NUL bytes (databases refuse them).
pub fn throttle_group(addr: &str) -> String {
    match addr.trim().parse::<IpAddr>().map(|ip| ip.to_canonical()) {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => {
            let [a, b, c, d, ..] = v6.segments();
            format!("{}/64", Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
        }
        Err(_) => addr.replace('\0', ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_addresses_are_their_own_group() {
        assert_eq!(throttle_group("192.0.2.10"), "192.0.2.10");
        assert_eq!(throttle_group("127.0.0.1"), "127.0.0.1");
    }

    #[test]
    fn ipv6_addresses_group_by_their_64() {
        assert_eq!(throttle_group("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
        assert_eq!(
            throttle_group("2001:db8:1:2:ffff::1"),
            throttle_group("2001:db8:1:2::9")
        );
        assert_ne!(
            throttle_group("2001:db8:1:2::1"),
            throttle_group("2001:db8:1:3::1")
        );
        assert_eq!(throttle_group("::1"), "::/64");
        assert_eq!(throttle_group("2001:DB8::1"), "2001:db8::/64");
    }

    #[test]
    fn ipv4_mapped_addresses_are_ipv4() {
        assert_eq!(throttle_group("::ffff:192.0.2.10"), "192.0.2.10");
        assert_eq!(throttle_group("::ffff:c000:20a"), "192.0.2.10");
    }

    #[test]
    fn anything_else_is_kept_without_nul_bytes() {
        assert_eq!(throttle_group("unknown"), "unknown");
        assert_eq!(throttle_group("a\0b\0"), "ab");
        assert_eq!(throttle_group(""), "");
        assert_eq!(throttle_group("[2001:db8::1]:80"), "[2001:db8::1]:80");
    }
}
