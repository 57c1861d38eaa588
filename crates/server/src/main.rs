//! `kassa`: the orders server and the operator commands.

mod cli_sign;

use clap::{Parser, Subcommand};
use kassa_server::db::{Db, NewMerchant};
use kassa_server::http::auth as api;
use kassa_server::observe::AuditCtx;
use kassa_server::secret::Secret;
use kassa_server::{AppState, Config, app, random_id};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "kassa", version, about = "Kassa: self-hostable payment checkout")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct DbArgs {
    /// Database URL (`sqlite://PATH`).
    #[arg(long, env = "KASSA_DATABASE_URL", default_value = "sqlite://data/kassa.db")]
    database_url: String,
    /// The master key sealing the database's secrets, a file of 64 hex digits (created if
    /// missing; default: master.key beside an SQLite database; PostgreSQL needs one named).
    /// KASSA_MASTER_KEY (the hex itself) takes precedence.
    #[arg(long, env = "KASSA_MASTER_KEY_FILE")]
    master_key_file: Option<PathBuf>,
}

/// A merchant credential rotation.
#[derive(clap::Args)]
struct Rotation {
    /// Merchant id.
    id: String,
    /// How long the old credential stays valid beside the new one, in minutes (0-10080: up to a week).
    #[arg(long, default_value_t = 1440, value_parser = clap::value_parser!(u32).range(0..=10_080))]
    overlap_mins: u32,
    #[command(flatten)]
    db: DbArgs,
}

