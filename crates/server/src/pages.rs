//! Pages a person sees: the payment page shell (the widget renders into it),
//! Kassa's result page, the way back to the shop after an attempt, and the
//! static files of the widget. (The sandbox's bank pages live with the
//! sandbox, `crate::gateway::sandbox::bank`.)

use crate::db::Order;
use crate::http::error::AppError;
use crate::{AppState, Config};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use kassa_sign::ResponseKey;
use kassa_sign::return_url::{self, Params};
use kassa_types::view::{PageConfig, PageOrder, Variant};
use kassa_types::{Amount, Currency, OrderStatus};
use serde::Deserialize;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// The payment page shell; `<!--KASSA_CONFIG-->` is replaced per request.
const SHELL: &str = include_str!("../../../index.html");

/// The files of `www/` the payment origin serves under `/static`: the hosted
/// page's boot script, its frame bridge, the result page's script and the
/// bank pages' stylesheet. Nothing else there (the demo's and the bench's
/// pages, the npm sources) is served from the payment origin.
pub const STATIC_FILES: [&str; 4] = ["pay.js", "frame.js", "result.js", "bank.css"];

/// Page routes and static files.
pub fn routes(config: &Config) -> Router<AppState> {
    let nosniff = SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    let mut router = Router::new();
    for file in STATIC_FILES {
        router = router.route_service(&format!("/static/{file}"), tower_http::services::ServeFile::new(config.www_dir.join(file)));
    }
    if config.bench_page {
        // `cargo xtask bench` only: its baseline, a plain form from the same server.
        router = router
            .route_service("/bench/plain-form.html", tower_http::services::ServeFile::new(config.www_dir.join("bench/plain-form.html")));
    }
    router
        .route("/", get(index))
        .route("/merchant/pay/{id}", get(pay_web))
        .route("/merchant/ipay/{id}", get(pay_iframe))
        .route("/merchant/result/{id}", get(result_page))
        .route("/merchant/return/{txn_uuid}", get(return_after))
        // The build writes .br and .gz beside the widget's files; browsers that
        // accept them get those (about a third of the bytes), others the file.
        .nest_service("/assets", ServeDir::new(&config.assets_dir).precompressed_br().precompressed_gzip())
        .layer(nosniff)
}

/// An origin allowed to frame the iframe link (`https://shop.example`), as
/// the CSP names it; else why not.
pub fn frame_origin(s: &str) -> Result<String, &'static str> {
    let bad = "must be an origin such as https://shop.example (no path)";
    let u = url::Url::parse(s).map_err(|_| bad)?;
    if u.scheme() == "http" && !u.host().is_some_and(|h| crate::juspay::orders::is_loopback_host(&h)) {
        return Err("must be https:// (http:// only for localhost)");
    }
    if !matches!(u.scheme(), "https" | "http")
        || u.host_str().is_none()
        || !matches!(u.path(), "" | "/")
        || u.query().is_some()
        || u.fragment().is_some()
        || !u.username().is_empty()
    {
        return Err(bad);
    }
    Ok(u.origin().ascii_serialization())
}

/// The Content-Security-Policy of every page Kassa serves.
pub(crate) fn csp(frame_ancestors: &str, form_action: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
         font-src 'self'; connect-src 'self'; base-uri 'none'; form-action {form_action}; frame-ancestors {frame_ancestors}"
    )
}

pub(crate) fn html(status: StatusCode, csp_value: &str, body: String) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // Fails closed: a policy that cannot be sent as given (a stray character in a
    // merchant's origin) is replaced by one that allows nothing, never left out.
    let v = HeaderValue::from_str(csp_value).unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"));
    h.insert(HeaderName::from_static("content-security-policy"), v);
    resp
}

/// Escapes text for HTML element content and quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A small self-contained page (bank page, errors, results).
/// Hidden form fields, escaped.
pub(crate) fn hidden_inputs<'a>(fields: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    fields.map(|(k, v)| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", esc(k), esc(v))).collect()
}

pub(crate) fn simple_page(title: &str, inner: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"/static/bank.css\"></head><body><main class=\"card\">{inner}</main></body></html>",
        t = esc(title)
    )
}

pub(crate) fn not_found_page() -> Response {
    html(
        StatusCode::NOT_FOUND,
        &csp("'none'", "'none'"),
        simple_page("Payment link not found", "<h1>Payment link not found</h1><p>Check the link, or ask the shop for a new one.</p>"),
    )
}

async fn index() -> Response {
    html(
        StatusCode::OK,
        &csp("'none'", "'none'"),
        simple_page(
            "Kassa",
            "<h1>Kassa is running</h1><p>This is the orders server and payment page host. \
             Merchants create orders with <code>POST /orders</code> (HTTP Basic, API key as user name) \
             and send shoppers to the <code>payment_links</code> it returns.</p>\
             <p>Health: <a href=\"/health\">/health</a></p>",
        ),
    )
}

#[derive(Deserialize)]
struct PayQuery {
    mobile: Option<String>,
}

