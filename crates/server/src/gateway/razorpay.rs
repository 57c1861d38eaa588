//! The Razorpay adapter (seed 002; `shared/research/psp-apis.md` §6): an
//! order per attempt (`POST /v1/orders`, amount in paise, `receipt` =
//! Kassa's `order_id`, `notes` with Kassa's ids, auto capture), the payment
//! created server to server (`POST /v1/payments/create/json`) and the
//! shopper sent to the gateway's authentication (`next[].action =
//! redirect`). A callback is accepted only with a valid
//! `razorpay_signature`, and the attempt is CHARGED only when
//! `GET /v1/orders/:id/payments` shows the payment captured.

use super::remote::{Attempt, Claim, GatewayError, Outcome, RefundState, RemoteStarted, Unstarted, call, field};
use super::{MethodInput, Redirect};
use crate::db::Txn;
use crate::domain::GatewayResponse;
use base64::Engine;
use kassa_sign::razorpay::{Secret, verify_payment};
use kassa_types::OrderStatus;
use serde_json::{Value, json};

fn auth(key_id: &str, key_secret: &str) -> (&'static str, String) {
    ("authorization", format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{key_id}:{key_secret}"))))
}

/// Razorpay's answer: the JSON of a 2xx, else its `error.description` as a refusal (4xx) or unavailability.
fn answer(status: u16, body: &str) -> Result<Value, GatewayError> {
    let json: Option<Value> = serde_json::from_str(body).ok();
    match (status, json) {
        (200..=299, Some(v)) if v.is_object() => Ok(v),
        (400..=499, Some(v)) if v["error"]["description"].is_string() => {
            Err(GatewayError::Refused(v["error"]["description"].as_str().unwrap_or_default().chars().take(200).collect()))
        }
        (s, _) => Err(GatewayError::Unavailable(format!("Razorpay answered HTTP {s} without a usable body"))),
    }
}

/// Razorpay's bank codes for Kassa's netbanking codes (IFSC prefixes).
fn bank_code(kassa: &str) -> Option<&'static str> {
    Some(match kassa {
        "NB_SBI" => "SBIN",
        "NB_HDFC" => "HDFC",
        "NB_ICICI" => "ICIC",
        "NB_AXIS" => "UTIB",
        "NB_KOTAK" => "KKBK",
        "NB_PNB" => "PUNB_R",
        "NB_BOB" => "BARB_R",
        "NB_YESB" => "YESB",
        _ => return None,
    })
}

/// Creates the Razorpay order and the payment, and says where the shopper authenticates.
pub async fn start(agent: &ureq::Agent, base: &str, key_id: &str, key_secret: &str, a: &Attempt<'_>) -> Result<RemoteStarted, Unstarted> {
    let o = a.order;
    let order_body = json!({
        "amount": a.amount_minor,
        "currency": o.currency,
        "receipt": o.order_id.chars().take(40).collect::<String>(),
        "notes": { "kassa_order_id": o.order_id, "kassa_txn_id": a.txn_id, "kassa_merchant_id": o.merchant_id },
        // A pre-authorization is captured by the merchant later (`POST /v2/txns/:id/capture`).
        "payment_capture": if o.preauth() { 0 } else { 1 },
    });
    let json_headers = || vec![auth(key_id, key_secret), ("content-type", "application/json".to_string())];
    let (status, body) = call(agent, "POST", format!("{base}/v1/orders"), json_headers(), Some(order_body.to_string())).await?;
    let rzp_order = answer(status, &body)?;
    let order_id =
        rzp_order["id"].as_str().filter(|id| id.starts_with("order_")).ok_or_else(|| GatewayError::Unavailable("no order id".into()))?;
    if rzp_order["amount"].as_i64() != Some(a.amount_minor) {
        return Err(GatewayError::Unavailable("Razorpay's order has another amount".into()).into());
    }
    let mut payment = json!({
        "amount": a.amount_minor,
        "currency": o.currency,
        "order_id": order_id,
        "email": o.customer_email,
        "contact": o.customer_phone,
        "description": o.description,
        "callback_url": a.callback_url,
        "notes": { "kassa_txn_id": a.txn_id },
        "ip": a.client.ip,
        "referer": a.client.referer,
        "user_agent": a.client.user_agent,
    });
    match a.input {
        MethodInput::Card { number, month, year, cvv, name, .. } => {
            payment["method"] = "card".into();
            payment["card"] = json!({ "number": number, "expiry_month": format!("{month:02}"), "expiry_year": year.to_string(), "cvv": cvv, "name": name });
        }
        MethodInput::Netbanking(code) => {
            payment["method"] = "netbanking".into();
            payment["bank"] =
                bank_code(code).ok_or_else(|| Unstarted::from(GatewayError::Refused("Razorpay does not offer this bank".into())))?.into();
        }
        MethodInput::Wallet(code) => {
            payment["method"] = "wallet".into();
            payment["wallet"] = code.to_ascii_lowercase().into();
        }
        MethodInput::Vaulted { .. } => {
            return Err(GatewayError::Refused("saved cards are paid through Kassa's sandbox gateway only".into()).into());
        }
        MethodInput::Upi(vpa) => {
            payment["method"] = "upi".into();
            payment["vpa"] = (*vpa).into();
        }
    }
    // From here a payment may exist at Razorpay: a failure leaves the state unknown, to be asked about.
    let unknown = |error: GatewayError| match error {
        GatewayError::Refused(_) => Unstarted { error, gateway_order_id: None },
        GatewayError::Unavailable(_) => Unstarted { error, gateway_order_id: Some(order_id.to_string()) },
    };
    // S2S: UPI has its own endpoint, the rest answer JSON with `next[]`.
    let path = if matches!(a.input, MethodInput::Upi(_)) { "upi" } else { "json" };
    let (status, body) = call(agent, "POST", format!("{base}/v1/payments/create/{path}"), json_headers(), Some(payment.to_string()))
        .await
        .map_err(unknown)?;
    let created = answer(status, &body).map_err(unknown)?;
    let payment_id = created["razorpay_payment_id"].as_str().ok_or_else(|| unknown(GatewayError::Unavailable("no payment id".into())))?;
    let next = created["next"].as_array().cloned().unwrap_or_default();
    let redirect = next.iter().find(|n| n["action"] == "redirect").and_then(|n| n["url"].as_str()).map(|url| Redirect {
        method: "GET".into(),
        url: url.to_string(),
        params: Vec::new(),
    });
    if redirect.is_none() && path != "upi" {
        return Err(unknown(GatewayError::Unavailable("Razorpay gave no next action".into())));
    }
    Ok(RemoteStarted { gateway_order_id: order_id.to_string(), gateway_txn_id: Some(payment_id.to_string()), redirect })
}

