//! Media files (contract §11): what `/send-media` takes in (a multipart upload, base64 in JSON,
//! or a `url` fetched through the webhook SSRF guard), what kind of file it is (from its bytes,
//! not its name), where the bytes are kept, and `GET /api/messages/{id}/media`.
//!
//! Every way in streams the file into [`Intake`]: a temporary file under `media/` in the data
//! dir, hashed and counted as it arrives, refused with `413 MEDIA_TOO_LARGE` the moment it
//! passes `--max-media-bytes`, then renamed to its SHA-256 (content-addressed: the same file
//! sent many times is kept once). The engines read it from there.

use crate::{
    auth::extract::Caller,
    error::{ApiError, ApiResult},
    json::Query,
    messages::MediaMeta,
    openapi::{BadRequest, Forbidden, InternalError, NotFound, Unauthorized},
    state::AppState,
};
use app::model::{ErrorCode, SendMedia};
use axum::{
    Router,
    extract::{Path as UrlPath, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

mod voice;

/// What a voice note is, whatever it was made from.
const VOICE_MIMETYPE: &str = "audio/ogg; codecs=opus";
/// How many bytes the type sniffing looks at.
const HEAD: usize = 8192;
/// How long fetching a `url` may take, from connecting to the last byte.
const FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
/// Redirects followed when fetching a `url`; each hop is checked like the first.
const MAX_REDIRECTS: usize = 5;

/// What WhatsApp shows a file as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    /// A voice note (push to talk): Opus in OGG, made from other audio when it is not.
    Voice,
    Document,
    /// WebP.
    Sticker,
}

impl MediaKind {
    pub const ALL: [MediaKind; 6] = [
        MediaKind::Image,
        MediaKind::Video,
        MediaKind::Audio,
        MediaKind::Voice,
        MediaKind::Document,
        MediaKind::Sticker,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
            MediaKind::Voice => "voice",
            MediaKind::Document => "document",
            MediaKind::Sticker => "sticker",
        }
    }

    pub fn parse(s: &str) -> Option<MediaKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The kind a file is sent as when the request names none.
    fn inferred(mimetype: &str) -> MediaKind {
        match mimetype {
            "image/jpeg" | "image/png" => MediaKind::Image,
            "image/webp" => MediaKind::Sticker,
            "video/mp4" | "video/3gpp" => MediaKind::Video,
            m if AUDIO.contains(&m) => MediaKind::Audio,
            _ => MediaKind::Document,
        }
    }

    /// Whether WhatsApp takes a file of `mimetype` as this kind; the refusal says what to do.
    fn accepts(self, mimetype: &str) -> Result<(), String> {
        let (ok, wants) = match self {
            MediaKind::Image => (
                matches!(mimetype, "image/jpeg" | "image/png"),
                "a JPEG or PNG image",
            ),
            MediaKind::Video => (
                matches!(mimetype, "video/mp4" | "video/3gpp"),
                "an MP4 or 3GP video",
            ),
            MediaKind::Audio => (
                AUDIO.contains(&mimetype),
                "audio as OGG/Opus, MP3, M4A/AAC or AMR",
            ),
            MediaKind::Voice => (
                mimetype == "audio/opus" || voice::CONVERTS.contains(&mimetype),
                "Opus in an OGG file, or MP3, WAV, M4A/AAC or Ogg Vorbis, which Kabar converts",
            ),
            MediaKind::Sticker => (mimetype == "image/webp", "a WebP image"),
            MediaKind::Document => (true, ""),
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "type {}: WhatsApp takes {wants}; this file is {mimetype}. Send it with \"type\":\"document\" to send it as a file.",
                self.as_str()
            ))
        }
    }
}

/// Audio WhatsApp plays inline.
const AUDIO: [&str; 8] = [
    "audio/ogg",
    "audio/opus",
    "audio/mpeg",
    "audio/mp4",
    "audio/m4a",
    "audio/x-m4a",
    "audio/aac",
    "audio/amr",
];

/// A file taken in and stored, with what the request said about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub kind: MediaKind,
    pub meta: MediaMeta,
    pub path: PathBuf,
    /// Keeps the file on disk (not moved to the bucket) until the send is done with it.
    pub hold: Option<crate::media_store::Hold>,
}

