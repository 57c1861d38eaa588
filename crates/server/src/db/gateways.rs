//! Storage of gateway accounts, and of the gateways' own sandboxes (their
//! accounts and API objects, kept apart from Kassa's tables).

use super::{Db, DbError, classify};
use crate::gateway::route::{Account, Credentials};
use sqlx::Row;
use sqlx::any::AnyRow;

fn account_from(row: &AnyRow) -> Result<Account, DbError> {
    let creds: String = row.try_get("credentials")?;
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
        body: serde_json::from_str(&body).map_err(|e| DbError::Other(sqlx::Error::Decode(e.into())))?,
        created_at: row.try_get("created_at")?,
    })
}

impl Db {
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
        .bind(a.credentials.to_secret().expose())
        .bind(&a.base_url)
        .bind(crate::now_ms())
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(priority)
    }

    /// A merchant's gateway accounts, by preference.
    pub async fn gateway_accounts(&self, merchant_id: &str) -> Result<Vec<Account>, DbError> {
        let rows = sqlx::query("SELECT * FROM gateway_accounts WHERE merchant_id = $1 ORDER BY priority")
            .bind(merchant_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(account_from).collect()
    }

    /// A gateway account by id.
    pub async fn gateway_account(&self, id: &str) -> Result<Option<Account>, DbError> {
        let row = sqlx::query("SELECT * FROM gateway_accounts WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(account_from).transpose()
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
        sqlx::query("INSERT INTO psp_objects (gateway, account, kind, id, parent, body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(gateway)
            .bind(&o.account)
            .bind(&o.kind)
            .bind(&o.id)
            .bind(&o.parent)
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
        let row = sqlx::query("SELECT * FROM psp_objects WHERE gateway = $1 AND id = $2").bind(gateway).bind(id).fetch_optional(&self.pool).await?;
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

    /// An account's sandbox objects of one kind, newest first, created within [from, to] (ms).
    pub async fn psp_list(&self, gateway: &str, account: &str, kind: &str, from: i64, to: i64) -> Result<Vec<PspObject>, DbError> {
        let rows = sqlx::query(
            "SELECT * FROM psp_objects WHERE gateway = $1 AND account = $2 AND kind = $3 AND created_at >= $4 AND created_at <= $5 \
             ORDER BY created_at DESC, id DESC",
        )
        .bind(gateway)
        .bind(account)
        .bind(kind)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(object_from).collect()
    }
}
