//! The payment flow's side of network gateways (Razorpay, Paytm; SPEC §7,
//! "status conflicts"): an attempt at such a gateway is decided only by what
//! the gateway's API says ([`reconcile`]), asked when the shopper comes back,
//! when a verified webhook arrives, on demand, and by a worker of its own
//! ([`spawn_checker`]) while the attempt is undecided and for a while after
//! it failed (a late success is refunded at the gateway). Refunds of orders
//! paid there stay PENDING until the gateway says they were made.

use crate::AppState;
use crate::db::{Completion, DbError, GatewayRefund, Order, Txn};
use crate::domain::model::{EventName, Refund};
use crate::gateway::REMOTE;
use crate::gateway::remote::{self, GatewayError, Outcome, RefundState};
use crate::gateway::route::Account;
use kassa_types::OrderStatus;

/// How long after it failed an attempt is still asked about: a success the
/// gateway reports within it is refunded there.
pub const LATE_CHECK_WINDOW_MS: i64 = 48 * 3600 * 1000;

/// How often a gateway is asked about an undecided attempt (ms): `Config::gateway_poll_ms`.
pub fn poll_ms(state: &AppState) -> i64 {
    i64::try_from(state.config.gateway_poll_ms).unwrap_or(i64::MAX).max(100)
}

/// How often a failed attempt is asked about within [`LATE_CHECK_WINDOW_MS`].
fn late_check_ms(state: &AppState) -> i64 {
    poll_ms(state).saturating_mul(20).max(60_000)
}

/// After an unusable answer: longer waits the longer the attempt has been undecided (at most a minute).
fn backoff_ms(state: &AppState, txn: &Txn, now: i64) -> i64 {
    (now.saturating_sub(txn.created_at) / 4).clamp(poll_ms(state), 60_000.max(poll_ms(state)))
}

/// When to ask next about an attempt that failed: within the late-check window
/// (counted from when its order expired, or from now if it failed earlier), later; else never.
fn late_check_at(state: &AppState, order: &Order, txn: &Txn, now: i64) -> Option<i64> {
    if !txn.status.is_failure() {
        return None;
    }
    let window_end = order.expires_at.max(txn.created_at).saturating_add(LATE_CHECK_WINDOW_MS);
    (now < window_end).then(|| now.saturating_add(late_check_ms(state)))
}

/// How long after its order expired an attempt whose gateway gives no usable answer is failed
/// (the late checks then go on asking).
const UNANSWERED_GRACE_MS: i64 = 3600 * 1000;

/// How long a gateway refund may stay unknown to the gateway before Kassa sends it again (once).
const RESEND_AFTER_MS: i64 = 10 * 60 * 1000;

/// How long an auto-refund may stay unknown to the gateway before Kassa reports it failed.
const AUTO_REFUND_GIVE_UP_MS: i64 = 3600 * 1000;

/// Runs `work` in a task of its own, so that a request that goes away
/// (its handler dropped) never leaves a gateway step half done.
async fn detached<T: Send + 'static>(work: impl std::future::Future<Output = Result<T, DbError>> + Send + 'static) -> Result<T, DbError> {
    tokio::spawn(work).await.map_err(|e| DbError::Other(sqlx::Error::Protocol(format!("a gateway step stopped: {e}"))))?
}

/// Asks the order's gateway what became of `txn` and applies the answer:
/// CHARGED only when the gateway's API says paid, for the attempt's amount;
/// a success of another amount, for an attempt Kassa had already failed,
/// or on an order paid another way, is refunded at the gateway
/// (AUTO_REFUNDED; the refund is followed until the gateway made it, and
/// its webhook written then). Not decided yet: asked again later, and failed
/// once the order has expired. Should another check change the attempt
/// meanwhile, it is read again and the answer applied to what it is now.
/// Runs to the end even if the request that asked goes away. `Ok(None)`:
/// nothing changed.
pub async fn reconcile(state: &AppState, txn: &Txn) -> Result<Option<Completion>, DbError> {
    let (state, txn) = (state.clone(), txn.clone());
    detached(async move { reconcile_here(&state, &txn).await }).await
}

