//! Kabar's messages ⇄ WhatsApp's protobufs (waproto, through whatsapp-rust), kept pure so every
//! mapping is unit-tested on real `wa::Message` values without a connection.
//!
//! - [`outgoing`]: text, a reply (quote by `stanza_id` + `participant` + the quoted message),
//!   an `InteractiveMessage` with a `NativeFlowMessage` (whatsapp-rust 0.7 adds the `<biz>`
//!   stanza node for it; it must stay top-level, not wrapped in view-once).
//! - [`inbound`]: a received message → [`Inbound`]: its kind, text or caption, the quoted id,
//!   and for taps the [`Answer`] (native-flow, buttons, list, template replies).
//! - [`poll_vote`]: the encrypted parts of a poll vote (decrypted by the engine, which holds
//!   the poll's secret).

use super::preview::Preview;
use crate::engine::{Answer, AnswerVia, Inbound, Media, MessageKind, Quoted};
use crate::media::MediaKind;
use crate::phone::Chat;
use app::model::{ContactCard, Details, Interactive, Location, PollInfo};
use whatsapp_rust::prelude::*;
use whatsapp_rust::waproto::whatsapp::message::{
    self as wm, buttons_response_message, interactive_message as im,
    interactive_response_message as irm,
};

/// A linking code as WhatsApp shows it and as the simulator answers it: `XXXX-XXXX` (the
/// client hands out the 8 characters bare).
pub fn display_pair_code(code: &str) -> String {
    if code.len() == 8 && code.is_ascii() {
        format!("{}-{}", &code[..4], &code[4..])
    } else {
        code.to_string()
    }
}

/// The JID of a chat.
pub fn jid(chat: &Chat) -> Jid {
    match chat {
        Chat::User(digits) => Jid::pn(digits),
        Chat::Group(g) => g
            .parse()
            .unwrap_or_else(|_| Jid::group(g.trim_end_matches("@g.us"))),
    }
}

/// The quote of a reply: WhatsApp finds the original by `stanza_id` (and, in groups, its
/// author); the quoted text makes the quote render even on a phone that lost the original.
pub fn quote_context(q: &Quoted) -> wa::ContextInfo {
    wa::ContextInfo {
        stanza_id: Some(q.id.clone()),
        participant: q.sender.as_ref().map(|d| Jid::pn(d).to_string()),
        quoted_message: match &q.text {
            Some(t) => MessageField::some(wa::Message {
                conversation: Some(t.clone()),
                ..Default::default()
            }),
            None => MessageField::none(),
        },
        ..Default::default()
    }
}

/// The key of a message an action names: ours (`fromMe`), or a contact's — in a group with
/// its author as `participant`, which WhatsApp needs to attribute a reaction.
pub fn message_key(chat: &Chat, target: &crate::engine::MessageRef) -> wa::MessageKey {
    wa::MessageKey {
        remote_jid: Some(jid(chat).to_string()),
        from_me: Some(target.from_me),
        id: Some(target.id.clone()),
        participant: match chat {
            Chat::Group(_) if !target.from_me => {
                target.sender.as_ref().map(|d| Jid::pn(d).to_string())
            }
            _ => None,
        },
    }
}

/// A text: `conversation`, or `ExtendedTextMessage` with the quote when it answers a message.
pub fn text(text: &str, quoted: Option<&Quoted>) -> wa::Message {
    mentioning(text, quoted, &[])
}

/// A text that mentions people (digits): WhatsApp highlights each `@<digits>` of the text
/// whose JID is in `mentioned_jid`, and notifies them even when the group is muted.
pub fn mentioning(text: &str, quoted: Option<&Quoted>, mentions: &[String]) -> wa::Message {
    if !mentions.is_empty() {
        let mut context = quoted.map(quote_context).unwrap_or_default();
        context.mentioned_jid = mentions.iter().map(|d| Jid::pn(d).to_string()).collect();
        return wa::Message {
            extended_text_message: MessageField::some(wm::ExtendedTextMessage {
                text: Some(text.to_string()),
                context_info: MessageField::some(context),
                ..Default::default()
            }),
            ..Default::default()
        };
    }
    match quoted {
        None => wa::Message {
            conversation: Some(text.to_string()),
            ..Default::default()
        },
        Some(q) => wa::Message {
            extended_text_message: MessageField::some(wm::ExtendedTextMessage {
                text: Some(text.to_string()),
                context_info: MessageField::some(quote_context(q)),
                ..Default::default()
            }),
            ..Default::default()
        },
    }
}

/// What WhatsApp's media host answered for an upload, as a message needs it: whatsapp-rust's
/// `UploadResponse` copied into a type tests can build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    pub url: String,
    pub direct_path: String,
    pub media_key: Vec<u8>,
    pub file_sha256: Vec<u8>,
    pub file_enc_sha256: Vec<u8>,
    pub file_length: u64,
    pub media_key_timestamp: i64,
    /// Audio and video: the per-64-KiB HMACs for streaming playback.
    pub streaming_sidecar: Option<Vec<u8>>,
}

impl From<whatsapp_rust::upload::UploadResponse> for Uploaded {
    fn from(u: whatsapp_rust::upload::UploadResponse) -> Self {
        Uploaded {
            url: u.url,
            direct_path: u.direct_path,
            media_key: u.media_key.to_vec(),
            file_sha256: u.file_sha256.to_vec(),
            file_enc_sha256: u.file_enc_sha256.to_vec(),
            file_length: u.file_length,
            media_key_timestamp: u.media_key_timestamp,
            streaming_sidecar: u.streaming_sidecar,
        }
    }
}

/// The media host's bucket for a kind: voice notes are audio, stickers their own.
pub fn media_type(kind: MediaKind) -> whatsapp_rust::download::MediaType {
    use whatsapp_rust::download::MediaType;
    match kind {
        MediaKind::Image => MediaType::Image,
        MediaKind::Video => MediaType::Video,
        MediaKind::Audio | MediaKind::Voice => MediaType::Audio,
        MediaKind::Document => MediaType::Document,
        MediaKind::Sticker => MediaType::Sticker,
    }
}

/// A media message struct with the fields every upload fills in (the same names in each of
/// WhatsApp's media messages), plus the ones given.
macro_rules! uploaded {
    ($($ty:ident)::+, $up:expr, { $($field:ident: $value:expr),* $(,)? }) => {{
        let up: Uploaded = $up;
        MessageField::some($($ty)::+ {
            url: Some(up.url),
            direct_path: Some(up.direct_path),
            media_key: Some(up.media_key),
            file_sha256: Some(up.file_sha256),
            file_enc_sha256: Some(up.file_enc_sha256),
            file_length: Some(up.file_length),
            media_key_timestamp: Some(up.media_key_timestamp),
            $($field: $value,)*
            ..Default::default()
        })
    }};
}

