//! The merchant dashboard's tables (issue 16, SPEC §9): its users and their
//! sessions, and the order search its orders list runs.

use super::{Db, DbError, ORDER_COLS, classify, order_from};
use crate::domain::Order;
use sqlx::Row;
use sqlx::any::AnyRow;

/// A dashboard user's role: an admin changes things, a viewer only reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Reads everything and makes every change (refunds, keys, settings).
    Admin,
    /// Reads everything, changes nothing.
    Viewer,
}

impl Role {
    /// `admin` or `viewer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    /// The role named `s`.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }
}

/// A person who signs in to a merchant's dashboard.
#[derive(Clone, Debug)]
pub struct DashboardUser {
    /// `usr_…`.
    pub id: String,
    /// The merchant whose dashboard it is.
    pub merchant_id: String,
    /// Lower case.
    pub email: String,
    /// What the user may do.
    pub role: Role,
    /// argon2id, PHC string.
    pub password_hash: String,
}

fn user_from(row: &AnyRow) -> Result<DashboardUser, DbError> {
    let role: String = row.try_get("role")?;
    Ok(DashboardUser {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        email: row.try_get("email")?,
        role: Role::parse(&role).unwrap_or(Role::Viewer),
        password_hash: row.try_get("password_hash")?,
    })
}

/// A signed-in session: its user and its CSRF token.
#[derive(Clone, Debug)]
pub struct DashboardSession {
    /// Who is signed in.
    pub user: DashboardUser,
    /// What every write of this session must carry (`x-csrf-token`).
    pub csrf: String,
}

/// What the orders list asks for; every field narrows it.
#[derive(Clone, Debug, Default)]
pub struct OrderSearch {
    /// An order id, customer id, email, phone, Kassa order id (`ord_…`),
    /// attempt id (`txn_…`) or Juspay txn id (`MERCHANT-ORDER-N`): exact matches.
    pub q: Option<String>,
    /// Order status (`CHARGED`, …).
    pub status: Option<String>,
    /// An attempt of the order used this method (`CARD`, `NB`, `WALLET`, `UPI`).
    pub method: Option<String>,
    /// `sandbox`, `razorpay` or `paytm`.
    pub gateway: Option<String>,
    /// Created at or after (Unix ms).
    pub from: Option<i64>,
    /// Created before (Unix ms).
    pub to: Option<i64>,
    /// Amount at least (minor units).
    pub min_minor: Option<i64>,
    /// Amount at most (minor units).
    pub max_minor: Option<i64>,
    /// The page after this order: (its `created_at`, its id).
    pub after: Option<(i64, String)>,
}

/// One order of the list, with the method of its latest attempt.
#[derive(Clone, Debug)]
pub struct ListedOrder {
    /// The order.
    pub order: Order,
    /// Its latest attempt's method (`CARD`…), if it has one.
    pub method: Option<String>,
}

/// A typed bind value of a search query.
enum Bind {
    Text(String),
    Int(i64),
}

