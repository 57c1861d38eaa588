//! API contract tests in process: the router driven with
//! `tower::ServiceExt::oneshot`, on a real SQLite file (or PostgreSQL), with
//! a clock the test moves, so what depends on time (expiry, token lifetime,
//! settlements) is tested without sleeping.

#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use kassa_server::db::Db;
use kassa_server::domain::flow::settle_due;
use kassa_server::{AppState, Clock, Config, app};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use tower::ServiceExt;

/// A clock that moves only when the test says so.
#[derive(Debug)]
struct TestClock(AtomicI64);

impl Clock for TestClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl TestClock {
    fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

struct Kassa {
    state: AppState,
    clock: Arc<TestClock>,
    key: String,
    _dir: tempfile::TempDir,
}

async fn kassa() -> Kassa {
    let dir = tempfile::tempdir().unwrap();
    let url = tokio::task::spawn_blocking({
        let path = dir.path().to_path_buf();
        move || common::fresh_database(&path)
    })
    .await
    .unwrap();
    let db = Db::open(&url).await.unwrap();
    let key = kassa_server::random_id("ksk_");
    db.create_merchant(&common::test_merchant("m1", &key, "krk_test")).await.unwrap();
    let config = Config { webhook_retry_base_ms: 50, ..common::test_config("http://kassa.test") };
    // Starts at the real time (card expiry checks read it) and moves only when a test says.
    let clock = Arc::new(TestClock(AtomicI64::new(kassa_server::now_ms())));
    let state = AppState::new(db, config).await.unwrap().with_clock(clock.clone());
    Kassa { state, clock, key, _dir: dir }
}

impl Kassa {
    async fn call(&self, method: &str, path: &str, auth: Option<String>, form: &str) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        if !form.is_empty() {
            req = req.header("content-type", "application/x-www-form-urlencoded");
        }
        let resp = app(self.state.clone()).oneshot(req.body(Body::from(form.to_string())).unwrap()).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into())))
    }

    fn basic(&self) -> Option<String> {
        Some(common::basic(&self.key))
    }

    async fn order(&self, form: &str) -> (String, String) {
        let (code, body) = self.call("POST", "/orders", self.basic(), &format!("{form}&options.get_client_auth_token=true")).await;
        assert_eq!(code, StatusCode::OK, "{body}");
        (body["id"].as_str().unwrap().into(), body["juspay"]["client_auth_token"].as_str().unwrap().into())
    }

    async fn card(&self, ord: &str, token: &str, number: &str) -> (StatusCode, Value) {
        let form = format!(
            "order_id={ord}&payment_method_type=CARD&card_number={number}&card_exp_month=12&card_exp_year=2039&card_security_code=123"
        );
        self.call("POST", "/txns", Some(format!("Bearer {token}")), &form).await
    }

    async fn status(&self, order_id: &str) -> Value {
        self.call("GET", &format!("/orders/{order_id}"), self.basic(), "").await.1
    }
}

#[tokio::test]
async fn an_order_expires_on_the_clock_and_its_token_with_it() {
    let k = kassa().await;
    let (ord, token) = k.order("order_id=exp1&amount=10&metadata.expiryInMins=2").await;
    k.clock.advance(119_000);
    let (code, _) = k.card(&ord, &token, "4111111111111111").await;
    assert_eq!(code, StatusCode::OK, "payable until the last second");
    let (ord2, token2) = k.order("order_id=exp2&amount=10&metadata.expiryInMins=2").await;
    k.clock.advance(121_000);
    let (code, body) = k.card(&ord2, &token2, "4111111111111111").await;
    assert_eq!((code, body["error_code"].as_str()), (StatusCode::UNAUTHORIZED, Some("access_denied")), "{body}");
    // A new token cannot pay an expired order either.
    let (_, session) = k.call("POST", "/session", k.basic(), "order_id=exp2&amount=10&metadata.expiryInMins=2").await;
    let token3 = session["sdk_payload"]["payload"]["clientAuthToken"].as_str().unwrap().to_string();
    let (code, body) = k.card(&ord2, &token3, "4111111111111111").await;
    assert!(code == StatusCode::UNAUTHORIZED || code == StatusCode::BAD_REQUEST, "{code} {body}");
    assert_eq!(k.status("exp2").await["status"], "NEW");
}

