//! A demo merchant, built the way a real one would be: its backend creates
//! orders with Kassa's public API (HTTP Basic with the API key), sends the
//! shopper to `payment_links.web`, and on return verifies the signed return
//! URL with `kassa-sign` and confirms with `GET /orders/:order_id`.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use clap::Parser;
use kassa_sign::{ResponseKey, return_url};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "kassa-demo-shop", about = "Kassa demo merchant")]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "SHOP_LISTEN", default_value = "127.0.0.1:8081")]
    listen: String,
    /// Public URL of this shop (default: http://LISTEN).
    #[arg(long, env = "SHOP_PUBLIC_URL")]
    public_url: Option<String>,
    /// Base URL of the Kassa server.
    #[arg(long, env = "KASSA_URL", default_value = "http://127.0.0.1:8080")]
    kassa_url: String,
    /// JSON printed by `kassa merchant create` (api_key, response_key).
    #[arg(long, env = "SHOP_CREDENTIALS")]
    credentials: std::path::PathBuf,
    /// Kassa's `www/` (the demo pages' scripts are in `www/demo/`).
    #[arg(long, env = "SHOP_WWW_DIR", default_value = "www")]
    www_dir: std::path::PathBuf,
}

#[derive(Deserialize)]
struct Credentials {
    merchant_id: String,
    api_key: String,
    response_key: String,
}

struct Shop {
    public_url: String,
    kassa_url: String,
    merchant_id: String,
    basic_auth: String,
    response_key: ResponseKey,
    agent: ureq::Agent,
    www_dir: std::path::PathBuf,
}

/// The one product on sale, and its price as sent to `POST /orders`.
const PRODUCT: &str = "Kassa sticker pack";
const PRICE: &str = "499.00";
const PRICE_SHOWN: &str = "₹499.00";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kassa-demo-shop: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let text = std::fs::read_to_string(&args.credentials).map_err(|e| format!("cannot read {}: {e}", args.credentials.display()))?;
    let creds: Credentials = serde_json::from_str(&text).map_err(|e| format!("bad credentials file: {e}"))?;
    let listener = tokio::net::TcpListener::bind(&args.listen).await.map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let shop = Arc::new(Shop {
        public_url: args.public_url.unwrap_or_else(|| format!("http://{addr}")),
        kassa_url: args.kassa_url.trim_end_matches('/').to_string(),
        merchant_id: creds.merchant_id,
        basic_auth: format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{}:", creds.api_key))),
        response_key: ResponseKey::new(creds.response_key.into_bytes()),
        agent,
        www_dir: args.www_dir,
    });
    let app = Router::new()
        .route("/", get(index))
        .route("/buy", post(buy))
        .route("/return", get(payment_return))
        .route("/integrations/script", get(script_integration))
        .route("/api/session", post(api_session))
        .route("/demo/checkout.js", get(checkout_js))
        .with_state(shop);
    eprintln!("demo shop listening on http://{addr}");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title} · Demo shop</title><link rel=\"icon\" href=\"data:,\">\
         <style>body{{font-family:system-ui,sans-serif;max-width:560px;margin:40px auto;padding:0 16px;color:#1b1f24}}\
         .product{{border:1px solid #d0d7de;border-radius:12px;padding:20px}}button{{font-size:1rem;padding:12px 20px;\
         border-radius:8px;border:0;background:#1d4ed8;color:#fff;cursor:pointer}}.ok{{color:#116329}}.bad{{color:#a40e26}}\
         code{{background:#f1f3f6;padding:1px 4px;border-radius:4px}}</style></head><body>\
         <p><a href=\"/\">Kassa demo shop</a></p>{body}</body></html>"
    ))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

async fn index() -> Html<String> {
    page(
        "Shop",
        &format!(
            "<div class=\"product\"><h1>{PRODUCT}</h1><p>Twelve waterproof stickers.</p>\
             <p class=\"price\">{PRICE_SHOWN}</p><form method=\"post\" action=\"/buy\">\
             <button type=\"submit\" id=\"buy\">Buy now</button></form></div>\
             <h2>Other integrations</h2><ul><li><a href=\"/integrations/script\">Script tag: the payment page in this page (iframe)</a></li></ul>"
        ),
    )
}

/// The script-tag integration: Kassa's loader plus the shop's own script.
async fn script_integration(State(shop): State<Arc<Shop>>) -> Html<String> {
    page(
        "Pay in the page",
        &format!(
            "<h1>{PRODUCT}</h1><p>{PRICE_SHOWN}: the payment page opens below, in this page.</p>\
             <button type=\"button\" id=\"pay\">Pay {PRICE_SHOWN}</button> <button type=\"button\" id=\"close\">Close</button>\
             <p>Result (a hint; the shop confirms it server to server): <strong id=\"result\"></strong></p>\
             <div id=\"payment\"></div><pre id=\"events\"></pre>\
             <script src=\"{kassa}/assets/kassa.js\"></script><script type=\"module\" src=\"/demo/checkout.js\"></script>",
            kassa = esc(&shop.kassa_url),
        ),
    )
    .with_merchant(&shop.merchant_id)
}

