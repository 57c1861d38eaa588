//! Widget tests in a real browser (wasm-bindgen-test, headless Chromium):
//! mount the payment page into a test element, act, and assert on the DOM.

#![cfg(target_arch = "wasm32")]
#![allow(missing_docs, clippy::unwrap_used)]

use kassa_types::view::{MandateTerms, PageConfig, PageOrder, SavedCardView, Variant};
use kassa_types::{OrderStatus, PaymentMethod, PaymentOptions};
use kassa_widget::i18n::{Key, LANGUAGES, Strings};
use kassa_widget::page::{format_countdown, format_expiry, validate_card};
use kassa_widget::{Handle, mount_page, mount_strings, mount_with};
use leptos::prelude::RwSignal;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlButtonElement, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

fn config(expires_in_ms: f64) -> PageConfig {
    PageConfig {
        client_token: "kct_test".into(),
        api_base: "http://127.0.0.1:9".into(),
        variant: Variant::Web,
        order: PageOrder {
            id: "ord_0123456789abcdef0123456789abcdef".into(),
            order_id: "test_1".into(),
            merchant_name: "Test Shop".into(),
            amount_minor: 12_345_678,
            currency: "INR".into(),
            status: OrderStatus::NEW,
            methods: vec![PaymentMethod::Card, PaymentMethod::Nb, PaymentMethod::Wallet],
            expires_at_ms: (js_sys::Date::now() + expires_in_ms) as u64,
            description: None,
            preauth: false,
            saved_cards: Vec::new(),
            can_save_card: false,
            mandate: None,
        },
        language: None,
        assets_base: None,
        theme_vars: Default::default(),
        logo: None,
        appearance: Default::default(),
        parent_origins: Vec::new(),
    }
}

fn host() -> HtmlElement {
    let doc = web_sys::window().unwrap().document().unwrap();
    let el: HtmlElement = doc.create_element("div").unwrap().unchecked_into();
    doc.body().unwrap().append_child(&el).unwrap();
    el
}

fn mount(cfg: PageConfig, options: &str) -> (HtmlElement, Handle) {
    let el = host();
    let handle = mount_page(el.clone(), cfg, PaymentOptions::parse(options));
    (el, handle)
}

fn q(el: &HtmlElement, sel: &str) -> Element {
    el.query_selector(sel).unwrap().unwrap_or_else(|| panic!("no {sel}"))
}

fn text(el: &HtmlElement, sel: &str) -> String {
    q(el, sel).text_content().unwrap_or_default()
}

fn tabs(el: &HtmlElement) -> Vec<String> {
    let list = el.query_selector_all("[role=tab]").unwrap();
    (0..list.length()).map(|i| list.item(i).unwrap().text_content().unwrap().trim().to_string()).collect()
}

/// Lets Leptos run its effects.
async fn tick() {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0).unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
}

fn type_into(el: &HtmlElement, sel: &str, value: &str) {
    let input: HtmlInputElement = q(el, sel).unchecked_into();
    input.set_value(value);
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    input.dispatch_event(&web_sys::Event::new_with_event_init_dict("input", &init).unwrap()).unwrap();
}

#[wasm_bindgen_test]
fn shows_the_order_summary_and_all_enabled_methods() {
    let (el, _h) = mount(config(600_000.0), "");
    assert_eq!(text(&el, ".kassa-amount"), "₹1,23,456.78");
    assert_eq!(text(&el, ".kassa-merchant"), "Test Shop");
    assert_eq!(tabs(&el), ["Card", "Netbanking", "Wallet"]);
    assert_eq!(q(&el, "[role=tab][aria-selected=true]").text_content().unwrap().trim(), "Card");
    assert!(el.query_selector("#kassa-card-number").unwrap().is_some());
}

#[wasm_bindgen_test]
fn payment_options_filter_the_tabs() {
    let (el, _h) = mount(config(600_000.0), "wallet|nb");
    assert_eq!(tabs(&el), ["Netbanking", "Wallet"]);
    let (el, _h) = mount(config(600_000.0), "upi");
    assert!(tabs(&el).is_empty());
    assert!(text(&el, ".kassa-notice").contains("No payment method"));
}

