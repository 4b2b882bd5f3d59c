//! The simulator engine: an in-process stand-in for WhatsApp and the phone, for tests, demos
//! and load tests. Chosen only explicitly (`--engine simulator`); never the default.
//!
//! It behaves as WhatsApp does as far as the API and webhooks can see: a pairing code that
//! rotates (the first lasts 60 s, later ones 20 s, configurable), WhatsApp-style message ids,
//! a device store per session under `<data dir>/simulator/` so paired sessions come back after
//! a restart without a new scan, numbers that are not on WhatsApp, dropped links that
//! reconnect, and logout. The control API (`crate::sessions::simulator_routes`) plays the
//! phone's side through the methods of [`Simulator`].

use super::{
    Ack, Action, Answer, AnswerVia, Connection, Content, Engine, EngineError, EngineEvent,
    GroupEvent, Inbound, MessageKind, Outgoing, Sent,
};
use crate::{db::now_ms, phone::Chat};
use anyhow::Context;
use app::model::{
    GroupMember, GroupPatch, GroupView, Interactive, Joined, MemberAction, MemberRole,
    ParticipantResult, SessionId,
};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::{
    collections::{HashMap, HashSet},
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio_util::sync::CancellationToken;

/// How long pairing codes last, and how soon a dropped link comes back.
#[derive(Debug, Clone, Copy)]
pub struct Timings {
    pub first_qr: Duration,
    pub next_qr: Duration,
    pub reconnect: Duration,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            first_qr: Duration::from_secs(60),
            next_qr: Duration::from_secs(20),
            reconnect: Duration::from_secs(2),
        }
    }
}

/// A message the simulated session has sent (`GET /simulator/sessions/{id}/sent`): what a
/// phone would receive.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SentRecord {
    pub message_id: String,
    pub to: String,
    /// `text`, `interactive` (native buttons or a list), `poll`, `location`, `contact`, a
    /// media kind — or what the session did to a message or chat: `reaction`, `edit`,
    /// `revoke`, `presence`, `read`.
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub kind: &'static str,
    /// The text, the interactive body, the poll's question, a location's name, the first
    /// contact's name; for actions: the emoji, the new text, the presence state.
    pub message: String,
    /// For `reaction`, `edit`, `revoke` and `read`: the messages acted on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_message_ids: Option<Vec<String>>,
    /// For `poll`: whether voters may choose several options.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub multiple_answers: bool,
    /// For `location`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<app::model::Location>,
    /// For `contact`: the cards, as the phone shows them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<app::model::ContactCard>>,
    pub quoted_message_id: Option<String>,
    /// The buttons or list, for `interactive`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interactive: Option<Interactive>,
    /// The options, for `poll`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poll_options: Option<Vec<String>>,
    /// The file, for media (`image`, `video`, `audio`, `voice`, `document`, `sticker`): its
    /// bytes are at its `url`, as for any message Kabar sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media: Option<app::model::MediaInfo>,
    /// `true` for a view-once image, video or voice note.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub view_once: bool,
    /// For a text: the people it mentions (digits).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    pub timestamp: i64,
}

/// The simulated device store: what a linked device remembers across restarts.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Device {
    phone: String,
    push_name: String,
}

/// A message the simulated phone side produces (`POST /simulator/sessions/{id}/incoming`).
#[derive(Debug, Clone)]
pub struct SimMessage {
    /// The chat: the contact, or a group.
    pub from: Chat,
    /// Who wrote it (digits).
    pub sender: String,
    pub text: String,
    pub push_name: Option<String>,
    pub quoted_id: Option<String>,
    /// Typed on the linked phone to `from`, rather than received from it.
    pub from_me: bool,
    /// A file (already in the media store) and the kind it arrives as; `text` is its caption.
    pub media: Option<(MessageKind, crate::messages::MediaMeta)>,
    /// A location, contact cards or a poll.
    pub details: Option<app::model::Details>,
    /// A reaction to, edit of, or delete of an earlier message.
    pub change: Option<super::Change>,
}

impl SimMessage {
    /// A text (or caption) from a contact in a chat; the rest empty.
    pub fn text(from: Chat, sender: String, text: String) -> SimMessage {
        SimMessage {
            from,
            sender,
            text,
            push_name: None,
            quoted_id: None,
            from_me: false,
            media: None,
            details: None,
            change: None,
        }
    }

    /// The kind it arrives as, as the real engine would classify it.
    fn kind(&self) -> MessageKind {
        use super::Change;
        match (&self.change, &self.media, &self.details) {
            (Some(Change::Reaction { .. }), ..) => MessageKind::Reaction,
            (Some(Change::Edited { .. }), ..) => MessageKind::Edit,
            (Some(Change::Revoked { .. }), ..) => MessageKind::Revoke,
            (None, Some((k, _)), _) => *k,
            (None, None, Some(d)) if d.location.is_some() => MessageKind::Location,
            (None, None, Some(d)) if d.contacts.is_some() => MessageKind::Contact,
            (None, None, Some(d)) if d.poll.is_some() => MessageKind::Poll,
            _ => MessageKind::Text,
        }
    }
}

