//! The per-session task: receives the engine's events for one session and turns them into
//! the live snapshot (QR, status, phone), the `sessions` row and the message record.
//! Webhook events will be emitted here too, in the same place the record is written.

use super::SessionHandle;
use crate::{
    engine::{Connection, EngineError, EngineEvent, Inbound, Outgoing, Sent},
    messages::{self, Direction, NewMessage, Source},
    phone::Chat,
    qr,
    state::AppState,
};
use app::model::{
    ConnectionUpdateData, MessageInData, MessageOutData, SessionSnapshot, SessionStatus,
};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub async fn session_loop(
    state: AppState,
    handle: SessionHandle,
    mut events: crate::engine::EventStream,
    snapshot: watch::Sender<SessionSnapshot>,
    stop: CancellationToken,
) {
    loop {
        // `_room`: a message's place in the engine's window, given back once it is committed.
        let (event, _room): (_, Room) = tokio::select! {
            _ = stop.cancelled() => break,
            event = events.recv() => match event {
                Some(crate::engine::Queued(e, room)) => (e, room),
                None => break,
            },
        };
        if let Err(e) = on_event(&state, &handle, &snapshot, event, _room).await {
            tracing::error!(session = %handle.id, error = format!("{e:#}"), "session event failed");
        }
    }
    tracing::debug!(session = %handle.id, "session task stopped");
}

/// A message's place in the engine's window ([`crate::engine::Events`]), held until it is
/// committed.
type Room = Option<tokio::sync::OwnedSemaphorePermit>;

async fn on_event(
    state: &AppState,
    handle: &SessionHandle,
    snapshot: &watch::Sender<SessionSnapshot>,
    event: EngineEvent,
    room: Room,
) -> anyhow::Result<()> {
    let id = &handle.id;
    let before = snapshot.borrow().status;
    let is_message = matches!(
        event,
        EngineEvent::Message(..) | EngineEvent::Receipt { .. }
    );
    match event {
        EngineEvent::Qr { code, .. } => {
            let url = qr::data_url(&code)?;
            snapshot.send_modify(|s| {
                s.status = SessionStatus::QrReady;
                s.qr = Some(url);
                s.reason = None;
            });
            super::store::save_status(state, id, SessionStatus::QrReady).await?;
        }
        EngineEvent::Connecting { reason } => {
            snapshot.send_modify(|s| {
                s.status = SessionStatus::Connecting;
                s.qr = None;
                s.reason = reason;
            });
            super::store::save_status(state, id, SessionStatus::Connecting).await?;
        }
        EngineEvent::Connected { phone, push_name } => {
            snapshot.send_modify(|s| {
                s.status = SessionStatus::Connected;
                s.qr = None;
                s.phone_number = Some(phone.clone());
                s.push_name = Some(push_name.clone());
                s.reason = None;
            });
            super::store::save_connected(state, id, &phone, &push_name).await?;
            // Replies decided before a restart and never sent go out now.
            let (state, handle) = (state.clone(), handle.clone());
            tokio::spawn(async move {
                match crate::autoreply::resume(&state, &handle).await {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::info!(session = %handle.id, replies = n, "auto-replies owed from before a restart sent")
                    }
                    Err(e) => {
                        tracing::warn!(session = %handle.id, error = format!("{e:#}"), "resuming auto-replies")
                    }
                }
            });
        }
        EngineEvent::Disconnected { reason } => {
            snapshot.send_modify(|s| {
                s.status = SessionStatus::Disconnected;
                s.qr = None;
                s.reason = Some(reason);
            });
            super::store::save_status(state, id, SessionStatus::Disconnected).await?;
        }
        EngineEvent::LoggedOut { reason } => {
            snapshot.send_modify(|s| {
                s.status = SessionStatus::LoggedOut;
                s.qr = None;
                s.phone_number = None;
                s.push_name = None;
                s.reason = Some(reason);
            });
            super::store::save_logged_out(state, id).await?;
        }
        EngineEvent::Receipt { ids, status } => {
            let id = id.clone();
            crate::events::write(state, move |w| {
                Box::pin(async move { messages::set_status(w.conn(), &id, &ids, status).await })
            })
            .await?;
        }
        EngineEvent::Message(m, ack) => on_message(state, handle, m, ack, room).await?,
    }
    if !is_message {
        connection_update(state, handle, before, snapshot).await?;
    }
    Ok(())
}

