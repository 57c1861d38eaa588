//! The Paytm API sandbox (seed 004; `shared/research/psp-apis.md` §7),
//! under `/sandbox/paytm`: Create Order
//! (`POST /aoa-acquiring-biz/v2/order?mid=…&orderId=…`, exactly as seed 004
//! shows, with every result code of its table; also at
//! `/theia/api/v1/initiateTransaction`), `txnToken`s valid 15 minutes,
//! `POST /theia/api/v1/processTransaction` (opens the payment with the
//! token and answers the bank form), the authentication page, the signed
//! callback (`CHECKSUMHASH`), `POST /v3/order/status` and
//! `POST /refund/apply`. Every answer is a compact ASCII `{head, body}`
//! whose `head.signature` is the checksum of the body's exact text.

use super::{LEDGER, Scenario, bank_page, callback_page, decide, random_chars};
use crate::AppState;
use crate::db::PspObject;
use crate::gateway::paytm::envelope;
use crate::gateway::remote::{decimal, parse_decimal};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use kassa_sign::paytm::{MerchantKey, generate, string_from_params, verify};
use serde_json::{Value, json};

const GW: &str = "paytm";

/// How long a `txnToken` is valid (seed 004: 15 minutes).
pub const TOKEN_TTL_MS: i64 = 15 * 60 * 1000;

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sandbox/paytm/aoa-acquiring-biz/v2/order", post(create_order))
        .route("/sandbox/paytm/theia/api/v1/initiateTransaction", post(create_order))
        .route("/sandbox/paytm/theia/api/v1/processTransaction", post(process))
        .route("/sandbox/paytm/theia/sandbox/authenticate", post(authenticate))
        .route("/sandbox/paytm/v3/order/status", post(order_status))
        .route("/sandbox/paytm/refund/apply", post(refund_apply))
        .route("/sandbox/paytm/v2/refund/status", post(refund_status))
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Ids {
    mid: Option<String>,
    order_id: Option<String>,
}

/// A signed answer: compact ASCII `{"head":{…},"body":{…}}`, the signature over the body's text.
fn answer(key: Option<&MerchantKey>, body: &Value) -> Response {
    let body_text = super::ascii_json(body);
    let mut head = json!({ "responseTimestamp": crate::now_ms().to_string(), "version": "v1" });
    if let Some(key) = key
        && let Ok(sig) = generate(key, &body_text)
    {
        head["signature"] = sig.into();
    }
    let text = format!("{{\"head\":{},\"body\":{body_text}}}", super::ascii_json(&head));
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], text).into_response()
}

fn result(status: &str, code: &str, msg: &str) -> Value {
    json!({ "resultStatus": status, "resultCode": code, "resultMsg": msg })
}

fn failure(key: Option<&MerchantKey>, code: &str, msg: &str) -> Response {
    answer(key, &json!({ "resultInfo": result("F", code, msg), "extraParamsMap": null }))
}

async fn merchant_key(st: &AppState, mid: &str) -> Option<MerchantKey> {
    let (secret, _) = st.db.psp_account(GW, mid).await.ok()??;
    MerchantKey::new(secret.into_bytes()).ok()
}

fn order_id_valid(id: &str) -> bool {
    !id.is_empty() && id.len() <= 50 && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'@' | b'.'))
}

