//! Kabar's dashboard and the models it shares with the REST API.
//!
//! - [`model`]: every request, response and error shape a client can see; the server uses these,
//!   never a copy.
//! - [`backend`]: what the dashboard needs from the server, as a trait the server implements
//!   (dependency inversion: this crate never depends on `server`, sqlx or the WhatsApp engine).
//! - [`api`]: the server functions the pages call; each one re-checks auth in the backend.
//! - [`pages`], [`shell`]: the Leptos UI, server-rendered then hydrated by `frontend`.
//! - [`i18n`]: the UI's strings in English and Bahasa Indonesia.
#![forbid(unsafe_code)]
#![recursion_limit = "256"]

pub mod api;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod codec;
pub mod i18n;
pub mod model;
pub mod pages;
pub mod shell;

pub use shell::{App, shell};