/// An answer to an interactive message (a tap, a typed "2", a poll vote) becomes its
/// interaction.* event; anything else is a message.in, and may trigger an auto-reply.
///
/// The `ack` says stored only once the record and its events are committed: the point where
/// the engine may tell WhatsApp it has the message. A plain message is handed to the writer
/// and the task goes on to the next event while it commits (the writer keeps their order), so
/// one busy session's messages share commits; what follows the commit (the ack, the
/// auto-reply) runs off the task.
async fn on_message(
    state: &AppState,
    handle: &SessionHandle,
    m: Inbound,
    ack: crate::engine::Ack,
    room: Room,
) -> anyhow::Result<()> {
    let id = &handle.id;
    // A failed lookup must not lose the message: it is then a plain message.in.
    match crate::interactive::resolve(&state.db, id, &m).await {
        Ok(Some(answer)) => {
            let stored = crate::interactive::record_answer(state, handle, &m, &answer).await;
            ack.done(stored.is_ok());
            return stored;
        }
        Ok(None) => {}
        Err(e) => tracing::error!(session = %id, error = format!("{e:#}"), "resolving an answer"),
    }
    // The auto-reply is decided before the message is stored, and its pending record is
    // committed with it: once WhatsApp has our ack, the answer is owed even across a crash.
    let reply = match crate::autoreply::decide(state, handle, &m).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(session = %id, error = %e, "auto-reply not decided");
            None
        }
    };
    let submitted = record_inbound(state, handle, &m, reply.as_ref().map(|r| r.record())).await;
    let (state, handle) = (state.clone(), handle.clone());
    tokio::spawn(async move {
        let recorded = match submitted {
            Ok(s) => s.committed().await,
            Err(e) => Err(e),
        };
        ack.done(recorded.is_ok());
        drop(room);
        let new = match recorded {
            Ok((new, source)) => {
                if new {
                    let dir = if m.from_me { "out" } else { "in" };
                    state
                        .metrics
                        .message(dir, m.kind.as_str(), source.map(Source::as_str));
                }
                new
            }
            Err(e) => {
                tracing::error!(session = %handle.id, error = %e, "a message was not stored; the engine will deliver it again");
                false
            }
        };
        if !new {
            if let Some(reply) = &reply {
                crate::autoreply::refund(&state, &handle.id, reply);
            }
            return;
        }
        if let Some(reply) = reply
            && let Err(e) = crate::autoreply::send(&state, &handle, reply).await
        {
            tracing::warn!(session = %handle.id, error = %e, "auto-reply not sent");
        }
    });
    Ok(())
}

/// Records a received (or phone-typed) message, its webhook event and the `pending` record of
/// its auto-reply, if one was decided; `false` when the message was already recorded (a
/// redelivery), and nothing is emitted or recorded again. Answers once the writer has the
/// job; its commit comes after.
async fn record_inbound(
    state: &AppState,
    handle: &SessionHandle,
    m: &Inbound,
    reply: Option<&crate::outbound::Pending>,
) -> Result<crate::events::Submitted<(bool, Option<Source>)>, sqlx::Error> {
    let (m2, session, reply) = (m.clone(), handle.id.clone(), reply.cloned());
    crate::events::submit(state, move |write| {
        Box::pin(async move {
            let m = &m2;
            let (direction, source, sender) = if m.from_me {
                (Direction::Out, Some(Source::Device), None)
            } else {
                (Direction::In, None, Some(m.sender.as_str()))
            };
            let new = messages::record(
                write.conn(),
                NewMessage {
                    id: &m.id,
                    session: &session,
                    direction,
                    chat: &m.chat,
                    sender,
                    kind: m.kind.as_str(),
                    body: &m.text,
                    source,
                    quoted_id: m.quoted_id.as_deref(),
                    timestamp_ms: m.timestamp_ms,
                    media: m.media.as_deref(),
                },
            )
            .await?;
            if !new {
                return Ok((false, source));
            }
            if m.from_me {
                let data = MessageOutData {
                    session_id: session.clone(),
                    message_id: m.id.clone(),
                    to: m.chat.display().to_string(),
                    kind: m.kind.as_str().into(),
                    message: m.text.clone(),
                    source: Source::Device.as_str().into(),
                    timestamp: m.timestamp_ms,
                    media: m.media.as_ref().map(|f| f.info(&m.id)),
                };
                write.emit(&data).await?;
            } else {
                let group = matches!(m.chat, Chat::Group(_));
                let data = MessageInData {
                    session_id: session.clone(),
                    message_id: m.id.clone(),
                    from: m.chat.display().to_string(),
                    push_name: m.push_name.clone(),
                    kind: m.kind.as_str().into(),
                    message: m.text.clone(),
                    timestamp: m.timestamp_ms,
                    quoted_message_id: m.quoted_id.clone(),
                    participant: group.then(|| m.sender.clone()),
                    media: m.media.as_ref().map(|f| f.info(&m.id)),
                };
                write.emit(&data).await?;
            }
            if let Some(reply) = &reply {
                reply.insert(write.conn()).await?;
            }
            Ok((true, source))
        })
    })
    .await
}

/// Emits `connection.update` when the status changes (not on every QR rotation).
async fn connection_update(
    state: &AppState,
    handle: &SessionHandle,
    before: SessionStatus,
    snapshot: &watch::Sender<SessionSnapshot>,
) -> anyhow::Result<()> {
    let now = snapshot.borrow().clone();
    if now.status == before || now.status == SessionStatus::Connecting {
        return Ok(());
    }
    let data = ConnectionUpdateData {
        session_id: handle.id.clone(),
        status: now.status,
        phone_number: now.phone_number,
        push_name: now.push_name,
        reason: now.reason,
    };
    crate::events::write(state, move |write| {
        Box::pin(async move { write.emit(&data).await })
    })
    .await?;
    Ok(())
}

/// The connection of a session whose engine could not start: every call says why.
pub struct Offline(pub String);

#[async_trait::async_trait]
impl Connection for Offline {
    async fn send(&self, _: Outgoing) -> Result<Sent, EngineError> {
        Err(EngineError::NotConnected)
    }

    async fn is_on_whatsapp(&self, _: &Chat) -> Result<bool, EngineError> {
        Err(EngineError::NotConnected)
    }

    async fn pair_with_code(&self, _: &str) -> Result<String, EngineError> {
        Err(EngineError::NotConnected)
    }

    async fn logout(&self) -> Result<(), EngineError> {
        Err(EngineError::Other(anyhow::anyhow!(
            "the session is offline: {}",
            self.0
        )))
    }

    async fn stop(&self) {}
}
