//! `POST /txns` and the attempt endpoints of the payment page (client token):
//! start an attempt, poll it, cancel it. The gateway says where the shopper
//! authenticates; this module names none.

use crate::AppState;
use crate::db::Txn;
use crate::domain::flow::{self, StartError};
use crate::domain::model::Instrument;
use crate::http::auth::token_order;
use crate::http::body::Fields;
use crate::http::error::AppError;
use crate::juspay::orders::bounded;
use crate::juspay::wire::rfc3339;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use kassa_types::card;
use kassa_types::view::{Authentication, Collect, TxnPayment, TxnResponse, TxnStatus};
use kassa_types::{OrderStatus, PaymentMethod, PaymentOptions};

/// The card `POST /txns` sent, checked for shape.
fn card_input(f: &mut Fields, now: i64) -> Result<Instrument, AppError> {
    // The number as sent is wiped once read; the digits live in a Secret until the request ends.
    let sent = zeroize::Zeroizing::new(f.require("card_number")?);
    let number = crate::secret::Secret::new(
        card::digits(&sent)
            .filter(|d| card::number_valid(d))
            .ok_or_else(|| AppError::bad_request("invalid_card_number", "card number is not valid"))?,
    );
    let number_digits = number.expose();
    let brand = card::detect_brand(number_digits);
    let month: u8 = f
        .require("card_exp_month")?
        .parse()
        .ok()
        .filter(|m| (1..=12).contains(m))
        .ok_or_else(|| AppError::bad_request("invalid_card_expiry", "card_exp_month must be 01 to 12"))?;
    let year_s = f.require("card_exp_year")?;
    let year: u16 = match year_s.len() {
        2 => year_s.parse::<u16>().ok().map(|y| 2000 + y),
        4 => year_s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| AppError::bad_request("invalid_card_expiry", "card_exp_year must be YY or YYYY"))?;
    let today = time::OffsetDateTime::from_unix_timestamp(now.div_euclid(1000)).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let now_year = u16::try_from(today.year()).unwrap_or(u16::MAX);
    if !card::expiry_not_past(month, year, u8::from(today.month()), now_year) {
        return Err(AppError::bad_request("invalid_card_expiry", "the card has expired"));
    }
    let cvv = crate::secret::Secret::new(f.require("card_security_code")?);
    if !card::cvv_valid(cvv.expose(), brand) {
        return Err(AppError::bad_request("invalid_card_security_code", "card security code is not valid for this card"));
    }
    let name = bounded("name_on_card", f.take("name_on_card").unwrap_or_default())?;
    if name.chars().count() > 64 {
        return Err(AppError::bad_request("invalid_parameter", "name_on_card is too long"));
    }
    Ok(Instrument::Card { number, brand, month, year, name, cvv })
}

/// A saved card of the order's customer (`card_token`) with its security code.
async fn saved_card_input(state: &AppState, order: &crate::db::Order, f: &mut Fields, now: i64) -> Result<Instrument, AppError> {
    let token = f.require("card_token")?;
    let not_found = || AppError {
        status: axum::http::StatusCode::NOT_FOUND,
        code: "card_not_found",
        message: "no saved card with this card_token for this customer".into(),
        retry_after: None,
    };
    let card = state.db.saved_card(&order.merchant_id, &token).await?.ok_or_else(not_found)?;
    if order.customer_id.as_deref() != Some(card.customer_id.as_str()) {
        return Err(not_found());
    }
    if order.gateway_account.is_some() {
        return Err(AppError::bad_request("card_saving_not_supported", "saved cards are paid through Kassa's sandbox gateway only"));
    }
    if card.expired(now) {
        return Err(AppError::bad_request("invalid_card_expiry", "this saved card has expired"));
    }
    let cvv = crate::secret::Secret::new(f.require("card_security_code")?);
    let brand = card.brand.as_deref().and_then(card::CardBrand::from_code);
    if !card::cvv_valid(cvv.expose(), brand) {
        return Err(AppError::bad_request("invalid_card_security_code", "card security code is not valid for this card"));
    }
    for ignored in ["card_number", "card_exp_month", "card_exp_year", "name_on_card"] {
        f.take(ignored);
    }
    Ok(Instrument::SavedCard { card, cvv })
}