/// What a request says about its file besides the bytes.
#[derive(Debug, Default, Clone)]
pub struct Declared {
    pub kind: Option<String>,
    pub mimetype: Option<String>,
    pub filename: Option<String>,
}

/// `GET /api/messages/{id}/media`.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/messages/{id}/media", get(media_handler))
}

/// `POST /send-media` as `multipart/form-data` (for the OpenAPI document): the file in `file`,
/// the other fields as text parts named as in the JSON form.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SendMediaUpload {
    to: String,
    /// The file.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// `image`, `video`, `audio`, `voice`, `document` or `sticker`; inferred when absent. A
    /// voice note is Opus in OGG, or MP3, WAV, M4A/AAC or Ogg Vorbis, which Kabar converts.
    #[schema(rename = "type")]
    kind: Option<String>,
    /// Default: the `file` part's `Content-Type`.
    mimetype: Option<String>,
    /// Default: the `file` part's file name.
    filename: Option<String>,
    caption: Option<String>,
    /// `true` or `false`.
    #[schema(rename = "viewOnce")]
    view_once: Option<bool>,
    reply_to_id: Option<String>,
}

/// Which session's message, when the same id is in several of the caller's sessions.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MediaQuery {
    /// The session the message belongs to (needed only when ids collide across sessions).
    pub session: Option<String>,
}

/// The file of a media message sent or received by one of your sessions (an admin's: any),
/// streamed with its type. Documents and anything not shown inline come as attachments;
/// nothing here runs in a browser (`Content-Security-Policy: sandbox`).
#[utoipa::path(
    get, path = "/api/messages/{id}/media", operation_id = "getMessageMedia", tag = "messages",
    params(("id" = String, Path, description = "The `messageId` the send answered or the webhook carried."), MediaQuery),
    responses(
        (status = 200, description = "The file's bytes.", content(
            ("application/octet-stream"),
            ("image/jpeg"),
            ("application/pdf"),
        ), headers(
            ("Content-Disposition" = String, description = "`inline` or `attachment`, with the file name when it has one."),
        )),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 500, response = InternalError),
    )
)]
pub(crate) async fn media_handler(
    State(state): State<AppState>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
    Query(q): Query<MediaQuery>,
) -> ApiResult<Response> {
    let session = crate::messages::session_of(&state, &caller, &id, q.session.as_deref()).await?;
    let row: Option<(String, i64, Option<String>, String)> = sqlx::query_as(
        "SELECT media_mimetype, media_size, media_filename, media_sha256 FROM messages
         WHERE session_id = ? AND id = ? AND media_sha256 IS NOT NULL",
    )
    .bind(&session)
    .bind(&id)
    .fetch_optional(&state.db)
    .await?;
    let Some((mimetype, size, filename, sha256)) = row else {
        return Err(ApiError::new(
            ErrorCode::MessageNotFound,
            "This message has no file.",
        ));
    };
    let Some(body) = state.media.open(&sha256).await? else {
        return Err(ApiError::new(
            ErrorCode::MessageNotFound,
            "This message's file is no longer kept on the server.",
        ));
    };
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&mimetype)
            .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(size.max(0) as u64),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(&mimetype, filename.as_deref()),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400"),
    );
    Ok(resp)
}

