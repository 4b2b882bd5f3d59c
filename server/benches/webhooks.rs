//! Webhook delivery benchmark: `cargo bench -p server --bench webhooks`. Kabar runs in-process
//! on the simulator; a local axum sink receives. Prints, for N injected inbound messages:
//! - events/s and p50/p99 end-to-end latency (injection → the sink has it),
//! - the rate of a bare reqwest POST loop to the same sink, and the ratio,
//! - the same N with the sink failing every other request: the time until all N arrived.
//!
//! Knobs: `KABAR_BENCH_EVENTS` (default 2000). Loopback only; bounded in count.

use axum::{Router, body::Bytes, http::StatusCode, routing::post};
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

mod support;

#[derive(Default)]
struct Sink {
    arrived: Mutex<HashMap<String, Instant>>,
    requests: AtomicUsize,
    fail_every_other: std::sync::atomic::AtomicBool,
}

async fn start_sink(sink: Arc<Sink>) -> String {
    let app = Router::new().route(
        "/hook",
        post(move |body: Bytes| {
            let sink = sink.clone();
            async move {
                let n = sink.requests.fetch_add(1, Ordering::Relaxed);
                if sink.fail_every_other.load(Ordering::Relaxed) && n.is_multiple_of(2) {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                if let Ok(v) = serde_json::from_slice::<Value>(&body)
                    && let Some(id) = v["data"]["messageId"].as_str()
                {
                    sink.arrived
                        .lock()
                        .expect("lock")
                        .entry(id.to_string())
                        .or_insert_with(Instant::now);
                }
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn inject_and_wait(
    c: &reqwest::Client,
    base: &str,
    session: &str,
    sink: &Sink,
    n: usize,
) -> anyhow::Result<(f64, Vec<Duration>)> {
    let started = Instant::now();
    let mut injected = HashMap::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        let v: Value = c
            .post(format!("{base}/simulator/sessions/{session}/incoming"))
            .json(&json!({"from": "6289876543210", "message": format!("bench {i}")}))
            .send()
            .await?
            .json()
            .await?;
        injected.insert(v["messageId"].as_str().unwrap_or_default().to_string(), t);
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let done = {
            let arrived = sink.arrived.lock().expect("lock");
            injected.keys().all(|k| arrived.contains_key(k))
        };
        if done || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let arrived = sink.arrived.lock().expect("lock");
    let mut lat: Vec<Duration> = injected
        .iter()
        .filter_map(|(id, t)| arrived.get(id).map(|a| a.duration_since(*t)))
        .collect();
    lat.sort();
    Ok((elapsed, lat))
}

fn pct(l: &[Duration], p: f64) -> f64 {
    l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1)))
        .map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::var("KABAR_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let sink = Arc::new(Sink::default());
    let sink_url = start_sink(sink.clone()).await;

    // Twenty quick retries: with every other request failing, a delivery fails all 21 attempts
    // with a chance of 2^-21, so "all N arrive" measures the outbox, not bad luck.
    let bench = support::Bench::start(|config| {
        config.webhook_retry_schedule =
            "50ms,100ms,200ms,300ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms"
                .into();
    })
    .await?;
    let (c, base, session) = (&bench.admin, bench.base.as_str(), bench.session.as_str());
    c.put(format!("{base}/api/sessions/{session}/webhook"))
        .json(&json!({"url": sink_url, "secret": "bench", "events": ["message.in"]}))
        .send()
        .await?
        .error_for_status()?;

    println!("Kabar webhook benchmark: {n} inbound messages, loopback sink");
    let (elapsed, lat) = inject_and_wait(c, base, session, &sink, n).await?;
    let rate = lat.len() as f64 / elapsed;
    println!(
        "delivered {:>5}/{n} in {elapsed:>6.2} s   {rate:>7.0} events/s   p50 {:>7.2} ms   p99 {:>7.2} ms",
        lat.len(),
        pct(&lat, 0.5),
        pct(&lat, 0.99)
    );

    let bare = reqwest::Client::new();
    let t = Instant::now();
    for i in 0..n {
        bare.post(&sink_url)
            .body(format!(r#"{{"data":{{"messageId":"bare{i}"}}}}"#))
            .send()
            .await?;
    }
    let bare_rate = n as f64 / t.elapsed().as_secs_f64();
    println!(
        "bare reqwest POST loop  {bare_rate:>7.0} req/s   ratio {:.2}",
        rate / bare_rate.max(1.0)
    );

    sink.fail_every_other.store(true, Ordering::Relaxed);
    let (elapsed, lat) = inject_and_wait(c, base, session, &sink, n).await?;
    println!(
        "sink failing 50 %: delivered {:>5}/{n} in {elapsed:>6.2} s (p99 {:>7.2} ms), none lost: {}",
        lat.len(),
        pct(&lat, 0.99),
        lat.len() == n
    );

    bench.stop().await
}