#[tokio::test]
async fn a_client_token_lives_fifteen_minutes_at_most() {
    let k = kassa().await;
    let (ord, token) = k.order("order_id=tok1&amount=10&metadata.expiryInMins=60").await;
    k.clock.advance(15 * 60 * 1000 - 1000);
    assert_eq!(k.call("GET", "/txns/txn_none", Some(format!("Bearer {token}")), "").await.0, StatusCode::NOT_FOUND);
    k.clock.advance(2000);
    let (code, _) = k.card(&ord, &token, "4111111111111111").await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn settlements_apply_when_due_and_only_then() {
    let k = kassa().await;
    let (ord, token) = k.order("order_id=set1&amount=10").await;
    let (code, txn) = k.card(&ord, &token, "4000000000000119").await;
    assert_eq!(code, StatusCode::OK, "{txn}");
    let bank = txn["payment"]["authentication"]["url"].as_str().unwrap().strip_prefix("http://kassa.test").unwrap().to_string();
    let (code, _) = k.call("POST", &bank, None, "otp=123456&action=submit").await;
    assert_eq!(code, StatusCode::SEE_OTHER);
    assert_eq!(k.status("set1").await["status"], "AUTHORIZING");
    assert!(settle_due(&k.state, k.state.now()).await.unwrap().is_empty(), "not due yet");
    k.clock.advance(3999);
    assert!(settle_due(&k.state, k.state.now()).await.unwrap().is_empty(), "not due yet");
    k.clock.advance(1);
    let done = settle_due(&k.state, k.state.now()).await.unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(k.status("set1").await["status"], "CHARGED");
    // Applied once: nothing is due any more.
    k.clock.advance(60_000);
    assert!(settle_due(&k.state, k.state.now()).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_unanswered_bank_page_fails_when_its_order_expires() {
    let k = kassa().await;
    let (ord, token) = k.order("order_id=aban1&amount=10&metadata.expiryInMins=5").await;
    let (_, txn) = k.card(&ord, &token, "4111111111111111").await;
    assert_eq!(k.status("aban1").await["status"], "PENDING_VBV");
    k.clock.advance(5 * 60 * 1000 - 1);
    assert!(settle_due(&k.state, k.state.now()).await.unwrap().is_empty());
    k.clock.advance(1);
    // Expired, and the settler has not run yet: the shopper's OTP is too late all the same.
    let bank = txn["payment"]["authentication"]["url"].as_str().unwrap().strip_prefix("http://kassa.test").unwrap().to_string();
    k.call("POST", &bank, None, "otp=123456&action=submit").await;
    assert_eq!(k.status("aban1").await["status"], "PENDING_VBV");
    assert_eq!(settle_due(&k.state, k.state.now()).await.unwrap().len(), 1);
    let st = k.status("aban1").await;
    assert_eq!(st["status"], "AUTHENTICATION_FAILED", "{st}");
    // The shopper's late OTP changes nothing.
    k.call("POST", &bank, None, "otp=123456&action=submit").await;
    assert_eq!(k.status("aban1").await["status"], "AUTHENTICATION_FAILED");
}

/// A gateway that never answers a start, and otherwise is the sandbox.
#[derive(Debug)]
struct Unanswering(kassa_server::gateway::sandbox::Sandbox);

impl kassa_server::gateway::Gateway for Unanswering {
    fn start<'a>(&'a self, _: &'a kassa_server::gateway::MethodInput<'a>) -> kassa_server::gateway::StartFuture<'a> {
        Box::pin(std::future::pending())
    }
    fn answer(&self, scenario: &str, answer: &kassa_server::gateway::BankAnswer<'_>) -> kassa_server::gateway::Answer {
        self.0.answer(scenario, answer)
    }
    fn prompt(&self, scenario: &str) -> kassa_server::gateway::Prompt {
        self.0.prompt(scenario)
    }
    fn response(&self, status: kassa_types::OrderStatus, now: i64) -> kassa_server::domain::GatewayResponse {
        self.0.response(status, now)
    }
    fn page_url(&self, base: &str, txn_id: &str) -> String {
        self.0.page_url(base, txn_id)
    }
    fn capture(&self, scenario: &str) -> kassa_server::gateway::HoldAnswer {
        self.0.capture(scenario)
    }
    fn void(&self, scenario: &str) -> kassa_server::gateway::HoldAnswer {
        self.0.void(scenario)
    }
}

/// The attempt is recorded before the gateway is asked; a request that dies
/// while the gateway is silent (a crash, a client gone) leaves it STARTED,
/// which blocks a second start meanwhile and fails after the start timeout.
#[tokio::test]
async fn an_attempt_the_gateway_never_answered_fails_after_the_start_timeout() {
    let mut k = kassa().await;
    let (ord, token) = k.order("order_id=hang1&amount=10").await;
    let sandbox = kassa_server::gateway::sandbox::Sandbox { settle_delay_ms: 10 };
    let real = std::mem::replace(&mut k.state.gateway, Arc::new(Unanswering(sandbox)));
    let pay = k.card(&ord, &token, "4111111111111111");
    assert!(tokio::time::timeout(std::time::Duration::from_millis(200), pay).await.is_err(), "the gateway never answers");
    assert_eq!(k.status("hang1").await["status"], "STARTED");
    k.state.gateway = real;
    let (code, body) = k.card(&ord, &token, "4111111111111111").await;
    assert_eq!((code, body["error_code"].as_str()), (StatusCode::CONFLICT, Some("order_not_payable")), "{body}");
    k.clock.advance(kassa_server::domain::flow::START_TIMEOUT_MS - 1);
    assert!(settle_due(&k.state, k.state.now()).await.unwrap().is_empty());
    k.clock.advance(1);
    assert_eq!(settle_due(&k.state, k.state.now()).await.unwrap().len(), 1);
    assert_eq!(k.status("hang1").await["status"], "AUTHENTICATION_FAILED");
    let (code, body) = k.card(&ord, &token, "4111111111111111").await;
    assert_eq!(code, StatusCode::OK, "payable again: {body}");
}