/// Create Order (seed 004), checked in the order of its table.
async fn create_order(State(st): State<AppState>, Query(q): Query<Ids>, body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body);
    let Some((head, raw)) = envelope(&text) else { return failure(None, "2222", "Invalid request body") };
    let (Ok(head), Ok(b)) = (serde_json::from_str::<Value>(head.get()), serde_json::from_str::<Value>(raw.get())) else {
        return failure(None, "2222", "Invalid request body");
    };
    let s = |k: &str| b[k].as_str().map(str::to_string);
    let Some(mid) = s("mid") else { return failure(None, "1007", "Missing mandatory element") };
    if q.mid.as_deref() != Some(mid.as_str()) {
        return failure(None, "2013", "Mid in the query param doesn't match with the Mid sent in the request");
    }
    let Some(order_id) = s("orderId") else { return failure(None, "1007", "Missing mandatory element") };
    if q.order_id.as_deref() != Some(order_id.as_str()) {
        return failure(None, "2014", "OrderId in the query param doesn't match with the orderId sent in the request");
    }
    let Some(key) = merchant_key(&st, &mid).await else { return failure(None, "2006", "Mid is invalid") };
    let signature = head["signature"].as_str().unwrap_or_default();
    if verify(&key, raw.get(), signature).is_err() {
        return failure(Some(&key), "2005", "Checksum provided is invalid");
    }
    let request_type = s("requestType").unwrap_or_default();
    if request_type.is_empty() || b["txnAmount"].is_null() || b["userInfo"].is_null() || s("websiteName").is_none() {
        return failure(Some(&key), "1007", "Missing mandatory element");
    }
    if !["PAYMENT", "SUBSCRIPTION", "Payment", "UNI_PAY"].contains(&request_type.as_str()) {
        let shown: String = request_type.chars().take(40).collect();
        return failure(Some(&key), "1011", &format!("Parameter '[body->requestType]' has invalid value '[{shown}]'"));
    }
    if !order_id_valid(&order_id) {
        return failure(Some(&key), "2012", "OrderId is invalid");
    }
    let amount = b["txnAmount"]["value"].as_str().and_then(parse_decimal).filter(|a| *a > 0);
    let Some(amount) = amount else { return failure(Some(&key), "2007", "Txn amount is invalid") };
    if b["txnAmount"]["currency"].as_str().unwrap_or("INR") != "INR" {
        return failure(Some(&key), "1001", "Invalid currency");
    }
    if b["userInfo"]["custId"].as_str().is_none_or(str::is_empty) {
        return failure(Some(&key), "1012", "Param missing");
    }
    if order_id.starts_with("SYSERR") {
        // Documented test datum: Paytm's system error.
        return failure(Some(&key), "501", "System Error");
    }
    let token = random_chars(40, b"0123456789abcdef");
    let now = st.now();
    let order = json!({
        "orderId": order_id, "mid": mid, "amount": amount, "currency": "INR", "custId": b["userInfo"]["custId"],
        "callbackUrl": b["callbackUrl"], "txnToken": token, "tokenExpiresAt": now + TOKEN_TTL_MS, "status": "CREATED",
        "txnId": format!("2026{}", random_chars(30, b"0123456789")), "refundAmt": 0,
    });
    let _ledger = LEDGER.lock().await;
    let obj = PspObject {
        id: format!("{mid}:{order_id}"),
        account: mid.clone(),
        kind: "order".into(),
        parent: None,
        tag: None,
        body: order,
        created_at: now,
    };
    match st.db.psp_insert(GW, &obj).await {
        Ok(()) => answer(
            Some(&key),
            &json!({ "resultInfo": result("S", "0000", "Success"), "txnToken": token, "isPromoCodeValid": false, "authenticated": false }),
        ),
        Err(crate::db::DbError::Conflict) => failure(Some(&key), "324", "Duplicate Order Id"),
        Err(_) => failure(Some(&key), "501", "System Error"),
    }
}

fn base(st: &AppState) -> String {
    format!("{}/sandbox/paytm", st.config.public_url)
}

