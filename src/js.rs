//! Reading and writing the few plain JS objects the page exchanges (its
//! configuration, `/txns` bodies and answers) by property, with the browser's
//! own JSON. A generic (de)serializer costs more of the size budget than
//! these dozen fields do, and the field names are checked by the e2e tests.

use kassa_types::view::{
    Authentication, Collect, MandateTerms, PageConfig, PageOrder, SavedCardView, TxnPayment, TxnRequest, TxnResponse, TxnStatus, Variant,
};
use kassa_types::{OrderStatus, PaymentMethod};
use wasm_bindgen::{JsCast, JsValue};

fn get(obj: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn string(obj: &JsValue, key: &str) -> Option<String> {
    get(obj, key).as_string()
}

/// Errors name the field that is missing or mistyped.
type Res<T> = Result<T, &'static str>;

fn need(obj: &JsValue, key: &'static str) -> Res<String> {
    string(obj, key).ok_or(key)
}

/// A non-negative whole number (JS numbers are exact up to 2^53).
fn whole(obj: &JsValue, key: &'static str) -> Res<u64> {
    get(obj, key).as_f64().filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= 9_007_199_254_740_991.0).map(|n| n as u64).ok_or(key)
}

fn status(obj: &JsValue, key: &'static str) -> Res<OrderStatus> {
    string(obj, key).and_then(|s| OrderStatus::parse(&s)).ok_or(key)
}

/// An optional array field (absent: empty).
fn array<T>(v: &JsValue, key: &'static str, item: fn(&JsValue) -> Res<T>) -> Res<Vec<T>> {
    let a = get(v, key);
    if a.is_undefined() || a.is_null() {
        return Ok(Vec::new());
    }
    a.dyn_into::<js_sys::Array>().map_err(|_| key)?.iter().map(|x| item(&x)).collect()
}

fn card(c: &JsValue) -> Res<SavedCardView> {
    Ok(SavedCardView {
        token: need(c, "token")?,
        last4: need(c, "last4")?,
        brand: string(c, "brand"),
        exp_month: u8::try_from(whole(c, "exp_month")?).map_err(|_| "exp_month")?,
        exp_year: u16::try_from(whole(c, "exp_year")?).map_err(|_| "exp_year")?,
        expired: get(c, "expired").as_bool().unwrap_or(false),
    })
}

fn terms(t: &JsValue) -> Res<MandateTerms> {
    let secs = |k: &'static str| get(t, k).as_f64().map(|n| n as i64).ok_or(k);
    Ok(MandateTerms {
        mode: need(t, "mode")?,
        max_amount_minor: whole(t, "max_amount_minor")?,
        amount_rule: need(t, "amount_rule")?,
        frequency: need(t, "frequency")?,
        start_date: secs("start_date")?,
        end_date: secs("end_date")?,
        revokable: get(t, "revokable").as_bool().unwrap_or(true),
        upi: get(t, "upi").as_bool().unwrap_or(false),
    })
}

/// The configuration the server embeds (`#kassa-config`).
pub(crate) fn page_config(v: &JsValue) -> Res<PageConfig> {
    let variant = match string(v, "variant").as_deref() {
        Some("web") => Variant::Web,
        Some("mobile") => Variant::Mobile,
        Some("iframe") => Variant::Iframe,
        _ => return Err("variant"),
    };
    let o = get(v, "order");
    if !o.is_object() {
        return Err("order");
    }
    let methods = js_sys::Array::from(&get(&o, "methods"))
        .iter()
        .map(|m| m.as_string().and_then(|m| PaymentMethod::from_token(&m)).ok_or("methods"))
        .collect::<Res<Vec<_>>>()?;
    let t = get(&o, "mandate");
    Ok(PageConfig {
        client_token: need(v, "client_token")?,
        api_base: string(v, "api_base").unwrap_or_default(),
        variant,
        order: PageOrder {
            id: need(&o, "id")?,
            order_id: need(&o, "order_id")?,
            merchant_name: string(&o, "merchant_name").unwrap_or_default(),
            amount_minor: whole(&o, "amount_minor")?,
            currency: need(&o, "currency")?,
            status: status(&o, "status")?,
            methods,
            expires_at_ms: whole(&o, "expires_at_ms")?,
            description: string(&o, "description"),
            preauth: get(&o, "preauth").as_bool().unwrap_or(false),
            saved_cards: array(&o, "saved_cards", card)?,
            can_save_card: get(&o, "can_save_card").as_bool().unwrap_or(false),
            mandate: if t.is_object() { Some(terms(&t)?) } else { None },
        },
        language: string(v, "language"),
        assets_base: string(v, "assets_base"),
        // Theme and framing are the host page's business (www/pay.js, the loader): not read here.
        theme_vars: Default::default(),
        logo: None,
        appearance: Default::default(),
        parent_origins: Vec::new(),
    })
}

/// A `POST /txns` body.
pub(crate) fn txn_request(r: &TxnRequest) -> JsValue {
    let o = js_sys::Object::new();
    let set = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v));
        }
    };
    set("order_id", &Some(r.order_id.clone()));
    set("payment_method_type", &Some(r.payment_method_type.clone()));
    set("payment_method", &r.payment_method);
    set("card_number", &r.card_number);
    set("card_exp_month", &r.card_exp_month);
    set("card_exp_year", &r.card_exp_year);
    set("name_on_card", &r.name_on_card);
    set("card_security_code", &r.card_security_code);
    set("upi_vpa", &r.upi_vpa);
    set("payment_options", &r.payment_options);
    set("in_frame", &r.in_frame);
    set("card_token", &r.card_token);
    set("save_to_locker", &r.save_to_locker);
    set("should_create_mandate", &r.should_create_mandate);
    o.into()
}

/// A `POST /txns` answer.
pub(crate) fn txn_response(v: &JsValue) -> Res<TxnResponse> {
    let p = get(v, "payment");
    let a = get(&p, "authentication");
    let c = get(&p, "collect");
    Ok(TxnResponse {
        order_id: string(v, "order_id").unwrap_or_default(),
        txn_id: need(v, "txn_id")?,
        status: status(v, "status")?,
        payment: TxnPayment {
            authentication: if a.is_object() {
                Some(Authentication { method: string(&a, "method").unwrap_or_default(), url: need(&a, "url")? })
            } else {
                None
            },
            collect: if c.is_object() {
                Some(Collect {
                    status_url: need(&c, "status_url")?,
                    cancel_url: need(&c, "cancel_url")?,
                    poll_interval_ms: u32::try_from(whole(&c, "poll_interval_ms")?).unwrap_or(u32::MAX),
                    expires_at: need(&c, "expires_at")?,
                })
            } else {
                None
            },
        },
    })
}

/// A `GET /txns/:id` answer.
pub(crate) fn txn_status(v: &JsValue) -> Res<TxnStatus> {
    Ok(TxnStatus { status: status(v, "status")?, is_final: get(v, "final").as_bool().unwrap_or(false), next_url: string(v, "next_url") })
}

/// The message of an error answer.
pub(crate) fn error_message(v: &JsValue) -> Option<String> {
    string(v, "error_message")
}
