//! The payment management page (`action=paymentManagement`, seed 001): a
//! customer's saved cards, each removable, and mandates, each revocable when
//! its terms allow, in the payment page's languages and stylesheet. The
//! server renders it and its buttons are plain form posts: it needs no
//! JavaScript and costs the payment page's wasm nothing. The link's token
//! (a customer-scoped client token, 30 minutes) is its only credential,
//! so a form posted from another site cannot name a card or mandate it may change.

use crate::AppState;
use crate::domain::{EventName, Mandate, SavedCard};
use crate::http::auth::check_customer_token;
use crate::http::error::AppError;
use crate::observe::AuditCtx;
use crate::pages::{csp, esc, html};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kassa_types::{Amount, Currency, PaymentMethod};
use serde_json::{Map, Value};

/// The page's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/merchant/manage/{token}", get(page))
        .route("/merchant/manage/{token}/cards/{card_token}/delete", post(delete_card))
        .route("/merchant/manage/{token}/mandates/{mandate_id}/revoke", post(revoke))
}

const TABLES: [(&str, &str, &str); 9] = [
    ("english", include_str!("../../../i18n/english.json"), include_str!("../../../i18n/manage/english.json")),
    ("hindi", include_str!("../../../i18n/hindi.json"), include_str!("../../../i18n/manage/hindi.json")),
    ("telugu", include_str!("../../../i18n/telugu.json"), include_str!("../../../i18n/manage/telugu.json")),
    ("tamil", include_str!("../../../i18n/tamil.json"), include_str!("../../../i18n/manage/tamil.json")),
    ("bengali", include_str!("../../../i18n/bengali.json"), include_str!("../../../i18n/manage/bengali.json")),
    ("malayalam", include_str!("../../../i18n/malayalam.json"), include_str!("../../../i18n/manage/malayalam.json")),
    ("gujarati", include_str!("../../../i18n/gujarati.json"), include_str!("../../../i18n/manage/gujarati.json")),
    ("kannada", include_str!("../../../i18n/kannada.json"), include_str!("../../../i18n/manage/kannada.json")),
    ("marathi", include_str!("../../../i18n/marathi.json"), include_str!("../../../i18n/manage/marathi.json")),
];

/// BCP 47 tags, in [`TABLES`] order.
const TAGS: [&str; 9] = ["en", "hi", "te", "ta", "bn", "ml", "gu", "kn", "mr"];

/// The page's words in one language, English beneath.
pub struct Words {
    table: Map<String, Value>,
    /// BCP 47 tag.
    pub tag: &'static str,
}

impl Words {
    /// The words of `language` (English when it is not one of Kassa's).
    pub fn of(language: &str) -> Words {
        let parse = |t: &str| serde_json::from_str::<Map<String, Value>>(t).unwrap_or_default();
        let mut table = parse(TABLES[0].1);
        table.extend(parse(TABLES[0].2));
        let i = TABLES.iter().position(|(l, _, _)| *l == language).unwrap_or(0);
        if i > 0 {
            table.extend(parse(TABLES[i].1));
            table.extend(parse(TABLES[i].2));
        }
        Words { table, tag: TAGS[i] }
    }

