//! Orders in the Juspay dialect (seeds 000, 003): create, status, update
//! and refund, and the field rules the other endpoints share.

use crate::AppState;
use crate::db::{Created, Merchant, Order, RefundOutcome};
use crate::gateway::route::{RouteError, route};
use crate::http::auth::Authed;
use crate::http::body::Fields;
use crate::http::error::AppError;
use crate::juspay::wire::{PaymentLinks, StatusBody};
use crate::random_id;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use kassa_types::{Currency, OrderStatus, PaymentMethod, PaymentOptions, validate_order_id};
use serde_json::{Map, Value, json};

const MAX_FIELD: usize = 255;
/// Picks one of several accounts at a gateway (seed 001).
const REFERENCE_ID: &str = "metadata.JUSPAY:gateway_reference_id";
pub(crate) const PLAIN_FIELDS: &[&str] = &["customer_id", "customer_email", "customer_phone", "description", "product_id"];
pub(crate) const ADDRESS_PARTS: &[&str] =
    &["first_name", "last_name", "line1", "line2", "line3", "city", "state", "country", "postal_code", "phone", "country_code_iso"];

pub(crate) fn bounded(name: &str, v: String) -> Result<String, AppError> {
    if v.chars().count() > MAX_FIELD {
        return Err(AppError::bad_request("invalid_parameter", format!("{name} is longer than {MAX_FIELD} characters")));
    }
    if v.chars().any(char::is_control) {
        return Err(AppError::bad_request("invalid_parameter", format!("{name} contains control characters")));
    }
    Ok(v)
}

pub(crate) fn http_url(name: &str, v: String) -> Result<String, AppError> {
    let v = bounded(name, v)?;
    match url::Url::parse(&v) {
        Ok(u) if (u.scheme() == "https" || u.scheme() == "http") && u.host().is_some() => Ok(v),
        _ => Err(AppError::bad_request("invalid_parameter", format!("{name} must be an absolute http(s) URL"))),
    }
}

/// A host that is this machine (development): `localhost`, `127.0.0.0/8`, `::1`.
pub fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// Parameters Kassa adds to the return URL: a merchant's own query may not use them.
const RETURN_PARAMS: [&str; 5] = ["order_id", "status", "status_id", "signature", "signature_algorithm"];

/// A `return_url`: `https://`, or `http://` only to this machine (development);
/// its own query (kept and signed with Kassa's parameters) may not use Kassa's names.
pub(crate) fn return_url(v: String) -> Result<String, AppError> {
    let v = http_url("return_url", v)?;
    let url = url::Url::parse(&v).map_err(|_| AppError::bad_request("invalid_parameter", "return_url must be an absolute http(s) URL"))?;
    if url.scheme() != "https" && !url.host().is_some_and(|h| is_loopback_host(&h)) {
        return Err(AppError::bad_request("invalid_parameter", "return_url must be https:// (http:// only for localhost)"));
    }
    let mut seen = std::collections::HashSet::new();
    for (k, _) in url.query_pairs() {
        if RETURN_PARAMS.contains(&k.as_ref()) || !seen.insert(k.to_string()) {
            return Err(AppError::bad_request(
                "invalid_parameter",
                "return_url's own query may not repeat a parameter or use order_id, status, status_id, signature or signature_algorithm",
            ));
        }
    }
    Ok(v)
}

pub(crate) fn payment_links(state: &AppState, order: &Order) -> PaymentLinks {
    PaymentLinks::new(&state.config.public_url, &order.id, order.expires_at)
}

use crate::juspay::wire::rfc3339;

/// Orders and links expire after at most 24 hours (seed 000).
pub const MAX_EXPIRY_MINS: i64 = 24 * 60;