/// Pictures, videos and audio open in the browser; anything else (a PDF, an HTML file someone
/// sent) downloads. The name goes both as ASCII and as UTF-8 (RFC 6266).
fn content_disposition(mimetype: &str, filename: Option<&str>) -> HeaderValue {
    let inline = ["image/", "video/", "audio/"]
        .iter()
        .any(|p| mimetype.starts_with(p));
    let disposition = if inline { "inline" } else { "attachment" };
    let value = match filename {
        Some(name) => {
            let ascii: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let encoded: String = name
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            format!("{disposition}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
        }
        None => disposition.to_string(),
    };
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// What a received file is reported as (`message.in`'s `type`): a voice note is audio.
pub fn received_kind(kind: MediaKind) -> crate::engine::MessageKind {
    use crate::engine::MessageKind;
    match kind {
        MediaKind::Image => MessageKind::Image,
        MediaKind::Video => MessageKind::Video,
        MediaKind::Audio | MediaKind::Voice => MessageKind::Audio,
        MediaKind::Document => MessageKind::Document,
        MediaKind::Sticker => MessageKind::Sticker,
    }
}

/// A file an engine is receiving: a temporary file in the media store under `data_dir`.
pub fn incoming_file(data_dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = dir(data_dir);
    std::fs::create_dir_all(&dir)?;
    tempfile::Builder::new()
        .prefix(".incoming-")
        .tempfile_in(dir)
}

/// Keeps a file an engine received: hashes it and moves it to its place in the store.
/// Answers its SHA-256 (hex) and size. Blocking: call it off the async threads.
pub fn keep_incoming(
    data_dir: &Path,
    file: tempfile::NamedTempFile,
) -> std::io::Result<(String, u64)> {
    use std::io::Read;
    let mut hasher = Sha256::new();
    let mut reader = std::fs::File::open(file.path())?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    let sha256 = hex::encode(hasher.finalize());
    file.persist(path_of(data_dir, &sha256))
        .map_err(|e| e.error)?;
    Ok((sha256, size))
}

/// Where stored files live.
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("media")
}

/// The stored file with this SHA-256 (hex).
pub fn path_of(data_dir: &Path, sha256: &str) -> PathBuf {
    dir(data_dir).join(sha256)
}

/// A file arriving in pieces: written to a temporary file, hashed and counted.
pub struct Intake {
    file: tokio::fs::File,
    tmp: tempfile::TempPath,
    hasher: Sha256,
    size: u64,
    limit: u64,
    head: Vec<u8>,
    data_dir: PathBuf,
    holds: crate::media_store::Holds,
}

impl Intake {
    pub async fn new(state: &AppState) -> ApiResult<Intake> {
        let data_dir = state.config.data_dir.clone();
        let dir = dir(&data_dir);
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("creating {}: {e}", dir.display())))?;
        let (file, tmp) = tempfile::Builder::new()
            .prefix(".incoming-")
            .tempfile_in(&dir)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("a temporary media file: {e}")))?
            .into_parts();
        Ok(Intake {
            file: tokio::fs::File::from_std(file),
            tmp,
            hasher: Sha256::new(),
            size: 0,
            limit: state.config.max_media_bytes,
            head: Vec::new(),
            data_dir,
            holds: state.media.holds().clone(),
        })
    }

    /// Takes the next piece; refuses the file once it passes the limit.
    pub async fn push(&mut self, chunk: &[u8]) -> ApiResult<()> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(too_large(self.limit));
        }
        if self.head.len() < HEAD {
            let take = chunk.len().min(HEAD - self.head.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.hasher.update(chunk);
        self.file
            .write_all(chunk)
            .await
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("writing a media file: {e}")))
    }

    /// Names the file's kind and type from its bytes and what was declared, and keeps it.
    pub async fn finish(mut self, declared: Declared) -> ApiResult<Stored> {
        if self.size == 0 {
            return Err(ApiError::invalid("the file is empty."));
        }
        let (kind, mimetype) = classify(&self.head, &declared)?;
        self.file
            .flush()
            .await
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("writing a media file: {e}")))?;
        drop(self.file);
        if kind == MediaKind::Voice && !voice::is_ogg_opus(&self.head) {
            (self.tmp, self.size, self.hasher) = as_voice_note(self.tmp, &self.data_dir).await?;
        }
        let sha256 = hex::encode(self.hasher.finalize());
        let path = path_of(&self.data_dir, &sha256);
        // Before the file is in place: from then on it stays on disk for this send.
        let hold = self.holds.hold(&sha256);
        self.tmp
            .persist(&path)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("keeping a media file: {e}")))?;
        let filename = declared
            .filename
            .map(|f| clean_filename(&f))
            .filter(|f| !f.is_empty());
        Ok(Stored {
            kind,
            meta: MediaMeta {
                mimetype,
                size: self.size,
                filename,
                sha256,
            },
            path,
            hold: Some(hold),
        })
    }
}

/// Turns to convert audio to a voice note: as many as the machine has cores.
static CONVERTING: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
});