async fn reconcile_here(state: &AppState, txn: &Txn) -> Result<Option<Completion>, DbError> {
    if txn.scenario != REMOTE {
        return Ok(None);
    }
    let order = state.db.order(&txn.order_pk).await?;
    let account = match &order {
        Some(o) => state.db.order_account(o).await?,
        None => None,
    };
    let (Some(order), Some(account)) = (order, account) else {
        // Nothing to ask: never again.
        state.db.reschedule(&txn.id, txn.status, None).await?;
        return Ok(None);
    };
    let base = account.base(&state.config.public_url);
    if txn.status == OrderStatus::AUTO_REFUNDED {
        follow_auto_refund(state, &account, &base, txn).await?;
        return Ok(None);
    }
    if txn.status == OrderStatus::CAPTURE_INITIATED {
        return crate::domain::preauth::capture_at_gateway(state, &order, &account, &base, txn).await;
    }
    if txn.status.took_payment() {
        // A hold and what became of it are decided by its capture or void, never by a status check.
        state.db.reschedule(&txn.id, txn.status, None).await?;
        return Ok(None);
    }
    let answer = remote::status(&state.http, &account, &base, &order, txn, state.now()).await;
    let mut txn = txn.clone();
    for _ in 0..3 {
        match apply(state, &order, &account, &base, &txn, &answer).await? {
            Applied::Done(done) => return Ok(done),
            // Another check changed it: apply the same answer to what it is now.
            Applied::Raced => match state.db.txn(&txn.id).await? {
                Some(fresh) => txn = fresh,
                None => return Ok(None),
            },
        }
    }
    // Still racing: leave it to the next check.
    state.db.reschedule(&txn.id, txn.status, Some(state.now().saturating_add(poll_ms(state)))).await?;
    Ok(None)
}

enum Applied {
    Done(Option<Completion>),
    Raced,
}

async fn apply(
    state: &AppState,
    order: &Order,
    account: &Account,
    base: &str,
    txn: &Txn,
    answer: &Result<(Outcome, crate::domain::GatewayResponse), GatewayError>,
) -> Result<Applied, DbError> {
    let now = state.now();
    let pending = txn.status.is_pending();
    let finished = |c: Option<Completion>| if c.is_some() { Applied::Done(c) } else { Applied::Raced };
    let (outcome, response) = match answer {
        Ok(a) => a,
        Err(e) if pending && now >= order.expires_at.saturating_add(UNANSWERED_GRACE_MS) => {
            tracing::warn!(txn = %txn.id, error = %e, "no usable answer from the gateway an hour after the order expired; failing the attempt");
            let failed = crate::domain::GatewayResponse {
                resp_code: "gateway_unavailable".into(),
                resp_message: e.to_string(),
                created_at: now,
                ..Default::default()
            };
            let done = state.db.complete_txn(&txn.id, txn.status, OrderStatus::AUTHENTICATION_FAILED, Some(&failed), now, false).await?;
            after_failure(state, order, txn, done, now).await?;
            return Ok(finished(done));
        }
        Err(e) => {
            tracing::warn!(txn = %txn.id, error = %e, "gateway status unavailable; asking again later");
            let at = if pending { Some(now.saturating_add(backoff_ms(state, txn, now))) } else { late_check_at(state, order, txn, now) };
            state.db.reschedule(&txn.id, txn.status, at).await?;
            return Ok(Applied::Done(None));
        }
    };
    match outcome {
        Outcome::Charged { gateway_txn_id, amount_minor } => {
            // Decided already (charged, or a hold whatever became of it), or refunded.
            if txn.status.took_payment() || txn.status == OrderStatus::AUTO_REFUNDED {
                return Ok(Applied::Done(None));
            }
            let mut details = txn.details.clone();
            details.gateway_txn_id = Some(gateway_txn_id.clone());
            details.redirect = None;
            state.db.set_txn_details(&txn.id, &details).await?;
            let wrong_amount = *amount_minor != txn.amount_minor;
            if wrong_amount {
                tracing::error!(txn = %txn.id, amount_minor, expected = txn.amount_minor, "the gateway charged another amount; refunding it");
            }
            let status = if !pending || wrong_amount { OrderStatus::AUTO_REFUNDED } else { OrderStatus::CHARGED };
            let done = state.db.complete_remote_txn(&txn.id, txn.status, status, Some(response), now).await?;
            if let Some(c) = done
                && c.txn == OrderStatus::AUTO_REFUNDED
                && order.preauth()
            {
                // A pre-authorization's extra payment is only authorized at the gateway, which
                // takes no refund of it: Kassa never captures it, and the gateway releases it
                // when its capture window ends (Razorpay: 3 to 5 days).
                tracing::warn!(txn = %txn.id, "a second authorization on a held order: left uncaptured for the gateway to release");
                state.db.reschedule(&txn.id, OrderStatus::AUTO_REFUNDED, None).await?;
            } else if let Some(c) = done
                && c.txn == OrderStatus::AUTO_REFUNDED
            {
                let txn = Txn { details, status: OrderStatus::AUTO_REFUNDED, ..txn.clone() };
                let answer = remote::refund(&state.http, account, base, &txn, *amount_minor, &auto_refund_id(&txn)).await;
                auto_refund_answered(state, &txn, answer).await?;
            }
            Ok(finished(done))
        }
        Outcome::Failed(status) if pending => {
            let done = state.db.complete_txn(&txn.id, txn.status, *status, Some(response), now, false).await?;
            after_failure(state, order, txn, done, now).await?;
            Ok(finished(done))
        }
        Outcome::Pending if pending && now >= order.expires_at => {
            let done = state.db.complete_txn(&txn.id, txn.status, OrderStatus::AUTHENTICATION_FAILED, Some(response), now, false).await?;
            after_failure(state, order, txn, done, now).await?;
            Ok(finished(done))
        }
        Outcome::Pending if pending => {
            state.db.reschedule(&txn.id, txn.status, Some(now.saturating_add(poll_ms(state)))).await?;
            Ok(Applied::Done(None))
        }
        // Final already, and the gateway says no success: a failed attempt is asked again within the window; others never.
        Outcome::Failed(_) | Outcome::Pending => {
            state.db.reschedule(&txn.id, txn.status, late_check_at(state, order, txn, now)).await?;
            Ok(Applied::Done(None))
        }
    }
}

