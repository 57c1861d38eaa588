//! The merchant dashboard (issue 16, SPEC §9): the page at `/dashboard`
//! (a Leptos app, `crates/dashboard`, served from the built assets) and its
//! JSON API under `/dashboard/api`.
//!
//! A user signs in with an email and a password (argon2id); the session is
//! an HttpOnly, SameSite=Strict cookie (Secure under https) that the
//! database knows only by its SHA-256, new at every sign-in and ended when
//! idle. Every write carries the session's CSRF token (`x-csrf-token`) and
//! is refused to a viewer (403). Failed sign-ins are throttled per address
//! and per email. A user sees only their merchant's data; the writes are the
//! API's own handlers, so the dashboard and the API behave the same and
//! both write the audit log (the dashboard's as `user:EMAIL`).

use crate::AppState;
use crate::db::{DashboardSession, DashboardUser, OrderSearch, Role};
use crate::http::body::{Fields, QueryOf, limit_param};
use crate::http::error::AppError;
use crate::juspay::wire::rfc3339;
use crate::observe::AuditCtx;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The dashboard's page shell: the app renders into it.
const SHELL: &str = include_str!("../../dashboard/index.html");

/// The session cookie's name.
const COOKIE: &str = "kassa_dashboard";

/// A session ends after this long unused (ms).
pub const IDLE_MS: i64 = 30 * 60 * 1000;

/// And after this long whatever happens (ms).
pub const LIFETIME_MS: i64 = 12 * 3600 * 1000;

/// The dashboard's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(shell))
        .route("/dashboard/{*path}", get(shell))
        .route("/dashboard/api/sign-in", post(sign_in))
        .route("/dashboard/api/sign-out", post(sign_out))
        .route("/dashboard/api/me", get(me))
        .route("/dashboard/api/orders", get(orders))
        .route("/dashboard/api/orders/{order_id}", get(order))
        .route("/dashboard/api/orders/{order_id}/refunds", post(refund))
        .route("/dashboard/api/orders/{order_id}/sync", post(sync))
        .route("/dashboard/api/webhooks/{event_id}/redeliver", post(redeliver))
        .route("/dashboard/api/orders.csv", get(orders_csv))
        .route("/dashboard/api/charts", get(charts))
        .route("/dashboard/api/audit", get(audit_log))
        .route("/dashboard/api/txns/{txn_uuid}/capture", post(capture))
        .route("/dashboard/api/txns/{txn_uuid}/void", post(void))
        .route("/dashboard/api/settings", get(settings).post(change_settings))
        .route("/dashboard/api/settings/response-key", post(rotate_response_key))
        .route("/dashboard/api/settings/rsa-keys", post(add_rsa_key))
        .route("/dashboard/api/settings/rsa-keys/{key_id}/delete", post(remove_rsa_key))
        .route("/dashboard/api/api-keys", get(api_keys).post(create_api_key))
        .route("/dashboard/api/api-keys/{id}/revoke", post(revoke_api_key))
        .route("/dashboard/api/refunds/batch", post(batch_refunds))
        .route("/dashboard/api/webhooks", get(webhooks))
        .route("/dashboard/api/settings/test-event", post(test_event))
        .route("/dashboard/preview", get(preview))
        .route("/dashboard/api/gateway-accounts", post(add_gateway_account))
        .route("/dashboard/api/customers/{customer_id}/instruments", get(instruments))
        .route("/dashboard/api/mandates/{mandate_id}", post(mandate_command))
        .route("/dashboard/api/cards/delete", post(delete_card))
        .route("/dashboard/api/{*rest}", get(not_found).post(not_found))
}

async fn not_found() -> AppError {
    AppError { status: StatusCode::NOT_FOUND, code: "not_found", message: "no such dashboard call".into(), retry_after: None }
}

/// The shell, for every page of the app (it routes in the browser). It may
/// frame its own origin only: the theme's live preview.
async fn shell() -> Response {
    let csp = format!("{}; frame-src 'self'", crate::pages::csp("'none'", "'none'"));
    crate::pages::html(StatusCode::OK, &csp, SHELL.to_string())
}

#[derive(Deserialize)]
struct PreviewQuery {
    accent: Option<String>,
    radius: Option<String>,
    appearance: Option<String>,
}

/// `GET /dashboard/preview?accent=&radius=&appearance=`: the payment page
/// itself (the same shell and widget) for a sample order of the signed-in
/// user's merchant, wearing the theme being edited, framed by the dashboard
/// only. Its client token grants nothing.
async fn preview(State(state): State<AppState>, Signed(session): Signed, QueryOf(q): QueryOf<PreviewQuery>) -> Result<Response, AppError> {
    let m = merchant_of(&state, &session.user).await?;
    let theme = kassa_types::theme::Theme {
        accent: q.accent.filter(|a| !a.is_empty()).or(m.theme.accent.clone()),
        radius: match q.radius.as_deref().filter(|r| !r.is_empty()) {
            Some(r) => Some(r.parse::<u8>().map_err(|_| bad("radius", "must be 0 to 24"))?),
            None => m.theme.radius,
        },
        logo: m.theme.logo.clone(),
        appearance: match q.appearance.as_deref() {
            Some(a) => kassa_types::theme::Appearance::parse(a).ok_or_else(|| bad("appearance", "must be auto, light or dark"))?,
            None => m.theme.appearance,
        },
    };
    theme.validate().map_err(|why| AppError::bad_request("invalid_parameter", format!("theme: {why}")))?;
    let now = state.now();
    let config = kassa_types::view::PageConfig {
        client_token: "kct_preview".into(),
        api_base: String::new(),
        variant: kassa_types::view::Variant::Web,
        order: kassa_types::view::PageOrder {
            id: "ord_preview".into(),
            order_id: "preview".into(),
            merchant_name: m.name.clone(),
            amount_minor: 149_900,
            currency: "INR".into(),
            status: kassa_types::OrderStatus::NEW,
            methods: kassa_types::PaymentMethod::ALL.into_iter().filter(|p| m.enabled_methods.contains(p)).collect(),
            expires_at_ms: u64::try_from(now + 15 * 60 * 1000).unwrap_or_default(),
            description: Some("Preview".into()),
            preauth: false,
            saved_cards: Vec::new(),
            can_save_card: false,
            mandate: None,
        },
        language: None,
        assets_base: None,
        theme_vars: theme.css_vars().into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        logo: theme.logo.clone(),
        appearance: theme.appearance,
        parent_origins: Vec::new(),
    };
    let csp = crate::pages::csp("'self'", "'self'");
    Ok(crate::pages::html(StatusCode::OK, &csp, crate::pages::shell(&config)))
}

/// Minor units as the dashboard shows them: `10.00`, and `0.00` for nothing.
fn money(minor: i64) -> String {
    let minor = minor.max(0);
    format!("{}.{:02}", minor / 100, minor % 100)
}

fn forbidden(message: &str) -> AppError {
    AppError { status: StatusCode::FORBIDDEN, code: "forbidden", message: message.into(), retry_after: None }
}

