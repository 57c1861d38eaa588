//! The payment flow, in the order hyperswitch uses for every step: persist
//! the attempt, call the gateway, apply its answer as a step of its own.
//! Each step is one storage transaction, so a crash between two leaves a
//! state the next start resumes (a pending attempt keeps its bank page; a
//! settlement is stored with its attempt and applied by the settler).
//!
//! This module names no gateway: it calls [`crate::gateway::Gateway`].

use crate::AppState;
use crate::db::{Completion, DbError, Order, Txn};
use crate::domain::gateway_flow;
use crate::domain::model::{GatewayResponse, Instrument, TxnDetails};
use crate::gateway::remote::{self, GatewayError};
use crate::gateway::{Answer, BankAnswer, Declined, MethodInput, Prompt, REMOTE, Started};
use kassa_types::{OrderStatus, PaymentMethod};

/// Why an attempt did not start.
#[derive(Debug)]
pub enum StartError {
    /// The gateway refused the instrument, and said why.
    Declined(String),
    /// The order takes no new attempt (paid, authorizing, expired).
    NotPayable,
    /// The order's failed attempts reached the limit (`LimitSettings::failed_attempts_per_order`).
    Exhausted,
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
    keep: Keep,
    in_frame: bool,
    client: &remote::Client,
    now: i64,
) -> Result<Result<(Txn, bool), StartError>, DbError> {
    let account = state.db.order_account(order).await?;
    if order.gateway_account.is_some() && account.is_none() {
        return Ok(Err(StartError::Declined("the order's gateway account no longer exists".into())));
    }
    let mut details = TxnDetails::default();
    let vaulted_scenario = match &instrument {
        Instrument::SavedCard { card, .. } => state.db.vaulted(&card.vault_ref).await?.unwrap_or_default(),
        Instrument::Card { .. } | Instrument::Netbanking(_) | Instrument::Wallet(_) | Instrument::Upi(_) => String::new(),
    };
    let (method, input, detail, last4) = match &instrument {
        Instrument::Card { number, brand, month, year, name, cvv } => {
            let number = number.expose();
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
        Instrument::SavedCard { card, cvv } => {
            details.card_isin = Some(card.card_isin.clone());
            details.expiry_month = Some(format!("{:02}", card.exp_month));
            details.expiry_year = Some(card.exp_year.to_string());
            details.name_on_card = Some(card.name.clone()).filter(|n| !n.is_empty());
            details.card_fingerprint = Some(card.fingerprint.clone());
            let input = MethodInput::Vaulted { scenario: &vaulted_scenario, cvv: cvv.expose() };
            (PaymentMethod::Card, input, card.brand.clone(), Some(card.last4.clone()))
        }
    };
    // 1. Persist.
    let txn = Txn {
        id: crate::random_id("txn_"),
        order_pk: order.id.clone(),
        seq: 0,
        method,
        method_detail: detail,
        card_last4: last4,
        // An attempt at a network gateway is the gateway's to decide from the start: never the sandbox settler's.
        scenario: if account.is_some() { REMOTE.into() } else { String::new() },
        status: OrderStatus::STARTED,
        // Read again, in the transaction that records the attempt.
        amount_minor: order.amount_minor,
        created_at: now,
        settle_at: Some(now.saturating_add(START_TIMEOUT_MS)),
        settle_status: Some(OrderStatus::AUTHENTICATION_FAILED),
        in_frame,
        details,
        gateway_response: None,
        captured_minor: None,
        capture_key: None,
    };
    let max_failed = i64::from(state.config.limits.failed_attempts_per_order);
    let mut txn = match state.db.start_txn(&txn, now, max_failed).await? {
        crate::db::AttemptStart::Started(t) => *t,
        crate::db::AttemptStart::NotPayable => return Ok(Err(StartError::NotPayable)),
        crate::db::AttemptStart::Exhausted => return Ok(Err(StartError::Exhausted)),
    };
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
                client,
            };
            match remote::start(&state.http, account, &account.base(public), &attempt).await {
                Ok(r) => {
                    txn.details.gateway_order_id = Some(r.gateway_order_id);
                    let collect = r.redirect.is_none();
                    txn.details.redirect = r.redirect;
                    Ok(Started {
                        scenario: REMOTE.into(),
                        // Asked about until the order expires, whether a collect or a redirect.
                        collect: collect.then_some((OrderStatus::AUTHENTICATION_FAILED, gateway_flow::poll_ms(state))),
                        gateway_txn_id: r.gateway_txn_id.unwrap_or_default(),
                    })
                }
                Err(e) => {
                    tracing::warn!(txn = %txn.id, gateway = account.kind().as_str(), error = %e.error, "the gateway did not start the attempt");
                    let name = account.kind().display();
                    if let (GatewayError::Unavailable(_), Some(order_id)) = (&e.error, e.gateway_order_id) {
                        // A payment may exist at the gateway: the attempt waits, asked about like any other.
                        txn.details.gateway_order_id = Some(order_id);
                        txn.scenario = REMOTE.into();
                        txn.settle_at = Some(state.now().saturating_add(gateway_flow::poll_ms(state)));
                        txn.settle_status = Some(OrderStatus::AUTHENTICATION_FAILED);
                        state.db.attempt_started(&txn, state.now()).await?;
                        return Ok(Err(StartError::Declined(format!(
                            "{name} did not answer in time; Kassa is checking with {name} whether this payment went through"
                        ))));
                    }
                    if matches!(e.error, GatewayError::Unavailable(_)) {
                        // The gateway's outage is not the shopper's failure: the attempt does not count
                        // toward the order's failed attempts (`--max-failed-attempts`).
                        state.db.txn_unreachable(&txn.id).await?;
                    }
                    Err(Declined(match e.error {
                        GatewayError::Refused(m) => format!("{name}: {m}"),
                        GatewayError::Unavailable(_) => format!("{name} is not reachable now; try again"),
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
    if keep.save_card || keep.mandate.is_some() {
        keep_instrument(state, &mut txn, &instrument, &started.scenario, keep, now).await?;
    }
    txn.scenario = started.scenario;
    (txn.settle_at, txn.settle_status) = match (started.collect, account.is_some()) {
        (Some((then, in_ms)), _) => (Some(now.saturating_add(in_ms)), Some(then)),
        // A redirect to a remote gateway: its API is asked too, in case the shopper never comes back.
        (None, true) => (Some(now.saturating_add(gateway_flow::poll_ms(state))), Some(OrderStatus::AUTHENTICATION_FAILED)),
        (None, false) => (Some(order.expires_at), Some(OrderStatus::AUTHENTICATION_FAILED)),
    };
    if !state.db.attempt_started(&txn, now).await? {
        return Ok(Err(StartError::NotPayable));
    }
    txn.status = OrderStatus::PENDING_VBV;
    Ok(Ok((txn, started.collect.is_some())))
}

/// What an attempt keeps for later if it succeeds: the card, saved for the
/// customer (`save_to_locker`), and a mandate it registers.
#[derive(Debug, Default)]
pub struct Keep {
    /// Save the card for the order's customer.
    pub save_card: bool,
    /// Register a mandate with these terms.
    pub mandate: Option<crate::domain::mandate::Terms>,
}

/// Records in `txn`'s details what it keeps: the card's vault reference
/// (the sandbox vaults a new card now, keeping only its test outcome) and
/// the mandate it registers, created with the attempt's start.
async fn keep_instrument(
    state: &AppState,
    txn: &mut Txn,
    instrument: &Instrument,
    scenario: &str,
    keep: Keep,
    now: i64,
) -> Result<(), DbError> {
    let (reference, payment_info) = match instrument {
        Instrument::Upi(vpa) => {
            (vpa.clone(), serde_json::json!({ "payment_method_type": "UPI", "payment_method": "UPI", "upi": { "payer_vpa": vpa } }))
        }
        Instrument::SavedCard { card, .. } => (card.vault_ref.clone(), card_info(txn)),
        Instrument::Card { .. } => (state.db.vault_card(scenario, now).await?, card_info(txn)),
        Instrument::Netbanking(_) | Instrument::Wallet(_) => return Ok(()),
    };
    if keep.save_card && txn.method == PaymentMethod::Card {
        txn.details.save_card = Some(reference.clone());
    }
    if let Some(terms) = keep.mandate {
        txn.details.mandate_id = Some(crate::random_id("mdt_"));
        txn.details.register =
            Some(crate::domain::MandateRegistration { token: crate::random_id(""), terms, instrument: reference, payment_info });
    }
    Ok(())
}

/// Juspay's `payment_info` of a card mandate: what the attempt shows of the card.
fn card_info(txn: &Txn) -> serde_json::Value {
    serde_json::json!({
        "payment_method_type": "CARD",
        "payment_method": txn.method_detail,
        "card": {
            "last_four_digits": txn.card_last4,
            "card_isin": txn.details.card_isin,
            "expiry_month": txn.details.expiry_month,
            "expiry_year": txn.details.expiry_year,
            "card_brand": txn.method_detail,
        },
    })
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
    for (txn_id, from, to) in state.db.due_settlements(now, 64).await? {
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
/// their attempts, so a restart resumes them. Remote gateways are asked
/// about their attempts and refunds by a worker of their own
/// ([`gateway_flow::spawn_checker`]), started here too, so a slow gateway
/// never delays the sandbox's settlements.
pub fn spawn_settler(state: AppState) -> tokio::task::JoinHandle<()> {
    gateway_flow::spawn_checker(state.clone());
    tokio::spawn(async move {
        loop {
            if let Err(e) = settle_due(&state, state.now()).await {
                tracing::warn!(error = %e, "settlements unavailable");
            }
            if let Err(e) = crate::domain::preauth::void_expired(&state, state.now()).await {
                tracing::warn!(error = %e, "expired holds not voided");
            }
            if let Err(e) = state.db.mandates_due(state.now()).await {
                tracing::warn!(error = %e, "mandate expiries, resumptions and notifications not applied");
            }
            tokio::time::sleep(std::time::Duration::from_millis(state.config.webhook_poll_ms)).await;
        }
    })
}
