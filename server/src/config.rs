//! Configuration: one struct, read from defaults, then `KABAR_*` environment variables (and a
//! `.env` file when present), then command-line flags (contract §10). Validated at start.

use clap::{Parser, ValueEnum};
use std::{net::SocketAddr, path::PathBuf};

/// Which WhatsApp implementation sessions run on (contract §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineKind {
    /// The real WhatsApp Web multi-device protocol (default).
    Whatsapp,
    /// An in-process stand-in for tests and demos. Never the default.
    Simulator,
}

impl EngineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::Whatsapp => "whatsapp",
            EngineKind::Simulator => "simulator",
        }
    }
}

/// Everything an operator can set. `.env.example` lists each knob with its default.
#[derive(Clone, Parser)]
#[command(name = "kabar", version, about = "Self-hosted WhatsApp gateway")]
pub struct Config {
    /// What to do instead of serving (none: run the server).
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Address to listen on.
    #[arg(long, env = "KABAR_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Where the SQLite database and the WhatsApp device stores live.
    #[arg(long, env = "KABAR_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,

    /// Database URL; default: SQLite file `kabar.db` in the data dir.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// WhatsApp engine: `whatsapp` (real) or `simulator` (tests and demos only).
    #[arg(long, env = "KABAR_ENGINE", value_enum, default_value = "whatsapp")]
    pub engine: EngineKind,

    /// Secret that signs login tokens; default: generated on first start, kept in the database.
    #[arg(long, env = "KABAR_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Country code that replaces a leading 0 in phone numbers (e.g. 62 for Indonesia).
    #[arg(long, env = "KABAR_DEFAULT_COUNTRY_CODE")]
    pub default_country_code: Option<String>,

    /// Allow webhook URLs on loopback, private, link-local or metadata addresses.
    #[arg(long, env = "KABAR_ALLOW_PRIVATE_WEBHOOKS", default_value_t = false)]
    pub allow_private_webhooks: bool,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "KABAR_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Largest media file `/send-media` takes (upload, base64 or `url`), in bytes. WhatsApp's
    /// own limits are lower for some kinds (16 MiB for images and videos on most phones).
    #[arg(long, env = "KABAR_MAX_MEDIA_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_media_bytes: u64,

    /// Messages per second each session may send after its burst; 0 turns the limit off.
    #[arg(long, env = "KABAR_SEND_RATE", default_value_t = 1)]
    pub send_rate: u32,

    /// How many messages a session may send at once before `--send-rate` applies.
    #[arg(long, env = "KABAR_SEND_BURST", default_value_t = 20)]
    pub send_burst: u32,

    /// Mark the login cookie `Secure` (set this when Kabar is served over HTTPS).
    #[arg(long, env = "KABAR_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,

    /// How long a login lasts, in hours.
    #[arg(long, env = "KABAR_SESSION_HOURS", default_value_t = 24 * 7)]
    pub session_hours: u32,

    /// How long a webhook receiver may take to answer, in seconds.
    #[arg(long, env = "KABAR_WEBHOOK_TIMEOUT_SECS", default_value_t = 15)]
    pub webhook_timeout_secs: u64,

    /// Delays between webhook attempts (after the first), e.g. `5s,30s,2m,10m,30m,1h,3h,6h,12h,24h`.
    #[arg(long, env = "KABAR_WEBHOOK_RETRY_SCHEDULE", default_value = crate::webhooks::retry::DEFAULT_SCHEDULE)]
    pub webhook_retry_schedule: String,

    /// How many webhook deliveries may be in flight at once.
    #[arg(long, env = "KABAR_WEBHOOK_CONCURRENCY", default_value_t = 16)]
    pub webhook_concurrency: usize,

    /// Seconds before the same auto-reply rule answers the same contact again.
    #[arg(long, env = "KABAR_AUTO_REPLY_COOLDOWN_SECS", default_value_t = 5)]
    pub auto_reply_cooldown_secs: u64,

