//! Durability: a `kassa serve` process killed with SIGKILL while orders are
//! being created, paid and refunded loses nothing it acknowledged, keeps every
//! order consistent (no CHARGED order without its transaction, no refund above
//! what was paid), and after a restart delivers the webhooks it had not
//! delivered yet; again and again.

#![allow(missing_docs, clippy::unwrap_used)]

mod common;
use common::basic;
use common::free_port;

use serde_json::Value;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn serve(db: &str, port: u16) -> common::Running {
    serve_with(db, port, &[])
}

/// `kassa serve` with these flags too.
fn serve_with(db: &str, port: u16, extra: &[&str]) -> common::Running {
    // Webhooks to this machine; the load pays from one address.
    let mut flags = vec!["--webhook-retry-ms", "50", "--webhook-allow-private", "--txns-per-minute-per-address", "1000000"];
    flags.extend(["--txns-per-minute-per-token", "1000000"]);
    flags.extend(extra);
    common::serve_binary(db, port, &flags)
}

/// Starts a card attempt on the order `POST /orders` answered `created` (with its client token): the `POST /txns` answer.
fn card_attempt(agent: &ureq::Agent, base: &str, created: &Value, card: &str) -> Value {
    let token = created["juspay"]["client_auth_token"].as_str().unwrap();
    let txn = serde_json::json!({
        "order_id": created["id"], "payment_method_type": "CARD", "card_number": card,
        "card_exp_month": "12", "card_exp_year": "2039", "card_security_code": "123", "name_on_card": "A"
    });
    let mut r = agent
        .post(format!("{base}/txns"))
        .header("authorization", &format!("Bearer {token}"))
        .header("content-type", "application/json")
        .send(txn.to_string())
        .unwrap();
    r.body_mut().read_json().unwrap()
}

/// Creates merchant `id` with the CLI: its API key.
fn create_merchant(db: &str, id: &str) -> String {
    create_merchant_with(db, id, &[])
}

/// Creates merchant `id` with the CLI and these flags too: its API key.
fn create_merchant_with(db: &str, id: &str, extra: &[&str]) -> String {
    let created =
        Command::new(env!("CARGO_BIN_EXE_kassa")).args(["merchant", "create", id, "--database-url", db]).args(extra).output().unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    serde_json::from_slice::<Value>(&created.stdout).unwrap()["api_key"].as_str().unwrap().to_string()
}

/// A request with merchant `key`'s API key (a form body): status and JSON answer.
fn api_call(agent: &ureq::Agent, base: &str, key: &str, method: &str, path: &str, form: &str) -> (u16, Value) {
    let req = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{base}{path}"))
        .header("authorization", basic(key))
        .header("content-type", "application/x-www-form-urlencoded");
    let mut r = agent.run(req.body(form.to_string()).unwrap()).unwrap();
    (r.status().as_u16(), serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap())
}

/// What the server acknowledged before it died.
#[derive(Default)]
struct Acked {
    created: Vec<String>,
    pending: Vec<String>,
    charged: Vec<String>,
    /// (order id, unique_request_id, amount in rupees).
    refunds: Vec<(String, String, u32)>,
}