/// The voice note made of the audio file at `source` (which goes): a new temporary file, its
/// size and its hash so far.
async fn as_voice_note(
    source: tempfile::TempPath,
    data_dir: &Path,
) -> ApiResult<(tempfile::TempPath, u64, Sha256)> {
    let dir = dir(data_dir);
    // One conversion per core at a time: each is seconds of CPU and holds the decoded audio
    // (up to 15 minutes of it, ~170 MB at 48 kHz), so a burst of voice notes queues here
    // instead of filling the blocking pool and the memory at once.
    let _turn = CONVERTING
        .acquire()
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("converting a voice note: {e}")))?;
    let made = tokio::task::spawn_blocking(move || {
        let note = voice::to_ogg_opus(&source)?;
        let mut file = tempfile::Builder::new()
            .prefix(".incoming-")
            .tempfile_in(&dir)
            .map_err(|e| Made::Io(format!("a temporary media file: {e}")))?;
        std::io::Write::write_all(&mut file, &note)
            .map_err(|e| Made::Io(format!("writing a media file: {e}")))?;
        Ok::<_, Made>((file.into_temp_path(), note))
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("converting a voice note: {e}")))?;
    match made {
        Ok((path, note)) => Ok((path, note.len() as u64, Sha256::new_with_prefix(&note))),
        Err(Made::Io(e)) => Err(ApiError::Internal(anyhow::anyhow!(e))),
        Err(Made::Refused(e)) => Err(ApiError::new(
            ErrorCode::UnsupportedMedia,
            format!(
                "type voice: {e}. Send Opus in OGG, or send it with \"type\":\"audio\" as a song."
            ),
        )),
    }
}

/// How making a voice note failed: the file (the client's to fix) or the disk (ours).
enum Made {
    Refused(voice::ConvertError),
    Io(String),
}

impl From<voice::ConvertError> for Made {
    fn from(e: voice::ConvertError) -> Self {
        Made::Refused(e)
    }
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        ErrorCode::MediaTooLarge,
        format!("The file is larger than this server takes ({limit} bytes, --max-media-bytes)."),
    )
}

/// The kind to send a file as and its type. The bytes decide the type when they are a format
/// Kabar recognises (a PDF named `.jpg` is a PDF); else the declared type, else the name's.
pub fn classify(head: &[u8], declared: &Declared) -> ApiResult<(MediaKind, String)> {
    let sniffed = infer::get(head).map(|t| t.mime_type().to_string());
    let mimetype = sniffed
        .clone()
        .or_else(|| {
            declared
                .mimetype
                .as_deref()
                .map(|m| {
                    m.split(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_ascii_lowercase()
                })
                // "Some bytes" says nothing: clients send it for any file they cannot name.
                .filter(|m| m.contains('/') && m != "application/octet-stream")
        })
        .or_else(|| {
            declared
                .filename
                .as_deref()
                .and_then(|f| mime_guess::from_path(f).first_raw())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "application/octet-stream".to_string());
    let kind = match declared.kind.as_deref().map(str::trim) {
        None | Some("") => MediaKind::inferred(&mimetype),
        Some(k) => MediaKind::parse(k).ok_or_else(|| {
            ApiError::invalid(
                "type: one of image, video, audio, voice, document, sticker (or leave it out).",
            )
        })?,
    };
    // Only a recognised format may be shown inline: WhatsApp renders what it is told.
    if kind != MediaKind::Document && sniffed.is_none() {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMedia,
            format!(
                "type {}: the content is not a recognisable {} file. Send it with \"type\":\"document\" to send it as a file.",
                kind.as_str(),
                kind.as_str()
            ),
        ));
    }
    kind.accepts(&mimetype)
        .map_err(|m| ApiError::new(ErrorCode::UnsupportedMedia, m))?;
    let mimetype = if kind == MediaKind::Voice {
        VOICE_MIMETYPE.to_string()
    } else {
        mimetype
    };
    Ok((kind, mimetype))
}

/// A file name as a recipient should see it: no directories, no control characters.
fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    base.chars()
        .filter(|c| !c.is_control())
        .take(255)
        .collect::<String>()
        .trim()
        .to_string()
}

/// The largest `/send-media` request body: the largest file as base64 (4/3 of its size), and
/// a megabyte for the other fields and a multipart body's framing.
pub fn max_request_bytes(config: &crate::Config) -> usize {
    let file = config.max_media_bytes.saturating_mul(4) / 3 + 4;
    usize::try_from(file.saturating_add(1024 * 1024)).unwrap_or(usize::MAX)
}

