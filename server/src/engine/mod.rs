//! The WhatsApp side, behind one trait (contract §8). Everything above it — sessions, REST,
//! webhooks, auto-reply, the dashboard — is written once against [`Engine`] and
//! [`Connection`]; [`simulator`] is the explicit test double.
//!
//! An engine starts one connection per session and reports what happens on the session's
//! event channel; the session task (`crate::sessions::task`) turns those events into state,
//! records and (later) webhooks.

pub mod simulator;
pub mod whatsapp;

use crate::phone::Chat;
use app::model::{
    GroupPatch, GroupView, Interactive, Joined, MemberAction, ParticipantResult, SessionId,
};
use std::{sync::Arc, time::Duration};
use tokio::sync::mpsc;

/// What an engine reports about one session.
// Messages are nearly every event: boxing them to shrink the rare state changes would add an
// allocation to each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum EngineEvent {
    /// Trying to reach WhatsApp; `reason` is the last attempt's error, if one failed.
    Connecting { reason: Option<String> },
    /// A new pairing code to show as a QR; valid for `valid_for`.
    Qr { code: String, valid_for: Duration },
    /// Linked and online as this account.
    Connected { phone: String, push_name: String },
    /// The link dropped; the engine reconnects by itself.
    Disconnected { reason: String },
    /// The device was removed (on the phone, or by logout): a new scan is needed.
    LoggedOut { reason: String },
    /// A message in a chat: from a contact, or typed on the phone (`from_me`). The session
    /// task resolves the [`Ack`] once the message and its events are committed (or not).
    Message(Inbound, Ack),
    /// Messages the session sent reached the phone (`delivered`) or were read (`read`,
    /// `played`).
    Receipt {
        ids: Vec<String>,
        status: &'static str,
    },
    /// Members or details of a group the session is in changed; acknowledged like a message.
    Group(GroupEvent, Ack),
}

/// A change in a group the session is in, as WhatsApp notifies every member — also of the
/// session's own changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupEvent {
    /// `add`, `remove`, `promote`, `demote`, `leave` or `join` (contract §12).
    Participants {
        group: String,
        action: &'static str,
        participants: Vec<String>,
        by: Option<String>,
        timestamp_ms: i64,
    },
    /// The subject and/or the description changed (`Some("")`: the description was removed).
    Update {
        group: String,
        subject: Option<String>,
        description: Option<String>,
        by: Option<String>,
        timestamp_ms: i64,
    },
}

/// A session's event stream, from its engine to its task. Changes of state never wait: there
/// is at most one per change of the link, so they cannot pile up. Messages are bounded: each
/// takes room in a window of [`Events::WINDOW`] first, held until the session task has
/// committed it, so an engine that receives faster than the database stores waits for room
/// (and, on WhatsApp, does not acknowledge) instead of queueing without end in memory.
#[derive(Clone)]
pub struct Events {
    tx: mpsc::UnboundedSender<Queued>,
    room: Arc<tokio::sync::Semaphore>,
}

/// One event as the session task receives it, with the room it holds (messages only). Boxed:
/// the channel allocates its slots 32 at a time, per session, whether or not they are used, and
/// an inline event (a whole [`Inbound`]) made that 11 KiB of every idle session's heap
/// (`scripts/bench.sh heap`).
pub struct Queued(
    pub Box<EngineEvent>,
    pub Option<tokio::sync::OwnedSemaphorePermit>,
);

/// The session task's end of [`Events`].
pub type EventStream = mpsc::UnboundedReceiver<Queued>;

impl Events {
    /// Messages reported and not yet committed, per session, before engines wait.
    pub const WINDOW: usize = 256;

    pub fn channel() -> (Events, EventStream) {
        let (tx, rx) = mpsc::unbounded_channel();
        let room = Arc::new(tokio::sync::Semaphore::new(Self::WINDOW));
        (Events { tx, room }, rx)
    }

