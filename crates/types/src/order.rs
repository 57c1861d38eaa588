//! Order ids, statuses and payment methods of the Juspay dialect (seed 000).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an `order_id` was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderIdError {
    /// Empty.
    Empty,
    /// Longer than 20 characters (seed 001: "less than 21").
    TooLong,
    /// A character other than `A–Z a–z 0–9 _ -`.
    BadCharacter,
}

impl fmt::Display for OrderIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OrderIdError::Empty => "order_id is empty",
            OrderIdError::TooLong => "order_id must be at most 20 characters",
            OrderIdError::BadCharacter => "order_id may contain only letters, digits, '_' and '-'",
        })
    }
}

impl std::error::Error for OrderIdError {}

/// Checks a merchant's `order_id`: 1–20 of `A–Z a–z 0–9 _ -`.
///
/// ```
/// assert!(kassa_types::validate_order_id("ord_007").is_ok());
/// assert!(kassa_types::validate_order_id("ord 007").is_err());
/// ```
pub fn validate_order_id(id: &str) -> Result<(), OrderIdError> {
    if id.is_empty() {
        return Err(OrderIdError::Empty);
    }
    if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(OrderIdError::BadCharacter);
    }
    if id.len() > 20 {
        return Err(OrderIdError::TooLong);
    }
    Ok(())
}

/// Juspay publishes no numeric id for PARTIAL_CHARGED (its dashboard shows
/// the status; `shared/research/psp-apis.md` §3.2): Kassa sends 37, the first
/// id after the published ones, so `status_id` stays one number per status.
pub const PARTIAL_CHARGED_ID: u16 = 37;

/// Order and transaction statuses with the ids of seed 000 (AUTHORIZED 25
/// from Juspay's order status page; PARTIAL_CHARGED: [`PARTIAL_CHARGED_ID`]).
///
/// Matched without catch-all arms, so a new status forces a decision everywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum OrderStatus {
    /// Newly created order.
    NEW,
    /// Authentication is in progress.
    PENDING_VBV,
    /// Successful transaction.
    CHARGED,
    /// User did not complete authentication.
    AUTHENTICATION_FAILED,
    /// User completed authentication, but the bank refused the transaction.
    AUTHORIZATION_FAILED,
    /// User input is not accepted by the underlying PG.
    JUSPAY_DECLINED,
    /// Transaction is pending from bank.
    AUTHORIZING,
    /// Transaction is pending; no gateway found yet.
    STARTED,
    /// Transaction is automatically refunded.
    AUTO_REFUNDED,
    /// Capture pending for the pre-authorized transaction.
    CAPTURE_INITIATED,
    /// Capture failed for the pre-authorized transaction.
    CAPTURE_FAILED,
    /// Void pending for the pre-authorized transaction.
    VOID_INITIATED,
    /// Void is successful for the pre-authorized transaction.
    VOIDED,
    /// Void failed for the pre-authorized transaction.
    VOID_FAILED,
    /// The bank authorized the amount and holds it; the merchant captures or voids it later (pre-authorization).
    AUTHORIZED,
    /// Of an order: a pre-authorized hold was captured for less than was held.
    PARTIAL_CHARGED,
}

impl OrderStatus {
    /// Every status, for tables and tests.
    pub const ALL: [OrderStatus; 16] = [
        OrderStatus::NEW,
        OrderStatus::PENDING_VBV,
        OrderStatus::CHARGED,
        OrderStatus::AUTHENTICATION_FAILED,
        OrderStatus::AUTHORIZATION_FAILED,
        OrderStatus::JUSPAY_DECLINED,
        OrderStatus::AUTHORIZING,
        OrderStatus::STARTED,
        OrderStatus::AUTO_REFUNDED,
        OrderStatus::CAPTURE_INITIATED,
        OrderStatus::CAPTURE_FAILED,
        OrderStatus::VOID_INITIATED,
        OrderStatus::VOIDED,
        OrderStatus::VOID_FAILED,
        OrderStatus::AUTHORIZED,
        OrderStatus::PARTIAL_CHARGED,
    ];

