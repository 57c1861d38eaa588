//! Pre-authorization (seeds 000, 002; Juspay's "Pre-Auth and Capture"): an
//! order created with `metadata.txns.auto_capture=false` is paid by a hold
//! (its successful attempt ends AUTHORIZED), which the merchant captures, in
//! full or in part, or voids; a hold nobody captures is voided when the
//! hold period ends.
//!
//! Each step follows the payment flow's order: persist (a compare-and-set
//! of the attempt from AUTHORIZED to CAPTURE_INITIATED or VOID_INITIATED,
//! so of concurrent requests exactly one starts), ask the gateway, apply its
//! answer as a step of its own. What the gateway is expected to answer is
//! stored with the step, so a crash in between is resolved after a restart:
//! the built-in sandbox's answer is applied by the settler, a remote
//! gateway is asked again by the checker (never a second capture: Razorpay
//! refuses one, and Kassa then reads the payment).

use crate::AppState;
use crate::db::{DbError, HoldStep, Order, Txn};
use crate::gateway::HoldAnswer;
use crate::gateway::razorpay::{self, Captured};
use crate::gateway::remote::GatewayError;
use crate::gateway::route::{Account, Credentials};
use kassa_types::OrderStatus;

/// The hold period's default: 7 days, the card networks' limit for most
/// online card holds (Visa customer-initiated, Mastercard, Amex, Discover:
/// Stripe, "Place a hold on a payment method"; Juspay's v1 docs ask for
/// capture or void "within 7 days of transaction initiation").
pub const DEFAULT_HOLD_MS: u64 = 7 * 24 * 3600 * 1000;

/// How long a capture or void of the built-in sandbox is left to the
/// request that started it before the settler applies the gateway's answer.
const STEP_LEASE_MS: i64 = 5_000;

/// Why a capture or void was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum HoldError {
    /// The attempt is in this status, which takes no capture or void.
    InvalidState(OrderStatus),
    /// The capture asks for more than the hold (its amount, minor units).
    TooMuch(i64),
    /// The `idempotence_key` was used for a capture of another amount.
    KeyReused,
    /// The order's gateway cannot do it (its reason).
    Unsupported(String),
}

/// Captures `amount_minor` (all of the hold when `None`) of the hold of
/// `txn`, idempotently by `key` (`""`: none given). The attempt ends CHARGED
/// (the order CHARGED, or PARTIAL_CHARGED for part of the hold), or
/// CAPTURE_FAILED; CAPTURE_INITIATED while the gateway has not answered.
pub async fn capture(
    state: &AppState,
    order: &Order,
    txn: &Txn,
    amount_minor: Option<i64>,
    key: &str,
) -> Result<Result<(), HoldError>, DbError> {
    let amount = amount_minor.unwrap_or(txn.amount_minor);
    let account = state.db.order_account(order).await?;
    let now = state.now();
    let (then, settle_at, answered) = match &account {
        None => match state.gateway.capture(&txn.scenario) {
            HoldAnswer::Now(s) => (s, now.saturating_add(STEP_LEASE_MS), true),
            HoldAnswer::Later(s, ms) => (s, now.saturating_add(ms), false),
        },
        Some(a) => match &a.credentials {
            // (A hold no longer AUTHORIZED is refused for its state below, like any other.)
            Credentials::Razorpay { .. } if amount != txn.amount_minor && txn.status == OrderStatus::AUTHORIZED => {
                return Ok(Err(HoldError::Unsupported("Razorpay captures only the whole authorized amount: omit amount".into())));
            }
            // Left to this request for longer than its calls to the gateway can take; then the
            // checker asks again (never while this request's capture may still be on its way).
            Credentials::Razorpay { .. } => (OrderStatus::CHARGED, crate::domain::gateway_flow::lease(state), false),
            Credentials::Paytm { .. } => return Ok(Err(HoldError::Unsupported("Paytm orders cannot be pre-authorized".into()))),
        },
    };
    match state.db.begin_capture(&txn.id, amount, key, then, settle_at, now).await? {
        HoldStep::Started => {}
        HoldStep::Repeat(_) => return Ok(Ok(())),
        HoldStep::KeyReused => return Ok(Err(HoldError::KeyReused)),
        HoldStep::TooMuch(held) => return Ok(Err(HoldError::TooMuch(held))),
        HoldStep::Refused(status) => return Ok(Err(HoldError::InvalidState(status))),
    }
    let txn = Txn { status: OrderStatus::CAPTURE_INITIATED, captured_minor: Some(amount), ..txn.clone() };
    match &account {
        None => {
            if answered {
                let response = state.gateway.response(then, state.now());
                state.db.complete_txn(&txn.id, OrderStatus::CAPTURE_INITIATED, then, Some(&response), state.now(), false).await?;
            }
        }
        Some(account) => {
            let base = account.base(&state.config.public_url);
            let (state, order, account) = (state.clone(), order.clone(), account.clone());
            // To the end even if the merchant's request goes away.
            tokio::spawn(async move { capture_at_gateway(&state, &order, &account, &base, &txn).await })
                .await
                .map_err(|e| DbError::Other(sqlx::Error::Protocol(format!("a capture stopped: {e}"))))??;
        }
    }
    Ok(Ok(()))
}