/// What the database keeps of a session cookie: its SHA-256, as of an API key.
fn hash(token: &str) -> String {
    crate::http::auth::api_key_hash(token)
}

/// The session cookie's value, if the request has one.
fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

/// The `Set-Cookie` of a session (`value` empty: ending it).
fn set_cookie(state: &AppState, value: &str) -> HeaderValue {
    let secure = if state.config.public_url.starts_with("https://") { "; Secure" } else { "" };
    let age = if value.is_empty() { 0 } else { LIFETIME_MS / 1000 };
    HeaderValue::from_str(&format!("{COOKIE}={value}; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age={age}{secure}"))
        .unwrap_or_else(|_| HeaderValue::from_static("kassa_dashboard=; Path=/dashboard; Max-Age=0"))
}

/// A signed-in user (401 without a live session).
pub struct Signed(DashboardSession);

impl FromRequestParts<AppState> for Signed {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Signed, AppError> {
        let token = cookie(&parts.headers).ok_or_else(|| AppError::unauthorized("sign in to the dashboard"))?;
        let now = state.now();
        let session = state
            .db
            .dashboard_session(&hash(&token), now - IDLE_MS, now - LIFETIME_MS, now)
            .await?
            .ok_or_else(|| AppError::unauthorized("your session has ended: sign in again"))?;
        Ok(Signed(session))
    }
}

/// A signed-in admin's write: the session's CSRF token came with it (403
/// otherwise, and for a viewer).
pub struct AdminWrite(DashboardSession);

impl FromRequestParts<AppState> for AdminWrite {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<AdminWrite, AppError> {
        let Signed(session) = Signed::from_request_parts(parts, state).await?;
        check_csrf(&parts.headers, &session)?;
        if session.user.role != Role::Admin {
            return Err(forbidden("a viewer cannot change anything; ask an admin"));
        }
        Ok(AdminWrite(session))
    }
}

/// An admin's write made as the API's handler would make it: the merchant (as
/// if authenticated by its API key) and the audit context naming the user.
pub struct AsMerchant(crate::http::auth::Authed, AuditCtx);

impl FromRequestParts<AppState> for AsMerchant {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<AsMerchant, AppError> {
        let AdminWrite(session) = AdminWrite::from_request_parts(parts, state).await?;
        let Ok(audit) = AuditCtx::from_request_parts(parts, state).await;
        let merchant = merchant_of(state, &session.user).await?;
        Ok(AsMerchant(crate::http::auth::Authed(merchant), audit_of(audit, &session.user)))
    }
}

fn check_csrf(headers: &HeaderMap, session: &DashboardSession) -> Result<(), AppError> {
    let given = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if given.is_empty() || !crate::gateway::psp::same_secret(given, &session.csrf) {
        return Err(forbidden("the request did not carry this session's CSRF token (x-csrf-token)"));
    }
    Ok(())
}

/// The merchant of a session (it exists: users are removed with it).
async fn merchant_of(state: &AppState, user: &DashboardUser) -> Result<crate::db::Merchant, AppError> {
    state.db.merchant(&user.merchant_id).await?.ok_or_else(|| AppError::unauthorized("this user's merchant is gone"))
}

/// The audit context of a dashboard change: the user, never a key.
fn audit_of(audit: AuditCtx, user: &DashboardUser) -> AuditCtx {
    audit.user(&user.email)
}

/// Hashes `password` with argon2id (a fresh salt): the PHC string.
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| e.to_string())?;
    argon2::Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// Whether `password` matches the PHC string `stored`.
fn password_matches(password: &str, stored: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(stored).is_ok_and(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// What a sign-in is checked against when the email is unknown, so that an
/// unknown email takes as long as a wrong password.
/// Password checks running at once, at most.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

static DECOY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| hash_password("decoy password").unwrap_or_default());

fn session_json(session: &DashboardSession, merchant: &crate::db::Merchant) -> Value {
    json!({
        "email": session.user.email,
        "role": session.user.role.as_str(),
        "merchant_id": merchant.id,
        "merchant_name": merchant.name,
        "csrf_token": session.csrf,
    })
}

#[derive(Deserialize)]
struct SignIn {
    email: String,
    password: String,
}

/// `POST /dashboard/api/sign-in` (JSON `{email, password}`): a new session,
/// whatever session the browser had (so a planted cookie is never signed in).
async fn sign_in(State(state): State<AppState>, audit: AuditCtx, parts: Parts2, body: axum::body::Bytes) -> Result<Response, AppError> {
    // JSON only: a cross-site form cannot send it without CORS, which Kassa never allows.
    let json = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|c| c.starts_with("application/json"));
    if !json {
        return Err(AppError::bad_request("invalid_content_type", "send the sign-in as application/json"));
    }
    let form: SignIn =
        serde_json::from_slice(&body).map_err(|_| AppError::bad_request("invalid_request", "send {\"email\": …, \"password\": …}"))?;
    let email = form.email.trim().to_lowercase();
    if email.chars().any(char::is_control) || form.password.contains('\0') {
        return Err(AppError::unauthorized("wrong email or password"));
    }
    let address = parts.address;
    state.limits.sign_in_attempt(&email, address)?;
    // At most a few password checks at once (argon2id takes ~19 MiB and a core each).
    let Ok(_permit) = HASHING.try_acquire() else {
        return Err(AppError::too_many("busy", "too many sign-ins at once; try again", 1));
    };
    let user = if email.is_empty() || email.len() > 254 { None } else { state.db.dashboard_user(&email).await? };
    let stored = user.as_ref().map_or_else(|| DECOY.clone(), |u| u.password_hash.clone());
    let password = form.password;
    let matches = tokio::task::spawn_blocking(move || password_matches(&password, &stored)).await.map_err(|e| AppError::internal(&e))?;
    let Some(user) = user.filter(|_| matches) else {
        // Failures count against the address like failed API keys (its lockout).
        state.limits.auth_failed(address);
        return Err(AppError::unauthorized("wrong email or password"));
    };
    let token = crate::random_id("kds_");
    let csrf = crate::random_id("csrf_");
    let replaces = cookie(&parts.headers).map(|c| hash(&c));
    state.db.open_dashboard_session(&hash(&token), &user.id, &csrf, replaces.as_deref(), state.now()).await?;
    let merchant = merchant_of(&state, &user).await?;
    audit_of(audit, &user).record(&state.db, Some(&merchant.id), "dashboard.sign_in", Some(&user.email), Value::Null).await;
    let session = DashboardSession { user, csrf };
    let mut resp = Json(session_json(&session, &merchant)).into_response();
    resp.headers_mut().insert(header::SET_COOKIE, set_cookie(&state, &token));
    Ok(resp)
}

/// The request's headers and client address, for [`sign_in`].
struct Parts2 {
    headers: HeaderMap,
    address: Option<std::net::IpAddr>,
}

impl FromRequestParts<AppState> for Parts2 {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Parts2, Self::Rejection> {
        Ok(Parts2 {
            headers: parts.headers.clone(),
            address: crate::http::limits::client_address_of(parts, state.config.trust_forwarded_for),
        })
    }
}