/// Why a control call cannot be carried out (answered as 409 by the control API).
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("the session is not running")]
    NoSession,
    #[error("the session is not waiting for a QR scan")]
    NotPairing,
    #[error("the session is not connected")]
    NotConnected,
    #[error("that is not the pairing code this session gave out")]
    WrongCode,
    #[error("the session's number is not in that group")]
    GroupNotFound,
    /// The server did not store the message (its database refused the write, or the session
    /// stopped): like WhatsApp, the phone should send it again.
    #[error("the message was not stored; send it again")]
    NotStored,
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// A message the simulated phone sent, and whether the server stored it.
pub struct Reported {
    pub id: String,
    stored: tokio::sync::oneshot::Receiver<bool>,
}

/// How long the phone waits for the server to store a message before giving up (and, like
/// WhatsApp, sending it again later).
const STORE_TIMEOUT: Duration = Duration::from_secs(10);

impl Reported {
    /// Waits until the server has committed the message (contract §8: the point where the real
    /// engine acknowledges it to WhatsApp); answers its id.
    pub async fn stored(self) -> Result<String, SimError> {
        match tokio::time::timeout(STORE_TIMEOUT, self.stored).await {
            Ok(Ok(true)) => Ok(self.id),
            _ => Err(SimError::NotStored),
        }
    }
}

#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    timings: Timings,
    sessions: Mutex<HashMap<SessionId, Arc<SimSession>>>,
    unregistered: Mutex<HashSet<String>>,
    /// The simulated WhatsApp's groups, by JID: a session sees those its number is in. Kept
    /// in `<data dir>/simulator/groups.json`, as WhatsApp keeps groups across restarts.
    groups: Mutex<HashMap<String, SimGroup>>,
}

/// A group on the simulated WhatsApp.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SimGroup {
    id: String,
    subject: String,
    description: Option<String>,
    owner: Option<String>,
    created_at: i64,
    /// The code of its invite link.
    invite: String,
    /// Members (digits) and their standing, in the order they joined.
    members: Vec<(String, MemberRole)>,
}

impl SimGroup {
    fn role(&self, phone: &str) -> Option<MemberRole> {
        self.members
            .iter()
            .find(|(p, _)| p == phone)
            .map(|(_, r)| *r)
    }

    fn view(&self) -> GroupView {
        GroupView {
            id: self.id.clone(),
            subject: self.subject.clone(),
            description: self.description.clone(),
            owner: self.owner.clone(),
            participants: self
                .members
                .iter()
                .map(|(p, r)| GroupMember {
                    phone_number: p.clone(),
                    role: *r,
                })
                .collect(),
            created_at: Some(self.created_at),
        }
    }

    /// Applies one member change as WhatsApp would; `Err` names why it was refused.
    fn apply(&mut self, action: &str, phone: &str) -> Result<(), &'static str> {
        let at = self.members.iter().position(|(p, _)| p == phone);
        match (action, at) {
            ("add" | "join", Some(_)) => Err("already"),
            ("add" | "join", None) => {
                self.members.push((phone.to_string(), MemberRole::Member));
                Ok(())
            }
            (_, None) => Err("not_found"),
            ("remove" | "leave", Some(i)) => {
                self.members.remove(i);
                Ok(())
            }
            ("promote", Some(i)) => {
                if self.members[i].1 == MemberRole::Member {
                    self.members[i].1 = MemberRole::Admin;
                }
                Ok(())
            }
            ("demote", Some(i)) => match self.members[i].1 {
                MemberRole::Superadmin => Err("forbidden"),
                _ => {
                    self.members[i].1 = MemberRole::Member;
                    Ok(())
                }
            },
            _ => Err("bad_request"),
        }
    }
}

/// A new group JID, shaped like WhatsApp's (`120363` and 12 more digits).
fn new_group_id() -> String {
    format!(
        "120363{:012}@g.us",
        rand::random_range(0..1_000_000_000_000u64)
    )
}

/// A new invite code, shaped like WhatsApp's (22 letters and digits).
fn new_invite_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..22)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Link {
    Pairing,
    Connected(String),
    Disconnected,
}

struct SimSession {
    id: SessionId,
    events: super::Events,
    link: Mutex<Link>,
    sent: Mutex<Vec<SentRecord>>,
    /// The pairing code last handed out, and the number it is for.
    pair_code: Mutex<Option<(String, String)>>,
    /// Cancels the QR rotation or a pending reconnect.
    pending: Mutex<CancellationToken>,
    stopped: CancellationToken,
}

