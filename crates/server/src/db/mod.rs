//! Storage: an SQLite file (WAL, `synchronous=FULL`) by default, or
//! PostgreSQL for scale; migrated on start. Both run the same queries
//! (`$N` placeholders, which SQLite accepts too) through sqlx's `Any`
//! driver; only the schema files differ.
//!
//! Invariants the schema itself enforces, whatever the concurrency:
//! - `(merchant_id, order_id_key)` is unique: order ids are case-insensitively unique per merchant;
//! - at most one `CHARGED` transaction per order (partial unique index).

mod dashboard;
mod events;
mod gateways;
mod instruments;
mod observe;
mod payments;
pub mod vault;
pub use observe::{AuditEvent, Credential, Stats};

pub use crate::domain::{Order, OrderSnapshot, Refund, Txn};
pub use events::{EventFilter, EventRow};
pub use gateways::{GatewayRefund, PspObject};
pub use payments::{AttemptStart, Completion, HoldStep, RefundOutcome};

use crate::domain::{EventName, EventRenderer};
use kassa_types::{OrderStatus, PaymentMethod};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};
use std::sync::Arc;
use std::time::Duration;

/// Storage failures.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A uniqueness rule refused the write.
    #[error("conflict")]
    Conflict,
    /// The database stayed locked past the busy timeout.
    #[error("database busy")]
    Busy,
    /// The database URL is not one Kassa understands.
    #[error("unsupported database URL (use sqlite://PATH or postgres://USER:PASSWORD@HOST/DB)")]
    BadUrl,
    /// Anything else.
    #[error("database error: {0}")]
    Other(#[from] sqlx::Error),
}

fn classify(e: sqlx::Error) -> DbError {
    if let sqlx::Error::Database(d) = &e {
        if d.is_unique_violation() {
            return DbError::Conflict;
        }
        // SQLITE_BUSY, SQLITE_LOCKED; PostgreSQL serialization failure, deadlock, lock not available.
        if matches!(d.code().as_deref(), Some("5" | "6" | "40001" | "40P01" | "55P03")) {
            return DbError::Busy;
        }
    }
    DbError::Other(e)
}

pub use dashboard::{ApiKeyInfo, DashboardSession, DashboardUser, DayStats, ListedOrder, MethodStats, OrderSearch, Role, SettingsChange};
pub use instruments::{ExecutionStart, NoticeNeeded, Notified};

const SQLITE_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../../migrations/sqlite/0002_refunds.sql")),
    (3, include_str!("../../migrations/sqlite/0003_customers.sql")),
    (4, include_str!("../../migrations/sqlite/0004_webhooks.sql")),
    (5, include_str!("../../migrations/sqlite/0005_merchant_keys.sql")),
    (6, include_str!("../../migrations/sqlite/0006_settlements.sql")),
    (7, include_str!("../../migrations/sqlite/0007_appearance.sql")),
    (8, include_str!("../../migrations/sqlite/0008_frame.sql")),
    (9, include_str!("../../migrations/sqlite/0009_payment_core.sql")),
    (10, include_str!("../../migrations/sqlite/0010_gateways.sql")),
    (11, include_str!("../../migrations/sqlite/0011_preauth.sql")),
    (12, include_str!("../../migrations/sqlite/0012_secrets.sql")),
    (13, include_str!("../../migrations/sqlite/0013_audit.sql")),
    (14, include_str!("../../migrations/sqlite/0014_rotation.sql")),
    (15, include_str!("../../migrations/sqlite/0015_instruments.sql")),
    (16, include_str!("../../migrations/sqlite/0016_mandate_checks.sql")),
    (17, include_str!("../../migrations/sqlite/0017_dashboard.sql")),
    (18, include_str!("../../migrations/sqlite/0018_settings.sql")),
];