/// `POST /dashboard/api/sign-out`: ends the session (with its CSRF token).
async fn sign_out(State(state): State<AppState>, headers: HeaderMap, Signed(session): Signed) -> Result<Response, AppError> {
    check_csrf(&headers, &session)?;
    if let Some(token) = cookie(&headers) {
        state.db.end_dashboard_session(&hash(&token)).await?;
    }
    let mut resp = Json(json!({ "signed_out": true })).into_response();
    resp.headers_mut().insert(header::SET_COOKIE, set_cookie(&state, ""));
    Ok(resp)
}

/// `GET /dashboard/api/me`: who is signed in, their merchant and the CSRF token.
async fn me(State(state): State<AppState>, Signed(session): Signed) -> Result<Json<Value>, AppError> {
    let merchant = merchant_of(&state, &session.user).await?;
    Ok(Json(session_json(&session, &merchant)))
}

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
    status: Option<String>,
    method: Option<String>,
    gateway: Option<String>,
    /// `YYYY-MM-DD` (UTC), inclusive.
    from: Option<String>,
    /// `YYYY-MM-DD` (UTC), inclusive.
    to: Option<String>,
    /// Major units (`10.00`).
    min_amount: Option<String>,
    max_amount: Option<String>,
    /// The `next` of the page before.
    after: Option<String>,
    limit: Option<String>,
}

/// Unix ms of the start of day `d` (`YYYY-MM-DD`, UTC).
fn day_ms(name: &str, d: &str) -> Result<i64, AppError> {
    let bad = || AppError::bad_request("invalid_parameter", format!("{name} must be a date such as 2026-12-31"));
    let mut parts = d.splitn(3, '-').map(|p| p.parse::<i32>().ok());
    let (Some(Some(y)), Some(Some(m)), Some(Some(day))) = (parts.next(), parts.next(), parts.next()) else { return Err(bad()) };
    let month = u8::try_from(m).ok().and_then(|m| time::Month::try_from(m).ok()).ok_or_else(bad)?;
    let date = time::Date::from_calendar_date(y, month, u8::try_from(day).map_err(|_| bad())?).map_err(|_| bad())?;
    Ok(date.midnight().assume_utc().unix_timestamp() * 1000)
}

fn amount_minor(name: &str, a: &str) -> Result<i64, AppError> {
    kassa_types::Amount::parse(a)
        .ok()
        .and_then(|a| i64::try_from(a.minor()).ok())
        .ok_or_else(|| AppError::bad_request("invalid_parameter", format!("{name} must be an amount such as 10.00")))
}

fn one_of(name: &str, v: Option<String>, allowed: &[&str]) -> Result<Option<String>, AppError> {
    match v.filter(|v| !v.is_empty()) {
        Some(v) if allowed.contains(&v.as_str()) => Ok(Some(v)),
        Some(_) => Err(AppError::bad_request("invalid_parameter", format!("{name} must be one of {}", allowed.join(", ")))),
        None => Ok(None),
    }
}

/// `GET /dashboard/api/orders?q=&status=&method=&gateway=&from=&to=&min_amount=&max_amount=&after=&limit=`:
/// the merchant's orders, newest first, a page at a time (`next` names the page after).
async fn orders(State(state): State<AppState>, Signed(session): Signed, QueryOf(q): QueryOf<ListQuery>) -> Result<Json<Value>, AppError> {
    let (search, limit) = search_of(q)?;
    let mut rows = state.db.search_orders(&session.user.merchant_id, &search, limit + 1).await?;
    let next = (rows.len() as i64 > limit).then(|| {
        rows.truncate(usize::try_from(limit).unwrap_or_default());
        rows.last().map(|r| format!("{}.{}", r.order.created_at, r.order.id))
    });
    let list: Vec<Value> = rows
        .iter()
        .map(|r| {
            let o = &r.order;
            json!({
                "order_id": o.order_id,
                "amount": money(o.amount_minor),
                "amount_refunded": money(o.amount_refunded_minor),
                "currency": o.currency,
                "status": o.status.as_str(),
                "customer_id": o.customer_id,
                "customer_email": o.customer_email,
                "method": r.method.as_deref().map(str::to_uppercase),
                "gateway": if o.gateway_account.is_some() { "gateway" } else { "sandbox" },
                "date_created": rfc3339(o.created_at),
            })
        })
        .collect();
    Ok(Json(json!({ "orders": list, "next": next.flatten() })))
}

/// The search and page size a list query asks for (400 naming a bad field).
fn search_of(q: ListQuery) -> Result<(OrderSearch, i64), AppError> {
    let statuses: Vec<&str> = kassa_types::OrderStatus::ALL.iter().map(|s| s.as_str()).collect();
    let limit = limit_param(q.limit.as_deref(), 50, 200)?;
    let after = match q.after.as_deref().filter(|a| !a.is_empty()) {
        Some(a) => {
            let (at, id) = a
                .split_once('.')
                .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id)))
                .filter(|(_, id)| id.starts_with("ord_") && id.len() <= 40)
                .ok_or_else(|| AppError::bad_request("invalid_parameter", "after must be the next of a page"))?;
            Some((at, id.to_string()))
        }
        None => None,
    };
    let search = OrderSearch {
        q: match q.q.filter(|s| !s.trim().is_empty()) {
            Some(s) if s.chars().any(char::is_control) => return Err(bad("q", "may not hold control characters")),
            s => s.map(|s| s.chars().take(200).collect()),
        },
        status: one_of("status", q.status, &statuses)?,
        // Stored as the method's token (`card`).
        method: one_of("method", q.method, &["CARD", "NB", "WALLET", "UPI"])?.map(|m| m.to_lowercase()),
        gateway: one_of("gateway", q.gateway, &["sandbox", "razorpay", "paytm"])?,
        from: q.from.filter(|d| !d.is_empty()).map(|d| day_ms("from", &d)).transpose()?,
        to: q.to.filter(|d| !d.is_empty()).map(|d| day_ms("to", &d).map(|t| t + 24 * 3600 * 1000)).transpose()?,
        min_minor: q.min_amount.filter(|a| !a.is_empty()).map(|a| amount_minor("min_amount", &a)).transpose()?,
        max_minor: q.max_amount.filter(|a| !a.is_empty()).map(|a| amount_minor("max_amount", &a)).transpose()?,
        after,
    };
    Ok((search, limit))
}

/// At most this many orders in one CSV export.
pub const CSV_MAX_ROWS: usize = 100_000;

/// A CSV cell: quoted, with a leading `=`, `+`, `-`, `@`, tab or CR made inert
/// (a spreadsheet would run it as a formula).
fn csv_cell(v: &str) -> String {
    let inert = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) { "'" } else { "" };
    format!("\"{inert}{}\"", v.replace('"', "\"\""))
}

