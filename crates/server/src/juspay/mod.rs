//! The Juspay Express Checkout dialect (SPEC §3): request and response
//! shapes and the handlers that turn them into calls on the domain. A second
//! dialect (Razorpay's `/v1/orders`) is a sibling of this module calling the
//! same domain functions.

pub mod customers;
pub mod holds;
pub mod mandates;
pub mod openapi;
pub mod orders;
pub mod session;
pub mod txns;
pub mod webhooks;
pub mod wire;

use crate::AppState;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};

/// The API routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orders", post(orders::create_order))
        .route("/orders/{order_id}", get(orders::order_status).post(orders::update_order))
        .route("/orders/{order_id}/refunds", post(orders::create_refund))
        .route("/orders/{order_id}/sync", post(orders::sync_order))
        .route("/session", post(session::create_session))
        .route("/sdk/process", post(session::sdk_process))
        .route("/txns", post(txns::txns))
        .route("/txns/{txn_uuid}", get(txns::txn_status))
        .route("/txns/{txn_uuid}/cancel", post(txns::cancel_txn))
        .route("/v2/txns/{txn_uuid}/capture", post(holds::capture))
        .route("/v2/txns/{txn_uuid}/void", post(holds::void))
        .merge(customers::routes())
        .merge(mandates::routes())
        .merge(webhooks::routes())
        .route("/health", get(|| async { "ok" }))
        .route("/openapi.json", get(|State(state): State<AppState>| async move { Json(openapi::document(&state.config.public_url)) }))
}
