//! The merchant's view of its webhooks (Kassa's own endpoints, HTTP Basic
//! with the API key like the rest): which events it receives, what was
//! delivered, what died after the last retry, and redelivery.

use crate::AppState;
use crate::db::EventFilter;
use crate::domain::EventName;
use crate::http::auth::Authed;
use crate::http::body::{Fields, QueryOf};
use crate::http::error::AppError;
use crate::juspay::orders::merchant_order;
use crate::juspay::wire::rfc3339;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

/// The webhook routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/webhooks", get(list))
        .route("/webhooks/settings", get(settings).post(update_settings))
        .route("/webhooks/{event_id}/redeliver", post(redeliver))
}

#[derive(Deserialize)]
struct ListQuery {
    order_id: Option<String>,
    status: Option<String>,
    limit: Option<String>,
}

/// One event as `GET /webhooks` lists it.
#[derive(Serialize)]
struct EventJson {
    id: String,
    event_name: String,
    order_id: Option<String>,
    url: String,
    /// `delivered`, `pending` (retries left) or `dead` (the last retry failed).
    status: &'static str,
    attempts: i64,
    next_attempt_at: Option<String>,
    delivered_at: Option<String>,
    dead_at: Option<String>,
    last_error: Option<String>,
    date_created: String,
}

#[derive(Serialize)]
struct EventList {
    events: Vec<EventJson>,
}

/// `GET /webhooks[?order_id=…][&status=dead][&limit=N]`: the merchant's events, newest first (at most 100).
async fn list(
    State(state): State<AppState>,
    Authed(merchant): Authed,
    QueryOf(q): QueryOf<ListQuery>,
) -> Result<Json<EventList>, AppError> {
    let dead_only = match q.status.as_deref() {
        None | Some("all") => false,
        Some("dead") => true,
        Some(_) => return Err(AppError::bad_request("invalid_parameter", "status must be dead or all")),
    };
    let order_pk = match &q.order_id {
        Some(id) => Some(merchant_order(&state, &merchant, id).await?.id),
        None => None,
    };
    let limit = crate::http::body::limit_param(q.limit.as_deref(), 50, 100)?;
    let rows = state.db.events(&merchant.id, &EventFilter { order_pk, dead_only }, limit).await?;
    let events = rows
        .into_iter()
        .map(|r| {
            let status = r.delivery();
            EventJson {
                next_attempt_at: (status == "pending").then(|| rfc3339(r.next_attempt_at)),
                delivered_at: r.delivered_at.map(rfc3339),
                dead_at: r.dead_at.map(rfc3339),
                id: r.id,
                event_name: r.event_name,
                order_id: r.order_id,
                url: r.url,
                status,
                attempts: r.attempts,
                last_error: r.last_error,
                date_created: rfc3339(r.created_at),
            }
        })
        .collect();
    Ok(Json(EventList { events }))
}

#[derive(Serialize)]
pub(crate) struct Redelivery {
    id: String,
    status: &'static str,
}

/// `POST /webhooks/:event_id/redeliver`: delivers one of the merchant's
/// events again, now, with a fresh retry schedule.
pub(crate) async fn redeliver(
    State(state): State<AppState>,
    Authed(merchant): Authed,
    audit: crate::observe::AuditCtx,
    Path(event_id): Path<String>,
    f: Fields,
) -> Result<Json<Redelivery>, AppError> {
    f.finish()?;
    if !state.db.redeliver_event(&merchant.id, &event_id, state.now()).await? {
        return Err(AppError {
            status: axum::http::StatusCode::NOT_FOUND,
            code: "event_not_found",
            message: "no such event".into(),
            retry_after: None,
        });
    }
    audit.record(&state.db, Some(&merchant.id), "webhook.redeliver", Some(&event_id), serde_json::Value::Null).await;
    Ok(Json(Redelivery { id: event_id, status: "queued" }))
}

#[derive(Serialize)]
struct Settings {
    webhook_url: Option<String>,
    webhook_events: Vec<&'static str>,
    available_events: Vec<&'static str>,
}

fn settings_of(url: Option<String>, events: &[EventName]) -> Settings {
    Settings {
        webhook_url: url,
        webhook_events: events.iter().map(|e| e.as_str()).collect(),
        available_events: EventName::ALL.iter().map(|e| e.as_str()).collect(),
    }
}

/// `GET /webhooks/settings`: the URL and the events the merchant receives.
async fn settings(Authed(merchant): Authed) -> Json<Settings> {
    Json(settings_of(merchant.webhook_url.clone(), &merchant.webhook_events))
}

/// `POST /webhooks/settings` with `webhook_events` (names joined with `,`
/// or spaces; empty: none): chooses the events the merchant receives.
async fn update_settings(
    State(state): State<AppState>,
    Authed(merchant): Authed,
    audit: crate::observe::AuditCtx,
    mut f: Fields,
) -> Result<Json<Settings>, AppError> {
    // Required, so that a forgotten field does not switch every event off; an empty value chooses none.
    let names = f.take_raw("webhook_events").ok_or_else(|| AppError::bad_request("missing_parameter", "webhook_events is required"))?;
    f.finish()?;
    let mut events = Vec::new();
    for name in names.split([',', ' ']).filter(|n| !n.is_empty()) {
        let e = EventName::parse(name).ok_or_else(|| {
            AppError::bad_request("invalid_parameter", format!("unknown event {:?}", name.chars().take(40).collect::<String>()))
        })?;
        if !events.contains(&e) {
            events.push(e);
        }
    }
    state.db.set_webhook_events(&merchant.id, &events).await?;
    let detail = serde_json::json!({ "webhook_events": events.iter().map(|e| e.as_str()).collect::<Vec<_>>() });
    audit.record(&state.db, Some(&merchant.id), "webhook_settings.update", None, detail).await;
    Ok(Json(settings_of(merchant.webhook_url.clone(), &events)))
}