async fn pay_web(State(st): State<AppState>, Path(id): Path<String>, Query(q): Query<PayQuery>) -> Response {
    let variant = if q.mobile.as_deref() == Some("true") { Variant::Mobile } else { Variant::Web };
    pay_page(&st, &id, variant).await
}

async fn pay_iframe(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    pay_page(&st, &id, Variant::Iframe).await
}

async fn pay_page(st: &AppState, id: &str, variant: Variant) -> Response {
    if !id.starts_with("ord_") || id.len() != 36 {
        return not_found_page();
    }
    let order = match st.db.order(id).await {
        Ok(Some(o)) => o,
        Ok(None) => return not_found_page(),
        Err(e) => return AppError::from(e).into_response(),
    };
    // A mandate debit is paid by its mandate: its links show how it went, never a form.
    match st.db.is_mandate_debit(&order.id).await {
        Ok(true) => return Redirect::to(&format!("/merchant/result/{}", order.id)).into_response(),
        Ok(false) => {}
        Err(e) => return AppError::from(e).into_response(),
    }
    let merchant = match st.db.merchant(&order.merchant_id).await {
        Ok(Some(m)) => m,
        Ok(None) => return not_found_page(),
        Err(e) => return AppError::from(e).into_response(),
    };
    let now = st.now();
    // A returning customer's saved cards come first (cards are saved through the sandbox only).
    let sandbox = order.gateway_account.is_none();
    let saved_cards = match (&order.customer_id, sandbox) {
        (Some(c), true) => match st.db.saved_cards(&order.merchant_id, c).await {
            Ok(cards) => cards.iter().map(|c| crate::juspay::mandates::card_view(c, now)).collect(),
            Err(e) => return AppError::from(e).into_response(),
        },
        _ => Vec::new(),
    };
    let config = PageConfig {
        client_token: st.tokens.issue(&order.id, crate::juspay::orders::client_token_expiry(&order, now)),
        api_base: String::new(),
        variant,
        order: PageOrder {
            saved_cards,
            can_save_card: sandbox && order.customer_id.is_some(),
            mandate: order.mandate_terms().map(|t| crate::juspay::mandates::terms_view(&t)),
            id: order.id.clone(),
            order_id: order.order_id.clone(),
            merchant_name: merchant.name.clone(),
            amount_minor: u64::try_from(order.amount_minor).unwrap_or_default(),
            currency: order.currency.clone(),
            status: order.status,
            methods: order.methods(&merchant.enabled_methods),
            expires_at_ms: u64::try_from(order.expires_at).unwrap_or_default(),
            description: order.description.clone(),
            preauth: order.preauth(),
        },
        language: order.extra_map().get("language").and_then(|l| l.as_str()).map(str::to_string),
        assets_base: None,
        theme_vars: merchant.theme.css_vars().into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        logo: merchant.theme.logo.clone(),
        appearance: merchant.theme.appearance,
        parent_origins: if variant == Variant::Iframe { merchant.allowed_origins.clone() } else { Vec::new() },
    };
    let body = shell(&config);
    // Framing: the web and mobile pages are never framed; the iframe link only
    // by the merchant's allowed origins (none configured: nobody).
    let ancestors = match variant {
        Variant::Iframe => frame_ancestors(&merchant),
        Variant::Web | Variant::Mobile => "'none'".to_string(),
    };
    let mut resp = html(StatusCode::OK, &csp(&ancestors, "'self'"), body);
    if variant != Variant::Iframe {
        // A top-level payment page shares its browsing context group with no other origin's window.
        resp.headers_mut().insert(HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
    }
    resp
}

/// The payment page shell with `config` in it.
pub(crate) fn shell(config: &PageConfig) -> String {
    // JSON inside <script type="application/json">: `<` escaped so no `</script>` can end it.
    let json = serde_json::to_string(config).unwrap_or_default().replace('<', "\\u003c");
    SHELL.replace("<!--KASSA_CONFIG-->", &format!("<script type=\"application/json\" id=\"kassa-config\">{json}</script>"))
}

/// `frame-ancestors` for pages the iframe variant shows: the merchant's allowed origins, else nobody.
pub(crate) fn frame_ancestors(merchant: &crate::db::Merchant) -> String {
    if merchant.allowed_origins.is_empty() { "'none'".into() } else { merchant.allowed_origins.join(" ") }
}

pub(crate) fn format_amount(order: &Order) -> String {
    let amount = u64::try_from(order.amount_minor).ok().and_then(Amount::from_minor);
    match (amount, Currency::parse(&order.currency)) {
        (Some(a), Some(c)) => c.format(a),
        _ => String::new(),
    }
}

/// `GET /merchant/return/:txn_uuid`: where a page that followed an attempt
/// (a collect request, an authorizing card) sends the shopper. Final: the
/// signed return URL (or Kassa's result page); still waiting for the
/// shopper: the gateway's page for it.
async fn return_after(State(st): State<AppState>, Path(txn_id): Path<String>) -> Response {
    let Ok(Some(txn)) = st.db.txn(&txn_id).await else { return not_found_page() };
    let Ok(Some(order)) = st.db.order(&txn.order_pk).await else { return not_found_page() };
    if txn.status == OrderStatus::PENDING_VBV {
        return Redirect::to(&crate::gateway::auth_url(st.gateway.as_ref(), "", &txn)).into_response();
    }
    redirect_after(&st, &order, txn.in_frame).await
}

/// Where the shopper goes once the attempt is answered: the signed return
/// URL, or Kassa's result page when there is none or the attempt runs in the
/// merchant's frame (the page then hands the result to the host, docs/bridge.md).
pub(crate) async fn redirect_after(st: &AppState, order: &Order, in_frame: bool) -> Response {
    let result_page = || {
        let frame = if in_frame { "?frame=1" } else { "" };
        Redirect::to(&format!("/merchant/result/{}{frame}", order.id)).into_response()
    };
    if in_frame {
        return result_page();
    }
    let Ok(Some(merchant)) = st.db.merchant(&order.merchant_id).await else { return not_found_page() };
    // The order's own return URL, else the merchant's default (dashboard settings).
    let Some(return_url) = order.return_url.as_deref().or(merchant.default_return_url.as_deref()) else { return result_page() };
    let key = ResponseKey::new(merchant.response_key.expose().as_bytes().to_vec());
    let params = Params::from_pairs([
        ("order_id", order.order_id.clone()),
        ("status", order.status.as_str().to_string()),
        ("status_id", order.status.id().to_string()),
    ]);
    let Ok(params) = params else { return not_found_page() };
    // "Use signed response" off (seed 000): the same parameters, no signature.
    let url =
        if merchant.signed_response { signed_return_url(&key, return_url, &params) } else { unsigned_return_url(return_url, &params) };
    match url {
        Some(url) => Redirect::to(&url).into_response(),
        None => not_found_page(),
    }
}

/// `return_url` with Kassa's `params` and the signature added to its query,
/// built with a URL parser: the merchant's own query parameters are kept and
/// signed with Kassa's (so the whole query verifies), and a fragment stays
/// last. Of the merchant's own parameters, one Kassa sets or one repeated
/// (refused for new orders, possible in older ones) gives way: Kassa's
/// value, or the first. `None` for a URL that does not parse.
pub fn signed_return_url(key: &ResponseKey, return_url: &str, params: &Params<'_>) -> Option<String> {
    let mut url = url::Url::parse(return_url).ok()?;
    let mut own: Vec<(String, String)> = Vec::new();
    for (k, v) in url.query_pairs() {
        if params.get(&k).is_none() && !matches!(k.as_ref(), "signature" | "signature_algorithm") && !own.iter().any(|(o, _)| *o == k) {
            own.push((k.into_owned(), v.into_owned()));
        }
    }
    let all = Params::from_pairs(own.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain(params.iter())).ok()?;
    let query = return_url::sign(key, &all);
    url.set_query(Some(&query));
    Some(url.into())
}

/// [`signed_return_url`] without the signature: the merchant switched "Use signed response" off.
fn unsigned_return_url(return_url: &str, params: &Params<'_>) -> Option<String> {
    let mut url = url::Url::parse(return_url).ok()?;
    let own: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| params.get(k).is_none() && !matches!(k.as_ref(), "signature" | "signature_algorithm"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in own.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain(params.iter()) {
        q.append_pair(k, v);
    }
    url.set_query(Some(&q.finish()));
    Some(url.into())
}

async fn result_page(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    let Ok(Some(order)) = st.db.order(&id).await else { return not_found_page() };
    let (title, text) = if order.status.is_success() || order.status == OrderStatus::PARTIAL_CHARGED {
        ("Payment successful", "Your payment was received. You can close this page.")
    } else if order.status.is_hold() {
        ("Amount held", "The amount is held on your card, not charged. The shop will charge it or release it. You can close this page.")
    } else if order.status.took_payment() {
        ("Order closed", "This order is closed. Return to the shop.")
    } else if order.status.is_pending() {
        ("Payment processing", "Your bank is confirming the payment. The shop will tell you when it is done.")
    } else {
        ("Payment not completed", "The payment did not go through. No money was taken.")
    };
    let merchant = st.db.merchant(&order.merchant_id).await.ok().flatten();
    let ancestors = merchant.as_ref().map_or_else(|| "'none'".into(), frame_ancestors);
    // For a page in the merchant's frame, /static/result.js hands this to the host (docs/bridge.md).
    let result = serde_json::json!({
        "order_id": order.order_id,
        "status": order.status.as_str(),
        "status_id": order.status.id(),
        "parent_origins": merchant.map(|m| m.allowed_origins).unwrap_or_default(),
    });
    let inner = format!(
        "<h1>{}</h1><p>{}</p><dl><dt>Order</dt><dd>{}</dd><dt>Amount</dt><dd>{}</dd><dt>Status</dt><dd>{}</dd></dl>\
         <script type=\"application/json\" id=\"kassa-result\">{}</script><script type=\"module\" src=\"/static/result.js\"></script>",
        esc(title),
        esc(text),
        esc(&order.order_id),
        esc(&format_amount(&order)),
        order.status.as_str(),
        result.to_string().replace('<', "\\u003c"),
    );
    html(StatusCode::OK, &csp(&ancestors, "'none'"), simple_page(title, &inner))
}