/// PostgreSQL came later: its first schema is SQLite's schema 5.
const POSTGRES_MIGRATIONS: &[(i64, &str)] = &[
    (5, include_str!("../../migrations/postgres/0005_init.sql")),
    (6, include_str!("../../migrations/postgres/0006_settlements.sql")),
    (7, include_str!("../../migrations/postgres/0007_appearance.sql")),
    (8, include_str!("../../migrations/postgres/0008_frame.sql")),
    (9, include_str!("../../migrations/postgres/0009_payment_core.sql")),
    (10, include_str!("../../migrations/postgres/0010_gateways.sql")),
    (11, include_str!("../../migrations/postgres/0011_preauth.sql")),
    (12, include_str!("../../migrations/postgres/0012_secrets.sql")),
    (13, include_str!("../../migrations/postgres/0013_audit.sql")),
    (14, include_str!("../../migrations/postgres/0014_rotation.sql")),
    (15, include_str!("../../migrations/postgres/0015_instruments.sql")),
    (16, include_str!("../../migrations/postgres/0016_mandate_checks.sql")),
    (17, include_str!("../../migrations/postgres/0017_dashboard.sql")),
    (18, include_str!("../../migrations/postgres/0018_settings.sql")),
];

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn order(id: &str, order_id: &str) -> Order {
        Order {
            id: id.into(),
            merchant_id: "m".into(),
            order_id: order_id.into(),
            amount_minor: 100,
            currency: "INR".into(),
            status: OrderStatus::NEW,
            customer_id: None,
            customer_email: None,
            customer_phone: None,
            description: None,
            product_id: None,
            return_url: None,
            extra: "{}".into(),
            fingerprint: format!("fp-{order_id}"),
            created_at: 1,
            updated_at: 1,
            expires_at: i64::MAX,
            amount_refunded_minor: 0,
            allowed_methods: None,
            gateway_account: None,
        }
    }

    /// Group commit: one batch with an order the database refuses (its Kassa
    /// id is taken) fails that order alone; the others are committed, a
    /// taken order_id is reported as not new, and nothing is written twice.
    #[tokio::test]
    async fn a_batch_with_a_bad_order_fails_that_order_only() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&format!("sqlite://{}/t.db", dir.path().display())).await.unwrap();
        let m = NewMerchant {
            id: "m".into(),
            name: "m".into(),
            api_key_hash: "h".into(),
            response_key: crate::secret::Secret::new(String::from("k")),
            client_id: "m".into(),
            webhook_url: None,
            order_ttl_secs: 60,
            webhook_secret: crate::secret::Secret::new(String::from("w")),
            webhook_username: None,
            webhook_password: None,
            theme: kassa_types::theme::Theme::default(),
            allowed_origins: vec![],
        };
        db.create_merchant(&m).await.unwrap();
        assert!(matches!(db.create_order(&order("ord_1", "first"), false).await.unwrap(), Created::New(_)));
        let batch = [order("ord_2", "second"), order("ord_1", "clash"), order("ord_3", "FIRST"), order("ord_4", "fourth")];
        let mut answers = Vec::new();
        for o in batch {
            let (reply, answer) = tokio::sync::oneshot::channel();
            db.orders.lock().unwrap().waiting.push((o, false, reply));
            answers.push(answer);
        }
        db.insert_queued_orders().await;
        let mut got = Vec::new();
        for a in answers {
            got.push(a.await.unwrap().map_err(|e| e.to_string()));
        }
        assert_eq!(got, [Ok(true), Err("conflict".to_string()), Ok(false), Ok(true)]);
        {
            let q = db.orders.lock().unwrap();
            assert!(q.waiting.is_empty() && !q.draining);
        }
        for (order_id, id) in [("first", "ord_1"), ("second", "ord_2"), ("fourth", "ord_4")] {
            assert_eq!(db.order_by_merchant("m", order_id).await.unwrap().unwrap().id, id);
        }
        assert!(db.order_by_merchant("m", "clash").await.unwrap().is_none());
    }

    #[test]
    fn both_databases_reach_the_same_schema_version() {
        let last = |m: &[(i64, &str)]| m.last().map(|(v, _)| *v);
        assert_eq!(last(super::SQLITE_MIGRATIONS), last(super::POSTGRES_MIGRATIONS));
        for m in [super::SQLITE_MIGRATIONS, super::POSTGRES_MIGRATIONS] {
            assert!(m.windows(2).all(|w| w[1].0 == w[0].0 + 1), "versions go up one at a time");
        }
    }
}

/// Which database a [`Db`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// The database handle (cheap to clone).
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite writes one transaction at a time; without this queue, the
    /// other writers of this process would wait in SQLite's busy handler,
    /// which sleeps in steps of up to 100 ms (a long tail under load).
    writer: Arc<tokio::sync::Mutex<()>>,
    /// Group commit of new orders: see [`Db::insert_order_batched`].
    orders: Arc<std::sync::Mutex<OrderQueue>>,
    /// Writes webhook bodies (the dialect's wire shape); set by [`Db::with_renderer`].
    renderer: Option<Arc<dyn EventRenderer>>,
    /// Seals and opens the secrets the database keeps.
    vault: Arc<vault::Vault>,
    /// Merchants by API-key hash, as authentication found them: see [`Db::merchant_by_key_hash`].
    merchants: Arc<MerchantCache>,
}

/// How long an authenticated merchant is served from memory. A change this
/// process makes to a merchant takes effect at once; one made elsewhere (the
/// CLI, another instance) within this.
pub const MERCHANT_CACHE_MS: u64 = 1000;

/// Merchants as authentication last read them, by API-key hash.
#[derive(Debug, Default)]
struct MerchantCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, u64, Merchant)>>,
    /// Bumped by every change to a merchant this process makes: older entries are stale.
    generation: std::sync::atomic::AtomicU64,
}

impl MerchantCache {
    fn get(&self, hash: &str) -> Option<Merchant> {
        let generation = self.generation.load(std::sync::atomic::Ordering::Acquire);
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (at, seen, m) = entries.get(hash)?;
        (*seen == generation && at.elapsed() < Duration::from_millis(MERCHANT_CACHE_MS)).then(|| m.clone())
    }

    fn put(&self, hash: &str, generation: u64, m: &Merchant) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= 10_000 {
            entries.clear();
        }
        entries.insert(hash.to_string(), (std::time::Instant::now(), generation, m.clone()));
    }

    /// A merchant changed: nothing cached before now is served again.
    fn changed(&self) {
        self.generation.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
    }
}

/// Orders waiting to be inserted.
#[derive(Debug, Default)]
struct OrderQueue {
    /// Each order, and whether its merchant receives ORDER_CREATED.
    waiting: Vec<(Order, bool, InsertReply)>,
    /// A task is inserting; it takes whatever is queued before it ends.
    draining: bool,
}

/// Where an order's insert answers: new, or its `order_id` was taken.
type InsertReply = tokio::sync::oneshot::Sender<Result<bool, DbError>>;

/// At most this many orders go into one transaction.
const MAX_BATCH: usize = 64;

