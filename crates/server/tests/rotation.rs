//! Merchant credential rotation from the CLI with an overlap window (issue
//! 18), against a running server: the previous API key keeps working until
//! the overlap ends; webhooks carry a signature with each webhook secret
//! during the overlap; a new response key signs return URLs once its overlap
//! ends. Each rotation is in the audit log, without the credential. SQLite,
//! or PostgreSQL with `KASSA_TEST_POSTGRES`.

#![allow(missing_docs, clippy::unwrap_used)]

mod common;
use common::{basic, free_port};

use kassa_sign::ResponseKey;
use kassa_sign::return_url;
use kassa_sign::webhook::{WebhookSecret, verify};
use serde_json::Value;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Setup {
    db: String,
    base: String,
    agent: ureq::Agent,
    hooks: Arc<Mutex<Vec<(String, String)>>>,
    _dir: tempfile::TempDir,
    _server: common::Running,
}

impl Setup {
    fn kassa(&self, args: &[&str]) -> Value {
        common::kassa_cli(&self.db, args)
    }

    /// `GET /orders/none` with `key`: 404 if the key is accepted, 401 if not.
    fn key_works(&self, key: &str) -> bool {
        let r = self.agent.get(format!("{}/orders/none", self.base)).header("authorization", &basic(key)).call().unwrap();
        match r.status().as_u16() {
            404 => true,
            401 => false,
            s => panic!("HTTP {s}"),
        }
    }

    /// Pays a new order with the sandbox card: the return URL's query (signed with the response key).
    fn pay(&self, key: &str, order_id: &str) -> String {
        let mut r = self
            .agent
            .post(format!("{}/orders", self.base))
            .header("authorization", &basic(key))
            .header("content-type", "application/x-www-form-urlencoded")
            .send(format!("order_id={order_id}&amount=10&return_url=https%3A%2F%2Fshop.example%2Fret&options.get_client_auth_token=true"))
            .unwrap();
        assert_eq!(r.status(), 200);
        let created: Value = r.body_mut().read_json().unwrap();
        let mut txn = common::card_fields("4111111111111111");
        txn["order_id"] = created["id"].clone();
        let mut r = self
            .agent
            .post(format!("{}/txns", self.base))
            .header("authorization", &format!("Bearer {}", created["juspay"]["client_auth_token"].as_str().unwrap()))
            .header("content-type", "application/json")
            .send(txn.to_string())
            .unwrap();
        let t: Value = r.body_mut().read_json().unwrap();
        let bank = t["payment"]["authentication"]["url"].as_str().unwrap();
        let r = common::submit_otp(&self.agent, bank).unwrap();
        assert_eq!(r.status(), 303);
        let location = r.headers()["location"].to_str().unwrap().to_string();
        location.split_once('?').unwrap().1.to_string()
    }

