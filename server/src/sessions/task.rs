//! The per-session task: receives the engine's events for one session and turns them into
//! the live snapshot (QR, status, phone), the `sessions` row and the message record.
//! Webhook events will be emitted here too, in the same place the record is written.

use super::SessionHandle;
use crate::{
    engine::{Connection, EngineError, EngineEvent, Inbound, Outgoing, Sent},
    events::Write,
    messages::{self, Direction, NewMessage, Source},
    phone::Chat,
    qr,
    state::AppState,
};
use app::model::{
    ConnectionUpdateData, MessageInData, MessageOutData, SessionSnapshot, SessionStatus,
};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

pub async fn session_loop(
    state: AppState,
    handle: SessionHandle,
    mut events: mpsc::UnboundedReceiver<EngineEvent>,
    snapshot: watch::Sender<SessionSnapshot>,
    stop: CancellationToken,
) {
    loop {
        let event = tokio::select! {
            _ = stop.cancelled() => break,
            event = events.recv() => match event {
                Some(e) => e,
                None => break,
            },
        };
        if let Err(e) = on_event(&state, &handle, &snapshot, event).await {
            tracing::error!(session = %handle.id, error = format!("{e:#}"), "session event failed");
        }
    }
    tracing::debug!(session = %handle.id, "session task stopped");
}

async fn on_event(
    state: &AppState,
    handle: &SessionHandle,
    snapshot: &watch::Sender<SessionSnapshot>,
    event: EngineEvent,
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
            messages::set_status(&state.db, id, &ids, status).await?;
        }
        EngineEvent::Message(m, ack) => {
            // Acked as stored only once the record and its events are committed: the point
            // where the engine may tell WhatsApp it has the message.
            let stored = on_message(state, handle, m).await;
            ack.done(stored.is_ok());
            stored?;
        }
    }
    if !is_message {
        connection_update(state, handle, before, snapshot).await?;
    }
    Ok(())
}

/// An answer to an interactive message (a tap, a typed "2", a poll vote) becomes its
/// interaction.* event; anything else is a message.in, and may trigger an auto-reply.
async fn on_message(state: &AppState, handle: &SessionHandle, m: Inbound) -> anyhow::Result<()> {
    let id = &handle.id;
    // A failed lookup must not lose the message: it is then a plain message.in.
    match crate::interactive::resolve(&state.db, id, &m).await {
        Ok(Some(answer)) => {
            return crate::interactive::record_answer(state, handle, &m, &answer).await;
        }
        Ok(None) => {}
        Err(e) => tracing::error!(session = %id, error = format!("{e:#}"), "resolving an answer"),
    }
    if !record_inbound(state, handle, &m).await? {
        tracing::debug!(session = %id, message = %m.id, "redelivered message ignored");
        return Ok(());
    }
    // Off the task: the reply waits on WhatsApp, the next events should not.
    let (state, handle) = (state.clone(), handle.clone());
    tokio::spawn(async move {
        if let Err(e) = crate::autoreply::on_inbound(&state, &handle, &m).await {
            tracing::warn!(session = %handle.id, error = %e, "auto-reply not sent");
        }
    });
    Ok(())
}

/// Records a received (or phone-typed) message and its webhook event; `false` when the
/// message was already recorded (a redelivery), and nothing is emitted again.
async fn record_inbound(
    state: &AppState,
    handle: &SessionHandle,
    m: &Inbound,
) -> anyhow::Result<bool> {
    let (direction, source, sender) = if m.from_me {
        (Direction::Out, Some(Source::Device), None)
    } else {
        (Direction::In, None, Some(m.sender.as_str()))
    };
    let mut write = Write::begin(state).await?;
    let new = messages::record(
        write.conn(),
        NewMessage {
            id: &m.id,
            session: &handle.id,
            direction,
            chat: &m.chat,
            sender,
            kind: m.kind.as_str(),
            body: &m.text,
            source,
            quoted_id: m.quoted_id.as_deref(),
            timestamp_ms: m.timestamp_ms,
        },
    )
    .await?;
    if !new {
        return Ok(false);
    }
    if m.from_me {
        let data = MessageOutData {
            session_id: handle.id.clone(),
            message_id: m.id.clone(),
            to: m.chat.display().to_string(),
            kind: m.kind.as_str().into(),
            message: m.text.clone(),
            source: Source::Device.as_str().into(),
            timestamp: m.timestamp_ms,
        };
        write.emit(&data).await?;
    } else {
        let group = matches!(m.chat, Chat::Group(_));
        let data = MessageInData {
            session_id: handle.id.clone(),
            message_id: m.id.clone(),
            from: m.chat.display().to_string(),
            push_name: m.push_name.clone(),
            kind: m.kind.as_str().into(),
            message: m.text.clone(),
            timestamp: m.timestamp_ms,
            quoted_message_id: m.quoted_id.clone(),
            participant: group.then(|| m.sender.clone()),
        };
        write.emit(&data).await?;
    }
    write.commit().await?;
    let dir = if m.from_me { "out" } else { "in" };
    state
        .metrics
        .message(dir, m.kind.as_str(), source.map(Source::as_str));
    Ok(true)
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
    let mut write = Write::begin(state).await?;
    write.emit(&data).await?;
    write.commit().await?;
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
