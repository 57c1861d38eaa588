//! The Kassa orders server: the Juspay Express Checkout dialect over HTTP,
//! the hosted payment page and the sandbox gateway.
//!
//! [`app`] builds the router; `kassa serve` (see `main.rs`) binds it.

#![forbid(unsafe_code)]
#![warn(clippy::wildcard_enum_match_arm)]
#![recursion_limit = "256"]
#![cfg_attr(test, allow(clippy::unwrap_used))]

// Layers, outermost first; each uses only the ones below it:
//   http (bodies, errors, auth)  ←  juspay (the dialect: wire shapes, handlers), pages (HTML)
//   →  domain (model, flow)  →  db (storage), gateway (adapters; the sandbox with its bank pages)
pub mod dashboard;
pub mod db;
pub mod domain;
pub mod egress;
pub mod gateway;
pub mod http;
pub mod juspay;
pub mod manage;
pub mod observe;
pub mod pages;
pub mod secret;
pub mod tls;
pub mod token;
pub mod webhook;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use std::path::PathBuf;
use std::sync::Arc;

/// Largest request body accepted (bytes).
pub const MAX_BODY: usize = 64 * 1024;

/// How long a client may take to send a request's headers.
pub const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// How long a client may take to send a request's body once its headers are in.
pub const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Connection settings for a public endpoint: HTTP/1 headers must arrive
/// within [`HEADER_READ_TIMEOUT`] (slowloris), at most 64 KiB of them.
pub fn harden(builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>) {
    builder.http1().timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT).max_buf_size(64 * 1024);
}

/// Server settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// Public base URL that payment links start with (no trailing slash).
    pub public_url: String,
    /// Directory with the built widget (`pkg/`).
    pub assets_dir: PathBuf,
    /// Directory with host-side JavaScript and static files (`www/`).
    pub www_dir: PathBuf,
    /// How often the webhook worker looks for due events (ms).
    pub webhook_poll_ms: u64,
    /// First retry delay of a failed webhook (ms); the later ones follow
    /// Juspay's schedule in proportion (60 000: 16 retries over 24 hours).
    pub webhook_retry_base_ms: u64,
    /// PEM roots that `https://` webhook receivers are checked against, when
    /// they use a private CA; `None`: Mozilla's roots.
    pub webhook_ca_pem: Option<Vec<u8>>,
    /// How long the sandbox takes to settle a UPI collect or an AUTHORIZING card (ms).
    pub sandbox_delay_ms: u64,
    /// The longest a call to a gateway's API may take (ms); connecting gets at most 3 s of it.
    pub gateway_timeout_ms: u64,
    /// How often a gateway is asked about an attempt it has not decided (ms).
    pub gateway_poll_ms: u64,
    /// The client address is the last of `X-Forwarded-For` (set by a proxy in front), not the peer.
    pub trust_forwarded_for: bool,
    /// Serve `www/bench/plain-form.html` at `/bench/plain-form.html` (`cargo xtask bench`'s baseline only).
    pub bench_page: bool,
    /// Abuse limits: attempts per order, token and address, failed API keys, requests at once.
    pub limits: http::limits::LimitSettings,
    /// Webhooks may go to private, loopback and other internal addresses, over
    /// plain `http://` (development, the demo, the tests); off: public `https://` only.
    pub webhook_allow_private: bool,
    /// How long a pre-authorization's hold lasts before Kassa voids it (ms):
    /// [`domain::preauth::DEFAULT_HOLD_MS`] unless the operator says otherwise.
    pub hold_ms: u64,
    /// The bearer token `/metrics` asks for; `None`: served to this machine only (loopback, through no proxy).
    pub metrics_token: Option<secret::Secret>,
}

/// Where the server reads the time: the system clock, or a test's.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
}

/// The system clock.
#[derive(Debug)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        now_ms()
    }
}

/// Shared state of every request.
#[derive(Clone)]
pub struct AppState {
    /// The time of every decision a request or worker makes (expiry, tokens, settlements).
    pub clock: Arc<dyn Clock>,
    /// Database.
    pub db: db::Db,
    /// Settings.
    pub config: Arc<Config>,
    /// Signs order-scoped client tokens.
    pub tokens: Arc<token::TokenKey>,
    /// The built-in sandbox gateway.
    pub gateway: Arc<dyn gateway::Gateway>,
    /// The HTTP client for remote gateways' APIs.
    pub http: ureq::Agent,
    /// Rate limits of this server (`Config::limits`).
    pub limits: Arc<http::limits::Limiters>,
}

