//! Gateways behind the network (Razorpay, Paytm): what the payment flow
//! asks of them, and the one HTTP client they share. Each adapter
//! ([`super::razorpay`], [`super::paytm`]) speaks its gateway's API; this
//! module picks the adapter by the account.
//!
//! Nothing here trusts the shopper's browser: a callback is checked for the
//! gateway's signature and then confirmed with the gateway's own API before
//! an attempt is CHARGED.

use super::route::{Account, Credentials};
use super::{MethodInput, Redirect, paytm, razorpay};
use crate::db::{Order, Txn};
use crate::domain::GatewayResponse;
use kassa_types::OrderStatus;
use std::time::Duration;

/// What a gateway call can end in besides an answer.
#[derive(Debug, PartialEq, Eq)]
pub enum GatewayError {
    /// The gateway answered and refused (its reason, for the merchant and shopper).
    Refused(String),
    /// No usable answer: unreachable, slow, malformed or unsigned. The state is unknown.
    Unavailable(String),
}

impl std::fmt::Display for GatewayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GatewayError::Refused(m) => write!(f, "the gateway refused: {m}"),
            GatewayError::Unavailable(m) => write!(f, "the gateway did not answer usably: {m}"),
        }
    }
}

/// An attempt the gateway did not start: why, and the gateway's order for it
/// if one was made (then a payment may exist there: the state is unknown and
/// the attempt is asked about like any other).
#[derive(Debug, PartialEq, Eq)]
pub struct Unstarted {
    /// Why.
    pub error: GatewayError,
    /// The gateway's order, when it was made before the failure.
    pub gateway_order_id: Option<String>,
}

impl From<GatewayError> for Unstarted {
    fn from(error: GatewayError) -> Unstarted {
        Unstarted { error, gateway_order_id: None }
    }
}

/// The shopper's browser, which Razorpay's S2S API asks for.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// Address.
    pub ip: String,
    /// `User-Agent`.
    pub user_agent: String,
    /// The page the payment was made from.
    pub referer: String,
}

/// An attempt to start at a gateway.
#[derive(Debug)]
pub struct Attempt<'a> {
    /// Its order.
    pub order: &'a Order,
    /// Kassa's attempt id (`txn_…`): the gateway's order reference.
    pub txn_id: &'a str,
    /// Amount, minor units (fixed when the attempt was recorded).
    pub amount_minor: i64,
    /// The instrument.
    pub input: &'a MethodInput<'a>,
    /// Where the gateway sends the shopper back (Kassa's callback for the attempt).
    pub callback_url: String,
    /// The shopper's browser.
    pub client: &'a Client,
}

/// What became of a refund at the gateway.
#[derive(Debug, PartialEq, Eq)]
pub enum RefundState {
    /// Made (the gateway's refund id).
    Succeeded(String),
    /// Accepted, not made yet (the gateway's refund id).
    Pending(String),
    /// The gateway failed it.
    Failed,
    /// The gateway has no such refund (it never arrived).
    NotFound,
}

/// An attempt a gateway accepted.
#[derive(Debug, PartialEq, Eq)]
pub struct RemoteStarted {
    /// The gateway's order for it.
    pub gateway_order_id: String,
    /// The gateway's payment id, when it gives one at once.
    pub gateway_txn_id: Option<String>,
    /// Where the shopper authenticates; `None`: a collect request the shopper approves in their app.
    pub redirect: Option<Redirect>,
}

/// What the gateway's own API says of an attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Paid: this payment, this amount (minor units).
    Charged {
        /// The gateway's payment id.
        gateway_txn_id: String,
        /// What it took.
        amount_minor: i64,
    },
    /// Failed, with Kassa's status for it.
    Failed(OrderStatus),
    /// Not decided yet.
    Pending,
}

/// What a callback (the shopper's browser, back from the gateway) claims, once its signature checked.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// Signed as a success: confirm it with the API.
    Success,
    /// A failure or cancel: confirm it with the API too (failures are not signed).
    Failure,
}

/// The HTTP client for gateway APIs: short connect timeout, a bound on the whole call, no redirects.
pub fn client(timeout: Duration) -> ureq::Agent {
    let tls = crate::tls::webhook_tls(None).ok();
    let mut config = ureq::Agent::config_builder()
        .https_only(false)
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_connect(Some(timeout.min(Duration::from_secs(3))))
        .timeout_global(Some(timeout));
    if let Some(tls) = tls {
        config = config.tls_config(tls);
    }
    config.build().into()
}

/// One HTTP request to a gateway, off the async runtime: (status, body).
pub async fn call(
    agent: &ureq::Agent,
    method: &'static str,
    url: String,
    headers: Vec<(&'static str, String)>,
    body: Option<String>,
) -> Result<(u16, String), GatewayError> {
    let agent = agent.clone();
    let join = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let outcome = send(&agent, method, &url, &headers, body);
        crate::observe::gateway_call(&url, started.elapsed(), outcome.as_ref().ok().map(|(status, _)| *status));
        outcome
    });
    join.await.map_err(|e| GatewayError::Unavailable(e.to_string()))?
}