    /// The signature header and body of the ORDER_SUCCEEDED webhook of `order_id`, once it arrives.
    fn succeeded_hook(&self, order_id: &str) -> (String, String) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let found = self.hooks.lock().unwrap().iter().find_map(|(head, body)| {
                let v: Value = serde_json::from_str(body).ok()?;
                (v["event_name"] == "ORDER_SUCCEEDED" && v["content"]["order"]["order_id"] == order_id).then(|| {
                    let sig = head.lines().find_map(|l| l.strip_prefix("kassa-signature: ")).unwrap().to_string();
                    (sig, body.clone())
                })
            });
            if let Some(f) = found {
                return f;
            }
            assert!(Instant::now() < deadline, "no ORDER_SUCCEEDED for {order_id}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Waits out the server's merchant cache (`kassa_server::db::MERCHANT_CACHE_MS`).
fn settle() {
    std::thread::sleep(Duration::from_millis(kassa_server::db::MERCHANT_CACHE_MS + 100));
}

fn signed_by(secret: &str, (header, body): &(String, String)) -> bool {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    verify(&WebhookSecret::new(secret.as_bytes().to_vec()), header, body.as_bytes(), now, 300).is_ok()
}

fn return_signed_by(key: &str, query: &str) -> bool {
    return_url::verify_query(&ResponseKey::new(key.as_bytes().to_vec()), query).is_ok()
}

#[test]
fn rotated_credentials_overlap_then_the_old_ones_stop_working() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::fresh_database(dir.path());
    let hook_port = free_port();
    let hooks = Arc::new(Mutex::new(Vec::new()));
    common::receiver(hook_port, hooks.clone());
    let out = Command::new(env!("CARGO_BIN_EXE_kassa"))
        .args(["merchant", "create", "rot", "--database-url", &db, "--webhook-url", &format!("http://127.0.0.1:{hook_port}/hook")])
        .output()
        .unwrap();
    assert!(out.status.success());
    let creds: Value = serde_json::from_slice(&out.stdout).unwrap();
    let port = free_port();
    let server = common::serve_binary(&db, port, &["--webhook-allow-private", "--webhook-retry-ms", "100"]);
    let s = Setup {
        db,
        base: format!("http://127.0.0.1:{port}"),
        agent: ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into(),
        hooks,
        _dir: dir,
        _server: server,
    };
    let key0 = creds["api_key"].as_str().unwrap().to_string();
    let response0 = creds["response_key"].as_str().unwrap().to_string();
    let secret0 = creds["webhook_secret"].as_str().unwrap().to_string();

    // API key: the old one works during the overlap, not after a rotation without one.
    let r1 = s.kassa(&["merchant", "rotate-key", "rot", "--overlap-mins", "60"]);
    let key1 = r1["api_key"].as_str().unwrap().to_string();
    assert!(r1["overlap_until"].is_string());
    assert!(s.key_works(&key1) && s.key_works(&key0), "both keys during the overlap");
    let key2 = s.kassa(&["merchant", "rotate-key", "rot", "--overlap-mins", "0"])["api_key"].as_str().unwrap().to_string();
    assert!(s.key_works(&key2));
    // A change made by another process reaches a running server within its merchant cache's lifetime.
    settle();
    assert!(!s.key_works(&key1), "no overlap: the previous key stops at once");
    assert!(!s.key_works(&key0), "the key before it too");

    // Webhook secret: deliveries are signed with both during the overlap, with the new one only after.
    let secret1 =
        s.kassa(&["merchant", "rotate-webhook-secret", "rot", "--overlap-mins", "60"])["webhook_secret"].as_str().unwrap().to_string();
    // Response key: the new one is handed out now and signs once its overlap ends.
    let response1 =
        s.kassa(&["merchant", "rotate-response-key", "rot", "--overlap-mins", "60"])["response_key"].as_str().unwrap().to_string();
    let query = s.pay(&key2, "rot1");
    assert!(return_signed_by(&response0, &query), "the old response key signs during the overlap");
    assert!(!return_signed_by(&response1, &query));
    let hook = s.succeeded_hook("rot1");
    assert!(signed_by(&secret1, &hook) && signed_by(&secret0, &hook), "signed with both secrets: {}", hook.0);

    let secret2 =
        s.kassa(&["merchant", "rotate-webhook-secret", "rot", "--overlap-mins", "0"])["webhook_secret"].as_str().unwrap().to_string();
    let response2 =
        s.kassa(&["merchant", "rotate-response-key", "rot", "--overlap-mins", "0"])["response_key"].as_str().unwrap().to_string();
    settle();
    let query = s.pay(&key2, "rot2");
    assert!(return_signed_by(&response2, &query), "no overlap: the new response key signs at once");
    assert!(!return_signed_by(&response0, &query) && !return_signed_by(&response1, &query));
    let hook = s.succeeded_hook("rot2");
    assert!(signed_by(&secret2, &hook), "{}", hook.0);
    assert!(!signed_by(&secret1, &hook) && !signed_by(&secret0, &hook), "the old secrets no longer sign: {}", hook.0);

    // Bad input changes nothing.
    let out =
        Command::new(env!("CARGO_BIN_EXE_kassa")).args(["merchant", "rotate-key", "nobody", "--database-url", &s.db]).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("no merchant nobody"));
    let out = Command::new(env!("CARGO_BIN_EXE_kassa"))
        .args(["merchant", "rotate-key", "rot", "--overlap-mins", "20000", "--database-url", &s.db])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(s.key_works(&key2));

    // In the audit log, without the credentials.
    let out = Command::new(env!("CARGO_BIN_EXE_kassa")).args(["audit", "rot", "--database-url", &s.db]).output().unwrap();
    let log = String::from_utf8(out.stdout).unwrap();
    let actions: Vec<String> =
        log.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["action"].as_str().unwrap().to_string()).collect();
    for a in ["api_key.rotate", "webhook_secret.rotate", "response_key.rotate"] {
        assert_eq!(actions.iter().filter(|x| *x == a).count(), 2, "{a}: {log}");
    }
    for secret in [&key1, &key2, &secret1, &secret2, &response1, &response2] {
        assert!(!log.contains(secret.as_str()), "a credential in the audit log");
    }
}
