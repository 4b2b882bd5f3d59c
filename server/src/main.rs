//! `kabar`: reads the configuration, sets up logging, and runs the server until SIGINT/SIGTERM
//! (or, as `kabar backup FILE` / `kabar restore FILE`, copies its data out or back).

use server::{Config, backup, config::Command, run};
use tokio_util::sync::CancellationToken;

/// `--features heap-profile` (benches only): every allocation counted, see `benches/heap.rs`.
#[cfg(feature = "heap-profile")]
#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn main() -> anyhow::Result<()> {
    Config::read_dotenv();
    errors_without_backtraces();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve())
}

/// `RUST_BACKTRACE=1` (in the environment or `.env`), often set to see where a panic happened, also makes every `anyhow` error
/// capture a backtrace, and logging one with `{:?}` resolves it: the first time, the binary's
/// debug info is read and kept in memory for good. whatsapp-rust logs such errors while
/// sessions connect; the connected-sessions bench measured it (dhat): 34 MiB of heap after ten
/// sessions paired, nearly all of it backtrace symbols. `RUST_LIB_BACKTRACE=0` turns off only
/// the library captures (panics keep their backtraces), but the standard library reads it from
/// the environment, and setting a variable in-process is `unsafe` (forbidden here): so the
/// server starts itself again with it set, in place (same process id), before anything else
/// runs. An operator's own `RUST_LIB_BACKTRACE` is left as set; if the new start fails (the
/// binary was replaced meanwhile), this one goes on as it is.
fn errors_without_backtraces() {
    use std::os::unix::process::CommandExt;
    let on = |name: &str| std::env::var_os(name).is_some_and(|v| v != "0");
    if !on("RUST_BACKTRACE") || std::env::var_os("RUST_LIB_BACKTRACE").is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let mut again = std::process::Command::new(exe);
    if let Some(name) = args.next() {
        again.arg0(name);
    }
    // Only returns when the new start failed.
    let _ = again.args(args).env("RUST_LIB_BACKTRACE", "0").exec();
}

async fn serve() -> anyhow::Result<()> {
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
