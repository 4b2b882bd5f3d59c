//! Login rate limits (governor's keyed GCRA limiters): per username, so one account cannot be
//! brute-forced from many addresses, and per client address, so one client cannot spray many
//! usernames. Every attempt counts, successful or not.

use crate::error::{ApiError, ApiResult};
use governor::{DefaultKeyedRateLimiter, Quota, clock::Clock};
use std::{net::IpAddr, num::NonZeroU32, time::Duration};

pub struct LoginLimits {
    per_user: DefaultKeyedRateLimiter<String>,
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
}

/// A burst of 5 attempts per username, then one every 12 s (5 a minute).
const USER_BURST: u32 = 5;
const USER_PERIOD: Duration = Duration::from_secs(12);
/// A burst of 20 attempts per address, then one every 3 s (20 a minute).
const IP_BURST: u32 = 20;
const IP_PERIOD: Duration = Duration::from_secs(3);
/// Forget idle keys once the maps hold this many.
const MAX_KEYS: usize = 10_000;

impl Default for LoginLimits {
    fn default() -> Self {
        let quota = |period, burst| {
            Quota::with_period(period)
                .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
                .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
        };
        LoginLimits {
            per_user: DefaultKeyedRateLimiter::keyed(quota(USER_PERIOD, USER_BURST)),
            per_ip: DefaultKeyedRateLimiter::keyed(quota(IP_PERIOD, IP_BURST)),
        }
    }
}

impl LoginLimits {
    /// Counts one attempt; 429 `RATE_LIMITED` with `Retry-After` when over either limit.
    pub fn check(&self, username: &str, ip: Option<IpAddr>) -> ApiResult<()> {
        if self.per_user.len() > MAX_KEYS {
            self.per_user.retain_recent();
        }
        if self.per_ip.len() > MAX_KEYS {
            self.per_ip.retain_recent();
        }
        let clock = governor::clock::DefaultClock::default();
        let limited = |wait: Duration| ApiError::rate_limited(wait.as_secs().max(1));
        if let Some(ip) = ip {
            self.per_ip
                .check_key(&ip)
                .map_err(|n| limited(n.wait_time_from(clock.now())))?;
        }
        self.per_user
            .check_key(&username.trim().to_lowercase())
            .map_err(|n| limited(n.wait_time_from(clock.now())))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_username_regardless_of_case() {
        let l = LoginLimits::default();
        for _ in 0..USER_BURST {
            l.check("Budi", None).expect("within burst");
        }
        assert!(l.check("budi ", None).is_err());
        l.check("siti", None).expect("other users unaffected");
    }

    #[test]
    fn limits_per_address() {
        let l = LoginLimits::default();
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        for i in 0..IP_BURST {
            l.check(&format!("user{i}"), Some(ip))
                .expect("within burst");
        }
        let err = l
            .check("another", Some(ip))
            .expect_err("over the address limit");
        assert!(matches!(
            err,
            ApiError::Client {
                retry_after: Some(_),
                ..
            }
        ));
    }
}