/// Creates and pays orders (order ids `{prefix}{n}`), and with `refund`
/// refunds each paid one in three steps of 4 of its 10 (the third must be
/// refused), until the server stops answering.
fn load(base: &str, key: &str, acked: &Mutex<Acked>, prefix: &str, refund: bool) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
    for i in 0.. {
        let order_id = format!("{prefix}{i}");
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
        acked.lock().unwrap().charged.push(order_id.clone());
        if !refund {
            continue;
        }
        for step in 0..3 {
            let req_id = format!("{order_id}r{step}");
            let Ok(r) = agent
                .post(format!("{base}/orders/{order_id}/refunds"))
                .header("authorization", &basic(key))
                .header("content-type", "application/x-www-form-urlencoded")
                .send(format!("unique_request_id={req_id}&amount=4"))
            else {
                return;
            };
            match (step, r.status().as_u16()) {
                (0 | 1, 200) => acked.lock().unwrap().refunds.push((order_id.clone(), req_id, 4)),
                (2, 400 | 409) => {}
                (_, code) => panic!("refund {req_id}: HTTP {code}"),
            }
        }
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
        std::thread::spawn(move || load(&base, &key, &acked, "dur", false))
    };
    // Kill it mid-load, at least a few orders in.
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked.lock().unwrap().charged.len() < 5 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(150));
    server.kill(); // SIGKILL
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
    // What has arrived: distinct event ids, and the orders with ORDER_SUCCEEDED.
    let delivered = || {
        let mut ids = std::collections::BTreeSet::new();
        let mut succeeded = std::collections::BTreeSet::new();
        for (_, body) in seen.lock().unwrap().iter() {
            let v: Value = serde_json::from_str(body).unwrap();
            ids.insert(v["id"].as_str().unwrap().to_string());
            if v["event_name"] == "ORDER_SUCCEEDED" {
                succeeded.insert(v["content"]["order"]["order_id"].as_str().unwrap().to_string());
            }
        }
        (ids, succeeded)
    };
    // Wait for every acknowledged change, not for a count: changes committed
    // just before the kill (never acknowledged) have events too, and can make
    // up the count while an acknowledged one is still on its way.
    // The oldest events have backed off the most (doubling from 50 ms while
    // the receiver was down), so they come last.
    let deadline = Instant::now() + Duration::from_secs(60);
    let (ids, succeeded) = loop {
        let (ids, succeeded) = delivered();
        let all_in = ids.len() >= want && acked.charged.iter().all(|o| succeeded.contains(o));
        if all_in || Instant::now() > deadline {
            break (ids, succeeded);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(ids.len() >= want, "{} distinct events delivered, {want} acknowledged changes", ids.len());
    for o in &acked.charged {
        assert!(succeeded.contains(o), "ORDER_SUCCEEDED for {o} was never delivered");
    }
    server.kill();
}

fn get_order(agent: &ureq::Agent, base: &str, key: &str, order_id: &str) -> (u16, Value) {
    let mut r = agent.get(format!("{base}/orders/{order_id}")).header("authorization", &basic(key)).call().unwrap();
    (r.status().as_u16(), r.body_mut().read_json().unwrap())
}

#[test]
fn repeated_sigkill_under_mixed_load_keeps_every_acknowledged_write_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::fresh_database(dir.path());
    let key = create_merchant(&db, "crash");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let acked = Arc::new(Mutex::new(Acked::default()));

    for round in 0..5 {
        let mut server = serve(&db, port);
        // Two clients at once: one pays and refunds, one only pays.
        let workers: Vec<_> = [("m", true), ("p", false)]
            .into_iter()
            .map(|(kind, refund)| {
                let (base, key, acked) = (base.clone(), key.clone(), acked.clone());
                std::thread::spawn(move || load(&base, &key, &acked, &format!("c{round}{kind}"), refund))
            })
            .collect();
        let target = acked.lock().unwrap().charged.len() + 4;
        let deadline = Instant::now() + Duration::from_secs(30);
        while acked.lock().unwrap().charged.len() < target && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        // A different moment of the load each round.
        std::thread::sleep(Duration::from_millis(37 * (round + 1)));
        server.kill(); // SIGKILL
        for w in workers {
            w.join().unwrap();
        }

        // After the restart: everything acknowledged in any round is there and consistent.
        let mut server = serve(&db, port);
        let acked = acked.lock().unwrap();
        assert!(acked.charged.len() >= 4 * (round as usize + 1), "round {round}: the load ran");
        for o in &acked.created {
            let (code, order) = get_order(&agent, &base, &key, o);
            assert_eq!(code, 200, "round {round}: acknowledged order {o} is gone");
            let paid = order["amount"].as_f64().unwrap();
            let refunded = order["amount_refunded"].as_f64().unwrap_or(0.0);
            assert!(refunded <= paid, "round {round}: {o} refunded {refunded} of {paid}");
            if order["status"] == "CHARGED" || refunded > 0.0 {
                assert!(order["txn_id"].is_string(), "round {round}: {o} is {} without a transaction", order["status"]);
            }
        }
        for o in &acked.charged {
            let (_, order) = get_order(&agent, &base, &key, o);
            assert!(
                order["status"] == "CHARGED" || order["amount_refunded"].as_f64().unwrap_or(0.0) > 0.0,
                "round {round}: the acknowledged charge of {o} is lost: {}",
                order["status"]
            );
        }
        for (o, req_id, amount) in &acked.refunds {
            let (_, order) = get_order(&agent, &base, &key, o);
            let found = order["refunds"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["unique_request_id"] == req_id.as_str() && r["amount"].as_f64() == Some(f64::from(*amount)));
            assert!(found, "round {round}: acknowledged refund {req_id} is gone: {order}");
        }
        server.kill();
    }
    assert!(!acked.lock().unwrap().refunds.is_empty(), "refunds ran");
}

