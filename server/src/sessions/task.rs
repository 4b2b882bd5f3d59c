//! The per-session task: receives the engine's events for one session and turns them into
//! the live snapshot (QR, status, phone), the `sessions` row and the message record.
//! Webhook events will be emitted here too, in the same place the record is written.

use super::SessionHandle;
use crate::{
    engine::{
        Action, Change, Connection, EngineError, EngineEvent, GroupEvent, Inbound, Outgoing, Sent,
    },
    messages::{self, Direction, NewMessage, Source},
    phone::Chat,
    qr,
    state::AppState,
};
use app::model::{
    ConnectionUpdateData, GroupParticipantsData, GroupUpdateData, MessageEditedData, MessageInData,
    MessageOutData, MessageReactionData, MessageRevokedData, MessageStatusData, PollVoteData,
    SessionSnapshot, SessionStatus,
};
use app::model::{GroupPatch, GroupView, Joined, MemberAction, ParticipantResult};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub async fn session_loop(
    state: AppState,
    handle: SessionHandle,
    mut events: crate::engine::EventStream,
    snapshot: watch::Sender<SessionSnapshot>,
    stop: CancellationToken,
) {
    state.text_menus.forget(&handle.id);
    loop {
        // `_room`: a message's place in the engine's window, given back once it is committed.
        let (event, _room): (_, Room) = tokio::select! {
            _ = stop.cancelled() => break,
            event = events.recv() => match event {
                Some(crate::engine::Queued(e, room)) => (*e, room),
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
        EngineEvent::Message(..) | EngineEvent::Receipt { .. } | EngineEvent::Group(..)
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
                Box::pin(async move {
                    let moved = messages::set_status(w.conn(), &id, &ids, status).await?;
                    for (message_id, chat) in moved {
                        let data = MessageStatusData {
                            session_id: id.clone(),
                            message_id,
                            to: chat,
                            status: status.to_string(),
                            timestamp: crate::db::now_ms(),
                        };
                        w.emit(&data).await?;
                    }
                    Ok(())
                })
            })
            .await?;
        }
        EngineEvent::Message(m, ack) => on_message(state, handle, m, ack, room).await?,
        EngineEvent::Group(g, ack) => {
            // A rename, or the number joining or leaving a group: the Chats list asks again.
            handle.forget_group_names();
            let awaited = ack.awaited();
            let stored = record_group(state, id, g.clone()).await;
            ack.done(stored.is_ok());
            drop(room);
            if let Err(e) = stored {
                if awaited {
                    // Not stored: the phone side delivers it again.
                    return Err(e.into());
                }
                // Nobody can deliver it again (whatsapp-rust acknowledged the notification):
                // written in the background until it lands.
                tracing::error!(session = %id, error = %e, "a group change will be recorded in the background");
                let session = id.clone();
                tokio::spawn(crate::events::retry_write(state.clone(), move |state| {
                    let (session, g) = (session.clone(), g.clone());
                    Box::pin(async move { record_group(&state, &session, g).await })
                }));
            }
        }
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
    if let Some(change) = m.change.clone() {
        let stored = record_change(state, handle, &m, change).await;
        ack.done(stored.is_ok());
        return stored.map_err(Into::into);
    }
    // A failed lookup must not lose the message: it is then a plain message.in.
    match crate::interactive::resolve(&state.db, &state.text_menus, id, &m).await {
        Ok(Some(answer)) => {
            let stored = crate::interactive::record_answer(state, handle, &m, &answer).await;
            ack.done(stored.is_ok());
            return stored;
        }
        Ok(None) => {}
        Err(e) => tracing::error!(session = %id, error = format!("{e:#}"), "resolving an answer"),
    }
    match crate::interactive::poll_vote(&state.db, id, &m).await {
        Ok(Some((poll_id, chosen))) => {
            let stored = record_vote(state, handle, &m, &poll_id, chosen).await;
            ack.done(stored.is_ok());
            return stored.map_err(Into::into);
        }
        Ok(None) => {}
        Err(e) => tracing::error!(session = %id, error = %e, "looking up a poll"),
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
            let record = as_record(&session, m);
            let source = record.source;
            let details = m.details.as_deref().cloned().unwrap_or_default();
            // The message and its event in one round trip; a redelivery writes neither.
            let new = if m.from_me {
                let data = MessageOutData {
                    session_id: session.clone(),
                    message_id: m.id.clone(),
                    to: m.chat.display().to_string(),
                    kind: m.kind.as_str().into(),
                    message: m.text.clone(),
                    source: Source::Device.as_str().into(),
                    timestamp: m.timestamp_ms,
                    media: m.media.as_ref().map(|f| f.info(&m.id)),
                    details,
                };
                write.record_and_emit(record, &data).await?
            } else {
                let author = m.author();
                let data = MessageInData {
                    session_id: session.clone(),
                    message_id: m.id.clone(),
                    from: author.from,
                    chat: author.chat,
                    push_name: m.push_name.clone(),
                    kind: m.kind.as_str().into(),
                    message: m.text.clone(),
                    timestamp: m.timestamp_ms,
                    quoted_message_id: m.quoted_id.clone(),
                    participant: author.participant,
                    media: m.media.as_ref().map(|f| f.info(&m.id)),
                    details,
                };
                write.record_and_emit(record, &data).await?
            };
            if !new {
                return Ok((false, source));
            }
            if let Some(reply) = &reply {
                reply.insert(write.conn()).await?;
            }
            Ok((true, source))
        })
    })
    .await
}

