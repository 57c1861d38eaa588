//! The merchant dashboard's API (issue 16, SPEC §9): users added with the
//! CLI, sign-in and its refusals (wrong password, throttled guessing,
//! session fixation, idle expiry, sign-out), CSRF and roles on every write,
//! one merchant's data only, the order search with its filters and pages,
//! refunds and webhook redelivery through the API's own rules, and the
//! audit log naming the user. SQLite, or PostgreSQL with `KASSA_TEST_POSTGRES`.

#![allow(missing_docs, clippy::unwrap_used)]

mod common;
use common::{Shifted, basic, free_port, query_strings};

use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const M2_KEY: &str = "ksk_m2_dashboard_test_key_000000";
const PASSWORD: &str = "correct horse battery staple";

struct Kassa {
    s: common::M1Server,
    clock: Arc<Shifted>,
    /// What m1's webhook receiver got: (head, body).
    hooks: Arc<Mutex<Vec<(String, String)>>>,
}

fn start() -> Kassa {
    let (s, clock, hooks) = common::start_m1_m2("krk_dashboard", M2_KEY, 200);
    let k = Kassa { s, clock, hooks };
    k.user("m1", "Admin@Shop.example", "admin");
    k.user("m1", "viewer@shop.example", "viewer");
    k.user("m2", "other@m2.example", "admin");
    k
}

/// A browser: its cookie and CSRF token.
#[derive(Clone, Default)]
struct Browser {
    cookie: Option<String>,
    csrf: String,
}

impl Kassa {
    /// `kassa user add` (the password from the environment).
    fn user(&self, merchant: &str, email: &str, role: &str) {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kassa"))
            .args(["user", "add", merchant, "--email", email, "--role", role, "--database-url", &self.s.db_url])
            .env("KASSA_USER_PASSWORD", PASSWORD)
            .env_remove("KASSA_DATABASE_URL")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(!String::from_utf8_lossy(&out.stdout).contains(PASSWORD));
    }

    fn call(&self, b: &Browser, method: &str, path: &str, body: Option<Value>, csrf: bool) -> (u16, Value, Option<String>) {
        let mut req = ureq::http::Request::builder().method(method).uri(format!("{}{path}", self.s.base));
        if let Some(c) = &b.cookie {
            req = req.header("cookie", format!("kassa_dashboard={c}"));
        }
        if csrf {
            req = req.header("x-csrf-token", &b.csrf);
        }
        let body = match body {
            Some(v) => {
                req = req.header("content-type", "application/json");
                v.to_string()
            }
            None => String::new(),
        };
        let mut resp = self.s.agent.run(req.body(body).unwrap()).unwrap();
        let set = resp.headers().get("set-cookie").map(|v| v.to_str().unwrap().to_string());
        let text = resp.body_mut().read_to_string().unwrap();
        (resp.status().as_u16(), serde_json::from_str(&text).unwrap_or(Value::String(text)), set)
    }

    fn sign_in_as(&self, b: &Browser, email: &str, password: &str) -> (u16, Value, Browser) {
        let (code, v, set) = self.call(b, "POST", "/dashboard/api/sign-in", Some(json!({ "email": email, "password": password })), false);
        let cookie = set.as_deref().and_then(|s| s.split(';').next()).and_then(|c| c.split_once('=')).map(|(_, v)| v.to_string());
        (code, v.clone(), Browser { cookie: cookie.or(b.cookie.clone()), csrf: v["csrf_token"].as_str().unwrap_or_default().to_string() })
    }

    fn sign_in(&self, email: &str) -> Browser {
        let (code, v, b) = self.sign_in_as(&Browser::default(), email, PASSWORD);
        assert_eq!(code, 200, "{v}");
        b
    }

