//! Stored instruments (issue 15, SPEC §8): saved cards (`save_to_locker`,
//! `card_token`, `GET /cards`, `POST /card/delete`), mandates (registration
//! during a payment, execution by the merchant's server, pre-debit
//! notifications, the commands of `POST /mandates/:id`, the list, expiry)
//! and the payment management page's API, each refusal changing nothing.
//! SQLite, or PostgreSQL with `KASSA_TEST_POSTGRES`.

#![allow(missing_docs, clippy::unwrap_used)]

mod common;
use common::{Shifted, basic, query_strings};

use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const DAY_MS: i64 = 24 * 3600 * 1000;
/// Merchant m2's API key.
const M2_KEY: &str = "ksk_m2_instruments_test_key_0000";

struct Kassa {
    s: common::M1Server,
    clock: Arc<Shifted>,
    hooks: Arc<Mutex<Vec<(String, String)>>>,
}

fn start() -> Kassa {
    let (s, clock, hooks) = common::start_m1_m2("krk_instruments", M2_KEY, 300);
    Kassa { s, clock, hooks }
}

impl Kassa {
    fn send(&self, method: &str, path: &str, auth: &str, ctype: &str, body: &str) -> (u16, Value) {
        let mut req = ureq::http::Request::builder().method(method).uri(format!("{}{path}", self.s.base));
        if !auth.is_empty() {
            req = req.header("authorization", auth);
        }
        if !ctype.is_empty() {
            req = req.header("content-type", ctype);
        }
        let mut resp = self.s.agent.run(req.body(body.to_string()).unwrap()).unwrap();
        let text = resp.body_mut().read_to_string().unwrap();
        (resp.status().as_u16(), serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// A form POST with m1's API key (or `key`).
    fn api_as(&self, key: &str, path: &str, form: &str) -> (u16, Value) {
        self.send("POST", path, &basic(key), "application/x-www-form-urlencoded", form)
    }

    fn api(&self, path: &str, form: &str) -> (u16, Value) {
        self.api_as(&self.s.api_key, path, form)
    }

    fn get_as(&self, key: &str, path: &str) -> (u16, Value) {
        self.send("GET", path, &basic(key), "", "")
    }

    fn get(&self, path: &str) -> (u16, Value) {
        self.get_as(&self.s.api_key, path)
    }

    /// A new order for customer `customer` (none when ""): (Kassa's id, client token).
    fn order(&self, order_id: &str, amount: &str, customer: &str, extra: &str) -> (String, String) {
        let customer = if customer.is_empty() { String::new() } else { format!("&customer_id={customer}") };
        let (code, v) = self.api(
            "/orders",
            &format!("order_id={order_id}&amount={amount}{customer}&return_url=https%3A%2F%2Fshop.example%2Fret&options.get_client_auth_token=true{extra}"),
        );
        assert_eq!(code, 200, "{v}");
        (v["id"].as_str().unwrap().to_string(), v["juspay"]["client_auth_token"].as_str().unwrap().to_string())
    }

    /// `POST /txns` with the order's client token.
    fn txn(&self, order: &(String, String), fields: Value) -> (u16, Value) {
        let mut body = json!({ "order_id": order.0 });
        body.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
        self.send("POST", "/txns", &format!("Bearer {}", order.1), "application/json", &body.to_string())
    }

    /// Pays by card (bank page answered with the OTP): the attempt's answer.
    fn pay(&self, order: &(String, String), fields: Value) -> Value {
        let (code, v) = self.txn(order, fields);
        assert_eq!(code, 200, "{v}");
        let url = v["payment"]["authentication"]["url"].as_str().unwrap();
        common::submit_otp(&self.s.agent, url).unwrap();
        v
    }

    fn status(&self, order_id: &str) -> Value {
        let (code, v) = self.get(&format!("/orders/{order_id}"));
        assert_eq!(code, 200, "{v}");
        v
    }

    /// Waits until order `order_id` is `status`.
    fn wait_status(&self, order_id: &str, status: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let v = self.status(order_id);
            if v["status"] == status {
                return v;
            }
            assert!(Instant::now() < deadline, "{order_id} never became {status}: {v}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The webhook bodies received with this event name, waiting up to 20 s for at least `n`.
    fn events(&self, name: &str, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let found: Vec<Value> = self
                .hooks
                .lock()
                .unwrap()
                .iter()
                .map(|(_, b)| serde_json::from_str::<Value>(b).unwrap())
                .filter(|v| v["event_name"] == name)
                .collect();
            if found.len() >= n {
                return found;
            }
            assert!(Instant::now() < deadline, "{n} × {name} never arrived; got {}", found.len());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A mandate debit by m1's server.
    fn execute(&self, mandate_id: &str, order_id: &str, amount: &str, customer: &str, extra: &str) -> (u16, Value) {
        self.api(
            "/txns",
            &format!(
                "mandate_id={mandate_id}&order.order_id={order_id}&order.amount={amount}&order.customer_id={customer}&format=json{extra}"
            ),
        )
    }

    fn count(&self, sql: &str) -> usize {
        query_strings(&self.s.db_url, sql).len()
    }
}

#[test]
fn saved_cards_are_saved_once_paid_with_the_cvv_only_listed_and_deleted_per_customer_and_merchant() {
    let k = start();
    // Saved while paying: the card is vaulted by the sandbox, Kassa keeps its reference and what the page shows.
    let first = k.order("sc1", "10.00", "c1", "");
    k.pay(&first, merged(json!({ "save_to_locker": "true" }), common::card_fields("4111111111111111")));
    k.wait_status("sc1", "CHARGED");
    let (code, cards) = k.get("/cards?customer_id=c1");
    assert_eq!(code, 200, "{cards}");
    let list = cards["cards"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{cards}");
    let token = list[0]["card_token"].as_str().unwrap().to_string();
    assert_eq!(list[0]["card_number"], "4111-XXXXXXXX-1111", "Juspay's mask");
    assert_eq!(
        (list[0]["card_exp_month"].as_str(), list[0]["card_exp_year"].as_str(), list[0]["expired"].as_bool()),
        (Some("12"), Some("2039"), Some(false))
    );
    assert_eq!(list[0]["card_brand"], "VISA");
    // Never the number or the security code, in any table that holds cards.
    for sql in [
        "SELECT token || fingerprint || vault_ref || card_isin || last4 || name FROM saved_cards",
        "SELECT ref || ' ' || scenario FROM sandbox_vault",
        "SELECT details FROM txns",
    ] {
        let rows = query_strings(&k.s.db_url, sql);
        assert!(!rows.is_empty() && rows.iter().all(|r| !r.contains("4111111111111111") && !r.contains("\"123\"")), "{sql}: {rows:?}");
    }
    // The same card saved again is the same entry.
    let again = k.order("sc2", "11.00", "c1", "");
    k.pay(&again, merged(json!({ "save_to_locker": "true" }), common::card_fields("4111111111111111")));
    k.wait_status("sc2", "CHARGED");
    assert_eq!(k.get("/cards?customer_id=c1").1["cards"].as_array().unwrap().len(), 1);

    // Paid with the security code only, from the page that lists the card first.
    let third = k.order("sc3", "12.00", "c1", "");
    let page = k.s.agent.get(format!("{}/merchant/pay/{}", k.s.base, third.0)).call().unwrap().body_mut().read_to_string().unwrap();
    assert!(page.contains(&format!("\"token\":\"{token}\"")) && page.contains("\"can_save_card\":true"), "{page}");
    k.pay(&third, json!({ "payment_method_type": "CARD", "card_token": token, "card_security_code": "321" }));
    let paid = k.wait_status("sc3", "CHARGED");
    assert_eq!((paid["card"]["last_four_digits"].as_str(), paid["card"]["card_isin"].as_str()), (Some("1111"), Some("411111")), "{paid}");

    // Refusals change nothing: a bad security code, another customer's card, another merchant's.
    let other = k.order("sc4", "13.00", "c2", "");
    let (code, v) = k.txn(&other, json!({ "payment_method_type": "CARD", "card_token": token, "card_security_code": "321" }));
    assert_eq!((code, v["error_code"].as_str()), (404, Some("card_not_found")), "{v}");
    let (code, v) = k.txn(&third, json!({ "payment_method_type": "CARD", "card_token": token, "card_security_code": "1" }));
    assert_eq!(code, 400, "{v}");
    let guest = k.order("sc5", "13.00", "", "");
    let (code, v) = k.txn(&guest, merged(json!({ "save_to_locker": "true" }), common::card_fields("4111111111111111")));
    assert_eq!((code, v["error_code"].as_str()), (400, Some("invalid_parameter")), "{v}");
    assert_eq!(k.status("sc4")["status"], "NEW");
    assert_eq!(k.status("sc5")["status"], "NEW");
    assert_eq!(k.get_as(M2_KEY, "/cards?customer_id=c1").1["cards"], json!([]));
    let (code, _) = k.api_as(M2_KEY, "/card/delete", &format!("card_token={token}"));
    assert_eq!(code, 404);
    assert_eq!(k.get("/cards?customer_id=c1").1["cards"].as_array().unwrap().len(), 1);

    // An expired saved card is shown as expired and cannot pay.
    common::execute_sql(&k.s.db_url, "UPDATE saved_cards SET exp_year = 2020");
    let fifth = k.order("sc6", "14.00", "c1", "");
    let page = k.s.agent.get(format!("{}/merchant/pay/{}", k.s.base, fifth.0)).call().unwrap().body_mut().read_to_string().unwrap();
    assert!(page.contains("\"expired\":true"), "{page}");
    let (code, v) = k.txn(&fifth, json!({ "payment_method_type": "CARD", "card_token": token, "card_security_code": "321" }));
    assert_eq!((code, v["error_code"].as_str()), (400, Some("invalid_card_expiry")), "{v}");
    assert_eq!(k.get("/cards?customer_id=c1").1["cards"][0]["expired"], true);

    // Deleted by the merchant.
    let (code, v) = k.api("/card/delete", &format!("card_token={token}"));
    assert_eq!((code, v["deleted"].as_bool()), (200, Some(true)), "{v}");
    assert_eq!(k.get("/cards?customer_id=c1").1["cards"], json!([]));
    assert_eq!(k.api("/card/delete", &format!("card_token={token}")).0, 404);
}

fn merged(a: Value, b: Value) -> Value {
    let mut a = a;
    a.as_object_mut().unwrap().extend(b.as_object().unwrap().clone());
    a
}

/// Today, as the mandate fields' UNIX seconds.
fn today(k: &Kassa) -> i64 {
    use kassa_server::Clock;
    k.clock.now_ms() / 1000
}

#[test]
fn mandate_terms_are_checked_as_seed_001_says_and_echoed() {
    let k = start();
    let now = today(&k);
    let refused = [
        ("&mandate.max_amount=1000", "options.create_mandate"),
        ("&options.create_mandate=ALWAYS&mandate.max_amount=1000", "REQUIRED or OPTIONAL"),
        ("&options.create_mandate=REQUIRED", "mandate.max_amount"),
        ("&options.create_mandate=REQUIRED&mandate.amount_rule=FIXED&mandate.max_amount=20.00", "FIXED"),
        ("&options.create_mandate=REQUIRED&mandate.max_amount=1000&mandate.frequency=WEEKLY&mandate.rule_value=9", "mandate.rule_value"),
        ("&options.create_mandate=REQUIRED&mandate.max_amount=1000&mandate.start_date=1600000000", "mandate.start_date"),
        (&format!("&options.create_mandate=REQUIRED&mandate.max_amount=1000&mandate.end_date={}", now - 10), "mandate.end_date"),
        ("&options.create_mandate=REQUIRED&mandate.max_amount=1000&mandate.block_funds=true", "mandate.block_funds"),
        ("&options.create_mandate=REQUIRED&mandate.max_amount=1000&mandate.revokable_by_customer=false", "mandate.revokable_by_customer"),
        ("&options.create_mandate=REQUIRED&mandate.max_amount=1000&payment_options=nb", "card or UPI"),
    ];
    for (i, (extra, names)) in refused.iter().enumerate() {
        let (code, v) = k.api("/orders", &format!("order_id=mv{i}&amount=10.00&customer_id=c1{extra}"));
        assert_eq!(code, 400, "{extra}: {v}");
        assert!(v["error_message"].as_str().unwrap().contains(names), "{extra}: {v}");
        assert_eq!(k.get(&format!("/orders/mv{i}")).0, 404, "{extra}: nothing is created");
    }
    let (code, v) = k.api("/orders", "order_id=mvc&amount=10.00&options.create_mandate=REQUIRED&mandate.max_amount=1000");
    assert!(code == 400 && v["error_message"].as_str().unwrap().contains("customer_id"), "{v}");

    let (code, v) = k.api(
        "/orders",
        &format!("order_id=mok&amount=10.00&customer_id=c1&options.create_mandate=REQUIRED&mandate.max_amount=1000&mandate.frequency=MONTHLY&mandate.rule_value=5&mandate.start_date={now}"),
    );
    assert_eq!(code, 200, "{v}");
    assert_eq!((v["options.createMandate"].as_str(), v["mandate.maxAmount"].as_str()), (Some("REQUIRED"), Some("1000.00")), "{v}");
    assert_eq!(v["mandate.startDate"], now.to_string());
    let (code, v) = k.api(
        "/session",
        "order_id=mses&amount=1.00&customer_id=c1&options.create_mandate=OPTIONAL&mandate.max_amount=300.00&mandate.frequency=ASPRESENTED",
    );
    assert_eq!(code, 200, "{v}");
    let p = &v["sdk_payload"]["payload"];
    assert_eq!(
        (p["options.createMandate"].as_str(), p["mandate.maxAmount"].as_str(), p["mandate.frequency"].as_str()),
        (Some("OPTIONAL"), Some("300.00"), Some("ASPRESENTED")),
        "{p}"
    );
    // The status body shows no mandate before one exists, and never the terms as extra fields.
    let st = k.status("mok");
    assert!(st.get("mandate").is_none(), "{st}");
    // An update keeps the order within its mandate's terms.
    let (code, v) = k.api("/orders/mok", "amount=1000.01");
    assert_eq!((code, v["error_code"].as_str()), (400, Some("invalid_amount")), "{v}");
    assert_eq!(k.status("mok")["amount"], 10.0, "nothing changed");
    assert_eq!(k.api("/orders/mok", "amount=999.00").0, 200);
    assert_eq!(
        k.api("/orders", "order_id=mfix&amount=10.00&customer_id=c1&options.create_mandate=REQUIRED&mandate.amount_rule=FIXED").0,
        200
    );
    let (code, v) = k.api("/orders/mfix", "amount=9.00");
    assert_eq!((code, v["error_code"].as_str()), (400, Some("invalid_amount")), "FIXED: the amount is the mandate's: {v}");
    assert_eq!(k.status("mfix")["amount"], 10.0);
}

/// Registers a card mandate (order `order_id` for customer c1, monthly up to 1,000.00): its id.
fn card_mandate(k: &Kassa, order_id: &str, extra: &str) -> String {
    let order = k.order(
        order_id,
        "1.00",
        "c1",
        &format!("&options.create_mandate=REQUIRED&mandate.max_amount=1000.00&mandate.frequency=MONTHLY&mandate.rule_value=1{extra}"),
    );
    let (code, v) = k.txn(&order, json!({ "payment_method_type": "NB", "payment_method": "NB_SBI" }));
    assert_eq!((code, v["error_code"].as_str()), (400, Some("payment_method_not_allowed")), "{v}");
    if extra.is_empty() {
        // No end date: UPI cannot register it (a UPI mandate needs one), so only cards are offered.
        let (code, v) = k.txn(&order, json!({ "payment_method_type": "UPI", "upi_vpa": "success@kassa" }));
        assert_eq!((code, v["error_code"].as_str()), (400, Some("payment_method_not_allowed")), "{v}");
        let (code, page) = k.send("GET", &format!("/merchant/pay/{}", order.0), "", "text/plain", "");
        assert_eq!(code, 200);
        let config = page.as_str().unwrap().split("id=\"kassa-config\">").nth(1).unwrap().split("</script>").next().unwrap();
        let config: Value = serde_json::from_str(config).unwrap();
        assert_eq!(
            (config["order"]["methods"].clone(), config["order"]["mandate"]["upi"].as_bool()),
            (json!(["card"]), Some(false)),
            "{config}"
        );
    }
    k.pay(&order, common::card_fields("4111111111111111"));
    let st = k.wait_status(order_id, "CHARGED");
    assert_eq!(st["mandate"]["mandate_status"], "ACTIVE", "{st}");
    assert_eq!(st["mandate"]["mandate_type"], "MANDATE");
    assert_eq!(st["txn_detail"]["txn_object_type"], "MANDATE_REGISTER");
    assert_eq!(st["mandate"]["mandate_token"].as_str().unwrap().len(), 32);
    st["mandate"]["mandate_id"].as_str().unwrap().to_string()
}

#[test]
fn a_card_mandate_is_registered_executed_once_a_cycle_paused_resumed_revoked_and_refused_after() {
    let k = start();
    let id = card_mandate(&k, "mreg", "");
    let created = k.events("MANDATE_CREATED", 1);
    assert_eq!(
        (created[0]["content"]["mandate"]["status"].as_str(), created[0]["content"]["mandate"]["mandate_id"].as_str()),
        (Some("CREATED"), Some(id.as_str()))
    );
    let activated = k.events("MANDATE_ACTIVATED", 1);
    assert_eq!(activated[0]["content"]["mandate"]["status"], "ACTIVE");
    assert_eq!(activated[0]["content"]["mandate"]["order_id"], "mreg");

    // A debit: a new order, settled by the sandbox, with the mandate in its status and its webhook.
    let (code, v) = k.execute(&id, "ex1", "499.00", "c1", "");
    assert_eq!((code, v["status"].as_str()), (200, Some("PENDING_VBV")), "{v}");
    let st = k.wait_status("ex1", "CHARGED");
    assert_eq!(
        (st["mandate"]["mandate_id"].as_str(), st["txn_detail"]["txn_object_type"].as_str()),
        (Some(id.as_str()), Some("MANDATE_PAYMENT")),
        "{st}"
    );
    assert_eq!(st["amount"], 499.0);
    // A debit is paid by its mandate: its payment link shows the result, never a form, and no page attempt is taken.
    let link = st["payment_links"]["web"].as_str().unwrap().trim_start_matches(k.s.base.as_str()).to_string();
    let (code, _) = k.send("GET", &link, "", "", "");
    assert_eq!(code, 303, "{link}");
    assert!(
        k.events("ORDER_SUCCEEDED", 2)
            .iter()
            .any(|e| e["content"]["order"]["order_id"] == "ex1" && e["content"]["order"]["mandate"]["mandate_id"] == id.as_str())
    );

    // Refusals, each creating nothing.
    let refusals = [
        (k.execute(&id, "ex2", "499.00", "c1", ""), 400, "mandate_cycle_used"),
        (k.execute(&id, "ex3", "1000.01", "c1", &format!("&mandate.execution_date={}", today(&k) + 40 * 86_400)), 400, "invalid_amount"),
        (k.execute(&id, "ex4", "10.00", "c2", ""), 404, "mandate_not_found"),
        (k.execute("mdt_nonesuch", "ex5", "10.00", "c1", ""), 404, "mandate_not_found"),
        (k.execute(&id, "mreg", "10.00", "c1", &format!("&mandate.execution_date={}", today(&k) + 40 * 86_400)), 400, "DUPLICATE_ORDER_ID"),
        (
            k.api_as(M2_KEY, "/txns", &format!("mandate_id={id}&order.order_id=ex6&order.amount=1&order.customer_id=c1")),
            404,
            "mandate_not_found",
        ),
    ];
    for ((code, v), want_code, want) in refusals {
        assert_eq!((code, v["error_code"].as_str()), (want_code, Some(want)), "{v}");
    }
    for o in ["ex2", "ex3", "ex4", "ex5", "ex6"] {
        assert_eq!(k.get(&format!("/orders/{o}")).0, 404, "{o}");
    }
    assert_eq!(k.status("mreg")["amount"], 1.0, "the registration order is untouched");

    // A debit the sandbox declines frees its cycle; next month's debit is allowed once, under concurrency too.
    let next_month = today(&k) + 32 * 86_400;
    let (code, v) = k.execute(&id, "ex7", "100.02", "c1", &format!("&mandate.execution_date={next_month}"));
    assert_eq!(code, 200, "{v}");
    assert_eq!(k.status("ex7")["status"], "PENDING_VBV", "settles at its execution date");
    // Cancelled before its date: it ends JUSPAY_DECLINED and frees the cycle.
    let (code, v) = k.api(&format!("/mandates/{id}"), "command=cancel_recurring_transaction&order_id=ex7");
    assert_eq!((code, v["txn_status"].as_str()), (200, Some("JUSPAY_DECLINED")), "{v}");
    assert_eq!(k.api(&format!("/mandates/{id}"), "command=cancel_recurring_transaction&order_id=ex7").0, 400);
    assert_eq!(k.api(&format!("/mandates/{id}"), "command=cancel_recurring_transaction&order_id=ex1").0, 400, "settled already");
    let results: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let (k, id) = (&k, &id);
                scope.spawn(move || k.execute(id, &format!("cc{i}"), "200.00", "c1", &format!("&mandate.execution_date={next_month}")).0)
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|c| **c == 200).count(), 1, "{results:?}");
    assert_eq!(results.iter().filter(|c| **c == 400).count(), 5, "{results:?}");
    let winner = format!("cc{}", results.iter().position(|c| *c == 200).unwrap());

    // Pause: the debit scheduled before it is declined, not taken; refused while paused; resume; revoke: refused for good.
    assert_eq!(k.status(&winner)["status"], "PENDING_VBV");
    let (code, v) = k.api(&format!("/mandates/{id}"), "command=pause");
    assert_eq!((code, v["status"].as_str()), (200, Some("PAUSED")), "{v}");
    k.events("MANDATE_PAUSED", 1);
    k.wait_status(&winner, "JUSPAY_DECLINED");
    let later = today(&k) + 70 * 86_400;
    let (code, v) = k.execute(&id, "ex8", "10.00", "c1", &format!("&mandate.execution_date={later}"));
    assert_eq!((code, v["error_code"].as_str()), (400, Some("JP_852")), "{v}");
    assert_eq!(k.api(&format!("/mandates/{id}"), "command=pause").0, 400, "paused already");
    let (code, v) = k.api(&format!("/mandates/{id}"), "command=resume");
    assert_eq!((code, v["status"].as_str()), (200, Some("ACTIVE")), "{v}");
    k.events("MANDATE_RESUMED", 1);
    let (code, v) = k.execute(&id, "ex8", "10.00", "c1", &format!("&mandate.execution_date={later}"));
    assert_eq!(code, 200, "{v}");
    let (code, v) = k.api(&format!("/mandates/{id}"), "command=check_status");
    assert_eq!(
        (code, v["status"].as_str(), v["order_id"].as_str(), v["max_amount"].as_f64()),
        (200, Some("ACTIVE"), Some("mreg"), Some(1000.0)),
        "{v}"
    );
    assert_eq!(k.status("ex8")["status"], "PENDING_VBV", "scheduled at its execution date");
    let (code, v) = k.api(&format!("/mandates/{id}"), "command=revoke");
    assert_eq!((code, v["mandate_status"].as_str()), (200, Some("REVOKED")), "{v}");
    k.events("MANDATE_REVOKED", 1);
    // The revocation declines the debit scheduled before it.
    k.wait_status("ex8", "JUSPAY_DECLINED");
    let (code, v) = k.execute(&id, "ex9", "10.00", "c1", &format!("&mandate.execution_date={}", later + 31 * 86_400));
    assert_eq!((code, v["error_code"].as_str()), (400, Some("JP_852")), "{v}");
    assert_eq!(k.api(&format!("/mandates/{id}"), "command=revoke").0, 400, "revoked already");
    assert_eq!(k.api(&format!("/mandates/{id}"), "command=explode").1["error_code"], "bad_request");
    // Another merchant sees none of it.
    assert_eq!(k.api_as(M2_KEY, &format!("/mandates/{id}"), "command=check_status").0, 404);
    assert_eq!(k.get_as(M2_KEY, "/customers/c1/mandates").1["total"], 0);
    let (code, v) = k.get("/customers/c1/mandates");
    assert_eq!(
        (code, v["object"].as_str(), v["total"].as_i64(), v["list"][0]["status"].as_str()),
        (200, Some("list"), Some(1), Some("REVOKED")),
        "{v}"
    );
    assert_eq!(k.count("SELECT order_pk FROM mandate_executions WHERE status = 'SUCCEEDED'"), 1, "ex1 only has settled");
}

#[test]
fn a_upi_mandate_is_debited_only_24_hours_after_a_successful_pre_debit_notification_and_expires() {
    let k = start();
    let end = today(&k) + 10 * DAY_MS / 1000;
    let order = k.order(
        "ureg",
        "1.00",
        "c1",
        &format!("&options.create_mandate=OPTIONAL&mandate.max_amount=500.00&mandate.frequency=ASPRESENTED&mandate.end_date={end}"),
    );
    let (code, v) = k.txn(&order, json!({ "payment_method_type": "UPI", "upi_vpa": "success@kassa", "should_create_mandate": "true" }));
    assert_eq!(code, 200, "{v}");
    let st = k.wait_status("ureg", "CHARGED");
    assert_eq!(
        (st["mandate"]["mandate_type"].as_str(), st["mandate"]["mandate_status"].as_str()),
        (Some("EMANDATE"), Some("ACTIVE")),
        "{st}"
    );
    let id = st["mandate"]["mandate_id"].as_str().unwrap().to_string();
    assert_eq!(k.get("/customers/c1/mandates").1["list"][0]["payment_info"]["upi"]["payer_vpa"], "success@kassa");

    let (code, v) = k.execute(&id, "u1", "100.00", "c1", "");
    assert_eq!((code, v["error_code"].as_str()), (400, Some("JP_851")), "no notification: {v}");
    let txn_date = today(&k) + 86_400 + 60;
    let notify = |reference: &str, amount: &str| {
        k.api(
            &format!("/mandates/{id}"),
            &format!("command=pre_debit_notify&object_reference_id={reference}&description=Plan&source_info=%7B%22amount%22%3A%22{amount}%22%2C%22txn_date%22%3A%22{txn_date}%22%7D"),
        )
    };
    let (code, v) = notify("n1", "100.00");
    assert_eq!((code, v["status"].as_str(), v["source_info"]["amount"].as_str()), (200, Some("PENDING"), Some("100.00")), "{v}");
    let ok = k.events("NOTIFICATION_SUCCEEDED", 1);
    assert_eq!(
        (ok[0]["content"]["notification"]["status"].as_str(), ok[0]["content"]["notification"]["mandate"]["mandate_id"].as_str()),
        (Some("SUCCESS"), Some(id.as_str()))
    );
    assert_eq!(notify("n1", "100.00").1["id"], v["id"], "the same reference is the same notification");
    assert_eq!(notify("n1", "99.00").0, 400);
    assert_eq!(notify("n2", "600.00").1["error_code"], "invalid_amount");
    notify("n3", "100.03");
    k.events("NOTIFICATION_FAILED", 1);
    notify("n4", "40.00");
    k.events("NOTIFICATION_SUCCEEDED", 2);

    let (code, v) = k.execute(&id, "u1", "100.00", "c1", "");
    assert_eq!((code, v["error_code"].as_str()), (400, Some("JP_851")), "notified less than 24 hours ago: {v}");
    k.clock.0.fetch_add(DAY_MS + 60_000, Ordering::SeqCst);
    // A notification covers one debit of at most its amount (ASPRESENTED: no cycle, a debit per notification).
    let (code, v) = k.execute(&id, "u1", "100.00", "c1", "");
    assert_eq!(code, 200, "{v}");
    k.wait_status("u1", "CHARGED");
    let (code, v) = k.execute(&id, "u2", "50.00", "c1", "");
    assert_eq!((code, v["error_code"].as_str()), (400, Some("JP_851")), "n1 is used and n4 is for 40.00: {v}");
    assert_eq!(k.execute(&id, "u2", "40.00", "c1", "").0, 200);
    k.wait_status("u2", "CHARGED");
    let (code, v) = k.execute(&id, "u3", "1.00", "c1", "");
    assert_eq!((code, v["error_code"].as_str()), (400, Some("JP_851")), "every notification is used: {v}");
    assert_eq!(k.get("/orders/u3").0, 404);

    // At its end date the worker expires it; nothing can be debited after.
    k.clock.0.fetch_add(10 * DAY_MS, Ordering::SeqCst);
    let expired = k.events("MANDATE_EXPIRED", 1);
    assert_eq!(expired[0]["content"]["mandate"]["status"], "EXPIRED");
    let (code, v) = k.execute(&id, "u3", "10.00", "c1", "");
    assert_eq!((code, v["error_code"].as_str()), (400, Some("JP_852")), "{v}");
    assert_eq!(k.api(&format!("/mandates/{id}"), "command=revoke").0, 400);
}

#[test]
fn the_payment_management_page_lists_deletes_and_revokes_only_its_customers_instruments() {
    let k = start();
    let id = card_mandate(&k, "pmreg", "");
    let fixed = {
        let order = k.order(
            "pmfix",
            "5.00",
            "c1",
            "&options.create_mandate=REQUIRED&mandate.amount_rule=FIXED&mandate.frequency=ONETIME&mandate.revokable_by_customer=false",
        );
        k.pay(&order, merged(json!({ "save_to_locker": "true" }), common::card_fields("5555555555554444")));
        k.wait_status("pmfix", "CHARGED")["mandate"]["mandate_id"].as_str().unwrap().to_string()
    };
    let c2_order = k.order("pmc2", "5.00", "c2", "");
    k.pay(&c2_order, merged(json!({ "save_to_locker": "true" }), common::card_fields("4111111111111111")));
    k.wait_status("pmc2", "CHARGED");
    let c2_card = k.get("/cards?customer_id=c2").1["cards"][0]["card_token"].as_str().unwrap().to_string();

    let (code, v) = k.api("/session", "action=paymentManagement");
    assert_eq!((code, v["error_code"].as_str()), (400, Some("missing_parameter")), "{v}");
    let (code, v) = k.api("/session", "action=paymentManagement&customer_id=c1&customer_phone=9876543210&language=hindi");
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["sdk_payload"]["payload"]["action"], "paymentManagement");
    let token = v["sdk_payload"]["payload"]["clientAuthToken"].as_str().unwrap().to_string();
    let link = v["payment_links"]["web"].as_str().unwrap();
    assert!(link.contains("language=hindi"), "{link}");
    let page = k.s.agent.get(link).call().unwrap().body_mut().read_to_string().unwrap();
    // Server-rendered in the customer's language: c1's Mastercard and both mandates, never c2's Visa.
    assert!(page.contains("<html lang=\"hi\"") && page.contains("सहेजे गए भुगतान तरीके"), "{page}");
    assert!(page.contains("Mastercard") && page.contains("4444") && !page.contains(&c2_card), "{page}");
    assert_eq!(page.matches("/cards/").count(), 1, "c1 saved one card: {page}");
    assert_eq!(page.matches("/revoke?language=hindi").count(), 1, "only the revocable mandate has a revoke button: {page}");
    assert!(page.contains(&format!("/mandates/{id}/revoke")), "{page}");

    let bearer = format!("Bearer {token}");
    let form = "application/x-www-form-urlencoded";
    // The customer token pays nothing and reaches no other customer's card.
    assert_eq!(
        k.send(
            "POST",
            "/txns",
            &bearer,
            "application/json",
            &json!({ "order_id": c2_order.0, "payment_method_type": "UPI", "upi_vpa": "success@kassa" }).to_string()
        )
        .0,
        401
    );
    let (code, v) = k.send("POST", "/manage/cards/delete", &bearer, form, &format!("card_token={c2_card}"));
    assert_eq!((code, v["error_code"].as_str()), (404, Some("card_not_found")), "{v}");
    assert_eq!(k.get("/cards?customer_id=c2").1["cards"].as_array().unwrap().len(), 1);
    // A mandate the terms make irrevocable by the customer stays.
    let (code, v) = k.send("POST", &format!("/manage/mandates/{fixed}/revoke"), &bearer, form, "");
    assert_eq!((code, v["error_code"].as_str()), (400, Some("mandate_not_revokable")), "{v}");
    // Their own: deleted and revoked.
    let c1_card = k.get("/cards?customer_id=c1").1["cards"][0]["card_token"].as_str().unwrap().to_string();
    let (code, v) = k.send("POST", "/manage/cards/delete", &bearer, form, &format!("card_token={c1_card}"));
    assert_eq!((code, v["deleted"].as_bool()), (200, Some(true)), "{v}");
    let (code, v) = k.send("POST", &format!("/manage/mandates/{id}/revoke"), &bearer, form, "");
    assert_eq!((code, v["mandate_status"].as_str()), (200, Some("REVOKED")), "{v}");
    k.events("MANDATE_REVOKED", 1);
    let (code, v) = k.execute(&id, "pmx", "10.00", "c1", &format!("&mandate.execution_date={}", today(&k) + 40 * 86_400));
    assert_eq!((code, v["error_code"].as_str()), (400, Some("JP_852")), "{v}");
    // An order's client token is no management token.
    let (code, _) = k.send("POST", "/manage/cards/delete", &format!("Bearer {}", c2_order.1), form, &format!("card_token={c2_card}"));
    assert_eq!(code, 401);
    // The page's own form posts (no JavaScript): a card removed and back to the page, in its language.
    k.pay(&k.order("pmagain", "5.00", "c1", ""), merged(json!({ "save_to_locker": "true" }), common::card_fields("4111111111111111")));
    k.wait_status("pmagain", "CHARGED");
    let again = k.get("/cards?customer_id=c1").1["cards"][0]["card_token"].as_str().unwrap().to_string();
    let path = link.split_once("/merchant/").unwrap().1.split_once('?').unwrap().0;
    let resp = k.s.agent.post(format!("{}/merchant/{path}/cards/{again}/delete?language=hindi", k.s.base)).send("").unwrap();
    assert_eq!(resp.status().as_u16(), 303);
    let to = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(to.ends_with("?language=hindi&done=removed"), "{to}");
    let page = k.s.agent.get(format!("{}{to}", k.s.base)).call().unwrap().body_mut().read_to_string().unwrap();
    assert!(page.contains("कार्ड हटा दिया गया।"), "{page}");
    assert_eq!(k.get("/cards?customer_id=c1").1["cards"], json!([]));
    // Nothing of another customer through the form either; an unknown token is an expired link.
    let resp = k.s.agent.post(format!("{}/merchant/{path}/cards/{c2_card}/delete", k.s.base)).send("").unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    let resp = k.s.agent.post(format!("{}/merchant/manage/kct_forged.x/mandates/{fixed}/revoke", k.s.base)).send("").unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    assert_eq!(k.get("/cards?customer_id=c2").1["cards"].as_array().unwrap().len(), 1);
    // A revoke of a mandate that never became active says nothing was done; a repeated one, that it is revoked.
    let failed = k.order("pmfail", "1.00", "c1", "&options.create_mandate=REQUIRED&mandate.max_amount=100.00");
    let (code, v) = k.txn(&failed, common::card_fields("4111111111111111"));
    assert_eq!(code, 200, "{v}");
    let bank = v["payment"]["authentication"]["url"].as_str().unwrap();
    k.s.agent.post(bank).header("content-type", form).send("action=cancel").unwrap();
    let st = k.wait_status("pmfail", "AUTHENTICATION_FAILED");
    assert_eq!(st["mandate"]["mandate_status"], "FAILURE", "{st}");
    let failed_id = st["mandate"]["mandate_id"].as_str().unwrap();
    for (mandate, want) in [(failed_id, "?language=hindi"), (id.as_str(), "?language=hindi&done=revoked")] {
        let resp = k.s.agent.post(format!("{}/merchant/{path}/mandates/{mandate}/revoke?language=hindi", k.s.base)).send("").unwrap();
        assert_eq!(resp.status().as_u16(), 303);
        let to = resp.headers()["location"].to_str().unwrap().to_string();
        assert!(to.ends_with(want), "{to}");
    }
    assert_eq!(k.status("pmfail")["mandate"]["mandate_status"], "FAILURE");
    assert!(kassa_server::manage::missing_keys().is_empty(), "{:?}", kassa_server::manage::missing_keys());
    // The audit log names the customer, never a token.
    let audit = query_strings(&k.s.db_url, "SELECT actor || ' ' || action FROM audit_events");
    assert!(audit.iter().any(|a| a == "customer:c1 mandate.revoke"), "{audit:?}");
    assert!(audit.iter().all(|a| !a.contains(&token)));
}
