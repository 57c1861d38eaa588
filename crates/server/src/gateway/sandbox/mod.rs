//! Kassa's sandbox gateway (SPEC §3 "Sandbox gateway"): documented test
//! inputs with fixed outcomes. Its bank pages (plain HTML forms that work
//! without JavaScript) are in [`bank`], mounted only with it.

pub mod bank;

pub use bank::routes;

use super::{Answer, BankAnswer, Declined, Gateway, HoldAnswer, MethodInput, Prompt, Started};
use crate::domain::GatewayResponse;
use kassa_types::OrderStatus;
use kassa_types::card;
use kassa_types::methods::{BANKS, WALLETS};

/// The sandbox gateway: documented test inputs with fixed outcomes (README, "Sandbox test data").
#[derive(Debug)]
pub struct Sandbox {
    /// How long a UPI collect, or a card the bank authorizes, takes to settle (ms).
    pub settle_delay_ms: i64,
}

/// The OTP that authenticates a sandbox card payment.
pub const SANDBOX_OTP: &str = "123456";

impl Sandbox {
    /// The sandbox's decision on an instrument (no I/O).
    fn decide(&self, input: &MethodInput<'_>) -> Result<Started, Declined> {
        let id = || crate::random_id("sbx_");
        let delay = self.settle_delay_ms;
        let now = |scenario: &str| Ok(Started { scenario: scenario.into(), collect: None, gateway_txn_id: id() });
        match input {
            MethodInput::Card { number, .. } => match *number {
                "4111111111111111" | "5555555555554444" => now("card_otp"),
                // Pre-authorization: the hold's capture and void are refused, or answered late.
                "4000000000003063" => now("card_hold_refused"),
                "4000000000003220" => now("card_hold_late"),
                "4000000000000002" => now("card_decline"),
                "4000000000000119" => now("card_pending"),
                _ if card::number_valid(number) => Err(Declined(
                    "the sandbox accepts only its test cards (4111 1111 1111 1111, 5555 5555 5555 4444, 4000 0000 0000 0002, 4000 0000 0000 0119, 4000 0000 0000 3063, 4000 0000 0000 3220)"
                        .into(),
                )),
                _ => Err(Declined("card number is not valid".into())),
            },
            MethodInput::Netbanking(bank) if BANKS.iter().any(|(c, _)| c == bank) => now("buttons"),
            MethodInput::Netbanking(_) => Err(Declined("unknown bank".into())),
            MethodInput::Wallet(w) if WALLETS.iter().any(|(c, _)| c == w) => now("buttons"),
            MethodInput::Wallet(_) => Err(Declined("unknown wallet".into())),
            MethodInput::Upi("success@kassa") => {
                Ok(Started { scenario: "upi_collect".into(), collect: Some((OrderStatus::CHARGED, delay)), gateway_txn_id: id() })
            }
            MethodInput::Upi("failure@kassa") => {
                Ok(Started { scenario: "upi_collect".into(), collect: Some((OrderStatus::AUTHORIZATION_FAILED, delay)), gateway_txn_id: id() })
            }
            MethodInput::Upi(_) => Err(Declined("the sandbox accepts only the UPI ids success@kassa and failure@kassa".into())),
            MethodInput::Vaulted { scenario, .. } if scenario.starts_with("card") => now(scenario),
            MethodInput::Vaulted { .. } => Err(Declined("the sandbox's vault no longer has this card".into())),
        }
    }
}

/// The sandbox's answer to a mandate execution (README, "Sandbox test data"):
/// an amount ending in 02 paise (e.g. 100.02), or a card registered with
/// the declining test card, is declined; everything else is charged.
pub fn execution_outcome(amount_minor: i64, scenario: &str) -> OrderStatus {
    if amount_minor % 100 == 2 || scenario == "card_decline" { OrderStatus::AUTHORIZATION_FAILED } else { OrderStatus::CHARGED }
}

/// The sandbox's answer to a pre-debit notification: one for an amount
/// ending in 03 paise fails, every other succeeds.
pub fn notification_outcome(amount_minor: i64) -> &'static str {
    if amount_minor % 100 == 3 { "FAILURE" } else { "SUCCESS" }
}

/// The scenario of a mandate execution's attempt: settled by the sandbox, with no page for the shopper.
pub const EXECUTION: &str = "mandate_execution";

