//! Stored instruments in the Juspay dialect (seeds 001, 003;
//! `shared/research/psp-apis.md` §2, §5): mandate execution (`POST /txns`
//! with the API key and `mandate_id`), the mandate commands
//! (`POST /mandates/:mandate_id`), a customer's mandates, saved cards
//! (`GET /cards`, `POST /card/delete`), and what the payment management
//! page calls with its customer token.

use crate::AppState;
use crate::db::{ExecutionStart, Merchant, NoticeNeeded, Notified, Order, Txn};
use crate::domain::mandate::{self, Terms};
use crate::domain::{Mandate, Notification, SavedCard, TxnDetails};
use crate::gateway::sandbox;
use crate::http::auth::{Authed, token_customer};
use crate::http::body::Fields;
use crate::http::error::AppError;
use crate::juspay::wire::{amount_string, juspay_txn_id, mandate_json, notification_json};
use crate::observe::AuditCtx;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use kassa_types::view::{MandateTerms, SavedCardView};
use kassa_types::{OrderStatus, PaymentMethod, validate_order_id};
use serde_json::{Map, Value, json};

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/mandates/{mandate_id}", post(command))
        .route("/customers/{customer_id}/mandates", get(list))
        .route("/cards", get(list_cards))
        .route("/card/list", get(list_cards))
        .route("/card/delete", post(delete_card))
        .route("/manage/cards/delete", post(manage_delete_card))
        .route("/manage/mandates/{mandate_id}/revoke", post(manage_revoke))
}

/// What `POST /orders` and the session payload echo of the terms (Juspay's camelCase keys).
pub fn echo(t: &Terms) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("options.createMandate".into(), t.mode.as_str().into());
    m.insert("mandate.maxAmount".into(), amount_string(t.max_amount_minor).into());
    m.insert("mandate.amountRule".into(), t.amount_rule.clone().into());
    m.insert("mandate.frequency".into(), t.frequency.clone().into());
    m.insert("mandate.startDate".into(), t.start_date.to_string().into());
    m.insert("mandate.endDate".into(), (t.end_ms() / 1000).to_string().into());
    m.insert("mandate.revokableByCustomer".into(), t.revokable_by_customer.into());
    m.insert("mandate.blockFunds".into(), t.block_fund.into());
    if let Some(v) = t.rule_value {
        m.insert("mandate.ruleValue".into(), v.to_string().into());
    }
    if let Some(v) = &t.rule_type {
        m.insert("mandate.ruleType".into(), v.clone().into());
    }
    m
}

/// The terms as the page shows them.
pub fn terms_view(t: &Terms) -> MandateTerms {
    MandateTerms {
        mode: t.mode.as_str().into(),
        max_amount_minor: u64::try_from(t.max_amount_minor).unwrap_or_default(),
        amount_rule: t.amount_rule.clone(),
        frequency: t.frequency.clone(),
        start_date: t.start_date,
        end_date: t.end_ms() / 1000,
        revokable: t.revokable_by_customer,
        upi: t.registers_by(PaymentMethod::Upi),
    }
}

/// A saved card as the page shows it.
pub fn card_view(c: &SavedCard, now: i64) -> SavedCardView {
    SavedCardView {
        token: c.token.clone(),
        last4: c.last4.clone(),
        brand: c.brand.clone(),
        exp_month: c.exp_month,
        exp_year: c.exp_year,
        expired: c.expired(now),
    }
}

fn not_found(code: &'static str, message: &str) -> AppError {
    AppError { status: StatusCode::NOT_FOUND, code, message: message.into(), retry_after: None }
}

/// The merchant's mandate (another merchant's is not found).
async fn own_mandate(state: &AppState, merchant_id: &str, id: &str) -> Result<Mandate, AppError> {
    state.db.mandate(id).await?.filter(|m| m.merchant_id == merchant_id).ok_or_else(|| not_found("mandate_not_found", "Mandate not found"))
}

/// Unix seconds from a request field.
fn epoch_field(name: &str, v: &str) -> Result<i64, AppError> {
    v.parse::<i64>()
        .ok()
        .filter(|s| (0..=253_402_300_799).contains(s))
        .ok_or_else(|| AppError::bad_request("invalid_parameter", format!("{name} must be a UNIX timestamp in seconds")))
}