/// The payment flow's steps each commit on their own; a server killed
/// between them leaves states a restart resolves: an attempt the bank is
/// authorizing settles after the restart (its settlement is stored with it),
/// an attempt whose bank page nobody answers fails when its order expires,
/// and a late answer on the bank page still changes nothing.
#[test]
fn a_restart_resolves_attempts_left_between_steps() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::fresh_database(dir.path());
    let key = create_merchant(&db, "steps");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = serve(&db, port);
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
    let start = |order_id: &str, card: &str| -> (String, String) {
        let mut r = agent
            .post(format!("{base}/orders"))
            .header("authorization", &basic(&key))
            .header("content-type", "application/x-www-form-urlencoded")
            .send(format!("order_id={order_id}&amount=10&options.get_client_auth_token=true"))
            .unwrap();
        let created: Value = r.body_mut().read_json().unwrap();
        let txn = card_attempt(&agent, &base, &created, card);
        (txn["payment"]["authentication"]["url"].as_str().unwrap().to_string(), created["id"].as_str().unwrap().to_string())
    };
    // Killed after the OTP was accepted, while the bank authorizes.
    let (bank, _) = start("auth1", "4000000000000119");
    let r = agent.post(&bank).header("content-type", "application/x-www-form-urlencoded").send("otp=123456&action=submit").unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let authorizing = {
        let mut r = agent.get(format!("{base}/orders/auth1")).header("authorization", &basic(&key)).call().unwrap();
        r.body_mut().read_json::<Value>().unwrap()["status"].as_str().unwrap().to_string()
    };
    assert_eq!(authorizing, "AUTHORIZING", "killed while the bank authorizes");
    // Killed after the attempt was recorded, before the shopper answered its bank page.
    let (abandoned_bank, abandoned_pk) = start("open1", "4111111111111111");
    server.kill();
    // That order expires while the server is down.
    common::execute_sql(&db, &format!("UPDATE orders SET expires_at = 1 WHERE id = '{abandoned_pk}'"));
    common::execute_sql(&db, &format!("UPDATE txns SET settle_at = 1 WHERE order_pk = '{abandoned_pk}'"));

    let mut server = serve(&db, port);
    let status = |order_id: &str| -> String {
        let mut r = agent.get(format!("{base}/orders/{order_id}")).header("authorization", &basic(&key)).call().unwrap();
        r.body_mut().read_json::<Value>().unwrap()["status"].as_str().unwrap().to_string()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while (status("auth1") != "CHARGED" || status("open1") != "AUTHENTICATION_FAILED") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(status("auth1"), "CHARGED", "the authorizing attempt settled after the restart");
    assert_eq!(status("open1"), "AUTHENTICATION_FAILED", "the unanswered bank page failed with its order's expiry");
    // The shopper comes back to the old bank page: the answer is too late and changes nothing.
    let r =
        agent.post(&abandoned_bank).header("content-type", "application/x-www-form-urlencoded").send("otp=123456&action=submit").unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(status("open1"), "AUTHENTICATION_FAILED");
    server.kill();
}

