//! A fake WhatsApp server, so that the real engine's protocol can be tested offline: the server
//! side of WhatsApp Web's Noise handshake (XX for a new or re-paired device, IK when the client
//! already holds the server's key) and of the binary stanzas that pairing and login need.
//!
//! It is written with the crates the client itself uses (wacore's Noise state and framing,
//! wacore-binary's node codec, waproto's messages, wacore-libsignal's keys), so what it checks —
//! the client's Noise static key, its registration payload, its signature over the account's
//! identity — is checked the way WhatsApp would. Its certificate chain is zero-signed: only test
//! builds, where whatsapp-rust's `danger-skip-cert-chain-verify` is on, accept it.
//!
//! Behaviour: a registration payload is answered with `pair-device` (the refs the QR codes are
//! made of); [`FakeWhatsApp::scan`] plays the phone and sends `pair-success`; the client's signed
//! answer is recorded and the stream restarted (515), as WhatsApp does; a login payload is
//! answered with `<success>`; every IQ gets an empty result (the passive one also ends the
//! offline backlog, app-state syncs get empty collections, the prekey upload is kept),
//! everything else is recorded and left unanswered. [`FakeWhatsApp::message_from`] plays a
//! contact's phone: it opens a Signal session with the prekeys the device uploaded and sends
//! an end-to-end encrypted text, which the client must decrypt.
//!
//! Groups: [`FakeWhatsApp::add_group`] makes a group the `w:g2` query answers (members by
//! phone number); a message the client sends to it is read by each member's phone from its
//! copy of the device's sender key and the `skmsg`; [`FakeWhatsApp::group_message_from`]
//! plays a member writing (their sender key for the device, then `skmsg`), and
//! [`FakeWhatsApp::group_added`] a `w:gp2` notification of a member added.
//!
//! Files: the `media_conn` IQ names one media host (with an auth token), which the fake serves
//! over plain HTTP at [`FakeWhatsApp::media_url`] (the client reaches it through
//! `--whatsapp-media-url`): uploads are kept encrypted by `direct_path` and given back;
//! [`FakeWhatsApp::download`] plays the phone opening a file the client sent (MAC checked), and
//! [`FakeWhatsApp::upload`] a phone encrypting one it sends.
//!
//! Many devices may connect at once (the connected-sessions bench, `benches/connected.rs`,
//! includes this file): each pairs through the scan of its own QR code and logs in; what a
//! contact or a group sends goes to the device that connected last, as the tests have one.

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};
use tokio::{net::TcpStream, sync::mpsc, sync::watch, task::JoinHandle};
use tokio_websockets::{Message, ServerBuilder, WebSocketStream};
pub use whatsapp_rust::wacore::download::MediaType;
use whatsapp_rust::{
    buffa::{Message as _, MessageField},
    wacore::{
        download::DownloadUtils,
        framing::{FrameDecoder, encode_frame},
        iq::mediaconn::{HostType, MediaConnHostExtended, MediaConnResponseExtended},
        iq::prekeys::PreKeyBundleUserNode,
        iq::prekeys::{OneTimePreKeyNode, SignedPreKeyNode},
        libsignal::protocol::{
            CiphertextMessageType, DeviceId, Direction, GenericSignedPreKey, IdentityChange,
            IdentityKey, IdentityKeyPair, IdentityKeyStore, KeyPair, PreKeyBundle, PreKeyId,
            PreKeyRecord, PreKeySignalMessage, PreKeyStore, ProtocolAddress, PublicKey,
            SenderKeyDistributionMessage, SenderKeyName, SenderKeyRecord, SenderKeyStore,
            SessionRecord, SessionStore, SignalMessage, SignalProtocolError, SignedPreKeyId,
            SignedPreKeyRecord, SignedPreKeyStore, Timestamp, UsePQRatchet,
            create_sender_key_distribution_message, group_decrypt, group_encrypt,
            message_decrypt_prekey, message_decrypt_signal, message_encrypt, process_prekey_bundle,
        },
        messages::MessageUtils,
        noise::{NoiseCipher, NoiseHandshake},
        protocol::ProtocolNode,
        upload::encrypt_media,
    },
    wacore_binary::{
        Jid, Node, NodeContent,
        builder::NodeBuilder,
        consts::{NOISE_PATTERN_IK, NOISE_PATTERN_XX, WA_CONN_HEADER},
        marshal::{marshal, unmarshal_ref},
        util::unpack,
    },
    waproto::whatsapp as wa,
};

/// The ref WhatsApp hands out for the first QR code (the client makes the code from it).
pub const REF: &str = "2@kabar-fake-ref-one";

/// A completed Noise handshake.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// "XX" or "IK".
    pub pattern: &'static str,
    /// The client's Noise static key, proven by the handshake.
    pub client_static: [u8; 32],
    /// What the client sent inside it: a registration (new device) or a login (paired).
    pub payload: wa::ClientPayload,
}

/// Everything the fake saw, in order.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    pub handshakes: Vec<Handshake>,
    pub stanzas: Vec<Node>,
    /// The device's public Signal keys, from its latest prekey upload.
    pub prekeys: Option<PreKeys>,
    /// What the client sent to contacts, decrypted by their phones: (recipient, message).
    pub delivered: Vec<(String, wa::Message)>,
    /// The `enc` type of every copy the client sent a contact: `pkmsg` (a new session) or `msg`.
    pub enc_types: Vec<String>,
    /// What the fake could not handle (a copy that did not decrypt…), kept for the assertion
    /// that shows `Seen`, while the connection goes on.
    pub errors: Vec<String>,
    /// Files the client asked for again (`media_reupload`), by message id, once their
    /// media-retry receipt decrypted with the file's media key and named the message.
    pub media_retries: Vec<String>,
}

/// What a device uploads so that others can open Signal sessions with it.
#[derive(Debug, Clone)]
pub struct PreKeys {
    pub registration_id: u32,
    pub identity: Vec<u8>,
    pub signed: SignedPreKeyNode,
    pub one_time: Vec<OneTimePreKeyNode>,
}

impl PreKeys {
    /// Reads `<iq xmlns="encrypt" type="set"><registration/><identity/><list/><skey/></iq>`.
    fn from_upload(n: &Node) -> Option<Self> {
        if attr(n, "xmlns").as_deref() != Some("encrypt")
            || attr(n, "type").as_deref() != Some("set")
        {
            return None;
        }
        let registration_id =
            u32::from_be_bytes(bytes(child(n, "registration")?)?.try_into().ok()?);
        let one_time = child(n, "list")?
            .children()?
            .iter()
            .filter_map(|k| OneTimePreKeyNode::try_from_node_ref(&k.as_node_ref()).ok())
            .collect();
        Some(PreKeys {
            registration_id,
            identity: bytes(child(n, "identity")?)?.to_vec(),
            signed: SignedPreKeyNode::try_from_node_ref(&child(n, "skey")?.as_node_ref()).ok()?,
            one_time,
        })
    }
}

struct Shared {
    static_key: KeyPair,
    cert_chain: Vec<u8>,
    seen: watch::Sender<Seen>,
    /// The connection that opened last (the one device of most tests): its device's Noise key
    /// and its stanzas.
    live: Mutex<Option<([u8; 32], mpsc::UnboundedSender<Node>)>>,
    /// Stanzas for each open connection, by the client's Noise static key: with many devices
    /// connected at once (the connected-sessions bench), a scan reaches the device whose QR
    /// code it read.
    links: Mutex<HashMap<[u8; 32], mpsc::UnboundedSender<Node>>>,
    /// The account's key on its phone: it signs the identity of every device it links.
    account: KeyPair,
    /// Contacts' phones (device 0), by number, made when the client first asks for their keys.
    contacts: Mutex<HashMap<String, Arc<Contact>>>,
    /// Each device's public Signal keys (its latest prekey upload), by its Noise key.
    devices: Mutex<HashMap<[u8; 32], PreKeys>>,
    /// How many of each device's one-time prekeys WhatsApp has handed out (each is used once).
    handed_out: Mutex<HashMap<[u8; 32], usize>>,
    /// Messages pushed to the device that it has not acknowledged (no `<receipt>` yet), by id:
    /// WhatsApp keeps them in its offline queue and delivers them again.
    unacked: Mutex<Vec<(String, Node)>>,
    /// Groups WhatsApp knows, by JID: subject and members' numbers (the account's included).
    groups: Mutex<HashMap<String, (String, Vec<String>)>>,
    /// The media host's files (encrypted, as uploaded), by `direct_path`.
    media: Mutex<HashMap<String, Vec<u8>>>,
    /// Files whose link expired ([`FakeWhatsApp::expire`]), by the id of the message that
    /// carries them: the media key, the path the sender's phone uploads them to again, and the
    /// file (encrypted, as uploaded).
    expired: Mutex<HashMap<String, Expired>>,
}

