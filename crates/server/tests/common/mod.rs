//! Helpers shared by the integration tests.

#![allow(dead_code, clippy::unwrap_used)]

/// A server process that is killed and reaped when dropped, so a test that
/// fails halfway leaves nothing running (an orphan would hold the test
/// runner's stdout open, and whoever reads it would wait forever).
pub(crate) struct Running(pub(crate) std::process::Child);

impl Running {
    /// SIGKILL, and wait for it to be gone.
    pub(crate) fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }

    pub(crate) fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `kassa serve` (the real binary) on 127.0.0.1:`port` over `db`, with `extra` flags; killed when dropped.
pub(crate) fn serve_binary(db: &str, port: u16, extra: &[&str]) -> Running {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_kassa"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database-url", db])
        .args(extra)
        .env("KASSA_LOG", "error")
        .spawn()
        .unwrap();
    wait_for_port(port);
    Running(child)
}

/// A minimal HTTP receiver on `port`: records (headers, body) of each POST and answers 200.
pub(crate) fn receiver(port: u16, seen: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            // Header lines as sent, the name lower-cased: "name: value".
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    head.push_str(&format!("{}: {}\n", name.to_ascii_lowercase(), value.trim()));
                }
            }
            let len: usize = head.lines().find_map(|l| l.strip_prefix("content-length: ")).and_then(|v| v.parse().ok()).unwrap_or(0);
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            seen.lock().unwrap().push((head, String::from_utf8(body).unwrap()));
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
}

/// A fresh, empty database for one test: a PostgreSQL database of its own
/// when `KASSA_TEST_POSTGRES` names a server (an admin URL such as
/// `postgres://kassa:kassa@127.0.0.1:5432/postgres`), else an SQLite file in `dir`.
pub(crate) fn fresh_database(dir: &std::path::Path) -> String {
    let Ok(admin) = std::env::var("KASSA_TEST_POSTGRES") else {
        return format!("sqlite://{}/kassa.db", dir.display());
    };
    use sqlx::{Connection, Executor};
    sqlx::any::install_default_drivers();
    let name = format!("kassa_t_{}", kassa_server::random_id("").to_ascii_lowercase());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap();
        conn.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
        conn.close().await.unwrap();
    });
    let base = admin.rsplit_once('/').unwrap().0;
    format!("{base}/{name}")
}

/// Runs one SQL statement against a test's database (SQLite or PostgreSQL).
pub(crate) fn execute_sql(url: &str, sql: &str) {
    use sqlx::{Connection, Executor};
    sqlx::any::install_default_drivers();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
        conn.execute(sql).await.unwrap();
        conn.close().await.unwrap();
    });
}

/// The first column, as text, of every row a query answers in a test's database.
pub(crate) fn query_strings(url: &str, sql: &str) -> Vec<String> {
    use sqlx::{Connection, Row};
    sqlx::any::install_default_drivers();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
        let rows = sqlx::query(sql).fetch_all(&mut conn).await.unwrap();
        conn.close().await.unwrap();
        rows.iter().map(|r| r.get::<String, _>(0)).collect()
    })
}

/// HTTP Basic with an API key as the user name and an empty password (seed 000).
pub(crate) fn basic(key: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{key}:")))
}

