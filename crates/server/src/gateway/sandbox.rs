//! Kassa's sandbox gateway (SPEC §3 "Sandbox gateway"): documented test
//! inputs with fixed outcomes, and its bank pages (plain HTML forms that
//! work without JavaScript), mounted only with it.

use super::{Answer, BankAnswer, Declined, Gateway, MethodInput, Prompt, Started};
use crate::domain::GatewayResponse;
use crate::domain::flow::BankAction;
use crate::http::body::Fields;
use crate::http::error::AppError;
use crate::pages::{csp, esc, format_amount, frame_ancestors, html, not_found_page, redirect_after, simple_page};
use crate::{AppState, now_ms};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kassa_types::OrderStatus;
use kassa_types::card;
use kassa_types::methods::{BANKS, WALLETS};

/// The sandbox gateway: documented test inputs with fixed outcomes (README, "Sandbox test data").
#[derive(Debug)]
pub struct Sandbox;

/// The OTP that authenticates a sandbox card payment.
pub const SANDBOX_OTP: &str = "123456";

impl Gateway for Sandbox {
    fn start(&self, input: &MethodInput<'_>) -> Result<Started, Declined> {
        let id = || crate::random_id("sbx_");
        let now = |scenario: &str| Ok(Started { scenario: scenario.into(), collect: None, gateway_txn_id: id() });
        match input {
            MethodInput::Card { number, .. } => match *number {
                "4111111111111111" | "5555555555554444" => now("card_otp"),
                "4000000000000002" => now("card_decline"),
                "4000000000000119" => now("card_pending"),
                _ if card::number_valid(number) => Err(Declined(
                    "the sandbox accepts only its test cards (4111 1111 1111 1111, 5555 5555 5555 4444, 4000 0000 0000 0002, 4000 0000 0000 0119)"
                        .into(),
                )),
                _ => Err(Declined("card number is not valid".into())),
            },
            MethodInput::Netbanking(bank) if BANKS.iter().any(|(c, _)| c == bank) => now("buttons"),
            MethodInput::Netbanking(_) => Err(Declined("unknown bank".into())),
            MethodInput::Wallet(w) if WALLETS.iter().any(|(c, _)| c == w) => now("buttons"),
            MethodInput::Wallet(_) => Err(Declined("unknown wallet".into())),
            MethodInput::Upi("success@kassa") => {
                Ok(Started { scenario: "upi_collect".into(), collect: Some(OrderStatus::CHARGED), gateway_txn_id: id() })
            }
            MethodInput::Upi("failure@kassa") => {
                Ok(Started { scenario: "upi_collect".into(), collect: Some(OrderStatus::AUTHORIZATION_FAILED), gateway_txn_id: id() })
            }
            MethodInput::Upi(_) => Err(Declined("the sandbox accepts only the UPI ids success@kassa and failure@kassa".into())),
        }
    }

    fn answer(&self, scenario: &str, answer: &BankAnswer<'_>) -> Answer {
        match (scenario, answer) {
            ("card_otp", BankAnswer::Otp(otp)) if *otp == SANDBOX_OTP => Answer::Final(OrderStatus::CHARGED),
            ("card_decline", BankAnswer::Otp(otp)) if *otp == SANDBOX_OTP => Answer::Final(OrderStatus::AUTHORIZATION_FAILED),
            ("card_pending", BankAnswer::Otp(otp)) if *otp == SANDBOX_OTP => Answer::Authorizing(OrderStatus::CHARGED),
            ("buttons", BankAnswer::Approve) => Answer::Final(OrderStatus::CHARGED),
            ("buttons", BankAnswer::Decline) => Answer::Final(OrderStatus::AUTHORIZATION_FAILED),
            _ => Answer::Final(OrderStatus::AUTHENTICATION_FAILED),
        }
    }

    fn prompt(&self, scenario: &str) -> Prompt {
        match scenario {
            "upi_collect" => Prompt::Collect,
            s if s.starts_with("card") => Prompt::Otp,
            _ => Prompt::Buttons,
        }
    }

    fn page_url(&self, base: &str, txn_id: &str) -> String {
        format!("{base}/sandbox/bank/{txn_id}")
    }