impl Simulator {
    pub fn new(data_dir: &std::path::Path, timings: Timings) -> Self {
        Simulator {
            inner: Arc::new(Inner {
                dir: data_dir.join("simulator"),
                timings,
                sessions: Default::default(),
                unregistered: Default::default(),
                groups: Mutex::new(
                    std::fs::read(data_dir.join("simulator").join("groups.json"))
                        .ok()
                        .and_then(|b| serde_json::from_slice(&b).ok())
                        .unwrap_or_default(),
                ),
            }),
        }
    }

    /// Runs `f` on the groups and saves them when it answers `Ok`.
    fn with_groups<T>(
        &self,
        f: impl FnOnce(&mut HashMap<String, SimGroup>) -> Result<T, EngineError>,
    ) -> Result<T, EngineError> {
        let mut groups = self
            .inner
            .groups
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?;
        let answer = f(&mut groups)?;
        std::fs::create_dir_all(&self.inner.dir).context("simulator dir")?;
        std::fs::write(
            self.inner.dir.join("groups.json"),
            serde_json::to_vec(&*groups).context("groups")?,
        )
        .context("writing the simulated groups")?;
        Ok(answer)
    }

    /// The numbers marked as not on WhatsApp.
    fn unregistered(&self) -> Result<HashSet<String>, EngineError> {
        Ok(self
            .inner
            .unregistered
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .clone())
    }

    /// Whether the session's number is in the group `gid`.
    fn is_member(&self, s: &SimSession, gid: &str) -> bool {
        let Ok(phone) = s.phone() else { return false };
        self.inner
            .groups
            .lock()
            .map(|g| g.get(gid).is_some_and(|g| g.role(&phone).is_some()))
            .unwrap_or(false)
    }

    /// Someone else's group that the session's number is in (`POST /simulator/sessions/{id}/groups`):
    /// `participants` (the first is its creator) plus the session, an admin when `admin`.
    pub fn add_group(
        &self,
        id: &SessionId,
        subject: &str,
        participants: &[String],
        admin: bool,
    ) -> Result<String, SimError> {
        let s = self.session(id)?;
        s.ensure_connected()?;
        let me = s.phone()?;
        let owner = participants.first().cloned().unwrap_or_else(|| me.clone());
        let mut members = vec![(owner.clone(), MemberRole::Superadmin)];
        for p in participants.iter().skip(1) {
            if !members.iter().any(|(m, _)| m == p) {
                members.push((p.clone(), MemberRole::Member));
            }
        }
        if !members.iter().any(|(m, _)| *m == me) {
            let role = if admin {
                MemberRole::Admin
            } else {
                MemberRole::Member
            };
            members.push((me, role));
        }
        let group = SimGroup {
            id: new_group_id(),
            subject: subject.to_string(),
            description: None,
            owner: Some(owner),
            created_at: now_ms(),
            invite: new_invite_code(),
            members,
        };
        let gid = group.id.clone();
        self.with_groups(|g| {
            g.insert(gid.clone(), group);
            Ok(())
        })
        .map_err(|e| SimError::Other(anyhow::anyhow!(e.to_string())))?;
        Ok(gid)
    }

    /// Members of a group change on the phones' side (`…/groups/{gid}/participants`):
    /// `add`, `remove`, `promote`, `demote`, `leave` or `join`, made by `by` (for `leave` and
    /// `join`: the participants themselves). Reported as `group.participants` and applied
    /// only once the server stored that, like a message (`NotStored`: nothing changed, send
    /// it again). Numbers the change does not apply to are left out; none left, no event.
    pub async fn change_participants(
        &self,
        id: &SessionId,
        gid: &str,
        action: &'static str,
        participants: &[String],
        by: Option<String>,
    ) -> Result<(), SimError> {
        let s = self.session(id)?;
        s.ensure_connected()?;
        if !self.is_member(&s, gid) {
            return Err(SimError::GroupNotFound);
        }
        let mut after = self
            .inner
            .groups
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .get(gid)
            .cloned()
            .ok_or(SimError::GroupNotFound)?;
        let changed: Vec<String> = participants
            .iter()
            .filter(|p| after.apply(action, p).is_ok())
            .cloned()
            .collect();
        if changed.is_empty() {
            return Ok(());
        }
        let (ack, stored) = Ack::channel();
        s.events
            .group(
                GroupEvent::Participants {
                    group: gid.to_string(),
                    action,
                    participants: changed,
                    by,
                    timestamp_ms: now_ms(),
                },
                ack,
            )
            .await;
        Reported {
            id: gid.to_string(),
            stored,
        }
        .stored()
        .await?;
        self.with_groups(|groups| {
            groups.insert(gid.to_string(), after);
            Ok(())
        })
        .map_err(|e| SimError::Other(anyhow::anyhow!(e.to_string())))
    }

