//! The sandbox bank's pages: what a shopper sees between the payment page
//! and the shop (an OTP form, Success/Failure buttons, "approve in your UPI
//! app"). Answers go through the payment flow like a real gateway's callback.

use crate::AppState;
use crate::domain::flow::BankAction;
use crate::gateway::Prompt;
use crate::http::body::Fields;
use crate::http::error::AppError;
use crate::pages::{csp, esc, format_amount, frame_ancestors, html, not_found_page, redirect_after, simple_page};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kassa_types::OrderStatus;

/// The sandbox's bank pages.
pub fn routes() -> Router<AppState> {
    Router::new().route("/sandbox/bank/{txn_id}", get(bank_page).post(bank_answer))
}

async fn bank_page(State(st): State<AppState>, Path(txn_id): Path<String>) -> Response {
    let Ok(Some(txn)) = st.db.txn(&txn_id).await else { return not_found_page() };
    let Ok(Some(order)) = st.db.order(&txn.order_pk).await else { return not_found_page() };
    let merchant = st.db.merchant(&order.merchant_id).await.ok().flatten();
    let merchant_name = merchant.as_ref().map(|m| m.name.clone()).unwrap_or_default();
    // Where the answer's redirects end: the order's return URL, else the merchant's default.
    let return_url = order.return_url.clone().or_else(|| merchant.as_ref().and_then(|m| m.default_return_url.clone()));
    // The iframe variant runs the bank step inside the merchant's frame too.
    let ancestors = merchant.map(|m| frame_ancestors(&m)).unwrap_or_else(|| "'none'".into());
    if txn.status != OrderStatus::PENDING_VBV || txn.scenario == crate::gateway::REMOTE {
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
    let form_action = match return_url.as_deref().and_then(|u| url::Url::parse(u).ok()) {
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
    if let Err(e) = crate::domain::flow::bank_answer(&st, &txn, action, st.now()).await {
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
