//! The widget's calls to the Kassa server, authenticated with the order-scoped
//! client token. Plain `fetch` through web-sys; bodies are read and written
//! by property with js-sys (`crate::js`) and serialized by the browser's own
//! JSON: no JSON parser in the wasm.

use crate::life::Life;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Why a call failed, in words for the shopper.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    /// The server refused the request and said why.
    Refused(String),
    /// No answer (offline, server down): the shopper may retry.
    Network,
}

/// Sends the request; the answer's JSON body as a JS value when the status is 2xx.
async fn call(method: &str, url: &str, token: &str, body: Option<JsValue>, life: &Life) -> Result<JsValue, CallError> {
    if !life.is_alive() {
        return Err(CallError::Network);
    }
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    // Unmounting the page aborts the request.
    if let Some(signal) = life.abort_signal() {
        init.set_signal(Some(&signal));
    }
    let headers = web_sys::Headers::new().map_err(|_| CallError::Network)?;
    headers.set("Authorization", &format!("Bearer {token}")).map_err(|_| CallError::Network)?;
    if let Some(body) = body {
        headers.set("Content-Type", "application/json").map_err(|_| CallError::Network)?;
        let text = js_sys::JSON::stringify(&body).map_err(|_| CallError::Network)?;
        init.set_body(&text);
    }
    init.set_headers(&headers);
    let window = web_sys::window().ok_or(CallError::Network)?;
    let resp: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|_| CallError::Network)?
        .dyn_into()
        .map_err(|_| CallError::Network)?;
    let json = JsFuture::from(resp.json().map_err(|_| CallError::Network)?).await.map_err(|_| CallError::Network)?;
    if resp.ok() { Ok(json) } else { Err(crate::js::error_message(&json).map_or(CallError::Network, CallError::Refused)) }
}

/// `POST url` with the client token and an optional JSON body; `parse` reads the answer.
pub async fn post<T>(
    url: &str,
    token: &str,
    body: Option<JsValue>,
    parse: fn(&JsValue) -> Result<T, &'static str>,
    life: &Life,
) -> Result<T, CallError> {
    parse(&call("POST", url, token, body, life).await?).map_err(|_| CallError::Network)
}

/// `GET url` with the client token; `parse` reads the answer.
pub async fn get<T>(url: &str, token: &str, parse: fn(&JsValue) -> Result<T, &'static str>, life: &Life) -> Result<T, CallError> {
    parse(&call("GET", url, token, None, life).await?).map_err(|_| CallError::Network)
}