/// Pre-authorization (issue 19): a server killed with SIGKILL after it sent
/// a capture and a void to a gateway that answers late (test card 4000 0000
/// 0000 3220), before the answers came, resolves both after a restart: the
/// capture is applied once (one webhook; a repeat of it answers the same, a
/// second capture is refused), the void too.
#[test]
fn a_restart_resolves_captures_and_voids_the_gateway_had_not_answered() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::fresh_database(dir.path());
    let key = create_merchant(&db, "holds");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let serve = || serve_with(&db, port, &["--sandbox-delay-ms", "1500"]);
    let mut server = serve();
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
    let api = |method: &str, path: &str, form: &str| api_call(&agent, &base, &key, method, path, form);
    let hold = |order_id: &str| -> String {
        let (_, created) = api(
            "POST",
            "/orders",
            &format!(
                "order_id={order_id}&amount=10&options.get_client_auth_token=true&metadata.txns.auto_capture=false\
                 &metadata.webhook_url=http%3A%2F%2F127.0.0.1%3A9%2Fhook"
            ),
        );
        let txn = card_attempt(&agent, &base, &created, "4000000000003220");
        let bank = txn["payment"]["authentication"]["url"].as_str().unwrap();
        let r = agent.post(bank).header("content-type", "application/x-www-form-urlencoded").send("otp=123456&action=submit").unwrap();
        assert_eq!(r.status().as_u16(), 303);
        txn["txn_uuid"].as_str().unwrap().to_string()
    };
    let captured = hold("hold1");
    let voided = hold("hold2");
    assert_eq!(api("GET", "/orders/hold1", "").1["status"], "AUTHORIZED");
    let (code, body) = api("POST", &format!("/v2/txns/{captured}/capture"), "amount=6&idempotence_key=once");
    assert_eq!((code, body["status"].as_str()), (200, Some("CAPTURE_INITIATED")), "{body}");
    let (code, body) = api("POST", &format!("/v2/txns/{voided}/void"), "");
    assert_eq!((code, body["status"].as_str()), (200, Some("VOID_INITIATED")), "{body}");
    server.kill(); // SIGKILL before the gateway's answers.

    let mut server = serve();
    let status = |order_id: &str| api("GET", &format!("/orders/{order_id}"), "").1["status"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    while (status("hold1") != "PARTIAL_CHARGED" || status("hold2") != "VOIDED") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(status("hold1"), "PARTIAL_CHARGED", "the capture was applied after the restart");
    assert_eq!(status("hold2"), "VOIDED", "the void was applied after the restart");
    // Captured once: the same request answers the same, another capture is refused, one webhook.
    let (code, body) = api("POST", &format!("/v2/txns/{captured}/capture"), "amount=6&idempotence_key=once");
    assert_eq!((code, body["status"].as_str(), body["effective_amount"].as_f64()), (200, Some("PARTIAL_CHARGED"), Some(6.0)), "{body}");
    let (code, body) = api("POST", &format!("/v2/txns/{captured}/capture"), "amount=4&idempotence_key=again");
    assert_eq!((code, body["error_message"].as_str()), (400, Some("Cannot Capture CHARGED Transaction")), "{body}");
    let events = common::query_strings(
        &db,
        "SELECT e.event_name FROM webhook_events e JOIN orders o ON o.id = e.order_pk \
         WHERE o.order_id = 'hold1' AND e.event_name = 'ORDER_PARTIAL_CHARGED'",
    );
    assert_eq!(events.len(), 1, "{events:?}");
    server.kill();
}

