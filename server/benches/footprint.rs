//! What sessions cost: `scripts/bench.sh footprint` (or `cargo bench -p server --bench
//! footprint`). Starts the `kabar` binary of this build on the real WhatsApp engine, pointed at
//! a closed local port (WhatsApp is unreachable here, so every session keeps retrying to
//! connect, as an unpaired or offline session does), and prints, assert nothing:
//! - RSS and threads idle, then after each step of added sessions up to
//!   `KABAR_BENCH_SESSIONS` (1,000), and the cost of each added session;
//! - disk under the data dir per session;
//! - log bytes at the default level: while the sessions retry, and per 1,000 API requests.
//!
//! Loopback only; bounded in count and time.

mod support;
use std::time::{Duration, Instant};
use support::{Server, env_num};

fn kib(bytes: u64) -> f64 {
    bytes as f64 / 1024.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let total = env_num("KABAR_BENCH_SESSIONS", 1000) as usize;
    let settle = Duration::from_secs(env_num("KABAR_BENCH_SETTLE_SECS", 10));
    let mut server = Server::start_unreachable().await?;
    tokio::time::sleep(settle).await;
    let (rss0, threads0, disk0) = (server.rss_mib(), server.threads(), server.disk_bytes());
    println!(
        "Kabar footprint: the release binary, real engine, sessions retrying a closed port; settle {} s per step",
        settle.as_secs()
    );
    println!(
        "{:>9} {:>10} {:>8} {:>12} {:>16}",
        "sessions", "RSS MiB", "threads", "disk KiB", "KiB/added session"
    );
    println!(
        "{:>9} {:>10.1} {:>8} {:>12.0} {:>16}",
        0,
        rss0,
        threads0,
        kib(disk0),
        "-"
    );
    let mut steps = vec![10, 100, total];
    steps.retain(|&n| n <= total);
    steps.dedup();
    let (mut last_n, mut last_rss) = (0usize, rss0);
    let log_before = server.log_bytes();
    let started = Instant::now();
    for n in steps {
        server.add_sessions(n - last_n).await?;
        tokio::time::sleep(settle).await;
        let rss = server.rss_mib();
        println!(
            "{:>9} {:>10.1} {:>8} {:>12.0} {:>16.0}",
            n,
            rss,
            server.threads(),
            kib(server.disk_bytes()),
            (rss - last_rss) * 1024.0 / (n - last_n).max(1) as f64
        );
        (last_n, last_rss) = (n, rss);
    }
    let retry_secs = started.elapsed().as_secs_f64();
    let retry_log = server.log_bytes() - log_before;
    println!(
        "per session: {:.0} KiB RSS (0 → {last_n}), {:.1} KiB disk",
        (last_rss - rss0) * 1024.0 / last_n.max(1) as f64,
        kib(server.disk_bytes().saturating_sub(disk0)) / last_n.max(1) as f64
    );
    println!("disk by file: {}", server.disk_summary());
    println!(
        "log while {last_n} sessions retried: {:.0} KiB in {retry_secs:.0} s ({:.1} KiB/s)",
        kib(retry_log),
        kib(retry_log) / retry_secs
    );

    // 1,000 API calls at the default log level.
    let before = server.log_bytes();
    let list = format!("{}/api/keys", server.base);
    for _ in 0..1000 {
        server
            .admin
            .get(&list)
            .header("X-API-KEY", &server.key)
            .send()
            .await?
            .error_for_status()?;
    }
    println!(
        "log per 1,000 API requests: {} bytes",
        server.log_bytes() - before
    );
    Ok(())
}