/// `udf1`..`udf10` and the billing/shipping address fields, as stored in `extra`.
pub(crate) fn take_udfs_and_addresses(f: &mut Fields) -> Result<Map<String, Value>, AppError> {
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

pub(crate) async fn create_order(State(state): State<AppState>, Authed(merchant): Authed, mut f: Fields) -> Result<Json<Value>, AppError> {
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
    if let (Some(obj), Some(terms)) = (out.as_object_mut(), order.mandate_terms()) {
        obj.extend(crate::juspay::mandates::echo(&terms));
    }
    if get_token {
        let exp = client_token_expiry(&order, state.now());
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
pub(crate) async fn create_or_load(
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
    let return_url = f.take("return_url").map(return_url).transpose()?;
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
    // Pre-authorization (Juspay: `metadata.txns.auto_capture=false`): only a card can be held.
    let preauth = match f.take(&format!("metadata.{}", crate::domain::model::AUTO_CAPTURE)).as_deref() {
        None | Some("true") => false,
        Some("false") => true,
        Some(_) => return Err(AppError::bad_request("invalid_parameter", "metadata.txns.auto_capture must be true or false")),
    };
    if preauth {
        if allowed.as_ref().is_some_and(|a| !a.contains(&PaymentMethod::Card)) || !merchant.enabled_methods.contains(&PaymentMethod::Card) {
            return Err(AppError::bad_request(
                "invalid_parameter",
                "a pre-authorized order (metadata.txns.auto_capture=false) is paid by card, and cards are not allowed for it",
            ));
        }
        allowed = Some(vec![PaymentMethod::Card]);
    }
    if allowed.as_ref().is_some_and(|a| !a.iter().any(|m| merchant.enabled_methods.contains(m))) {
        return Err(AppError::bad_request(
            "invalid_parameter",
            "payment_options and payment_filter leave no payment method this merchant offers: the order could not be paid",
        ));
    }
    let mut asked = crate::domain::mandate::Asked { mode: f.take("options.create_mandate"), fields: Vec::new() };
    if let Some(v) = f.take("mandate_max_amount") {
        asked.fields.push(("max_amount".into(), v));
    }
    for (k, v) in f.take_prefixed("mandate.") {
        asked.fields.push((k["mandate.".len()..].to_string(), v));
    }
    let amount_minor = i64::try_from(amount.minor()).map_err(|e| AppError::internal(&e))?;
    let terms = crate::domain::mandate::terms(asked, amount_minor, plain.first().is_some_and(Option::is_some), state.now())
        .map_err(|e| AppError::bad_request("invalid_parameter", e.0))?;
    let terms = terms.map(|t| crate::domain::mandate::Terms { currency: currency.code().into(), ..t });
    if let Some(t) = &terms {
        if preauth {
            return Err(AppError::bad_request("invalid_parameter", "an order cannot both register a mandate and be pre-authorized"));
        }
        let capable = |m: &PaymentMethod| crate::domain::mandate::CAPABLE.contains(m) && merchant.enabled_methods.contains(m);
        if t.mode == crate::domain::mandate::Mode::Required
            && !allowed.as_ref().map_or_else(|| merchant.enabled_methods.clone(), Clone::clone).iter().any(capable)
        {
            return Err(AppError::bad_request(
                "invalid_parameter",
                "options.create_mandate REQUIRED needs card or UPI, and payment_options or payment_filter leave neither",
            ));
        }
        extra.insert(crate::domain::mandate::EXTRA_KEY.into(), serde_json::to_value(t).map_err(|e| AppError::internal(&e))?);
    }
    let gateway_id = f.take("gateway_id").map(|v| bounded("gateway_id", v)).transpose()?;
    let reference_id = f.take(REFERENCE_ID).map(|v| bounded(REFERENCE_ID, v)).transpose()?;
    // Most merchants have no accounts: their orders cost no lookup.
    let accounts = if merchant.gateway_accounts > 0 { state.db.gateway_accounts(&merchant.id).await? } else { Vec::new() };
    let present = |name: &str| PLAIN_FIELDS.iter().position(|p| *p == name).is_some_and(|i| plain.get(i).is_some_and(Option::is_some));
    let account = route(
        &accounts,
        gateway_id.as_deref(),
        reference_id.as_deref().filter(|r| !r.is_empty()),
        crate::juspay::wire::SANDBOX_GATEWAY_ID,
        present,
    )
    .map_err(|e| match e {
        RouteError::NoAccount(why) => AppError::bad_request("gateway_not_configured", why),
        RouteError::Missing(kind, fields) => AppError::bad_request(
            "missing_mandatory_parameters",
            format!(
                "{} requires {} (seed 000, Mandatory Parameters); missing: {}",
                kind.display(),
                kind.mandatory_fields().join(", "),
                fields.join(", ")
            ),
        ),
    })?;
    if let (Some(_), Some(a)) = (&terms, account) {
        return Err(AppError::bad_request(
            "mandate_not_supported",
            format!("{} orders cannot register a mandate through Kassa: route the order to the sandbox gateway", a.kind().display()),
        ));
    }
    if preauth && account.is_some_and(|a| a.kind() == crate::gateway::route::GatewayKind::Paytm) {
        return Err(AppError::bad_request(
            "preauth_not_supported",
            "Paytm orders cannot be pre-authorized through Kassa (metadata.txns.auto_capture=false): route the order to Razorpay or the sandbox",
        ));
    }
    let account = account.map(|a| a.id.clone());
    let mut metadata = Map::new();
    if preauth {
        metadata.insert(crate::domain::model::AUTO_CAPTURE.into(), Value::String("false".into()));
    }
    if let Some(r) = reference_id {
        metadata.insert(REFERENCE_ID["metadata.".len()..].to_string(), Value::String(r));
    }
    for (k, v) in f.take_prefixed("metadata.") {
        let v = if k == "metadata.webhook_url" { http_url(&k, v)? } else { bounded(&k, v)? };
        metadata.insert(k["metadata.".len()..].to_string(), Value::String(v));
    }
    if !metadata.is_empty() {
        extra.insert("metadata".into(), Value::Object(metadata));
    }
    f.finish()?;

    let now = state.now();
    let [customer_id, customer_email, customer_phone, description, product_id]: [Option<String>; 5] =
        plain.try_into().map_err(|_| AppError::internal(&"field count"))?;
    let order = Order {
        id: random_id("ord_"),
        merchant_id: merchant.id.clone(),
        order_id,
        amount_minor,
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
        gateway_account: account,
    };
    match state.db.create_order(&order, merchant.webhook_events.contains(&crate::domain::EventName::ORDER_CREATED)).await {
        Ok(Created::New(o) | Created::Existing(o)) => Ok(o),
        Err(crate::db::DbError::Conflict) => {
            Err(AppError::conflict("duplicate_order_id", "an order with this order_id exists with different parameters"))
        }
        Err(e) => Err(e.into()),
    }
}

/// Juspay's `payment_filter` (payment locking): which method families the
/// page may offer. `allowDefaultOptions` false offers only the enabled
/// ones; true (the default) offers everything but the disabled ones.
/// Families Kassa does not offer (`CONSUMER_FINANCE`, `CASH`, …) are ignored.
pub(crate) fn payment_filter(json: &str) -> Result<Vec<PaymentMethod>, AppError> {
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
    Ok(crate::juspay::wire::status_body(&snapshot, &state.config.public_url))
}

pub(crate) async fn order_status(
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
pub(crate) async fn update_order(
    State(state): State<AppState>,
    Authed(merchant): Authed,
    audit: crate::observe::AuditCtx,
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
    // The mandate the order registers keeps to its terms (FIXED: the amount is the maximum; never above it).
    if let Some(why) = order.mandate_terms().and_then(|t| t.refuse_amount(amount_minor)) {
        return Err(AppError::bad_request("invalid_amount", format!("amount: {why}")));
    }
    let updated = state.db.update_order(&order, amount_minor, &Value::Object(extra).to_string(), state.now()).await?;
    if !updated {
        return Err(AppError::conflict("order_not_updatable", "the order has a payment in progress or completed, or changed meanwhile"));
    }
    let detail = serde_json::json!({ "amount_minor_before": order.amount_minor, "amount_minor": amount_minor });
    audit.record(&state.db, Some(&merchant.id), "order.update", Some(&order.order_id), detail).await;
    let order = state.db.order(&order.id).await?.ok_or_else(AppError::order_not_found)?;
    Ok(Json(status_body(&state, &order).await?))
}

/// `POST /orders/:order_id/sync` (Kassa; the dashboard's "sync" of seed 000):
/// asks the order's gateway about each of its attempts that it has not
/// decided, or that Kassa failed, and applies the answers now, then answers
/// the order status. For the built-in sandbox there is nothing to ask.
pub(crate) async fn sync_order(
    State(state): State<AppState>,
    Authed(merchant): Authed,
    Path(order_id): Path<String>,
) -> Result<Json<StatusBody>, AppError> {
    let order = merchant_order(&state, &merchant, &order_id).await?;
    if order.gateway_account.is_some() {
        for txn in state.db.txns(&order.id).await? {
            // Undecided, failed (a late success), auto-refunded with its refund not yet made, or a
            // capture the gateway has not answered (once the request that sent it has given up on it).
            let capture_due = txn.status == OrderStatus::CAPTURE_INITIATED && txn.settle_at.is_some_and(|at| at <= state.now());
            if txn.status.is_pending()
                || txn.status.is_failure()
                || (txn.status == OrderStatus::AUTO_REFUNDED && txn.settle_at.is_some())
                || capture_due
            {
                crate::domain::gateway_flow::reconcile(&state, &txn).await?;
            }
        }
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
pub(crate) async fn create_refund(
    State(state): State<AppState>,
    Authed(merchant): Authed,
    audit: crate::observe::AuditCtx,
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
    let at_gateway = order.gateway_account.is_some();
    let outcome = state.db.refund(&order.id, &request_id, minor, state.now(), at_gateway).await?;
    if let RefundOutcome::Created(r) = &outcome {
        let detail = serde_json::json!({ "refund_id": r.id, "unique_request_id": request_id, "amount_minor": minor });
        audit.record(&state.db, Some(&merchant.id), "refund.create", Some(&order.order_id), detail).await;
    }
    let refund = match outcome {
        RefundOutcome::Created(r) if at_gateway => {
            crate::domain::gateway_flow::refund_at_gateway(&state, &order, &r).await?;
            r
        }
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