    /// Auto-reply loop guard: a message that arrives within this many seconds of an
    /// auto-reply in the same chat is taken for another bot's answer and not answered; 0 = off.
    #[arg(long, env = "KABAR_AUTO_REPLY_BOT_WINDOW_SECS", default_value_t = 2)]
    pub auto_reply_bot_window_secs: u64,

    /// Auto-reply loop guard: at most this many auto-replies per chat per minute; 0 = no cap.
    #[arg(
        long,
        env = "KABAR_AUTO_REPLY_PER_CHAT_PER_MINUTE",
        default_value_t = 6
    )]
    pub auto_reply_per_chat_per_minute: usize,

    /// Simulator only: how long the first pairing code lasts, in milliseconds.
    #[arg(long, env = "KABAR_SIMULATOR_FIRST_QR_MS", default_value_t = 60_000)]
    pub simulator_first_qr_ms: u64,

    /// Simulator only: how long later pairing codes last, in milliseconds.
    #[arg(long, env = "KABAR_SIMULATOR_NEXT_QR_MS", default_value_t = 20_000)]
    pub simulator_next_qr_ms: u64,

    /// Simulator only: how soon a dropped link comes back, in milliseconds.
    #[arg(long, env = "KABAR_SIMULATOR_RECONNECT_MS", default_value_t = 2_000)]
    pub simulator_reconnect_ms: u64,

    /// A bearer token that may read `/metrics` (for a Prometheus scraper); admins' cookies and
    /// keys always may.
    #[arg(long, env = "KABAR_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// WhatsApp engine: the WebSocket URL to dial instead of WhatsApp's own (tests point it at a
    /// closed loopback port; a proxy or mock server could sit here).
    #[arg(long, env = "KABAR_WHATSAPP_URL")]
    pub whatsapp_url: Option<String>,

    /// WhatsApp engine: the base URL (`http://host:port`) to reach WhatsApp's media hosts at
    /// instead of `https://<host>` (uploads and downloads of files; tests point it at the fake
    /// WhatsApp server, as `--whatsapp-url`).
    #[arg(long, env = "KABAR_WHATSAPP_MEDIA_URL")]
    pub whatsapp_media_url: Option<String>,

    /// WhatsApp engine: keep the sessions' device stores (their keys) in PostgreSQL at this
    /// URL (`postgres://user:password@host/db`) instead of `whatsapp/devices.db` in the data
    /// dir: backed up, replicated and shared with the database server's tools. Only the device
    /// stores move; accounts, messages and the outbox stay in `--database-url`.
    #[arg(long, env = "KABAR_WHATSAPP_STORE_URL", hide_env_values = true)]
    pub whatsapp_store_url: Option<String>,

    /// WhatsApp engine: the WhatsApp Web version to announce, e.g. `2.3000.1042742319`.
    /// Unset, the client fetches the current one from web.whatsapp.com at start.
    #[arg(long, env = "KABAR_WHATSAPP_VERSION")]
    pub whatsapp_version: Option<String>,

    /// Log one info line per HTTP request (an access log). Off by default: health checks,
    /// metrics scrapes and static assets never log at info either way.
    #[arg(long, env = "KABAR_ACCESS_LOG", default_value_t = false)]
    pub access_log: bool,

    /// Write logs as JSON lines instead of human-readable text.
    #[arg(long, env = "KABAR_LOG_JSON", default_value_t = false)]
    pub log_json: bool,

    /// Reverse proxies (addresses or CIDR ranges, comma-separated, e.g. `127.0.0.1,10.0.0.0/8`)
    /// whose `X-Forwarded-For` / `Forwarded` headers name the real client. Requests from
    /// anywhere else are taken at their connection's address, so a client cannot forge its own.
    #[arg(long, env = "KABAR_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_net)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Key that encrypts webhook secrets at rest (any string); default: a random key kept in
    /// `<data dir>/secret.key`, mode 0600. Keep it (or that file) with your backups.
    #[arg(long, env = "KABAR_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,

    /// Accounts one client address may register per hour (self-registration); 0 = no limit.
    #[arg(long, env = "KABAR_REGISTRATIONS_PER_HOUR", default_value_t = 10)]
    pub registrations_per_hour: u32,

    /// An S3-compatible bucket to keep media files in (AWS S3, MinIO, Cloudflare R2, Backblaze
    /// B2, Garage…). Unset, they stay under the data dir. Files arrive on disk first and move
    /// once they are `--media-s3-keep-local-secs` old (docs/production.md, Media storage).
    #[arg(long, env = "KABAR_MEDIA_S3_BUCKET")]
    pub media_s3_bucket: Option<String>,

    /// The bucket's endpoint for anything but AWS, e.g. `http://127.0.0.1:9000` (MinIO) or
    /// `https://<account>.r2.cloudflarestorage.com`. Requests are path-style.
    #[arg(long, env = "KABAR_MEDIA_S3_ENDPOINT")]
    pub media_s3_endpoint: Option<String>,

    /// The bucket's region (`auto` for R2).
    #[arg(long, env = "KABAR_MEDIA_S3_REGION", default_value = "us-east-1")]
    pub media_s3_region: String,

    /// Prepended to each file's name in the bucket.
    #[arg(long, env = "KABAR_MEDIA_S3_PREFIX", default_value = "media/")]
    pub media_s3_prefix: String,

    /// The bucket's access key id; else `AWS_ACCESS_KEY_ID` (or the instance's role on AWS).
    #[arg(long, env = "KABAR_MEDIA_S3_ACCESS_KEY_ID", hide_env_values = true)]
    pub media_s3_access_key_id: Option<String>,

    /// The bucket's secret key; else `AWS_SECRET_ACCESS_KEY`.
    #[arg(long, env = "KABAR_MEDIA_S3_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub media_s3_secret_access_key: Option<String>,

    /// How long a file stays on disk before it moves to the bucket (its send reads it there).
    #[arg(long, env = "KABAR_MEDIA_S3_KEEP_LOCAL_SECS", default_value_t = 600)]
    pub media_s3_keep_local_secs: u64,
}