/// `POST /txns` with the API key and `mandate_id`: a debit of an ACTIVE
/// mandate, as a new order the call creates (seed 003; `psp-apis.md` §2.5).
/// The sandbox settles it at `mandate.execution_date` (now when absent), or
/// its delay later; until then `command=cancel_recurring_transaction` stops it.
pub(crate) async fn execute(state: &AppState, merchant: &Merchant, audit: AuditCtx, mut f: Fields) -> Result<Json<Value>, AppError> {
    let fingerprint = f.fingerprint();
    let mandate_id = f.require("mandate_id")?;
    let order_id = f.require("order.order_id")?;
    validate_order_id(&order_id).map_err(|e| AppError::bad_request("invalid_order_id", e.to_string()))?;
    let amount = f.require_amount("order.amount")?;
    let amount_minor = i64::try_from(amount.minor()).map_err(|e| AppError::internal(&e))?;
    let customer_id = f.require("order.customer_id")?;
    let currency = f.take("order.currency");
    let execution_date = f.take("mandate.execution_date").map(|v| epoch_field("mandate.execution_date", &v)).transpose()?;
    let notification_id = f.take("mandate.notification_id");
    if let Some(mid) = f.take("merchant_id")
        && mid != merchant.id
    {
        return Err(AppError::bad_request("invalid_parameter", "merchant_id does not match the API key"));
    }
    let description = f.take("order.description").map(|d| crate::juspay::orders::bounded("order.description", d)).transpose()?;
    let return_url = f.take("order.return_url").map(crate::juspay::orders::return_url).transpose()?;
    for ignored in ["format", "mandate.execution_date_format"] {
        f.take(ignored);
    }
    f.finish()?;
    let m = own_mandate(state, &merchant.id, &mandate_id).await?;
    if m.customer_id != customer_id {
        return Err(not_found("mandate_not_found", "Mandate not found for this customer"));
    }
    if currency.is_some_and(|c| c != m.terms.currency) {
        return Err(AppError::bad_request("invalid_parameter", "order.currency is not the mandate's currency"));
    }
    if m.status != "ACTIVE" {
        return Err(AppError::bad_request("JP_852", format!("Mandate is not active: it is {}", m.status)));
    }
    if let Some(why) = m.terms.refuse_amount(amount_minor) {
        return Err(AppError::bad_request("invalid_amount", why));
    }
    let now = state.now();
    let at = execution_date.map_or(now, |s| s.saturating_mul(1000));
    if at < now.saturating_sub(24 * 3600 * 1000) {
        return Err(AppError::bad_request("invalid_parameter", "mandate.execution_date is in the past"));
    }
    if at >= m.terms.end_ms() {
        return Err(AppError::bad_request("JP_852", "mandate.execution_date is after the mandate's end_date"));
    }
    // A UPI debit needs a successful pre-debit notification, for at least its
    // amount, 24 hours before it; each notification covers one debit.
    let notice =
        (m.method == PaymentMethod::Upi).then(|| NoticeNeeded { id: notification_id, sent_by: at.saturating_sub(24 * 3600 * 1000) });
    let order = Order {
        id: crate::random_id("ord_"),
        merchant_id: merchant.id.clone(),
        order_id,
        amount_minor,
        currency: m.terms.currency.clone(),
        status: OrderStatus::NEW,
        customer_id: Some(customer_id),
        customer_email: None,
        customer_phone: None,
        description,
        product_id: None,
        return_url,
        extra: "{}".into(),
        fingerprint,
        created_at: now,
        updated_at: now,
        expires_at: at.max(now).saturating_add(24 * 3600 * 1000),
        amount_refunded_minor: 0,
        allowed_methods: Some(vec![m.method]),
        gateway_account: None,
    };
    let scenario = match m.method {
        PaymentMethod::Card => state.db.vaulted(&m.instrument).await?.unwrap_or_default(),
        PaymentMethod::Nb | PaymentMethod::Wallet | PaymentMethod::Upi => String::new(),
    };
    let delay = i64::try_from(state.config.sandbox_delay_ms).unwrap_or(i64::MAX);
    let card = &m.payment_info["card"];
    let txt = |v: &Value| v.as_str().map(str::to_string);
    let txn = Txn {
        id: crate::random_id("txn_"),
        order_pk: order.id.clone(),
        seq: 1,
        method: m.method,
        method_detail: if m.method == PaymentMethod::Card { txt(&card["card_brand"]) } else { Some(m.instrument.clone()) },
        card_last4: txt(&card["last_four_digits"]),
        scenario: sandbox::EXECUTION.into(),
        status: OrderStatus::PENDING_VBV,
        amount_minor,
        created_at: now,
        settle_at: Some(at.max(now.saturating_add(delay))),
        settle_status: Some(sandbox::execution_outcome(amount_minor, &scenario)),
        in_frame: false,
        details: TxnDetails {
            card_isin: txt(&card["card_isin"]),
            expiry_month: txt(&card["expiry_month"]),
            expiry_year: txt(&card["expiry_year"]),
            mandate_id: Some(m.id.clone()),
            ..TxnDetails::default()
        },
        gateway_response: None,
        captured_minor: None,
        capture_key: None,
    };
    let cycle = mandate::cycle(&m.terms.frequency, at, &order.id);
    match state.db.execute_mandate(&order, &txn, &m.id, &cycle, notice.as_ref(), now).await? {
        ExecutionStart::Started => {}
        ExecutionStart::NotActive(status) => return Err(AppError::bad_request("JP_852", format!("Mandate is not active: it is {status}"))),
        ExecutionStart::CycleTaken => {
            return Err(AppError::bad_request(
                "mandate_cycle_used",
                format!("this {} mandate was debited in this cycle already (or a debit of it is pending)", m.terms.frequency),
            ));
        }
        ExecutionStart::NotNotified => {
            return Err(AppError::bad_request(
                "JP_851",
                "PDN Failed: a UPI mandate is debited only 24 hours or more after a successful pre-debit notification \
                 (command=pre_debit_notify) for at least the debit's amount that no other debit used",
            ));
        }
        ExecutionStart::DuplicateOrder => {
            return Err(AppError::bad_request("DUPLICATE_ORDER_ID", "Order already exists with the given order_id"));
        }
    }
    audit
        .record(
            &state.db,
            Some(&merchant.id),
            "mandate.execute",
            Some(&order.order_id),
            json!({ "mandate_id": m.id, "amount_minor": amount_minor }),
        )
        .await;
    Ok(Json(json!({
        "txn_uuid": txn.id,
        "txn_id": juspay_txn_id(&merchant.id, &order.order_id, 1),
        "status": txn.status.as_str(),
        "order_id": order.order_id,
        "mandate_id": m.id,
        "payment": { "authentication": { "method": "GET", "url": format!("{}/merchant/result/{}", state.config.public_url, order.id) } },
        "offer_details": { "offers": [] },
    })))
}

