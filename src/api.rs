//! The widget's calls to the Kassa server, authenticated with the order-scoped
//! client token.

use gloo_net::http::Request;
use kassa_types::view::{ApiError, TxnRequest, TxnResponse};

/// Why a call failed, in words for the shopper.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    /// The server refused the request and said why.
    Refused(String),
    /// No answer (offline, server down): the shopper may retry.
    Network,
}

/// `POST /txns`: starts a payment attempt; the answer says where the bank page is.
pub async fn start_txn(api_base: &str, token: &str, req: &TxnRequest) -> Result<TxnResponse, CallError> {
    let resp = Request::post(&format!("{api_base}/txns"))
        .header("Authorization", &format!("Bearer {token}"))
        .json(req)
        .map_err(|_| CallError::Network)?
        .send()
        .await
        .map_err(|_| CallError::Network)?;
    if resp.ok() {
        resp.json::<TxnResponse>().await.map_err(|_| CallError::Network)
    } else {
        match resp.json::<ApiError>().await {
            Ok(e) => Err(CallError::Refused(e.error_message)),
            Err(_) => Err(CallError::Network),
        }
    }
}
