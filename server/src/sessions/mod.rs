//! WhatsApp sessions: one task per session owns its engine connection (mini-redis' handler
//! pattern); [`Sessions`] is the registry of cheap, cloneable [`SessionHandle`]s.
//!
//! - [`task`]: the per-session loop turning engine events into state and records.
//! - [`store`]: the `sessions` table and the management API (`/api/sessions…`, SSE).
//! - [`resolve`]: which session a REST call acts on (contract §3).
//! - `crate::rest`: the original's `/status` and `/send-message` on top of these.

pub mod activity;
pub mod resolve;
pub mod store;
pub mod task;

use crate::{
    engine::{Connection, Engine},
    error::{ApiError, ApiResult},
    state::AppState,
};
use app::model::{ErrorCode, SessionId, SessionSnapshot, SessionStatus, UserId};
use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};
use tokio::sync::{broadcast, watch};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

/// A running session, as handlers see it.
#[derive(Clone)]
pub struct SessionHandle {
    pub id: SessionId,
    pub owner: UserId,
    pub conn: Arc<dyn Connection>,
    /// The latest snapshot; SSE streams follow it.
    pub state: watch::Receiver<SessionSnapshot>,
    /// The names of its number's groups, as last asked of WhatsApp.
    groups: Arc<GroupNames>,
    stop: CancellationToken,
}

/// A session taken out of the registry, whose engine side is still to be removed.
pub struct Removed {
    id: SessionId,
    handle: Option<SessionHandle>,
}

impl Removed {
    /// Stops its task and forgets its device store. The engine first: it marks the device
    /// store for deletion before anything stops. Slow with the real engine (it logs out, up
    /// to a few seconds), which is why it runs outside the lifecycle lock.
    pub async fn finish(self, engine: &dyn Engine) -> ApiResult<()> {
        let removed = engine
            .remove(&self.id)
            .await
            .map_err(|e| ApiError::Internal(e.into()));
        if let Some(h) = self.handle {
            h.stop.cancel();
            h.conn.stop().await;
        }
        removed
    }
}

/// A group chat's JID and its name (subject).
pub type GroupName = (String, String);

/// The names of the groups a session's number is in, for the Chats list: asked of WhatsApp at
/// most once a minute (each ask is a round trip to its servers, and the list refreshes every
/// few seconds), forgotten on any group event or group call that may change them.
#[derive(Default)]
struct GroupNames(std::sync::Mutex<Option<(std::time::Instant, Arc<Vec<GroupName>>)>>);

/// How long the names of a session's groups are kept before WhatsApp is asked again.
const GROUP_NAMES_FRESH: std::time::Duration = std::time::Duration::from_secs(60);

impl SessionHandle {
    /// The names of the session's groups: kept ones while fresh, else asked of WhatsApp (when
    /// that fails or the session is not linked, the last known ones, or none).
    pub async fn group_names(&self) -> Arc<Vec<GroupName>> {
        let kept = self.groups.0.lock().ok().and_then(|g| g.clone());
        if let Some((at, names)) = &kept
            && at.elapsed() < GROUP_NAMES_FRESH
        {
            return names.clone();
        }
        let stale = kept.map(|(_, names)| names).unwrap_or_default();
        if !self.is_connected() {
            return stale;
        }
        let names = match self.conn.groups().await {
            Ok(list) => Arc::new(list.into_iter().map(|g| (g.id, g.subject)).collect()),
            Err(e) => {
                tracing::debug!(session = %self.id, error = %e, "group names: keeping the last known");
                stale
            }
        };
        // A failed ask is not repeated for a minute either.
        if let Ok(mut g) = self.groups.0.lock() {
            *g = Some((std::time::Instant::now(), names.clone()));
        }
        names
    }

    /// A group was renamed, joined, left or made: the next list asks again.
    pub fn forget_group_names(&self) {
        if let Ok(mut g) = self.groups.0.lock() {
            *g = None;
        }
    }

    pub fn snapshot(&self) -> SessionSnapshot {
        self.state.borrow().clone()
    }

    pub fn is_connected(&self) -> bool {
        self.state.borrow().status == SessionStatus::Connected
    }
}

