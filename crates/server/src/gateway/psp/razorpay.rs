//! The Razorpay API sandbox (seed 002; `shared/research/psp-apis.md` §6),
//! under `/sandbox/razorpay`: Basic `key_id:key_secret`; JSON or form
//! bodies; `POST/GET /v1/orders`, `GET/PATCH /v1/orders/:id`,
//! `GET /v1/orders/:id/payments`; `POST /v1/payments/create/json` (S2S,
//! answering `next[]`), the hosted authentication page
//! `/v1/payments/:id/authenticate`, `GET /v1/payments/:id`,
//! `POST /v1/payments/:id/refund`, `GET /v1/payments/:id/refunds`,
//! `GET /v1/payments/:id/refunds/:id`, `GET /v1/refunds/:id`, the lists
//! `GET /v1/payments` and `GET /v1/refunds`; Razorpay's error shape; the order lifecycle
//! created → attempted → paid with `attempts`, `amount_paid`,
//! `amount_due`, one success per order; signed callbacks
//! (`razorpay_signature`) and webhooks (`X-Razorpay-Signature`), each
//! webhook also listed, body and signature, at the sandbox-only
//! `GET /v1/sandbox/webhooks` (Razorpay shows them in its dashboard).

use super::{ALNUM, LEDGER, Scenario, bank_page, callback_page, decide, random_chars};
use crate::AppState;
use crate::db::PspObject;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{Map, Value, json};

const GW: &str = "razorpay";

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sandbox/razorpay/v1/orders", post(create_order).get(list_orders))
        .route("/sandbox/razorpay/v1/orders/{id}", get(fetch_order).patch(edit_order))
        .route("/sandbox/razorpay/v1/orders/{id}/payments", get(order_payments))
        .route("/sandbox/razorpay/v1/payments/create/json", post(create_payment))
        .route("/sandbox/razorpay/v1/payments/create/upi", post(create_payment))
        .route("/sandbox/razorpay/v1/payments/{id}/capture", post(capture))
        .route("/sandbox/razorpay/v1/payments", get(list_payments))
        .route("/sandbox/razorpay/v1/payments/{id}", get(fetch_payment))
        .route("/sandbox/razorpay/v1/payments/{id}/refunds/{refund_id}", get(payment_refund))
        .route("/sandbox/razorpay/v1/refunds", get(list_refunds))
        .route("/sandbox/razorpay/v1/sandbox/webhooks", get(list_webhooks))
        .route("/sandbox/razorpay/v1/payments/{id}/authenticate", get(authenticate).post(authenticated))
        .route("/sandbox/razorpay/v1/payments/{id}/refund", post(refund))
        .route("/sandbox/razorpay/v1/payments/{id}/refunds", get(payment_refunds))
        .route("/sandbox/razorpay/v1/refunds/{id}", get(fetch_refund))
}

/// Razorpay's error: `{"error":{code, description, source, step, reason, metadata, field}}`.
fn error(status: StatusCode, description: &str, field: Option<&str>) -> Response {
    let code = if status.is_server_error() { "SERVER_ERROR" } else { "BAD_REQUEST_ERROR" };
    let body = json!({ "error": {
        "code": code, "description": description, "source": "business", "step": "payment_initiation",
        "reason": "input_validation_failed", "metadata": {}, "field": field,
    }});
    (status, Json(body)).into_response()
}

fn bad(description: &str, field: Option<&str>) -> Response {
    error(StatusCode::BAD_REQUEST, description, field)
}

/// A refused input: answered as [`bad`].
struct Invalid(&'static str, Option<&'static str>);

impl IntoResponse for Invalid {
    fn into_response(self) -> Response {
        bad(self.0, self.1)
    }
}

/// The account's object `id` of `kind`, or Razorpay's "does not exist".
async fn object(st: &AppState, key: &str, id: &str, kind: &str) -> Result<PspObject, Response> {
    match st.db.psp_get(GW, key, id).await {
        Ok(Some(o)) if o.kind == kind => Ok(o),
        Ok(_) => Err(not_found()),
        Err(_) => Err(server_error()),
    }
}

