//! What the server tells the payment page, and what the page sends back.
//! These cross the wasm boundary as JSON.

use crate::{OrderStatus, PaymentMethod};
use serde::{Deserialize, Serialize};

/// The page variant, from the payment link (seed 000).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    /// Desktop layout (`payment_links.web`).
    Web,
    /// Touch layout (`payment_links.mobile`, `?mobile=true`).
    Mobile,
    /// No page chrome, embedded by the merchant (`payment_links.iframe`).
    Iframe,
}

/// The order as the payment page sees it. Contains nothing secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageOrder {
    /// Kassa's id of the order (`ord_<32 hex>`).
    pub id: String,
    /// The merchant's `order_id`.
    pub order_id: String,
    /// Merchant display name.
    pub merchant_name: String,
    /// Amount in minor units.
    pub amount_minor: u64,
    /// ISO 4217 code.
    pub currency: String,
    /// Current status.
    pub status: OrderStatus,
    /// Methods the merchant has enabled for this order.
    pub methods: Vec<PaymentMethod>,
    /// Expiry as Unix milliseconds.
    pub expires_at_ms: u64,
    /// Order description, if any.
    pub description: Option<String>,
    /// A pre-authorization: paying holds the amount on the card; the merchant charges it later.
    #[serde(default)]
    pub preauth: bool,
    /// The customer's saved cards, newest first (paid with the security code only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub saved_cards: Vec<SavedCardView>,
    /// The page may offer to save the card (the order has a customer).
    #[serde(default)]
    pub can_save_card: bool,
    /// The mandate paying registers (REQUIRED) or may register (OPTIONAL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mandate: Option<MandateTerms>,
}

/// A saved card as the page shows it: never the number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedCardView {
    /// `card_token`.
    pub token: String,
    /// Last four digits.
    pub last4: String,
    /// Brand code (`VISA`), if known.
    #[serde(default)]
    pub brand: Option<String>,
    /// Expiry month.
    pub exp_month: u8,
    /// Expiry year.
    pub exp_year: u16,
    /// Past its expiry: shown, not payable.
    #[serde(default)]
    pub expired: bool,
}

/// A mandate's terms as the shopper agrees to them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MandateTerms {
    /// `REQUIRED` or `OPTIONAL`.
    pub mode: String,
    /// Most per debit (minor units).
    pub max_amount_minor: u64,
    /// `FIXED` or `VARIABLE`.
    pub amount_rule: String,
    /// `MONTHLY`, `ASPRESENTED`, …
    pub frequency: String,
    /// Start (Unix seconds).
    pub start_date: i64,
    /// End (Unix seconds).
    pub end_date: i64,
    /// The shopper may revoke it.
    pub revokable: bool,
    /// UPI can register it (a UPI mandate needs an end date the merchant set); a card always can.
    #[serde(default)]
    pub upi: bool,
}

/// The configuration the server embeds in the payment page shell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageConfig {
    /// Order-scoped client token; the page sends it with every call.
    pub client_token: String,
    /// Base URL of the API ("" for the page's own origin).
    pub api_base: String,
    /// Layout variant.
    pub variant: Variant,
    /// The order.
    pub order: PageOrder,
    /// The page language (seed 001 `language`: `english`, `hindi`, …), from the session payload.
    #[serde(default)]
    pub language: Option<String>,
    /// Where the widget's files are served (`{api_base}/assets` when absent).
    #[serde(default)]
    pub assets_base: Option<String>,
    /// The merchant's theme as CSS custom properties, name → value (`crate::theme::Theme::css_vars`).
    #[serde(default)]
    pub theme_vars: std::collections::BTreeMap<String, String>,
    /// The merchant's logo (a `data:image/…` URL).
    #[serde(default)]
    pub logo: Option<String>,
    /// Light, dark, or the shopper's setting.
    #[serde(default)]
    pub appearance: crate::theme::Appearance,
    /// Origins the iframe variant may talk to (the merchant's allowed origins).
    #[serde(default)]
    pub parent_origins: Vec<String>,
}

/// `POST /txns` body sent by the payment page (JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnRequest {
    /// Kassa's order id (`ord_…`).
    pub order_id: String,
    /// `CARD`, `NB`, `WALLET` or `UPI`.
    pub payment_method_type: String,
    /// Brand (`VISA`), bank (`NB_SBI`) or wallet (`PAYTM`).
    pub payment_method: Option<String>,
    /// Card number (digits).
    pub card_number: Option<String>,
    /// Two-digit month.
    pub card_exp_month: Option<String>,
    /// Two- or four-digit year.
    pub card_exp_year: Option<String>,
    /// Name on the card.
    pub name_on_card: Option<String>,
    /// CVV.
    pub card_security_code: Option<String>,
    /// UPI VPA.
    pub upi_vpa: Option<String>,
    /// A saved card's token (with `card_security_code` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_token: Option<String>,
    /// `"true"`: save the card for the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save_to_locker: Option<String>,
    /// `"true"`: register the mandate the order offers (OPTIONAL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub should_create_mandate: Option<String>,
    /// The `payment_options` the page was opened with, enforced by the server too.
    pub payment_options: Option<String>,
    /// `"true"` from the iframe page: the attempt ends on Kassa's result page, which tells the host.
    #[serde(default)]
    pub in_frame: Option<String>,
}

/// How the shopper continues after `POST /txns`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authentication {
    /// HTTP method (`GET`).
    pub method: String,
    /// Where to send the shopper.
    pub url: String,
}

/// A UPI collect request the page follows (`payment.collect`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collect {
    /// `GET` it with the client token until `final`.
    pub status_url: String,
    /// `POST` it with the client token to give up.
    pub cancel_url: String,
    /// How often to poll.
    pub poll_interval_ms: u32,
    /// When the request lapses (RFC 3339).
    pub expires_at: String,
}

/// The `payment` object of a `POST /txns` answer: a bank page, or a collect request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnPayment {
    /// The bank page to open (card, netbanking, wallet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<Authentication>,
    /// The collect request to follow (UPI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collect: Option<Collect>,
}

/// `GET /txns/:txn_uuid`: an attempt's status for a polling page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnStatus {
    /// Attempt status.
    pub status: OrderStatus,
    /// Whether it will change no more.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// Where the shopper goes once final (`/merchant/return/:txn_uuid`, which redirects to the signed return URL).
    #[serde(default)]
    pub next_url: Option<String>,
}

/// `POST /txns` answer (Juspay shape).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnResponse {
    /// The merchant's `order_id`.
    pub order_id: String,
    /// Juspay's transaction id, `{merchant_id}-{order_id}-{n}` (the server also sends `txn_uuid`, the `txn_…` id).
    pub txn_id: String,
    /// Transaction status after the start.
    pub status: OrderStatus,
    /// Next step.
    pub payment: TxnPayment,
}

/// Error body of every endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Always `"error"`.
    pub status: String,
    /// Stable machine-readable code.
    pub error_code: String,
    /// Human-readable reason.
    pub error_message: String,
}