    /// Reports a change of state (or a receipt); `false` when the session task is gone.
    pub fn send(&self, e: EngineEvent) -> bool {
        debug_assert!(
            !matches!(e, EngineEvent::Message(..) | EngineEvent::Group(..)),
            "use Events::message or Events::group"
        );
        self.tx.send(Queued(Box::new(e), None)).is_ok()
    }

    /// Reports a message once there is room; `false` when the session task is gone (the
    /// message's ack then says not stored).
    pub async fn message(&self, m: Inbound, ack: Ack) -> bool {
        let Ok(room) = self.room.clone().acquire_owned().await else {
            return false;
        };
        self.tx
            .send(Queued(Box::new(EngineEvent::Message(m, ack)), Some(room)))
            .is_ok()
    }

    /// Reports a group change once there is room, like a message.
    pub async fn group(&self, g: GroupEvent, ack: Ack) -> bool {
        let Ok(room) = self.room.clone().acquire_owned().await else {
            return false;
        };
        self.tx
            .send(Queued(Box::new(EngineEvent::Group(g, ack)), Some(room)))
            .is_ok()
    }
}

/// Whether a reported message is durably stored: the session task answers once its record and
/// webhook events are committed. An engine acknowledges a message to WhatsApp only after a
/// `true` (the simulator answers its `incoming` call then); `false`, or the task gone, means
/// nothing was stored and the message must come again.
#[derive(Debug, Default)]
pub struct Ack(Option<tokio::sync::oneshot::Sender<bool>>);

impl Ack {
    /// An ack and the receiver its answer arrives on.
    pub fn channel() -> (Self, tokio::sync::oneshot::Receiver<bool>) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        (Ack(Some(tx)), rx)
    }

    /// Whether someone waits for the answer (and so can deliver the event again when it was
    /// not stored); the real engine's group notifications are acknowledged by whatsapp-rust
    /// itself, so nobody can.
    pub fn awaited(&self) -> bool {
        self.0.is_some()
    }

    /// Reports whether the message was stored.
    pub fn done(self, stored: bool) {
        if let Some(tx) = self.0 {
            let _ = tx.send(stored);
        }
    }
}

/// One received (or phone-typed) message, as every engine reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    pub id: String,
    pub chat: Chat,
    /// The author: the contact's digits (for a group, the participant).
    pub sender: String,
    pub push_name: Option<String>,
    /// Typed on the linked phone rather than received.
    pub from_me: bool,
    pub kind: MessageKind,
    /// The text or caption; empty when the message has none.
    pub text: String,
    pub quoted_id: Option<String>,
    pub timestamp_ms: i64,
    /// When the message answers an interactive message or a poll: what was chosen, as the
    /// wire said it. The session task resolves it against the stored message
    /// (`crate::interactive::resolve`), the same for every engine.
    pub answer: Option<Answer>,
    /// For an image, video, audio, document or sticker: its file, already in the media store
    /// (`crate::media`) when the engine could fetch it (else `GET …/media` answers 404).
    pub media: Option<Box<crate::messages::MediaMeta>>,
    /// For a location, contact card or poll: what it carries.
    pub details: Option<Box<app::model::Details>>,
    /// For a reaction, an edit or a delete: the earlier message it changes.
    pub change: Option<Change>,
}

impl Inbound {
    /// Who wrote it and where (contract §12): `from` is the author's number, `chat` the
    /// group (or, one-to-one, the contact again), `participant` the author in groups only.
    pub fn author(&self) -> Author {
        let group = matches!(self.chat, Chat::Group(_));
        Author {
            from: self.sender.clone(),
            chat: app::model::ChatOf {
                chat: self.chat.display().to_string(),
                is_group: group,
            },
            participant: group.then(|| self.sender.clone()),
        }
    }
}

/// The author and chat fields every contact event carries.
pub struct Author {
    pub from: String,
    pub chat: app::model::ChatOf,
    pub participant: Option<String>,
}

/// A change to an earlier message, made by its chat's contact (or on the linked phone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// An emoji on `target`; `""` takes the reaction back.
    Reaction { target: String, emoji: String },
    /// New text for `target`, which its author wrote.
    Edited { target: String, text: String },
    /// `target` deleted for everyone by its author.
    Revoked { target: String },
}