#[wasm_bindgen_test]
fn expired_orders_cannot_be_paid() {
    let (el, _h) = mount(config(-1.0), "");
    assert!(text(&el, ".kassa-notice").contains("expired"));
    assert!(el.query_selector(".kassa-pay").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn formats_the_card_number_and_detects_the_brand() {
    let (el, _h) = mount(config(600_000.0), "");
    type_into(&el, "#kassa-card-number", "378282246310005");
    tick().await;
    let input: HtmlInputElement = q(&el, "#kassa-card-number").unchecked_into();
    assert_eq!(input.value(), "3782 822463 10005");
    assert_eq!(text(&el, ".kassa-brand"), "American Express");
}

#[wasm_bindgen_test]
async fn submitting_an_empty_card_form_shows_every_error() {
    let (el, _h) = mount(config(600_000.0), "");
    let pay: HtmlElement = q(&el, ".kassa-pay").unchecked_into();
    pay.click();
    tick().await;
    assert_eq!(text(&el, "#kassa-card-number-error"), "Enter a valid card number.");
    assert_eq!(text(&el, "#kassa-card-expiry-error"), "Enter the expiry date as MM/YY.");
    assert_eq!(text(&el, "#kassa-card-cvv-error"), "Enter the 3-digit security code.");
    assert_eq!(text(&el, "#kassa-card-name-error"), "Enter the name on the card.");
    assert_eq!(q(&el, "#kassa-card-number").get_attribute("aria-invalid").as_deref(), Some("true"));
    assert_eq!(q(&el, "#kassa-card-number").get_attribute("aria-describedby").as_deref(), Some("kassa-card-number-error"));
}

#[wasm_bindgen_test]
fn unmount_removes_the_page() {
    let (el, mut h) = mount(config(600_000.0), "");
    assert!(el.query_selector(".kassa").unwrap().is_some());
    h.unmount();
    assert!(el.query_selector(".kassa").unwrap().is_none());
}

#[wasm_bindgen_test]
fn card_validation_rules() {
    let now = (11, 2026);
    assert!(validate_card("4111 1111 1111 1111", "12/30", "123", "A", now).is_empty());
    assert!(validate_card("3782 822463 10005", "11/26", "1234", "A", now).is_empty());
    let e = validate_card("3782 822463 10005", "10/26", "123", " ", now);
    assert_eq!(e.expiry, Some(Key::ErrCardExpired));
    assert_eq!(e.cvv, Some(Key::ErrCvv4));
    assert_eq!(e.name, Some(Key::ErrName));
    assert_eq!(format_expiry("1230"), "12/30");
    assert_eq!(format_expiry("12/3"), "12/3");
    assert_eq!(format_expiry("1"), "1");
}

/// Every language file, as the build ships it.
const TABLES: [(&str, &str); 9] = [
    ("english", include_str!("../i18n/english.json")),
    ("hindi", include_str!("../i18n/hindi.json")),
    ("telugu", include_str!("../i18n/telugu.json")),
    ("tamil", include_str!("../i18n/tamil.json")),
    ("bengali", include_str!("../i18n/bengali.json")),
    ("malayalam", include_str!("../i18n/malayalam.json")),
    ("gujarati", include_str!("../i18n/gujarati.json")),
    ("kannada", include_str!("../i18n/kannada.json")),
    ("marathi", include_str!("../i18n/marathi.json")),
];

fn table(lang: &str) -> wasm_bindgen::JsValue {
    js_sys::JSON::parse(TABLES.iter().find(|(l, _)| *l == lang).unwrap().1).unwrap()
}

#[wasm_bindgen_test]
fn every_language_translates_every_key_and_nothing_else() {
    assert_eq!(TABLES.map(|(l, _)| l), LANGUAGES.map(|(l, _)| l));
    let english = table("english");
    for (lang, _) in TABLES {
        let t = table(lang);
        let keys = js_sys::Object::keys(t.unchecked_ref::<js_sys::Object>());
        assert_eq!(keys.length() as usize, Key::ALL.len(), "{lang}: a key is missing or unknown");
        for key in Key::ALL {
            let get = |o: &wasm_bindgen::JsValue| js_sys::Reflect::get(o, &key.id().into()).unwrap().as_string();
            let value = get(&t).unwrap_or_else(|| panic!("{lang} has no {}", key.id()));
            assert!(!value.trim().is_empty(), "{lang}.{} is empty", key.id());
            let en = get(&english).unwrap();
            for ph in ["{amount}", "{time}"] {
                assert_eq!(en.contains(ph), value.contains(ph), "{lang}.{}: placeholder {ph}", key.id());
            }
            if lang != "english" && !["tab_upi", "card_cvv", "upi_id"].contains(&key.id()) {
                assert_ne!(value, en, "{lang}.{} is not translated", key.id());
            }
        }
    }
}

#[wasm_bindgen_test]
fn a_language_and_merchant_overrides_change_the_words() {
    let overrides = js_sys::JSON::parse(r#"{"pay":"Buy now for {amount}","secured":42,"nonsense":"x"}"#).unwrap();
    let el = host();
    let strings = RwSignal::new(Some(Strings::build("hindi", Some(&table("hindi")), Some(&overrides))));
    let _h = mount_strings(el.clone(), config(600_000.0), PaymentOptions::parse(""), strings);
    assert_eq!(tabs(&el), ["कार्ड", "नेटबैंकिंग", "वॉलेट"]);
    assert_eq!(q(&el, ".kassa").get_attribute("lang").as_deref(), Some("hi"));
    assert_eq!(text(&el, ".kassa-pay").trim(), "Buy now for ₹1,23,456.78");
    // A non-string override is ignored: the Hindi string stays.
    assert_eq!(text(&el, ".kassa-footer"), "Kassa द्वारा सुरक्षित");
    assert_eq!(text(&el, "label[for=kassa-card-number]"), "कार्ड नंबर");
}

#[wasm_bindgen_test]
async fn a_language_that_cannot_be_loaded_shows_a_skeleton_then_english() {
    let el = host();
    let _h = mount_with(el.clone(), config(600_000.0), PaymentOptions::parse(""), "tamil", None);
    assert!(el.query_selector(".kassa-loading[aria-busy=true]").unwrap().is_some(), "skeleton while loading");
    // The test server has no /assets: the fetch fails and the page falls back to English.
    for _ in 0..200 {
        if el.query_selector(".kassa-amount").unwrap().is_some() {
            break;
        }
        tick().await;
    }
    assert_eq!(tabs(&el), ["Card", "Netbanking", "Wallet"]);
    assert_eq!(q(&el, ".kassa").get_attribute("lang").as_deref(), Some("en"));
}

#[wasm_bindgen_test]
async fn netbanking_lists_popular_banks_first_and_searches() {
    let (el, _h) = mount(config(600_000.0), "nb");
    let groups = el.query_selector_all(".kassa-group").unwrap();
    assert_eq!(groups.item(0).unwrap().text_content().unwrap(), "Popular banks");
    let first = q(&el, ".kassa-choice span").text_content().unwrap();
    assert_eq!(first, "State Bank of India");
    type_into(&el, "#kassa-bank-search", "kotak");
    tick().await;
    let names = el.query_selector_all(".kassa-choice span").unwrap();
    assert_eq!(names.length(), 1);
    assert_eq!(names.item(0).unwrap().text_content().unwrap(), "Kotak Mahindra Bank");
    type_into(&el, "#kassa-bank-search", "zzz");
    tick().await;
    assert_eq!(text(&el, ".kassa-empty"), "No bank matches your search.");
}

#[wasm_bindgen_test]
async fn the_upi_id_is_checked_before_anything_is_sent() {
    let mut cfg = config(600_000.0);
    cfg.order.methods.push(PaymentMethod::Upi);
    let (el, _h) = mount(cfg, "upi");
    assert_eq!(tabs(&el), ["UPI"]);
    assert_eq!(q(&el, "#kassa-upi-id").get_attribute("inputmode").as_deref(), Some("email"));
    type_into(&el, "#kassa-upi-id", "not a vpa");
    tick().await;
    let pay: HtmlElement = q(&el, ".kassa-pay").unchecked_into();
    pay.click();
    tick().await;
    assert_eq!(text(&el, "#kassa-upi-id-error"), "Enter a valid UPI ID, such as name@bank.");
    assert_eq!(q(&el, "#kassa-upi-id").get_attribute("aria-describedby").as_deref(), Some("kassa-upi-id-hint kassa-upi-id-error"));
}

#[wasm_bindgen_test]
fn the_expiry_counts_down() {
    let (el, _h) = mount(config(125_000.0), "");
    let shown = text(&el, "[data-testid=expiry]");
    assert!(shown == "This link expires in 2:05." || shown == "This link expires in 2:04.", "{shown}");
    assert_eq!(format_countdown(65_000.0), "1:05");
    assert_eq!(format_countdown(3_723_000.0), "1:02:03");
    assert_eq!(format_countdown(-5.0), "0:00");
}

#[wasm_bindgen_test]
async fn tabs_follow_the_arrow_keys() {
    let (el, _h) = mount(config(600_000.0), "");
    let list = q(&el, "[role=tablist]");
    let init = web_sys::KeyboardEventInit::new();
    init.set_key("ArrowRight");
    init.set_bubbles(true);
    let card: HtmlElement = q(&el, "#kassa-tab-card").unchecked_into();
    card.dispatch_event(&web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap()).unwrap();
    tick().await;
    assert_eq!(q(&el, "[role=tab][aria-selected=true]").id(), "kassa-tab-nb");
    init.set_key("End");
    list.dispatch_event(&web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap()).unwrap();
    tick().await;
    assert_eq!(q(&el, "[role=tab][aria-selected=true]").id(), "kassa-tab-wallet");
}

#[wasm_bindgen_test]
async fn an_unreachable_server_offers_a_retry_and_keeps_the_form() {
    // The test config's API is 127.0.0.1:9, where nothing listens.
    let (el, _h) = mount(config(600_000.0), "");
    type_into(&el, "#kassa-card-number", "4111111111111111");
    type_into(&el, "#kassa-card-expiry", "1239");
    type_into(&el, "#kassa-card-cvv", "123");
    type_into(&el, "#kassa-card-name", "Asha Rao");
    tick().await;
    let pay: HtmlElement = q(&el, ".kassa-pay").unchecked_into();
    pay.click();
    for _ in 0..200 {
        if el.query_selector(".kassa-retry").unwrap().is_some() {
            break;
        }
        tick().await;
    }
    assert!(text(&el, ".kassa-status").contains("We could not reach the payment server"));
    assert_eq!(text(&el, ".kassa-retry"), "Try again");
    assert_eq!(q(&el, ".kassa-status").get_attribute("role").as_deref(), Some("alert"));
    let number: HtmlInputElement = q(&el, "#kassa-card-number").unchecked_into();
    assert_eq!(number.value(), "4111 1111 1111 1111", "the shopper's input is kept for the retry");
    let pay: HtmlButtonElement = q(&el, ".kassa-pay").unchecked_into();
    assert!(!pay.disabled());
    // "Try again" clears the offer and sends the form as it is now (no copy of the card or CVV was
    // kept for it): the server is still unreachable, so the offer comes back only if a new request
    // went out (without one, it would stay cleared).
    let retry: HtmlElement = q(&el, ".kassa-retry").unchecked_into();
    retry.click();
    tick().await;
    for _ in 0..200 {
        if el.query_selector(".kassa-retry").unwrap().is_some() {
            break;
        }
        tick().await;
    }
    assert_eq!(text(&el, ".kassa-retry"), "Try again");
}

/// Issue 13, defect 3: the page and `POST /txns` agree. An order whose
/// attempt waits on an abandoned bank page (PENDING_VBV) offers the methods
/// again; one whose bank is authorizing, or that was paid, offers none.
#[wasm_bindgen_test]
fn a_pending_bank_page_does_not_block_paying_another_way() {
    for (status, payable) in [
        (OrderStatus::PENDING_VBV, true),
        (OrderStatus::AUTHENTICATION_FAILED, true),
        (OrderStatus::AUTHORIZING, false),
        (OrderStatus::CHARGED, false),
    ] {
        assert_eq!(status.accepts_new_attempt(), payable, "{status}");
        let mut cfg = config(600_000.0);
        cfg.order.status = status;
        let (el, _h) = mount(cfg, "");
        assert_eq!(!tabs(&el).is_empty(), payable, "{status}: tabs {:?}", tabs(&el));
        if !payable {
            assert!(!text(&el, ".kassa-notice").is_empty(), "{status}");
        }
    }
}

// ---- The widget's lifecycle (issue 13, defect 6) ----

/// Replaces `window.fetch` with one that records each call and answers only
/// when the test says so (`window.__kassaFetches[i].answer(json)`); a call
/// whose signal aborts is rejected with an AbortError, as fetch does.
fn fake_fetch() -> FakeFetch {
    let w = web_sys::window().unwrap();
    let real = js_sys::Reflect::get(&w, &"fetch".into()).unwrap();
    let f = js_sys::Function::new_with_args(
        "url, init",
        "const calls = (window.__kassaFetches = window.__kassaFetches || []);
         return new Promise((resolve, reject) => {
           const call = { url: String(url), signal: init && init.signal, body: init && init.body, settled: false };
           call.answer = (body) => { if (!call.settled) { call.settled = true; resolve(new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } })); } };
           // window.__kassaDeaf: the fake ignores aborts, like an answer already on its way.
           if (call.signal && !window.__kassaDeaf) call.signal.addEventListener('abort', () => { if (!call.settled) { call.settled = true; reject(new DOMException('aborted', 'AbortError')); } });
           calls.push(call);
         });",
    );
    js_sys::Reflect::set(&w, &"__kassaFetches".into(), &js_sys::Array::new()).unwrap();
    js_sys::Reflect::set(&w, &"__kassaDeaf".into(), &false.into()).unwrap();
    js_sys::Reflect::set(&w, &"fetch".into(), &f).unwrap();
    FakeFetch(real)
}

