//! The shared application state: one `Arc<App>` cloned into every handler.

use crate::{
    auth::limits::AuthLimits,
    auth::token::TokenKeys,
    autoreply::AutoReply,
    config::Config,
    db::Db,
    engine::simulator::Simulator,
    keys::KeyUsage,
    outbound::{ContactCache, SendLimits},
    sessions::Sessions,
    webhooks::Webhooks,
};
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use std::{ops::Deref, sync::Arc};
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
pub struct AppState(pub Arc<App>);

pub struct App {
    /// The one database pool.
    pub db: Db,
    /// The writer task: records and their webhook events, group-committed (`events::write`).
    pub writer: crate::events::Writer,
    /// The configuration the server started with (validated).
    pub config: Config,
    /// Signs and checks login tokens (JWT).
    pub tokens: TokenKeys,
    /// Per-account quotas: test events, pairing codes, open event streams.
    pub quotas: crate::quotas::Quotas,
    /// Encrypts and decrypts webhook secrets at rest.
    pub secrets: crate::secrets::Secrets,
    /// Brute-force protection for `POST /api/auth/login`, per username and per client address.
    pub login_limits: AuthLimits,
    /// Throttles the `last_used_at` writes of API keys to one per key per minute.
    pub key_usage: KeyUsage,
    /// API keys and sign-ins checked lately, emptied by every change to keys, sign-ins,
    /// accounts and sessions.
    pub key_cache: crate::keys::KeyCache,
    /// The running WhatsApp sessions and the engine they run on.
    pub sessions: Sessions,
    /// The simulator, when it is the engine (its control API plays the phone).
    pub simulator: Option<Simulator>,
    /// Per-session send rate limits.
    pub send_limits: SendLimits,
    /// Where media files are kept: the data dir, and the bucket when configured.
    pub media: crate::media_store::MediaStore,
    /// Numbers known to be on WhatsApp, per session.
    pub contacts: ContactCache,
    /// The webhook dispatcher's clients, schedule and wake-up signal.
    pub webhooks: Webhooks,
    /// Counters and histograms for `/metrics`.
    pub metrics: crate::metrics::Metrics,
    /// Wakes the `interaction.timeout` loop when a message with `expiresIn` is sent.
    pub interactive_wake: tokio::sync::Notify,
    /// Which sessions may have an open text-fallback menu (a typed text is matched without a
    /// read when none may).
    pub text_menus: crate::interactive::TextMenus,
    /// Auto-reply rules per user (cached) and their cooldowns.
    pub auto_reply: AutoReply,
    /// Where the dashboard's bundle is and what it is called.
    pub leptos: LeptosOptions,
    /// Cancelled when the server begins to shut down; background loops watch it.
    pub shutdown: CancellationToken,
}

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
