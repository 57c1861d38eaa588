//! The Juspay Express Checkout endpoints (SPEC §3): orders and transactions.

use crate::body::Fields;
use crate::db::{Created, Merchant, Order, RefundOutcome, Txn};
use crate::domain::TxnDetails;
use crate::error::AppError;
use crate::gateway::MethodInput;
use crate::juspay::{PaymentLinks, StatusBody};
use crate::{AppState, now_ms, random_id};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use kassa_types::card;
use kassa_types::view::{Authentication, Collect, TxnPayment, TxnResponse, TxnStatus};
use kassa_types::{Amount, Currency, OrderStatus, PaymentMethod, PaymentOptions, validate_order_id};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// The API routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orders", post(create_order))
        .route("/orders/{order_id}", get(order_status).post(update_order))
        .route("/orders/{order_id}/refunds", post(create_refund))
        .route("/session", post(create_session))
        .route("/sdk/process", post(sdk_process))
        .route("/txns", post(create_txn))
        .route("/txns/{txn_id}", get(txn_status))
        .route("/txns/{txn_id}/cancel", post(cancel_txn))
        .route("/health", get(|| async { "ok" }))
        .route(
            "/openapi.json",
            get(|State(state): State<AppState>| async move { Json(crate::openapi::document(&state.config.public_url)) }),
        )
}

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
        let merchant = state.db.merchant_by_key_hash(&api_key_hash(key)).await?.ok_or_else(|| AppError::unauthorized("invalid API key"))?;
        if let Some(mid) = parts.headers.get("x-merchantid").and_then(|v| v.to_str().ok())
            && mid != merchant.id
        {
            return Err(AppError::unauthorized("x-merchantid does not match the API key"));
        }
        Ok(Authed(merchant))
    }
}

/// SHA-256 (hex) of an API key: what the database keeps instead of the key.
pub fn api_key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

const MAX_FIELD: usize = 255;
pub(crate) const PLAIN_FIELDS: &[&str] = &["customer_id", "customer_email", "customer_phone", "description", "product_id"];
pub(crate) const ADDRESS_PARTS: &[&str] =
    &["first_name", "last_name", "line1", "line2", "line3", "city", "state", "country", "postal_code", "phone", "country_code_iso"];

fn bounded(name: &str, v: String) -> Result<String, AppError> {
    if v.chars().count() > MAX_FIELD {
        return Err(AppError::bad_request("invalid_parameter", format!("{name} is longer than {MAX_FIELD} characters")));
    }
    if v.chars().any(char::is_control) {
        return Err(AppError::bad_request("invalid_parameter", format!("{name} contains control characters")));
    }
    Ok(v)
}

fn http_url(name: &str, v: String) -> Result<String, AppError> {
    let v = bounded(name, v)?;
    match url::Url::parse(&v) {
        Ok(u) if (u.scheme() == "https" || u.scheme() == "http") && u.host().is_some() => Ok(v),
        _ => Err(AppError::bad_request("invalid_parameter", format!("{name} must be an absolute http(s) URL"))),
    }
}

fn payment_links(state: &AppState, order: &Order) -> PaymentLinks {
    PaymentLinks::new(&state.config.public_url, &order.id, order.expires_at)
}

pub use crate::juspay::rfc3339;

/// Orders and links expire after at most 24 hours (seed 000).
pub const MAX_EXPIRY_MINS: i64 = 24 * 60;

/// `udf1`..`udf10` and the billing/shipping address fields, as stored in `extra`.
fn take_udfs_and_addresses(f: &mut Fields) -> Result<Map<String, Value>, AppError> {
    let mut extra = Map::new();
    for i in 1..=10 {
        let name = format!("udf{i}");
        if let Some(v) = f.take(&name) {
            extra.insert(name.clone(), Value::String(bounded(&name, v)?));
        }
    }
    for kind in ["billing_address", "shipping_address"] {
        for part in ADDRESS_PARTS {
            let name = format!("{kind}_{part}");
            if let Some(v) = f.take(&name) {
                extra.insert(name.clone(), Value::String(bounded(&name, v)?));
            }
        }
    }
    Ok(extra)
}

async fn create_order(State(state): State<AppState>, Authed(merchant): Authed, mut f: Fields) -> Result<Json<Value>, AppError> {
    let get_token = match f.take("options.get_client_auth_token").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(AppError::bad_request("invalid_parameter", "options.get_client_auth_token must be true or false")),
    };
    let order = create_or_load(&state, &merchant, f, Map::new(), false).await?;
    // Juspay answers a new order as CREATED (1); later statuses as themselves.
    let (status, status_id) = if order.status == OrderStatus::NEW { ("CREATED", 1) } else { (order.status.as_str(), order.status.id()) };
    let mut out = json!({
        "status": status,
        "status_id": status_id,
        "id": order.id,
        "order_id": order.order_id,
        "payment_links": payment_links(&state, &order),
    });
    if get_token {
        let exp = client_token_expiry(&order, now_ms());
        out["juspay"] = json!({
            "client_auth_token": state.tokens.issue(&order.id, exp),
            "client_auth_token_expiry": rfc3339(exp),
        });
    }
    Ok(Json(out))
}

