//! Juspay's Pre-Auth and Capture API: `POST /v2/txns/:txn_uuid/capture` and
//! `POST /v2/txns/:txn_uuid/void`, with the merchant's API key (Basic). Both
//! answer the order status body (Juspay: "the response for the Capture
//! Transaction API is an Order Object"), whose `txn_detail.status` is the
//! attempt's: CHARGED, CAPTURE_INITIATED or CAPTURE_FAILED; VOIDED,
//! VOID_INITIATED or VOID_FAILED.

use crate::AppState;
use crate::db::Txn;
use crate::domain::preauth::{self, HoldError};
use crate::http::auth::Authed;
use crate::http::body::Fields;
use crate::http::error::AppError;
use crate::juspay::wire::StatusBody;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kassa_types::OrderStatus;

fn txn_not_found() -> AppError {
    AppError { status: StatusCode::NOT_FOUND, code: "txn_not_found", message: "no such transaction".into(), retry_after: None }
}

/// The merchant's attempt named in the path; 404 for an unknown id or another merchant's.
async fn merchant_txn(state: &AppState, merchant_id: &str, txn_uuid: &str) -> Result<(crate::db::Order, Txn), AppError> {
    if txn_uuid.len() > 64 || !txn_uuid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(txn_not_found());
    }
    let txn = state.db.txn(txn_uuid).await?.ok_or_else(txn_not_found)?;
    let order = state.db.order(&txn.order_pk).await?.ok_or_else(txn_not_found)?;
    if order.merchant_id != merchant_id {
        return Err(txn_not_found());
    }
    Ok((order, txn))
}

/// Juspay's refusal of a capture or void on an attempt in the wrong state
/// (its published sample: `Cannot Void CHARGED Transaction`).
fn invalid_state(verb: &str, status: OrderStatus) -> Response {
    let message = format!("Cannot {verb} {status} Transaction");
    let body = serde_json::json!({
        "status": "Bad Request",
        "error_code": "Invalid",
        "error_message": message,
        "error_info": {
            "user_message": "Invalid request params. Please verify your input.",
            "developer_message": message,
            "code": "INVALID_INPUT",
            "category": "USER_ERROR",
        },
    });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

fn refused(verb: &str, e: HoldError) -> Response {
    match e {
        HoldError::InvalidState(status) => invalid_state(verb, status),
        HoldError::TooMuch(held) => AppError::bad_request(
            "invalid_amount",
            format!("the capture amount is more than the authorized amount ({})", crate::gateway::remote::decimal(held)),
        )
        .into_response(),
        HoldError::KeyReused => {
            AppError::conflict("duplicate_idempotence_key", "idempotence_key was already used for a capture of another amount")
                .into_response()
        }
        HoldError::Unsupported(why) => AppError::bad_request("not_supported", why).into_response(),
    }
}

async fn answer(state: &AppState, order: &crate::db::Order) -> Result<Response, AppError> {
    let order = state.db.order(&order.id).await?.ok_or_else(txn_not_found)?;
    let body: StatusBody = crate::juspay::orders::status_body(state, &order).await?;
    Ok(Json(body).into_response())
}

/// `POST /v2/txns/:txn_uuid/capture`: `amount` (a decimal, at most the
/// hold; default all of it) and `idempotence_key` (a repeat with the same
/// key and amount answers the same capture).
pub(crate) async fn capture(
    State(state): State<AppState>,
    Authed(merchant): Authed,
    audit: crate::observe::AuditCtx,
    Path(txn_uuid): Path<String>,
    mut f: Fields,
) -> Result<Response, AppError> {
    let amount = f.amount("amount")?;
    let key = f.take("idempotence_key").unwrap_or_default();
    if key.len() > 64 || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(AppError::bad_request("invalid_parameter", "idempotence_key must be at most 64 letters, digits, '_' or '-'"));
    }
    f.finish()?;
    let amount = match amount {
        Some(a) => Some(i64::try_from(a.minor()).map_err(|_| AppError::bad_request("invalid_amount", "amount is too large"))?),
        None => None,
    };
    if amount == Some(0) {
        return Err(AppError::bad_request("invalid_amount", "amount must be more than 0"));
    }
    let (order, txn) = merchant_txn(&state, &merchant.id, &txn_uuid).await?;
    // A repeat of a capture (same idempotence key) changes nothing and is not audited again.
    let repeat = !key.is_empty() && txn.capture_key.as_deref() == Some(key.as_str());
    match preauth::capture(&state, &order, &txn, amount, &key).await? {
        Ok(()) if repeat => answer(&state, &order).await,
        Ok(()) => {
            let detail = serde_json::json!({ "order_id": order.order_id, "amount_minor": amount.unwrap_or(txn.amount_minor), "idempotence_key": key });
            audit.record(&state.db, Some(&merchant.id), "txn.capture", Some(&txn_uuid), detail).await;
            answer(&state, &order).await
        }
        Err(e) => Ok(refused("Capture", e)),
    }
}

/// `POST /v2/txns/:txn_uuid/void`: releases a hold (only while AUTHORIZED).
pub(crate) async fn void(
    State(state): State<AppState>,
    Authed(merchant): Authed,
    audit: crate::observe::AuditCtx,
    Path(txn_uuid): Path<String>,
    f: Fields,
) -> Result<Response, AppError> {
    f.finish()?;
    let (order, txn) = merchant_txn(&state, &merchant.id, &txn_uuid).await?;
    match preauth::void(&state, &order, &txn).await? {
        Ok(()) => {
            let detail = serde_json::json!({ "order_id": order.order_id, "amount_minor": txn.amount_minor });
            audit.record(&state.db, Some(&merchant.id), "txn.void", Some(&txn_uuid), detail).await;
            answer(&state, &order).await
        }
        Err(e) => Ok(refused("Void", e)),
    }
}
