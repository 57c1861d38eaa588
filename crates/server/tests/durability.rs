//! Durability: a `kassa serve` process killed with SIGKILL while orders are
//! being created and paid loses nothing it acknowledged, and after a restart
//! delivers the webhooks it had not delivered yet.

#![allow(missing_docs, clippy::unwrap_used)]

mod common;
use common::free_port;

use serde_json::Value;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn serve(db: &str, port: u16) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_kassa"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database-url", db, "--webhook-retry-ms", "50"])
        .env("KASSA_LOG", "error")
        .spawn()
        .unwrap();
    common::wait_for_port(port);
    child
}

fn basic(key: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{key}:")))
}

/// What the server acknowledged before it died.
#[derive(Default)]
struct Acked {
    created: Vec<String>,
    pending: Vec<String>,
    charged: Vec<String>,
}

/// Creates and pays orders until the server stops answering.
fn load(base: &str, key: &str, acked: &Mutex<Acked>) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
    for i in 0.. {
        let order_id = format!("dur{i}");
        let Ok(mut r) = agent
            .post(format!("{base}/orders"))
            .header("authorization", &basic(key))
            .header("content-type", "application/x-www-form-urlencoded")
            .send(format!("order_id={order_id}&amount=10&options.get_client_auth_token=true"))
        else {
            return;
        };
        let Ok(created) = r.body_mut().read_json::<Value>() else { return };
        acked.lock().unwrap().created.push(order_id.clone());
        let token = created["juspay"]["client_auth_token"].as_str().unwrap().to_string();
        let txn = serde_json::json!({
            "order_id": created["id"], "payment_method_type": "CARD", "card_number": "4111111111111111",
            "card_exp_month": "12", "card_exp_year": "2039", "card_security_code": "123", "name_on_card": "A"
        });
        let Ok(mut r) = agent
            .post(format!("{base}/txns"))
            .header("authorization", &format!("Bearer {token}"))
            .header("content-type", "application/json")
            .send(txn.to_string())
        else {
            return;
        };
        let Ok(txn) = r.body_mut().read_json::<Value>() else { return };
        acked.lock().unwrap().pending.push(order_id.clone());
        let bank = txn["payment"]["authentication"]["url"].as_str().unwrap().to_string();
        let Ok(r) = agent.post(&bank).header("content-type", "application/x-www-form-urlencoded").send("otp=123456&action=submit") else {
            return;
        };
        if r.status().as_u16() != 303 {
            return;
        }
        acked.lock().unwrap().charged.push(order_id);
    }
}

#[test]
fn sigkill_loses_nothing_acknowledged_and_webhooks_resume() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::fresh_database(dir.path());
    let hook_port = free_port(); // the receiver stays down until after the restart
    let created = Command::new(env!("CARGO_BIN_EXE_kassa"))
        .args(["merchant", "create", "dur", "--database-url", &db, "--webhook-url", &format!("http://127.0.0.1:{hook_port}/hook")])
        .output()
        .unwrap();
    assert!(created.status.success());
    let creds: Value = serde_json::from_slice(&created.stdout).unwrap();
    let key = creds["api_key"].as_str().unwrap().to_string();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");

    let mut server = serve(&db, port);
    let acked = Arc::new(Mutex::new(Acked::default()));
    let worker = {
        let (base, key, acked) = (base.clone(), key.clone(), acked.clone());
        std::thread::spawn(move || load(&base, &key, &acked))
    };
    // Kill it mid-load, at least a few orders in.
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked.lock().unwrap().charged.len() < 5 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(150));
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    worker.join().unwrap();

    let mut server = serve(&db, port);
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let status = |order_id: &str| -> (u16, Value) {
        let mut r = agent.get(format!("{base}/orders/{order_id}")).header("authorization", &basic(&key)).call().unwrap();
        (r.status().as_u16(), r.body_mut().read_json().unwrap())
    };
    let acked = acked.lock().unwrap();
    assert!(acked.charged.len() >= 5, "the load ran: {} charged", acked.charged.len());
    for o in &acked.created {
        assert_eq!(status(o).0, 200, "acknowledged order {o} is gone");
    }
    for o in &acked.pending {
        let s = status(o).1["status"].as_str().unwrap().to_string();
        assert!(s == "PENDING_VBV" || s == "CHARGED", "{o}: {s}");
    }
    for o in &acked.charged {
        assert_eq!(status(o).1["status"], "CHARGED", "acknowledged charge of {o} is lost");
    }

    // The receiver comes up only now: every event of an acknowledged change arrives.
    let seen = Arc::new(Mutex::new(Vec::new()));
    common::receiver(hook_port, seen.clone());
    let want = acked.pending.len() + acked.charged.len(); // TXN_CREATED + ORDER_SUCCEEDED
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.lock().unwrap().len() < want && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let got = seen.lock().unwrap();
    let mut ids = std::collections::BTreeSet::new();
    let mut succeeded = std::collections::BTreeSet::new();
    for (_, body) in got.iter() {
        let v: Value = serde_json::from_str(body).unwrap();
        ids.insert(v["id"].as_str().unwrap().to_string());
        if v["event_name"] == "ORDER_SUCCEEDED" {
            succeeded.insert(v["content"]["order"]["order_id"].as_str().unwrap().to_string());
        }
    }
    assert!(ids.len() >= want, "{} distinct events delivered, {want} acknowledged changes", ids.len());
    for o in &acked.charged {
        assert!(succeeded.contains(o), "ORDER_SUCCEEDED for {o} was never delivered");
    }
    server.kill().unwrap();
    server.wait().unwrap();
}
