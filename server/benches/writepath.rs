//! The write path's figures: `scripts/bench.sh` (installs wrk, then runs
//! `cargo bench -p server --bench writepath`). Prints, assert nothing:
//! 1. `POST /send-message` (API key, record pending → simulator send → settle, rate limit off)
//!    and `GET /healthz` side by side: requests/s, p50/p99 at 32 connections, and the ratio;
//! 2. inbound → recorded → signed webhook at a local sink: the sustained rate over
//!    `KABAR_BENCH_SUSTAIN_SECS` (30) with every injector flat out, and the latency
//!    (injection → the sink has it) at a paced 1,000 events/s;
//! 3. an overload of `KABAR_BENCH_OVERLOAD_SECS` (60): intake faster than a slow sink; the
//!    server's RSS each 5 s and the backlog in the outbox (it lives in the database).
//!
//! The server is the `kabar` binary of this build, started as its own process on the simulator
//! (`127.0.0.1`, a fresh data dir), so its RSS is its own. Load comes from wrk when it is
//! installed (as `scripts/bench.sh` makes sure), else from a reqwest loop in this process.
//! Loopback only; every phase is bounded in time.

use serde_json::{Value, json};
use std::{
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

mod support;
use support::{Server, Sink, Target, env_num, start_sink};

struct Figures {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

fn print(name: &str, f: &Figures) {
    println!(
        "{name:<22} {:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   non-2xx/errors {}",
        f.rps, f.p50_ms, f.p99_ms, f.errors
    );
}

fn have_wrk() -> bool {
    Command::new("wrk")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// wrk's duration ("850.00us", "1.23ms", "2.00s") in milliseconds.
fn wrk_ms(v: &str) -> f64 {
    let num = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
    if let Some(n) = v.strip_suffix("us") {
        num(n) / 1e3
    } else if let Some(n) = v.strip_suffix("ms") {
        num(n)
    } else if let Some(n) = v.strip_suffix('m') {
        num(n) * 60e3
    } else if let Some(n) = v.strip_suffix('s') {
        num(n) * 1e3
    } else {
        f64::NAN
    }
}

fn run_wrk(secs: u64, conns: u64, url: &str, script: Option<&str>) -> anyhow::Result<Figures> {
    let dir = tempfile::tempdir()?;
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", "--latency"])
        .arg(format!("-c{conns}"))
        .arg(format!("-d{secs}s"));
    if let Some(lua) = script {
        let path = dir.path().join("script.lua");
        std::fs::write(&path, lua)?;
        cmd.arg("-s").arg(path);
    }
    let out = cmd.arg(url).output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1))
            .map(str::to_string)
    };
    let errors = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("Non-2xx") || l.starts_with("Socket errors"))
        .flat_map(|l| {
            l.split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse::<u64>().ok())
        })
        .sum();
    Ok(Figures {
        rps: field("Requests/sec:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0),
        p50_ms: field("50%").map_or(f64::NAN, |v| wrk_ms(&v)),
        p99_ms: field("99%").map_or(f64::NAN, |v| wrk_ms(&v)),
        errors,
    })
}

/// The fallback load: `conns` reqwest loops in this process.
async fn run_reqwest(
    secs: u64,
    conns: u64,
    make: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync + Clone + 'static,
) -> Figures {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..conns {
        let (client, make) = (client.clone(), make.clone());
        workers.push(tokio::spawn(async move {
            let (mut lat, mut errors) = (Vec::new(), 0u64);
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
        if let Ok((lat, e)) = w.await {
            all.extend(lat);
            errors += e;
        }
    }
    let rps = all.len() as f64 / started.elapsed().as_secs_f64();
    all.sort();
    Figures {
        rps,
        p50_ms: pct(&all, 0.50),
        p99_ms: pct(&all, 0.99),
        errors,
    }
}

fn pct(l: &[Duration], p: f64) -> f64 {
    l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1)))
        .map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// Injects inbound messages through the simulator: `workers` loops, each waiting for its
/// answer (the message is committed then), spread over the sessions, until `until`; `pace`
/// (events/s over all workers) or flat out. Answers (message id, injected at) per message.
async fn inject(
    server: &Target,
    workers: usize,
    until: Instant,
    pace: Option<f64>,
) -> Vec<(String, Instant)> {
    let started = Instant::now();
    let counter = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for w in 0..workers {
        let c = server.admin.clone();
        let url = format!(
            "{}/simulator/sessions/{}/incoming",
            server.base,
            server.sessions[w % server.sessions.len()]
        );
        let counter = counter.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                if let Some(rate) = pace {
                    let due = started + Duration::from_secs_f64(n as f64 / rate);
                    tokio::time::sleep_until(due.into()).await;
                }
                if Instant::now() >= until {
                    break;
                }
                let t = Instant::now();
                let answer = c
                    .post(&url)
                    .json(&json!({"from": format!("628987{:07}", n % 5000), "message": format!("bench {n}")}))
                    .send()
                    .await;
                if let Ok(r) = answer
                    && let Ok(v) = r.json::<Value>().await
                    && let Some(id) = v["messageId"].as_str()
                {
                    out.push((id.to_string(), t));
                }
            }
            out
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        if let Ok(v) = t.await {
            all.extend(v);
        }
    }
    all
}