    fn session(&self, id: &SessionId) -> Result<Arc<SimSession>, SimError> {
        let map = self
            .inner
            .sessions
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?;
        map.get(id).cloned().ok_or(SimError::NoSession)
    }

    fn device_path(&self, id: &SessionId) -> PathBuf {
        // Session ids are URL-safe ([A-Za-z0-9_-]), so they are safe file names too.
        self.inner.dir.join(format!("{}.json", id.as_str()))
    }

    /// The phone types the pairing code (`enter-code`): the session links as the number the
    /// code was asked for. A wrong code is refused, as the phone would.
    pub fn enter_code(
        &self,
        id: &SessionId,
        code: &str,
        push_name: Option<&str>,
    ) -> Result<(), SimError> {
        let s = self.session(id)?;
        let expected = s
            .pair_code
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .clone();
        let normalize = |c: &str| c.replace(['-', ' '], "").to_ascii_uppercase();
        match expected {
            Some((want, phone)) if normalize(&want) == normalize(code) => {
                self.scan(id, &phone, push_name.unwrap_or(&phone))
            }
            _ => Err(SimError::WrongCode),
        }
    }

    /// The phone scans the QR: the session links as `phone`.
    pub fn scan(&self, id: &SessionId, phone: &str, push_name: &str) -> Result<(), SimError> {
        let s = self.session(id)?;
        {
            let mut link = s.link.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
            if *link != Link::Pairing {
                return Err(SimError::NotPairing);
            }
            *link = Link::Connected(phone.to_string());
        }
        s.cancel_pending();
        if let Ok(mut code) = s.pair_code.lock() {
            *code = None;
        }
        let device = Device {
            phone: phone.to_string(),
            push_name: push_name.to_string(),
        };
        std::fs::create_dir_all(&self.inner.dir).context("simulator dir")?;
        std::fs::write(
            self.device_path(id),
            serde_json::to_vec(&device).context("device")?,
        )
        .context("writing the simulated device store")?;
        let _ = s.events.send(EngineEvent::Connected {
            phone: device.phone,
            push_name: device.push_name,
        });
        Ok(())
    }

    /// A contact writes to the session (or, `from_me`, the phone's owner writes to the contact
    /// from the phone); answers the new message's id.
    pub async fn incoming(&self, id: &SessionId, msg: SimMessage) -> Result<Reported, SimError> {
        let s = self.session(id)?;
        s.ensure_connected()?;
        if let Chat::Group(g) = &msg.from
            && !self.is_member(&s, g)
        {
            return Err(SimError::GroupNotFound);
        }
        let message_id = super::new_message_id();
        let (ack, stored) = Ack::channel();
        let kind = msg.kind();
        s.events
            .message(
                Inbound {
                    id: message_id.clone(),
                    chat: msg.from,
                    sender: msg.sender,
                    push_name: msg.push_name,
                    from_me: msg.from_me,
                    kind,
                    text: msg.text,
                    quoted_id: msg.quoted_id,
                    timestamp_ms: now_ms(),
                    answer: None,
                    media: msg.media.map(|(_, meta)| Box::new(meta)),
                    details: msg.details.map(Box::new),
                    change: msg.change,
                },
                ack,
            )
            .await;
        Ok(Reported {
            id: message_id,
            stored,
        })
    }

    /// A contact (`from`, digits) answers the message `message_id`: taps a button (`via` Button), picks a list
    /// row (ListRow), or votes in a poll ([`Simulator::poll_vote`]). The reply carries what a
    /// phone would send — the id, and the shown text when the message is known — and is
    /// resolved by the server exactly as the real engine's is. Unknown ids are not refused:
    /// the server must cope with them (a plain `message.in`).
    pub async fn answer(
        &self,
        id: &SessionId,
        chat: Chat,
        from: &str,
        message_id: &str,
        choice_id: &str,
        via: AnswerVia,
    ) -> Result<Reported, SimError> {
        let s = self.session(id)?;
        s.ensure_connected()?;
        let shown = s
            .sent_message(message_id)?
            .and_then(|r| r.interactive)
            .and_then(|m| {
                m.options()
                    .iter()
                    .find(|c| c.id == choice_id)
                    .map(|c| c.title.to_string())
            })
            .unwrap_or_default();
        self.emit_answer(
            &s,
            chat,
            from,
            MessageKind::Interactive,
            shown,
            Answer::Selected {
                message_id: message_id.to_string(),
                id: choice_id.to_string(),
                via,
            },
        )
        .await
    }

    /// A contact votes in the poll `message_id` for the options named `options`; the vote
    /// carries their SHA-256 hashes, as WhatsApp's do.
    pub async fn poll_vote(
        &self,
        id: &SessionId,
        chat: Chat,
        from: &str,
        message_id: &str,
        options: &[String],
    ) -> Result<Reported, SimError> {
        let s = self.session(id)?;
        s.ensure_connected()?;
        let option_hashes = options
            .iter()
            .map(|o| crate::interactive::option_hash(o))
            .collect();
        self.emit_answer(
            &s,
            chat,
            from,
            MessageKind::Poll,
            String::new(),
            Answer::PollVote {
                poll_id: message_id.to_string(),
                option_hashes,
            },
        )
        .await
    }

