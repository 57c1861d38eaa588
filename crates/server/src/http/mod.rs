//! The HTTP layer: request bodies, errors, who is calling. Knows nothing of
//! Juspay's shapes or of payments.

pub mod auth;
pub mod body;
pub mod error;
pub mod limits;
