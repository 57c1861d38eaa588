//! What an operator sees (SPEC §10): Prometheus metrics at `/metrics`, a
//! request id on every answer and log line, and the audit log of every
//! change to money, keys and settings.

use crate::AppState;
use crate::http::error::AppError;
use axum::extract::{FromRequestParts, MatchedPath, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::LazyLock;
use std::time::Instant;
use tracing::Instrument;

/// The header a request id comes back in (and may come in, from a proxy).
pub const REQUEST_ID: &str = "x-request-id";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GatewayLabels {
    host: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HostLabels {
    host: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// This process's counters and histograms (one set per process, like a
/// Prometheus client's default registry).
struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Histograms<RouteLabels>,
    gateway_calls: Family<GatewayLabels, Counter>,
    gateway_latency: Histograms<HostLabels>,
}

fn latency_buckets() -> Histogram {
    // 0.5 ms to about 16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("kassa");
    let requests = Family::<RequestLabels, Counter>::default();
    registry.register("http_requests", "HTTP requests answered, by method, route and status", requests.clone());
    let latency: Histograms<RouteLabels> = Family::new_with_constructor(latency_buckets);
    registry.register("http_request_duration_seconds", "Time to answer an HTTP request, by method and route", latency.clone());
    let gateway_calls = Family::<GatewayLabels, Counter>::default();
    registry.register(
        "gateway_requests",
        "Calls to gateway APIs (Razorpay, Paytm) by host and outcome (2xx, 4xx, 5xx, error: unreachable or timed out)",
        gateway_calls.clone(),
    );
    let gateway_latency: Histograms<HostLabels> = Family::new_with_constructor(latency_buckets);
    registry.register("gateway_request_duration_seconds", "Time a gateway API took to answer, by host", gateway_latency.clone());
    Metrics { registry, requests, latency, gateway_calls, gateway_latency }
});

/// Records one call to a gateway's API at `url`: how long it took and how it ended.
pub fn gateway_call(url: &str, took: std::time::Duration, status: Option<u16>) {
    let host = url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default();
    let outcome = match status {
        Some(s) if (200..300).contains(&s) => "2xx",
        Some(s) if (400..500).contains(&s) => "4xx",
        Some(_) => "5xx",
        None => "error",
    };
    METRICS.gateway_calls.get_or_create(&GatewayLabels { host: host.clone(), outcome: outcome.into() }).inc();
    METRICS.gateway_latency.get_or_create(&HostLabels { host }).observe(took.as_secs_f64());
}

/// A request id a client or proxy may choose: short, and nothing a log line could be forged with.
fn acceptable_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    (!s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))).then(|| s.to_string())
}

/// This request's id (an extension of every request, set by [`observe`]).
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// The method as a metric label: the standard ones, else `other` (a client
/// inventing methods must not grow the metrics without bound).
fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Around every request: its id (from a trusted proxy's `x-request-id` if
/// acceptable, else a new one) in a log span and the answer's header, one
/// log line when it is answered, and its count and latency by route.
pub async fn observe(State(state): State<AppState>, mut req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let started = Instant::now();
    // A client's own id is taken only behind a proxy the operator trusts (`--trust-forwarded-for`):
    // the audit log's request ids are then the server's or that proxy's.
    let given = if state.config.trust_forwarded_for { req.headers().get(REQUEST_ID).and_then(acceptable_id) } else { None };
    let id = given.unwrap_or_else(|| crate::random_id("req_"));
    req.extensions_mut().insert(RequestId(id.clone()));
    // The route's pattern (`/orders/{order_id}`), never the path: order ids stay out of the labels.
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_string();
    let method = method_label(req.method()).to_string();
    let span = tracing::info_span!("request", request_id = %id, method = %method, route = %route);
    let mut response = next.run(req).instrument(span.clone()).await;
    let took = started.elapsed();
    let status = response.status().as_u16();
    span.in_scope(|| tracing::info!(target: "kassa::http", status, ms = took.as_secs_f64() * 1000.0, "answered"));
    METRICS.requests.get_or_create(&RequestLabels { method: method.clone(), route: route.clone(), status }).inc();
    METRICS.latency.get_or_create(&RouteLabels { method, route }).observe(took.as_secs_f64());
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, v);
    }
    response
}

