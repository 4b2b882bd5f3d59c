//! Typed webhook events and the one write path that commits them with the records they
//! describe.
//!
//! Every payload type names its event ([`Event::NAME`]) and its session, so
//! `write.emit(&data)` cannot pair a payload with the wrong name or session: a new event is one
//! type and one `impl`. [`Write`] is the only way records and events reach the database
//! together: begin (SQLite's write lock at once), record, emit, commit, wake the dispatcher —
//! the recipe that used to be written out in five places.

use crate::{state::AppState, webhooks};
use app::model::{
    ConnectionUpdateData, InteractionButtonData, InteractionListData, InteractionTimeoutData,
    MessageInData, MessageOutData, SessionId, event,
};
use serde::Serialize;

/// A webhook event's `data`.
pub trait Event: Serialize + Sync {
    /// The name receivers see in `event` and `X-Webhook-Event`.
    const NAME: &'static str;
    /// The session it happened in (`None`: server-wide, such as a global test event).
    fn session(&self) -> Option<&SessionId>;
}

macro_rules! session_events {
    ($($ty:ty => $name:expr),+ $(,)?) => {$(
        impl Event for $ty {
            const NAME: &'static str = $name;
            fn session(&self) -> Option<&SessionId> {
                Some(&self.session_id)
            }
        }
    )+};
}

session_events! {
    MessageInData => event::MESSAGE_IN,
    MessageOutData => event::MESSAGE_OUT,
    InteractionButtonData => event::INTERACTION_BUTTON,
    InteractionListData => event::INTERACTION_LIST,
    InteractionTimeoutData => event::INTERACTION_TIMEOUT,
    ConnectionUpdateData => event::CONNECTION_UPDATE,
}

/// One transaction of records and the events that go with them. Dropped without
/// [`commit`](Write::commit), nothing is written.
pub struct Write<'s> {
    state: &'s AppState,
    tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    deliveries: usize,
}

impl<'s> Write<'s> {
    /// Begins the write, holding the database's write lock from the first statement.
    pub async fn begin(state: &'s AppState) -> Result<Self, sqlx::Error> {
        Ok(Write {
            state,
            tx: crate::db::begin_write(&state.db).await?,
            deliveries: 0,
        })
    }

    /// The transaction's connection, for the records.
    pub fn conn(&mut self) -> &mut sqlx::SqliteConnection {
        &mut self.tx
    }

    /// Queues `data` for every endpoint that wants it (the global one and its session's).
    pub async fn emit<E: Event>(&mut self, data: &E) -> Result<(), sqlx::Error> {
        self.deliveries += webhooks::enqueue(&mut self.tx, data.session(), E::NAME, data).await?;
        Ok(())
    }

    /// Queues `data` for one endpoint only (a test event); answers the event's id.
    pub async fn emit_to<E: Event>(
        &mut self,
        endpoint_id: &str,
        data: &E,
    ) -> Result<String, sqlx::Error> {
        let session = data.session();
        let event_id = webhooks::insert_event(&mut self.tx, session, E::NAME, data).await?;
        webhooks::insert_delivery(
            &mut self.tx,
            &event_id,
            endpoint_id,
            session.map(SessionId::as_str),
        )
        .await?;
        self.deliveries += 1;
        Ok(event_id)
    }

    /// Commits, then wakes the dispatcher when deliveries were queued.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await?;
        if self.deliveries > 0 {
            self.state.webhooks.wake.notify_one();
        }
        Ok(())
    }
}