/// A merchant account.
#[derive(Clone, Debug)]
pub struct Merchant {
    /// Merchant id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Response key (HMAC key of return-URL signatures).
    pub response_key: crate::secret::Secret,
    /// Client id of the Process SDK payload.
    pub client_id: String,
    /// Default webhook URL.
    pub webhook_url: Option<String>,
    /// Methods enabled.
    pub enabled_methods: Vec<PaymentMethod>,
    /// Default order lifetime.
    pub order_ttl_secs: i64,
    /// Signs webhook deliveries (`Kassa-Signature`).
    pub webhook_secret: crate::secret::Secret,
    /// The secret before the last rotation, while its overlap window lasts:
    /// deliveries carry a signature with each.
    pub webhook_secret_previous: Option<crate::secret::Secret>,
    /// Basic-auth user name sent with webhooks (as Juspay does).
    pub webhook_username: Option<String>,
    /// Basic-auth password sent with webhooks.
    pub webhook_password: Option<crate::secret::Secret>,
    /// Colours, radius, logo and appearance of the payment page.
    pub theme: kassa_types::theme::Theme,
    /// Exact origins (`https://shop.example`) allowed to frame the iframe link.
    pub allowed_origins: Vec<String>,
    /// The webhook events the merchant receives.
    pub webhook_events: Vec<EventName>,
    /// How many gateway accounts it has linked (0: every order goes to the built-in sandbox).
    pub gateway_accounts: i64,
    /// "Use signed response" (seed 000): the return URL carries a signature (off: it carries none).
    pub signed_response: bool,
    /// Where shoppers go back to after an order created without `return_url`.
    pub default_return_url: Option<String>,
}

/// Fields of a new merchant.
#[derive(Clone, Debug)]
pub struct NewMerchant {
    /// Merchant id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// SHA-256 (hex) of the API key.
    pub api_key_hash: String,
    /// Response key.
    pub response_key: crate::secret::Secret,
    /// Client id.
    pub client_id: String,
    /// Webhook URL.
    pub webhook_url: Option<String>,
    /// Default order lifetime in seconds (at most 24 hours).
    pub order_ttl_secs: i64,
    /// Webhook signing secret.
    pub webhook_secret: crate::secret::Secret,
    /// Webhook Basic-auth user name.
    pub webhook_username: Option<String>,
    /// Webhook Basic-auth password.
    pub webhook_password: Option<crate::secret::Secret>,
    /// Payment page theme (validated).
    pub theme: kassa_types::theme::Theme,
    /// Origins allowed to frame the iframe link.
    pub allowed_origins: Vec<String>,
}

/// A webhook event waiting for delivery.
#[derive(Clone, Debug)]
pub struct PendingEvent {
    /// `evt_<32 hex>`.
    pub id: String,
    /// Whose event.
    pub merchant_id: String,
    /// Where to.
    pub url: String,
    /// The exact bytes to send.
    pub body: String,
    /// Attempts so far.
    pub attempts: i64,
    /// The order it is about (events of one order are delivered one at a time, in order).
    pub order_pk: Option<String>,
}

/// A customer object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Customer {
    /// `cst_<32 hex>`.
    pub id: String,
    /// The merchant's id for the customer.
    pub object_reference_id: String,
    /// Mobile number.
    pub mobile_number: Option<String>,
    /// Country code of the mobile number.
    pub mobile_country_code: Option<String>,
    /// Email.
    pub email_address: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Creation time (Unix ms).
    pub created_at: i64,
    /// Last change (Unix ms).
    pub updated_at: i64,
}

/// What creating an order did.
#[derive(Debug)]
pub enum Created {
    /// A new order.
    New(Order),
    /// The same order id with the same parameters already existed.
    Existing(Order),
}

fn status_of(s: &str) -> Result<OrderStatus, DbError> {
    OrderStatus::parse(s).ok_or_else(|| DbError::Other(sqlx::Error::Decode(format!("unknown status {s}").into())))
}

fn order_from(row: &AnyRow) -> Result<Order, DbError> {
    Ok(Order {
        id: row.try_get("id")?,
        merchant_id: row.try_get("merchant_id")?,
        order_id: row.try_get("order_id")?,
        amount_minor: row.try_get("amount_minor")?,
        currency: row.try_get("currency")?,
        status: status_of(row.try_get("status")?)?,
        customer_id: row.try_get("customer_id")?,
        customer_email: row.try_get("customer_email")?,
        customer_phone: row.try_get("customer_phone")?,
        description: row.try_get("description")?,
        product_id: row.try_get("product_id")?,
        return_url: row.try_get("return_url")?,
        extra: row.try_get("extra")?,
        fingerprint: row.try_get("fingerprint")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        expires_at: row.try_get("expires_at")?,
        amount_refunded_minor: row.try_get("amount_refunded_minor")?,
        allowed_methods: row.try_get::<Option<String>, _>("allowed_methods")?.map(|m| kassa_types::PaymentOptions::parse(&m).methods),
        gateway_account: row.try_get("gateway_account")?,
    })
}

