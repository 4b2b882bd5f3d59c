//! The log: `RUST_LOG` or the default level (info, sqlx at warn), plain or JSON lines.
//!
//! At the default level whatsapp-rust's own lines are throttled: it logs every connection
//! attempt ("Failed to connect … Will retry", "Will attempt to reconnect in …"), so a thousand
//! sessions that cannot reach WhatsApp would write megabytes a minute of the same two lines.
//! Each of its log statements (callsite) is written at most once a minute; the sessions'
//! statuses (`GET /status`, the dashboard) still show every session's latest reason, and Kabar's
//! own lines are never throttled. An operator who sets `RUST_LOG` sees everything it asks for.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};
use tracing::{Event, Metadata};
use tracing_log::NormalizeEvent;
use tracing_subscriber::{
    EnvFilter,
    filter::FilterExt,
    fmt,
    layer::{Context, Filter},
    prelude::*,
};

/// How often one whatsapp-rust log statement may write at the default level.
pub const WHATSAPP_EVERY: Duration = Duration::from_secs(60);

/// Sets up the process's log.
pub fn init(json: bool) {
    let (filter, throttle) = match EnvFilter::try_from_default_env() {
        Ok(f) => (f, None),
        Err(_) => (
            EnvFilter::new("info,sqlx=warn"),
            Some(Throttle::new(WHATSAPP_EVERY)),
        ),
    };
    let filter = filter.and(Throttled(throttle));
    if json {
        tracing_subscriber::registry()
            .with(fmt::layer().json().with_filter(filter))
            .init();
    } else {
        tracing_subscriber::registry()
            .with(fmt::layer().with_filter(filter))
            .init();
    }
}

/// Lets each whatsapp-rust log statement through once per period.
pub struct Throttle {
    every: Duration,
    /// (target, line) of a statement: whatsapp-rust logs through the `log` crate, whose
    /// records all share one tracing callsite per level.
    last: Mutex<HashMap<(String, u32), Instant>>,
}

/// The throttle as a log filter (none: everything passes). It decides per event, once, in
/// `event_enabled`: `enabled` is asked more than once for a `log` record.
struct Throttled(Option<Throttle>);

impl<S> Filter<S> for Throttled {
    fn enabled(&self, _: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        true
    }

    fn event_enabled(&self, event: &Event<'_>, _: &Context<'_, S>) -> bool {
        let Some(throttle) = &self.0 else {
            return true;
        };
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        throttle.allow(meta, Instant::now())
    }
}

impl Throttle {
    pub fn new(every: Duration) -> Throttle {
        Throttle {
            every,
            last: Mutex::default(),
        }
    }

    /// Whether an event from this callsite is written now.
    pub fn allow(&self, m: &Metadata<'_>, now: Instant) -> bool {
        if !m.is_event() || !m.target().starts_with("whatsapp_rust") {
            return true;
        }
        let Ok(mut last) = self.last.lock() else {
            return true;
        };
        let key = (m.target().to_string(), m.line().unwrap_or(0));
        match last.get(&key) {
            Some(at) if now.duration_since(*at) < self.every => false,
            _ => {
                last.insert(key, now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Collects what the subscriber writes.
    #[derive(Clone, Default)]
    struct Out(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Out {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut v) = self.0.lock() {
                v.extend_from_slice(buf);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn whatsapp_rusts_repeated_lines_are_written_once_a_period_and_kabars_always() {
        let out = Out::default();
        let throttle = Throttle::new(Duration::from_secs(3600));
        let sink = out.clone();
        let subscriber = tracing_subscriber::registry().with(
            fmt::layer()
                .with_writer(move || sink.clone())
                .with_filter(EnvFilter::new("info").and(Throttled(Some(throttle)))),
        );
        tracing::subscriber::with_default(subscriber, || {
            for attempt in 0..5 {
                tracing::error!(target: "whatsapp_rust::client::lifecycle", attempt, "Failed to connect");
                tracing::info!(target: "whatsapp_rust::client::lifecycle", attempt, "Will attempt to reconnect");
                tracing::warn!(attempt, "WhatsApp link ended");
            }
        });
        let text = String::from_utf8(out.0.lock().map(|v| v.clone()).unwrap_or_default())
            .unwrap_or_default();
        assert_eq!(text.matches("Failed to connect").count(), 1, "{text}");
        assert_eq!(
            text.matches("Will attempt to reconnect").count(),
            1,
            "{text}"
        );
        assert_eq!(text.matches("WhatsApp link ended").count(), 5, "{text}");
    }

    #[test]
    fn a_statement_writes_again_once_its_period_is_over() {
        let throttle = Throttle::new(Duration::from_secs(60));
        let meta = tracing::Metadata::new(
            "event",
            "whatsapp_rust::client::lifecycle",
            tracing::Level::INFO,
            Some("src/client/lifecycle.rs"),
            Some(587),
            None,
            tracing::field::FieldSet::new(&[], tracing::callsite::Identifier(&CALLSITE)),
            tracing::metadata::Kind::EVENT,
        );
        let t0 = Instant::now();
        assert!(throttle.allow(&meta, t0));
        assert!(!throttle.allow(&meta, t0 + Duration::from_secs(59)));
        assert!(throttle.allow(&meta, t0 + Duration::from_secs(61)));
    }

    struct Site;
    static CALLSITE: Site = Site;
    impl tracing::callsite::Callsite for Site {
        fn set_interest(&self, _: tracing::subscriber::Interest) {}
        fn metadata(&self) -> &tracing::Metadata<'_> {
            unimplemented!("not registered")
        }
    }
}