/// A `/send-media` request's fields besides the file, as JSON or multipart parts carry them.
#[derive(Debug, Default)]
pub struct Fields {
    pub to: Option<String>,
    pub caption: Option<String>,
    pub view_once: bool,
    pub reply_to_id: Option<String>,
    pub declared: Declared,
}

/// Takes in a `multipart/form-data` upload: the file (the `file` part, streamed to the store)
/// and the same fields as the JSON form, as text parts.
pub async fn from_multipart(
    state: &AppState,
    mut multipart: axum::extract::Multipart,
) -> ApiResult<(Stored, Fields)> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            too_large(state.config.max_media_bytes)
        } else {
            ApiError::invalid(format!("Invalid multipart body: {}", e.body_text()))
        }
    };
    let mut fields = Fields::default();
    let mut intake = None;
    let (mut file_mimetype, mut file_name) = (None, None);
    while let Some(mut part) = multipart.next_field().await.map_err(bad)? {
        let name = part.name().unwrap_or_default().to_string();
        if name == "file" {
            if intake.is_some() {
                return Err(ApiError::invalid("file: send one file per message."));
            }
            file_mimetype = part.content_type().map(str::to_string);
            file_name = part.file_name().map(str::to_string);
            let mut into = Intake::new(state).await?;
            while let Some(chunk) = part.chunk().await.map_err(bad)? {
                into.push(&chunk).await?;
            }
            intake = Some(into);
            continue;
        }
        let value = part.text().await.map_err(bad)?;
        let value = Some(value).filter(|v| !v.is_empty());
        match name.as_str() {
            "to" => fields.to = value,
            "type" => fields.declared.kind = value,
            "mimetype" => fields.declared.mimetype = value,
            "filename" => fields.declared.filename = value,
            "caption" => fields.caption = value,
            "reply_to_id" | "replyToId" => fields.reply_to_id = value,
            "viewOnce" => {
                fields.view_once = match value.as_deref() {
                    None | Some("false") => false,
                    Some("true") => true,
                    Some(_) => return Err(ApiError::invalid("viewOnce: `true` or `false`.")),
                }
            }
            "url" | "base64" => {
                return Err(ApiError::invalid(format!(
                    "{name}: a multipart upload carries the file in its `file` part; send `{name}` as JSON instead."
                )));
            }
            other => return Err(ApiError::invalid(format!("unknown part `{other}`."))),
        }
    }
    let intake = intake.ok_or_else(|| ApiError::invalid("file: the upload has no `file` part."))?;
    if fields.declared.mimetype.is_none() {
        fields.declared.mimetype = file_mimetype;
    }
    if fields.declared.filename.is_none() {
        fields.declared.filename = file_name;
    }
    let stored = intake.finish(fields.declared.clone()).await?;
    Ok((stored, fields))
}

/// Removes a stored file that no message or auto-reply rule refers to (a send that was refused
/// after its file arrived), so refused uploads do not pile up on disk.
pub async fn discard(state: &AppState, file: &Stored) {
    let used: Result<(bool,), _> = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM messages WHERE media_sha256 = ?1)
             OR EXISTS (SELECT 1 FROM auto_reply_rules WHERE json_extract(media, '$.sha256') = ?1)",
    )
    .bind(&file.meta.sha256)
    .fetch_one(&state.db)
    .await;
    // Another send of the same bytes, not recorded yet, may hold it: then it stays.
    let own = usize::from(file.hold.is_some());
    if let Ok((false,)) = used
        && let Err(e) = state.media.remove_unless_held(&file.meta.sha256, own, None)
    {
        tracing::warn!(path = %file.path.display(), error = %e, "removing an unsent media file");
    }
}

/// Takes in the file of a JSON request: its `base64`, or its `url` (fetched with the session
/// owner's permission for private addresses).
pub async fn from_json(state: &AppState, session: &str, req: &SendMedia) -> ApiResult<Stored> {
    let declared = Declared {
        kind: req.kind.clone(),
        mimetype: req.mimetype.clone(),
        filename: req.filename.clone(),
    };
    let allow_private = match req.url {
        Some(_) => crate::settings::allow_private_for(state, Some(session)).await?,
        None => false,
    };
    take_in(
        state,
        req.url.as_deref(),
        req.base64.as_deref(),
        allow_private,
        declared,
    )
    .await
}