/// A free port on 127.0.0.1 (free when asked; bind it soon).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits until something accepts connections on 127.0.0.1:`port` (at most 20 s).
///
/// A connection to an ephemeral port nobody listens on can succeed by TCP
/// simultaneous open, when the kernel picks that very port as the source
/// (the socket connects to itself): that one does not count.
pub(crate) fn wait_for_port(port: u16) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let listening = || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok_and(|s| s.local_addr().ok() != s.peer_addr().ok());
    while !listening() {
        assert!(std::time::Instant::now() < deadline, "nothing listens on 127.0.0.1:{port}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A server configuration for in-process tests: quick workers, the sandbox's
/// delays of `kassa serve`; tests change the fields they care about.
pub(crate) fn test_config(public_url: &str) -> kassa_server::Config {
    kassa_server::Config {
        public_url: public_url.to_string(),
        assets_dir: "pkg".into(),
        www_dir: "www".into(),
        webhook_poll_ms: 20,
        webhook_retry_base_ms: 60_000,
        webhook_ca_pem: None,
        sandbox_delay_ms: 4000,
        gateway_timeout_ms: 2000,
        gateway_poll_ms: 3000,
        hold_ms: kassa_server::domain::preauth::DEFAULT_HOLD_MS,
        webhook_allow_private: true,
        bench_page: false,
        trust_forwarded_for: false,
        metrics_token: None,
        // Tests pay many times from one address; the limits' own test sets its figures.
        limits: kassa_server::http::limits::LimitSettings {
            txns_per_minute_per_token: 100_000,
            txns_per_minute_per_address: 100_000,
            ..Default::default()
        },
    }
}

/// A merchant `id` with these keys, no webhook URL, 15-minute orders.
pub(crate) fn test_merchant(id: &str, api_key: &str, response_key: &str) -> kassa_server::db::NewMerchant {
    use kassa_server::secret::Secret;
    kassa_server::db::NewMerchant {
        id: id.into(),
        name: format!("Merchant {id}"),
        api_key_hash: kassa_server::http::auth::api_key_hash(api_key),
        response_key: Secret::new(response_key),
        client_id: id.into(),
        webhook_url: None,
        order_ttl_secs: 900,
        webhook_secret: Secret::new(format!("whsec_test_{id}")),
        webhook_username: None,
        webhook_password: None,
        theme: Default::default(),
        allowed_origins: Vec::new(),
    }
}

/// A running in-process server: its base URL, and the sender that stops it when dropped.
pub(crate) struct InProcess {
    pub(crate) base: String,
    pub(crate) _stop: tokio::sync::oneshot::Sender<()>,
}

/// Opens the database at `url`, runs `setup` on it (merchants, accounts:
/// its answer is returned), then serves the whole app on a free loopback
/// port with the webhook worker and the settler, on a runtime of its own,
/// with `config` (given the base URL) and the peer address recorded.
pub(crate) fn serve_in_process<T, F, Fut>(
    url: String,
    setup: F,
    config: impl FnOnce(&str) -> kassa_server::Config + Send + 'static,
) -> (InProcess, T)
where
    T: Send + 'static,
    F: FnOnce(kassa_server::db::Db) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = (kassa_server::db::Db, T)> + Send,
{
    serve_in_process_clocked(url, setup, config, None)
}

/// [`serve_in_process`] reading the time from `clock` (the system clock when `None`).
pub(crate) fn serve_in_process_clocked<T, F, Fut>(
    url: String,
    setup: F,
    config: impl FnOnce(&str) -> kassa_server::Config + Send + 'static,
    clock: Option<std::sync::Arc<dyn kassa_server::Clock>>,
) -> (InProcess, T)
where
    T: Send + 'static,
    F: FnOnce(kassa_server::db::Db) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = (kassa_server::db::Db, T)> + Send,
{
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async move {
            let db = kassa_server::db::Db::open(&url).await.unwrap();
            let (db, made) = setup(db).await;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            let mut state = kassa_server::AppState::new(db, config(&base)).await.unwrap();
            if let Some(clock) = clock {
                state = state.with_clock(clock);
            }
            kassa_server::webhook::spawn_worker(state.clone());
            kassa_server::domain::flow::spawn_settler(state.clone());
            tx.send((base, made)).unwrap();
            axum::serve(listener, kassa_server::app(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
    });
    let (base, made) = rx.recv().unwrap();
    (InProcess { base, _stop: stop }, made)
}

/// The client the tests use: every status is an answer (not an error), no redirect is followed.
pub(crate) fn client() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into()
}

/// An in-process server for one test, whose merchant m1 the test set up (see [`start_m1`]).
pub(crate) struct M1Server {
    pub(crate) base: String,
    /// m1's API key.
    pub(crate) api_key: String,
    /// m1's response key.
    pub(crate) response_key: String,
    pub(crate) db_url: String,
    /// [`client`].
    pub(crate) agent: ureq::Agent,
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) _server: InProcess,
}

impl M1Server {
    /// A form POST to `path` with m1's API key: the answer.
    pub(crate) fn post_as_m1(&self, path: &str, form: &str) -> ureq::http::Response<ureq::Body> {
        self.agent
            .post(format!("{}{path}", self.base))
            .header("authorization", &basic(&self.api_key))
            .header("content-type", "application/x-www-form-urlencoded")
            .send(form)
            .unwrap()
    }
}

/// Serves a fresh database in process (see [`serve_in_process`]) with
/// merchant m1: a new API key, `response_key`, the rest of
/// [`test_merchant`] as `merchant` changes it; then `setup` adds what the
/// test needs besides (other merchants, gateway accounts); `config` from
/// [`test_config`].
pub(crate) fn start_m1<S, Fut>(
    response_key: &str,
    merchant: impl FnOnce(&mut kassa_server::db::NewMerchant) + Send + 'static,
    setup: S,
    config: impl FnOnce(&str) -> kassa_server::Config + Send + 'static,
) -> M1Server
where
    S: FnOnce(kassa_server::db::Db) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = kassa_server::db::Db> + Send,
{
    start_m1_clocked(response_key, merchant, setup, config, None)
}

/// [`start_m1`] reading the time from `clock`.
pub(crate) fn start_m1_clocked<S, Fut>(
    response_key: &str,
    merchant: impl FnOnce(&mut kassa_server::db::NewMerchant) + Send + 'static,
    setup: S,
    config: impl FnOnce(&str) -> kassa_server::Config + Send + 'static,
    clock: Option<std::sync::Arc<dyn kassa_server::Clock>>,
) -> M1Server
where
    S: FnOnce(kassa_server::db::Db) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = kassa_server::db::Db> + Send,
{
    let dir = tempfile::tempdir().unwrap();
    let db_url = fresh_database(dir.path());
    let response_key = response_key.to_string();
    let key = response_key.clone();
    let (server, api_key) = serve_in_process_clocked(
        db_url.clone(),
        move |db| async move {
            let api_key = kassa_server::random_id("ksk_");
            let mut m = test_merchant("m1", &api_key, &key);
            merchant(&mut m);
            db.create_merchant(&m).await.unwrap();
            (setup(db).await, api_key)
        },
        config,
        clock,
    );
    M1Server { base: server.base.clone(), api_key, response_key, db_url, agent: client(), _dir: dir, _server: server }
}

/// The sandbox's test card `number` as `POST /txns` fields (expiry 12/2039, CVV 123).
pub(crate) fn card_fields(number: &str) -> serde_json::Value {
    serde_json::json!({ "payment_method_type": "CARD", "card_number": number, "card_exp_month": "12", "card_exp_year": "2039",
                        "card_security_code": "123", "name_on_card": "A Shopper" })
}

/// Answers the sandbox bank's OTP page at `url` with the right OTP: the bank's answer (a 303 to the return URL when the attempt completed).
pub(crate) fn submit_otp(agent: &ureq::Agent, url: &str) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
    agent.post(url).header("content-type", "application/x-www-form-urlencoded").send("otp=123456&action=submit")
}