/// Puts the browser's `fetch` back when the test ends, passed or failed:
/// the other tests share the page.
struct FakeFetch(wasm_bindgen::JsValue);

impl Drop for FakeFetch {
    fn drop(&mut self) {
        let _ = js_sys::Reflect::set(&web_sys::window().unwrap(), &"fetch".into(), &self.0);
    }
}

fn fetches() -> js_sys::Array {
    js_sys::Reflect::get(&web_sys::window().unwrap(), &"__kassaFetches".into()).unwrap().unchecked_into()
}

fn fetch_prop(i: u32, key: &str) -> wasm_bindgen::JsValue {
    js_sys::Reflect::get(&fetches().get(i), &key.into()).unwrap()
}

fn answer_fetch(i: u32, body: &str) {
    let answer: js_sys::Function = fetch_prop(i, "answer").unchecked_into();
    answer.call1(&wasm_bindgen::JsValue::NULL, &js_sys::JSON::parse(body).unwrap()).unwrap();
}

async fn wait_ms(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms).unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
}

async fn fill_card_and_pay(el: &HtmlElement) {
    type_into(el, "#kassa-card-number", "4111111111111111");
    type_into(el, "#kassa-card-expiry", "1239");
    type_into(el, "#kassa-card-cvv", "123");
    type_into(el, "#kassa-card-name", "Asha Rao");
    tick().await;
    let pay: HtmlElement = q(el, ".kassa-pay").unchecked_into();
    pay.click();
    tick().await;
}

