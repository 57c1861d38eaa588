//! Storage of the payment flow: attempts, their answers, order updates and
//! refunds. Each function is one transaction, and each applies the money
//! rules of SPEC §3 inside it, so they hold whatever runs concurrently:
//! - an attempt's amount is read in the transaction that inserts it;
//! - an order is not updated while any attempt is pending;
//! - an answer applies only to an attempt in the state it belongs to;
//! - an order's status is [`OrderStatus::of_attempts`] of its attempts;
//! - a charge of an amount other than the order's, or a second charge, is
//!   auto-refunded; refunds never exceed what the charge took.

use super::{Db, DbError, TXN_COLS, TXN_INSERT_COLS, classify, status_of, txn_from};
use crate::domain::{EventName, GatewayResponse, Refund, Txn};
use kassa_types::OrderStatus;
use sqlx::{AnyConnection, Row};

/// The scenario of an attempt whose gateway could not be reached.
const UNREACHABLE: &str = "unreachable";

/// How long a refund for a gateway is left to the request that sends it before the checker looks for it.
pub(crate) const REFUND_LEASE_MS: i64 = 60_000;

/// What a refund request did.
#[derive(Debug)]
pub enum RefundOutcome {
    /// Recorded now.
    Created(Refund),
    /// The same `unique_request_id` was seen before with the same amount: its stored answer, if any.
    Repeat(Refund, Option<String>),
    /// The same `unique_request_id` with another amount.
    Conflict,
    /// The order is not CHARGED.
    NotCharged,
    /// More than what is left to refund.
    TooMuch,
}

/// What recording a new attempt did.
#[derive(Debug)]
pub enum AttemptStart {
    /// Recorded, STARTED, with its amount and number read from the order.
    Started(Box<Txn>),
    /// The order takes no new attempt now (paid, authorizing, expired).
    NotPayable,
    /// The order's failed attempts reached the limit: it takes no more.
    Exhausted,
}

/// What asking to capture or void a hold did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoldStep {
    /// Started now: the gateway is to be asked.
    Started,
    /// The same capture (`idempotence_key` and amount) was started before; the attempt is in this status now.
    Repeat(OrderStatus),
    /// The `idempotence_key` was used for a capture of another amount.
    KeyReused,
    /// More than the hold (its amount).
    TooMuch(i64),
    /// The attempt is in this status, which takes no capture or void (NEW: no such attempt).
    Refused(OrderStatus),
}

/// What applying an answer did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    /// The attempt's status now.
    pub txn: OrderStatus,
    /// The order's status now.
    pub order: OrderStatus,
}

/// A change's `updated_at`: now (the parameter `now`), or one past the last
/// change if that is not earlier (optimistic updates compare it, so it
/// always moves).
fn later_updated_at(now: &str) -> String {
    format!("CASE WHEN updated_at >= {now} THEN updated_at + 1 ELSE {now} END")
}

/// The statuses of an order's attempts, oldest first.
async fn attempt_statuses(conn: &mut AnyConnection, order_pk: &str) -> Result<Vec<OrderStatus>, DbError> {
    let rows: Vec<String> = sqlx::query_scalar("SELECT status FROM txns WHERE order_pk = $1 ORDER BY created_at, rowid")
        .bind(order_pk)
        .fetch_all(&mut *conn)
        .await
        .map_err(classify)?;
    rows.iter().map(|s| status_of(s)).collect()
}

