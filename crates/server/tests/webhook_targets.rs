//! Where webhooks may go (issue 18, SSRF): by default only public `https://`
//! receivers. An order's `metadata.webhook_url`, or the merchant's URL,
//! naming a loopback or private address in any spelling is never
//! connected to (the event records why), and plain `http://` is refused;
//! the merchant's Basic credentials go only to the merchant's own webhook
//! origin. `--webhook-allow-private` lets the demo and tests use loopback.

#![allow(missing_docs, clippy::unwrap_used)]

use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;
use common::basic;

type Server = common::M1Server;

/// A server whose merchant's webhook URL is `merchant_url`, with Basic credentials.
fn start(allow_private: bool, merchant_url: String) -> Server {
    common::start_m1(
        "krk_x",
        move |m| {
            m.webhook_url = Some(merchant_url);
            m.webhook_username = Some("shop".into());
            m.webhook_password = Some(kassa_server::secret::Secret::new("hunter2-webhook-password"));
        },
        |db| async { db },
        move |base| kassa_server::Config {
            webhook_allow_private: allow_private,
            webhook_retry_base_ms: 60_000,
            ..common::test_config(base)
        },
    )
}

impl Server {
    fn order(&self, form: &str) {
        let mut r = self.post_as_m1("/orders", form);
        assert_eq!(r.status().as_u16(), 200, "{}", r.body_mut().read_to_string().unwrap());
    }

    /// The order's events once each has been attempted: (url, status, last_error).
    fn attempted(&self, order_id: &str) -> Vec<(String, String, String)> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut r = self
                .agent
                .get(format!("{}/webhooks?order_id={order_id}", self.base))
                .header("authorization", &basic(&self.api_key))
                .call()
                .unwrap();
            let list: Value = r.body_mut().read_json().unwrap();
            let events: Vec<_> = list["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["url"].as_str().unwrap_or_default().to_string(),
                        e["status"].as_str().unwrap_or_default().to_string(),
                        e["last_error"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            if (!events.is_empty() && events.iter().all(|(_, status, error)| status == "delivered" || !error.is_empty()))
                || Instant::now() > deadline
            {
                return events;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl Server {
    /// Every order creation writes ORDER_CREATED from now on.
    fn announce_orders(&self) {
        let mut r = self.post_as_m1("/webhooks/settings", "webhook_events=ORDER_CREATED");
        assert_eq!(r.status().as_u16(), 200, "{}", r.body_mut().read_to_string().unwrap());
    }
}

#[test]
fn webhooks_never_reach_internal_addresses_or_plain_http_by_default() {
    let port = common::free_port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    common::receiver(port, seen.clone());
    let s = start(false, format!("https://127.0.0.1:{port}/hook"));
    s.announce_orders();
    // The merchant's own URL (loopback), then every spelling of loopback and internal
    // addresses through orders' own webhook URLs, and a public address over plain http.
    let targets = [
        None,
        Some(format!("https://127.1:{port}/a")),
        Some(format!("https://0x7f.0.0.1:{port}/b")),
        Some(format!("https://2130706433:{port}/c")),
        Some(format!("https://[::ffff:127.0.0.1]:{port}/d")),
        Some(format!("https://localhost:{port}/e")),
        Some("https://10.0.0.1/f".to_string()),
        Some("https://169.254.169.254/latest/meta-data".to_string()),
    ];
    for (i, target) in targets.iter().enumerate() {
        let hook = target.as_ref().map(|t| format!("&metadata.webhook_url={}", enc(t))).unwrap_or_default();
        s.order(&format!("order_id=ssrf{i}&amount=1{hook}"));
        let events = s.attempted(&format!("ssrf{i}"));
        assert_eq!(events.len(), 1, "{events:?}");
        let (_, status, error) = &events[0];
        assert_eq!(status, "pending", "{target:?}: retried later, never delivered");
        assert!(error.contains("webhooks go to public addresses only"), "{target:?}: {error}");
    }
    s.order(&format!("order_id=ssrfh&amount=1&metadata.webhook_url={}", enc("http://93.184.215.14/plain")));
    let events = s.attempted("ssrfh");
    assert!(events[0].2.contains("must be https://"), "{events:?}");
    assert!(seen.lock().unwrap().is_empty(), "nothing reached the loopback receiver");
}

#[test]
fn basic_credentials_go_only_to_the_merchants_own_webhook_origin() {
    let (own, other) = (common::free_port(), common::free_port());
    let (own_seen, other_seen) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(Vec::new())));
    common::receiver(own, own_seen.clone());
    common::receiver(other, other_seen.clone());
    // Private targets allowed (as in development): the credentials rule still holds.
    let s = start(true, format!("http://127.0.0.1:{own}/hook"));
    s.announce_orders();
    s.order("order_id=cred1&amount=1");
    s.order(&format!("order_id=cred2&amount=1&metadata.webhook_url={}", enc(&format!("http://127.0.0.1:{other}/elsewhere"))));
    assert_eq!(s.attempted("cred1")[0].1, "delivered");
    assert_eq!(s.attempted("cred2")[0].1, "delivered");
    let own_seen = own_seen.lock().unwrap();
    let other_seen = other_seen.lock().unwrap();
    assert_eq!((own_seen.len(), other_seen.len()), (1, 1));
    assert!(own_seen[0].0.contains(&format!("authorization: {}", basic_pair("shop", "hunter2-webhook-password"))), "{}", own_seen[0].0);
    assert!(!other_seen[0].0.contains("authorization:"), "no credentials to another origin: {}", other_seen[0].0);
    assert!(other_seen[0].0.contains("kassa-signature:"), "still signed: {}", other_seen[0].0);
}

fn basic_pair(user: &str, pass: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}")))
}

/// A receiver that accepts connections and never answers.
fn black_hole() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    port
}