/// A failed attempt at a gateway: its redirect is forgotten and late checks are scheduled.
async fn after_failure(state: &AppState, order: &Order, txn: &Txn, done: Option<Completion>, now: i64) -> Result<(), DbError> {
    if let Some(c) = done {
        let mut details = txn.details.clone();
        details.redirect = None;
        state.db.set_txn_details(&txn.id, &details).await?;
        let failed = Txn { status: c.txn, ..txn.clone() };
        state.db.reschedule(&txn.id, c.txn, late_check_at(state, order, &failed, now)).await?;
    }
    Ok(())
}

/// Kassa's id for the refund of an AUTO_REFUNDED attempt (the gateway's `receipt` / `refId`).
fn auto_refund_id(txn: &Txn) -> String {
    format!("auto_{}", txn.id)
}

/// Records the gateway's answer to an auto-refund: made (AUTO_REFUND_SUCCEEDED);
/// refused or failed (AUTO_REFUND_FAILED: the operator refunds by hand); else followed by the checker.
async fn auto_refund_answered(state: &AppState, txn: &Txn, answer: Result<RefundState, GatewayError>) -> Result<(), DbError> {
    let now = state.now();
    let event = match answer {
        Ok(RefundState::Succeeded(id)) => {
            tracing::info!(txn = %txn.id, refund = %id, "auto-refunded at the gateway");
            Some(EventName::AUTO_REFUND_SUCCEEDED)
        }
        Ok(RefundState::Failed) | Err(GatewayError::Refused(_)) => {
            tracing::error!(txn = %txn.id, "the gateway refused the auto-refund; refund it by hand");
            Some(EventName::AUTO_REFUND_FAILED)
        }
        Ok(RefundState::Pending(_) | RefundState::NotFound) | Err(GatewayError::Unavailable(_)) => None,
    };
    match event {
        Some(event) => {
            state.db.order_event(&txn.order_pk, event, now).await?;
            state.db.reschedule(&txn.id, OrderStatus::AUTO_REFUNDED, None).await
        }
        None => state.db.reschedule(&txn.id, OrderStatus::AUTO_REFUNDED, Some(now.saturating_add(poll_ms(state).max(5_000)))).await,
    }
}

/// Follows an AUTO_REFUNDED attempt's refund at the gateway until it is made
/// or failed; one the gateway has no trace of after an hour is reported failed.
async fn follow_auto_refund(state: &AppState, account: &Account, base: &str, txn: &Txn) -> Result<(), DbError> {
    let answer = remote::refund_status(&state.http, account, base, txn, &auto_refund_id(txn), None).await;
    let answer = match answer {
        Ok(RefundState::NotFound) if state.now() > txn.created_at.saturating_add(AUTO_REFUND_GIVE_UP_MS) => Ok(RefundState::Failed),
        // A query the gateway refused says nothing of the refund.
        Err(GatewayError::Refused(why)) => Err(GatewayError::Unavailable(why)),
        other => other,
    };
    auto_refund_answered(state, txn, answer).await
}

