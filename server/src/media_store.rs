//! Where media files are kept (contract §11: "under the data dir, or an S3-compatible bucket
//! when configured").
//!
//! Every file lands in the data dir first, as `media/<sha256>` (`crate::media` writes it): the
//! send that brought it reads it from there, and a file there cannot be lost to a bucket that is
//! down. With a bucket configured (`--media-s3-bucket`), [`offload_loop`] copies each file that
//! has been local for `--media-s3-keep-local-secs` to `<prefix><sha256>`, checks the bucket
//! holds all of it, and only then removes the local copy. Reads take the local copy when there
//! is one, else the bucket's. Files are named by their content and never change, so whichever
//! copy is found is the right one, and an upload interrupted by a crash is simply made again.
//!
//! Two things could remove a file someone still needs, and both are ruled out here: a send
//! holds its file ([`Hold`], taken before the file is put in place) until the engine has read
//! it, and a held file is never moved; and the retention sweep, which deletes unused files from
//! the bucket, runs with moves paused and reads which files are used inside that pause (else a
//! file sent again during a long sweep could be moved to the bucket and then deleted there).

use crate::{config::Config, state::AppState};
use axum::body::Body;
use futures_util::StreamExt;
use object_store::{ObjectStore, WriteMultipart, path::Path as ObjectPath};
use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};
use tokio::io::AsyncReadExt;
use tokio_util::sync::CancellationToken;

/// Files up to this size go up in one request; larger ones in parts of [`PART`], read from
/// disk a part at a time (a 64 MiB video never sits in memory whole).
const ONE_REQUEST: u64 = 8 * 1024 * 1024;
const PART: usize = 5 * 1024 * 1024;

/// The data dir's media files, and the bucket that takes them over when one is configured.
pub struct MediaStore {
    data_dir: PathBuf,
    dir: PathBuf,
    bucket: Option<Bucket>,
    holds: Holds,
    /// Held by an offload pass and by the retention sweep: never both at once.
    moving: tokio::sync::Mutex<()>,
}

/// How many sends hold each file (by SHA-256).
#[derive(Clone, Default)]
pub struct Holds(Arc<Mutex<HashMap<String, usize>>>);

/// A send's claim on its file: while any exists, the file stays on disk. Taken before the file
/// is put in place, dropped with the send's `Stored`.
#[derive(Clone)]
pub struct Hold(Arc<HoldInner>);

struct HoldInner {
    holds: Holds,
    sha256: String,
}

impl Holds {
    pub fn hold(&self, sha256: &str) -> Hold {
        if let Ok(mut map) = self.0.lock() {
            *map.entry(sha256.to_string()).or_default() += 1;
        }
        Hold(Arc::new(HoldInner {
            holds: self.clone(),
            sha256: sha256.to_string(),
        }))
    }
}

impl Drop for HoldInner {
    fn drop(&mut self) {
        if let Ok(mut map) = self.holds.0.lock()
            && let Some(n) = map.get_mut(&self.sha256)
        {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.sha256);
            }
        }
    }
}

impl std::fmt::Debug for Hold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hold({})", self.0.sha256)
    }
}

/// A hold is not part of what a file is: two `Stored` of the same file are equal.
impl PartialEq for Hold {
    fn eq(&self, _: &Hold) -> bool {
        true
    }
}
impl Eq for Hold {}

/// An object store (S3 in production, in memory in unit tests) and where files go in it.
pub struct Bucket {
    /// For uploads, listing, sizes and deletes: a request that takes over five minutes fails.
    pub store: Arc<dyn ObjectStore>,
    /// For downloads served to clients and copied back for sends: up to an hour, as a 64 MiB
    /// file streamed to a slow phone may take.
    pub reader: Arc<dyn ObjectStore>,
    /// Prepended to each file's SHA-256: `media/` by default.
    pub prefix: String,
    /// How long a file stays local before it moves.
    pub keep_local: Duration,
}

/// What one offload pass did.
#[derive(Debug, Default, PartialEq)]
pub struct Offloaded {
    /// Files now only in the bucket.
    pub moved: u64,
    /// Files left local because the bucket refused them (tried again next pass).
    pub failed: u64,
}