/// An inbound event as the message record keeps it: a contact's message, or one typed on the
/// linked phone (`from_me`: outgoing, source `device`). A change (reaction, edit, delete) is
/// recorded too, as a message of its kind, so the chat's log shows it and a redelivery (same
/// id) changes and emits nothing again.
fn as_record<'a>(session: &'a app::model::SessionId, m: &'a Inbound) -> NewMessage<'a> {
    let (direction, source, sender) = if m.from_me {
        (Direction::Out, Some(Source::Device), None)
    } else {
        (Direction::In, None, Some(m.sender.as_str()))
    };
    NewMessage {
        id: &m.id,
        session,
        direction,
        chat: &m.chat,
        sender,
        kind: m.kind.as_str(),
        body: &m.text,
        source,
        quoted_id: m.quoted_id.as_deref(),
        timestamp_ms: m.timestamp_ms,
        media: m.media.as_deref(),
        details: m.details.as_deref(),
        push_name: m.push_name.as_deref().filter(|_| !m.from_me),
    }
}

/// A reaction, edit or delete: recorded as a message of its kind, applied to the message it
/// changes (an edit or delete only by that message's author), and — when a contact made it —
/// reported as `message.reaction`, `message.edited` or `message.revoked`. Changes made on the
/// linked phone update the record and emit nothing.
async fn record_change(
    state: &AppState,
    handle: &SessionHandle,
    m: &Inbound,
    change: Change,
) -> Result<(), sqlx::Error> {
    let (m, session) = (m.clone(), handle.id.clone());
    crate::events::write(state, move |write| {
        Box::pin(async move {
            let new = messages::record(write.conn(), as_record(&session, &m)).await?;
            if !new {
                return Ok(());
            }
            let author = (!m.from_me).then_some(m.sender.as_str());
            match &change {
                Change::Edited { target, text } => {
                    messages::apply_edit(
                        write.conn(),
                        &session,
                        &m.chat,
                        author,
                        target,
                        text,
                        m.timestamp_ms,
                    )
                    .await?;
                }
                Change::Revoked { target } => {
                    messages::apply_revoke(
                        write.conn(),
                        &session,
                        &m.chat,
                        author,
                        target,
                        m.timestamp_ms,
                    )
                    .await?;
                }
                Change::Reaction { .. } => {}
            }
            if m.from_me {
                return Ok(());
            }
            let crate::engine::Author {
                from,
                chat,
                participant,
            } = m.author();
            let message_id = change.target().to_string();
            let timestamp = m.timestamp_ms;
            let session_id = session.clone();
            match change {
                Change::Reaction { emoji, .. } => {
                    write
                        .emit(&MessageReactionData {
                            session_id,
                            message_id,
                            from,
                            chat,
                            emoji,
                            timestamp,
                            participant,
                        })
                        .await
                }
                Change::Edited { text, .. } => {
                    write
                        .emit(&MessageEditedData {
                            session_id,
                            message_id,
                            from,
                            chat,
                            message: text,
                            timestamp,
                            participant,
                        })
                        .await
                }
                Change::Revoked { .. } => {
                    write
                        .emit(&MessageRevokedData {
                            session_id,
                            message_id,
                            from,
                            chat,
                            timestamp,
                            participant,
                        })
                        .await
                }
            }
        })
    })
    .await
}