    fn api(&self, key: &str, path: &str, form: &str) -> (u16, Value) {
        let mut resp = self
            .s
            .agent
            .post(format!("{}{path}", self.s.base))
            .header("authorization", &basic(key))
            .header("content-type", "application/x-www-form-urlencoded")
            .send(form)
            .unwrap();
        let text = resp.body_mut().read_to_string().unwrap();
        (resp.status().as_u16(), serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    fn status(&self, order_id: &str) -> Value {
        let mut resp =
            self.s.agent.get(format!("{}/orders/{order_id}", self.s.base)).header("authorization", &basic(&self.s.api_key)).call().unwrap();
        serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap()
    }

    /// A CHARGED order of m1 (card through the sandbox bank page; AUTHORIZED for a hold).
    fn charged(&self, order_id: &str, amount: &str, extra: &str) {
        self.pay_by_card(order_id, amount, extra);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !["CHARGED", "AUTHORIZED"].contains(&self.status(order_id)["status"].as_str().unwrap_or_default()) {
            assert!(Instant::now() < deadline, "{order_id} never charged");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A new order of m1 paid by card through the sandbox bank page: the bank's answer.
    fn pay_by_card(&self, order_id: &str, amount: &str, extra: &str) -> ureq::http::Response<ureq::Body> {
        self.pay_by_card_with(order_id, amount, extra, json!({}))
    }

    /// [`Kassa::pay_by_card`] with more `POST /txns` fields (`save_to_locker`).
    fn pay_by_card_with(&self, order_id: &str, amount: &str, extra: &str, more: Value) -> ureq::http::Response<ureq::Body> {
        let (code, v) =
            self.api(&self.s.api_key, "/orders", &format!("order_id={order_id}&amount={amount}&options.get_client_auth_token=true{extra}"));
        assert_eq!(code, 200, "{v}");
        let mut body = common::card_fields("4111111111111111");
        body.as_object_mut().unwrap().extend(more.as_object().unwrap().clone());
        body["order_id"] = v["id"].clone();
        let mut resp = self
            .s
            .agent
            .post(format!("{}/txns", self.s.base))
            .header("authorization", &format!("Bearer {}", v["juspay"]["client_auth_token"].as_str().unwrap()))
            .header("content-type", "application/json")
            .send(body.to_string())
            .unwrap();
        let txn: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
        common::submit_otp(&self.s.agent, txn["payment"]["authentication"]["url"].as_str().unwrap()).unwrap()
    }

    fn search(&self, b: &Browser, query: &str) -> Vec<String> {
        let (code, v, _) = self.call(b, "GET", &format!("/dashboard/api/orders?{query}"), None, false);
        assert_eq!(code, 200, "{query}: {v}");
        v["orders"].as_array().unwrap().iter().map(|o| o["order_id"].as_str().unwrap().to_string()).collect()
    }
}

#[test]
fn sign_in_is_refused_throttled_rotated_and_ends_when_idle_or_signed_out() {
    let k = start();
    let nobody = Browser::default();
    // Not signed in: nothing but the shell and the sign-in.
    let (code, v, _) = k.call(&nobody, "GET", "/dashboard/api/me", None, false);
    assert_eq!((code, v["error_code"].as_str()), (401, Some("access_denied")), "{v}");
    let (code, page, _) = k.call(&nobody, "GET", "/dashboard/orders/anything", None, false);
    assert_eq!(code, 200);
    assert!(page.as_str().unwrap().contains("/assets/dashboard/boot.js"));
    let (code, v, _) = k.call(&nobody, "GET", "/dashboard/api/nonesuch", None, false);
    assert_eq!(code, 404, "{v}");

    // Wrong password and unknown email: the same answer, no cookie.
    let (code, v, _) = k.sign_in_as(&nobody, "admin@shop.example", "wrong password!");
    assert_eq!((code, v["error_message"].as_str()), (401, Some("wrong email or password")));
    let (code, v, b) = k.sign_in_as(&nobody, "nobody@shop.example", PASSWORD);
    assert_eq!((code, v["error_message"].as_str(), b.cookie), (401, Some("wrong email or password"), None));
    // A form post (what a cross-site page can send) is no sign-in.
    let resp =
        k.s.agent
            .post(format!("{}/dashboard/api/sign-in", k.s.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .send(format!("email=admin%40shop.example&password={PASSWORD}"))
            .unwrap();
    assert_eq!(resp.status().as_u16(), 400);

    // Signed in (the email in any case): an HttpOnly, SameSite=Strict cookie; who and which merchant.
    let (code, v, set) =
        k.call(&nobody, "POST", "/dashboard/api/sign-in", Some(json!({ "email": " ADMIN@shop.example ", "password": PASSWORD })), false);
    assert_eq!(code, 200, "{v}");
    let set = set.unwrap();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/dashboard"), "{set}");
    assert!(!set.contains("Secure"), "plain http on loopback: {set}");
    assert_eq!(
        (v["role"].as_str(), v["merchant_id"].as_str(), v["email"].as_str()),
        (Some("admin"), Some("m1"), Some("admin@shop.example"))
    );
    let admin = k.sign_in("admin@shop.example");
    let (code, me, _) = k.call(&admin, "GET", "/dashboard/api/me", None, false);
    assert_eq!((code, me["email"].as_str()), (200, Some("admin@shop.example")));

    // Session fixation: a cookie the browser had before signing in is never the signed-in session.
    let planted = Browser { cookie: Some("kds_planted_by_an_attacker".into()), csrf: String::new() };
    let (code, _, fresh) = k.sign_in_as(&planted, "admin@shop.example", PASSWORD);
    assert_eq!(code, 200);
    assert_ne!(fresh.cookie, planted.cookie);
    assert_eq!(k.call(&planted, "GET", "/dashboard/api/me", None, false).0, 401);
    // Signing in again from a signed-in browser ends its old session.
    let (_, _, again) = k.sign_in_as(&admin, "admin@shop.example", PASSWORD);
    assert_ne!(again.cookie, admin.cookie);
    assert_eq!(k.call(&admin, "GET", "/dashboard/api/me", None, false).0, 401, "the old session is over");
    assert_eq!(k.call(&again, "GET", "/dashboard/api/me", None, false).0, 200);

    // Sign-out needs the CSRF token, then ends the session.
    assert_eq!(k.call(&again, "POST", "/dashboard/api/sign-out", Some(json!({})), false).0, 403);
    let (code, _, set) = k.call(&again, "POST", "/dashboard/api/sign-out", Some(json!({})), true);
    assert_eq!(code, 200);
    assert!(set.unwrap().contains("Max-Age=0"));
    assert_eq!(k.call(&again, "GET", "/dashboard/api/me", None, false).0, 401);

    // Idle for longer than the idle timeout: signed out.
    let idle = k.sign_in("viewer@shop.example");
    k.clock.0.fetch_add(kassa_server::dashboard::IDLE_MS - 60_000, Ordering::SeqCst);
    assert_eq!(k.call(&idle, "GET", "/dashboard/api/me", None, false).0, 200, "used within the timeout: kept");
    k.clock.0.fetch_add(kassa_server::dashboard::IDLE_MS + 1000, Ordering::SeqCst);
    assert_eq!(k.call(&idle, "GET", "/dashboard/api/me", None, false).0, 401, "idle too long");

    // Guessing one user's password: at most 5 sign-ins a minute for one email (counted before the
    // password is checked, so concurrent guesses count too), then refused even with the right one.
    let codes: Vec<u16> = std::thread::scope(|scope| {
        let guesses: Vec<_> = (0..8).map(|_| scope.spawn(|| k.sign_in_as(&nobody, "viewer@shop.example", "guess guess guess").0)).collect();
        guesses.into_iter().map(|g| g.join().unwrap()).collect()
    });
    assert_eq!(codes.iter().filter(|c| **c == 401).count(), 4, "the viewer signed in once this minute: {codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 429).count(), 4, "{codes:?}");
    let (code, v, b) = k.sign_in_as(&nobody, "viewer@shop.example", PASSWORD);
    assert_eq!((code, v["error_code"].as_str(), b.cookie), (429, Some("too_many_failed_logins"), None), "{v}");

    // The audit log names the user; no password or session anywhere in it.
    let audit = query_strings(&k.s.db_url, "SELECT actor || ' ' || action || ' ' || COALESCE(target, '') FROM audit_events");
    assert!(audit.iter().any(|a| a == "user:admin@shop.example dashboard.sign_in admin@shop.example"), "{audit:?}");
    assert!(audit.iter().any(|a| a.starts_with("cli:") && a.contains("user.add viewer@shop.example")), "{audit:?}");
    assert!(audit.iter().all(|a| !a.contains(PASSWORD) && !a.contains("kds_")));
    let stored = query_strings(&k.s.db_url, "SELECT password_hash || ' ' || email FROM dashboard_users");
    assert!(stored.iter().all(|s| s.starts_with("$argon2id$") && !s.contains(PASSWORD)), "{stored:?}");
    let sessions = query_strings(&k.s.db_url, "SELECT token_hash FROM dashboard_sessions");
    assert!(sessions.iter().all(|s| s.len() == 64 && !s.starts_with("kds_")), "{sessions:?}");
}

#[test]
fn orders_are_searched_filtered_and_paged_within_the_users_merchant() {
    let k = start();
    for (i, (amount, customer, email, phone)) in [
        ("10.00", "cust_a", "a@x.example", "9000000001"),
        ("20.00", "cust_b", "b@x.example", "9000000002"),
        ("30.00", "cust_a", "c@x.example", "9000000003"),
        ("40.00", "cust_c", "d@x.example", "9000000004"),
        ("50.00", "cust_c", "e@x.example", "9000000005"),
    ]
    .iter()
    .enumerate()
    {
        let (code, v) = k.api(
            &k.s.api_key,
            "/orders",
            &format!("order_id=Ord-{i}&amount={amount}&customer_id={customer}&customer_email={email}&customer_phone={phone}"),
        );
        assert_eq!(code, 200, "{v}");
        std::thread::sleep(Duration::from_millis(3));
    }
    k.charged("paid-1", "99.00", "&customer_id=cust_p");
    let txn_uuid = k.status("paid-1")["txn_uuid"].as_str().unwrap().to_string();
    assert_eq!(k.api(M2_KEY, "/orders", "order_id=theirs&amount=5.00&customer_id=cust_a").0, 200);

    let b = k.sign_in("viewer@shop.example");
    assert_eq!(k.search(&b, ""), ["paid-1", "Ord-4", "Ord-3", "Ord-2", "Ord-1", "Ord-0"], "newest first, m1's only");
    assert_eq!(k.search(&b, "q=ord-2"), ["Ord-2"], "order id, in any case");
    assert_eq!(k.search(&b, "q=cust_a"), ["Ord-2", "Ord-0"], "customer id");
    assert_eq!(k.search(&b, "q=C%40x.example"), ["Ord-2"], "email");
    assert_eq!(k.search(&b, "q=9000000004"), ["Ord-3"], "phone");
    assert_eq!(k.search(&b, &format!("q={txn_uuid}")), ["paid-1"], "attempt id");
    assert_eq!(k.search(&b, "q=m1-paid-1-1"), ["paid-1"], "Juspay txn id");
    assert_eq!(k.search(&b, "q=theirs"), Vec::<String>::new(), "another merchant's order is not found");
    assert_eq!(k.search(&b, "status=CHARGED"), ["paid-1"]);
    assert_eq!(k.search(&b, "method=CARD"), ["paid-1"]);
    assert_eq!(k.search(&b, "method=UPI"), Vec::<String>::new());
    assert_eq!(k.search(&b, "gateway=sandbox&min_amount=20&max_amount=40.00"), ["Ord-3", "Ord-2", "Ord-1"]);
    let today = time::OffsetDateTime::now_utc().date();
    assert_eq!(k.search(&b, &format!("from={today}&to={today}&q=cust_c")), ["Ord-4", "Ord-3"]);
    assert_eq!(k.search(&b, &format!("to={}", today.previous_day().unwrap())), Vec::<String>::new());
    // Pages: every order once, in order.
    let mut seen = Vec::new();
    let mut query = "limit=2".to_string();
    loop {
        let (code, v, _) = k.call(&b, "GET", &format!("/dashboard/api/orders?{query}"), None, false);
        assert_eq!(code, 200, "{v}");
        seen.extend(v["orders"].as_array().unwrap().iter().map(|o| o["order_id"].as_str().unwrap().to_string()));
        match v["next"].as_str() {
            Some(next) => query = format!("limit=2&after={next}"),
            None => break,
        }
    }
    assert_eq!(seen, ["paid-1", "Ord-4", "Ord-3", "Ord-2", "Ord-1", "Ord-0"]);
    // Bad filters: a clear 400.
    for bad in ["status=PAID", "method=CASH", "from=yesterday", "min_amount=lots", "limit=0", "after=junk", "gateway=stripe"] {
        let (code, v, _) = k.call(&b, "GET", &format!("/dashboard/api/orders?{bad}"), None, false);
        assert_eq!((code, v["error_code"].as_str()), (400, Some("invalid_parameter")), "{bad}: {v}");
    }
    // An order's page; another merchant's is not found.
    let (code, v, _) = k.call(&b, "GET", "/dashboard/api/orders/paid-1", None, false);
    assert_eq!(code, 200, "{v}");
    assert_eq!((v["order"]["status"].as_str(), v["refundable"].as_str()), (Some("CHARGED"), Some("99.00")));
    assert_eq!(v["attempts"][0]["card_last4"], "1111");
    assert_eq!(v["attempts"][0]["txn_id"], "m1-paid-1-1");
    assert!(v["webhooks"].as_array().unwrap().iter().any(|w| w["event_name"] == "ORDER_SUCCEEDED"), "{v}");
    assert_eq!(k.call(&b, "GET", "/dashboard/api/orders/theirs", None, false).0, 404);
    let other = k.sign_in("other@m2.example");
    assert_eq!(k.search(&other, ""), ["theirs"]);
    assert_eq!(k.call(&other, "GET", "/dashboard/api/orders/paid-1", None, false).0, 404);
}

#[test]
fn refunds_and_redeliveries_need_an_admin_and_the_csrf_token_and_are_idempotent() {
    let k = start();
    k.charged("r1", "100.00", "");
    let admin = k.sign_in("admin@shop.example");
    let viewer = k.sign_in("viewer@shop.example");
    let refund = json!({ "amount": "30.00", "unique_request_id": "dash_r1_a" });
    // Refused, each changing nothing: no CSRF token, a wrong one, a viewer, another merchant's admin.
    let (code, v, _) = k.call(&admin, "POST", "/dashboard/api/orders/r1/refunds", Some(refund.clone()), false);
    assert_eq!((code, v["error_code"].as_str()), (403, Some("forbidden")), "{v}");
    let forged = Browser { csrf: "csrf_forged".into(), ..admin.clone() };
    assert_eq!(k.call(&forged, "POST", "/dashboard/api/orders/r1/refunds", Some(refund.clone()), true).0, 403);
    let (code, v, _) = k.call(&viewer, "POST", "/dashboard/api/orders/r1/refunds", Some(refund.clone()), true);
    assert_eq!((code, v["error_code"].as_str()), (403, Some("forbidden")), "{v}");
    let other = k.sign_in("other@m2.example");
    assert_eq!(k.call(&other, "POST", "/dashboard/api/orders/r1/refunds", Some(refund.clone()), true).0, 404);
    assert_eq!(k.status("r1")["refunds"].as_array().map_or(0, Vec::len), 0, "nothing refunded");

    // An admin's partial refund, sent twice (a double click): one refund, seen by the API.
    for _ in 0..2 {
        let (code, v, _) = k.call(&admin, "POST", "/dashboard/api/orders/r1/refunds", Some(refund.clone()), true);
        assert_eq!(code, 200, "{v}");
    }
    let st = k.status("r1");
    assert_eq!((st["refunds"].as_array().unwrap().len(), st["amount_refunded"].as_f64()), (1, Some(30.0)), "{st}");
    let (_, page, _) = k.call(&viewer, "GET", "/dashboard/api/orders/r1", None, false);
    assert_eq!(page["refundable"], "70.00");
    // More than is left: the API's refusal.
    let (code, v, _) = k.call(
        &admin,
        "POST",
        "/dashboard/api/orders/r1/refunds",
        Some(json!({ "amount": "70.01", "unique_request_id": "dash_r1_b" })),
        true,
    );
    assert_eq!((code, v["error_code"].as_str()), (400, Some("invalid_refund_amount")), "{v}");

    // Redelivery of one of its webhook events.
    let event = page["webhooks"][0]["id"].as_str().unwrap().to_string();
    let path = format!("/dashboard/api/webhooks/{event}/redeliver");
    assert_eq!(k.call(&viewer, "POST", &path, Some(json!({})), true).0, 403);
    assert_eq!(k.call(&other, "POST", &path, Some(json!({})), true).0, 404);
    let (code, v, _) = k.call(&admin, "POST", &path, Some(json!({})), true);
    assert_eq!((code, v["status"].as_str()), (200, Some("queued")), "{v}");
    // Sync of a sandbox order: nothing to ask, the status as it is.
    let (code, v, _) = k.call(&admin, "POST", "/dashboard/api/orders/r1/sync", Some(json!({})), true);
    assert_eq!((code, v["status"].as_str()), (200, Some("CHARGED")), "{v}");

    let mut audit = query_strings(
        &k.s.db_url,
        "SELECT actor || ' ' || action FROM audit_events WHERE action IN ('refund.create', 'webhook.redeliver')",
    );
    audit.sort();
    assert_eq!(audit, ["user:admin@shop.example refund.create", "user:admin@shop.example webhook.redeliver"]);
    // Removing a user ends their sessions at once.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kassa"))
        .args(["user", "remove", "m1", "--email", "admin@shop.example", "--database-url", &k.s.db_url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(k.call(&admin, "GET", "/dashboard/api/me", None, false).0, 401);
}

#[test]
fn charts_csv_audit_log_and_holds() {
    let k = start();
    k.charged("c1", "100.00", "&customer_id=%3DHYPERLINK(%22x%22)");
    k.charged("c2", "50.25", "");
    assert_eq!(k.api(&k.s.api_key, "/orders", "order_id=c3&amount=7.00").0, 200);
    let viewer = k.sign_in("viewer@shop.example");
    let admin = k.sign_in("admin@shop.example");

    // Charts: every day of the window, today's orders, paid and volume; per method.
    let (code, v, _) = k.call(&viewer, "GET", "/dashboard/api/charts?days=30", None, false);
    assert_eq!(code, 200, "{v}");
    let days = v["per_day"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    let today = &days[29];
    assert_eq!(
        (today["orders"].as_i64(), today["paid"].as_i64(), today["volume"].as_str(), today["success_per_mille"].as_i64()),
        (Some(3), Some(2), Some("150.25"), Some(666)),
        "{today}"
    );
    assert_eq!(days[0]["orders"], 0);
    let card = v["per_method"].as_array().unwrap().iter().find(|m| m["method"] == "CARD").unwrap();
    assert_eq!((card["attempts"].as_i64(), card["succeeded"].as_i64(), card["volume"].as_str()), (Some(2), Some(2), Some("150.25")));
    assert_eq!(k.call(&viewer, "GET", "/dashboard/api/charts?days=8", None, false).0, 400);

    // CSV of the filtered orders; a cell a spreadsheet would run is made inert.
    let (code, csv, _) = k.call(&viewer, "GET", "/dashboard/api/orders.csv?status=CHARGED", None, false);
    assert_eq!(code, 200);
    let csv = csv.as_str().unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("order_id,status,amount"), "{csv}");
    assert!(lines[1].starts_with("\"c2\",\"CHARGED\",\"50.25\""), "{csv}");
    assert!(lines[2].contains("\"'=HYPERLINK(\"\"x\"\")\""), "{csv}");

    // The audit log: admins only.
    assert_eq!(k.call(&viewer, "GET", "/dashboard/api/audit", None, false).0, 403);
    let (code, v, _) = k.call(&admin, "GET", "/dashboard/api/audit", None, false);
    assert_eq!(code, 200);
    let actions: Vec<String> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {}", e["actor"].as_str().unwrap(), e["action"].as_str().unwrap()))
        .collect();
    assert!(actions.contains(&"user:admin@shop.example dashboard.sign_in".to_string()), "{actions:?}");
    let other = k.sign_in("other@m2.example");
    let (_, v, _) = k.call(&other, "GET", "/dashboard/api/audit", None, false);
    assert!(v["entries"].as_array().unwrap().iter().all(|e| e["actor"] != "user:admin@shop.example"), "m2 sees only its own: {v}");

    // A hold: captured from the dashboard by an admin, not by a viewer.
    k.charged("h1", "80.00", "&metadata.txns.auto_capture=false");
    let (_, page, _) = k.call(&admin, "GET", "/dashboard/api/orders/h1", None, false);
    assert_eq!(page["order"]["status"], "AUTHORIZED", "{page}");
    let txn = page["order"]["txn_uuid"].as_str().unwrap().to_string();
    let capture = json!({ "amount": "80.00", "idempotence_key": "dash_cap_1" });
    assert_eq!(k.call(&viewer, "POST", &format!("/dashboard/api/txns/{txn}/capture"), Some(capture.clone()), true).0, 403);
    assert_eq!(k.call(&other, "POST", &format!("/dashboard/api/txns/{txn}/capture"), Some(capture.clone()), true).0, 404);
    let (code, v, _) = k.call(&admin, "POST", &format!("/dashboard/api/txns/{txn}/capture"), Some(capture), true);
    assert_eq!(code, 200, "{v}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while k.status("h1")["status"] != "CHARGED" {
        assert!(Instant::now() < deadline, "never captured: {}", k.status("h1"));
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Kassa {
    /// Pays a new order of m1 by card (`extra` adds fields to its creation) and follows the
    /// bank's answer back: where Kassa sends the shopper (the return URL, or its result page).
    fn pay_and_return(&self, order_id: &str, extra: &str) -> String {
        let bank = self.pay_by_card(order_id, "10.00", extra);
        let mut to = bank.headers()["location"].to_str().unwrap().to_string();
        // Kassa's own hops (its return route) until the shopper leaves it.
        while let Some(path) = to.strip_prefix(&self.s.base).map(str::to_string).or_else(|| to.starts_with('/').then(|| to.clone())) {
            if path.starts_with("/merchant/result/") {
                return path;
            }
            let resp = self.s.agent.get(format!("{}{path}", self.s.base)).call().unwrap();
            assert_eq!(resp.status().as_u16(), 303, "{path}");
            to = resp.headers()["location"].to_str().unwrap().to_string();
        }
        to
    }
}

#[test]
fn settings_are_checked_changed_together_and_take_effect_on_the_next_request() {
    let k = start();
    let admin = k.sign_in("admin@shop.example");
    let viewer = k.sign_in("viewer@shop.example");
    let (code, before, _) = k.call(&viewer, "GET", "/dashboard/api/settings", None, false);
    assert_eq!(code, 200, "{before}");
    assert_eq!((before["signed_response"].as_bool(), before["order_expiry_minutes"].as_i64()), (Some(true), Some(15)), "{before}");
    assert!(!before.to_string().contains("whsec_") && !before.to_string().contains("krk_"), "no secret is shown: {before}");
    assert_eq!(k.call(&viewer, "POST", "/dashboard/api/settings", Some(json!({ "signed_response": false })), true).0, 403);

    // Refusals change nothing, even with good fields beside them.
    for (bad, field) in [
        (json!({ "order_expiry_minutes": 1441 }), "order_expiry_minutes"),
        (json!({ "enabled_methods": [] }), "enabled_methods"),
        (json!({ "enabled_methods": ["cash"] }), "enabled_methods"),
        (json!({ "allowed_origins": ["https://shop.example/path"] }), "allowed_origins"),
        (json!({ "default_return_url": "http://shop.example/back" }), "return_url"),
        (json!({ "webhook_events": ["ORDER_EXPLODED"] }), "webhook_events"),
        (json!({ "theme": { "accent": "yellow" } }), "theme"),
        (json!({ "theme": { "radius": 40 } }), "theme"),
        (json!({ "signed_response": false, "api_key": "x" }), "api_key"),
    ] {
        let (code, v, _) = k.call(&admin, "POST", "/dashboard/api/settings", Some(bad.clone()), true);
        assert_eq!((code, v["error_code"].as_str()), (400, Some("invalid_parameter")), "{bad}: {v}");
        assert!(v["error_message"].as_str().unwrap().contains(field), "{bad}: {v}");
    }
    let (_, unchanged, _) = k.call(&admin, "GET", "/dashboard/api/settings", None, false);
    assert_eq!(unchanged, before);

    let change = json!({
        "order_expiry_minutes": 30, "enabled_methods": ["card", "upi"], "allowed_origins": ["https://shop.example"],
        "signed_response": false, "default_return_url": "https://shop.example/back?from=kassa", "webhook_events": ["ORDER_SUCCEEDED"],
        "theme": { "accent": "#0a5c36", "radius": 4, "appearance": "light" }, "webhook_password": "hook-secret-pass",
    });
    let (code, after, _) = k.call(&admin, "POST", "/dashboard/api/settings", Some(change), true);
    assert_eq!(code, 200, "{after}");
    assert_eq!(
        (
            after["order_expiry_minutes"].as_i64(),
            after["enabled_methods"].clone(),
            after["webhook_events"].clone(),
            after["webhook_password_set"].as_bool()
        ),
        (Some(30), json!(["card", "upi"]), json!(["ORDER_SUCCEEDED"]), Some(true))
    );
    assert!(!after.to_string().contains("hook-secret-pass"));

    // The next order: 30 minutes, card and UPI only, the theme, framed by the new origin only.
    let (code, v) = k.api(&k.s.api_key, "/orders", "order_id=s1&amount=5.00");
    assert_eq!(code, 200);
    let lifetime = query_strings(&k.s.db_url, "SELECT CAST(expires_at - created_at AS TEXT) FROM orders WHERE order_id = 's1'");
    assert_eq!(lifetime, ["1800000"], "30 minutes");
    let page = k.s.agent.get(format!("{}/merchant/ipay/{}", k.s.base, v["id"].as_str().unwrap())).call().unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("frame-ancestors https://shop.example"), "{csp}");
    let html = page.into_body().read_to_string().unwrap();
    let config: Value =
        serde_json::from_str(html.split("id=\"kassa-config\">").nth(1).unwrap().split("</script>").next().unwrap()).unwrap();
    assert_eq!(config["order"]["methods"], json!(["card", "upi"]), "{config}");
    assert!(config["theme_vars"].to_string().contains("#0a5c36"), "{config}");

    // Signed responses off: the default return URL, Kassa's parameters, no signature.
    let back = k.pay_and_return("s2", "");
    assert!(back.starts_with("https://shop.example/back?from=kassa&order_id=s2&status=CHARGED&status_id=21"), "{back}");
    assert!(!back.contains("signature"), "{back}");

    // On again, and a rotation with no overlap: the next return URL verifies with the new key only.
    assert_eq!(k.call(&admin, "POST", "/dashboard/api/settings", Some(json!({ "signed_response": true })), true).0, 200);
    let (code, v, _) = k.call(&admin, "POST", "/dashboard/api/settings/response-key", Some(json!({ "overlap_minutes": 0 })), true);
    assert_eq!(code, 200, "{v}");
    let new_key = v["response_key"].as_str().unwrap().to_string();
    assert!(new_key.starts_with("krk_"));
    let back = k.pay_and_return("s3", "&return_url=https%3A%2F%2Fshop.example%2Fdone");
    let query = back.split_once('?').unwrap().1;
    use kassa_sign::{ResponseKey, return_url};
    assert!(return_url::verify_query(&ResponseKey::new(new_key.clone().into_bytes()), query).is_ok(), "{back}");
    assert!(
        return_url::verify_query(&ResponseKey::new(k.s.response_key.clone().into_bytes()), query).is_err(),
        "the old key no longer signs"
    );
    // With an overlap, the current key keeps signing until it ends.
    let (_, v, _) = k.call(&admin, "POST", "/dashboard/api/settings/response-key", Some(json!({ "overlap_minutes": 60 })), true);
    assert_ne!(v["response_key"], new_key.as_str());
    let back = k.pay_and_return("s4", "&return_url=https%3A%2F%2Fshop.example%2Fdone");
    assert!(return_url::verify_query(&ResponseKey::new(new_key.into_bytes()), back.split_once('?').unwrap().1).is_ok(), "{back}");

    // orderDetails keys: added (checked as RSA PEM), listed, removed.
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kassa")).args(["keygen", "--out"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success());
    let pem = std::fs::read_to_string(dir.path().join("public_key.pem")).unwrap();
    let (code, v, _) =
        k.call(&admin, "POST", "/dashboard/api/settings/rsa-keys", Some(json!({ "key_id": "k1", "public_key": "not a key" })), true);
    assert_eq!((code, v["error_code"].as_str()), (400, Some("invalid_parameter")));
    assert_eq!(k.call(&admin, "POST", "/dashboard/api/settings/rsa-keys", Some(json!({ "key_id": "k1", "public_key": pem })), true).0, 200);
    assert_eq!(k.call(&admin, "POST", "/dashboard/api/settings/rsa-keys", Some(json!({ "key_id": "k1", "public_key": pem })), true).0, 409);
    assert_eq!(k.call(&admin, "GET", "/dashboard/api/settings", None, false).1["rsa_keys"], json!(["k1"]));
    assert_eq!(k.call(&viewer, "POST", "/dashboard/api/settings/rsa-keys/k1/delete", Some(json!({})), true).0, 403);
    assert_eq!(k.call(&admin, "POST", "/dashboard/api/settings/rsa-keys/k1/delete", Some(json!({})), true).0, 200);
    assert_eq!(k.call(&admin, "POST", "/dashboard/api/settings/rsa-keys/k1/delete", Some(json!({})), true).0, 404);

    // Gateway accounts: checked, linked last in the routing preference, listed without secrets.
    let (code, v, _) =
        k.call(&admin, "POST", "/dashboard/api/gateway-accounts", Some(json!({ "gateway": "razorpay", "key_id": "rzp_test_1" })), true);
    assert_eq!((code, v["error_code"].as_str()), (400, Some("invalid_parameter")), "{v}");
    assert!(v["error_message"].as_str().unwrap().contains("key_secret"), "{v}");
    assert_eq!(
        k.call(&viewer, "POST", "/dashboard/api/gateway-accounts", Some(json!({ "gateway": "paytm", "sandbox": true })), true).0,
        403
    );
    let (code, v, _) = k.call(
        &admin,
        "POST",
        "/dashboard/api/gateway-accounts",
        Some(json!({ "gateway": "razorpay", "key_id": "rzp_test_1", "key_secret": "shh-razorpay-secret", "reference_id": "rzp-main" })),
        true,
    );
    assert_eq!((code, v["priority"].as_i64()), (200, Some(1)), "{v}");
    assert!(v["webhook_url"].as_str().unwrap().ends_with(&format!("/gateway/webhooks/{}", v["id"].as_str().unwrap())), "{v}");
    let (code, v, _) = k.call(
        &admin,
        "POST",
        "/dashboard/api/gateway-accounts",
        Some(json!({ "gateway": "razorpay", "key_id": "rzp_test_2", "key_secret": "x", "reference_id": "rzp-main" })),
        true,
    );
    assert_eq!((code, v["error_code"].as_str()), (400, Some("invalid_parameter")), "the same reference id twice: {v}");
    let (code, v, _) =
        k.call(&admin, "POST", "/dashboard/api/gateway-accounts", Some(json!({ "gateway": "paytm", "sandbox": true })), true);
    assert_eq!((code, v["priority"].as_i64()), (200, Some(2)), "{v}");
    let (_, listed, _) = k.call(&viewer, "GET", "/dashboard/api/settings", None, false);
    let gateways: Vec<&str> = listed["gateway_accounts"].as_array().unwrap().iter().map(|a| a["gateway"].as_str().unwrap()).collect();
    assert_eq!(gateways, ["razorpay", "paytm"], "{listed}");
    assert!(!listed.to_string().contains("shh-razorpay-secret"));

    let audit = query_strings(
        &k.s.db_url,
        "SELECT actor || ' ' || action || ' ' || COALESCE(detail, '') FROM audit_events WHERE actor LIKE 'user:%'",
    );
    assert!(audit.iter().any(|a| a.starts_with("user:admin@shop.example gateway_account.add")), "{audit:?}");
    assert!(
        audit.iter().any(|a| a.starts_with("user:admin@shop.example settings.update") && a.contains("\"signed_response\":false")),
        "{audit:?}"
    );
    assert!(audit.iter().any(|a| a.starts_with("user:admin@shop.example response_key.rotate")), "{audit:?}");
    assert!(audit.iter().all(|a| !a.contains("hook-secret-pass") && !a.contains("krk_") && !a.contains("shh-")), "{audit:?}");
}

#[test]
fn api_keys_are_made_shown_once_used_and_revoked_and_refunds_go_in_batches() {
    let k = start();
    let admin = k.sign_in("admin@shop.example");
    let viewer = k.sign_in("viewer@shop.example");
    assert_eq!(k.call(&viewer, "POST", "/dashboard/api/api-keys", Some(json!({ "name": "ci" })), true).0, 403);
    assert_eq!(k.call(&admin, "POST", "/dashboard/api/api-keys", Some(json!({ "name": "" })), true).0, 400);
    let (code, made, _) = k.call(&admin, "POST", "/dashboard/api/api-keys", Some(json!({ "name": "Reconciliation job" })), true);
    assert_eq!(code, 200, "{made}");
    let key = made["api_key"].as_str().unwrap().to_string();
    let id = made["id"].as_str().unwrap().to_string();
    // It works like the first key, and its use is noted; the list never shows a key.
    let (code, v) = k.api(&key, "/orders", "order_id=viakey&amount=3.00");
    assert_eq!(code, 200, "{v}");
    let (_, list, _) = k.call(&viewer, "GET", "/dashboard/api/api-keys", None, false);
    let listed = &list["api_keys"][0];
    assert_eq!(
        (listed["name"].as_str(), listed["revoked"].is_null(), listed["last_used"].is_string()),
        (Some("Reconciliation job"), true, true),
        "{list}"
    );
    assert!(!list.to_string().contains(&key), "{list}");
    assert!(key.starts_with(listed["prefix"].as_str().unwrap()));
    // Another merchant cannot revoke it; the admin can, and it is refused at once.
    let other = k.sign_in("other@m2.example");
    assert_eq!(k.call(&other, "POST", &format!("/dashboard/api/api-keys/{id}/revoke"), Some(json!({})), true).0, 404);
    assert_eq!(k.call(&admin, "POST", &format!("/dashboard/api/api-keys/{id}/revoke"), Some(json!({})), true).0, 200);
    let (code, _) = k.api(&key, "/orders", "order_id=viakey2&amount=3.00");
    assert_eq!(code, 401, "a revoked key");
    assert_eq!(k.api(&k.s.api_key, "/orders", "order_id=stillok&amount=3.00").0, 200, "the merchant's first key is untouched");
    let audit = query_strings(&k.s.db_url, "SELECT action || ' ' || COALESCE(detail, '') FROM audit_events WHERE action LIKE 'api_key.%'");
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert!(audit.iter().all(|a| !a.contains(&key)), "{audit:?}");

    // Batch refunds: each row on its own; the same batch again refunds nothing twice.
    k.charged("b1", "100.00", "");
    k.charged("b2", "20.00", "");
    let csv = "order_id,amount\nb1,10.00\nb2,25.00\nnope,1.00\nb1,oops\nb2,5.00\n";
    assert_eq!(k.call(&viewer, "POST", "/dashboard/api/refunds/batch", Some(json!({ "batch_id": "b_one", "csv": csv })), true).0, 403);
    let (code, v, _) = k.call(&admin, "POST", "/dashboard/api/refunds/batch", Some(json!({ "batch_id": "b_one", "csv": csv })), true);
    assert_eq!(code, 200, "{v}");
    let r = v["results"].as_array().unwrap();
    assert_eq!((v["rows"].as_i64(), v["refunded"].as_i64(), v["failed"].as_i64()), (Some(5), Some(2), Some(3)), "{v}");
    assert_eq!(
        (r[0]["ok"].as_bool(), r[1]["error_code"].as_str(), r[2]["error_code"].as_str()),
        (Some(true), Some("invalid_refund_amount"), Some("order_not_found"))
    );
    assert_eq!(r[3]["error_code"], "invalid_amount");
    assert_eq!(r[4]["ok"], true);
    let (_, again, _) = k.call(&admin, "POST", "/dashboard/api/refunds/batch", Some(json!({ "batch_id": "b_one", "csv": csv })), true);
    assert_eq!(again["refunded"], 2, "the repeats answer as before: {again}");
    // The same batch without its failed rows (rows move up): nothing refunded twice.
    let (_, fixed, _) =
        k.call(&admin, "POST", "/dashboard/api/refunds/batch", Some(json!({ "batch_id": "b_one", "csv": "b1,10.00\nb2,5.00" })), true);
    assert_eq!(fixed["refunded"], 2, "{fixed}");
    assert_eq!(k.call(&admin, "POST", "/dashboard/api/refunds/batch", Some(json!({ "csv": csv })), true).0, 400, "a batch id is required");
    assert_eq!((k.status("b1")["amount_refunded"].as_f64(), k.status("b2")["amount_refunded"].as_f64()), (Some(10.0), Some(5.0)));
    assert_eq!(k.status("b1")["refunds"].as_array().unwrap().len(), 1);
}

#[test]
fn a_test_event_is_signed_and_delivered_and_a_failed_event_is_redelivered_once_the_receiver_is_back() {
    let k = start();
    let admin = k.sign_in("admin@shop.example");
    let (code, v, _) = k.call(&admin, "POST", "/dashboard/api/settings/test-event", Some(json!({})), true);
    assert_eq!((code, v["status"].as_str()), (200, Some("queued")), "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    let got = loop {
        if let Some(h) = k.hooks.lock().unwrap().iter().find(|(_, b)| b.contains(&id)).cloned() {
            break h;
        }
        assert!(Instant::now() < deadline, "the test event never arrived");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(got.1.contains("\"event_name\":\"TEST\"") && got.0.to_lowercase().contains("kassa-signature"), "{got:?}");
    let (_, list, _) = k.call(&admin, "GET", "/dashboard/api/webhooks", None, false);
    let listed = list["events"].as_array().unwrap().iter().find(|e| e["id"] == id.as_str()).unwrap().clone();
    assert_eq!((listed["event_name"].as_str(), listed["order_id"].is_null()), (Some("TEST"), true), "{listed}");

    // The receiver is down: the order's events fail, each attempt kept with its error.
    let down = free_port();
    let change = json!({ "webhook_url": format!("http://127.0.0.1:{down}/hook") });
    assert_eq!(k.call(&admin, "POST", "/dashboard/api/settings", Some(change), true).0, 200);
    k.charged("w1", "10.00", "");
    let failed = |page: &Value| page["webhooks"].as_array().unwrap().iter().find(|w| w["event_name"] == "ORDER_SUCCEEDED").cloned();
    let deadline = Instant::now() + Duration::from_secs(20);
    let event = loop {
        let (_, page, _) = k.call(&admin, "GET", "/dashboard/api/orders/w1", None, false);
        if let Some(e) = failed(&page).filter(|e| e["attempts"] == 1) {
            break e;
        }
        assert!(Instant::now() < deadline, "no failed attempt: {page}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(event["status"], "pending", "{event}");
    assert!(event["history"][0]["outcome"].as_str().unwrap().contains("cannot reach the receiver"), "{event}");
    // Back up: a redelivery reaches it at once, and the history shows both attempts.
    let back = Arc::new(Mutex::new(Vec::new()));
    common::receiver(down, back.clone());
    let (code, _, _) =
        k.call(&admin, "POST", &format!("/dashboard/api/webhooks/{}/redeliver", event["id"].as_str().unwrap()), Some(json!({})), true);
    assert_eq!(code, 200);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, page, _) = k.call(&admin, "GET", "/dashboard/api/orders/w1", None, false);
        let e = failed(&page).unwrap();
        if e["status"] == "delivered" {
            let history: Vec<&str> = e["history"].as_array().unwrap().iter().map(|h| h["outcome"].as_str().unwrap()).collect();
            assert_eq!(history.len(), 2, "{e}");
            assert_eq!(history[1], "delivered");
            break;
        }
        assert!(Instant::now() < deadline, "never redelivered: {e}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(back.lock().unwrap().iter().any(|(_, b)| b.contains("ORDER_SUCCEEDED")));
}

#[test]
fn under_https_the_session_cookie_is_secure() {
    let s = common::start_m1(
        "krk_secure",
        |_| {},
        |db| async move { db },
        |base| kassa_server::Config { public_url: "https://pay.shop.example".into(), ..common::test_config(base) },
    );
    let k = Kassa { s, clock: Arc::new(Shifted::default()), hooks: Arc::new(Mutex::new(Vec::new())) };
    k.user("m1", "admin@shop.example", "admin");
    let (code, v, set) = k.call(
        &Browser::default(),
        "POST",
        "/dashboard/api/sign-in",
        Some(json!({ "email": "admin@shop.example", "password": PASSWORD })),
        false,
    );
    assert_eq!(code, 200, "{v}");
    let set = set.unwrap();
    assert!(set.contains("; Secure") && set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
}

#[test]
fn a_customers_mandates_and_saved_cards_are_managed_by_admins_of_their_merchant_only() {
    let k = start();
    let mandate = "&customer_id=c1&options.create_mandate=REQUIRED&mandate.max_amount=1000.00&mandate.frequency=ASPRESENTED";
    k.pay_by_card_with("reg1", "1.00", mandate, json!({ "save_to_locker": "true" }));
    let deadline = Instant::now() + Duration::from_secs(20);
    while k.status("reg1")["mandate"]["mandate_status"] != "ACTIVE" {
        assert!(Instant::now() < deadline, "never active: {}", k.status("reg1"));
        std::thread::sleep(Duration::from_millis(50));
    }
    let viewer = k.sign_in("viewer@shop.example");
    let admin = k.sign_in("admin@shop.example");
    let other = k.sign_in("other@m2.example");
    let (code, v, _) = k.call(&viewer, "GET", "/dashboard/api/customers/c1/instruments", None, false);
    assert_eq!(code, 200, "{v}");
    let id = v["mandates"][0]["mandate_id"].as_str().unwrap().to_string();
    assert_eq!(
        (v["mandates"][0]["status"].as_str(), v["mandates"][0]["order_id"].as_str(), v["cards"][0]["card_number"].as_str()),
        (Some("ACTIVE"), Some("reg1"), Some("4111-XXXXXXXX-1111")),
        "{v}"
    );
    assert_eq!(k.call(&other, "GET", "/dashboard/api/customers/c1/instruments", None, false).1["mandates"], json!([]), "m2 sees none");
    // Pause, resume, revoke: admins of its merchant only, through the API's commands.
    let path = format!("/dashboard/api/mandates/{id}");
    assert_eq!(k.call(&viewer, "POST", &path, Some(json!({ "command": "pause" })), true).0, 403);
    assert_eq!(k.call(&other, "POST", &path, Some(json!({ "command": "pause" })), true).0, 404);
    for (command, status) in [("pause", "PAUSED"), ("resume", "ACTIVE"), ("revoke", "REVOKED")] {
        let (code, v, _) = k.call(&admin, "POST", &path, Some(json!({ "command": command })), true);
        assert_eq!(code, 200, "{command}: {v}");
        let (_, now, _) = k.call(&viewer, "GET", "/dashboard/api/customers/c1/instruments", None, false);
        assert_eq!(now["mandates"][0]["status"], status, "{command}");
    }
    let (code, v) =
        k.api(&k.s.api_key, "/txns", &format!("mandate_id={id}&order.order_id=after&order.amount=5.00&order.customer_id=c1&format=json"));
    assert_eq!((code, v["error_code"].as_str()), (400, Some("JP_852")), "a revoked mandate is not debited: {v}");
    // A saved card deleted.
    let (_, v, _) = k.call(&viewer, "GET", "/dashboard/api/customers/c1/instruments", None, false);
    let token = v["cards"][0]["card_token"].as_str().unwrap().to_string();
    assert_eq!(k.call(&viewer, "POST", "/dashboard/api/cards/delete", Some(json!({ "card_token": token })), true).0, 403);
    assert_eq!(k.call(&other, "POST", "/dashboard/api/cards/delete", Some(json!({ "card_token": token })), true).0, 404);
    assert_eq!(k.call(&admin, "POST", "/dashboard/api/cards/delete", Some(json!({ "card_token": token })), true).0, 200);
    assert_eq!(k.call(&viewer, "GET", "/dashboard/api/customers/c1/instruments", None, false).1["cards"], json!([]));
    let audit = query_strings(&k.s.db_url, "SELECT actor || ' ' || action FROM audit_events WHERE actor = 'user:admin@shop.example'");
    assert!(audit.iter().any(|a| a.ends_with("mandate.revoke")) && audit.iter().any(|a| a.ends_with("card.delete")), "{audit:?}");
}