impl DbArgs {
    /// The database, its secrets opened with the operator's master key.
    async fn open(&self) -> Result<Db, String> {
        let master = kassa_server::db::vault::MasterKey::resolve(&self.database_url, self.master_key_file.as_deref())?;
        Db::open_with(&self.database_url, &master).await.map_err(|e| e.to_string())
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "KASSA_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Public base URL of payment links (default: http://LISTEN).
        #[arg(long, env = "KASSA_PUBLIC_URL")]
        public_url: Option<String>,
        /// Directory of the built widget.
        #[arg(long, env = "KASSA_ASSETS_DIR", default_value = "pkg")]
        assets_dir: PathBuf,
        /// Directory of host-side files.
        #[arg(long, env = "KASSA_WWW_DIR", default_value = "www")]
        www_dir: PathBuf,
        /// First webhook retry delay in ms; the 15 later ones follow Juspay's
        /// schedule in proportion (default: 16 retries over 24 hours), then the event is dead.
        #[arg(long, env = "KASSA_WEBHOOK_RETRY_MS", default_value_t = 60_000)]
        webhook_retry_ms: u64,
        /// How long the sandbox takes to settle a UPI collect or an AUTHORIZING card, in ms.
        #[arg(long, env = "KASSA_SANDBOX_DELAY_MS", default_value_t = 4000)]
        sandbox_delay_ms: u64,
        /// The longest a call to a gateway's API (Razorpay, Paytm) may take, in ms.
        #[arg(long, env = "KASSA_GATEWAY_TIMEOUT_MS", default_value_t = 10_000)]
        gateway_timeout_ms: u64,
        /// How often Razorpay or Paytm is asked about an attempt it has not decided, in ms
        /// (until the order expires; `POST /orders/:id/sync` asks at once).
        #[arg(long, env = "KASSA_GATEWAY_POLL_MS", default_value_t = 3_000)]
        gateway_poll_ms: u64,
        /// How long a pre-authorization's hold lasts before Kassa voids it, in ms
        /// (default 7 days: the card networks' limit for most online card holds; README, "Pre-authorization").
        #[arg(long, env = "KASSA_HOLD_MS", default_value_t = kassa_server::domain::preauth::DEFAULT_HOLD_MS)]
        hold_ms: u64,
        /// Let webhooks go to private, loopback and other internal addresses, and over plain
        /// http:// (development and tests); by default only public https:// receivers are reached.
        #[arg(long, env = "KASSA_WEBHOOK_ALLOW_PRIVATE", value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, default_missing_value = "true")]
        webhook_allow_private: bool,
        /// Failed payment attempts an order takes before its link takes no more.
        #[arg(long, env = "KASSA_MAX_FAILED_ATTEMPTS", default_value_t = 5)]
        max_failed_attempts: u32,
        /// Payment attempts a minute with one order's client token (then 429 with Retry-After).
        #[arg(long, env = "KASSA_TXNS_PER_MINUTE_PER_TOKEN", default_value_t = 20)]
        txns_per_minute_per_token: u32,
        /// Payment attempts a minute from one client address.
        #[arg(long, env = "KASSA_TXNS_PER_MINUTE_PER_ADDRESS", default_value_t = 300)]
        txns_per_minute_per_address: u32,
        /// Failed API-key attempts a minute from one address before it is locked out for the rest of the minute.
        #[arg(long, env = "KASSA_AUTH_FAILURES_PER_MINUTE", default_value_t = 10)]
        auth_failures_per_minute: u32,
        /// Allow an `http://` public URL on an address other than this machine's loopback
        /// (payments over plain HTTP: only behind something that adds TLS on the same host).
        #[arg(long, env = "KASSA_INSECURE_HTTP")]
        insecure_http: bool,
        /// Behind a proxy: take the client's address (for the abuse limits and the gateways) from the
        /// last address of X-Forwarded-For, which that proxy appends. Only with a proxy that does.
        #[arg(long, env = "KASSA_TRUST_FORWARDED_FOR")]
        trust_forwarded_for: bool,
        /// Serve the benchmark's plain-form baseline page (for `cargo xtask bench` only).
        #[arg(long, hide = true)]
        bench_page: bool,
        /// Requests served at once; more are answered 429 at once.
        #[arg(long, env = "KASSA_MAX_CONCURRENT_REQUESTS", default_value_t = 1024)]
        max_concurrent_requests: usize,
        /// Serve HTTPS with this PEM certificate chain (needs --tls-key).
        #[arg(long, env = "KASSA_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert.
        #[arg(long, env = "KASSA_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// PEM CA certificates that https webhook receivers are checked against
        /// (a private CA); default: Mozilla's root certificates.
        #[arg(long, env = "KASSA_WEBHOOK_CA_FILE")]
        webhook_ca_file: Option<PathBuf>,
        /// A file holding the bearer token /metrics asks for (or the token itself in
        /// KASSA_METRICS_TOKEN); without one, /metrics answers this machine only.
        #[arg(long, env = "KASSA_METRICS_TOKEN_FILE")]
        metrics_token_file: Option<PathBuf>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Manage merchants.
    Merchant {
        #[command(subcommand)]
        command: MerchantCommand,
    },
    /// Manage the users of a merchant's dashboard (`/dashboard`).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Reseal the database's data keys under a new master key (the secrets themselves are not
    /// rewritten). The current key comes from --master-key-file or KASSA_MASTER_KEY; the new one
    /// from --new-key-file, created there if missing. Then start the server with the new key.
    RotateMasterKey {
        /// The new master key's file (64 hex digits; created with a random key if missing).
        #[arg(long)]
        new_key_file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Print the audit log, newest first, one JSON object a line: a merchant's changes
    /// (refunds, captures, voids, order and settings changes, keys), or without a merchant
    /// the server's own (master key rotations).
    Audit {
        /// Merchant id.
        merchant: Option<String>,
        /// At most this many entries.
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Create a signature (return URL, orderDetails, Razorpay, Paytm).
    #[command(subcommand)]
    Sign(cli_sign::SignCommand),
    /// Check a signature: exit 0 valid, 1 invalid (reason on stderr), 2 usage or input error.
    #[command(subcommand)]
    Verify(cli_sign::VerifyCommand),
    /// Write a fresh RSA key pair (PEM) for signing orderDetails.
    Keygen {
        /// Directory for private_key.pem and public_key.pem.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user who signs in to the merchant's dashboard. The password comes from
    /// KASSA_USER_PASSWORD or, without it, a prompt (never the command line).
    Add {
        /// Merchant id.
        merchant: String,
        /// The email the user signs in with.
        #[arg(long)]
        email: String,
        /// admin (reads and changes everything) or viewer (reads only).
        #[arg(long, value_parser = ["admin", "viewer"])]
        role: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Remove a dashboard user; their sessions end at once.
    Remove {
        /// Merchant id.
        merchant: String,
        /// The user's email.
        #[arg(long)]
        email: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum MerchantCommand {
    /// Give a merchant a new API key (printed once); the old one keeps working for the overlap.
    RotateKey(Rotation),
    /// Give a merchant a new response key (printed once); Kassa signs with it once the overlap
    /// ends (verify with both meanwhile), with the old one until then.
    RotateResponseKey(Rotation),
    /// Give a merchant a new webhook secret (printed once); deliveries carry a signature with
    /// each secret during the overlap.
    RotateWebhookSecret(Rotation),
    /// Link an account at a gateway (Razorpay, Paytm) to a merchant, last in its
    /// routing preference; with --sandbox, open one on this server's sandbox of
    /// that gateway and print its credentials as JSON (shown once).
    AddGateway {
        /// Merchant id.
        id: String,
        /// razorpay or paytm.
        #[arg(long)]
        gateway: String,
        /// Open an account on Kassa's own sandbox of the gateway instead of giving credentials.
        #[arg(long, conflicts_with_all = ["key_id", "key_secret_file", "webhook_secret_file", "mid", "merchant_key_file", "website_name", "base_url"])]
        sandbox: bool,
        /// Razorpay key id (rzp_test_… / rzp_live_…).
        #[arg(long)]
        key_id: Option<String>,
        /// File holding the Razorpay key secret.
        #[arg(long)]
        key_secret_file: Option<PathBuf>,
        /// File holding the Razorpay webhook secret (webhooks are refused without one).
        #[arg(long)]
        webhook_secret_file: Option<PathBuf>,
        /// Paytm merchant id.
        #[arg(long)]
        mid: Option<String>,
        /// File holding the Paytm merchant key.
        #[arg(long)]
        merchant_key_file: Option<PathBuf>,
        /// Paytm websiteName.
        #[arg(long)]
        website_name: Option<String>,
        /// The gateway's API base URL (Razorpay default: https://api.razorpay.com; required for Paytm).
        #[arg(long)]
        base_url: Option<String>,
        /// Tells this account apart from the merchant's others at the same gateway
        /// (an order picks it with metadata.JUSPAY:gateway_reference_id).
        #[arg(long, default_value = "")]
        reference_id: String,
        /// This server's public URL, which the sandbox's base URL starts with.
        #[arg(long, env = "KASSA_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
        public_url: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Register an RSA public key (PEM) that verifies the merchant's Process SDK orderDetails.
    AddKey {
        /// Merchant id.
        id: String,
        /// The merchantKeyId the merchant sends with its payloads.
        #[arg(long)]
        key_id: String,
        /// PEM public key (SPKI or PKCS#1), e.g. from `kassa keygen`.
        #[arg(long)]
        public_key: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Create a merchant and print its credentials as JSON (shown once).
    Create {
        /// Merchant id (letters, digits, `_`, `-`; at most 32).
        id: String,
        /// Display name shown to shoppers.
        #[arg(long)]
        name: Option<String>,
        /// Default webhook URL.
        #[arg(long)]
        webhook_url: Option<String>,
        /// User name sent with webhooks as HTTP Basic (password: KASSA_WEBHOOK_PASSWORD).
        #[arg(long)]
        webhook_username: Option<String>,
        /// Password sent with webhooks as HTTP Basic.
        #[arg(long, env = "KASSA_WEBHOOK_PASSWORD", hide_env_values = true)]
        webhook_password: Option<String>,
        /// How long orders and payment links live, in minutes (1-1440).
        #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u16).range(1..=1440))]
        order_ttl_mins: u16,
        /// Payment page accent colour (#rrggbb); text on it stays readable whatever it is.
        #[arg(long)]
        accent: Option<String>,
        /// Payment page corner radius in pixels (0-24).
        #[arg(long)]
        radius: Option<u8>,
        /// Logo shown on the payment page: a PNG, JPEG, WebP or SVG file (embedded, at most 36 KB).
        #[arg(long)]
        logo: Option<PathBuf>,
        /// auto (the shopper's setting), light or dark.
        #[arg(long, default_value = "auto")]
        appearance: String,
        /// An origin allowed to frame the iframe payment link (https://shop.example); repeat for more.
        #[arg(long = "allowed-origin")]
        allowed_origins: Vec<String>,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// A theme from the command line, validated.
fn theme_from_flags(
    accent: Option<String>,
    radius: Option<u8>,
    logo: Option<PathBuf>,
    appearance: &str,
) -> Result<kassa_types::theme::Theme, String> {
    use base64::Engine;
    let logo = match logo {
        None => None,
        Some(path) => {
            let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let kind = match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
                Some("png") => "png",
                Some("jpg" | "jpeg") => "jpeg",
                Some("webp") => "webp",
                Some("svg") => "svg+xml",
                _ => return Err("--logo must be a .png, .jpg, .webp or .svg file".into()),
            };
            Some(format!("data:image/{kind};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes)))
        }
    };
    let appearance = kassa_types::theme::Appearance::parse(appearance).ok_or("--appearance must be auto, light or dark")?;
    let theme = kassa_types::theme::Theme { accent, radius, logo, appearance };
    theme.validate()?;
    Ok(theme)
}

/// The server holds card numbers and CVVs in memory while a payment starts:
/// it writes no core dump (RLIMIT_CORE 0) and cannot be ptrace'd or dumped
/// by another process of the same user (PR_SET_DUMPABLE 0).
fn no_core_dumps() -> Result<(), String> {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{DumpableBehavior, Resource, Rlimit, set_dumpable_behavior, setrlimit};
        setrlimit(Resource::Core, Rlimit { current: Some(0), maximum: Some(0) }).map_err(|e| format!("cannot turn core dumps off: {e}"))?;
        set_dumpable_behavior(DumpableBehavior::NotDumpable).map_err(|e| format!("cannot make the process undumpable: {e}"))?;
    }
    Ok(())
}

/// `https://shop.example[:port]`: a scheme, a host and maybe a port; nothing else.
fn origin(s: &str) -> Result<String, String> {
    kassa_server::pages::frame_origin(s).map_err(|why| format!("--allowed-origin {s:?} {why}"))
}

#[tokio::main]
async fn main() -> ExitCode {
    // Structured JSON lines (one object per event, with the request's span: its
    // request id, method and route), unless KASSA_LOG_FORMAT=text or a person
    // is watching the terminal.
    let filter = tracing_subscriber::EnvFilter::try_from_env("KASSA_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = match std::env::var("KASSA_LOG_FORMAT").as_deref() {
        Ok("json") => true,
        Ok("text") => false,
        _ => !std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        logs.json().with_current_span(true).with_span_list(false).init();
    } else {
        logs.init();
    }
    let cli = Cli::parse();
    let command = match cli.command {
        Command::Sign(c) => return cli_sign::sign(c),
        Command::Verify(c) => return cli_sign::verify(c),
        Command::Keygen { out } => return cli_sign::keygen(&out),
        other => other,
    };
    match run(command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kassa: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Serve {
            listen,
            public_url,
            assets_dir,
            www_dir,
            webhook_retry_ms,
            sandbox_delay_ms,
            gateway_timeout_ms,
            gateway_poll_ms,
            hold_ms,
            webhook_allow_private,
            max_failed_attempts,
            txns_per_minute_per_token,
            txns_per_minute_per_address,
            auth_failures_per_minute,
            max_concurrent_requests,
            bench_page,
            trust_forwarded_for,
            insecure_http,
            tls_cert,
            tls_key,
            webhook_ca_file,
            metrics_token_file,
            db,
        } => {
            no_core_dumps()?;
            let db = db.open().await?;
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => Some(kassa_server::tls::server_config(&cert, &key).await?),
                _ => None,
            };
            let webhook_ca_pem = match webhook_ca_file {
                Some(path) => Some(std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?),
                None => None,
            };
            // Refuse a bad CA file now rather than at the first delivery.
            kassa_server::tls::webhook_tls(webhook_ca_pem.as_deref())?;
            // Card data and API keys over plain HTTP to another machine: refused (before listening) unless the
            // operator says so. Local: the links name this machine and the server listens on loopback only.
            let listen_loopback =
                listen.parse::<std::net::SocketAddr>().map_or_else(|_| listen.starts_with("localhost:"), |a| a.ip().is_loopback());
            let links_local = match &public_url {
                Some(p) => {
                    let parsed = url::Url::parse(p).map_err(|_| format!("--public-url {p:?} is not a URL"))?;
                    parsed.scheme() != "http" || parsed.host().is_some_and(|h| kassa_server::juspay::orders::is_loopback_host(&h))
                }
                None => true,
            };
            let plain_to_others =
                tls.is_none() && public_url.as_deref().is_none_or(|p| p.starts_with("http://")) && !(links_local && listen_loopback);
            if plain_to_others {
                if !insecure_http {
                    return Err(format!(
                        "payment links would be plain http:// to other machines (--listen {listen}, --public-url {}): serve HTTPS \
                         (--tls-cert, --tls-key), give the https:// URL of the proxy in front (--public-url), or pass --insecure-http",
                        public_url.as_deref().unwrap_or("not given")
                    ));
                }
                tracing::warn!(%listen, "serving payments over plain http:// to other machines (--insecure-http)");
            }
            let listener = std::net::TcpListener::bind(&listen).map_err(|e| format!("cannot listen on {listen}: {e}"))?;
            listener.set_nonblocking(true).map_err(|e| e.to_string())?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let scheme = if tls.is_some() { "https" } else { "http" };
            let default_port = if tls.is_some() { 443 } else { 80 };
            let authority = match addr {
                std::net::SocketAddr::V4(a) if a.port() == default_port => a.ip().to_string(),
                std::net::SocketAddr::V6(a) if a.port() == default_port => format!("[{}]", a.ip()),
                _ => addr.to_string(),
            };
            let public_url = public_url.unwrap_or_else(|| format!("{scheme}://{authority}")).trim_end_matches('/').to_string();
            let metrics_token = match (std::env::var("KASSA_METRICS_TOKEN").ok(), metrics_token_file) {
                (Some(token), _) => Some(token),
                (None, Some(file)) => {
                    Some(std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?.trim().to_string())
                }
                (None, None) => None,
            };
            if metrics_token.as_ref().is_some_and(|t| t.len() < 16) {
                return Err("the metrics token must be at least 16 characters".into());
            }
            let metrics_token = metrics_token.map(kassa_server::secret::Secret::new);
            let config = Config {
                public_url: public_url.clone(),
                assets_dir,
                www_dir,
                webhook_poll_ms: 250,
                webhook_retry_base_ms: webhook_retry_ms.max(10),
                webhook_ca_pem,
                sandbox_delay_ms,
                gateway_timeout_ms,
                gateway_poll_ms,
                hold_ms: hold_ms.max(1000),
                metrics_token,
                webhook_allow_private,
                bench_page,
                trust_forwarded_for,
                limits: kassa_server::http::limits::LimitSettings {
                    failed_attempts_per_order: max_failed_attempts,
                    txns_per_minute_per_token,
                    txns_per_minute_per_address,
                    auth_failures_per_minute_per_address: auth_failures_per_minute,
                    max_concurrent_requests,
                },
            };
            let state = AppState::new(db, config).await.map_err(|e| e.to_string())?;
            kassa_server::webhook::spawn_worker(state.clone());
            kassa_server::domain::flow::spawn_settler(state.clone());
            tracing::info!(%addr, %public_url, "kassa listening");
            // One server for HTTP and HTTPS: axum-server over hyper, with the
            // timeouts a public endpoint needs (a client that trickles its
            // headers is cut off; see `lib.rs` for the body).
            let handle = axum_server::Handle::new();
            let stopper = handle.clone();
            tokio::spawn(async move {
                shutdown().await;
                stopper.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
            });
            // The shopper's address goes to gateways that ask for it (Razorpay's S2S payments).
            let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
            match tls {
                None => {
                    let mut server = axum_server::from_tcp(listener).map_err(|e| e.to_string())?;
                    kassa_server::harden(server.http_builder());
                    server.handle(handle).serve(service).await.map_err(|e| e.to_string())?;
                }
                Some(tls) => {
                    let mut server = axum_server::from_tcp_rustls(listener, tls).map_err(|e| e.to_string())?;
                    kassa_server::harden(server.http_builder());
                    server.handle(handle).serve(service).await.map_err(|e| e.to_string())?;
                }
            }
            tracing::info!("kassa stopped");
            Ok(())
        }
        Command::Sign(_) | Command::Verify(_) | Command::Keygen { .. } => Err("handled before the runtime".into()),
        Command::RotateMasterKey { new_key_file, db: args } => {
            use kassa_server::db::vault::MasterKey;
            // The current key must exist: a mistyped path must not become a fresh random "old" key.
            let old = MasterKey::resolve_with(&args.database_url, args.master_key_file.as_deref(), false)?;
            let new = MasterKey::load_or_create(&new_key_file)?;
            if old.id() == new.id() {
                return Err("the new master key is the current one".into());
            }
            let db = Db::open_with(&args.database_url, &old).await.map_err(|e| e.to_string())?;
            let n = db.rotate_master_key(&old, &new).await.map_err(|e| e.to_string())?;
            let detail = serde_json::json!({ "old_master_key_id": old.id(), "master_key_id": new.id(), "resealed_data_keys": n });
            AuditCtx::cli().record(&db, None, "master_key.rotate", Some(&new.id()), detail).await;
            println!("{}", serde_json::json!({ "resealed_data_keys": n, "old_master_key_id": old.id(), "master_key_id": new.id() }));
            Ok(())
        }
        Command::User { command: UserCommand::Add { merchant, email, role, db } } => {
            let email = email.trim().to_lowercase();
            if email.len() > 254 || !email.contains('@') || email.chars().any(char::is_whitespace) {
                return Err("--email must be an email address".into());
            }
            let role = kassa_server::db::Role::parse(&role).ok_or("--role must be admin or viewer")?;
            let password = match std::env::var("KASSA_USER_PASSWORD") {
                Ok(p) => p,
                Err(_) => prompt_password()?,
            };
            if password.chars().count() < 12 {
                return Err("the password must be at least 12 characters".into());
            }
            let db = db.open().await?;
            if db.merchant(&merchant).await.map_err(|e| e.to_string())?.is_none() {
                return Err(format!("no merchant {merchant}"));
            }
            let user = kassa_server::db::DashboardUser {
                id: random_id("usr_"),
                merchant_id: merchant.clone(),
                email: email.clone(),
                role,
                password_hash: kassa_server::dashboard::hash_password(&password)?,
            };
            if !db.add_dashboard_user(&user, kassa_server::now_ms()).await.map_err(|e| e.to_string())? {
                return Err(format!("a user with email {email} exists"));
            }
            AuditCtx::cli().record(&db, Some(&merchant), "user.add", Some(&email), serde_json::json!({ "role": role.as_str() })).await;
            println!("{}", serde_json::json!({ "merchant_id": merchant, "email": email, "role": role.as_str() }));
            Ok(())
        }
        Command::User { command: UserCommand::Remove { merchant, email, db } } => {
            let email = email.trim().to_lowercase();
            let db = db.open().await?;
            if !db.remove_dashboard_user(&merchant, &email).await.map_err(|e| e.to_string())? {
                return Err(format!("merchant {merchant} has no user {email}"));
            }
            AuditCtx::cli().record(&db, Some(&merchant), "user.remove", Some(&email), serde_json::Value::Null).await;
            Ok(())
        }
        Command::Audit { merchant, limit, db } => {
            let db = db.open().await?;
            for e in db.audit_log(merchant.as_deref(), limit.clamp(1, 100_000)).await.map_err(|e| e.to_string())? {
                println!("{}", serde_json::to_string(&e).map_err(|e| e.to_string())?);
            }
            Ok(())
        }
        Command::Merchant { command: add @ MerchantCommand::AddGateway { .. } } => add_gateway(add).await,
        Command::Merchant { command: MerchantCommand::RotateKey(r) } => rotate(r, kassa_server::db::Credential::ApiKey).await,
        Command::Merchant { command: MerchantCommand::RotateResponseKey(r) } => rotate(r, kassa_server::db::Credential::ResponseKey).await,
        Command::Merchant { command: MerchantCommand::RotateWebhookSecret(r) } => {
            rotate(r, kassa_server::db::Credential::WebhookSecret).await
        }
        Command::Merchant { command: MerchantCommand::AddKey { id, key_id, public_key, db } } => {
            if key_id.is_empty() || key_id.len() > 64 || !key_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
                return Err("--key-id must be 1-64 letters, digits, '_' or '-'".into());
            }
            let pem = std::fs::read_to_string(&public_key).map_err(|e| format!("cannot read {}: {e}", public_key.display()))?;
            let key = kassa_sign::order_details::RsaPublicKey::from_pem(&pem).map_err(|e| e.to_string())?;
            let db = db.open().await?;
            if db.merchant(&id).await.map_err(|e| e.to_string())?.is_none() {
                return Err(format!("no merchant {id}"));
            }
            match db.add_merchant_key(&id, &key_id, &key.to_pem()).await {
                Ok(()) => {
                    AuditCtx::cli().record(&db, Some(&id), "order_details_key.add", Some(&key_id), serde_json::Value::Null).await;
                    println!("{}", serde_json::json!({ "merchant_id": id, "merchant_key_id": key_id }));
                    Ok(())
                }
                Err(kassa_server::db::DbError::Conflict) => Err(format!("merchant {id} already has a key {key_id}")),
                Err(e) => Err(e.to_string()),
            }
        }
        Command::Merchant {
            command:
                MerchantCommand::Create {
                    id,
                    name,
                    webhook_url,
                    webhook_username,
                    webhook_password,
                    order_ttl_mins,
                    accent,
                    radius,
                    logo,
                    appearance,
                    allowed_origins,
                    db,
                },
        } => {
            if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
                return Err("merchant id must be 1-32 letters, digits, '_' or '-'".into());
            }
            let theme = theme_from_flags(accent, radius, logo, &appearance)?;
            let allowed_origins = allowed_origins.iter().map(|o| origin(o)).collect::<Result<Vec<_>, _>>()?;
            let db = db.open().await?;
            let api_key = random_id("ksk_");
            let response_key = random_id("krk_");
            let webhook_secret = random_id("whsec_");
            if let Some(u) = &webhook_url
                && !(u.starts_with("http://") || u.starts_with("https://"))
            {
                return Err("--webhook-url must be an http(s) URL".into());
            }
            let m = NewMerchant {
                id: id.clone(),
                name: name.unwrap_or_else(|| id.clone()),
                api_key_hash: api::api_key_hash(&api_key),
                response_key: Secret::new(response_key.clone()),
                client_id: id.clone(),
                webhook_url: webhook_url.clone(),
                order_ttl_secs: i64::from(order_ttl_mins) * 60,
                webhook_secret: Secret::new(webhook_secret.clone()),
                webhook_username: webhook_username.clone(),
                webhook_password: webhook_password.map(Secret::new),
                theme,
                allowed_origins,
            };
            match db.create_merchant(&m).await {
                Ok(()) => {}
                Err(kassa_server::db::DbError::Conflict) => return Err(format!("merchant {id} already exists")),
                Err(e) => return Err(e.to_string()),
            }
            // The webhook URL without user info or query, which may carry credentials.
            let shown_url = webhook_url.as_deref().map(kassa_server::dashboard::shown_url).filter(|u| !u.is_empty());
            let detail =
                serde_json::json!({ "webhook_url": shown_url, "order_ttl_mins": order_ttl_mins, "allowed_origins": m.allowed_origins });
            AuditCtx::cli().record(&db, Some(&id), "merchant.create", Some(&id), detail).await;
            let out = serde_json::json!({
                "merchant_id": id,
                "name": m.name,
                "api_key": api_key,
                "response_key": response_key,
                "client_id": m.client_id,
                "webhook_url": webhook_url,
                "webhook_secret": webhook_secret,
                "webhook_username": webhook_username,
                "order_ttl_mins": order_ttl_mins,
            });
            println!("{}", serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?);
            Ok(())
        }
    }
}

/// `kassa merchant rotate-key|rotate-response-key|rotate-webhook-secret`: prints the new credential (once) and the overlap.
async fn rotate(r: Rotation, which: kassa_server::db::Credential) -> Result<(), String> {
    use kassa_server::db::Credential;
    let db = r.db.open().await?;
    let now = kassa_server::now_ms();
    let until = now.saturating_add(i64::from(r.overlap_mins) * 60_000);
    let (new, stored, field, action) = match which {
        Credential::ApiKey => {
            let key = random_id("ksk_");
            let hash = api::api_key_hash(&key);
            (key, hash, "api_key", "api_key.rotate")
        }
        Credential::ResponseKey => {
            let key = random_id("krk_");
            (key.clone(), key, "response_key", "response_key.rotate")
        }
        Credential::WebhookSecret => {
            let secret = random_id("whsec_");
            (secret.clone(), secret, "webhook_secret", "webhook_secret.rotate")
        }
    };
    if !db.rotate_credential(&r.id, which, &stored, now, until).await.map_err(|e| e.to_string())? {
        return Err(format!("no merchant {}", r.id));
    }
    let until_rfc3339 = kassa_server::juspay::wire::rfc3339(until);
    let detail = serde_json::json!({ "overlap_mins": r.overlap_mins, "overlap_until": until_rfc3339 });
    AuditCtx::cli().record(&db, Some(&r.id), action, Some(&r.id), detail).await;
    let meaning = match which {
        Credential::ApiKey => "the previous API key is accepted until overlap_until",
        Credential::ResponseKey => {
            "Kassa signs with the new response key from overlap_until on, with the previous one until then: verify with both meanwhile"
        }
        Credential::WebhookSecret => "webhooks carry a signature with each secret until overlap_until, then with the new one only",
    };
    let out = serde_json::json!({ "merchant_id": r.id, field: new, "overlap_until": until_rfc3339, "note": meaning });
    println!("{}", serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?);
    Ok(())
}

/// `kassa merchant add-gateway`.
async fn add_gateway(command: MerchantCommand) -> Result<(), String> {
    use kassa_server::gateway::route::{Credentials, GatewayKind};
    let MerchantCommand::AddGateway {
        id,
        gateway,
        sandbox,
        key_id,
        key_secret_file,
        webhook_secret_file,
        mid,
        merchant_key_file,
        website_name,
        base_url,
        reference_id,
        public_url,
        db,
    } = command
    else {
        return Err("not add-gateway".into());
    };
    let kind = GatewayKind::parse(&gateway).ok_or("--gateway must be razorpay or paytm")?;
    let secret_file = |path: Option<PathBuf>| -> Result<Option<String>, String> {
        path.map(|path| {
            let s = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let s = s.trim().to_string();
            if s.is_empty() { Err(format!("{} is empty", path.display())) } else { Ok(s) }
        })
        .transpose()
    };
    let request = kassa_server::gateway::route::LinkRequest {
        reference_id: reference_id.clone(),
        sandbox,
        base_url,
        key_id,
        key_secret: secret_file(key_secret_file)?,
        webhook_secret: secret_file(webhook_secret_file)?,
        mid,
        merchant_key: secret_file(merchant_key_file)?,
        website_name,
    };
    let db = db.open().await?;
    if db.merchant(&id).await.map_err(|e| e.to_string())?.is_none() {
        return Err(format!("no merchant {id}"));
    }
    let flag = |name: &str| match name {
        "key_secret" => "--key-secret-file".to_string(),
        "merchant_key" => "--merchant-key-file".to_string(),
        other => format!("--{}", other.replace('_', "-")),
    };
    let (account, priority) = kassa_server::gateway::route::link_account(&db, &id, kind, request, flag).await.map_err(|e| e.to_string())?;
    let detail = serde_json::json!({ "gateway": gateway, "reference_id": reference_id, "sandbox": sandbox, "priority": priority });
    AuditCtx::cli().record(&db, Some(&id), "gateway_account.add", Some(&account.id), detail).await;
    let mut out = serde_json::json!({
        "merchant_id": id,
        "gateway": kind.as_str(),
        "gateway_id": kind.juspay_id(),
        "gateway_reference_id": reference_id,
        "account_id": account.id,
        "priority": priority,
        "base_url": account.base(public_url.trim_end_matches('/')),
    });
    // Secrets are printed only for a sandbox account, which this command just made.
    match (&account.credentials, sandbox) {
        (Credentials::Razorpay { key_id, key_secret, webhook_secret }, true) => {
            out["key_id"] = key_id.clone().into();
            out["key_secret"] = key_secret.clone().into();
            out["webhook_secret"] = webhook_secret.clone().into();
        }
        (Credentials::Paytm { mid, merchant_key, website_name }, true) => {
            out["mid"] = mid.clone().into();
            out["merchant_key"] = merchant_key.clone().into();
            out["website_name"] = website_name.clone().into();
        }
        (Credentials::Razorpay { key_id, .. }, false) => out["key_id"] = key_id.clone().into(),
        (Credentials::Paytm { mid, website_name, .. }, false) => {
            out["mid"] = mid.clone().into();
            out["website_name"] = website_name.clone().into();
        }
    }
    if let (Credentials::Razorpay { .. }, false) = (&account.credentials, sandbox) {
        out["webhook_url"] = format!("{}/gateway/webhooks/{}", public_url.trim_end_matches('/'), account.id).into();
    }
    println!("{}", serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?);
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

/// Reads a password from the terminal without echoing it (or a line of stdin that is no terminal).
fn prompt_password() -> Result<String, String> {
    use std::io::{BufRead, IsTerminal, Write};
    let stdin = std::io::stdin();
    let terminal = stdin.is_terminal();
    #[cfg(target_os = "linux")]
    let saved = if terminal {
        eprint!("Password: ");
        let _ = std::io::stderr().flush();
        let saved = rustix::termios::tcgetattr(&stdin).map_err(|e| e.to_string())?;
        let mut quiet = saved.clone();
        quiet.local_modes.remove(rustix::termios::LocalModes::ECHO);
        rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &quiet).map_err(|e| e.to_string())?;
        Some(saved)
    } else {
        None
    };
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    #[cfg(target_os = "linux")]
    if let Some(saved) = saved {
        let _ = rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &saved);
        eprintln!();
    }
    read.map_err(|e| e.to_string())?;
    let _ = terminal;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
