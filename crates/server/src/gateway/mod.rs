//! Payment gateways. The flow (`crate::domain::flow`: persist the attempt,
//! call the gateway, apply its answer) does not depend on which gateway
//! answers; a gateway sees only these inputs and answers, never storage or
//! HTTP. Starting an attempt is async (a real gateway is a network call).

use crate::domain::GatewayResponse;
use kassa_types::OrderStatus;
use kassa_types::card::CardBrand;
use std::future::Future;
use std::pin::Pin;

/// What the payment page submitted, checked for shape already. `Debug` shows no card number or CVV.
pub enum MethodInput<'a> {
    /// A card (number digits only).
    Card {
        /// Digits.
        number: &'a str,
        /// Brand.
        brand: Option<CardBrand>,
        /// Expiry month, 1–12.
        month: u8,
        /// Expiry year, four digits.
        year: u16,
        /// Security code (sent on to a gateway that takes card details; never stored).
        cvv: &'a str,
        /// Name on the card.
        name: &'a str,
    },
    /// Netbanking with a bank code (`NB_SBI`).
    Netbanking(&'a str),
    /// A wallet code (`PAYTM`).
    Wallet(&'a str),
    /// A UPI VPA.
    Upi(&'a str),
    /// A card the gateway keeps in its vault (a saved card), with its security code.
    Vaulted {
        /// What the sandbox's vault holds for the card: the test outcome it has.
        scenario: &'a str,
        /// Security code.
        cvv: &'a str,
    },
}

impl std::fmt::Debug for MethodInput<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MethodInput::Card { brand, .. } => write!(f, "Card {{ brand: {brand:?}, number: ***, cvv: *** }}"),
            MethodInput::Netbanking(b) => write!(f, "Netbanking({b})"),
            MethodInput::Wallet(w) => write!(f, "Wallet({w})"),
            MethodInput::Upi(_) => f.write_str("Upi(***)"),
            MethodInput::Vaulted { .. } => f.write_str("Vaulted(***)"),
        }
    }
}

/// The shopper's answer on the bank page.
#[derive(Debug)]
pub enum BankAnswer<'a> {
    /// An OTP was entered.
    Otp(&'a str),
    /// The Success button.
    Approve,
    /// The Failure or Cancel button.
    Decline,
}

/// Why a gateway refused to start.
#[derive(Debug, PartialEq, Eq)]
pub struct Declined(pub String);

/// An attempt the gateway accepted.
#[derive(Debug, PartialEq, Eq)]
pub struct Started {
    /// The scenario to remember for it.
    pub scenario: String,
    /// A collect request (UPI): no bank page; the gateway settles it to this
    /// status after this many ms, while the payment page polls.
    pub collect: Option<(OrderStatus, i64)>,
    /// The gateway's own id for the attempt (`epg_txn_id`).
    pub gateway_txn_id: String,
}

/// The gateway's answer to the bank page.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// Final now.
    Final(OrderStatus),
    /// Authenticated; the bank is still authorizing: AUTHORIZING for this many ms, then this.
    Authorizing(OrderStatus, i64),
}

/// What [`Gateway::start`] returns: a future, so that a gateway behind the network can be awaited.
pub type StartFuture<'a> = Pin<Box<dyn Future<Output = Result<Started, Declined>> + Send + 'a>>;

/// A payment gateway adapter.
pub trait Gateway: Send + Sync + std::fmt::Debug {
    /// Starts an attempt at the gateway (Kassa has recorded it, STARTED, before).
    fn start<'a>(&'a self, input: &'a MethodInput<'a>) -> StartFuture<'a>;
    /// The attempt's status after the bank page's answer.
    fn answer(&self, scenario: &str, answer: &BankAnswer<'_>) -> Answer;
    /// What the bank page asks for.
    fn prompt(&self, scenario: &str) -> Prompt;
    /// The gateway's response (codes and messages) for an attempt that ended `status` at `now`.
    fn response(&self, status: OrderStatus, now: i64) -> GatewayResponse;
    /// Where the shopper authenticates attempt `txn_id` (its bank page), under Kassa's public `base`.
    fn page_url(&self, base: &str, txn_id: &str) -> String;
    /// The answer to capturing the hold of an attempt of `scenario`.
    fn capture(&self, scenario: &str) -> HoldAnswer;
    /// The answer to voiding (releasing) the hold of an attempt of `scenario`.
    fn void(&self, scenario: &str) -> HoldAnswer;
}

pub mod pages;
pub mod paytm;
pub mod psp;
pub mod razorpay;
pub mod remote;
pub mod route;
pub mod sandbox;

/// The scenario of an attempt a remote gateway (Razorpay, Paytm) decides:
/// its outcome comes from that gateway's API, never from the sandbox's bank pages.
pub const REMOTE: &str = "remote";

/// Where the shopper goes to authenticate at a gateway: a GET, or a form POST with these fields.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Redirect {
    /// `GET` or `POST`.
    pub method: String,
    /// The gateway's page.
    pub url: String,
    /// Form fields of a POST.
    #[serde(default)]
    pub params: Vec<(String, String)>,
}

pub use kassa_types::methods::vpa_valid;

/// Where the shopper authenticates attempt `txn` under Kassa's public
/// `base`: the sandbox's bank page, or the step that sends them to a remote gateway.
pub fn auth_url(sandbox: &dyn Gateway, base: &str, txn: &crate::db::Txn) -> String {
    if txn.scenario == REMOTE { format!("{base}/gateway/pay/{}", txn.id) } else { sandbox.page_url(base, &txn.id) }
}

/// What the sandbox bank page shows.
#[derive(Debug, PartialEq, Eq)]
pub enum Prompt {
    /// An OTP field.
    Otp,
    /// Success / Failure buttons.
    Buttons,
    /// Nothing to answer here: the shopper approves the collect request in their UPI app.
    Collect,
}

/// A gateway's answer to the capture or the void of a hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoldAnswer {
    /// Final now: CHARGED or CAPTURE_FAILED; VOIDED or VOID_FAILED.
    Now(OrderStatus),
    /// Accepted and pending (CAPTURE_INITIATED, VOID_INITIATED): final as this after this many ms.
    Later(OrderStatus, i64),
}