    /// The string for `key`, with `{name}` placeholders filled in.
    pub fn get(&self, key: &str, values: &[(&str, &str)]) -> String {
        let mut s = self.table.get(key).and_then(Value::as_str).unwrap_or(key).to_string();
        for (name, value) in values {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }
}

/// Every language has every key of the English management table.
pub fn missing_keys() -> Vec<String> {
    let english: Map<String, Value> = serde_json::from_str(TABLES[0].2).unwrap_or_default();
    let mut missing = Vec::new();
    for (lang, _, manage) in TABLES {
        let t: Map<String, Value> = serde_json::from_str(manage).unwrap_or_default();
        for k in english.keys() {
            if t.get(k).and_then(Value::as_str).is_none_or(|v| v.trim().is_empty()) {
                missing.push(format!("{lang}.{k}"));
            }
        }
        if t.len() != english.len() {
            missing.push(format!("{lang}: unknown keys"));
        }
    }
    missing
}

fn card_label(w: &Words, c: &SavedCard, now: i64) -> String {
    let brand = c.brand.as_deref().and_then(kassa_types::card::CardBrand::from_code).map_or("Card", |b| b.display_name());
    let expiry = format!("{:02}/{:02}", c.exp_month, c.exp_year % 100);
    let label = w.get("card_ending", &[("brand", brand), ("last4", &c.last4), ("expiry", &expiry)]);
    if c.expired(now) { format!("{label} ({})", w.get("card_expired_tag", &[])) } else { label }
}

fn date(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .map_or_else(|_| String::new(), |t| format!("{:02}/{:02}/{}", t.day(), u8::from(t.month()), t.year()))
}

/// A mandate's terms in the customer's words.
pub fn terms_text(w: &Words, m: &Mandate, merchant: &str) -> String {
    let t = &m.terms;
    let amount = match (u64::try_from(t.max_amount_minor).ok().and_then(Amount::from_minor), Currency::parse(&t.currency)) {
        (Some(a), Some(c)) => c.format(a),
        _ => String::new(),
    };
    let frequency = w.get(&format!("freq_{}", t.frequency.to_ascii_lowercase()), &[]);
    let key = if t.amount_rule == "FIXED" { "mandate_terms_fixed" } else { "mandate_terms" };
    let start = date(t.start_date);
    let end = date(t.end_ms() / 1000);
    let terms = w.get(key, &[("merchant", merchant), ("amount", &amount), ("frequency", &frequency), ("start", &start), ("end", &end)]);
    format!("{terms} {}", w.get(if t.revokable_by_customer { "mandate_revocable" } else { "mandate_irrevocable" }, &[]))
}

#[derive(serde::Deserialize)]
struct PageQuery {
    mobile: Option<String>,
    language: Option<String>,
    done: Option<String>,
}

fn expired_page() -> Response {
    crate::pages::html(
        StatusCode::NOT_FOUND,
        &csp("'none'", "'none'"),
        crate::pages::simple_page(
            "Link expired",
            "<h1>This link has expired</h1><p>Open your saved payment methods again from the shop.</p>",
        ),
    )
}

/// `GET /merchant/manage/:token`.
async fn page(State(st): State<AppState>, Path(token): Path<String>, Query(q): Query<PageQuery>) -> Response {
    let Some((merchant_id, customer_id)) = check_customer_token(&st, &token) else { return expired_page() };
    let merchant = match st.db.merchant(&merchant_id).await {
        Ok(Some(m)) => m,
        Ok(None) => return expired_page(),
        Err(e) => return AppError::from(e).into_response(),
    };
    let (cards, mandates) =
        match (st.db.saved_cards(&merchant.id, &customer_id).await, st.db.mandates(&merchant.id, &customer_id, 0, 100).await) {
            (Ok(c), Ok((m, _))) => (c, m),
            (Err(e), _) | (_, Err(e)) => return AppError::from(e).into_response(),
        };
    let w = Words::of(q.language.as_deref().unwrap_or("english"));
    let now = st.now();
    // What the form posts carry back: the language and layout of the page.
    let keep = query(&q.language, &q.mobile);
    let base = format!("/merchant/manage/{}", esc(&token));
    let mut body = String::new();
    if let Some(done) = q.done.as_deref().filter(|d| ["removed", "revoked"].contains(d)) {
        body.push_str(&format!("<div class=\"kassa-status\" role=\"status\"><p class=\"kassa-info\">{}</p></div>", esc(&w.get(done, &[]))));
    }
    body.push_str(&format!(
        "<section class=\"kassa-panel\" aria-labelledby=\"kassa-cards-title\"><h2 id=\"kassa-cards-title\" class=\"kassa-group\">{}</h2>",
        esc(&w.get("saved_cards", &[]))
    ));
    if cards.is_empty() {
        body.push_str(&format!("<p class=\"kassa-empty\">{}</p>", esc(&w.get("no_saved", &[]))));
    } else {
        body.push_str("<ul class=\"kassa-list\">");
        for c in &cards {
            let label = card_label(&w, c, now);
            body.push_str(&format!(
                "<li class=\"kassa-item\"><span>{l}</span><form method=\"post\" action=\"{base}/cards/{t}/delete{keep}\">\
                 <button type=\"submit\" class=\"kassa-secondary\" aria-label=\"{r}: {l}\">{r}</button></form></li>",
                l = esc(&label),
                t = esc(&c.token),
                r = esc(&w.get("remove", &[])),
            ));
        }
        body.push_str("</ul>");
    }
    body.push_str(&format!(
        "</section><section class=\"kassa-panel\" aria-labelledby=\"kassa-mandates-title\"><h2 id=\"kassa-mandates-title\" class=\"kassa-group\">{}</h2>",
        esc(&w.get("mandates", &[]))
    ));
    if mandates.is_empty() {
        body.push_str(&format!("<p class=\"kassa-empty\">{}</p>", esc(&w.get("no_mandates", &[]))));
    } else {
        body.push_str("<ul class=\"kassa-list\">");
        for m in &mandates {
            let instrument = instrument(m);
            let status = w.get(&format!("status_{}", m.status.to_ascii_lowercase()), &[]);
            let revoke = if m.terms.revokable_by_customer && matches!(m.status.as_str(), "ACTIVE" | "PAUSED") {
                format!(
                    "<form method=\"post\" action=\"{base}/mandates/{id}/revoke{keep}\"><button type=\"submit\" class=\"kassa-secondary\" \
                     aria-label=\"{r}: {i}\">{r}</button></form>",
                    id = esc(&m.id),
                    r = esc(&w.get("revoke", &[])),
                    i = esc(&instrument),
                )
            } else {
                String::new()
            };
            body.push_str(&format!(
                "<li class=\"kassa-item\"><div><p class=\"kassa-strong\">{} · {}</p><p class=\"kassa-hint\">{}</p></div>{revoke}</li>",
                esc(&instrument),
                esc(&status),
                esc(&terms_text(&w, m, &merchant.name)),
            ));
        }
        body.push_str("</ul>");
    }
    body.push_str("</section>");
    let variant = if q.mobile.as_deref() == Some("true") { "kassa-mobile" } else { "kassa-web" };
    let page = format!(
        "<!doctype html><html lang=\"{tag}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · {merchant}</title><link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"/assets/kassa.css\"></head>\
         <body class=\"kassa-page\"><main class=\"kassa-root\"><div class=\"kassa {variant}\" lang=\"{tag}\">\
         <header class=\"kassa-summary\"><p class=\"kassa-merchant\">{merchant}</p><h1 class=\"kassa-title\">{title}</h1></header>\
         {body}<footer class=\"kassa-footer\">{secured}</footer></div></main></body></html>",
        tag = w.tag,
        title = esc(&w.get("manage_title", &[])),
        merchant = esc(&merchant.name),
        secured = esc(&w.get("secured", &[])),
    );
    let mut resp = html(StatusCode::OK, &csp("'none'", "'self'"), page);
    resp.headers_mut().insert(HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
    resp
}

fn query(language: &Option<String>, mobile: &Option<String>) -> String {
    let mut q = Vec::new();
    if let Some(l) = language.as_deref().filter(|l| kassa_types::LANGUAGES.contains(l)) {
        q.push(format!("language={l}"));
    }
    if mobile.as_deref() == Some("true") {
        q.push("mobile=true".into());
    }
    if q.is_empty() { String::new() } else { format!("?{}", q.join("&")) }
}

/// What pays a mandate, as the customer reads it.
fn instrument(m: &Mandate) -> String {
    match m.method {
        PaymentMethod::Card => format!(
            "{} •••• {}",
            m.payment_info["card"]["card_brand"]
                .as_str()
                .and_then(kassa_types::card::CardBrand::from_code)
                .map_or("Card", |b| b.display_name()),
            m.payment_info["card"]["last_four_digits"].as_str().unwrap_or_default()
        ),
        PaymentMethod::Nb | PaymentMethod::Wallet | PaymentMethod::Upi => {
            m.payment_info["upi"]["payer_vpa"].as_str().unwrap_or("UPI").to_string()
        }
    }
}

#[derive(serde::Deserialize)]
struct Back {
    mobile: Option<String>,
    language: Option<String>,
}

/// Back to the page, saying what was done (nothing when `done` is empty).
fn back(token: &str, q: &Back, done: &str) -> Response {
    let keep = query(&q.language, &q.mobile);
    let sep = if keep.is_empty() { "?" } else { "&" };
    let done = if done.is_empty() { String::new() } else { format!("{sep}done={done}") };
    Redirect::to(&format!("/merchant/manage/{token}{keep}{done}")).into_response()
}

/// `POST /merchant/manage/:token/cards/:card_token/delete`.
async fn delete_card(
    State(st): State<AppState>,
    audit: AuditCtx,
    Path((token, card_token)): Path<(String, String)>,
    Query(q): Query<Back>,
) -> Result<Response, AppError> {
    let Some((merchant_id, customer_id)) = check_customer_token(&st, &token) else { return Ok(expired_page()) };
    let Some(card) = st.db.delete_card(&merchant_id, Some(&customer_id), &card_token).await? else {
        return Ok(crate::pages::not_found_page());
    };
    audit
        .customer(&customer_id)
        .record(&st.db, Some(&merchant_id), "card.delete", Some(&customer_id), serde_json::json!({ "last4": card.last4 }))
        .await;
    Ok(back(&token, &q, "removed"))
}

/// `POST /merchant/manage/:token/mandates/:mandate_id/revoke`.
async fn revoke(
    State(st): State<AppState>,
    audit: AuditCtx,
    Path((token, mandate_id)): Path<(String, String)>,
    Query(q): Query<Back>,
) -> Result<Response, AppError> {
    let Some((merchant_id, customer_id)) = check_customer_token(&st, &token) else { return Ok(expired_page()) };
    let m = st.db.mandate(&mandate_id).await?.filter(|m| m.merchant_id == merchant_id && m.customer_id == customer_id);
    let Some(m) = m.filter(|m| m.terms.revokable_by_customer) else { return Ok(crate::pages::not_found_page()) };
    if st.db.mandate_transition(&m.id, &["ACTIVE", "PAUSED"], "REVOKED", None, EventName::MANDATE_REVOKED, st.now()).await?.is_some() {
        audit.customer(&customer_id).record(&st.db, Some(&merchant_id), "mandate.revoke", Some(&m.id), serde_json::json!({})).await;
    } else if m.status != "REVOKED" {
        // Expired or never active: nothing was revoked; the page shows it as it is.
        return Ok(back(&token, &q, ""));
    }
    // Revoked now, or by an earlier click.
    Ok(back(&token, &q, "revoked"))
}
