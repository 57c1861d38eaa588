//! What `/metrics` reads from the database (the whole deployment's state, the
//! same from every instance) and the audit log (SPEC §10).

use super::{Db, DbError, classify};
use sqlx::Row;

/// The database's share of `/metrics`.
#[derive(Debug, Default)]
pub struct Stats {
    /// (status, count) of orders.
    pub orders: Vec<(String, i64)>,
    /// (method, status, count) of payment attempts.
    pub attempts: Vec<(String, String, i64)>,
    /// Webhook events not delivered yet and not dead.
    pub webhook_queue: i64,
    /// Events given up on (until the merchant redelivers them).
    pub webhook_dead: i64,
    /// How long the oldest event that is due has waited, in ms (0: none waits).
    pub webhook_oldest_due_ms: i64,
    /// Connections of this instance's pool: open, idle.
    pub pool_size: u32,
    /// Idle connections of the pool.
    pub pool_idle: u32,
}

/// One entry of the audit log.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditEvent {
    /// `aud_…`.
    pub id: String,
    /// The merchant whose money, keys or settings changed (none: the server's own, e.g. the master key).
    pub merchant_id: Option<String>,
    /// Who: `api_key:<fingerprint>` (the first 12 hex digits of the key's SHA-256, never the key), or `cli:<user>`.
    pub actor: String,
    /// What, e.g. `refund.create`, `txn.capture`, `webhook_settings.update`.
    pub action: String,
    /// What it was done to (an order id, a txn id, a key id).
    pub target: Option<String>,
    /// The change, as JSON text (amounts, settings; never a secret).
    pub detail: Option<String>,
    /// The client's address (HTTP).
    pub address: Option<String>,
    /// The request id (HTTP), as in the `x-request-id` answer header and the logs.
    pub request_id: Option<String>,
    /// Unix ms.
    pub created_at: i64,
}

impl Db {
    /// Counts for `/metrics` at `now`.
    pub async fn stats(&self, now: i64) -> Result<Stats, DbError> {
        let orders = sqlx::query("SELECT status, COUNT(*) AS n FROM orders GROUP BY status").fetch_all(&self.pool).await?;
        let attempts = sqlx::query("SELECT method, status, COUNT(*) AS n FROM txns GROUP BY method, status").fetch_all(&self.pool).await?;
        let queue = sqlx::query(
            "SELECT COUNT(CASE WHEN delivered_at IS NULL AND dead_at IS NULL THEN 1 END) AS queued, \
             COUNT(CASE WHEN dead_at IS NOT NULL THEN 1 END) AS dead, \
             MIN(CASE WHEN delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= $1 THEN next_attempt_at END) AS oldest \
             FROM webhook_events",
        )
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        let oldest: Option<i64> = queue.try_get("oldest")?;
        Ok(Stats {
            orders: orders.iter().map(|r| Ok((r.try_get("status")?, r.try_get("n")?))).collect::<Result<_, DbError>>()?,
            attempts: attempts
                .iter()
                .map(|r| Ok((r.try_get("method")?, r.try_get("status")?, r.try_get("n")?)))
                .collect::<Result<_, DbError>>()?,
            webhook_queue: queue.try_get("queued")?,
            webhook_dead: queue.try_get("dead")?,
            webhook_oldest_due_ms: oldest.map_or(0, |t| now.saturating_sub(t).max(0)),
            pool_size: self.pool.size(),
            pool_idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
        })
    }

    /// Appends an entry to the audit log.
    pub async fn audit(&self, e: &AuditEvent) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "INSERT INTO audit_events (id, merchant_id, actor, action, target, detail, address, request_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&e.id)
        .bind(e.merchant_id.clone())
        .bind(&e.actor)
        .bind(&e.action)
        .bind(e.target.clone())
        .bind(e.detail.clone())
        .bind(e.address.clone())
        .bind(e.request_id.clone())
        .bind(e.created_at)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(())
    }

    /// A merchant's audit log (or, with `None`, the server's own entries), newest first.
    pub async fn audit_log(&self, merchant_id: Option<&str>, limit: i64) -> Result<Vec<AuditEvent>, DbError> {
        let rows = sqlx::query(
            "SELECT id, merchant_id, actor, action, target, detail, address, request_id, created_at FROM audit_events \
             WHERE ($1 IS NULL AND merchant_id IS NULL) OR merchant_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3",
        )
        .bind(merchant_id.map(str::to_string))
        .bind(merchant_id.map(str::to_string))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEvent {
                    id: r.try_get("id")?,
                    merchant_id: r.try_get("merchant_id")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    target: r.try_get("target")?,
                    detail: r.try_get("detail")?,
                    address: r.try_get("address")?,
                    request_id: r.try_get("request_id")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }
}

/// Which of a merchant's credentials a rotation replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// The API key (stored as its SHA-256): the old one keeps working for the overlap.
    ApiKey,
    /// The response key: the new one signs from the end of the overlap on.
    ResponseKey,
    /// The webhook secret: deliveries are signed with both during the overlap.
    WebhookSecret,
}

impl Db {
    /// Replaces a merchant's credential with `new` (for the API key: its
    /// SHA-256), the old one overlapping until `until` (Unix ms) as
    /// [`Credential`] says. `false`: no such merchant.
    pub async fn rotate_credential(&self, merchant_id: &str, which: Credential, new: &str, now: i64, until: i64) -> Result<bool, DbError> {
        let _turn = self.write_turn().await;
        // One statement each (the right-hand sides read the row as it was), so
        // a rotation from the CLI never waits on a read-then-write lock upgrade
        // while a server writes.
        let done = match which {
            Credential::ApiKey => sqlx::query(
                "UPDATE merchants SET api_key_hash_previous = api_key_hash, api_key_hash = $1, api_key_previous_until = $2 WHERE id = $3",
            )
            .bind(new.to_string()),
            // The key that signs now (a pending one whose time has come) stays current until `until`.
            Credential::ResponseKey => sqlx::query(
                "UPDATE merchants SET response_key = CASE WHEN response_key_next IS NOT NULL AND response_key_next_at <= $4 \
                 THEN response_key_next ELSE response_key END, response_key_next = $1, response_key_next_at = $2 WHERE id = $3",
            )
            .bind(self.seal_secret(new)),
            Credential::WebhookSecret => sqlx::query(
                "UPDATE merchants SET webhook_secret_previous = webhook_secret, webhook_secret = $1, webhook_secret_previous_until = $2 \
                 WHERE id = $3",
            )
            .bind(self.seal_secret(new)),
        }
        .bind(until)
        .bind(merchant_id);
        let done = if which == Credential::ResponseKey { done.bind(now) } else { done };
        let done = done.execute(&self.pool).await.map_err(classify)?;
        self.merchant_changed();
        Ok(done.rows_affected() == 1)
    }
}