/// `POST /txns`: with HTTP Basic (the merchant's API key), a mandate
/// execution ([`crate::juspay::mandates::execute`]); otherwise, with the
/// order's client token, the payment page's attempt ([`create_txn`]).
pub(crate) async fn txns(State(state): State<AppState>, req: axum::extract::Request) -> axum::response::Response {
    use axum::handler::Handler;
    let basic = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("basic ")));
    if basic { execute_txn.call(req, state).await } else { create_txn.call(req, state).await }
}

async fn execute_txn(
    State(state): State<AppState>,
    crate::http::auth::Authed(merchant): crate::http::auth::Authed,
    audit: crate::observe::AuditCtx,
    f: Fields,
) -> Result<Json<serde_json::Value>, AppError> {
    crate::juspay::mandates::execute(&state, &merchant, audit, f).await
}

/// The address the request came from, when the server records it (`kassa serve` does).
pub(crate) struct Peer(pub(crate) Option<std::net::SocketAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Peer, Self::Rejection> {
        Ok(Peer(parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0)))
    }
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().chars().take(512).collect()
}

/// `POST /txns` answer: the page's contract ([`TxnResponse`]) and Juspay's `txn_uuid`.
#[derive(serde::Serialize)]
pub(crate) struct TxnAnswer {
    #[serde(flatten)]
    view: TxnResponse,
    txn_uuid: String,
}

