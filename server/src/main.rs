//! `kabar`: reads the configuration, sets up logging, and runs the server until SIGINT/SIGTERM
//! (or, as `kabar backup FILE` / `kabar restore FILE`, copies its data out or back).

use server::{Config, backup, config::Command, run};
use tokio_util::sync::CancellationToken;

/// `--features heap-profile` (benches only): every allocation counted, see `benches/heap.rs`.
#[cfg(feature = "heap-profile")]
#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::from_env_and_args();
    #[cfg(feature = "heap-profile")]
    heap_profile_on_sigusr1(&config.data_dir)?;
    server::logging::init(config.log_json);
    match &config.command {
        Some(Command::Backup { file }) => {
            let s = backup::backup(&config.data_dir, config.database_url.as_deref(), file).await?;
            println!(
                "backed up {} database(s) into {} ({} bytes)",
                s.databases,
                file.display(),
                s.bytes
            );
            return Ok(());
        }
        Some(Command::Restore { file, force }) => {
            let s = backup::restore(&config.data_dir, file, *force)?;
            println!(
                "restored {} database(s) into {}",
                s.databases,
                config.data_dir.display()
            );
            return Ok(());
        }
        None => {}
    }
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let shutdown = CancellationToken::new();
    tokio::spawn(watch_signals(shutdown.clone()));
    run(config, listener, shutdown).await
}

/// `--features heap-profile`: SIGUSR1 writes what is live on the heap at that moment, with the
/// allocating stacks, to `<data dir>/dhat-heap.json` (once; the server runs on).
#[cfg(feature = "heap-profile")]
fn heap_profile_on_sigusr1(data_dir: &std::path::Path) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let profiler = dhat::Profiler::builder()
        .trim_backtraces(Some(64))
        .file_name(data_dir.join("dhat-heap.json"))
        .build();
    let mut usr1 = signal(SignalKind::user_defined1())?;
    tokio::spawn(async move {
        usr1.recv().await;
        // Dropping the profiler writes the profile ("eb": bytes live now).
        tokio::task::spawn_blocking(move || drop(profiler)).await
    });
    Ok(())
}

/// Cancels `shutdown` on the first SIGINT or SIGTERM.
async fn watch_signals(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
    shutdown.cancel();
}
