//! The real engine (the default, contract §8): WhatsApp Web's multi-device protocol through
//! `whatsapp-rust`. One `Bot` per session; the device stores of all sessions share one database,
//! `<data dir>/whatsapp/devices.db` or PostgreSQL (`--whatsapp-store-url`) ([`devices`]), so a
//! paired session reconnects after a restart without a new scan; deleting the session deletes
//! its rows.
//!
//! A runner task per session owns the bot: it builds and spawns it, forwards its events in
//! order (a channel fed by an inline handler) through [`on_event`], and when the bot's run
//! loop ends decides what comes next — a logged-out device store is wiped and pairing starts
//! again with a fresh QR, exhausted QR codes restart pairing, a failure to reach WhatsApp is
//! reported (status `disconnected` with the error as reason) and retried with backoff.
//!
//! The protobuf mappings live in [`wire`], pure and unit-tested.

pub mod devices;
pub mod groups;
pub mod media_host;
pub mod preview;
pub mod wire;

use super::{
    Action, Answer, Connection, Content, Engine, EngineError, EngineEvent, Outgoing, Presence, Sent,
};
use crate::{db::now_ms, phone::Chat};
use app::model::{GroupPatch, GroupView, Joined, MemberAction, ParticipantResult, SessionId};
use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex, RwLock},
    time::Duration,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use whatsapp_rust::{
    prelude::*,
    traits::MsgSecretStore,
    types::events::{EventHandler, LoggedOut},
};

/// Where poll secrets are kept in the device store (our own key; the sender field is ours).
const POLL_SECRET_SENDER: &str = "kabar-poll";
/// The longest wait between attempts to reach WhatsApp.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

pub struct WhatsApp {
    dir: PathBuf,
    options: Options,
    sessions: Mutex<HashMap<SessionId, Arc<WaSession>>>,
    /// Opened by the first session that starts.
    devices: tokio::sync::OnceCell<devices::Devices>,
}

/// `--whatsapp-url`, `--whatsapp-media-url` and `--whatsapp-version`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub url: Option<String>,
    pub media_url: Option<String>,
    pub version: Option<(u32, u32, u32)>,
    /// PostgreSQL for the device stores (`--whatsapp-store-url`); unset, `whatsapp/devices.db`.
    pub store_url: Option<String>,
}

impl WhatsApp {
    pub fn new(data_dir: &std::path::Path, options: Options) -> Self {
        WhatsApp {
            dir: data_dir.join("whatsapp"),
            options,
            sessions: Default::default(),
            devices: Default::default(),
        }
    }

    /// Where versions before the shared device store kept a session's.
    fn legacy_store(&self, id: &SessionId) -> PathBuf {
        // Session ids are URL-safe ([A-Za-z0-9_-]): safe file names.
        self.dir.join(format!("{}.db", id.as_str()))
    }

    async fn devices(&self) -> Result<&devices::Devices, EngineError> {
        self.devices
            .get_or_try_init(|| async {
                // 0700: the device store in it holds the sessions' keys (and the directory
                // holds received files and stores of earlier versions either way).
                crate::db::secure_dir(&self.dir)
                    .map_err(|e| anyhow::anyhow!("creating {:?}: {e}", self.dir))?;
                match &self.options.store_url {
                    Some(url) => {
                        let devices =
                            devices::Devices::connect_postgres(url).await.map_err(|e| {
                                anyhow::anyhow!("opening the device store in PostgreSQL: {e:#}")
                            })?;
                        // A server moved onto PostgreSQL keeps the sessions it had paired.
                        let moved = devices.import_sqlite(&self.dir).await.map_err(|e| {
                            anyhow::anyhow!("moving devices.db into PostgreSQL: {e:#}")
                        })?;
                        if moved > 0 {
                            tracing::info!(
                                sessions = moved,
                                "device stores moved from devices.db into PostgreSQL"
                            );
                        }
                        Ok(devices)
                    }
                    None => devices::Devices::open(&self.dir)
                        .await
                        .map_err(|e| anyhow::anyhow!("opening the device store: {e:#}")),
                }
            })
            .await
            .map_err(EngineError::Other)
    }
}

/// One session's live parts, shared by its runner and its [`Connection`].
struct WaSession {
    /// The shared device store and this session's id in it.
    devices: devices::Devices,
    id: SessionId,
    /// The store the current bot writes through (a fresh one per bot: a wipe closes it first,
    /// so a bot still shutting down cannot write rows back).
    store: Mutex<Option<Arc<devices::SessionStore>>>,
    /// The data dir: received files go to its media store (`crate::media`).
    data_dir: PathBuf,
    options: Options,
    events: super::Events,
    /// The running bot's client and store (none between bots).
    live: RwLock<Option<Live>>,
    /// Set when WhatsApp logged the device out: the runner wipes the store once the bot has
    /// stopped, before pairing again.
    wipe: std::sync::atomic::AtomicBool,
    /// Set when the session is deleted: the runner wipes the store as it ends.
    removed: std::sync::atomic::AtomicBool,
    /// Set on every `Connected`: the runner's backoff starts over after a good link.
    linked: std::sync::atomic::AtomicBool,
    /// The pairing code last handed out: (code, number, when), so a second click within its
    /// life answers the same code instead of asking WhatsApp again.
    pair_code: Mutex<Option<(String, String, std::time::Instant)>>,
    /// Messages the durability hook already reported (chat, id): their `Event::Messages`
    /// that follows is not reported again.
    hooked: Mutex<std::collections::HashSet<(String, String)>>,
    stopped: CancellationToken,
}