/// An uploaded file as its message: `imageMessage`, `videoMessage`, `audioMessage` (`ptt` for
/// a voice note), `documentMessage` (file name and title) or `stickerMessage`, with the caption
/// and the quote, and what the chat shows before the download ([`Preview`]: size, thumbnail,
/// duration); view-once media carry `viewOnce` inside a `viewOnceMessage`, as phones send it.
pub fn media(up: Uploaded, m: &Media, preview: Preview, quoted: Option<&Quoted>) -> wa::Message {
    let context_info = match quoted {
        Some(q) => MessageField::some(quote_context(q)),
        None => MessageField::none(),
    };
    let meta = &m.file.meta;
    let mimetype = Some(meta.mimetype.clone());
    let caption = m.caption.clone();
    let view_once = m.view_once.then_some(true);
    let streaming_sidecar = up.streaming_sidecar.clone();
    let Preview {
        width,
        height,
        jpeg_thumbnail,
        seconds,
        waveform,
    } = preview;
    let mut msg = wa::Message::default();
    match m.file.kind {
        MediaKind::Image => {
            msg.image_message = uploaded!(wm::ImageMessage, up, {
                mimetype: mimetype, caption: caption, view_once: view_once,
                width: width, height: height, jpeg_thumbnail: jpeg_thumbnail,
                context_info: context_info,
            })
        }
        MediaKind::Video => {
            msg.video_message = uploaded!(wm::VideoMessage, up, {
                streaming_sidecar: streaming_sidecar, mimetype: mimetype, caption: caption,
                view_once: view_once, width: width, height: height, seconds: seconds,
                jpeg_thumbnail: jpeg_thumbnail, context_info: context_info,
            })
        }
        MediaKind::Audio | MediaKind::Voice => {
            msg.audio_message = uploaded!(wm::AudioMessage, up, {
                streaming_sidecar: streaming_sidecar, mimetype: mimetype,
                ptt: Some(m.file.kind == MediaKind::Voice), view_once: view_once,
                seconds: seconds, waveform: waveform, context_info: context_info,
            })
        }
        MediaKind::Document => {
            msg.document_message = uploaded!(wm::DocumentMessage, up, {
                mimetype: mimetype, title: meta.filename.clone(),
                file_name: Some(meta.filename.clone().unwrap_or_else(|| "file".into())),
                caption: caption, context_info: context_info,
            })
        }
        MediaKind::Sticker => {
            msg.sticker_message = uploaded!(wm::StickerMessage, up, {
                mimetype: mimetype, width: width, height: height, context_info: context_info,
            })
        }
    }
    if m.view_once {
        wa::Message {
            view_once_message: MessageField::some(wm::FutureProofMessage {
                message: MessageField::some(msg),
            }),
            ..Default::default()
        }
    } else {
        msg
    }
}

fn context(quoted: Option<&Quoted>) -> MessageField<wa::ContextInfo> {
    match quoted {
        Some(q) => MessageField::some(quote_context(q)),
        None => MessageField::none(),
    }
}

