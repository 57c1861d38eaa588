//! The webhook outbox: events written in the transaction of the change they
//! report, delivered by the worker (`crate::webhook`) on a bounded retry
//! schedule, then dead until the merchant asks for a redelivery.

use super::{Db, DbError, ORDER_COLS, PendingEvent, TXN_COLS, classify, order_from, refund_from, txn_from};
use crate::domain::{EventName, OrderSnapshot};
use sqlx::{AnyConnection, Row};

/// Reads what the order status body shows, on `conn` (inside a transaction:
/// as that transaction sees it).
pub(super) async fn load_snapshot(conn: &mut AnyConnection, order_pk: &str) -> Result<Option<OrderSnapshot>, DbError> {
    let Some(row) = sqlx::query(&format!("SELECT {ORDER_COLS} FROM orders WHERE id = $1"))
        .bind(order_pk)
        .fetch_optional(&mut *conn)
        .await
        .map_err(classify)?
    else {
        return Ok(None);
    };
    let order = order_from(&row)?;
    // The attempt that speaks for the order: its charge if it has one, else the latest.
    // (A pre-authorization speaks for its order whatever became of it: captured, voided.)
    let took = kassa_types::OrderStatus::sql_list(kassa_types::OrderStatus::took_payment);
    let txn = sqlx::query(&format!(
        "SELECT {TXN_COLS} FROM txns WHERE order_pk = $1 ORDER BY CASE WHEN status IN ({took}) THEN 0 ELSE 1 END, created_at DESC, rowid DESC LIMIT 1"
    ))
        .bind(order_pk)
        .fetch_optional(&mut *conn)
        .await
        .map_err(classify)?
        .as_ref()
        .map(txn_from)
        .transpose()?;
    let refunds = sqlx::query(
        "SELECT id, unique_request_id, amount_minor, status, created_at FROM refunds WHERE order_pk = $1 ORDER BY created_at, rowid",
    )
    .bind(order_pk)
    .fetch_all(&mut *conn)
    .await
    .map_err(classify)?
    .iter()
    .map(refund_from)
    .collect::<Result<Vec<_>, _>>()?;
    let gateway = match &order.gateway_account {
        Some(id) => sqlx::query("SELECT gateway, reference_id FROM gateway_accounts WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(classify)?
            .map(|r| Ok::<_, DbError>((r.try_get::<String, _>("gateway")?, r.try_get::<String, _>("reference_id")?)))
            .transpose()?
            .and_then(|(g, r)| Some((crate::gateway::route::GatewayKind::parse(&g)?, r))),
        None => None,
    };
    let mandate = match &txn {
        Some(t) => super::instruments::mandate_of_order(conn, order_pk, &t.id).await?,
        None => None,
    };
    Ok(Some(OrderSnapshot { order, txn, refunds, gateway, mandate }))
}

/// Where an event about the order `order_pk` goes (its merchant and URL),
/// if the order or its merchant has a webhook URL and the merchant receives `event`.
async fn event_target(tx: &mut AnyConnection, order_pk: &str, event: EventName) -> Result<Option<(String, String)>, DbError> {
    let row = sqlx::query(
        "SELECT o.merchant_id, o.extra, m.webhook_url, m.webhook_events FROM orders o JOIN merchants m ON m.id = o.merchant_id WHERE o.id = $1",
    )
    .bind(order_pk)
    .fetch_one(&mut *tx)
    .await
    .map_err(classify)?;
    let extra: serde_json::Value = serde_json::from_str(&row.try_get::<String, _>("extra")?).unwrap_or_default();
    let merchant_url: Option<String> = row.try_get("webhook_url")?;
    let Some(url) = extra["metadata"]["webhook_url"].as_str().map(str::to_string).or(merchant_url) else {
        return Ok(None);
    };
    let chosen = row
        .try_get::<Option<String>, _>("webhook_events")?
        .map_or_else(EventName::default_selection, |e| e.split_whitespace().filter_map(EventName::parse).collect());
    if !chosen.contains(&event) {
        return Ok(None);
    }
    Ok(Some((row.try_get("merchant_id")?, url)))
}

#[allow(clippy::too_many_arguments)]
async fn insert_event(
    tx: &mut AnyConnection,
    id: &str,
    merchant_id: &str,
    order_pk: &str,
    event: EventName,
    url: &str,
    body: &str,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO webhook_events (id, merchant_id, order_pk, event_name, url, body, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(merchant_id)
    .bind(order_pk)
    .bind(event.as_str())
    .bind(url)
    .bind(body)
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(classify)?;
    Ok(())
}

/// Which events to list.
#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    /// Only this order's (Kassa id).
    pub order_pk: Option<String>,
    /// Only dead ones (the last retry failed).
    pub dead_only: bool,
}

/// A webhook event as the merchant sees it.
#[derive(Clone, Debug)]
pub struct EventRow {
    /// `evt_<32 hex>`.
    pub id: String,
    /// Juspay's event name.
    pub event_name: String,
    /// Kassa's order id, if the event is about an order.
    pub order_pk: Option<String>,
    /// The merchant's order id, if the event is about an order.
    pub order_id: Option<String>,
    /// Where it goes.
    pub url: String,
    /// Attempts so far.
    pub attempts: i64,
    /// When the next attempt is due (Unix ms), if it is not delivered or dead.
    pub next_attempt_at: i64,
    /// When it was delivered.
    pub delivered_at: Option<i64>,
    /// When the last retry failed.
    pub dead_at: Option<i64>,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it was written.
    pub created_at: i64,
}

impl EventRow {
    /// `delivered`, `dead` (the last retry failed) or `pending` (retries left).
    pub fn delivery(&self) -> &'static str {
        match (self.delivered_at, self.dead_at) {
            (Some(_), _) => "delivered",
            (None, Some(_)) => "dead",
            (None, None) => "pending",
        }
    }
}