/// `POST /txns` with the order's client token: starts a payment attempt.
/// The method must be one the merchant allowed for this order (server to
/// server); the page's `payment_options` can only narrow that further.
pub(crate) async fn create_txn(
    State(state): State<AppState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    mut f: Fields,
) -> Result<Json<TxnAnswer>, AppError> {
    let order_pk = token_order(&state, &headers, f.take("client_auth_token"))?;
    // Attempts a minute with this order's client token, and from this address.
    let address = crate::http::limits::client_address(peer.map(|a| a.ip()), &headers, state.config.trust_forwarded_for);
    state.limits.txn(&order_pk, address)?;
    let order_ref = f.require("order_id")?;
    let order = state.db.order(&order_pk).await?.ok_or_else(AppError::order_not_found)?;
    if order_ref != order.id && !order_ref.eq_ignore_ascii_case(&order.order_id) {
        return Err(AppError::unauthorized("the client auth token is for another order"));
    }
    if let Some(mid) = f.take("merchant_id")
        && mid != order.merchant_id
    {
        return Err(AppError::bad_request("invalid_parameter", "merchant_id does not match the order"));
    }
    if state.db.is_mandate_debit(&order.id).await? {
        return Err(AppError::bad_request("payment_method_not_allowed", "this order is a mandate debit: its mandate pays it"));
    }
    let merchant = state.db.merchant(&order.merchant_id).await?.ok_or_else(AppError::order_not_found)?;
    let method_type = f.require("payment_method_type")?;
    let method = PaymentMethod::from_txn_type(&method_type)
        .ok_or_else(|| AppError::bad_request("invalid_payment_method", "payment_method_type must be CARD, NB, WALLET or UPI"))?;
    let shown = PaymentOptions::parse(&f.take("payment_options").unwrap_or_default());
    if !shown.filter(&order.methods(&merchant.enabled_methods)).contains(&method) {
        return Err(AppError::bad_request("payment_method_not_allowed", "this payment method is not available for this order"));
    }
    let in_frame = match f.take("in_frame").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(AppError::bad_request("invalid_parameter", "in_frame must be true or false")),
    };
    for ignored in ["format", "redirect_after_payment", "tokenize"] {
        f.take(ignored);
    }
    let now = state.now();
    if order.expires_at <= now {
        return Err(AppError::bad_request("order_expired", "this order has expired"));
    }
    let flag = |f: &mut Fields, name: &'static str| match f.take(name).as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(AppError::bad_request("invalid_parameter", format!("{name} must be true or false"))),
    };
    let mut keep = flow::Keep { save_card: flag(&mut f, "save_to_locker")? && method == PaymentMethod::Card, mandate: None };
    let opted_in = flag(&mut f, "should_create_mandate")?;
    if let Some(terms) = order.mandate_terms() {
        let required = terms.mode == crate::domain::mandate::Mode::Required;
        if (required || opted_in) && !crate::domain::mandate::CAPABLE.contains(&method) {
            return Err(AppError::bad_request("payment_method_not_allowed", "a mandate is registered by card or UPI only"));
        }
        if (required || opted_in) && method == PaymentMethod::Upi && terms.end_date.is_none() {
            return Err(AppError::bad_request("invalid_parameter", "a UPI mandate needs mandate.end_date, which this order does not have"));
        }
        keep.mandate = (required || opted_in).then_some(terms);
    } else if opted_in {
        return Err(AppError::bad_request("invalid_parameter", "should_create_mandate: this order offers no mandate"));
    }
    if keep.save_card || keep.mandate.is_some() {
        if order.customer_id.is_none() {
            return Err(AppError::bad_request(
                "invalid_parameter",
                "save_to_locker: a card is saved for a customer, and this order has no customer_id",
            ));
        }
        if order.gateway_account.is_some() {
            return Err(AppError::bad_request(
                "card_saving_not_supported",
                "cards are saved, and mandates registered, through Kassa's sandbox gateway only",
            ));
        }
    }

    let payment_method = f.take("payment_method");
    let instrument = match method {
        PaymentMethod::Card if f.has("card_token") => saved_card_input(&state, &order, &mut f, now).await?,
        PaymentMethod::Card => card_input(&mut f, now)?,
        PaymentMethod::Upi => {
            let vpa = f.require("upi_vpa")?;
            if !crate::gateway::vpa_valid(&vpa) {
                return Err(AppError::bad_request("invalid_vpa", "upi_vpa must be a UPI id such as name@bank"));
            }
            Instrument::Upi(vpa)
        }
        PaymentMethod::Nb | PaymentMethod::Wallet => {
            let code = payment_method.ok_or_else(|| AppError::bad_request("missing_parameter", "payment_method is required"))?;
            if method == PaymentMethod::Nb { Instrument::Netbanking(code) } else { Instrument::Wallet(code) }
        }
    };
    f.finish()?;
    let declined_code = if method == PaymentMethod::Card { "card_declined" } else { "payment_declined" };
    let client = crate::gateway::remote::Client {
        ip: address.map(|a| a.to_string()).unwrap_or_default(),
        user_agent: header(&headers, "user-agent"),
        referer: header(&headers, "referer"),
    };
    let (txn, collect) = match flow::start_attempt(&state, &order, instrument, keep, in_frame, &client, now).await? {
        Ok(started) => started,
        Err(StartError::Declined(why)) => return Err(AppError::bad_request(declined_code, why)),
        Err(StartError::NotPayable) => {
            return Err(AppError::conflict("order_not_payable", "this order cannot take a new payment attempt"));
        }
        Err(StartError::Exhausted) => {
            return Err(AppError::conflict(
                "too_many_failed_attempts",
                "this order had too many failed payment attempts and takes no more; start a new order",
            ));
        }
    };
    let base = &state.config.public_url;
    let payment = match collect {
        // UPI collect: the shopper approves in their UPI app; the page polls.
        true => TxnPayment {
            authentication: None,
            collect: Some(Collect {
                status_url: format!("{base}/txns/{}", txn.id),
                cancel_url: format!("{base}/txns/{}/cancel", txn.id),
                poll_interval_ms: 1000,
                expires_at: rfc3339(order.expires_at.min(txn.settle_at.unwrap_or(now).saturating_add(COLLECT_WINDOW_MS))),
            }),
        },
        false => TxnPayment {
            authentication: Some(Authentication {
                method: "GET".into(),
                url: crate::gateway::auth_url(state.gateway.as_ref(), base, &txn),
            }),
            collect: None,
        },
    };
    Ok(Json(TxnAnswer {
        view: TxnResponse {
            order_id: order.order_id.clone(),
            txn_id: crate::juspay::wire::juspay_txn_id(&order.merchant_id, &order.order_id, txn.seq),
            status: txn.status,
            payment,
        },
        txn_uuid: txn.id,
    }))
}