    async fn emit_answer(
        &self,
        s: &SimSession,
        chat: Chat,
        from: &str,
        kind: MessageKind,
        text: String,
        answer: Answer,
    ) -> Result<Reported, SimError> {
        // A tap quotes the message it answers, as WhatsApp's replies carry it in their
        // context; a poll vote names its poll only inside the vote.
        let quoted_id = match &answer {
            Answer::Selected { message_id, .. } => Some(message_id.clone()),
            Answer::PollVote { .. } => None,
        };
        if let Chat::Group(g) = &chat
            && !self.is_member(s, g)
        {
            return Err(SimError::GroupNotFound);
        }
        let message_id = super::new_message_id();
        let (ack, stored) = Ack::channel();
        s.events
            .message(
                Inbound {
                    id: message_id.clone(),
                    chat,
                    sender: from.to_string(),
                    push_name: None,
                    from_me: false,
                    kind,
                    text,
                    quoted_id,
                    timestamp_ms: now_ms(),
                    answer: Some(answer),
                    media: None,
                    details: None,
                    change: None,
                },
                ack,
            )
            .await;
        Ok(Reported {
            id: message_id,
            stored,
        })
    }

    /// The recipient's phone reports messages the session sent as delivered, read or played.
    pub fn receipt(
        &self,
        id: &SessionId,
        ids: Vec<String>,
        status: &'static str,
    ) -> Result<(), SimError> {
        let s = self.session(id)?;
        s.ensure_connected()?;
        s.events.send(EngineEvent::Receipt { ids, status });
        Ok(())
    }

    /// The link drops; it comes back by itself after [`Timings::reconnect`].
    pub fn disconnect(&self, id: &SessionId, reason: String) -> Result<(), SimError> {
        let s = self.session(id)?;
        let phone = match &*s.link.lock().map_err(|_| anyhow::anyhow!("poisoned"))? {
            Link::Connected(p) => p.clone(),
            _ => return Err(SimError::NotConnected),
        };
        *s.link.lock().map_err(|_| anyhow::anyhow!("poisoned"))? = Link::Disconnected;
        let _ = s.events.send(EngineEvent::Disconnected { reason });
        let token = s.new_pending();
        let (sim, delay) = (self.clone(), self.inner.timings.reconnect);
        let session = s.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = token.cancelled() => {}
                _ = tokio::time::sleep(delay) => {
                    if let Ok(device) = sim.read_device(&session.id) {
                        if let Ok(mut link) = session.link.lock() {
                            *link = Link::Connected(phone);
                        }
                        let _ = session.events.send(EngineEvent::Connected {
                            phone: device.phone,
                            push_name: device.push_name,
                        });
                    }
                }
            }
        });
        Ok(())
    }

    /// The device is removed on the phone.
    pub fn logout(&self, id: &SessionId) -> Result<(), SimError> {
        let s = self.session(id)?;
        self.unlink(&s, "logged out from the phone")
    }

    /// Marks numbers as not on WhatsApp, for every session.
    pub fn set_unregistered(&self, numbers: impl IntoIterator<Item = String>) {
        if let Ok(mut set) = self.inner.unregistered.lock() {
            set.extend(numbers);
        }
    }

    /// What the session has sent, oldest first.
    pub fn sent(&self, id: &SessionId) -> Result<Vec<SentRecord>, SimError> {
        let s = self.session(id)?;
        Ok(s.sent
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .clone())
    }

    fn read_device(&self, id: &SessionId) -> anyhow::Result<Device> {
        let bytes = std::fs::read(self.device_path(id))?;
        Ok(serde_json::from_slice(&bytes)?)
    }

    fn unlink(&self, s: &Arc<SimSession>, reason: &str) -> Result<(), SimError> {
        let _ = std::fs::remove_file(self.device_path(&s.id));
        if let Ok(mut link) = s.link.lock() {
            *link = Link::Pairing;
        }
        let _ = s.events.send(EngineEvent::LoggedOut {
            reason: reason.to_string(),
        });
        self.start_pairing(s);
        Ok(())
    }

    /// Offers rotating pairing codes until the QR is scanned or the session stops.
    fn start_pairing(&self, s: &Arc<SimSession>) {
        let token = s.new_pending();
        let timings = self.inner.timings;
        let session = s.clone();
        tokio::spawn(async move {
            let mut valid_for = timings.first_qr;
            loop {
                let _ = session.events.send(EngineEvent::Qr {
                    code: pairing_code(),
                    valid_for,
                });
                tokio::select! {
                    _ = token.cancelled() => return,
                    _ = tokio::time::sleep(valid_for) => {}
                }
                valid_for = timings.next_qr;
            }
        });
    }
}