#[test]
fn a_receiver_that_never_answers_delays_no_other_merchant() {
    let hole = black_hole();
    let port = common::free_port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    common::receiver(port, seen.clone());
    let dir = tempfile::tempdir().unwrap();
    let url = common::fresh_database(dir.path());
    let (server, keys) = common::serve_in_process(
        url,
        move |db| async move {
            let mut keys = Vec::new();
            for (id, hook) in [("stuck", format!("http://127.0.0.1:{hole}/hook")), ("fine", format!("http://127.0.0.1:{port}/hook"))] {
                let api_key = kassa_server::random_id("ksk_");
                let mut m = common::test_merchant(id, &api_key, "krk_x");
                m.webhook_url = Some(hook);
                db.create_merchant(&m).await.unwrap();
                keys.push(api_key);
            }
            (db, keys)
        },
        |base| kassa_server::Config { webhook_allow_private: true, ..common::test_config(base) },
    );
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let post = |key: &str, path: &str, form: &str| {
        let r = agent
            .post(format!("{}{path}", server.base))
            .header("authorization", &basic(key))
            .header("content-type", "application/x-www-form-urlencoded")
            .send(form)
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    };
    for key in &keys {
        post(key, "/webhooks/settings", "webhook_events=ORDER_CREATED");
    }
    // The stuck merchant's receiver swallows 40 events (each delivery waits out its 10 s timeout) …
    for i in 0..40 {
        post(&keys[0], "/orders", &format!("order_id=stuck{i}&amount=1"));
    }
    std::thread::sleep(Duration::from_millis(200));
    // … while the other merchant's events arrive at once.
    let started = Instant::now();
    for i in 0..5 {
        post(&keys[1], "/orders", &format!("order_id=fine{i}&amount=1"));
    }
    let deadline = Instant::now() + Duration::from_secs(8);
    while seen.lock().unwrap().len() < 5 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(seen.lock().unwrap().len(), 5, "the other merchant's events were held up behind a stalled receiver");
    eprintln!("the other merchant's 5 events arrived within {:?}", started.elapsed());
}