/// Creates the order the fields describe, or loads the identical one that
/// exists (a different one with the same `order_id` is a 409). `more` is
/// stored in `extra` beside the udfs, addresses and metadata.
///
/// `payment_options` (`card|nb|wallet|upi`) and `filter` (from Juspay's
/// `payment_filter`) restrict the methods of the order; `POST /txns`
/// enforces them.
async fn create_or_load(
    state: &AppState,
    merchant: &Merchant,
    mut f: Fields,
    more: Map<String, Value>,
    with_filter: bool,
) -> Result<Order, AppError> {
    let fingerprint = f.fingerprint();
    let order_id = f.require("order_id")?;
    validate_order_id(&order_id).map_err(|e| AppError::bad_request("invalid_order_id", e.to_string()))?;
    let amount = f.require_amount("amount")?;
    let currency = match f.take("currency") {
        None => Currency::INR,
        Some(c) => Currency::parse(&c).ok_or_else(|| AppError::bad_request("invalid_currency", "unsupported currency"))?,
    };
    let mut plain: Vec<Option<String>> = Vec::new();
    for name in PLAIN_FIELDS {
        plain.push(f.take(name).map(|v| bounded(name, v)).transpose()?);
    }
    if let Some(Some(email)) = plain.get(1)
        && !email.contains('@')
    {
        return Err(AppError::bad_request("invalid_parameter", "customer_email is not an email address"));
    }
    let return_url = f.take("return_url").map(|v| http_url("return_url", v)).transpose()?;
    let mut extra = take_udfs_and_addresses(&mut f)?;
    extra.extend(more);
    // Integrations send `metadata.expiryInMins` (Juspay's docs) or `metadata.expiry_in_mins`.
    let mut expiry_mins = None;
    for name in ["metadata.expiryInMins", "metadata.expiry_in_mins"] {
        if let Some(v) = f.take(name) {
            let mins = v
                .parse::<i64>()
                .ok()
                .filter(|m| (1..=MAX_EXPIRY_MINS).contains(m))
                .ok_or_else(|| AppError::bad_request("invalid_parameter", format!("{name} must be 1 to 1440")))?;
            if expiry_mins.is_some_and(|m| m != mins) {
                return Err(AppError::bad_request("invalid_parameter", "metadata.expiryInMins and metadata.expiry_in_mins disagree"));
            }
            expiry_mins = Some(mins);
        }
    }
    let mut allowed = match with_filter {
        true => f.take("payment_filter").map(|v| payment_filter(&v)).transpose()?,
        false => None,
    };
    if let Some(v) = f.take("payment_options") {
        let options = PaymentOptions::parse(&v);
        if let Some(unknown) = options.unknown.first() {
            return Err(AppError::bad_request(
                "invalid_parameter",
                format!(
                    "payment_options names an unknown method {:?} (use card, nb, wallet, upi joined with |)",
                    unknown.chars().take(20).collect::<String>()
                ),
            ));
        }
        allowed = Some(match allowed {
            Some(a) => a.into_iter().filter(|m| options.methods.contains(m)).collect(),
            None => options.methods,
        });
    }
    if allowed.as_ref().is_some_and(|a| !a.iter().any(|m| merchant.enabled_methods.contains(m))) {
        return Err(AppError::bad_request(
            "invalid_parameter",
            "payment_options and payment_filter leave no payment method this merchant offers: the order could not be paid",
        ));
    }
    if let Some(gateway) = f.take("gateway_id")
        && gateway != crate::juspay::SANDBOX_GATEWAY_ID.to_string()
    {
        return Err(AppError::bad_request("gateway_not_configured", "gateway_id names a gateway this merchant has no account for"));
    }
    let mut metadata = Map::new();
    for (k, v) in f.take_prefixed("metadata.") {
        let v = if k == "metadata.webhook_url" { http_url(&k, v)? } else { bounded(&k, v)? };
        metadata.insert(k["metadata.".len()..].to_string(), Value::String(v));
    }
    if !metadata.is_empty() {
        extra.insert("metadata".into(), Value::Object(metadata));
    }
    f.finish()?;

    let now = now_ms();
    let [customer_id, customer_email, customer_phone, description, product_id]: [Option<String>; 5] =
        plain.try_into().map_err(|_| AppError::internal(&"field count"))?;
    let order = Order {
        id: random_id("ord_"),
        merchant_id: merchant.id.clone(),
        order_id,
        amount_minor: i64::try_from(amount.minor()).map_err(|e| AppError::internal(&e))?,
        currency: currency.code().into(),
        status: OrderStatus::NEW,
        customer_id,
        customer_email,
        customer_phone,
        description,
        product_id,
        return_url,
        extra: Value::Object(extra).to_string(),
        fingerprint,
        created_at: now,
        updated_at: now,
        expires_at: now.saturating_add(expiry_mins.map_or(merchant.order_ttl_secs, |m| m * 60).saturating_mul(1000)),
        amount_refunded_minor: 0,
        allowed_methods: allowed,
    };
    match state.db.create_order(&order).await {
        Ok(Created::New(o) | Created::Existing(o)) => Ok(o),
        Err(crate::db::DbError::Conflict) => {
            Err(AppError::conflict("duplicate_order_id", "an order with this order_id exists with different parameters"))
        }
        Err(e) => Err(e.into()),
    }
}

