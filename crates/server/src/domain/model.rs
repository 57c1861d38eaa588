//! The payment model: orders, attempts, refunds and the events they raise,
//! with the money rules of SPEC §3 that hold whatever the order of events.
//!
//! No HTTP, no SQL and no wire shapes here: the Juspay dialect
//! (`crate::juspay`) turns requests into calls on the flow and renders these
//! types back; storage (`crate::db`) persists them; gateways see only their
//! own inputs and answer with [`GatewayResponse`]. The status rules themselves are methods of
//! [`kassa_types::OrderStatus`] (`is_pending`, `accepts_new_attempt`,
//! `is_updatable`, `of_attempts`, …), shared with the payment page.

use kassa_types::{OrderStatus, PaymentMethod};
use serde::{Deserialize, Serialize};

/// An order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    /// `ord_<32 hex>`.
    pub id: String,
    /// Owner.
    pub merchant_id: String,
    /// The merchant's id for it.
    pub order_id: String,
    /// Amount in minor units.
    pub amount_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// Status: [`OrderStatus::of_attempts`] of its attempts.
    pub status: OrderStatus,
    /// Customer id.
    pub customer_id: Option<String>,
    /// Customer email.
    pub customer_email: Option<String>,
    /// Customer phone.
    pub customer_phone: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Product id.
    pub product_id: Option<String>,
    /// Where the shopper returns.
    pub return_url: Option<String>,
    /// udfs, addresses and metadata, as a JSON object.
    pub extra: String,
    /// Digest of the creation parameters (duplicate detection).
    pub fingerprint: String,
    /// Creation time (Unix ms).
    pub created_at: i64,
    /// Last change (Unix ms).
    pub updated_at: i64,
    /// Expiry (Unix ms).
    pub expires_at: i64,
    /// Refunded so far, minor units.
    pub amount_refunded_minor: i64,
    /// The methods the merchant allowed for this order, server to server
    /// (`payment_options`, `payment_filter`); `None`: every method the merchant has enabled.
    pub allowed_methods: Option<Vec<PaymentMethod>>,
    /// The gateway account it was routed to (`gwa_…`); `None`: Kassa's built-in sandbox.
    pub gateway_account: Option<String>,
}

impl Order {
    /// The methods a shopper may pay this order with: the merchant's enabled
    /// methods, narrowed by what the merchant allowed for this order.
    /// A mandate it REQUIRES is registered only by a card, or by UPI when it has an end date.
    pub fn methods(&self, enabled: &[PaymentMethod]) -> Vec<PaymentMethod> {
        let required = self.mandate_terms().filter(|t| t.mode == crate::domain::mandate::Mode::Required);
        PaymentMethod::ALL
            .into_iter()
            .filter(|m| enabled.contains(m))
            .filter(|m| self.allowed_methods.as_ref().is_none_or(|a| a.contains(m)))
            .filter(|m| required.as_ref().is_none_or(|t| t.registers_by(*m)))
            .collect()
    }

    /// The mandate the order asks its payment to register (`options.create_mandate`), if any.
    pub fn mandate_terms(&self) -> Option<crate::domain::mandate::Terms> {
        let extra: serde_json::Value = serde_json::from_str(&self.extra).ok()?;
        serde_json::from_value(extra.get(crate::domain::mandate::EXTRA_KEY)?.clone()).ok()
    }

    /// The `extra` JSON object (udfs, addresses, metadata, language).
    pub fn extra_map(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_str(&self.extra).unwrap_or_default()
    }

    /// A pre-authorization (Juspay: `metadata.txns.auto_capture=false`): a
    /// successful attempt holds the amount (AUTHORIZED) until the merchant
    /// captures or voids it.
    pub fn preauth(&self) -> bool {
        preauth_of_extra(&self.extra)
    }
}

/// The metadata key that makes an order a pre-authorization when `"false"`.
pub const AUTO_CAPTURE: &str = "txns.auto_capture";