#[wasm_bindgen_test]
async fn unmounting_mid_request_aborts_it_and_never_navigates() {
    let _fetch = fake_fetch();
    let href = web_sys::window().unwrap().location().href().unwrap();
    let (el, mut h) = mount(config(600_000.0), "");
    fill_card_and_pay(&el).await;
    assert_eq!(fetches().length(), 1, "POST /txns is in flight");
    let signal: web_sys::AbortSignal = fetch_prop(0, "signal").unchecked_into();
    assert!(!signal.aborted());
    h.unmount();
    tick().await;
    assert!(signal.aborted(), "unmounting aborts the request");
    assert!(el.query_selector(".kassa").unwrap().is_none());
    // An answer that arrives all the same (here: a fetch deaf to the abort)
    // sends nobody anywhere and touches no disposed signal.
    js_sys::Reflect::set(&web_sys::window().unwrap(), &"__kassaDeaf".into(), &true.into()).unwrap();
    let (el, mut h) = mount(config(600_000.0), "");
    fill_card_and_pay(&el).await;
    assert_eq!(fetches().length(), 2);
    h.unmount();
    answer_fetch(
        1,
        r#"{"order_id":"test_1","txn_id":"m-test_1-1","txn_uuid":"txn_1","status":"PENDING_VBV","payment":{"authentication":{"method":"GET","url":"https://bank.example/otp"}}}"#,
    );
    wait_ms(50).await;
    assert_eq!(web_sys::window().unwrap().location().href().unwrap(), href);
    assert!(el.query_selector(".kassa").unwrap().is_none());
    // The wasm is alive: another page mounts and works.
    let (el2, _h2) = mount(config(600_000.0), "");
    assert_eq!(tabs(&el2), ["Card", "Netbanking", "Wallet"]);
}