/// Process Transaction: opens the payment of a valid `txnToken` with the instrument.
async fn process(State(st): State<AppState>, Query(q): Query<Ids>, body: Bytes) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(&body) else { return failure(None, "2222", "Invalid request body") };
    let (head, b) = (&v["head"], &v["body"]);
    let (Some(mid), Some(order_id)) = (q.mid.as_deref(), q.order_id.as_deref()) else {
        return failure(None, "1007", "Missing mandatory element");
    };
    if b["mid"].as_str() != Some(mid) || b["orderId"].as_str() != Some(order_id) {
        return failure(None, "2013", "Mid or orderId in the query param doesn't match the request");
    }
    let _ledger = LEDGER.lock().await;
    let id = format!("{mid}:{order_id}");
    let Ok(Some(mut order)) = st.db.psp_get(GW, mid, &id).await else { return failure(None, "334", "Invalid Order Id.") };
    let token_ok = head["txnToken"].as_str().is_some_and(|t| super::same_secret(t, order.body["txnToken"].as_str().unwrap_or_default()));
    if !token_ok || order.body["tokenExpiresAt"].as_i64().is_none_or(|t| t < st.now()) {
        return failure(None, "1006", "Your Session has expired.");
    }
    if order.body["status"] != "CREATED" {
        return failure(None, "1013", "This order has already been processed.");
    }
    let mode = b["paymentMode"].as_str().unwrap_or_default();
    let scenario = match mode {
        "CREDIT_CARD" | "DEBIT_CARD" => {
            let info = b["cardInfo"].as_str().unwrap_or_default();
            let number = info.split('|').nth(1).unwrap_or_default();
            match Scenario::of_card(number) {
                Ok(s) => s,
                Err(why) => return failure(None, "1001", &format!("Invalid card details: {why}")),
            }
        }
        "NET_BANKING"
            if ["SBI", "HDFC", "ICICI", "AXIS", "KOTAK", "PNB", "BOB", "YESB"].contains(&b["channelCode"].as_str().unwrap_or_default()) =>
        {
            Scenario::Buttons
        }
        "NET_BANKING" => return failure(None, "1001", "Invalid channelCode"),
        "BALANCE" => Scenario::Buttons,
        "UPI" => match Scenario::of_vpa(b["payerAccount"].as_str().unwrap_or_default()) {
            Some(s) => s,
            None => return failure(None, "1001", "Invalid payerAccount (sandbox: success@kassa, failure@kassa)"),
        },
        _ => return failure(None, "1001", "Invalid paymentMode"),
    };
    order.body["status"] = "PENDING".into();
    order.body["paymentMode"] = match mode {
        "CREDIT_CARD" => "CC",
        "DEBIT_CARD" => "DC",
        "NET_BANKING" => "NB",
        "BALANCE" => "PPI",
        _ => "UPI",
    }
    .into();
    order.body["scenario"] = scenario.as_str().into();
    let collect = matches!(scenario, Scenario::CollectSuccess | Scenario::CollectFailure);
    if collect {
        order.body["settleAt"] = json!(st.now().saturating_add(i64::try_from(st.config.sandbox_delay_ms).unwrap_or(0)));
    }
    if st.db.psp_update(GW, &id, &order.body).await.is_err() {
        return failure(None, "501", "System Error");
    }
    let key = merchant_key(&st, mid).await;
    if collect {
        return answer(key.as_ref(), &json!({ "resultInfo": result("S", "0000", "Success"), "extraParamsMap": null }));
    }
    let form = json!({
        "actionUrl": format!("{}/theia/sandbox/authenticate", base(&st)), "method": "post", "type": "redirect",
        "headers": { "Content-Type": "application/x-www-form-urlencoded" },
        "content": { "mid": mid, "orderId": order_id, "txnToken": order.body["txnToken"] },
    });
    answer(
        key.as_ref(),
        &json!({ "resultInfo": result("S", "0000", "Success"), "bankForm": { "pageType": "redirect", "isForceResendOtp": false, "redirectForm": form } }),
    )
}

/// The authentication page: shown for the bank form's POST, answered by its own form's POST.
async fn authenticate(State(st): State<AppState>, body: Bytes) -> Response {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    let (mid, order_id, token) = (get("mid"), get("orderId"), get("txnToken"));
    let _ledger = LEDGER.lock().await;
    let id = format!("{mid}:{order_id}");
    let Ok(Some(mut order)) = st.db.psp_get(GW, &mid, &id).await else { return crate::pages::not_found_page() };
    if !super::same_secret(&token, order.body["txnToken"].as_str().unwrap_or_default()) {
        return crate::pages::not_found_page();
    }
    let Some(scenario) = order.body["scenario"].as_str().and_then(Scenario::parse) else { return crate::pages::not_found_page() };
    if order.body["status"] == "PENDING" {
        let action = get("action");
        if action.is_empty() {
            let amount = format!("INR {}", decimal(order.body["amount"].as_i64().unwrap_or(0)));
            let hidden = [("mid", mid.as_str()), ("orderId", order_id.as_str()), ("txnToken", token.as_str())];
            let page = bank_page("Paytm", "/sandbox/paytm/theia/sandbox/authenticate", &hidden, scenario, &amount);
            return crate::pages::html(StatusCode::OK, &crate::pages::csp("'none'", "'self'"), page);
        }
        let (paid, auth_failed) = decide(scenario, &action, &get("otp"));
        settle(&mut order.body, paid, auth_failed);
        if st.db.psp_update(GW, &id, &order.body).await.is_err() {
            return crate::pages::not_found_page();
        }
    }
    let Some(key) = merchant_key(&st, &mid).await else { return crate::pages::not_found_page() };
    callback(&key, &order.body)
}

fn settle(order: &mut Value, paid: bool, auth_failed: bool) {
    let (status, code, msg) = match (paid, auth_failed) {
        (true, _) => ("TXN_SUCCESS", "01", "Txn Success"),
        (false, true) => ("TXN_FAILURE", "141", "User has not completed transaction."),
        (false, false) => ("TXN_FAILURE", "227", "Your payment has been declined by your bank."),
    };
    order["status"] = status.into();
    order["respCode"] = code.into();
    order["respMsg"] = msg.into();
    order["bankTxnId"] = if paid { random_chars(12, b"0123456789").into() } else { "".into() };
    let t = time::OffsetDateTime::now_utc();
    order["txnDate"] =
        format!("{}-{:02}-{:02} {:02}:{:02}:{:02}.0", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second()).into();
}