/// Stored instruments (issue 15): a mandate debit, a pre-debit notification,
/// a pause and a revocation acknowledged just before a SIGKILL are all there
/// after the restart: the debit and the notification are settled by the
/// restarted server, the pause holds and declines the debit scheduled
/// before it, and every event reaches the merchant.
#[test]
fn mandate_debits_and_state_changes_acknowledged_before_a_kill_survive_it_with_their_webhooks() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::fresh_database(dir.path());
    let hook_port = free_port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    common::receiver(hook_port, seen.clone());
    let key = create_merchant_with(&db, "mdt", &["--webhook-url", &format!("http://127.0.0.1:{hook_port}/hook")]);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let serve = || serve_with(&db, port, &["--sandbox-delay-ms", "1500"]);
    let mut server = serve();
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
    let api = |method: &str, path: &str, form: &str| api_call(&agent, &base, &key, method, path, form);
    let wait = |order_id: &str, status: &str| {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (_, v) = api("GET", &format!("/orders/{order_id}"), "");
            if v["status"] == status {
                return v;
            }
            assert!(Instant::now() < deadline, "{order_id} never became {status}: {v}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let (_, order) = api(
        "POST",
        "/orders",
        "order_id=reg&amount=1&customer_id=c1&options.get_client_auth_token=true&options.create_mandate=REQUIRED\
         &mandate.max_amount=500&mandate.frequency=ASPRESENTED",
    );
    let txn = card_attempt(&agent, &base, &order, "4111111111111111");
    let bank = txn["payment"]["authentication"]["url"].as_str().unwrap();
    assert_eq!(
        agent
            .post(bank)
            .header("content-type", "application/x-www-form-urlencoded")
            .send("otp=123456&action=submit")
            .unwrap()
            .status()
            .as_u16(),
        303
    );
    let id = wait("reg", "CHARGED")["mandate"]["mandate_id"].as_str().unwrap().to_string();

    // Acknowledged, then killed before the sandbox settles the debit and answers the notification.
    let (code, v) = api("POST", "/txns", &format!("mandate_id={id}&order.order_id=debit1&order.amount=250&order.customer_id=c1"));
    assert_eq!((code, v["status"].as_str()), (200, Some("PENDING_VBV")), "{v}");
    let source = "%7B%22amount%22%3A%22100.00%22%2C%22txn_date%22%3A%222000000000%22%7D";
    let (code, v) =
        api("POST", &format!("/mandates/{id}"), &format!("command=pre_debit_notify&object_reference_id=n1&source_info={source}"));
    assert_eq!((code, v["status"].as_str()), (200, Some("PENDING")), "{v}");
    server.kill(); // SIGKILL

    let mut server = serve();
    let debit = wait("debit1", "CHARGED");
    assert_eq!(debit["mandate"]["mandate_id"], id.as_str(), "{debit}");
    // A debit scheduled for later, then a pause acknowledged before a kill: the pause holds and declines the debit.
    let later = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 2 * 86_400;
    let (code, v) = api(
        "POST",
        "/txns",
        &format!("mandate_id={id}&order.order_id=debit2&order.amount=5&order.customer_id=c1&mandate.execution_date={later}"),
    );
    assert_eq!((code, v["status"].as_str()), (200, Some("PENDING_VBV")), "{v}");
    let (code, v) = api("POST", &format!("/mandates/{id}"), "command=pause");
    assert_eq!((code, v["status"].as_str()), (200, Some("PAUSED")), "{v}");
    server.kill();

    let mut server = serve();
    let declined = wait("debit2", "JUSPAY_DECLINED");
    assert_eq!(declined["mandate"]["mandate_status"], "PAUSED", "the pause held: {declined}");
    let (_, status) = api("POST", &format!("/mandates/{id}"), "command=check_status");
    assert_eq!(status["status"], "PAUSED");
    let events = |name: &str| seen.lock().unwrap().iter().filter(|(_, b)| b.contains(&format!("\"event_name\":\"{name}\""))).count();
    let deadline = Instant::now() + Duration::from_secs(30);
    let names = ["MANDATE_CREATED", "MANDATE_ACTIVATED", "MANDATE_PAUSED", "NOTIFICATION_SUCCEEDED", "ORDER_SUCCEEDED", "ORDER_FAILED"];
    while names.iter().any(|n| events(n) == 0) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    for n in names {
        assert!(events(n) >= 1, "{n} never arrived");
    }
    assert_eq!(events("ORDER_SUCCEEDED"), 2, "the registration and the debit, once each");
    // A revocation acknowledged before a kill holds after it.
    let (code, _) = api("POST", &format!("/mandates/{id}"), "command=revoke");
    assert_eq!(code, 200);
    server.kill();
    let mut server = serve();
    let (code, v) = api("POST", "/txns", &format!("mandate_id={id}&order.order_id=debit3&order.amount=5&order.customer_id=c1"));
    assert_eq!((code, v["error_code"].as_str()), (400, Some("JP_852")), "{v}");
    server.kill();
}
