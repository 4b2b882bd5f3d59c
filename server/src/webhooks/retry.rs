//! When to try a webhook again (svix `core/retry.rs`, Standard Webhooks): an explicit schedule
//! of delays with ±20 % jitter, `Retry-After` honoured, and which answers are worth retrying.

use std::time::Duration;

/// 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h, 12 h, 24 h: about 47 hours in all, the
/// first retry within 10 seconds (contract §5).
pub const DEFAULT_SCHEDULE: &str = "5s,30s,2m,10m,30m,1h,3h,6h,12h,24h";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule(Vec<Duration>);

impl Schedule {
    /// Parses `5s,30s,2m,…` (units `ms`, `s`, `m`, `h`).
    pub fn parse(s: &str) -> Result<Schedule, String> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let split = part
                .find(|c: char| !c.is_ascii_digit())
                .ok_or(format!("{part:?} has no unit"))?;
            let (n, unit) = part.split_at(split);
            let n: u64 = n.parse().map_err(|_| format!("{part:?} is not a number"))?;
            let d = match unit {
                "ms" => Duration::from_millis(n),
                "s" => Duration::from_secs(n),
                "m" => Duration::from_secs(n * 60),
                "h" => Duration::from_secs(n * 3600),
                _ => return Err(format!("{part:?}: use ms, s, m or h")),
            };
            out.push(d);
        }
        if out.is_empty() {
            return Err("give at least one delay".into());
        }
        Ok(Schedule(out))
    }

    /// The delay before attempt `attempts + 1`, after `attempts` failed ones; `None` when the
    /// schedule is spent. Jitter of ±20 % spreads retries of many deliveries apart.
    pub fn next_delay(&self, attempts: usize) -> Option<Duration> {
        let base = *self.0.get(attempts.checked_sub(1)?)?;
        let jitter = 0.8 + rand::random::<f64>() * 0.4;
        Some(base.mul_f64(jitter))
    }

    pub fn max_attempts(&self) -> usize {
        self.0.len() + 1
    }
}

/// What to do after an answer (or none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Try again later (non-2xx, timeout, refused connection).
    Retry,
    /// 410 Gone: the receiver asked to stop; disable the endpoint.
    Gone,
}

pub fn outcome(status: Option<u16>) -> Outcome {
    match status {
        Some(200..=299) => Outcome::Delivered,
        Some(410) => Outcome::Gone,
        _ => Outcome::Retry,
    }
}

/// The wait before the next attempt: the schedule's, or longer when the receiver asked for more
/// with `Retry-After`. Never shorter: a receiver answering `Retry-After: 0` would otherwise spend
/// the whole schedule (a day of retries) in milliseconds.
pub fn wait(scheduled: Duration, retry_after: Option<Duration>) -> Duration {
    retry_after.map_or(scheduled, |ra| ra.max(scheduled))
}

/// `Retry-After` as seconds or an HTTP date, capped at a day.
pub fn retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    let d = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => httpdate::parse_http_date(value)
            .ok()?
            .duration_since(now)
            .unwrap_or_default(),
    };
    Some(d.min(Duration::from_secs(86_400)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_lasts_over_a_day_and_starts_within_ten_seconds() {
        let s = Schedule::parse(DEFAULT_SCHEDULE).expect("parses");
        assert_eq!(s.max_attempts(), 11);
        let total: Duration = s.0.iter().sum();
        assert!(total >= Duration::from_secs(24 * 3600), "{total:?}");
        for _ in 0..100 {
            let first = s.next_delay(1).expect("first retry");
            assert!(
                first >= Duration::from_secs(4) && first <= Duration::from_secs(6),
                "{first:?}"
            );
        }
        assert!(s.next_delay(0).is_none());
        assert!(s.next_delay(10).is_some());
        assert!(s.next_delay(11).is_none(), "spent");
    }

    #[test]
    fn parses_units_and_refuses_nonsense() {
        let s = Schedule::parse("50ms, 1s,2m,1h").expect("parses");
        assert_eq!(
            s.0,
            vec![
                Duration::from_millis(50),
                Duration::from_secs(1),
                Duration::from_secs(120),
                Duration::from_secs(3600)
            ]
        );
        for bad in ["", "5", "5d", "x5s", ",,"] {
            assert!(Schedule::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn retry_after_only_lengthens_the_wait() {
        let five = Duration::from_secs(5);
        assert_eq!(wait(five, None), five);
        assert_eq!(wait(five, Some(Duration::ZERO)), five);
        assert_eq!(wait(five, Some(Duration::from_secs(1))), five);
        assert_eq!(
            wait(five, Some(Duration::from_secs(120))),
            Duration::from_secs(120)
        );
    }

    #[test]
    fn outcomes_and_retry_after() {
        assert_eq!(outcome(Some(204)), Outcome::Delivered);
        assert_eq!(outcome(Some(410)), Outcome::Gone);
        for s in [Some(400), Some(404), Some(429), Some(500), Some(503), None] {
            assert_eq!(outcome(s), Outcome::Retry, "{s:?}");
        }
        let now = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after("999999", now),
            Some(Duration::from_secs(86_400))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(retry_after(&date, now), Some(Duration::from_secs(30)));
        assert_eq!(retry_after("soon", now), None);
    }
}
