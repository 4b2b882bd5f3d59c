//! `kabar backup FILE` and `kabar restore FILE`: a consistent copy of a running server's data in
//! one archive, and putting it back into the data dir of a stopped one.
//!
//! The archive (`tar`, gzip-compressed) holds `kabar.db`, the WhatsApp device stores
//! `whatsapp/*.db` (`devices.db`, every session's; the simulator's `simulator/<session>.json` on that engine) and
//! `secret.key` (without it the encrypted webhook secrets in the
//! database cannot be read), and the media files `media/<sha256>` (written once, never changed,
//! so a plain copy is consistent). Each database is copied with SQLite's `VACUUM INTO`, which reads
//! one consistent snapshot while the server goes on writing (WAL mode), so a backup needs no
//! downtime. The archive holds device keys and secrets: it is written 0600.

use anyhow::{Context, bail};
use sqlx::{ConnectOptions, sqlite::SqliteConnectOptions};
use std::{
    fs,
    path::{Path, PathBuf},
    str::FromStr,
};

/// What a backup or restore handled.
#[derive(Debug)]
pub struct Summary {
    pub databases: usize,
    pub bytes: u64,
}

const DB: &str = "kabar.db";
const DEVICES: &str = "whatsapp";
/// The simulator engine's stand-in device stores (JSON), so a test server restores linked.
const SIM_DEVICES: &str = "simulator";
const KEY: &str = "secret.key";
/// Media files, named by their SHA-256 (`crate::media`).
const MEDIA: &str = "media";

/// A stored media file's name (a temporary `.incoming-…` is not one).
fn is_media_name(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_some_and(crate::media_store::is_media_name)
}

/// Copies the data of the server whose data dir is `data_dir` into the archive `file`.
pub async fn backup(
    data_dir: &Path,
    database_url: Option<&str>,
    file: &Path,
) -> anyhow::Result<Summary> {
    let db = sqlite_path(data_dir, database_url)?;
    anyhow::ensure!(db.exists(), "no database at {}", db.display());
    let parent = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // Staged next to the archive (same file system), private, removed whatever happens.
    let stage = tempfile::Builder::new()
        .prefix(".kabar-backup-")
        .tempdir_in(parent)
        .with_context(|| format!("cannot write in {}", parent.display()))?;
    let mut databases = 0;
    vacuum_into(&db, &stage.path().join(DB)).await?;
    databases += 1;
    let devices = data_dir.join(DEVICES);
    if devices.is_dir() {
        fs::create_dir(stage.path().join(DEVICES))?;
        for entry in fs::read_dir(&devices)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "db") {
                let name = path.file_name().context("a device store without a name")?;
                vacuum_into(&path, &stage.path().join(DEVICES).join(name)).await?;
                databases += 1;
            }
        }
    }
    let sim = data_dir.join(SIM_DEVICES);
    if sim.is_dir() {
        fs::create_dir(stage.path().join(SIM_DEVICES))?;
        for entry in fs::read_dir(&sim)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "json") {
                let name = path.file_name().context("a device store without a name")?;
                fs::copy(&path, stage.path().join(SIM_DEVICES).join(name))?;
            }
        }
    }
    let key = data_dir.join(KEY);
    if key.exists() {
        fs::copy(&key, stage.path().join(KEY))?;
    }
    let media = data_dir.join(MEDIA);
    if media.is_dir() {
        fs::create_dir(stage.path().join(MEDIA))?;
        for entry in fs::read_dir(&media)? {
            let entry = entry?;
            if is_media_name(&entry.file_name()) {
                // A hard link where the file system allows: no second copy of every file.
                let to = stage.path().join(MEDIA).join(entry.file_name());
                if fs::hard_link(entry.path(), &to).is_err() {
                    match fs::copy(entry.path(), &to) {
                        // Moved to the bucket since it was listed (`media_store`).
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        copied => {
                            copied?;
                        }
                    }
                }
            }
        }
    }
    let partial = stage.path().join("archive.partial");
    write_archive(stage.path(), &partial)?;
    crate::db::secure_sqlite(&partial).ok();
    fs::rename(&partial, file).with_context(|| format!("cannot write {}", file.display()))?;
    let bytes = fs::metadata(file)?.len();
    Ok(Summary { databases, bytes })
}