#[wasm_bindgen_test]
async fn unmounting_mid_collect_stops_polling() {
    let _fetch = fake_fetch();
    let mut cfg = config(600_000.0);
    cfg.order.methods = vec![PaymentMethod::Upi];
    let (el, mut h) = mount(cfg, "");
    type_into(&el, "#kassa-upi-id", "success@kassa");
    tick().await;
    let pay: HtmlElement = q(&el, ".kassa-pay").unchecked_into();
    pay.click();
    tick().await;
    assert_eq!(fetches().length(), 1);
    answer_fetch(
        0,
        r#"{"order_id":"test_1","txn_id":"m-test_1-1","status":"PENDING_VBV","payment":{"collect":{"status_url":"http://127.0.0.1:9/txns/t1","cancel_url":"http://127.0.0.1:9/txns/t1/cancel","poll_interval_ms":250,"expires_at":"2999-01-01T00:00:00Z"}}}"#,
    );
    // The page polls: the first poll goes out after 250 ms and stays unanswered.
    for _ in 0..40 {
        if fetches().length() >= 2 {
            break;
        }
        wait_ms(25).await;
    }
    assert!(el.query_selector(".kassa-collect").unwrap().is_some());
    assert_eq!(fetches().length(), 2, "one poll in flight");
    h.unmount();
    tick().await;
    let poll_signal: web_sys::AbortSignal = fetch_prop(1, "signal").unchecked_into();
    assert!(poll_signal.aborted(), "the poll in flight is aborted");
    wait_ms(800).await;
    assert_eq!(fetches().length(), 2, "no poll after unmount");
    let (el2, _h2) = mount(config(600_000.0), "");
    assert!(el2.query_selector("#kassa-card-number").unwrap().is_some());
}