/// Takes in a file given as exactly one of `url` (fetched through the SSRF guard, private
/// addresses only with `allow_private`) or `base64`.
pub async fn take_in(
    state: &AppState,
    url: Option<&str>,
    base64: Option<&str>,
    allow_private: bool,
    declared: Declared,
) -> ApiResult<Stored> {
    match (base64, url) {
        (Some(b64), None) => from_base64(state, b64, declared).await,
        (None, Some(url)) => fetch(state, allow_private, url, declared).await,
        _ => Err(ApiError::invalid(
            "give the file as exactly one of `url` or `base64` (or upload it as multipart/form-data).",
        )),
    }
}

/// Takes in a file given as base64 (a `data:` URL names its type).
pub async fn from_base64(state: &AppState, b64: &str, mut declared: Declared) -> ApiResult<Stored> {
    // A data URL names its type: `data:application/pdf;base64,JVBERi0…`.
    let data = match b64.strip_prefix("data:").and_then(|r| r.split_once(',')) {
        Some((meta, data)) => {
            if declared.mimetype.is_none() {
                declared.mimetype = meta.split(';').next().map(str::to_string);
            }
            data
        }
        None => b64,
    };
    let clean: Vec<u8> = data.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let limit = state.config.max_media_bytes;
    if (clean.len() as u64 / 4) * 3 > limit + 3 {
        return Err(too_large(limit));
    }
    let mut intake = Intake::new(state).await?;
    let engine = base64::engine::general_purpose::STANDARD;
    // Whole quanta of 4 characters decode independently: 64 KiB of text at a time.
    for chunk in clean.chunks(64 * 1024) {
        let bytes = engine
            .decode(chunk)
            .map_err(|e| ApiError::invalid(format!("base64: not valid base64 ({e}).")))?;
        intake.push(&bytes).await?;
    }
    intake.finish(declared).await
}

fn fetch_failed(message: impl Into<std::borrow::Cow<'static, str>>) -> ApiError {
    ApiError::new(ErrorCode::MediaFetchFailed, message)
}

/// The HTTP clients that fetch `url`s: no proxies and the guarded resolver, as webhooks.
fn client(allow_private: bool) -> ApiResult<&'static reqwest::Client> {
    static GUARDED: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    static OPEN: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    let cell = if allow_private { &OPEN } else { &GUARDED };
    if let Some(c) = cell.get() {
        return Ok(c);
    }
    let built = reqwest::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .connect_timeout(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Kabar/", env!("CARGO_PKG_VERSION"), " (media)"))
        .no_proxy()
        .dns_resolver(std::sync::Arc::new(
            crate::webhooks::ssrf::GuardedResolver { allow_private },
        ))
        .build()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("the media HTTP client: {e}")))?;
    Ok(cell.get_or_init(|| built))
}

/// Fetches `url` into the store: the SSRF guard on every hop (the session owner's private
/// address permission, as for webhooks), a time limit, and the size limit while it streams.
async fn fetch(
    state: &AppState,
    allow_private: bool,
    url: &str,
    mut declared: Declared,
) -> ApiResult<Stored> {
    let http = client(allow_private)?;
    let mut url = url.to_string();
    let mut response = None;
    for _ in 0..=MAX_REDIRECTS {
        let checked = crate::webhooks::ssrf::check_url(&url, allow_private)
            .await
            .map_err(ApiError::invalid)?;
        let r = http
            .get(checked.clone())
            .send()
            .await
            .map_err(|e| fetch_failed(format!("url: {}", fetch_error(&e))))?;
        if r.status().is_redirection() {
            let next = r
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| checked.join(l).ok())
                .ok_or_else(|| fetch_failed("url: a redirect without a usable Location."))?;
            url = next.to_string();
            continue;
        }
        response = Some((checked, r));
        break;
    }
    let (final_url, mut r) = response
        .ok_or_else(|| fetch_failed(format!("url: more than {MAX_REDIRECTS} redirects.")))?;
    if !r.status().is_success() {
        return Err(fetch_failed(format!(
            "url: the server answered {}.",
            r.status()
        )));
    }
    let limit = state.config.max_media_bytes;
    if r.content_length().is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    if declared.mimetype.is_none() {
        declared.mimetype = r
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
    }
    if declared.filename.is_none() {
        declared.filename = final_url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .filter(|s| !s.is_empty())
            .map(percent_decode);
    }
    let mut intake = Intake::new(state).await?;
    while let Some(chunk) = r
        .chunk()
        .await
        .map_err(|e| fetch_failed(format!("url: {}", fetch_error(&e))))?
    {
        intake.push(&chunk).await?;
    }
    intake.finish(declared).await
}