    /// The numeric `status_id` of seed 000.
    pub fn id(self) -> u16 {
        match self {
            OrderStatus::NEW => 10,
            OrderStatus::PENDING_VBV => 23,
            OrderStatus::CHARGED => 21,
            OrderStatus::AUTHENTICATION_FAILED => 26,
            OrderStatus::AUTHORIZATION_FAILED => 27,
            OrderStatus::JUSPAY_DECLINED => 22,
            OrderStatus::AUTHORIZING => 28,
            OrderStatus::STARTED => 20,
            OrderStatus::AUTO_REFUNDED => 36,
            OrderStatus::CAPTURE_INITIATED => 33,
            OrderStatus::CAPTURE_FAILED => 34,
            OrderStatus::VOID_INITIATED => 32,
            OrderStatus::VOIDED => 31,
            OrderStatus::VOID_FAILED => 35,
            OrderStatus::AUTHORIZED => 25,
            OrderStatus::PARTIAL_CHARGED => PARTIAL_CHARGED_ID,
        }
    }

    /// The wire name (`"CHARGED"`).
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::NEW => "NEW",
            OrderStatus::PENDING_VBV => "PENDING_VBV",
            OrderStatus::CHARGED => "CHARGED",
            OrderStatus::AUTHENTICATION_FAILED => "AUTHENTICATION_FAILED",
            OrderStatus::AUTHORIZATION_FAILED => "AUTHORIZATION_FAILED",
            OrderStatus::JUSPAY_DECLINED => "JUSPAY_DECLINED",
            OrderStatus::AUTHORIZING => "AUTHORIZING",
            OrderStatus::STARTED => "STARTED",
            OrderStatus::AUTO_REFUNDED => "AUTO_REFUNDED",
            OrderStatus::CAPTURE_INITIATED => "CAPTURE_INITIATED",
            OrderStatus::CAPTURE_FAILED => "CAPTURE_FAILED",
            OrderStatus::VOID_INITIATED => "VOID_INITIATED",
            OrderStatus::VOIDED => "VOIDED",
            OrderStatus::VOID_FAILED => "VOID_FAILED",
            OrderStatus::AUTHORIZED => "AUTHORIZED",
            OrderStatus::PARTIAL_CHARGED => "PARTIAL_CHARGED",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Only CHARGED is success (seed 000).
    pub fn is_success(self) -> bool {
        matches!(self, OrderStatus::CHARGED)
    }

    /// An attempt in this status still waits for an answer (the shopper's
    /// bank page, a collect request, or the bank's authorization): its
    /// outcome is open, so the order's amount must not change under it.
    pub fn is_pending(self) -> bool {
        match self {
            OrderStatus::PENDING_VBV | OrderStatus::AUTHORIZING | OrderStatus::STARTED => true,
            OrderStatus::NEW
            | OrderStatus::CHARGED
            | OrderStatus::AUTHENTICATION_FAILED
            | OrderStatus::AUTHORIZATION_FAILED
            | OrderStatus::JUSPAY_DECLINED
            | OrderStatus::AUTO_REFUNDED
            | OrderStatus::CAPTURE_INITIATED
            | OrderStatus::CAPTURE_FAILED
            | OrderStatus::VOID_INITIATED
            | OrderStatus::VOIDED
            | OrderStatus::VOID_FAILED
            | OrderStatus::AUTHORIZED
            | OrderStatus::PARTIAL_CHARGED => false,
        }
    }

    /// An attempt that ended without taking money: the order may be paid again.
    pub fn is_failure(self) -> bool {
        matches!(self, OrderStatus::AUTHENTICATION_FAILED | OrderStatus::AUTHORIZATION_FAILED | OrderStatus::JUSPAY_DECLINED)
    }

    /// No answer changes an attempt in this status any more.
    pub fn is_terminal(self) -> bool {
        match self {
            OrderStatus::CHARGED
            | OrderStatus::AUTHENTICATION_FAILED
            | OrderStatus::AUTHORIZATION_FAILED
            | OrderStatus::JUSPAY_DECLINED
            | OrderStatus::AUTO_REFUNDED
            | OrderStatus::VOIDED
            | OrderStatus::CAPTURE_FAILED
            | OrderStatus::VOID_FAILED
            | OrderStatus::PARTIAL_CHARGED => true,
            OrderStatus::NEW
            | OrderStatus::PENDING_VBV
            | OrderStatus::AUTHORIZING
            | OrderStatus::STARTED
            | OrderStatus::CAPTURE_INITIATED
            | OrderStatus::VOID_INITIATED
            | OrderStatus::AUTHORIZED => false,
        }
    }