/// [`Order::preauth`] of an order's stored `extra` JSON.
pub fn preauth_of_extra(extra: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(extra).ok().is_some_and(|v| v["metadata"][AUTO_CAPTURE] == "false")
}

/// A payment attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Txn {
    /// `txn_<32 hex>`: Juspay's `txn_uuid`.
    pub id: String,
    /// Its order.
    pub order_pk: String,
    /// 1 for the order's first attempt, 2 for the next…: Juspay's `txn_id` is
    /// `{merchant_id}-{order_id}-{seq}`.
    pub seq: i64,
    /// Method family.
    pub method: PaymentMethod,
    /// Brand, bank or wallet code, or the VPA.
    pub method_detail: Option<String>,
    /// Last four card digits.
    pub card_last4: Option<String>,
    /// The gateway's scenario for it.
    pub scenario: String,
    /// Status.
    pub status: OrderStatus,
    /// Amount, fixed when the attempt starts (read in the transaction that inserts it).
    pub amount_minor: i64,
    /// Creation time.
    pub created_at: i64,
    /// When the gateway settles it by itself (UPI collect, AUTHORIZING cards).
    pub settle_at: Option<i64>,
    /// The status it settles to then.
    pub settle_status: Option<OrderStatus>,
    /// Started from the iframe page: it ends on Kassa's result page, which tells the host.
    pub in_frame: bool,
    /// What the order status body shows of the instrument.
    pub details: TxnDetails,
    /// The gateway's last answer.
    pub gateway_response: Option<GatewayResponse>,
    /// A pre-authorization's capture: what it asked for while CAPTURE_INITIATED,
    /// what it took once CHARGED; `None`: never captured by hand (all of `amount_minor`).
    pub captured_minor: Option<i64>,
    /// The capture's `idempotence_key` (`""` when none was given).
    pub capture_key: Option<String>,
}

impl Txn {
    /// What a CHARGED attempt took: the captured part of a hold, else its amount.
    pub fn charged_minor(&self) -> i64 {
        self.captured_minor.unwrap_or(self.amount_minor)
    }
}

/// What the shopper pays with, checked for shape: the card number lives
/// only as long as the request that carries it (never stored).
#[derive(Debug)]
pub enum Instrument {
    /// A card.
    Card {
        /// Digits (wiped from memory when dropped).
        number: crate::secret::Secret,
        /// Brand, if known.
        brand: Option<kassa_types::card::CardBrand>,
        /// Expiry month, 1–12.
        month: u8,
        /// Expiry year, four digits.
        year: u16,
        /// Name on the card ("" when not given).
        name: String,
        /// The security code: passed to a gateway that takes card details, never stored.
        cvv: crate::secret::Secret,
    },
    /// Netbanking with a bank code (`NB_SBI`).
    Netbanking(String),
    /// A wallet code (`PAYTM`).
    Wallet(String),
    /// A UPI VPA.
    Upi(String),
    /// A card the customer saved, with its security code.
    SavedCard {
        /// The saved card.
        card: SavedCard,
        /// The security code: passed on, never stored.
        cvv: crate::secret::Secret,
    },
}

/// A customer's saved card (Juspay's `GET /cards` entry): never the number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedCard {
    /// `card_token`.
    pub token: String,
    /// Owner.
    pub merchant_id: String,
    /// The customer it belongs to.
    pub customer_id: String,
    /// [`TxnDetails::card_fingerprint`]: one entry per card and customer.
    pub fingerprint: String,
    /// The gateway's reference to the card it keeps.
    pub vault_ref: String,
    /// First six digits.
    pub card_isin: String,
    /// Last four digits.
    pub last4: String,
    /// Brand code (`VISA`), if known.
    pub brand: Option<String>,
    /// Expiry month.
    pub exp_month: u8,
    /// Expiry year (four digits).
    pub exp_year: u16,
    /// Name on the card.
    pub name: String,
    /// When it was saved.
    pub created_at: i64,
}