/// A pairing string shaped like WhatsApp's: `ref,noise key,identity key,adv secret`.
fn pairing_code() -> String {
    let b64 = |n: usize| {
        let bytes: Vec<u8> = (0..n).map(|_| rand::random::<u8>()).collect();
        base64::engine::general_purpose::STANDARD.encode(bytes)
    };
    format!("2@{},{},{},{}", b64(48), b64(32), b64(32), b64(32))
}

impl SimSession {
    /// The linked number.
    fn phone(&self) -> Result<String, SimError> {
        match &*self.link.lock().map_err(|_| anyhow::anyhow!("poisoned"))? {
            Link::Connected(p) => Ok(p.clone()),
            _ => Err(SimError::NotConnected),
        }
    }

    /// A stopped session (its server side is gone: paused or shutting down) takes nothing,
    /// like a real phone's link whose client is offline.
    fn ensure_connected(&self) -> Result<(), SimError> {
        if self.stopped.is_cancelled() {
            return Err(SimError::NotConnected);
        }
        match *self.link.lock().map_err(|_| anyhow::anyhow!("poisoned"))? {
            Link::Connected(_) => Ok(()),
            _ => Err(SimError::NotConnected),
        }
    }

    fn sent_message(&self, id: &str) -> Result<Option<SentRecord>, SimError> {
        let sent = self.sent.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        Ok(sent.iter().rev().find(|r| r.message_id == id).cloned())
    }

    fn new_pending(&self) -> CancellationToken {
        let token = self.stopped.child_token();
        if let Ok(mut p) = self.pending.lock() {
            std::mem::replace(&mut *p, token.clone()).cancel();
        }
        token
    }

    fn cancel_pending(&self) {
        if let Ok(p) = self.pending.lock() {
            p.cancel();
        }
    }
}

#[async_trait::async_trait]
impl Engine for Simulator {
    fn name(&self) -> &'static str {
        "simulator"
    }

    async fn start(
        &self,
        session: &SessionId,
        events: super::Events,
    ) -> Result<Arc<dyn Connection>, EngineError> {
        let s = Arc::new(SimSession {
            id: session.clone(),
            events,
            link: Mutex::new(Link::Pairing),
            sent: Default::default(),
            pair_code: Default::default(),
            pending: Mutex::new(CancellationToken::new()),
            stopped: CancellationToken::new(),
        });
        if let Ok(mut map) = self.inner.sessions.lock()
            && let Some(old) = map.insert(session.clone(), s.clone())
        {
            old.stopped.cancel();
        }
        match self.read_device(session) {
            Ok(device) => {
                if let Ok(mut link) = s.link.lock() {
                    *link = Link::Connected(device.phone.clone());
                }
                let _ = s.events.send(EngineEvent::Connected {
                    phone: device.phone,
                    push_name: device.push_name,
                });
            }
            Err(_) => self.start_pairing(&s),
        }
        Ok(Arc::new(SimConnection {
            sim: self.clone(),
            session: s,
        }))
    }

    async fn remove(&self, session: &SessionId) -> Result<(), EngineError> {
        if let Ok(mut map) = self.inner.sessions.lock()
            && let Some(s) = map.remove(session)
        {
            s.stopped.cancel();
        }
        match std::fs::remove_file(self.device_path(session)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(EngineError::Other(e.into())),
        }
    }
}

struct SimConnection {
    sim: Simulator,
    session: Arc<SimSession>,
}

impl SimConnection {
    /// The linked number, or why the session cannot act.
    fn me(&self) -> Result<String, EngineError> {
        self.session.ensure_connected().map_err(engine_error)?;
        self.session.phone().map_err(engine_error)
    }

    /// The group `gid` as the session's number sees it: `GroupNotFound` when it is not in it,
    /// `NotGroupAdmin` when `admin` is asked and it is not one.
    fn my_group<T>(
        &self,
        gid: &str,
        admin: bool,
        f: impl FnOnce(&mut SimGroup, &str) -> Result<T, EngineError>,
    ) -> Result<T, EngineError> {
        let me = self.me()?;
        self.sim.with_groups(|groups| {
            let g = groups.get_mut(gid).ok_or(EngineError::GroupNotFound)?;
            match g.role(&me) {
                None => Err(EngineError::GroupNotFound),
                Some(MemberRole::Member) if admin => Err(EngineError::NotGroupAdmin),
                Some(_) => f(g, &me),
            }
        })
    }

    /// Tells the session's task what changed, as WhatsApp notifies every member.
    async fn notify(&self, event: GroupEvent) {
        self.session.events.group(event, Ack::default()).await;
    }

    fn push(&self, record: SentRecord) -> Result<(), EngineError> {
        self.session
            .sent
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .push(record);
        Ok(())
    }
}