/// The form post back to the merchant's `callbackUrl`, with `CHECKSUMHASH` over the other fields.
fn callback(key: &MerchantKey, o: &Value) -> Response {
    let s = |k: &str| o[k].as_str().unwrap_or_default().to_string();
    let mut fields: Vec<(String, String)> = vec![
        ("ORDERID".into(), s("orderId")),
        ("MID".into(), s("mid")),
        ("TXNID".into(), s("txnId")),
        ("TXNAMOUNT".into(), decimal(o["amount"].as_i64().unwrap_or(0))),
        ("PAYMENTMODE".into(), s("paymentMode")),
        ("CURRENCY".into(), "INR".into()),
        ("TXNDATE".into(), s("txnDate")),
        ("STATUS".into(), s("status")),
        ("RESPCODE".into(), s("respCode")),
        ("RESPMSG".into(), s("respMsg")),
        ("GATEWAYNAME".into(), "KASSASBX".into()),
        ("BANKTXNID".into(), s("bankTxnId")),
        ("BANKNAME".into(), "Kassa Sandbox Bank".into()),
    ];
    let Ok(checksum) = generate(key, &string_from_params(&fields)) else { return crate::pages::not_found_page() };
    fields.push(("CHECKSUMHASH".into(), checksum));
    callback_page("Paytm", o["callbackUrl"].as_str().unwrap_or_default(), &fields)
}

/// Reads a signed request: (merchant key, body) or the failure to answer.
async fn signed(st: &AppState, body: &Bytes) -> Result<(MerchantKey, Value), Response> {
    let text = String::from_utf8_lossy(body);
    let Some((head, raw)) = envelope(&text) else { return Err(failure(None, "2222", "Invalid request body")) };
    let head: Value = serde_json::from_str(head.get()).unwrap_or_default();
    let b: Value = serde_json::from_str(raw.get()).unwrap_or_default();
    let Some(key) = merchant_key(st, b["mid"].as_str().unwrap_or_default()).await else {
        return Err(failure(None, "2006", "Mid is invalid"));
    };
    if verify(&key, raw.get(), head["signature"].as_str().unwrap_or_default()).is_err() {
        return Err(failure(Some(&key), "2005", "Checksum provided is invalid"));
    }
    Ok((key, b))
}