#[derive(Clone)]
struct Live {
    client: Arc<Client>,
    store: Arc<devices::SessionStore>,
}

impl WaSession {
    fn live(&self) -> Result<Live, EngineError> {
        self.live
            .read()
            .ok()
            .and_then(|l| l.clone())
            .ok_or(EngineError::NotConnected)
    }

    /// The live client when it is linked and online (group calls need both).
    fn connected(&self) -> Result<Live, EngineError> {
        let live = self.live()?;
        if !live.client.is_logged_in() || !live.client.is_connected() {
            return Err(EngineError::NotConnected);
        }
        Ok(live)
    }

    fn emit(&self, e: EngineEvent) {
        let _ = self.events.send(e);
    }

    /// A store for the next bot.
    fn open_store(&self) -> Arc<devices::SessionStore> {
        let store = self.devices.of(self.id.as_str());
        if let Ok(mut current) = self.store.lock()
            && let Some(old) = current.replace(store.clone())
        {
            old.close();
        }
        store
    }

    async fn wipe_store(&self) {
        if let Some(old) = self.store.lock().ok().and_then(|mut c| c.take()) {
            old.close();
        }
        if let Err(e) = self.devices.wipe(self.id.as_str()).await {
            tracing::warn!(session = %self.id, error = %e, "removing a device store");
        }
    }

    /// A code handed out belongs to one connection of one bot; it is not offered again after.
    fn forget_pair_code(&self) {
        if let Ok(mut last) = self.pair_code.lock() {
            *last = None;
        }
    }
}

/// Deletes the file an earlier version kept a device store in (and its imported copy): a
/// database and its WAL files.
fn remove_legacy_store(path: &std::path::Path) {
    for suffix in [
        "",
        "-wal",
        "-shm",
        ".imported",
        ".imported-wal",
        ".imported-shm",
    ] {
        let mut p = path.to_path_buf().into_os_string();
        p.push(suffix);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(path = ?p, error = %e, "removing a device store"),
        }
    }
}

#[async_trait::async_trait]
impl Engine for WhatsApp {
    fn name(&self) -> &'static str {
        "whatsapp"
    }

    async fn start(
        &self,
        session: &SessionId,
        events: super::Events,
    ) -> Result<Arc<dyn Connection>, EngineError> {
        let devices = self.devices().await?;
        let legacy = self.legacy_store(session);
        match devices.import_legacy(session.as_str(), &legacy).await {
            Ok(false) => {}
            Ok(true) => tracing::info!(
                session = %session,
                file = ?legacy,
                "device store imported into the shared store (the old file is kept as .imported)"
            ),
            Err(e) => {
                return Err(EngineError::Other(anyhow::anyhow!(
                    "importing the device store {legacy:?}: {e:#}"
                )));
            }
        }
        let s = Arc::new(WaSession {
            devices: devices.clone(),
            id: session.clone(),
            store: Mutex::new(None),
            data_dir: self.dir.parent().unwrap_or(&self.dir).to_path_buf(),
            options: self.options.clone(),
            events,
            live: RwLock::new(None),
            wipe: Default::default(),
            removed: Default::default(),
            linked: Default::default(),
            pair_code: Default::default(),
            hooked: Default::default(),
            stopped: CancellationToken::new(),
        });
        if let Ok(mut map) = self.sessions.lock()
            && let Some(old) = map.insert(session.clone(), s.clone())
        {
            old.stopped.cancel();
        }
        tokio::spawn(runner(session.clone(), s.clone()));
        Ok(Arc::new(WaConnection(s)))
    }

    async fn remove(&self, session: &SessionId) -> Result<(), EngineError> {
        let s = self
            .sessions
            .lock()
            .ok()
            .and_then(|mut m| m.remove(session));
        if let Some(s) = s {
            s.removed.store(true, std::sync::atomic::Ordering::SeqCst);
            // Unlink the device so the phone stops listing it (best effort, bounded).
            if let Ok(live) = s.live()
                && live.client.is_logged_in()
            {
                let _ = tokio::time::timeout(Duration::from_secs(5), live.client.logout()).await;
            }
            s.stopped.cancel();
            // Now, not only when its runner ends: a paused session's runner has ended already.
            s.wipe_store().await;
        } else {
            let devices = self.devices().await?;
            devices.wipe(session.as_str()).await.map_err(|e| {
                EngineError::Other(anyhow::anyhow!("removing the device store: {e}"))
            })?;
        }
        remove_legacy_store(&self.legacy_store(session));
        Ok(())
    }
}

/// How one bot's run ended.
enum Ended {
    Stopped,
    /// Pairing must start again (logged out, replaced, QR codes exhausted).
    Repair,
    /// The run loop ended otherwise (WhatsApp unreachable…): try again after a pause of at
    /// least the given time (a temporary ban's length).
    Retry(String, Duration),
}

fn retry(reason: impl Into<String>) -> Ended {
    Ended::Retry(reason.into(), Duration::ZERO)
}

