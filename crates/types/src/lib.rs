//! Types shared by the Kassa widget (wasm32) and the native crates.
//!
//! Everything here is pure: no I/O, no clock, no randomness, so the same
//! rules run in the shopper's browser and on the server.

#![forbid(unsafe_code)]
#![warn(clippy::wildcard_enum_match_arm)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod card;
pub mod methods;
pub mod money;
pub mod order;
pub mod theme;
pub mod view;

/// The `language` values of seed 001; the payment page falls back to english.
pub const LANGUAGES: [&str; 9] = ["english", "hindi", "telugu", "tamil", "bengali", "malayalam", "gujarati", "kannada", "marathi"];

pub use money::{Amount, AmountError, Currency};
pub use order::{OrderIdError, OrderStatus, PaymentMethod, PaymentOptions, validate_order_id};
