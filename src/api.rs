//! The widget's calls to the Kassa server, authenticated with the order-scoped
//! client token. Plain `fetch` through web-sys, with bodies converted by
//! serde-wasm-bindgen and the browser's own JSON: no JSON parser in the wasm.

use kassa_types::view::ApiError;
use serde::Serialize;
use serde::de::DeserializeOwned;
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

async fn call<T: DeserializeOwned>(method: &str, url: &str, token: &str, body: Option<JsValue>) -> Result<T, CallError> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
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
    if resp.ok() {
        serde_wasm_bindgen::from_value(json).map_err(|_| CallError::Network)
    } else {
        match serde_wasm_bindgen::from_value::<ApiError>(json) {
            Ok(e) => Err(CallError::Refused(e.error_message)),
            Err(_) => Err(CallError::Network),
        }
    }
}

fn to_js<T: Serialize>(v: &T) -> Result<JsValue, CallError> {
    // Maps as plain objects, so JSON.stringify writes them as JSON objects.
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|_| CallError::Network)
}

/// `POST url` with the client token and an optional JSON body.
pub async fn post<T: DeserializeOwned>(url: &str, token: &str, body: Option<&impl Serialize>) -> Result<T, CallError> {
    let body = body.map(to_js).transpose()?;
    call("POST", url, token, body).await
}

/// `GET url` with the client token.
pub async fn get<T: DeserializeOwned>(url: &str, token: &str) -> Result<T, CallError> {
    call("GET", url, token, None).await
}