/// A control-side refusal as the engine trait says it.
fn engine_error(e: SimError) -> EngineError {
    match e {
        SimError::Other(e) => EngineError::Other(e),
        SimError::GroupNotFound => EngineError::GroupNotFound,
        _ => EngineError::NotConnected,
    }
}

impl SentRecord {
    /// A record of `kind` to `to`, timed now; the rest empty.
    fn new(kind: &'static str, to: &Chat, message: String) -> SentRecord {
        SentRecord {
            message_id: super::new_message_id(),
            to: to.display().to_string(),
            kind,
            message,
            quoted_message_id: None,
            target_message_ids: None,
            interactive: None,
            poll_options: None,
            multiple_answers: false,
            location: None,
            contacts: None,
            media: None,
            view_once: false,
            mentions: Vec::new(),
            timestamp: now_ms(),
        }
    }
}

#[async_trait::async_trait]
impl Connection for SimConnection {
    async fn send(&self, msg: Outgoing) -> Result<Sent, EngineError> {
        self.session.ensure_connected().map_err(engine_error)?;
        if let Chat::Group(g) = &msg.to
            && !self.sim.is_member(&self.session, g)
        {
            return Err(EngineError::GroupNotFound);
        }
        let sent = Sent {
            id: msg.id.clone(),
            timestamp_ms: now_ms(),
        };
        let mut record =
            SentRecord::new(msg.content.kind(), &msg.to, msg.content.text().to_string());
        record.message_id = sent.id.clone();
        record.quoted_message_id = msg.quoted.map(|q| q.id);
        record.mentions = msg.mentions;
        match msg.content {
            Content::Text(_) => {}
            Content::Interactive(m) => record.interactive = Some(m),
            Content::Poll {
                options, multiple, ..
            } => {
                record.poll_options = Some(options);
                record.multiple_answers = multiple;
            }
            Content::Media(m) => {
                // As the real engine, which uploads it: a file that is not on disk (whole) is
                // a failed send.
                let on_disk = tokio::fs::metadata(&m.file.path).await.map(|f| f.len());
                if on_disk.as_ref().ok() != Some(&m.file.meta.size) {
                    return Err(EngineError::Other(anyhow::anyhow!(
                        "the file to send is not on disk ({})",
                        m.file.path.display()
                    )));
                }
                record.media = Some(m.file.meta.info(&sent.id));
                record.view_once = m.view_once;
            }
            Content::Location(l) => record.location = Some(l),
            Content::Contacts(c) => record.contacts = Some(c),
        }
        self.push(record)?;
        Ok(sent)
    }

    async fn check_numbers(&self, digits: &[String]) -> Result<Vec<bool>, EngineError> {
        self.session.ensure_connected().map_err(engine_error)?;
        let unregistered = self
            .sim
            .inner
            .unregistered
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?;
        Ok(digits.iter().map(|d| !unregistered.contains(d)).collect())
    }

    async fn act(&self, action: Action) -> Result<(), EngineError> {
        self.session.ensure_connected().map_err(engine_error)?;
        let (kind, chat, message, targets) = match action {
            Action::React {
                chat,
                target,
                emoji,
            } => ("reaction", chat, emoji, vec![target.id]),
            Action::Edit { chat, id, text } => ("edit", chat, text, vec![id]),
            Action::Revoke { chat, id } => ("revoke", chat, String::new(), vec![id]),
            Action::Presence { chat, state } => {
                ("presence", chat, state.as_str().to_string(), vec![])
            }
            Action::MarkRead { chat, ids, .. } => ("read", chat, String::new(), ids),
        };
        let mut record = SentRecord::new(kind, &chat, message);
        record.target_message_ids = (!targets.is_empty()).then_some(targets);
        self.push(record)
    }

