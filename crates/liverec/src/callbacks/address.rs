//! Which receiver addresses a tenant's callback URL may reach. A callback
//! template's URL is chosen by an account, and the server POSTs to it: left
//! unchecked, any tenant could make liverec send requests into the
//! operator's own network (loopback services, the cloud metadata endpoint,
//! private hosts). Unless `callback_allow_private` is set, a template URL
//! whose host is `localhost` or a non-public IP literal is refused when it
//! is saved, and every delivery to a template URL connects only to a public
//! address its host resolves to (checked after DNS, so a name that resolves
//! to a private address is refused too). The operator's own default
//! receiver (`callback_url`) is trusted.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Whether `ip` is an address on the public internet: not loopback,
/// private (RFC 1918, IPv6 unique local), link-local (cloud metadata
/// endpoints live there), shared (100.64/10), unspecified, broadcast,
/// multicast or documentation; IPv4-mapped IPv6 as its IPv4 address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_is_public(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4_is_public(v4),
            None => v6_is_public(v6),
        },
    }
}

fn v4_is_public(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn v6_is_public(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || first == 0x2001 && ip.segments()[1] == 0x0db8
        || first == 0x0064 && ip.segments()[1] == 0xff9b && !v4_is_public(embedded_v4(ip)))
}

/// The IPv4 address in the last 32 bits (NAT64 prefix 64:ff9b::/96).
fn embedded_v4(ip: Ipv6Addr) -> Ipv4Addr {
    let o = ip.octets();
    Ipv4Addr::new(o[12], o[13], o[14], o[15])
}

/// Why a URL host cannot be a tenant's receiver, judged without DNS:
/// `localhost` (and names under it) or a non-public IP literal.
pub fn host_problem(host: &str) -> Option<&'static str> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let name = bare.trim_end_matches('.').to_ascii_lowercase();
    if name == "localhost" || name.ends_with(".localhost") {
        return Some("names the local host");
    }
    match bare.parse::<IpAddr>() {
        Ok(ip) if !is_public(ip) => Some("points at a loopback, private or link-local address"),
        _ => None,
    }
}

/// A public address `host:port` resolves to, or why there is none.
pub async fn resolve_public(host: &str, port: u16) -> Result<SocketAddr, String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Some(why) = host_problem(bare) {
        return Err(format!(
            "receiver {bare} {why} (callback_allow_private is off)"
        ));
    }
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((bare, port))
        .await
        .map_err(|e| format!("resolving {bare}: {e}"))?
        .collect();
    addrs
        .iter()
        .copied()
        .find(|a| is_public(a.ip()))
        .ok_or_else(|| {
            format!(
                "receiver {bare} resolves only to non-public addresses {addrs:?} \
                 (callback_allow_private is off)"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_and_metadata_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "127.1.2.3",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.1.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!is_public(ip), "{ip}");
        }
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "203.0.114.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(is_public(ip), "{ip}");
        }
    }

    #[test]
    fn hosts_are_judged_without_dns() {
        for h in [
            "localhost",
            "LocalHost.",
            "a.localhost",
            "127.0.0.1",
            "[::1]",
            "169.254.169.254",
        ] {
            assert!(host_problem(h).is_some(), "{h}");
        }
        for h in [
            "example.com",
            "8.8.8.8",
            "[2606:4700::1111]",
            "localhost.example",
        ] {
            assert_eq!(host_problem(h), None, "{h}");
        }
    }

    #[tokio::test]
    async fn resolving_refuses_what_is_not_public() {
        let e = resolve_public("127.0.0.1", 80).await.unwrap_err();
        assert!(e.contains("callback_allow_private"), "{e}");
        let e = resolve_public("localhost", 80).await.unwrap_err();
        assert!(e.contains("local host"), "{e}");
        assert_eq!(
            resolve_public("8.8.8.8", 80).await.unwrap(),
            "8.8.8.8:80".parse().unwrap()
        );
    }
}