    /// The bank approved this attempt: money was taken or held, whatever the
    /// merchant did with the hold afterwards (captured, voided). Another
    /// success on the same order is refunded (AUTO_REFUNDED).
    pub fn took_payment(self) -> bool {
        match self {
            OrderStatus::CHARGED
            | OrderStatus::AUTHORIZED
            | OrderStatus::CAPTURE_INITIATED
            | OrderStatus::CAPTURE_FAILED
            | OrderStatus::VOID_INITIATED
            | OrderStatus::VOIDED
            | OrderStatus::VOID_FAILED
            | OrderStatus::PARTIAL_CHARGED => true,
            OrderStatus::NEW
            | OrderStatus::PENDING_VBV
            | OrderStatus::AUTHENTICATION_FAILED
            | OrderStatus::AUTHORIZATION_FAILED
            | OrderStatus::JUSPAY_DECLINED
            | OrderStatus::AUTHORIZING
            | OrderStatus::STARTED
            | OrderStatus::AUTO_REFUNDED => false,
        }
    }

    /// The shopper's money is held for the merchant, not taken yet: a
    /// pre-authorization, also while a capture or void of it is under way.
    pub fn is_hold(self) -> bool {
        matches!(self, OrderStatus::AUTHORIZED | OrderStatus::CAPTURE_INITIATED | OrderStatus::VOID_INITIATED)
    }

    /// Whether a new payment attempt may start on an order in this status.
    ///
    /// A failed attempt leaves the order payable again. So does one still
    /// waiting on its bank page (PENDING_VBV): a shopper back from an
    /// abandoned bank page may pay another way, and should the abandoned
    /// attempt succeed late after another one charged, it is refunded
    /// (AUTO_REFUNDED). An order whose bank is authorizing (AUTHORIZING),
    /// that was paid, or whose amount is held (AUTHORIZED), takes none.
    pub fn accepts_new_attempt(self) -> bool {
        match self {
            OrderStatus::NEW
            | OrderStatus::PENDING_VBV
            | OrderStatus::AUTHENTICATION_FAILED
            | OrderStatus::AUTHORIZATION_FAILED
            | OrderStatus::JUSPAY_DECLINED => true,
            OrderStatus::CHARGED
            | OrderStatus::AUTHORIZING
            | OrderStatus::STARTED
            | OrderStatus::AUTO_REFUNDED
            | OrderStatus::CAPTURE_INITIATED
            | OrderStatus::CAPTURE_FAILED
            | OrderStatus::VOID_INITIATED
            | OrderStatus::VOIDED
            | OrderStatus::VOID_FAILED
            | OrderStatus::AUTHORIZED
            | OrderStatus::PARTIAL_CHARGED => false,
        }
    }

    /// Whether the merchant may change the order's amount, udfs and
    /// addresses (`POST /orders/:order_id`) in this status. The server also
    /// refuses while any attempt [`is_pending`](Self::is_pending), whatever
    /// the order's own status says.
    pub fn is_updatable(self) -> bool {
        matches!(
            self,
            OrderStatus::NEW | OrderStatus::AUTHENTICATION_FAILED | OrderStatus::AUTHORIZATION_FAILED | OrderStatus::JUSPAY_DECLINED
        )
    }

    /// How strongly an attempt in this status speaks for its order
    /// (Juspay: "order status = highest precedence of its transactions,
    /// NEW → PENDING_VBV → CHARGED"): a charge or a hold (and what became
    /// of the hold) wins, then a bank still authorizing, then a bank page
    /// still open, then the latest failure.
    pub fn precedence(self) -> u8 {
        match self {
            OrderStatus::CHARGED
            | OrderStatus::AUTHORIZED
            | OrderStatus::CAPTURE_INITIATED
            | OrderStatus::CAPTURE_FAILED
            | OrderStatus::VOID_INITIATED
            | OrderStatus::VOIDED
            | OrderStatus::VOID_FAILED
            | OrderStatus::PARTIAL_CHARGED => 4,
            OrderStatus::AUTHORIZING | OrderStatus::STARTED => 3,
            OrderStatus::PENDING_VBV => 2,
            OrderStatus::AUTHENTICATION_FAILED | OrderStatus::AUTHORIZATION_FAILED | OrderStatus::JUSPAY_DECLINED => 1,
            // An auto-refunded attempt says nothing about the order.
            OrderStatus::NEW | OrderStatus::AUTO_REFUNDED => 0,
        }
    }