impl SavedCard {
    /// Past its expiry month at `now_ms`.
    pub fn expired(&self, now_ms: i64) -> bool {
        let today = time::OffsetDateTime::from_unix_timestamp(now_ms.div_euclid(1000)).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let year = u16::try_from(today.year()).unwrap_or(u16::MAX);
        !kassa_types::card::expiry_not_past(self.exp_month, self.exp_year, u8::from(today.month()), year)
    }
}

/// Mandate statuses (Juspay): CREATED, ACTIVE, PAUSED, REVOKED, FAILURE, EXPIRED.
pub const MANDATE_STATUSES: [&str; 6] = ["CREATED", "ACTIVE", "PAUSED", "REVOKED", "FAILURE", "EXPIRED"];

/// A mandate: a customer's standing permission for the merchant to debit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mandate {
    /// `mandate_id`.
    pub id: String,
    /// Owner.
    pub merchant_id: String,
    /// The customer.
    pub customer_id: String,
    /// The order whose payment registered it.
    pub order_pk: String,
    /// The attempt that registered it.
    pub txn_id: String,
    /// `mandate_token`.
    pub token: String,
    /// One of [`MANDATE_STATUSES`].
    pub status: String,
    /// CARD or UPI.
    pub method: PaymentMethod,
    /// The gateway's reference to the card, or the payer's VPA.
    pub instrument: String,
    /// Juspay's `payment_info`.
    pub payment_info: serde_json::Value,
    /// The terms.
    pub terms: crate::domain::mandate::Terms,
    /// A pause's start and end (Unix seconds).
    pub pause: Option<(i64, i64)>,
    /// First activation (Unix ms).
    pub activated_at: Option<i64>,
    /// Last activation (Unix ms): a resume activates again.
    pub last_activated_at: Option<i64>,
    /// Created (Unix ms).
    pub created_at: i64,
    /// Last change (Unix ms).
    pub updated_at: i64,
}

impl Mandate {
    /// Juspay's `mandate_type`: `MANDATE` for a card, `EMANDATE` otherwise.
    pub fn mandate_type(&self) -> &'static str {
        if self.method == PaymentMethod::Card { "MANDATE" } else { "EMANDATE" }
    }
}

/// A pre-debit notification of a mandate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    /// `id`.
    pub id: String,
    /// Its mandate.
    pub mandate_id: String,
    /// The merchant's id for it.
    pub object_reference_id: String,
    /// The debit it announces (minor units).
    pub amount_minor: i64,
    /// The debit's date (Unix seconds).
    pub txn_date: i64,
    /// Text.
    pub description: String,
    /// CREATED, PENDING, SUCCESS or FAILURE.
    pub status: String,
    /// Created (Unix ms).
    pub created_at: i64,
    /// Last change (Unix ms).
    pub updated_at: i64,
}

/// A mandate to register when the attempt carrying it succeeds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MandateRegistration {
    /// `mandate_token`.
    pub token: String,
    /// The terms.
    pub terms: crate::domain::mandate::Terms,
    /// The gateway's reference to the card, or the VPA.
    pub instrument: String,
    /// Juspay's `payment_info`.
    pub payment_info: serde_json::Value,
}

/// The instrument of an attempt as the order status shows it: never the
/// card number or CVV.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnDetails {
    /// First six digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_isin: Option<String>,
    /// Expiry month, `MM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_month: Option<String>,
    /// Expiry year, `YYYY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_year: Option<String>,
    /// Name on the card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_on_card: Option<String>,
    /// Keyed digest of the card number: the same card gives the same value for one server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_fingerprint: Option<String>,
    /// The gateway's id for the attempt (Razorpay's `pay_…`, Paytm's `TXNID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_txn_id: Option<String>,
    /// The gateway's order for the attempt (Razorpay's `order_…`, Paytm's `orderId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_order_id: Option<String>,
    /// Where the shopper authenticates at the gateway (never shown in the status body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect: Option<crate::gateway::Redirect>,
    /// The gateway's reference to the card, to save for the customer if the attempt succeeds (`save_to_locker`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save_card: Option<String>,
    /// The mandate this attempt registers or executes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mandate_id: Option<String>,
    /// The mandate this attempt registers (created with it, ACTIVE when it succeeds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub register: Option<MandateRegistration>,
}