/// Transaction Status (`/v3/order/status`).
async fn order_status(State(st): State<AppState>, body: Bytes) -> Response {
    let (key, b) = match signed(&st, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mid = b["mid"].as_str().unwrap_or_default();
    let order_id = b["orderId"].as_str().unwrap_or_default();
    let id = format!("{mid}:{order_id}");
    let _ledger = LEDGER.lock().await;
    let Ok(Some(mut order)) = st.db.psp_get(GW, mid, &id).await else {
        return answer(Some(&key), &json!({ "resultInfo": result("TXN_FAILURE", "334", "Invalid Order Id.") }));
    };
    let o = &mut order.body;
    if o["status"] == "PENDING" && o["settleAt"].as_i64().is_some_and(|t| t <= st.now()) {
        let paid = o["scenario"] == Scenario::CollectSuccess.as_str();
        settle(o, paid, false);
        if st.db.psp_update(GW, &id, o).await.is_err() {
            return failure(Some(&key), "501", "System Error");
        }
    }
    let (status, code, msg) = match o["status"].as_str().unwrap_or_default() {
        "TXN_SUCCESS" => ("TXN_SUCCESS".to_string(), "01".to_string(), "Txn Success".to_string()),
        "TXN_FAILURE" => {
            ("TXN_FAILURE".into(), o["respCode"].as_str().unwrap_or("227").into(), o["respMsg"].as_str().unwrap_or_default().into())
        }
        _ => (
            "PENDING".into(),
            "402".into(),
            "Looks like the payment is not complete. Please wait while we confirm the status with your bank.".into(),
        ),
    };
    let s = |k: &str| o[k].as_str().unwrap_or_default().to_string();
    answer(
        Some(&key),
        &json!({
            "resultInfo": result(&status, &code, &msg), "txnId": s("txnId"), "bankTxnId": s("bankTxnId"), "orderId": order_id,
            "txnAmount": decimal(o["amount"].as_i64().unwrap_or(0)), "txnType": "SALE", "gatewayName": "KASSASBX",
            "bankName": "Kassa Sandbox Bank", "mid": mid, "paymentMode": s("paymentMode"),
            "refundAmt": decimal(o["refundAmt"].as_i64().unwrap_or(0)), "txnDate": s("txnDate"),
        }),
    )
}

/// Refund (`/refund/apply`): accepted as PENDING (601), as Paytm does; refused over what is left.
async fn refund_apply(State(st): State<AppState>, body: Bytes) -> Response {
    let (key, b) = match signed(&st, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let s = |k: &str| b[k].as_str().unwrap_or_default().to_string();
    let (mid, order_id, ref_id) = (s("mid"), s("orderId"), s("refId"));
    let refused = |code: &str, msg: &str| {
        answer(Some(&key), &json!({ "orderId": order_id, "mid": mid, "refId": ref_id, "resultInfo": result("TXN_FAILURE", code, msg) }))
    };
    if s("txnType") != "REFUND" || ref_id.is_empty() {
        return refused("1001", "Invalid txnType or refId");
    }
    let _ledger = LEDGER.lock().await;
    let id = format!("{mid}:{order_id}");
    let Ok(Some(mut order)) = st.db.psp_get(GW, &mid, &id).await else { return refused("334", "Invalid Order Id.") };
    if order.body["status"] != "TXN_SUCCESS" || order.body["txnId"].as_str() != Some(s("txnId").as_str()) {
        return refused("631", "Record not found");
    }
    let refund_key = format!("{mid}:{order_id}:{ref_id}");
    if st.db.psp_get(GW, &mid, &refund_key).await.ok().flatten().is_some() {
        // Paytm refuses a refId it has seen.
        return refused("617", "Duplicate refId");
    }
    let Some(amount) = s("refundAmount").as_str().pipe(parse_decimal).filter(|a| *a > 0) else {
        return refused("619", "Invalid refund amount");
    };
    let left = order.body["amount"].as_i64().unwrap_or(0) - order.body["refundAmt"].as_i64().unwrap_or(0);
    if amount > left || amount == 13 {
        // 0.13 is the documented test datum of a refund the gateway refuses.
        return refused("619", "Invalid refund amount");
    }
    order.body["refundAmt"] = json!(order.body["refundAmt"].as_i64().unwrap_or(0) + amount);
    let answer_body = json!({
        "txnTimestamp": st.now().to_string(), "orderId": order_id, "mid": mid, "refId": ref_id,
        "resultInfo": result("PENDING", "601", "Refund request was raised for this transaction. But it is pending state"),
        "refundId": random_chars(20, b"0123456789"), "txnId": s("txnId"), "refundAmount": decimal(amount),
    });
    // The sandbox makes the refund after its delay; `/v2/refund/status` says so from then.
    let mut stored = answer_body.clone();
    stored["doneAt"] = json!(st.now().saturating_add(i64::try_from(st.config.sandbox_delay_ms).unwrap_or(0)));
    let obj = PspObject {
        id: refund_key,
        account: mid.clone(),
        kind: "refund".into(),
        parent: Some(id.clone()),
        tag: None,
        body: stored,
        created_at: st.now(),
    };
    if st.db.psp_insert(GW, &obj).await.is_err() || st.db.psp_update(GW, &id, &order.body).await.is_err() {
        return refused("501", "System Error");
    }
    answer(Some(&key), &answer_body)
}

/// Refund status (`/v2/refund/status`, by `refId`): PENDING until the sandbox made it, then TXN_SUCCESS.
async fn refund_status(State(st): State<AppState>, body: Bytes) -> Response {
    let (key, b) = match signed(&st, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let s = |k: &str| b[k].as_str().unwrap_or_default().to_string();
    let (mid, order_id, ref_id) = (s("mid"), s("orderId"), s("refId"));
    let Ok(Some(refund)) = st.db.psp_get(GW, &mid, &format!("{mid}:{order_id}:{ref_id}")).await else {
        return answer(
            Some(&key),
            &json!({ "orderId": order_id, "mid": mid, "refId": ref_id, "resultInfo": result("TXN_FAILURE", "631", "Record not found") }),
        );
    };
    let mut shown = refund.body.clone();
    if let Some(m) = shown.as_object_mut() {
        m.remove("doneAt");
    }
    if refund.body["doneAt"].as_i64().is_some_and(|t| t <= st.now()) {
        shown["resultInfo"] = result("TXN_SUCCESS", "10", "Refund Successfull");
    }
    answer(Some(&key), &shown)
}

trait Pipe: Sized {
    fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
        f(self)
    }
}
impl<T> Pipe for T {}