async fn runner(id: SessionId, s: Arc<WaSession>) {
    const FIRST: Duration = Duration::from_secs(2);
    let mut backoff = FIRST;
    let mut quiet = Quiet::default();
    loop {
        if s.stopped.is_cancelled() {
            break;
        }
        let ended = run_bot(&id, &s).await;
        if let Ok(mut live) = s.live.write() {
            *live = None;
        }
        s.forget_pair_code();
        if s.wipe.swap(false, std::sync::atomic::Ordering::SeqCst) {
            s.wipe_store().await;
        }
        if s.linked.swap(false, std::sync::atomic::Ordering::SeqCst) {
            backoff = FIRST;
        }
        let pause = match ended {
            Ok(Ended::Stopped) => break,
            // A fresh pairing: after a short pause, so a store that cannot be wiped or a
            // WhatsApp that logs out at once cannot make this loop spin.
            Ok(Ended::Repair) => FIRST,
            Ok(Ended::Retry(reason, at_least)) => {
                let pause = backoff.max(at_least);
                if quiet.warn(&reason) {
                    tracing::warn!(session = %id, %reason, retry_in = ?pause, "WhatsApp link ended");
                } else {
                    tracing::debug!(session = %id, %reason, retry_in = ?pause, "WhatsApp link ended");
                }
                s.emit(EngineEvent::Disconnected {
                    reason: format!("{reason} (retrying in {} s)", pause.as_secs()),
                });
                backoff = (backoff * 2).min(MAX_BACKOFF);
                pause
            }
            Err(reason) => {
                if quiet.warn(&reason) {
                    tracing::warn!(session = %id, %reason, retry_in = ?backoff, "WhatsApp client not started");
                } else {
                    tracing::debug!(session = %id, %reason, retry_in = ?backoff, "WhatsApp client not started");
                }
                s.emit(EngineEvent::Connecting {
                    reason: Some(format!("{reason} (retrying in {} s)", backoff.as_secs())),
                });
                let pause = backoff;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                pause
            }
        };
        tokio::select! {
            _ = s.stopped.cancelled() => break,
            _ = tokio::time::sleep(pause) => {}
        }
    }
    if s.removed.load(std::sync::atomic::Ordering::SeqCst) {
        s.wipe_store().await;
    }
}

/// Keeps a session that cannot reach WhatsApp from writing the same warning on every retry:
/// a reason is logged at warn when it differs from the last one warned about or that was
/// ten minutes ago, at debug otherwise. The session's status shows every retry regardless.
#[derive(Default)]
struct Quiet {
    last: Option<(String, std::time::Instant)>,
}

impl Quiet {
    const EVERY: Duration = Duration::from_secs(600);

    fn warn(&mut self, reason: &str) -> bool {
        let now = std::time::Instant::now();
        let repeat = self
            .last
            .as_ref()
            .is_some_and(|(r, at)| r == reason && now.duration_since(*at) < Self::EVERY);
        if !repeat {
            self.last = Some((reason.to_string(), now));
        }
        !repeat
    }
}

/// Dials WhatsApp through the real transport and reports a failed dial as the session's
/// reason, so an operator sees "connecting: connection refused" instead of silence while the
/// client retries with its own backoff.
struct Reporting {
    inner: whatsapp_rust::transport::TokioWebSocketTransportFactory,
    events: super::Events,
}

#[whatsapp_rust::async_trait]
impl whatsapp_rust::transport::TransportFactory for Reporting {
    async fn create_transport(
        &self,
    ) -> anyhow::Result<(
        Arc<dyn whatsapp_rust::transport::Transport>,
        whatsapp_rust::async_channel::Receiver<whatsapp_rust::transport::TransportEvent>,
    )> {
        let made = self.inner.create_transport().await;
        if let Err(e) = &made {
            let _ = self.events.send(EngineEvent::Connecting {
                reason: Some(format!("cannot reach WhatsApp: {e:#}; retrying")),
            });
        }
        made
    }
}

/// At-least-once inbound: the client acknowledges a batch of decrypted messages to WhatsApp
/// only after this returns `Ok`, which it does once the session task has committed every
/// message of the batch with its webhook events. A failed commit leaves the batch unacked:
/// WhatsApp delivers it again on the next connect, and the store's pending-inbound buffer
/// replays it after a crash. Replays are harmless: the message record dedupes by id.
struct Durable {
    session: Arc<WaSession>,
    store: Arc<devices::SessionStore>,
}

#[whatsapp_rust::async_trait]
impl whatsapp_rust::InboundDurabilityHook for Durable {
    async fn on_messages(
        &self,
        client: Arc<Client>,
        batch: &[whatsapp_rust::types::events::InboundMessage],
    ) -> anyhow::Result<()> {
        let mut stored = Vec::with_capacity(batch.len());
        for m in batch {
            let key = (m.info.source.chat.to_string(), m.info.id.to_string());
            if let Ok(mut hooked) = self.session.hooked.lock() {
                if hooked.len() > 10_000 {
                    hooked.clear(); // events that never came; bounded
                }
                hooked.insert(key);
            }
            let data_dir = &self.session.data_dir;
            if let Some(inbound) =
                inbound(&client, &self.store, data_dir, &m.info, &m.message).await
            {
                let (ack, rx) = super::Ack::channel();
                if !self.session.events.message(inbound, ack).await {
                    anyhow::bail!("the session stopped; WhatsApp will deliver the batch again");
                }
                stored.push(rx);
            }
        }
        for rx in stored {
            anyhow::ensure!(
                matches!(rx.await, Ok(true)),
                "a message of the batch was not stored; WhatsApp will deliver it again"
            );
        }
        Ok(())
    }
}

