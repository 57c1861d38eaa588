//! The payment flow, in the order hyperswitch uses for every step: persist
//! the attempt, call the gateway, apply its answer as a step of its own.
//! Each step is one storage transaction, so a crash between two leaves a
//! state the next start resumes (a pending attempt keeps its bank page; a
//! settlement is stored with its attempt and applied by the settler).
//!
//! This module names no gateway: it calls [`crate::gateway::Gateway`].

use crate::AppState;
use crate::db::{Completion, DbError, Order, Txn};
use crate::domain::model::{EventName, GatewayResponse, Instrument, TxnDetails};
use crate::gateway::remote::{self, GatewayError, Outcome};
use crate::gateway::{Answer, BankAnswer, Declined, MethodInput, Prompt, REMOTE, Started};
use kassa_types::{OrderStatus, PaymentMethod};

/// Why an attempt did not start.
#[derive(Debug)]
pub enum StartError {
    /// The gateway refused the instrument, and said why.
    Declined(String),
    /// The order takes no new attempt (paid, authorizing, expired).
    NotPayable,
}

/// How long an attempt may stay STARTED (the gateway has not answered its
/// start) before the settler fails it: what a crash between the steps leaves.
pub const START_TIMEOUT_MS: i64 = 60_000;

/// Starts an attempt on `order`, in three steps: records it STARTED (its
/// amount read from the order in that transaction), asks the gateway, then
/// applies the gateway's answer: PENDING_VBV waiting for the shopper, or
/// JUSPAY_DECLINED with the gateway's reason. Returns the attempt and
/// whether it is a collect request (the page polls it) rather than a bank
/// page. A collect settles when the gateway said; an attempt waiting on its
/// bank page that nobody answers fails when the order expires; one the
/// gateway never answered fails after [`START_TIMEOUT_MS`].
pub async fn start_attempt(
    state: &AppState,
    order: &Order,
    instrument: Instrument,
    in_frame: bool,
    now: i64,
) -> Result<Result<(Txn, bool), StartError>, DbError> {
    let account = match &order.gateway_account {
        Some(id) => match state.db.gateway_account(id).await? {
            Some(a) => Some(a),
            None => return Ok(Err(StartError::Declined("the order's gateway account no longer exists".into()))),
        },
        None => None,
    };
    let mut details = TxnDetails::default();
    let (method, input, detail, last4) = match &instrument {
        Instrument::Card { number, brand, month, year, name, cvv } => {
            details.card_isin = number.get(..6).map(str::to_string);
            details.expiry_month = Some(format!("{month:02}"));
            details.expiry_year = Some(year.to_string());
            details.name_on_card = Some(name.clone()).filter(|n| !n.is_empty());
            details.card_fingerprint = Some(state.tokens.fingerprint(number));
            let last4 = number.get(number.len().saturating_sub(4)..).map(str::to_string);
            let input = MethodInput::Card { number, brand: *brand, month: *month, year: *year, cvv: cvv.expose(), name };
            (PaymentMethod::Card, input, brand.map(|b| b.code().to_string()), last4)
        }
        Instrument::Netbanking(code) => (PaymentMethod::Nb, MethodInput::Netbanking(code), Some(code.clone()), None),
        Instrument::Wallet(code) => (PaymentMethod::Wallet, MethodInput::Wallet(code), Some(code.clone()), None),
        Instrument::Upi(vpa) => (PaymentMethod::Upi, MethodInput::Upi(vpa), Some(vpa.clone()), None),
    };
    // 1. Persist.
    let txn = Txn {
        id: crate::random_id("txn_"),
        order_pk: order.id.clone(),
        seq: 0,
        method,
        method_detail: detail,
        card_last4: last4,
        scenario: String::new(),
        status: OrderStatus::STARTED,
        // Read again, in the transaction that records the attempt.
        amount_minor: order.amount_minor,
        created_at: now,
        settle_at: Some(now.saturating_add(START_TIMEOUT_MS)),
        settle_status: Some(OrderStatus::AUTHENTICATION_FAILED),
        in_frame,
        details,
        gateway_response: None,
    };
    let Some(mut txn) = state.db.start_txn(&txn, now).await? else { return Ok(Err(StartError::NotPayable)) };
    // 2. Call the gateway.
    let started = match &account {
        None => state.gateway.start(&input).await,
        Some(account) => {
            let public = &state.config.public_url;
            let attempt = remote::Attempt {
                order,
                txn_id: &txn.id,
                amount_minor: txn.amount_minor,
                input: &input,
                callback_url: format!("{public}/gateway/return/{}", txn.id),
            };
            match remote::start(&state.http, account, &account.base(public), &attempt).await {
                Ok(r) => {
                    txn.details.gateway_order_id = Some(r.gateway_order_id);
                    let collect = r.redirect.is_none();
                    txn.details.redirect = r.redirect;
                    Ok(Started {
                        scenario: REMOTE.into(),
                        // Asked about until the order expires, whether a collect or a redirect.
                        collect: collect.then_some((OrderStatus::AUTHENTICATION_FAILED, reconcile_ms(state))),
                        gateway_txn_id: r.gateway_txn_id.unwrap_or_default(),
                    })
                }
                Err(e) => {
                    tracing::warn!(txn = %txn.id, gateway = account.kind().as_str(), error = %e, "the gateway did not start the attempt");
                    Err(Declined(match e {
                        GatewayError::Refused(m) => format!("{}: {m}", account.kind().display()),
                        GatewayError::Unavailable(_) => format!("{} is not reachable now; try again", account.kind().display()),
                    }))
                }
            }
        }
    };
    // 3. Apply its answer.
    let now = state.now();
    let started = match started {
        Ok(s) => s,
        Err(declined) => {
            let response = GatewayResponse {
                resp_code: OrderStatus::JUSPAY_DECLINED.as_str().into(),
                resp_message: declined.0.clone(),
                created_at: now,
                ..GatewayResponse::default()
            };
            state.db.complete_txn(&txn.id, OrderStatus::STARTED, OrderStatus::JUSPAY_DECLINED, Some(&response), now, false).await?;
            return Ok(Err(StartError::Declined(declined.0)));
        }
    };
    txn.details.gateway_txn_id = Some(started.gateway_txn_id.clone()).filter(|id| !id.is_empty());
    txn.scenario = started.scenario;
    (txn.settle_at, txn.settle_status) = match (started.collect, account.is_some()) {
        (Some((then, in_ms)), _) => (Some(now.saturating_add(in_ms)), Some(then)),
        // A redirect to a remote gateway: its API is asked too, in case the shopper never comes back.
        (None, true) => (Some(now.saturating_add(reconcile_ms(state))), Some(OrderStatus::AUTHENTICATION_FAILED)),
        (None, false) => (Some(order.expires_at), Some(OrderStatus::AUTHENTICATION_FAILED)),
    };
    if !state.db.attempt_started(&txn, now).await? {
        return Ok(Err(StartError::NotPayable));
    }
    txn.status = OrderStatus::PENDING_VBV;
    Ok(Ok((txn, started.collect.is_some())))
}