/// `POST /mandates/:mandate_id` (form): `command` = revoke, pause, resume,
/// check_status, pre_debit_notify or cancel_recurring_transaction.
pub(crate) async fn command(
    State(state): State<AppState>,
    Authed(merchant): Authed,
    audit: AuditCtx,
    Path(mandate_id): Path<String>,
    mut f: Fields,
) -> Result<Json<Value>, AppError> {
    let m = own_mandate(&state, &merchant.id, &mandate_id).await?;
    let command = f.take("command").unwrap_or_default();
    let now = state.now();
    let not_in = |m: &Mandate, what: &str| {
        AppError::bad_request("BAD_REQUEST", format!("Mandate Not in Active State: it is {}, which cannot be {what}", m.status))
    };
    let body = match command.as_str() {
        "revoke" => {
            f.finish()?;
            let done = state
                .db
                .mandate_transition(
                    &m.id,
                    &["CREATED", "ACTIVE", "PAUSED"],
                    "REVOKED",
                    None,
                    crate::domain::EventName::MANDATE_REVOKED,
                    now,
                )
                .await?
                .ok_or_else(|| not_in(&m, "revoked"))?;
            json!({ "mandate_id": done.id, "mandate_status": done.status })
        }
        "pause" => {
            let start = f.take("pause_start_date").map(|v| epoch_field("pause_start_date", &v)).transpose()?.unwrap_or(now / 1000);
            let end = f.take("pause_end_date").map(|v| epoch_field("pause_end_date", &v)).transpose()?.unwrap_or(m.terms.end_ms() / 1000);
            f.finish()?;
            if start > now / 1000 + 60 {
                return Err(AppError::bad_request(
                    "invalid_parameter",
                    "pause_start_date in the future is not supported: pause when the pause begins",
                ));
            }
            if end <= now / 1000 || end > m.terms.end_ms() / 1000 {
                return Err(AppError::bad_request(
                    "invalid_parameter",
                    "pause_end_date must be in the future and not after the mandate's end_date",
                ));
            }
            let done = state
                .db
                .mandate_transition(&m.id, &["ACTIVE"], "PAUSED", Some((start, end)), crate::domain::EventName::MANDATE_PAUSED, now)
                .await?
                .ok_or_else(|| not_in(&m, "paused"))?;
            serde_json::to_value(mandate_json(&done, false, None)).map_err(|e| AppError::internal(&e))?
        }
        "resume" => {
            if let Some(v) = f.take("resume_date")
                && epoch_field("resume_date", &v)? > now / 1000 + 60
            {
                return Err(AppError::bad_request(
                    "invalid_parameter",
                    "resume_date in the future is not supported: pause with pause_end_date instead",
                ));
            }
            f.finish()?;
            let done = state
                .db
                .mandate_transition(&m.id, &["PAUSED"], "ACTIVE", None, crate::domain::EventName::MANDATE_RESUMED, now)
                .await?
                .ok_or_else(|| AppError::bad_request("BAD_REQUEST", format!("only a PAUSED mandate can be resumed; it is {}", m.status)))?;
            serde_json::to_value(mandate_json(&done, false, None)).map_err(|e| AppError::internal(&e))?
        }
        "check_status" => {
            f.finish()?;
            let order_id = state.db.order(&m.order_pk).await?.map(|o| o.order_id);
            return Ok(Json(serde_json::to_value(mandate_json(&m, false, order_id.as_deref())).map_err(|e| AppError::internal(&e))?));
        }
        "pre_debit_notify" => return notify(&state, &m, audit, f, now).await,
        "cancel_recurring_transaction" => {
            let order_id = f.require("order_id")?;
            f.finish()?;
            return cancel_execution(&state, &merchant, &m, audit, &order_id, now).await;
        }
        _ => {
            return Err(AppError::bad_request(
                "bad_request",
                "Invalid command: use revoke, pause, resume, check_status, pre_debit_notify or cancel_recurring_transaction",
            ));
        }
    };
    audit.record(&state.db, Some(&merchant.id), &format!("mandate.{command}"), Some(&m.id), json!({})).await;
    Ok(Json(body))
}

