//! Storage of gateway accounts, and of the gateways' own sandboxes (their
//! accounts and API objects, kept apart from Kassa's tables).

use super::{Db, DbError, classify};
use crate::gateway::route::{Account, Credentials};
use sqlx::Row;
use sqlx::any::AnyRow;

fn account_from(row: &AnyRow, db: &Db) -> Result<Account, DbError> {
    let creds = db.open_secret(&row.try_get::<String, _>("credentials")?)?;
    Ok(Account {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        reference_id: row.try_get("reference_id")?,
        priority: row.try_get("priority")?,
        credentials: serde_json::from_str::<Credentials>(&creds).map_err(|e| DbError::Other(sqlx::Error::Decode(e.into())))?,
        base_url: row.try_get("base_url")?,
    })
}

/// A stored object of a gateway sandbox's API.
#[derive(Clone, Debug)]
pub struct PspObject {
    /// Its id in the gateway's API (`order_…`, `pay_…`, a Paytm orderId).
    pub id: String,
    /// The account (key id / mid) it belongs to.
    pub account: String,
    /// `order`, `payment`, `refund`.
    pub kind: String,
    /// Its parent's id (a payment's order, a refund's payment).
    pub parent: Option<String>,
    /// What lists filter on (a Razorpay order's `receipt`).
    pub tag: Option<String>,
    /// The object as the API shows it (JSON).
    pub body: serde_json::Value,
    /// Creation time (Unix ms).
    pub created_at: i64,
}

fn object_from(row: &AnyRow) -> Result<PspObject, DbError> {
    let body: String = row.try_get("body")?;
    Ok(PspObject {
        id: row.try_get("id")?,
        account: row.try_get("account")?,
        kind: row.try_get("kind")?,
        parent: row.try_get("parent")?,
        tag: row.try_get("tag")?,
        body: serde_json::from_str(&body).map_err(|e| DbError::Other(sqlx::Error::Decode(e.into())))?,
        created_at: row.try_get("created_at")?,
    })
}

/// A refund waiting on its gateway.
#[derive(Clone, Debug)]
pub struct GatewayRefund {
    /// `rfd_…`.
    pub id: String,
    /// Its order.
    pub order_pk: String,
    /// Amount, minor units.
    pub amount_minor: i64,
    /// The gateway's id for it, once the gateway answered.
    pub gateway_refund_id: Option<String>,
    /// When it is due (the claim compares it).
    pub check_at: i64,
    /// When it was asked for.
    pub created_at: i64,
    /// Whether Kassa sent it a second time already.
    pub resent: bool,
}