/// Forwards the bot's events, in order, to the runner.
struct Forward(mpsc::UnboundedSender<Arc<Event>>);

impl EventHandler for Forward {
    fn handle_event(&self, event: Arc<Event>) {
        let _ = self.0.send(event);
    }
}

async fn run_bot(id: &SessionId, s: &Arc<WaSession>) -> Result<Ended, String> {
    let store = s.open_store();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut dial = whatsapp_rust::transport::TokioWebSocketTransportFactory::new();
    if let Some(url) = &s.options.url {
        dial = dial.with_url(url.clone());
    }
    let mut builder = Bot::builder()
        .with_backend_arc(store.clone())
        .with_transport_factory(Reporting {
            inner: dial,
            events: s.events.clone(),
        })
        .with_event_handler(Forward(tx))
        .with_inbound_durability_hook(Durable {
            session: s.clone(),
            store: store.clone(),
        })
        .skip_history_sync();
    if let Some(v) = s.options.version {
        builder = builder.with_version(v);
    }
    if let Some(base) = &s.options.media_url {
        builder = builder.with_http_client(media_host::Rerouted::new(base));
    }
    let bot = builder
        .build()
        .await
        .map_err(|e| format!("starting the WhatsApp client: {e}"))?;
    s.emit(EngineEvent::Connecting { reason: None });
    let client = bot.client();
    if let Ok(mut live) = s.live.write() {
        *live = Some(Live {
            client: client.clone(),
            store: store.clone(),
        });
    }
    let mut handle = bot.spawn();
    let mut ended = retry("the connection to WhatsApp closed");
    loop {
        tokio::select! {
            _ = s.stopped.cancelled() => {
                client.disconnect().await;
                let _ = (&mut handle).await;
                return Ok(Ended::Stopped);
            }
            ev = rx.recv() => {
                let Some(ev) = ev else { break };
                if let Some(next) = on_event(id, s, &client, &store, &ev).await {
                    ended = next;
                }
            }
            _ = &mut handle => {
                // Deliver what the bot reported before it stopped.
                while let Ok(ev) = rx.try_recv() {
                    if let Some(next) = on_event(id, s, &client, &store, &ev).await {
                        ended = next;
                    }
                }
                break;
            }
        }
    }
    Ok(ended)
}

/// Reports one bot event; answers how the run ends when the event decides it.
async fn on_event(
    id: &SessionId,
    s: &WaSession,
    client: &Arc<Client>,
    store: &Arc<devices::SessionStore>,
    ev: &Event,
) -> Option<Ended> {
    match ev {
        Event::PairingQrCode(q) => s.emit(EngineEvent::Qr {
            code: q.code.clone(),
            valid_for: q.timeout,
        }),
        Event::PairingQrCodesExhausted(_) => return Some(Ended::Repair),
        Event::Connected(_) => {
            s.linked.store(true, std::sync::atomic::Ordering::SeqCst);
            s.emit(EngineEvent::Connected {
                phone: client.pn().map(|j| j.user.to_string()).unwrap_or_default(),
                push_name: client.push_name(),
            });
        }
        Event::Disconnected(d) => {
            // The client drops a linking-by-code flow with its connection.
            s.forget_pair_code();
            s.emit(EngineEvent::Disconnected {
                reason: format!("{:?}", d.reason),
            })
        }
        Event::LoggedOut(lo) => {
            s.emit(EngineEvent::LoggedOut {
                reason: logged_out_reason(lo),
            });
            s.wipe.store(true, std::sync::atomic::Ordering::SeqCst);
            return Some(Ended::Repair);
        }
        Event::StreamReplaced(_) => {
            s.emit(EngineEvent::Disconnected {
                reason: "another WhatsApp Web client took over this session".into(),
            });
            return Some(retry("replaced by another client"));
        }
        Event::TemporaryBan(b) => {
            let reason = format!(
                "temporarily banned by WhatsApp ({:?}) for {} min",
                b.code,
                b.expire.num_minutes()
            );
            let wait = b.expire.to_std().unwrap_or_default();
            return Some(Ended::Retry(reason, wait));
        }
        Event::ConnectFailure(f) => {
            let reason = format!(
                "WhatsApp refused the connection ({:?}{})",
                f.reason,
                f.message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            );
            return Some(retry(reason));
        }
        Event::ClientOutdated(_) => {
            return Some(retry(
                "WhatsApp says this client version is outdated; update Kabar or set --whatsapp-version",
            ));
        }
        Event::Messages(batch) => {
            for m in batch.messages.iter() {
                // Encrypted messages went through the durability hook (stored, then acked);
                // what it did not see (newsletters, placeholder recoveries) is reported here.
                let key = (m.info.source.chat.to_string(), m.info.id.to_string());
                if s.hooked.lock().map(|mut h| h.remove(&key)).unwrap_or(false) {
                    continue;
                }
                if let Some(inbound) =
                    inbound(client, store, &s.data_dir, &m.info, &m.message).await
                {
                    s.events.message(inbound, super::Ack::default()).await;
                }
            }
        }
        Event::GroupUpdate(u) => {
            // Hidden ids become numbers first: whether a removal was a leave depends on it.
            let mut known = groups::Known::new();
            for jid in groups::hidden_ids(u) {
                if let Ok(Some(e)) = client.get_lid_pn_entry(&jid).await {
                    known.insert(jid.to_string(), e.phone_number.to_string());
                }
            }
            if let Some(g) = groups::event(u, &known) {
                s.events.group(g, super::Ack::default()).await;
            }
        }
        Event::Receipt(r) => {
            use whatsapp_rust::types::presence::ReceiptType;
            let status = match r.r#type {
                ReceiptType::Delivered => "delivered",
                ReceiptType::Read | ReceiptType::ReadSelf => "read",
                ReceiptType::Played | ReceiptType::PlayedSelf => "played",
                _ => return None,
            };
            s.emit(EngineEvent::Receipt {
                ids: r.message_ids.iter().map(|m| m.to_string()).collect(),
                status,
            });
        }
        _ => {}
    }
    tracing::trace!(session = %id, "whatsapp event handled");
    None
}