/// How old a Process SDK `orderDetails` timestamp may be.
pub const ORDER_DETAILS_MAX_AGE_MS: i64 = 15 * 60 * 1000;
/// How far in the future a timestamp may be (clock skew).
const ORDER_DETAILS_MAX_SKEW_MS: i64 = 60 * 1000;

/// The order a signed Process SDK payload describes (seed 001): the RSA
/// signature over `orderDetails` is checked against the merchant's key named
/// by `merchantKeyId`, the timestamp must be fresh and any top-level `amount`
/// must match; then the order is created or loaded.
pub async fn order_from_sdk_payload(state: &AppState, mut f: Fields) -> Result<(Merchant, Order), AppError> {
    let bad = |code: &'static str, m: &str| AppError::bad_request(code, m.to_string());
    let merchant_id = f.require("merchantId")?;
    let key_id = f.require("merchantKeyId")?;
    let details_json = f.require("orderDetails")?;
    let signature = f.require("signature")?;
    let amount = f.take("amount");
    for ignored in ["requestId", "service", "action", "clientId", "orderId", "customerId", "customerEmail", "customerMobile", "language"] {
        f.take(ignored);
    }
    f.finish()?;
    let invalid = || AppError::unauthorized("the orderDetails signature is not valid for this merchant key");
    let merchant = state.db.merchant(&merchant_id).await?.ok_or_else(invalid)?;
    let pem = state.db.merchant_key(&merchant.id, &key_id).await?.ok_or_else(invalid)?;
    let key = kassa_sign::order_details::RsaPublicKey::from_pem(&pem).map_err(|e| AppError::internal(&e))?;
    kassa_sign::order_details::verify(&key, &details_json, &signature).map_err(|_| invalid())?;
    let (details, ts) =
        kassa_sign::order_details::OrderDetails::from_json(&details_json).map_err(|e| bad("invalid_order_details", &e.to_string()))?;
    if details.merchant_id != merchant.id {
        return Err(bad("invalid_order_details", "orderDetails.merchant_id is not this merchant"));
    }
    let now = now_ms();
    let ts = i64::try_from(ts).unwrap_or(i64::MAX);
    if now.saturating_sub(ts) > ORDER_DETAILS_MAX_AGE_MS || ts.saturating_sub(now) > ORDER_DETAILS_MAX_SKEW_MS {
        return Err(bad("stale_order_details", "orderDetails.timestamp is too old or in the future; sign a fresh one"));
    }
    if let Some(a) = amount {
        let given = Amount::parse(&a).map_err(|e| bad("invalid_amount", &e.to_string()))?;
        if Amount::parse(&details.amount).ok() != Some(given) {
            return Err(bad("amount_mismatch", "amount does not match orderDetails.amount"));
        }
    }
    let mut pairs = vec![("order_id".to_string(), details.order_id), ("amount".into(), details.amount)];
    if !details.customer_id.is_empty() {
        pairs.push(("customer_id".into(), details.customer_id));
    }
    for (name, v) in [
        ("currency", details.currency),
        ("customer_email", details.customer_email),
        ("customer_phone", details.customer_phone),
        ("return_url", details.return_url),
        ("description", details.description),
    ] {
        if let Some(v) = v {
            pairs.push((name.into(), v));
        }
    }
    let order = create_or_load(state, &merchant, Fields::from_pairs(pairs), Map::new(), false).await?;
    Ok((merchant, order))
}