    /// The order's status given its attempts' statuses, oldest first: the
    /// attempt of highest [`precedence`](Self::precedence), the latest of
    /// equals; NEW when none speaks.
    ///
    /// ```
    /// use kassa_types::OrderStatus as S;
    /// // Attempt B failed while A still waits on its bank page: the order is pending, not failed.
    /// assert_eq!(S::of_attempts([S::PENDING_VBV, S::AUTHENTICATION_FAILED]), S::PENDING_VBV);
    /// assert_eq!(S::of_attempts([S::AUTHENTICATION_FAILED, S::AUTHORIZATION_FAILED]), S::AUTHORIZATION_FAILED);
    /// assert_eq!(S::of_attempts([S::CHARGED, S::AUTO_REFUNDED]), S::CHARGED);
    /// assert_eq!(S::of_attempts([]), S::NEW);
    /// ```
    pub fn of_attempts(attempts: impl IntoIterator<Item = OrderStatus>) -> OrderStatus {
        let mut best = OrderStatus::NEW;
        for s in attempts {
            if s.precedence() > 0 && s.precedence() >= best.precedence() {
                best = s;
            }
        }
        best
    }

    /// The statuses for which `pred` holds, as an SQL list (`'A', 'B'`), so
    /// queries test the same rule as the code.
    pub fn sql_list(pred: fn(OrderStatus) -> bool) -> String {
        OrderStatus::ALL.into_iter().filter(|s| pred(*s)).map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(", ")
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A payment method family, as named by `payment_options` (seed 000).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentMethod {
    /// Debit and credit cards.
    Card,
    /// Netbanking.
    Nb,
    /// Wallets.
    Wallet,
    /// UPI collect.
    Upi,
}

impl PaymentMethod {
    /// All methods in the order the page shows them.
    pub const ALL: [PaymentMethod; 4] = [PaymentMethod::Card, PaymentMethod::Upi, PaymentMethod::Nb, PaymentMethod::Wallet];

    /// The `payment_options` token.
    pub fn token(self) -> &'static str {
        match self {
            PaymentMethod::Card => "card",
            PaymentMethod::Nb => "nb",
            PaymentMethod::Wallet => "wallet",
            PaymentMethod::Upi => "upi",
        }
    }

    /// Parses a `payment_options` token (case-insensitive).
    pub fn from_token(s: &str) -> Option<PaymentMethod> {
        match s.trim().to_ascii_lowercase().as_str() {
            "card" => Some(PaymentMethod::Card),
            "nb" => Some(PaymentMethod::Nb),
            "wallet" => Some(PaymentMethod::Wallet),
            "upi" => Some(PaymentMethod::Upi),
            _ => None,
        }
    }

    /// The Juspay `payment_method_type` of `POST /txns`.
    pub fn txn_type(self) -> &'static str {
        match self {
            PaymentMethod::Card => "CARD",
            PaymentMethod::Nb => "NB",
            PaymentMethod::Wallet => "WALLET",
            PaymentMethod::Upi => "UPI",
        }
    }

    /// Parses a `payment_method_type`.
    pub fn from_txn_type(s: &str) -> Option<PaymentMethod> {
        PaymentMethod::ALL.into_iter().find(|m| m.txn_type().eq_ignore_ascii_case(s))
    }
}

/// A parsed `payment_options` value: the methods named and the tokens that
/// were not understood (shown as a warning, never an error).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PaymentOptions {
    /// Known methods, in the order given, without repeats.
    pub methods: Vec<PaymentMethod>,
    /// Tokens that name no method.
    pub unknown: Vec<String>,
}

impl PaymentOptions {
    /// Parses `nb|wallet|card`.
    ///
    /// ```
    /// use kassa_types::{PaymentMethod, PaymentOptions};
    /// let p = PaymentOptions::parse("nb|emi|wallet");
    /// assert_eq!(p.methods, vec![PaymentMethod::Nb, PaymentMethod::Wallet]);
    /// assert_eq!(p.unknown, vec!["emi".to_string()]);
    /// ```
    pub fn parse(s: &str) -> PaymentOptions {
        let mut out = PaymentOptions::default();
        for tok in s.split('|').map(str::trim).filter(|t| !t.is_empty()) {
            match PaymentMethod::from_token(tok) {
                Some(m) if !out.methods.contains(&m) => out.methods.push(m),
                Some(_) => {}
                None => out.unknown.push(tok.to_string()),
            }
        }
        out
    }