/// How often a remote gateway is asked about an attempt it has not decided (ms): `Config::gateway_poll_ms`.
fn reconcile_ms(state: &AppState) -> i64 {
    i64::try_from(state.config.gateway_poll_ms).unwrap_or(i64::MAX).max(100)
}

/// Asks the order's gateway what became of `txn` and applies the answer
/// (SPEC §7, status conflicts): CHARGED only when the gateway's API says
/// paid, for the attempt's amount (another amount is refunded at once); a
/// success for an attempt Kassa had already failed, or on an order paid
/// another way, is refunded at the gateway (AUTO_REFUNDED). Not decided
/// yet: asked again later, and failed once the order has expired.
/// `Ok(None)`: nothing changed.
pub async fn reconcile(state: &AppState, txn: &Txn) -> Result<Option<Completion>, DbError> {
    if txn.scenario != REMOTE {
        return Ok(None);
    }
    let Some(order) = state.db.order(&txn.order_pk).await? else { return Ok(None) };
    let Some(account) = (match &order.gateway_account {
        Some(id) => state.db.gateway_account(id).await?,
        None => None,
    }) else {
        return Ok(None);
    };
    let base = account.base(&state.config.public_url);
    let now = state.now();
    let answer = remote::status(&state.http, &account, &base, txn, now).await;
    let now = state.now();
    let (outcome, response) = match answer {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(txn = %txn.id, error = %e, "gateway status unavailable; asking again later");
            if txn.status.is_pending() {
                state.db.reschedule(&txn.id, txn.status, now.saturating_add(reconcile_ms(state))).await?;
            }
            return Ok(None);
        }
    };
    match outcome {
        Outcome::Charged { gateway_txn_id, amount_minor } => {
            if txn.status == OrderStatus::CHARGED || txn.status == OrderStatus::AUTO_REFUNDED {
                return Ok(None);
            }
            let mut details = txn.details.clone();
            details.gateway_txn_id = Some(gateway_txn_id);
            state.db.set_txn_details(&txn.id, &details).await?;
            let late = !txn.status.is_pending();
            let wrong_amount = amount_minor != txn.amount_minor;
            if wrong_amount {
                tracing::error!(txn = %txn.id, amount_minor, expected = txn.amount_minor, "the gateway charged another amount; refunding it");
            }
            let outcome = if late || wrong_amount { OrderStatus::AUTO_REFUNDED } else { OrderStatus::CHARGED };
            let done = state.db.complete_remote_txn(&txn.id, txn.status, outcome, Some(&response), now).await?;
            if let Some(c) = done
                && c.txn == OrderStatus::AUTO_REFUNDED
            {
                let txn = Txn { details, ..txn.clone() };
                let event = match remote::refund(&state.http, &account, &base, &txn, amount_minor, &format!("auto_{}", txn.id)).await {
                    Ok(id) => {
                        tracing::info!(txn = %txn.id, refund = %id, "auto-refunded at the gateway");
                        EventName::AUTO_REFUND_SUCCEEDED
                    }
                    Err(e) => {
                        tracing::error!(txn = %txn.id, error = %e, "the gateway did not take the auto-refund; refund it by hand");
                        EventName::AUTO_REFUND_FAILED
                    }
                };
                state.db.order_event(&txn.order_pk, event, state.now()).await?;
            }
            Ok(done)
        }
        Outcome::Failed(status) if txn.status.is_pending() => state.db.complete_txn(&txn.id, txn.status, status, Some(&response), now, false).await,
        Outcome::Failed(_) => Ok(None),
        Outcome::Pending if txn.status.is_pending() && now >= order.expires_at => {
            state.db.complete_txn(&txn.id, txn.status, OrderStatus::AUTHENTICATION_FAILED, Some(&response), now, false).await
        }
        Outcome::Pending => {
            if txn.status.is_pending() {
                state.db.reschedule(&txn.id, txn.status, now.saturating_add(reconcile_ms(state))).await?;
            }
            Ok(None)
        }
    }
}