/// `POST /sdk/process`: what the checkout component calls with the Process
/// SDK payload. No API key: the merchant's RSA signature is the credential.
///
/// The script-tag loader calls it from the merchant's page: a form-encoded
/// POST (a simple request, no preflight), answered with
/// `Access-Control-Allow-Origin` only for the merchant's allowed origins.
async fn sdk_process(State(state): State<AppState>, headers: HeaderMap, f: Fields) -> Result<Response, AppError> {
    let origin = headers.get(axum::http::header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (merchant, order) = order_from_sdk_payload(&state, f).await?;
    let exp = client_token_expiry(&order, now_ms());
    let mut resp = Json(json!({
        "id": order.id,
        "order_id": order.order_id,
        "status": order.status.as_str(),
        "payment_links": payment_links(&state, &order),
        "clientAuthToken": state.tokens.issue(&order.id, exp),
        "clientAuthTokenExpiry": rfc3339(exp),
    }))
    .into_response();
    resp.headers_mut().insert(axum::http::header::VARY, axum::http::HeaderValue::from_static("Origin"));
    if let Some(origin) = origin.filter(|o| merchant.allowed_origins.contains(o))
        && let Ok(v) = axum::http::HeaderValue::from_str(&origin)
    {
        resp.headers_mut().insert(axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    Ok(resp)
}

/// `POST /session` (seed 001): creates the order if new and answers with its
/// payment links and the Process SDK payload, whose `clientAuthToken` is the
/// only credential the payment page ever holds.
async fn create_session(State(state): State<AppState>, Authed(merchant): Authed, mut f: Fields) -> Result<Json<Value>, AppError> {
    if let Some(client_id) = f.take("payment_page_client_id")
        && client_id != merchant.client_id
    {
        return Err(AppError::bad_request("invalid_parameter", "payment_page_client_id is not this merchant's client id"));
    }
    match f.take("action").as_deref() {
        None | Some("paymentPage") => {}
        Some(_) => return Err(AppError::bad_request("invalid_parameter", "action must be paymentPage")),
    }
    let mut more = Map::new();
    for name in ["first_name", "last_name"] {
        if let Some(v) = f.take(name) {
            more.insert(name.into(), Value::String(bounded(name, v)?));
        }
    }
    if let Some(lang) = f.take("language") {
        if !kassa_types::LANGUAGES.contains(&lang.as_str()) {
            return Err(AppError::bad_request(
                "invalid_parameter",
                "language must be one of english, hindi, telugu, tamil, bengali, malayalam, gujarati, kannada, marathi",
            ));
        }
        more.insert("language".into(), Value::String(lang));
    }
    let order = create_or_load(&state, &merchant, f, more, true).await?;
    let now = now_ms();
    let exp = client_token_expiry(&order, now);
    let extra: Map<String, Value> = serde_json::from_str(&order.extra).unwrap_or_default();
    let amount = u64::try_from(order.amount_minor).ok().and_then(Amount::from_minor).map(Amount::to_decimal_string);
    let mut payload = json!({
        "action": "paymentPage",
        "merchantId": merchant.id,
        "clientId": merchant.client_id,
        "orderId": order.order_id,
        "amount": amount,
        "currency": order.currency,
        "customerId": order.customer_id.clone().unwrap_or_default(),
        "customerEmail": order.customer_email,
        "customerMobile": order.customer_phone,
        "returnUrl": order.return_url,
        "clientAuthToken": state.tokens.issue(&order.id, exp),
        "clientAuthTokenExpiry": rfc3339(exp),
        "environment": "sandbox",
        // Where the loader opens the payment page (docs/bridge.md).
        "paymentLinks": payment_links(&state, &order),
    });
    for (key, field) in [("firstName", "first_name"), ("lastName", "last_name"), ("language", "language")] {
        if let Some(v) = extra.get(field) {
            payload[key] = v.clone();
        }
    }
    Ok(Json(json!({
        "status": order.status.as_str(),
        "id": order.id,
        "order_id": order.order_id,
        "payment_links": payment_links(&state, &order),
        "sdk_payload": {
            "requestId": crate::random_id(""),
            "service": "in.juspay.hyperpay",
            "payload": payload,
        },
    })))
}

/// Juspay's `payment_filter` (payment locking): which method families the
/// page may offer. `allowDefaultOptions` false offers only the enabled
/// ones; true (the default) offers everything but the disabled ones.
/// Families Kassa does not offer (`CONSUMER_FINANCE`, `CASH`, …) are ignored.
fn payment_filter(json: &str) -> Result<Vec<PaymentMethod>, AppError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Filter {
        allow_default_options: Option<bool>,
        #[serde(default)]
        options: Vec<FilterOption>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct FilterOption {
        payment_method_type: String,
        enable: bool,
    }
    let filter: Filter = serde_json::from_str(json).map_err(|e| {
        AppError::bad_request(
            "invalid_parameter",
            format!("payment_filter is not a valid filter: {}", e.to_string().chars().take(120).collect::<String>()),
        )
    })?;
    let mut decided: Vec<(PaymentMethod, bool)> = Vec::new();
    for o in &filter.options {
        // Juspay: of two blocks for one type, the first counts.
        if let Some(m) = PaymentMethod::from_txn_type(&o.payment_method_type)
            && !decided.iter().any(|(d, _)| *d == m)
        {
            decided.push((m, o.enable));
        }
    }
    let default = filter.allow_default_options.unwrap_or(true);
    Ok(PaymentMethod::ALL.into_iter().filter(|m| decided.iter().find(|(d, _)| d == m).map_or(default, |(_, enabled)| *enabled)).collect())
}

/// Client tokens live 15 minutes, never past the order's expiry.
pub fn client_token_expiry(order: &Order, now: i64) -> i64 {
    order.expires_at.min(now.saturating_add(15 * 60 * 1000))
}

/// The order status body (seeds 000 and 003) as it is now.
pub async fn status_body(state: &AppState, order: &Order) -> Result<StatusBody, AppError> {
    let snapshot = state.db.snapshot(&order.id).await?.ok_or_else(AppError::order_not_found)?;
    Ok(crate::juspay::status_body(&snapshot, &state.config.public_url))
}

async fn order_status(
    State(state): State<AppState>,
    Authed(merchant): Authed,
    Path(order_id): Path<String>,
) -> Result<Json<StatusBody>, AppError> {
    let order = merchant_order(&state, &merchant, &order_id).await?;
    Ok(Json(status_body(&state, &order).await?))
}

/// The merchant's order named in the path; 404 for an unknown id, a malformed
/// one, or another merchant's order alike.
pub(crate) async fn merchant_order(state: &AppState, merchant: &Merchant, order_id: &str) -> Result<Order, AppError> {
    if validate_order_id(order_id).is_err() {
        return Err(AppError::order_not_found());
    }
    state.db.order_by_merchant(&merchant.id, order_id).await?.ok_or_else(AppError::order_not_found)
}

/// `POST /orders/:order_id` (seed 003, Update Order): `amount`, udfs and
/// addresses, only while no payment has succeeded and none is in progress.
/// Juspay's clients may repeat `order_id` in the body (v3.2 lists it as
/// required): it must name the order of the path.
async fn update_order(
    State(state): State<AppState>,
    Authed(merchant): Authed,
    Path(order_id): Path<String>,
    mut f: Fields,
) -> Result<Json<StatusBody>, AppError> {
    same_order(&mut f, &order_id)?;
    let amount = f.amount("amount")?;
    let changes = take_udfs_and_addresses(&mut f)?;
    f.finish()?;
    let order = merchant_order(&state, &merchant, &order_id).await?;
    let mut extra = order.extra_map();
    extra.extend(changes);
    let amount_minor = match amount {
        Some(a) => i64::try_from(a.minor()).map_err(|e| AppError::internal(&e))?,
        None => order.amount_minor,
    };
    let updated = state.db.update_order(&order, amount_minor, &Value::Object(extra).to_string(), now_ms()).await?;
    if !updated {
        return Err(AppError::conflict("order_not_updatable", "the order has a payment in progress or completed, or changed meanwhile"));
    }
    let order = state.db.order(&order.id).await?.ok_or_else(AppError::order_not_found)?;
    Ok(Json(status_body(&state, &order).await?))
}

/// An `order_id` repeated in the body must be the path's (case-insensitively, as order ids are).
fn same_order(f: &mut Fields, path_order_id: &str) -> Result<(), AppError> {
    match f.take("order_id") {
        Some(given) if !given.eq_ignore_ascii_case(path_order_id) => {
            Err(AppError::bad_request("invalid_parameter", "order_id in the body does not match the order of the path"))
        }
        _ => Ok(()),
    }
}

/// `refund_type` values Juspay documents; the sandbox refunds each at once.
const REFUND_TYPES: [&str; 4] = ["STANDARD", "INSTANT", "INSTANT_WITH_FALLBACK", "GATEWAY"];

/// `POST /orders/:order_id/refunds` (seed 003): `unique_request_id` and
/// `amount`; only for CHARGED orders, partial and multiple, never above what
/// was charged. A repeat of a `unique_request_id` returns the first answer.
/// `order_id` (the official Node SDK repeats it) must name the path's order;
/// `refund_type` is one of Juspay's values.
async fn create_refund(
    State(state): State<AppState>,
    Authed(merchant): Authed,
    Path(order_id): Path<String>,
    mut f: Fields,
) -> Result<Response, AppError> {
    same_order(&mut f, &order_id)?;
    if let Some(t) = f.take("refund_type")
        && !REFUND_TYPES.contains(&t.as_str())
    {
        return Err(AppError::bad_request("invalid_parameter", "refund_type must be STANDARD, INSTANT, INSTANT_WITH_FALLBACK or GATEWAY"));
    }
    let request_id = f.require("unique_request_id")?;
    if request_id.len() > 64 || !request_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(AppError::bad_request("invalid_parameter", "unique_request_id must be 1-64 letters, digits, '_' or '-'"));
    }
    let amount = f.require_amount("amount")?;
    f.finish()?;
    let order = merchant_order(&state, &merchant, &order_id).await?;
    let minor = i64::try_from(amount.minor()).map_err(|e| AppError::internal(&e))?;
    let refund = match state.db.refund(&order.id, &request_id, minor, now_ms()).await? {
        RefundOutcome::Created(r) => r,
        RefundOutcome::Repeat(_, Some(stored)) => {
            return Ok(([(axum::http::header::CONTENT_TYPE, "application/json")], stored).into_response());
        }
        RefundOutcome::Repeat(r, None) => r,
        RefundOutcome::Conflict => {
            return Err(AppError::conflict("duplicate_request_id", "unique_request_id was already used with another amount"));
        }
        RefundOutcome::NotCharged => {
            return Err(AppError::bad_request("refund_not_allowed", "only a CHARGED order can be refunded"));
        }
        RefundOutcome::TooMuch => {
            return Err(AppError::bad_request("invalid_refund_amount", "the refund is more than what is left to refund"));
        }
    };
    let order = state.db.order(&order.id).await?.ok_or_else(AppError::order_not_found)?;
    let text = serde_json::to_string(&status_body(&state, &order).await?).map_err(|e| AppError::internal(&e))?;
    state.db.store_refund_response(&refund.id, &text).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "application/json")], text).into_response())
}