impl Db {
    /// Attempts at remote gateways due to be asked about at `now`: (id, settle_at).
    pub async fn due_remote_checks(&self, now: i64, limit: i64) -> Result<Vec<(String, i64)>, DbError> {
        let rows = sqlx::query(
            "SELECT id, settle_at FROM txns WHERE scenario = 'remote' AND settle_at IS NOT NULL AND settle_at <= $1 ORDER BY settle_at LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("settle_at")?))).collect()
    }

    /// Takes a due check of an attempt for this worker until `until`; `false` if another took it.
    pub async fn claim_remote_check(&self, txn_id: &str, seen: i64, until: i64) -> Result<bool, DbError> {
        let _turn = self.write_turn().await;
        let done = sqlx::query("UPDATE txns SET settle_at = $1 WHERE id = $2 AND settle_at = $3")
            .bind(until)
            .bind(txn_id)
            .bind(seen)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(done.rows_affected() == 1)
    }

    /// A PENDING refund waits on its gateway: asked about (or sent again) at `check_at`.
    pub async fn refund_awaits_gateway(&self, refund_id: &str, gateway_refund_id: Option<&str>, check_at: i64) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "UPDATE refunds SET gateway_refund_id = COALESCE($1, gateway_refund_id), check_at = $2 WHERE id = $3 AND status = 'PENDING'",
        )
        .bind(gateway_refund_id)
        .bind(check_at)
        .bind(refund_id)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(())
    }

    /// Records that a refund was sent to its gateway a second time.
    pub async fn refund_resent(&self, refund_id: &str) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        sqlx::query("UPDATE refunds SET resent = 1 WHERE id = $1").bind(refund_id).execute(&self.pool).await.map_err(classify)?;
        Ok(())
    }

    /// PENDING refunds due to be asked about at `now`.
    pub async fn due_refund_checks(&self, now: i64, limit: i64) -> Result<Vec<GatewayRefund>, DbError> {
        let rows = sqlx::query(
            "SELECT id, order_pk, amount_minor, gateway_refund_id, check_at, created_at, resent FROM refunds \
             WHERE check_at IS NOT NULL AND check_at <= $1 AND status = 'PENDING' ORDER BY check_at LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(GatewayRefund {
                    id: r.try_get("id")?,
                    order_pk: r.try_get("order_pk")?,
                    amount_minor: r.try_get("amount_minor")?,
                    gateway_refund_id: r.try_get("gateway_refund_id")?,
                    check_at: r.try_get("check_at")?,
                    created_at: r.try_get("created_at")?,
                    resent: r.try_get::<i64, _>("resent")? != 0,
                })
            })
            .collect()
    }

    /// Takes a due refund check until `until`; `false` if another worker took it.
    pub async fn claim_refund_check(&self, refund_id: &str, seen: i64, until: i64) -> Result<bool, DbError> {
        let _turn = self.write_turn().await;
        let done = sqlx::query("UPDATE refunds SET check_at = $1 WHERE id = $2 AND check_at = $3 AND status = 'PENDING'")
            .bind(until)
            .bind(refund_id)
            .bind(seen)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(done.rows_affected() == 1)
    }

    /// The gateway account an order was routed to.
    pub async fn order_account(&self, order: &crate::domain::Order) -> Result<Option<Account>, DbError> {
        match &order.gateway_account {
            Some(id) => self.gateway_account(id).await,
            None => Ok(None),
        }
    }

    /// Links a gateway account to a merchant, last in its preference;
    /// [`DbError::Conflict`] if it has one for that gateway with that reference id.
    pub async fn add_gateway_account(&self, a: &Account) -> Result<i64, DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let priority: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(priority), 0) + 1 FROM gateway_accounts WHERE merchant_id = $1")
            .bind(&a.merchant_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(classify)?;
        sqlx::query(
            "INSERT INTO gateway_accounts (id, merchant_id, gateway, reference_id, priority, credentials, base_url, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&a.id)
        .bind(&a.merchant_id)
        .bind(a.kind().as_str())
        .bind(&a.reference_id)
        .bind(priority)
        .bind(self.seal_secret(a.credentials.to_secret().expose()))
        .bind(&a.base_url)
        .bind(crate::now_ms())
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        sqlx::query("UPDATE merchants SET gateway_accounts = gateway_accounts + 1 WHERE id = $1")
            .bind(&a.merchant_id)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        self.merchant_changed();
        Ok(priority)
    }

    /// A merchant's gateway accounts, by preference.
    pub async fn gateway_accounts(&self, merchant_id: &str) -> Result<Vec<Account>, DbError> {
        let rows = sqlx::query("SELECT * FROM gateway_accounts WHERE merchant_id = $1 ORDER BY priority")
            .bind(merchant_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| account_from(r, self)).collect()
    }

    /// A gateway account by id.
    pub async fn gateway_account(&self, id: &str) -> Result<Option<Account>, DbError> {
        let row = sqlx::query("SELECT * FROM gateway_accounts WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(|r| account_from(r, self)).transpose()
    }

    /// Creates an account on a gateway sandbox.
    pub async fn create_psp_account(&self, gateway: &str, key_id: &str, secret: &str, extra: &serde_json::Value) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        sqlx::query("INSERT INTO psp_accounts (gateway, key_id, secret, extra, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(gateway)
            .bind(key_id)
            .bind(secret)
            .bind(extra.to_string())
            .bind(crate::now_ms())
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// A gateway sandbox account: (secret, extra).
    pub async fn psp_account(&self, gateway: &str, key_id: &str) -> Result<Option<(String, serde_json::Value)>, DbError> {
        let row = sqlx::query("SELECT secret, extra FROM psp_accounts WHERE gateway = $1 AND key_id = $2")
            .bind(gateway)
            .bind(key_id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let extra: String = row.try_get("extra")?;
        Ok(Some((row.try_get("secret")?, serde_json::from_str(&extra).unwrap_or_default())))
    }

    /// Inserts a sandbox object; [`DbError::Conflict`] if its id is taken.
    pub async fn psp_insert(&self, gateway: &str, o: &PspObject) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "INSERT INTO psp_objects (gateway, account, kind, id, parent, tag, body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(gateway)
        .bind(&o.account)
        .bind(&o.kind)
        .bind(&o.id)
        .bind(&o.parent)
        .bind(&o.tag)
        .bind(o.body.to_string())
        .bind(o.created_at)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(())
    }

    /// Replaces a sandbox object's body.
    pub async fn psp_update(&self, gateway: &str, id: &str, body: &serde_json::Value) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        sqlx::query("UPDATE psp_objects SET body = $1 WHERE gateway = $2 AND id = $3")
            .bind(body.to_string())
            .bind(gateway)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// A sandbox object of `account`.
    pub async fn psp_get(&self, gateway: &str, account: &str, id: &str) -> Result<Option<PspObject>, DbError> {
        let row = sqlx::query("SELECT * FROM psp_objects WHERE gateway = $1 AND account = $2 AND id = $3")
            .bind(gateway)
            .bind(account)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(object_from).transpose()
    }

    /// A sandbox object, whoever's it is (the gateway's own pages).
    pub async fn psp_find(&self, gateway: &str, id: &str) -> Result<Option<PspObject>, DbError> {
        let row = sqlx::query("SELECT * FROM psp_objects WHERE gateway = $1 AND id = $2")
            .bind(gateway)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(object_from).transpose()
    }

    /// The children of a sandbox object, oldest first.
    pub async fn psp_children(&self, gateway: &str, parent: &str) -> Result<Vec<PspObject>, DbError> {
        let rows = sqlx::query("SELECT * FROM psp_objects WHERE gateway = $1 AND parent = $2 ORDER BY created_at, id")
            .bind(gateway)
            .bind(parent)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(object_from).collect()
    }

    /// An account's sandbox objects of one kind, newest first, created
    /// within [from, to] (ms), with `tag` if given; `skip` then at most `count`.
    #[allow(clippy::too_many_arguments)]
    pub async fn psp_list(
        &self,
        gateway: &str,
        account: &str,
        kind: &str,
        from: i64,
        to: i64,
        tag: Option<&str>,
        skip: i64,
        count: i64,
    ) -> Result<Vec<PspObject>, DbError> {
        let rows = sqlx::query(
            "SELECT * FROM psp_objects WHERE gateway = $1 AND account = $2 AND kind = $3 AND created_at >= $4 AND created_at <= $5 \
             AND ($6 = 0 OR tag = $7) ORDER BY created_at DESC, id DESC LIMIT $8 OFFSET $9",
        )
        .bind(gateway)
        .bind(account)
        .bind(kind)
        .bind(from)
        .bind(to)
        .bind(i64::from(tag.is_some()))
        .bind(tag.unwrap_or_default())
        .bind(count)
        .bind(skip)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(object_from).collect()
    }
}
