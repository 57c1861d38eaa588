//! `cargo xtask bench`: every budget of SPEC §6 measured beside its baseline
//! from the same run, written to `bench/REPORT.md` and `bench/report.json`.
//!
//! - bundle: the payment page's files and the script-tag loader, raw, gzip -9
//!   and brotli -q 11;
//! - page ready: navigation → pay button enabled in headless Chromium, against
//!   a plain HTML form of the same content served by the same server
//!   (`bench/page_ready.mjs`);
//! - server: `POST /orders`, `GET /orders/:id`, `POST /txns` with wrk
//!   (`bench/orders.lua`) at saturation and, for `POST /orders`, held near
//!   1,000 req/s, on SQLite (durable: WAL, `synchronous=FULL`) and PostgreSQL
//!   when one is available; the trivial `/health` route is the ceiling; the
//!   server's peak RSS;
//! - scaling: the same server figures and page-ready time with 1k, 100k and
//!   1M orders in the database, and with the order payload padded, on both
//!   databases;
//! - signing: the criterion benchmarks of `kassa-sign`.

use crate::{Result, apt_install, build_widget, cargo, ensure_npm_dir, ensure_postgres, output, run, step};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The published critical path of the Hyperswitch web SDK, for context
/// (juspay/hyperswitch-web issue 1776).
const HYPERSWITCH_CRITICAL_PATH_GZIP_KB: f64 = 498.8;

