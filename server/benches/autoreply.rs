//! Auto-reply matching speed: `cargo bench -p server --bench autoreply`. Prints matches/s for
//! a user with 10,000 rules (every mode, the matching rule last, so each message scans them
//! all), for a hit and for a miss. Asserts nothing.

use app::model::MatchMode;
use server::autoreply::matcher::{Rule, first_match, fold};
use std::{hint::black_box, time::Instant};

fn main() {
    let n: usize = std::env::var("KABAR_BENCH_RULES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let modes = [
        MatchMode::Exact,
        MatchMode::Contains,
        MatchMode::StartsWith,
        MatchMode::Word,
    ];
    let mut rules: Vec<Rule> = (0..n)
        .map(|i| Rule {
            id: i.to_string(),
            keyword: fold(&format!("produk nomor {i}")),
            mode: modes[i % modes.len()],
            reply: format!("reply {i}"),
            enabled: true,
            allow_groups: false,
        })
        .collect();
    rules.push(Rule {
        id: "last".into(),
        keyword: fold("harga"),
        mode: MatchMode::Word,
        reply: "price".into(),
        enabled: true,
        allow_groups: false,
    });
    println!("Kabar auto-reply matching: {} rules per user", rules.len());
    for (label, text) in [
        ("hit (last rule)", "Berapa HARGA kopi susu hari ini?"),
        ("miss", "Selamat pagi, apa kabar semuanya?"),
    ] {
        let rounds = 300;
        let t = Instant::now();
        let mut found = 0;
        for _ in 0..rounds {
            if first_match(black_box(&rules), black_box(text), false).is_some() {
                found += 1;
            }
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "{label:<16} {:>9.0} messages/s  {:>10.0} rule checks/s  ({found}/{rounds} matched)",
            rounds as f64 / secs,
            (rounds * rules.len()) as f64 / secs
        );
    }
}