impl Change {
    pub fn target(&self) -> &str {
        match self {
            Change::Reaction { target, .. }
            | Change::Edited { target, .. }
            | Change::Revoked { target } => target,
        }
    }
}

/// A contact's answer to an interactive message or a poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A tap on a button or a list row: the `id` it carries, in the message `message_id`.
    Selected {
        message_id: String,
        id: String,
        via: AnswerVia,
    },
    /// A poll vote: the SHA-256 of each selected option's name, as WhatsApp sends votes.
    PollVote {
        poll_id: String,
        option_hashes: Vec<[u8; 32]>,
    },
}

/// Which reply WhatsApp carried the tap in. Old clients say whether it was a button or a row;
/// a native-flow response only carries the id, so the stored message decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerVia {
    /// `ButtonsResponseMessage`, `TemplateButtonReplyMessage`, or the simulator's button-reply.
    Button,
    /// `ListResponseMessage`, or the simulator's list-reply.
    ListRow,
    /// `InteractiveResponseMessage` with a `NativeFlowResponseMessage`.
    NativeFlow,
}

/// The kinds of message a webhook names in `type` (contract §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Text,
    Interactive,
    Image,
    Video,
    Audio,
    Document,
    Sticker,
    Location,
    Contact,
    Poll,
    Reaction,
    /// A contact's edit of an earlier message.
    Edit,
    /// A contact's delete-for-everyone of an earlier message.
    Revoke,
    Unknown,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        use MessageKind::*;
        match self {
            Text => "text",
            Interactive => "interactive",
            Image => "image",
            Video => "video",
            Audio => "audio",
            Document => "document",
            Sticker => "sticker",
            Location => "location",
            Contact => "contact",
            Poll => "poll",
            Reaction => "reaction",
            Edit => "edit",
            Revoke => "revoke",
            Unknown => "unknown",
        }
    }
}

/// A message to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The id to send it under, chosen (and recorded as pending) before sending; an engine
    /// that cannot choose (a poll on the real engine) answers its own in [`Sent`].
    pub id: String,
    pub to: Chat,
    pub content: Content,
    /// The message this one quotes (a reply).
    pub quoted: Option<Quoted>,
    /// People a text mentions (digits); the text shows them as `@<digits>`.
    pub mentions: Vec<String>,
}

/// What an outgoing message carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    Text(String),
    /// Native buttons or a list (WhatsApp's `InteractiveMessage` with a `NativeFlowMessage`).
    Interactive(Interactive),
    /// A poll: `/send-poll`, or the interactive `poll` fallback (one choice).
    Poll {
        question: String,
        options: Vec<String>,
        /// Voters may choose several options.
        multiple: bool,
    },
    /// A file, already stored by [`crate::media`] (contract §11).
    Media(Media),
    /// A place on the map.
    Location(app::model::Location),
    /// Contact cards (one or several); engines build the vCards.
    Contacts(Vec<app::model::ContactCard>),
}

/// A file to send: the engine reads it from `file.path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub file: crate::media::Stored,
    pub caption: Option<String>,
    /// View once (images, videos, voice notes).
    pub view_once: bool,
}

impl Content {
    /// The text a record or webhook shows for it: the text, the body, the question, the
    /// caption.
    pub fn text(&self) -> &str {
        match self {
            Content::Text(t) => t,
            Content::Interactive(m) => &m.text,
            Content::Poll { question, .. } => question,
            Content::Media(m) => m.caption.as_deref().unwrap_or(""),
            Content::Location(l) => l.name.as_deref().unwrap_or(""),
            Content::Contacts(c) => c.first().map(|c| c.name.as_str()).unwrap_or(""),
        }
    }

