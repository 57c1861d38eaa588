//! The payment flow, in the order hyperswitch uses for every step: persist
//! the attempt, call the gateway, apply its answer as a step of its own.
//! Each step is one storage transaction, so a crash between two leaves a
//! state the next start resumes (a pending attempt keeps its bank page; a
//! settlement is stored with its attempt and applied by the settler).
//!
//! This module names no gateway: it calls [`crate::gateway::Gateway`].

use crate::AppState;
use crate::db::{Completion, DbError, Txn};
use crate::gateway::{Answer, BankAnswer, Prompt};
use kassa_types::OrderStatus;

/// What the shopper did on a bank page.
#[derive(Debug)]
pub enum BankAction<'a> {
    /// Entered an OTP and submitted it.
    Otp(&'a str),
    /// Pressed Success.
    Approve,
    /// Pressed Failure.
    Decline,
    /// Gave up.
    Cancel,
}

/// Applies a bank page's answer to `txn`. The answer belongs to an attempt
/// waiting on its bank page (PENDING_VBV): for one in any other state (the
/// OTP was already accepted, the bank is authorizing, it is final) it
/// changes nothing and `Ok(false)` is returned. So does one for a collect
/// request, which is answered in the shopper's UPI app, never on a page.
pub async fn bank_answer(state: &AppState, txn: &Txn, action: BankAction<'_>, now: i64) -> Result<bool, DbError> {
    if txn.status != OrderStatus::PENDING_VBV || state.gateway.prompt(&txn.scenario) == Prompt::Collect {
        return Ok(false);
    }
    let answer = match action {
        BankAction::Cancel => Answer::Final(OrderStatus::AUTHENTICATION_FAILED),
        BankAction::Otp(otp) => state.gateway.answer(&txn.scenario, &BankAnswer::Otp(otp)),
        BankAction::Approve => state.gateway.answer(&txn.scenario, &BankAnswer::Approve),
        BankAction::Decline => state.gateway.answer(&txn.scenario, &BankAnswer::Decline),
    };
    match answer {
        Answer::Final(status) => {
            let response = state.gateway.response(status, now);
            Ok(state.db.complete_txn(&txn.id, OrderStatus::PENDING_VBV, status, Some(&response), now).await?.is_some())
        }
        Answer::Authorizing(then) => {
            let at = now.saturating_add(i64::try_from(state.config.sandbox_delay_ms).unwrap_or(i64::MAX));
            state.db.authorize_txn(&txn.id, then, at, now).await
        }
    }
}

/// Applies the settlements due at `now` (UPI collects, AUTHORIZING cards),
/// each only to an attempt still in the state it was due in.
pub async fn settle_due(state: &AppState, now: i64) -> Result<Vec<Completion>, DbError> {
    let mut done = Vec::new();
    for (txn_id, from, to) in state.db.due_settlements(now, 64).await? {
        let response = state.gateway.response(to, now);
        match state.db.complete_txn(&txn_id, from, to, Some(&response), now).await {
            Ok(Some(c)) => done.push(c),
            Ok(None) => {}
            Err(e) => tracing::warn!(txn = %txn_id, error = %e, "cannot settle an attempt"),
        }
    }
    Ok(done)
}

/// Runs [`settle_due`] every `webhook_poll_ms`; settlements are stored with
/// their attempts, so a restart resumes them.
pub fn spawn_settler(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = settle_due(&state, crate::now_ms()).await {
                tracing::warn!(error = %e, "settlements unavailable");
            }
            tokio::time::sleep(std::time::Duration::from_millis(state.config.webhook_poll_ms)).await;
        }
    })
}
