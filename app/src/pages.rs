//! The dashboard's pages. Each page talks to the server only through [`crate::api`].

mod account;
mod admin;
mod common;
mod placeholder;
mod sessions;
mod webhooks;

pub use account::{LoginPage, RegisterPage};
pub use admin::{KeysPage, SettingsPage, UsersPage};
pub use common::{ErrorBox, NotFound};
pub use placeholder::AutoReplyPage;
pub use sessions::{SessionPage, SessionsPage, StatusBadge};
pub use webhooks::WebhooksPage;