/// Where a refund of `order` goes: its gateway account, that account's API base, and the attempt that charged.
async fn refund_target(state: &AppState, order: &Order) -> Result<Option<(Account, String, Txn)>, DbError> {
    let Some(account) = state.db.order_account(order).await? else { return Ok(None) };
    let charged = state.db.txns(&order.id).await?.into_iter().find(|t| t.status == OrderStatus::CHARGED);
    let base = account.base(&state.config.public_url);
    Ok(charged.map(|txn| (account, base, txn)))
}

/// Sends a refund Kassa recorded PENDING to the order's gateway and records
/// what it answers: made (SUCCESS, ORDER_REFUNDED); accepted (stays PENDING,
/// followed by the checker); refused (FAILURE, the amount given back,
/// ORDER_REFUND_FAILED); no answer (stays PENDING: the checker looks for it
/// at the gateway by Kassa's refund id). Runs to the end even if the request goes away.
pub async fn refund_at_gateway(state: &AppState, order: &Order, refund: &Refund) -> Result<(), DbError> {
    let (state, order, refund) = (state.clone(), order.clone(), refund.clone());
    detached(async move {
        let Some((account, base, txn)) = refund_target(&state, &order).await? else {
            state.db.refund_answered(&refund.id, false, state.now()).await?;
            return Ok(());
        };
        let answer = remote::refund(&state.http, &account, &base, &txn, refund.amount_minor, &refund.id).await;
        let now = state.now();
        match answer {
            Ok(RefundState::Succeeded(_)) => {
                state.db.refund_answered(&refund.id, true, now).await?;
            }
            Ok(RefundState::Pending(id)) => {
                state.db.refund_awaits_gateway(&refund.id, Some(&id), now.saturating_add(poll_ms(&state))).await?
            }
            // The first sending, refused: the gateway will not make it.
            Ok(RefundState::Failed) | Err(GatewayError::Refused(_)) => {
                tracing::warn!(refund = %refund.id, "the gateway refused a refund");
                state.db.refund_answered(&refund.id, false, now).await?;
            }
            Ok(RefundState::NotFound) | Err(GatewayError::Unavailable(_)) => {
                tracing::warn!(refund = %refund.id, "the gateway did not answer a refund; looking for it later");
                state.db.refund_awaits_gateway(&refund.id, None, now.saturating_add(poll_ms(&state).max(5_000))).await?;
            }
        }
        Ok(())
    })
    .await
}

/// Asks the gateway about a PENDING refund. Only the gateway saying the
/// refund failed fails it; a query the gateway refuses or does not answer
/// is asked again. A refund the gateway has no trace of ten minutes after it
/// was asked for is sent once more (the gateway never received it); after
/// that, it waits for the gateway or the operator.
async fn check_refund(state: &AppState, refund: &GatewayRefund) -> Result<(), DbError> {
    let again = |state: &AppState| state.now().saturating_add(poll_ms(state).max(5_000));
    let Some(order) = state.db.order(&refund.order_pk).await? else { return Ok(()) };
    let Some((account, base, txn)) = refund_target(state, &order).await? else { return Ok(()) };
    let now = state.now();
    match remote::refund_status(&state.http, &account, &base, &txn, &refund.id, refund.gateway_refund_id.as_deref()).await {
        Ok(RefundState::Succeeded(_)) => {
            state.db.refund_answered(&refund.id, true, now).await?;
        }
        Ok(RefundState::Failed) => {
            state.db.refund_answered(&refund.id, false, now).await?;
        }
        Ok(RefundState::Pending(id)) => state.db.refund_awaits_gateway(&refund.id, Some(&id), again(state)).await?,
        Ok(RefundState::NotFound) if !refund.resent && now > refund.created_at.saturating_add(RESEND_AFTER_MS) => {
            state.db.refund_resent(&refund.id).await?;
            tracing::warn!(refund = %refund.id, "the gateway has no trace of a refund; sending it again, once");
            match remote::refund(&state.http, &account, &base, &txn, refund.amount_minor, &refund.id).await {
                Ok(RefundState::Succeeded(_)) => {
                    state.db.refund_answered(&refund.id, true, now).await?;
                }
                Ok(RefundState::Pending(id)) => state.db.refund_awaits_gateway(&refund.id, Some(&id), again(state)).await?,
                // Whatever else: asked about again; never failed on a second sending's refusal.
                _ => state.db.refund_awaits_gateway(&refund.id, None, again(state)).await?,
            }
        }
        Ok(RefundState::NotFound) | Err(_) => state.db.refund_awaits_gateway(&refund.id, None, again(state)).await?,
    }
    Ok(())
}

/// How many gateway calls the checker makes at once.
const CHECKS_AT_ONCE: usize = 8;

