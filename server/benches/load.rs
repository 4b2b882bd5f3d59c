//! Load benchmark: `cargo bench -p server --bench load`. Starts Kabar in-process on the
//! simulator (send rate limit off) on 127.0.0.1:0 and prints
//! - requests/s and p50/p99 latency of `POST /send-message` (API-key auth + message record),
//! - the same for a bare `GET /healthz` in the same run, and the ratio of the two,
//! - resident memory at idle and after creating 1,000 simulator sessions.
//!
//! Knobs: `KABAR_BENCH_SECS` (per phase, default 5), `KABAR_BENCH_CONCURRENCY` (default 32),
//! `KABAR_BENCH_SESSIONS` (default 1000). Loopback only; bounded in time and count.

use serde_json::{Value, json};
use std::time::{Duration, Instant};

mod support;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

struct Figures {
    rps: f64,
    p50: Duration,
    p99: Duration,
    errors: usize,
}

async fn drive(
    secs: u64,
    concurrency: u64,
    make: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync + Clone + 'static,
) -> Figures {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency as usize)
        .build()
        .expect("client");
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, make) = (client.clone(), make.clone());
        workers.push(tokio::spawn(async move {
            let (mut lat, mut errors) = (Vec::new(), 0usize);
            while Instant::now() < deadline {
                let t = Instant::now();
                match make(&client).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        lat.push(t.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    for w in workers {
        let (lat, e) = w.await.expect("worker");
        all.extend(lat);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Figures {
        rps: all.len() as f64 / elapsed,
        p50: pct(0.50),
        p99: pct(0.99),
        errors,
    }
}

fn print(name: &str, f: &Figures) {
    println!(
        "{name:<22} {:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   errors {}",
        f.rps,
        f.p50.as_secs_f64() * 1e3,
        f.p99.as_secs_f64() * 1e3,
        f.errors
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let secs = env_num("KABAR_BENCH_SECS", 5);
    let concurrency = env_num("KABAR_BENCH_CONCURRENCY", 32);
    let sessions = env_num("KABAR_BENCH_SESSIONS", 1000);

    let bench = support::Bench::start(|config| config.send_rate = 0).await?;
    let (admin, base) = (&bench.admin, bench.base.as_str());
    let key: Value = admin
        .post(format!("{base}/api/keys"))
        .json(&json!({"name": "bench"}))
        .send()
        .await?
        .json()
        .await?;
    let key = key["key"].as_str().unwrap_or_default().to_string();

    println!(
        "Kabar load benchmark: {concurrency} concurrent clients, {secs} s per phase, loopback"
    );
    let rss_idle = rss_kib();

    let send_url = format!("{base}/send-message?session={}", bench.session);
    let send = drive(secs, concurrency, move |c| {
        c.post(&send_url)
            .header("X-API-KEY", &key)
            .json(&json!({"to": "6289876543210", "message": "Halo dari benchmark"}))
    })
    .await;
    let health_url = format!("{base}/healthz");
    let health = drive(secs, concurrency, move |c| c.get(&health_url)).await;
    print("POST /send-message", &send);
    print("GET /healthz", &health);
    println!(
        "ratio send/healthz      {:.2} of the bare endpoint's throughput",
        send.rps / health.rps.max(1.0)
    );

    let started = Instant::now();
    for i in 0..sessions {
        admin
            .post(format!("{base}/api/sessions"))
            .json(&json!({"name": format!("s{i}")}))
            .send()
            .await?
            .error_for_status()?;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_many = rss_kib();
    println!(
        "RSS idle (1 session)    {:>7.1} MiB",
        rss_idle as f64 / 1024.0
    );
    println!(
        "RSS with {} sessions  {:>7.1} MiB  ({:.1} KiB per session; created in {:.1} s)",
        sessions + 1,
        rss_many as f64 / 1024.0,
        rss_many.saturating_sub(rss_idle) as f64 / sessions.max(1) as f64,
        started.elapsed().as_secs_f64()
    );
    bench.stop().await
}
