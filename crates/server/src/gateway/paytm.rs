//! The Paytm adapter (seed 004; `shared/research/psp-apis.md` §7): an order
//! per attempt with `POST /aoa-acquiring-biz/v2/order` and its
//! `head.signature`, the payment opened with the `txnToken`
//! (`POST /theia/api/v1/processTransaction`, which answers the bank form the
//! shopper authenticates on), the callback's `CHECKSUMHASH` verified, and the
//! attempt CHARGED only when `POST /v3/order/status` (a signed answer) says
//! TXN_SUCCESS for its amount. Refunds: `POST /refund/apply`.

use super::remote::{Attempt, Claim, GatewayError, Outcome, RefundState, RemoteStarted, Unstarted, call, decimal, field, parse_decimal};
use super::{MethodInput, Redirect};
use crate::db::Txn;
use crate::domain::GatewayResponse;
use kassa_sign::paytm::{MerchantKey, generate, string_from_params, verify};
use kassa_types::OrderStatus;
use serde_json::value::RawValue;
use serde_json::{Value, json};

/// What each `resultCode` of seed 004's Create Order table means for an
/// attempt: every one is a refusal the shopper sees as a declined attempt
/// (JUSPAY_DECLINED, with this reason), except 501 (Paytm's system error),
/// after which the state is unknown and nothing is charged.
pub fn create_order_outcome(code: &str, message: &str) -> GatewayError {
    let why = match code {
        "501" => return GatewayError::Unavailable(format!("Paytm system error (501): {message}")),
        "2013" | "2014" | "2012" | "1001" | "1011" | "1007" | "1012" | "2222" => "Kassa's request was refused as malformed",
        "2007" => "the amount is not valid for Paytm",
        "2006" => "the merchant's Paytm mid is not valid",
        "2005" => "the merchant's Paytm key does not match (checksum refused)",
        "324" => "Paytm already has an order with this id",
        _ => "Paytm refused the order",
    };
    GatewayError::Refused(format!("{why} ({code}: {})", message.chars().take(120).collect::<String>()))
}

fn key(merchant_key: &str) -> Result<MerchantKey, GatewayError> {
    MerchantKey::new(merchant_key.as_bytes().to_vec())
        .map_err(|_| GatewayError::Refused("the merchant's Paytm key is not 16 or 32 characters".into()))
}

#[derive(serde::Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    head: Option<&'a RawValue>,
    #[serde(borrow)]
    body: Option<&'a RawValue>,
}

/// The `head` and `body` of a Paytm `{head, body}` text, both objects, as
/// their exact texts (signatures are over the body's bytes as sent).
pub fn envelope(text: &str) -> Option<(&RawValue, &RawValue)> {
    let env: Envelope<'_> = serde_json::from_str(text).ok()?;
    let (head, body) = (env.head?, env.body?);
    let object = |r: &RawValue| r.get().starts_with('{');
    (text.trim_start().starts_with('{') && object(head) && object(body)).then_some((head, body))
}

/// Which answers must carry a valid `head.signature`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Signed {
    /// Every answer.
    Always,
    /// Successes (`resultStatus` S): Paytm's failures may come unsigned, as its SDK allows.
    WhenSuccessful,
}

/// A signed `{head, body}` request; the answer's body, its signature checked
/// as `signed` says (an answer that should be signed and is not, or does not
/// verify, is unusable).
async fn signed_call(
    agent: &ureq::Agent,
    url: String,
    merchant_key: &str,
    head: Value,
    body: Value,
    signed: Signed,
) -> Result<Value, GatewayError> {
    let key = key(merchant_key)?;
    let body_text = body.to_string();
    let mut head = head;
    if head.get("txnToken").is_none() {
        head["signature"] = generate(&key, &body_text).map_err(|e| GatewayError::Unavailable(e.to_string()))?.into();
    }
    let text = format!("{{\"head\":{head},\"body\":{body_text}}}");
    let (status, answer) = call(agent, "POST", url, vec![("content-type", "application/json".into())], Some(text)).await?;
    if !(200..300).contains(&status) {
        return Err(GatewayError::Unavailable(format!("Paytm answered HTTP {status}")));
    }
    let (head, body) = envelope(&answer).ok_or_else(|| GatewayError::Unavailable("Paytm's answer is not {head, body}".into()))?;
    let parsed: Value =
        serde_json::from_str(body.get()).map_err(|_| GatewayError::Unavailable("Paytm's answer body is not JSON".into()))?;
    if signed == Signed::Always || parsed["resultInfo"]["resultStatus"] == "S" {
        let head: Value = serde_json::from_str(head.get()).unwrap_or_default();
        let signature = head["signature"].as_str().ok_or_else(|| GatewayError::Unavailable("Paytm's answer is not signed".into()))?;
        verify(&key, body.get(), signature).map_err(|_| GatewayError::Unavailable("Paytm's answer signature does not verify".into()))?;
    }
    Ok(parsed)
}

