//! A demo merchant, built the way a real one would be: its backend creates
//! orders with Kassa's public API (HTTP Basic with the API key) or signs the
//! Process SDK `orderDetails` with its RSA key (`kassa-sign`), its pages hand
//! the payload to Kassa's bridge (script tag, a hand-written iframe host, an
//! npm/Vite app) or send the shopper to the payment link (web, mobile
//! webview), and it verifies what comes back: the signed return URL, the
//! signed webhooks, and `GET /orders/:order_id` as the truth.

use axum::Router;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use clap::Parser;
use kassa_sign::order_details::{OrderDetails, RsaPrivateKey, SigEncoding};
use kassa_sign::webhook::{self, WebhookSecret};
use kassa_sign::{ResponseKey, return_url};
use serde::Deserialize;
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

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
    /// The shop's RSA private key (PEM) for signing Process SDK `orderDetails`;
    /// its public key is registered with `kassa merchant add-key`.
    #[arg(long, env = "SHOP_PRIVATE_KEY")]
    private_key: Option<std::path::PathBuf>,
    /// The key id the public key was registered under.
    #[arg(long, env = "SHOP_KEY_ID", default_value = "demo-key")]
    key_id: String,
    /// The built npm/Vite demo app (`www/demo/npm` built against `pkg/`), served at /integrations/npm/.
    #[arg(long, env = "SHOP_NPM_APP_DIR")]
    npm_app_dir: Option<std::path::PathBuf>,
}

#[derive(Deserialize)]
struct Credentials {
    merchant_id: String,
    client_id: String,
    api_key: String,
    response_key: String,
    webhook_secret: String,
}

/// A webhook the shop received and verified.
#[derive(Clone, serde::Serialize)]
struct Received {
    id: String,
    event_name: String,
    order_id: String,
    status: String,
}

/// The last webhooks received, de-duplicated on the event id (delivery is at least once).
#[derive(Default)]
struct Inbox {
    seen: HashSet<String>,
    events: VecDeque<Received>,
}

/// How many webhooks the demo keeps in memory.
const INBOX_LIMIT: usize = 1000;