/// The exported `mount()` fed with the configuration the server embeds in
/// the payment page (`crates/server/tests/fixtures/page-config.json`, which
/// the server's own test keeps equal in shape to what it serves).
#[wasm_bindgen_test]
fn the_exported_mount_reads_the_servers_embedded_configuration() {
    let json = include_str!("../crates/server/tests/fixtures/page-config.json");
    let config = js_sys::JSON::parse(json).unwrap();
    // The fixture's expiry is in the past; move it ahead so the form shows.
    let order = js_sys::Reflect::get(&config, &"order".into()).unwrap();
    js_sys::Reflect::set(&order, &"expires_at_ms".into(), &(js_sys::Date::now() + 600_000.0).into()).unwrap();
    let el = host();
    let _h = kassa_widget::mount(el.clone(), config).map_err(|_| "mount refused the server's configuration").unwrap();
    assert_eq!(text(&el, ".kassa-merchant"), "Merchant m1");
    assert_eq!(text(&el, ".kassa-amount"), "₹499.00");
    assert_eq!(tabs(&el), ["Card", "UPI", "Netbanking", "Wallet"]);
}

#[wasm_bindgen_test]
fn a_pre_authorization_says_the_amount_is_held_and_a_held_order_takes_no_payment() {
    let mut cfg = config(600_000.0);
    cfg.order.preauth = true;
    cfg.order.methods = vec![PaymentMethod::Card];
    let (el, _h) = mount(cfg.clone(), "");
    let note = text(&el, "#kassa-hold-note");
    assert!(note.contains("₹1,23,456.78") && note.contains("held") && note.contains("not charged"), "{note}");
    assert_eq!(q(&el, ".kassa-pay").get_attribute("aria-describedby").as_deref(), Some("kassa-hold-note"));
    // An ordinary order has no such note.
    let (el, _h) = mount(config(600_000.0), "");
    assert!(el.query_selector("#kassa-hold-note").unwrap().is_none());
    assert_eq!(q(&el, ".kassa-pay").get_attribute("aria-describedby"), None);
    // Once held, captured or voided, the page offers no payment.
    for (status, words) in
        [(OrderStatus::AUTHORIZED, "held"), (OrderStatus::PARTIAL_CHARGED, "already been paid"), (OrderStatus::VOIDED, "closed")]
    {
        let mut cfg = cfg.clone();
        cfg.order.status = status;
        let (el, _h) = mount(cfg, "");
        assert!(text(&el, ".kassa-notice").contains(words), "{status}");
        assert!(el.query_selector(".kassa-pay").unwrap().is_none(), "{status}");
    }
}

// ---- Stored instruments (issue 15) ----