    fn response(&self, status: OrderStatus, now: i64) -> GatewayResponse {
        let digits = |n: usize| (0..n).map(|_| char::from(b'0' + rand::random_range(0..10u8))).collect::<String>();
        let (code, message) = match status {
            OrderStatus::CHARGED => ("00", "Transaction successful"),
            OrderStatus::AUTHENTICATION_FAILED => ("AUTHENTICATION_FAILED", "The shopper did not complete authentication"),
            OrderStatus::AUTHORIZATION_FAILED => ("05", "Declined by the issuing bank"),
            OrderStatus::AUTO_REFUNDED => ("00", "Transaction successful; refunded automatically"),
            other @ (OrderStatus::NEW
            | OrderStatus::PENDING_VBV
            | OrderStatus::JUSPAY_DECLINED
            | OrderStatus::AUTHORIZING
            | OrderStatus::STARTED
            | OrderStatus::CAPTURE_INITIATED
            | OrderStatus::CAPTURE_FAILED
            | OrderStatus::VOID_INITIATED
            | OrderStatus::VOIDED
            | OrderStatus::VOID_FAILED) => (other.as_str(), other.as_str()),
        };
        let success = matches!(status, OrderStatus::CHARGED | OrderStatus::AUTO_REFUNDED);
        GatewayResponse {
            resp_code: code.into(),
            resp_message: message.into(),
            rrn: if success { digits(12) } else { String::new() },
            auth_id_code: if success { digits(6) } else { String::new() },
            created_at: now,
        }
    }
}

/// The sandbox's bank pages.
pub fn routes() -> Router<AppState> {
    Router::new().route("/sandbox/bank/{txn_id}", get(bank_page).post(bank_answer))
}

async fn bank_page(State(st): State<AppState>, Path(txn_id): Path<String>) -> Response {
    let Ok(Some(txn)) = st.db.txn(&txn_id).await else { return not_found_page() };
    let Ok(Some(order)) = st.db.order(&txn.order_pk).await else { return not_found_page() };
    let merchant = st.db.merchant(&order.merchant_id).await.ok().flatten();
    let merchant_name = merchant.as_ref().map(|m| m.name.clone()).unwrap_or_default();
    // The iframe variant runs the bank step inside the merchant's frame too.
    let ancestors = merchant.map(|m| frame_ancestors(&m)).unwrap_or_else(|| "'none'".into());
    if txn.status != OrderStatus::PENDING_VBV {
        return redirect_after(&st, &order, txn.in_frame).await;
    }
    let action = format!("/sandbox/bank/{}", esc(&txn.id));
    let form = match st.gateway.prompt(&txn.scenario) {
        Prompt::Collect => return collect_page(&st, &txn).await,
        Prompt::Otp => format!(
            "<form method=\"post\" action=\"{action}\">\
             <label for=\"otp\">One-time password</label>\
             <input id=\"otp\" name=\"otp\" inputmode=\"numeric\" autocomplete=\"one-time-code\" maxlength=\"8\" required>\
             <p class=\"hint\">Sandbox: <code>123456</code> approves; any other OTP fails authentication.</p>\
             <button type=\"submit\" name=\"action\" value=\"submit\">Submit OTP</button>\
             <button type=\"submit\" name=\"action\" value=\"cancel\" class=\"secondary\" formnovalidate>Cancel payment</button></form>"
        ),
        Prompt::Buttons => format!(
            "<form method=\"post\" action=\"{action}\">\
             <p class=\"hint\">Sandbox: choose the outcome of this payment.</p>\
             <button type=\"submit\" name=\"action\" value=\"approve\">Success</button>\
             <button type=\"submit\" name=\"action\" value=\"decline\" class=\"secondary\">Failure</button></form>"
        ),
    };
    let method = txn.method_detail.clone().unwrap_or_default();
    let card = txn.card_last4.as_ref().map(|l| format!(" ending {}", esc(l))).unwrap_or_default();
    let inner = format!(
        "<p class=\"badge\">Kassa sandbox bank</p><h1>Authorise payment</h1>\
         <dl><dt>Merchant</dt><dd>{m}</dd><dt>Amount</dt><dd class=\"amount\">{a}</dd><dt>Method</dt><dd>{meth}{card}</dd></dl>{form}",
        m = esc(&merchant_name),
        a = esc(&format_amount(&order)),
        meth = esc(&method),
    );
    let form_action = match order.return_url.as_deref().and_then(|u| url::Url::parse(u).ok()) {
        Some(u) => format!("'self' {}", u.origin().ascii_serialization()),
        None => "'self'".into(),
    };
    html(StatusCode::OK, &csp(&ancestors, &form_action), simple_page("Sandbox bank", &inner))
}

