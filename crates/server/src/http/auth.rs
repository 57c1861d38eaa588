//! Who is calling: a merchant (HTTP Basic with its API key, seed 000) or a
//! payment page (an order-scoped client token).

use crate::AppState;
use crate::db::Merchant;
use crate::http::error::AppError;
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;
use sha2::{Digest, Sha256};

/// The merchant authenticated by HTTP Basic with its API key as user name
/// (seed 000: `curl -u your_api_key:`).
#[derive(Debug)]
pub struct Authed(pub Merchant);

impl FromRequestParts<AppState> for Authed {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Authed, AppError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| AppError::unauthorized("authenticate with HTTP Basic: your API key as the user name"))?;
        let encoded = header
            .strip_prefix("Basic ")
            .or_else(|| header.strip_prefix("basic "))
            .ok_or_else(|| AppError::unauthorized("authenticate with HTTP Basic: your API key as the user name"))?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| AppError::unauthorized("malformed Basic credentials"))?;
        let key = decoded.split(':').next().unwrap_or_default();
        if key.is_empty() {
            return Err(AppError::unauthorized("missing API key"));
        }
        // An address that failed too often is refused before its key is looked at.
        let address = crate::http::limits::client_address_of(parts, state.config.trust_forwarded_for);
        state.limits.auth_allowed(address)?;
        let hash = api_key_hash(key);
        let Some(merchant) = state.db.merchant_by_key_hash(&hash).await? else {
            state.limits.auth_failed(address);
            return Err(AppError::unauthorized("invalid API key"));
        };
        if let Some(mid) = parts.headers.get("x-merchantid").and_then(|v| v.to_str().ok())
            && mid != merchant.id
        {
            return Err(AppError::unauthorized("x-merchantid does not match the API key"));
        }
        // Which key, for the audit log: a prefix of its hash, never the key.
        parts.extensions.insert(crate::observe::KeyFingerprint(hash.chars().take(12).collect()));
        Ok(Authed(merchant))
    }
}

/// SHA-256 (hex) of an API key: what the database keeps instead of the key.
pub fn api_key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The order a client token grants, from `Authorization: Bearer` or the `client_auth_token` field.
pub(crate) fn token_order(state: &AppState, headers: &HeaderMap, field: Option<String>) -> Result<String, AppError> {
    let bearer = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::to_string);
    let token = bearer.or(field).ok_or_else(|| AppError::unauthorized("a client auth token is required"))?;
    state.tokens.check(&token, state.now()).ok_or_else(|| AppError::unauthorized("client auth token is invalid or expired"))
}