fn saved(token: &str, last4: &str, brand: &str, year: u16, expired: bool) -> SavedCardView {
    SavedCardView { token: token.into(), last4: last4.into(), brand: Some(brand.into()), exp_month: 12, exp_year: year, expired }
}

fn sent_body(i: u32) -> wasm_bindgen::JsValue {
    js_sys::JSON::parse(&fetch_prop(i, "body").as_string().unwrap()).unwrap()
}

fn field(v: &wasm_bindgen::JsValue, key: &str) -> Option<String> {
    js_sys::Reflect::get(v, &key.into()).unwrap().as_string()
}

fn hidden(el: &HtmlElement, sel: &str) -> bool {
    q(el, sel).closest("[hidden]").unwrap().is_some()
}

#[wasm_bindgen_test]
async fn saved_cards_come_first_are_paid_with_the_cvv_only_and_a_new_card_can_be_saved() {
    let _fetch = fake_fetch();
    let mut cfg = config(600_000.0);
    cfg.order.saved_cards = vec![saved("tkn_visa", "1111", "VISA", 2039, false), saved("tkn_old", "4444", "MASTERCARD", 2020, true)];
    cfg.order.can_save_card = true;
    let (el, _h) = mount(cfg, "");
    let labels = el.query_selector_all("input[name=kassa-saved]").unwrap();
    assert_eq!(labels.length(), 3, "two saved cards and a new one");
    let choices: Vec<String> = (0..3).map(|i| labels.item(i).unwrap().parent_node().unwrap().text_content().unwrap()).collect();
    assert_eq!(choices[0], "Visa ending in 1111, expires 12/39");
    assert_eq!(choices[1], "Mastercard ending in 4444, expires 12/20 (Expired)");
    assert_eq!(choices[2], "Use a new card");
    let expired: HtmlInputElement = labels.item(1).unwrap().unchecked_into();
    assert!(expired.disabled(), "an expired card cannot be chosen");
    let first: HtmlInputElement = labels.item(0).unwrap().unchecked_into();
    assert!(first.checked(), "the newest valid card is chosen");
    // Only the CVV is asked for.
    assert!(hidden(&el, "#kassa-card-number") && hidden(&el, "#kassa-card-expiry") && hidden(&el, "#kassa-card-name"));
    assert!(!hidden(&el, "#kassa-card-cvv"));
    type_into(&el, "#kassa-card-cvv", "12");
    tick().await;
    let pay: HtmlElement = q(&el, ".kassa-pay").unchecked_into();
    pay.click();
    tick().await;
    assert_eq!(fetches().length(), 0, "a short CVV is not sent");
    assert!(text(&el, "#kassa-card-cvv-error").contains("3-digit"));
    type_into(&el, "#kassa-card-cvv", "123");
    tick().await;
    pay.click();
    tick().await;
    assert_eq!(fetches().length(), 1);
    let body = sent_body(0);
    assert_eq!((field(&body, "card_token").as_deref(), field(&body, "card_security_code").as_deref()), (Some("tkn_visa"), Some("123")));
    assert_eq!(field(&body, "card_number"), None);
    // A new card: its fields come back, with the opt-in to save it.
    let (el, _h2) = {
        let mut cfg = config(600_000.0);
        cfg.order.saved_cards = vec![saved("tkn_visa", "1111", "VISA", 2039, false)];
        cfg.order.can_save_card = true;
        mount(cfg, "")
    };
    let new: HtmlInputElement = el.query_selector_all("input[name=kassa-saved]").unwrap().item(1).unwrap().unchecked_into();
    new.click();
    tick().await;
    assert!(!hidden(&el, "#kassa-card-number"));
    let save: HtmlInputElement = q(&el, "#kassa-save-card").unchecked_into();
    assert_eq!(save.parent_node().unwrap().text_content().unwrap(), "Save this card for faster payments");
    save.click();
    fill_card_and_pay(&el).await;
    let body = sent_body(1);
    assert_eq!(
        (field(&body, "card_number").as_deref(), field(&body, "save_to_locker").as_deref()),
        (Some("4111111111111111"), Some("true"))
    );
    assert_eq!(field(&body, "card_token"), None);
    // No customer: nothing to save the card for.
    let (el, _h3) = mount(config(600_000.0), "");
    assert!(el.query_selector("#kassa-save-card").unwrap().is_none() && el.query_selector("input[name=kassa-saved]").unwrap().is_none());
}