/// What Razorpay's API says of the attempt's order: CHARGED only for a captured payment of it.
pub async fn status(
    agent: &ureq::Agent,
    base: &str,
    key_id: &str,
    key_secret: &str,
    order: &crate::db::Order,
    txn: &Txn,
    now: i64,
) -> Result<(Outcome, GatewayResponse), GatewayError> {
    // An attempt whose start was cut short has no order recorded: find it by receipt and the attempt's id in its notes.
    let found;
    let order_id = match txn.details.gateway_order_id.as_deref() {
        Some(id) => id,
        None => {
            let receipt: String =
                url::form_urlencoded::byte_serialize(order.order_id.chars().take(40).collect::<String>().as_bytes()).collect();
            let (code, body) =
                call(agent, "GET", format!("{base}/v1/orders?receipt={receipt}&count=100"), vec![auth(key_id, key_secret)], None).await?;
            let list = answer(code, &body)?;
            let mine = list["items"]
                .as_array()
                .and_then(|items| items.iter().find(|o| o["notes"]["kassa_txn_id"].as_str() == Some(txn.id.as_str())));
            match mine.and_then(|o| o["id"].as_str()) {
                Some(id) => {
                    found = id.to_string();
                    &found
                }
                // No order, so no payment can exist.
                None => {
                    return Ok((
                        Outcome::Pending,
                        GatewayResponse { resp_code: "no_order".into(), created_at: now, ..GatewayResponse::default() },
                    ));
                }
            }
        }
    };
    let (code, body) = call(agent, "GET", format!("{base}/v1/orders/{order_id}/payments"), vec![auth(key_id, key_secret)], None).await?;
    let list = answer(code, &body)?;
    let items = list["items"].as_array().ok_or_else(|| GatewayError::Unavailable("no payments list".into()))?;
    let ours = |p: &&Value| p["order_id"].as_str() == Some(order_id);
    let response = |p: &Value, code: &str, message: &str| GatewayResponse {
        resp_code: code.to_string(),
        resp_message: message.chars().take(200).collect(),
        rrn: p["acquirer_data"]["rrn"].as_str().unwrap_or_default().to_string(),
        auth_id_code: p["acquirer_data"]["auth_code"].as_str().unwrap_or_default().to_string(),
        created_at: now,
    };
    if let Some(p) = items.iter().filter(ours).find(|p| p["captured"] == true) {
        let id = p["id"].as_str().unwrap_or_default().to_string();
        let amount = p["amount"].as_i64().ok_or_else(|| GatewayError::Unavailable("a payment without an amount".into()))?;
        return Ok((Outcome::Charged { gateway_txn_id: id, amount_minor: amount }, response(p, "captured", "Payment captured")));
    }
    // A pre-authorization's payment is done when authorized: the hold is the merchant's to capture.
    if order.preauth()
        && let Some(p) = items.iter().filter(ours).find(|p| p["status"] == "authorized")
    {
        let id = p["id"].as_str().unwrap_or_default().to_string();
        let amount = p["amount"].as_i64().ok_or_else(|| GatewayError::Unavailable("a payment without an amount".into()))?;
        return Ok((Outcome::Charged { gateway_txn_id: id, amount_minor: amount }, response(p, "authorized", "Payment authorized")));
    }
    // Authorized but not captured (an account set to capture by hand): capture it, for the attempt's amount,
    // only while the attempt is undecided (an authorization Kassa gave up on lapses by itself).
    let capture = txn.status.is_pending() && !order.preauth();
    if let Some(p) =
        items.iter().filter(ours).find(|p| capture && p["status"] == "authorized" && p["amount"].as_i64() == Some(txn.amount_minor))
    {
        let id = p["id"].as_str().unwrap_or_default();
        let body = json!({ "amount": txn.amount_minor, "currency": p["currency"] });
        let headers = vec![auth(key_id, key_secret), ("content-type", "application/json".to_string())];
        let (code, text) = call(agent, "POST", format!("{base}/v1/payments/{id}/capture"), headers, Some(body.to_string())).await?;
        if let Ok(captured) = answer(code, &text)
            && captured["status"] == "captured"
            && captured["order_id"].as_str() == Some(order_id)
            && captured["amount"].as_i64() == Some(txn.amount_minor)
        {
            return Ok((
                Outcome::Charged { gateway_txn_id: id.to_string(), amount_minor: txn.amount_minor },
                response(&captured, "captured", "Payment captured"),
            ));
        }
    }
    if items.iter().filter(ours).any(|p| matches!(p["status"].as_str(), Some("authorized" | "created"))) {
        return Ok((Outcome::Pending, GatewayResponse { resp_code: "pending".into(), created_at: now, ..GatewayResponse::default() }));
    }
    let known = txn.details.gateway_txn_id.as_deref();
    if let Some(p) = items.iter().filter(ours).find(|p| p["status"] == "failed" && (known.is_none() || p["id"].as_str() == known)) {
        let status = if p["error_step"] == "payment_authentication" {
            OrderStatus::AUTHENTICATION_FAILED
        } else {
            OrderStatus::AUTHORIZATION_FAILED
        };
        let code = p["error_code"].as_str().unwrap_or("failed");
        let message = p["error_description"].as_str().unwrap_or("Payment failed");
        return Ok((Outcome::Failed(status), response(p, code, message)));
    }
    Ok((Outcome::Pending, GatewayResponse { resp_code: "pending".into(), created_at: now, ..GatewayResponse::default() }))
}