fn logged_out_reason(lo: &LoggedOut) -> String {
    match &lo.logout_message {
        Some(m) => format!("{:?}: {m:?}", lo.reason),
        None => format!("logged out ({:?})", lo.reason),
    }
}

/// Maps a received message, resolving `@lid` authors to phone numbers and decrypting poll
/// votes with the poll's stored secret.
async fn inbound(
    client: &Arc<Client>,
    store: &Arc<devices::SessionStore>,
    data_dir: &std::path::Path,
    info: &MessageInfo,
    msg: &wa::Message,
) -> Option<super::Inbound> {
    let src = &info.source;
    let sender = pn_digits(client, &src.sender, src.sender_alt.as_ref()).await;
    let chat = if src.is_group {
        Chat::Group(src.chat.to_non_ad_string())
    } else if src.is_from_me {
        // Typed on the phone: the chat is the recipient; sender_alt would be our own number.
        Chat::User(pn_digits(client, &src.chat, src.recipient_alt.as_ref()).await)
    } else {
        Chat::User(pn_digits(client, &src.chat, src.sender_alt.as_ref()).await)
    };
    let origin = wire::Origin {
        chat,
        sender,
        from_me: src.is_from_me,
    };
    let mut m = wire::inbound(info, msg, origin)?;
    if m.media.is_some() {
        download(client, data_dir, info, msg, &mut m).await;
    }
    if let Some(vote) = wire::poll_vote(msg) {
        let chat_jid = wire::jid(&m.chat).to_string();
        let secret = store
            .get_msg_secret(&chat_jid, POLL_SECRET_SENDER, &vote.poll_id)
            .await
            .ok()
            .flatten();
        if let (Some(secret), Some(me)) = (secret, client.pn()) {
            let ct = whatsapp_rust::PollVoteCiphertext {
                enc_payload: &vote.enc_payload,
                enc_iv: &vote.enc_iv,
            };
            match client
                .polls()
                .decrypt_vote(ct, &secret, &vote.poll_id, &me.to_non_ad(), &src.sender)
                .await
            {
                Ok(hashes) => {
                    m.answer = Some(Answer::PollVote {
                        poll_id: vote.poll_id,
                        option_hashes: hashes
                            .into_iter()
                            .filter_map(|h| <[u8; 32]>::try_from(h.as_slice()).ok())
                            .collect(),
                    });
                }
                Err(e) => tracing::warn!(error = %e, "a poll vote could not be decrypted"),
            }
        }
    }
    Some(m)
}

/// How long a received file may take to download before the message is recorded without it.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(60);

/// Downloads a received file into the media store before the message is recorded, so its
/// webhook's `media.url` works at once. When WhatsApp's media host fails (or is slow), the
/// message is still recorded, with the file as the message describes it, and `GET …/media`
/// answers that it is not kept. A file the host no longer has (404/410: the link expired while
/// the device was offline) is asked for again in the background ([`refetch`]), so the message
/// and the ones after it are not held up by the sender's phone.
async fn download(
    client: &Arc<Client>,
    data_dir: &std::path::Path,
    info: &MessageInfo,
    msg: &wa::Message,
    m: &mut super::Inbound,
) {
    let Some((downloadable, _)) = wire::media_of(msg.get_base_message()) else {
        return;
    };
    match (
        fetch_file(client, data_dir, downloadable).await,
        m.media.as_mut(),
    ) {
        (Ok((sha256, size)), Some(meta)) => {
            if !meta.sha256.is_empty() && meta.sha256 != sha256 {
                tracing::warn!(message = %m.id, "a received file's SHA-256 differs from its message's");
            }
            meta.sha256 = sha256;
            meta.size = size;
        }
        (Err(e), Some(meta))
            if wire::expired(&e)
                && !meta.sha256.is_empty()
                && downloadable.media_key().is_some()
                && !whatsapp_rust::wacore_binary::JidExt::is_status_broadcast(
                    &info.source.chat,
                ) =>
        {
            tracing::info!(message = %m.id, "a received file's link expired: its sender's phone is asked for it again; the message is recorded now, its file follows");
            let params = wire::reuploaded(downloadable, String::new());
            tokio::spawn(refetch(
                client.clone(),
                data_dir.to_path_buf(),
                info.clone(),
                params,
            ));
        }
        (Err(e), _) => {
            tracing::warn!(message = %m.id, error = format!("{e:#}"), "a received file could not be downloaded; the message is recorded without it")
        }
        (Ok(_), None) => {}
    }
}

