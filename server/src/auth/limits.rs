//! Rate limits on the unauthenticated doors (governor's keyed GCRA limiters), and who the
//! client is behind a reverse proxy.
//!
//! Sign-in attempts count per (username, address), so one client cannot brute-force an account
//! and cannot lock its owner out either: a stranger's attempts use up only their own bucket. A
//! slower-to-empty bucket per username stops a password spray from many addresses; a stranger
//! at one address would need to be a dozen at once to empty it. Per address, one client cannot
//! spray many usernames. Registrations count per address.
//!
//! Memory stays bounded whatever is sent: usernames are keyed by a 128-bit hash (not the text,
//! which may be up to a body's size), IPv6 clients by their /64 (one host usually holds a whole
//! /64), and each map is pruned of idle keys past [`MAX_KEYS`] and emptied past twice that —
//! a reset that only the per-address limits of the clients filling it survive.

use crate::error::{ApiError, ApiResult};
use axum::http::HeaderMap;
use governor::{DefaultKeyedRateLimiter, Quota, clock::Clock};
use ipnet::IpNet;
use sha2::{Digest, Sha256};
use std::{
    hash::Hash,
    net::{IpAddr, Ipv6Addr},
    num::NonZeroU32,
    sync::RwLock,
    time::Duration,
};

type Key = [u8; 16];

pub struct AuthLimits {
    per_user_ip: Bounded<(Key, IpAddr)>,
    per_user: Bounded<Key>,
    per_ip: Bounded<IpAddr>,
    registrations: Option<Bounded<IpAddr>>,
}

/// A keyed limiter whose map cannot grow past `2 × MAX_KEYS`.
pub struct Bounded<K: Hash + Eq + Clone> {
    quota: Quota,
    limiter: RwLock<DefaultKeyedRateLimiter<K>>,
}

impl<K: Hash + Eq + Clone> Bounded<K> {
    pub fn new(quota: Quota) -> Self {
        Bounded {
            quota,
            limiter: RwLock::new(DefaultKeyedRateLimiter::keyed(quota)),
        }
    }