async fn bank_answer(State(st): State<AppState>, Path(txn_id): Path<String>, mut fields: Fields) -> Response {
    let Ok(Some(txn)) = st.db.txn(&txn_id).await else { return not_found_page() };
    let action = fields.take("action").unwrap_or_else(|| "submit".into());
    let otp = fields.take("otp").unwrap_or_default();
    let action = match action.as_str() {
        "approve" => BankAction::Approve,
        "decline" => BankAction::Decline,
        "cancel" => BankAction::Cancel,
        _ => BankAction::Otp(otp.trim()),
    };
    if st.gateway.prompt(&txn.scenario) == Prompt::Collect {
        // A collect request is answered in the shopper's UPI app, never here.
        return collect_page(&st, &txn).await;
    }
    // An answer for an attempt no longer waiting on this page changes nothing.
    if let Err(e) = crate::domain::flow::bank_answer(&st, &txn, action, now_ms()).await {
        return AppError::from(e).into_response();
    }
    match st.db.order(&txn.order_pk).await {
        Ok(Some(order)) => redirect_after(&st, &order, txn.in_frame).await,
        _ => not_found_page(),
    }
}

/// A pending UPI collect request has nothing to answer on a web page.
async fn collect_page(st: &AppState, txn: &crate::db::Txn) -> Response {
    if txn.status != OrderStatus::PENDING_VBV
        && let Ok(Some(order)) = st.db.order(&txn.order_pk).await
    {
        return redirect_after(st, &order, txn.in_frame).await;
    }
    html(
        StatusCode::OK,
        &csp("'none'", "'none'"),
        simple_page(
            "Approve in your UPI app",
            "<h1>Approve in your UPI app</h1><p>A collect request was sent to your UPI id. Approve it in your UPI app; \
             the payment page shows the result.</p>",
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::vpa_valid;

    #[test]
    fn sandbox_cards() {
        let g = Sandbox;
        let start = |n| g.start(&MethodInput::Card { number: n, brand: card::detect_brand(n) });
        let ok = start("4111111111111111").expect("test card").scenario;
        assert_eq!(g.answer(&ok, &BankAnswer::Otp("123456")), Answer::Final(OrderStatus::CHARGED));
        assert_eq!(g.answer(&ok, &BankAnswer::Otp("000000")), Answer::Final(OrderStatus::AUTHENTICATION_FAILED));
        let decline = start("4000000000000002").expect("decline card").scenario;
        assert_eq!(g.answer(&decline, &BankAnswer::Otp("123456")), Answer::Final(OrderStatus::AUTHORIZATION_FAILED));
        let pending = start("4000000000000119").expect("pending card").scenario;
        assert_eq!(g.answer(&pending, &BankAnswer::Otp("123456")), Answer::Authorizing(OrderStatus::CHARGED));
        assert_eq!(g.answer(&pending, &BankAnswer::Otp("1")), Answer::Final(OrderStatus::AUTHENTICATION_FAILED));
        assert!(start("378282246310005").is_err());
        assert!(start("4111111111111112").is_err());
    }

    #[test]
    fn sandbox_upi_collect() {
        let g = Sandbox;
        let ok = g.start(&MethodInput::Upi("success@kassa")).unwrap();
        assert_eq!(ok.collect, Some(OrderStatus::CHARGED));
        assert_eq!(g.prompt(&ok.scenario), Prompt::Collect);
        assert_eq!(g.start(&MethodInput::Upi("failure@kassa")).unwrap().collect, Some(OrderStatus::AUTHORIZATION_FAILED));
        assert!(g.start(&MethodInput::Upi("someone@okbank")).is_err());
        for good in ["success@kassa", "a.b-c_d@okhdfc"] {
            assert!(vpa_valid(good), "{good}");
        }
        for bad in ["", "a@b", "@kassa", "x@", "no-at", "a b@kassa", "ab@ka.ssa", "ab@kassa@x"] {
            assert!(!vpa_valid(bad), "{bad}");
        }
    }
}