    /// The methods to offer: those `enabled` for the merchant, restricted to
    /// the ones named here when any are named; in the page's display order.
    pub fn filter(&self, enabled: &[PaymentMethod]) -> Vec<PaymentMethod> {
        PaymentMethod::ALL
            .into_iter()
            .filter(|m| enabled.contains(m))
            .filter(|m| self.methods.is_empty() || self.methods.contains(m))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ids() {
        assert!(validate_order_id("a").is_ok());
        assert!(validate_order_id("ABC_def-0123456789xy").is_ok());
        assert_eq!(validate_order_id(""), Err(OrderIdError::Empty));
        assert_eq!(validate_order_id("ABC_def-0123456789xyz"), Err(OrderIdError::TooLong));
        for bad in ["a b", "a/b", "a.b", "ä", "a%20", "<script>"] {
            assert_eq!(validate_order_id(bad), Err(OrderIdError::BadCharacter), "{bad}");
        }
    }

    #[test]
    fn status_ids_match_seed_000() {
        let table = [
            ("NEW", 10),
            ("PENDING_VBV", 23),
            ("CHARGED", 21),
            ("AUTHENTICATION_FAILED", 26),
            ("AUTHORIZATION_FAILED", 27),
            ("JUSPAY_DECLINED", 22),
            ("AUTHORIZING", 28),
            ("STARTED", 20),
            ("AUTO_REFUNDED", 36),
            ("CAPTURE_INITIATED", 33),
            ("CAPTURE_FAILED", 34),
            ("VOID_INITIATED", 32),
            ("VOIDED", 31),
            ("VOID_FAILED", 35),
            ("AUTHORIZED", 25),
            ("PARTIAL_CHARGED", 37),
        ];
        for (name, id) in table {
            let st = OrderStatus::parse(name).expect(name);
            assert_eq!(st.id(), id);
            assert_eq!(st.as_str(), name);
            assert_eq!(st.is_success(), name == "CHARGED");
        }
    }

    #[test]
    fn status_rules_agree() {
        for s in OrderStatus::ALL {
            // Nothing pending is terminal, nothing terminal takes a change.
            assert!(!(s.is_pending() && s.is_terminal()), "{s}");
            if s.is_updatable() {
                assert!(s.accepts_new_attempt() && !s.is_pending(), "{s}");
            }
            if s.is_failure() {
                assert!(s.is_terminal() && s.accepts_new_attempt() && s.is_updatable(), "{s}");
            }
        }
        assert!(OrderStatus::PENDING_VBV.accepts_new_attempt());
        for s in OrderStatus::ALL {
            // A hold takes no other attempt, and a second success is refunded.
            if s.took_payment() {
                assert!(!s.accepts_new_attempt() && !s.is_updatable() && s.precedence() == 4, "{s}");
            }
            if s.is_hold() {
                assert!(s.took_payment() && !s.is_terminal(), "{s}");
            }
        }
        assert_eq!(S::of_attempts([S::AUTHORIZED, S::AUTO_REFUNDED]), S::AUTHORIZED);
        assert_eq!(S::of_attempts([S::AUTHENTICATION_FAILED, S::VOIDED]), S::VOIDED);
        assert!(!OrderStatus::AUTHORIZING.accepts_new_attempt());
        assert!(!OrderStatus::PENDING_VBV.is_updatable());
        assert_eq!(OrderStatus::sql_list(OrderStatus::is_pending), "'PENDING_VBV', 'AUTHORIZING', 'STARTED'");
        use OrderStatus as S;
        assert_eq!(S::of_attempts([S::CHARGED, S::PENDING_VBV]), S::CHARGED);
        assert_eq!(S::of_attempts([S::PENDING_VBV, S::AUTHORIZING, S::AUTHENTICATION_FAILED]), S::AUTHORIZING);
        assert_eq!(S::of_attempts([S::AUTHORIZATION_FAILED, S::AUTHENTICATION_FAILED]), S::AUTHENTICATION_FAILED);
    }

    #[test]
    fn payment_options_filter() {
        let all = PaymentMethod::ALL;
        assert_eq!(PaymentOptions::parse("").filter(&all), all.to_vec());
        assert_eq!(PaymentOptions::parse("wallet|nb").filter(&all), vec![PaymentMethod::Nb, PaymentMethod::Wallet]);
        assert_eq!(PaymentOptions::parse("card").filter(&[PaymentMethod::Nb]), vec![]);
        let p = PaymentOptions::parse("CARD|| bogus |card");
        assert_eq!(p.methods, vec![PaymentMethod::Card]);
        assert_eq!(p.unknown, vec!["bogus".to_string()]);
    }
}
