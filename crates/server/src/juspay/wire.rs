//! Wire shapes of the Juspay dialect that more than one endpoint sends: the
//! order status body (`GET /orders/:order_id`, update, refund, and every
//! webhook's `content.order`) and the webhook envelope. Rendered from a
//! [`OrderSnapshot`], so an answer and a webhook of the same moment agree.

use crate::domain::{EventName, EventRenderer, Mandate, Notification, OrderSnapshot, Txn};
use kassa_types::{Amount, OrderStatus, PaymentMethod};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// The `gateway_id` of Kassa's built-in sandbox gateway: a Kassa number,
/// outside the range of Juspay's published gateway ids.
pub const SANDBOX_GATEWAY_ID: u16 = 999;

/// Non-negative minor units as a JSON number with two fraction digits
/// (`10.50`), straight from the integer: the one money formatter of the wire.
pub fn decimal(minor: i64) -> Box<RawValue> {
    let text = u64::try_from(minor).ok().and_then(Amount::from_minor).map_or_else(|| "0.00".to_string(), Amount::to_decimal_string);
    RawValue::from_string(text).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

/// Unix ms as an RFC 3339 UTC timestamp.
pub fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// Unix ms as Juspay writes dates: `YYYY-MM-DDTHH:MM:SSZ`, whole seconds.
pub fn juspay_date(ms: i64) -> String {
    rfc3339(ms.div_euclid(1000) * 1000)
}

/// `payment_links` of an order (seed 000).
#[derive(Clone, Debug, Serialize)]
pub struct PaymentLinks {
    /// Desktop page.
    pub web: String,
    /// Touch page.
    pub mobile: String,
    /// Page for an iframe.
    pub iframe: String,
    /// When the links stop working.
    pub expiry: String,
}

impl PaymentLinks {
    /// The links of order `id` under `base`.
    pub fn new(base: &str, id: &str, expires_at: i64) -> PaymentLinks {
        PaymentLinks {
            web: format!("{base}/merchant/pay/{id}"),
            mobile: format!("{base}/merchant/pay/{id}?mobile=true"),
            iframe: format!("{base}/merchant/ipay/{id}"),
            expiry: rfc3339(expires_at),
        }
    }
}

/// One refund in a status body (seed 003, `shared/research/psp-apis.md` §3.4).
#[derive(Debug, Serialize)]
pub struct RefundJson {
    id: String,
    unique_request_id: String,
    #[serde(rename = "ref")]
    reference: String,
    amount: Box<RawValue>,
    status: String,
    created: String,
    initiated_by: &'static str,
    sent_to_gateway: bool,
    refund_type: &'static str,
    error_message: String,
}

/// `card` of the status body: never the number.
#[derive(Debug, Serialize)]
pub struct CardJson {
    card_isin: String,
    last_four_digits: String,
    card_brand: String,
    card_type: String,
    card_issuer: String,
    card_reference: String,
    card_fingerprint: String,
    expiry_month: String,
    expiry_year: String,
    name_on_card: String,
    saved_to_locker: bool,
    using_saved_card: bool,
    using_token: bool,
}

/// `upi` of the status body.
#[derive(Debug, Serialize)]
pub struct UpiJson {
    payer_vpa: String,
    txn_flow_type: &'static str,
}

/// `payment_gateway_response` of the status body.
#[derive(Debug, Serialize)]
pub struct GatewayResponseJson {
    resp_code: String,
    resp_message: String,
    rrn: String,
    epg_txn_id: String,
    auth_id_code: String,
    txn_id: String,
    created: String,
}

/// The latest attempt's fields of the status body (absent before the first attempt).
#[derive(Debug, Serialize)]
pub struct TxnFields {
    txn_id: String,
    txn_uuid: String,
    payment_method_type: &'static str,
    payment_method: String,
    auth_type: &'static str,
    gateway_id: u16,
    gateway_reference_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    card: Option<CardJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    upi: Option<UpiJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payer_vpa: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payment_gateway_response: Option<GatewayResponseJson>,
    bank_error_code: String,
    bank_error_message: String,
    txn_detail: TxnDetailJson,
}

/// `txn_detail` of the status body: the attempt itself, whose status may
/// differ from the order's (a hold captured in part: the attempt CHARGED,
/// the order PARTIAL_CHARGED).
#[derive(Debug, Serialize)]
pub struct TxnDetailJson {
    txn_id: String,
    txn_uuid: String,
    order_id: String,
    status: &'static str,
    status_id: u16,
    txn_amount: Box<RawValue>,
    /// What a capture of a hold took (asked for, while CAPTURE_INITIATED); absent for other attempts.
    #[serde(skip_serializing_if = "Option::is_none")]
    captured_amount: Option<Box<RawValue>>,
    currency: String,
    /// The attempt holds the amount for a capture later (a pre-authorization).
    auto_capture: bool,
    /// A mandate's registration (`EMANDATE_REGISTER`, `MANDATE_REGISTER` for a card) or debit (`…_PAYMENT`).
    #[serde(skip_serializing_if = "Option::is_none")]
    txn_object_type: Option<String>,
    /// `MANDATE` for a mandate's attempts.
    #[serde(skip_serializing_if = "Option::is_none")]
    source_object: Option<&'static str>,
    /// The mandate's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    source_object_id: Option<String>,
}

/// The order status body (SPEC §3 "Order status body"; `shared/research/psp-apis.md` §3.1).
#[derive(Debug, Serialize)]
pub struct StatusBody {
    id: String,
    merchant_id: String,
    order_id: String,
    customer_id: Option<String>,
    customer_email: Option<String>,
    customer_phone: Option<String>,
    product_id: String,
    description: Option<String>,
    status: &'static str,
    status_id: u16,
    currency: String,
    amount: Box<RawValue>,
    effective_amount: Box<RawValue>,
    amount_refunded: Box<RawValue>,
    /// True only when fully refunded (Juspay).
    refunded: bool,
    date_created: String,
    last_updated: String,
    order_expiry: String,
    return_url: Option<String>,
    payment_links: PaymentLinks,
    refunds: Vec<RefundJson>,
    /// The mandate the order registered or executed.
    #[serde(skip_serializing_if = "Option::is_none")]
    mandate: Option<MandateJson>,
    #[serde(flatten)]
    txn: Option<TxnFields>,
    /// udf1–udf10 (always, "" when unset), addresses, `metadata`.
    #[serde(flatten)]
    extra: Map<String, Value>,
}

/// Juspay's `txn_id` of an attempt: `{merchant_id}-{order_id}-{n}`.
pub fn juspay_txn_id(merchant_id: &str, order_id: &str, seq: i64) -> String {
    format!("{merchant_id}-{order_id}-{seq}")
}

fn txn_fields(snapshot: &OrderSnapshot, txn: &Txn) -> TxnFields {
    let o = &snapshot.order;
    let txn_id = juspay_txn_id(&o.merchant_id, &o.order_id, txn.seq);
    let d = &txn.details;
    let card = txn.card_last4.as_ref().map(|last4| CardJson {
        card_isin: d.card_isin.clone().unwrap_or_default(),
        last_four_digits: last4.clone(),
        card_brand: txn.method_detail.clone().unwrap_or_default(),
        card_type: String::new(),
        card_issuer: String::new(),
        card_reference: String::new(),
        card_fingerprint: d.card_fingerprint.clone().unwrap_or_default(),
        expiry_month: d.expiry_month.clone().unwrap_or_default(),
        expiry_year: d.expiry_year.clone().unwrap_or_default(),
        name_on_card: d.name_on_card.clone().unwrap_or_default(),
        saved_to_locker: false,
        using_saved_card: false,
        using_token: false,
    });
    let vpa = (txn.method == PaymentMethod::Upi).then(|| txn.method_detail.clone().unwrap_or_default());
    let failed = txn.status.is_failure();
    let gw = txn.gateway_response.as_ref();
    TxnFields {
        payment_method_type: txn.method.txn_type(),
        payment_method: match txn.method {
            PaymentMethod::Upi => "UPI".into(),
            PaymentMethod::Card | PaymentMethod::Nb | PaymentMethod::Wallet => txn.method_detail.clone().unwrap_or_default(),
        },
        auth_type: match txn.method {
            PaymentMethod::Card => "THREE_DS",
            PaymentMethod::Upi | PaymentMethod::Nb | PaymentMethod::Wallet => "",
        },
        gateway_id: snapshot.gateway.as_ref().map_or(SANDBOX_GATEWAY_ID, |(kind, _)| kind.juspay_id()),
        gateway_reference_id: snapshot.gateway.as_ref().map(|(_, r)| r.clone()).unwrap_or_default(),
        card,
        upi: vpa.clone().map(|payer_vpa| UpiJson { payer_vpa, txn_flow_type: "COLLECT" }),
        payer_vpa: vpa,
        payment_gateway_response: gw.map(|g| GatewayResponseJson {
            resp_code: g.resp_code.clone(),
            resp_message: g.resp_message.clone(),
            rrn: g.rrn.clone(),
            epg_txn_id: d.gateway_txn_id.clone().unwrap_or_default(),
            auth_id_code: g.auth_id_code.clone(),
            txn_id: txn_id.clone(),
            created: juspay_date(g.created_at),
        }),
        bank_error_code: gw.filter(|_| failed).map(|g| g.resp_code.clone()).unwrap_or_default(),
        bank_error_message: gw.filter(|_| failed).map(|g| g.resp_message.clone()).unwrap_or_default(),
        txn_detail: TxnDetailJson {
            txn_id: txn_id.clone(),
            txn_uuid: txn.id.clone(),
            order_id: o.order_id.clone(),
            status: txn.status.as_str(),
            status_id: txn.status.id(),
            txn_amount: decimal(txn.amount_minor),
            captured_amount: txn
                .captured_minor
                .filter(|_| matches!(txn.status, OrderStatus::CHARGED | OrderStatus::CAPTURE_INITIATED))
                .map(decimal),
            currency: o.currency.clone(),
            auto_capture: !o.preauth(),
            txn_object_type: snapshot
                .mandate
                .as_ref()
                .map(|(m, registered)| format!("{}_{}", m.mandate_type(), if *registered { "REGISTER" } else { "PAYMENT" })),
            source_object: snapshot.mandate.as_ref().map(|_| "MANDATE"),
            source_object_id: snapshot.mandate.as_ref().map(|(m, _)| m.id.clone()),
        },
        txn_uuid: txn.id.clone(),
        txn_id,
    }
}

/// The order status body of `snapshot`, with payment links under `base`.
pub fn status_body(snapshot: &OrderSnapshot, base: &str) -> StatusBody {
    let o = &snapshot.order;
    let mut extra = o.extra_map();
    for i in 1..=10 {
        extra.entry(format!("udf{i}")).or_insert_with(|| Value::String(String::new()));
    }
    // Kept in `extra` for the payment page, not part of Juspay's body.
    extra.remove("language");
    // The terms asked for are the page's; the body shows the mandate itself once it exists.
    extra.remove(crate::domain::mandate::EXTRA_KEY);
    let refunds = snapshot
        .refunds
        .iter()
        .map(|r| RefundJson {
            id: r.id.clone(),
            unique_request_id: r.unique_request_id.clone(),
            reference: r.id.clone(),
            amount: decimal(r.amount_minor),
            status: r.status.clone(),
            created: juspay_date(r.created_at),
            initiated_by: "API",
            sent_to_gateway: true,
            refund_type: "STANDARD",
            error_message: String::new(),
        })
        .collect();
    let charged = snapshot.txn.as_ref().filter(|t| t.status == OrderStatus::CHARGED).map_or(o.amount_minor, Txn::charged_minor);
    StatusBody {
        id: o.id.clone(),
        merchant_id: o.merchant_id.clone(),
        order_id: o.order_id.clone(),
        customer_id: o.customer_id.clone(),
        customer_email: o.customer_email.clone(),
        customer_phone: o.customer_phone.clone(),
        product_id: o.product_id.clone().unwrap_or_default(),
        description: o.description.clone(),
        status: o.status.as_str(),
        status_id: o.status.id(),
        currency: o.currency.clone(),
        amount: decimal(o.amount_minor),
        effective_amount: decimal(charged),
        amount_refunded: decimal(o.amount_refunded_minor),
        refunded: o.amount_refunded_minor > 0 && o.amount_refunded_minor >= charged,
        date_created: juspay_date(o.created_at),
        last_updated: juspay_date(o.updated_at),
        order_expiry: juspay_date(o.expires_at),
        return_url: o.return_url.clone(),
        payment_links: PaymentLinks::new(base, &o.id, o.expires_at),
        refunds,
        mandate: snapshot.mandate.as_ref().map(|(m, _)| mandate_json(m, true, None)),
        txn: snapshot.txn.as_ref().map(|t| txn_fields(snapshot, t)),
        extra,
    }
}

/// The webhook envelope (`shared/research/psp-apis.md` §1.1).
#[derive(Serialize)]
struct Envelope<'a, C> {
    id: &'a str,
    event_name: &'static str,
    date_created: String,
    content: C,
}

