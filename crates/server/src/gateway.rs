//! Payment gateways. The flow (persist the attempt, send the shopper to the
//! bank page, apply the answer) does not depend on which gateway answers.

use kassa_types::OrderStatus;
use kassa_types::card::{self, CardBrand};
use kassa_types::methods::{BANKS, WALLETS};

/// What the payment page submitted, checked for shape already.
#[derive(Debug)]
pub enum MethodInput<'a> {
    /// A card (number digits only).
    Card {
        /// Digits.
        number: &'a str,
        /// Brand.
        brand: Option<CardBrand>,
    },
    /// Netbanking with a bank code (`NB_SBI`).
    Netbanking(&'a str),
    /// A wallet code (`PAYTM`).
    Wallet(&'a str),
    /// A UPI VPA.
    Upi(&'a str),
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

/// A payment gateway adapter.
pub trait Gateway: Send + Sync + std::fmt::Debug {
    /// Starts an attempt; returns the scenario to remember for it.
    fn start(&self, input: &MethodInput<'_>) -> Result<String, Declined>;
    /// The attempt's final status after the bank page's answer.
    fn answer(&self, scenario: &str, answer: &BankAnswer<'_>) -> OrderStatus;
    /// What the bank page asks for.
    fn prompt(&self, scenario: &str) -> Prompt;
}

/// What the sandbox bank page shows.
#[derive(Debug, PartialEq, Eq)]
pub enum Prompt {
    /// An OTP field.
    Otp,
    /// Success / Failure buttons.
    Buttons,
}

/// The sandbox gateway: documented test inputs with fixed outcomes (README, "Sandbox test data").
#[derive(Debug)]
pub struct Sandbox;

/// The OTP that authenticates a sandbox card payment.
pub const SANDBOX_OTP: &str = "123456";

impl Gateway for Sandbox {
    fn start(&self, input: &MethodInput<'_>) -> Result<String, Declined> {
        match input {
            MethodInput::Card { number, .. } => match *number {
                "4111111111111111" | "5555555555554444" => Ok("card_otp".into()),
                "4000000000000002" => Ok("card_decline".into()),
                _ if card::number_valid(number) => Err(Declined(
                    "the sandbox accepts only its test cards (4111 1111 1111 1111, 5555 5555 5555 4444, 4000 0000 0000 0002)".into(),
                )),
                _ => Err(Declined("card number is not valid".into())),
            },
            MethodInput::Netbanking(bank) if BANKS.iter().any(|(c, _)| c == bank) => Ok("buttons".into()),
            MethodInput::Netbanking(_) => Err(Declined("unknown bank".into())),
            MethodInput::Wallet(w) if WALLETS.iter().any(|(c, _)| c == w) => Ok("buttons".into()),
            MethodInput::Wallet(_) => Err(Declined("unknown wallet".into())),
            MethodInput::Upi(_) => Err(Declined("UPI is not available yet".into())),
        }
    }

    fn answer(&self, scenario: &str, answer: &BankAnswer<'_>) -> OrderStatus {
        match (scenario, answer) {
            ("card_otp", BankAnswer::Otp(otp)) if *otp == SANDBOX_OTP => OrderStatus::CHARGED,
            ("card_decline", BankAnswer::Otp(otp)) if *otp == SANDBOX_OTP => OrderStatus::AUTHORIZATION_FAILED,
            ("buttons", BankAnswer::Approve) => OrderStatus::CHARGED,
            ("buttons", BankAnswer::Decline) => OrderStatus::AUTHORIZATION_FAILED,
            _ => OrderStatus::AUTHENTICATION_FAILED,
        }
    }

    fn prompt(&self, scenario: &str) -> Prompt {
        if scenario.starts_with("card") { Prompt::Otp } else { Prompt::Buttons }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_cards() {
        let g = Sandbox;
        let start = |n| g.start(&MethodInput::Card { number: n, brand: card::detect_brand(n) });
        let ok = start("4111111111111111").expect("test card");
        assert_eq!(g.answer(&ok, &BankAnswer::Otp("123456")), OrderStatus::CHARGED);
        assert_eq!(g.answer(&ok, &BankAnswer::Otp("000000")), OrderStatus::AUTHENTICATION_FAILED);
        let decline = start("4000000000000002").expect("decline card");
        assert_eq!(g.answer(&decline, &BankAnswer::Otp("123456")), OrderStatus::AUTHORIZATION_FAILED);
        assert!(start("378282246310005").is_err());
        assert!(start("4111111111111112").is_err());
    }
}