/// `kabar backup` / `kabar restore` (docs/production.md).
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Copy the running server's data (database, WhatsApp device stores, secrets key) into one
    /// archive, without stopping it.
    Backup {
        /// The archive to write (gzip'd tar, mode 0600).
        file: PathBuf,
    },
    /// Put a backup archive back into --data-dir (stop the server first).
    Restore {
        /// The archive `kabar backup` wrote.
        file: PathBuf,
        /// Replace a data dir that already holds a database.
        #[arg(long)]
        force: bool,
    },
}

/// A CIDR range, or one address (as a /32 or /128).
fn parse_net(s: &str) -> Result<ipnet::IpNet, String> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{s:?} is not an IP address or CIDR range"))
}

/// A configuration that cannot work, said in words an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("--default-country-code must be 1 to 3 digits, got {0:?}")]
    CountryCode(String),
    #[error("--jwt-secret must be at least 32 characters")]
    JwtSecretTooShort,
    #[error("--max-body-bytes must be at least 1024")]
    BodyLimit,
    #[error("--simulator-*-qr-ms must be at least 50")]
    QrInterval,
    #[error("--webhook-retry-schedule: {0}")]
    RetrySchedule(String),
    #[error("--webhook-timeout-secs and --webhook-concurrency must be at least 1")]
    WebhookLimits,
    #[error("--session-hours must be between 1 and 8760")]
    SessionHours,
    #[error("--whatsapp-version must look like 2.3000.1042742319, not {0:?}")]
    WhatsappVersion(String),
    #[error(
        "--whatsapp-media-url must be an http:// or https:// address like http://127.0.0.1:4000, not {0:?}"
    )]
    WhatsappMediaUrl(String),
    /// Not shown: a URL can hold a password.
    #[error("--whatsapp-store-url must be a postgres:// or postgresql:// URL")]
    WhatsappStoreUrl,
    #[error("{0}")]
    MediaS3(String),
}

impl Config {
    /// Reads `.env` (when present), the environment and the command line.
    pub fn from_env_and_args() -> Self {
        Config::read_dotenv();
        Config::parse()
    }

