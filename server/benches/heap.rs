//! Where a session's memory goes: `scripts/bench.sh heap` (or `cargo bench -p server --bench
//! heap --features heap-profile`). Starts the `kabar` binary of this build with dhat counting
//! every allocation, on the real engine pointed at a closed local port (every session keeps
//! retrying, as in the footprint bench), once without sessions and once with
//! `KABAR_BENCH_SESSIONS` (200); after they settle, has the server write its heap profile
//! (SIGUSR1) and prints what the sessions hold: the live bytes of the second run less the first,
//! by crate and by the innermost frame of Kabar, whatsapp-rust or a runtime crate that allocated
//! them. Asserts nothing. dhat slows every allocation, so RSS figures stay with the footprint
//! bench.
//!
//! Loopback only; bounded in count and time.

mod support;
use serde_json::Value;
use std::{collections::HashMap, time::Duration};
use support::{Server, env_num};

/// Crates whose frames say nothing about who holds the memory (containers, the allocator, the
/// profiler): the owner is the next frame out.
const PLUMBING: &[&str] = &[
    "std",
    "core",
    "alloc",
    "hashbrown",
    "dhat",
    "backtrace",
    "bytes",
    "indexmap",
    "smallvec",
    "serde",
    "serde_json",
    "prost",
    "buffa",
    "dashmap",
    "moka",
    "quick_cache",
    "parking_lot",
    "async_lock",
    "event_listener",
    "futures_util",
    "futures_channel",
    "tokio_util",
    "lru",
    "???",
];

/// Live heap bytes: in all, by owning function, by crate.
struct Heap {
    total: u64,
    by_fn: HashMap<String, u64>,
    by_crate: HashMap<String, u64>,
}

/// Tokio's channels and task spawning: the owner is whoever made the channel or spawned the
/// task (a task's future is allocated in `OwnedTasks::bind`).
const RUNTIME: &[&str] = &[
    "tokio::sync::",
    "tokio::runtime::",
    "tokio::task::",
    "tokio::spawn",
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n = env_num("KABAR_BENCH_SESSIONS", 200) as usize;
    let settle = Duration::from_secs(env_num("KABAR_BENCH_SETTLE_SECS", 20));
    // The same server without sessions first: what is left is what the sessions hold.
    let base = live_heap(0, settle).await?;
    let with = live_heap(n, settle).await?;
    let per = |b: i64| b as f64 / 1024.0 / n.max(1) as f64;
    println!(
        "Kabar heap by owner: real-engine sessions retrying a closed port, live bytes {} s after \
         the last one was added (dhat), {n} sessions less none",
        settle.as_secs()
    );
    let added = with.total as i64 - base.total as i64;
    println!(
        "live heap: {:.1} MiB without sessions, {:.1} MiB with {n}: {:.1} KiB per session",
        base.total as f64 / 1048576.0,
        with.total as f64 / 1048576.0,
        per(added)
    );
    for (title, with, base, rows) in [
        ("crate", &with.by_crate, &base.by_crate, 8),
        ("innermost frame that owns it", &with.by_fn, &base.by_fn, 16),
    ] {
        println!("{:>12} {:>6}  by {title}", "KiB/session", "share");
        let mut diff: Vec<(&String, i64)> = with
            .iter()
            .map(|(k, v)| (k, *v as i64 - base.get(k).copied().unwrap_or(0) as i64))
            .collect();
        diff.sort_by_key(|d| std::cmp::Reverse(d.1));
        for (name, bytes) in diff.into_iter().take(rows) {
            println!(
                "{:>12.1} {:>5.1}%  {name}",
                per(bytes),
                bytes as f64 * 100.0 / added.max(1) as f64
            );
        }
    }
    Ok(())
}

/// Starts a server with dhat, adds `n` sessions, waits `settle` and reads what its heap holds.
async fn live_heap(n: usize, settle: Duration) -> anyhow::Result<Heap> {
    let mut server = Server::start_unreachable().await?;
    server.add_sessions(n).await?;
    tokio::time::sleep(settle).await;
    // SIGUSR1: the server writes what is live on its heap now, sessions running.
    std::process::Command::new("kill")
        .args(["-USR1", &server.child.id().to_string()])
        .status()?;
    let profile = server.data_dir.join("dhat-heap.json");
    let mut json = Value::Null;
    for _ in 0..600 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if let Ok(Ok(v)) = std::fs::read(&profile).map(|b| serde_json::from_slice::<Value>(&b)) {
            json = v;
            break;
        }
    }
    anyhow::ensure!(!json.is_null(), "no heap profile in {}", profile.display());
    let frames: Vec<&str> = json["ftbl"]
        .as_array()
        .map(|a| a.iter().map(|f| f.as_str().unwrap_or("???")).collect())
        .unwrap_or_default();
    let mut heap = Heap {
        total: 0,
        by_fn: HashMap::new(),
        by_crate: HashMap::new(),
    };
    for pp in json["pps"].as_array().into_iter().flatten() {
        // "eb": bytes allocated here and still live when the profile was written.
        let bytes = pp["eb"].as_u64().unwrap_or(0);
        if bytes == 0 {
            continue;
        }
        heap.total += bytes;
        let owner = pp["fs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| frames.get(usize::try_from(i.as_u64()?).ok()?))
            .map(|f| symbol(f))
            .find(|s| !PLUMBING.contains(&crate_of(s)) && !RUNTIME.iter().any(|r| s.starts_with(r)))
            .unwrap_or("(unknown)");
        *heap.by_fn.entry(short(owner)).or_default() += bytes;
        *heap
            .by_crate
            .entry(crate_of(owner).to_string())
            .or_default() += bytes;
    }
    Ok(heap)
}

/// The symbol of a dhat frame: `0x…: path::to::fn (file:line:col)`.
fn symbol(frame: &str) -> &str {
    let s = frame.split_once(": ").map_or(frame, |(_, s)| s);
    s.rsplit_once(" (").map_or(s, |(s, _)| s)
}

/// The crate of a symbol, also of `<crate::Type as Trait>::f` and `<&T as …>`.
fn crate_of(symbol: &str) -> &str {
    let s = symbol.trim_start_matches(['<', '&', '*']);
    let s = s
        .strip_prefix("mut ")
        .or_else(|| s.strip_prefix("const "))
        .unwrap_or(s);
    s.split("::").next().unwrap_or(s)
}

/// A symbol without generics and closures, short enough to read in a table:
/// `<a::Type<T> as b::Trait>::f::{{closure}}` reads `a::Type::f`.
fn short(symbol: &str) -> String {
    let symbol = match symbol.strip_prefix('<') {
        Some(rest) => {
            let mut depth = 0;
            let mut end = rest.len();
            for (i, c) in rest.char_indices() {
                match c {
                    '<' => depth += 1,
                    '>' if depth == 0 => {
                        end = i;
                        break;
                    }
                    '>' => depth -= 1,
                    ' ' if depth == 0 && rest[i..].starts_with(" as ") => {
                        end = i;
                        break;
                    }
                    _ => {}
                }
            }
            let tail = symbol.rsplit_once(">::").map_or("", |(_, t)| t);
            format!("{}::{tail}", &rest[..end])
        }
        None => symbol.to_string(),
    };
    let mut out = String::new();
    let mut depth = 0;
    for c in symbol.chars() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    let out = out.replace("::{{closure}}", "").replace("{{closure}}", "");
    out.trim_start_matches("::").to_string()
}
