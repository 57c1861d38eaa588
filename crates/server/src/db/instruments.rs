//! Storage of stored instruments (issue 15): saved cards, the sandbox
//! gateway's card vault, mandates with their executions and pre-debit
//! notifications. Every state change is one transaction with the webhook
//! event that reports it; a mandate's status moves only from the statuses a
//! command allows (compare-and-set), so concurrent commands and the expiry
//! worker never both apply.

use super::payments::{insert_txn, refresh_order_status};
use super::{Db, DbError, classify};
use crate::domain::mandate::Terms;
use crate::domain::{EventName, Mandate, Notification, Order, SavedCard, Txn};
use kassa_types::{OrderStatus, PaymentMethod};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

const CARD_COLS: &str =
    "token, merchant_id, customer_id, fingerprint, vault_ref, card_isin, last4, brand, exp_month, exp_year, name, created_at";

fn card_from(row: &AnyRow) -> Result<SavedCard, DbError> {
    Ok(SavedCard {
        token: row.try_get("token")?,
        merchant_id: row.try_get("merchant_id")?,
        customer_id: row.try_get("customer_id")?,
        fingerprint: row.try_get("fingerprint")?,
        vault_ref: row.try_get("vault_ref")?,
        card_isin: row.try_get("card_isin")?,
        last4: row.try_get("last4")?,
        brand: row.try_get("brand")?,
        exp_month: u8::try_from(row.try_get::<i64, _>("exp_month")?).unwrap_or_default(),
        exp_year: u16::try_from(row.try_get::<i64, _>("exp_year")?).unwrap_or_default(),
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
    })
}

const MANDATE_COLS: &str = "id, merchant_id, customer_id, order_pk, txn_id, token, status, method, instrument, payment_info, spec, \
     pause_start, pause_end, activated_at, last_activated_at, created_at, updated_at";

fn decode(what: &str) -> DbError {
    DbError::Other(sqlx::Error::Decode(format!("stored {what} does not parse").into()))
}

