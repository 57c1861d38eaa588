//! The API reference: an OpenAPI 3.1 document served at `/openapi.json`.
//!
//! Built from the code it describes: the field lists come from the same
//! constants the handlers parse with (`juspay::orders::PLAIN_FIELDS`, `ADDRESS_PARTS`,
//! the udf range, `LANGUAGES`, the currencies, the sandbox banks and
//! wallets). The test `openapi_document_matches_the_routes_and_fields` in
//! `tests/api.rs` sends every documented field of every operation to a
//! running server and checks none is refused as unknown, and that every
//! documented path is routed.

use crate::juspay::orders::{ADDRESS_PARTS, MAX_EXPIRY_MINS, PLAIN_FIELDS};
use serde_json::{Map, Value, json};

/// What every order status body carries (the attempt's fields come with the first attempt).
fn order_status_required() -> Vec<String> {
    let mut r: Vec<String> =
        ["id", "order_id", "merchant_id", "status", "status_id", "amount", "effective_amount", "amount_refunded", "refunded"]
            .into_iter()
            .chain(["currency", "payment_links", "refunds", "date_created", "order_expiry"])
            .map(str::to_string)
            .collect();
    r.extend((1..=10).map(|i| format!("udf{i}")));
    r
}

/// One documented field: JSON schema with a description and an example.
fn field(ty: &str, description: &str, example: Value) -> Value {
    json!({ "type": ty, "description": description, "examples": [example] })
}

fn amount_field(description: &str) -> Value {
    json!({
        "type": "string",
        "pattern": "^[0-9]{1,15}(\\.[0-9]{1,2})?$",
        "description": format!("{description} A decimal in major units with at most two fraction digits (`10`, `10.5`, `10.50`); never a float, an exponent or a negative number. JSON numbers are read the same way, digit for digit."),
        "examples": ["10.00"],
    })
}

fn object(properties: Map<String, Value>, required: &[&str], description: &str) -> Value {
    json!({ "type": "object", "description": description, "properties": properties, "required": required, "additionalProperties": false })
}

