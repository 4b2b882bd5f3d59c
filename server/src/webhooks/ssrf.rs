//! Refuses webhook targets on loopback, private, link-local, shared, multicast or metadata
//! addresses, unless the admin allows them (contract §5). Checked when a URL is saved and
//! again on every connection, by the HTTP client's DNS resolver, so a name that later resolves
//! to 127.0.0.1 (DNS rebinding) is refused too.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Whether a public receiver may never be at this address.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return internal_v4(v4);
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (v6.segments()[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (v6.segments()[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) // AWS IMDS v6
        }
    }
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
        Err(_) => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|_| format!("url: cannot resolve {host}."))?
            .map(|a| a.ip())
            .collect(),
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