impl AppState {
    /// State over an open database; loads (or creates) the token key.
    pub async fn new(db: db::Db, config: Config) -> Result<AppState, db::DbError> {
        let key = db.server_key("client_token_key").await?;
        let db = db.with_renderer(Arc::new(juspay::wire::JuspayEvents { public_url: config.public_url.clone() }));
        let sandbox = gateway::sandbox::Sandbox { settle_delay_ms: i64::try_from(config.sandbox_delay_ms).unwrap_or(i64::MAX) };
        let http = gateway::remote::client(std::time::Duration::from_millis(config.gateway_timeout_ms.max(100)));
        Ok(AppState {
            http,
            limits: Arc::new(http::limits::Limiters::new(&config.limits)),
            clock: Arc::new(SystemClock),
            db,
            config: Arc::new(config),
            tokens: Arc::new(token::TokenKey::new(key)),
            gateway: Arc::new(sandbox),
        })
    }

    /// The same state reading the time from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> AppState {
        self.clock = clock;
        self
    }

    /// Now, by this state's clock (Unix ms).
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(juspay::routes())
        .merge(pages::routes(&state.config))
        .merge(manage::routes())
        .merge(dashboard::routes())
        // The sandbox's bank pages; a real gateway's live at the gateway.
        .merge(gateway::sandbox::routes())
        // Returns from remote gateways, their webhooks, and the sandboxes of their APIs.
        .merge(gateway::pages::routes())
        .merge(gateway::psp::routes())
        .route("/metrics", axum::routing::get(observe::metrics))
        .fallback(http::error::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        // At most this many requests handled at once, counted once their body is in (a client
        // whose body trickles in holds no slot); more get a 429 at once.
        .layer(
            tower::ServiceBuilder::new()
                .layer(axum::error_handling::HandleErrorLayer::new(|_: tower::BoxError| async {
                    http::error::AppError::too_many(
                        "overloaded",
                        "the server is serving as many requests as it takes at once; try again",
                        1,
                    )
                }))
                .layer(tower::load_shed::LoadShedLayer::new())
                .layer(tower::limit::GlobalConcurrencyLimitLayer::new(state.config.limits.max_concurrent_requests.max(1))),
        )
        .layer(axum::middleware::from_fn(buffer_body))
        // HSTS when the payment links are https:// (served with TLS, or behind an https proxy).
        .layer(tower_http::set_header::SetResponseHeaderLayer::if_not_present(axum::http::header::STRICT_TRANSPORT_SECURITY, {
            let hsts = state.config.public_url.starts_with("https://").then(|| axum::http::HeaderValue::from_static("max-age=31536000"));
            move |_: &axum::response::Response| hsts.clone()
        }))
        // Outermost: every answer (a 429 or 413 too) gets its request id, log line and metrics.
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe::observe))
        .with_state(state)
}

/// Reads every request body (at most [`MAX_BODY`], within
/// [`BODY_READ_TIMEOUT`]) before routing: a declared or actual oversize body
/// gets the JSON 413, a body too slow to arrive the JSON 408, and an answer that does
/// not need the body (a 401, say) still leaves the connection usable for the
/// client's next request.
async fn buffer_body(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    let too_large = || {
        http::error::AppError {
            status: axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            code: "payload_too_large",
            message: format!("the body is larger than {MAX_BODY} bytes"),
            retry_after: None,
        }
        .into_response()
    };
    let declared = req.headers().get(axum::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return too_large();
    }
    let (parts, body) = req.into_parts();
    match tokio::time::timeout(BODY_READ_TIMEOUT, axum::body::to_bytes(body, MAX_BODY)).await {
        Ok(Ok(bytes)) => next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes))).await,
        Ok(Err(_)) => too_large(),
        // A body that trickles in (slowloris) holds no task for longer than this.
        Err(_) => http::error::AppError {
            status: axum::http::StatusCode::REQUEST_TIMEOUT,
            code: "request_timeout",
            message: format!("the body did not arrive within {} seconds", BODY_READ_TIMEOUT.as_secs()),
            retry_after: None,
        }
        .into_response(),
    }
}
/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// `prefix` followed by 32 random hex digits.
pub fn random_id(prefix: &str) -> String {
    let bytes: [u8; 16] = rand::random();
    format!("{prefix}{}", hex::encode(bytes))
}