/// The order a client token grants, from `Authorization: Bearer` or the `client_auth_token` field.
fn token_order(state: &AppState, headers: &HeaderMap, field: Option<String>) -> Result<String, AppError> {
    let bearer = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::to_string);
    let token = bearer.or(field).ok_or_else(|| AppError::unauthorized("a client auth token is required"))?;
    state.tokens.check(&token, now_ms()).ok_or_else(|| AppError::unauthorized("client auth token is invalid or expired"))
}

/// A card as `POST /txns` sent it, checked: what the gateway and the status body need.
struct CardInput {
    number: String,
    brand: Option<card::CardBrand>,
    month: u8,
    year: u16,
    name: String,
}

fn card_input(f: &mut Fields) -> Result<CardInput, AppError> {
    let number = card::digits(&f.require("card_number")?)
        .filter(|d| card::number_valid(d))
        .ok_or_else(|| AppError::bad_request("invalid_card_number", "card number is not valid"))?;
    let brand = card::detect_brand(&number);
    let month: u8 = f
        .require("card_exp_month")?
        .parse()
        .ok()
        .filter(|m| (1..=12).contains(m))
        .ok_or_else(|| AppError::bad_request("invalid_card_expiry", "card_exp_month must be 01 to 12"))?;
    let year_s = f.require("card_exp_year")?;
    let year: u16 = match year_s.len() {
        2 => year_s.parse::<u16>().ok().map(|y| 2000 + y),
        4 => year_s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| AppError::bad_request("invalid_card_expiry", "card_exp_year must be YY or YYYY"))?;
    let today = time::OffsetDateTime::now_utc();
    let now_year = u16::try_from(today.year()).unwrap_or(u16::MAX);
    if !card::expiry_not_past(month, year, u8::from(today.month()), now_year) {
        return Err(AppError::bad_request("invalid_card_expiry", "the card has expired"));
    }
    let cvv = f.require("card_security_code")?;
    if !card::cvv_valid(&cvv, brand) {
        return Err(AppError::bad_request("invalid_card_security_code", "card security code is not valid for this card"));
    }
    let name = bounded("name_on_card", f.take("name_on_card").unwrap_or_default())?;
    if name.chars().count() > 64 {
        return Err(AppError::bad_request("invalid_parameter", "name_on_card is too long"));
    }
    Ok(CardInput { number, brand, month, year, name })
}