#[derive(Serialize)]
struct Content {
    order: StatusBody,
}

/// Renders webhooks in Juspay's envelope with `content.order` = the status body.
#[derive(Debug)]
pub struct JuspayEvents {
    /// Base of the payment links.
    pub public_url: String,
}

impl EventRenderer for JuspayEvents {
    fn order_event(&self, id: &str, event: EventName, at_ms: i64, snapshot: &OrderSnapshot) -> String {
        let envelope = Envelope {
            id,
            event_name: event.as_str(),
            date_created: juspay_date(at_ms),
            content: Content { order: status_body(snapshot, &self.public_url) },
        };
        serde_json::to_string(&envelope).unwrap_or_default()
    }

    fn mandate_event(&self, id: &str, event: EventName, at_ms: i64, mandate: &Mandate, order_id: &str) -> String {
        #[derive(Serialize)]
        struct MandateContent {
            mandate: MandateJson,
        }
        let envelope = Envelope {
            id,
            event_name: event.as_str(),
            date_created: juspay_date(at_ms),
            content: MandateContent { mandate: mandate_json(mandate, false, Some(order_id)) },
        };
        serde_json::to_string(&envelope).unwrap_or_default()
    }

    fn notification_event(&self, id: &str, event: EventName, at_ms: i64, n: &Notification) -> String {
        let body = serde_json::json!({
            "id": id,
            "event_name": event.as_str(),
            "date_created": juspay_date(at_ms),
            "content": { "notification": notification_json(n) },
        });
        body.to_string()
    }
}