/// `GET /dashboard/api/orders.csv?…`: the orders the same filters find, newest first (at most [`CSV_MAX_ROWS`]).
async fn orders_csv(State(state): State<AppState>, Signed(session): Signed, QueryOf(q): QueryOf<ListQuery>) -> Result<Response, AppError> {
    let (mut search, _) = search_of(q)?;
    let mut out =
        String::from("order_id,status,amount,amount_refunded,currency,method,customer_id,customer_email,customer_phone,date_created\r\n");
    let mut rows = 0;
    while rows < CSV_MAX_ROWS {
        let page = state.db.search_orders(&session.user.merchant_id, &search, 1000).await?;
        for r in &page {
            let o = &r.order;
            let cells = [
                o.order_id.clone(),
                o.status.as_str().to_string(),
                money(o.amount_minor),
                money(o.amount_refunded_minor),
                o.currency.clone(),
                r.method.as_deref().map(str::to_uppercase).unwrap_or_default(),
                o.customer_id.clone().unwrap_or_default(),
                o.customer_email.clone().unwrap_or_default(),
                o.customer_phone.clone().unwrap_or_default(),
                rfc3339(o.created_at),
            ];
            out.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
            out.push_str("\r\n");
        }
        rows += page.len();
        match page.last() {
            Some(last) if page.len() == 1000 => search.after = Some((last.order.created_at, last.order.id.clone())),
            _ => break,
        }
    }
    let mut resp = out.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"orders.csv\""));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[derive(Deserialize)]
struct ChartQuery {
    days: Option<String>,
}

/// `GET /dashboard/api/charts?days=7|30|90`: per UTC day (every day of the
/// window, empty ones too) orders, paid orders, volume and success rate;
/// per method attempts, successes, volume and success rate.
async fn charts(State(state): State<AppState>, Signed(session): Signed, QueryOf(q): QueryOf<ChartQuery>) -> Result<Json<Value>, AppError> {
    let days: i64 = match q.days.as_deref() {
        None | Some("") | Some("7") => 7,
        Some("30") => 30,
        Some("90") => 90,
        Some(_) => return Err(AppError::bad_request("invalid_parameter", "days must be 7, 30 or 90")),
    };
    const DAY: i64 = 24 * 3600 * 1000;
    let today = state.now().div_euclid(DAY);
    let first = today - days + 1;
    let (stats, methods) = state.db.order_stats(&session.user.merchant_id, first * DAY).await?;
    // Per mille, in integers: 1000 is every one.
    let rate = |part: i64, whole: i64| if whole == 0 { 0 } else { part.saturating_mul(1000) / whole };
    let per_day: Vec<Value> = (first..=today)
        .map(|d| {
            let s = stats.iter().find(|s| s.day == d);
            let (orders, paid, volume) = s.map_or((0, 0, 0), |s| (s.orders, s.paid, s.volume_minor));
            json!({
                "date": rfc3339(d * DAY).get(..10).unwrap_or_default(),
                "orders": orders,
                "paid": paid,
                "volume": money(volume),
                "volume_minor": volume,
                "success_per_mille": rate(paid, orders),
            })
        })
        .collect();
    let per_method: Vec<Value> = methods
        .iter()
        .map(|m| {
            json!({
                "method": m.method.to_uppercase(),
                "attempts": m.attempts,
                "succeeded": m.succeeded,
                "volume": money(m.volume_minor),
                "volume_minor": m.volume_minor,
                "success_per_mille": rate(m.succeeded, m.attempts),
            })
        })
        .collect();
    Ok(Json(json!({ "days": days, "per_day": per_day, "per_method": per_method })))
}

#[derive(Deserialize)]
struct AuditQuery {
    limit: Option<String>,
}

/// `GET /dashboard/api/audit?limit=`: the merchant's audit log, newest first (admins).
async fn audit_log(
    State(state): State<AppState>,
    Signed(session): Signed,
    QueryOf(q): QueryOf<AuditQuery>,
) -> Result<Json<Value>, AppError> {
    if session.user.role != Role::Admin {
        return Err(forbidden("the audit log is for admins"));
    }
    let limit = limit_param(q.limit.as_deref(), 200, 1000)?;
    let entries: Vec<Value> = state
        .db
        .audit_log(Some(&session.user.merchant_id), limit)
        .await?
        .into_iter()
        .map(|e| {
            json!({
                "actor": e.actor,
                "action": e.action,
                "target": e.target,
                "detail": e.detail,
                "address": e.address,
                "request_id": e.request_id,
                "date": rfc3339(e.created_at),
            })
        })
        .collect();
    Ok(Json(json!({ "entries": entries })))
}

/// `POST /dashboard/api/txns/:txn_uuid/capture` (`amount`, `idempotence_key`): the API's capture of a hold.
async fn capture(
    State(state): State<AppState>,
    AsMerchant(m, audit): AsMerchant,
    txn: Path<String>,
    f: Fields,
) -> Result<Response, AppError> {
    crate::juspay::holds::capture(State(state), m, audit, txn, f).await
}

/// `POST /dashboard/api/txns/:txn_uuid/void`: the API's void of a hold.
async fn void(State(state): State<AppState>, AsMerchant(m, audit): AsMerchant, txn: Path<String>) -> Result<Response, AppError> {
    crate::juspay::holds::void(State(state), m, audit, txn, Fields::default()).await
}

/// `GET /dashboard/api/orders/:order_id`: the order's status body, every
/// attempt, its refunds and its webhook deliveries.
async fn order(State(state): State<AppState>, Signed(session): Signed, Path(order_id): Path<String>) -> Result<Json<Value>, AppError> {
    let merchant = merchant_of(&state, &session.user).await?;
    let order = crate::juspay::orders::merchant_order(&state, &merchant, &order_id).await?;
    let status = crate::juspay::orders::status_body(&state, &order).await?;
    let attempts: Vec<Value> = state
        .db
        .txns(&order.id)
        .await?
        .iter()
        .map(|t| {
            json!({
                "txn_uuid": t.id,
                "txn_id": crate::juspay::wire::juspay_txn_id(&merchant.id, &order.order_id, t.seq),
                "method": t.method.txn_type(),
                "method_detail": t.method_detail,
                "card_last4": t.card_last4,
                "status": t.status.as_str(),
                "amount": money(t.amount_minor),
                "gateway_response": t.gateway_response,
                "date_created": rfc3339(t.created_at),
            })
        })
        .collect();
    let events = state.db.events(&merchant.id, &crate::db::EventFilter { order_pk: Some(order.id.clone()), dead_only: false }, 100).await?;
    let tries = state.db.webhook_attempts(&order.id).await?;
    let webhooks: Vec<Value> = events
        .iter()
        .map(|e| {
            let history: Vec<Value> = tries
                .iter()
                .filter(|(id, _, _)| *id == e.id)
                .map(|(_, at, outcome)| json!({ "at": rfc3339(*at), "outcome": outcome }))
                .collect();
            let delivery = e.delivery();
            json!({
                "id": e.id,
                "event_name": e.event_name,
                "url": e.url,
                "status": delivery,
                "attempts": e.attempts,
                "last_error": e.last_error,
                "delivered_at": e.delivered_at.map(rfc3339),
                "date_created": rfc3339(e.created_at),
                "history": history,
            })
        })
        .collect();
    let refundable = order.amount_minor - order.amount_refunded_minor;
    Ok(Json(json!({
        "order": status,
        "attempts": attempts,
        "webhooks": webhooks,
        "amount": money(order.amount_minor),
        "amount_refunded": money(order.amount_refunded_minor),
        "refundable": money(if order.status == kassa_types::OrderStatus::CHARGED { refundable.max(0) } else { 0 }),
        "can_sync": order.gateway_account.is_some(),
    })))
}