/// `GET /metrics`: Prometheus (OpenMetrics text). With `--metrics-token`,
/// only with `Authorization: Bearer <token>`; without one, only to a
/// client on this machine that came through no proxy.
pub(crate) async fn metrics(
    State(state): State<AppState>,
    peer: crate::juspay::txns::Peer,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let allowed = match &state.config.metrics_token {
        Some(token) => headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| crate::gateway::psp::same_secret(given, token.expose())),
        None => {
            peer.0.is_some_and(|a| a.ip().is_loopback()) && !headers.contains_key("x-forwarded-for") && !headers.contains_key("forwarded")
        }
    };
    if !allowed {
        return Err(AppError::unauthorized(
            "metrics need Authorization: Bearer with the server's --metrics-token (without one, they are served to this machine only)",
        ));
    }
    let stats = state.db.stats(state.now()).await?;
    // The database's figures, read now: the same whichever instance is asked.
    let mut db = Registry::with_prefix("kassa");
    let orders = Family::<Vec<(String, String)>, Gauge>::default();
    for (status, n) in &stats.orders {
        orders.get_or_create(&vec![("status".into(), status.clone())]).set(*n);
    }
    db.register("orders", "Orders by status", orders);
    let attempts = Family::<Vec<(String, String)>, Gauge>::default();
    for (method, status, n) in &stats.attempts {
        attempts.get_or_create(&vec![("method".into(), method.clone()), ("status".into(), status.clone())]).set(*n);
    }
    db.register("payment_attempts", "Payment attempts by method and status (outcome)", attempts);
    let gauge = |v: i64| {
        let g: Gauge = Gauge::default();
        g.set(v);
        g
    };
    db.register("webhook_queue_depth", "Webhook events not delivered yet (and not dead)", gauge(stats.webhook_queue));
    db.register("webhook_dead_events", "Webhook events given up on until the merchant redelivers them", gauge(stats.webhook_dead));
    let oldest: Gauge<f64, std::sync::atomic::AtomicU64> = Gauge::default();
    oldest.set(stats.webhook_oldest_due_ms as f64 / 1000.0);
    db.register("webhook_oldest_due_seconds", "How long the oldest due webhook event has waited for its delivery", oldest);
    db.register("db_pool_connections", "Database connections this instance holds open", gauge(i64::from(stats.pool_size)));
    db.register("db_pool_idle_connections", "Of those, idle", gauge(i64::from(stats.pool_idle)));
    let mut body = String::new();
    let encoded = prometheus_client::encoding::text::encode_registry(&mut body, &METRICS.registry)
        .and_then(|()| prometheus_client::encoding::text::encode_registry(&mut body, &db))
        .and_then(|()| prometheus_client::encoding::text::encode_eof(&mut body));
    if encoded.is_err() {
        return Err(AppError::internal(&"cannot encode the metrics"));
    }
    Ok(([(axum::http::header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], body).into_response())
}

/// Who made a change and from where, for the audit log: extract it after
/// [`crate::http::auth::Authed`] (which leaves the key's fingerprint).
#[derive(Debug, Clone)]
pub struct AuditCtx {
    actor: String,
    address: Option<String>,
    request_id: Option<String>,
}

/// The fingerprint of the API key a request authenticated with (first 12 hex digits of its SHA-256).
#[derive(Debug, Clone)]
pub struct KeyFingerprint(pub String);

impl FromRequestParts<AppState> for AuditCtx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<AuditCtx, Self::Rejection> {
        let address = crate::http::limits::client_address_of(parts, state.config.trust_forwarded_for);
        Ok(AuditCtx {
            actor: parts.extensions.get::<KeyFingerprint>().map_or_else(|| "anonymous".into(), |k| format!("api_key:{}", k.0)),
            address: address.map(|a| a.to_string()),
            request_id: parts.extensions.get::<RequestId>().map(|r| r.0.clone()),
        })
    }
}

impl AuditCtx {
    /// The same request, made by a customer on their payment management page.
    pub fn customer(self, customer_id: &str) -> AuditCtx {
        AuditCtx { actor: format!("customer:{}", customer_id.chars().take(64).collect::<String>()), ..self }
    }

    /// The same request, made by dashboard user `email` (issue 16).
    pub fn user(self, email: &str) -> AuditCtx {
        AuditCtx { actor: format!("user:{email}"), ..self }
    }

    /// The command line, as the operator's user.
    pub fn cli() -> AuditCtx {
        let user = std::env::var("SUDO_USER").or_else(|_| std::env::var("USER")).unwrap_or_else(|_| "unknown".into());
        AuditCtx { actor: format!("cli:{user}"), address: None, request_id: None }
    }

    /// Records a change: in the audit log, and as a log line (target `kassa::audit`).
    /// `detail` is JSON and must hold no secret.
    pub async fn record(
        &self,
        state_db: &crate::db::Db,
        merchant_id: Option<&str>,
        action: &str,
        target: Option<&str>,
        detail: serde_json::Value,
    ) {
        let event = crate::db::AuditEvent {
            id: crate::random_id("aud_"),
            merchant_id: merchant_id.map(str::to_string),
            actor: self.actor.clone(),
            action: action.into(),
            target: target.map(str::to_string),
            detail: (!detail.is_null()).then(|| detail.to_string()),
            address: self.address.clone(),
            request_id: self.request_id.clone(),
            created_at: crate::now_ms(),
        };
        tracing::info!(target: "kassa::audit", actor = %event.actor, action = %event.action, merchant = ?event.merchant_id,
            target = ?event.target, detail = ?event.detail, address = ?event.address, "audit");
        if let Err(e) = state_db.audit(&event).await {
            // The change is made; its record is not: say so loudly.
            tracing::error!(target: "kassa::audit", error = %e, action = %event.action, "cannot write the audit log");
        }
    }
}