    /// The kind a record and `message.out` name (contract §5, §11).
    pub fn kind(&self) -> &'static str {
        match self {
            Content::Text(_) => "text",
            Content::Interactive(_) => "interactive",
            Content::Poll { .. } => "poll",
            Content::Media(m) => m.file.kind.as_str(),
            Content::Location(_) => "location",
            Content::Contacts(_) => "contact",
        }
    }

    /// What a location, contact card or poll carries besides its text.
    pub fn details(&self) -> Option<app::model::Details> {
        let mut d = app::model::Details::default();
        match self {
            Content::Location(l) => d.location = Some(l.clone()),
            Content::Contacts(c) => d.contacts = Some(c.clone()),
            Content::Poll {
                question,
                options,
                multiple,
            } => {
                d.poll = Some(app::model::PollInfo {
                    question: question.clone(),
                    options: options.clone(),
                    multiple_answers: *multiple,
                })
            }
            _ => return None,
        }
        Some(d)
    }

    /// The file, for media.
    pub fn media(&self) -> Option<&Media> {
        match self {
            Content::Media(m) => Some(m),
            _ => None,
        }
    }
}

/// What a reply needs to know about the message it quotes. WhatsApp quotes by id; the author
/// and text make the quote render on the phone even when it no longer has the original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quoted {
    pub id: String,
    /// The quoted message's author (digits); `None` when it was our own.
    pub sender: Option<String>,
    pub text: Option<String>,
}

/// A message an action names: its id, whether the session sent it, and the author of a
/// contact's message (which a reaction in a group must carry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRef {
    pub id: String,
    pub from_me: bool,
    pub sender: Option<String>,
}

/// What a chat sees the session doing (`/send-presence`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Composing,
    Recording,
    Paused,
}

impl Presence {
    pub fn parse(s: &str) -> Option<Presence> {
        Some(match s {
            "composing" => Presence::Composing,
            "recording" => Presence::Recording,
            "paused" => Presence::Paused,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Presence::Composing => "composing",
            Presence::Recording => "recording",
            Presence::Paused => "paused",
        }
    }
}

/// Something a session does in a chat that is not a new message of its own (contract §11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// An emoji on a message; `""` takes the session's reaction back.
    React {
        chat: Chat,
        target: MessageRef,
        emoji: String,
    },
    /// New text for one of the session's own text messages.
    Edit {
        chat: Chat,
        id: String,
        text: String,
    },
    /// Deletes one of the session's own messages for everyone.
    Revoke { chat: Chat, id: String },
    /// Typing…, recording…, or stopped.
    Presence { chat: Chat, state: Presence },
    /// Blue ticks for received messages; `sender` is their author in a group.
    MarkRead {
        chat: Chat,
        sender: Option<String>,
        ids: Vec<String>,
    },
}

/// The engine's acknowledgement of a sent message.
#[derive(Debug, Clone)]
pub struct Sent {
    pub id: String,
    pub timestamp_ms: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the session is not connected to WhatsApp")]
    NotConnected,
    /// The session's number is not in that group (or there is no such group).
    #[error("the session is not in that group")]
    GroupNotFound,
    /// Only the group's admins may do that.
    #[error("only the group's admins can do this")]
    NotGroupAdmin,
    /// WhatsApp refused the request as given (an invalid or expired invite link, …).
    #[error("{0}")]
    Refused(String),
    #[error("the session is already linked; log it out first to link another phone")]
    NotPairing,
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Starts sessions. One per server.
#[async_trait::async_trait]
pub trait Engine: Send + Sync + 'static {
    /// `whatsapp` or `simulator`.
    fn name(&self) -> &'static str;

    /// Starts (or restores from its device store) the connection of one session. Events,
    /// including the first QR or `Connected`, arrive on `events`.
    async fn start(
        &self,
        session: &SessionId,
        events: Events,
    ) -> Result<Arc<dyn Connection>, EngineError>;

    /// Deletes the session's device store (the session is being deleted).
    async fn remove(&self, session: &SessionId) -> Result<(), EngineError>;
}