/// `POST /txns` answer: the page's contract ([`TxnResponse`]) and Juspay's `txn_uuid`.
#[derive(serde::Serialize)]
struct TxnAnswer {
    #[serde(flatten)]
    view: TxnResponse,
    txn_uuid: String,
}

/// `POST /txns` with the order's client token: starts a payment attempt.
/// The method must be one the merchant allowed for this order (server to
/// server); the page's `payment_options` can only narrow that further.
async fn create_txn(State(state): State<AppState>, headers: HeaderMap, mut f: Fields) -> Result<Json<TxnAnswer>, AppError> {
    let order_pk = token_order(&state, &headers, f.take("client_auth_token"))?;
    let order_ref = f.require("order_id")?;
    let order = state.db.order(&order_pk).await?.ok_or_else(AppError::order_not_found)?;
    if order_ref != order.id && !order_ref.eq_ignore_ascii_case(&order.order_id) {
        return Err(AppError::unauthorized("the client auth token is for another order"));
    }
    if let Some(mid) = f.take("merchant_id")
        && mid != order.merchant_id
    {
        return Err(AppError::bad_request("invalid_parameter", "merchant_id does not match the order"));
    }
    let merchant = state.db.merchant(&order.merchant_id).await?.ok_or_else(AppError::order_not_found)?;
    let method_type = f.require("payment_method_type")?;
    let method = PaymentMethod::from_txn_type(&method_type)
        .ok_or_else(|| AppError::bad_request("invalid_payment_method", "payment_method_type must be CARD, NB, WALLET or UPI"))?;
    let shown = PaymentOptions::parse(&f.take("payment_options").unwrap_or_default());
    if !shown.filter(&order.methods(&merchant.enabled_methods)).contains(&method) {
        return Err(AppError::bad_request("payment_method_not_allowed", "this payment method is not available for this order"));
    }
    let in_frame = match f.take("in_frame").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(AppError::bad_request("invalid_parameter", "in_frame must be true or false")),
    };
    for ignored in ["format", "redirect_after_payment", "save_to_locker"] {
        f.take(ignored);
    }
    let now = now_ms();
    if order.expires_at <= now {
        return Err(AppError::bad_request("order_expired", "this order has expired"));
    }

    let payment_method = f.take("payment_method");
    let mut details = TxnDetails::default();
    let (started, detail, last4): (crate::gateway::Started, _, _) = match method {
        PaymentMethod::Card => {
            let c = card_input(&mut f)?;
            let started = state
                .gateway
                .start(&MethodInput::Card { number: &c.number, brand: c.brand })
                .map_err(|d| AppError::bad_request("card_declined", d.0))?;
            details.card_isin = Some(c.number[..6].to_string());
            details.expiry_month = Some(format!("{:02}", c.month));
            details.expiry_year = Some(c.year.to_string());
            details.name_on_card = Some(c.name).filter(|n| !n.is_empty());
            details.card_fingerprint = Some(state.tokens.fingerprint(&c.number));
            (started, c.brand.map(|b| b.code().to_string()), Some(c.number[c.number.len() - 4..].to_string()))
        }
        PaymentMethod::Nb | PaymentMethod::Wallet | PaymentMethod::Upi => {
            let code = match method {
                PaymentMethod::Upi => {
                    let vpa = f.require("upi_vpa")?;
                    if !crate::gateway::vpa_valid(&vpa) {
                        return Err(AppError::bad_request("invalid_vpa", "upi_vpa must be a UPI id such as name@bank"));
                    }
                    vpa
                }
                PaymentMethod::Nb | PaymentMethod::Wallet | PaymentMethod::Card => {
                    payment_method.clone().ok_or_else(|| AppError::bad_request("missing_parameter", "payment_method is required"))?
                }
            };
            let input = match method {
                PaymentMethod::Nb => MethodInput::Netbanking(&code),
                PaymentMethod::Wallet => MethodInput::Wallet(&code),
                PaymentMethod::Upi | PaymentMethod::Card => MethodInput::Upi(&code),
            };
            let started = state.gateway.start(&input).map_err(|d| AppError::bad_request("payment_declined", d.0))?;
            (started, Some(code), None)
        }
    };
    f.finish()?;
    details.gateway_txn_id = Some(started.gateway_txn_id.clone());
    // A collect settles after the sandbox's delay; an attempt waiting on its
    // bank page that nobody answers fails when the order expires, so an
    // abandoned page does not hold the order pending for ever.
    let (settle_at, settle_status) = match started.collect {
        Some(then) => (now.saturating_add(i64::try_from(state.config.sandbox_delay_ms).unwrap_or(i64::MAX)), then),
        None => (order.expires_at, OrderStatus::AUTHENTICATION_FAILED),
    };
    let txn = Txn {
        id: random_id("txn_"),
        order_pk: order.id.clone(),
        seq: 0,
        method,
        method_detail: detail,
        card_last4: last4,
        scenario: started.scenario,
        status: OrderStatus::PENDING_VBV,
        // Read again, in the transaction that inserts the attempt.
        amount_minor: order.amount_minor,
        created_at: now,
        settle_at: Some(settle_at),
        settle_status: Some(settle_status),
        in_frame,
        details,
        gateway_response: None,
    };
    let Some(txn) = state.db.start_txn(&txn, now).await? else {
        return Err(AppError::conflict("order_not_payable", "this order cannot take a new payment attempt"));
    };
    let base = &state.config.public_url;
    let payment = match started.collect {
        // UPI collect: the shopper approves in their UPI app; the page polls.
        Some(_) => TxnPayment {
            authentication: None,
            collect: Some(Collect {
                status_url: format!("{base}/txns/{}", txn.id),
                cancel_url: format!("{base}/txns/{}/cancel", txn.id),
                poll_interval_ms: 1000,
                expires_at: rfc3339(order.expires_at.min(settle_at.saturating_add(COLLECT_WINDOW_MS))),
            }),
        },
        None => TxnPayment {
            authentication: Some(Authentication { method: "GET".into(), url: format!("{base}/sandbox/bank/{}", txn.id) }),
            collect: None,
        },
    };
    Ok(Json(TxnAnswer {
        view: TxnResponse {
            order_id: order.order_id.clone(),
            txn_id: crate::juspay::juspay_txn_id(&order.merchant_id, &order.order_id, txn.seq),
            status: txn.status,
            payment,
        },
        txn_uuid: txn.id,
    }))
}