impl MediaStore {
    /// The store the configuration asks for. The bucket client is built without touching the
    /// network; a wrong endpoint or refused credentials show in the log of the first pass.
    pub fn from_config(config: &Config) -> Result<MediaStore, crate::config::ConfigError> {
        let bucket = match &config.media_s3_bucket {
            Some(name) => Some(Bucket {
                store: Arc::new(s3_client(config, name, Duration::from_secs(300))?),
                reader: Arc::new(s3_client(config, name, Duration::from_secs(3600))?),
                prefix: folder(&config.media_s3_prefix),
                keep_local: Duration::from_secs(config.media_s3_keep_local_secs),
            }),
            None => None,
        };
        Ok(MediaStore::new(&config.data_dir, bucket))
    }

    pub fn new(data_dir: &Path, bucket: Option<Bucket>) -> MediaStore {
        MediaStore {
            data_dir: data_dir.to_path_buf(),
            dir: crate::media::dir(data_dir),
            bucket,
            holds: Holds::default(),
            moving: tokio::sync::Mutex::new(()),
        }
    }

    /// Where sends take their [`Hold`]s.
    pub fn holds(&self) -> &Holds {
        &self.holds
    }

    pub fn bucket(&self) -> Option<&Bucket> {
        self.bucket.as_ref()
    }

    /// The file with this SHA-256 as a response body: the local copy, else the bucket's.
    /// `None` when neither has it (removed by retention, or never downloaded).
    pub async fn open(&self, sha256: &str) -> anyhow::Result<Option<Body>> {
        match tokio::fs::File::open(self.dir.join(sha256)).await {
            Ok(f) => {
                return Ok(Some(Body::from_stream(tokio_util::io::ReaderStream::new(
                    f,
                ))));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => anyhow::bail!("opening a media file: {e}"),
        }
        let Some(bucket) = &self.bucket else {
            return Ok(None);
        };
        match bucket.reader.get(&bucket.path(sha256)).await {
            Ok(got) => Ok(Some(Body::from_stream(got.into_stream()))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => anyhow::bail!("reading a media file from the bucket: {e}"),
        }
    }

    /// Makes sure the file with this SHA-256 is on disk for a send that holds it (an auto-reply
    /// rule's file, which may have moved to the bucket since the rule was saved): copies it back
    /// from the bucket when it is not. The copy is checked against its name before it is put in
    /// place. The caller's [`Hold`] keeps it there until the send is done.
    pub async fn bring_back(&self, sha256: &str) -> anyhow::Result<()> {
        if tokio::fs::try_exists(self.dir.join(sha256)).await? {
            return Ok(());
        }
        let Some(bucket) = &self.bucket else {
            anyhow::bail!("the media file {sha256} is not kept any more");
        };
        let mut stream = bucket.reader.get(&bucket.path(sha256)).await?.into_stream();
        let tmp = crate::media::incoming_file(&self.data_dir)?;
        let mut file = tokio::fs::File::from_std(tmp.as_file().try_clone()?);
        while let Some(chunk) = stream.next().await {
            tokio::io::AsyncWriteExt::write_all(&mut file, &chunk?).await?;
        }
        file.sync_all().await?;
        let data_dir = self.data_dir.clone();
        let (got, _) =
            tokio::task::spawn_blocking(move || crate::media::keep_incoming(&data_dir, tmp))
                .await??;
        anyhow::ensure!(
            got == sha256,
            "the bucket's copy of {sha256} does not match its name"
        );
        Ok(())
    }

    /// Moves the local files older than `keep_local` and held by no send to the bucket. A file
    /// is removed locally only once the bucket reports an object of its size, and only if it
    /// was not held or written again meanwhile. The first file the bucket refuses ends the pass
    /// (the next pass tries again), as does `stop`, so a bucket that is down never holds up a
    /// shutdown for more than one file.
    pub async fn offload(&self, stop: &CancellationToken) -> Offloaded {
        let mut done = Offloaded::default();
        let Some(bucket) = &self.bucket else {
            return done;
        };
        let _moving = self.moving.lock().await;
        let Ok(mut entries) = tokio::fs::read_dir(&self.dir).await else {
            return done;
        };
        let settled = SystemTime::now()
            .checked_sub(bucket.keep_local)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        while let Ok(Some(entry)) = entries.next_entry().await {
            if stop.is_cancelled() {
                break;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            if !is_media_name(&name) || self.held(&name) {
                continue;
            }
            let Some(written) = modified(&entry.path()).await else {
                continue;
            };
            if written > settled {
                continue;
            }
            let path = entry.path();
            let taken = tokio::select! {
                taken = bucket.take(&path, &name) => taken,
                // The local copy stays; the next start moves it.
                _ = stop.cancelled() => break,
            };
            if let Err(e) = taken {
                done.failed += 1;
                tracing::warn!(file = %name, error = format!("{e:#}"), "a media file stays on disk: the bucket did not take it");
                break;
            }
            // Checked and removed under the holds' lock: a send of the same bytes takes its
            // hold before it puts its copy in place, so it either stops this or comes after.
            match self.remove_unless_held(&name, 0, Some(written)) {
                Ok(true) => done.moved += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(file = %name, error = %e, "removing a media file kept in the bucket")
                }
            }
        }
        done
    }

    /// Removes the local file `name` unless a send holds it (more than the caller's `own`
    /// holds) or, with `written`, it was written again since. Under the holds' lock: a send of
    /// the same bytes takes its hold before it puts its copy in place, so it either stops this
    /// or comes after. A file already gone is no error.
    pub fn remove_unless_held(
        &self,
        name: &str,
        own: usize,
        written: Option<SystemTime>,
    ) -> std::io::Result<bool> {
        let Ok(holds) = self.holds.0.lock() else {
            return Ok(false);
        };
        let path = self.dir.join(name);
        let again = written
            .is_some_and(|w| std::fs::metadata(&path).and_then(|m| m.modified()).ok() != Some(w));
        if holds.get(name).copied().unwrap_or(0) > own || again {
            return Ok(false);
        }
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn held(&self, name: &str) -> bool {
        self.holds.0.lock().map_or(true, |m| m.contains_key(name))
    }

    /// Removes the media files no message or auto-reply rule uses, on disk and in the bucket, written before
    /// `before` (a file may belong to a send not recorded yet). Moves are paused meanwhile and
    /// the files in use are read inside the pause.
    pub async fn sweep_unused(
        &self,
        db: &crate::db::Db,
        before: SystemTime,
    ) -> anyhow::Result<u64> {
        let _moving = self.moving.lock().await;
        let used: HashSet<String> = sqlx::query_scalar(
            "SELECT media_sha256 FROM messages WHERE media_sha256 IS NOT NULL
             UNION SELECT json_extract(media, '$.sha256') FROM auto_reply_rules
                   WHERE json_extract(media, '$.sha256') IS NOT NULL",
        )
        .fetch_all(db)
        .await?
        .into_iter()
        .collect();
        let mut removed = 0;
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let young = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t > before);
                if is_media_name(&name)
                    && !used.contains(&name)
                    && !young
                    && self.remove_unless_held(&name, 0, None)?
                {
                    removed += 1;
                }
            }
        }
        Ok(removed + self.sweep_bucket(&used, before).await?)
    }