/// One session's live link.
#[async_trait::async_trait]
pub trait Connection: Send + Sync + 'static {
    async fn send(&self, msg: Outgoing) -> Result<Sent, EngineError>;

    /// Whether a number has WhatsApp (groups always "exist").
    async fn is_on_whatsapp(&self, chat: &Chat) -> Result<bool, EngineError>;

    /// Whether each number (digits) has WhatsApp, in the order asked: one question to
    /// WhatsApp for all of them.
    async fn check_numbers(&self, digits: &[String]) -> Result<Vec<bool>, EngineError>;

    /// Does `action` in a chat: a reaction, an edit, a delete, a presence, read receipts.
    async fn act(&self, action: Action) -> Result<(), EngineError>;

    /// While the session waits to be linked: asks WhatsApp for an 8-character code that the
    /// phone `digits` types in instead of scanning the QR.
    async fn pair_with_code(&self, digits: &str) -> Result<String, EngineError>;

    /// Unlinks the device (WhatsApp forgets it); the engine then offers a new QR.
    async fn logout(&self) -> Result<(), EngineError>;

    /// The groups the session's number is in, with their members (contract §12).
    async fn groups(&self) -> Result<Vec<GroupView>, EngineError>;

    /// One group the session's number is in (`GroupNotFound` otherwise).
    async fn group(&self, id: &str) -> Result<GroupView, EngineError>;

    /// Creates a group with the session's number as its creator and `participants` (digits)
    /// as members.
    async fn create_group(
        &self,
        subject: &str,
        participants: &[String],
    ) -> Result<GroupView, EngineError>;

    /// Adds, removes, promotes or demotes members (digits); one result per number, in order
    /// (`input` is the digits).
    async fn change_members(
        &self,
        id: &str,
        action: MemberAction,
        participants: &[String],
    ) -> Result<Vec<ParticipantResult>, EngineError>;

    /// Sets the subject and/or the description (`""` removes it).
    async fn update_group(&self, id: &str, patch: &GroupPatch) -> Result<(), EngineError>;

    /// The group's invite link (`https://chat.whatsapp.com/…`).
    async fn invite_link(&self, id: &str) -> Result<String, EngineError>;

    /// Joins by an invite code (the part after `chat.whatsapp.com/`).
    async fn join_group(&self, code: &str) -> Result<Joined, EngineError>;

    /// Leaves the group.
    async fn leave_group(&self, id: &str) -> Result<(), EngineError>;

    /// Closes the link and stops reporting events; the device store stays (server shutdown).
    async fn stop(&self);
}

/// A WhatsApp-style message id: `3EB0` and 20 upper-case hex digits, as WhatsApp Web makes.
pub fn new_message_id() -> String {
    let bytes: [u8; 10] = rand::random();
    format!("3EB0{}", hex::encode_upper(bytes))
}

/// The engine the configuration asks for, and the simulator's handle when it is the one.
pub fn for_config(config: &crate::Config) -> (Arc<dyn Engine>, Option<simulator::Simulator>) {
    match config.engine {
        crate::config::EngineKind::Simulator => {
            let ms = Duration::from_millis;
            let sim = simulator::Simulator::new(
                &config.data_dir,
                simulator::Timings {
                    first_qr: ms(config.simulator_first_qr_ms),
                    next_qr: ms(config.simulator_next_qr_ms),
                    reconnect: ms(config.simulator_reconnect_ms),
                },
            );
            (Arc::new(sim.clone()), Some(sim))
        }
        crate::config::EngineKind::Whatsapp => {
            let options = whatsapp::Options {
                url: config.whatsapp_url.clone(),
                media_url: config.whatsapp_media_url.clone(),
                version: config.parsed_whatsapp_version(),
                store_url: config.whatsapp_store_url.clone(),
            };
            (
                Arc::new(whatsapp::WhatsApp::new(&config.data_dir, options)),
                None,
            )
        }
    }
}

/// The same inbound cases through both engines' mappings — the simulator's control calls and
/// whatsapp-rust's protobufs — must give the same [`Inbound`], so webhooks cannot tell the
/// engines apart (ids and times aside).
#[cfg(test)]
mod events_tests {
    use super::*;

