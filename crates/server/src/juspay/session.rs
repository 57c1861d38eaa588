//! The session API (seed 001) and the Process SDK payload: create or load
//! the order and hand the payment page an order-scoped client token.

use crate::AppState;
use crate::db::{Merchant, Order};
use crate::http::auth::Authed;
use crate::http::body::Fields;
use crate::http::error::AppError;
use crate::juspay::orders::{bounded, client_token_expiry, create_or_load, payment_links};
use crate::juspay::wire::rfc3339;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use kassa_types::Amount;
use serde_json::{Map, Value, json};

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
    let now = state.now();
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
pub(crate) async fn sdk_process(State(state): State<AppState>, headers: HeaderMap, f: Fields) -> Result<Response, AppError> {
    let origin = headers.get(axum::http::header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (merchant, order) = order_from_sdk_payload(&state, f).await?;
    let exp = client_token_expiry(&order, state.now());
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

/// `POST /session` with `action=paymentManagement` (no order, no amount):
/// a link to the page where the customer lists and deletes saved cards and
/// revokes revocable mandates, valid for [`crate::juspay::mandates::MANAGE_TOKEN_MS`].
fn payment_management(state: &AppState, merchant: &Merchant, mut f: Fields) -> Result<Json<Value>, AppError> {
    let customer_id = bounded("customer_id", f.require("customer_id")?)?;
    let language = f.take("language");
    if language.as_deref().is_some_and(|l| !kassa_types::LANGUAGES.contains(&l)) {
        return Err(AppError::bad_request("invalid_parameter", "language is not one Kassa offers"));
    }
    for ignored in ["customer_phone", "customer_email", "first_name", "last_name", "return_url"] {
        f.take(ignored).map(|v| bounded(ignored, v)).transpose()?;
    }
    f.finish()?;
    let exp = state.now().saturating_add(crate::juspay::mandates::MANAGE_TOKEN_MS);
    let token = crate::http::auth::customer_token(state, &merchant.id, &customer_id, exp);
    let base = &state.config.public_url;
    let lang = language.as_deref().map(|l| format!("?language={l}")).unwrap_or_default();
    let web = format!("{base}/merchant/manage/{token}{lang}");
    let mobile = format!("{web}{}mobile=true", if lang.is_empty() { "?" } else { "&" });
    let links = json!({ "web": web, "mobile": mobile, "expiry": rfc3339(exp) });
    Ok(Json(json!({
        "status": "NEW",
        "payment_links": links,
        "sdk_payload": {
            "requestId": crate::random_id(""),
            "service": "in.juspay.hyperpay",
            "payload": {
                "action": "paymentManagement",
                "merchantId": merchant.id,
                "clientId": merchant.client_id,
                "customerId": customer_id,
                "clientAuthToken": token,
                "clientAuthTokenExpiry": rfc3339(exp),
                "environment": "sandbox",
                "language": language,
                "paymentLinks": links,
            },
        },
    })))
}

/// `POST /session` (seed 001): creates the order if new and answers with its
/// payment links and the Process SDK payload, whose `clientAuthToken` is the
/// only credential the payment page ever holds.
pub(crate) async fn create_session(
    State(state): State<AppState>,
    Authed(merchant): Authed,
    mut f: Fields,
) -> Result<Json<Value>, AppError> {
    if let Some(client_id) = f.take("payment_page_client_id")
        && client_id != merchant.client_id
    {
        return Err(AppError::bad_request("invalid_parameter", "payment_page_client_id is not this merchant's client id"));
    }
    match f.take("action").as_deref() {
        None | Some("paymentPage") => {}
        Some("paymentManagement") => return payment_management(&state, &merchant, f),
        Some(_) => return Err(AppError::bad_request("invalid_parameter", "action must be paymentPage or paymentManagement")),
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
    let now = state.now();
    let exp = client_token_expiry(&order, now);
    let extra = order.extra_map();
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
    if let (Some(obj), Some(terms)) = (payload.as_object_mut(), order.mandate_terms()) {
        obj.extend(crate::juspay::mandates::echo(&terms));
    }
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