/// A vote in a poll sent with `/send-poll`: recorded as a `poll` message naming the options
/// chosen, and reported as `poll.vote`.
async fn record_vote(
    state: &AppState,
    handle: &SessionHandle,
    m: &Inbound,
    poll_id: &str,
    options: Vec<String>,
) -> Result<(), sqlx::Error> {
    let (mut m, session, poll_id) = (m.clone(), handle.id.clone(), poll_id.to_string());
    m.text = options.join(", ");
    m.quoted_id = Some(poll_id.clone());
    crate::events::write(state, move |write| {
        Box::pin(async move {
            let author = m.author();
            let data = PollVoteData {
                session_id: session.clone(),
                message_id: poll_id,
                from: author.from,
                chat: author.chat,
                options,
                timestamp: m.timestamp_ms,
                participant: author.participant,
            };
            write
                .record_and_emit(as_record(&session, &m), &data)
                .await
                .map(|_| ())
        })
    })
    .await
}

/// A change in a group: `group.participants` or `group.update` (contract §12).
async fn record_group(
    state: &AppState,
    session: &app::model::SessionId,
    g: GroupEvent,
) -> Result<(), sqlx::Error> {
    let session_id = session.clone();
    crate::events::write(state, move |write| {
        Box::pin(async move {
            match g {
                GroupEvent::Participants {
                    group,
                    action,
                    participants,
                    by,
                    timestamp_ms,
                } => {
                    write
                        .emit(&GroupParticipantsData {
                            session_id,
                            group,
                            action: action.to_string(),
                            participants,
                            by,
                            timestamp: timestamp_ms,
                        })
                        .await
                }
                GroupEvent::Update {
                    group,
                    subject,
                    description,
                    by,
                    timestamp_ms,
                } => {
                    write
                        .emit(&GroupUpdateData {
                            session_id,
                            group,
                            subject,
                            description,
                            by,
                            timestamp: timestamp_ms,
                        })
                        .await
                }
            }
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

/// The connection of a session that does not run (its engine could not start, or its owner
/// stopped it): every call answers "not connected"; the reason is kept for the log.
pub struct Offline(pub String);

#[async_trait::async_trait]
impl Connection for Offline {
    async fn send(&self, _: Outgoing) -> Result<Sent, EngineError> {
        Err(EngineError::NotConnected)
    }

    async fn is_on_whatsapp(&self, _: &Chat) -> Result<bool, EngineError> {
        Err(EngineError::NotConnected)
    }

    async fn check_numbers(&self, _: &[String]) -> Result<Vec<bool>, EngineError> {
        Err(EngineError::NotConnected)
    }

    async fn act(&self, _: Action) -> Result<(), EngineError> {
        Err(EngineError::NotConnected)
    }

    async fn pair_with_code(&self, _: &str) -> Result<String, EngineError> {
        Err(EngineError::NotConnected)
    }

    /// Unlinking needs a link to WhatsApp, which an offline session does not have: the
    /// caller gets the contract's 409 (start it first), and the stored link stays as it was.
    async fn logout(&self) -> Result<(), EngineError> {
        tracing::info!(offline = %self.0, "logout refused: the session has no link to WhatsApp");
        Err(EngineError::NotConnected)
    }

    async fn stop(&self) {}

    async fn groups(&self) -> Result<Vec<GroupView>, EngineError> {
        Err(EngineError::NotConnected)
    }

    async fn group(&self, _: &str) -> Result<GroupView, EngineError> {
        Err(EngineError::NotConnected)
    }

    async fn create_group(&self, _: &str, _: &[String]) -> Result<GroupView, EngineError> {
        Err(EngineError::NotConnected)
    }

    async fn change_members(
        &self,
        _: &str,
        _: MemberAction,
        _: &[String],
    ) -> Result<Vec<ParticipantResult>, EngineError> {
        Err(EngineError::NotConnected)
    }

    async fn update_group(&self, _: &str, _: &GroupPatch) -> Result<(), EngineError> {
        Err(EngineError::NotConnected)
    }

    async fn invite_link(&self, _: &str) -> Result<String, EngineError> {
        Err(EngineError::NotConnected)
    }

    async fn join_group(&self, _: &str) -> Result<Joined, EngineError> {
        Err(EngineError::NotConnected)
    }

    async fn leave_group(&self, _: &str) -> Result<(), EngineError> {
        Err(EngineError::NotConnected)
    }
}