    #[test]
    fn an_idle_sessions_event_channel_stays_small() {
        // The channel's first block holds 32 slots; boxed events keep it under 1.5 KiB.
        assert!(std::mem::size_of::<Queued>() * 32 <= 1536);
    }

    #[tokio::test]
    async fn events_arrive_in_order_and_messages_hold_room_until_dropped() {
        let (events, mut stream) = Events::channel();
        assert!(events.send(EngineEvent::Connecting { reason: None }));
        let (ack, _answer) = Ack::channel();
        let hello = Inbound {
            id: "M1".into(),
            chat: Chat::User("6282222222222".into()),
            sender: "6282222222222".into(),
            push_name: None,
            from_me: false,
            kind: MessageKind::Text,
            text: "Halo".into(),
            quoted_id: None,
            timestamp_ms: 0,
            answer: None,
            media: None,
            details: None,
            change: None,
        };
        assert!(events.message(hello, ack).await);
        let Some(Queued(first, None)) = stream.recv().await else {
            panic!("a change of state holds no room");
        };
        assert!(matches!(*first, EngineEvent::Connecting { .. }));
        let Some(Queued(second, Some(room))) = stream.recv().await else {
            panic!("a message holds room");
        };
        assert!(matches!(*second, EngineEvent::Message(..)));
        assert_eq!(events.room.available_permits(), Events::WINDOW - 1);
        drop(room);
        assert_eq!(events.room.available_permits(), Events::WINDOW);
    }
}

#[cfg(test)]
mod parity {
    use super::whatsapp::wire;
    use super::*;
    use whatsapp_rust::prelude::*;
    use whatsapp_rust::types::message::MessageSource;
    use whatsapp_rust::waproto::whatsapp::message as wm;

    const CONTACT: &str = "6282222222222";

    fn real(msg: wa::Message) -> Inbound {
        let info = MessageInfo {
            id: "REAL".into(),
            push_name: "Siti".into(),
            source: MessageSource {
                chat: Jid::pn(CONTACT),
                sender: Jid::pn(CONTACT),
                ..Default::default()
            },
            ..Default::default()
        };
        let origin = wire::Origin {
            chat: Chat::User(CONTACT.into()),
            sender: CONTACT.into(),
            from_me: false,
        };
        wire::inbound(&info, &msg, origin).expect("a message")
    }

    /// Ids, times and the push name (a tap carries none in the simulator) are not compared.
    fn comparable(mut m: Inbound) -> Inbound {
        m.id = String::new();
        m.timestamp_ms = 0;
        m.push_name = None;
        m
    }

    async fn next(rx: &mut EventStream) -> Inbound {
        loop {
            match *rx.recv().await.expect("an event").0 {
                EngineEvent::Message(m, _) => return m,
                _ => continue,
            }
        }
    }