/// An expired file: its media key, the path it is uploaded to again, its encrypted bytes.
type Expired = (Vec<u8>, String, Vec<u8>);

/// A file a contact's phone uploaded: what its message carries (the type the engine builds
/// media messages from).
pub use server::engine::whatsapp::wire::Uploaded;

impl Shared {
    fn contact(&self, user: &str) -> Arc<Contact> {
        let mut contacts = self.contacts.lock().expect("lock");
        contacts
            .entry(user.to_string())
            .or_insert_with(|| Arc::new(Contact::new()))
            .clone()
    }
}

/// A contact's phone: the Signal keys WhatsApp hands out for it and its Signal state with the
/// paired device, so that it can write to the device and read what the device sends it.
struct Contact {
    identity: IdentityKeyPair,
    registration_id: u32,
    signed: SignedPreKeyRecord,
    one_time: PreKeyRecord,
    state: tokio::sync::Mutex<(PhoneIdentity, PhoneSessions)>,
    /// Group sender keys: the device's (from its distribution messages) and the phone's own.
    sender_keys: tokio::sync::Mutex<PhoneSenderKeys>,
}

/// Every fake phone's Signal registration id (the client only stores it).
const PHONE_REGISTRATION_ID: u32 = 777;

/// How a contact's phone names a linked device (by its Noise key) in its Signal stores.
fn device_address(device: &[u8; 32]) -> ProtocolAddress {
    let name: String = device[..8].iter().map(|b| format!("{b:02x}")).collect();
    ProtocolAddress::new(&name, DeviceId::new(7))
}

impl Contact {
    fn new() -> Self {
        let rng = &mut rand010::rng();
        let identity = IdentityKeyPair::generate(rng);
        let signed_key = KeyPair::generate(rng);
        let signature = identity
            .private_key()
            .calculate_signature(&signed_key.public_key.serialize(), rng)
            .expect("sign");
        Contact {
            identity: identity.clone(),
            registration_id: PHONE_REGISTRATION_ID,
            signed: SignedPreKeyRecord::new(
                SignedPreKeyId::from(1),
                Timestamp::from_epoch_millis(now_secs() * 1000),
                &signed_key,
                &signature,
            ),
            one_time: PreKeyRecord::new(PreKeyId::from(1), &KeyPair::generate(rng)),
            state: tokio::sync::Mutex::new((
                PhoneIdentity {
                    pair: identity,
                    known: HashMap::new(),
                },
                PhoneSessions::default(),
            )),
            sender_keys: Default::default(),
        }
    }

    fn bundle(&self) -> PreKeyBundle {
        PreKeyBundle::new(
            self.registration_id,
            DeviceId::new(0),
            Some((
                PreKeyId::from(1),
                self.one_time.public_key().expect("prekey"),
            )),
            SignedPreKeyId::from(1),
            self.signed.public_key().expect("signed prekey"),
            self.signed.signature().expect("signature"),
            *self.identity.identity_key(),
        )
        .expect("bundle")
    }

    /// Opens what the device encrypted for this phone: a `pkmsg` (a new session) or a `msg`
    /// on the session the phone opened when it wrote first.
    async fn open(
        &self,
        device: &[u8; 32],
        kind: &str,
        sealed: &[u8],
    ) -> anyhow::Result<wa::Message> {
        let mut state = self.state.lock().await;
        let (identities, sessions) = &mut *state;
        // A Send generator: this runs on the connection's task.
        let rng = &mut rand010::make_rng::<rand010::rngs::StdRng>();
        let opened = if kind == "pkmsg" {
            message_decrypt_prekey(
                &PreKeySignalMessage::try_from(sealed)?,
                &device_address(device),
                sessions,
                identities,
                &mut PhonePreKey(self.one_time.clone()),
                &PhoneSignedPreKey(self.signed.clone()),
                rng,
                UsePQRatchet::No,
            )
            .await?
        } else {
            message_decrypt_signal(
                &SignalMessage::try_from(sealed)?,
                &device_address(device),
                sessions,
                identities,
                rng,
            )
            .await?
        };
        let plain = MessageUtils::unpad_message_ref(&opened.plaintext, 2)?;
        Ok(wa::Message::decode_from_slice(plain)?)
    }

    /// Takes the device's sender key from a distribution message (in a copy the device sent
    /// this phone), then opens the group message `skmsg` with it.
    async fn open_group(
        &self,
        device: &[u8; 32],
        group: &str,
        distribution: &wa::Message,
        skmsg: &[u8],
    ) -> anyhow::Result<wa::Message> {
        let skdm = distribution
            .sender_key_distribution_message
            .as_option()
            .or_else(|| {
                distribution
                    .device_sent_message
                    .as_option()
                    .and_then(|d| d.message.as_option())
                    .and_then(|m| m.sender_key_distribution_message.as_option())
            })
            .and_then(|d| d.axolotl_sender_key_distribution_message.clone())
            .ok_or_else(|| anyhow::anyhow!("no sender key distribution in the copy"))?;
        let name = SenderKeyName::new(group.to_string(), device_address(device).name().into());
        let mut keys = self.sender_keys.lock().await;
        whatsapp_rust::wacore::libsignal::protocol::process_sender_key_distribution_message(
            &name,
            &SenderKeyDistributionMessage::try_from(skdm.as_slice())?,
            &mut *keys,
        )
        .await?;
        let plain = group_decrypt(skmsg, &mut *keys, &name).await?;
        let plain = MessageUtils::unpad_message_ref(&plain, 2)?;
        Ok(wa::Message::decode_from_slice(plain)?)
    }

    /// The phone's sender key for `group`: its distribution message (for the device, which
    /// has none yet) and `message` encrypted with it (`skmsg`).
    async fn seal_group(
        &self,
        group: &str,
        user: &str,
        message: &wa::Message,
    ) -> (wa::Message, Vec<u8>) {
        let name = SenderKeyName::new(group.to_string(), user.to_string());
        let mut keys = self.sender_keys.lock().await;
        let rng = &mut rand010::make_rng::<rand010::rngs::StdRng>();
        let skdm = create_sender_key_distribution_message(&name, &mut *keys, rng)
            .await
            .expect("a sender key");
        let sealed = group_encrypt(
            &mut *keys,
            &name,
            &MessageUtils::encode_and_pad(message),
            rng,
        )
        .await
        .expect("group encrypt");
        let distribution = wa::Message {
            sender_key_distribution_message: MessageField::some(
                wa::message::SenderKeyDistributionMessage {
                    group_id: Some(group.to_string()),
                    axolotl_sender_key_distribution_message: Some(skdm.serialized().to_vec()),
                },
            ),
            ..Default::default()
        };
        (distribution, sealed.serialized().to_vec())
    }