/// A gateway's answer to an attempt (Juspay's `payment_gateway_response`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayResponse {
    /// The gateway's response code.
    pub resp_code: String,
    /// Its message.
    pub resp_message: String,
    /// Retrieval reference number (successful card payments).
    #[serde(default)]
    pub rrn: String,
    /// Authorization code (successful card payments).
    #[serde(default)]
    pub auth_id_code: String,
    /// When it answered (Unix ms).
    pub created_at: i64,
}

/// A refund.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refund {
    /// `rfd_<32 hex>`.
    pub id: String,
    /// The merchant's idempotency key.
    pub unique_request_id: String,
    /// Amount in minor units.
    pub amount_minor: i64,
    /// `SUCCESS` (the sandbox refunds at once).
    pub status: String,
    /// Creation time (Unix ms).
    pub created_at: i64,
}

/// Everything the order status body shows, read at one moment (for a
/// webhook: in the transaction of the change it reports).
#[derive(Clone, Debug)]
pub struct OrderSnapshot {
    /// The order.
    pub order: Order,
    /// Its latest attempt.
    pub txn: Option<Txn>,
    /// Its refunds, oldest first.
    pub refunds: Vec<Refund>,
    /// The gateway it was routed to and the account's reference id; `None`: the built-in sandbox.
    pub gateway: Option<(crate::gateway::route::GatewayKind, String)>,
    /// The mandate the order registered or executed, and whether it registered it.
    pub mandate: Option<(Mandate, bool)>,
}

/// Webhook events (Juspay's names, `shared/research/psp-apis.md` §1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum EventName {
    /// An order was created.
    ORDER_CREATED,
    /// A payment attempt started.
    TXN_CREATED,
    /// The order was paid.
    ORDER_SUCCEEDED,
    /// An attempt failed.
    ORDER_FAILED,
    /// A refund succeeded.
    ORDER_REFUNDED,
    /// A refund failed.
    ORDER_REFUND_FAILED,
    /// A second success on a paid order was refunded.
    AUTO_REFUND_SUCCEEDED,
    /// Refunding a second success failed.
    AUTO_REFUND_FAILED,
    /// A pre-authorization holds the amount.
    ORDER_AUTHORIZED,
    /// A hold was captured for less than was held.
    ORDER_PARTIAL_CHARGED,
    /// The gateway refused to capture a hold.
    ORDER_CAPTURE_FAILED,
    /// A hold was released (by the merchant, or automatically at the end of the hold period).
    ORDER_VOIDED,
    /// The gateway refused to release a hold.
    ORDER_VOID_FAILED,
    /// A mandate was created with its registration attempt.
    MANDATE_CREATED,
    /// A mandate's registration succeeded: it can be executed.
    MANDATE_ACTIVATED,
    /// A mandate's registration failed.
    MANDATE_FAILED,
    /// A mandate was revoked.
    MANDATE_REVOKED,
    /// A mandate was paused.
    MANDATE_PAUSED,
    /// A paused mandate is active again.
    MANDATE_RESUMED,
    /// A mandate reached its end date.
    MANDATE_EXPIRED,
    /// A pre-debit notification reached the customer.
    NOTIFICATION_SUCCEEDED,
    /// A pre-debit notification failed.
    NOTIFICATION_FAILED,
}