/// The order fields of seed 000, shared by create order and session.
fn order_fields() -> Map<String, Value> {
    let mut p = Map::new();
    p.insert(
        "order_id".into(),
        field("string", "Your id for the order: 1–20 of `A–Z a–z 0–9 _ -`, unique per merchant (case-insensitively).", json!("ord_007")),
    );
    p.insert("amount".into(), amount_field("The amount to collect."));
    let currencies: Vec<&str> =
        ["INR", "USD", "EUR", "GBP", "SGD", "AED"].into_iter().filter(|c| kassa_types::Currency::parse(c).is_some()).collect();
    p.insert(
        "currency".into(),
        json!({ "type": "string", "enum": currencies, "default": "INR", "description": "ISO 4217 code.", "examples": ["INR"] }),
    );
    for name in PLAIN_FIELDS {
        let example = match *name {
            "customer_email" => json!("guest@example.com"),
            "customer_phone" => json!("9999999999"),
            "customer_id" => json!("guest_user_101"),
            _ => json!("Shoes"),
        };
        p.insert((*name).into(), field("string", "At most 255 printable characters.", example));
    }
    p.insert(
        "return_url".into(),
        field(
            "string",
            "https:// URL (http:// only for localhost) the shopper returns to. Kassa adds order_id, status, status_id, signature and signature_algorithm to its query, keeps the URL's own query parameters (which may not use those names or repeat) and signs them together, and keeps its fragment last.",
            json!("https://shop.example/payment/return"),
        ),
    );
    for (name, schema) in udf_and_address_fields() {
        p.insert(name, schema);
    }
    p.insert(
        "metadata.expiry_in_mins".into(),
        json!({ "type": "string", "pattern": "^[0-9]+$", "description": format!("Minutes until the order and its links expire: 1 to {MAX_EXPIRY_MINS}. Default: the merchant's setting (15)."), "examples": ["30"] }),
    );
    p.insert(
        "metadata.expiryInMins".into(),
        json!({ "type": "string", "pattern": "^[0-9]+$", "description": format!("The same as `metadata.expiry_in_mins`, as Juspay's integrations spell it (1 to {MAX_EXPIRY_MINS})."), "examples": ["30"] }),
    );
    p.insert(
        "metadata.txns.auto_capture".into(),
        json!({ "type": "string", "enum": ["true", "false"], "description": "`false`: a pre-authorization (Juspay's Pre-Auth and Capture). The card payment holds the amount (AUTHORIZED, status_id 25) instead of charging it; capture it with `POST /v2/txns/{txn_uuid}/capture` or release it with `/void`. A hold nobody captures is voided when the hold period ends (`--hold-ms`, default 7 days). Cards only; Paytm orders refuse it (400 `preauth_not_supported`).", "examples": ["false"] }),
    );
    p.insert(
        "payment_options".into(),
        field("string", "The methods this order may be paid with, joined with `|` (`card`, `nb`, `wallet`, `upi`). `POST /txns` refuses any other; default: every method the merchant enabled.", json!("nb|upi")),
    );
    p.insert(
        "gateway_id".into(),
        field("string", "The gateway to route to, in Juspay's numbering: 23 Razorpay, 18 (or 19) Paytm; 999 is Kassa's built-in sandbox. Default: the merchant's first gateway account by preference, else the sandbox. A gateway the merchant has no account for is refused (400 `gateway_not_configured`); an order without the fields its gateway requires (seed 000: `customer_id`, `customer_email`, `customer_phone`, `description` for Razorpay and Paytm) is refused naming them (400 `missing_mandatory_parameters`).", json!("999")),
    );
    p.insert(
        "metadata.JUSPAY:gateway_reference_id".into(),
        field("string", "Which of the merchant's accounts at the gateway (the reference id given to `kassa merchant add-gateway --reference-id`); echoed in `metadata` and as `gateway_reference_id`.", json!("")),
    );
    p.insert(
        "metadata.webhook_url".into(),
        field("string", "Webhook URL for this order's events, instead of the merchant's.", json!("https://shop.example/hooks/kassa")),
    );
    p.insert(
        "options.create_mandate".into(),
        json!({ "type": "string", "enum": ["REQUIRED", "OPTIONAL"], "description": "Register a mandate with this order's payment (seed 001): REQUIRED offers only card and UPI; OPTIONAL lets the shopper opt in. Needs `customer_id`; the sandbox gateway only (orders routed to Razorpay or Paytm are refused with `mandate_not_supported`).", "examples": ["REQUIRED"] }),
    );
    let mandate: [(&str, Value); 10] = [
        (
            "max_amount",
            amount_field("The most one debit may take; required when `mandate.amount_rule` is VARIABLE, equal to `amount` when FIXED."),
        ),
        ("amount_rule", json!({ "type": "string", "enum": ["FIXED", "VARIABLE"], "default": "VARIABLE", "examples": ["VARIABLE"] })),
        ("start_date", field("string", "UNIX seconds; today (UTC or India). Default: now.", json!("1796256000"))),
        ("end_date", field("string", "UNIX seconds, after the start; required for UPI. Default: 30 years on.", json!("1827792000"))),
        (
            "frequency",
            json!({ "type": "string", "enum": crate::domain::mandate::FREQUENCIES, "default": "ASPRESENTED", "description": "At most one successful debit per cycle (UTC); ASPRESENTED: no limit.", "examples": ["MONTHLY"] }),
        ),
        ("rule_type", json!({ "type": "string", "enum": ["ON", "BEFORE", "AFTER"], "examples": ["ON"] })),
        (
            "rule_value",
            field(
                "string",
                "1–7 for WEEKLY, 1–16 for FORTNIGHTLY, 1–31 for MONTHLY and longer; required for those, refused for the others.",
                json!("5"),
            ),
        ),
        (
            "revokable_by_customer",
            json!({ "type": "string", "enum": ["true", "false"], "default": "true", "description": "false only for ONETIME.", "examples": ["true"] }),
        ),
        (
            "block_funds",
            json!({ "type": "string", "enum": ["true", "false"], "description": "true for ONETIME, false for recurring (the default follows the frequency).", "examples": ["false"] }),
        ),
        ("max_amount_legacy", Value::Null),
    ];
    for (name, schema) in mandate {
        match name {
            "max_amount_legacy" => {
                p.insert("mandate_max_amount".into(), amount_field("The older spelling of `mandate.max_amount`."));
            }
            _ => {
                p.insert(format!("mandate.{name}"), schema);
            }
        }
    }
    p.insert("options.get_client_auth_token".into(), json!({ "type": "string", "enum": ["true", "false"], "description": "Also return an order-scoped client token in `juspay.client_auth_token`.", "examples": ["true"] }));
    p
}

/// `udf1`–`udf10` and the billing/shipping address parts (seed 000).
fn udf_and_address_fields() -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = (1..=10)
        .map(|i| (format!("udf{i}"), field("string", "A value of yours, stored and returned with the order.", json!(format!("note {i}")))))
        .collect();
    for kind in ["billing_address", "shipping_address"] {
        for part in ADDRESS_PARTS {
            out.push((
                format!("{kind}_{part}"),
                field("string", "At most 255 printable characters.", json!(if *part == "country_code_iso" { "IND" } else { "x" })),
            ));
        }
    }
    out
}

/// Form-encoded or JSON bodies with one schema.
fn body(schema: &str) -> Value {
    let s = json!({ "$ref": format!("#/components/schemas/{schema}") });
    json!({ "required": true, "content": { "application/x-www-form-urlencoded": { "schema": s }, "application/json": { "schema": s } } })
}