/// Inserts attempt `t` inside `tx`.
pub(super) async fn insert_txn(tx: &mut AnyConnection, t: &Txn) -> Result<(), DbError> {
    let details = serde_json::to_string(&t.details).map_err(|e| DbError::Other(sqlx::Error::Encode(e.into())))?;
    sqlx::query(&format!(
        "INSERT INTO txns ({TXN_INSERT_COLS}, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    ))
    .bind(&t.id)
    .bind(&t.order_pk)
    .bind(t.method.token())
    .bind(&t.method_detail)
    .bind(&t.card_last4)
    .bind(&t.scenario)
    .bind(t.status.as_str())
    .bind(t.amount_minor)
    .bind(t.created_at)
    .bind(t.settle_at)
    .bind(t.settle_status.map(OrderStatus::as_str))
    .bind(i64::from(t.in_frame))
    .bind(t.seq)
    .bind(details)
    .bind(None::<String>)
    .bind(t.created_at)
    .execute(&mut *tx)
    .await
    .map_err(classify)?;
    Ok(())
}

/// Sets the order's status to what its attempts say (and returns it). The
/// order row is locked first, so on PostgreSQL a concurrent change of
/// another attempt commits before the attempts are read.
pub(super) async fn refresh_order_status(tx: &mut AnyConnection, order_pk: &str, now: i64) -> Result<OrderStatus, DbError> {
    sqlx::query("UPDATE orders SET updated_at = updated_at WHERE id = $1").bind(order_pk).execute(&mut *tx).await.map_err(classify)?;
    let mut status = OrderStatus::of_attempts(attempt_statuses(tx, order_pk).await?);
    if status == OrderStatus::CHARGED {
        // A hold captured for less than it held: the order is PARTIAL_CHARGED (Juspay).
        let partial: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM txns WHERE order_pk = $1 AND status = 'CHARGED' AND captured_minor IS NOT NULL AND captured_minor < amount_minor",
        )
        .bind(order_pk)
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        if partial.is_some() {
            status = OrderStatus::PARTIAL_CHARGED;
        }
    }
    sqlx::query(&format!("UPDATE orders SET status = $1, updated_at = {} WHERE id = $3", later_updated_at("$2")))
        .bind(status.as_str())
        .bind(now)
        .bind(order_pk)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
    Ok(status)
}

impl Db {
    /// Marks an attempt its gateway could not be reached for (still STARTED,
    /// about to be declined): it does not count toward the order's failed attempts.
    pub async fn txn_unreachable(&self, txn_id: &str) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        sqlx::query(&format!("UPDATE txns SET scenario = '{UNREACHABLE}' WHERE id = $1 AND status = 'STARTED'"))
            .bind(txn_id)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Records a new attempt, STARTED (before the gateway is asked), in one
    /// transaction; the attempt's amount and number are read from the order
    /// row this transaction has locked, and the order's status follows its
    /// attempts. [`AttemptStart::NotPayable`] if the order takes no new
    /// attempt (paid, authorizing, another attempt starting, expired);
    /// [`AttemptStart::Exhausted`] once `max_failed` attempts of it failed.
    pub async fn start_txn(&self, t: &Txn, now: i64, max_failed: i64) -> Result<AttemptStart, DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let accepts = OrderStatus::sql_list(OrderStatus::accepts_new_attempt);
        let amount: Option<i64> = sqlx::query_scalar(&format!(
            "UPDATE orders SET updated_at = {} WHERE id = $2 AND expires_at > $1 AND status IN ({accepts}) RETURNING amount_minor",
            later_updated_at("$1")
        ))
        .bind(now)
        .bind(&t.order_pk)
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        let Some(amount_minor) = amount else { return Ok(AttemptStart::NotPayable) };
        // Counted under the order's lock: concurrent attempts cannot get past the limit together.
        let failures = OrderStatus::sql_list(OrderStatus::is_failure);
        // Attempts a gateway could not take (unreachable) are not the shopper's failures.
        let failed: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM txns WHERE order_pk = $1 AND status IN ({failures}) AND scenario <> '{UNREACHABLE}'"
        ))
        .bind(&t.order_pk)
        .fetch_one(&mut *tx)
        .await
        .map_err(classify)?;
        if failed >= max_failed {
            return Ok(AttemptStart::Exhausted);
        }
        let seq: i64 = sqlx::query_scalar("SELECT COUNT(*) + 1 FROM txns WHERE order_pk = $1")
            .bind(&t.order_pk)
            .fetch_one(&mut *tx)
            .await
            .map_err(classify)?;
        let txn = Txn { amount_minor, seq, status: OrderStatus::STARTED, ..t.clone() };
        insert_txn(&mut tx, &txn).await?;
        refresh_order_status(&mut tx, &txn.order_pk, now).await?;
        tx.commit().await.map_err(classify)?;
        Ok(AttemptStart::Started(Box::new(txn)))
    }

    /// The gateway accepted a STARTED attempt: it now waits for the shopper
    /// (PENDING_VBV) with what the gateway said, and TXN_CREATED is written,
    /// in one transaction. `false` if the attempt was no longer STARTED (it
    /// timed out meanwhile).
    pub async fn attempt_started(&self, t: &Txn, now: i64) -> Result<bool, DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let details = serde_json::to_string(&t.details).map_err(|e| DbError::Other(sqlx::Error::Encode(e.into())))?;
        let moved = sqlx::query(
            "UPDATE txns SET status = 'PENDING_VBV', scenario = $1, details = $2, settle_at = $3, settle_status = $4, updated_at = $5 \
             WHERE id = $6 AND status = 'STARTED'",
        )
        .bind(&t.scenario)
        .bind(details)
        .bind(t.settle_at)
        .bind(t.settle_status.map(OrderStatus::as_str))
        .bind(now)
        .bind(&t.id)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        if moved.rows_affected() != 1 {
            return Ok(false);
        }
        refresh_order_status(&mut tx, &t.order_pk, now).await?;
        self.register_mandate(&mut tx, t, now).await?;
        self.write_event(&mut tx, &t.order_pk, EventName::TXN_CREATED, now).await?;
        tx.commit().await.map_err(classify)?;
        Ok(true)
    }

    /// Changes amount and `extra` of an order that is updatable, has no
    /// pending attempt, and has not changed since `seen` was read
    /// (optimistic concurrency), in one statement.
    pub async fn update_order(&self, seen: &crate::domain::Order, amount_minor: i64, extra: &str, now: i64) -> Result<bool, DbError> {
        let _turn = self.write_turn().await;
        let updatable = OrderStatus::sql_list(OrderStatus::is_updatable);
        let pending = OrderStatus::sql_list(OrderStatus::is_pending);
        let done = sqlx::query(&format!(
            "UPDATE orders SET amount_minor = $1, extra = $2, updated_at = $3 WHERE id = $4 AND updated_at = $5 \
             AND status IN ({updatable}) AND NOT EXISTS (SELECT 1 FROM txns WHERE order_pk = $6 AND status IN ({pending}))"
        ))
        .bind(amount_minor)
        .bind(extra)
        .bind(now.max(seen.updated_at + 1))
        .bind(&seen.id)
        .bind(seen.updated_at)
        .bind(&seen.id)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a refund, idempotently by `unique_request_id`, in one
    /// transaction: only for a CHARGED (or PARTIAL_CHARGED) order, and never
    /// above what its charge took (of a hold: what was captured).
    ///
    /// `at_gateway`: a remote gateway makes the refund; it is recorded
    /// PENDING, the amount held, until [`Db::refund_answered`] says how the
    /// gateway answered (the webhook is written then).
    pub async fn refund(
        &self,
        order_pk: &str,
        request_id: &str,
        amount_minor: i64,
        now: i64,
        at_gateway: bool,
    ) -> Result<RefundOutcome, DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let id = crate::random_id("rfd_");
        let refund_status = if at_gateway { "PENDING" } else { "SUCCESS" };
        // Write first: the insert takes SQLite's write lock before anything is read.
        let inserted = sqlx::query(
            "INSERT INTO refunds (id, order_pk, unique_request_id, amount_minor, status, created_at, check_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (order_pk, unique_request_id) DO NOTHING",
        )
        .bind(&id)
        .bind(order_pk)
        .bind(request_id)
        .bind(amount_minor)
        .bind(refund_status)
        .bind(now)
        // A refund for a gateway is followed by the checker from the start, should this request die before the gateway answers.
        .bind(at_gateway.then(|| now.saturating_add(REFUND_LEASE_MS)))
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        if inserted.rows_affected() == 0 {
            let row = sqlx::query(
                "SELECT id, unique_request_id, amount_minor, status, created_at, response FROM refunds \
                 WHERE order_pk = $1 AND unique_request_id = $2",
            )
            .bind(order_pk)
            .bind(request_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(classify)?;
            let existing = super::refund_from(&row)?;
            if existing.amount_minor != amount_minor {
                return Ok(RefundOutcome::Conflict);
            }
            return Ok(RefundOutcome::Repeat(existing, row.try_get("response")?));
        }
        let status: Option<String> = sqlx::query_scalar("SELECT status FROM orders WHERE id = $1")
            .bind(order_pk)
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?;
        if !matches!(status.as_deref(), Some("CHARGED" | "PARTIAL_CHARGED")) {
            return Ok(RefundOutcome::NotCharged);
        }
        // Never above what the charge took: for a captured hold, what was captured, not what was held.
        let updated = sqlx::query(
            "UPDATE orders SET amount_refunded_minor = amount_refunded_minor + $1, updated_at = $2 \
             WHERE id = $3 AND status IN ('CHARGED', 'PARTIAL_CHARGED') \
             AND amount_refunded_minor + $4 <= (SELECT COALESCE(captured_minor, amount_minor) FROM txns WHERE order_pk = $5 AND status = 'CHARGED')",
        )
        .bind(amount_minor)
        .bind(now)
        .bind(order_pk)
        .bind(amount_minor)
        .bind(order_pk)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        if updated.rows_affected() != 1 {
            return Ok(RefundOutcome::TooMuch);
        }
        if !at_gateway {
            self.write_event(&mut tx, order_pk, EventName::ORDER_REFUNDED, now).await?;
        }
        tx.commit().await.map_err(classify)?;
        Ok(RefundOutcome::Created(Refund {
            id,
            unique_request_id: request_id.to_string(),
            amount_minor,
            status: refund_status.into(),
            created_at: now,
        }))
    }

    /// The gateway's answer to a PENDING refund: SUCCESS (ORDER_REFUNDED), or
    /// FAILURE, which gives the held amount back (ORDER_REFUND_FAILED). `false`
    /// if the refund was not PENDING (answered already).
    pub async fn refund_answered(&self, refund_id: &str, succeeded: bool, now: i64) -> Result<bool, DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let row = sqlx::query(
            "UPDATE refunds SET status = $1, check_at = NULL WHERE id = $2 AND status = 'PENDING' RETURNING order_pk, amount_minor",
        )
        .bind(if succeeded { "SUCCESS" } else { "FAILURE" })
        .bind(refund_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        let Some(row) = row else { return Ok(false) };
        let order_pk: String = row.try_get("order_pk")?;
        let amount: i64 = row.try_get("amount_minor")?;
        if !succeeded {
            sqlx::query(&format!(
                "UPDATE orders SET amount_refunded_minor = amount_refunded_minor - $1, updated_at = {} WHERE id = $3",
                later_updated_at("$2")
            ))
            .bind(amount)
            .bind(now)
            .bind(&order_pk)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        }
        let event = if succeeded { EventName::ORDER_REFUNDED } else { EventName::ORDER_REFUND_FAILED };
        self.write_event(&mut tx, &order_pk, event, now).await?;
        tx.commit().await.map_err(classify)?;
        Ok(true)
    }

    /// Moves an attempt waiting on its bank page (PENDING_VBV) to
    /// AUTHORIZING (the bank authenticated the shopper and is still
    /// deciding) and schedules its settlement to `then` at `settle_at`, in
    /// one transaction. `false` if the attempt was not waiting on its bank
    /// page, or its page's deadline has passed.
    pub async fn authorize_txn(&self, txn_id: &str, then: OrderStatus, settle_at: i64, now: i64) -> Result<bool, DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let order_pk: Option<String> = sqlx::query_scalar(
            "UPDATE txns SET status = 'AUTHORIZING', settle_at = $1, settle_status = $2, updated_at = $3 \
             WHERE id = $4 AND status = 'PENDING_VBV' AND (settle_at IS NULL OR settle_at > $5) RETURNING order_pk",
        )
        .bind(settle_at)
        .bind(then.as_str())
        .bind(now)
        .bind(txn_id)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        let Some(order_pk) = order_pk else { return Ok(false) };
        refresh_order_status(&mut tx, &order_pk, now).await?;
        tx.commit().await.map_err(classify)?;
        Ok(true)
    }

    /// Attempts of the built-in sandbox whose settlement is due at `now`:
    /// (id, the status it is in, the status it settles to). A remote
    /// gateway's attempts are asked about instead (`due_remote_checks`).
    pub async fn due_settlements(&self, now: i64, limit: i64) -> Result<Vec<(String, OrderStatus, OrderStatus)>, DbError> {
        // Attempts waiting on the bank, and captures and voids of holds waiting on the gateway.
        let pending =
            OrderStatus::sql_list(|s| s.is_pending() || matches!(s, OrderStatus::CAPTURE_INITIATED | OrderStatus::VOID_INITIATED));
        let rows = sqlx::query(&format!(
            "SELECT id, status, settle_status FROM txns WHERE settle_at IS NOT NULL AND settle_at <= $1 \
             AND status IN ({pending}) AND scenario <> 'remote' ORDER BY settle_at LIMIT $2"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get("id")?, status_of(r.try_get("status")?)?, status_of(r.try_get("settle_status")?)?))).collect()
    }

    /// Asks again at `at` (`None`: never) about an attempt still in `status`.
    pub async fn reschedule(&self, txn_id: &str, status: OrderStatus, at: Option<i64>) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        sqlx::query("UPDATE txns SET settle_at = $1 WHERE id = $2 AND status = $3")
            .bind(at)
            .bind(txn_id)
            .bind(status.as_str())
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Records what the gateway said its ids for the attempt are.
    pub async fn set_txn_details(&self, txn_id: &str, details: &crate::domain::model::TxnDetails) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        let details = serde_json::to_string(details).map_err(|e| DbError::Other(sqlx::Error::Encode(e.into())))?;
        sqlx::query("UPDATE txns SET details = $1 WHERE id = $2").bind(details).bind(txn_id).execute(&self.pool).await.map_err(classify)?;
        Ok(())
    }

    /// Applies a gateway's final answer to an attempt that is in status
    /// `expected` (the state the answer belongs to), with its order, in one
    /// transaction. A success on an order another attempt charged, or of an
    /// amount other than the order's, becomes AUTO_REFUNDED. `None` if the
    /// attempt was not in `expected` (a late, repeated or forged answer), or,
    /// for the shopper's own answers (`in_time`), if its deadline (the
    /// order's expiry for a bank page) has passed: nothing changed.
    pub async fn complete_txn(
        &self,
        txn_id: &str,
        expected: OrderStatus,
        outcome: OrderStatus,
        response: Option<&GatewayResponse>,
        now: i64,
        in_time: bool,
    ) -> Result<Option<Completion>, DbError> {
        self.complete(txn_id, expected, outcome, response, now, in_time, false).await
    }

    /// [`Db::complete_txn`] for a remote gateway's answer: an attempt that
    /// ends AUTO_REFUNDED raises no event here, because the money goes back
    /// only when the gateway takes the refund; the caller then reports it
    /// with [`Db::order_event`] (AUTO_REFUND_SUCCEEDED or AUTO_REFUND_FAILED).
    pub async fn complete_remote_txn(
        &self,
        txn_id: &str,
        expected: OrderStatus,
        outcome: OrderStatus,
        response: Option<&GatewayResponse>,
        now: i64,
    ) -> Result<Option<Completion>, DbError> {
        self.complete(txn_id, expected, outcome, response, now, false, true).await
    }

    /// Writes `event` about an order now, in a transaction of its own.
    pub async fn order_event(&self, order_pk: &str, event: EventName, now: i64) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(classify)?;
        self.write_event(&mut tx, order_pk, event, now).await?;
        tx.commit().await.map_err(classify)?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn complete(
        &self,
        txn_id: &str,
        expected: OrderStatus,
        outcome: OrderStatus,
        response: Option<&GatewayResponse>,
        now: i64,
        in_time: bool,
        defer_refund_event: bool,
    ) -> Result<Option<Completion>, DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(classify)?;
        // Write first, so this transaction holds SQLite's write lock before it reads.
        let claimed = sqlx::query(
            "UPDATE txns SET updated_at = $1 WHERE id = $2 AND status = $3 AND ($4 = 0 OR settle_at IS NULL OR settle_at > $5) \
             RETURNING order_pk, amount_minor",
        )
        .bind(now)
        .bind(txn_id)
        .bind(expected.as_str())
        .bind(i64::from(in_time))
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        let Some(claimed) = claimed else { return Ok(None) };
        let order_pk: String = claimed.try_get("order_pk")?;
        let charged_minor: i64 = claimed.try_get("amount_minor")?;
        // Lock the order row (a no-op write) before looking for another success: on
        // PostgreSQL a concurrent completion waits here and then sees the committed
        // CHARGED attempt; on SQLite the write lock is already held.
        let order_row = sqlx::query("UPDATE orders SET updated_at = updated_at WHERE id = $1 RETURNING amount_minor, extra")
            .bind(&order_pk)
            .fetch_one(&mut *tx)
            .await
            .map_err(classify)?;
        let order_minor: i64 = order_row.try_get("amount_minor")?;
        let preauth = crate::domain::model::preauth_of_extra(&order_row.try_get::<String, _>("extra")?);
        let mut final_status = outcome;
        // A payment's success (not a hold's capture): another success on the order is refunded;
        // on a pre-authorization it holds the amount (AUTHORIZED) instead of taking it.
        if outcome == OrderStatus::CHARGED && expected.is_pending() {
            let took = OrderStatus::sql_list(OrderStatus::took_payment);
            let charged: Option<String> =
                sqlx::query_scalar(&format!("SELECT id FROM txns WHERE order_pk = $1 AND id <> $2 AND status IN ({took})"))
                    .bind(&order_pk)
                    .bind(txn_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(classify)?;
            if charged.is_some() {
                final_status = OrderStatus::AUTO_REFUNDED;
            } else if super::instruments::executing_mandate_status(&mut tx, &order_pk).await?.is_some_and(|s| s != "ACTIVE") {
                // A debit of a mandate revoked, paused or expired since it was scheduled.
                final_status = OrderStatus::JUSPAY_DECLINED;
            } else if preauth && charged_minor == order_minor {
                final_status = OrderStatus::AUTHORIZED;
            } else if charged_minor != order_minor {
                // Cannot happen while updates wait for pending attempts; if it
                // ever does, the money goes back rather than the order
                // claiming an amount that was never charged.
                tracing::error!(txn = %txn_id, charged_minor, order_minor, "a charge does not match its order; auto-refunding it");
                final_status = OrderStatus::AUTO_REFUNDED;
            }
        }
        let response = response.map(serde_json::to_string).transpose().map_err(|e| DbError::Other(sqlx::Error::Encode(e.into())))?;
        sqlx::query("UPDATE txns SET status = $1, updated_at = $2, settle_at = NULL, gateway_response = COALESCE($3, gateway_response) WHERE id = $4")
            .bind(final_status.as_str())
            .bind(now)
            .bind(response)
            .bind(txn_id)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        let order_status = refresh_order_status(&mut tx, &order_pk, now).await?;
        if expected.is_pending() {
            self.attempt_ended(&mut tx, txn_id, final_status, now).await?;
        }
        if let Some(event) = EventName::of_outcome(final_status, order_status)
            && !(defer_refund_event && event == EventName::AUTO_REFUND_SUCCEEDED)
        {
            self.write_event(&mut tx, &order_pk, event, now).await?;
        }
        tx.commit().await.map_err(classify)?;
        Ok(Some(Completion { txn: final_status, order: order_status }))
    }

    /// Starts the capture of `amount_minor` of a hold, in one transaction: a
    /// compare-and-set of the attempt from AUTHORIZED to CAPTURE_INITIATED,
    /// so of concurrent captures and voids exactly one starts. What the
    /// gateway is expected to answer (`then`) is stored with it and applied
    /// at `settle_at` by the settler, should nothing answer before (a crash,
    /// a gateway that answers late).
    pub async fn begin_capture(
        &self,
        txn_id: &str,
        amount_minor: i64,
        key: &str,
        then: OrderStatus,
        settle_at: i64,
        now: i64,
    ) -> Result<HoldStep, DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let moved: Option<String> = sqlx::query_scalar(
            "UPDATE txns SET status = 'CAPTURE_INITIATED', captured_minor = $1, capture_key = $2, settle_at = $3, settle_status = $4, \
             updated_at = $5 WHERE id = $6 AND status = 'AUTHORIZED' AND $7 <= amount_minor RETURNING order_pk",
        )
        .bind(amount_minor)
        .bind(key)
        .bind(settle_at)
        .bind(then.as_str())
        .bind(now)
        .bind(txn_id)
        .bind(amount_minor)
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        let Some(order_pk) = moved else {
            let row = sqlx::query("SELECT status, amount_minor, captured_minor, capture_key FROM txns WHERE id = $1")
                .bind(txn_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(classify)?;
            let Some(row) = row else { return Ok(HoldStep::Refused(OrderStatus::NEW)) };
            let status = status_of(row.try_get("status")?)?;
            let held: i64 = row.try_get("amount_minor")?;
            let asked: Option<i64> = row.try_get("captured_minor")?;
            let seen_key: Option<String> = row.try_get("capture_key")?;
            return Ok(match (status, seen_key) {
                (OrderStatus::AUTHORIZED, _) if amount_minor > held => HoldStep::TooMuch(held),
                (OrderStatus::CAPTURE_INITIATED | OrderStatus::CHARGED | OrderStatus::CAPTURE_FAILED, Some(k))
                    if !key.is_empty() && k == key =>
                {
                    if asked == Some(amount_minor) {
                        HoldStep::Repeat(status)
                    } else {
                        HoldStep::KeyReused
                    }
                }
                (status, _) => HoldStep::Refused(status),
            });
        };
        refresh_order_status(&mut tx, &order_pk, now).await?;
        tx.commit().await.map_err(classify)?;
        Ok(HoldStep::Started)
    }

    /// Starts releasing a hold: AUTHORIZED to VOID_INITIATED, compare-and-set
    /// as [`Db::begin_capture`], with the gateway's expected answer `then` applied at `settle_at`.
    pub async fn begin_void(&self, txn_id: &str, then: OrderStatus, settle_at: i64, now: i64) -> Result<HoldStep, DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let moved: Option<String> = sqlx::query_scalar(
            "UPDATE txns SET status = 'VOID_INITIATED', settle_at = $1, settle_status = $2, updated_at = $3 \
             WHERE id = $4 AND status = 'AUTHORIZED' RETURNING order_pk",
        )
        .bind(settle_at)
        .bind(then.as_str())
        .bind(now)
        .bind(txn_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        let Some(order_pk) = moved else {
            let status: Option<String> = sqlx::query_scalar("SELECT status FROM txns WHERE id = $1")
                .bind(txn_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(classify)?;
            return Ok(HoldStep::Refused(status.as_deref().map(status_of).transpose()?.unwrap_or(OrderStatus::NEW)));
        };
        refresh_order_status(&mut tx, &order_pk, now).await?;
        tx.commit().await.map_err(classify)?;
        Ok(HoldStep::Started)
    }

    /// Holds of the built-in sandbox authorized at or before `before`: due to be voided automatically.
    pub async fn expired_holds(&self, before: i64, limit: i64) -> Result<Vec<String>, DbError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM txns WHERE status = 'AUTHORIZED' AND updated_at <= $1 AND scenario <> 'remote' ORDER BY updated_at LIMIT $2",
        )
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The statuses of every attempt on an order, oldest first.
    pub async fn txn_statuses(&self, order_pk: &str) -> Result<Vec<OrderStatus>, DbError> {
        let mut conn = self.pool.acquire().await?;
        attempt_statuses(&mut conn, order_pk).await
    }

    /// An order's attempts, oldest first.
    pub async fn txns(&self, order_pk: &str) -> Result<Vec<Txn>, DbError> {
        let rows = sqlx::query(&format!("SELECT {TXN_COLS} FROM txns WHERE order_pk = $1 ORDER BY created_at, rowid"))
            .bind(order_pk)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(txn_from).collect()
    }
}