/// How long a collect request waits for the shopper, at most (the page's countdown).
const COLLECT_WINDOW_MS: i64 = 5 * 60 * 1000;

/// An attempt the client token may see: the token's order's, else 404.
async fn token_txn(state: &AppState, headers: &HeaderMap, txn_id: &str) -> Result<Txn, AppError> {
    let order_pk = token_order(state, headers, None)?;
    let not_found = || AppError { status: axum::http::StatusCode::NOT_FOUND, code: "txn_not_found", message: "no such attempt".into() };
    let txn = state.db.txn(txn_id).await?.ok_or_else(not_found)?;
    if txn.order_pk != order_pk {
        return Err(not_found());
    }
    Ok(txn)
}

/// `GET /txns/:txn_uuid` answer: the page's contract ([`TxnStatus`]) and what a person reading it wants.
#[derive(serde::Serialize)]
struct TxnStatusAnswer {
    #[serde(flatten)]
    view: TxnStatus,
    txn_id: String,
    txn_uuid: String,
    order_id: String,
    status_id: u16,
    order_status: OrderStatus,
}

/// The attempt's status for the page that polls it, with where to go once it is final.
async fn txn_status_body(state: &AppState, txn: &Txn) -> Result<TxnStatusAnswer, AppError> {
    let order = state.db.order(&txn.order_pk).await?.ok_or_else(AppError::order_not_found)?;
    let done = !txn.status.is_pending();
    Ok(TxnStatusAnswer {
        view: TxnStatus {
            status: txn.status,
            is_final: done,
            // The signed return URL (or Kassa's result page) once the attempt is final.
            next_url: done.then(|| format!("{}/sandbox/bank/{}", state.config.public_url, txn.id)),
        },
        txn_id: crate::juspay::juspay_txn_id(&order.merchant_id, &order.order_id, txn.seq),
        txn_uuid: txn.id.clone(),
        order_id: order.order_id,
        status_id: txn.status.id(),
        order_status: order.status,
    })
}