/// `command=pre_debit_notify`: tells the customer of a coming debit; the
/// sandbox answers it after its delay (NOTIFICATION_SUCCEEDED or _FAILED).
async fn notify(state: &AppState, m: &Mandate, audit: AuditCtx, mut f: Fields, now: i64) -> Result<Json<Value>, AppError> {
    let reference = f.require("object_reference_id")?;
    if reference.len() > 25 || !reference.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(AppError::bad_request("invalid_parameter", "object_reference_id must be 1 to 25 letters and digits"));
    }
    #[derive(serde::Deserialize)]
    struct SourceInfo {
        amount: String,
        txn_date: String,
    }
    let info: SourceInfo = serde_json::from_str(&f.require("source_info")?).map_err(|_| {
        AppError::bad_request("invalid_parameter", "source_info must be JSON: {\"amount\":\"10.00\",\"txn_date\":\"<epoch seconds>\"}")
    })?;
    let amount = kassa_types::Amount::parse(&info.amount)
        .map_err(|e| AppError::bad_request("invalid_amount", format!("source_info.amount: {e}")))?;
    let amount_minor = i64::try_from(amount.minor()).map_err(|e| AppError::internal(&e))?;
    let txn_date = epoch_field("source_info.txn_date", &info.txn_date)?;
    let description = crate::juspay::orders::bounded("description", f.take("description").unwrap_or_default())?;
    f.finish()?;
    if m.status != "ACTIVE" {
        return Err(AppError::bad_request("JP_852", format!("Mandate is not active: it is {}", m.status)));
    }
    if let Some(why) = m.terms.refuse_amount(amount_minor) {
        return Err(AppError::bad_request("invalid_amount", why));
    }
    let n = Notification {
        id: crate::random_id("ntf_"),
        mandate_id: m.id.clone(),
        object_reference_id: reference,
        amount_minor,
        txn_date,
        description,
        status: "PENDING".into(),
        created_at: now,
        updated_at: now,
    };
    let delay = i64::try_from(state.config.sandbox_delay_ms).unwrap_or(i64::MAX);
    let n = match state.db.notify(&n, now.saturating_add(delay), sandbox::notification_outcome(amount_minor)).await? {
        Notified::New(n) => {
            audit
                .record(&state.db, Some(&m.merchant_id), "mandate.pre_debit_notify", Some(&m.id), json!({ "amount_minor": amount_minor }))
                .await;
            n
        }
        Notified::Existing(n) if n.amount_minor == amount_minor && n.txn_date == txn_date => n,
        Notified::Existing(_) => {
            return Err(AppError::bad_request(
                "invalid_parameter",
                "object_reference_id was used for another notification of this mandate",
            ));
        }
    };
    Ok(Json(notification_json(&n)))
}