impl EventName {
    /// Every event Kassa sends.
    pub const ALL: [EventName; 22] = [
        EventName::ORDER_CREATED,
        EventName::TXN_CREATED,
        EventName::ORDER_SUCCEEDED,
        EventName::ORDER_FAILED,
        EventName::ORDER_REFUNDED,
        EventName::ORDER_REFUND_FAILED,
        EventName::AUTO_REFUND_SUCCEEDED,
        EventName::AUTO_REFUND_FAILED,
        EventName::ORDER_AUTHORIZED,
        EventName::ORDER_PARTIAL_CHARGED,
        EventName::ORDER_CAPTURE_FAILED,
        EventName::ORDER_VOIDED,
        EventName::ORDER_VOID_FAILED,
        EventName::MANDATE_CREATED,
        EventName::MANDATE_ACTIVATED,
        EventName::MANDATE_FAILED,
        EventName::MANDATE_REVOKED,
        EventName::MANDATE_PAUSED,
        EventName::MANDATE_RESUMED,
        EventName::MANDATE_EXPIRED,
        EventName::NOTIFICATION_SUCCEEDED,
        EventName::NOTIFICATION_FAILED,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventName::ORDER_CREATED => "ORDER_CREATED",
            EventName::TXN_CREATED => "TXN_CREATED",
            EventName::ORDER_SUCCEEDED => "ORDER_SUCCEEDED",
            EventName::ORDER_FAILED => "ORDER_FAILED",
            EventName::ORDER_REFUNDED => "ORDER_REFUNDED",
            EventName::ORDER_REFUND_FAILED => "ORDER_REFUND_FAILED",
            EventName::AUTO_REFUND_SUCCEEDED => "AUTO_REFUND_SUCCEEDED",
            EventName::AUTO_REFUND_FAILED => "AUTO_REFUND_FAILED",
            EventName::ORDER_AUTHORIZED => "ORDER_AUTHORIZED",
            EventName::ORDER_PARTIAL_CHARGED => "ORDER_PARTIAL_CHARGED",
            EventName::ORDER_CAPTURE_FAILED => "ORDER_CAPTURE_FAILED",
            EventName::ORDER_VOIDED => "ORDER_VOIDED",
            EventName::ORDER_VOID_FAILED => "ORDER_VOID_FAILED",
            EventName::MANDATE_CREATED => "MANDATE_CREATED",
            EventName::MANDATE_ACTIVATED => "MANDATE_ACTIVATED",
            EventName::MANDATE_FAILED => "MANDATE_FAILED",
            EventName::MANDATE_REVOKED => "MANDATE_REVOKED",
            EventName::MANDATE_PAUSED => "MANDATE_PAUSED",
            EventName::MANDATE_RESUMED => "MANDATE_RESUMED",
            EventName::MANDATE_EXPIRED => "MANDATE_EXPIRED",
            EventName::NOTIFICATION_SUCCEEDED => "NOTIFICATION_SUCCEEDED",
            EventName::NOTIFICATION_FAILED => "NOTIFICATION_FAILED",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<EventName> {
        EventName::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// Sent to a merchant that chose no events: all but ORDER_CREATED
    /// (which a merchant that created the order already knows of).
    pub fn default_selection() -> Vec<EventName> {
        EventName::ALL.into_iter().filter(|e| *e != EventName::ORDER_CREATED).collect()
    }

    /// The event an attempt that ended `status` raises, given the order's
    /// status after it: a failed attempt fails the order (ORDER_FAILED) only
    /// when no other attempt is still open; a capture of part of a hold is
    /// ORDER_PARTIAL_CHARGED, of all of it ORDER_SUCCEEDED.
    pub fn of_outcome(status: OrderStatus, order: OrderStatus) -> Option<EventName> {
        match status {
            OrderStatus::CHARGED if order == OrderStatus::PARTIAL_CHARGED => Some(EventName::ORDER_PARTIAL_CHARGED),
            OrderStatus::CHARGED => Some(EventName::ORDER_SUCCEEDED),
            OrderStatus::AUTHORIZED => Some(EventName::ORDER_AUTHORIZED),
            OrderStatus::CAPTURE_FAILED => Some(EventName::ORDER_CAPTURE_FAILED),
            OrderStatus::VOIDED => Some(EventName::ORDER_VOIDED),
            OrderStatus::VOID_FAILED => Some(EventName::ORDER_VOID_FAILED),
            OrderStatus::AUTO_REFUNDED => Some(EventName::AUTO_REFUND_SUCCEEDED),
            OrderStatus::AUTHENTICATION_FAILED | OrderStatus::AUTHORIZATION_FAILED | OrderStatus::JUSPAY_DECLINED => {
                order.is_failure().then_some(EventName::ORDER_FAILED)
            }
            OrderStatus::NEW
            | OrderStatus::PENDING_VBV
            | OrderStatus::AUTHORIZING
            | OrderStatus::STARTED
            | OrderStatus::CAPTURE_INITIATED
            | OrderStatus::VOID_INITIATED
            | OrderStatus::PARTIAL_CHARGED => None,
        }
    }
}

/// Writes the body of a webhook event: the wire shape belongs to the
/// dialect, the moment (the snapshot) to the storage transaction that makes
/// the change.
pub trait EventRenderer: Send + Sync + std::fmt::Debug {
    /// The body of event `id` named `event` at `at_ms` about the order in `snapshot`.
    fn order_event(&self, id: &str, event: EventName, at_ms: i64, snapshot: &OrderSnapshot) -> String;
    /// The body of a mandate event (`content.mandate`).
    fn mandate_event(&self, id: &str, event: EventName, at_ms: i64, mandate: &Mandate, order_id: &str) -> String;
    /// The body of a pre-debit notification event (`content.notification`).
    fn notification_event(&self, id: &str, event: EventName, at_ms: i64, notification: &Notification) -> String;
}

/// Juspay's published webhook retry schedule: 16 retries over 24 hours
/// after the first attempt (+60 s, 2×5 min, 5×10 min, 5×1 h, 3×6 h;
/// `shared/research/psp-apis.md` §1.4), in units of its first step.
const RETRY_STEPS: [i64; 16] = [1, 5, 5, 10, 10, 10, 10, 10, 60, 60, 60, 60, 60, 360, 360, 360];

/// How many delivery attempts an event gets before it is dead: the first and 16 retries.
pub const MAX_DELIVERY_ATTEMPTS: i64 = RETRY_STEPS.len() as i64 + 1;

/// The wait before the next attempt after `attempts` failed ones, with the
/// first retry `first_ms` after the first attempt (60 000 for Juspay's
/// schedule; tests shrink it, and every step with it). `None`: the event is dead.
pub fn retry_delay(attempts: i64, first_ms: i64) -> Option<i64> {
    let i = usize::try_from(attempts.checked_sub(1)?).ok()?;
    RETRY_STEPS.get(i).map(|step| step.saturating_mul(first_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_schedule_is_juspays_and_bounded() {
        let minute = 60_000;
        let delays: Vec<i64> = (1..=MAX_DELIVERY_ATTEMPTS).map_while(|a| retry_delay(a, minute)).collect();
        assert_eq!(delays.len(), 16);
        assert_eq!(delays[0], minute);
        // 16 retries over 24 hours.
        assert_eq!(delays.iter().sum::<i64>(), 24 * 60 * minute + minute);
        assert_eq!(retry_delay(MAX_DELIVERY_ATTEMPTS, minute), None);
        assert_eq!(retry_delay(0, minute), None);
    }

    #[test]
    fn event_names_round_trip() {
        for e in EventName::ALL {
            assert_eq!(EventName::parse(e.as_str()), Some(e));
        }
        assert_eq!(EventName::parse("TXN_AUTHORIZING"), None);
        assert!(!EventName::default_selection().contains(&EventName::ORDER_CREATED));
    }
}