impl Db {
    /// Adds dashboard user `u`; `false` if its email is taken.
    pub async fn add_dashboard_user(&self, u: &DashboardUser, now: i64) -> Result<bool, DbError> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "INSERT INTO dashboard_users (id, merchant_id, email, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (email) DO NOTHING",
        )
        .bind(&u.id)
        .bind(&u.merchant_id)
        .bind(&u.email)
        .bind(u.role.as_str())
        .bind(&u.password_hash)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes merchant `merchant_id`'s user `email` and signs it out everywhere; `false` if there was none.
    pub async fn remove_dashboard_user(&self, merchant_id: &str, email: &str) -> Result<bool, DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let id: Option<String> = sqlx::query_scalar("DELETE FROM dashboard_users WHERE merchant_id = $1 AND email = $2 RETURNING id")
            .bind(merchant_id)
            .bind(email)
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?;
        let Some(id) = id else { return Ok(false) };
        sqlx::query("DELETE FROM dashboard_sessions WHERE user_id = $1").bind(&id).execute(&mut *tx).await.map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(true)
    }

    /// The user who signs in with `email` (lower case).
    pub async fn dashboard_user(&self, email: &str) -> Result<Option<DashboardUser>, DbError> {
        let row = sqlx::query("SELECT id, merchant_id, email, role, password_hash FROM dashboard_users WHERE email = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        row.as_ref().map(user_from).transpose()
    }

    /// Opens a session for `user_id` under the hash of its new cookie,
    /// ending the session the browser came with (`replaces`), if any: a
    /// sign-in always starts a new session (no fixation).
    pub async fn open_dashboard_session(
        &self,
        token_hash: &str,
        user_id: &str,
        csrf: &str,
        replaces: Option<&str>,
        now: i64,
    ) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(classify)?;
        if let Some(old) = replaces {
            sqlx::query("DELETE FROM dashboard_sessions WHERE token_hash = $1").bind(old).execute(&mut *tx).await.map_err(classify)?;
        }
        // The user's sessions that have ended meanwhile go now (nobody presents them again).
        sqlx::query("DELETE FROM dashboard_sessions WHERE user_id = $1 AND (last_seen_at < $2 OR created_at < $3)")
            .bind(user_id)
            .bind(now - crate::dashboard::IDLE_MS)
            .bind(now - crate::dashboard::LIFETIME_MS)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        sqlx::query("INSERT INTO dashboard_sessions (token_hash, user_id, csrf, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)")
            .bind(token_hash)
            .bind(user_id)
            .bind(csrf)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(())
    }

    /// The live session of cookie hash `token_hash`: one used since
    /// `idle_since` and made since `made_since` (Unix ms), marked used at
    /// `now`. `None`: unknown, idle too long or too old (and then ended).
    pub async fn dashboard_session(
        &self,
        token_hash: &str,
        idle_since: i64,
        made_since: i64,
        now: i64,
    ) -> Result<Option<DashboardSession>, DbError> {
        let row = sqlx::query(
            "SELECT s.csrf, s.last_seen_at, s.created_at, u.id, u.merchant_id, u.email, u.role, u.password_hash \
             FROM dashboard_sessions s JOIN dashboard_users u ON u.id = s.user_id WHERE s.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        let Some(row) = row else { return Ok(None) };
        let last_seen: i64 = row.try_get("last_seen_at")?;
        let created: i64 = row.try_get("created_at")?;
        if last_seen < idle_since || created < made_since {
            self.end_dashboard_session(token_hash).await?;
            return Ok(None);
        }
        // Marked used at most every few seconds: reads stay reads.
        if now - last_seen > 5_000 {
            let _turn = self.write_turn().await;
            sqlx::query("UPDATE dashboard_sessions SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(token_hash)
                .execute(&self.pool)
                .await
                .map_err(classify)?;
        }
        Ok(Some(DashboardSession { csrf: row.try_get("csrf")?, user: user_from(&row)? }))
    }

    /// Ends the session of cookie hash `token_hash` (signing out).
    pub async fn end_dashboard_session(&self, token_hash: &str) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        sqlx::query("DELETE FROM dashboard_sessions WHERE token_hash = $1").bind(token_hash).execute(&self.pool).await.map_err(classify)?;
        Ok(())
    }

    /// Merchant `merchant_id`'s orders that match `s`, newest first, at most `limit`.
    pub async fn search_orders(&self, merchant_id: &str, s: &OrderSearch, limit: i64) -> Result<Vec<ListedOrder>, DbError> {
        let mut binds = vec![Bind::Text(merchant_id.to_string())];
        let arg = |binds: &mut Vec<Bind>, b: Bind| {
            binds.push(b);
            format!("${}", binds.len())
        };
        let cols = ORDER_COLS.split(", ").map(|c| format!("o.{}", c.trim())).collect::<Vec<_>>().join(", ");
        // A search starts from the few orders its ids name (one indexed lookup per kind
        // of id; CROSS JOIN keeps SQLite from walking the merchant's orders instead).
        let mut from = "orders o".to_string();
        let mut hits = "";
        if let Some(q) = s.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let exact = arg(&mut binds, Bind::Text(q.to_string()));
            let key = arg(&mut binds, Bind::Text(q.to_lowercase()));
            // Juspay's txn id is MERCHANT-ORDER_ID-N: its order id is the middle.
            let from_txn_id = q
                .strip_prefix(&format!("{merchant_id}-"))
                .and_then(|rest| rest.rsplit_once('-'))
                .filter(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                .map(|(order_id, _)| order_id.to_lowercase())
                .unwrap_or_default();
            let txn_key = arg(&mut binds, Bind::Text(from_txn_id));
            from = format!(
                "(SELECT id FROM orders WHERE merchant_id = $1 AND order_id_key IN ({key}, {txn_key}) \
                 UNION SELECT id FROM orders WHERE merchant_id = $1 AND customer_id = {exact} \
                 UNION SELECT id FROM orders WHERE merchant_id = $1 AND customer_email = {key} \
                 UNION SELECT id FROM orders WHERE merchant_id = $1 AND customer_phone = {exact} \
                 UNION SELECT id FROM orders WHERE merchant_id = $1 AND id = {exact} \
                 UNION SELECT t.order_pk FROM txns t WHERE t.id = {exact}) hits CROSS JOIN orders o"
            );
            hits = " AND o.id = hits.id";
        }
        let mut sql = format!(
            "SELECT {cols}, (SELECT t.method FROM txns t WHERE t.order_pk = o.id ORDER BY t.created_at DESC, t.seq DESC LIMIT 1) AS last_method \
             FROM {from} WHERE o.merchant_id = $1{hits}"
        );
        if let Some(status) = &s.status {
            sql.push_str(&format!(" AND o.status = {}", arg(&mut binds, Bind::Text(status.clone()))));
        }
        if let Some(method) = &s.method {
            let m = arg(&mut binds, Bind::Text(method.clone()));
            sql.push_str(&format!(" AND EXISTS (SELECT 1 FROM txns t WHERE t.order_pk = o.id AND t.method = {m})"));
        }
        match s.gateway.as_deref() {
            None => {}
            Some("sandbox") => sql.push_str(" AND o.gateway_account IS NULL"),
            Some(g) => {
                let g = arg(&mut binds, Bind::Text(g.to_string()));
                sql.push_str(&format!(" AND o.gateway_account IN (SELECT a.id FROM gateway_accounts a WHERE a.gateway = {g})"));
            }
        }
        if let Some(from) = s.from {
            sql.push_str(&format!(" AND o.created_at >= {}", arg(&mut binds, Bind::Int(from))));
        }
        if let Some(to) = s.to {
            sql.push_str(&format!(" AND o.created_at < {}", arg(&mut binds, Bind::Int(to))));
        }
        if let Some(min) = s.min_minor {
            sql.push_str(&format!(" AND o.amount_minor >= {}", arg(&mut binds, Bind::Int(min))));
        }
        if let Some(max) = s.max_minor {
            sql.push_str(&format!(" AND o.amount_minor <= {}", arg(&mut binds, Bind::Int(max))));
        }
        if let Some((at, id)) = &s.after {
            let at1 = arg(&mut binds, Bind::Int(*at));
            let at2 = arg(&mut binds, Bind::Int(*at));
            let id = arg(&mut binds, Bind::Text(id.clone()));
            sql.push_str(&format!(" AND (o.created_at < {at1} OR (o.created_at = {at2} AND o.id < {id}))"));
        }
        sql.push_str(&format!(" ORDER BY o.created_at DESC, o.id DESC LIMIT {}", arg(&mut binds, Bind::Int(limit))));
        let mut query = sqlx::query(&sql);
        for b in binds {
            query = match b {
                Bind::Text(t) => query.bind(t),
                Bind::Int(i) => query.bind(i),
            };
        }
        let rows = query.fetch_all(&self.pool).await.map_err(classify)?;
        rows.iter().map(|r| Ok(ListedOrder { order: order_from(r)?, method: r.try_get("last_method")? })).collect()
    }
}