/// `www/demo/checkout.js`, the shop's script for the integration pages.
async fn checkout_js(State(shop): State<Arc<Shop>>) -> Response {
    match std::fs::read_to_string(shop.www_dir.join("demo/checkout.js")) {
        Ok(js) => ([(axum::http::header::CONTENT_TYPE, "text/javascript; charset=utf-8")], js).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `POST /api/session`: the shop's backend creates the order and the Process
/// SDK payload with Kassa's `POST /session` (API key stays on the server).
async fn api_session(State(shop): State<Arc<Shop>>) -> Response {
    let order_id = format!("shop{}", &hex_id()[..12]);
    let s = shop.clone();
    let made = tokio::task::spawn_blocking(move || -> Result<serde_json::Value, String> {
        let mut resp = s
            .agent
            .post(format!("{}/session", s.kassa_url))
            .header("Authorization", &s.basic_auth)
            .send_json(serde_json::json!({
                "order_id": order_id, "amount": PRICE, "currency": "INR", "customer_id": "guest_demo",
                "description": PRODUCT, "payment_page_client_id": s.merchant_id, "action": "paymentPage",
            }))
            .map_err(|e| format!("cannot reach Kassa: {e}"))?;
        let ok = resp.status().is_success();
        let body: serde_json::Value = resp.body_mut().read_json().map_err(|e| format!("bad answer from Kassa: {e}"))?;
        if ok { Ok(body) } else { Err(body["error_message"].as_str().unwrap_or("Kassa refused the session").to_string()) }
    })
    .await;
    match made {
        Ok(Ok(body)) => axum::Json(serde_json::json!({ "sdk_payload": body["sdk_payload"], "order_id": body["order_id"] })).into_response(),
        Ok(Err(e)) => (StatusCode::BAD_GATEWAY, axum::Json(serde_json::json!({ "error": e }))).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

trait WithMerchant {
    fn with_merchant(self, id: &str) -> Html<String>;
}

impl WithMerchant for Html<String> {
    /// Tells the page's script the merchant id (a data attribute on <body>).
    fn with_merchant(self, id: &str) -> Html<String> {
        Html(self.0.replacen("<body>", &format!("<body data-merchant=\"{}\">", esc(id)), 1))
    }
}

fn error_page(msg: &str) -> Response {
    (StatusCode::BAD_GATEWAY, page("Error", &format!("<h1 class=\"bad\">Something went wrong</h1><p>{}</p>", esc(msg)))).into_response()
}

async fn buy(State(shop): State<Arc<Shop>>) -> Response {
    let order_id = format!("shop{}", &hex_id()[..12]);
    let s = shop.clone();
    let oid = order_id.clone();
    let created = tokio::task::spawn_blocking(move || -> Result<serde_json::Value, String> {
        let return_url = format!("{}/return", s.public_url);
        let mut resp = s
            .agent
            .post(format!("{}/orders", s.kassa_url))
            .header("Authorization", &s.basic_auth)
            .header("x-merchantid", &s.merchant_id)
            .send_form([
                ("order_id", oid.as_str()),
                ("amount", PRICE),
                ("currency", "INR"),
                ("customer_id", "guest_demo"),
                ("customer_email", "guest@example.com"),
                ("description", PRODUCT),
                ("return_url", return_url.as_str()),
            ])
            .map_err(|e| format!("cannot reach Kassa: {e}"))?;
        let status = resp.status();
        let body: serde_json::Value = resp.body_mut().read_json().map_err(|e| format!("bad answer from Kassa: {e}"))?;
        if !status.is_success() {
            return Err(format!("Kassa refused the order: {}", body["error_message"].as_str().unwrap_or("unknown error")));
        }
        Ok(body)
    })
    .await;
    match created {
        Ok(Ok(body)) => match body["payment_links"]["web"].as_str() {
            Some(link) => Redirect::to(link).into_response(),
            None => error_page("Kassa's answer has no payment link"),
        },
        Ok(Err(e)) => error_page(&e),
        Err(_) => error_page("internal error"),
    }
}

fn hex_id() -> String {
    let b: [u8; 16] = rand::random();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

async fn payment_return(State(shop): State<Arc<Shop>>, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    // 1. The signature proves Kassa sent these parameters (SPEC §4, seed 000).
    let params = match return_url::verify_query(&shop.response_key, &query) {
        Ok(p) => p,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                page("Payment", &format!("<h1 class=\"bad\">Signature check failed</h1><p id=\"reason\">{}</p>", esc(&e.to_string()))),
            )
                .into_response();
        }
    };
    let Some(order_id) = params.get("order_id").map(str::to_string) else { return error_page("no order_id") };
    // 2. The server-to-server status is the truth; the redirect is only a hint.
    let s = shop.clone();
    let oid = order_id.clone();
    let status = tokio::task::spawn_blocking(move || -> Result<serde_json::Value, String> {
        let mut resp = s
            .agent
            .get(format!("{}/orders/{oid}", s.kassa_url))
            .header("Authorization", &s.basic_auth)
            .call()
            .map_err(|e| format!("cannot reach Kassa: {e}"))?;
        resp.body_mut().read_json().map_err(|e| format!("bad answer from Kassa: {e}"))
    })
    .await;
    let body = match status {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => return error_page(&e),
        Err(_) => return error_page("internal error"),
    };
    let server_status = body["status"].as_str().unwrap_or("UNKNOWN").to_string();
    let (title, class) = if server_status == "CHARGED" { ("Payment successful", "ok") } else { ("Payment failed", "bad") };
    page(
        title,
        &format!(
            "<h1 class=\"{class}\" id=\"result\">{title}</h1>\
             <p>Order <code id=\"order-id\">{}</code>: status <strong id=\"status\">{}</strong> (confirmed with <code>GET /orders/{}</code>).</p>\
             <p id=\"signature\">Return URL signature verified (HMAC-SHA256).</p>",
            esc(&order_id),
            esc(&server_status),
            esc(&order_id)
        ),
    )
    .into_response()
}