/// Waits (up to `limit`) until every injected message reached the sink; answers the latencies
/// of those that did and when the last arrived.
async fn arrivals(
    sink: &Sink,
    injected: &[(String, Instant)],
    limit: Duration,
) -> (Vec<Duration>, Instant) {
    let deadline = Instant::now() + limit;
    loop {
        let done = {
            let arrived = sink.arrived.lock().expect("lock");
            injected.iter().all(|(id, _)| arrived.contains_key(id))
        };
        if done || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let arrived = sink.arrived.lock().expect("lock");
    let mut lat: Vec<Duration> = injected
        .iter()
        .filter_map(|(id, t)| arrived.get(id).map(|a| a.duration_since(*t)))
        .collect();
    let last = injected
        .iter()
        .filter_map(|(id, _)| arrived.get(id).copied())
        .max()
        .unwrap_or_else(Instant::now);
    lat.sort();
    (lat, last)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let secs = env_num("KABAR_BENCH_SECS", 10);
    let conns = env_num("KABAR_BENCH_CONCURRENCY", 32);
    let sustain = env_num("KABAR_BENCH_SUSTAIN_SECS", 30);
    let overload = env_num("KABAR_BENCH_OVERLOAD_SECS", 60);
    let sessions = env_num("KABAR_BENCH_SESSIONS", 8) as usize;
    let wrk = have_wrk();

    let server = Server::start(&["--engine", "simulator"], sessions).await?;
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "Kabar write-path benchmark: release binary on the simulator, {cpus} CPUs, loopback, load from {}",
        if wrk {
            "wrk"
        } else {
            "reqwest (install wrk for steadier figures)"
        }
    );

    // 1. Sends against the bare route, side by side.
    let send_url = format!(
        "{}/send-message?session={}",
        server.base, server.sessions[0]
    );
    let health_url = format!("{}/healthz", server.base);
    let (send, health) = if wrk {
        let lua = format!(
            "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n\
             wrk.headers[\"X-API-KEY\"] = \"{}\"\n\
             wrk.body = '{{\"to\": \"6289876543210\", \"message\": \"Halo dari benchmark\"}}'\n",
            server.key
        );
        (
            run_wrk(secs, conns, &send_url, Some(&lua))?,
            run_wrk(secs, conns, &health_url, None)?,
        )
    } else {
        let key = server.key.clone();
        let url = send_url.clone();
        let send = run_reqwest(secs, conns, move |c| {
            c.post(&url)
                .header("X-API-KEY", &key)
                .json(&json!({"to": "6289876543210", "message": "Halo dari benchmark"}))
        })
        .await;
        let url = health_url.clone();
        (send, run_reqwest(secs, conns, move |c| c.get(&url)).await)
    };
    println!("\n1. sends, {conns} connections, {secs} s each");
    print("POST /send-message", &send);
    print("GET /healthz", &health);
    println!(
        "ratio send/healthz     {:>9.2}   (RSS now {:.1} MiB)",
        send.rps / health.rps.max(1.0),
        server.rss_mib()
    );

    // 2. Inbound → webhook.
    let sink = Arc::new(Sink::default());
    let sink_url = start_sink(sink.clone()).await?;
    server.webhook_to(&sink_url).await?;
    println!("\n2. inbound → recorded → signed webhook at a loopback sink, {sessions} sessions");
    let started = Instant::now();
    let injected = inject(&server, 64, started + Duration::from_secs(sustain), None).await;
    let (lat, last) = arrivals(&sink, &injected, Duration::from_secs(120)).await;
    let span = last.duration_since(started).as_secs_f64().max(1e-9);
    println!(
        "flat out for {sustain} s     injected {:>7} ({:>6.0}/s)   delivered {:>7} ({:>6.0}/s until the last)   p50 {:>7.2} ms   p99 {:>7.2} ms",
        injected.len(),
        injected.len() as f64 / sustain as f64,
        lat.len(),
        lat.len() as f64 / span,
        pct(&lat, 0.5),
        pct(&lat, 0.99)
    );
    let paced_secs = sustain.min(10);
    let injected = inject(
        &server,
        64,
        Instant::now() + Duration::from_secs(paced_secs),
        Some(1000.0),
    )
    .await;
    let (lat, _) = arrivals(&sink, &injected, Duration::from_secs(60)).await;
    println!(
        "paced 1,000/s for {paced_secs} s  injected {:>7}   delivered {:>7}   p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms",
        injected.len(),
        lat.len(),
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        pct(&lat, 1.0)
    );

    // 3. Overload: the sink takes 50 ms per request, the injectors do not wait for it.
    sink.slow.store(true, Ordering::Relaxed);
    println!("\n3. overload for {overload} s: a sink that takes 50 ms per request");
    let rss_before = server.rss_mib();
    let started = Instant::now();
    let until = started + Duration::from_secs(overload);
    let total = Arc::new(AtomicU64::new(0));
    let load = {
        let (target, total) = (server.target.clone(), total.clone());
        tokio::spawn(async move {
            let n = inject(&target, 32, until, None).await.len() as u64;
            total.store(n, Ordering::Relaxed);
        })
    };
    let mut peak = rss_before;
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let rss = server.rss_mib();
        peak = peak.max(rss);
        println!(
            "  t={:>3.0} s   RSS {:>7.1} MiB   outbox pending {:>7}   delivered {:>7}",
            started.elapsed().as_secs_f64(),
            rss,
            server.pending().await,
            sink.requests.load(Ordering::Relaxed)
        );
    }
    let _ = load.await;
    println!(
        "injected {} in {overload} s; RSS before {:.1} MiB, peak {:.1} MiB",
        total.load(Ordering::Relaxed),
        rss_before,
        peak
    );
    Ok(())
}