/// The worker that asks gateways about due attempts and PENDING refunds,
/// [`CHECKS_AT_ONCE`] at a time, each claimed when its turn comes (so
/// several servers never check one twice at once).
pub fn spawn_checker(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = check_due(&state).await {
                tracing::warn!(error = %e, "gateway checks unavailable");
            }
            tokio::time::sleep(std::time::Duration::from_millis(state.config.webhook_poll_ms)).await;
        }
    })
}

/// How long a claim lasts: longer than the most calls one check makes (status, capture, refund) could take.
pub(crate) fn lease(state: &AppState) -> i64 {
    state.now().saturating_add(i64::try_from(state.config.gateway_timeout_ms).unwrap_or(i64::MAX).saturating_mul(4).max(10_000))
}

async fn check_due(state: &AppState) -> Result<(), DbError> {
    let now = state.now();
    let mut running = tokio::task::JoinSet::new();
    for (txn_id, seen) in state.db.due_remote_checks(now, 64).await? {
        while running.len() >= CHECKS_AT_ONCE {
            running.join_next().await;
        }
        if !state.db.claim_remote_check(&txn_id, seen, lease(state)).await? {
            continue;
        }
        let state = state.clone();
        running.spawn(async move {
            match state.db.txn(&txn_id).await {
                Ok(Some(txn)) => {
                    if let Err(e) = reconcile_here(&state, &txn).await {
                        tracing::warn!(txn = %txn_id, error = %e, "cannot reconcile an attempt");
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(txn = %txn_id, error = %e, "cannot read an attempt"),
            }
        });
    }
    for refund in state.db.due_refund_checks(now, 32).await? {
        while running.len() >= CHECKS_AT_ONCE {
            running.join_next().await;
        }
        if !state.db.claim_refund_check(&refund.id, refund.check_at, lease(state)).await? {
            continue;
        }
        let state = state.clone();
        running.spawn(async move {
            if let Err(e) = check_refund(&state, &refund).await {
                tracing::warn!(refund = %refund.id, error = %e, "cannot check a refund");
            }
        });
    }
    while running.join_next().await.is_some() {}
    Ok(())
}

/// How often requests from outside may make Kassa ask about one attempt.
const OUTSIDE_CHECK_MS: i64 = 1_000;

/// [`reconcile`] for a request from outside (the shopper's callback, a
/// webhook), paced so that nobody can spend the merchant's API quota
/// through Kassa: only an attempt still undecided is asked about; one check
/// at a time per attempt, at most one a second; a request that arrives
/// while a check runs, or within the second after one, waits for it (up to
/// 5 s) and uses its answer if that check started after the request came.
pub async fn reconcile_paced(state: &AppState, txn: &Txn) -> Result<Option<Completion>, DbError> {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    /// Per attempt: when its latest check started, and whether it is still running.
    static CHECKS: LazyLock<Mutex<HashMap<String, (i64, bool)>>> = LazyLock::new(Mutex::default);
    let arrived = state.now();
    let deadline = arrived.saturating_add(5_000);
    loop {
        let Some(fresh) = state.db.txn(&txn.id).await? else { return Ok(None) };
        if fresh.scenario != REMOTE || !fresh.status.is_pending() {
            return Ok(None);
        }
        let now = state.now();
        let wait = {
            let Ok(mut checks) = CHECKS.lock() else { return reconcile(state, &fresh).await };
            if checks.len() > 10_000 {
                checks.retain(|_, (started, running)| *running || now.saturating_sub(*started) < OUTSIDE_CHECK_MS);
            }
            match checks.get(&txn.id).copied() {
                // A check that started after this request came has answered: its answer stands.
                Some((started, false)) if started >= arrived => return Ok(None),
                Some((_, true)) => 25,
                Some((started, false)) if now.saturating_sub(started) < OUTSIDE_CHECK_MS => started + OUTSIDE_CHECK_MS - now,
                _ => {
                    checks.insert(txn.id.clone(), (now, true));
                    0
                }
            }
        };
        if wait == 0 {
            /// Marks the check finished however this request ends (a client that goes away drops it mid-check).
            struct Finished<'a>(&'a str, i64);
            impl Drop for Finished<'_> {
                fn drop(&mut self) {
                    if let Ok(mut checks) = CHECKS.lock() {
                        checks.insert(self.0.to_string(), (self.1, false));
                    }
                }
            }
            let _finished = Finished(&txn.id, now);
            return reconcile(state, &fresh).await;
        }
        if now >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(std::time::Duration::from_millis(u64::try_from(wait.min(deadline - now)).unwrap_or(50))).await;
    }
}