    async fn pair_with_code(&self, digits: &str) -> Result<String, EngineError> {
        if *self
            .session
            .link
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            != Link::Pairing
        {
            return Err(EngineError::NotPairing);
        }
        // WhatsApp's codes: 8 characters of Crockford's base32, shown as XXXX-XXXX.
        const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTVWXYZ";
        let chars: String = (0..8)
            .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
            .collect();
        let code = format!("{}-{}", &chars[..4], &chars[4..]);
        *self
            .session
            .pair_code
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))? = Some((code.clone(), digits.to_string()));
        Ok(code)
    }

    async fn is_on_whatsapp(&self, chat: &Chat) -> Result<bool, EngineError> {
        Ok(match chat {
            Chat::Group(_) => true,
            Chat::User(digits) => !self
                .sim
                .inner
                .unregistered
                .lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?
                .contains(digits),
        })
    }

    async fn logout(&self) -> Result<(), EngineError> {
        self.sim
            .unlink(&self.session, "logged out through Kabar")
            .map_err(|e| match e {
                SimError::Other(e) => EngineError::Other(e),
                other => EngineError::Other(anyhow::anyhow!(other.to_string())),
            })
    }

    async fn stop(&self) {
        self.session.stopped.cancel();
    }

    async fn groups(&self) -> Result<Vec<GroupView>, EngineError> {
        let me = self.me()?;
        let groups = self
            .sim
            .inner
            .groups
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?;
        let mut mine: Vec<GroupView> = groups
            .values()
            .filter(|g| g.role(&me).is_some())
            .map(SimGroup::view)
            .collect();
        mine.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(mine)
    }

    async fn group(&self, id: &str) -> Result<GroupView, EngineError> {
        self.my_group(id, false, |g, _| Ok(g.view()))
    }

    async fn create_group(
        &self,
        subject: &str,
        participants: &[String],
    ) -> Result<GroupView, EngineError> {
        let me = self.me()?;
        let unregistered = self.sim.unregistered()?;
        let mut members = vec![(me.clone(), MemberRole::Superadmin)];
        for p in participants {
            if !unregistered.contains(p) && !members.iter().any(|(m, _)| m == p) {
                members.push((p.clone(), MemberRole::Member));
            }
        }
        let group = SimGroup {
            id: new_group_id(),
            subject: subject.to_string(),
            description: None,
            owner: Some(me),
            created_at: now_ms(),
            invite: new_invite_code(),
            members,
        };
        let view = group.view();
        self.sim.with_groups(|g| {
            g.insert(group.id.clone(), group);
            Ok(())
        })?;
        Ok(view)
    }

    async fn change_members(
        &self,
        id: &str,
        action: MemberAction,
        participants: &[String],
    ) -> Result<Vec<ParticipantResult>, EngineError> {
        let unregistered = self.sim.unregistered()?;
        let (results, me) = self.my_group(id, true, |g, me| {
            let results: Vec<ParticipantResult> = participants
                .iter()
                .map(|p| {
                    let outcome = if action == MemberAction::Add && unregistered.contains(p) {
                        Err("not_found")
                    } else {
                        g.apply(action.as_str(), p)
                    };
                    ParticipantResult {
                        input: p.clone(),
                        phone_number: p.clone(),
                        success: outcome.is_ok(),
                        error: outcome.err().map(str::to_string),
                    }
                })
                .collect();
            Ok((results, me.to_string()))
        })?;
        let changed: Vec<String> = results
            .iter()
            .filter(|r| r.success)
            .map(|r| r.phone_number.clone())
            .collect();
        if !changed.is_empty() {
            self.notify(GroupEvent::Participants {
                group: id.to_string(),
                action: action.as_str(),
                participants: changed,
                by: Some(me),
                timestamp_ms: now_ms(),
            })
            .await;
        }
        Ok(results)
    }

    async fn update_group(&self, id: &str, patch: &GroupPatch) -> Result<(), EngineError> {
        let me = self.my_group(id, false, |g, me| {
            if let Some(subject) = &patch.subject {
                g.subject = subject.clone();
            }
            if let Some(d) = &patch.description {
                g.description = (!d.is_empty()).then(|| d.clone());
            }
            Ok(me.to_string())
        })?;
        self.notify(GroupEvent::Update {
            group: id.to_string(),
            subject: patch.subject.clone(),
            description: patch.description.clone(),
            by: Some(me),
            timestamp_ms: now_ms(),
        })
        .await;
        Ok(())
    }

    async fn invite_link(&self, id: &str) -> Result<String, EngineError> {
        self.my_group(id, true, |g, _| {
            Ok(format!("https://chat.whatsapp.com/{}", g.invite))
        })
    }

    async fn join_group(&self, code: &str) -> Result<Joined, EngineError> {
        let me = self.me()?;
        let (gid, joined) = self.sim.with_groups(|groups| {
            let g = groups
                .values_mut()
                .find(|g| g.invite == code)
                .ok_or(EngineError::GroupNotFound)?;
            Ok((g.id.clone(), g.apply("join", &me).is_ok()))
        })?;
        if joined {
            self.notify(GroupEvent::Participants {
                group: gid.clone(),
                action: "join",
                participants: vec![me.clone()],
                by: Some(me),
                timestamp_ms: now_ms(),
            })
            .await;
        }
        Ok(Joined {
            success: true,
            id: gid,
            pending_approval: false,
        })
    }

    async fn leave_group(&self, id: &str) -> Result<(), EngineError> {
        let me = self.my_group(id, false, |g, me| {
            g.apply("leave", me)
                .map_err(|e| EngineError::Other(anyhow::anyhow!("leaving: {e}")))?;
            Ok(me.to_string())
        })?;
        self.notify(GroupEvent::Participants {
            group: id.to_string(),
            action: "leave",
            participants: vec![me.clone()],
            by: Some(me),
            timestamp_ms: now_ms(),
        })
        .await;
        Ok(())
    }
}
