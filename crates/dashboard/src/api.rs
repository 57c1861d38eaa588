//! Calls to the server's `/dashboard/api` (same origin: the session cookie
//! goes with them; writes carry the CSRF token).

use gloo_net::http::Request;
use serde_json::Value;

/// A call that did not succeed: its HTTP status (0: no answer) and the server's message.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// HTTP status; 0 when the server could not be reached.
    pub status: u16,
    /// What to show.
    pub message: String,
}

async fn answer(resp: Result<gloo_net::http::Response, gloo_net::Error>) -> Result<Value, ApiError> {
    let resp = resp.map_err(|_| ApiError { status: 0, message: "The server could not be reached. Try again.".into() })?;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if (200..300).contains(&status) {
        Ok(body)
    } else {
        let message = body["error_message"].as_str().unwrap_or("The request failed.").to_string();
        Err(ApiError { status, message })
    }
}

/// `GET /dashboard/api/{path}`.
pub async fn get(path: &str) -> Result<Value, ApiError> {
    answer(Request::get(&format!("/dashboard/api/{path}")).send().await).await
}

/// `POST /dashboard/api/{path}` with a JSON body and the session's CSRF token.
pub async fn post(path: &str, csrf: &str, body: &Value) -> Result<Value, ApiError> {
    let req = Request::post(&format!("/dashboard/api/{path}")).header("x-csrf-token", csrf).json(body);
    match req {
        Ok(req) => answer(req.send().await).await,
        Err(_) => Err(ApiError { status: 0, message: "The request could not be made.".into() }),
    }
}

/// Percent-encodes a query value or path segment.
pub fn enc(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}
