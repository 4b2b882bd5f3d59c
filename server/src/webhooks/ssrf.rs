//! Refuses webhook targets on loopback, private, link-local, shared, multicast or metadata
//! addresses, unless the admin allows them (contract §5). Checked when a URL is saved and
//! again on every connection, by the HTTP client's DNS resolver, so a name that later resolves
//! to 127.0.0.1 (DNS rebinding) is refused too. The webhook clients are built in
//! [`super::Webhooks::new`], without proxies, so that this resolver is the only one.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    time::Duration,
};

/// How long saving a webhook waits for its name to resolve: a resolver that never answers
/// must not hold the request (and the admin) indefinitely.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether a public receiver may never be at this address.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return internal_v4(v4);
            }
            let s = v6.segments();
            // IPv4-compatible ::/96 (deprecated, RFC 4291 §2.5.5.1): some stacks still route
            // it to the embedded IPv4 address, and no public receiver lives there, so the
            // whole range is refused (which covers an internal embedded address, :: and ::1).
            if s[..6] == [0; 6] {
                return true;
            }
            // NAT64 64:ff9b::/96 (RFC 6052): the gateway forwards to the embedded IPv4
            // address, so 64:ff9b::7f00:1 is 127.0.0.1 seen from the gateway.
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return internal_v4(embedded_v4(s[6], s[7]));
            }
            // 6to4 2002::/16 (RFC 3056): the relay forwards to the IPv4 address in segments
            // 1 and 2.
            if s[0] == 0x2002 {
                return internal_v4(embedded_v4(s[1], s[2]));
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated, still in use)
                || v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) // AWS IMDS v6
        }
    }
}

/// The IPv4 address carried in two IPv6 segments (high, low).
fn embedded_v4(high: u16, low: u16) -> Ipv4Addr {
    Ipv4Addr::from((u32::from(high) << 16) | u32::from(low))
}

fn internal_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // includes 169.254.169.254, the cloud metadata address
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (64..128).contains(&o[1])) // shared address space 100.64/10
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || (o[0] == 198 && (18..20).contains(&o[1])) // benchmarking 198.18/15
        || o[0] >= 240
}

/// Checks a webhook URL before saving it: http(s), a host, and (unless allowed) only public
/// addresses. Answers a message for the client when refused.
pub async fn check_url(url: &str, allow_private: bool) -> Result<reqwest::Url, String> {
    let parsed =
        reqwest::Url::parse(url.trim()).map_err(|e| format!("url: not a valid URL ({e})."))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("url: use an http:// or https:// URL.".into());
    }
    let host = parsed
        .host_str()
        .ok_or("url: the URL has no host.")?
        .to_string();
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("url: credentials in the URL are not supported; use the secret.".into());
    }
    if allow_private {
        return Ok(parsed);
    }
    let port = parsed.port_or_known_default().unwrap_or(80);
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => {
            let lookup = tokio::net::lookup_host((host.as_str(), port));
            tokio::time::timeout(LOOKUP_TIMEOUT, lookup)
                .await
                .map_err(|_| {
                    format!(
                        "url: looking up {host} took longer than {} seconds; check the name or \
                         try again.",
                        LOOKUP_TIMEOUT.as_secs()
                    )
                })?
                .map_err(|_| format!("url: cannot resolve {host}."))?
                .map(|a| a.ip())
                .collect()
        }
    };
    if addrs.iter().any(|ip| is_internal(*ip)) {
        return Err(format!(
            "url: {host} is a loopback, private, link-local or metadata address; an admin can allow \
             such receivers in Settings (or start Kabar with --allow-private-webhooks)."
        ));
    }
    Ok(parsed)
}

/// The HTTP client's resolver: drops internal addresses unless they are allowed.
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| allow || !is_internal(a.ip()))
                .collect();
            if kept.is_empty() {
                return Err(format!("{host} resolves only to internal addresses").into());
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "fd00:ec2::254",
        ] {
            assert!(is_internal(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "203.0.114.1"] {
            assert!(!is_internal(ip.parse().expect("ip")), "{ip}");
        }
    }

    /// IPv6 ranges that carry an IPv4 address (or reach inside a network) are judged by what
    /// they lead to; a public IPv4 address behind NAT64 or 6to4 stays reachable.
    #[test]
    fn ipv6_ranges_that_lead_inside_are_refused() {
        for ip in [
            // IPv4-compatible ::/96: refused as a range, whatever it embeds.
            "::7f00:1",
            "::a00:1",
            "::808:808",
            "::0.0.0.2",
            // NAT64 64:ff9b::/96 with an internal IPv4 address.
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe", // 169.254.169.254
            "64:ff9b::c0a8:101",  // 192.168.1.1
            "64:ff9b::a00:1",     // 10.0.0.1
            // 6to4 2002::/16 with an internal IPv4 address in segments 1-2.
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
            "2002:a00:1:1::1",
            "2002:c0a8:101::",
            // Site-local fec0::/10.
            "fec0::1",
            "feff:ffff::1",
        ] {
            assert!(is_internal(ip.parse().expect("ip")), "{ip}");
        }
        for ip in [
            "64:ff9b::808:808", // 8.8.8.8
            "64:ff9b::101:101", // 1.1.1.1
            "2002:808:808::1",  // 8.8.8.8
            "2002:101:101:5::1",
        ] {
            assert!(!is_internal(ip.parse().expect("ip")), "{ip}");
        }
    }

    #[test]
    fn embedded_addresses_are_read_from_two_segments() {
        assert_eq!(embedded_v4(0x7f00, 0x0001), Ipv4Addr::new(127, 0, 0, 1));
        assert_eq!(embedded_v4(0x0808, 0x0808), Ipv4Addr::new(8, 8, 8, 8));
    }

    #[tokio::test]
    async fn urls_are_checked() {
        assert!(check_url("http://127.0.0.1:9/x", false).await.is_err());
        assert!(check_url("http://[::1]/x", false).await.is_err());
        assert!(check_url("http://localhost/x", false).await.is_err());
        assert!(
            check_url("http://169.254.169.254/latest/meta-data", false)
                .await
                .is_err()
        );
        assert!(check_url("ftp://example.com/", false).await.is_err());
        assert!(check_url("not a url", false).await.is_err());
        assert!(check_url("http://user:pw@8.8.8.8/", false).await.is_err());
        assert!(check_url("http://8.8.8.8/hook", false).await.is_ok());
        assert!(check_url("http://127.0.0.1:9/x", true).await.is_ok());
    }
}