/// Runs the `kassa` CLI with `args` on the database `db`; panics unless it succeeds; its output as JSON (Null if it printed none).
pub(crate) fn kassa_cli(db: &str, args: &[&str]) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kassa")).args(args).args(["--database-url", db]).output().unwrap();
    assert!(out.status.success(), "kassa {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

/// The system clock moved forward by what the test says (`clock.0.fetch_add(ms, …)`).
#[derive(Debug, Default)]
pub(crate) struct Shifted(pub(crate) std::sync::atomic::AtomicI64);

impl kassa_server::Clock for Shifted {
    fn now_ms(&self) -> i64 {
        kassa_server::now_ms() + self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// What a test's webhook receiver got: (head, body) per delivery.
pub(crate) type Deliveries = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;

/// A server for a test of merchants' own data: m1 (its webhooks to a receiver
/// whose deliveries are returned), m2 with API key `m2_key`, the sandbox
/// settling after `sandbox_delay_ms`, and a clock the test moves.
pub(crate) fn start_m1_m2(
    response_key: &str,
    m2_key: &'static str,
    sandbox_delay_ms: u64,
) -> (M1Server, std::sync::Arc<Shifted>, Deliveries) {
    let clock = std::sync::Arc::new(Shifted::default());
    let hooks = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let port = free_port();
    receiver(port, hooks.clone());
    let s = start_m1_clocked(
        response_key,
        move |m| m.webhook_url = Some(format!("http://127.0.0.1:{port}/hook")),
        move |db| async move {
            db.create_merchant(&test_merchant("m2", m2_key, "krk_m2")).await.unwrap();
            db
        },
        move |base| kassa_server::Config { sandbox_delay_ms, ..test_config(base) },
        Some(clock.clone() as std::sync::Arc<dyn kassa_server::Clock>),
    );
    (s, clock, hooks)
}
