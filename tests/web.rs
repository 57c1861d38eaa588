//! Widget tests in a real browser (wasm-bindgen-test, headless Chromium):
//! mount the payment page into a test element, act, and assert on the DOM.

#![cfg(target_arch = "wasm32")]
#![allow(missing_docs, clippy::unwrap_used)]

use kassa_types::view::{PageConfig, PageOrder, Variant};
use kassa_types::{OrderStatus, PaymentMethod, PaymentOptions};
use kassa_widget::page::{format_expiry, validate_card};
use kassa_widget::{Handle, mount_page};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement};

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
        },
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
    assert_eq!(e.expiry, Some("This card has expired."));
    assert_eq!(e.cvv, Some("Enter the 4-digit security code."));
    assert_eq!(e.name, Some("Enter the name on the card."));
    assert_eq!(format_expiry("1230"), "12/30");
    assert_eq!(format_expiry("12/3"), "12/3");
    assert_eq!(format_expiry("1"), "1");
}