/// `locationMessage`: the point, and the name and address shown under the map.
pub fn location(l: &Location, quoted: Option<&Quoted>) -> wa::Message {
    wa::Message {
        location_message: MessageField::some(wm::LocationMessage {
            degrees_latitude: Some(l.latitude),
            degrees_longitude: Some(l.longitude),
            name: l.name.clone(),
            address: l.address.clone(),
            context_info: context(quoted),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// One contact as the vCard 3.0 WhatsApp's phones write: the name, and each number as a
/// `TEL` with `waid` (the digits, which makes "Message" and "Add" work on the phone).
pub fn vcard(c: &ContactCard) -> String {
    // RFC 6350 §3.4: backslash, comma, semicolon and newline are escaped in values.
    let escaped = c
        .name
        .replace('\\', "\\\\")
        .replace(',', "\\,")
        .replace(';', "\\;")
        .replace('\n', "\\n");
    let mut v = format!("BEGIN:VCARD\nVERSION:3.0\nN:;{escaped};;;\nFN:{escaped}\n");
    for n in &c.phone_numbers {
        v.push_str(&format!("TEL;type=CELL;type=VOICE;waid={n}:+{n}\n"));
    }
    v.push_str("END:VCARD");
    v
}

/// The contacts of a received vCard: `FN` (else `N`), and each `TEL`'s `waid` (else its
/// digits). Folded lines (RFC 6350 §3.2) are unfolded first.
pub fn parse_vcard(vcard: &str, fallback_name: Option<&str>) -> ContactCard {
    let unfolded = vcard
        .replace("\r\n", "\n")
        .replace("\n ", "")
        .replace("\n\t", "");
    let unescape = |v: &str| {
        v.replace("\\n", " ")
            .replace("\\,", ",")
            .replace("\\;", ";")
            .replace("\\\\", "\\")
    };
    let (mut name, mut n_name, mut numbers) = (None, None, Vec::new());
    for line in unfolded.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let upper = key.to_ascii_uppercase();
        let property = upper.split(';').next().unwrap_or("");
        // Grouped properties (`item1.TEL`) name the property after the dot.
        let property = property.rsplit('.').next().unwrap_or(property);
        match property {
            "FN" => name = Some(unescape(value.trim())),
            "N" => {
                let parts: Vec<&str> = value.split(';').collect();
                let joined = [parts.get(1), parts.first()]
                    .into_iter()
                    .flatten()
                    .map(|p| p.trim())
                    .filter(|p| !p.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                n_name = Some(unescape(&joined)).filter(|n| !n.is_empty());
            }
            "TEL" => {
                let waid = key
                    .split(';')
                    .find_map(|p| p.strip_prefix("waid=").or(p.strip_prefix("WAID=")));
                let digits: String = waid
                    .unwrap_or(value)
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect();
                if !digits.is_empty() && !numbers.contains(&digits) {
                    numbers.push(digits);
                }
            }
            _ => {}
        }
    }
    ContactCard {
        name: name
            .filter(|n| !n.is_empty())
            .or(n_name)
            .or(fallback_name.map(str::to_string))
            .unwrap_or_default(),
        phone_numbers: numbers,
    }
}

/// One card as `contactMessage`; several as `contactsArrayMessage` ("N contacts").
pub fn contacts(cards: &[ContactCard], quoted: Option<&Quoted>) -> wa::Message {
    let one = |c: &ContactCard, ctx| wm::ContactMessage {
        display_name: Some(c.name.clone()),
        vcard: Some(vcard(c)),
        context_info: ctx,
        ..Default::default()
    };
    match cards {
        [c] => wa::Message {
            contact_message: MessageField::some(one(c, context(quoted))),
            ..Default::default()
        },
        _ => wa::Message {
            contacts_array_message: MessageField::some(wm::ContactsArrayMessage {
                display_name: Some(format!("{} contacts", cards.len())),
                contacts: cards.iter().map(|c| one(c, MessageField::none())).collect(),
                context_info: context(quoted),
            }),
            ..Default::default()
        },
    }
}

/// A poll as WhatsApp Web builds it (whatsapp-rust's `polls().create`, which cannot quote or
/// take our id): `pollCreationMessageV3` for one choice, `pollCreationMessage` with every
/// option selectable for several, and the 32-byte `messageSecret` voters encrypt votes with.
pub fn poll(
    question: &str,
    options: &[String],
    multiple: bool,
    secret: [u8; 32],
    quoted: Option<&Quoted>,
) -> wa::Message {
    let poll = wm::PollCreationMessage {
        name: Some(question.to_string()),
        options: options
            .iter()
            .map(|name| wm::poll_creation_message::Option {
                option_name: Some(name.clone()),
                option_hash: None,
            })
            .collect(),
        selectable_options_count: Some(if multiple { options.len() as u32 } else { 1 }),
        context_info: context(quoted),
        poll_content_type: Some(wm::PollContentType::TEXT),
        ..Default::default()
    };
    let mut msg = wa::Message::default();
    if multiple {
        msg.poll_creation_message = MessageField::some(poll);
    } else {
        msg.poll_creation_message_v3 = MessageField::some(poll);
    }
    msg.message_context_info = MessageField::some(wa::MessageContextInfo {
        message_secret: Some(secret.to_vec()),
        ..Default::default()
    });
    msg
}

/// What a received location, contact card or poll carries (contract §11).
fn details_of(m: &wa::Message) -> Option<Details> {
    let mut d = Details::default();
    if let Some(l) = m.location_message.as_option() {
        d.location = Some(Location {
            latitude: l.degrees_latitude.unwrap_or_default(),
            longitude: l.degrees_longitude.unwrap_or_default(),
            name: l.name.clone(),
            address: l.address.clone(),
        });
    } else if let Some(l) = m.live_location_message.as_option() {
        d.location = Some(Location {
            latitude: l.degrees_latitude.unwrap_or_default(),
            longitude: l.degrees_longitude.unwrap_or_default(),
            name: l.caption.clone(),
            address: None,
        });
    } else if let Some(c) = m.contact_message.as_option() {
        d.contacts = Some(vec![parse_vcard(
            c.vcard.as_deref().unwrap_or(""),
            c.display_name.as_deref(),
        )]);
    } else if let Some(a) = m.contacts_array_message.as_option() {
        d.contacts = Some(
            a.contacts
                .iter()
                .map(|c| parse_vcard(c.vcard.as_deref().unwrap_or(""), c.display_name.as_deref()))
                .collect(),
        );
    } else if let Some(p) = m
        .poll_creation_message
        .as_option()
        .or(m.poll_creation_message_v2.as_option())
        .or(m.poll_creation_message_v3.as_option())
    {
        d.poll = Some(PollInfo {
            question: p.name.clone().unwrap_or_default(),
            options: p
                .options
                .iter()
                .filter_map(|o| o.option_name.clone())
                .collect(),
            multiple_answers: p.selectable_options_count.unwrap_or(0) != 1,
        });
    } else {
        return None;
    }
    Some(d)
}

/// `InteractiveMessage { header, body, footer, NativeFlowMessage { buttons } }`.
pub fn interactive(m: &Interactive, quoted: Option<&Quoted>) -> wa::Message {
    let buttons = m
        .native_buttons()
        .into_iter()
        .map(|(name, params)| im::native_flow_message::NativeFlowButton {
            name: Some(name.to_string()),
            button_params_json: Some(params),
        })
        .collect();
    wa::Message {
        interactive_message: MessageField::some(wm::InteractiveMessage {
            header: match &m.title {
                Some(t) => MessageField::some(im::Header {
                    title: Some(t.clone()),
                    has_media_attachment: Some(false),
                    ..Default::default()
                }),
                None => MessageField::none(),
            },
            body: MessageField::some(im::Body {
                text: Some(m.text.clone()),
            }),
            footer: match &m.footer {
                Some(f) => MessageField::some(im::Footer {
                    text: Some(f.clone()),
                    ..Default::default()
                }),
                None => MessageField::none(),
            },
            context_info: match quoted {
                Some(q) => MessageField::some(quote_context(q)),
                None => MessageField::none(),
            },
            interactive_message: Some(im::InteractiveMessage::NativeFlowMessage(Box::new(
                im::NativeFlowMessage {
                    buttons,
                    message_params_json: None,
                    message_version: Some(1),
                },
            ))),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Who wrote, as the engine resolved it (phone-number digits, also for `@lid` senders).
pub struct Origin {
    pub chat: Chat,
    pub sender: String,
    pub from_me: bool,
}

/// A received message as Kabar reports it. `None` for what is not a message to a person:
/// protocol messages (deletes, edits, key distribution) and empty envelopes.
pub fn inbound(info: &MessageInfo, msg: &wa::Message, origin: Origin) -> Option<Inbound> {
    let base = msg.get_base_message();
    if let Some(p) = base.protocol_message.as_option() {
        return change_of(p).map(|(kind, text, change)| Inbound {
            id: info.id.to_string(),
            chat: origin.chat,
            sender: origin.sender,
            push_name: Some(info.push_name.clone()).filter(|p| !p.is_empty()),
            from_me: origin.from_me,
            kind,
            text,
            quoted_id: Some(change.target().to_string()),
            timestamp_ms: info.timestamp.timestamp_millis(),
            answer: None,
            media: None,
            details: None,
            change: Some(change),
        });
    }
    if base.sender_key_distribution_message.is_set() && !has_content(base) {
        return None;
    }
    let (kind, text, quoted_id, answer) = classify(base);
    let change = match (kind, base.reaction_message.as_option()) {
        (MessageKind::Reaction, Some(r)) => {
            r.key.as_option().and_then(|k| k.id.clone()).map(|target| {
                crate::engine::Change::Reaction {
                    target,
                    emoji: r.text.clone().unwrap_or_default(),
                }
            })
        }
        _ => None,
    };
    Some(Inbound {
        id: info.id.to_string(),
        chat: origin.chat,
        sender: origin.sender,
        push_name: Some(info.push_name.clone()).filter(|p| !p.is_empty()),
        from_me: origin.from_me,
        kind,
        text,
        quoted_id,
        timestamp_ms: info.timestamp.timestamp_millis(),
        answer,
        media: media_of(base).map(|(_, meta)| Box::new(meta)),
        details: details_of(base).map(Box::new),
        change,
    })
}

/// An edit or a delete-for-everyone, from its protocol message; other protocol messages (key
/// shares, history sync, ephemeral settings) are not messages to a person.
fn change_of(p: &wm::ProtocolMessage) -> Option<(MessageKind, String, crate::engine::Change)> {
    use crate::engine::Change;
    use wm::protocol_message::Type;
    let target = p.key.as_option()?.id.clone()?;
    if p.r#type == Some(Type::REVOKE) {
        Some((
            MessageKind::Revoke,
            String::new(),
            Change::Revoked { target },
        ))
    } else if p.r#type == Some(Type::MESSAGE_EDIT) {
        let edited = p.edited_message.as_option()?;
        let text = classify(edited.get_base_message()).1;
        Some((
            MessageKind::Edit,
            text.clone(),
            Change::Edited { target, text },
        ))
    } else {
        None
    }
}

/// The file of a received image, video, audio, document or sticker: what to download it with,
/// and its description as the message states it (the SHA-256 and size are checked against
/// the bytes once downloaded).
pub fn media_of(
    m: &wa::Message,
) -> Option<(
    &dyn whatsapp_rust::download::Downloadable,
    crate::messages::MediaMeta,
)> {
    let meta = |mimetype: &Option<String>,
                sha: &Option<Vec<u8>>,
                len: Option<u64>,
                name: Option<&String>| {
        crate::messages::MediaMeta {
            mimetype: mimetype
                .clone()
                .unwrap_or_else(|| "application/octet-stream".into()),
            size: len.unwrap_or(0),
            filename: name.cloned(),
            sha256: sha.as_deref().map(hex::encode).unwrap_or_default(),
        }
    };
    if let Some(i) = m.image_message.as_option() {
        return Some((i, meta(&i.mimetype, &i.file_sha256, i.file_length, None)));
    }
    if let Some(v) = m.video_message.as_option().or(m.ptv_message.as_option()) {
        return Some((v, meta(&v.mimetype, &v.file_sha256, v.file_length, None)));
    }
    if let Some(a) = m.audio_message.as_option() {
        return Some((a, meta(&a.mimetype, &a.file_sha256, a.file_length, None)));
    }
    if let Some(d) = m.document_message.as_option() {
        return Some((
            d,
            meta(
                &d.mimetype,
                &d.file_sha256,
                d.file_length,
                d.file_name.as_ref(),
            ),
        ));
    }
    if let Some(st) = m.sticker_message.as_option() {
        return Some((
            st,
            meta(&st.mimetype, &st.file_sha256, st.file_length, None),
        ));
    }
    None
}

/// Whether a download failed because WhatsApp's media host no longer has the file (404 or
/// 410, after the client renewed its media auth): the link expired, and only asking the
/// sender's phone to upload it again (`media_reupload`) brings it back.
pub fn expired(e: &anyhow::Error) -> bool {
    use whatsapp_rust::ErrorChainExt;
    let chain: &(dyn std::error::Error + Send + Sync + 'static) = e.as_ref();
    matches!(chain.http_status(), Some(404 | 410))
}

/// What to download a file with once its sender's phone uploaded it again: the message's keys
/// and checksums (the bytes are the same), at the new `direct_path`.
pub fn reuploaded(
    d: &dyn whatsapp_rust::download::Downloadable,
    direct_path: String,
) -> whatsapp_rust::download::DownloadParams {
    whatsapp_rust::download::DownloadParams {
        direct_path,
        media_key: d.media_key().map(<[u8]>::to_vec),
        file_sha256: d.file_sha256().map(<[u8]>::to_vec).unwrap_or_default(),
        file_enc_sha256: d.file_enc_sha256().map(<[u8]>::to_vec),
        file_length: d.file_length().unwrap_or(0),
        media_type: d.app_info(),
    }
}

fn has_content(m: &wa::Message) -> bool {
    m.conversation.is_some() || !matches!(classify(m).0, MessageKind::Unknown)
}

fn stanza_id(ctx: &MessageField<wa::ContextInfo>) -> Option<String> {
    ctx.as_option().and_then(|c| c.stanza_id.clone())
}

type Classified = (MessageKind, String, Option<String>, Option<Answer>);

/// The kind, text/caption, quoted message id and answer of a (base) message.
fn classify(m: &wa::Message) -> Classified {
    let plain = |kind: MessageKind, text: Option<&String>| {
        (kind, text.cloned().unwrap_or_default(), None, None)
    };
    if let Some(t) = m.conversation.as_ref().filter(|t| !t.is_empty()) {
        return (MessageKind::Text, t.clone(), None, None);
    }
    if let Some(e) = m.extended_text_message.as_option() {
        return (
            MessageKind::Text,
            e.text.clone().unwrap_or_default(),
            stanza_id(&e.context_info),
            None,
        );
    }
    if let Some(r) = m.interactive_response_message.as_option() {
        let message_id = stanza_id(&r.context_info);
        let text = r
            .body
            .as_option()
            .and_then(|b| b.text.clone())
            .unwrap_or_default();
        let id = match &r.interactive_response_message {
            Some(irm::InteractiveResponseMessage::NativeFlowResponseMessage(n)) => {
                n.params_json.as_deref().and_then(native_flow_id)
            }
            _ => None,
        };
        let answer = message_id
            .clone()
            .zip(id)
            .map(|(message_id, id)| Answer::Selected {
                message_id,
                id,
                via: AnswerVia::NativeFlow,
            });
        return (MessageKind::Interactive, text, message_id, answer);
    }
    if let Some(r) = m.buttons_response_message.as_option() {
        let message_id = stanza_id(&r.context_info);
        let text = match &r.response {
            Some(buttons_response_message::Response::SelectedDisplayText(t)) => t.clone(),
            _ => String::new(),
        };
        let answer = selected(&message_id, r.selected_button_id.clone(), AnswerVia::Button);
        return (MessageKind::Interactive, text, message_id, answer);
    }
    if let Some(r) = m.list_response_message.as_option() {
        let message_id = stanza_id(&r.context_info);
        let row = r
            .single_select_reply
            .as_option()
            .and_then(|s| s.selected_row_id.clone());
        let answer = selected(&message_id, row, AnswerVia::ListRow);
        let text = r.title.clone().unwrap_or_default();
        return (MessageKind::Interactive, text, message_id, answer);
    }
    if let Some(r) = m.template_button_reply_message.as_option() {
        let message_id = stanza_id(&r.context_info);
        let answer = selected(&message_id, r.selected_id.clone(), AnswerVia::Button);
        let text = r.selected_display_text.clone().unwrap_or_default();
        return (MessageKind::Interactive, text, message_id, answer);
    }
    if let Some(i) = m.image_message.as_option() {
        return plain(MessageKind::Image, i.caption.as_ref());
    }
    if let Some(v) = m.video_message.as_option().or(m.ptv_message.as_option()) {
        return plain(MessageKind::Video, v.caption.as_ref());
    }
    if m.audio_message.is_set() {
        return plain(MessageKind::Audio, None);
    }
    if let Some(d) = m.document_message.as_option() {
        return plain(
            MessageKind::Document,
            d.caption.as_ref().or(d.file_name.as_ref()),
        );
    }
    if m.sticker_message.is_set() {
        return plain(MessageKind::Sticker, None);
    }
    if let Some(l) = m.location_message.as_option() {
        return plain(
            MessageKind::Location,
            l.name.as_ref().or(l.address.as_ref()),
        );
    }
    if let Some(l) = m.live_location_message.as_option() {
        return plain(MessageKind::Location, l.caption.as_ref());
    }
    if let Some(c) = m.contact_message.as_option() {
        return plain(MessageKind::Contact, c.display_name.as_ref());
    }
    if let Some(c) = m.contacts_array_message.as_option() {
        return plain(MessageKind::Contact, c.display_name.as_ref());
    }
    if let Some(p) = m
        .poll_creation_message
        .as_option()
        .or(m.poll_creation_message_v2.as_option())
        .or(m.poll_creation_message_v3.as_option())
    {
        return plain(MessageKind::Poll, p.name.as_ref());
    }
    if m.poll_update_message.is_set() {
        return plain(MessageKind::Poll, None);
    }
    if let Some(r) = m.reaction_message.as_option() {
        let quoted = r.key.as_option().and_then(|k| k.id.clone());
        return (
            MessageKind::Reaction,
            r.text.clone().unwrap_or_default(),
            quoted,
            None,
        );
    }
    if let Some(i) = m.interactive_message.as_option() {
        let text = i.body.as_option().and_then(|b| b.text.clone());
        return plain(MessageKind::Interactive, text.as_ref());
    }
    (MessageKind::Unknown, String::new(), None, None)
}

fn selected(message_id: &Option<String>, id: Option<String>, via: AnswerVia) -> Option<Answer> {
    Some(Answer::Selected {
        message_id: message_id.clone()?,
        id: id.filter(|i| !i.is_empty())?,
        via,
    })
}

/// The id a native-flow response carries: `{"id": "btn_1"}` (quick_reply and single_select).
fn native_flow_id(params: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(params).ok()?;
    match v.get("id")? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A poll vote's parts: the poll's message id and the encrypted selection.
pub struct PollVote {
    pub poll_id: String,
    pub enc_payload: Vec<u8>,
    pub enc_iv: Vec<u8>,
}

pub fn poll_vote(msg: &wa::Message) -> Option<PollVote> {
    let u = msg.get_base_message().poll_update_message.as_option()?;
    let poll_id = u.poll_creation_message_key.as_option()?.id.clone()?;
    let vote = u.vote.as_option()?;
    Some(PollVote {
        poll_id,
        enc_payload: vote.enc_payload.clone()?,
        enc_iv: vote.enc_iv.clone()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::InteractiveForm;
    use whatsapp_rust::types::message::MessageSource;

    #[test]
    fn only_a_file_the_host_no_longer_has_is_asked_for_again() {
        use whatsapp_rust::http::HttpStatusError;
        let refused = |status| {
            anyhow::Error::new(HttpStatusError { status }).context("Download media not found")
        };
        assert!(expired(&refused(404)));
        assert!(expired(&refused(410)));
        assert!(
            !expired(&refused(403)),
            "an auth error is the client's to renew"
        );
        assert!(
            !expired(&refused(500)),
            "a host that is down may answer later"
        );
        assert!(!expired(&anyhow::anyhow!("connection refused")));
    }

    #[test]
    fn a_file_uploaded_again_is_read_with_its_messages_keys_at_the_new_path() {
        let image = wm::ImageMessage {
            direct_path: Some("/v/t62.7118-24/old".into()),
            media_key: Some(vec![7; 32]),
            file_sha256: Some(vec![1; 32]),
            file_enc_sha256: Some(vec![2; 32]),
            file_length: Some(1234),
            ..Default::default()
        };
        let p = reuploaded(&image, "/v/t62.7118-24/new".into());
        assert_eq!(p.direct_path, "/v/t62.7118-24/new");
        assert_eq!(p.media_key.as_deref(), Some(&[7u8; 32][..]));
        assert_eq!(p.file_sha256, vec![1; 32]);
        assert_eq!(p.file_enc_sha256.as_deref(), Some(&[2u8; 32][..]));
        assert_eq!(p.file_length, 1234);
        assert_eq!(p.media_type, whatsapp_rust::download::MediaType::Image);
    }

    fn info(id: &str) -> MessageInfo {
        MessageInfo {
            id: id.into(),
            push_name: "Siti".into(),
            source: MessageSource {
                chat: Jid::pn("6282222222222"),
                sender: Jid::pn("6282222222222"),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn origin() -> Origin {
        Origin {
            chat: Chat::User("6282222222222".into()),
            sender: "6282222222222".into(),
            from_me: false,
        }
    }

    fn map(msg: wa::Message) -> Inbound {
        inbound(&info("3EB0IN"), &msg, origin()).expect("a message")
    }

    fn ctx(id: &str) -> MessageField<wa::ContextInfo> {
        MessageField::some(wa::ContextInfo {
            stanza_id: Some(id.into()),
            ..Default::default()
        })
    }

    fn form(v: serde_json::Value) -> Interactive {
        serde_json::from_value::<InteractiveForm>(v)
            .expect("form")
            .parse()
            .expect("valid")
    }

    fn quote() -> Quoted {
        Quoted {
            id: "3EB0Q".into(),
            sender: Some("6282222222222".into()),
            text: Some("Di mana tokonya?".into()),
        }
    }

    #[test]
    fn places_cards_and_polls_are_built_as_phones_send_them() {
        let place = Location {
            latitude: -6.1825,
            longitude: 106.8284,
            name: Some("Toko Kopi".into()),
            address: Some("Jl. Sabang 12".into()),
        };
        let m = location(&place, Some(&quote()));
        let l = m.location_message.as_option().expect("locationMessage");
        assert_eq!(l.degrees_latitude, Some(-6.1825));
        assert_eq!(l.degrees_longitude, Some(106.8284));
        assert_eq!(l.name.as_deref(), Some("Toko Kopi"));
        assert_eq!(l.address.as_deref(), Some("Jl. Sabang 12"));
        assert_eq!(stanza_id(&l.context_info).as_deref(), Some("3EB0Q"));
        // And back: a received place is the same place.
        let back = map(m);
        assert_eq!(back.kind, MessageKind::Location);
        assert_eq!(back.text, "Toko Kopi");
        assert_eq!(back.details.expect("details").location, Some(place));

        // One card: contactMessage with a vCard whose TEL carries the WhatsApp id.
        let ani = ContactCard {
            name: "Ani; Toko, Pusat".into(),
            phone_numbers: vec!["6285511112222".into()],
        };
        let m = contacts(std::slice::from_ref(&ani), None);
        let c = m.contact_message.as_option().expect("contactMessage");
        let v = c.vcard.as_deref().expect("vcard");
        assert!(v.starts_with("BEGIN:VCARD\nVERSION:3.0\n"), "{v}");
        assert!(v.contains("FN:Ani\\; Toko\\, Pusat\n"), "{v}");
        assert!(
            v.contains("TEL;type=CELL;type=VOICE;waid=6285511112222:+6285511112222\n"),
            "{v}"
        );
        assert!(v.ends_with("END:VCARD"));
        assert_eq!(
            map(m).details.expect("details").contacts,
            Some(vec![ani.clone()])
        );
        // Several: contactsArrayMessage.
        let budi = ContactCard {
            name: "Budi".into(),
            phone_numbers: vec!["6281311112222".into()],
        };
        let m = contacts(&[ani.clone(), budi.clone()], Some(&quote()));
        let a = m
            .contacts_array_message
            .as_option()
            .expect("contactsArrayMessage");
        assert_eq!(a.contacts.len(), 2);
        assert_eq!(a.display_name.as_deref(), Some("2 contacts"));
        assert_eq!(stanza_id(&a.context_info).as_deref(), Some("3EB0Q"));
        assert_eq!(
            map(m).details.expect("details").contacts,
            Some(vec![ani, budi])
        );

        // Polls: v3 for one answer, v1 with every option selectable for several; the secret
        // voters encrypt with travels in messageContextInfo.
        let options = vec!["Pagi".to_string(), "Sore".to_string(), "Malam".to_string()];
        let one = poll("Kapan?", &options, false, [5; 32], None);
        let p = one.poll_creation_message_v3.as_option().expect("v3");
        assert_eq!(p.selectable_options_count, Some(1));
        assert_eq!(
            one.message_context_info
                .as_option()
                .and_then(|c| c.message_secret.clone()),
            Some(vec![5; 32])
        );
        let back = map(one).details.expect("details").poll.expect("poll");
        assert_eq!(back.options, options);
        assert!(!back.multiple_answers);
        let many = poll("Kapan?", &options, true, [5; 32], Some(&quote()));
        let p = many.poll_creation_message.as_option().expect("v1");
        assert_eq!(p.selectable_options_count, Some(3));
        assert_eq!(stanza_id(&p.context_info).as_deref(), Some("3EB0Q"));
        assert!(
            map(many)
                .details
                .expect("details")
                .poll
                .expect("poll")
                .multiple_answers
        );
    }

    #[test]
    fn vcards_from_other_phones_are_read() {
        // Folded lines, grouped TEL properties, no waid, N without FN.
        let card = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Santoso;Budi;;;\r\nitem1.TEL;waid=628\r\n 1311112222:+62 813-1111-2222\r\nTEL;TYPE=HOME:+62 21 555 0101\r\nEND:VCARD";
        let c = parse_vcard(card, None);
        assert_eq!(c.name, "Budi Santoso");
        assert_eq!(c.phone_numbers, vec!["6281311112222", "62215550101"]);
        // Nothing readable: the message's display name.
        assert_eq!(parse_vcard("garbage", Some("Ani")).name, "Ani");
    }

    #[test]
    fn reactions_edits_and_revokes_are_changes_not_messages() {
        use crate::engine::Change;
        let key = |id: &str| {
            MessageField::some(wa::MessageKey {
                remote_jid: Some("6282222222222@s.whatsapp.net".into()),
                from_me: Some(true),
                id: Some(id.into()),
                participant: None,
            })
        };
        let reaction = map(wa::Message {
            reaction_message: MessageField::some(wm::ReactionMessage {
                key: key("3EB0MINE"),
                text: Some("👍".into()),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(reaction.kind, MessageKind::Reaction);
        assert_eq!(
            reaction.change,
            Some(Change::Reaction {
                target: "3EB0MINE".into(),
                emoji: "👍".into()
            })
        );
        let edit = map(wa::Message {
            protocol_message: MessageField::some(wm::ProtocolMessage {
                key: key("3EB0THEIRS"),
                r#type: Some(wm::protocol_message::Type::MESSAGE_EDIT),
                edited_message: MessageField::some(wa::Message::text("Harga kopi Gayo?")),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(edit.kind, MessageKind::Edit);
        assert_eq!(
            edit.change,
            Some(Change::Edited {
                target: "3EB0THEIRS".into(),
                text: "Harga kopi Gayo?".into()
            })
        );
        let revoke = map(wa::Message {
            protocol_message: MessageField::some(wm::ProtocolMessage {
                key: key("3EB0THEIRS"),
                r#type: Some(wm::protocol_message::Type::REVOKE),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(
            revoke.change,
            Some(Change::Revoked {
                target: "3EB0THEIRS".into()
            })
        );
        // Other protocol messages are nothing to report.
        let other = wa::Message {
            protocol_message: MessageField::some(wm::ProtocolMessage {
                key: key("X"),
                r#type: Some(wm::protocol_message::Type::EPHEMERAL_SETTING),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(inbound(&info("3EB0IN"), &other, origin()).is_none());
    }

    #[test]
    fn a_reaction_in_a_group_names_the_author_of_a_contacts_message() {
        let group = Chat::Group("120363025246125486@g.us".into());
        let theirs = crate::engine::MessageRef {
            id: "3EB0G".into(),
            from_me: false,
            sender: Some("6285555555555".into()),
        };
        let k = message_key(&group, &theirs);
        assert_eq!(
            k.participant.as_deref(),
            Some("6285555555555@s.whatsapp.net")
        );
        assert_eq!(k.from_me, Some(false));
        let ours = crate::engine::MessageRef {
            from_me: true,
            sender: None,
            ..theirs
        };
        assert_eq!(message_key(&group, &ours).participant, None);
        let direct = message_key(&Chat::User("6282222222222".into()), &ours);
        assert_eq!(
            direct.remote_jid.as_deref(),
            Some("6282222222222@s.whatsapp.net")
        );
    }

    fn uploaded() -> Uploaded {
        Uploaded {
            url: "https://mmg.whatsapp.net/o1/v/t62/abc".into(),
            direct_path: "/o1/v/t62/abc".into(),
            media_key: vec![7; 32],
            file_sha256: vec![1; 32],
            file_enc_sha256: vec![2; 32],
            file_length: 1234,
            media_key_timestamp: 1_795_517_739,
            streaming_sidecar: Some(vec![9; 10]),
        }
    }

    fn file(kind: MediaKind, mimetype: &str, filename: Option<&str>) -> Media {
        Media {
            file: crate::media::Stored {
                kind,
                meta: crate::messages::MediaMeta {
                    mimetype: mimetype.into(),
                    size: 1234,
                    filename: filename.map(str::to_string),
                    sha256: "01".repeat(32),
                },
                path: "/nowhere".into(),
                hold: None,
            },
            caption: None,
            view_once: false,
        }
    }

    #[test]
    fn media_messages_carry_the_upload_the_caption_and_the_quote() {
        let q = Quoted {
            id: "3EB0Q".into(),
            sender: Some("6282222222222".into()),
            text: Some("Ada foto?".into()),
        };
        let mut photo = file(MediaKind::Image, "image/png", None);
        photo.caption = Some("Rp 10.000".into());
        let seen = Preview {
            width: Some(800),
            height: Some(600),
            jpeg_thumbnail: Some(vec![0xFF, 0xD8, 0xFF]),
            ..Preview::default()
        };
        let m = media(uploaded(), &photo, seen, Some(&q));
        let image = m.image_message.as_option().expect("imageMessage");
        assert_eq!((image.width, image.height), (Some(800), Some(600)));
        assert_eq!(
            image.jpeg_thumbnail.as_deref(),
            Some(&[0xFF, 0xD8, 0xFF][..])
        );
        assert_eq!(
            image.url.as_deref(),
            Some("https://mmg.whatsapp.net/o1/v/t62/abc")
        );
        assert_eq!(image.direct_path.as_deref(), Some("/o1/v/t62/abc"));
        assert_eq!(image.media_key.as_deref(), Some(&[7u8; 32][..]));
        assert_eq!(image.file_sha256.as_deref(), Some(&[1u8; 32][..]));
        assert_eq!(image.file_enc_sha256.as_deref(), Some(&[2u8; 32][..]));
        assert_eq!(image.file_length, Some(1234));
        assert_eq!(image.mimetype.as_deref(), Some("image/png"));
        assert_eq!(image.caption.as_deref(), Some("Rp 10.000"));
        assert_eq!(image.view_once, None);
        let ctx = image.context_info.as_option().expect("quote");
        assert_eq!(ctx.stanza_id.as_deref(), Some("3EB0Q"));

        let doc = media(
            uploaded(),
            &file(
                MediaKind::Document,
                "application/pdf",
                Some("invoice 7.pdf"),
            ),
            Preview::default(),
            None,
        );
        let d = doc.document_message.as_option().expect("documentMessage");
        assert_eq!(d.file_name.as_deref(), Some("invoice 7.pdf"));
        assert_eq!(d.title.as_deref(), Some("invoice 7.pdf"));
        assert_eq!(d.mimetype.as_deref(), Some("application/pdf"));
        assert!(d.context_info.as_option().is_none());

        let spoken = Preview {
            seconds: Some(7),
            waveform: Some((0..64).collect()),
            ..Preview::default()
        };
        let voice = media(
            uploaded(),
            &file(MediaKind::Voice, "audio/ogg; codecs=opus", None),
            spoken,
            None,
        );
        let a = voice.audio_message.as_option().expect("audioMessage");
        assert_eq!((a.ptt, a.seconds), (Some(true), Some(7)));
        assert_eq!(
            a.waveform.as_deref(),
            Some(&(0..64).collect::<Vec<u8>>()[..])
        );
        assert_eq!(a.streaming_sidecar.as_deref(), Some(&[9u8; 10][..]));
        let song = media(
            uploaded(),
            &file(MediaKind::Audio, "audio/mpeg", None),
            Preview::default(),
            None,
        );
        assert_eq!(
            song.audio_message.as_option().expect("audio").ptt,
            Some(false)
        );

        let square = Preview {
            width: Some(512),
            height: Some(512),
            ..Preview::default()
        };
        let sticker = media(
            uploaded(),
            &file(MediaKind::Sticker, "image/webp", None),
            square,
            None,
        );
        assert_eq!(
            sticker
                .sticker_message
                .as_option()
                .map(|s| (s.width, s.height)),
            Some((Some(512), Some(512)))
        );
        assert_eq!(
            sticker
                .sticker_message
                .as_option()
                .expect("stickerMessage")
                .mimetype
                .as_deref(),
            Some("image/webp")
        );
        let clip = Preview {
            width: Some(640),
            height: Some(360),
            jpeg_thumbnail: Some(vec![0xFF, 0xD8, 0xFF, 0xE0]),
            seconds: Some(13),
            waveform: None,
        };
        let video = media(
            uploaded(),
            &file(MediaKind::Video, "video/mp4", None),
            clip,
            None,
        );
        let v = video.video_message.as_option().expect("videoMessage");
        assert_eq!(
            (v.width, v.height, v.seconds),
            (Some(640), Some(360), Some(13))
        );
        assert_eq!(
            v.jpeg_thumbnail.as_deref(),
            Some(&[0xFF, 0xD8, 0xFF, 0xE0][..])
        );
        assert!(video.image_message.as_option().is_none());
    }

    #[test]
    fn received_files_carry_their_description() {
        let photo = map(wa::Message {
            image_message: MessageField::some(wm::ImageMessage {
                mimetype: Some("image/jpeg".into()),
                caption: Some("Bukti transfer".into()),
                file_sha256: Some(vec![0xab; 32]),
                file_length: Some(48_213),
                direct_path: Some("/v/t62/x".into()),
                media_key: Some(vec![1; 32]),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(photo.kind, MessageKind::Image);
        assert_eq!(photo.text, "Bukti transfer");
        let meta = photo.media.expect("a file");
        assert_eq!(meta.mimetype, "image/jpeg");
        assert_eq!(meta.size, 48_213);
        assert_eq!(meta.sha256, "ab".repeat(32));
        assert_eq!(meta.filename, None);

        let doc = map(wa::Message {
            document_message: MessageField::some(wm::DocumentMessage {
                mimetype: Some("application/pdf".into()),
                file_name: Some("PO-118.pdf".into()),
                file_length: Some(9),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(doc.kind, MessageKind::Document);
        assert_eq!(
            doc.media.expect("a file").filename.as_deref(),
            Some("PO-118.pdf")
        );
        // A view-once photo is unwrapped like the rest of the message.
        let once = map(wa::Message {
            view_once_message: MessageField::some(wm::FutureProofMessage {
                message: MessageField::some(wa::Message {
                    image_message: MessageField::some(wm::ImageMessage {
                        mimetype: Some("image/jpeg".into()),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
            }),
            ..Default::default()
        });
        assert_eq!(once.kind, MessageKind::Image);
        assert!(once.media.is_some());
        assert!(map(text("Halo", None)).media.is_none());
    }

    #[test]
    fn view_once_media_is_wrapped_as_phones_send_it() {
        let mut photo = file(MediaKind::Image, "image/jpeg", None);
        photo.view_once = true;
        let m = media(uploaded(), &photo, Preview::default(), None);
        assert!(
            m.image_message.as_option().is_none(),
            "only inside the wrapper"
        );
        let inner = m
            .view_once_message
            .as_option()
            .and_then(|w| w.message.as_option())
            .expect("viewOnceMessage.message");
        assert_eq!(
            inner.image_message.as_option().expect("image").view_once,
            Some(true)
        );
    }

    #[test]
    fn kinds_upload_to_their_media_buckets() {
        use whatsapp_rust::download::MediaType;
        assert_eq!(media_type(MediaKind::Voice), MediaType::Audio);
        assert_eq!(media_type(MediaKind::Sticker), MediaType::Sticker);
        assert_eq!(media_type(MediaKind::Document), MediaType::Document);
    }

    #[test]
    fn text_and_replies_are_built_as_whatsapp_web_does() {
        let plain = text("Halo", None);
        assert_eq!(plain.conversation.as_deref(), Some("Halo"));
        let q = Quoted {
            id: "3EB0Q".into(),
            sender: Some("6282222222222".into()),
            text: Some("Harga?".into()),
        };
        let reply = text("Rp 10.000", Some(&q));
        let e = reply.extended_text_message.as_option().expect("extended");
        assert_eq!(e.text.as_deref(), Some("Rp 10.000"));
        let c = e.context_info.as_option().expect("context");
        assert_eq!(c.stanza_id.as_deref(), Some("3EB0Q"));
        assert_eq!(
            c.participant.as_deref(),
            Some("6282222222222@s.whatsapp.net")
        );
        assert_eq!(
            c.quoted_message
                .as_option()
                .and_then(|m| m.conversation.as_deref()),
            Some("Harga?")
        );
    }

    #[test]
    fn interactive_messages_are_native_flow_at_the_top_level() {
        let m = form(serde_json::json!({
            "text": "Pilih", "title": "Menu", "footer": "Kaki",
            "type": "button", "buttons": [{"id": "y", "text": "Ya"}, {"id": "n", "text": "Tidak"}]
        }));
        let msg = interactive(&m, None);
        assert!(
            !msg.view_once_message.is_set(),
            "wrapping hides it from the <biz> node"
        );
        let i = msg.interactive_message.as_option().expect("interactive");
        assert_eq!(
            i.body.as_option().and_then(|b| b.text.as_deref()),
            Some("Pilih")
        );
        assert_eq!(
            i.header.as_option().and_then(|h| h.title.as_deref()),
            Some("Menu")
        );
        assert_eq!(
            i.footer.as_option().and_then(|f| f.text.as_deref()),
            Some("Kaki")
        );
        let Some(im::InteractiveMessage::NativeFlowMessage(flow)) = &i.interactive_message else {
            panic!("native flow expected");
        };
        assert_eq!(flow.buttons.len(), 2);
        assert_eq!(flow.buttons[1].name.as_deref(), Some("quick_reply"));
        let params: serde_json::Value = serde_json::from_str(
            flow.buttons[1]
                .button_params_json
                .as_deref()
                .expect("params"),
        )
        .expect("json");
        assert_eq!(
            params,
            serde_json::json!({"display_text": "Tidak", "id": "n"})
        );

        let list = form(serde_json::json!({
            "text": "Menu", "type": "list", "buttonText": "Lihat",
            "sections": [{"title": "A", "rows": [{"id": "r1", "title": "Satu", "description": "d"}]}]
        }));
        let msg = interactive(&list, None);
        let i = msg.interactive_message.as_option().expect("interactive");
        let Some(im::InteractiveMessage::NativeFlowMessage(flow)) = &i.interactive_message else {
            panic!("native flow expected");
        };
        assert_eq!(flow.buttons[0].name.as_deref(), Some("single_select"));
        let params: serde_json::Value = serde_json::from_str(
            flow.buttons[0]
                .button_params_json
                .as_deref()
                .expect("params"),
        )
        .expect("json");
        assert_eq!(params["title"], "Lihat");
        assert_eq!(params["sections"][0]["rows"][0]["id"], "r1");
    }

    #[test]
    fn linking_codes_are_shown_in_two_halves() {
        assert_eq!(display_pair_code("8F78NR7M"), "8F78-NR7M");
        assert_eq!(display_pair_code("8F78-NR7M"), "8F78-NR7M");
    }

    #[test]
    fn every_reply_type_maps_to_an_answer() {
        let native = map(wa::Message {
            interactive_response_message: MessageField::some(wm::InteractiveResponseMessage {
                body: MessageField::some(irm::Body {
                    text: Some("Ya".into()),
                    ..Default::default()
                }),
                context_info: ctx("3EB0MENU"),
                interactive_response_message: Some(
                    irm::InteractiveResponseMessage::NativeFlowResponseMessage(Box::new(
                        irm::NativeFlowResponseMessage {
                            name: Some("quick_reply".into()),
                            params_json: Some(r#"{"id":"btn_1"}"#.into()),
                            version: Some(1),
                        },
                    )),
                ),
            }),
            ..Default::default()
        });
        assert_eq!(native.kind, MessageKind::Interactive);
        assert_eq!(native.text, "Ya");
        assert_eq!(
            native.answer,
            Some(Answer::Selected {
                message_id: "3EB0MENU".into(),
                id: "btn_1".into(),
                via: AnswerVia::NativeFlow
            })
        );

        let buttons = map(wa::Message {
            buttons_response_message: MessageField::some(wm::ButtonsResponseMessage {
                selected_button_id: Some("btn_2".into()),
                context_info: ctx("3EB0OLD"),
                response: Some(buttons_response_message::Response::SelectedDisplayText(
                    "Tidak".into(),
                )),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(buttons.text, "Tidak");
        assert!(matches!(
            buttons.answer,
            Some(Answer::Selected { ref id, via: AnswerVia::Button, .. }) if id == "btn_2"
        ));

        let list = map(wa::Message {
            list_response_message: MessageField::some(wm::ListResponseMessage {
                title: Some("Produk".into()),
                single_select_reply: MessageField::some(
                    wm::list_response_message::SingleSelectReply {
                        selected_row_id: Some("service_1".into()),
                    },
                ),
                context_info: ctx("3EB0LIST"),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(
            list.answer,
            Some(Answer::Selected {
                message_id: "3EB0LIST".into(),
                id: "service_1".into(),
                via: AnswerVia::ListRow
            })
        );

        let template = map(wa::Message {
            template_button_reply_message: MessageField::some(wm::TemplateButtonReplyMessage {
                selected_id: Some("t1".into()),
                selected_display_text: Some("Satu".into()),
                context_info: ctx("3EB0TPL"),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(template.text, "Satu");
        assert!(matches!(
            template.answer,
            Some(Answer::Selected {
                via: AnswerVia::Button,
                ..
            })
        ));
    }

    #[test]
    fn kinds_texts_and_quotes() {
        let t = map(wa::Message::text("Halo"));
        assert_eq!(
            (t.kind, t.text.as_str(), t.answer.is_none()),
            (MessageKind::Text, "Halo", true)
        );
        assert_eq!(t.push_name.as_deref(), Some("Siti"));
        let reply = map(wa::Message {
            extended_text_message: MessageField::some(wm::ExtendedTextMessage {
                text: Some("2".into()),
                context_info: ctx("3EB0Q"),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(reply.quoted_id.as_deref(), Some("3EB0Q"));
        let image = map(wa::Message {
            image_message: MessageField::some(wm::ImageMessage {
                caption: Some("foto".into()),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(
            (image.kind, image.text.as_str()),
            (MessageKind::Image, "foto")
        );
        let wrapped = map(wa::Message {
            ephemeral_message: MessageField::some(wm::FutureProofMessage {
                message: MessageField::some(wa::Message::text("rahasia")),
            }),
            ..Default::default()
        });
        assert_eq!(
            (wrapped.kind, wrapped.text.as_str()),
            (MessageKind::Text, "rahasia")
        );
        let sticker = map(wa::Message {
            sticker_message: MessageField::some(Default::default()),
            ..Default::default()
        });
        assert_eq!(sticker.kind, MessageKind::Sticker);
        assert_eq!(map(wa::Message::default()).kind, MessageKind::Unknown);
        let revoke = wa::Message {
            protocol_message: MessageField::some(Default::default()),
            ..Default::default()
        };
        assert!(
            inbound(&info("x"), &revoke, origin()).is_none(),
            "protocol messages are not messages"
        );
    }
}