/// How many expired files are asked for again at once (each waits up to 30 s for WhatsApp's
/// answer, then downloads).
static REFETCHES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// Asks the sender's phone for a file whose link expired, with a media-retry receipt
/// (whatsapp-rust's `media_reupload`, encrypted with the file's key), and downloads it from the
/// new path WhatsApp answers into the media store, where the recorded message (which names it
/// by its SHA-256) finds it.
async fn refetch(
    client: Arc<Client>,
    data_dir: PathBuf,
    info: MessageInfo,
    mut params: whatsapp_rust::download::DownloadParams,
) {
    use whatsapp_rust::{MediaRetryResult, MediaReuploadRequest};
    let Ok(_turn) = REFETCHES.acquire().await else {
        return;
    };
    let fetched = async {
        let media_key = params.media_key.clone().unwrap_or_default();
        let src = &info.source;
        let request = MediaReuploadRequest {
            msg_id: &info.id,
            chat_jid: &src.chat,
            media_key: &media_key,
            is_from_me: src.is_from_me,
            participant: src.is_group.then_some(&src.sender),
        };
        match client.media_reupload().request(&request).await? {
            MediaRetryResult::Success { direct_path } => params.direct_path = direct_path,
            other => anyhow::bail!("asked for again, WhatsApp answered {other:?}"),
        }
        fetch_file(&client, &data_dir, &params).await
    }
    .await;
    match fetched {
        Ok(_) => {
            tracing::info!(message = %info.id, "an expired file was uploaded again by its sender's phone and is kept")
        }
        Err(e) => {
            tracing::warn!(message = %info.id, error = format!("{e:#}"), "an expired file could not be had again; the message stays without it")
        }
    }
}

/// Downloads and decrypts one file into the media store: its SHA-256 and size.
async fn fetch_file(
    client: &Arc<Client>,
    data_dir: &std::path::Path,
    downloadable: &dyn whatsapp_rust::download::Downloadable,
) -> anyhow::Result<(String, u64)> {
    let file = crate::media::incoming_file(data_dir)?;
    let writer = file.as_file().try_clone()?;
    tokio::time::timeout(
        DOWNLOAD_TIMEOUT,
        client.download_to_writer(downloadable, writer),
    )
    .await
    .map_err(|_| anyhow::anyhow!("no answer within {} s", DOWNLOAD_TIMEOUT.as_secs()))??;
    let dir = data_dir.to_path_buf();
    Ok(tokio::task::spawn_blocking(move || crate::media::keep_incoming(&dir, file)).await??)
}

/// The phone-number digits of a person: the JID's own when it is a phone number, else the
/// alternative the server sent, else the LID → phone mapping the client learned.
async fn pn_digits(client: &Arc<Client>, jid: &Jid, alt: Option<&Jid>) -> String {
    if jid.is_pn() {
        return jid.user.to_string();
    }
    if let Some(a) = alt.filter(|a| a.is_pn()) {
        return a.user.to_string();
    }
    match client.get_lid_pn_entry(jid).await {
        Ok(Some(e)) => e.phone_number.to_string(),
        _ => jid.user.to_string(),
    }
}

struct WaConnection(Arc<WaSession>);

/// Sends a built message under `id`; answers WhatsApp's id for it.
async fn send(live: &Live, to: Jid, message: wa::Message, id: &str) -> Result<String, EngineError> {
    let options = whatsapp_rust::send::SendOptions::default().with_message_id(id);
    Ok(live
        .client
        .send_message_with_options(to, message, options)
        .await
        .map_err(|e| EngineError::Other(anyhow::anyhow!("sending: {e}")))?
        .message_id)
}

#[async_trait::async_trait]
impl Connection for WaConnection {
    async fn send(&self, msg: Outgoing) -> Result<Sent, EngineError> {
        let live = self.0.live()?;
        if !live.client.is_logged_in() || !live.client.is_connected() {
            return Err(EngineError::NotConnected);
        }
        let to = wire::jid(&msg.to);
        let id = match &msg.content {
            Content::Poll {
                question,
                options,
                multiple,
            } => {
                // Voters encrypt their votes with the poll's secret: it is kept before the
                // poll leaves, so no vote can arrive that we cannot read.
                let secret: [u8; 32] = rand::random();
                live.store
                    .put_msg_secret(&to.to_string(), POLL_SECRET_SENDER, &msg.id, &secret)
                    .await
                    .map_err(|e| {
                        EngineError::Other(anyhow::anyhow!("storing a poll secret: {e}"))
                    })?;
                let message = wire::poll(question, options, *multiple, secret, msg.quoted.as_ref());
                send(&live, to, message, &msg.id).await?
            }
            Content::Location(l) => {
                send(&live, to, wire::location(l, msg.quoted.as_ref()), &msg.id).await?
            }
            Content::Contacts(c) => {
                send(&live, to, wire::contacts(c, msg.quoted.as_ref()), &msg.id).await?
            }
            Content::Text(text) => {
                let message = wire::mentioning(text, msg.quoted.as_ref(), &msg.mentions);
                send(&live, to, message, &msg.id).await?
            }
            Content::Interactive(m) => {
                send(
                    &live,
                    to,
                    wire::interactive(m, msg.quoted.as_ref()),
                    &msg.id,
                )
                .await?
            }
            Content::Media(m) => {
                // whatsapp-rust encrypts in memory: the file is read once, here.
                let bytes = tokio::fs::read(&m.file.path).await.map_err(|e| {
                    EngineError::Other(anyhow::anyhow!("reading the media file: {e}"))
                })?;
                // Decoding a picture for its thumbnail is CPU work: off the async threads.
                let kind = m.file.kind;
                let (bytes, seen) = tokio::task::spawn_blocking(move || {
                    let seen = preview::of(kind, &bytes);
                    (bytes, seen)
                })
                .await
                .map_err(|e| EngineError::Other(anyhow::anyhow!("reading the preview: {e}")))?;
                let uploaded = live
                    .client
                    .upload(
                        bytes,
                        wire::media_type(m.file.kind),
                        whatsapp_rust::upload::UploadOptions::default(),
                    )
                    .await
                    .map_err(|e| EngineError::Other(anyhow::anyhow!("uploading media: {e}")))?;
                let message = wire::media(uploaded.into(), m, seen, msg.quoted.as_ref());
                send(&live, to, message, &msg.id).await?
            }
        };
        Ok(Sent {
            id,
            timestamp_ms: now_ms(),
        })
    }