fn ok(schema: &str, description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

fn errors(codes: &[(&str, &str)]) -> Map<String, Value> {
    codes.iter().map(|(status, why)| ((*status).to_string(), json!({ "$ref": format!("#/components/responses/{why}") }))).collect()
}

fn op(id: &str, summary: &str, security: &str, body_schema: Option<&str>, success: Value, errs: &[(&str, &str)]) -> Value {
    let mut responses = errors(errs);
    responses.insert("200".into(), success);
    let mut o = json!({ "operationId": id, "summary": summary, "responses": responses });
    if !security.is_empty() {
        o["security"] = json!([{ security: [] }]);
    }
    if let Some(s) = body_schema {
        o["requestBody"] = body(s);
    }
    o
}

fn path_param(name: &str, description: &str) -> Value {
    json!([{ "name": name, "in": "path", "required": true, "schema": { "type": "string" }, "description": description }])
}

/// The whole document; `server` is the public base URL.
pub fn document(server: &str) -> Value {
    const COMMON: &[(&str, &str)] = &[("400", "BadRequest"), ("401", "Unauthorized"), ("413", "TooLarge"), ("429", "TooMany")];
    const WITH_ORDER: &[(&str, &str)] = &[
        ("400", "BadRequest"),
        ("401", "Unauthorized"),
        ("404", "NotFound"),
        ("409", "Conflict"),
        ("413", "TooLarge"),
        ("429", "TooMany"),
    ];

    let mut session = order_fields();
    session.insert("payment_page_client_id".into(), field("string", "Your client id; must be this merchant's.", json!("shop")));
    session.insert("action".into(), json!({ "type": "string", "enum": ["paymentPage", "paymentManagement"], "description": "`paymentManagement` (with `customer_id`, no order fields): a 30-minute link (`payment_links.web`) to the page where the customer removes saved cards and cancels revocable mandates.", "examples": ["paymentPage"] }));
    session.insert("first_name".into(), field("string", "Shopper's first name.", json!("Ada")));
    session.insert("last_name".into(), field("string", "Shopper's last name.", json!("Lovelace")));
    session.insert("language".into(), json!({ "type": "string", "enum": kassa_types::LANGUAGES, "description": "Payment page language (seed 001).", "examples": ["hindi"] }));
    session.remove("options.get_client_auth_token");
    session.insert(
        "payment_filter".into(),
        field(
            "string",
            "Juspay's payment locking filter: a JSON object (or its text in a form body) `{allowDefaultOptions, options: [{paymentMethodType, enable}]}`; `POST /txns` enforces it.",
            json!("{\"allowDefaultOptions\":false,\"options\":[{\"paymentMethodType\":\"UPI\",\"enable\":true}]}"),
        ),
    );

    let mut update: Map<String, Value> = udf_and_address_fields().into_iter().collect();
    update.insert("amount".into(), amount_field("The new amount."));
    update.insert("order_id".into(), field("string", "Optional; when given it must be the order of the path.", json!("ord_007")));

    let mut refund = Map::new();
    refund.insert(
        "unique_request_id".into(),
        field(
            "string",
            "Your idempotency key: 1–64 of `A–Z a–z 0–9 _ -`. A repeat with the same amount returns the first answer.",
            json!("rfnd_0001"),
        ),
    );
    refund.insert("amount".into(), amount_field("The amount to refund; the total never exceeds what the charge took."));
    refund.insert(
        "order_id".into(),
        field("string", "Optional (Juspay's SDKs repeat it); when given it must be the order of the path.", json!("ord_007")),
    );
    refund.insert(
        "refund_type".into(),
        json!({ "type": "string", "enum": ["STANDARD", "INSTANT", "INSTANT_WITH_FALLBACK", "GATEWAY"], "description": "Juspay's refund types; the sandbox refunds each at once.", "examples": ["STANDARD"] }),
    );

    let mut capture = Map::new();
    capture
        .insert("amount".into(), amount_field("Optional: the part of the hold to capture (at most the held amount); default all of it."));
    capture.insert(
        "idempotence_key".into(),
        field("string", "Optional: at most 64 of `A–Z a–z 0–9 _ -`. A repeat with the same key and amount answers the same capture; with another amount, 409 `duplicate_idempotence_key`.", json!("capture-0001")),
    );

    let mut sdk = Map::new();
    sdk.insert("merchantId".into(), field("string", "Your merchant id.", json!("shop")));
    sdk.insert("merchantKeyId".into(), field("string", "The key id registered with `kassa merchant add-key`.", json!("2980")));
    sdk.insert("orderDetails".into(), field("string", "The exact JSON string you signed (seed 001): order_id, amount, merchant_id, timestamp (ms, at most 15 minutes old), customer fields, return_url.", json!("{\"order_id\":\"ord_1\",\"amount\":\"1.00\",\"merchant_id\":\"shop\",\"customer_id\":\"c1\",\"timestamp\":\"1700000000000\"}")));
    sdk.insert("signature".into(), field("string", "RSA-SHA256 PKCS#1 v1.5 over `orderDetails`, base64 (hex accepted).", json!("base64…")));
    sdk.insert("amount".into(), amount_field("Optional; when given it must equal orderDetails.amount."));
    for ignored in ["requestId", "service", "action", "clientId", "orderId", "customerId", "customerEmail", "customerMobile", "language"] {
        sdk.insert(
            ignored.into(),
            field("string", "Part of the Process SDK payload; accepted and ignored (the signed orderDetails decide).", json!("x")),
        );
    }

    let mut txn = Map::new();
    txn.insert(
        "order_id".into(),
        field("string", "Kassa's order id (`ord_…`) or yours; must be the token's order.", json!("ord_0123456789abcdef0123456789abcdef")),
    );
    txn.insert(
        "client_auth_token".into(),
        field("string", "The order-scoped client token, if not sent as `Authorization: Bearer`.", json!("kct_…")),
    );
    txn.insert("merchant_id".into(), field("string", "Optional; must be the order's merchant.", json!("shop")));
    txn.insert("payment_method_type".into(), json!({ "type": "string", "enum": ["CARD", "NB", "WALLET", "UPI"], "examples": ["CARD"] }));
    let mut codes: Vec<&str> = kassa_types::methods::BANKS.iter().map(|(c, _)| *c).collect();
    codes.extend(kassa_types::methods::WALLETS.iter().map(|(c, _)| *c));
    txn.insert(
        "payment_method".into(),
        json!({ "type": "string", "enum": codes, "description": "Bank (NB) or wallet (WALLET) code.", "examples": ["NB_SBI"] }),
    );
    txn.insert(
        "payment_options".into(),
        field(
            "string",
            "`|`-joined subset of `card`, `nb`, `wallet`, `upi`: the methods the page offers; enforced here too.",
            json!("card|nb"),
        ),
    );
    txn.insert("card_number".into(), field("string", "Card number (spaces allowed). CARD only.", json!("4111111111111111")));
    txn.insert("card_exp_month".into(), field("string", "01–12.", json!("12")));
    txn.insert("card_exp_year".into(), field("string", "YY or YYYY, not in the past.", json!("2039")));
    txn.insert("card_security_code".into(), field("string", "CVV: 3 digits, 4 for Amex.", json!("123")));
    txn.insert("name_on_card".into(), field("string", "At most 64 characters.", json!("Ada Lovelace")));
    txn.insert("upi_vpa".into(), field("string", "UPI id (`name@handle`). UPI only.", json!("success@upi")));
    txn.insert("in_frame".into(), json!({ "type": "string", "enum": ["true", "false"], "description": "Started in the iframe page: the attempt ends on Kassa's result page, which hands the result to the host page (docs/bridge.md).", "examples": ["true"] }));
    for ignored in ["format", "redirect_after_payment", "tokenize"] {
        txn.insert(ignored.into(), field("string", "Accepted for compatibility and ignored.", json!("json")));
    }
    txn.insert("save_to_locker".into(), json!({ "type": "string", "enum": ["true", "false"], "description": "CARD: save the card for the order's customer if the payment succeeds (`GET /cards`). Kassa keeps a token, the last four digits, brand, expiry, name and a fingerprint, never the number.", "examples": ["false"] }));
    txn.insert(
        "card_token".into(),
        field(
            "string",
            "CARD: pay with the customer's saved card (`card_token` of `GET /cards`) and `card_security_code` only.",
            json!("tkn_0123456789abcdef0123456789abcdef"),
        ),
    );
    txn.insert("should_create_mandate".into(), json!({ "type": "string", "enum": ["true", "false"], "description": "Register the mandate an OPTIONAL order offers (card or UPI).", "examples": ["false"] }));

    let mut execution = Map::new();
    execution.insert("mandate_id".into(), field("string", "The mandate to debit.", json!("mdt_0123456789abcdef0123456789abcdef")));
    execution.insert("order.order_id".into(), field("string", "A new order id: the call creates the order.", json!("sub_2027_01")));
    execution.insert("order.amount".into(), amount_field("This debit: at most the mandate's max_amount (equal to it when FIXED)."));
    execution.insert("order.customer_id".into(), field("string", "The mandate's customer.", json!("cust_1")));
    execution.insert("order.currency".into(), field("string", "Optional; the mandate's.", json!("INR")));
    execution.insert("order.description".into(), field("string", "Optional.", json!("January")));
    execution.insert("order.return_url".into(), field("string", "Optional.", json!("https://shop.example/sub")));
    execution.insert("mandate.execution_date".into(), field("string", "UNIX seconds; the sandbox settles the debit then (default now). A UPI debit needs a successful pre-debit notification 24 hours before it.", json!("1796256000")));
    execution
        .insert("mandate.notification_id".into(), field("string", "Optional: the pre-debit notification it relies on (UPI: one that succeeded 24 hours before, for at least the amount, used by no other debit). Without it, the oldest such notification.", json!("ntf_0123")));
    execution.insert("merchant_id".into(), field("string", "Optional; must be yours.", json!("shop")));
    execution.insert("format".into(), field("string", "Accepted and ignored.", json!("json")));

    let mut command = Map::new();
    command.insert("command".into(), json!({ "type": "string", "enum": ["revoke", "pause", "resume", "check_status", "pre_debit_notify", "cancel_recurring_transaction"], "examples": ["check_status"] }));
    command
        .insert("pause_start_date".into(), field("string", "pause: UNIX seconds, not in the future (default now).", json!("1796256000")));
    command.insert(
        "pause_end_date".into(),
        field("string", "pause: UNIX seconds; the mandate resumes then (default its end date).", json!("1797000000")),
    );
    command.insert("resume_date".into(), field("string", "resume: UNIX seconds, not in the future.", json!("1796256000")));
    command.insert(
        "object_reference_id".into(),
        field(
            "string",
            "pre_debit_notify: your id for the notification, 1–25 letters and digits; a repeat answers the same notification.",
            json!("inv2027jan"),
        ),
    );
    command.insert(
        "source_info".into(),
        field(
            "string",
            "pre_debit_notify: JSON `{\"amount\":\"10.00\",\"txn_date\":\"<UNIX seconds>\"}`.",
            json!("{\"amount\":\"10.00\",\"txn_date\":\"1796256000\"}"),
        ),
    );
    command.insert("description".into(), field("string", "pre_debit_notify: text for the customer.", json!("January plan")));
    command.insert("order_id".into(), field("string", "cancel_recurring_transaction: the debit's order id.", json!("sub_2027_01")));
    let mut card_delete = Map::new();
    card_delete.insert("card_token".into(), field("string", "The saved card's token.", json!("tkn_0123456789abcdef0123456789abcdef")));

    let mut customer = Map::new();
    customer.insert(
        "object_reference_id".into(),
        field("string", "Your id for the customer: 1–64 of `A–Z a–z 0–9 _ - . @`. Create only.", json!("guest_user_101")),
    );
    customer.insert("mobile_number".into(), field("string", "Up to 15 digits.", json!("9999999999")));
    customer.insert("mobile_country_code".into(), field("string", "Up to 4 digits.", json!("91")));
    customer.insert("email_address".into(), field("string", "Email address.", json!("guest@example.com")));
    customer.insert("first_name".into(), field("string", "At most 100 printable characters.", json!("Ada")));
    customer.insert("last_name".into(), field("string", "At most 100 printable characters.", json!("Lovelace")));
    let mut customer_update = customer.clone();
    customer_update.remove("object_reference_id");

    let error = json!({
        "type": "object",
        "required": ["status", "error_code", "error_message"],
        "properties": {
            "status": { "const": "error" },
            "error_code": { "type": "string", "examples": ["invalid_amount"] },
            "error_message": { "type": "string", "examples": ["amount has more than two decimal places"] },
        },
    });
    let error_response =
        |d: &str| json!({ "description": d, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
    let links = json!({
        "type": "object",
        "properties": { "web": { "type": "string" }, "mobile": { "type": "string" }, "iframe": { "type": "string" }, "expiry": { "type": "string", "format": "date-time" } },
    });
    let order_status = json!({
        "type": "object",
        "description": "The order status body (seeds 000, 003; every webhook's `content.order`). Amounts are exact two-digit decimals; `udf1`–`udf10` are always present; the attempt fields appear once there is an attempt.",
        "properties": {
            "id": { "type": "string" }, "order_id": { "type": "string" }, "merchant_id": { "type": "string" },
            "status": { "type": "string", "examples": ["CHARGED"] }, "status_id": { "type": "integer", "examples": [21] },
            "amount": { "type": "number" }, "amount_refunded": { "type": "number" }, "refunded": { "type": "boolean" },
            "currency": { "type": "string" }, "payment_links": { "$ref": "#/components/schemas/PaymentLinks" },
            "effective_amount": { "type": "number" }, "date_created": { "type": "string" }, "order_expiry": { "type": "string" },
            "udf1": { "type": "string" }, "txn_id": { "type": "string", "examples": ["shop-ord_007-1"] }, "txn_uuid": { "type": "string" },
            "payment_method_type": { "type": "string" }, "payment_method": { "type": "string" }, "auth_type": { "type": "string" },
            "gateway_id": { "type": "integer" }, "gateway_reference_id": { "type": "string" },
            "card": { "type": "object" }, "upi": { "type": "object" }, "payment_gateway_response": { "type": "object" },
            "bank_error_code": { "type": "string" }, "bank_error_message": { "type": "string" },
            "txn_detail": { "type": "object", "description": "The attempt itself: `status` (for a hold captured in part: CHARGED while the order is PARTIAL_CHARGED), `txn_amount`, `captured_amount` (a capture's), `auto_capture`.", "properties": {
                "txn_id": { "type": "string" }, "txn_uuid": { "type": "string" }, "order_id": { "type": "string" }, "status": { "type": "string" },
                "status_id": { "type": "integer" }, "txn_amount": { "type": "number" }, "captured_amount": { "type": "number" },
                "currency": { "type": "string" }, "auto_capture": { "type": "boolean" } } },
            "mandate": { "$ref": "#/components/schemas/Mandate", "description": "The mandate the order registered (`txn_detail.txn_object_type` MANDATE_REGISTER or EMANDATE_REGISTER) or debited (…_PAYMENT), with `mandate_status`." },
            "refunds": { "type": "array", "items": { "type": "object", "properties": {
                "id": { "type": "string" }, "unique_request_id": { "type": "string" }, "amount": { "type": "number" },
                "status": { "type": "string" }, "created": { "type": "string", "format": "date-time" } } } },
        },
        "required": order_status_required(),
    });

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Kassa orders API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The Juspay Express Checkout dialect: point an existing Juspay server SDK's base URL at Kassa. Bodies are form-encoded or JSON; unknown, duplicate or malformed fields are refused with a 4xx JSON error and change nothing.",
            "license": { "name": "MIT OR Apache-2.0", "identifier": "MIT OR Apache-2.0" },
        },
        "servers": [{ "url": server }],
        "security": [{ "apiKey": [] }],
        "paths": {
            "/orders": { "post": op("createOrder", "Create an order (or get the identical one that exists)", "apiKey", Some("CreateOrder"), ok("OrderCreated", "Created, or the identical existing order."), WITH_ORDER) },
            "/orders/{order_id}": {
                "parameters": path_param("order_id", "Your order id."),
                "get": op("getOrder", "Order status", "apiKey", None, ok("OrderStatus", "The order."), WITH_ORDER),
                "post": op("updateOrder", "Update amount, udfs and addresses before any payment", "apiKey", Some("UpdateOrder"), ok("OrderStatus", "The updated order."), WITH_ORDER),
            },
            "/orders/{order_id}/refunds": {
                "parameters": path_param("order_id", "Your order id."),
                "post": op("refundOrder", "Refund a CHARGED order, partially or fully, idempotently", "apiKey", Some("Refund"), ok("OrderStatus", "The order with its refunds."), WITH_ORDER),
            },
            "/orders/{order_id}/sync": {
                "parameters": path_param("order_id", "Your order id."),
                "post": op("syncOrder", "Ask the order's gateway (Razorpay, Paytm) now about its attempts that are undecided or failed, apply what its API says (a late success on a paid order is refunded at the gateway), and answer the order status; Kassa also asks by itself while an attempt is pending (every `--gateway-poll-ms`, 3 s)", "apiKey", None, ok("OrderStatus", "The order as it is now."), WITH_ORDER),
            },
            "/session": { "post": op("createSession", "Create or load an order; payment links and the Process SDK payload", "apiKey", Some("SessionRequest"), ok("Session", "Links and sdk_payload with an order-scoped clientAuthToken."), WITH_ORDER) },
            "/sdk/process": { "post": op("sdkProcess", "Create or load an order from a signed Process SDK payload (no API key: the RSA signature is the credential)", "", Some("SdkProcess"), ok("Session", "The order, its links and a client token."), WITH_ORDER) },
            "/txns": { "post": op("createTxn", "Start a payment attempt (the payment page's call). Card, NB and wallet answer `payment.authentication.url` (the bank page); UPI answers `payment.collect` (`status_url` to poll, `cancel_url`, `expires_at`). With HTTP Basic (your API key) instead of the client token and the fields of `MandateExecution`: a debit of an ACTIVE mandate, as a new order (Juspay's mandate execution; errors `JP_852` not active, `JP_851` no unused pre-debit notification for at least the amount (UPI), `mandate_cycle_used`, `DUPLICATE_ORDER_ID`)", "clientToken", Some("Txn"), ok("TxnStarted", "The attempt and what comes next."), WITH_ORDER) },
            "/mandates/{mandate_id}": { "parameters": path_param("mandate_id", "The mandate."), "post": op("mandateCommand", "A mandate command: revoke, pause, resume, check_status, pre_debit_notify (answered by MANDATE_* / NOTIFICATION_* webhooks) or cancel_recurring_transaction", "apiKey", Some("MandateCommand"), ok("Mandate", "The mandate, the notification, or the cancelled debit."), WITH_ORDER) },
            "/customers/{customer_id}/mandates": { "parameters": path_param("customer_id", "Your customer id."), "get": op("listMandates", "A customer's mandates, newest first (`offset`, `count` ≤ 100 in the query): `{object: list, list, total, offset, count}`", "apiKey", None, ok("MandateList", "The list."), COMMON) },
            "/cards": { "get": op("listCards", "A customer's saved cards (`?customer_id=`): `{customer_id, merchantId, cards: [{card_token, card_number (masked, `4111-XXXXXXXX-1111`), card_isin, card_exp_month, card_exp_year, card_brand, name_on_card, expired, card_fingerprint}]}`", "apiKey", None, ok("Cards", "The cards."), COMMON) },
            "/card/list": { "get": op("listCardsLegacy", "The older path of `GET /cards`", "apiKey", None, ok("Cards", "The cards."), COMMON) },
            "/card/delete": { "post": op("deleteCard", "Delete a saved card", "apiKey", Some("CardDelete"), ok("Mandate", "`{card_token, card_reference, deleted: true}`."), WITH_ORDER) },
            "/manage/cards/delete": { "post": op("manageDeleteCard", "The payment management page's call (its customer-scoped client token): delete one of the customer's saved cards", "clientToken", Some("CardDelete"), ok("Mandate", "`{card_token, deleted: true}`."), WITH_ORDER) },
            "/manage/mandates/{mandate_id}/revoke": { "parameters": path_param("mandate_id", "The mandate."), "post": op("manageRevokeMandate", "The payment management page's call: the customer revokes their mandate, if its terms let them", "clientToken", None, ok("Mandate", "`{mandate_id, mandate_status: REVOKED}`."), WITH_ORDER) },
            "/txns/{txn_uuid}": {
                "parameters": path_param("txn_uuid", "The attempt's `txn_…` id (`txn_uuid` of `POST /txns`)."),
                "get": op("getTxn", "An attempt's status, for a page that polls (UPI collect, AUTHORIZING cards); `next_url` once final", "clientToken", None, ok("TxnStatus", "The attempt."), WITH_ORDER),
            },
            "/txns/{txn_uuid}/cancel": {
                "parameters": path_param("txn_uuid", "The attempt's `txn_…` id (`txn_uuid` of `POST /txns`)."),
                "post": op("cancelTxn", "Cancel an attempt that still waits for the shopper (bank page, collect request); it ends AUTHENTICATION_FAILED. An attempt the bank is authorizing cannot be cancelled", "clientToken", None, ok("TxnStatus", "The attempt."), WITH_ORDER),
            },
            "/v2/txns/{txn_uuid}/capture": {
                "parameters": path_param("txn_uuid", "The held attempt's `txn_…` id (`txn_uuid` of the order status)."),
                "post": op("captureTxn", "Capture a hold (AUTHORIZED), in full or in part (`amount`, at most the hold); a repeat with the same `idempotence_key` and amount answers the same capture. The attempt ends CHARGED (the order CHARGED, or PARTIAL_CHARGED for part of the hold) or CAPTURE_FAILED; CAPTURE_INITIATED while the gateway has not answered (Kassa applies its answer later, also after a restart). Any other state: 400 `{\"status\":\"Bad Request\",\"error_code\":\"Invalid\",\"error_message\":\"Cannot Capture CHARGED Transaction\",…}`. Razorpay captures only the whole amount", "apiKey", Some("Capture"), ok("OrderStatus", "The order; `txn_detail` is the attempt (its `status`, `captured_amount`)."), WITH_ORDER),
            },
            "/v2/txns/{txn_uuid}/void": {
                "parameters": path_param("txn_uuid", "The held attempt's `txn_…` id."),
                "post": op("voidTxn", "Release a hold (only while AUTHORIZED): VOIDED, VOID_FAILED, or VOID_INITIATED while the gateway has not answered. Any other state: 400 `Cannot Void <STATUS> Transaction` in Juspay's shape. Razorpay has no void (400 `not_supported`)", "apiKey", None, ok("OrderStatus", "The order; `txn_detail.status` is the attempt's."), WITH_ORDER),
            },
            "/webhooks": {
                "get": op("listWebhookEvents", "Your webhook events, newest first (`order_id`, `status=dead|all`, `limit` ≤ 100 query parameters): `status` delivered, pending or dead, `attempts`, `last_error`", "apiKey", None, ok("WebhookEvents", "The events."), WITH_ORDER),
            },
            "/webhooks/settings": {
                "get": op("getWebhookSettings", "The webhook URL and the events you receive", "apiKey", None, ok("WebhookSettings", "The settings."), COMMON),
                "post": op("updateWebhookSettings", "Choose the events you receive", "apiKey", Some("WebhookSettingsRequest"), ok("WebhookSettings", "The settings."), COMMON),
            },
            "/webhooks/{event_id}/redeliver": {
                "parameters": path_param("event_id", "The event's `evt_…` id."),
                "post": { "operationId": "redeliverWebhookEvent", "summary": "Deliver an event again now, with a fresh retry schedule (dead or delivered)", "security": [{ "apiKey": [] }],
                    "responses": { "200": { "description": "`{id, status: \"queued\"}`" }, "404": { "description": "No such event of yours (`event_not_found`)." } } },
            },
            "/customers": {
                "get": op("listCustomers", "List customers, newest first (`count`, `offset` query parameters)", "apiKey", None, ok("Customer", "A page of customers."), COMMON),
                "post": op("createCustomer", "Create a customer", "apiKey", Some("CreateCustomer"), ok("Customer", "The customer."), WITH_ORDER),
            },
            "/customers/{id}": {
                "parameters": path_param("id", "`cst_…` or your object_reference_id."),
                "get": op("getCustomer", "A customer", "apiKey", None, ok("Customer", "The customer."), WITH_ORDER),
                "post": op("updateCustomer", "Update a customer", "apiKey", Some("UpdateCustomer"), ok("Customer", "The customer."), WITH_ORDER),
            },
            "/health": { "get": { "operationId": "health", "summary": "Liveness", "security": [], "responses": { "200": { "description": "`ok`" } } } },
            "/metrics": { "get": { "operationId": "metrics", "summary": "Prometheus metrics (OpenMetrics text) for the operator: requests by route and status, orders by status, attempts by method and status, the webhook queue, gateway calls, the database pool. With `--metrics-token` (KASSA_METRICS_TOKEN): `Authorization: Bearer <token>`; without: only to a client on the server's own machine that came through no proxy", "security": [], "responses": { "200": { "description": "`application/openmetrics-text`" }, "401": { "description": "No token, a wrong one, or (without a token configured) a request from another machine or through a proxy" } } } },
        },
        "components": {
            "securitySchemes": {
                "apiKey": { "type": "http", "scheme": "basic", "description": "Your API key as the user name, an empty password (`curl -u \"$API_KEY:\"`)." },
                "clientToken": { "type": "http", "scheme": "bearer", "description": "The order-scoped client token (`kct_…`) from the session or `options.get_client_auth_token`; never your API key." },
            },
            "schemas": {
                "CreateOrder": object(order_fields(), &["order_id", "amount"], "Seed 000. Other `metadata.*` fields (printable, at most 255 characters) are stored and returned."),
                "UpdateOrder": object(update, &[], "Seed 003, Update Order."),
                "Refund": object(refund, &["unique_request_id", "amount"], "Seed 003, Refund Order."),
                "Capture": object(capture, &[], "Juspay's Capture API: all of the hold when `amount` is absent."),
                "WebhookSettingsRequest": object(
                    [("webhook_events".to_string(), field("string", "Event names joined with `,` (empty: none): ORDER_CREATED, TXN_CREATED, ORDER_SUCCEEDED, ORDER_FAILED, ORDER_REFUNDED, ORDER_REFUND_FAILED, AUTO_REFUND_SUCCEEDED, AUTO_REFUND_FAILED, MANDATE_CREATED, MANDATE_ACTIVATED, MANDATE_FAILED, MANDATE_REVOKED, MANDATE_PAUSED, MANDATE_RESUMED, MANDATE_EXPIRED, NOTIFICATION_SUCCEEDED, NOTIFICATION_FAILED, ORDER_AUTHORIZED, ORDER_PARTIAL_CHARGED, ORDER_CAPTURE_FAILED, ORDER_VOIDED, ORDER_VOID_FAILED.", json!("ORDER_SUCCEEDED,ORDER_FAILED")))].into_iter().collect(),
                    &[],
                    "The events you receive (Juspay's dashboard setting).",
                ),
                "WebhookSettings": { "type": "object", "properties": {
                    "webhook_url": { "type": ["string", "null"] }, "webhook_events": { "type": "array", "items": { "type": "string" } },
                    "available_events": { "type": "array", "items": { "type": "string" } } } },
                "WebhookEvents": { "type": "object", "properties": { "events": { "type": "array", "items": { "type": "object", "properties": {
                    "id": { "type": "string" }, "event_name": { "type": "string" }, "order_id": { "type": ["string", "null"] },
                    "status": { "type": "string", "enum": ["delivered", "pending", "dead"] }, "attempts": { "type": "integer" },
                    "last_error": { "type": ["string", "null"] }, "date_created": { "type": "string", "format": "date-time" } } } } } },
                "Session": { "type": "object", "properties": {
                    "status": { "type": "string" }, "id": { "type": "string" }, "order_id": { "type": "string" },
                    "payment_links": { "$ref": "#/components/schemas/PaymentLinks" }, "sdk_payload": { "type": "object" },
                    "clientAuthToken": { "type": "string" } } },
                "SessionRequest": object(session, &["order_id", "amount"], "Seed 001, session API."),
                "SdkProcess": object(sdk, &["merchantId", "merchantKeyId", "orderDetails", "signature"], "Seed 001, Process SDK payload."),
                "TxnStarted": { "type": "object", "properties": {
                    "order_id": { "type": "string" }, "txn_id": { "type": "string", "description": "Juspay's form: `{merchant_id}-{order_id}-{n}`." },
                    "txn_uuid": { "type": "string", "description": "The attempt's `txn_…` id, for `/txns/{txn_uuid}`." },
                    "status": { "type": "string", "examples": ["PENDING_VBV"] },
                    "payment": { "type": "object" } }, "required": ["order_id", "txn_id", "txn_uuid", "status", "payment"] },
                "Txn": object(txn, &["order_id", "payment_method_type"], "The payment page's attempt."),
                "MandateExecution": object(execution, &["mandate_id", "order.order_id", "order.amount", "order.customer_id"], "`POST /txns` with your API key: a debit of a mandate (seed 003)."),
                "MandateCommand": object(command, &["command"], "`POST /mandates/{mandate_id}` (seed 003)."),
                "CardDelete": object(card_delete, &["card_token"], "A saved card."),
                "Mandate": { "type": "object", "description": "Juspay's mandate object (`mandate_id`, `mandate_token`, `status`, `mandate_type` MANDATE or EMANDATE, `max_amount`, `amount_rule`, `frequency`, `start_date`, `end_date`, `revokable_by_customer`, `block_fund`, `payment_info`…), or a command's answer." },
                "MandateList": { "type": "object", "properties": { "object": { "const": "list" }, "list": { "type": "array", "items": { "$ref": "#/components/schemas/Mandate" } },
                    "total": { "type": "integer" }, "offset": { "type": "integer" }, "count": { "type": "integer" } } },
                "Cards": { "type": "object", "properties": { "customer_id": { "type": "string" }, "merchantId": { "type": "string" }, "cards": { "type": "array", "items": { "type": "object" } } } },
                "CreateCustomer": object(customer, &["object_reference_id"], "Seed 003, customer object."),
                "UpdateCustomer": object(customer_update, &[], "Seed 003, customer object."),
                "Customer": { "type": "object" },
                "TxnStatus": { "type": "object", "properties": {
                    "txn_id": { "type": "string" }, "txn_uuid": { "type": "string" }, "order_id": { "type": "string" }, "status": { "type": "string" },
                    "status_id": { "type": "integer" }, "order_status": { "type": "string" }, "final": { "type": "boolean" },
                    "next_url": { "type": ["string", "null"], "description": "Where the shopper goes once the attempt is final: `/merchant/return/{txn_uuid}`, which redirects to the signed return URL (or Kassa's result page)." } },
                    "required": ["txn_id", "txn_uuid", "order_id", "status", "status_id", "order_status", "final"] },
                "OrderCreated": { "type": "object", "properties": {
                    "status": { "type": "string", "examples": ["CREATED"] }, "status_id": { "type": "integer" }, "id": { "type": "string" },
                    "order_id": { "type": "string" }, "payment_links": { "$ref": "#/components/schemas/PaymentLinks" },
                    "juspay": { "type": "object", "properties": { "client_auth_token": { "type": "string" }, "client_auth_token_expiry": { "type": "string" } } } } },
                "OrderStatus": order_status,
                "PaymentLinks": links,
                "Error": error,
            },
            "responses": {
                "BadRequest": error_response("Bad input: missing, unknown, duplicate or malformed field, or more than 256 fields (`too_many_parameters`)."),
                "Unauthorized": error_response("Missing or wrong credentials."),
                "NotFound": error_response("No such order or customer for this merchant."),
                "Conflict": error_response("A duplicate order id with other parameters, an order that cannot change now, or one whose failed payment attempts reached the limit (`too_many_failed_attempts`)."),
                "TooLarge": error_response("The body is larger than 64 KB."),
                "TooMany": error_response("A limit was reached (`too_many_requests`, `too_many_failed_logins`, `overloaded`); `Retry-After` says when to try again."),
            },
        },
    })
}