/// The shopper's return from Razorpay: a success must carry this attempt's
/// `razorpay_order_id` and a valid `razorpay_signature`; a failure carries `error[…]`.
pub fn callback(key_secret: &str, txn: &Txn, fields: &[(String, String)]) -> Result<Claim, String> {
    let ours = txn.details.gateway_order_id.as_deref().unwrap_or_default();
    if let (Some(payment), Some(order), Some(signature)) =
        (field(fields, "razorpay_payment_id"), field(fields, "razorpay_order_id"), field(fields, "razorpay_signature"))
    {
        if order != ours {
            return Err("the callback is for another Razorpay order".into());
        }
        verify_payment(&Secret::new(key_secret.as_bytes().to_vec()), order, payment, signature)
            .map_err(|_| "razorpay_signature does not verify".to_string())?;
        return Ok(Claim::Success);
    }
    if field(fields, "error[code]").is_some() {
        return Ok(Claim::Failure);
    }
    Err("the callback carries neither a signed payment nor an error".into())
}

fn refund_state(refund: &Value) -> Result<RefundState, GatewayError> {
    let id = refund["id"].as_str().unwrap_or_default().to_string();
    match refund["status"].as_str() {
        Some("processed") => Ok(RefundState::Succeeded(id)),
        Some("pending" | "created") => Ok(RefundState::Pending(id)),
        Some("failed") => Ok(RefundState::Failed),
        _ => Err(GatewayError::Unavailable("Razorpay's refund has no status".into())),
    }
}

