//! The domain layer: the payment model ([`model`]) and the payment flow
//! ([`flow`]), with what it asks of network gateways ([`gateway_flow`]). No HTTP, no SQL, no wire shapes: the dialects call it, and
//! storage and gateways see only [`model`] types.

pub mod flow;
pub mod gateway_flow;
pub mod mandate;
pub mod model;
pub mod preauth;

pub use model::*;
