//! The dashboard's pages. Each page talks to the server only through [`crate::api`].

mod account;
mod admin;
mod autoreply;
mod chats;
mod common;
mod messages;
mod send;
mod sessions;
mod webhooks;

pub use account::{LoginPage, RegisterPage};
pub use admin::{KeysPage, SettingsPage, UsersPage};
pub use autoreply::AutoReplyPage;
pub use chats::ChatsPage;
pub use common::{ErrorBox, NotFound, form_error};
pub use messages::MessagesPage;
pub use send::SendPage;
pub use sessions::{SessionPage, SessionsPage, StatusBadge};
pub use webhooks::WebhooksPage;