/// How long a collect request waits for the shopper, at most (the page's countdown).
const COLLECT_WINDOW_MS: i64 = 5 * 60 * 1000;

/// An attempt the client token may see: the token's order's, else 404.
async fn token_txn(state: &AppState, headers: &HeaderMap, txn_id: &str) -> Result<Txn, AppError> {
    let order_pk = token_order(state, headers, None)?;
    let not_found = || AppError {
        status: axum::http::StatusCode::NOT_FOUND,
        code: "txn_not_found",
        message: "no such attempt".into(),
        retry_after: None,
    };
    let txn = state.db.txn(txn_id).await?.ok_or_else(not_found)?;
    if txn.order_pk != order_pk {
        return Err(not_found());
    }
    Ok(txn)
}

/// `GET /txns/:txn_uuid` answer: the page's contract ([`TxnStatus`]) and what a person reading it wants.
#[derive(serde::Serialize)]
pub(crate) struct TxnStatusAnswer {
    #[serde(flatten)]
    view: TxnStatus,
    txn_id: String,
    txn_uuid: String,
    order_id: String,
    status_id: u16,
    order_status: OrderStatus,
}

/// The attempt's status for the page that polls it, with where to go once it is final.
async fn txn_status_body(state: &AppState, txn: &Txn) -> Result<TxnStatusAnswer, AppError> {
    let order = state.db.order(&txn.order_pk).await?.ok_or_else(AppError::order_not_found)?;
    let done = !txn.status.is_pending();
    Ok(TxnStatusAnswer {
        view: TxnStatus {
            status: txn.status,
            is_final: done,
            // The signed return URL (or Kassa's result page) once the attempt is final.
            next_url: done.then(|| format!("{}/merchant/return/{}", state.config.public_url, txn.id)),
        },
        txn_id: crate::juspay::wire::juspay_txn_id(&order.merchant_id, &order.order_id, txn.seq),
        txn_uuid: txn.id.clone(),
        order_id: order.order_id,
        status_id: txn.status.id(),
        order_status: order.status,
    })
}

/// `GET /txns/:txn_uuid` with the client token: what a polling page needs.
pub(crate) async fn txn_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(txn_id): Path<String>,
) -> Result<Json<TxnStatusAnswer>, AppError> {
    let txn = token_txn(&state, &headers, &txn_id).await?;
    Ok(Json(txn_status_body(&state, &txn).await?))
}

/// `POST /txns/:txn_uuid/cancel` with the client token: the shopper gave up
/// on an attempt that still waits for them (a bank page, a collect
/// request); it ends AUTHENTICATION_FAILED. An attempt the bank is already
/// authorizing cannot be cancelled.
pub(crate) async fn cancel_txn(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(txn_id): Path<String>,
    f: Fields,
) -> Result<Json<TxnStatusAnswer>, AppError> {
    f.finish()?;
    let txn = token_txn(&state, &headers, &txn_id).await?;
    let now = state.now();
    let response = state.gateway.response(OrderStatus::AUTHENTICATION_FAILED, now);
    let applied =
        state.db.complete_txn(&txn.id, OrderStatus::PENDING_VBV, OrderStatus::AUTHENTICATION_FAILED, Some(&response), now, true).await?;
    if applied.is_none() {
        return Err(AppError::conflict("txn_not_cancellable", "only an attempt waiting for the shopper can be cancelled"));
    }
    let txn = state.db.txn(&txn.id).await?.ok_or_else(AppError::order_not_found)?;
    Ok(Json(txn_status_body(&state, &txn).await?))
}