/// A fetch error as a client can act on it (without reqwest's nested internals).
fn fetch_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        format!("no answer within {} seconds.", FETCH_TIMEOUT.as_secs())
    } else if e.is_connect() {
        "could not connect (the address is unreachable, or refused as internal).".to_string()
    } else {
        "the transfer failed.".to_string()
    }
}

/// `%20` and friends in a URL's last segment, for a file name.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
    const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n";
    const OGG: &[u8] = b"OggS\0\x02\0\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\0\0\0\0\x01\x13OpusHead";

    fn declared(kind: Option<&str>, mimetype: Option<&str>, filename: Option<&str>) -> Declared {
        Declared {
            kind: kind.map(str::to_string),
            mimetype: mimetype.map(str::to_string),
            filename: filename.map(str::to_string),
        }
    }

    #[test]
    fn the_bytes_decide_the_type_not_the_name() {
        let (kind, mime) =
            classify(PNG, &declared(None, None, Some("photo.pdf"))).expect("classified");
        assert_eq!((kind, mime.as_str()), (MediaKind::Image, "image/png"));
        let (kind, mime) = classify(
            PDF,
            &declared(None, Some("image/jpeg"), Some("invoice.jpg")),
        )
        .expect("classified");
        assert_eq!(
            (kind, mime.as_str()),
            (MediaKind::Document, "application/pdf")
        );
    }

    #[test]
    fn unknown_bytes_fall_back_to_the_declared_type_then_the_name() {
        let csv = b"sku,price\nA1,10000\n";
        let (kind, mime) =
            classify(csv, &declared(None, Some("text/csv"), None)).expect("classified");
        assert_eq!((kind, mime.as_str()), (MediaKind::Document, "text/csv"));
        let (_, mime) =
            classify(csv, &declared(None, None, Some("prices.csv"))).expect("classified");
        assert_eq!(mime, "text/csv");
        let generic = declared(None, Some("application/octet-stream"), Some("prices.csv"));
        assert_eq!(classify(csv, &generic).expect("classified").1, "text/csv");
        let (_, mime) = classify(csv, &declared(None, None, None)).expect("classified");
        assert_eq!(mime, "application/octet-stream");
    }

    #[test]
    fn a_kind_that_does_not_fit_the_bytes_is_refused_with_the_way_out() {
        for (kind, bytes) in [
            ("image", PDF),
            ("video", PNG),
            ("sticker", PNG),
            ("voice", PDF),
        ] {
            let e = classify(bytes, &declared(Some(kind), None, None)).expect_err("refused");
            assert_eq!(e.body().error, ErrorCode::UnsupportedMedia, "{kind}");
            assert!(e.to_string().contains("\"type\":\"document\""), "{e}");
        }
        // Text claiming to be an image is not shown as one.
        let e = classify(b"hello", &declared(Some("image"), Some("image/png"), None))
            .expect_err("refused");
        assert_eq!(e.body().error, ErrorCode::UnsupportedMedia);
        let e = classify(PNG, &declared(Some("gif"), None, None)).expect_err("refused");
        assert_eq!(e.body().error, ErrorCode::InvalidRequest);
        // Anything goes as a document.
        assert!(classify(PNG, &declared(Some("document"), None, None)).is_ok());
    }

    #[test]
    fn voice_notes_are_opus_in_ogg() {
        let (kind, mime) = classify(OGG, &declared(Some("voice"), None, None)).expect("classified");
        assert_eq!(kind, MediaKind::Voice);
        assert_eq!(mime, VOICE_MIMETYPE);
        let (kind, _) = classify(OGG, &declared(None, None, None)).expect("classified");
        assert_eq!(kind, MediaKind::Audio);
    }

    #[test]
    fn file_names_lose_directories_and_control_characters() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(
            clean_filename("C:\\Users\\a\\invoice 7.pdf"),
            "invoice 7.pdf"
        );
        assert_eq!(clean_filename("a\nb\u{7}.txt"), "ab.txt");
        assert_eq!(percent_decode("price%20list.pdf"), "price list.pdf");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