    /// Encrypts `message` for the device (opening a session from its prekeys first, X3DH, when
    /// the phone has none): the `enc` type and the ciphertext.
    async fn seal(
        &self,
        (key, device): &([u8; 32], PreKeys),
        handed_out: &Mutex<HashMap<[u8; 32], usize>>,
        message: &wa::Message,
    ) -> (&'static str, Vec<u8>) {
        let address = device_address(key);
        let mut state = self.state.lock().await;
        let (identities, sessions) = &mut *state;
        // A phone writes on its session with the device once there is one; a new session takes
        // one of the device's one-time prekeys, each of which WhatsApp hands out once.
        if !sessions.0.contains_key(&address) {
            let n = {
                let mut handed = handed_out.lock().expect("lock");
                let n = handed.entry(*key).or_default();
                *n += 1;
                *n - 1
            };
            let one_time = device.one_time.get(n).expect("an unused one-time prekey");
            let key = |b: &[u8]| PublicKey::from_djb_public_key_bytes(b).expect("a public key");
            let bundle = PreKeyBundle::new(
                device.registration_id,
                DeviceId::new(7),
                Some((one_time.id.into(), key(&one_time.public_bytes))),
                device.signed.id.into(),
                key(&device.signed.public_bytes),
                device.signed.signature.clone(),
                IdentityKey::new(key(&device.identity)),
            )
            .expect("a bundle");
            let rng = &mut rand010::make_rng::<rand010::rngs::StdRng>();
            process_prekey_bundle(
                &address,
                sessions,
                identities,
                &bundle,
                rng,
                UsePQRatchet::No,
            )
            .await
            .expect("X3DH with the device's prekeys");
        }
        let sealed = message_encrypt(
            &MessageUtils::encode_and_pad(message),
            &address,
            sessions,
            identities,
        )
        .await
        .expect("encrypt");
        let kind = match sealed.message_type() {
            CiphertextMessageType::PreKey => "pkmsg",
            _ => "msg",
        };
        (kind, sealed.serialize().to_vec())
    }
}

pub struct FakeWhatsApp {
    /// `ws://127.0.0.1:<port>/ws/chat`, for `--whatsapp-url`.
    pub url: String,
    /// `http://127.0.0.1:<port>`: the media host, for `--whatsapp-media-url`.
    pub media_url: String,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
    media_task: JoinHandle<()>,
}

impl Drop for FakeWhatsApp {
    fn drop(&mut self) {
        self.task.abort();
        self.media_task.abort();
    }
}

/// The host name the fake's `media_conn` answer gives (the client reaches it through
/// `--whatsapp-media-url`).
const MEDIA_HOST: &str = "mmg.whatsapp.net";
/// Where the fake keeps an uploaded file: `{MEDIA_PATH}/{token}`, as WhatsApp's `direct_path`.
const MEDIA_PATH: &str = "/v/t62.7118-24/kabar-fake";

