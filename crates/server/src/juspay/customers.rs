//! Customer objects (seed 003): `POST /customers`, `GET /customers`,
//! `GET /customers/:id`, `POST /customers/:id`. `:id` is Kassa's `cst_…` id or
//! the merchant's `object_reference_id`.

use crate::db::Customer;
use crate::http::auth::Authed;
use crate::http::body::Fields;
use crate::http::error::AppError;
use crate::juspay::wire::rfc3339;
use crate::{AppState, random_id};
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

/// The customer routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/customers", get(list).post(create)).route("/customers/{id}", get(show).post(update))
}

fn body(c: &Customer) -> Value {
    json!({
        "object": "customer",
        "id": c.id,
        "object_reference_id": c.object_reference_id,
        "mobile_number": c.mobile_number,
        "mobile_country_code": c.mobile_country_code,
        "email_address": c.email_address,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "date_created": rfc3339(c.created_at),
        "last_updated": rfc3339(c.updated_at),
    })
}

fn reference_ok(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'@'))
}

/// Reads the editable fields into `c`, validating each one given.
fn apply(f: &mut Fields, c: &mut Customer) -> Result<(), AppError> {
    let bad = |m: &str| AppError::bad_request("invalid_parameter", m.to_string());
    if let Some(v) = f.take("mobile_number") {
        if v.len() > 15 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("mobile_number must be up to 15 digits"));
        }
        c.mobile_number = Some(v);
    }
    if let Some(v) = f.take("mobile_country_code") {
        if v.len() > 4 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("mobile_country_code must be up to 4 digits"));
        }
        c.mobile_country_code = Some(v);
    }
    if let Some(v) = f.take("email_address") {
        if v.len() > 254 || !v.contains('@') || v.chars().any(char::is_control) {
            return Err(bad("email_address is not an email address"));
        }
        c.email_address = Some(v);
    }
    for (name, slot) in [("first_name", &mut c.first_name), ("last_name", &mut c.last_name)] {
        if let Some(v) = f.take(name) {
            if v.chars().count() > 100 || v.chars().any(char::is_control) {
                return Err(bad(&format!("{name} must be at most 100 printable characters")));
            }
            *slot = Some(v);
        }
    }
    Ok(())
}

async fn create(State(st): State<AppState>, Authed(m): Authed, mut f: Fields) -> Result<Json<Value>, AppError> {
    let reference = f.require("object_reference_id")?;
    if !reference_ok(&reference) {
        return Err(AppError::bad_request("invalid_parameter", "object_reference_id must be 1-64 of letters, digits, '_', '-', '.', '@'"));
    }
    let now = st.now();
    let mut c = Customer { id: random_id("cst_"), object_reference_id: reference, created_at: now, updated_at: now, ..Customer::default() };
    apply(&mut f, &mut c)?;
    f.finish()?;
    match st.db.create_customer(&m.id, &c).await {
        Ok(()) => Ok(Json(body(&c))),
        Err(crate::db::DbError::Conflict) => {
            Err(AppError::conflict("duplicate_customer", "a customer with this object_reference_id exists"))
        }
        Err(e) => Err(e.into()),
    }
}

async fn show(State(st): State<AppState>, Authed(m): Authed, Path(id): Path<String>) -> Result<Json<Value>, AppError> {
    let c = st.db.customer(&m.id, &id).await?.ok_or_else(not_found)?;
    Ok(Json(body(&c)))
}

async fn update(State(st): State<AppState>, Authed(m): Authed, Path(id): Path<String>, mut f: Fields) -> Result<Json<Value>, AppError> {
    let mut c = st.db.customer(&m.id, &id).await?.ok_or_else(not_found)?;
    apply(&mut f, &mut c)?;
    f.finish()?;
    c.updated_at = st.now().max(c.updated_at);
    st.db.update_customer(&m.id, &c).await?;
    Ok(Json(body(&c)))
}

#[derive(Deserialize)]
struct Page {
    count: Option<i64>,
    offset: Option<i64>,
}

async fn list(
    State(st): State<AppState>,
    Authed(m): Authed,
    page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, AppError> {
    let Query(p) = page.map_err(|_| AppError::bad_request("invalid_parameter", "count and offset must be integers"))?;
    let count = p.count.unwrap_or(20);
    let offset = p.offset.unwrap_or(0);
    if !(1..=100).contains(&count) || offset < 0 {
        return Err(AppError::bad_request("invalid_parameter", "count must be 1-100 and offset at least 0"));
    }
    let list = st.db.customers(&m.id, count, offset).await?;
    Ok(Json(json!({ "count": list.len(), "offset": offset, "list": list.iter().map(body).collect::<Vec<_>>() })))
}

fn not_found() -> AppError {
    AppError {
        status: axum::http::StatusCode::NOT_FOUND,
        code: "customer_not_found",
        message: "customer not found".into(),
        retry_after: None,
    }
}