fn not_found() -> Response {
    bad("The id provided does not exist", None)
}

fn server_error() -> Response {
    error(StatusCode::INTERNAL_SERVER_ERROR, "The server encountered an error. The incident has been reported to admins", None)
}

/// The key id of a request with valid Basic credentials.
async fn authed(st: &AppState, headers: &HeaderMap) -> Result<String, Response> {
    let unauthorized = || {
        (StatusCode::UNAUTHORIZED, Json(json!({ "error": { "code": "BAD_REQUEST_ERROR", "description": "Authentication failed" } })))
            .into_response()
    };
    let value = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let decoded = value
        .strip_prefix("Basic ")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(unauthorized)?;
    let (key_id, secret) = decoded.split_once(':').ok_or_else(unauthorized)?;
    match st.db.psp_account(GW, key_id).await {
        Ok(Some((stored, _))) if super::same_secret(&stored, secret) => Ok(key_id.to_string()),
        Ok(_) => Err(unauthorized()),
        Err(_) => Err(server_error()),
    }
}

/// The key id of a request with valid Basic credentials, as an extractor.
struct Key(String);

impl axum::extract::FromRequestParts<AppState> for Key {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, st: &AppState) -> Result<Key, Response> {
        authed(st, &parts.headers).await.map(Key)
    }
}

/// A JSON or form body as one JSON object (`notes[k]=v` → `notes.k`).
fn body_json(headers: &HeaderMap, body: &Bytes) -> Result<Map<String, Value>, Invalid> {
    if body.is_empty() {
        return Ok(Map::new());
    }
    let json = headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|c| c.contains("json"));
    if json {
        return match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(Invalid("The request body is not valid JSON", None)),
        };
    }
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(body).map_err(|_| Invalid("The request body could not be read", None))?;
    let mut out = Map::new();
    for (k, v) in pairs {
        match k.split_once('[') {
            Some((outer, rest)) => {
                let inner = rest.trim_end_matches(']').to_string();
                if let Value::Object(m) = out.entry(outer.to_string()).or_insert_with(|| json!({})) {
                    m.insert(inner, Value::String(v));
                }
            }
            None => {
                out.insert(k, Value::String(v));
            }
        }
    }
    Ok(out)
}

/// An integer field, sent as a number or (form) a string of digits.
fn integer(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

fn now_secs(st: &AppState) -> i64 {
    st.now().div_euclid(1000)
}

/// The object as the API shows it: the sandbox's own `_` fields removed.
fn public(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().filter(|(k, _)| !k.starts_with('_')).map(|(k, v)| (k.clone(), v.clone())).collect()),
        other @ (Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) | Value::Array(_)) => other.clone(),
    }
}

fn collection(items: Vec<Value>) -> Value {
    json!({ "entity": "collection", "count": items.len(), "items": items })
}

fn notes_of(v: Option<&Value>) -> Result<Value, Invalid> {
    match v {
        None | Some(Value::Null) => Ok(json!([])),
        Some(Value::Object(m)) if m.len() <= 15 && m.values().all(|v| v.as_str().is_some_and(|s| s.chars().count() <= 256)) => {
            Ok(if m.is_empty() { json!([]) } else { Value::Object(m.clone()) })
        }
        Some(Value::Array(a)) if a.is_empty() => Ok(json!([])),
        Some(_) => Err(Invalid("notes must be at most 15 key-value pairs of at most 256 characters", Some("notes"))),
    }
}