/// `POST /dashboard/api/orders/:order_id/refunds` (`amount`,
/// `unique_request_id`): the API's refund, by an admin. The page makes one
/// `unique_request_id` per refund it shows, so a double click or a retry
/// refunds once.
async fn refund(
    State(state): State<AppState>,
    AsMerchant(m, audit): AsMerchant,
    order: Path<String>,
    f: Fields,
) -> Result<Response, AppError> {
    crate::juspay::orders::create_refund(State(state), m, audit, order, f).await
}

/// `POST /dashboard/api/orders/:order_id/sync`: asks the order's gateway now.
async fn sync(State(state): State<AppState>, AsMerchant(m, _): AsMerchant, order: Path<String>) -> Result<Response, AppError> {
    crate::juspay::orders::sync_order(State(state), m, order).await.map(IntoResponse::into_response)
}

/// `POST /dashboard/api/webhooks/:event_id/redeliver`: delivers an event again, now.
async fn redeliver(State(state): State<AppState>, AsMerchant(m, audit): AsMerchant, event: Path<String>) -> Result<Response, AppError> {
    crate::juspay::webhooks::redeliver(State(state), m, audit, event, Fields::default()).await.map(IntoResponse::into_response)
}

/// The JSON body of a dashboard write (400 when it is not a JSON object).
fn json_body(body: &[u8]) -> Result<serde_json::Map<String, Value>, AppError> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(AppError::bad_request("invalid_request", "send a JSON object")),
    }
}

/// A URL without what may be a credential in it (user info, query,
/// fragment), for readers who may not change it (and the audit log).
pub fn shown_url(u: &str) -> String {
    url::Url::parse(u)
        .map(|mut u| {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        })
        .unwrap_or_default()
}

/// Where a Razorpay account's webhooks go (to register in Razorpay's dashboard); none for Paytm or a sandbox.
fn gateway_webhook_url(state: &AppState, a: &crate::gateway::route::Account) -> Option<String> {
    (a.kind() == crate::gateway::route::GatewayKind::Razorpay && !a.base_url.is_empty())
        .then(|| format!("{}/gateway/webhooks/{}", state.config.public_url.trim_end_matches('/'), a.id))
}

fn settings_json(
    state: &AppState,
    m: &crate::db::Merchant,
    keys: Vec<String>,
    accounts: &[crate::gateway::route::Account],
    admin: bool,
) -> Value {
    let url = |u: &Option<String>| if admin { u.clone() } else { u.as_deref().map(shown_url) };
    json!({
        "name": m.name,
        "order_expiry_minutes": m.order_ttl_secs / 60,
        "enabled_methods": m.enabled_methods.iter().map(|p| p.token()).collect::<Vec<_>>(),
        "webhook_url": url(&m.webhook_url),
        "webhook_username": m.webhook_username,
        "webhook_password_set": m.webhook_password.is_some(),
        "webhook_events": m.webhook_events.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
        "available_events": crate::domain::EventName::ALL.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
        "allowed_origins": m.allowed_origins,
        "signed_response": m.signed_response,
        "default_return_url": url(&m.default_return_url),
        "theme": { "accent": m.theme.accent, "radius": m.theme.radius, "appearance": m.theme.appearance.as_str(), "logo": m.theme.logo.is_some() },
        "rsa_keys": keys,
        "gateway_accounts": accounts.iter().map(|a| json!({ "id": a.id, "gateway": a.kind().as_str(), "reference_id": a.reference_id, "priority": a.priority,
            "webhook_url": gateway_webhook_url(state, a) })).collect::<Vec<_>>(),
    })
}

/// `GET /dashboard/api/settings`: the merchant's settings (never a secret: whether a password is set, not the password).
async fn settings(State(state): State<AppState>, Signed(session): Signed) -> Result<Json<Value>, AppError> {
    let m = merchant_of(&state, &session.user).await?;
    let keys = state.db.merchant_key_ids(&m.id).await?;
    let accounts = state.db.gateway_accounts(&m.id).await?;
    Ok(Json(settings_json(&state, &m, keys, &accounts, session.user.role == Role::Admin)))
}

fn bad(field: &str, why: &str) -> AppError {
    AppError::bad_request("invalid_parameter", format!("{field} {why}"))
}

/// An optional text setting: `null` or `""` clears it.
fn optional_text(field: &str, v: &Value) -> Result<Option<String>, AppError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.chars().any(char::is_control) => Err(bad(field, "may not hold control characters")),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.trim().to_string())),
        Value::Bool(_) | Value::Number(_) | Value::Array(_) | Value::Object(_) => Err(bad(field, "must be text")),
    }
}

fn string_list(field: &str, v: &Value) -> Result<Vec<String>, AppError> {
    v.as_array()
        .ok_or_else(|| bad(field, "must be a list"))?
        .iter()
        .map(|x| {
            x.as_str()
                .filter(|s| !s.chars().any(char::is_control))
                .map(|s| s.trim().to_string())
                .ok_or_else(|| bad(field, "must be a list of text"))
        })
        .collect()
}