impl Gateway for Sandbox {
    fn start<'a>(&'a self, input: &'a MethodInput<'a>) -> super::StartFuture<'a> {
        Box::pin(std::future::ready(self.decide(input)))
    }

    fn answer(&self, scenario: &str, answer: &BankAnswer<'_>) -> Answer {
        match (scenario, answer) {
            ("card_otp" | "card_hold_refused" | "card_hold_late", BankAnswer::Otp(otp)) if *otp == SANDBOX_OTP => {
                Answer::Final(OrderStatus::CHARGED)
            }
            ("card_decline", BankAnswer::Otp(otp)) if *otp == SANDBOX_OTP => Answer::Final(OrderStatus::AUTHORIZATION_FAILED),
            ("card_pending", BankAnswer::Otp(otp)) if *otp == SANDBOX_OTP => {
                Answer::Authorizing(OrderStatus::CHARGED, self.settle_delay_ms)
            }
            ("buttons", BankAnswer::Approve) => Answer::Final(OrderStatus::CHARGED),
            ("buttons", BankAnswer::Decline) => Answer::Final(OrderStatus::AUTHORIZATION_FAILED),
            _ => Answer::Final(OrderStatus::AUTHENTICATION_FAILED),
        }
    }

    fn prompt(&self, scenario: &str) -> Prompt {
        match scenario {
            "upi_collect" | EXECUTION => Prompt::Collect,
            s if s.starts_with("card") => Prompt::Otp,
            _ => Prompt::Buttons,
        }
    }

    fn capture(&self, scenario: &str) -> HoldAnswer {
        match scenario {
            "card_hold_refused" => HoldAnswer::Now(OrderStatus::CAPTURE_FAILED),
            "card_hold_late" => HoldAnswer::Later(OrderStatus::CHARGED, self.settle_delay_ms),
            _ => HoldAnswer::Now(OrderStatus::CHARGED),
        }
    }

    fn void(&self, scenario: &str) -> HoldAnswer {
        match scenario {
            "card_hold_refused" => HoldAnswer::Now(OrderStatus::VOID_FAILED),
            "card_hold_late" => HoldAnswer::Later(OrderStatus::VOIDED, self.settle_delay_ms),
            _ => HoldAnswer::Now(OrderStatus::VOIDED),
        }
    }

    fn page_url(&self, base: &str, txn_id: &str) -> String {
        format!("{base}/sandbox/bank/{txn_id}")
    }

    fn response(&self, status: OrderStatus, now: i64) -> GatewayResponse {
        let digits = |n: usize| (0..n).map(|_| char::from(b'0' + rand::random_range(0..10u8))).collect::<String>();
        let (code, message) = match status {
            OrderStatus::CHARGED => ("00", "Transaction successful"),
            OrderStatus::AUTHENTICATION_FAILED => ("AUTHENTICATION_FAILED", "The shopper did not complete authentication"),
            OrderStatus::AUTHORIZATION_FAILED => ("05", "Declined by the issuing bank"),
            OrderStatus::AUTO_REFUNDED => ("00", "Transaction successful; refunded automatically"),
            OrderStatus::AUTHORIZED => ("00", "Amount authorized and held"),
            OrderStatus::VOIDED => ("00", "Authorization released"),
            OrderStatus::CAPTURE_FAILED => ("CAPTURE_FAILED", "The issuer refused the capture"),
            other @ (OrderStatus::NEW
            | OrderStatus::PENDING_VBV
            | OrderStatus::JUSPAY_DECLINED
            | OrderStatus::AUTHORIZING
            | OrderStatus::STARTED
            | OrderStatus::CAPTURE_INITIATED
            | OrderStatus::VOID_INITIATED
            | OrderStatus::VOID_FAILED
            | OrderStatus::PARTIAL_CHARGED) => (other.as_str(), other.as_str()),
        };
        let success = matches!(status, OrderStatus::CHARGED | OrderStatus::AUTO_REFUNDED | OrderStatus::AUTHORIZED);
        GatewayResponse {
            resp_code: code.into(),
            resp_message: message.into(),
            rrn: if success { digits(12) } else { String::new() },
            auth_id_code: if success { digits(6) } else { String::new() },
            created_at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::vpa_valid;

    #[test]
    fn sandbox_cards() {
        let g = Sandbox { settle_delay_ms: 10 };
        let start =
            |n| g.decide(&MethodInput::Card { number: n, brand: card::detect_brand(n), month: 12, year: 2030, cvv: "123", name: "" });
        let ok = start("4111111111111111").expect("test card").scenario;
        assert_eq!(g.answer(&ok, &BankAnswer::Otp("123456")), Answer::Final(OrderStatus::CHARGED));
        assert_eq!(g.answer(&ok, &BankAnswer::Otp("000000")), Answer::Final(OrderStatus::AUTHENTICATION_FAILED));
        let decline = start("4000000000000002").expect("decline card").scenario;
        assert_eq!(g.answer(&decline, &BankAnswer::Otp("123456")), Answer::Final(OrderStatus::AUTHORIZATION_FAILED));
        let pending = start("4000000000000119").expect("pending card").scenario;
        assert_eq!(g.answer(&pending, &BankAnswer::Otp("123456")), Answer::Authorizing(OrderStatus::CHARGED, 10));
        assert_eq!(g.answer(&pending, &BankAnswer::Otp("1")), Answer::Final(OrderStatus::AUTHENTICATION_FAILED));
        assert!(start("378282246310005").is_err());
        assert!(start("4111111111111112").is_err());
    }

    #[test]
    fn sandbox_upi_collect() {
        let g = Sandbox { settle_delay_ms: 10 };
        let ok = g.decide(&MethodInput::Upi("success@kassa")).unwrap();
        assert_eq!(ok.collect, Some((OrderStatus::CHARGED, 10)));
        assert_eq!(g.prompt(&ok.scenario), Prompt::Collect);
        assert_eq!(g.decide(&MethodInput::Upi("failure@kassa")).unwrap().collect, Some((OrderStatus::AUTHORIZATION_FAILED, 10)));
        assert!(g.decide(&MethodInput::Upi("someone@okbank")).is_err());
        for good in ["success@kassa", "a.b-c_d@okhdfc"] {
            assert!(vpa_valid(good), "{good}");
        }
        for bad in ["", "a@b", "@kassa", "x@", "no-at", "a b@kassa", "ab@ka.ssa", "ab@kassa@x"] {
            assert!(!vpa_valid(bad), "{bad}");
        }
    }
}