    /// Removes the bucket's files that no message uses (`used`) and that went up before
    /// `before`. Moves must be paused (see [`MediaStore::sweep_unused`]).
    async fn sweep_bucket(
        &self,
        used: &HashSet<String>,
        before: SystemTime,
    ) -> anyhow::Result<u64> {
        let Some(bucket) = &self.bucket else {
            return Ok(0);
        };
        let prefix = ObjectPath::from(bucket.prefix.trim_end_matches('/'));
        let mut listed = bucket.store.list(Some(&prefix));
        let mut unused = Vec::new();
        while let Some(meta) = listed.next().await {
            let meta = meta?;
            let name = meta.location.filename().unwrap_or_default();
            let old = SystemTime::from(meta.last_modified) < before;
            // Only files straight under the prefix are Kabar's (with an empty prefix the listing
            // is the whole bucket).
            let ours = is_media_name(name) && meta.location == bucket.path(name);
            if ours && old && !used.contains(name) {
                unused.push(meta.location.clone());
            }
        }
        drop(listed);
        let n = unused.len() as u64;
        let locations = futures_util::stream::iter(unused.into_iter().map(Ok)).boxed();
        let mut deleted = bucket.store.delete_stream(locations);
        while let Some(d) = deleted.next().await {
            match d {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(n)
    }
}

impl Bucket {
    /// Where the file with this SHA-256 lives in the bucket.
    pub fn path(&self, sha256: &str) -> ObjectPath {
        ObjectPath::from(format!("{}{sha256}", self.prefix))
    }

    /// Makes sure the bucket holds the local file `file` whole (uploading it unless an object
    /// of its size is there already).
    async fn take(&self, file: &Path, sha256: &str) -> anyhow::Result<()> {
        let path = self.path(sha256);
        let size = tokio::fs::metadata(file).await?.len();
        match self.store.head(&path).await {
            Ok(meta) if meta.size == size => return Ok(()),
            Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        if size <= ONE_REQUEST {
            let bytes = tokio::fs::read(file).await?;
            self.store.put(&path, bytes.into()).await?;
        } else {
            let mut upload =
                WriteMultipart::new_with_chunk_size(self.store.put_multipart(&path).await?, PART);
            let sent: anyhow::Result<()> = async {
                let mut f = tokio::fs::File::open(file).await?;
                let mut buf = vec![0u8; 1024 * 1024];
                loop {
                    let n = f.read(&mut buf).await?;
                    if n == 0 {
                        return Ok(());
                    }
                    upload.wait_for_capacity(2).await?;
                    upload.write(&buf[..n]);
                }
            }
            .await;
            match sent {
                Ok(()) => {
                    upload.finish().await?;
                }
                Err(e) => {
                    let _ = upload.abort().await;
                    return Err(e);
                }
            }
        }
        let stored = self.store.head(&path).await?.size;
        anyhow::ensure!(
            stored == size,
            "the bucket holds {stored} of the file's {size} bytes"
        );
        Ok(())
    }
}

/// A prefix as a folder: `media` and `/media/` are `media/`; empty stays empty (the bucket's
/// root).
fn folder(prefix: &str) -> String {
    let p = prefix.trim().trim_matches('/');
    if p.is_empty() {
        String::new()
    } else {
        format!("{p}/")
    }
}

/// A stored file's name: 64 lowercase hex digits (a temporary `.incoming-…` is not one).
pub fn is_media_name(name: &str) -> bool {
    name.len() == 64
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

async fn modified(path: &Path) -> Option<SystemTime> {
    tokio::fs::metadata(path).await.ok()?.modified().ok()
}

/// The credentials read from the environment when the flags give no keys: the keys, and what
/// the AWS tools use for a role on ECS, EKS or with a web identity (the EC2 instance role needs
/// none of them).
const AWS_CREDENTIAL_VARIABLES: [&str; 9] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
];

/// The S3 client for `--media-s3-*` (credentials from the flags, else those of
/// [`AWS_CREDENTIAL_VARIABLES`], else the EC2 instance's role). A request gives up after
/// `timeout`, body included; a bucket that refuses is retried three times within 30 s.
fn s3_client(
    config: &Config,
    bucket: &str,
    timeout: Duration,
) -> Result<object_store::aws::AmazonS3, crate::config::ConfigError> {
    use crate::config::ConfigError;
    let bad = |why: String| ConfigError::MediaS3(why);
    if bucket.trim().is_empty() {
        return Err(bad("--media-s3-bucket is empty".into()));
    }
    // Not `from_env`: a stray AWS_ENDPOINT, AWS_ALLOW_HTTP or AWS_VIRTUAL_HOSTED_STYLE_REQUEST
    // (left from another tool) would send files elsewhere; only the keys are taken from there.
    let mut b = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region(&config.media_s3_region)
        .with_retry(object_store::RetryConfig {
            max_retries: 3,
            retry_timeout: Duration::from_secs(30),
            ..Default::default()
        })
        // object_store's default, 30 s for a whole request, cut long downloads off.
        .with_client_options(
            object_store::ClientOptions::new()
                .with_timeout(timeout)
                .with_connect_timeout(Duration::from_secs(5)),
        );
    if let Some(endpoint) = &config.media_s3_endpoint {
        let url = reqwest::Url::parse(endpoint)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        let Some(url) = url else {
            return Err(bad(format!(
                "--media-s3-endpoint must be an http:// or https:// address, not {endpoint:?}"
            )));
        };
        b = b
            .with_endpoint(endpoint)
            .with_allow_http(url.scheme() == "http");
    }
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match (
        &config.media_s3_access_key_id,
        &config.media_s3_secret_access_key,
    ) {
        (Some(id), Some(secret)) => b = b.with_access_key_id(id).with_secret_access_key(secret),
        (None, None) => {
            // Only credentials: a stray AWS_ENDPOINT from another tool must not redirect files.
            for name in AWS_CREDENTIAL_VARIABLES {
                if let (Some(value), Ok(key)) = (env(name), name.to_ascii_lowercase().parse()) {
                    b = b.with_config(key, value);
                }
            }
            // None of them: the EC2 instance's role (its metadata endpoint), as the AWS tools.
        }
        _ => {
            return Err(bad(
                "--media-s3-access-key-id and --media-s3-secret-access-key go together".into(),
            ));
        }
    }
    b.build().map_err(|e| bad(format!("--media-s3-*: {e}")))
}

/// Moves settled files to the bucket every half `keep_local` (between a second and a minute)
/// until shutdown. Without a bucket it returns at once.
pub async fn offload_loop(state: AppState) {
    let Some(bucket) = state.media.bucket() else {
        return;
    };
    let every = (bucket.keep_local / 2).clamp(Duration::from_secs(1), Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        let done = state.media.offload(&state.shutdown).await;
        if done != Offloaded::default() {
            tracing::info!(
                moved = done.moved,
                failed = done.failed,
                "media files moved to the bucket"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;

    fn sha(bytes: &[u8]) -> String {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(bytes))
    }

    fn store(dir: &Path, keep_local: Duration) -> (MediaStore, Arc<InMemory>) {
        let memory = Arc::new(InMemory::new());
        let bucket = Bucket {
            store: memory.clone(),
            reader: memory.clone(),
            prefix: "media/".into(),
            keep_local,
        };
        std::fs::create_dir_all(crate::media::dir(dir)).expect("media dir");
        (MediaStore::new(dir, Some(bucket)), memory)
    }

    fn keep(dir: &Path, bytes: &[u8]) -> String {
        let name = sha(bytes);
        std::fs::write(crate::media::dir(dir).join(&name), bytes).expect("write");
        name
    }

    async fn read(store: &MediaStore, name: &str) -> Option<Vec<u8>> {
        let body = store.open(name).await.expect("open")?;
        let bytes = axum::body::to_bytes(body, usize::MAX).await.expect("body");
        Some(bytes.to_vec())
    }

    #[tokio::test]
    async fn settled_files_move_to_the_bucket_and_are_still_read() {
        let dir = tempfile::tempdir().expect("dir");
        let (store, memory) = store(dir.path(), Duration::ZERO);
        let small = keep(dir.path(), b"a small picture");
        // Over ONE_REQUEST: goes up in parts, read a part at a time.
        let big_bytes: Vec<u8> = (0..ONE_REQUEST as usize + 3 * 1024 * 1024)
            .map(|i| (i % 251) as u8)
            .collect();
        let big = keep(dir.path(), &big_bytes);
        std::fs::write(crate::media::dir(dir.path()).join(".incoming-x"), b"half").expect("tmp");

        let done = store.offload(&CancellationToken::new()).await;
        assert_eq!(
            done,
            Offloaded {
                moved: 2,
                failed: 0
            }
        );
        let left: Vec<String> = std::fs::read_dir(crate::media::dir(dir.path()))
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, [".incoming-x"], "a file being written stays");
        let got = memory
            .get(&ObjectPath::from(format!("media/{big}")))
            .await
            .expect("in the bucket")
            .bytes()
            .await
            .expect("bytes");
        assert_eq!(got.as_ref(), big_bytes.as_slice());
        assert_eq!(
            read(&store, &small).await.as_deref(),
            Some(&b"a small picture"[..])
        );
        assert_eq!(read(&store, &big).await, Some(big_bytes));
        assert_eq!(read(&store, &sha(b"never kept")).await, None);
    }

    #[tokio::test]
    async fn a_file_a_send_holds_stays_on_disk_until_it_lets_go() {
        let dir = tempfile::tempdir().expect("dir");
        let (store, _) = store(dir.path(), Duration::ZERO);
        let hold = store.holds().hold(&sha(b"being sent"));
        let again = hold.clone();
        let name = keep(dir.path(), b"being sent");
        assert_eq!(store.offload(&CancellationToken::new()).await.moved, 0);
        drop(hold);
        assert_eq!(
            store.offload(&CancellationToken::new()).await.moved,
            0,
            "a clone holds too"
        );
        drop(again);
        assert_eq!(store.offload(&CancellationToken::new()).await.moved, 1);
        assert!(!crate::media::dir(dir.path()).join(&name).exists());
    }

    #[test]
    fn a_file_another_send_holds_is_not_removed_as_unused() {
        let dir = tempfile::tempdir().expect("dir");
        let (store, _) = store(dir.path(), Duration::ZERO);
        let name = keep(dir.path(), b"sent twice");
        let mine = store.holds().hold(&name);
        let theirs = store.holds().hold(&name);
        assert!(
            !store.remove_unless_held(&name, 1, None).expect("kept"),
            "another send holds it"
        );
        drop(theirs);
        assert!(
            store.remove_unless_held(&name, 1, None).expect("removed"),
            "only mine is left"
        );
        drop(mine);
        assert!(
            !store
                .remove_unless_held(&name, 0, None)
                .expect("a gone file is no error")
        );
    }

    #[tokio::test]
    async fn a_stopped_pass_moves_nothing_more() {
        let dir = tempfile::tempdir().expect("dir");
        let (store, _) = store(dir.path(), Duration::ZERO);
        keep(dir.path(), b"left for the next start");
        let stop = CancellationToken::new();
        stop.cancel();
        assert_eq!(store.offload(&stop).await, Offloaded::default());
    }

    #[tokio::test]
    async fn young_files_stay_local_until_they_settle() {
        let dir = tempfile::tempdir().expect("dir");
        let (store, memory) = store(dir.path(), Duration::from_secs(3600));
        let name = keep(dir.path(), b"just arrived");
        assert_eq!(
            store.offload(&CancellationToken::new()).await,
            Offloaded::default()
        );
        assert!(crate::media::dir(dir.path()).join(&name).exists());
        assert!(
            memory
                .head(&ObjectPath::from(format!("media/{name}")))
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn a_partial_object_in_the_bucket_is_replaced_not_trusted() {
        let dir = tempfile::tempdir().expect("dir");
        let (store, memory) = store(dir.path(), Duration::ZERO);
        let name = keep(dir.path(), b"the whole file");
        let path = ObjectPath::from(format!("media/{name}"));
        memory
            .put(&path, b"the wh".to_vec().into())
            .await
            .expect("put");
        assert_eq!(store.offload(&CancellationToken::new()).await.moved, 1);
        let got = memory
            .get(&path)
            .await
            .expect("get")
            .bytes()
            .await
            .expect("bytes");
        assert_eq!(got.as_ref(), b"the whole file");
    }

    #[tokio::test]
    async fn the_sweep_removes_only_old_unused_files_of_its_prefix() {
        let dir = tempfile::tempdir().expect("dir");
        let (store, memory) = store(dir.path(), Duration::ZERO);
        let used = keep(dir.path(), b"used");
        let unused = keep(dir.path(), b"unused");
        store.offload(&CancellationToken::new()).await;
        let other = ObjectPath::from(format!("backups/{}", sha(b"other")));
        memory.put(&other, b"x".to_vec().into()).await.expect("put");
        let in_use: HashSet<String> = [used.clone()].into();

        // Everything went up just now: nothing is old enough yet.
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        assert_eq!(
            store.sweep_bucket(&in_use, hour_ago).await.expect("sweep"),
            0
        );
        let later = SystemTime::now() + Duration::from_secs(1);
        assert_eq!(store.sweep_bucket(&in_use, later).await.expect("sweep"), 1);
        assert!(read(&store, &unused).await.is_none());
        assert!(read(&store, &used).await.is_some());
        assert!(
            memory.head(&other).await.is_ok(),
            "outside the prefix: not ours"
        );
    }

    #[test]
    fn prefixes_are_folders() {
        assert_eq!(folder("media"), "media/");
        assert_eq!(folder("/kabar/media/"), "kabar/media/");
        assert_eq!(folder(" "), "");
    }

    #[test]
    fn only_content_names_are_media_files() {
        assert!(is_media_name(&sha(b"x")));
        assert!(!is_media_name(".incoming-abc"));
        assert!(!is_media_name(&sha(b"x").to_uppercase()));
        assert!(!is_media_name(&sha(b"x")[..63]));
    }
}
