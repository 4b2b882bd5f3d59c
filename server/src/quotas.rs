//! Quotas on what one account can make the server (or WhatsApp) do, beyond the send rate:
//! test webhook events, pairing codes (each one makes WhatsApp notify a phone, so an open
//! server must not become a spam relay), and open event streams. Over a quota answers
//! `429 RATE_LIMITED` with `Retry-After`; memory stays bounded (see `auth::limits`).

use crate::{
    auth::limits::{Bounded, quota},
    error::{ApiError, ApiResult},
};
use app::model::{SessionId, UserId};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

/// Test events per account: 5, then one every 10 s.
const TEST_EVENTS: (Duration, u32) = (Duration::from_secs(10), 5);
/// Pairing codes per session, and per phone number: 5 an hour.
const PAIR_CODES: (Duration, u32) = (Duration::from_secs(720), 5);
/// Open event streams per account (a dashboard tab holds one).
pub const STREAMS_PER_USER: usize = 20;

pub struct Quotas {
    test_events: Bounded<UserId>,
    pair_per_session: Bounded<SessionId>,
    pair_per_number: Bounded<String>,
    streams: Arc<Mutex<HashMap<UserId, usize>>>,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            test_events: Bounded::new(quota(TEST_EVENTS.0, TEST_EVENTS.1)),
            pair_per_session: Bounded::new(quota(PAIR_CODES.0, PAIR_CODES.1)),
            pair_per_number: Bounded::new(quota(PAIR_CODES.0, PAIR_CODES.1)),
            streams: Default::default(),
        }
    }
}

impl Quotas {
    pub fn test_event(&self, user: &UserId) -> ApiResult<()> {
        self.test_events.take(user)
    }

    /// One pairing code for `session` to `number` (digits).
    pub fn pair_code(&self, session: &SessionId, number: &str) -> ApiResult<()> {
        self.pair_per_session.take(session)?;
        self.pair_per_number.take(&number.to_string())
    }

    /// Counts an open event stream of `user` until the returned guard is dropped.
    pub fn open_stream(&self, user: &UserId) -> ApiResult<StreamGuard> {
        let mut map = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(user.clone()).or_default();
        if *n >= STREAMS_PER_USER {
            return Err(ApiError::rate_limited(5));
        }
        *n += 1;
        Ok(StreamGuard {
            streams: self.streams.clone(),
            user: user.clone(),
        })
    }
}

/// An open event stream; dropping it (the stream ended) frees its place.
pub struct StreamGuard {
    streams: Arc<Mutex<HashMap<UserId, usize>>>,
    user: UserId,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let mut map = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairing_codes_are_limited_per_session_and_per_number() {
        let q = Quotas::default();
        let (s1, s2) = (SessionId("s1".into()), SessionId("s2".into()));
        for i in 0..5 {
            q.pair_code(&s1, &format!("62811{i}"))
                .expect("within the hour");
        }
        assert!(q.pair_code(&s1, "628119").is_err(), "per session");
        for _ in 0..4 {
            q.pair_code(&s2, "628110").expect("another session");
        }
        assert!(
            q.pair_code(&SessionId("s3".into()), "628110").is_err(),
            "per number, whichever session asks"
        );
    }

    #[test]
    fn streams_are_counted_until_they_end() {
        let q = Quotas::default();
        let u = UserId("u".into());
        let guards: Vec<_> = (0..STREAMS_PER_USER)
            .map(|_| q.open_stream(&u).expect("room"))
            .collect();
        assert!(q.open_stream(&u).is_err());
        q.open_stream(&UserId("other".into()))
            .expect("another user");
        drop(guards);
        q.open_stream(&u).expect("room again");
    }
}
