//! Kassa's side of a remote gateway's journey: the step that sends the
//! shopper to the gateway's authentication, the callback the gateway sends
//! them back to, and the gateway's webhooks. None of them decides an
//! attempt: each verifies what it got and then asks the gateway's API
//! ([`crate::domain::gateway_flow::reconcile`]).

use crate::AppState;
use crate::domain::gateway_flow::reconcile_paced;
use crate::gateway::REMOTE;
use crate::gateway::route::Credentials;
use crate::http::body::Fields;
use crate::http::error::AppError;
use crate::pages::{csp, esc, frame_ancestors, html, not_found_page, redirect_after, simple_page};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kassa_types::OrderStatus;

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/gateway/pay/{txn_id}", get(pay))
        .route("/gateway/return/{txn_id}", get(return_get).post(return_post))
        .route("/gateway/webhooks/{account_id}", post(webhook))
        .route("/gateway/autosubmit.js", get(|| async { ([(header::CONTENT_TYPE, "text/javascript")], AUTOSUBMIT) }))
}

/// Submits the page's one form at once; without JavaScript the shopper presses its button.
pub const AUTOSUBMIT: &str = "document.forms[0] && document.forms[0].submit();\n";

/// Sends the shopper to the gateway's authentication for a pending attempt.
async fn pay(State(st): State<AppState>, Path(txn_id): Path<String>) -> Response {
    let Ok(Some(txn)) = st.db.txn(&txn_id).await else { return not_found_page() };
    let Ok(Some(order)) = st.db.order(&txn.order_pk).await else { return not_found_page() };
    let redirect = txn.details.redirect.as_ref().filter(|_| txn.scenario == REMOTE && txn.status == OrderStatus::PENDING_VBV);
    let Some(redirect) = redirect else { return redirect_after(&st, &order, txn.in_frame).await };
    if redirect.method == "GET" {
        return Redirect::to(&redirect.url).into_response();
    }
    let gateway = st.db.order_account(&order).await.ok().flatten().map_or("the gateway", |a| a.kind().display());
    let inputs = crate::pages::hidden_inputs(redirect.params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let inner = format!(
        "<h1>Continuing to {g}</h1><p>{g} asks you to confirm this payment.</p>\
         <form method=\"post\" action=\"{url}\">{inputs}<button type=\"submit\">Continue to {g}</button></form>\
         <script src=\"/gateway/autosubmit.js\"></script>",
        g = esc(gateway),
        url = esc(&redirect.url),
    );
    let form_action = url::Url::parse(&redirect.url).map(|u| u.origin().ascii_serialization()).unwrap_or_else(|_| "'none'".into());
    let merchant = st.db.merchant(&order.merchant_id).await.ok().flatten();
    let ancestors = merchant.as_ref().map_or_else(|| "'none'".into(), frame_ancestors);
    html(StatusCode::OK, &csp(&ancestors, &form_action), simple_page("Continue to your payment", &inner))
}

async fn return_get(st: State<AppState>, path: Path<String>, RawQuery(q): RawQuery) -> Response {
    let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(q.as_deref().unwrap_or_default()).unwrap_or_default();
    returned(st, path, pairs).await
}

async fn return_post(st: State<AppState>, path: Path<String>, fields: Fields) -> Response {
    returned(st, path, fields.into_pairs()).await
}

/// The shopper back from the gateway: the callback's signature is checked,
/// then the gateway's API decides; a callback that does not verify changes nothing.
async fn returned(State(st): State<AppState>, Path(txn_id): Path<String>, fields: Vec<(String, String)>) -> Response {
    let Ok(Some(txn)) = st.db.txn(&txn_id).await else { return not_found_page() };
    let Ok(Some(order)) = st.db.order(&txn.order_pk).await else { return not_found_page() };
    let account = st.db.order_account(&order).await.ok().flatten();
    let Some(account) = account.filter(|_| txn.scenario == REMOTE) else { return not_found_page() };
    if fields.len() > 64 {
        return refused("The gateway's answer has too many fields.");
    }
    if let Err(why) = crate::gateway::remote::callback(&account, &txn, &fields) {
        tracing::warn!(txn = %txn.id, gateway = account.kind().as_str(), %why, "a gateway callback was refused");
        return refused("This answer from the payment gateway could not be verified, so it changed nothing.");
    }
    if let Err(e) = reconcile_paced(&st, &txn).await {
        return AppError::from(e).into_response();
    }
    match st.db.order(&txn.order_pk).await {
        Ok(Some(order)) => redirect_after(&st, &order, txn.in_frame).await,
        _ => not_found_page(),
    }
}

fn refused(text: &str) -> Response {
    let inner = format!("<h1>Payment not confirmed</h1><p>{}</p>", esc(text));
    html(StatusCode::BAD_REQUEST, &csp("'none'", "'none'"), simple_page("Payment not confirmed", &inner))
}

/// A gateway's webhook (Razorpay: `X-Razorpay-Signature`, HMAC-SHA256 of
/// the body with the account's webhook secret). A verified one makes Kassa
/// ask the gateway's API about the attempt it names.
async fn webhook(
    State(st): State<AppState>,
    Path(account_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let account =
        st.db.gateway_account(&account_id).await?.ok_or_else(|| AppError::bad_request("unknown_account", "no such gateway account"))?;
    let Credentials::Razorpay { webhook_secret: Some(secret), .. } = &account.credentials else {
        return Err(AppError::bad_request("webhooks_not_configured", "this gateway account takes no webhooks"));
    };
    let signature = headers.get("x-razorpay-signature").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let key = kassa_sign::razorpay::Secret::new(secret.as_bytes().to_vec());
    if kassa_sign::razorpay::verify_webhook(&key, &body, signature).is_err() {
        return Err(AppError::unauthorized("X-Razorpay-Signature does not verify"));
    }
    let event: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| AppError::bad_request("invalid_request", "the webhook body is not JSON"))?;
    let txn_id = ["payment", "order", "refund"]
        .iter()
        .find_map(|k| event["payload"][k]["entity"]["notes"]["kassa_txn_id"].as_str())
        .map(str::to_string);
    if let Some(txn_id) = txn_id
        && let Some(txn) = st.db.txn(&txn_id).await?
        && let Some(order) = st.db.order(&txn.order_pk).await?
        && order.gateway_account.as_deref() == Some(account.id.as_str())
    {
        reconcile_paced(&st, &txn).await?;
    }
    Ok((StatusCode::OK, axum::Json(serde_json::json!({ "status": "ok" }))).into_response())
}