/// [`call`]'s request, on the calling thread.
fn send(
    agent: &ureq::Agent,
    method: &'static str,
    url: &str,
    headers: &[(&'static str, String)],
    body: Option<String>,
) -> Result<(u16, String), GatewayError> {
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        builder = builder.header(*k, v);
    }
    let request = builder.body(body.unwrap_or_default()).map_err(|e| GatewayError::Unavailable(e.to_string()))?;
    let mut resp = agent.run(request).map_err(|e| GatewayError::Unavailable(e.to_string()))?;
    let status = resp.status().as_u16();
    let text = resp.body_mut().with_config().limit(1024 * 1024).read_to_string().map_err(|e| GatewayError::Unavailable(e.to_string()))?;
    Ok((status, text))
}

/// Starts an attempt at the account's gateway.
pub async fn start(agent: &ureq::Agent, account: &Account, base: &str, attempt: &Attempt<'_>) -> Result<RemoteStarted, Unstarted> {
    match &account.credentials {
        Credentials::Razorpay { key_id, key_secret, .. } => razorpay::start(agent, base, key_id, key_secret, attempt).await,
        Credentials::Paytm { mid, merchant_key, website_name } => paytm::start(agent, base, mid, merchant_key, website_name, attempt).await,
    }
}

/// Asks the gateway's API what became of `txn`, with its answer for the status body.
pub async fn status(
    agent: &ureq::Agent,
    account: &Account,
    base: &str,
    order: &Order,
    txn: &Txn,
    now: i64,
) -> Result<(Outcome, GatewayResponse), GatewayError> {
    match &account.credentials {
        Credentials::Razorpay { key_id, key_secret, .. } => razorpay::status(agent, base, key_id, key_secret, order, txn, now).await,
        Credentials::Paytm { mid, merchant_key, .. } => paytm::status(agent, base, mid, merchant_key, txn, now).await,
    }
}

/// Checks a callback's signature and says what it claims; `Err`: forged,
/// for another attempt, or malformed (nothing is to be done with it).
pub fn callback(account: &Account, txn: &Txn, fields: &[(String, String)]) -> Result<Claim, String> {
    match &account.credentials {
        Credentials::Razorpay { key_secret, .. } => razorpay::callback(key_secret, txn, fields),
        Credentials::Paytm { mid, merchant_key, .. } => paytm::callback(mid, merchant_key, txn, fields),
    }
}

/// Sends a refund of `amount_minor` of `txn`'s payment to the gateway,
/// referenced by Kassa's `refund_id` (Razorpay's `receipt`, Paytm's `refId`).
pub async fn refund(
    agent: &ureq::Agent,
    account: &Account,
    base: &str,
    txn: &Txn,
    amount_minor: i64,
    refund_id: &str,
) -> Result<RefundState, GatewayError> {
    match &account.credentials {
        Credentials::Razorpay { key_id, key_secret, .. } => {
            razorpay::refund(agent, base, key_id, key_secret, txn, amount_minor, refund_id).await
        }
        Credentials::Paytm { mid, merchant_key, .. } => paytm::refund(agent, base, mid, merchant_key, txn, amount_minor, refund_id).await,
    }
}

/// What the gateway says of refund `refund_id` of `txn` (by its own id when known).
pub async fn refund_status(
    agent: &ureq::Agent,
    account: &Account,
    base: &str,
    txn: &Txn,
    refund_id: &str,
    gateway_refund_id: Option<&str>,
) -> Result<RefundState, GatewayError> {
    match &account.credentials {
        Credentials::Razorpay { key_id, key_secret, .. } => {
            razorpay::refund_status(agent, base, key_id, key_secret, txn, refund_id, gateway_refund_id).await
        }
        Credentials::Paytm { mid, merchant_key, .. } => paytm::refund_status(agent, base, mid, merchant_key, txn, refund_id).await,
    }
}

/// A minor-unit amount as the gateways' decimal strings (`"10.00"`).
pub fn decimal(minor: i64) -> String {
    format!("{}.{:02}", minor.div_euclid(100), minor.rem_euclid(100))
}

/// Parses a decimal string (`"10"`, `"10.5"`, `"10.00"`) to minor units, exactly.
pub fn parse_decimal(s: &str) -> Option<i64> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().ok()? };
    whole.checked_mul(100)?.checked_add(frac)
}

/// The value of a form field.
pub fn field<'f>(fields: &'f [(String, String)], name: &str) -> Option<&'f str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_round_trip_exactly() {
        assert_eq!(decimal(1000), "10.00");
        assert_eq!(decimal(5), "0.05");
        for (s, m) in [("10", 1000), ("10.5", 1050), ("10.05", 1005), ("0.01", 1)] {
            assert_eq!(parse_decimal(s), Some(m), "{s}");
        }
        for bad in ["", ".5", "1.005", "-1", "1e3", "1.x", "99999999999999999999"] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
    }
}