fn monthly(mode: &str) -> MandateTerms {
    MandateTerms {
        mode: mode.into(),
        max_amount_minor: 100_000,
        amount_rule: "VARIABLE".into(),
        frequency: "MONTHLY".into(),
        start_date: 1_796_256_000,
        end_date: 1_827_792_000,
        revokable: true,
        upi: true,
    }
}

#[wasm_bindgen_test]
async fn a_mandate_shows_its_terms_beside_the_pay_button_and_an_optional_one_is_opted_into() {
    let _fetch = fake_fetch();
    let mut cfg = config(600_000.0);
    cfg.order.mandate = Some(monthly("OPTIONAL"));
    let (el, _h) = mount(cfg, "");
    let terms = text(&el, "#kassa-mandate-terms");
    assert!(
        terms.contains("Test Shop") && terms.contains("up to ₹1,000.00 every month") && terms.contains("cancel this at any time"),
        "{terms}"
    );
    assert_eq!(q(&el, ".kassa-pay").get_attribute("aria-describedby").as_deref(), Some("kassa-mandate-terms"));
    let opt: HtmlInputElement = q(&el, "#kassa-mandate-opt-in").unchecked_into();
    assert!(!opt.checked());
    opt.click();
    fill_card_and_pay(&el).await;
    assert_eq!(field(&sent_body(0), "should_create_mandate").as_deref(), Some("true"));
    // REQUIRED: the terms, no opt-in (the server registers it whatever is sent).
    let mut cfg = config(600_000.0);
    cfg.order.mandate = Some(MandateTerms { amount_rule: "FIXED".into(), revokable: false, ..monthly("REQUIRED") });
    let (el, _h2) = mount(cfg, "");
    assert!(el.query_selector("#kassa-mandate-opt-in").unwrap().is_none());
    let terms = text(&el, "#kassa-mandate-terms");
    assert!(terms.contains("charge ₹1,000.00 every month") && terms.contains("cannot cancel"), "{terms}");
    // In Hindi.
    let hindi = Strings::build("hindi", Some(&table("hindi")), None);
    let t = kassa_widget::page::terms_text(&hindi, &monthly("OPTIONAL"), "Test Shop", "INR");
    assert!(t.contains("हर महीने") && t.contains("₹1,000.00") && t.contains("Test Shop"), "{t}");
}

#[wasm_bindgen_test]
async fn an_opt_in_goes_only_with_a_method_that_can_register_the_mandate() {
    let _fetch = fake_fetch();
    let mut cfg = config(600_000.0);
    cfg.order.methods.push(PaymentMethod::Upi);
    // No end date set by the merchant: UPI cannot register it.
    cfg.order.mandate = Some(MandateTerms { upi: false, ..monthly("OPTIONAL") });
    let (el, _h) = mount(cfg, "");
    let opt: HtmlInputElement = q(&el, "#kassa-mandate-opt-in").unchecked_into();
    opt.click();
    tick().await;
    let upi: HtmlElement = q(&el, "#kassa-tab-upi").unchecked_into();
    upi.click();
    tick().await;
    assert!(el.query_selector("#kassa-mandate-terms").unwrap().is_none(), "no terms beside UPI's pay button");
    assert_eq!(q(&el, ".kassa-pay").get_attribute("aria-describedby"), None);
    type_into(&el, "#kassa-upi-id", "success@kassa");
    tick().await;
    let pay: HtmlElement = q(&el, ".kassa-pay").unchecked_into();
    pay.click();
    tick().await;
    assert_eq!(field(&sent_body(0), "payment_method_type").as_deref(), Some("UPI"));
    assert_eq!(field(&sent_body(0), "should_create_mandate"), None, "the card's opt-in does not travel with UPI");
    // Netbanking never registers one: the opt-in stays behind too.
    let mut cfg = config(600_000.0);
    cfg.order.mandate = Some(monthly("OPTIONAL"));
    let (el, _h2) = mount(cfg, "");
    let opt: HtmlInputElement = q(&el, "#kassa-mandate-opt-in").unchecked_into();
    opt.click();
    let nb: HtmlElement = q(&el, "#kassa-tab-nb").unchecked_into();
    nb.click();
    tick().await;
    assert!(el.query_selector("#kassa-mandate-terms").unwrap().is_none());
}