/// WhatsApp's media host: `POST /mms/<kind>/<token>?auth=…` stores an encrypted file and
/// answers its `url` and `direct_path`; `GET <direct_path>` gives it back. Anything else, or a
/// wrong auth, is an HTTP error, as the real host's are.
async fn media_host(
    s: Arc<Shared>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    body: axum::body::Bytes,
) -> axum::response::Response {
    use axum::{http::StatusCode, response::IntoResponse};
    let path = uri.path();
    let query = uri.query().unwrap_or_default();
    if method == axum::http::Method::POST && path.starts_with("/mms/") {
        if !query.split('&').any(|p| p == format!("auth={MEDIA_AUTH}")) {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        let token = path.rsplit('/').next().unwrap_or_default().to_string();
        let direct_path = format!("{MEDIA_PATH}/{token}");
        s.media
            .lock()
            .expect("lock")
            .insert(direct_path.clone(), body.to_vec());
        return axum::Json(serde_json::json!({
            "url": format!("https://{MEDIA_HOST}{direct_path}?fake=1"),
            "direct_path": direct_path,
        }))
        .into_response();
    }
    if method == axum::http::Method::GET
        && let Some(file) = s.media.lock().expect("lock").get(path).cloned()
    {
        return file.into_response();
    }
    StatusCode::NOT_FOUND.into_response()
}

/// The media auth token the fake hands out.
const MEDIA_AUTH: &str = "kabar-fake-media-auth";

fn key_bytes(k: &PublicKey) -> [u8; 32] {
    k.public_key_bytes().try_into().expect("32-byte key")
}

impl FakeWhatsApp {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("ws://{}/ws/chat", listener.local_addr().expect("addr"));
        let static_key = KeyPair::generate(&mut rand010::rng());
        let shared = Arc::new(Shared {
            cert_chain: cert_chain(&key_bytes(&static_key.public_key)),
            static_key,
            seen: watch::Sender::new(Seen::default()),
            live: Mutex::new(None),
            links: Default::default(),
            account: KeyPair::generate(&mut rand010::rng()),
            contacts: Mutex::new(HashMap::new()),
            devices: Default::default(),
            handed_out: Default::default(),
            unacked: Default::default(),
            groups: Default::default(),
            media: Default::default(),
            expired: Default::default(),
        });
        let media = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let media_url = format!("http://{}", media.local_addr().expect("addr"));
        let s = shared.clone();
        let router = axum::Router::new().fallback(move |method, uri, body| {
            let s = s.clone();
            media_host(s, method, uri, body)
        });
        let media_task = tokio::spawn(async move {
            let _ = axum::serve(media, router).await;
        });
        let s = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    if let Err(e) = serve(stream, &s).await {
                        eprintln!("fake WhatsApp: connection ended: {e:#}");
                    }
                });
            }
        });
        FakeWhatsApp {
            url,
            media_url,
            shared,
            task,
            media_task,
        }
    }

    /// Plays a contact's phone uploading a file: encrypts it with a new media key, as a phone
    /// does, and keeps it on the media host; answers what the message that carries it names.
    pub fn upload(&self, plaintext: &[u8], kind: MediaType) -> Uploaded {
        let enc = encrypt_media(plaintext, kind).expect("encrypt");
        let direct_path = format!("{MEDIA_PATH}/{}", hex::encode(&enc.file_enc_sha256[..8]));
        self.shared
            .media
            .lock()
            .expect("lock")
            .insert(direct_path.clone(), enc.data_to_upload);
        Uploaded {
            url: format!("https://{MEDIA_HOST}{direct_path}?fake=1"),
            direct_path,
            media_key: enc.media_key.to_vec(),
            file_sha256: enc.file_sha256.to_vec(),
            file_enc_sha256: enc.file_enc_sha256.to_vec(),
            file_length: plaintext.len() as u64,
            media_key_timestamp: now_secs() as i64,
            streaming_sidecar: enc.streaming_sidecar,
        }
    }

    /// Makes the link of an uploaded file expire, as WhatsApp's media host does after a few
    /// weeks: its `direct_path` answers 404 until the client asks for it again with a media-retry
    /// receipt for `message_id`, which the sender's phone answers by uploading it to a new path.
    pub fn expire(&self, up: &Uploaded, message_id: &str) {
        let file = (self.shared.media.lock().expect("lock"))
            .remove(&up.direct_path)
            .expect("an uploaded file");
        let again = format!("{}-again", up.direct_path);
        self.shared
            .expired
            .lock()
            .expect("lock")
            .insert(message_id.to_string(), (up.media_key.clone(), again, file));
    }

    /// Plays a contact's phone opening a file the client sent: fetches it from the media host
    /// by its `direct_path` and decrypts it with the message's media key (checking its MAC).
    pub fn download(&self, direct_path: &str, media_key: &[u8], kind: MediaType) -> Vec<u8> {
        let encrypted = self
            .shared
            .media
            .lock()
            .expect("lock")
            .get(direct_path)
            .cloned()
            .unwrap_or_else(|| panic!("nothing uploaded at {direct_path}"));
        DownloadUtils::verify_and_decrypt(&encrypted, media_key, kind).expect("decrypt")
    }

    pub fn seen(&self) -> Seen {
        self.shared.seen.borrow().clone()
    }

    /// Waits (up to 20 s) until what the fake saw satisfies `pred`.
    pub async fn wait_for(&self, what: &str, pred: impl Fn(&Seen) -> bool) -> Seen {
        let mut rx = self.shared.seen.subscribe();
        let waited = tokio::time::timeout(std::time::Duration::from_secs(20), async {
            loop {
                if pred(&rx.borrow_and_update()) {
                    return;
                }
                if rx.changed().await.is_err() {
                    return;
                }
            }
        })
        .await;
        let seen = self.seen();
        assert!(
            waited.is_ok() && pred(&seen),
            "waited for {what}; saw {seen:#?}"
        );
        seen
    }

    /// Plays the phone scanning `qr`: sends `pair-success` for the device it names, with the
    /// account's identity signed by the phone and sealed with the QR's ADV secret, exactly what
    /// the client verifies before it accepts a pairing.
    pub async fn scan(&self, qr: &str, device_jid: &str, lid: &str, push_name: &str) {
        let parts: Vec<&str> = qr.split(',').collect();
        assert!(parts.len() >= 4, "a WhatsApp QR payload: {qr}");
        let b64 = base64::engine::general_purpose::STANDARD;
        let noise_key = device_key(qr);
        let identity = b64.decode(parts[2]).expect("identity key");
        let adv_secret = b64.decode(parts[3]).expect("ADV secret");

        let details = wa::ADVDeviceIdentity {
            raw_id: Some(7),
            timestamp: Some(now_secs()),
            key_index: Some(1),
            ..Default::default()
        }
        .encode_to_vec();
        let signed = [&[6u8, 0][..], &details, &identity].concat();
        let account = &self.shared.account;
        let signature = account
            .private_key
            .calculate_signature(&signed, &mut rand010::rng())
            .expect("sign");
        let identity_msg = wa::ADVSignedDeviceIdentity {
            details: Some(details),
            account_signature_key: Some(account.public_key.public_key_bytes().to_vec()),
            account_signature: Some(signature.to_vec()),
            ..Default::default()
        }
        .encode_to_vec();
        let hmac = {
            use hmac::Mac;
            let mut mac =
                hmac::Hmac::<sha2::Sha256>::new_from_slice(&adv_secret).expect("hmac key");
            mac.update(&identity_msg);
            mac.finalize().into_bytes().to_vec()
        };
        let container = wa::ADVSignedDeviceIdentityHMAC {
            details: Some(identity_msg),
            hmac: Some(hmac),
            ..Default::default()
        }
        .encode_to_vec();
        let pair_success = NodeBuilder::new("pair-success")
            .children([
                NodeBuilder::new("device-identity").bytes(container).build(),
                NodeBuilder::new("platform").attr("name", "android").build(),
                NodeBuilder::new("device")
                    .attr("jid", device_jid)
                    .attr("lid", lid)
                    .build(),
                NodeBuilder::new("biz").attr("name", push_name).build(),
            ])
            .build();
        self.push_to(
            Some(noise_key),
            NodeBuilder::new("iq")
                .attr("from", "s.whatsapp.net")
                .attr("type", "set")
                .attr("id", "pair-success-1")
                .attr("xmlns", "md")
                .children([pair_success])
                .build(),
        )
        .await;
    }

    /// Checks the client's `pair-device-sign` answer: its device signature over the account's
    /// signed identity must verify with the identity key from the QR code.
    pub fn device_signature_verifies(&self, qr: &str) -> bool {
        let identity = base64::engine::general_purpose::STANDARD
            .decode(qr.split(',').nth(2).expect("identity field"))
            .expect("identity key");
        let seen = self.seen();
        let Some(answer) = seen.stanzas.iter().find_map(|n| {
            child(n, "pair-device-sign")
                .and_then(|c| child(c, "device-identity"))
                .and_then(bytes)
        }) else {
            return false;
        };
        let signed = wa::ADVSignedDeviceIdentity::decode_from_slice(answer).expect("decodes");
        let account_key = self.shared.account.public_key.public_key_bytes();
        let message = [
            &[6u8, 1][..],
            signed.details.as_deref().unwrap_or_default(),
            &identity,
            account_key,
        ]
        .concat();
        let key = PublicKey::from_djb_public_key_bytes(&identity).expect("identity key");
        signed.account_signature_key.as_deref() == Some(account_key)
            && key.verify_signature(&message, signed.device_signature.as_deref().unwrap_or(&[]))
    }

    /// Plays a contact's phone (`from`: their number) sending `message` to the paired device:
    /// a Signal session from the device's uploaded prekeys (X3DH), the padded `wa::Message`
    /// encrypted with it, delivered as WhatsApp delivers it (`<message><enc type="pkmsg">`);
    /// later messages go on that session (`msg`).
    pub async fn message_from(&self, from: &str, id: &str, push_name: &str, message: wa::Message) {
        self.deliver(None, from, None, id, Some(push_name), &message)
            .await;
    }

    /// [`Self::message_from`] to the device with Noise key `device` (see [`device_key`]), one of
    /// many connected.
    pub async fn message_to(
        &self,
        device: [u8; 32],
        from: &str,
        id: &str,
        push_name: &str,
        message: &wa::Message,
    ) {
        self.deliver(Some(device), from, None, id, Some(push_name), message)
            .await;
    }

    /// The Noise key and the public Signal keys of the device `device` names (or, with `None`,
    /// of the one that connected last), waiting (up to 20 s) for its prekey upload: the device
    /// uploads them in the background after login.
    async fn device_keys(&self, device: Option<[u8; 32]>) -> ([u8; 32], PreKeys) {
        for _ in 0..400 {
            let key = device.or_else(|| {
                let live = self.shared.live.lock().expect("lock");
                live.as_ref().map(|(key, _)| *key)
            });
            if let Some(key) = key
                && let Some(keys) = self.shared.devices.lock().expect("lock").get(&key)
            {
                return (key, keys.clone());
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no prekeys from the device; saw {:#?}", self.seen());
    }

    /// A group WhatsApp knows: `members` are numbers (the account's own among them, for a
    /// group the session is in). The client learns it from the group query.
    pub fn add_group(&self, group: &str, subject: &str, members: &[&str]) {
        self.shared.groups.lock().expect("lock").insert(
            group.to_string(),
            (
                subject.to_string(),
                members.iter().map(|m| m.to_string()).collect(),
            ),
        );
    }

    /// Plays a member's phone writing in a group: its sender key's distribution message
    /// sealed for the device (`pkmsg`/`msg`) and the message encrypted with the sender key
    /// (`skmsg`), in one `<message from=group participant=member>`, as WhatsApp delivers a
    /// member's first message to a new device.
    pub async fn group_message_from(
        &self,
        group: &str,
        member: &str,
        id: &str,
        push_name: &str,
        message: wa::Message,
    ) {
        let keys = self.device_keys(None).await;
        let phone = self.shared.contact(member);
        let (distribution, skmsg) = phone.seal_group(group, member, &message).await;
        let (kind, sealed) = phone
            .seal(&keys, &self.shared.handed_out, &distribution)
            .await;
        let enc = |kind: &str, bytes: Vec<u8>| {
            NodeBuilder::new("enc")
                .attr("v", "2")
                .attr("type", kind)
                .bytes(bytes)
                .build()
        };
        let stanza = NodeBuilder::new("message")
            .attr("from", group)
            .attr("participant", format!("{member}@s.whatsapp.net"))
            .attr("id", id)
            .attr("t", now_secs().to_string())
            .attr("type", "text")
            .attr("notify", push_name)
            .children([enc(kind, sealed), enc("skmsg", skmsg)])
            .build();
        self.shared
            .unacked
            .lock()
            .expect("lock")
            .push((id.to_string(), stanza.clone()));
        self.push_to(Some(keys.0), stanza).await;
    }

    /// WhatsApp tells the group's members that `by` added `added` (a `w:gp2` notification).
    pub async fn group_added(&self, group: &str, by: &str, added: &str) {
        if let Some((_, members)) = self.shared.groups.lock().expect("lock").get_mut(group) {
            members.push(added.to_string());
        }
        let stanza = NodeBuilder::new("notification")
            .attr("from", group)
            .attr("type", "w:gp2")
            .attr("id", format!("gp2-{added}"))
            .attr("participant", format!("{by}@s.whatsapp.net"))
            .attr("t", now_secs().to_string())
            .children([NodeBuilder::new("add")
                .children([NodeBuilder::new("participant")
                    .attr("jid", format!("{added}@s.whatsapp.net"))
                    .build()])
                .build()])
            .build();
        self.push(stanza).await;
    }

    /// Plays the account's own phone: its user typed `text` to `to` in WhatsApp itself. The
    /// phone sends the linked device a copy (a `DeviceSentMessage`), from the account's number
    /// with the chat as `recipient`.
    pub async fn typed_on_phone(&self, own: &str, to: &str, id: &str, text: &str) {
        let message = wa::Message {
            device_sent_message: MessageField::some(wa::message::DeviceSentMessage {
                destination_jid: Some(format!("{to}@s.whatsapp.net")),
                message: MessageField::some(wa::Message {
                    conversation: Some(text.to_string()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        self.deliver(None, own, Some(to), id, None, &message).await;
    }

    /// `message` encrypted by `phone` for the device (`None`: the one that connected last) and
    /// pushed to it as a `<message>`.
    async fn deliver(
        &self,
        device: Option<[u8; 32]>,
        phone: &str,
        recipient: Option<&str>,
        id: &str,
        push_name: Option<&str>,
        message: &wa::Message,
    ) {
        let keys = self.device_keys(device).await;
        let (kind, sealed) = self
            .shared
            .contact(phone)
            .seal(&keys, &self.shared.handed_out, message)
            .await;
        let mut stanza = NodeBuilder::new("message")
            .attr("from", format!("{phone}@s.whatsapp.net"))
            .attr("id", id)
            .attr("t", now_secs().to_string())
            .attr("type", "text");
        if let Some(to) = recipient {
            stanza = stanza.attr("recipient", format!("{to}@s.whatsapp.net"));
        }
        if let Some(name) = push_name {
            stanza = stanza.attr("notify", name);
        }
        let enc = NodeBuilder::new("enc")
            .attr("v", "2")
            .attr("type", kind)
            .bytes(sealed)
            .build();
        let stanza = stanza.children([enc]).build();
        self.shared
            .unacked
            .lock()
            .expect("lock")
            .push((id.to_string(), stanza.clone()));
        self.push_to(Some(keys.0), stanza).await;
    }

    /// Drops the device's connection, as a network failure would; once the device has logged
    /// in again, delivers what it never acknowledged, as WhatsApp's offline queue does.
    pub async fn reconnect_and_redeliver(&self) {
        let before = self.seen().handshakes.len();
        let live = self.shared.live.lock().expect("lock").clone();
        if let Some((_, tx)) = live {
            let _ = tx.send(NodeBuilder::new(CLOSE).build());
        }
        self.wait_for("the device's next login", |s| s.handshakes.len() > before)
            .await;
        let unacked: Vec<Node> = self
            .shared
            .unacked
            .lock()
            .expect("lock")
            .iter()
            .map(|(_, n)| n.clone())
            .collect();
        for node in unacked {
            self.push(node).await;
        }
    }

    /// Whether the device acknowledged message `id` (sent its delivery receipt).
    pub fn acknowledged(&self, id: &str) -> bool {
        !self
            .shared
            .unacked
            .lock()
            .expect("lock")
            .iter()
            .any(|(i, _)| i == id)
    }

    /// The contact's phone reports a message as delivered (`kind` None) or `read`.
    pub async fn receipt(&self, from: &str, id: &str, kind: Option<&str>) {
        let mut receipt = NodeBuilder::new("receipt")
            .attr("from", format!("{from}@s.whatsapp.net"))
            .attr("id", id)
            .attr("t", now_secs().to_string());
        if let Some(kind) = kind {
            receipt = receipt.attr("type", kind);
        }
        self.push(receipt.build()).await;
    }

    /// Sends `node` on the connection that is open now, waiting (up to 20 s) for one.
    async fn push(&self, node: Node) {
        self.push_to(None, node).await
    }

    /// Sends `node` on the connection of the device with Noise key `device` (or, with `None`,
    /// the one that opened last), waiting (up to 20 s) for it.
    async fn push_to(&self, device: Option<[u8; 32]>, node: Node) {
        for _ in 0..400 {
            let live = match device {
                Some(key) => self.shared.links.lock().expect("lock").get(&key).cloned(),
                None => {
                    let live = self.shared.live.lock().expect("lock");
                    live.as_ref().map(|(_, tx)| tx.clone())
                }
            };
            if let Some(tx) = live
                && tx.send(node.clone()).is_ok()
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no client connected to send {node:?} to");
    }
}

/// The device's Noise static key, from its QR code's payload (`ref,noise,identity,adv`): what
/// [`FakeWhatsApp::message_to`] names a device by.
pub fn device_key(qr: &str) -> [u8; 32] {
    qr.split(',')
        .nth(1)
        .and_then(|k| base64::engine::general_purpose::STANDARD.decode(k).ok())
        .and_then(|k| k.try_into().ok())
        .expect("the device's Noise key in the QR payload")
}

/// Reads a QR code back from a `data:image/png;base64,…` URL, as a phone's camera would.
pub fn decode_qr(data_url: &str) -> String {
    let b64 = data_url
        .strip_prefix("data:image/png;base64,")
        .expect("PNG data URL");
    let png = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64");
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().expect("png");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("frame");
    let (w, h) = (info.width as usize, info.height as usize);
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[y * w + x]);
    let grids = img.detect_grids();
    grids
        .first()
        .expect("a QR code in the image")
        .decode()
        .expect("decodes")
        .1
}

/// A stanza the test sends to make the fake drop the connection.
const CLOSE: &str = "kabar-test-close";

/// `FAKE_WHATSAPP_TRACE=1` prints every stanza, both ways (for debugging a failing test).
fn trace(dir: &str, node: &Node) {
    if std::env::var_os("FAKE_WHATSAPP_TRACE").is_some() {
        eprintln!("fake WhatsApp {dir} {node:?}");
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

pub fn child<'a>(n: &'a Node, tag: &str) -> Option<&'a Node> {
    n.children()?.iter().find(|c| c.tag == tag)
}

pub fn bytes(n: &Node) -> Option<&[u8]> {
    match &n.content {
        Some(NodeContent::Bytes(b)) => Some(b),
        _ => None,
    }
}

pub fn attr(n: &Node, key: &str) -> Option<String> {
    n.attrs().optional_string(key).map(|s| s.into_owned())
}

/// A structurally valid chain whose leaf is the server's static key; the signatures are zeros.
fn cert_chain(server_static: &[u8; 32]) -> Vec<u8> {
    use wa::cert_chain::{NoiseCertificate, noise_certificate::Details};
    let cert = |serial, issuer, key: Vec<u8>| NoiseCertificate {
        details: Some(
            Details {
                serial: Some(serial),
                issuer_serial: Some(issuer),
                key: Some(key),
                not_before: Some(1_700_000_000),
                not_after: Some(2_100_000_000),
            }
            .encode_to_vec(),
        ),
        signature: Some(vec![0; 64]),
    };
    wa::CertChain {
        intermediate: MessageField::some(cert(1, 0, vec![0xCC; 32])),
        leaf: MessageField::some(cert(2, 1, server_static.to_vec())),
    }
    .encode_to_vec()
}

/// One client connection: the WebSocket upgrade, the Noise handshake, then stanzas.
struct Conn {
    ws: WebSocketStream<TcpStream>,
    frames: FrameDecoder,
    /// The intro header the client sends once, before its first frame.
    header_left: usize,
}

impl Conn {
    async fn frame(&mut self) -> anyhow::Result<whatsapp_rust::bytes::BytesMut> {
        loop {
            if let Some(f) = self.frames.decode_frame() {
                return Ok(f);
            }
            let msg = self
                .ws
                .next()
                .await
                .ok_or_else(|| anyhow::anyhow!("client closed"))??;
            if msg.is_close() {
                anyhow::bail!("client closed");
            }
            let mut data: &[u8] = msg.as_payload();
            let skip = self.header_left.min(data.len());
            if skip > 0 {
                anyhow::ensure!(data[..skip] == WA_CONN_HEADER[..skip], "intro header");
                self.header_left -= skip;
                data = &data[skip..];
            }
            self.frames.feed(data);
        }
    }

    async fn send_frame(&mut self, payload: &[u8]) -> anyhow::Result<()> {
        let framed = encode_frame(payload, None)?;
        self.ws.send(Message::binary(framed)).await?;
        Ok(())
    }
}

async fn serve(stream: TcpStream, s: &Shared) -> anyhow::Result<()> {
    let (_request, ws) = ServerBuilder::new().accept(stream).await?;
    let mut c = Conn {
        ws,
        frames: FrameDecoder::new(),
        header_left: WA_CONN_HEADER.len(),
    };
    let (read, write, handshake) = handshake(&mut c, s).await?;
    let registering = handshake.payload.username.is_none();
    let key = handshake.client_static;
    s.seen.send_modify(|seen| seen.handshakes.push(handshake));

    let (tx, mut rx) = mpsc::unbounded_channel();
    *s.live.lock().expect("lock") = Some((key, tx.clone()));
    s.links.lock().expect("lock").insert(key, tx.clone());
    let served = link_stanzas(c, key, read, write, registering, &mut rx, s).await;
    // Gone: what the test sends next waits for the client's next connection.
    let mut live = s.live.lock().expect("lock");
    if live.as_ref().is_some_and(|(_, l)| l.same_channel(&tx)) {
        *live = None;
    }
    drop(live);
    let mut links = s.links.lock().expect("lock");
    if links.get(&key).is_some_and(|l| l.same_channel(&tx)) {
        links.remove(&key);
    }
    served
}

/// The stanza stream of one connection, until the client hangs up.
async fn link_stanzas(
    c: Conn,
    key: [u8; 32],
    read: NoiseCipher,
    write: NoiseCipher,
    registering: bool,
    rx: &mut mpsc::UnboundedReceiver<Node>,
    s: &Shared,
) -> anyhow::Result<()> {
    let mut link = Link {
        c,
        key,
        read,
        write,
        read_n: 0,
        write_n: 0,
    };
    if registering {
        let refs = [NodeBuilder::new("ref")
            .bytes(REF.as_bytes().to_vec())
            .build()];
        link.send(
            NodeBuilder::new("iq")
                .attr("from", "s.whatsapp.net")
                .attr("type", "set")
                .attr("id", "pair-device-1")
                .attr("xmlns", "md")
                .children([NodeBuilder::new("pair-device").children(refs).build()])
                .build(),
        )
        .await?;
    } else {
        link.send(
            NodeBuilder::new("success")
                .attr("t", now_secs().to_string())
                .attr("lid", "1234567890123@lid")
                .attr("props", "1")
                .build(),
        )
        .await?;
    }
    loop {
        tokio::select! {
            frame = link.c.frame() => {
                // The client hung up (a restart, a logout, the test ending).
                let Ok(frame) = frame else { return Ok(()) };
                let node = link.open(frame)?;
                trace("<-", &node);
                s.seen.send_modify(|seen| {
                    if let Some(keys) = PreKeys::from_upload(&node) {
                        s.devices.lock().expect("lock").insert(link.key, keys.clone());
                        seen.prekeys = Some(keys);
                    }
                    seen.stanzas.push(node.clone());
                });
                if node.tag == "receipt" && attr(&node, "type").as_deref() != Some("server-error") {
                    // The device has the message: out of the offline queue.
                    let mut ids = vec![attr(&node, "id").unwrap_or_default()];
                    if let Some(list) = child(&node, "list") {
                        ids.extend(list.children().unwrap_or_default().iter().filter_map(|i| attr(i, "id")));
                    }
                    s.unacked.lock().expect("lock").retain(|(id, _)| !ids.contains(id));
                }
                if let Err(e) = link.answer(&node, s).await {
                    s.seen.send_modify(|seen| seen.errors.push(format!("{e:#}")));
                }
            }
            Some(node) = rx.recv() => {
                if node.tag == CLOSE {
                    return Ok(()); // the connection drops
                }
                link.send(node).await?
            }
        }
    }
}

/// The server side of XX (`-> e`, `<- e, ee, s, es` + certificate chain, `-> s, se` + payload)
/// or of IK (the client already knows our static key: `-> e, es, s, ss` + payload,
/// `<- e, ee, se` + certificate chain). Returns (read, write) ciphers.
async fn handshake(
    c: &mut Conn,
    s: &Shared,
) -> anyhow::Result<(NoiseCipher, NoiseCipher, Handshake)> {
    let hello = wa::HandshakeMessage::decode_from_slice(&c.frame().await?)?;
    let ch = hello
        .client_hello
        .into_option()
        .ok_or_else(|| anyhow::anyhow!("no client hello"))?;
    let client_e: [u8; 32] = ch
        .ephemeral
        .ok_or_else(|| anyhow::anyhow!("no ephemeral"))?
        .try_into()
        .map_err(|_| anyhow::anyhow!("ephemeral size"))?;
    let server_s = s.static_key.private_key.serialize();
    let server_e = KeyPair::generate(&mut rand010::rng());
    let server_e_pub = key_bytes(&server_e.public_key);

    if let (Some(enc_static), Some(enc_payload)) = (ch.r#static, ch.payload) {
        let mut noise = NoiseHandshake::new(NOISE_PATTERN_IK, &WA_CONN_HEADER)?;
        noise.authenticate(&key_bytes(&s.static_key.public_key));
        noise.authenticate(&client_e);
        noise.mix_shared_secret(server_s, &client_e)?;
        let client_s: [u8; 32] = noise
            .decrypt(&enc_static)?
            .try_into()
            .map_err(|_| anyhow::anyhow!("static size"))?;
        noise.mix_shared_secret(server_s, &client_s)?;
        let payload = wa::ClientPayload::decode_from_slice(&noise.decrypt(&enc_payload)?)?;
        noise.authenticate(&server_e_pub);
        noise.mix_shared_secret(server_e.private_key.serialize(), &client_e)?;
        noise.mix_shared_secret(server_e.private_key.serialize(), &client_s)?;
        let cert = noise.encrypt(&s.cert_chain)?;
        c.send_frame(&server_hello(server_e_pub, None, cert))
            .await?;
        let (client_write, client_read) = noise.finish()?;
        return Ok((
            client_write,
            client_read,
            Handshake {
                pattern: "IK",
                client_static: client_s,
                payload,
            },
        ));
    }

    let mut noise = NoiseHandshake::new(NOISE_PATTERN_XX, &WA_CONN_HEADER)?;
    noise.authenticate(&client_e);
    noise.authenticate(&server_e_pub);
    noise.mix_shared_secret(server_e.private_key.serialize(), &client_e)?;
    let enc_static = noise.encrypt(&key_bytes(&s.static_key.public_key))?;
    noise.mix_shared_secret(server_s, &client_e)?;
    let cert = noise.encrypt(&s.cert_chain)?;
    c.send_frame(&server_hello(server_e_pub, Some(enc_static), cert))
        .await?;

    let finish = wa::HandshakeMessage::decode_from_slice(&c.frame().await?)?;
    let cf = finish
        .client_finish
        .into_option()
        .ok_or_else(|| anyhow::anyhow!("no client finish"))?;
    let client_s: [u8; 32] = noise
        .decrypt(cf.r#static.as_deref().unwrap_or_default())?
        .try_into()
        .map_err(|_| anyhow::anyhow!("static size"))?;
    noise.mix_shared_secret(server_e.private_key.serialize(), &client_s)?;
    let payload = wa::ClientPayload::decode_from_slice(
        &noise.decrypt(cf.payload.as_deref().unwrap_or_default())?,
    )?;
    let (client_write, client_read) = noise.finish()?;
    Ok((
        client_write,
        client_read,
        Handshake {
            pattern: "XX",
            client_static: client_s,
            payload,
        },
    ))
}

fn server_hello(ephemeral: [u8; 32], r#static: Option<Vec<u8>>, payload: Vec<u8>) -> Vec<u8> {
    wa::HandshakeMessage {
        server_hello: MessageField::some(wa::handshake_message::ServerHello {
            ephemeral: Some(ephemeral.to_vec()),
            r#static,
            payload: Some(payload),
            ..Default::default()
        }),
        ..Default::default()
    }
    .encode_to_vec()
}

/// Answers a usync query as WhatsApp does for people who have WhatsApp on one phone: each
/// user asked about is registered (`contact type="in"`) and has device 0 only — except
/// numbers starting with 62000, which have no WhatsApp (`type="out"`).
fn usync(query: &Node) -> Node {
    let protocols: Vec<String> = child(query, "query")
        .and_then(Node::children)
        .unwrap_or_default()
        .iter()
        .map(|p| p.tag.to_string())
        .collect();
    let users = child(query, "list")
        .and_then(Node::children)
        .unwrap_or_default()
        .iter()
        .filter_map(|u| {
            let jid = match attr(u, "jid") {
                Some(jid) => jid,
                None => {
                    let number = child(u, "contact").and_then(Node::content_as_string)?;
                    format!("{}@s.whatsapp.net", number.trim_start_matches('+'))
                }
            };
            let jid: Jid = jid.parse().ok()?;
            let contact = child(u, "contact").and_then(Node::content_as_string);
            let results = protocols.iter().filter_map(|p| match p.as_str() {
                "contact" => Some(
                    NodeBuilder::new("contact")
                        .attr(
                            "type",
                            if jid.user.starts_with("62000") {
                                "out"
                            } else {
                                "in"
                            },
                        )
                        .string_content(contact.clone().unwrap_or_default())
                        .build(),
                ),
                "devices" => Some(
                    NodeBuilder::new("devices")
                        .children([NodeBuilder::new("device-list")
                            .children([NodeBuilder::new("device").attr("id", "0").build()])
                            .build()])
                        .build(),
                ),
                _ => None,
            });
            Some(
                NodeBuilder::new("user")
                    .attr("jid", jid.to_non_ad().to_string())
                    .children(results.collect::<Vec<_>>())
                    .build(),
            )
        });
    NodeBuilder::new("usync")
        .children([NodeBuilder::new("list").children(users).build()])
        .build()
}

/// The encrypted stanza stream after the handshake (each direction counts its frames).
struct Link {
    c: Conn,
    /// The device's Noise static key: which device this is, across its reconnects.
    key: [u8; 32],
    read: NoiseCipher,
    write: NoiseCipher,
    read_n: u32,
    write_n: u32,
}

impl Link {
    fn open(&mut self, mut frame: whatsapp_rust::bytes::BytesMut) -> anyhow::Result<Node> {
        self.read
            .decrypt_in_place_with_counter(self.read_n, &mut frame)?;
        self.read_n += 1;
        let plain = unpack(&frame)?;
        Ok(unmarshal_ref(&plain)?.to_owned())
    }

    async fn send(&mut self, node: Node) -> anyhow::Result<()> {
        trace("->", &node);
        let sealed = self
            .write
            .encrypt_with_counter(self.write_n, &marshal(&node)?)?;
        self.write_n += 1;
        self.c.send_frame(&sealed).await
    }

    /// An outgoing message: acknowledged as WhatsApp's server does, and each copy addressed to
    /// a contact's phone is opened by that phone.
    async fn relay(&mut self, node: &Node, s: &Shared) -> anyhow::Result<()> {
        let to = attr(node, "to").unwrap_or_default();
        if to.ends_with("@g.us") {
            self.relay_group(node, &to, s).await;
            return self.ack(node, &to).await;
        }
        let copies: Vec<(String, &Node)> = match child(node, "participants") {
            Some(p) => p
                .children()
                .unwrap_or_default()
                .iter()
                .filter_map(|t| Some((attr(t, "jid")?, child(t, "enc")?)))
                .collect(),
            None => child(node, "enc")
                .map(|e| (to.clone(), e))
                .into_iter()
                .collect(),
        };
        for (jid, enc) in copies {
            let Ok(jid) = jid.parse::<Jid>() else {
                continue;
            };
            if jid.user != to.split('@').next().unwrap_or_default() {
                continue; // the copy for the sender's own phone
            }
            let kind = attr(enc, "type").unwrap_or_default();
            s.seen.send_modify(|seen| seen.enc_types.push(kind.clone()));
            let message = s
                .contact(&jid.user)
                .open(&self.key, &kind, bytes(enc).unwrap_or_default())
                .await?;
            s.seen
                .send_modify(|seen| seen.delivered.push((jid.user.to_string(), message)));
        }
        self.ack(node, &to).await
    }

    /// A media-retry receipt (`<receipt type="server-error">`): the client asks for a file whose
    /// link expired. Its payload must decrypt with the file's media key (HKDF, AES-GCM bound to
    /// the message id) and name the message; then the sender's phone uploads the file again and
    /// WhatsApp answers with a `mediaretry` notification encrypted the same way, carrying the
    /// new `direct_path`.
    async fn media_retry(&mut self, node: &Node, s: &Shared) -> anyhow::Result<()> {
        use whatsapp_rust::wacore::{
            crypto::hkdf_sha256_into, libsignal::crypto::aes_256_gcm_encrypt,
            media_retry::decrypt_media_retry_notification,
        };
        let id = attr(node, "id").unwrap_or_default();
        let Some((media_key, again, file)) = s.expired.lock().expect("lock").remove(&id) else {
            anyhow::bail!("a media retry for {id}, whose file did not expire");
        };
        let encrypt = child(node, "encrypt").ok_or_else(|| anyhow::anyhow!("no <encrypt>"))?;
        let (Some(enc_p), Some(enc_iv)) = (
            child(encrypt, "enc_p").and_then(bytes),
            child(encrypt, "enc_iv").and_then(bytes),
        ) else {
            anyhow::bail!("a media retry without enc_p/enc_iv");
        };
        let plain = decrypt_media_retry_notification(&media_key, &id, enc_iv, enc_p)?;
        let receipt = wa::ServerErrorReceipt::decode_from_slice(&plain)?;
        anyhow::ensure!(
            receipt.stanza_id.as_deref() == Some(id.as_str()),
            "the media retry names {:?}, not {id}",
            receipt.stanza_id
        );
        anyhow::ensure!(child(node, "rmr").is_some(), "a media retry without <rmr>");
        // The phone uploads the file again.
        (s.media.lock().expect("lock")).insert(again.clone(), file);
        s.seen
            .send_modify(|seen| seen.media_retries.push(id.clone()));
        let answer = wa::MediaRetryNotification {
            stanza_id: Some(id.clone()),
            direct_path: Some(again),
            result: Some(wa::media_retry_notification::ResultType::SUCCESS),
            ..Default::default()
        }
        .encode_to_vec();
        let mut key = [0u8; 32];
        hkdf_sha256_into(
            &media_key,
            None,
            b"WhatsApp Media Retry Notification",
            &mut key,
        )?;
        let iv = [9u8; 12];
        let mut sealed = Vec::new();
        aes_256_gcm_encrypt(&key, &iv, id.as_bytes(), &answer, &mut sealed)
            .map_err(|e| anyhow::anyhow!("sealing the answer: {e:?}"))?;
        self.send(
            NodeBuilder::new("notification")
                .attr("type", "mediaretry")
                .attr("id", id)
                .attr("from", attr(node, "to").unwrap_or_default())
                .attr("t", now_secs().to_string())
                .children([NodeBuilder::new("encrypt")
                    .children([
                        NodeBuilder::new("enc_p").bytes(sealed).build(),
                        NodeBuilder::new("enc_iv").bytes(iv.to_vec()).build(),
                    ])
                    .build()])
                .build(),
        )
        .await
    }

    /// The server's acknowledgement of a message the client sent.
    async fn ack(&mut self, node: &Node, to: &str) -> anyhow::Result<()> {
        self.send(
            NodeBuilder::new("ack")
                .attr("class", "message")
                .attr("id", attr(node, "id").unwrap_or_default())
                .attr("from", to)
                .attr("t", now_secs().to_string())
                .build(),
        )
        .await
    }

    /// A group message: every member's phone that got a copy of the device's sender key
    /// (`<participants>`) opens it, then reads the `skmsg` with that key. What each phone read
    /// is recorded as delivered to it (for the group, `group/member`); what failed, as errors.
    async fn relay_group(&mut self, node: &Node, group: &str, s: &Shared) {
        let Some(skmsg) = node
            .children()
            .unwrap_or_default()
            .iter()
            .find(|e| e.tag == "enc" && attr(e, "type").as_deref() == Some("skmsg"))
            .and_then(bytes)
        else {
            s.seen
                .send_modify(|seen| seen.errors.push(format!("no skmsg to {group}")));
            return;
        };
        let copies = child(node, "participants")
            .and_then(Node::children)
            .unwrap_or_default();
        for copy in copies {
            let (Some(jid), Some(enc)) = (attr(copy, "jid"), child(copy, "enc")) else {
                continue;
            };
            let Ok(jid) = jid.parse::<Jid>() else {
                continue;
            };
            let phone = s.contact(&jid.user);
            let kind = attr(enc, "type").unwrap_or_default();
            let read = async {
                let distribution = phone
                    .open(&self.key, &kind, bytes(enc).unwrap_or_default())
                    .await?;
                phone
                    .open_group(&self.key, group, &distribution, skmsg)
                    .await
            }
            .await;
            s.seen.send_modify(|seen| match read {
                Ok(message) => seen
                    .delivered
                    .push((format!("{group}/{}", jid.user), message)),
                Err(e) => seen
                    .errors
                    .push(format!("{} could not read {group}: {e}", jid.user)),
            });
        }
    }

    /// WhatsApp's side of one stanza.
    async fn answer(&mut self, node: &Node, s: &Shared) -> anyhow::Result<()> {
        if node.tag == "message" {
            return self.relay(node, s).await;
        }
        if node.tag == "receipt" && attr(node, "type").as_deref() == Some("server-error") {
            return self.media_retry(node, s).await;
        }
        if node.tag != "iq" {
            return Ok(());
        }
        let id = attr(node, "id").unwrap_or_default();
        match attr(node, "type").as_deref() {
            Some("get" | "set") => {
                let mut result = NodeBuilder::new("iq")
                    .attr("from", "s.whatsapp.net")
                    .attr("type", "result")
                    .attr("id", id);
                if child(node, "link_code_companion_reg").is_some() {
                    // Linking by phone number, stage 1: WhatsApp answers with the pairing ref
                    // (the phone then shows a prompt for the code the client generated).
                    result = result.children([NodeBuilder::new("link_code_companion_reg")
                        .children([NodeBuilder::new("link_code_pairing_ref")
                            .bytes(b"kabar-fake-link-ref".to_vec())
                            .build()])
                        .build()]);
                } else if attr(node, "xmlns").as_deref() == Some("w:g2")
                    && child(node, "query").is_some()
                {
                    // A group's metadata: its members, by phone number.
                    let gid = attr(node, "to").unwrap_or_default();
                    let group = s.groups.lock().expect("lock").get(&gid).cloned();
                    if let Some((subject, members)) = group {
                        let participants = members.iter().map(|m| {
                            NodeBuilder::new("participant")
                                .attr("jid", format!("{m}@s.whatsapp.net"))
                                .build()
                        });
                        result = result.children([NodeBuilder::new("group")
                            .attr("id", gid.trim_end_matches("@g.us"))
                            .attr("subject", subject)
                            .attr("creation", now_secs().to_string())
                            .attr("addressing_mode", "pn")
                            .children(participants)
                            .build()]);
                    }
                } else if child(node, "media_conn").is_some() {
                    // Where files go: one media host, and the auth its uploads need.
                    result = result.children([MediaConnResponseExtended::mock(
                        MEDIA_AUTH.into(),
                        3600,
                        vec![MediaConnHostExtended::simple(
                            MEDIA_HOST.into(),
                            HostType::Primary,
                        )],
                    )
                    .into_node()]);
                } else if let Some(query) = child(node, "usync") {
                    result = result.children([usync(query)]);
                } else if let Some(wanted) = child(node, "key") {
                    // Prekey bundles for the contacts' phones the client wants to write to.
                    let users = wanted
                        .children()
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|u| {
                            let jid: Jid = attr(u, "jid")?.parse().ok()?;
                            let bundle = s.contact(&jid.user).bundle();
                            Some(
                                PreKeyBundleUserNode::from_bundle(jid, &bundle, None)
                                    .ok()?
                                    .into_node(),
                            )
                        });
                    result = result.children([NodeBuilder::new("list").children(users).build()]);
                } else if attr(node, "xmlns").as_deref() == Some("w:sync:app:state") {
                    // A new account: every app-state collection asked for is empty.
                    let names = child(node, "sync")
                        .and_then(Node::children)
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|c| attr(c, "name"))
                        .map(|name| {
                            NodeBuilder::new("collection")
                                .attr("name", name)
                                .attr("version", "0")
                                .build()
                        });
                    result = result.children([NodeBuilder::new("sync").children(names).build()]);
                }
                self.send(result.build()).await?;
                if attr(node, "xmlns").as_deref() == Some("passive") {
                    self.send(
                        NodeBuilder::new("ib")
                            .children([NodeBuilder::new("offline").attr("count", "0").build()])
                            .build(),
                    )
                    .await?;
                }
            }
            Some("result") if child(node, "pair-device-sign").is_some() => {
                // Paired: WhatsApp restarts the stream; the client hangs up and logs in.
                self.send(NodeBuilder::new("stream:error").attr("code", "515").build())
                    .await?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// A phone's group sender keys, in memory.
#[derive(Default)]
struct PhoneSenderKeys(HashMap<String, SenderKeyRecord>);

#[async_trait::async_trait]
impl SenderKeyStore for PhoneSenderKeys {
    async fn store_sender_key(
        &mut self,
        name: &SenderKeyName,
        record: SenderKeyRecord,
    ) -> Result<(), SignalProtocolError> {
        self.0
            .insert(format!("{}:{}", name.group_id(), name.sender_id()), record);
        Ok(())
    }

    async fn load_sender_key(
        &self,
        name: &SenderKeyName,
    ) -> Result<Option<SenderKeyRecord>, SignalProtocolError> {
        Ok(self
            .0
            .get(&format!("{}:{}", name.group_id(), name.sender_id()))
            .cloned())
    }
}

/// The contact's phone's Signal identity (trusting on first use, as WhatsApp does).
struct PhoneIdentity {
    pair: IdentityKeyPair,
    known: HashMap<ProtocolAddress, IdentityKey>,
}

#[async_trait::async_trait]
impl IdentityKeyStore for PhoneIdentity {
    async fn get_identity_key_pair(&self) -> Result<IdentityKeyPair, SignalProtocolError> {
        Ok(self.pair.clone())
    }

    async fn get_local_registration_id(&self) -> Result<u32, SignalProtocolError> {
        Ok(PHONE_REGISTRATION_ID)
    }

    async fn save_identity(
        &mut self,
        address: &ProtocolAddress,
        identity: &IdentityKey,
    ) -> Result<IdentityChange, SignalProtocolError> {
        Ok(match self.known.insert(address.clone(), *identity) {
            Some(old) if old != *identity => IdentityChange::ReplacedExisting,
            _ => IdentityChange::NewOrUnchanged,
        })
    }

    async fn is_trusted_identity(
        &self,
        _address: &ProtocolAddress,
        _identity: &IdentityKey,
        _direction: Direction,
    ) -> Result<bool, SignalProtocolError> {
        Ok(true)
    }

    async fn get_identity(
        &self,
        address: &ProtocolAddress,
    ) -> Result<Option<IdentityKey>, SignalProtocolError> {
        Ok(self.known.get(address).copied())
    }
}

#[derive(Default)]
struct PhoneSessions(HashMap<ProtocolAddress, SessionRecord>);

#[async_trait::async_trait]
impl SessionStore for PhoneSessions {
    async fn load_session(
        &self,
        address: &ProtocolAddress,
    ) -> Result<Option<SessionRecord>, SignalProtocolError> {
        Ok(self.0.get(address).cloned())
    }

    async fn has_session(&self, address: &ProtocolAddress) -> Result<bool, SignalProtocolError> {
        Ok(self.0.contains_key(address))
    }

    async fn store_session(
        &mut self,
        address: &ProtocolAddress,
        record: SessionRecord,
    ) -> Result<(), SignalProtocolError> {
        self.0.insert(address.clone(), record);
        Ok(())
    }
}

struct PhonePreKey(PreKeyRecord);

#[async_trait::async_trait]
impl PreKeyStore for PhonePreKey {
    async fn get_pre_key(&self, _id: PreKeyId) -> Result<PreKeyRecord, SignalProtocolError> {
        Ok(self.0.clone())
    }

    async fn save_pre_key(
        &mut self,
        _id: PreKeyId,
        _record: &PreKeyRecord,
    ) -> Result<(), SignalProtocolError> {
        Ok(())
    }

    async fn remove_pre_key(&mut self, _id: PreKeyId) -> Result<(), SignalProtocolError> {
        Ok(())
    }
}

struct PhoneSignedPreKey(SignedPreKeyRecord);

#[async_trait::async_trait]
impl SignedPreKeyStore for PhoneSignedPreKey {
    async fn get_signed_pre_key(
        &self,
        _id: SignedPreKeyId,
    ) -> Result<SignedPreKeyRecord, SignalProtocolError> {
        Ok(self.0.clone())
    }

    async fn save_signed_pre_key(
        &mut self,
        _id: SignedPreKeyId,
        _record: &SignedPreKeyRecord,
    ) -> Result<(), SignalProtocolError> {
        Ok(())
    }
}
