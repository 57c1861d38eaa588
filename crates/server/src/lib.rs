//! The Kassa orders server: the Juspay Express Checkout dialect over HTTP,
//! the hosted payment page and the sandbox gateway.
//!
//! [`app`] builds the router; `kassa serve` (see `main.rs`) binds it.

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod api;
pub mod body;
pub mod customers;
pub mod db;
pub mod error;
pub mod gateway;
pub mod page;
pub mod secret;
pub mod token;
pub mod webhook;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use std::path::PathBuf;
use std::sync::Arc;

/// Largest request body accepted (bytes).
pub const MAX_BODY: usize = 64 * 1024;

/// Server settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// Public base URL that payment links start with (no trailing slash).
    pub public_url: String,
    /// Directory with the built widget (`pkg/`).
    pub assets_dir: PathBuf,
    /// Directory with host-side JavaScript and static files (`www/`).
    pub www_dir: PathBuf,
    /// How often the webhook worker looks for due events (ms).
    pub webhook_poll_ms: u64,
    /// First retry delay of a failed webhook; it doubles with each attempt (ms).
    pub webhook_retry_base_ms: u64,
}

/// Shared state of every request.
#[derive(Clone)]
pub struct AppState {
    /// Database.
    pub db: db::Db,
    /// Settings.
    pub config: Arc<Config>,
    /// Signs order-scoped client tokens.
    pub tokens: Arc<token::TokenKey>,
    /// The payment gateway.
    pub gateway: Arc<dyn gateway::Gateway>,
}

impl AppState {
    /// State over an open database; loads (or creates) the token key.
    pub async fn new(db: db::Db, config: Config) -> Result<AppState, db::DbError> {
        let key = db.server_key("client_token_key").await?;
        Ok(AppState {
            db,
            config: Arc::new(config),
            tokens: Arc::new(token::TokenKey::new(key)),
            gateway: Arc::new(gateway::Sandbox),
        })
    }
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(customers::routes())
        .merge(page::routes(&state.config))
        .fallback(error::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// `prefix` followed by 32 random hex digits.
pub fn random_id(prefix: &str) -> String {
    let bytes: [u8; 16] = rand::random();
    format!("{prefix}{}", hex::encode(bytes))
}