async fn create_order(State(st): State<AppState>, Key(key): Key, headers: HeaderMap, body: Bytes) -> Response {
    let b = match body_json(&headers, &body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let Some(amount) = b.get("amount").and_then(integer) else { return bad("The amount field is required.", Some("amount")) };
    if amount < 100 {
        return bad("The amount must be at least INR 1.00", Some("amount"));
    }
    if amount > 1_000_000_000 {
        return bad("The amount exceeds the maximum amount allowed.", Some("amount"));
    }
    let currency = b.get("currency").and_then(Value::as_str).unwrap_or("INR");
    if currency != "INR" {
        return bad("The currency is not supported in the sandbox (INR only).", Some("currency"));
    }
    let receipt = b.get("receipt").and_then(Value::as_str).map(str::to_string);
    if receipt.as_ref().is_some_and(|r| r.chars().count() > 40) {
        return bad("The receipt may not be greater than 40 characters.", Some("receipt"));
    }
    let notes = match notes_of(b.get("notes")) {
        Ok(n) => n,
        Err(r) => return r.into_response(),
    };
    let capture = b.get("payment_capture").map_or(Some(1), |v| integer(v).or_else(|| v.as_bool().map(i64::from)));
    let Some(capture @ (0 | 1)) = capture else { return bad("payment_capture must be 0 or 1", Some("payment_capture")) };
    let id = format!("order_{}", random_chars(14, ALNUM));
    let order = json!({
        "id": id, "entity": "order", "amount": amount, "amount_paid": 0, "amount_due": amount, "currency": currency,
        "receipt": receipt, "offer_id": null, "status": "created", "attempts": 0, "notes": notes, "created_at": now_secs(&st),
        "_payment_capture": capture,
    });
    let obj = PspObject { id, account: key, kind: "order".into(), parent: None, tag: receipt, body: order.clone(), created_at: st.now() };
    match st.db.psp_insert(GW, &obj).await {
        Ok(()) => Json(public(&order)).into_response(),
        Err(_) => server_error(),
    }
}

/// A list's query: `from`, `to` (Unix seconds), `count` (1–100, default 10), `skip`, and for orders `receipt`, `authorized`.
struct ListQuery {
    from: i64,
    to: i64,
    count: i64,
    skip: i64,
    receipt: Option<String>,
    authorized: Option<bool>,
}

impl ListQuery {
    fn parse(pairs: &[(String, String)]) -> Result<ListQuery, Invalid> {
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let int = |k: &'static str, why: &'static str| {
            get(k).map(|v| v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or(Invalid(why, Some(k)))).transpose()
        };
        let count = int("count", "The count must be between 1 and 100.")?.unwrap_or(10);
        if !(1..=100).contains(&count) {
            return Err(Invalid("The count must be between 1 and 100.", Some("count")));
        }
        Ok(ListQuery {
            from: int("from", "from must be a Unix timestamp")?.unwrap_or(0).saturating_mul(1000),
            to: int("to", "to must be a Unix timestamp")?.map_or(i64::MAX, |t| t.saturating_mul(1000).saturating_add(999)),
            count,
            skip: int("skip", "skip must be a non-negative integer")?.unwrap_or(0),
            receipt: get("receipt").map(str::to_string),
            authorized: match get("authorized") {
                None => None,
                Some("1" | "true") => Some(true),
                Some("0" | "false") => Some(false),
                Some(_) => return Err(Invalid("authorized must be 0 or 1", Some("authorized"))),
            },
        })
    }
}

/// The objects of one kind a list shows (payments settled first).
async fn list(st: &AppState, key: &str, pairs: &[(String, String)], kind: &str) -> Response {
    let q = match ListQuery::parse(pairs) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    // `authorized` looks inside the orders: the newest 10,000 are filtered in memory (a sandbox's lists are short).
    let (skip, count) = if q.authorized.is_some() { (0, 10_000) } else { (q.skip, q.count) };
    let Ok(objects) = st.db.psp_list(GW, key, kind, q.from, q.to, q.receipt.as_deref(), skip, count).await else { return server_error() };
    let mut items = Vec::new();
    let picked = objects.into_iter().filter(|o| q.authorized.is_none_or(|a| (o.body["status"] != "created") == a));
    let picked: Vec<PspObject> = if q.authorized.is_some() {
        picked.skip(usize::try_from(q.skip).unwrap_or(usize::MAX)).take(usize::try_from(q.count).unwrap_or(0)).collect()
    } else {
        picked.collect()
    };
    for o in picked {
        let o = if kind == "payment" { settled(st, o).await } else { o };
        items.push(public(&o.body));
    }
    Json(collection(items)).into_response()
}

async fn list_orders(State(st): State<AppState>, Key(key): Key, Query(q): Query<Vec<(String, String)>>) -> Response {
    list(&st, &key, &q, "order").await
}

async fn fetch_order(State(st): State<AppState>, Key(key): Key, Path(id): Path<String>) -> Response {
    match object(&st, &key, &id, "order").await {
        Ok(o) => Json(public(&o.body)).into_response(),
        Err(r) => r,
    }
}

async fn edit_order(State(st): State<AppState>, Key(key): Key, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    let b = match body_json(&headers, &body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let _ledger = LEDGER.lock().await;
    let mut o = match object(&st, &key, &id, "order").await {
        Ok(o) => o,
        Err(r) => return r,
    };
    match notes_of(b.get("notes")) {
        Ok(n) => o.body["notes"] = n,
        Err(r) => return r.into_response(),
    }
    match st.db.psp_update(GW, &id, &o.body).await {
        Ok(()) => Json(public(&o.body)).into_response(),
        Err(_) => server_error(),
    }
}

/// Settles a UPI collect whose time has come (the sandbox settles on read).
async fn settled(st: &AppState, mut p: PspObject) -> PspObject {
    let due = p.body["_settle_at"].as_i64().is_some_and(|at| at <= st.now()) && p.body["status"] == "created";
    if !due {
        return p;
    }
    let _ledger = LEDGER.lock().await;
    if let Ok(Some(fresh)) = st.db.psp_get(GW, &p.account, &p.id).await {
        p = fresh;
    }
    if p.body["status"] == "created" {
        let paid = p.body["_scenario"] == Scenario::CollectSuccess.as_str();
        finish(st, &mut p, paid, false).await;
    }
    p
}

async fn order_payments(State(st): State<AppState>, Key(key): Key, Path(id): Path<String>) -> Response {
    if let Err(r) = object(&st, &key, &id, "order").await {
        return r;
    }
    let Ok(payments) = st.db.psp_children(GW, &id).await else { return server_error() };
    let mut items = Vec::new();
    for p in payments {
        items.push(public(&settled(&st, p).await.body));
    }
    Json(collection(items)).into_response()
}

async fn fetch_payment(State(st): State<AppState>, Key(key): Key, Path(id): Path<String>) -> Response {
    match object(&st, &key, &id, "payment").await {
        Ok(p) => Json(public(&settled(&st, p).await.body)).into_response(),
        Err(r) => r,
    }
}

fn base(st: &AppState) -> String {
    format!("{}/sandbox/razorpay", st.config.public_url)
}

async fn create_payment(State(st): State<AppState>, Key(key): Key, headers: HeaderMap, body: Bytes) -> Response {
    let b = match body_json(&headers, &body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let Some(order_id) = b.get("order_id").and_then(Value::as_str) else { return bad("The order id field is required.", Some("order_id")) };
    let Some(amount) = b.get("amount").and_then(integer) else { return bad("The amount field is required.", Some("amount")) };
    let Some(callback_url) = b.get("callback_url").and_then(Value::as_str).filter(|u| url::Url::parse(u).is_ok()) else {
        return bad("The callback url field is required and must be a URL.", Some("callback_url"));
    };
    for (field, why) in [("ip", "The ip field is required."), ("user_agent", "The user agent field is required.")] {
        if b.get(field).and_then(Value::as_str).is_none_or(str::is_empty) {
            return bad(why, Some(field));
        }
    }
    let method = b.get("method").and_then(Value::as_str).unwrap_or_default();
    let str_of = |k: &str| b.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let (scenario, detail) = match method {
        "card" => {
            let number = b.get("card").and_then(|c| c["number"].as_str()).unwrap_or_default();
            match Scenario::of_card(number) {
                Ok(s) => (s, json!({ "card_id": format!("card_{}", random_chars(14, ALNUM)) })),
                Err(why) => return bad(why, Some("card[number]")),
            }
        }
        "netbanking" if ["SBIN", "HDFC", "ICIC", "UTIB", "KKBK", "PUNB_R", "BARB_R", "YESB"].contains(&str_of("bank").as_str()) => {
            (Scenario::Buttons, json!({ "bank": str_of("bank") }))
        }
        "netbanking" => return bad("Invalid bank code", Some("bank")),
        "wallet" if ["mobikwik", "phonepe", "amazonpay", "freecharge", "airtelmoney", "jiomoney"].contains(&str_of("wallet").as_str()) => {
            (Scenario::Buttons, json!({ "wallet": str_of("wallet") }))
        }
        "wallet" => return bad("Invalid wallet", Some("wallet")),
        "upi" => match Scenario::of_vpa(&str_of("vpa")) {
            Some(s) => (s, json!({ "vpa": str_of("vpa") })),
            None => {
                return bad(
                    "Invalid VPA. Please enter a valid Virtual Payment Address (sandbox: success@kassa, failure@kassa)",
                    Some("vpa"),
                );
            }
        },
        _ => return bad("Invalid payment method given: card, netbanking, wallet or upi", Some("method")),
    };
    let _ledger = LEDGER.lock().await;
    let Ok(Some(mut order)) = st.db.psp_get(GW, &key, order_id).await else {
        return bad("The id provided does not exist", Some("order_id"));
    };
    if order.kind != "order" {
        return bad("The id provided does not exist", Some("order_id"));
    }
    if order.body["status"] == "paid" {
        return bad("Order has already been paid", Some("order_id"));
    }
    if order.body["amount"].as_i64() != Some(amount) {
        return bad("The amount must match the order amount", Some("amount"));
    }
    let id = format!("pay_{}", random_chars(14, ALNUM));
    let now = st.now();
    let mut payment = json!({
        "id": id, "entity": "payment", "amount": amount, "currency": order.body["currency"], "status": "created",
        "order_id": order_id, "invoice_id": null, "international": false, "method": method, "amount_refunded": 0,
        "refund_status": null, "captured": false, "description": b.get("description").cloned().unwrap_or(Value::Null),
        "card_id": null, "bank": null, "wallet": null, "vpa": null, "email": str_of("email"), "contact": str_of("contact"),
        "notes": notes_of(b.get("notes")).unwrap_or(json!([])), "fee": null, "tax": null, "error_code": null,
        "error_description": null, "error_source": null, "error_step": null, "error_reason": null, "acquirer_data": {},
        "created_at": now.div_euclid(1000),
        "_scenario": scenario.as_str(), "_callback_url": callback_url,
    });
    if let (Value::Object(p), Value::Object(d)) = (&mut payment, detail) {
        p.extend(d);
    }
    let collect = matches!(scenario, Scenario::CollectSuccess | Scenario::CollectFailure);
    if collect {
        payment["_settle_at"] = json!(now.saturating_add(i64::try_from(st.config.sandbox_delay_ms).unwrap_or(0)));
    }
    order.body["attempts"] = json!(order.body["attempts"].as_i64().unwrap_or(0) + 1);
    order.body["status"] = "attempted".into();
    let obj = PspObject {
        id: id.clone(),
        account: key,
        kind: "payment".into(),
        parent: Some(order_id.to_string()),
        tag: None,
        body: payment,
        created_at: now,
    };
    if st.db.psp_insert(GW, &obj).await.is_err() || st.db.psp_update(GW, order_id, &order.body).await.is_err() {
        return server_error();
    }
    let next = if collect {
        json!([{ "action": "poll", "url": format!("{}/v1/payments/{id}", base(&st)) }])
    } else {
        json!([{ "action": "redirect", "url": format!("{}/v1/payments/{id}/authenticate", base(&st)) }])
    };
    Json(json!({ "razorpay_payment_id": id, "next": next })).into_response()
}

fn amount_text(p: &Value) -> String {
    let minor = p["amount"].as_i64().unwrap_or(0);
    format!("{} {}", p["currency"].as_str().unwrap_or("INR"), crate::gateway::remote::decimal(minor))
}

async fn authenticate(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    let Ok(Some(p)) = st.db.psp_find(GW, &id).await else { return crate::pages::not_found_page() };
    let Some(scenario) = p.body["_scenario"].as_str().and_then(Scenario::parse).filter(|_| p.kind == "payment") else {
        return crate::pages::not_found_page();
    };
    if p.body["status"] != "created" {
        return callback_for(&st, &p).await;
    }
    let action = format!("/sandbox/razorpay/v1/payments/{id}/authenticate");
    crate::pages::html(
        StatusCode::OK,
        &crate::pages::csp("'none'", "'self'"),
        bank_page("Razorpay", &action, &[], scenario, &amount_text(&p.body)),
    )
}

async fn authenticated(State(st): State<AppState>, Path(id): Path<String>, body: Bytes) -> Response {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    let _ledger = LEDGER.lock().await;
    let Ok(Some(mut p)) = st.db.psp_find(GW, &id).await else { return crate::pages::not_found_page() };
    let Some(scenario) = p.body["_scenario"].as_str().and_then(Scenario::parse).filter(|_| p.kind == "payment") else {
        return crate::pages::not_found_page();
    };
    if p.body["status"] == "created" {
        let (paid, auth_failed) = decide(scenario, &get("action"), &get("otp"));
        finish(&st, &mut p, paid, auth_failed).await;
    }
    callback_for(&st, &p).await
}

/// Applies the bank's decision to a payment and its order (the ledger is held), and sends the webhooks.
async fn finish(st: &AppState, p: &mut PspObject, paid: bool, auth_failed: bool) {
    let order_id = p.body["order_id"].as_str().unwrap_or_default().to_string();
    let Ok(Some(mut order)) = st.db.psp_get(GW, &p.account, &order_id).await else { return };
    let mut events = Vec::new();
    if paid && order.body["status"] != "paid" {
        let capture = order.body["_payment_capture"].as_i64() != Some(0);
        p.body["status"] = if capture { "captured" } else { "authorized" }.into();
        p.body["captured"] = capture.into();
        p.body["acquirer_data"] = json!({ "rrn": random_chars(12, b"0123456789"), "auth_code": random_chars(6, b"0123456789") });
        if capture {
            order.body["status"] = "paid".into();
            order.body["amount_paid"] = p.body["amount"].clone();
            order.body["amount_due"] = 0.into();
            events.push("payment.captured");
            events.push("order.paid");
        } else {
            events.push("payment.authorized");
        }
    } else {
        p.body["status"] = "failed".into();
        let (description, step, reason) = match (paid, auth_failed) {
            (true, _) => ("Order has already been paid", "payment_initiation", "order_already_paid"),
            (false, true) => ("Payment was cancelled or authentication failed", "payment_authentication", "authentication_failed"),
            (false, false) => ("Payment was declined by the bank", "payment_authorization", "payment_declined"),
        };
        for (k, v) in [
            ("error_code", "BAD_REQUEST_ERROR"),
            ("error_description", description),
            ("error_source", "customer"),
            ("error_step", step),
            ("error_reason", reason),
        ] {
            p.body[k] = v.into();
        }
        events.push("payment.failed");
    }
    if st.db.psp_update(GW, &p.id, &p.body).await.is_err() || st.db.psp_update(GW, &order_id, &order.body).await.is_err() {
        return;
    }
    for event in events {
        send_webhook(st, &p.account, event, &public(&p.body), &public(&order.body));
    }
}

/// Posts a Razorpay webhook, signed with the account's webhook secret, once (the sandbox does not retry).
fn send_webhook(st: &AppState, account: &str, event: &str, payment: &Value, order: &Value) {
    let st = st.clone();
    let (account, event, payment, order) = (account.to_string(), event.to_string(), payment.clone(), order.clone());
    tokio::spawn(async move {
        let Ok(Some((_, extra))) = st.db.psp_account(GW, &account).await else { return };
        let (Some(path), Some(secret)) = (extra["webhook_path"].as_str(), extra["webhook_secret"].as_str()) else { return };
        let body = json!({
            "entity": "event", "account_id": format!("acc_{account}"), "event": event, "contains": ["payment", "order"],
            "payload": { "payment": { "entity": payment }, "order": { "entity": order } }, "created_at": now_secs(&st),
        })
        .to_string();
        let signature =
            kassa_sign::razorpay::webhook_signature(&kassa_sign::razorpay::Secret::new(secret.as_bytes().to_vec()), body.as_bytes());
        let log = PspObject {
            id: format!("whk_{}", random_chars(14, ALNUM)),
            account: account.clone(),
            kind: "webhook".into(),
            parent: None,
            tag: None,
            body: json!({ "event": event, "body": body, "signature": signature }),
            created_at: st.now(),
        };
        if st.db.psp_insert(GW, &log).await.is_err() {
            return;
        }
        let headers = vec![("content-type", "application/json".to_string()), ("x-razorpay-signature", signature)];
        let url = format!("{}{path}", st.config.public_url);
        if let Err(e) = crate::gateway::remote::call(&st.http, "POST", url, headers, Some(body)).await {
            tracing::info!(error = %e, "the Razorpay sandbox could not deliver a webhook");
        }
    });
}

/// The signed answer to the merchant's callback URL.
async fn callback_for(st: &AppState, p: &PspObject) -> Response {
    let url = p.body["_callback_url"].as_str().unwrap_or_default();
    let pay_id = p.id.clone();
    let order_id = p.body["order_id"].as_str().unwrap_or_default().to_string();
    let fields: Vec<(String, String)> = if p.body["status"] == "captured" || p.body["status"] == "authorized" {
        let Ok(Some((secret, _))) = st.db.psp_account(GW, &p.account).await else { return server_error() };
        let signature =
            kassa_sign::razorpay::payment_signature(&kassa_sign::razorpay::Secret::new(secret.into_bytes()), &order_id, &pay_id);
        vec![("razorpay_payment_id".into(), pay_id), ("razorpay_order_id".into(), order_id), ("razorpay_signature".into(), signature)]
    } else {
        let s = |k: &str| p.body[k].as_str().unwrap_or_default().to_string();
        vec![
            ("error[code]".into(), s("error_code")),
            ("error[description]".into(), s("error_description")),
            ("error[source]".into(), s("error_source")),
            ("error[step]".into(), s("error_step")),
            ("error[reason]".into(), s("error_reason")),
            ("error[metadata]".into(), json!({ "payment_id": pay_id, "order_id": order_id }).to_string()),
        ]
    };
    callback_page("Razorpay", url, &fields)
}

async fn refund(State(st): State<AppState>, Key(key): Key, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    let b = match body_json(&headers, &body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let _ledger = LEDGER.lock().await;
    let mut p = match object(&st, &key, &id, "payment").await {
        Ok(o) => o,
        Err(r) => return r,
    };
    if p.body["captured"] != true {
        return bad("The payment has not been captured", None);
    }
    let taken = p.body["amount"].as_i64().unwrap_or(0);
    let refunded = p.body["amount_refunded"].as_i64().unwrap_or(0);
    let amount = match b.get("amount") {
        None => taken - refunded,
        Some(v) => match integer(v) {
            Some(a) if a > 0 => a,
            _ => return bad("The amount must be a positive integer in paise", Some("amount")),
        },
    };
    let receipt = b.get("receipt").and_then(Value::as_str).map(str::to_string);
    if amount > taken - refunded {
        return bad("The refund amount provided is greater than amount captured", Some("amount"));
    }
    if amount == 13 {
        // Documented test datum: the sandbox refuses a refund of 0.13.
        return bad("The sandbox refuses refunds of INR 0.13 (test data)", Some("amount"));
    }
    let rid = format!("rfnd_{}", random_chars(14, ALNUM));
    let refund = json!({
        "id": rid, "entity": "refund", "amount": amount, "currency": p.body["currency"], "payment_id": id,
        "notes": notes_of(b.get("notes")).unwrap_or(json!([])), "receipt": receipt, "acquirer_data": { "arn": null },
        "created_at": now_secs(&st), "batch_id": null, "status": "processed", "speed_processed": "normal", "speed_requested": "normal",
    });
    p.body["amount_refunded"] = json!(refunded + amount);
    p.body["refund_status"] = if refunded + amount == taken { "full" } else { "partial" }.into();
    if refunded + amount == taken {
        p.body["status"] = "refunded".into();
    }
    let obj = PspObject {
        id: rid,
        account: key,
        kind: "refund".into(),
        parent: Some(id.clone()),
        tag: None,
        body: refund.clone(),
        created_at: st.now(),
    };
    if st.db.psp_insert(GW, &obj).await.is_err() || st.db.psp_update(GW, &id, &p.body).await.is_err() {
        return server_error();
    }
    Json(refund).into_response()
}

async fn payment_refunds(State(st): State<AppState>, Key(key): Key, Path(id): Path<String>) -> Response {
    if let Err(r) = object(&st, &key, &id, "payment").await {
        return r;
    }
    match st.db.psp_children(GW, &id).await {
        Ok(r) => Json(collection(r.iter().map(|r| public(&r.body)).collect())).into_response(),
        Err(_) => server_error(),
    }
}

async fn fetch_refund(State(st): State<AppState>, Key(key): Key, Path(id): Path<String>) -> Response {
    match object(&st, &key, &id, "refund").await {
        Ok(r) => Json(public(&r.body)).into_response(),
        Err(r) => r,
    }
}

async fn list_payments(State(st): State<AppState>, Key(key): Key, Query(q): Query<Vec<(String, String)>>) -> Response {
    list(&st, &key, &q, "payment").await
}

async fn list_refunds(State(st): State<AppState>, Key(key): Key, Query(q): Query<Vec<(String, String)>>) -> Response {
    list(&st, &key, &q, "refund").await
}

async fn list_webhooks(State(st): State<AppState>, Key(key): Key, Query(q): Query<Vec<(String, String)>>) -> Response {
    list(&st, &key, &q, "webhook").await
}

async fn payment_refund(State(st): State<AppState>, Key(key): Key, Path((id, refund_id)): Path<(String, String)>) -> Response {
    match st.db.psp_get(GW, &key, &refund_id).await {
        Ok(Some(r)) if r.kind == "refund" && r.parent.as_deref() == Some(id.as_str()) => Json(public(&r.body)).into_response(),
        Ok(_) => not_found(),
        Err(_) => server_error(),
    }
}

/// `POST /v1/payments/:id/capture` (`amount`, `currency`): an authorized payment is captured, for its whole amount.
async fn capture(State(st): State<AppState>, Key(key): Key, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    let b = match body_json(&headers, &body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let _ledger = LEDGER.lock().await;
    let mut p = match object(&st, &key, &id, "payment").await {
        Ok(o) => o,
        Err(r) => return r,
    };
    if p.body["status"] != "authorized" {
        return bad("Only payments which have been authorized and not yet captured can be captured", None);
    }
    if b.get("amount").and_then(integer) != p.body["amount"].as_i64() {
        return bad("Capture amount must be equal to the amount authorized", Some("amount"));
    }
    let order_id = p.body["order_id"].as_str().unwrap_or_default().to_string();
    let Ok(Some(mut order)) = st.db.psp_get(GW, &key, &order_id).await else { return server_error() };
    if order.body["status"] == "paid" {
        return bad("Order has already been paid", None);
    }
    p.body["status"] = "captured".into();
    p.body["captured"] = true.into();
    order.body["status"] = "paid".into();
    order.body["amount_paid"] = p.body["amount"].clone();
    order.body["amount_due"] = 0.into();
    if st.db.psp_update(GW, &id, &p.body).await.is_err() || st.db.psp_update(GW, &order_id, &order.body).await.is_err() {
        return server_error();
    }
    send_webhook(&st, &key, "payment.captured", &public(&p.body), &public(&order.body));
    send_webhook(&st, &key, "order.paid", &public(&p.body), &public(&order.body));
    Json(public(&p.body)).into_response()
}