/// `POST /dashboard/api/settings` (JSON, any of `order_expiry_minutes`,
/// `enabled_methods`, `webhook_url`, `webhook_username`, `webhook_password`,
/// `webhook_events`, `allowed_origins`, `signed_response`,
/// `default_return_url`, `theme`): checks every field first, then changes
/// them together; the next request sees them. Audited by field name (no values of secrets).
async fn change_settings(
    State(state): State<AppState>,
    AdminWrite(session): AdminWrite,
    audit: AuditCtx,
    body: axum::body::Bytes,
) -> Result<Json<Value>, AppError> {
    let m = merchant_of(&state, &session.user).await?;
    let mut c = crate::db::SettingsChange::default();
    let mut changed: Vec<String> = Vec::new();
    let mut detail = serde_json::Map::new();
    for (k, v) in json_body(&body)? {
        match k.as_str() {
            "order_expiry_minutes" => {
                let mins = v.as_i64().filter(|m| (1..=1440).contains(m)).ok_or_else(|| bad(&k, "must be 1 to 1440 minutes (24 hours)"))?;
                c.order_ttl_secs = Some(mins * 60);
                detail.insert(k.clone(), json!(mins));
            }
            "enabled_methods" => {
                let list = string_list(&k, &v)?;
                let mut tokens: Vec<&str> = Vec::new();
                for t in &list {
                    let p = kassa_types::PaymentMethod::from_token(&t.to_lowercase())
                        .ok_or_else(|| bad(&k, "must name card, nb, wallet or upi"))?;
                    if !tokens.contains(&p.token()) {
                        tokens.push(p.token());
                    }
                }
                if tokens.is_empty() {
                    return Err(bad(&k, "must keep at least one method"));
                }
                c.enabled_methods = Some(tokens.join("|"));
                detail.insert(k.clone(), json!(tokens));
            }
            "webhook_url" => {
                let url = optional_text(&k, &v)?;
                if let Some(u) = &url {
                    let parsed = url::Url::parse(u).map_err(|_| bad(&k, "must be an http(s) URL"))?;
                    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() || u.len() > 2048 {
                        return Err(bad(&k, "must be an http(s) URL"));
                    }
                }
                c.webhook_url = Some(url);
                detail.insert(k.clone(), json!("changed"));
            }
            "webhook_username" => {
                c.webhook_username = Some(optional_text(&k, &v)?.map(|u| u.chars().take(200).collect()));
                detail.insert(k.clone(), json!("changed"));
            }
            "webhook_password" => {
                c.webhook_password = Some(optional_text(&k, &v)?);
                detail.insert(k.clone(), json!("changed"));
            }
            "webhook_events" => {
                let mut events: Vec<&str> = Vec::new();
                for name in string_list(&k, &v)? {
                    let e = crate::domain::EventName::parse(&name).ok_or_else(|| bad(&k, "names an unknown event"))?;
                    if !events.contains(&e.as_str()) {
                        events.push(e.as_str());
                    }
                }
                c.webhook_events = Some(events.join(" "));
                detail.insert(k.clone(), json!(events));
            }
            "allowed_origins" => {
                let origins = string_list(&k, &v)?
                    .iter()
                    .filter(|o| !o.is_empty())
                    .map(|o| crate::pages::frame_origin(o).map_err(|why| bad(&k, why)))
                    .collect::<Result<Vec<_>, _>>()?;
                c.allowed_origins = Some(origins.join(" "));
                detail.insert(k.clone(), json!(origins));
            }
            "signed_response" => {
                let on = v.as_bool().ok_or_else(|| bad(&k, "must be true or false"))?;
                c.signed_response = Some(on);
                detail.insert(k.clone(), json!(on));
            }
            "default_return_url" => {
                let url = optional_text(&k, &v)?.map(crate::juspay::orders::return_url).transpose()?;
                detail.insert(k.clone(), json!(url));
                c.default_return_url = Some(url);
            }
            "theme" => {
                let accent = optional_text("theme.accent", &v["accent"])?;
                let radius = match &v["radius"] {
                    Value::Null => None,
                    r @ (Value::Bool(_) | Value::Number(_) | Value::String(_) | Value::Array(_) | Value::Object(_)) => Some(
                        r.as_u64()
                            .and_then(|r| u8::try_from(r).ok())
                            .ok_or_else(|| bad("theme.radius", "must be a whole number of pixels"))?,
                    ),
                };
                let appearance = kassa_types::theme::Appearance::parse(v["appearance"].as_str().unwrap_or("auto"))
                    .ok_or_else(|| bad("theme.appearance", "must be auto, light or dark"))?;
                // The logo: a data URL replaces it, "" removes it, absent keeps it.
                let logo = match &v["logo"] {
                    Value::Null => m.theme.logo.clone(),
                    logo @ (Value::Bool(_) | Value::Number(_) | Value::String(_) | Value::Array(_) | Value::Object(_)) => {
                        optional_text("theme.logo", logo)?
                    }
                };
                let theme = kassa_types::theme::Theme { accent, radius, logo, appearance };
                theme.validate().map_err(|why| AppError::bad_request("invalid_parameter", format!("theme: {why}")))?;
                let logo = theme.logo.is_some();
                detail.insert(
                    k.clone(),
                    json!({ "accent": theme.accent, "radius": theme.radius, "appearance": theme.appearance.as_str(), "logo": logo }),
                );
                c.theme = Some(serde_json::to_string(&theme).map_err(|e| AppError::internal(&e))?);
            }
            other => return Err(AppError::bad_request("invalid_parameter", format!("{other} is not a setting"))),
        }
        changed.push(k);
    }
    state.db.change_settings(&m.id, &c).await?;
    if !changed.is_empty() {
        audit_of(audit, &session.user).record(&state.db, Some(&m.id), "settings.update", None, Value::Object(detail)).await;
    }
    let m = merchant_of(&state, &session.user).await?;
    let keys = state.db.merchant_key_ids(&m.id).await?;
    let accounts = state.db.gateway_accounts(&m.id).await?;
    Ok(Json(settings_json(&state, &m, keys, &accounts, true)))
}

/// `POST /dashboard/api/settings/response-key` (`overlap_minutes`, default
/// 60): a new response key, shown this once. Kassa signs with it from the
/// end of the overlap on, with the current one until then (verify with both meanwhile).
async fn rotate_response_key(
    State(state): State<AppState>,
    AdminWrite(session): AdminWrite,
    audit: AuditCtx,
    body: axum::body::Bytes,
) -> Result<Json<Value>, AppError> {
    let body = json_body(&body)?;
    let overlap = match body.get("overlap_minutes") {
        None | Some(Value::Null) => 60,
        Some(v) => {
            v.as_i64().filter(|m| (0..=7 * 24 * 60).contains(m)).ok_or_else(|| bad("overlap_minutes", "must be 0 to 10080 (a week)"))?
        }
    };
    let key = crate::random_id("krk_");
    let now = crate::now_ms();
    let until = now.saturating_add(overlap * 60_000);
    if !state.db.rotate_credential(&session.user.merchant_id, crate::db::Credential::ResponseKey, &key, now, until).await? {
        return Err(AppError::unauthorized("this user's merchant is gone"));
    }
    let detail = json!({ "overlap_mins": overlap, "overlap_until": rfc3339(until) });
    audit_of(audit, &session.user).record(&state.db, Some(&session.user.merchant_id), "response_key.rotate", None, detail).await;
    Ok(Json(json!({ "response_key": key, "signs_from": rfc3339(until) })))
}

/// `POST /dashboard/api/settings/rsa-keys` (`key_id`, `public_key` PEM): registers an `orderDetails` key.
async fn add_rsa_key(
    State(state): State<AppState>,
    AdminWrite(session): AdminWrite,
    audit: AuditCtx,
    body: axum::body::Bytes,
) -> Result<Json<Value>, AppError> {
    let body = json_body(&body)?;
    let key_id = body.get("key_id").and_then(Value::as_str).unwrap_or_default().trim().to_string();
    if key_id.is_empty() || key_id.len() > 64 || !key_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(bad("key_id", "must be 1-64 letters, digits, '_' or '-'"));
    }
    let pem = body.get("public_key").and_then(Value::as_str).unwrap_or_default();
    kassa_sign::order_details::RsaPublicKey::from_pem(pem).map_err(|_| bad("public_key", "must be an RSA public key in PEM"))?;
    match state.db.add_merchant_key(&session.user.merchant_id, &key_id, pem).await {
        Ok(()) => {}
        Err(crate::db::DbError::Conflict) => {
            return Err(AppError::conflict("key_exists", "a key with this key_id exists; remove it first"));
        }
        Err(e) => return Err(e.into()),
    }
    audit_of(audit, &session.user)
        .record(&state.db, Some(&session.user.merchant_id), "order_details_key.add", Some(&key_id), Value::Null)
        .await;
    Ok(Json(json!({ "key_id": key_id })))
}