/// Sends a refund Kassa recorded PENDING to the order's gateway and records
/// its answer: a refusal gives the amount back and is reported
/// (ORDER_REFUND_FAILED); no answer leaves it PENDING, for the operator.
pub async fn refund_at_gateway(state: &AppState, order: &Order, refund: &crate::domain::Refund) -> Result<(), DbError> {
    let account = match &order.gateway_account {
        Some(id) => state.db.gateway_account(id).await?,
        None => None,
    };
    let charged = state.db.txns(&order.id).await?.into_iter().find(|t| t.status == OrderStatus::CHARGED);
    let (Some(account), Some(txn)) = (account, charged) else {
        state.db.refund_answered(&refund.id, false, state.now()).await?;
        return Ok(());
    };
    let base = account.base(&state.config.public_url);
    match remote::refund(&state.http, &account, &base, &txn, refund.amount_minor, &refund.id).await {
        Ok(_) => {
            state.db.refund_answered(&refund.id, true, state.now()).await?;
        }
        Err(GatewayError::Refused(why)) => {
            tracing::warn!(refund = %refund.id, %why, "the gateway refused a refund");
            state.db.refund_answered(&refund.id, false, state.now()).await?;
        }
        Err(GatewayError::Unavailable(why)) => {
            tracing::error!(refund = %refund.id, %why, "the gateway did not answer a refund; it stays PENDING");
        }
    }
    Ok(())
}

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
    // A remote gateway's attempt is decided by that gateway, never by the sandbox's pages.
    if txn.status != OrderStatus::PENDING_VBV || txn.scenario == REMOTE || state.gateway.prompt(&txn.scenario) == Prompt::Collect {
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
            Ok(state.db.complete_txn(&txn.id, OrderStatus::PENDING_VBV, status, Some(&response), now, true).await?.is_some())
        }
        Answer::Authorizing(then, in_ms) => {
            if txn.settle_at.is_some_and(|deadline| now >= deadline) {
                // Too late: the bank page's deadline passed.
                return Ok(false);
            }
            state.db.authorize_txn(&txn.id, then, now.saturating_add(in_ms), now).await
        }
    }
}

/// Applies the settlements due at `now` (UPI collects, AUTHORIZING cards),
/// each only to an attempt still in the state it was due in.
pub async fn settle_due(state: &AppState, now: i64) -> Result<Vec<Completion>, DbError> {
    let mut done = Vec::new();
    for (txn_id, from, to, remote) in state.db.due_settlements(now, 64).await? {
        if remote {
            match state.db.txn(&txn_id).await {
                Ok(Some(txn)) => match reconcile(state, &txn).await {
                    Ok(Some(c)) => done.push(c),
                    Ok(None) => {}
                    Err(e) => tracing::warn!(txn = %txn_id, error = %e, "cannot reconcile an attempt"),
                },
                Ok(None) => {}
                Err(e) => tracing::warn!(txn = %txn_id, error = %e, "cannot read an attempt"),
            }
            continue;
        }
        let response = state.gateway.response(to, now);
        match state.db.complete_txn(&txn_id, from, to, Some(&response), now, false).await {
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
            if let Err(e) = settle_due(&state, state.now()).await {
                tracing::warn!(error = %e, "settlements unavailable");
            }
            tokio::time::sleep(std::time::Duration::from_millis(state.config.webhook_poll_ms)).await;
        }
    })
}
