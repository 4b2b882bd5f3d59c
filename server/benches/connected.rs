//! What paired, connected sessions cost: `scripts/bench.sh connected` (or `cargo bench -p
//! server --bench connected`). Runs the fake WhatsApp server of the protocol test
//! (`tests/it/fake_whatsapp.rs`, included below) in this process and the `kabar` binary of this
//! build on the real engine pointed at it; pairs `KABAR_BENCH_CONNECTED` (100) sessions, each
//! through the scan of its own QR code (Noise XX, pair-success, the 515 restart, the IK login,
//! prekey upload), and prints, asserting nothing:
//! - RSS (and of it the anonymous part: heap and stacks, not pages of the binary mapped from
//!   disk), threads and disk with no session, then with 10 and with every session connected,
//!   and the cost of each connected session;
//! - disk per paired session (the device's keys, prekeys and app state in the shared store);
//! - log bytes while the connected sessions idle;
//! - inbound across them: a contact's phone per session sends `KABAR_BENCH_INBOUND` (20) texts,
//!   each end-to-end encrypted by the fake (the first opens a Signal session, X3DH), decrypted
//!   by the client, recorded with its `message.in` event and delivered signed to a webhook sink
//!   on loopback: messages/s from the first push to the last delivery.
//!
//! The fake's certificate chain is zero-signed: a bench build accepts it because cargo turns on
//! the dev-dependency's `danger-skip-cert-chain-verify` for the binaries it builds for benches
//! and tests; `cargo build` (the shipped binary) never. Loopback only; bounded in count and time.

mod support;

// The bench plays the phone with a part of the fake (the scan); the rest is for the tests.
#[allow(dead_code)]
#[path = "../tests/it/fake_whatsapp.rs"]
mod fake_whatsapp;

use fake_whatsapp::{FakeWhatsApp, decode_qr, device_key};
use serde_json::Value;
use std::{
    sync::Arc,
    time::{Duration, Instant},
};
use support::{Server, Sink, env_num, start_sink};
use whatsapp_rust::waproto::whatsapp as wa;

/// The version the protocol test pins, so the client does not ask web.whatsapp.com for one.
const VERSION: &str = "2.3000.1042742319";

/// Sessions paired at once (each is a handshake, a QR code to decode and a login).
const AT_ONCE: usize = 10;

fn kib(bytes: u64) -> f64 {
    bytes as f64 / 1024.0
}