    /// Puts the settings of `.env` (when present) into the environment, under those already
    /// set. `main` calls it before anything else, so that what it decides from the environment
    /// sees them too; calling it again changes nothing.
    pub fn read_dotenv() {
        let _ = dotenvy::dotenv();
    }

    /// Defaults only, as tests start from: nothing read from the environment.
    pub fn for_tests(data_dir: PathBuf) -> Self {
        let mut c = Config::parse_from(["kabar"]);
        c.command = None;
        c.data_dir = data_dir;
        c.addr = SocketAddr::from(([127, 0, 0, 1], 0));
        c.database_url = None;
        c.engine = EngineKind::Simulator;
        c.jwt_secret = None;
        c.default_country_code = None;
        c.allow_private_webhooks = true;
        c.max_body_bytes = 1024 * 1024;
        c.max_media_bytes = 64 * 1024 * 1024;
        c.send_rate = 0;
        c.send_burst = 20;
        c.secure_cookies = false;
        c.session_hours = 24;
        c.log_json = false;
        c.access_log = false;
        c.simulator_first_qr_ms = 60_000;
        c.simulator_next_qr_ms = 20_000;
        c.simulator_reconnect_ms = 200;
        c.webhook_timeout_secs = 15;
        c.webhook_retry_schedule = crate::webhooks::retry::DEFAULT_SCHEDULE.into();
        c.webhook_concurrency = 16;
        c.auto_reply_cooldown_secs = 5;
        // Tests send quickly to one chat; the loop guard has its own tests.
        c.auto_reply_bot_window_secs = 0;
        c.auto_reply_per_chat_per_minute = 0;
        c.trusted_proxies = Vec::new();
        c.secret_key = None;
        // Tests register many accounts from 127.0.0.1; the limit has its own test.
        c.registrations_per_hour = 0;
        c.media_s3_bucket = None;
        c.media_s3_endpoint = None;
        c.media_s3_access_key_id = None;
        c.media_s3_secret_access_key = None;
        c
    }