impl Db {
    /// What the order status body shows, read now.
    pub async fn snapshot(&self, order_pk: &str) -> Result<Option<OrderSnapshot>, DbError> {
        // One read transaction: the order, its attempt and its refunds of one moment.
        let mut tx = self.pool.begin().await.map_err(classify)?;
        if self.backend == super::Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").execute(&mut *tx).await.map_err(classify)?;
        }
        let snapshot = load_snapshot(&mut tx, order_pk).await?;
        tx.commit().await.map_err(classify)?;
        Ok(snapshot)
    }

    /// Writes `event` about the order inside `tx`, if the order or its
    /// merchant has a webhook URL and the merchant receives that event. The
    /// body is rendered from a snapshot taken in the same transaction as the
    /// change it reports.
    pub(super) async fn write_event(&self, tx: &mut AnyConnection, order_pk: &str, event: EventName, now: i64) -> Result<(), DbError> {
        let Some(renderer) = &self.renderer else { return Ok(()) };
        let Some((merchant_id, url)) = event_target(tx, order_pk, event).await? else { return Ok(()) };
        let Some(snapshot) = load_snapshot(tx, order_pk).await? else { return Ok(()) };
        let id = crate::random_id("evt_");
        let body = renderer.order_event(&id, event, now, &snapshot);
        insert_event(tx, &id, &merchant_id, order_pk, event, &url, &body, now).await
    }

    /// Writes a mandate event inside `tx` (ordered with the mandate's registration order's events).
    pub(super) async fn write_mandate_event(
        &self,
        tx: &mut AnyConnection,
        mandate: &crate::domain::Mandate,
        event: EventName,
        now: i64,
    ) -> Result<(), DbError> {
        let Some(renderer) = &self.renderer else { return Ok(()) };
        let Some((merchant_id, url)) = event_target(tx, &mandate.order_pk, event).await? else { return Ok(()) };
        let order_id: String = sqlx::query_scalar("SELECT order_id FROM orders WHERE id = $1")
            .bind(&mandate.order_pk)
            .fetch_one(&mut *tx)
            .await
            .map_err(classify)?;
        let id = crate::random_id("evt_");
        let body = renderer.mandate_event(&id, event, now, mandate, &order_id);
        insert_event(tx, &id, &merchant_id, &mandate.order_pk, event, &url, &body, now).await
    }

    /// Writes a pre-debit notification event inside `tx`.
    pub(super) async fn write_notification_event(
        &self,
        tx: &mut AnyConnection,
        n: &crate::domain::Notification,
        order_pk: &str,
        event: EventName,
        now: i64,
    ) -> Result<(), DbError> {
        let Some(renderer) = &self.renderer else { return Ok(()) };
        let Some((merchant_id, url)) = event_target(tx, order_pk, event).await? else { return Ok(()) };
        let id = crate::random_id("evt_");
        let body = renderer.notification_event(&id, event, now, n);
        insert_event(tx, &id, &merchant_id, order_pk, event, &url, &body, now).await
    }

    /// Undelivered, live webhook events that are due at `now`, oldest first.
    pub async fn due_events(&self, now: i64, limit: i64, skip_merchants: &[String]) -> Result<Vec<PendingEvent>, DbError> {
        // Merchants whose deliveries are at their bound wait their turn without hiding the others' events.
        let skip = if skip_merchants.is_empty() {
            String::new()
        } else {
            let params: Vec<String> = (0..skip_merchants.len()).map(|i| format!("${}", i + 3)).collect();
            format!("AND merchant_id NOT IN ({}) ", params.join(", "))
        };
        let sql = format!(
            "SELECT id, merchant_id, url, body, attempts, order_pk FROM webhook_events \
             WHERE delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= $1 {skip}ORDER BY next_attempt_at, created_at LIMIT $2"
        );
        let mut query = sqlx::query(&sql).bind(now).bind(limit);
        for m in skip_merchants {
            query = query.bind(m);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(PendingEvent {
                    id: r.try_get("id")?,
                    merchant_id: r.try_get("merchant_id")?,
                    url: r.try_get("url")?,
                    body: r.try_get("body")?,
                    attempts: r.try_get("attempts")?,
                    order_pk: r.try_get("order_pk")?,
                })
            })
            .collect()
    }

    /// Records the outcome of the delivery attempt made after `attempts`
    /// earlier ones: delivered, failed with the time of the next attempt, or
    /// failed for the last time (`None`: dead). Ignored if the event changed
    /// meanwhile (a redelivery restarted its schedule).
    pub async fn event_attempted(
        &self,
        id: &str,
        attempts: i64,
        now: i64,
        result: Result<(), (String, Option<i64>)>,
    ) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        let (sql, at, error) = match &result {
            Ok(()) => (
                "UPDATE webhook_events SET attempts = attempts + 1, delivered_at = $1, last_error = $2 WHERE id = $3 AND attempts = $4",
                now,
                None,
            ),
            Err((error, Some(next))) => (
                "UPDATE webhook_events SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 WHERE id = $3 AND attempts = $4",
                *next,
                Some(error.clone()),
            ),
            Err((error, None)) => (
                "UPDATE webhook_events SET attempts = attempts + 1, dead_at = $1, last_error = $2 WHERE id = $3 AND attempts = $4",
                now,
                Some(error.clone()),
            ),
        };
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let done = sqlx::query(sql).bind(at).bind(error.clone()).bind(id).bind(attempts).execute(&mut *tx).await.map_err(classify)?;
        if done.rows_affected() == 1 {
            // Its history, for the dashboard: each attempt and how it ended.
            sqlx::query("INSERT INTO webhook_attempts (id, event_id, tried_at, outcome) VALUES ($1, $2, $3, $4)")
                .bind(crate::random_id("wat_"))
                .bind(id)
                .bind(now)
                .bind(error.unwrap_or_else(|| "delivered".into()))
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
        }
        tx.commit().await.map_err(classify)?;
        Ok(())
    }

    /// The delivery attempts of order `order_pk`'s events: (event id, when, how it ended), oldest first.
    pub async fn webhook_attempts(&self, order_pk: &str) -> Result<Vec<(String, i64, String)>, DbError> {
        let rows = sqlx::query(
            "SELECT a.event_id, a.tried_at, a.outcome FROM webhook_attempts a JOIN webhook_events e ON e.id = a.event_id \
             WHERE e.order_pk = $1 ORDER BY a.tried_at, a.id",
        )
        .bind(order_pk)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        rows.iter().map(|r| Ok((r.try_get("event_id")?, r.try_get("tried_at")?, r.try_get("outcome")?))).collect()
    }

    /// Queues a test event (`TEST`, about no order) for merchant `merchant_id` to `url`, delivered like any other: its id.
    pub async fn queue_test_event(&self, merchant_id: &str, url: &str, now: i64) -> Result<String, DbError> {
        let id = crate::random_id("evt_");
        let body = serde_json::json!({
            "id": id,
            "event_name": "TEST",
            "date_created": crate::juspay::wire::rfc3339(now),
            "content": { "message": "A test event sent from the Kassa dashboard. It is signed like every event." },
        })
        .to_string();
        let _turn = self.write_turn().await;
        sqlx::query(
            "INSERT INTO webhook_events (id, merchant_id, order_pk, event_name, url, body, next_attempt_at, created_at) \
             VALUES ($1, $2, NULL, 'TEST', $3, $4, $5, $5)",
        )
        .bind(&id)
        .bind(merchant_id)
        .bind(url)
        .bind(body)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(id)
    }

    /// Claims a due event for one delivery attempt until `lease_until`, so
    /// that of several servers (or a redelivery meanwhile) only one delivers
    /// it. `false`: another took it, or it is no longer due.
    pub async fn claim_event(&self, id: &str, attempts: i64, now: i64, lease_until: i64) -> Result<bool, DbError> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "UPDATE webhook_events SET next_attempt_at = $1 WHERE id = $2 AND attempts = $3 AND next_attempt_at <= $4 \
             AND delivered_at IS NULL AND dead_at IS NULL",
        )
        .bind(lease_until)
        .bind(id)
        .bind(attempts)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(done.rows_affected() == 1)
    }

    /// A merchant's events, newest first.
    pub async fn events(&self, merchant_id: &str, filter: &EventFilter, limit: i64) -> Result<Vec<EventRow>, DbError> {
        let rows = sqlx::query(
            "SELECT e.id, e.event_name, e.order_pk, o.order_id, e.url, e.attempts, e.next_attempt_at, e.delivered_at, e.dead_at, \
             e.last_error, e.created_at FROM webhook_events e LEFT JOIN orders o ON o.id = e.order_pk \
             WHERE e.merchant_id = $1 AND ($2 IS NULL OR e.order_pk = $3) AND ($4 = 0 OR e.dead_at IS NOT NULL) \
             ORDER BY e.created_at DESC, e.id DESC LIMIT $5",
        )
        .bind(merchant_id)
        .bind(filter.order_pk.clone())
        .bind(filter.order_pk.clone())
        .bind(i64::from(filter.dead_only))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(EventRow {
                    id: r.try_get("id")?,
                    event_name: r.try_get("event_name")?,
                    order_pk: r.try_get("order_pk")?,
                    order_id: r.try_get("order_id")?,
                    url: r.try_get("url")?,
                    attempts: r.try_get("attempts")?,
                    next_attempt_at: r.try_get("next_attempt_at")?,
                    delivered_at: r.try_get("delivered_at")?,
                    dead_at: r.try_get("dead_at")?,
                    last_error: r.try_get("last_error")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Queues one of the merchant's events for delivery again now, with a
    /// fresh retry schedule (dead or delivered alike). `false` if the
    /// merchant has no such event.
    pub async fn redeliver_event(&self, merchant_id: &str, event_id: &str, now: i64) -> Result<bool, DbError> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "UPDATE webhook_events SET attempts = 0, dead_at = NULL, delivered_at = NULL, next_attempt_at = $1 \
             WHERE id = $2 AND merchant_id = $3",
        )
        .bind(now)
        .bind(event_id)
        .bind(merchant_id)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(done.rows_affected() == 1)
    }

    /// Chooses the events a merchant receives.
    pub async fn set_webhook_events(&self, merchant_id: &str, events: &[EventName]) -> Result<bool, DbError> {
        let _turn = self.write_turn().await;
        let names = events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(" ");
        let done = sqlx::query("UPDATE merchants SET webhook_events = $1 WHERE id = $2")
            .bind(names)
            .bind(merchant_id)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        self.merchant_changed();
        Ok(done.rows_affected() == 1)
    }
}