/// `GET /txns/:txn_uuid` with the client token: what a polling page needs.
async fn txn_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(txn_id): Path<String>,
) -> Result<Json<TxnStatusAnswer>, AppError> {
    let txn = token_txn(&state, &headers, &txn_id).await?;
    Ok(Json(txn_status_body(&state, &txn).await?))
}

/// `POST /txns/:txn_uuid/cancel` with the client token: the shopper gave up
/// on an attempt that still waits for them (a bank page, a collect
/// request); it ends AUTHENTICATION_FAILED. An attempt the bank is already
/// authorizing cannot be cancelled.
async fn cancel_txn(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(txn_id): Path<String>,
    f: Fields,
) -> Result<Json<TxnStatusAnswer>, AppError> {
    f.finish()?;
    let txn = token_txn(&state, &headers, &txn_id).await?;
    let response = state.gateway.response(OrderStatus::AUTHENTICATION_FAILED, now_ms());
    let applied =
        state.db.complete_txn(&txn.id, OrderStatus::PENDING_VBV, OrderStatus::AUTHENTICATION_FAILED, Some(&response), now_ms()).await?;
    if applied.is_none() {
        return Err(AppError::conflict("txn_not_cancellable", "only an attempt waiting for the shopper can be cancelled"));
    }
    let txn = state.db.txn(&txn.id).await?.ok_or_else(AppError::order_not_found)?;
    Ok(Json(txn_status_body(&state, &txn).await?))
}