/// One day of the charts: orders created, of them paid, and the amount paid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayStats {
    /// Days since the Unix epoch (UTC).
    pub day: i64,
    /// Orders created that day.
    pub orders: i64,
    /// Of them, paid (CHARGED, or a hold).
    pub paid: i64,
    /// What those paid (minor units).
    pub volume_minor: i64,
}

/// One method of the charts: attempts, of them successful, and the amount they took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MethodStats {
    /// `CARD`, `NB`, `WALLET`, `UPI`.
    pub method: String,
    /// Attempts with it.
    pub attempts: i64,
    /// Of them, successful.
    pub succeeded: i64,
    /// What those took (minor units).
    pub volume_minor: i64,
}

impl Db {
    /// Merchant `merchant_id`'s orders created since `since` (Unix ms), by UTC day, and their attempts by method.
    pub async fn order_stats(&self, merchant_id: &str, since: i64) -> Result<(Vec<DayStats>, Vec<MethodStats>), DbError> {
        let took = kassa_types::OrderStatus::sql_list(kassa_types::OrderStatus::took_payment);
        let days = sqlx::query(&format!(
            "SELECT created_at / 86400000 AS day, COUNT(*) AS orders, CAST(SUM(CASE WHEN status IN ({took}) THEN 1 ELSE 0 END) AS BIGINT) AS paid, \
             CAST(SUM(CASE WHEN status IN ({took}) THEN amount_minor ELSE 0 END) AS BIGINT) AS volume FROM orders \
             WHERE merchant_id = $1 AND created_at >= $2 GROUP BY created_at / 86400000 ORDER BY day"
        ))
        .bind(merchant_id)
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?
        .iter()
        .map(|r| {
            Ok(DayStats {
                day: r.try_get("day")?,
                orders: r.try_get("orders")?,
                paid: r.try_get::<Option<i64>, _>("paid")?.unwrap_or_default(),
                volume_minor: r.try_get::<Option<i64>, _>("volume")?.unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
        let methods = sqlx::query(&format!(
            "SELECT t.method AS method, COUNT(*) AS attempts, CAST(SUM(CASE WHEN t.status IN ({took}) THEN 1 ELSE 0 END) AS BIGINT) AS succeeded, \
             CAST(SUM(CASE WHEN t.status IN ({took}) THEN t.amount_minor ELSE 0 END) AS BIGINT) AS volume FROM txns t JOIN orders o ON o.id = t.order_pk \
             WHERE o.merchant_id = $1 AND o.created_at >= $2 GROUP BY t.method ORDER BY t.method"
        ))
        .bind(merchant_id)
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?
        .iter()
        .map(|r| {
            Ok(MethodStats {
                method: r.try_get("method")?,
                attempts: r.try_get("attempts")?,
                succeeded: r.try_get::<Option<i64>, _>("succeeded")?.unwrap_or_default(),
                volume_minor: r.try_get::<Option<i64>, _>("volume")?.unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
        Ok((days, methods))
    }
}

/// The settings a dashboard admin changes (each `None`: left as it is).
#[derive(Clone, Debug, Default)]
pub struct SettingsChange {
    /// Default order lifetime (seconds, at most 24 hours).
    pub order_ttl_secs: Option<i64>,
    /// Enabled methods, as `card|nb|wallet|upi` tokens.
    pub enabled_methods: Option<String>,
    /// Webhook URL (`Some(None)`: none).
    pub webhook_url: Option<Option<String>>,
    /// Webhook Basic user name (`Some(None)`: none).
    pub webhook_username: Option<Option<String>>,
    /// Webhook Basic password (`Some(None)`: none), in the clear: sealed here.
    pub webhook_password: Option<Option<String>>,
    /// The events it receives, space-separated.
    pub webhook_events: Option<String>,
    /// Origins allowed to frame the iframe link, space-separated.
    pub allowed_origins: Option<String>,
    /// "Use signed response".
    pub signed_response: Option<bool>,
    /// Default return URL (`Some(None)`: none).
    pub default_return_url: Option<Option<String>>,
    /// The payment page's theme, as JSON.
    pub theme: Option<String>,
}

impl Db {
    /// Applies `c` to merchant `merchant_id` in one statement; takes effect on the next request.
    pub async fn change_settings(&self, merchant_id: &str, c: &SettingsChange) -> Result<bool, DbError> {
        let mut sets: Vec<String> = Vec::new();
        let mut binds: Vec<Option<String>> = Vec::new();
        let mut ints: Vec<(usize, i64)> = Vec::new();
        let mut text = |sets: &mut Vec<String>, col: &str, v: Option<String>| {
            binds.push(v);
            sets.push(format!("{col} = ${}", binds.len()));
        };
        if let Some(v) = &c.enabled_methods {
            text(&mut sets, "enabled_methods", Some(v.clone()));
        }
        if let Some(v) = &c.webhook_url {
            text(&mut sets, "webhook_url", v.clone());
        }
        if let Some(v) = &c.webhook_username {
            text(&mut sets, "webhook_username", v.clone());
        }
        if let Some(v) = &c.webhook_password {
            text(&mut sets, "webhook_password", v.as_deref().map(|p| self.seal_secret(p)));
        }
        if let Some(v) = &c.webhook_events {
            text(&mut sets, "webhook_events", Some(v.clone()));
        }
        if let Some(v) = &c.allowed_origins {
            text(&mut sets, "allowed_origins", Some(v.clone()));
        }
        if let Some(v) = &c.default_return_url {
            text(&mut sets, "default_return_url", v.clone());
        }
        if let Some(v) = &c.theme {
            text(&mut sets, "theme", Some(v.clone()));
        }
        if let Some(v) = c.order_ttl_secs {
            ints.push((sets.len(), v));
            sets.push("order_ttl_secs = ?".into());
        }
        if let Some(v) = c.signed_response {
            ints.push((sets.len(), i64::from(v)));
            sets.push("signed_response = ?".into());
        }
        if sets.is_empty() {
            return Ok(true);
        }
        // Integers after the texts, numbered on.
        let mut n = binds.len();
        for (i, _) in &ints {
            n += 1;
            sets[*i] = sets[*i].replace('?', &format!("${n}"));
        }
        let sql = format!("UPDATE merchants SET {} WHERE id = ${}", sets.join(", "), n + 1);
        let _turn = self.write_turn().await;
        let mut q = sqlx::query(&sql);
        for b in binds {
            q = q.bind(b);
        }
        for (_, v) in ints {
            q = q.bind(v);
        }
        let done = q.bind(merchant_id).execute(&self.pool).await.map_err(classify)?;
        self.merchant_changed();
        Ok(done.rows_affected() == 1)
    }

    /// A merchant's registered `orderDetails` key ids.
    pub async fn merchant_key_ids(&self, merchant_id: &str) -> Result<Vec<String>, DbError> {
        sqlx::query_scalar("SELECT key_id FROM merchant_keys WHERE merchant_id = $1 ORDER BY created_at, key_id")
            .bind(merchant_id)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)
    }

    /// Removes a merchant's `orderDetails` key; `false` if it had none by that id.
    pub async fn remove_merchant_key(&self, merchant_id: &str, key_id: &str) -> Result<bool, DbError> {
        let _turn = self.write_turn().await;
        let done = sqlx::query("DELETE FROM merchant_keys WHERE merchant_id = $1 AND key_id = $2")
            .bind(merchant_id)
            .bind(key_id)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(done.rows_affected() == 1)
    }
}

/// An API key made in the dashboard, as the dashboard lists it (never the key).
#[derive(Clone, Debug)]
pub struct ApiKeyInfo {
    /// `key_…`.
    pub id: String,
    /// What the merchant called it.
    pub name: String,
    /// Its first characters.
    pub prefix: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms, if it was used.
    pub last_used_at: Option<i64>,
    /// Unix ms, if revoked.
    pub revoked_at: Option<i64>,
}

impl Db {
    /// Records a new API key of merchant `merchant_id` by its hash.
    pub async fn add_api_key(&self, merchant_id: &str, k: &ApiKeyInfo, key_hash: &str) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        sqlx::query("INSERT INTO api_keys (id, merchant_id, name, key_hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&k.id)
            .bind(merchant_id)
            .bind(&k.name)
            .bind(key_hash)
            .bind(&k.prefix)
            .bind(k.created_at)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Merchant `merchant_id`'s dashboard-made API keys, newest first.
    pub async fn api_keys(&self, merchant_id: &str) -> Result<Vec<ApiKeyInfo>, DbError> {
        let rows = sqlx::query(
            "SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM api_keys WHERE merchant_id = $1 ORDER BY created_at DESC, id",
        )
        .bind(merchant_id)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        rows.iter()
            .map(|r| {
                Ok(ApiKeyInfo {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    prefix: r.try_get("prefix")?,
                    created_at: r.try_get("created_at")?,
                    last_used_at: r.try_get("last_used_at")?,
                    revoked_at: r.try_get("revoked_at")?,
                })
            })
            .collect()
    }

    /// Revokes merchant `merchant_id`'s key `id` now; `false` if it has no such live key.
    /// This process refuses it at once; others within [`super::MERCHANT_CACHE_MS`].
    pub async fn revoke_api_key(&self, merchant_id: &str, id: &str, now: i64) -> Result<bool, DbError> {
        let _turn = self.write_turn().await;
        let done = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE merchant_id = $2 AND id = $3 AND revoked_at IS NULL")
            .bind(now)
            .bind(merchant_id)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        self.merchant_changed();
        Ok(done.rows_affected() == 1)
    }
}