/// Sends the capture of a CAPTURE_INITIATED attempt to its gateway (again,
/// for the checker) and applies the answer; no answer leaves it to the
/// checker, asked again after the poll interval.
pub async fn capture_at_gateway(
    state: &AppState,
    order: &Order,
    account: &Account,
    base: &str,
    txn: &Txn,
) -> Result<Option<crate::db::Completion>, DbError> {
    let Credentials::Razorpay { key_id, key_secret, .. } = &account.credentials else {
        return Ok(None);
    };
    let answer = razorpay::capture(&state.http, base, key_id, key_secret, txn, &order.currency).await;
    let now = state.now();
    let response = |code: &str, message: &str| crate::domain::GatewayResponse {
        resp_code: code.into(),
        resp_message: message.chars().take(200).collect(),
        created_at: now,
        ..txn.gateway_response.clone().unwrap_or_default()
    };
    match answer {
        Ok(Captured::Yes(amount)) if amount == txn.amount_minor => {
            let r = response("captured", "Payment captured");
            state.db.complete_remote_txn(&txn.id, OrderStatus::CAPTURE_INITIATED, OrderStatus::CHARGED, Some(&r), now).await
        }
        Ok(Captured::Yes(amount)) => {
            tracing::error!(txn = %txn.id, amount, held = txn.amount_minor, "Razorpay captured another amount than the hold");
            let r = response("captured", "Payment captured for another amount");
            state.db.complete_remote_txn(&txn.id, OrderStatus::CAPTURE_INITIATED, OrderStatus::CHARGED, Some(&r), now).await
        }
        Ok(Captured::Refused(why)) | Err(GatewayError::Refused(why)) => {
            let r = response("capture_refused", &why);
            state.db.complete_remote_txn(&txn.id, OrderStatus::CAPTURE_INITIATED, OrderStatus::CAPTURE_FAILED, Some(&r), now).await
        }
        Err(GatewayError::Unavailable(e)) => {
            tracing::warn!(txn = %txn.id, error = %e, "the gateway did not answer a capture; asking again later");
            let at = now.saturating_add(crate::domain::gateway_flow::poll_ms(state));
            state.db.reschedule(&txn.id, OrderStatus::CAPTURE_INITIATED, Some(at)).await?;
            Ok(None)
        }
    }
}

/// Voids (releases) the hold of `txn`: VOIDED, or VOID_FAILED; VOID_INITIATED
/// while the gateway has not answered.
pub async fn void(state: &AppState, order: &Order, txn: &Txn) -> Result<Result<(), HoldError>, DbError> {
    let now = state.now();
    let (then, settle_at, answered) = match state.db.order_account(order).await? {
        None => match state.gateway.void(&txn.scenario) {
            HoldAnswer::Now(s) => (s, now.saturating_add(STEP_LEASE_MS), true),
            HoldAnswer::Later(s, ms) => (s, now.saturating_add(ms), false),
        },
        Some(_) if txn.status != OrderStatus::AUTHORIZED => return Ok(Err(HoldError::InvalidState(txn.status))),
        Some(a) => {
            return Ok(Err(HoldError::Unsupported(format!(
                "{} offers no void: an uncaptured payment is refunded by {} itself when its capture period ends",
                a.kind().display(),
                a.kind().display()
            ))));
        }
    };
    match state.db.begin_void(&txn.id, then, settle_at, now).await? {
        HoldStep::Started => {}
        HoldStep::Refused(status) => return Ok(Err(HoldError::InvalidState(status))),
        HoldStep::Repeat(_) | HoldStep::KeyReused | HoldStep::TooMuch(_) => return Ok(Err(HoldError::InvalidState(txn.status))),
    }
    if answered {
        let response = state.gateway.response(then, state.now());
        state.db.complete_txn(&txn.id, OrderStatus::VOID_INITIATED, then, Some(&response), state.now(), false).await?;
    }
    Ok(Ok(()))
}

/// Voids the built-in sandbox's holds older than the hold period
/// (`Config::hold_ms`), each with its ORDER_VOIDED webhook; run by the settler.
pub async fn void_expired(state: &AppState, now: i64) -> Result<usize, DbError> {
    let hold_ms = i64::try_from(state.config.hold_ms).unwrap_or(i64::MAX);
    let mut voided = 0;
    for id in state.db.expired_holds(now.saturating_sub(hold_ms), 64).await? {
        let Some(txn) = state.db.txn(&id).await? else { continue };
        let Some(order) = state.db.order(&txn.order_pk).await? else { continue };
        match void(state, &order, &txn).await? {
            Ok(()) => {
                tracing::info!(txn = %txn.id, "the hold period ended: hold voided");
                voided += 1;
            }
            // Captured or voided meanwhile.
            Err(e) => tracing::debug!(txn = %txn.id, error = ?e, "hold not voided"),
        }
    }
    Ok(voided)
}