    /// Counts one use of `key`; 429 `RATE_LIMITED` with `Retry-After` when over the quota.
    pub fn take(&self, key: &K) -> ApiResult<()> {
        let full = {
            let limiter = self.limiter.read().unwrap_or_else(|e| e.into_inner());
            if limiter.len() > MAX_KEYS {
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
            limiter.len() > 2 * MAX_KEYS
        };
        if full {
            *self.limiter.write().unwrap_or_else(|e| e.into_inner()) =
                DefaultKeyedRateLimiter::keyed(self.quota);
        }
        let limiter = self.limiter.read().unwrap_or_else(|e| e.into_inner());
        limiter.check_key(key).map_err(|n| {
            let wait = n.wait_time_from(governor::clock::DefaultClock::default().now());
            ApiError::rate_limited(wait.as_secs().max(1))
        })
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.limiter.read().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// Per username and address: a burst of 5 attempts, then one every 12 s (5 a minute).
const USER_IP_BURST: u32 = 5;
const USER_IP_PERIOD: Duration = Duration::from_secs(12);
/// Per username from anywhere: a burst of 60, then one every 2 s.
const USER_BURST: u32 = 60;
const USER_PERIOD: Duration = Duration::from_secs(2);
/// Per address, any username: a burst of 20, then one every 3 s (20 a minute).
const IP_BURST: u32 = 20;
const IP_PERIOD: Duration = Duration::from_secs(3);
/// Prune idle keys once a map holds this many (about 100 bytes each).
pub const MAX_KEYS: usize = 100_000;

/// A burst of `burst`, refilled one every `period`.
pub fn quota(period: Duration, burst: u32) -> Quota {
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
}

impl AuthLimits {
    /// `registrations_per_hour` accounts per address (as a burst, refilled evenly); 0 = none.
    pub fn new(registrations_per_hour: u32) -> Self {
        AuthLimits {
            per_user_ip: Bounded::new(quota(USER_IP_PERIOD, USER_IP_BURST)),
            per_user: Bounded::new(quota(USER_PERIOD, USER_BURST)),
            per_ip: Bounded::new(quota(IP_PERIOD, IP_BURST)),
            registrations: (registrations_per_hour > 0).then(|| {
                let period = Duration::from_secs(3600) / registrations_per_hour;
                Bounded::new(quota(period, registrations_per_hour))
            }),
        }
    }

    /// Counts one sign-in attempt; 429 `RATE_LIMITED` with `Retry-After` when over a limit.
    pub fn check_login(&self, username: &str, ip: Option<IpAddr>) -> ApiResult<()> {
        let user = user_key(username);
        if let Some(ip) = ip.map(bucket) {
            self.per_ip.take(&ip)?;
            self.per_user_ip.take(&(user, ip))?;
        }
        self.per_user.take(&user)
    }

    /// Counts one registration from `ip`.
    pub fn check_registration(&self, ip: Option<IpAddr>) -> ApiResult<()> {
        match (&self.registrations, ip) {
            (Some(limiter), Some(ip)) => limiter.take(&bucket(ip)),
            _ => Ok(()),
        }
    }

    /// How many keys the maps hold (for the memory-bound test).
    #[cfg(test)]
    fn keys(&self) -> usize {
        self.per_user_ip.len() + self.per_user.len() + self.per_ip.len()
    }
}

/// The same account whatever the case and surrounding spaces, in 16 bytes.
fn user_key(username: &str) -> Key {
    let digest = Sha256::digest(username.trim().to_lowercase().as_bytes());
    let mut key = [0; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

/// An IPv6 address counts as its /64; IPv4 as itself.
fn bucket(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client's address: the connection's, unless that is a trusted proxy; then the nearest
/// address in `X-Forwarded-For` (or `Forwarded: for=`) that is not a trusted proxy itself.
/// Walking from the right matters: the left end is whatever the client chose to write.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_for(headers).into_iter().rev() {
        let Some(ip) = hop else { break };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// The `X-Forwarded-For` hops, else `Forwarded`'s `for=` values, left to right; `None` for a
/// hop that is not an address (`unknown`, an obfuscated name).
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_string())
            .collect()
    };
    let xff = values("x-forwarded-for");
    if !xff.is_empty() {
        return xff.iter().map(|h| parse_hop(h)).collect();
    }
    values("forwarded")
        .iter()
        .map(|element| {
            element
                .split(';')
                .filter_map(|pair| pair.trim().split_once('='))
                .find(|(k, _)| k.eq_ignore_ascii_case("for"))
                .and_then(|(_, v)| parse_hop(v.trim_matches('"')))
        })
        .collect()
}

/// `1.2.3.4`, `1.2.3.4:80`, `::1`, `[::1]` or `[::1]:80`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok());
    }
    hop.rsplit_once(':').and_then(|(ip, _)| ip.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn a_stranger_cannot_lock_the_owner_out() {
        let l = AuthLimits::new(0);
        let (attacker, owner) = (ip("198.51.100.7"), ip("192.0.2.1"));
        for _ in 0..USER_IP_BURST {
            l.check_login("admin", Some(attacker))
                .expect("within burst");
        }
        assert!(l.check_login("Admin ", Some(attacker)).is_err());
        l.check_login("admin", Some(owner))
            .expect("the owner, from their own address, still gets in");
        l.check_login("siti", Some(attacker))
            .expect("other accounts unaffected");
    }

    #[test]
    fn a_spray_from_many_addresses_empties_the_account_bucket() {
        let l = AuthLimits::new(0);
        let mut refused = false;
        for i in 0..(USER_BURST + 5) {
            let from = IpAddr::from([203, 0, (i / 250) as u8, (i % 250) as u8]);
            refused |= l.check_login("admin", Some(from)).is_err();
        }
        assert!(refused);
    }

    #[test]
    fn limits_per_address() {
        let l = AuthLimits::new(0);
        let from = ip("192.0.2.1");
        for i in 0..IP_BURST {
            l.check_login(&format!("user{i}"), Some(from))
                .expect("within burst");
        }
        let err = l
            .check_login("another", Some(from))
            .expect_err("over the address limit");
        assert!(matches!(
            err,
            ApiError::Client {
                retry_after: Some(_),
                ..
            }
        ));
        // The same /64 is one client.
        let l = AuthLimits::new(0);
        for i in 0..IP_BURST {
            l.check_login(&format!("u{i}"), Some(ip(&format!("2001:db8::{i:x}"))))
                .expect("within burst");
        }
        assert!(l.check_login("x", Some(ip("2001:db8::ffff"))).is_err());
    }

    #[test]
    fn registrations_are_limited_per_address() {
        let l = AuthLimits::new(3);
        let from = Some(ip("192.0.2.9"));
        for _ in 0..3 {
            l.check_registration(from)
                .expect("within the hour's allowance");
        }
        assert!(l.check_registration(from).is_err());
        l.check_registration(Some(ip("192.0.2.10")))
            .expect("another address");
        AuthLimits::new(0)
            .check_registration(from)
            .expect("0 turns the limit off");
    }

    #[test]
    fn memory_stays_bounded_under_a_username_spray() {
        let l = AuthLimits::new(0);
        let long = "x".repeat(64);
        for i in 0..(2 * MAX_KEYS + 10) {
            // Without an address only the per-username map grows (the worst case).
            let _ = l.check_login(&format!("{long}{i}"), None);
        }
        assert!(l.keys() <= 2 * MAX_KEYS + 1, "{} keys", l.keys());
    }

    #[test]
    fn forwarded_addresses_count_only_through_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 203.0.113.5, 10.1.1.1"),
        );
        // Through the proxy: the nearest untrusted hop, not the forgeable left end.
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("203.0.113.5"));
        // Straight from a client: its own address, whatever it claims.
        assert_eq!(
            client_ip(ip("198.51.100.1"), &h, &trusted),
            ip("198.51.100.1")
        );
        let mut f = HeaderMap::new();
        f.insert(
            "forwarded",
            HeaderValue::from_static("for=192.0.2.60;proto=https, for=\"[2001:db8::7]:4711\""),
        );
        assert_eq!(client_ip(ip("10.0.0.2"), &f, &trusted), ip("2001:db8::7"));
        assert_eq!(parse_hop("1.2.3.4:80"), Some(ip("1.2.3.4")));
        assert_eq!(parse_hop("unknown"), None);
    }
}