/// `POST /dashboard/api/settings/rsa-keys/:key_id/delete`.
async fn remove_rsa_key(
    State(state): State<AppState>,
    AdminWrite(session): AdminWrite,
    audit: AuditCtx,
    Path(key_id): Path<String>,
) -> Result<Json<Value>, AppError> {
    if !state.db.remove_merchant_key(&session.user.merchant_id, &key_id).await? {
        return Err(AppError { status: StatusCode::NOT_FOUND, code: "key_not_found", message: "no such key".into(), retry_after: None });
    }
    audit_of(audit, &session.user)
        .record(&state.db, Some(&session.user.merchant_id), "order_details_key.remove", Some(&key_id), Value::Null)
        .await;
    Ok(Json(json!({ "key_id": key_id, "removed": true })))
}

/// `GET /dashboard/api/api-keys`: the API keys made here (names, first characters, use; never the keys).
async fn api_keys(State(state): State<AppState>, Signed(session): Signed) -> Result<Json<Value>, AppError> {
    let keys: Vec<Value> = state
        .db
        .api_keys(&session.user.merchant_id)
        .await?
        .iter()
        .map(|k| {
            json!({
                "id": k.id,
                "name": k.name,
                "prefix": k.prefix,
                "created": rfc3339(k.created_at),
                "last_used": k.last_used_at.map(rfc3339),
                "revoked": k.revoked_at.map(rfc3339),
            })
        })
        .collect();
    Ok(Json(json!({ "api_keys": keys })))
}

/// `POST /dashboard/api/api-keys` (`name`): a new API key, shown this once.
async fn create_api_key(
    State(state): State<AppState>,
    AdminWrite(session): AdminWrite,
    audit: AuditCtx,
    body: axum::body::Bytes,
) -> Result<Json<Value>, AppError> {
    let body = json_body(&body)?;
    let name = body.get("name").and_then(Value::as_str).unwrap_or_default().trim().to_string();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(bad("name", "must be 1 to 64 characters"));
    }
    let key = crate::random_id("ksk_");
    let info = crate::db::ApiKeyInfo {
        id: crate::random_id("key_"),
        name,
        prefix: key.chars().take(12).collect(),
        created_at: state.now(),
        last_used_at: None,
        revoked_at: None,
    };
    state.db.add_api_key(&session.user.merchant_id, &info, &crate::http::auth::api_key_hash(&key)).await?;
    let detail = json!({ "name": info.name, "prefix": info.prefix });
    audit_of(audit, &session.user).record(&state.db, Some(&session.user.merchant_id), "api_key.create", Some(&info.id), detail).await;
    Ok(Json(json!({ "id": info.id, "name": info.name, "api_key": key })))
}

/// `POST /dashboard/api/api-keys/:id/revoke`: the key is refused from now on (401).
async fn revoke_api_key(
    State(state): State<AppState>,
    AdminWrite(session): AdminWrite,
    audit: AuditCtx,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    if !state.db.revoke_api_key(&session.user.merchant_id, &id, state.now()).await? {
        return Err(AppError {
            status: StatusCode::NOT_FOUND,
            code: "key_not_found",
            message: "no such live key".into(),
            retry_after: None,
        });
    }
    audit_of(audit, &session.user).record(&state.db, Some(&session.user.merchant_id), "api_key.revoke", Some(&id), Value::Null).await;
    Ok(Json(json!({ "id": id, "revoked": true })))
}

/// At most this many rows in one batch of refunds.
pub const BATCH_MAX_ROWS: usize = 500;

/// `POST /dashboard/api/refunds/batch` (JSON `{batch_id, csv}`: lines of
/// `order_id,amount[,unique_request_id]`, an optional header line): each
/// row is the API's refund on its own, with its own result (`ok`, the
/// order's refunded total, or the error). A row without
/// `unique_request_id` gets one made of the batch id, its order, its amount
/// and how many times that order and amount came before in the batch (not
/// its row number): sending the batch again, or again without the rows
/// that failed, refunds nothing twice; a new batch id is a new batch.
async fn batch_refunds(
    State(state): State<AppState>,
    AdminWrite(session): AdminWrite,
    audit: AuditCtx,
    body: axum::body::Bytes,
) -> Result<Json<Value>, AppError> {
    let body = json_body(&body)?;
    let csv = body.get("csv").and_then(Value::as_str).ok_or_else(|| bad("csv", "is required"))?;
    let batch_id = body.get("batch_id").and_then(Value::as_str).unwrap_or_default();
    if batch_id.is_empty() || batch_id.len() > 64 || !batch_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(bad("batch_id", "must be 1-64 letters, digits, '_' or '-' (one per batch)"));
    }
    let lines: Vec<&str> = csv.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let header =
        |l: &str| matches!(l.to_ascii_lowercase().replace(' ', "").as_str(), "order_id,amount" | "order_id,amount,unique_request_id");
    let lines: Vec<&str> = match lines.first() {
        Some(first) if header(first) => lines[1..].to_vec(),
        _ => lines,
    };
    if lines.is_empty() || lines.len() > BATCH_MAX_ROWS {
        return Err(bad("csv", "must have 1 to 500 rows of order_id,amount[,unique_request_id]"));
    }
    let merchant = merchant_of(&state, &session.user).await?;
    let audit = audit_of(audit, &session.user);
    let mut results = Vec::new();
    let mut seen: std::collections::HashMap<(String, String), u32> = std::collections::HashMap::new();
    for (i, line) in lines.iter().enumerate() {
        let cells: Vec<String> = line.split(',').map(|c| c.trim().trim_matches('"').to_string()).collect();
        let row = i + 1;
        let (order_id, amount) = match (cells.first(), cells.get(1)) {
            (Some(o), Some(a)) if !o.is_empty() && !a.is_empty() => (o.clone(), a.clone()),
            _ => {
                results.push(json!({ "row": row, "ok": false, "error": "a row is order_id,amount[,unique_request_id]" }));
                continue;
            }
        };
        let nth = seen.entry((order_id.clone(), amount.clone())).or_insert(0);
        *nth += 1;
        let request_id = cells.get(2).filter(|r| !r.is_empty()).cloned().unwrap_or_else(|| {
            // The same batch, order, amount and occurrence: the same id, so a repeated batch is idempotent.
            let digest = hex::encode(Sha256::digest(format!("{batch_id}\n{order_id}\n{amount}\n{nth}").as_bytes()));
            format!("batch_{}", &digest[..24])
        });
        let fields = Fields::from_pairs(vec![("amount".into(), amount.clone()), ("unique_request_id".into(), request_id.clone())]);
        let answer = crate::juspay::orders::create_refund(
            State(state.clone()),
            crate::http::auth::Authed(merchant.clone()),
            audit.clone(),
            Path(order_id.clone()),
            fields,
        )
        .await;
        results.push(match answer {
            Ok(resp) => {
                let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap_or_default();
                let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                json!({ "row": row, "order_id": order_id, "amount": amount, "unique_request_id": request_id, "ok": true,
                        "amount_refunded": v["amount_refunded"], "status": v["status"] })
            }
            Err(e) => json!({ "row": row, "order_id": order_id, "amount": amount, "unique_request_id": request_id, "ok": false,
                              "error_code": e.code, "error": e.message }),
        });
    }
    let ok = results.iter().filter(|r| r["ok"] == true).count();
    Ok(Json(json!({ "rows": results.len(), "refunded": ok, "failed": results.len() - ok, "results": results })))
}

