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

/// What a client token grants, from `Authorization: Bearer` or the `client_auth_token` field.
fn token_grant(state: &AppState, headers: &HeaderMap, field: Option<String>) -> Result<String, AppError> {
    let bearer = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::to_string);
    let token = bearer.or(field).ok_or_else(|| AppError::unauthorized("a client auth token is required"))?;
    state.tokens.check(&token, state.now()).ok_or_else(|| AppError::unauthorized("client auth token is invalid or expired"))
}

/// The order a client token grants (never a customer's token).
pub(crate) fn token_order(state: &AppState, headers: &HeaderMap, field: Option<String>) -> Result<String, AppError> {
    let grant = token_grant(state, headers, field)?;
    if grant.starts_with(CUSTOMER_GRANT) {
        return Err(AppError::unauthorized("this client auth token is for payment management, not an order"));
    }
    Ok(grant)
}

/// What a payment-management token's grant starts with (an order's is `ord_…`).
const CUSTOMER_GRANT: &str = "@";

/// A client token for customer `customer_id` of merchant `merchant_id`'s
/// payment management page (`action=paymentManagement`), valid until `expires_ms`.
pub(crate) fn customer_token(state: &AppState, merchant_id: &str, customer_id: &str, expires_ms: i64) -> String {
    state.tokens.issue(&format!("{CUSTOMER_GRANT}{merchant_id}/{customer_id}"), expires_ms)
}

/// The merchant and customer a payment-management token grants.
pub(crate) fn token_customer(state: &AppState, headers: &HeaderMap) -> Result<(String, String), AppError> {
    let grant = token_grant(state, headers, None)?;
    grant
        .strip_prefix(CUSTOMER_GRANT)
        .and_then(|g| g.split_once('/'))
        .map(|(m, c)| (m.to_string(), c.to_string()))
        .ok_or_else(|| AppError::unauthorized("this client auth token is not for payment management"))
}

/// [`token_customer`] of a token given as is (the management page's link).
pub(crate) fn check_customer_token(state: &AppState, token: &str) -> Option<(String, String)> {
    let grant = state.tokens.check(token, state.now())?;
    grant.strip_prefix(CUSTOMER_GRANT).and_then(|g| g.split_once('/')).map(|(m, c)| (m.to_string(), c.to_string()))
}