/// `command=cancel_recurring_transaction`: stops a debit of this mandate that has not settled.
async fn cancel_execution(
    state: &AppState,
    merchant: &Merchant,
    m: &Mandate,
    audit: AuditCtx,
    order_id: &str,
    now: i64,
) -> Result<Json<Value>, AppError> {
    let none = || AppError::bad_request("INVALID_REQUEST", "Cancel action not allowed: No scheduled recurring transactions are found.");
    let order = state.db.order_by_merchant(&merchant.id, order_id).await?.ok_or_else(none)?;
    let snapshot = state.db.snapshot(&order.id).await?.ok_or_else(none)?;
    if !snapshot.mandate.as_ref().is_some_and(|(of, registered)| of.id == m.id && !registered) {
        return Err(none());
    }
    let txn = snapshot.txn.ok_or_else(none)?;
    let response = crate::domain::GatewayResponse {
        resp_code: OrderStatus::JUSPAY_DECLINED.as_str().into(),
        resp_message: "Transaction successfully terminated at Juspay end.".into(),
        created_at: now,
        ..Default::default()
    };
    state
        .db
        .complete_txn(&txn.id, OrderStatus::PENDING_VBV, OrderStatus::JUSPAY_DECLINED, Some(&response), now, false)
        .await?
        .ok_or_else(none)?;
    audit
        .record(&state.db, Some(&merchant.id), "mandate.cancel_recurring_transaction", Some(&order.order_id), json!({ "mandate_id": m.id }))
        .await;
    Ok(Json(json!({
        "order_id": order.order_id,
        "txn_uuid": txn.id,
        "txn_status": OrderStatus::JUSPAY_DECLINED.as_str(),
        "response_message": "Transaction successfully terminated at Juspay end.",
    })))
}

#[derive(serde::Deserialize)]
struct Page {
    offset: Option<i64>,
    count: Option<i64>,
}

/// `GET /customers/:customer_id/mandates`: `{object: "list", list, total, offset, count}`.
async fn list(
    State(state): State<AppState>,
    Authed(merchant): Authed,
    Path(customer_id): Path<String>,
    Query(page): Query<Page>,
) -> Result<Json<Value>, AppError> {
    let offset = page.offset.unwrap_or(0).max(0);
    let limit = page.count.unwrap_or(20).clamp(1, 100);
    let (mandates, total) = state.db.mandates(&merchant.id, &customer_id, offset, limit).await?;
    let list: Vec<_> = mandates.iter().map(|m| mandate_json(m, false, None)).collect();
    Ok(Json(json!({ "object": "list", "count": list.len(), "list": list, "total": total, "offset": offset })))
}

#[derive(serde::Deserialize)]
struct CardsQuery {
    customer_id: Option<String>,
}