fn mandate_from(row: &AnyRow) -> Result<Mandate, DbError> {
    let method: String = row.try_get("method")?;
    let pause = match (row.try_get::<Option<i64>, _>("pause_start")?, row.try_get::<Option<i64>, _>("pause_end")?) {
        (Some(s), Some(e)) => Some((s, e)),
        _ => None,
    };
    Ok(Mandate {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        customer_id: row.try_get("customer_id")?,
        order_pk: row.try_get("order_pk")?,
        txn_id: row.try_get("txn_id")?,
        token: row.try_get("token")?,
        status: row.try_get("status")?,
        method: PaymentMethod::from_token(&method).ok_or_else(|| decode("mandate method"))?,
        instrument: row.try_get("instrument")?,
        payment_info: serde_json::from_str(&row.try_get::<String, _>("payment_info")?).map_err(|_| decode("payment_info"))?,
        terms: serde_json::from_str::<Terms>(&row.try_get::<String, _>("spec")?).map_err(|_| decode("mandate terms"))?,
        pause,
        activated_at: row.try_get("activated_at")?,
        last_activated_at: row.try_get("last_activated_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

const NOTIFICATION_COLS: &str = "id, mandate_id, object_reference_id, amount_minor, txn_date, description, status, created_at, updated_at";

fn notification_from(row: &AnyRow) -> Result<Notification, DbError> {
    Ok(Notification {
        id: row.try_get("id")?,
        mandate_id: row.try_get("mandate_id")?,
        object_reference_id: row.try_get("object_reference_id")?,
        amount_minor: row.try_get("amount_minor")?,
        txn_date: row.try_get("txn_date")?,
        description: row.try_get("description")?,
        status: row.try_get("status")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The mandate that order `order_pk`'s latest attempt `txn_id` registered
/// (`true`), or that the order is a debit of (`false`), read on `conn`.
pub(super) async fn mandate_of_order(conn: &mut AnyConnection, order_pk: &str, txn_id: &str) -> Result<Option<(Mandate, bool)>, DbError> {
    let registered = sqlx::query(&format!("SELECT {MANDATE_COLS} FROM mandates WHERE txn_id = $1"))
        .bind(txn_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(classify)?;
    if let Some(row) = registered {
        return Ok(Some((mandate_from(&row)?, true)));
    }
    let executed = sqlx::query(&format!(
        "SELECT {} FROM mandates m JOIN mandate_executions e ON e.mandate_id = m.id WHERE e.order_pk = $1",
        MANDATE_COLS.split(", ").map(|c| format!("m.{c}")).collect::<Vec<_>>().join(", ")
    ))
    .bind(order_pk)
    .fetch_optional(&mut *conn)
    .await
    .map_err(classify)?;
    executed.as_ref().map(mandate_from).transpose().map(|m| m.map(|m| (m, false)))
}

/// What starting a mandate execution did.
#[derive(Debug, PartialEq, Eq)]
pub enum ExecutionStart {
    /// The order and its attempt are recorded.
    Started,
    /// The mandate is not ACTIVE (its status, or EXPIRED past its end).
    NotActive(String),
    /// A debit of this cycle exists (pending or successful).
    CycleTaken,
    /// The merchant has an order with this `order_id`.
    DuplicateOrder,
    /// No unused successful pre-debit notification covers the debit.
    NotNotified,
}

/// The pre-debit notification a UPI debit needs: one that succeeded, was
/// sent no later than `sent_by` (Unix ms), is for at least the debit's
/// amount and no other debit used; `id` when the merchant names it.
pub struct NoticeNeeded {
    /// The notification the merchant named (`mandate.notification_id`), if it did.
    pub id: Option<String>,
    /// The latest a notification may have been sent (Unix ms).
    pub sent_by: i64,
}

/// A pre-debit notification as recorded: new, or the one with the same `object_reference_id`.
#[derive(Debug)]
pub enum Notified {
    /// Recorded now.
    New(Notification),
    /// Recorded before.
    Existing(Notification),
}

impl Db {
    /// A customer's saved cards, newest first.
    pub async fn saved_cards(&self, merchant_id: &str, customer_id: &str) -> Result<Vec<SavedCard>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {CARD_COLS} FROM saved_cards WHERE merchant_id = $1 AND customer_id = $2 ORDER BY created_at DESC, token"
        ))
        .bind(merchant_id)
        .bind(customer_id)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        rows.iter().map(card_from).collect()
    }

    /// A merchant's saved card by its token.
    pub async fn saved_card(&self, merchant_id: &str, token: &str) -> Result<Option<SavedCard>, DbError> {
        let row = sqlx::query(&format!("SELECT {CARD_COLS} FROM saved_cards WHERE merchant_id = $1 AND token = $2"))
            .bind(merchant_id)
            .bind(token)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        row.as_ref().map(card_from).transpose()
    }

    /// Deletes a merchant's saved card (only the customer's, when `customer_id` is given); the card deleted, if any.
    pub async fn delete_card(&self, merchant_id: &str, customer_id: Option<&str>, token: &str) -> Result<Option<SavedCard>, DbError> {
        let _turn = self.write_turn().await;
        let row = sqlx::query(&format!(
            "DELETE FROM saved_cards WHERE merchant_id = $1 AND token = $2 AND ($3 = '' OR customer_id = $3) RETURNING {CARD_COLS}"
        ))
        .bind(merchant_id)
        .bind(token)
        .bind(customer_id.unwrap_or_default())
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        row.as_ref().map(card_from).transpose()
    }

    /// The sandbox gateway vaults a card: it keeps which of its test outcomes the card has, under a new reference.
    pub async fn vault_card(&self, scenario: &str, now: i64) -> Result<String, DbError> {
        let _turn = self.write_turn().await;
        let vault_ref = crate::random_id("vlt_");
        sqlx::query("INSERT INTO sandbox_vault (ref, scenario, created_at) VALUES ($1, $2, $3)")
            .bind(&vault_ref)
            .bind(scenario)
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(vault_ref)
    }

    /// The sandbox gateway's scenario for a vaulted card.
    pub async fn vaulted(&self, vault_ref: &str) -> Result<Option<String>, DbError> {
        sqlx::query_scalar("SELECT scenario FROM sandbox_vault WHERE ref = $1")
            .bind(vault_ref)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)
    }

    /// A mandate by id.
    pub async fn mandate(&self, id: &str) -> Result<Option<Mandate>, DbError> {
        let row = sqlx::query(&format!("SELECT {MANDATE_COLS} FROM mandates WHERE id = $1")).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(mandate_from).transpose()
    }

    /// A customer's mandates, newest first, from `offset`, at most `limit`; and how many there are.
    pub async fn mandates(&self, merchant_id: &str, customer_id: &str, offset: i64, limit: i64) -> Result<(Vec<Mandate>, i64), DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {MANDATE_COLS} FROM mandates WHERE merchant_id = $1 AND customer_id = $2 ORDER BY created_at DESC, id LIMIT $3 OFFSET $4"
        ))
        .bind(merchant_id)
        .bind(customer_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mandates WHERE merchant_id = $1 AND customer_id = $2")
            .bind(merchant_id)
            .bind(customer_id)
            .fetch_one(&self.pool)
            .await
            .map_err(classify)?;
        Ok((rows.iter().map(mandate_from).collect::<Result<_, _>>()?, total))
    }

    /// Moves mandate `id` from one of `from` to `to` (with a pause window
    /// when pausing), writing `event`, in one transaction. `None`: it was in
    /// none of `from`, and nothing changed.
    pub async fn mandate_transition(
        &self,
        id: &str,
        from: &[&str],
        to: &str,
        pause: Option<(i64, i64)>,
        event: EventName,
        now: i64,
    ) -> Result<Option<Mandate>, DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let from_list = from.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ");
        let activated = if to == "ACTIVE" { "$6" } else { "last_activated_at" };
        let row = sqlx::query(&format!(
            "UPDATE mandates SET status = $1, pause_start = $2, pause_end = $3, updated_at = $4, last_activated_at = {activated} \
             WHERE id = $5 AND status IN ({from_list}) RETURNING {MANDATE_COLS}"
        ))
        .bind(to)
        .bind(pause.map(|p| p.0))
        .bind(pause.map(|p| p.1))
        .bind(now)
        .bind(id)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        let Some(row) = row else { return Ok(None) };
        let mandate = mandate_from(&row)?;
        if to != "ACTIVE" {
            decline_pending_executions(&mut tx, &mandate.id, now).await?;
        }
        self.write_mandate_event(&mut tx, &mandate, event, now).await?;
        tx.commit().await.map_err(classify)?;
        Ok(Some(mandate))
    }

    /// Starts an execution of mandate `mandate_id` (checked ACTIVE and
    /// before its end under its lock): inserts `order`, its attempt `txn`
    /// (waiting for the gateway's settlement), the cycle's claim and, when
    /// `notice` asks for one, the claim of a pre-debit notification, in one
    /// transaction. Of concurrent executions of one cycle, one starts; a
    /// notification covers one debit.
    pub async fn execute_mandate(
        &self,
        order: &Order,
        txn: &Txn,
        mandate_id: &str,
        cycle: &str,
        notice: Option<&NoticeNeeded>,
        now: i64,
    ) -> Result<ExecutionStart, DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let row = sqlx::query("UPDATE mandates SET updated_at = updated_at WHERE id = $1 RETURNING status, end_at")
            .bind(mandate_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?;
        let Some(row) = row else { return Ok(ExecutionStart::NotActive("NOT_FOUND".into())) };
        let status: String = row.try_get("status")?;
        if status != "ACTIVE" {
            return Ok(ExecutionStart::NotActive(status));
        }
        if row.try_get::<i64, _>("end_at")? <= now {
            return Ok(ExecutionStart::NotActive("EXPIRED".into()));
        }
        let sql = self.orders_insert_sql(1);
        if super::orders_insert(&sql, &[order]).fetch_optional(&mut *tx).await.map_err(classify)?.is_none() {
            return Ok(ExecutionStart::DuplicateOrder);
        }
        let claimed = sqlx::query(
            "INSERT INTO mandate_executions (order_pk, mandate_id, cycle, status, created_at) VALUES ($1, $2, $3, 'PENDING', $4)",
        )
        .bind(&order.id)
        .bind(mandate_id)
        .bind(cycle)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(classify);
        match claimed {
            Ok(_) => {}
            Err(DbError::Conflict) => return Ok(ExecutionStart::CycleTaken),
            Err(e) => return Err(e),
        }
        if let Some(notice) = notice {
            let used = sqlx::query(
                "UPDATE mandate_notifications SET used_by = $1 WHERE id = (SELECT id FROM mandate_notifications WHERE mandate_id = $2 \
                 AND status = 'SUCCESS' AND used_by IS NULL AND created_at <= $3 AND amount_minor >= $4 AND ($5 IS NULL OR id = $5) \
                 ORDER BY created_at LIMIT 1) AND used_by IS NULL",
            )
            .bind(&order.id)
            .bind(mandate_id)
            .bind(notice.sent_by)
            .bind(txn.amount_minor)
            .bind(notice.id.as_deref())
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
            if used.rows_affected() != 1 {
                return Ok(ExecutionStart::NotNotified);
            }
        }
        insert_txn(&mut tx, txn).await?;
        refresh_order_status(&mut tx, &order.id, now).await?;
        self.write_event(&mut tx, &order.id, EventName::ORDER_CREATED, now).await?;
        self.write_event(&mut tx, &order.id, EventName::TXN_CREATED, now).await?;
        tx.commit().await.map_err(classify)?;
        Ok(ExecutionStart::Started)
    }

    /// Whether order `order_pk` is a mandate debit (paid by its mandate, never on a payment page).
    pub async fn is_mandate_debit(&self, order_pk: &str) -> Result<bool, DbError> {
        let found: Option<String> = sqlx::query_scalar("SELECT mandate_id FROM mandate_executions WHERE order_pk = $1")
            .bind(order_pk)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        Ok(found.is_some())
    }

    /// Records pre-debit notification `n` of mandate `m`, which the sandbox
    /// answers `settle_status` at `settle_at`; the one recorded before with
    /// the same `object_reference_id` if there is one.
    pub async fn notify(&self, n: &Notification, settle_at: i64, settle_status: &str) -> Result<Notified, DbError> {
        let _turn = self.write_turn().await;
        let inserted = sqlx::query(
            "INSERT INTO mandate_notifications (id, mandate_id, object_reference_id, amount_minor, txn_date, description, status, settle_at, \
             settle_status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (mandate_id, object_reference_id) DO NOTHING",
        )
        .bind(&n.id)
        .bind(&n.mandate_id)
        .bind(&n.object_reference_id)
        .bind(n.amount_minor)
        .bind(n.txn_date)
        .bind(&n.description)
        .bind(&n.status)
        .bind(settle_at)
        .bind(settle_status)
        .bind(n.created_at)
        .bind(n.updated_at)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        if inserted.rows_affected() == 1 {
            return Ok(Notified::New(n.clone()));
        }
        let row = sqlx::query(&format!(
            "SELECT {NOTIFICATION_COLS} FROM mandate_notifications WHERE mandate_id = $1 AND object_reference_id = $2"
        ))
        .bind(&n.mandate_id)
        .bind(&n.object_reference_id)
        .fetch_one(&self.pool)
        .await
        .map_err(classify)?;
        Ok(Notified::Existing(notification_from(&row)?))
    }

    /// The mandate worker's step at `now`: answers the notifications that
    /// are due, resumes paused mandates at the end of their pause and
    /// expires mandates at their end date, each with its event. How many changed.
    pub async fn mandates_due(&self, now: i64) -> Result<usize, DbError> {
        // Read first: most of the time nothing is due, and nothing is locked for it.
        let due: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM mandates WHERE (status IN ('ACTIVE', 'PAUSED') AND end_at <= $1) OR (status = 'PAUSED' AND pause_end <= $2) \
             UNION ALL SELECT 1 FROM mandate_notifications WHERE settle_at <= $1 LIMIT 1",
        )
        .bind(now)
        .bind(now.div_euclid(1000))
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        if due.is_none() {
            return Ok(0);
        }
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let expired = sqlx::query(&format!(
            "UPDATE mandates SET status = 'EXPIRED', updated_at = $1 WHERE status IN ('ACTIVE', 'PAUSED') AND end_at <= $1 RETURNING {MANDATE_COLS}"
        ))
        .bind(now)
        .fetch_all(&mut *tx)
        .await
        .map_err(classify)?;
        let resumed = sqlx::query(&format!(
            "UPDATE mandates SET status = 'ACTIVE', pause_start = NULL, pause_end = NULL, last_activated_at = $1, updated_at = $1 \
             WHERE status = 'PAUSED' AND pause_end <= $2 RETURNING {MANDATE_COLS}"
        ))
        .bind(now)
        .bind(now.div_euclid(1000))
        .fetch_all(&mut *tx)
        .await
        .map_err(classify)?;
        let mut changed = 0;
        for (rows, event) in [(expired, EventName::MANDATE_EXPIRED), (resumed, EventName::MANDATE_RESUMED)] {
            for row in &rows {
                let mandate = mandate_from(row)?;
                if event == EventName::MANDATE_EXPIRED {
                    decline_pending_executions(&mut tx, &mandate.id, now).await?;
                }
                self.write_mandate_event(&mut tx, &mandate, event, now).await?;
                changed += 1;
            }
        }
        let answered = sqlx::query(&format!(
            "UPDATE mandate_notifications SET status = settle_status, settle_at = NULL, updated_at = $1 WHERE settle_at <= $1 RETURNING {NOTIFICATION_COLS}"
        ))
        .bind(now)
        .fetch_all(&mut *tx)
        .await
        .map_err(classify)?;
        for row in &answered {
            let n = notification_from(row)?;
            let order_pk: String = sqlx::query_scalar("SELECT order_pk FROM mandates WHERE id = $1")
                .bind(&n.mandate_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(classify)?;
            let event = if n.status == "SUCCESS" { EventName::NOTIFICATION_SUCCEEDED } else { EventName::NOTIFICATION_FAILED };
            self.write_notification_event(&mut tx, &n, &order_pk, event, now).await?;
            changed += 1;
        }
        tx.commit().await.map_err(classify)?;
        Ok(changed)
    }

    /// Inside `attempt_started`: records the mandate attempt `t` registers, CREATED, with MANDATE_CREATED.
    pub(super) async fn register_mandate(&self, tx: &mut AnyConnection, t: &Txn, now: i64) -> Result<(), DbError> {
        let (Some(id), Some(reg)) = (&t.details.mandate_id, &t.details.register) else { return Ok(()) };
        let row = sqlx::query("SELECT merchant_id, customer_id FROM orders WHERE id = $1")
            .bind(&t.order_pk)
            .fetch_one(&mut *tx)
            .await
            .map_err(classify)?;
        let spec = serde_json::to_string(&reg.terms).map_err(|e| DbError::Other(sqlx::Error::Encode(e.into())))?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO mandates (id, merchant_id, customer_id, order_pk, txn_id, token, status, method, instrument, payment_info, spec, end_at, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'CREATED', $7, $8, $9, $10, $11, $12, $12) RETURNING {MANDATE_COLS}"
        ))
        .bind(id)
        .bind(row.try_get::<String, _>("merchant_id")?)
        .bind(row.try_get::<Option<String>, _>("customer_id")?.unwrap_or_default())
        .bind(&t.order_pk)
        .bind(&t.id)
        .bind(&reg.token)
        .bind(t.method.token())
        .bind(&reg.instrument)
        .bind(reg.payment_info.to_string())
        .bind(spec)
        .bind(reg.terms.end_ms())
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(classify)?;
        self.write_mandate_event(tx, &mandate_from(&inserted)?, EventName::MANDATE_CREATED, now).await
    }

    /// Inside `complete`: what an attempt's end does to the instruments it
    /// carries. A success saves the card it was asked to save and activates
    /// the mandate it registers; a failure fails that mandate; an execution's
    /// end settles its cycle's claim (a failed one frees the cycle).
    pub(super) async fn attempt_ended(&self, tx: &mut AnyConnection, txn_id: &str, status: OrderStatus, now: i64) -> Result<(), DbError> {
        let row = sqlx::query(&format!("SELECT {} FROM txns WHERE id = $1", super::TXN_COLS))
            .bind(txn_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(classify)?;
        let t = super::txn_from(&row)?;
        let took = matches!(status, OrderStatus::CHARGED | OrderStatus::AUTHORIZED);
        if !took && !status.is_failure() && status != OrderStatus::AUTO_REFUNDED {
            return Ok(());
        }
        if let (Some(vault_ref), true) = (&t.details.save_card, took) {
            let order = sqlx::query("SELECT merchant_id, customer_id FROM orders WHERE id = $1")
                .bind(&t.order_pk)
                .fetch_one(&mut *tx)
                .await
                .map_err(classify)?;
            if let Some(customer_id) = order.try_get::<Option<String>, _>("customer_id")? {
                sqlx::query(&format!(
                    "INSERT INTO saved_cards ({CARD_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                     ON CONFLICT (merchant_id, customer_id, fingerprint) DO UPDATE SET vault_ref = excluded.vault_ref, \
                     exp_month = excluded.exp_month, exp_year = excluded.exp_year, name = excluded.name"
                ))
                .bind(crate::random_id("tkn_"))
                .bind(order.try_get::<String, _>("merchant_id")?)
                .bind(customer_id)
                .bind(t.details.card_fingerprint.clone().unwrap_or_default())
                .bind(vault_ref)
                .bind(t.details.card_isin.clone().unwrap_or_default())
                .bind(t.card_last4.clone().unwrap_or_default())
                .bind(&t.method_detail)
                .bind(t.details.expiry_month.as_deref().and_then(|m| m.parse::<i64>().ok()).unwrap_or_default())
                .bind(t.details.expiry_year.as_deref().and_then(|y| y.parse::<i64>().ok()).unwrap_or_default())
                .bind(t.details.name_on_card.clone().unwrap_or_default())
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
            }
        }
        let Some(mandate_id) = &t.details.mandate_id else { return Ok(()) };
        if t.details.register.is_some() {
            let (to, event, activated) = match status == OrderStatus::CHARGED {
                true => ("ACTIVE", EventName::MANDATE_ACTIVATED, Some(now)),
                false => ("FAILURE", EventName::MANDATE_FAILED, None),
            };
            let row = sqlx::query(&format!(
                "UPDATE mandates SET status = $1, activated_at = $2, last_activated_at = $2, updated_at = $3 WHERE id = $4 AND status = 'CREATED' \
                 RETURNING {MANDATE_COLS}"
            ))
            .bind(to)
            .bind(activated)
            .bind(now)
            .bind(mandate_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?;
            if let Some(row) = row {
                self.write_mandate_event(tx, &mandate_from(&row)?, event, now).await?;
            }
        } else {
            sqlx::query("UPDATE mandate_executions SET status = $1 WHERE order_pk = $2 AND status = 'PENDING'")
                .bind(if status == OrderStatus::CHARGED { "SUCCEEDED" } else { "FAILED" })
                .bind(&t.order_pk)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
            if status != OrderStatus::CHARGED {
                // A debit that did not happen leaves its notification for a retry.
                sqlx::query("UPDATE mandate_notifications SET used_by = NULL WHERE used_by = $1")
                    .bind(&t.order_pk)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
            }
        }
        Ok(())
    }
}

/// Inside a mandate's move out of ACTIVE (revoked, paused, expired): its
/// executions still waiting for the bank settle at once as declined, so no
/// debit scheduled before the move is taken after it. The settler applies
/// them; `complete` declines one it had already picked up.
async fn decline_pending_executions(tx: &mut AnyConnection, mandate_id: &str, now: i64) -> Result<(), DbError> {
    let pending = OrderStatus::sql_list(OrderStatus::is_pending);
    sqlx::query(&format!(
        "UPDATE txns SET settle_status = $1, settle_at = $2 WHERE status IN ({pending}) \
         AND order_pk IN (SELECT order_pk FROM mandate_executions WHERE mandate_id = $3 AND status = 'PENDING')"
    ))
    .bind(OrderStatus::JUSPAY_DECLINED.as_str())
    .bind(now)
    .bind(mandate_id)
    .execute(&mut *tx)
    .await
    .map_err(classify)?;
    Ok(())
}

/// Inside `complete`: the status of the mandate whose execution `order_pk`
/// is, while that execution is pending (`None` for any other order).
pub(super) async fn executing_mandate_status(tx: &mut AnyConnection, order_pk: &str) -> Result<Option<String>, DbError> {
    sqlx::query_scalar(
        "SELECT m.status FROM mandate_executions e JOIN mandates m ON m.id = e.mandate_id WHERE e.order_pk = $1 AND e.status = 'PENDING'",
    )
    .bind(order_pk)
    .fetch_optional(&mut *tx)
    .await
    .map_err(classify)
}