/// Puts the archive `file` back into `data_dir`; the server must be stopped. Refuses a data
/// dir that already holds a database unless `force` (then the archive's files replace it).
pub fn restore(data_dir: &Path, file: &Path, force: bool) -> anyhow::Result<Summary> {
    if data_dir.join(DB).exists() && !force {
        bail!(
            "{} already holds a database: stop the server and pass --force to replace it",
            data_dir.display()
        );
    }
    crate::db::secure_dir(data_dir)?;
    let reader = fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(reader));
    let mut databases = 0;
    let mut bytes = 0;
    for entry in archive.entries().context("not a Kabar backup archive")? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        // Only the files a backup writes; nothing may land outside the data dir.
        let in_dir = |dir: &str, ext: &str| {
            path.starts_with(dir)
                && path.components().count() == 2
                && path.extension().is_some_and(|e| e == ext)
        };
        let allowed = path == Path::new(DB)
            || path == Path::new(KEY)
            || in_dir(DEVICES, "db")
            || in_dir(SIM_DEVICES, "json")
            || (path.starts_with(MEDIA)
                && path.components().count() == 2
                && path.file_name().is_some_and(is_media_name));
        if !allowed {
            if entry.header().entry_type().is_dir() {
                continue;
            }
            bail!("unexpected file {} in the archive", path.display());
        }
        let target = data_dir.join(&path);
        if let Some(dir) = target.parent() {
            crate::db::secure_dir(dir)?;
        }
        // Stale WAL files would be replayed over the restored database.
        for suffix in ["-wal", "-shm"] {
            let mut stale = target.clone().into_os_string();
            stale.push(suffix);
            let _ = fs::remove_file(PathBuf::from(stale));
        }
        entry.unpack(&target)?;
        crate::db::secure_sqlite(&target).ok();
        bytes += entry.size();
        if path.extension().is_some_and(|e| e == "db") {
            databases += 1;
        }
    }
    anyhow::ensure!(databases > 0, "the archive holds no database");
    Ok(Summary { databases, bytes })
}

/// The SQLite file behind the configured database.
fn sqlite_path(data_dir: &Path, database_url: Option<&str>) -> anyhow::Result<PathBuf> {
    match database_url {
        None => Ok(data_dir.join(DB)),
        Some(url) => {
            let options = SqliteConnectOptions::from_str(url)
                .context("kabar backup handles SQLite databases")?;
            Ok(options.get_filename().to_path_buf())
        }
    }
}

async fn vacuum_into(source: &Path, target: &Path) -> anyhow::Result<()> {
    let mut conn = SqliteConnectOptions::new()
        .filename(source)
        .read_only(true)
        .busy_timeout(std::time::Duration::from_secs(30))
        .connect()
        .await
        .with_context(|| format!("cannot open {}", source.display()))?;
    sqlx::query("VACUUM INTO ?")
        .bind(target.to_string_lossy().into_owned())
        .execute(&mut conn)
        .await
        .with_context(|| format!("cannot copy {}", source.display()))?;
    Ok(())
}

fn write_archive(stage: &Path, out: &Path) -> anyhow::Result<()> {
    let file = fs::File::create(out)?;
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for name in [DB, KEY] {
        let path = stage.join(name);
        if path.exists() {
            tar.append_path_with_name(&path, name)?;
        }
    }
    for dir in [DEVICES, SIM_DEVICES, MEDIA] {
        if stage.join(dir).is_dir() {
            tar.append_dir_all(dir, stage.join(dir))?;
        }
    }
    tar.into_inner()?.finish()?.sync_all()?;
    Ok(())
}