    #[tokio::test]
    async fn simulator_and_whatsapp_map_the_same_cases_alike() {
        let dir = tempfile::tempdir().expect("dir");
        let sim = simulator::Simulator::new(dir.path(), simulator::Timings::default());
        let id = SessionId("parity".into());
        let (tx, mut rx) = Events::channel();
        let conn = sim.start(&id, tx).await.expect("start");
        sim.scan(&id, "6281111111111", "Toko").expect("scan");
        let text = |t: &str, quoted: Option<&str>| simulator::SimMessage {
            from: Chat::User(CONTACT.into()),
            sender: CONTACT.into(),
            text: t.into(),
            push_name: Some("Siti".into()),
            quoted_id: quoted.map(str::to_string),
            from_me: false,
            media: None,
            details: None,
            change: None,
        };
        let ctx = |id: &str| {
            MessageField::some(wa::ContextInfo {
                stanza_id: Some(id.into()),
                ..Default::default()
            })
        };

        // A text.
        sim.incoming(&id, text("Halo 👋", None))
            .await
            .expect("incoming");
        assert_eq!(
            comparable(next(&mut rx).await),
            comparable(real(wa::Message::text("Halo 👋")))
        );

        // A reply quoting a message.
        sim.incoming(&id, text("2", Some("3EB0MENU")))
            .await
            .expect("incoming");
        let quoted = real(wa::Message {
            extended_text_message: MessageField::some(wm::ExtendedTextMessage {
                text: Some("2".into()),
                context_info: ctx("3EB0MENU"),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(comparable(next(&mut rx).await), comparable(quoted));

        // A tap on a button and a pick in a list of messages the session sent.
        let buttons: app::model::InteractiveForm = serde_json::from_value(serde_json::json!({
            "text": "Lanjut?", "type": "button", "buttons": [{"id": "y", "text": "Ya"}, {"id": "n", "text": "Tidak"}]
        }))
        .expect("form");
        let sent = conn
            .send(Outgoing {
                id: new_message_id(),
                to: Chat::User(CONTACT.into()),
                content: Content::Interactive(buttons.parse().expect("valid")),
                quoted: None,
                mentions: Vec::new(),
            })
            .await
            .expect("sent");
        sim.answer(
            &id,
            Chat::User(CONTACT.into()),
            CONTACT,
            &sent.id,
            "n",
            AnswerVia::Button,
        )
        .await
        .expect("tap");
        let tap = real(wa::Message {
            buttons_response_message: MessageField::some(wm::ButtonsResponseMessage {
                selected_button_id: Some("n".into()),
                context_info: ctx(&sent.id),
                response: Some(wm::buttons_response_message::Response::SelectedDisplayText(
                    "Tidak".into(),
                )),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(comparable(next(&mut rx).await), comparable(tap));

        let list: app::model::InteractiveForm = serde_json::from_value(serde_json::json!({
            "text": "Menu", "type": "list", "buttonText": "Lihat",
            "sections": [{"title": "A", "rows": [{"id": "r1", "title": "Satu"}]}]
        }))
        .expect("form");
        let sent = conn
            .send(Outgoing {
                id: new_message_id(),
                to: Chat::User(CONTACT.into()),
                content: Content::Interactive(list.parse().expect("valid")),
                quoted: None,
                mentions: Vec::new(),
            })
            .await
            .expect("sent");
        sim.answer(
            &id,
            Chat::User(CONTACT.into()),
            CONTACT,
            &sent.id,
            "r1",
            AnswerVia::ListRow,
        )
        .await
        .expect("pick");
        let pick = real(wa::Message {
            list_response_message: MessageField::some(wm::ListResponseMessage {
                title: Some("Satu".into()),
                single_select_reply: MessageField::some(
                    wm::list_response_message::SingleSelectReply {
                        selected_row_id: Some("r1".into()),
                    },
                ),
                context_info: ctx(&sent.id),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(comparable(next(&mut rx).await), comparable(pick));

        // A shared place, and a reaction to the session's message.
        let place = app::model::Location {
            latitude: -6.2297,
            longitude: 106.8261,
            name: Some("Rumah".into()),
            address: None,
        };
        let details = app::model::Details {
            location: Some(place.clone()),
            ..Default::default()
        };
        sim.incoming(
            &id,
            simulator::SimMessage {
                details: Some(details),
                ..text("Rumah", None)
            },
        )
        .await
        .expect("incoming");
        assert_eq!(
            comparable(next(&mut rx).await),
            comparable(real(whatsapp::wire::location(&place, None)))
        );
        sim.incoming(
            &id,
            simulator::SimMessage {
                quoted_id: Some(sent.id.clone()),
                change: Some(Change::Reaction {
                    target: sent.id.clone(),
                    emoji: "👍".into(),
                }),
                ..text("👍", None)
            },
        )
        .await
        .expect("incoming");
        let reaction = real(wa::Message {
            reaction_message: MessageField::some(wm::ReactionMessage {
                key: MessageField::some(wa::MessageKey {
                    id: Some(sent.id.clone()),
                    from_me: Some(true),
                    ..Default::default()
                }),
                text: Some("👍".into()),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(comparable(next(&mut rx).await), comparable(reaction));
    }
}