/// A saved card in Juspay's `GET /cards` shape.
pub(crate) fn card_json(c: &SavedCard, now: i64) -> Value {
    json!({
        "card_token": c.token,
        "card_reference": c.token,
        "card_number": format!("{}-XXXXXXXX-{}", c.card_isin.get(..4).unwrap_or_default(), c.last4),
        "card_isin": c.card_isin,
        "card_exp_month": format!("{:02}", c.exp_month),
        "card_exp_year": c.exp_year.to_string(),
        "card_type": "CREDIT",
        "card_issuer": "",
        "card_brand": c.brand,
        "nickname": "",
        "name_on_card": c.name,
        "expired": c.expired(now),
        "card_fingerprint": c.fingerprint,
    })
}

/// `GET /cards?customer_id=…` (and the older `GET /card/list`).
async fn list_cards(State(state): State<AppState>, Authed(merchant): Authed, Query(q): Query<CardsQuery>) -> Result<Json<Value>, AppError> {
    let customer_id =
        q.customer_id.filter(|c| !c.is_empty()).ok_or_else(|| AppError::bad_request("missing_parameter", "customer_id is required"))?;
    let now = state.now();
    let cards: Vec<Value> = state.db.saved_cards(&merchant.id, &customer_id).await?.iter().map(|c| card_json(c, now)).collect();
    Ok(Json(json!({ "customer_id": customer_id, "merchantId": merchant.id, "cards": cards })))
}

/// `POST /card/delete` (`card_token`).
pub(crate) async fn delete_card(
    State(state): State<AppState>,
    Authed(merchant): Authed,
    audit: AuditCtx,
    mut f: Fields,
) -> Result<Json<Value>, AppError> {
    let token = f.require("card_token")?;
    f.finish()?;
    let card = state
        .db
        .delete_card(&merchant.id, None, &token)
        .await?
        .ok_or_else(|| not_found("card_not_found", "no saved card with this card_token"))?;
    audit.record(&state.db, Some(&merchant.id), "card.delete", Some(&card.customer_id), json!({ "last4": card.last4 })).await;
    Ok(Json(json!({ "card_token": card.token, "card_reference": card.token, "deleted": true })))
}

/// `POST /manage/cards/delete` with the management page's customer token.
async fn manage_delete_card(
    State(state): State<AppState>,
    headers: HeaderMap,
    audit: AuditCtx,
    mut f: Fields,
) -> Result<Json<Value>, AppError> {
    let (merchant_id, customer_id) = token_customer(&state, &headers)?;
    let token = f.require("card_token")?;
    f.finish()?;
    let card = state
        .db
        .delete_card(&merchant_id, Some(&customer_id), &token)
        .await?
        .ok_or_else(|| not_found("card_not_found", "no saved card with this card_token"))?;
    audit
        .customer(&customer_id)
        .record(&state.db, Some(&merchant_id), "card.delete", Some(&customer_id), json!({ "last4": card.last4 }))
        .await;
    Ok(Json(json!({ "card_token": card.token, "deleted": true })))
}

/// `POST /manage/mandates/:mandate_id/revoke` with the customer token: the
/// customer revokes their own mandate, if its terms let them.
async fn manage_revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    audit: AuditCtx,
    Path(mandate_id): Path<String>,
    f: Fields,
) -> Result<Json<Value>, AppError> {
    let (merchant_id, customer_id) = token_customer(&state, &headers)?;
    f.finish()?;
    let m = own_mandate(&state, &merchant_id, &mandate_id).await?;
    if m.customer_id != customer_id {
        return Err(not_found("mandate_not_found", "Mandate not found"));
    }
    if !m.terms.revokable_by_customer {
        return Err(AppError::bad_request("mandate_not_revokable", "this mandate's terms do not let the customer revoke it"));
    }
    let done = state
        .db
        .mandate_transition(&m.id, &["ACTIVE", "PAUSED"], "REVOKED", None, crate::domain::EventName::MANDATE_REVOKED, state.now())
        .await?
        .ok_or_else(|| AppError::bad_request("BAD_REQUEST", format!("Mandate Not in Active State: it is {}", m.status)))?;
    audit.customer(&customer_id).record(&state.db, Some(&merchant_id), "mandate.revoke", Some(&m.id), json!({})).await;
    Ok(Json(json!({ "mandate_id": done.id, "mandate_status": done.status })))
}

/// The management page's token lifetime.
pub const MANAGE_TOKEN_MS: i64 = 30 * 60 * 1000;