fn result(body: &Value) -> (String, String, String) {
    let r = &body["resultInfo"];
    (
        r["resultStatus"].as_str().unwrap_or_default().to_string(),
        r["resultCode"].as_str().unwrap_or_default().to_string(),
        r["resultMsg"].as_str().unwrap_or_default().to_string(),
    )
}

/// Creates the Paytm order (its `orderId` is Kassa's attempt id) and opens the payment with its `txnToken`.
pub async fn start(
    agent: &ureq::Agent,
    base: &str,
    mid: &str,
    merchant_key: &str,
    website_name: &str,
    a: &Attempt<'_>,
) -> Result<RemoteStarted, Unstarted> {
    let o = a.order;
    let now = crate::now_ms();
    let body = json!({
        "requestType": "PAYMENT",
        "mid": mid,
        "orderId": a.txn_id,
        "websiteName": website_name,
        "txnAmount": { "value": decimal(a.amount_minor), "currency": o.currency },
        "userInfo": { "custId": o.customer_id, "mobile": o.customer_phone, "email": o.customer_email },
        "callbackUrl": a.callback_url,
        "extendInfo": { "udf1": o.order_id, "mercUnqRef": o.merchant_id },
    });
    let head = json!({ "requestTimeStamp": now.to_string(), "channelId": "WEB" });
    let url = format!("{base}/aoa-acquiring-biz/v2/order?mid={}&orderId={}", enc(mid), enc(a.txn_id));
    let created = signed_call(agent, url, merchant_key, head, body, Signed::WhenSuccessful).await?;
    let (status, code, message) = result(&created);
    if status != "S" || code != "0000" {
        return Err(create_order_outcome(&code, &message).into());
    }
    let token = created["txnToken"].as_str().filter(|t| !t.is_empty()).ok_or_else(|| GatewayError::Unavailable("no txnToken".into()))?;
    // From here a payment may exist at Paytm (its orderId is the attempt's id): a failure leaves the state unknown.
    let unknown = |error: GatewayError| match error {
        GatewayError::Refused(_) => Unstarted { error, gateway_order_id: None },
        GatewayError::Unavailable(_) => Unstarted { error, gateway_order_id: Some(a.txn_id.to_string()) },
    };
    let mut pay = json!({ "requestType": "NATIVE", "mid": mid, "orderId": a.txn_id, "authMode": "otp" });
    match a.input {
        MethodInput::Card { number, month, year, cvv, .. } => {
            pay["paymentMode"] = "CREDIT_CARD".into();
            pay["cardInfo"] = format!("|{number}|{cvv}|{month:02}{year}").into();
        }
        MethodInput::Netbanking(code) => {
            pay["paymentMode"] = "NET_BANKING".into();
            pay["channelCode"] = code.trim_start_matches("NB_").into();
        }
        MethodInput::Wallet("PAYTM") => pay["paymentMode"] = "BALANCE".into(),
        MethodInput::Wallet(_) => return Err(GatewayError::Refused("Paytm takes only the Paytm wallet".into()).into()),
        MethodInput::Vaulted { .. } => {
            return Err(GatewayError::Refused("saved cards are paid through Kassa's sandbox gateway only".into()).into());
        }
        MethodInput::Upi(vpa) => {
            pay["paymentMode"] = "UPI".into();
            pay["payerAccount"] = (*vpa).into();
        }
    }
    let url = format!("{base}/theia/api/v1/processTransaction?mid={}&orderId={}", enc(mid), enc(a.txn_id));
    let head = json!({ "txnToken": token, "channelId": "WEB" });
    let processed = signed_call(agent, url, merchant_key, head, pay, Signed::WhenSuccessful).await.map_err(unknown)?;
    let (status, code, message) = result(&processed);
    if status != "S" {
        return Err(unknown(GatewayError::Refused(format!(
            "Paytm refused the payment ({code}: {})",
            message.chars().take(120).collect::<String>()
        ))));
    }
    let form = &processed["bankForm"]["redirectForm"];
    let redirect = match form["actionUrl"].as_str() {
        Some(url) => Some(Redirect {
            method: form["method"].as_str().unwrap_or("post").to_ascii_uppercase(),
            url: url.to_string(),
            params: form["content"]
                .as_object()
                .map(|c| c.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
                .unwrap_or_default(),
        }),
        None if matches!(a.input, MethodInput::Upi(_)) => None,
        None => return Err(unknown(GatewayError::Unavailable("Paytm gave no bank form".into()))),
    };
    Ok(RemoteStarted { gateway_order_id: a.txn_id.to_string(), gateway_txn_id: None, redirect })
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// What Paytm's transaction status API (a signed answer) says of the attempt.
pub async fn status(
    agent: &ureq::Agent,
    base: &str,
    mid: &str,
    merchant_key: &str,
    txn: &Txn,
    now: i64,
) -> Result<(Outcome, GatewayResponse), GatewayError> {
    let order_id = txn.details.gateway_order_id.as_deref().unwrap_or(&txn.id);
    let body = json!({ "mid": mid, "orderId": order_id });
    let answer = signed_call(agent, format!("{base}/v3/order/status"), merchant_key, json!({}), body, Signed::Always).await?;
    let (status, code, message) = result(&answer);
    let response = GatewayResponse {
        resp_code: code.clone(),
        resp_message: message.chars().take(200).collect(),
        rrn: answer["bankTxnId"].as_str().unwrap_or_default().to_string(),
        auth_id_code: String::new(),
        created_at: now,
    };
    let unknown_order = answer["resultInfo"]["resultCode"] == "334";
    if !unknown_order && (answer["orderId"].as_str() != Some(order_id) || answer["mid"].as_str() != Some(mid)) {
        return Err(GatewayError::Unavailable("Paytm's status is not for this order".into()));
    }
    let outcome = match status.as_str() {
        // Paytm has no such order: no payment can exist (yet).
        _ if unknown_order => Outcome::Pending,
        "TXN_SUCCESS" => {
            let amount =
                answer["txnAmount"].as_str().and_then(parse_decimal).ok_or_else(|| GatewayError::Unavailable("no txnAmount".into()))?;
            let id =
                answer["txnId"].as_str().filter(|t| !t.is_empty()).ok_or_else(|| GatewayError::Unavailable("no txnId".into()))?.to_string();
            Outcome::Charged { gateway_txn_id: id, amount_minor: amount }
        }
        "TXN_FAILURE" if code == "141" || code == "810" => Outcome::Failed(OrderStatus::AUTHENTICATION_FAILED),
        "TXN_FAILURE" => Outcome::Failed(OrderStatus::AUTHORIZATION_FAILED),
        _ => Outcome::Pending,
    };
    Ok((outcome, response))
}

/// The shopper's return from Paytm: the form fields must carry a valid
/// `CHECKSUMHASH` over the others, this attempt's `ORDERID` and the account's `MID`.
pub fn callback(mid: &str, merchant_key: &str, txn: &Txn, fields: &[(String, String)]) -> Result<Claim, String> {
    let key = MerchantKey::new(merchant_key.as_bytes().to_vec()).map_err(|e| e.to_string())?;
    let checksum = field(fields, "CHECKSUMHASH").ok_or("the callback is not signed")?;
    verify(&key, &string_from_params(fields), checksum).map_err(|_| "CHECKSUMHASH does not verify".to_string())?;
    let ours = txn.details.gateway_order_id.as_deref().unwrap_or(&txn.id);
    if field(fields, "ORDERID") != Some(ours) || field(fields, "MID") != Some(mid) {
        return Err("the callback is for another order or merchant".into());
    }
    Ok(if field(fields, "STATUS") == Some("TXN_SUCCESS") { Claim::Success } else { Claim::Failure })
}

/// `POST /refund/apply`, with Kassa's refund id as `refId`: Paytm answers PENDING (601) once accepted.
pub async fn refund(
    agent: &ureq::Agent,
    base: &str,
    mid: &str,
    merchant_key: &str,
    txn: &Txn,
    amount_minor: i64,
    refund_id: &str,
) -> Result<RefundState, GatewayError> {
    let txn_id =
        txn.details.gateway_txn_id.as_deref().ok_or_else(|| GatewayError::Refused("the attempt has no Paytm transaction".into()))?;
    let order_id = txn.details.gateway_order_id.as_deref().unwrap_or(&txn.id);
    let body = json!({ "mid": mid, "txnType": "REFUND", "orderId": order_id, "txnId": txn_id, "refId": refund_id, "refundAmount": decimal(amount_minor) });
    let answer = signed_call(agent, format!("{base}/refund/apply"), merchant_key, json!({}), body, Signed::Always).await?;
    refund_state(&answer)
}

fn refund_state(answer: &Value) -> Result<RefundState, GatewayError> {
    let (status, code, message) = result(answer);
    let id = answer["refundId"].as_str().unwrap_or_default().to_string();
    match (status.as_str(), code.as_str()) {
        ("TXN_SUCCESS", _) => Ok(RefundState::Succeeded(id)),
        ("PENDING", _) => Ok(RefundState::Pending(id)),
        (_, "631") => Ok(RefundState::NotFound),
        ("TXN_FAILURE", _) => {
            Err(GatewayError::Refused(format!("Paytm refused the refund ({code}: {})", message.chars().take(120).collect::<String>())))
        }
        _ => Err(GatewayError::Unavailable(format!("Paytm's refund answer is unclear ({code})"))),
    }
}

/// Refund status (`POST /v2/refund/status`, by `refId`).
pub async fn refund_status(
    agent: &ureq::Agent,
    base: &str,
    mid: &str,
    merchant_key: &str,
    txn: &Txn,
    refund_id: &str,
) -> Result<RefundState, GatewayError> {
    let order_id = txn.details.gateway_order_id.as_deref().unwrap_or(&txn.id);
    let body = json!({ "mid": mid, "orderId": order_id, "refId": refund_id });
    let answer = signed_call(agent, format!("{base}/v2/refund/status"), merchant_key, json!({}), body, Signed::Always).await?;
    match refund_state(&answer) {
        // A refund Paytm failed is a final answer here, not a refusal of this request.
        Err(GatewayError::Refused(_)) => Ok(RefundState::Failed),
        other => other,
    }
}