/// The registry of running sessions.
pub struct Sessions {
    pub engine: Arc<dyn Engine>,
    handles: RwLock<HashMap<SessionId, SessionHandle>>,
    tasks: TaskTracker,
    /// "Something about this session changed": its state, or (once committed) a message or a
    /// webhook outcome of it. `GET /api/sessions/events` follows it; nothing is stored.
    changes: broadcast::Sender<SessionId>,
    /// Creates, stops, starts and deletes, and an owner's pause, resume or removal, one at a
    /// time, so two of them racing cannot leave the stored rows saying one thing and the
    /// registry another (a start racing a delete would otherwise leave a session running that
    /// no row names). Held for the row and registry changes only; an engine's slow removal
    /// runs after ([`Removed::finish`]).
    lifecycle: tokio::sync::Mutex<()>,
}

/// How many changes a slow listener may fall behind before it is told "everything changed".
const CHANGES: usize = 1024;

impl Sessions {
    pub fn new(engine: Arc<dyn Engine>) -> Self {
        Sessions {
            engine,
            handles: Default::default(),
            tasks: TaskTracker::new(),
            changes: broadcast::channel(CHANGES).0,
            lifecycle: tokio::sync::Mutex::new(()),
        }
    }

    /// Held while a session is created, stopped, started or deleted, or an owner's sessions
    /// paused, resumed or removed (see `lifecycle`).
    pub async fn one_at_a_time(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.lifecycle.lock().await
    }

    /// Puts `handle` in place of what ran as `id` and then stops that, so a call that comes in
    /// between finds one or the other (a 409 while held), never no session (a 404). At most
    /// one of the two may hold the engine's link: a hold replaces a running session (stop),
    /// or a running session replaces a hold (start); never running over running, which would
    /// connect one number twice for a moment.
    async fn put(&self, id: &SessionId, handle: SessionHandle) {
        let old = self
            .handles
            .write()
            .ok()
            .and_then(|mut map| map.insert(id.clone(), handle));
        if let Some(old) = old {
            old.stop.cancel();
            old.conn.stop().await;
        }
    }

    /// Says that something about session `id` changed (see [`Sessions::follow_changes`]).
    pub fn changed(&self, id: &SessionId) {
        // No listener is not an error.
        let _ = self.changes.send(id.clone());
    }

    /// Every change from now on, by session id (the caller filters what it may see).
    pub fn follow_changes(&self) -> broadcast::Receiver<SessionId> {
        self.changes.subscribe()
    }

    /// Who owns running session `id`, if it runs.
    pub fn owner_of(&self, id: &SessionId) -> Option<UserId> {
        self.handles.read().ok()?.get(id).map(|h| h.owner.clone())
    }

    pub fn get(&self, id: &SessionId) -> Option<SessionHandle> {
        self.handles.read().ok()?.get(id).cloned()
    }

    /// Every running session's current status (for `/metrics`).
    pub fn snapshots(&self) -> Vec<app::model::SessionStatus> {
        self.handles
            .read()
            .map(|m| m.values().map(|h| h.state.borrow().status).collect())
            .unwrap_or_default()
    }

    /// The handle of `id`, or 404 `SESSION_NOT_FOUND`.
    pub fn require(&self, id: &SessionId) -> ApiResult<SessionHandle> {
        self.get(id).ok_or_else(not_found)
    }