/// How long each wrk run lasts, in seconds (`KASSA_BENCH_SECS` overrides).
fn secs() -> u64 {
    std::env::var("KASSA_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(10)
}

/// `cargo xtask bench dashboard`: only the dashboard's order search at 1M
/// orders beside `GET /orders/:order_id` (SPEC §6), on SQLite and
/// PostgreSQL, into bench/dashboard.json and bench/DASHBOARD.md.
pub(crate) fn bench_dashboard() -> Result<()> {
    crate::setup(crate::Needs::ALL)?;
    if !Path::new("/usr/bin/wrk").exists() {
        apt_install(&["wrk"])?;
    }
    step("building the server with the production profile (opt-level 3, thin LTO)");
    run(cargo().args(["build", "--profile", "server", "--package", "kassa-server"]))?;
    let dir = std::env::temp_dir().join(format!("kassa-bench-dash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut out = serde_json::Map::new();
    let file = dir.join("search.db");
    let db = format!("sqlite://{}", file.display());
    out.insert("sqlite".into(), dashboard_search(&db, &Seeder::Sqlite(file), "s")?);
    match ensure_postgres()? {
        Ok(url) => {
            let db = fresh_pg_database(&url, "kassa_bench_search")?;
            out.insert("postgres".into(), dashboard_search(&db, &Seeder::Postgres(db.clone()), "p")?);
        }
        Err(why) => {
            out.insert("postgres".into(), json!({ "skipped": why }));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let report = Value::Object(out);
    std::fs::create_dir_all("bench").map_err(|e| e.to_string())?;
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write("bench/dashboard.json", text + "\n").map_err(|e| e.to_string())?;
    std::fs::write("bench/DASHBOARD.md", dashboard_markdown(&report)).map_err(|e| e.to_string())?;
    eprintln!("\nwrote bench/DASHBOARD.md and bench/dashboard.json");
    Ok(())
}

/// The dashboard's order search with 1M orders of one merchant in the
/// database: p95 of a first page, an order id, a customer id and a status
/// filter, each against `GET /orders/:order_id` measured in the same run
/// (SPEC §6: p95 ≤ 5×).
fn dashboard_search(db: &str, seeder: &Seeder, tag: &str) -> Result<Value> {
    step(&format!("bench: dashboard order search with 1M orders ({})", backend_name(db)));
    let merchant = format!("search{tag}");
    let out = kassa_command()
        .args(["merchant", "create", &merchant, "--order-ttl-mins", "1440", "--database-url", db])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("kassa merchant create: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let creds: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    run(kassa_command()
        .args(["user", "add", &merchant, "--email", "bench@kassa.example", "--role", "viewer", "--database-url", db])
        .env("KASSA_USER_PASSWORD", "bench password, long enough"))?;
    seeder.seed(&merchant, 0, 1_000_000)?;
    let server = serve(db, creds)?;
    // Sign in once: the session cookie the searches carry.
    let head = output(Command::new("curl").args([
        "-s",
        "-D",
        "-",
        "-o",
        "/dev/null",
        "-H",
        "content-type: application/json",
        "--data",
        "{\"email\":\"bench@kassa.example\",\"password\":\"bench password, long enough\"}",
        &format!("{}/dashboard/api/sign-in", server.url),
    ]))
    .ok_or("sign-in failed")?;
    let cookie = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase().starts_with("set-cookie:").then(|| l[11..].trim().split(';').next().unwrap_or_default().to_string())
        })
        .ok_or("no session cookie")?;
    let status = wrk(&server, "status", 8, 0, &[("KASSA_BENCH_ORDER", "seed500000")])?;
    let mut searches = serde_json::Map::new();
    for (name, path) in [
        ("first_page", "/dashboard/api/orders"),
        ("order_id", "/dashboard/api/orders?q=seed500000"),
        ("customer_id", "/dashboard/api/orders?q=cust_none"),
        ("status_filter", "/dashboard/api/orders?status=NEW&min_amount=100"),
    ] {
        let v = wrk(&server, "get", 8, 0, &[("KASSA_BENCH_PATH", path), ("KASSA_BENCH_COOKIE", &cookie)])?;
        let ratio = v["p95_us"].as_f64().unwrap_or(f64::NAN) / status["p95_us"].as_f64().unwrap_or(f64::NAN);
        searches.insert(name.into(), json!({ "path": path, "wrk": v, "p95_ratio_to_status": (ratio * 100.0).round() / 100.0 }));
    }
    Ok(json!({ "orders": 1_000_000, "status": status, "searches": searches, "budget_p95_ratio": 5 }))
}

fn dashboard_markdown(r: &Value) -> String {
    let mut md = String::from(
        "# Dashboard order search (`cargo xtask bench dashboard`)\n\n1M orders of one merchant; 8 connections for \
         KASSA_BENCH_SECS (default 10) s each, through wrk on loopback; p95 of each search against `GET /orders/:order_id` \
         in the same run (SPEC §6 budget: ≤ 5×).\n\n| backend | request | p50 µs | p95 µs | p99 µs | req/s | p95 ÷ status p95 |\n|---|---|---|---|---|---|---|\n",
    );
    for backend in ["sqlite", "postgres"] {
        let b = &r[backend];
        if b.get("skipped").is_some() {
            md.push_str(&format!("| {backend} | skipped: {} | | | | | |\n", b["skipped"]));
            continue;
        }
        let row = |name: &str, v: &Value, ratio: &Value| {
            format!("| {backend} | {name} | {} | {} | {} | {} | {} |\n", v["p50_us"], v["p95_us"], v["p99_us"], v["rps"], ratio)
        };
        md.push_str(&row("`GET /orders/:order_id`", &b["status"], &json!(1.0)));
        if let Some(s) = b["searches"].as_object() {
            for (name, v) in s {
                md.push_str(&row(
                    &format!("search: {name} (`{}`)", v["path"].as_str().unwrap_or_default()),
                    &v["wrk"],
                    &v["p95_ratio_to_status"],
                ));
            }
        }
    }
    md
}

pub(crate) fn bench() -> Result<()> {
    crate::setup(crate::Needs::ALL)?;
    if !Path::new("/usr/bin/wrk").exists() {
        apt_install(&["wrk"])?;
    }
    ensure_npm_dir(Path::new("tests/e2e"), "the end-to-end tests (playwright-core)")?;
    build_widget()?;
    step("building the server with the production profile (opt-level 3, thin LTO)");
    run(cargo().args(["build", "--profile", "server", "--package", "kassa-server"]))?;

    let mut report = serde_json::Map::new();
    report.insert("bundle".into(), bundle()?);
    let dir = std::env::temp_dir().join(format!("kassa-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let sqlite = format!("sqlite://{}/kassa.db", dir.display());
    report.insert("page_ready".into(), page_ready(&sqlite)?);
    report.insert("gateways".into(), gateways(&sqlite)?);
    let mut server = serde_json::Map::new();
    let mut scale = serde_json::Map::new();
    server.insert("sqlite".into(), server_load(&sqlite, "s")?);
    server.insert("sqlite_fsync".into(), fsync_rate(&dir)?);
    report.insert("webhook_isolation".into(), webhook_isolation(&sqlite)?);
    let scaling_file = dir.join("scaling.db");
    let scaling_db = format!("sqlite://{}", scaling_file.display());
    scale.insert("sqlite".into(), scaling(&scaling_db, &Seeder::Sqlite(scaling_file), "s")?);
    match ensure_postgres()? {
        Ok(url) => {
            let db = fresh_pg_database(&url, "kassa_bench")?;
            server.insert("postgres".into(), server_load(&db, "p")?);
            let db = fresh_pg_database(&url, "kassa_bench_scaling")?;
            scale.insert("postgres".into(), scaling(&db, &Seeder::Postgres(db.clone()), "p")?);
        }
        Err(why) => {
            eprintln!("xtask: no PostgreSQL for the server figures: {why}");
            server.insert("postgres".into(), json!({ "skipped": why }));
            scale.insert("postgres".into(), json!({ "skipped": why }));
        }
    }
    report.insert("server".into(), Value::Object(server));
    report.insert("scaling".into(), Value::Object(scale));
    report.insert("signing".into(), signing()?);
    let _ = std::fs::remove_dir_all(&dir);

    let report = Value::Object(report);
    std::fs::create_dir_all("bench").map_err(|e| e.to_string())?;
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write("bench/report.json", text + "\n").map_err(|e| e.to_string())?;
    std::fs::write("bench/REPORT.md", markdown(&report)).map_err(|e| e.to_string())?;
    eprintln!("\nwrote bench/REPORT.md and bench/report.json");
    Ok(())
}

// ---------------------------------------------------------------- bundle

/// The size of `path` as the server sends it with `ext` (gz, br): the file the
/// build wrote beside it when there is one (the widget's), else compressed here
/// the same way.
fn sent_size(path: &str, bytes: &[u8], ext: &str) -> Result<usize> {
    if let Ok(m) = std::fs::metadata(format!("{path}.{ext}")) {
        return usize::try_from(m.len()).map_err(|e| e.to_string());
    }
    match ext {
        "gz" => crate::gzip_best(bytes),
        _ => crate::brotli_best(bytes),
    }
    .map(|v| v.len())
}

fn bundle() -> Result<Value> {
    step("bench: bundle sizes");
    let files = [
        ("pkg/kassa_widget_bg.wasm", "wasm", true),
        ("pkg/kassa_widget.js", "JS glue", true),
        ("pkg/kassa.css", "CSS", true),
        ("www/pay.js", "hosted page boot script", false),
        ("www/frame.js", "hosted page bridge", false),
        ("pkg/kassa.js", "script-tag loader", false),
    ];
    let mut rows = Vec::new();
    let mut critical = (0, 0, 0);
    for (path, what, on_path) in files {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        let (raw, gz, br) = (bytes.len(), sent_size(path, &bytes, "gz")?, sent_size(path, &bytes, "br")?);
        if on_path {
            critical = (critical.0 + raw, critical.1 + gz, critical.2 + br);
        }
        rows.push(json!({ "file": path, "what": what, "critical_path": on_path, "raw": raw, "gzip": gz, "brotli": br }));
    }
    let loader_gz = rows.last().and_then(|r| r["gzip"].as_u64()).unwrap_or(0);
    Ok(json!({
        "files": rows,
        "critical_path": { "raw": critical.0, "gzip": critical.1, "brotli": critical.2, "budget_gzip": 120_000 },
        "loader": { "gzip": loader_gz, "budget_gzip": 3_000 },
        "hyperswitch_critical_path_gzip_kb": HYPERSWITCH_CRITICAL_PATH_GZIP_KB,
    }))
}

// ---------------------------------------------------------------- server process

struct Server {
    child: Child,
    url: String,
    creds: Value,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

const KASSA: &str = "target/server/kassa";

fn start_server(db: &str, merchant: &str) -> Result<Server> {
    let out = kassa_command()
        .args(["merchant", "create", merchant, "--name", "Kassa Demo Shop", "--order-ttl-mins", "1440", "--database-url", db])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("kassa merchant create: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let creds: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    serve(db, creds)
}

/// `kassa serve` on a free port for a merchant that exists.
/// The `kassa` binary, its databases sealed under a master key of the bench's own
/// (PostgreSQL needs one named; SQLite's sits beside its database anyway).
fn kassa_command() -> Command {
    let mut c = Command::new(KASSA);
    c.env("KASSA_MASTER_KEY_FILE", crate::root().join("target/xtask-bench-master.key"));
    c
}

fn serve(db: &str, creds: Value) -> Result<Server> {
    let port = free_port()?;
    let listen = format!("127.0.0.1:{port}");
    let child = kassa_command()
        .args(["serve", "--listen", &listen, "--database-url", db, "--assets-dir", "pkg", "--www-dir", "www", "--webhook-allow-private"])
        // The load generator pays from one address with few tokens: the abuse limits would measure themselves.
        .args(["--txns-per-minute-per-token", "100000000", "--txns-per-minute-per-address", "100000000", "--bench-page"])
        .env("KASSA_LOG", "error")
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    if !crate::wait_for_health(&listen, Duration::from_secs(30)) {
        return Err("the server did not come up".into());
    }
    Ok(Server { child, url: format!("http://{listen}"), creds })
}

impl Server {
    fn auth(&self) -> String {
        use base64::Engine;
        let key = self.creds["api_key"].as_str().unwrap_or_default();
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{key}:")))
    }

    /// `POST /session` for a new order: (order_id, clientAuthToken, web link).
    fn session(&self, order_id: &str) -> Result<(String, String, String)> {
        let body = format!(
            "order_id={order_id}&amount=499.00&customer_id=bench_user&description=Kassa%20sticker%20pack&payment_page_client_id={}",
            self.creds["client_id"].as_str().unwrap_or_default()
        );
        let out = output(Command::new("curl").args([
            "-sf",
            "-H",
            &format!("Authorization: {}", self.auth()),
            "--data",
            &body,
            &format!("{}/session", self.url),
        ]))
        .ok_or("POST /session failed")?;
        let v: Value = serde_json::from_str(&out).map_err(|e| e.to_string())?;
        let p = &v["sdk_payload"]["payload"];
        let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
        Ok((s(&v["order_id"]), s(&p["clientAuthToken"]), s(&v["payment_links"]["web"])))
    }

    /// Peak resident set size so far, in KiB (Linux VmHWM).
    fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

fn fresh_pg_database(admin_url: &str, db: &str) -> Result<String> {
    run(Command::new("psql").arg(admin_url).args([
        "-q",
        "-c",
        &format!("DROP DATABASE IF EXISTS {db}"),
        "-c",
        &format!("CREATE DATABASE {db}"),
    ]))?;
    Ok(match admin_url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{db}"),
        None => return Err("unexpected PostgreSQL URL".into()),
    })
}

// ---------------------------------------------------------------- gateways

/// A card payment's time through Razorpay and Paytm (their sandboxes on the same server, over
/// loopback) against the built-in sandbox, in the same run.
fn gateways(db: &str) -> Result<Value> {
    step("bench: a card payment through Razorpay and Paytm vs the built-in sandbox (30 each, sequential)");
    let server = start_server(db, "gateways")?;
    for gateway in ["razorpay", "paytm"] {
        run(kassa_command()
            .args(["merchant", "add-gateway", "gateways", "--gateway", gateway, "--sandbox", "--database-url", db])
            .stdout(Stdio::null()))?;
    }
    let key = server.creds["api_key"].as_str().unwrap_or_default();
    let out = Command::new("node").args(["bench/gateway_pay.mjs", &server.url, key, "30"]).output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("bench/gateway_pay.mjs failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let mut v: Value = serde_json::from_slice(&out.stdout).map_err(|e| format!("gateway_pay.mjs output: {e}"))?;
    let base = v["sandbox"]["median_ms"].as_f64().unwrap_or(f64::NAN);
    for gateway in ["razorpay", "paytm"] {
        let median = v[gateway]["median_ms"].as_f64().unwrap_or(f64::NAN);
        v[gateway]["added_ms_median"] = json!(median - base);
        v[gateway]["ratio_median"] = json!(median / base);
    }
    Ok(v)
}

// ---------------------------------------------------------------- page ready

fn page_ready(db: &str) -> Result<Value> {
    step("bench: payment page ready vs a plain HTML form (headless Chromium, 20 loads each)");
    let server = start_server(db, "pageready")?;
    page_ready_on(&server, "pr1", 20)
}

/// `loads` loads each of a fresh order's payment page and of the plain form, alternating.
fn page_ready_on(server: &Server, order_id: &str, loads: u32) -> Result<Value> {
    let (_, _, link) = server.session(order_id)?;
    let plain = format!("{}/bench/plain-form.html", server.url);
    let out = Command::new("node").args(["bench/page_ready.mjs", &link, &plain, &loads.to_string()]).output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("bench/page_ready.mjs failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| format!("page_ready.mjs output: {e}"))?;
    let stats = |key: &str| -> Value {
        let mut xs: Vec<f64> = v[key].as_array().into_iter().flatten().filter_map(Value::as_f64).collect();
        xs.sort_by(f64::total_cmp);
        json!({ "loads": xs.len(), "median_ms": percentile(&xs, 50.0), "p95_ms": percentile(&xs, 95.0) })
    };
    let (page, plain) = (stats("page"), stats("plain"));
    let ratio = |k: &str| page[k].as_f64().unwrap_or(0.0) / plain[k].as_f64().unwrap_or(f64::NAN);
    // Median of each phase mark (ms since navigation start), see bench/page_ready.mjs.
    let mut phases = serde_json::Map::new();
    for mark in ["html", "wasm", "boot", "init", "mount"] {
        let mut xs: Vec<f64> = v["phases"].as_array().into_iter().flatten().filter_map(|p| p[mark].as_f64()).collect();
        xs.sort_by(f64::total_cmp);
        phases.insert(mark.into(), json!(percentile(&xs, 50.0)));
    }
    Ok(json!({
        "payment_page": page, "plain_form": plain, "ratio_median": ratio("median_ms"), "ratio_p95": ratio("p95_ms"), "budget_ratio": 1.5,
        "phases_median_ms": phases,
    }))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

// ---------------------------------------------------------------- server load

fn wrk(server: &Server, mode: &str, conns: u32, delay_ms: u32, env: &[(&str, &str)]) -> Result<Value> {
    let secs = secs();
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", &format!("-c{conns}"), &format!("-d{secs}s"), "--timeout", "5s", "-s", "bench/orders.lua", &server.url])
        .env("KASSA_BENCH_MODE", mode)
        .env("KASSA_BENCH_AUTH", server.auth())
        .env("KASSA_BENCH_DELAY_MS", delay_ms.to_string());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().map_err(|e| format!("cannot run wrk: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().rev().find(|l| l.starts_with('{')).ok_or_else(|| format!("wrk printed no summary: {text}"))?;
    let mut v: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let rps = v["requests"].as_f64().unwrap_or(0.0) / (v["duration_us"].as_f64().unwrap_or(1.0) / 1e6);
    v["rps"] = json!(rps.round());
    v["connections"] = json!(conns);
    v["delay_ms"] = json!(delay_ms);
    eprintln!(
        "  {mode:<8} c={conns:<3} delay={delay_ms}ms: {rps:.0} req/s, p50 {} µs, p99 {} µs, non-2xx {}",
        v["p50_us"], v["p99_us"], v["non_2xx"]
    );
    Ok(v)
}

fn server_load(db: &str, tag: &str) -> Result<Value> {
    step(&format!("bench: server throughput and latency ({})", backend_name(db)));
    let server = start_server(db, &format!("load{tag}"))?;
    let (order, token, _) = server.session(&format!("st{tag}1"))?;
    let health = wrk(&server, "health", 32, 0, &[])?;
    let create = wrk(&server, "create", 32, 0, &[("KASSA_BENCH_TAG", &format!("{tag}a"))])?;
    // 10 connections, each pausing 9 ms after a ~1 ms answer: about 1,000 req/s.
    let create_1k = wrk(&server, "create", 10, 9, &[("KASSA_BENCH_TAG", &format!("{tag}b"))])?;
    let status = wrk(&server, "status", 32, 0, &[("KASSA_BENCH_ORDER", &order)])?;
    let status_1k = wrk(&server, "status", 10, 9, &[("KASSA_BENCH_ORDER", &order)])?;
    let txn = wrk(&server, "txn", 32, 0, &[("KASSA_BENCH_ORDER", &order), ("KASSA_BENCH_TOKEN", &token)])?;
    let txn_1k = wrk(&server, "txn", 10, 9, &[("KASSA_BENCH_ORDER", &order), ("KASSA_BENCH_TOKEN", &token)])?;
    let ceiling = health["rps"].as_f64().unwrap_or(f64::NAN);
    let share = |v: &Value| v["rps"].as_f64().unwrap_or(0.0) / ceiling;
    Ok(json!({
        "health": health,
        "create_saturation": create, "create_saturation_share_of_health": share(&create),
        "create_about_1000_rps": create_1k,
        "status_saturation": status, "status_share_of_health": share(&status), "status_about_1000_rps": status_1k,
        "txn_saturation": txn, "txn_share_of_health": share(&txn), "txn_about_1000_rps": txn_1k,
        "peak_rss_kib": server.peak_rss_kib(),
        "budget": { "create_share_of_health": 0.5, "create_p99_us_at_1000_rps": 10_000 },
    }))
}

// ---------------------------------------------------------------- durability ceiling

/// How many fsyncs a second this disk does (4 KiB written and `fdatasync`ed
/// each time, for 2 s, in the directory of the SQLite database): every
/// acknowledged order waits for one, so it bounds the commits a second; group
/// commit shares one among the orders that arrive together.
fn fsync_rate(dir: &Path) -> Result<Value> {
    use std::io::Write;
    step("bench: this disk's fsync rate (the durability ceiling)");
    let path = dir.join("fsync-probe");
    let mut f = std::fs::File::create(&path).map_err(|e| e.to_string())?;
    let block = [7u8; 4096];
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < Duration::from_secs(2) {
        f.write_all(&block).map_err(|e| e.to_string())?;
        f.sync_data().map_err(|e| e.to_string())?;
        n += 1;
    }
    let _ = std::fs::remove_file(&path);
    Ok(json!({ "fsyncs_per_sec": n as f64 / started.elapsed().as_secs_f64() }))
}

// ---------------------------------------------------------------- webhook isolation

/// One HTTP/1.1 POST over a fresh connection: (status, body).
fn http_post(url: &str, path: &str, auth: &str, body: &str) -> Result<(u16, String)> {
    use std::io::{Read, Write};
    let host = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(host).map_err(|e| e.to_string())?;
    write!(
        s,
        "POST {path} HTTP/1.1\r\nhost: {host}\r\nauthorization: {auth}\r\ncontent-type: application/x-www-form-urlencoded\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut out = String::new();
    s.read_to_string(&mut out).map_err(|e| e.to_string())?;
    let status = out.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    Ok((status, out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default()))
}

/// SPEC §6: a merchant whose webhook receiver black-holes every request
/// (accepts the connection, never answers) delays no other merchant's
/// webhooks. Both merchants receive ORDER_CREATED; orders are created for
/// each, alternately, at about 100 a second each; the delay is from the
/// other merchant's order being acknowledged to its webhook arriving.
fn webhook_isolation(db: &str) -> Result<Value> {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::{Arc, Mutex};
    step("bench: webhook delay for one merchant while another's receiver black-holes every request");
    let hole = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let hole_port = hole.local_addr().map_err(|e| e.to_string())?.port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in hole.incoming().flatten() {
            held.push(s); // never answered, never closed
        }
    });
    let receiver = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let receiver_port = receiver.local_addr().map_err(|e| e.to_string())?.port();
    let arrived: Arc<Mutex<std::collections::HashMap<String, Instant>>> = Arc::default();
    {
        let arrived = arrived.clone();
        std::thread::spawn(move || {
            for s in receiver.incoming().flatten() {
                let arrived = arrived.clone();
                std::thread::spawn(move || {
                    let mut r = BufReader::new(&s);
                    let mut len = 0usize;
                    loop {
                        let mut line = String::new();
                        if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; len];
                    if r.read_exact(&mut body).is_ok()
                        && let Ok(v) = serde_json::from_slice::<Value>(&body)
                        && let Some(id) = v["content"]["order"]["order_id"].as_str()
                    {
                        arrived.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(id.to_string(), Instant::now());
                    }
                    let _ = (&s).write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                });
            }
        });
    }
    let create = |id: &str, url: String| -> Result<Value> {
        let out = kassa_command()
            .args(["merchant", "create", id, "--webhook-url", &url, "--database-url", db])
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("kassa merchant create: {}", String::from_utf8_lossy(&out.stderr)));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())
    };
    let stuck = create("whhole", format!("http://127.0.0.1:{hole_port}/hook"))?;
    let fine = create("whfine", format!("http://127.0.0.1:{receiver_port}/hook"))?;
    let server = serve(db, fine.clone())?;
    let auth = |creds: &Value| {
        use base64::Engine;
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{}:", creds["api_key"].as_str().unwrap_or_default())))
    };
    for creds in [&stuck, &fine] {
        let (code, body) = http_post(&server.url, "/webhooks/settings", &auth(creds), "webhook_events=ORDER_CREATED")?;
        if code != 200 {
            return Err(format!("POST /webhooks/settings: {code} {body}"));
        }
    }
    let secs = secs().clamp(3, 20);
    let started = Instant::now();
    let mut acked = Vec::new();
    let mut n = 0u64;
    while started.elapsed() < Duration::from_secs(secs) {
        n += 1;
        for (creds, prefix) in [(&stuck, "h"), (&fine, "f")] {
            let order_id = format!("{prefix}{n}");
            let (code, body) = http_post(&server.url, "/orders", &auth(creds), &format!("order_id={order_id}&amount=1"))?;
            if code != 200 {
                return Err(format!("POST /orders: {code} {body}"));
            }
            if prefix == "f" {
                acked.push((order_id, Instant::now()));
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // Give the last ones time to arrive.
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && arrived.lock().map(|a| a.len()).unwrap_or(0) < acked.len() {
        std::thread::sleep(Duration::from_millis(50));
    }
    let arrived = arrived.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut delays: Vec<f64> =
        acked.iter().filter_map(|(id, at)| arrived.get(id).map(|got| got.saturating_duration_since(*at).as_secs_f64() * 1000.0)).collect();
    delays.sort_by(f64::total_cmp);
    let missing = acked.len() - delays.len();
    Ok(json!({
        "orders_per_merchant": acked.len(),
        "seconds": secs,
        "delivered": delays.len(),
        "missing_after_10s": missing,
        "delay_ms_p50": percentile(&delays, 50.0),
        "delay_ms_p99": percentile(&delays, 99.0),
        "delay_ms_max": delays.last().copied().unwrap_or(f64::NAN),
        "budget_ms_p99": 2000,
    }))
}

// ---------------------------------------------------------------- scaling

/// Where the scaling figures seed their orders, straight into the database
/// (the server is stopped meanwhile).
enum Seeder {
    /// An SQLite file, through Python's sqlite3.
    Sqlite(PathBuf),
    /// A PostgreSQL database, through psql.
    Postgres(String),
}

impl Seeder {
    /// Adds orders `seed{from+1}..=seed{to}` for `merchant`.
    fn seed(&self, merchant: &str, from: u64, to: u64) -> Result<()> {
        const COLS: &str =
            "id, merchant_id, order_id, order_id_key, amount_minor, currency, status, fingerprint, created_at, updated_at, expires_at";
        match self {
            Seeder::Sqlite(file) => {
                let sql = format!(
                    "WITH RECURSIVE n(i) AS (SELECT {first} UNION ALL SELECT i + 1 FROM n WHERE i < {to}) \
                     INSERT INTO orders ({COLS}) SELECT printf('ord_%032x', i), '{merchant}', 'seed' || i, 'seed' || i, 49900, 'INR', 'NEW', \
                     'seed', CAST(strftime('%s') AS INTEGER) * 1000, CAST(strftime('%s') AS INTEGER) * 1000, \
                     CAST(strftime('%s') AS INTEGER) * 1000 + 86400000 FROM n",
                    first = from + 1
                );
                let script = "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nc.execute(sys.argv[2])\nc.commit()\nc.close()\n";
                run(Command::new("python3").args(["-c", script]).arg(file).arg(sql))
            }
            Seeder::Postgres(url) => {
                let now = "(extract(epoch from now()) * 1000)::bigint";
                let sql = format!(
                    "INSERT INTO orders ({COLS}) SELECT 'ord_' || lpad(to_hex(i), 32, '0'), '{merchant}', 'seed' || i, 'seed' || i, 49900, 'INR', \
                     'NEW', 'seed', {now}, {now}, {now} + 86400000 FROM generate_series({first}::bigint, {to}::bigint) AS i",
                    first = from + 1
                );
                run(Command::new("psql").arg(url).args(["-q", "-c", &sql]))
            }
        }
    }
}

/// Server figures and page-ready time as the orders table grows (1k, 100k,
/// 1M rows), and server figures as the order payload grows (udf1..udf10 and
/// description padded).
fn scaling(db: &str, seeder: &Seeder, tag: &str) -> Result<Value> {
    step(&format!("bench: scaling with the number of orders and with payload size ({})", backend_name(db)));
    let out = kassa_command()
        .args(["merchant", "create", &format!("scale{tag}"), "--order-ttl-mins", "1440", "--database-url", db])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("kassa merchant create: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let creds: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    let mut have = 0;
    for (i, target) in [1_000u64, 100_000, 1_000_000].into_iter().enumerate() {
        seeder.seed(&format!("scale{tag}"), have, target)?;
        have = target;
        let server = serve(db, creds.clone())?;
        let middle = format!("seed{}", target / 2);
        let status = wrk(&server, "status", 32, 0, &[("KASSA_BENCH_ORDER", &middle)])?;
        let create = wrk(&server, "create", 32, 0, &[("KASSA_BENCH_TAG", &format!("g{i}"))])?;
        let ready = page_ready_on(&server, &format!("pr{tag}{i}"), 10)?;
        rows.push(json!({ "orders": target, "status_saturation": status, "create_saturation": create, "page_ready": ready }));
    }
    let mut payload = Vec::new();
    for (i, pad) in [0u32, 64, 255].into_iter().enumerate() {
        let server = serve(db, creds.clone())?;
        let pad_s = pad.to_string();
        let create = wrk(&server, "create", 32, 0, &[("KASSA_BENCH_TAG", &format!("z{i}")), ("KASSA_BENCH_PAD", &pad_s)])?;
        // Minimal body plus eleven `&name=` fields of `pad` characters.
        let body_bytes = 70 + if pad > 0 { 11 * (8 + pad as usize) } else { 0 };
        payload.push(json!({ "field_chars": pad, "body_bytes_about": body_bytes, "create_saturation": create }));
    }
    Ok(json!({ "orders": rows, "payload": payload }))
}

fn backend_name(db: &str) -> &'static str {
    if db.starts_with("sqlite") { "SQLite" } else { "PostgreSQL" }
}

// ---------------------------------------------------------------- signing

fn signing() -> Result<Value> {
    step("bench: signing (criterion, cargo bench -p kassa-sign --bench sign)");
    run(cargo().args(["bench", "--package", "kassa-sign", "--bench", "sign", "--", "--noplot"]))?;
    let mean_ns = |group: &str, id: &str| -> Result<f64> {
        let path: PathBuf = ["target/criterion", group, id, "new/estimates.json"].iter().collect();
        let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        v["mean"]["point_estimate"].as_f64().ok_or_else(|| format!("no mean in {}", path.display()))
    };
    let hmac = mean_ns("return_url", "bare_hmac_sha256_same_bytes")?;
    let verify = mean_ns("return_url", "verify_query")?;
    let per_sec = |ns: f64| (1e9 / ns).round();
    Ok(json!({
        "return_url_verify_ns": verify, "bare_hmac_ns": hmac, "ratio": verify / hmac, "budget_ratio": 2.0,
        "rsa2048_sign_per_sec": per_sec(mean_ns("order_details_rsa2048", "sign")?),
        "rsa2048_verify_per_sec": per_sec(mean_ns("order_details_rsa2048", "verify")?),
        "paytm_generate_per_sec": per_sec(mean_ns("paytm", "generate")?),
        "paytm_verify_per_sec": per_sec(mean_ns("paytm", "verify")?),
    }))
}

// ---------------------------------------------------------------- report

fn markdown(r: &Value) -> String {
    let n = |v: &Value| v.as_f64().map_or("–".into(), |x| format!("{x:.0}"));
    let f2 = |v: &Value| v.as_f64().map_or("–".into(), |x| format!("{x:.2}"));
    let ok = |pass: bool| if pass { "within" } else { "**over**" };
    let b = &r["bundle"];
    let mut s = String::from(
        "# Kassa benchmark report\n\nWritten by `cargo xtask bench` (every figure from one run on this machine; \
         baselines measured in the same run). Raw figures: `bench/report.json`.\n\n## Bundle\n\n\
         | file | what | raw B | gzip -9 B | brotli -q 11 B |\n|---|---|---:|---:|---:|\n",
    );
    for f in b["files"].as_array().into_iter().flatten() {
        s += &format!(
            "| `{}` | {} | {} | {} | {} |\n",
            f["file"].as_str().unwrap_or(""),
            f["what"].as_str().unwrap_or(""),
            n(&f["raw"]),
            n(&f["gzip"]),
            n(&f["brotli"])
        );
    }
    let cp = &b["critical_path"];
    let cp_gz = cp["gzip"].as_f64().unwrap_or(f64::MAX);
    s += &format!(
        "\nPayment page critical path (wasm + JS glue + CSS): **{} B gzip** ({} B brotli), budget 120,000 B: {}. \
         For context, the Hyperswitch web SDK's published critical path is {} KB gzip (juspay/hyperswitch-web issue 1776), {:.1}× ours.\n\n\
         Script-tag loader: **{} B gzip**, budget 3,000 B: {}.\n\n",
        n(&cp["gzip"]),
        n(&cp["brotli"]),
        ok(cp_gz <= 120_000.0),
        HYPERSWITCH_CRITICAL_PATH_GZIP_KB,
        HYPERSWITCH_CRITICAL_PATH_GZIP_KB * 1000.0 / cp_gz,
        n(&b["loader"]["gzip"]),
        ok(b["loader"]["gzip"].as_f64().unwrap_or(f64::MAX) <= 3000.0),
    );
    let p = &r["page_ready"];
    s += &format!(
        "## Payment page ready\n\nNavigation → pay button enabled, headless Chromium on loopback, fresh context per load, {} loads each, alternating.\n\n\
         | page | median ms | p95 ms |\n|---|---:|---:|\n| payment page (wasm) | {} | {} |\n| plain HTML form, same server (baseline) | {} | {} |\n\n\
         Ratio: median **{}×**, p95 {}× the plain form; budget 1.5×: {}.\n\n",
        n(&p["payment_page"]["loads"]),
        f2(&p["payment_page"]["median_ms"]),
        f2(&p["payment_page"]["p95_ms"]),
        f2(&p["plain_form"]["median_ms"]),
        f2(&p["plain_form"]["p95_ms"]),
        f2(&p["ratio_median"]),
        f2(&p["ratio_p95"]),
        ok(p["ratio_median"].as_f64().unwrap_or(f64::MAX) <= 1.5),
    );
    let ph = &p["phases_median_ms"];
    s += &format!(
        "Where the payment page's time goes (median ms after navigation): HTML received {}, wasm received {}, boot script running {} \
         (module scripts wait for the parsed document and the stylesheet), `init()` (wasm compile and instantiate) done {}, \
         `mount()` done {}; the pay button is enabled within the mount.\n\n",
        f2(&ph["html"]),
        f2(&ph["wasm"]),
        f2(&ph["boot"]),
        f2(&ph["init"]),
        f2(&ph["mount"]),
    );
    let g = &r["gateways"];
    s += "## A payment through a gateway\n\nA card payment over HTTP, as the shopper's browser makes it (POST /txns, to the \
          authentication page, the OTP, and for Razorpay and Paytm their signed callback, which Kassa verifies and confirms with the \
          gateway's status API), up to the signed redirect to the return URL; the gateways are Kassa's sandboxes of their APIs on the same \
          server (loopback), 30 sequential payments each.\n\n| gateway | median ms | p95 ms | added to the built-in sandbox (median) |\n|---|---:|---:|---:|\n";
    s += &format!("| built-in sandbox (baseline) | {} | {} | – |\n", f2(&g["sandbox"]["median_ms"]), f2(&g["sandbox"]["p95_ms"]));
    for (label, k) in [("Razorpay", "razorpay"), ("Paytm", "paytm")] {
        s += &format!(
            "| {label} | {} | {} | +{} ms ({}×) |\n",
            f2(&g[k]["median_ms"]),
            f2(&g[k]["p95_ms"]),
            f2(&g[k]["added_ms_median"]),
            f2(&g[k]["ratio_median"])
        );
    }
    s += "\n";
    s += &format!(
        "## Server\n\nwrk (Debian's), 2 threads, {} s per run, on the same 2 cores as the server; the production profile (`--profile server`). \
         Saturation: 32 connections. \"≈1,000 req/s\": 10 connections pausing 9 ms between requests (closed loop: the rate reached is in the table).\n\n",
        secs()
    );
    for (name, key) in [("SQLite (WAL, synchronous=FULL)", "sqlite"), ("PostgreSQL 15", "postgres")] {
        let v = &r["server"][key];
        if let Some(why) = v["skipped"].as_str() {
            s += &format!("### {name}\n\nSkipped: {why}\n\n");
            continue;
        }
        s += &format!("### {name}\n\n| route | req/s | share of /health | p50 µs | p99 µs | non-2xx |\n|---|---:|---:|---:|---:|---:|\n");
        for (label, k, share) in [
            ("`GET /health` (ceiling)", "health", None),
            ("`POST /orders`, saturation", "create_saturation", Some("create_saturation_share_of_health")),
            ("`POST /orders`, ≈1,000 req/s", "create_about_1000_rps", None),
            ("`GET /orders/:id`, saturation", "status_saturation", Some("status_share_of_health")),
            ("`GET /orders/:id`, ≈1,000 req/s", "status_about_1000_rps", None),
            ("`POST /txns`, saturation", "txn_saturation", Some("txn_share_of_health")),
            ("`POST /txns`, ≈1,000 req/s", "txn_about_1000_rps", None),
        ] {
            let w = &v[k];
            let sh = share.map_or("–".into(), |sk| format!("{:.0} %", v[sk].as_f64().unwrap_or(0.0) * 100.0));
            s += &format!("| {label} | {} | {sh} | {} | {} | {} |\n", n(&w["rps"]), n(&w["p50_us"]), n(&w["p99_us"]), n(&w["non_2xx"]));
        }
        let share = v["create_saturation_share_of_health"].as_f64().unwrap_or(0.0);
        let p99 = v["create_about_1000_rps"]["p99_us"].as_f64().unwrap_or(f64::MAX);
        s += &format!(
            "\n`POST /orders` at saturation is {:.0} % of `/health` (budget ≥ 50 %: {}); p99 at ≈1,000 req/s {} µs (budget ≤ 10,000 µs: {}). Peak RSS {} KiB.\n\n",
            share * 100.0,
            ok(share >= 0.5),
            n(&v["create_about_1000_rps"]["p99_us"]),
            ok(p99 <= 10_000.0),
            n(&v["peak_rss_kib"]),
        );
    }
    let fs = r["server"]["sqlite_fsync"]["fsyncs_per_sec"].as_f64();
    let created = r["server"]["sqlite"]["create_saturation"]["rps"].as_f64();
    if let (Some(fs), Some(created)) = (fs, created) {
        s += &format!(
            "**Durability ceiling.** This disk does **{fs:.0} fsyncs a second** (4 KiB written and `fdatasync`ed, for 2 s, beside the \
             database). Each acknowledged order waits for its commit's fsync, so one order per commit could not pass {fs:.0} orders a \
             second; `POST /orders` on SQLite reached {created:.0} req/s, {:.1} orders per fsync, by committing the orders that arrive \
             together in one transaction.\n\n",
            created / fs.max(1.0),
        );
    }
    let w = &r["webhook_isolation"];
    s += &format!(
        "## Webhooks while one receiver black-holes every request\n\nTwo merchants receive ORDER_CREATED; one's receiver accepts \
         connections and never answers. Orders are created for each, alternately, for {} s ({} for the other merchant); the delay \
         runs from its order's acknowledgement to its webhook arriving (the worker looks for due events every 250 ms, and again whenever a delivery ends).\n\n\
         | delivered | missing after 10 s | p50 ms | p99 ms | max ms |\n|---:|---:|---:|---:|---:|\n| {} | {} | {} | {} | {} |\n\n\
         p99 budget 2,000 ms (SPEC §6): {}.\n\n",
        n(&w["seconds"]),
        n(&w["orders_per_merchant"]),
        n(&w["delivered"]),
        n(&w["missing_after_10s"]),
        f2(&w["delay_ms_p50"]),
        f2(&w["delay_ms_p99"]),
        f2(&w["delay_ms_max"]),
        ok(w["delay_ms_p99"].as_f64().unwrap_or(f64::MAX) <= 2000.0 && w["missing_after_10s"].as_u64() == Some(0)),
    );
    for (name, key) in [("SQLite", "sqlite"), ("PostgreSQL", "postgres")] {
        let sc = &r["scaling"][key];
        if let Some(why) = sc["skipped"].as_str() {
            s += &format!("## Scaling ({name})\n\nSkipped: {why}\n\n");
            continue;
        }
        s += &format!(
            "## Scaling ({name})\n\nThe same server, with the orders table seeded to each size; 32 connections at saturation; \
             page ready: median of 10 loads, beside the plain form's.\n\n\
             | orders in the database | `GET /orders/:id` req/s | p99 µs | `POST /orders` req/s | p99 µs | page ready ms | plain form ms |\n\
             |---:|---:|---:|---:|---:|---:|---:|\n"
        );
        for row in sc["orders"].as_array().into_iter().flatten() {
            s += &format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                n(&row["orders"]),
                n(&row["status_saturation"]["rps"]),
                n(&row["status_saturation"]["p99_us"]),
                n(&row["create_saturation"]["rps"]),
                n(&row["create_saturation"]["p99_us"]),
                f2(&row["page_ready"]["payment_page"]["median_ms"]),
                f2(&row["page_ready"]["plain_form"]["median_ms"]),
            );
        }
        s += "\n| order payload (udf1–10 and description, characters each) | body ≈ B | `POST /orders` req/s | p99 µs |\n|---:|---:|---:|---:|\n";
        for row in sc["payload"].as_array().into_iter().flatten() {
            s += &format!(
                "| {} | {} | {} | {} |\n",
                n(&row["field_chars"]),
                n(&row["body_bytes_about"]),
                n(&row["create_saturation"]["rps"]),
                n(&row["create_saturation"]["p99_us"]),
            );
        }
        s += "\n";
    }
    let g = &r["signing"];
    s += &format!(
        "## Signing (criterion, `cargo bench -p kassa-sign --bench sign`)\n\n\
         | figure | value |\n|---|---:|\n| return-URL verification | {} ns |\n| one bare HMAC-SHA256 over the same bytes (baseline) | {} ns |\n\
         | ratio (budget ≤ 2×: {}) | **{}×** |\n| RSA-2048 `orderDetails` sign | {} /s |\n| RSA-2048 `orderDetails` verify | {} /s |\n\
         | Paytm checksum generate | {} /s |\n| Paytm checksum verify | {} /s |\n",
        n(&g["return_url_verify_ns"]),
        n(&g["bare_hmac_ns"]),
        ok(g["ratio"].as_f64().unwrap_or(f64::MAX) <= 2.0),
        f2(&g["ratio"]),
        n(&g["rsa2048_sign_per_sec"]),
        n(&g["rsa2048_verify_per_sec"]),
        n(&g["paytm_generate_per_sec"]),
        n(&g["paytm_verify_per_sec"]),
    );
    s += "\n## Not measured yet\n\nAn exact fixed-rate (open-loop) load: wrk holds a rate only approximately, by pausing each \
          connection between requests, and the table gives the rate it reached. \
          The reliability suite is in `cargo xtask test` and `cargo xtask soak` (README, Benchmarks).\n";
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_read_off_the_files_the_server_sends_when_the_build_wrote_them() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("w.js");
        let text = "export const x = 1;\n".repeat(200);
        std::fs::write(&file, &text).unwrap();
        std::fs::write(dir.path().join("w.js.br"), [0u8; 7]).unwrap();
        let path = file.to_str().unwrap();
        assert_eq!(sent_size(path, text.as_bytes(), "br").unwrap(), 7, "the .br beside it");
        let gz = sent_size(path, text.as_bytes(), "gz").unwrap();
        assert_eq!(gz, crate::gzip_best(text.as_bytes()).unwrap().len(), "no .gz: compressed here");
        assert!(gz < text.len() / 10);
    }
}