/// `POST /v1/payments/:id/refund`, with Kassa's refund id as its `receipt`.
pub async fn refund(
    agent: &ureq::Agent,
    base: &str,
    key_id: &str,
    key_secret: &str,
    txn: &Txn,
    amount_minor: i64,
    refund_id: &str,
) -> Result<RefundState, GatewayError> {
    let payment =
        txn.details.gateway_txn_id.as_deref().ok_or_else(|| GatewayError::Refused("the attempt has no Razorpay payment".into()))?;
    let body = json!({ "amount": amount_minor, "receipt": refund_id, "notes": { "kassa_refund_id": refund_id } });
    let headers = vec![auth(key_id, key_secret), ("content-type", "application/json".to_string())];
    let (status, text) = call(agent, "POST", format!("{base}/v1/payments/{payment}/refund"), headers, Some(body.to_string())).await?;
    refund_state(&answer(status, &text)?)
}

/// A refund's state: `GET /v1/refunds/:id` when Razorpay's id is known, else
/// the payment's refunds (`GET /v1/payments/:id/refunds`) by `receipt`.
pub async fn refund_status(
    agent: &ureq::Agent,
    base: &str,
    key_id: &str,
    key_secret: &str,
    txn: &Txn,
    refund_id: &str,
    gateway_refund_id: Option<&str>,
) -> Result<RefundState, GatewayError> {
    if let Some(id) = gateway_refund_id {
        let (status, text) = call(agent, "GET", format!("{base}/v1/refunds/{id}"), vec![auth(key_id, key_secret)], None).await?;
        return refund_state(&answer(status, &text)?);
    }
    let payment =
        txn.details.gateway_txn_id.as_deref().ok_or_else(|| GatewayError::Refused("the attempt has no Razorpay payment".into()))?;
    let (status, text) =
        call(agent, "GET", format!("{base}/v1/payments/{payment}/refunds?count=100"), vec![auth(key_id, key_secret)], None).await?;
    let list = answer(status, &text)?;
    match list["items"].as_array().and_then(|items| items.iter().find(|r| r["receipt"].as_str() == Some(refund_id))) {
        Some(r) => refund_state(r),
        None => Ok(RefundState::NotFound),
    }
}

/// What Razorpay says of a capture.
#[derive(Debug, PartialEq, Eq)]
pub enum Captured {
    /// The payment is captured, for this amount.
    Yes(i64),
    /// Razorpay refused the capture, and the payment is not captured: its reason.
    Refused(String),
}

/// `POST /v1/payments/:id/capture` for the hold of `txn` (Razorpay captures
/// only the whole authorized amount). A refusal is checked against the
/// payment itself (`GET /v1/payments/:id`): a capture sent twice (a retry
/// after a crash) finds the payment captured already.
pub async fn capture(
    agent: &ureq::Agent,
    base: &str,
    key_id: &str,
    key_secret: &str,
    txn: &Txn,
    currency: &str,
) -> Result<Captured, GatewayError> {
    let payment =
        txn.details.gateway_txn_id.as_deref().ok_or_else(|| GatewayError::Refused("the attempt has no Razorpay payment".into()))?;
    let body = json!({ "amount": txn.amount_minor, "currency": currency });
    let headers = vec![auth(key_id, key_secret), ("content-type", "application/json".to_string())];
    let (status, text) = call(agent, "POST", format!("{base}/v1/payments/{payment}/capture"), headers, Some(body.to_string())).await?;
    // Only Razorpay's 400 (BAD_REQUEST_ERROR) refuses a capture; a 401, 429 or 5xx says nothing of it: asked again later.
    if status != 400 && !(200..300).contains(&status) {
        return Err(GatewayError::Unavailable(format!("Razorpay answered HTTP {status} to a capture")));
    }
    let refused = match answer(status, &text) {
        Ok(p) if p["status"] == "captured" && p["id"].as_str() == Some(payment) => {
            return p["amount"].as_i64().map(Captured::Yes).ok_or_else(|| GatewayError::Unavailable("a payment without an amount".into()));
        }
        Ok(_) => return Err(GatewayError::Unavailable("Razorpay's capture answer is not a captured payment".into())),
        Err(GatewayError::Refused(why)) => why,
        Err(e) => return Err(e),
    };
    let (status, text) = call(agent, "GET", format!("{base}/v1/payments/{payment}"), vec![auth(key_id, key_secret)], None).await?;
    // A read Razorpay refuses says nothing of the payment.
    let p = answer(status, &text).map_err(|e| GatewayError::Unavailable(e.to_string()))?;
    match (p["status"].as_str(), p["amount"].as_i64()) {
        (Some("captured"), Some(amount)) => Ok(Captured::Yes(amount)),
        (Some(_), _) => Ok(Captured::Refused(refused)),
        (None, _) => Err(GatewayError::Unavailable("Razorpay's payment has no status".into())),
    }
}