    /// Starts the task of a session (at creation, or at server start for every stored one).
    pub async fn start(&self, state: &AppState, id: SessionId, owner: UserId) -> ApiResult<()> {
        let (events_tx, events_rx) = crate::engine::Events::channel();
        let (state_tx, state_rx) = watch::channel(store::initial_snapshot());
        let stop = state.shutdown.child_token();
        let conn = match self.engine.start(&id, events_tx).await {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(session = %id, error = %e, "engine could not start the session");
                state_tx.send_modify(|s| {
                    s.status = SessionStatus::Disconnected;
                    s.reason = Some(e.to_string());
                });
                Arc::new(task::Offline(e.to_string()))
            }
        };
        let handle = SessionHandle {
            id: id.clone(),
            owner,
            conn,
            state: state_rx,
            groups: Arc::default(),
            stop: stop.clone(),
        };
        self.put(&id, handle.clone()).await;
        // A new status, number or push name is a change of the session (a rotated QR code is
        // not: lists do not show it, and it turns every 20 s while a session waits); the
        // forwarder ends with the session's task, which holds the sender.
        let (mut states, changes, sid) = (handle.state.clone(), self.changes.clone(), id.clone());
        let _ = changes.send(sid.clone());
        tokio::spawn(async move {
            let shown =
                |s: &SessionSnapshot| (s.status, s.phone_number.clone(), s.push_name.clone());
            let mut last = shown(&states.borrow_and_update());
            while states.changed().await.is_ok() {
                let now = shown(&states.borrow_and_update());
                if now != last {
                    last = now;
                    let _ = changes.send(sid.clone());
                }
            }
        });
        self.tasks.spawn(task::session_loop(
            state.clone(),
            handle,
            events_rx,
            state_tx,
            stop,
        ));
        Ok(())
    }

    /// Registers a session that is not to run (its owner stopped it): nothing connects, every
    /// call on it answers "not connected", and its snapshot says `disconnected` with `reason`,
    /// with the number and name it had, until [`pause`](Self::pause) takes it away again or a
    /// [`start`](Self::start) replaces it. A running session it replaces is stopped after.
    pub async fn hold(&self, id: SessionId, owner: UserId, last: SessionSnapshot) {
        let (state_tx, state_rx) = watch::channel(last);
        let stop = CancellationToken::new();
        let handle = SessionHandle {
            id: id.clone(),
            owner,
            conn: Arc::new(task::Offline("stopped by its owner".into())),
            state: state_rx,
            groups: Arc::default(),
            stop: stop.clone(),
        };
        self.put(&id, handle).await;
        // Status streams follow the snapshot until the hold ends (a dropped sender would end
        // them at once, and browsers would reconnect in a loop).
        tokio::spawn(async move {
            stop.cancelled().await;
            drop(state_tx);
        });
        let _ = self.changes.send(id);
    }

    /// Takes session `id` out of the registry (it is being deleted): quick, so it is done under
    /// the lifecycle lock; [`Removed::finish`] does the slow part after it is released.
    pub fn take(&self, id: &SessionId) -> Removed {
        let handle = self.handles.write().ok().and_then(|mut m| m.remove(id));
        Removed {
            id: id.clone(),
            handle,
        }
    }

    /// [`take`](Self::take) for every session of `owner` that runs (its account is being
    /// deleted), whether or not it was among the ids read before.
    pub fn take_owned_by(&self, owner: &UserId) -> Vec<Removed> {
        let Ok(mut map) = self.handles.write() else {
            return Vec::new();
        };
        let ids: Vec<SessionId> = map
            .values()
            .filter(|h| &h.owner == owner)
            .map(|h| h.id.clone())
            .collect();
        ids.into_iter()
            .map(|id| {
                let handle = map.remove(&id);
                Removed { id, handle }
            })
            .collect()
    }

    /// Stops a session's task and connection, keeping its device store, so that a later
    /// [`start`](Self::start) reconnects without a scan (its owner was disabled).
    pub async fn pause(&self, id: &SessionId) {
        let handle = self.handles.write().ok().and_then(|mut m| m.remove(id));
        if let Some(h) = handle {
            h.stop.cancel();
            h.conn.stop().await;
        }
    }

    /// Stops every session (server shutdown), keeping device stores, and waits for the tasks.
    pub async fn stop_all(&self) {
        let handles: Vec<_> = self
            .handles
            .write()
            .map(|mut m| m.drain().map(|(_, h)| h).collect())
            .unwrap_or_default();
        for h in handles {
            h.stop.cancel();
            h.conn.stop().await;
        }
        self.tasks.close();
        self.tasks.wait().await;
    }

    /// Every running handle (for listing sessions' live state).
    pub fn all(&self) -> Vec<SessionHandle> {
        self.handles
            .read()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }
}

pub fn not_found() -> ApiError {
    ApiError::new(
        ErrorCode::SessionNotFound,
        "No such session. Create one with POST /api/sessions (or in the dashboard) and scan its QR code.",
    )
}