/// Polls session `id`'s `GET /status` (up to 60 s) until `pred` holds; answers the status.
async fn wait_session(
    server: &Server,
    id: &str,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> anyhow::Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let view: Value = server
            .admin
            .get(format!("{}/status?session={id}", server.base))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        if pred(&view) {
            return Ok(view);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "session {id} never showed {what}: {view}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Creates session number `n`, waits for its QR code, scans it as the phone of number
/// `62812…n` and waits until the session is connected. Answers its id and device key.
async fn pair(
    server: &Server,
    fake: &FakeWhatsApp,
    n: usize,
) -> anyhow::Result<(String, [u8; 32])> {
    let id = server
        .target
        .create_session(&format!("connected {n}"))
        .await?;
    let view = wait_session(server, &id, "a QR code", |v| v["qr"].is_string()).await?;
    let qr = decode_qr(view["qr"].as_str().unwrap_or_default());
    let number = format!("62812{n:07}");
    fake.scan(
        &qr,
        &format!("{number}:7@s.whatsapp.net"),
        &format!("9{n:012}:7@lid"),
        "Bench",
    )
    .await;
    wait_session(server, &id, "connected", |v| v["status"] == "connected").await?;
    Ok((id, device_key(&qr)))
}

/// Session `n`'s contact (number `62877…n`) sends its device `count` texts, one after another.
async fn write_to(fake: &FakeWhatsApp, device: [u8; 32], n: usize, count: usize) {
    let from = format!("62877{n:07}");
    for i in 0..count {
        let text = wa::Message {
            conversation: Some(format!("pesan {i} untuk sesi {n}")),
            ..Default::default()
        };
        fake.message_to(
            device,
            &from,
            &format!("IN{n:05}X{i:05}"),
            "Pelanggan",
            &text,
        )
        .await;
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let total = env_num("KABAR_BENCH_CONNECTED", 100) as usize;
    let settle = Duration::from_secs(env_num("KABAR_BENCH_SETTLE_SECS", 10));
    let fake = FakeWhatsApp::start().await;
    let args = [
        "--engine",
        "whatsapp",
        "--whatsapp-url",
        &fake.url,
        "--whatsapp-version",
        VERSION,
    ];
    let mut server = Server::start(&args, 0).await?;
    tokio::time::sleep(settle).await;
    let (rss0, threads0, disk0) = (server.rss_mib(), server.threads(), server.disk_bytes());
    println!(
        "Kabar connected sessions: the bench build, real engine, each session paired with the fake WhatsApp server and connected; settle {} s per step",
        settle.as_secs()
    );
    println!(
        "{:>9} {:>9} {:>9} {:>8} {:>10} {:>18} {:>10}",
        "sessions", "RSS MiB", "anon MiB", "threads", "disk KiB", "KiB/added session", "pairing s"
    );
    println!(
        "{:>9} {:>9.1} {:>9.1} {:>8} {:>10.0} {:>18} {:>10}",
        0,
        rss0,
        server.rss_anon_mib(),
        threads0,
        kib(disk0),
        "-",
        "-"
    );
    let mut devices = Vec::new();
    let mut steps = vec![10, total];
    steps.retain(|&n| n <= total);
    steps.dedup();
    let (mut last_n, mut last_rss) = (0usize, rss0);
    for n in steps {
        let started = Instant::now();
        for chunk in (last_n..n).collect::<Vec<_>>().chunks(AT_ONCE) {
            let paired =
                futures_util::future::join_all(chunk.iter().map(|&i| pair(&server, &fake, i)))
                    .await;
            for paired in paired {
                let (id, device) = paired?;
                server.target.sessions.push(id);
                devices.push(device);
            }
        }
        let pairing = started.elapsed().as_secs_f64();
        tokio::time::sleep(settle).await;
        let rss = server.rss_mib();
        println!(
            "{:>9} {:>9.1} {:>9.1} {:>8} {:>10.0} {:>18.0} {:>10.1}",
            n,
            rss,
            server.rss_anon_mib(),
            server.threads(),
            kib(server.disk_bytes()),
            (rss - last_rss) * 1024.0 / (n - last_n).max(1) as f64,
            pairing
        );
        (last_n, last_rss) = (n, rss);
    }
    println!(
        "per connected session: {:.0} KiB RSS (0 → {last_n}), {:.1} KiB disk (paired)",
        (last_rss - rss0) * 1024.0 / last_n.max(1) as f64,
        kib(server.disk_bytes().saturating_sub(disk0)) / last_n.max(1) as f64
    );
    println!("disk by file: {}", server.disk_summary());

    // The connected sessions idle (keep-alive pings answered): what do they log?
    let before = server.log_bytes();
    tokio::time::sleep(settle * 3).await;
    println!(
        "log while {last_n} sessions idled connected for {} s: {} bytes",
        (settle * 3).as_secs(),
        server.log_bytes() - before
    );
    let still = server.sessions.len();
    let mut connected = 0;
    for id in &server.sessions {
        let view: Value = server
            .admin
            .get(format!("{}/api/sessions/{id}", server.base))
            .send()
            .await?
            .json()
            .await?;
        connected += usize::from(view["status"] == "connected");
    }
    println!("still connected at the end: {connected} of {still}");

    // Inbound across every connected session at once.
    let per_session = env_num("KABAR_BENCH_INBOUND", 20) as usize;
    let sink = Arc::new(Sink::default());
    server.webhook_to(&start_sink(sink.clone()).await?).await?;
    let expected = per_session * devices.len();
    let started = Instant::now();
    futures_util::future::join_all(
        devices
            .iter()
            .enumerate()
            .map(|(n, &device)| write_to(&fake, device, n, per_session)),
    )
    .await;
    let pushed = started.elapsed().as_secs_f64();
    let deadline = started + Duration::from_secs(120);
    let mut arrived = 0;
    while Instant::now() < deadline {
        arrived = sink.arrived.lock().map_or(0, |a| a.len());
        if arrived >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed().as_secs_f64();
    println!(
        "inbound across {last_n} connected sessions: {arrived} of {expected} texts decrypted, recorded and delivered to the webhook in {took:.1} s ({:.0}/s; the fake encrypted and pushed them in {pushed:.1} s)",
        arrived as f64 / took
    );
    Ok(())
}