fn customer_from(row: &AnyRow) -> Result<Customer, DbError> {
    Ok(Customer {
        id: row.try_get("id")?,
        object_reference_id: row.try_get("object_reference_id")?,
        mobile_number: row.try_get("mobile_number")?,
        mobile_country_code: row.try_get("mobile_country_code")?,
        email_address: row.try_get("email_address")?,
        first_name: row.try_get("first_name")?,
        last_name: row.try_get("last_name")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn refund_from(row: &AnyRow) -> Result<Refund, DbError> {
    Ok(Refund {
        id: row.try_get("id")?,
        unique_request_id: row.try_get("unique_request_id")?,
        amount_minor: row.try_get("amount_minor")?,
        status: row.try_get("status")?,
        created_at: row.try_get("created_at")?,
    })
}

fn txn_from(row: &AnyRow) -> Result<Txn, DbError> {
    let method: String = row.try_get("method")?;
    Ok(Txn {
        id: row.try_get("id")?,
        order_pk: row.try_get("order_pk")?,
        method: PaymentMethod::from_token(&method)
            .ok_or_else(|| DbError::Other(sqlx::Error::Decode(format!("unknown method {method}").into())))?,
        method_detail: row.try_get("method_detail")?,
        card_last4: row.try_get("card_last4")?,
        scenario: row.try_get("scenario")?,
        status: status_of(row.try_get("status")?)?,
        amount_minor: row.try_get("amount_minor")?,
        created_at: row.try_get("created_at")?,
        settle_at: row.try_get("settle_at")?,
        settle_status: row.try_get::<Option<String>, _>("settle_status")?.map(|s| status_of(&s)).transpose()?,
        in_frame: row.try_get::<i64, _>("in_frame")? != 0,
        seq: row.try_get("seq")?,
        details: serde_json::from_str(&row.try_get::<String, _>("details")?).map_err(|e| DbError::Other(sqlx::Error::Decode(e.into())))?,
        gateway_response: row
            .try_get::<Option<String>, _>("gateway_response")?
            .map(|g| serde_json::from_str(&g))
            .transpose()
            .map_err(|e| DbError::Other(sqlx::Error::Decode(e.into())))?,
        captured_minor: row.try_get("captured_minor")?,
        capture_key: row.try_get("capture_key")?,
    })
}

fn merchant_from(row: &AnyRow, db: &Db) -> Result<Merchant, DbError> {
    let methods: String = row.try_get("enabled_methods")?;
    let now = crate::now_ms();
    // A rotated response key signs from its time on.
    let next_due = row.try_get::<Option<i64>, _>("response_key_next_at")?.is_some_and(|at| at <= now);
    let response_key = match row.try_get::<Option<String>, _>("response_key_next")? {
        Some(next) if next_due => next,
        _ => row.try_get::<String, _>("response_key")?,
    };
    let previous_secret = match row.try_get::<Option<i64>, _>("webhook_secret_previous_until")? {
        Some(until) if until > now => row.try_get::<Option<String>, _>("webhook_secret_previous")?,
        _ => None,
    };
    Ok(Merchant {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        response_key: crate::secret::Secret::new(db.open_secret(&response_key)?),
        webhook_secret_previous: previous_secret.map(|s| db.open_secret(&s).map(crate::secret::Secret::new)).transpose()?,
        client_id: row.try_get("client_id")?,
        webhook_url: row.try_get("webhook_url")?,
        enabled_methods: kassa_types::PaymentOptions::parse(&methods).methods,
        order_ttl_secs: row.try_get("order_ttl_secs")?,
        webhook_secret: crate::secret::Secret::new(db.open_secret(&row.try_get::<String, _>("webhook_secret")?)?),
        webhook_username: row.try_get("webhook_username")?,
        webhook_password: row
            .try_get::<Option<String>, _>("webhook_password")?
            .map(|p| db.open_secret(&p).map(crate::secret::Secret::new))
            .transpose()?,
        theme: serde_json::from_str(&row.try_get::<String, _>("theme")?).unwrap_or_default(),
        allowed_origins: row.try_get::<String, _>("allowed_origins")?.split_whitespace().map(str::to_string).collect(),
        webhook_events: row
            .try_get::<Option<String>, _>("webhook_events")?
            .map_or_else(EventName::default_selection, |e| e.split_whitespace().filter_map(EventName::parse).collect()),
        gateway_accounts: row.try_get("gateway_accounts")?,
        signed_response: row.try_get::<i64, _>("signed_response")? != 0,
        default_return_url: row.try_get("default_return_url")?,
    })
}

const ORDER_COLS: &str = "id, merchant_id, order_id, amount_minor, currency, status, customer_id, customer_email, \
    customer_phone, description, product_id, return_url, extra, fingerprint, created_at, updated_at, expires_at, \
    amount_refunded_minor, allowed_methods, gateway_account";
const TXN_INSERT_COLS: &str = "id, order_pk, method, method_detail, card_last4, scenario, status, amount_minor, created_at, settle_at, settle_status, in_frame, \
     seq, details, gateway_response";
const TXN_COLS: &str = "id, order_pk, method, method_detail, card_last4, scenario, status, amount_minor, created_at, settle_at, settle_status, in_frame, \
     seq, details, gateway_response, captured_minor, capture_key";

/// Binds `orders` to [`Db::orders_insert_sql`] for as many orders.
pub(super) fn orders_insert<'q>(sql: &'q str, orders: &[&'q Order]) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let mut query = sqlx::query(sql);
    for o in orders {
        query = query
            .bind(&o.id)
            .bind(&o.merchant_id)
            .bind(&o.order_id)
            .bind(o.order_id.to_ascii_lowercase())
            .bind(o.amount_minor)
            .bind(&o.currency)
            .bind(o.status.as_str())
            .bind(&o.customer_id)
            .bind(&o.customer_email)
            .bind(&o.customer_phone)
            .bind(&o.description)
            .bind(&o.product_id)
            .bind(&o.return_url)
            .bind(&o.extra)
            .bind(&o.fingerprint)
            .bind(o.created_at)
            .bind(o.updated_at)
            .bind(o.expires_at)
            .bind(o.allowed_methods.as_ref().map(|m| m.iter().map(|m| m.token()).collect::<Vec<_>>().join("|")))
            .bind(&o.gateway_account);
    }
    query
}

impl Db {
    /// Opens and migrates `url` with the master key from the environment or
    /// the default key file ([`vault::MasterKey::resolve`]).
    pub async fn open(url: &str) -> Result<Db, DbError> {
        let master = vault::MasterKey::resolve(url, None).map_err(|e| DbError::Other(sqlx::Error::Protocol(e)))?;
        Db::open_with(url, &master).await
    }

    /// Opens and migrates `url`: `sqlite://PATH` (the file and its directory
    /// are created if needed, readable by their owner only) or `postgres://…`
    /// (the database must exist); its secrets are sealed under `master`.
    pub async fn open_with(url: &str, master: &vault::MasterKey) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).ok_or(DbError::BadUrl)?;
            let path = path.split('?').next().unwrap_or(path);
            if let Some(dir) = std::path::Path::new(path).parent()
                && !dir.as_os_str().is_empty()
            {
                vault::private_dir(dir).map_err(|e| DbError::Other(sqlx::Error::Io(e)))?;
            }
            // Owner-only from the start (SQLite gives its -wal and -shm files the same mode).
            if !path.is_empty() && path != ":memory:" {
                vault::private_file(std::path::Path::new(path)).map_err(|e| DbError::Other(sqlx::Error::Io(e)))?;
            }
            (Backend::Sqlite, format!("sqlite://{path}?mode=rwc"))
        };
        let options = AnyPoolOptions::new().max_connections(8).acquire_timeout(Duration::from_secs(10));
        let options = match backend {
            Backend::Postgres => options,
            // Durable settings on every connection: a write acknowledged is on disk.
            Backend::Sqlite => options.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                    )
                    .await?;
                    Ok(())
                })
            }),
        };
        let pool = options.connect(&url).await?;
        let mut db = Db {
            pool,
            backend,
            writer: Arc::default(),
            orders: Arc::default(),
            renderer: None,
            vault: Arc::new(vault::Vault::empty()),
            merchants: Arc::default(),
        };
        db.migrate().await?;
        db.vault = Arc::new(db.open_vault(master).await?);
        db.seal_plaintext().await?;
        Ok(db)
    }

    /// The data keys, sealed under `master`; one is made on first use.
    async fn wrapped_keys(&self) -> Result<Vec<vault::WrappedKey>, DbError> {
        let rows = sqlx::query("SELECT id, master_id, wrapped FROM data_keys ORDER BY created_at, id").fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok(vault::WrappedKey { id: r.try_get("id")?, master_id: r.try_get("master_id")?, wrapped: r.try_get("wrapped")? }))
            .collect()
    }

    async fn open_vault(&self, master: &vault::MasterKey) -> Result<vault::Vault, DbError> {
        let mut wrapped = self.wrapped_keys().await?;
        if wrapped.is_empty() {
            // Instances starting together on a fresh database race here: the first insert wins, the others read it.
            let w = vault::new_data_key(master, vault::FIRST_DATA_KEY);
            sqlx::query("INSERT INTO data_keys (id, master_id, wrapped, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING")
                .bind(&w.id)
                .bind(&w.master_id)
                .bind(&w.wrapped)
                .bind(crate::now_ms())
                .execute(&self.pool)
                .await
                .map_err(classify)?;
            wrapped = self.wrapped_keys().await?;
        }
        vault::Vault::open(master, &wrapped)
    }

    /// Seals what an older Kassa stored in plain text (once; later starts find nothing to do).
    async fn seal_plaintext(&self) -> Result<(), DbError> {
        for (table, key, col) in [
            ("merchants", "id", "response_key"),
            ("merchants", "id", "webhook_secret"),
            ("merchants", "id", "webhook_password"),
            ("gateway_accounts", "id", "credentials"),
            ("server_keys", "name", "value"),
        ] {
            let rows =
                sqlx::query(&format!("SELECT {key} AS k, {col} AS v FROM {table} WHERE {col} IS NOT NULL AND {col} NOT LIKE 'v1:%'"))
                    .fetch_all(&self.pool)
                    .await?;
            for r in rows {
                let (k, v): (String, String) = (r.try_get("k")?, r.try_get("v")?);
                sqlx::query(&format!("UPDATE {table} SET {col} = $1 WHERE {key} = $2 AND {col} = $3"))
                    .bind(self.vault.seal(&v))
                    .bind(&k)
                    .bind(&v)
                    .execute(&self.pool)
                    .await
                    .map_err(classify)?;
            }
        }
        Ok(())
    }

    /// Reseals the data keys from `old` to `new` (`kassa rotate-master-key`), in one transaction.
    pub async fn rotate_master_key(&self, old: &vault::MasterKey, new: &vault::MasterKey) -> Result<usize, DbError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let wrapped = self.wrapped_keys().await?;
        for w in &wrapped {
            let r = vault::rewrap(w, old, new)?;
            sqlx::query("UPDATE data_keys SET master_id = $1, wrapped = $2 WHERE id = $3 AND master_id = $4")
                .bind(&r.master_id)
                .bind(&r.wrapped)
                .bind(&r.id)
                .bind(&w.master_id)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
        }
        tx.commit().await.map_err(classify)?;
        Ok(wrapped.len())
    }

    /// A stored secret opened.
    pub(crate) fn open_secret(&self, stored: &str) -> Result<String, DbError> {
        self.vault.open_value(stored)
    }

    /// A secret sealed for storage.
    pub(crate) fn seal_secret(&self, plaintext: &str) -> String {
        self.vault.seal(plaintext)
    }

    /// This handle, writing webhook bodies with `renderer` (without one, no
    /// event is written).
    pub fn with_renderer(mut self, renderer: Arc<dyn EventRenderer>) -> Db {
        self.renderer = Some(renderer);
        self
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The statement inserting `n` orders (each of their `order_id`s not taken yet), returning the ids inserted.
    pub(super) fn orders_insert_sql(&self, n: usize) -> String {
        const COLS: usize = 20;
        // SQLite's anonymous `?` (bound in order): its `$N` names cost a lookup
        // that grows with the number of parameters, for each of them.
        let param = |n: usize| if self.backend == Backend::Sqlite { "?".to_string() } else { format!("${n}") };
        let values: Vec<String> =
            (0..n).map(|i| format!("({})", (1..=COLS).map(|c| param(i * COLS + c)).collect::<Vec<_>>().join(", "))).collect();
        format!(
            "INSERT INTO orders (id, merchant_id, order_id, order_id_key, amount_minor, currency, status, customer_id, \
             customer_email, customer_phone, description, product_id, return_url, extra, fingerprint, created_at, \
             updated_at, expires_at, allowed_methods, gateway_account) VALUES {} \
             ON CONFLICT (merchant_id, order_id_key) DO NOTHING RETURNING id",
            values.join(", ")
        )
    }

    /// Waits for this process's turn to write (SQLite), in arrival order.
    async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.backend {
            Backend::Sqlite => Some(self.writer.lock().await),
            Backend::Postgres => None,
        }
    }

    async fn migrate(&self) -> Result<(), DbError> {
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            // One migrator at a time, when several servers start together.
            tx.execute("SELECT pg_advisory_xact_lock(7365)").await?;
        }
        tx.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)").await?;
        let migrations = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let current: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations").fetch_one(&mut *tx).await?;
        let known = migrations.last().map_or(0, |(v, _)| *v);
        if let Some(c) = current.filter(|c| *c > known) {
            // A newer Kassa migrated this database: this one would misread it.
            return Err(DbError::Other(sqlx::Error::Protocol(format!(
                "the database's schema is version {c}, newer than this Kassa knows ({known}): run the newer Kassa, or restore a backup"
            ))));
        }
        for (version, sql) in migrations {
            if current.is_none_or(|c| *version > c) {
                sqlx::raw_sql(sql).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                    .bind(version)
                    .bind(crate::now_ms())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// A named 32-byte server key, created on first use.
    pub async fn server_key(&self, name: &str) -> Result<Vec<u8>, DbError> {
        let fresh: [u8; 32] = rand::random();
        sqlx::query("INSERT INTO server_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(self.seal_secret(&hex::encode(fresh)))
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        let v: String = sqlx::query_scalar("SELECT value FROM server_keys WHERE name = $1").bind(name).fetch_one(&self.pool).await?;
        hex::decode(self.open_secret(&v)?).map_err(|e| DbError::Other(sqlx::Error::Decode(e.into())))
    }

    /// Inserts a merchant; [`DbError::Conflict`] if the id is taken.
    pub async fn create_merchant(&self, m: &NewMerchant) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "INSERT INTO merchants (id, name, api_key_hash, response_key, client_id, webhook_url, order_ttl_secs, \
             webhook_secret, webhook_username, webhook_password, created_at, enabled_methods, theme, allowed_origins) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'card|nb|wallet|upi', $12, $13)",
        )
        .bind(&m.id)
        .bind(&m.name)
        .bind(&m.api_key_hash)
        .bind(self.seal_secret(m.response_key.expose()))
        .bind(&m.client_id)
        .bind(&m.webhook_url)
        .bind(m.order_ttl_secs.clamp(60, 24 * 3600))
        .bind(self.seal_secret(m.webhook_secret.expose()))
        .bind(&m.webhook_username)
        .bind(m.webhook_password.as_ref().map(|p| self.seal_secret(p.expose())))
        .bind(crate::now_ms())
        .bind(serde_json::to_string(&m.theme).unwrap_or_else(|_| "{}".into()))
        .bind(m.allowed_origins.join(" "))
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(())
    }

    /// The merchant whose API key hashes to `hash` (from memory for up to
    /// [`MERCHANT_CACHE_MS`]: authentication costs no database round trip on
    /// a busy server).
    pub async fn merchant_by_key_hash(&self, hash: &str) -> Result<Option<Merchant>, DbError> {
        if let Some(m) = self.merchants.get(hash) {
            return Ok(Some(m));
        }
        let generation = self.merchants.generation.load(std::sync::atomic::Ordering::Acquire);
        let found = self.merchant_by_key_hash_stored(hash).await?;
        if let Some(m) = &found {
            self.merchants.put(hash, generation, m);
        }
        Ok(found)
    }

    /// A merchant changed (by this process): authentication reads it afresh.
    pub(crate) fn merchant_changed(&self) {
        self.merchants.changed();
    }

    async fn merchant_by_key_hash_stored(&self, hash: &str) -> Result<Option<Merchant>, DbError> {
        // The key before the last rotation too, while its overlap window lasts.
        let row = sqlx::query(
            "SELECT * FROM merchants WHERE api_key_hash = $1 OR (api_key_hash_previous = $2 AND api_key_previous_until > $3) LIMIT 1",
        )
        .bind(hash)
        .bind(hash)
        .bind(crate::now_ms())
        .fetch_optional(&self.pool)
        .await?;
        if let Some(r) = row {
            return merchant_from(&r, self).map(Some);
        }
        // A key made in the dashboard, unless revoked; its last use noted (to the minute).
        let found = sqlx::query("SELECT merchant_id, last_used_at FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        let Some(found) = found else { return Ok(None) };
        let now = crate::now_ms();
        if found.try_get::<Option<i64>, _>("last_used_at")?.is_none_or(|at| now - at >= 60_000) {
            let _turn = self.write_turn().await;
            sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE key_hash = $2")
                .bind(now)
                .bind(hash)
                .execute(&self.pool)
                .await
                .map_err(classify)?;
        }
        self.merchant(&found.try_get::<String, _>("merchant_id")?).await
    }

    /// A merchant by id.
    pub async fn merchant(&self, id: &str) -> Result<Option<Merchant>, DbError> {
        let row = sqlx::query("SELECT * FROM merchants WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(|r| merchant_from(r, self)).transpose()
    }

    /// Creates an order, or finds the existing one with the same order id.
    /// Returns [`DbError::Conflict`] when that one was created with other parameters.
    /// `announce`: the merchant receives ORDER_CREATED, written with the order.
    pub async fn create_order(&self, o: &Order, announce: bool) -> Result<Created, DbError> {
        if self.insert_order_batched(o, announce).await? {
            return Ok(Created::New(o.clone()));
        }
        let existing = self.order_by_merchant(&o.merchant_id, &o.order_id).await?.ok_or(DbError::Conflict)?;
        if existing.fingerprint == o.fingerprint { Ok(Created::Existing(existing)) } else { Err(DbError::Conflict) }
    }

    /// Inserts `o` unless its `order_id` is taken (`Ok(false)`), committed
    /// before this returns. Group commit: the order joins a queue that one
    /// task drains, a transaction (one fsync) per group of what is waiting.
    /// If a group's transaction fails, each of its orders is tried alone, so
    /// a bad order fails only its own request.
    async fn insert_order_batched(&self, o: &Order, announce: bool) -> Result<bool, DbError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let start = {
            let mut q = self.orders.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            q.waiting.push((o.clone(), announce, reply));
            !std::mem::replace(&mut q.draining, true)
        };
        if start {
            // A task of its own: a request that goes away while its group is
            // being inserted must not take the others' orders with it.
            let db = self.clone();
            tokio::spawn(async move { db.insert_queued_orders().await });
        }
        answer.await.unwrap_or(Err(DbError::Busy))
    }

    /// Inserts what is queued, a group at a time, until nothing is; other
    /// writers get their turn between groups.
    async fn insert_queued_orders(&self) {
        loop {
            let batch: Vec<_> = {
                let mut q = self.orders.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if q.waiting.is_empty() {
                    // Under the lock that queues orders: none is left without a drainer.
                    q.draining = false;
                    return;
                }
                let n = q.waiting.len().min(MAX_BATCH);
                q.waiting.drain(..n).collect()
            };
            let _turn = self.write_turn().await;
            match self.insert_orders(batch.iter().map(|(o, announce, _)| (o, *announce))).await {
                Ok(inserted) => {
                    for ((_, _, reply), inserted) in batch.into_iter().zip(inserted) {
                        let _ = reply.send(Ok(inserted));
                    }
                }
                Err(_) => {
                    for (o, announce, reply) in batch {
                        let alone = self.insert_orders(std::iter::once((&o, announce))).await;
                        let _ = reply.send(alone.map(|v| v.first().copied().unwrap_or(false)));
                    }
                }
            }
        }
    }

    /// Inserts `orders` with one statement (one round trip to the database
    /// for the whole group, and, when a merchant of the group receives
    /// ORDER_CREATED, their events in the same transaction); for each,
    /// whether it was new.
    async fn insert_orders<'o>(&self, orders: impl Iterator<Item = (&'o Order, bool)>) -> Result<Vec<bool>, DbError> {
        let orders: Vec<(&Order, bool)> = orders.collect();
        let list: Vec<&Order> = orders.iter().map(|(o, _)| *o).collect();
        let sql = self.orders_insert_sql(list.len());
        let query = orders_insert(&sql, &list);
        let new_ids = |rows: Vec<AnyRow>| -> Result<std::collections::HashSet<String>, DbError> {
            rows.iter().map(|r| r.try_get::<String, _>("id").map_err(DbError::from)).collect()
        };
        // Only for a merchant that chose ORDER_CREATED: the others pay nothing for it.
        if !orders.iter().any(|(_, announce)| *announce) {
            let inserted = new_ids(query.fetch_all(&self.pool).await.map_err(classify)?)?;
            return Ok(orders.iter().map(|(o, _)| inserted.contains(&o.id)).collect());
        }
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let inserted = new_ids(query.fetch_all(&mut *tx).await.map_err(classify)?)?;
        for (o, announce) in &orders {
            if *announce && inserted.contains(&o.id) {
                self.write_event(&mut tx, &o.id, EventName::ORDER_CREATED, o.created_at).await?;
            }
        }
        tx.commit().await.map_err(classify)?;
        Ok(orders.iter().map(|(o, _)| inserted.contains(&o.id)).collect())
    }

    /// A merchant's order by its `order_id` (case-insensitive).
    pub async fn order_by_merchant(&self, merchant_id: &str, order_id: &str) -> Result<Option<Order>, DbError> {
        let row = sqlx::query(&format!("SELECT {ORDER_COLS} FROM orders WHERE merchant_id = $1 AND order_id_key = $2"))
            .bind(merchant_id)
            .bind(order_id.to_ascii_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(order_from).transpose()
    }

    /// An order by Kassa's id.
    pub async fn order(&self, id: &str) -> Result<Option<Order>, DbError> {
        let row = sqlx::query(&format!("SELECT {ORDER_COLS} FROM orders WHERE id = $1")).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(order_from).transpose()
    }

    /// A transaction by id.
    pub async fn txn(&self, id: &str) -> Result<Option<Txn>, DbError> {
        let row = sqlx::query(&format!("SELECT {TXN_COLS} FROM txns WHERE id = $1")).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(txn_from).transpose()
    }

    /// The latest attempt on an order.
    pub async fn latest_txn(&self, order_pk: &str) -> Result<Option<Txn>, DbError> {
        let row = sqlx::query(&format!("SELECT {TXN_COLS} FROM txns WHERE order_pk = $1 ORDER BY created_at DESC, rowid DESC LIMIT 1"))
            .bind(order_pk)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(txn_from).transpose()
    }

    /// Registers a public key under `key_id`; [`DbError::Conflict`] if the id is taken.
    pub async fn add_merchant_key(&self, merchant_id: &str, key_id: &str, pem: &str) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        sqlx::query("INSERT INTO merchant_keys (merchant_id, key_id, public_key_pem, created_at) VALUES ($1, $2, $3, $4)")
            .bind(merchant_id)
            .bind(key_id)
            .bind(pem)
            .bind(crate::now_ms())
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// A merchant's registered public key (PEM).
    pub async fn merchant_key(&self, merchant_id: &str, key_id: &str) -> Result<Option<String>, DbError> {
        Ok(sqlx::query_scalar("SELECT public_key_pem FROM merchant_keys WHERE merchant_id = $1 AND key_id = $2")
            .bind(merchant_id)
            .bind(key_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Creates a customer; [`DbError::Conflict`] if the reference id is taken.
    pub async fn create_customer(&self, merchant_id: &str, c: &Customer) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "INSERT INTO customers (id, merchant_id, object_reference_id, mobile_number, mobile_country_code, email_address, \
             first_name, last_name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&c.id)
        .bind(merchant_id)
        .bind(&c.object_reference_id)
        .bind(&c.mobile_number)
        .bind(&c.mobile_country_code)
        .bind(&c.email_address)
        .bind(&c.first_name)
        .bind(&c.last_name)
        .bind(c.created_at)
        .bind(c.updated_at)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(())
    }

    /// Replaces a customer's details.
    pub async fn update_customer(&self, merchant_id: &str, c: &Customer) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "UPDATE customers SET mobile_number = $1, mobile_country_code = $2, email_address = $3, first_name = $4, \
             last_name = $5, updated_at = $6 WHERE id = $7 AND merchant_id = $8",
        )
        .bind(&c.mobile_number)
        .bind(&c.mobile_country_code)
        .bind(&c.email_address)
        .bind(&c.first_name)
        .bind(&c.last_name)
        .bind(c.updated_at)
        .bind(&c.id)
        .bind(merchant_id)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(())
    }

    /// A merchant's customer by Kassa id or by the merchant's reference id.
    pub async fn customer(&self, merchant_id: &str, id: &str) -> Result<Option<Customer>, DbError> {
        let row = sqlx::query("SELECT * FROM customers WHERE merchant_id = $1 AND (id = $2 OR object_reference_id = $3)")
            .bind(merchant_id)
            .bind(id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(customer_from).transpose()
    }

    /// A page of a merchant's customers, newest first.
    pub async fn customers(&self, merchant_id: &str, limit: i64, offset: i64) -> Result<Vec<Customer>, DbError> {
        let rows = sqlx::query("SELECT * FROM customers WHERE merchant_id = $1 ORDER BY created_at DESC, rowid DESC LIMIT $2 OFFSET $3")
            .bind(merchant_id)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(customer_from).collect()
    }

    /// Stores the first answer to a refund request, for replay.
    pub async fn store_refund_response(&self, refund_id: &str, response: &str) -> Result<(), DbError> {
        let _turn = self.write_turn().await;
        sqlx::query("UPDATE refunds SET response = $1 WHERE id = $2 AND response IS NULL")
            .bind(response)
            .bind(refund_id)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// An order's refunds, oldest first.
    pub async fn refunds(&self, order_pk: &str) -> Result<Vec<Refund>, DbError> {
        let rows = sqlx::query(
            "SELECT id, unique_request_id, amount_minor, status, created_at FROM refunds WHERE order_pk = $1 ORDER BY created_at, rowid",
        )
        .bind(order_pk)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(refund_from).collect()
    }
}