/// A mandate in Juspay's shape (`shared/research/psp-apis.md` §2.2): its
/// status as `mandate_status` in an order's status body, as `status` in
/// lists and webhooks; with the order that registered it when known.
#[derive(Debug, Serialize)]
pub struct MandateJson {
    mandate_id: String,
    mandate_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mandate_status: Option<String>,
    mandate_type: &'static str,
    customer_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    order_id: Option<String>,
    max_amount: Box<RawValue>,
    currency: String,
    amount_rule: String,
    frequency: String,
    rule_type: Option<String>,
    rule_value: Option<u8>,
    start_date: String,
    end_date: String,
    revokable_by_customer: bool,
    block_fund: bool,
    activated_at: Option<String>,
    last_activated_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pause_start_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pause_end_date: Option<String>,
    payment_info: Value,
}

/// [`MandateJson`] of `m`: `in_order` names its status `mandate_status`.
pub fn mandate_json(m: &Mandate, in_order: bool, order_id: Option<&str>) -> MandateJson {
    let t = &m.terms;
    MandateJson {
        mandate_id: m.id.clone(),
        mandate_token: m.token.clone(),
        status: (!in_order).then(|| m.status.clone()),
        mandate_status: in_order.then(|| m.status.clone()),
        mandate_type: m.mandate_type(),
        customer_id: m.customer_id.clone(),
        order_id: order_id.map(str::to_string),
        max_amount: decimal(t.max_amount_minor),
        currency: t.currency.clone(),
        amount_rule: t.amount_rule.clone(),
        frequency: t.frequency.clone(),
        rule_type: t.rule_type.clone(),
        rule_value: t.rule_value,
        start_date: t.start_date.to_string(),
        end_date: (t.end_ms() / 1000).to_string(),
        revokable_by_customer: t.revokable_by_customer,
        block_fund: t.block_fund,
        activated_at: m.activated_at.map(rfc3339),
        last_activated_at: m.last_activated_at.map(rfc3339),
        pause_start_date: m.pause.map(|p| p.0.to_string()),
        pause_end_date: m.pause.map(|p| p.1.to_string()),
        payment_info: m.payment_info.clone(),
    }
}

/// An amount as Juspay's request fields carry it: a decimal string (`"10.00"`).
pub fn amount_string(minor: i64) -> String {
    u64::try_from(minor).ok().and_then(Amount::from_minor).map(Amount::to_decimal_string).unwrap_or_default()
}

/// A pre-debit notification in Juspay's shape (`shared/research/psp-apis.md` §2.4).
pub fn notification_json(n: &Notification) -> Value {
    serde_json::json!({
        "id": n.id,
        "object": "notification",
        "object_reference_id": n.object_reference_id,
        "source_object": "MANDATE",
        "source_info": { "amount": amount_string(n.amount_minor), "txn_date": n.txn_date.to_string() },
        "mandate": { "mandate_id": n.mandate_id },
        "provider_name": "KASSA_SANDBOX",
        "notification_type": "SMS",
        "description": n.description,
        "status": n.status,
        "date_created": rfc3339(n.created_at),
        "last_updated": rfc3339(n.updated_at),
    })
}