    async fn is_on_whatsapp(&self, chat: &Chat) -> Result<bool, EngineError> {
        let Chat::User(digits) = chat else {
            return Ok(true);
        };
        let live = self.0.live()?;
        let results = live
            .client
            .contacts()
            .is_on_whatsapp(&[Jid::pn(digits)])
            .await
            .map_err(|e| EngineError::Other(anyhow::anyhow!("asking WhatsApp: {e}")))?;
        Ok(results.iter().any(|r| r.is_registered))
    }

    async fn check_numbers(&self, digits: &[String]) -> Result<Vec<bool>, EngineError> {
        let live = self.0.live()?;
        let jids: Vec<Jid> = digits.iter().map(Jid::pn).collect();
        let results = live
            .client
            .contacts()
            .is_on_whatsapp(&jids)
            .await
            .map_err(|e| EngineError::Other(anyhow::anyhow!("asking WhatsApp: {e}")))?;
        Ok(digits
            .iter()
            .map(|d| {
                results
                    .iter()
                    .any(|r| r.is_registered && r.jid.user == d.as_str())
            })
            .collect())
    }

    async fn act(&self, action: Action) -> Result<(), EngineError> {
        let live = self.0.live()?;
        if !live.client.is_logged_in() || !live.client.is_connected() {
            return Err(EngineError::NotConnected);
        }
        let failed = |what: &'static str| {
            move |e: &dyn std::fmt::Display| EngineError::Other(anyhow::anyhow!("{what}: {e}"))
        };
        match action {
            Action::React {
                chat,
                target,
                emoji,
            } => {
                let to = wire::jid(&chat);
                let key = wire::message_key(&chat, &target);
                live.client
                    .send_reaction(to, key, &emoji)
                    .await
                    .map_err(|e| failed("reacting")(&e))?;
            }
            Action::Edit { chat, id, text } => {
                live.client
                    .edit_message(wire::jid(&chat), id, wire::text(&text, None))
                    .await
                    .map_err(|e| failed("editing")(&e))?;
            }
            Action::Revoke { chat, id } => {
                live.client
                    .revoke_message(
                        wire::jid(&chat),
                        id,
                        whatsapp_rust::send::RevokeType::Sender,
                    )
                    .await
                    .map_err(|e| failed("deleting")(&e))?;
            }
            Action::Presence { chat, state } => {
                let to = wire::jid(&chat);
                let chatstate = live.client.chatstate();
                match state {
                    Presence::Composing => chatstate.send_composing(&to).await,
                    Presence::Recording => chatstate.send_recording(&to).await,
                    Presence::Paused => chatstate.send_paused(&to).await,
                }
                .map_err(|e| failed("sending presence")(&e))?;
            }
            Action::MarkRead { chat, sender, ids } => {
                let sender = sender.map(|d| Jid::pn(&d));
                let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                live.client
                    .mark_as_read(&wire::jid(&chat), sender.as_ref(), &ids)
                    .await
                    .map_err(|e| failed("marking read")(&e))?;
            }
        }
        Ok(())
    }

    async fn pair_with_code(&self, digits: &str) -> Result<String, EngineError> {
        let live = self.0.live()?;
        // A stored identity means a linked device, even while it reconnects.
        if live.client.is_logged_in() || live.client.pn().is_some() {
            return Err(EngineError::NotPairing);
        }
        if let Ok(last) = self.0.pair_code.lock()
            && let Some((code, number, at)) = last.as_ref()
            && number == digits
            && at.elapsed() < Duration::from_secs(170)
        {
            return Ok(code.clone());
        }
        live.client
            .wait_for_socket(Duration::from_secs(20))
            .await
            .map_err(|e| EngineError::Other(anyhow::anyhow!("cannot reach WhatsApp: {e}")))?;
        // Another number, or a code we no longer hold: the client refuses a new code while
        // its last one is outstanding, so that one is retired first.
        live.client.cancel_pair_code().await;
        let options = whatsapp_rust::pair_code::PairCodeOptions {
            phone_number: digits.to_string(),
            ..Default::default()
        };
        // The code's life starts before the request, as the client's own clock does.
        let asked = std::time::Instant::now();
        let code = live.client.pair_with_code(options).await.map_err(|e| {
            EngineError::Other(anyhow::anyhow!("WhatsApp refused a pairing code: {e}"))
        })?;
        let code = wire::display_pair_code(&code);
        if let Ok(mut last) = self.0.pair_code.lock() {
            *last = Some((code.clone(), digits.to_string(), asked));
        }
        Ok(code)
    }

    async fn logout(&self) -> Result<(), EngineError> {
        let live = self.0.live()?;
        // Its LoggedOut event marks the store to be wiped; the runner pairs again.
        live.client.logout().await;
        Ok(())
    }

    async fn stop(&self) {
        self.0.stopped.cancel();
    }

    async fn groups(&self) -> Result<Vec<GroupView>, EngineError> {
        let live = self.0.connected()?;
        let all = live
            .client
            .groups()
            .get_participating()
            .await
            .map_err(groups::error)?;
        let mut views: Vec<GroupView> = all.values().map(groups::view).collect();
        views.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(views)
    }

    async fn group(&self, id: &str) -> Result<GroupView, EngineError> {
        let live = self.0.connected()?;
        let meta = live
            .client
            .groups()
            .get_metadata(&group_jid(id)?)
            .await
            .map_err(groups::error)?;
        Ok(groups::view(&meta))
    }

    async fn create_group(
        &self,
        subject: &str,
        participants: &[String],
    ) -> Result<GroupView, EngineError> {
        let live = self.0.connected()?;
        let mut options = whatsapp_rust::GroupCreateOptions::new(subject);
        for p in participants {
            options = options.with_participant(whatsapp_rust::GroupParticipantOptions::from_phone(
                Jid::pn(p),
            ));
        }
        let created = live
            .client
            .groups()
            .create_group(options)
            .await
            .map_err(groups::error)?;
        Ok(groups::view(&created.metadata))
    }

    async fn change_members(
        &self,
        id: &str,
        action: MemberAction,
        participants: &[String],
    ) -> Result<Vec<ParticipantResult>, EngineError> {
        let live = self.0.connected()?;
        let gid = group_jid(id)?;
        let jids: Vec<Jid> = participants.iter().map(Jid::pn).collect();
        let g = live.client.groups();
        let answers = match action {
            MemberAction::Add => g.add_participants(gid, &jids).await,
            MemberAction::Remove => g.remove_participants(gid, &jids).await,
            MemberAction::Promote => g.promote_participants(gid, &jids).await,
            MemberAction::Demote => g.demote_participants(gid, &jids).await,
        }
        .map_err(groups::error)?;
        Ok(groups::member_results(participants, &answers))
    }

    async fn update_group(&self, id: &str, patch: &GroupPatch) -> Result<(), EngineError> {
        let live = self.0.connected()?;
        let gid = group_jid(id)?;
        let g = live.client.groups();
        if let Some(subject) = &patch.subject {
            let subject = whatsapp_rust::GroupSubject::new(subject.as_str())
                .map_err(|e| EngineError::Refused(format!("subject: {e}.")))?;
            g.set_subject(gid.clone(), subject)
                .await
                .map_err(groups::error)?;
        }
        if let Some(d) = &patch.description {
            let description = match d.as_str() {
                "" => None,
                d => Some(
                    whatsapp_rust::GroupDescription::new(d)
                        .map_err(|e| EngineError::Refused(format!("description: {e}.")))?,
                ),
            };
            g.set_description(
                gid,
                description,
                whatsapp_rust::PreviousDescription::Resolve,
            )
            .await
            .map_err(groups::error)?;
        }
        Ok(())
    }

    async fn invite_link(&self, id: &str) -> Result<String, EngineError> {
        let live = self.0.connected()?;
        live.client
            .groups()
            .get_invite_link(group_jid(id)?, false)
            .await
            .map_err(groups::error)
    }

    async fn join_group(&self, code: &str) -> Result<Joined, EngineError> {
        let live = self.0.connected()?;
        let joined = live
            .client
            .groups()
            .join_with_invite_code(code)
            .await
            .map_err(groups::error)?;
        Ok(Joined {
            success: true,
            id: joined.group_jid().to_string(),
            pending_approval: matches!(joined, whatsapp_rust::JoinGroupResult::PendingApproval(_)),
        })
    }

    async fn leave_group(&self, id: &str) -> Result<(), EngineError> {
        let live = self.0.connected()?;
        live.client
            .groups()
            .leave(group_jid(id)?)
            .await
            .map_err(groups::error)
    }
}

/// A group's JID from its `…@g.us` id.
fn group_jid(id: &str) -> Result<Jid, EngineError> {
    match id.parse::<Jid>() {
        Ok(j) if id.ends_with("@g.us") => Ok(j),
        _ => Err(EngineError::GroupNotFound),
    }
}

#[cfg(test)]
mod quiet_tests {
    use super::Quiet;

    #[test]
    fn a_retry_warns_when_its_reason_changes_not_on_every_repeat() {
        let mut q = Quiet::default();
        assert!(q.warn("connection refused"));
        assert!(!q.warn("connection refused"));
        assert!(!q.warn("connection refused"));
        assert!(q.warn("timed out"));
        assert!(q.warn("connection refused"));
    }
}