struct Shop {
    public_url: String,
    kassa_url: String,
    merchant_id: String,
    client_id: String,
    basic_auth: String,
    response_key: ResponseKey,
    webhook_secret: WebhookSecret,
    signing_key: Option<RsaPrivateKey>,
    key_id: String,
    agent: ureq::Agent,
    www_dir: std::path::PathBuf,
    inbox: Mutex<Inbox>,
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
    let signing_key = match &args.private_key {
        Some(path) => {
            let pem = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            Some(RsaPrivateKey::from_pem(&pem).map_err(|e| format!("{}: {e}", path.display()))?)
        }
        None => None,
    };
    let shop = Arc::new(Shop {
        public_url: args.public_url.unwrap_or_else(|| format!("http://{addr}")),
        kassa_url: args.kassa_url.trim_end_matches('/').to_string(),
        merchant_id: creds.merchant_id,
        client_id: creds.client_id,
        basic_auth: format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{}:", creds.api_key))),
        response_key: ResponseKey::new(creds.response_key.into_bytes()),
        webhook_secret: WebhookSecret::new(creds.webhook_secret.into_bytes()),
        signing_key,
        key_id: args.key_id,
        agent,
        www_dir: args.www_dir,
        inbox: Mutex::new(Inbox::default()),
    });
    let mut app = Router::new()
        .route("/", get(index))
        .route("/buy", post(buy))
        .route("/return", get(payment_return))
        .route("/hold", post(hold_action))
        .route("/integrations/script", get(script_integration))
        .route("/integrations/signed", get(signed_integration))
        .route("/integrations/iframe", get(iframe_integration))
        .route("/integrations/mobile", get(mobile_integration))
        .route("/api/session", post(api_session))
        .route("/api/signed-session", post(api_signed_session))
        .route("/api/webhooks", get(api_webhooks))
        .route("/webhooks/kassa", post(receive_webhook))
        .route("/demo/{file}", get(demo_js));
    app = match args.npm_app_dir {
        // Read at request time: the app may be built after the shop starts.
        Some(dir) => app.nest_service("/integrations/npm", tower_http::services::ServeDir::new(dir)),
        None => app.route("/integrations/npm/", get(npm_not_built)),
    };
    let app = app.with_state(shop);
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
         code{{background:#f1f3f6;padding:1px 4px;border-radius:4px}}label{{display:block;font-weight:600;margin-bottom:6px}}\
         select{{font-size:1rem;padding:8px;border-radius:8px;border:1px solid #8c959f;margin-bottom:16px;display:block}}</style></head><body>\
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
             <label for=\"gateway\">Pay through</label><select id=\"gateway\" name=\"gateway_id\">\
             <option value=\"999\" selected>Kassa sandbox</option><option value=\"23\">Razorpay (sandbox)</option>\
             <option value=\"18\">Paytm (sandbox)</option></select>\
             <p><input type=\"checkbox\" id=\"hold\" name=\"hold\" value=\"1\"> \
             <label for=\"hold\">Hold the amount now, charge it when the order ships (pre-authorization)</label></p>\
             <button type=\"submit\" id=\"buy\">Buy now</button></form></div>\
             <h2>Other integrations</h2><ul>\
             <li><a href=\"/integrations/script\">Script tag: the payment page in this page (iframe), session from Kassa</a></li>\
             <li><a href=\"/integrations/signed\">Script tag with <code>orderDetails</code> signed by the shop (Process SDK, RSA)</a></li>\
             <li><a href=\"/integrations/iframe\">Plain iframe: the bridge protocol written by hand, no loader</a></li>\
             <li><a href=\"/integrations/npm/\">npm package in a Vite app</a></li>\
             <li><a href=\"/integrations/mobile\">Mobile app webview</a></li></ul>"
        ),
    )
}

/// A page that pays through Kassa's script-tag loader; its session comes from `session_url`.
fn loader_page(shop: &Shop, title: &str, what: &str, session_url: &str) -> Html<String> {
    page(
        title,
        &format!(
            "<h1>{PRODUCT}</h1><p>{PRICE_SHOWN}: {what}</p>\
             <button type=\"button\" id=\"pay\">Pay {PRICE_SHOWN}</button> <button type=\"button\" id=\"close\">Close</button>\
             <p>Result (a hint; the shop confirms it server to server): <strong id=\"result\"></strong></p>\
             <div id=\"payment\"></div><pre id=\"events\"></pre>\
             <script src=\"{kassa}/assets/kassa.js\"></script><script type=\"module\" src=\"/demo/checkout.js\"></script>",
            kassa = esc(&shop.kassa_url),
        ),
    )
    .with_data(&[("merchant", &shop.merchant_id), ("session-url", session_url)])
}

/// The script-tag integration: Kassa's loader, its checkout component and the shop's session route.
/// `?hold=1`: a pre-authorization (the amount is held; `process_result` says `authorized`).
async fn script_integration(State(shop): State<Arc<Shop>>, Query(q): Query<HoldQuery>) -> Html<String> {
    if q.hold.is_some() {
        return loader_page(&shop, "Hold in the page", "the payment page opens below and holds the amount.", "/api/session?hold=1");
    }
    loader_page(&shop, "Pay in the page", "the payment page opens below, in this page.", "/api/session")
}

#[derive(Deserialize)]
struct HoldQuery {
    /// Set: the order is a pre-authorization.
    hold: Option<String>,
}

/// The same, with the Process SDK payload the shop's backend signed itself (seed 001).
async fn signed_integration(State(shop): State<Arc<Shop>>) -> Html<String> {
    loader_page(
        &shop,
        "Pay with a signed order",
        "the shop's backend signs <code>orderDetails</code> with its RSA key; Kassa checks the signature and opens the payment page below.",
        "/api/signed-session",
    )
}

/// The iframe integration without the loader: `www/demo/iframe.js` speaks the bridge protocol by hand.
async fn iframe_integration(State(shop): State<Arc<Shop>>) -> Html<String> {
    page(
        "Plain iframe",
        &format!(
            "<h1>{PRODUCT}</h1><p>{PRICE_SHOWN}: the shop frames <code>payment_links.iframe</code> itself and \
             listens to the frame's messages (docs/bridge.md), without Kassa's loader.</p>\
             <button type=\"button\" id=\"pay\">Pay {PRICE_SHOWN}</button>\
             <p>Result (a hint): <strong id=\"result\"></strong></p><div id=\"payment\"></div><pre id=\"events\"></pre>\
             <script type=\"module\" src=\"/demo/iframe.js\"></script>"
        ),
    )
    .with_data(&[("kassa", &shop.kassa_url)])
}

/// The mobile integration: what an app's webview loads, and the native side it needs.
async fn mobile_integration() -> Html<String> {
    page(
        "Mobile app",
        &format!(
            "<h1>{PRODUCT} in an app</h1><p>An app creates the order on its backend and loads \
             <code>payment_links.mobile</code> in a webview. Without a <code>return_url</code> the attempt ends on \
             Kassa's result page, which hands the result to the app's native bridge \
             (<code>ReactNativeWebView</code>, <code>webkit.messageHandlers.kassa</code> or <code>KassaAndroid</code>; \
             the README shows the native code). No popup is used.</p>\
             <form method=\"post\" action=\"/buy\"><input type=\"hidden\" name=\"variant\" value=\"mobile\">\
             <button type=\"submit\" id=\"buy\">Open the mobile payment link ({PRICE_SHOWN})</button></form>"
        ),
    )
}

async fn npm_not_built() -> Response {
    (
        StatusCode::NOT_FOUND,
        page("npm", "<h1>The npm demo app is not built</h1><p><code>cargo xtask demo</code> builds <code>www/demo/npm</code> against <code>pkg/</code>.</p>"),
    )
        .into_response()
}

/// `www/demo/*.js`, the shop's scripts for the integration pages.
async fn demo_js(State(shop): State<Arc<Shop>>, Path(file): Path<String>) -> Response {
    if !matches!(file.as_str(), "checkout.js" | "iframe.js") {
        return StatusCode::NOT_FOUND.into_response();
    }
    match std::fs::read_to_string(shop.www_dir.join("demo").join(&file)) {
        Ok(js) => ([(axum::http::header::CONTENT_TYPE, "text/javascript; charset=utf-8")], js).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Calls Kassa with the API key (blocking HTTP on a worker thread); the JSON answer, or Kassa's error message.
async fn call_kassa(shop: &Arc<Shop>, path: &str, body: serde_json::Value) -> Result<serde_json::Value, String> {
    let (s, url) = (shop.clone(), format!("{}{path}", shop.kassa_url));
    tokio::task::spawn_blocking(move || -> Result<serde_json::Value, String> {
        let mut resp = s
            .agent
            .post(url)
            .header("Authorization", &s.basic_auth)
            .header("x-merchantid", &s.merchant_id)
            .send_json(body)
            .map_err(|e| format!("cannot reach Kassa: {e}"))?;
        let ok = resp.status().is_success();
        let body: serde_json::Value = resp.body_mut().read_json().map_err(|e| format!("bad answer from Kassa: {e}"))?;
        if ok { Ok(body) } else { Err(format!("Kassa refused: {}", body["error_message"].as_str().unwrap_or("unknown error"))) }
    })
    .await
    .unwrap_or_else(|_| Err("internal error".into()))
}

fn json_error(status: StatusCode, e: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": e }))).into_response()
}

/// `POST /api/session`: the shop's backend creates the order and the Process
/// SDK payload with Kassa's `POST /session` (API key stays on the server).
async fn api_session(State(shop): State<Arc<Shop>>, Query(q): Query<HoldQuery>) -> Response {
    let order_id = format!("shop{}", &hex_id()[..12]);
    let mut session = serde_json::json!({
        "order_id": order_id, "amount": PRICE, "currency": "INR", "customer_id": "guest_demo",
        "description": PRODUCT, "payment_page_client_id": shop.client_id, "action": "paymentPage",
    });
    if q.hold.is_some() {
        session["metadata"] = serde_json::json!({ "txns": { "auto_capture": "false" } });
    }
    let made = call_kassa(&shop, "/session", session).await;
    match made {
        Ok(body) => axum::Json(serde_json::json!({ "sdk_payload": body["sdk_payload"], "order_id": body["order_id"] })).into_response(),
        Err(e) => json_error(StatusCode::BAD_GATEWAY, &e),
    }
}

/// `POST /api/signed-session`: a Process SDK payload whose `orderDetails` the
/// shop signs with its own RSA key (seed 001); Kassa creates the order when
/// the page processes it, after checking the signature.
async fn api_signed_session(State(shop): State<Arc<Shop>>) -> Response {
    let Some(key) = &shop.signing_key else {
        return json_error(StatusCode::NOT_FOUND, "this shop has no signing key (--private-key)");
    };
    let order_id = format!("sig{}", &hex_id()[..12]);
    let details = OrderDetails::new(&order_id, &shop.merchant_id, PRICE, "guest_demo").customer_email("guest@example.com").currency("INR");
    let signed = details.to_json_now().and_then(|json| Ok((kassa_sign::order_details::sign(key, &json, SigEncoding::Base64)?, json)));
    match signed {
        Ok((signature, json)) => axum::Json(serde_json::json!({
            "order_id": order_id,
            "sdk_payload": {
                "requestId": hex_id(),
                "service": "in.juspay.hyperpay",
                "payload": {
                    "action": "paymentPage", "merchantId": shop.merchant_id, "clientId": shop.client_id,
                    "orderId": order_id, "amount": PRICE, "customerId": "guest_demo", "customerEmail": "guest@example.com",
                    "orderDetails": json, "signature": signature, "merchantKeyId": shop.key_id,
                },
            },
        }))
        .into_response(),
        Err(e) => json_error(StatusCode::INTERNAL_SERVER_ERROR, &format!("cannot sign orderDetails: {e}")),
    }
}

/// `POST /webhooks/kassa`: Kassa's webhooks, accepted only with a valid
/// `Kassa-Signature` (HMAC-SHA256 over `timestamp.body`, 5-minute window),
/// de-duplicated on the event id.
async fn receive_webhook(State(shop): State<Arc<Shop>>, headers: axum::http::HeaderMap, body: axum::body::Bytes) -> Response {
    let header = headers.get(webhook::HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    if let Err(e) = webhook::verify(&shop.webhook_secret, header, &body, now, webhook::DEFAULT_TOLERANCE_SECS) {
        return (StatusCode::UNAUTHORIZED, format!("webhook refused: {e}")).into_response();
    }
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "webhook body is not JSON").into_response();
    };
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let got = Received {
        id: text(&event["id"]),
        event_name: text(&event["event_name"]),
        order_id: text(&event["content"]["order"]["order_id"]),
        status: text(&event["content"]["order"]["status"]),
    };
    let Ok(mut inbox) = shop.inbox.lock() else { return StatusCode::SERVICE_UNAVAILABLE.into_response() };
    if inbox.seen.insert(got.id.clone()) {
        inbox.events.push_back(got);
        while inbox.events.len() > INBOX_LIMIT {
            if let Some(old) = inbox.events.pop_front() {
                inbox.seen.remove(&old.id);
            }
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct ForOrder {
    order_id: String,
}

fn webhooks_for(shop: &Shop, order_id: &str) -> Vec<Received> {
    shop.inbox.lock().map(|i| i.events.iter().filter(|e| e.order_id == order_id).cloned().collect()).unwrap_or_default()
}

/// `GET /api/webhooks?order_id=…`: the verified webhooks received for an order.
async fn api_webhooks(State(shop): State<Arc<Shop>>, Query(q): Query<ForOrder>) -> Response {
    axum::Json(webhooks_for(&shop, &q.order_id)).into_response()
}

trait WithData {
    fn with_data(self, data: &[(&str, &str)]) -> Html<String>;
}

impl WithData for Html<String> {
    /// Tells the page's script what it needs (`data-*` attributes on <body>).
    fn with_data(self, data: &[(&str, &str)]) -> Html<String> {
        let attrs: String = data.iter().map(|(k, v)| format!(" data-{k}=\"{}\"", esc(v))).collect();
        Html(self.0.replacen("<body>", &format!("<body{attrs}>"), 1))
    }
}

fn error_page(msg: &str) -> Response {
    (StatusCode::BAD_GATEWAY, page("Error", &format!("<h1 class=\"bad\">Something went wrong</h1><p>{}</p>", esc(msg)))).into_response()
}

#[derive(Deserialize)]
struct BuyForm {
    /// `mobile`: the order an app's webview pays (no return URL, so Kassa's
    /// result page hands the result to the app), else the web redirect flow.
    variant: Option<String>,
    /// The gateway Kassa routes the order to (Juspay's `gateway_id`: 999 Kassa's sandbox, 23 Razorpay, 18 Paytm).
    gateway_id: Option<u16>,
    /// Set: a pre-authorization (`metadata.txns.auto_capture=false`), captured or voided from the return page.
    hold: Option<String>,
}

async fn buy(State(shop): State<Arc<Shop>>, axum::Form(form): axum::Form<BuyForm>) -> Response {
    let mobile = form.variant.as_deref() == Some("mobile");
    let mut order = serde_json::json!({
        "order_id": format!("shop{}", &hex_id()[..12]), "amount": PRICE, "currency": "INR", "customer_id": "guest_demo",
        "customer_email": "guest@example.com", "customer_phone": "9876543210", "description": PRODUCT,
    });
    if let Some(gateway) = form.gateway_id {
        order["gateway_id"] = gateway.into();
    }
    if form.hold.is_some() {
        order["metadata"] = serde_json::json!({ "txns": { "auto_capture": "false" } });
    }
    if !mobile {
        order["return_url"] = serde_json::Value::String(format!("{}/return", shop.public_url));
    }
    match call_kassa(&shop, "/orders", order).await {
        Ok(body) => match body["payment_links"][if mobile { "mobile" } else { "web" }].as_str() {
            Some(link) => Redirect::to(link).into_response(),
            None => error_page("Kassa's answer has no payment link"),
        },
        Err(e) => error_page(&e),
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
    order_page(&shop, &order_id, "<p id=\"signature\">Return URL signature verified (HMAC-SHA256).</p>").await
}

/// What to do with a held payment (the shop's back office, simplified: no sign-in in this demo).
#[derive(Deserialize)]
struct HoldAction {
    order_id: String,
    /// `capture` or `void`.
    action: String,
}

/// Captures or voids an order's hold (`POST /v2/txns/:txn_uuid/capture|void` with the API key), then shows the order.
async fn hold_action(State(shop): State<Arc<Shop>>, axum::Form(form): axum::Form<HoldAction>) -> Response {
    let id_ok = !form.order_id.is_empty()
        && form.order_id.len() <= 20
        && form.order_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !matches!(form.action.as_str(), "capture" | "void") || !id_ok {
        return error_page("unknown action");
    }
    let status = match order_status(&shop, &form.order_id).await {
        Ok(s) => s,
        Err(e) => return error_page(&e),
    };
    let Some(txn_uuid) = status["txn_uuid"].as_str() else { return error_page("the order has no payment") };
    let note = match call_kassa(&shop, &format!("/v2/txns/{txn_uuid}/{}", form.action), serde_json::json!({})).await {
        Ok(_) => format!("<p id=\"action-result\">{} sent to Kassa.</p>", if form.action == "capture" { "Capture" } else { "Void" }),
        Err(e) => format!("<p id=\"action-result\" class=\"bad\">{}</p>", esc(&e)),
    };
    order_page(&shop, &form.order_id, &note).await
}

/// `GET /orders/:order_id` with the API key.
async fn order_status(shop: &Arc<Shop>, order_id: &str) -> Result<serde_json::Value, String> {
    let (s, oid) = (shop.clone(), order_id.to_string());
    tokio::task::spawn_blocking(move || -> Result<serde_json::Value, String> {
        let mut resp = s
            .agent
            .get(format!("{}/orders/{oid}", s.kassa_url))
            .header("Authorization", &s.basic_auth)
            .call()
            .map_err(|e| format!("cannot reach Kassa: {e}"))?;
        resp.body_mut().read_json().map_err(|e| format!("bad answer from Kassa: {e}"))
    })
    .await
    .unwrap_or_else(|_| Err("internal error".into()))
}

/// The order as Kassa reports it now, with `note` (HTML) under the status; a held
/// payment gets Capture and Void buttons.
async fn order_page(shop: &Arc<Shop>, order_id: &str, note: &str) -> Response {
    let order_id = order_id.to_string();
    // 2. The server-to-server status is the truth; the redirect is only a hint.
    let body = match order_status(shop, &order_id).await {
        Ok(b) => b,
        Err(e) => return error_page(&e),
    };
    let server_status = body["status"].as_str().unwrap_or("UNKNOWN").to_string();
    let (title, class) = match server_status.as_str() {
        "CHARGED" | "PARTIAL_CHARGED" => ("Payment successful", "ok"),
        "AUTHORIZED" | "CAPTURE_INITIATED" | "VOID_INITIATED" => ("Amount held", "ok"),
        "VOIDED" => ("Hold released", "ok"),
        _ => ("Payment failed", "bad"),
    };
    let actions = if server_status == "AUTHORIZED" {
        format!(
            "<form method=\"post\" action=\"/hold\"><input type=\"hidden\" name=\"order_id\" value=\"{}\">\
             <button type=\"submit\" name=\"action\" value=\"capture\" id=\"capture\">Capture (order shipped)</button> \
             <button type=\"submit\" name=\"action\" value=\"void\" id=\"void\">Release the hold</button></form>\
             <p class=\"note\">Demo back office: a real shop puts these buttons behind its staff sign-in.</p>",
            esc(&order_id)
        )
    } else {
        String::new()
    };
    // 3. Webhooks arrive on their own (at least once, signed); those already here:
    let hooks: Vec<String> = webhooks_for(shop, &order_id).into_iter().map(|e| esc(&e.event_name)).collect();
    let hooks = if hooks.is_empty() { "none yet".to_string() } else { hooks.join(", ") };
    page(
        title,
        &format!(
            "<h1 class=\"{class}\" id=\"result\">{title}</h1>\
             <p>Order <code id=\"order-id\">{}</code>: status <strong id=\"status\">{}</strong> (confirmed with <code>GET /orders/{}</code>).</p>\
             {note}{actions}\
             <p>Signed webhooks received for this order: <span id=\"webhooks\">{hooks}</span>.</p>",
            esc(&order_id),
            esc(&server_status),
            esc(&order_id)
        ),
    )
    .into_response()
}