    /// `--whatsapp-version` as the three numbers the client announces.
    pub fn parsed_whatsapp_version(&self) -> Option<(u32, u32, u32)> {
        let v = self.whatsapp_version.as_deref()?;
        let mut parts = v.trim().split('.').map(|p| p.parse::<u32>());
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(Ok(a)), Some(Ok(b)), Some(Ok(c)), None) => Some((a, b, c)),
            _ => None,
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(cc) = &self.default_country_code
            && (cc.is_empty() || cc.len() > 3 || !cc.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(ConfigError::CountryCode(cc.clone()));
        }
        if self.jwt_secret.as_ref().is_some_and(|s| s.len() < 32) {
            return Err(ConfigError::JwtSecretTooShort);
        }
        if self.max_body_bytes < 1024 {
            return Err(ConfigError::BodyLimit);
        }
        if self.simulator_first_qr_ms < 50 || self.simulator_next_qr_ms < 50 {
            return Err(ConfigError::QrInterval);
        }
        crate::webhooks::retry::Schedule::parse(&self.webhook_retry_schedule)
            .map_err(ConfigError::RetrySchedule)?;
        if self.webhook_timeout_secs == 0 || self.webhook_concurrency == 0 {
            return Err(ConfigError::WebhookLimits);
        }
        if let Some(v) = &self.whatsapp_version {
            self.parsed_whatsapp_version()
                .ok_or_else(|| ConfigError::WhatsappVersion(v.clone()))?;
        }
        if let Some(u) = &self.whatsapp_media_url {
            let base = reqwest::Url::parse(u).ok().filter(|b| {
                matches!(b.scheme(), "http" | "https")
                    && b.host().is_some()
                    && b.query().is_none()
                    && b.fragment().is_none()
            });
            base.ok_or_else(|| ConfigError::WhatsappMediaUrl(u.clone()))?;
        }
        if let Some(u) = &self.whatsapp_store_url
            && (!(u.starts_with("postgres://") || u.starts_with("postgresql://"))
                || u.parse::<sqlx::postgres::PgConnectOptions>().is_err())
        {
            return Err(ConfigError::WhatsappStoreUrl);
        }
        if !(1..=8760).contains(&self.session_hours) {
            return Err(ConfigError::SessionHours);
        }
        crate::media_store::MediaStore::from_config(self)?;
        Ok(())
    }

    /// The database URL in effect.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("kabar.db").display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_contract() {
        let c = Config::try_parse_from(["kabar"]).expect("defaults parse");
        assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        assert_eq!(c.engine, EngineKind::Whatsapp);
        assert_eq!(c.max_body_bytes, 1_048_576);
        assert_eq!((c.send_burst, c.send_rate), (20, 1));
        assert!(!c.allow_private_webhooks);
        assert!(c.database_url().ends_with("data/kabar.db"));
    }

    #[test]
    fn flags_override_and_bad_values_are_refused() {
        let c = Config::try_parse_from([
            "kabar",
            "--engine",
            "simulator",
            "--default-country-code",
            "62",
        ])
        .expect("parse");
        assert_eq!(c.engine, EngineKind::Simulator);
        c.validate().expect("valid");
        let bad =
            Config::try_parse_from(["kabar", "--default-country-code", "+62"]).expect("parse");
        assert!(matches!(bad.validate(), Err(ConfigError::CountryCode(_))));
        let short = Config::try_parse_from(["kabar", "--jwt-secret", "short"]).expect("parse");
        assert!(matches!(
            short.validate(),
            Err(ConfigError::JwtSecretTooShort)
        ));
        assert!(Config::try_parse_from(["kabar", "--engine", "baileys"]).is_err());
        let proxies =
            Config::try_parse_from(["kabar", "--trusted-proxies", "127.0.0.1,10.0.0.0/8"])
                .expect("parse");
        assert_eq!(proxies.trusted_proxies.len(), 2);
        assert!(
            proxies.trusted_proxies[0]
                .contains(&"127.0.0.1".parse::<std::net::IpAddr>().expect("ip"))
        );
        assert!(Config::try_parse_from(["kabar", "--trusted-proxies", "nope"]).is_err());
        let media = |u: &str| {
            Config::try_parse_from(["kabar", "--whatsapp-media-url", u])
                .expect("parse")
                .validate()
        };
        media("http://127.0.0.1:4000").expect("a base URL");
        for bad in ["127.0.0.1:4000", "ftp://media", "http://h/?auth=x"] {
            assert!(
                matches!(media(bad), Err(ConfigError::WhatsappMediaUrl(_))),
                "{bad}"
            );
        }
        let store = |u: &str| {
            Config::try_parse_from(["kabar", "--whatsapp-store-url", u])
                .expect("parse")
                .validate()
        };
        store("postgres://kabar:pw@db.internal:5432/kabar").expect("a PostgreSQL URL");
        for bad in [
            "sqlite://devices.db",
            "db.internal:5432",
            "postgres://h:notaport/db",
        ] {
            let refused = store(bad).expect_err(bad);
            assert!(matches!(refused, ConfigError::WhatsappStoreUrl), "{bad}");
            assert!(!refused.to_string().contains(bad), "no password shown");
        }
        let bucket = |args: &[&str]| {
            let mut all = vec!["kabar", "--media-s3-bucket"];
            all.extend_from_slice(args);
            Config::try_parse_from(all).expect("parse").validate()
        };
        bucket(&[
            "kabar-media",
            "--media-s3-endpoint",
            "http://127.0.0.1:9000",
        ])
        .expect("a MinIO bucket");
        for bad in [
            &["", "--media-s3-endpoint", "http://127.0.0.1:9000"][..],
            &["kabar-media", "--media-s3-endpoint", "127.0.0.1:9000"][..],
            &["kabar-media", "--media-s3-access-key-id", "AKIAEXAMPLE"][..],
        ] {
            let e = bucket(bad).expect_err("refused");
            assert!(
                matches!(&e, ConfigError::MediaS3(m) if m.starts_with("--media-s3-")),
                "{e}"
            );
        }
    }
}