/// `GET /dashboard/api/webhooks`: the merchant's latest 50 webhook events (test events too), newest first.
async fn webhooks(State(state): State<AppState>, Signed(session): Signed) -> Result<Json<Value>, AppError> {
    let events = state.db.events(&session.user.merchant_id, &crate::db::EventFilter::default(), 50).await?;
    let list: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({
                "id": e.id,
                "event_name": e.event_name,
                "order_id": e.order_id,
                "status": e.delivery(),
                "attempts": e.attempts,
                "last_error": e.last_error,
                "date_created": rfc3339(e.created_at),
            })
        })
        .collect();
    Ok(Json(json!({ "events": list })))
}

/// `POST /dashboard/api/settings/test-event`: a signed `TEST` event to the merchant's webhook URL, delivered (and retried) like any other.
async fn test_event(State(state): State<AppState>, AdminWrite(session): AdminWrite, audit: AuditCtx) -> Result<Json<Value>, AppError> {
    let m = merchant_of(&state, &session.user).await?;
    let url = m.webhook_url.ok_or_else(|| AppError::bad_request("no_webhook_url", "set a webhook URL first"))?;
    let id = state.db.queue_test_event(&m.id, &url, state.now()).await?;
    audit_of(audit, &session.user).record(&state.db, Some(&m.id), "webhook.test", Some(&id), Value::Null).await;
    Ok(Json(json!({ "id": id, "status": "queued" })))
}

/// `POST /dashboard/api/gateway-accounts` (JSON: `gateway` razorpay or paytm,
/// `reference_id`, and either `sandbox: true` or the account's credentials:
/// Razorpay `key_id`, `key_secret`, `webhook_secret`; Paytm `mid`,
/// `merchant_key`, `website_name`, `base_url`): links it last in the routing
/// preference, as `kassa merchant add-gateway` does. Its secrets are sealed
/// and never shown again.
async fn add_gateway_account(
    State(state): State<AppState>,
    AdminWrite(session): AdminWrite,
    audit: AuditCtx,
    body: axum::body::Bytes,
) -> Result<Json<Value>, AppError> {
    let body = json_body(&body)?;
    let text = |k: &str| -> Result<Option<String>, AppError> { optional_text(k, body.get(k).unwrap_or(&Value::Null)) };
    let kind = text("gateway")?
        .as_deref()
        .and_then(crate::gateway::route::GatewayKind::parse)
        .ok_or_else(|| bad("gateway", "must be razorpay or paytm"))?;
    let request = crate::gateway::route::LinkRequest {
        reference_id: text("reference_id")?.unwrap_or_default(),
        sandbox: body.get("sandbox").and_then(Value::as_bool).unwrap_or(false),
        base_url: text("base_url")?,
        key_id: text("key_id")?,
        key_secret: text("key_secret")?,
        webhook_secret: text("webhook_secret")?,
        mid: text("mid")?,
        merchant_key: text("merchant_key")?,
        website_name: text("website_name")?,
    };
    let sandbox = request.sandbox;
    let (account, priority) =
        match crate::gateway::route::link_account(&state.db, &session.user.merchant_id, kind, request, str::to_string).await {
            Ok(linked) => linked,
            Err(crate::gateway::route::LinkError::Invalid(why)) => return Err(AppError::bad_request("invalid_parameter", why)),
            Err(crate::gateway::route::LinkError::Db(e)) => return Err(e.into()),
        };
    let detail = json!({ "gateway": kind.as_str(), "reference_id": account.reference_id, "sandbox": sandbox, "priority": priority });
    audit_of(audit, &session.user)
        .record(&state.db, Some(&session.user.merchant_id), "gateway_account.add", Some(&account.id), detail)
        .await;
    Ok(Json(json!({
        "id": account.id,
        "gateway": kind.as_str(),
        "reference_id": account.reference_id,
        "priority": priority,
        "webhook_url": gateway_webhook_url(&state, &account),
    })))
}

/// `GET /dashboard/api/customers/:customer_id/instruments`: the customer's
/// mandates (Juspay's mandate objects, newest first, at most 100) and saved
/// cards (masked, as `GET /cards` shows them).
async fn instruments(
    State(state): State<AppState>,
    Signed(session): Signed,
    Path(customer_id): Path<String>,
) -> Result<Json<Value>, AppError> {
    if customer_id.is_empty() || customer_id.len() > 128 || customer_id.chars().any(char::is_control) {
        return Err(bad("customer_id", "must be 1-128 characters"));
    }
    let merchant_id = &session.user.merchant_id;
    let (mandates, total) = state.db.mandates(merchant_id, &customer_id, 0, 100).await?;
    let now = state.now();
    let cards: Vec<Value> =
        state.db.saved_cards(merchant_id, &customer_id).await?.iter().map(|c| crate::juspay::mandates::card_json(c, now)).collect();
    let mut listed = Vec::with_capacity(mandates.len());
    for m in &mandates {
        // The order that registered it, as the merchant knows it.
        let order_id = state.db.order(&m.order_pk).await?.map(|o| o.order_id);
        listed.push(crate::juspay::wire::mandate_json(m, false, order_id.as_deref()));
    }
    let mandates = listed;
    Ok(Json(json!({ "customer_id": customer_id, "mandates": mandates, "mandates_total": total, "cards": cards })))
}

/// `POST /dashboard/api/mandates/:mandate_id` (`command`: pause, resume,
/// revoke, check_status…): the API's mandate command, by an admin.
async fn mandate_command(
    State(state): State<AppState>,
    AsMerchant(m, audit): AsMerchant,
    mandate: Path<String>,
    f: Fields,
) -> Result<Json<Value>, AppError> {
    crate::juspay::mandates::command(State(state), m, audit, mandate, f).await
}

/// `POST /dashboard/api/cards/delete` (`card_token`): the API's deletion of a saved card, by an admin.
async fn delete_card(State(state): State<AppState>, AsMerchant(m, audit): AsMerchant, f: Fields) -> Result<Json<Value>, AppError> {
    crate::juspay::mandates::delete_card(State(state), m, audit, f).await
}
