//! Kassa build helper.
//!
//! ```text
//! cargo xtask demo            build the widget, run server + demo shop on 127.0.0.1
//! cargo xtask test            every test: native, widget in headless Chromium, end to end
//! cargo xtask bench           every budget of SPEC §6 with its baseline → bench/REPORT.md, bench/report.json
//! cargo xtask soak [--secs N] fuzz every cargo-fuzz target of crates/fuzz for N s (default 60)
//! cargo xtask build-widget    release widget into pkg/ (wasm-bindgen --target web, wasm-opt -Oz)
//! cargo xtask setup           install what the others need, and nothing else
//! ```
//!
//! On a machine with only the Rust toolchain, `demo` and `test` install what
//! they need (wasm32 target, wasm-bindgen-cli at the Cargo.lock version,
//! Debian's chromium, chromium-driver and binaryen, npm packages) and skip
//! whatever is already there.

mod bench;
mod soak;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = root();
    if let Err(e) = std::env::set_current_dir(&root) {
        eprintln!("xtask: cannot enter {}: {e}", root.display());
        return ExitCode::FAILURE;
    }
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(&args[1..]),
        Some("test") => test(),
        Some("build-widget") => setup(Needs::WIDGET).and_then(|()| build_widget()),
        Some("setup") => setup(Needs::ALL),
        Some("bench") if args.get(1).map(String::as_str) == Some("dashboard") => bench::bench_dashboard(),
        Some("bench") => bench::bench(),
        Some("soak") => soak::soak(&args[1..]),
        Some("deny") => advisory_db().ok_or_else(|| "no RustSec snapshot: set KASSA_ADVISORY_DB".to_string()).and_then(|db| deny(&db)),
        _ => {
            Err("usage: cargo xtask <demo [--listen ADDR] [--shop-listen ADDR] | test | bench [dashboard] | soak [--secs N] [--target NAME] | build-widget | setup | deny>"
                .into())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

fn step(msg: &str) {
    eprintln!("\n==> {msg}");
}

fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{cmd:?} failed ({status})")) }
}

/// Runs a test command, echoing its stdout, and counts the tests its runner
/// reports (cargo/wasm-bindgen-test `test result:` lines, node `# pass`/`# fail`).
///
/// The command runs in a process group of its own. It fails if it is still
/// running after `limit`; then, and also when it ends, whatever it left in
/// its group is killed: a server a failing test did not stop would otherwise
/// keep the output pipe open, and this would wait for it forever.
fn run_counted(cmd: &mut Command, limit: Duration, counts: &mut (u64, u64)) -> Result<()> {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::CommandExt;
    use std::sync::Mutex;
    let mut child = cmd.stdout(Stdio::piped()).process_group(0).spawn().map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    RUNNING_GROUP.store(child.id(), Ordering::SeqCst);
    let tally = Arc::new(Mutex::new((0u64, 0u64)));
    let reader = child.stdout.take().map(|out| {
        let tally = tally.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(std::result::Result::ok) {
                println!("{line}");
                let (passed, failed) = count_line(&line);
                let mut t = tally.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                t.0 += passed;
                t.1 += failed;
            }
        })
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if started.elapsed() > limit => {
                kill_group(child.id());
                let _ = child.wait();
                break Err(format!("{cmd:?} was still running after {} s: stopped", limit.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(200)),
            Err(e) => break Err(e.to_string()),
        }
    };
    kill_group(child.id());
    RUNNING_GROUP.store(0, Ordering::SeqCst);
    // A leftover that left the group could still hold the pipe: wait a little, then go on without it.
    if let Some(reader) = reader {
        let waited = Instant::now();
        while !reader.is_finished() && waited.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(50));
        }
        if reader.is_finished() {
            let _ = reader.join();
        } else {
            eprintln!("xtask: something {cmd:?} started still holds its output open; not waiting for it");
        }
    }
    let t = *tally.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    counts.0 += t.0;
    counts.1 += t.1;
    let status = status?;
    if status.success() { Ok(()) } else { Err(format!("{cmd:?} failed ({status})")) }
}

/// SIGKILL to every process of the group `group`.
fn kill_group(group: u32) {
    let _ = Command::new("kill").args(["-KILL", "--", &format!("-{group}")]).stderr(Stdio::null()).status();
}

/// The process group run_counted is running, for the Ctrl-C handler (0: none).
static RUNNING_GROUP: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// The (passed, failed) counts a runner's summary line reports, if it is one.
fn count_line(line: &str) -> (u64, u64) {
    let t = line.trim_start_matches(|c: char| !c.is_ascii_alphanumeric() && c != '#').trim();
    let num = |s: &str| s.split(|c: char| !c.is_ascii_digit()).find(|p| !p.is_empty()).and_then(|n| n.parse::<u64>().ok());
    let mut counts = (0, 0);
    if let Some(rest) = t.strip_prefix("test result: ") {
        for part in rest.split(';') {
            let part = part.trim().trim_start_matches("ok. ").trim_start_matches("FAILED. ");
            if part.ends_with(" passed") {
                counts.0 += num(part).unwrap_or(0);
            } else if part.ends_with(" failed") {
                counts.1 += num(part).unwrap_or(0);
            }
        }
    } else if let Some(n) = t.strip_prefix("# pass ").and_then(num) {
        counts.0 += n;
    } else if let Some(n) = t.strip_prefix("# fail ").and_then(num) {
        counts.1 += n;
    }
    counts
}

fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.stderr(Stdio::null()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

// ---------------------------------------------------------------- setup

struct Needs {
    wasm: bool,
    browser: bool,
    npm: bool,
}

impl Needs {
    const WIDGET: Needs = Needs { wasm: true, browser: false, npm: false };
    const ALL: Needs = Needs { wasm: true, browser: true, npm: true };
}

fn setup(needs: Needs) -> Result<()> {
    if needs.wasm {
        ensure_wasm_target()?;
        ensure_wasm_bindgen()?;
    }
    if needs.browser && (!Path::new("/usr/bin/chromium").exists() || !Path::new("/usr/bin/chromedriver").exists()) {
        apt_install(&["chromium", "chromium-driver"])?;
    }
    // The Indic scripts of the page's languages, as shoppers' devices have them,
    // so the browser tests and their screenshots render them (not tofu).
    if needs.browser && !Path::new("/usr/share/fonts/truetype/noto/NotoSansDevanagari-Regular.ttf").exists() {
        apt_install(&["fonts-noto-core"])?;
    }
    if needs.npm {
        ensure_npm_packages()?;
        ensure_python_packages()?;
    }
    Ok(())
}

/// The cargo-deny release the dependency check runs (its `--offline` recipe: ../shared/advisory-db/OFFLINE.md).
const CARGO_DENY: &str = "0.20.2";

/// The RustSec advisory database snapshot: `KASSA_ADVISORY_DB`, else `../shared/advisory-db` beside the
/// checkout, else the build machines' `/work/shared/advisory-db`.
fn advisory_db() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("KASSA_ADVISORY_DB").map(PathBuf::from),
        Some(root().join("../shared/advisory-db")),
        // Where the build machines keep it, for a checkout elsewhere (a clean clone under /tmp).
        Some(PathBuf::from("/work/shared/advisory-db")),
    ];
    candidates.into_iter().flatten().find(|p| p.join("SNAPSHOT").is_file() && p.join("crates").is_dir())
}

/// `cargo deny check` against deny.toml, offline: cargo-deny (built once
/// into target/xtask-deny), the snapshot as the git repository cargo-deny
/// reads (committed at the snapshot's date, so the database's age is true),
/// and the dependency graph's metadata made beforehand.
fn deny(snapshot: &Path) -> Result<()> {
    let dir = root().join("target/xtask-deny");
    let bin = dir.join("bin/cargo-deny");
    if !output(Command::new(&bin).arg("--version")).is_some_and(|v| v.contains(CARGO_DENY)) {
        step(&format!("building cargo-deny {CARGO_DENY} (once)"));
        run(cargo().args(["install", "cargo-deny", "--locked", "--version", CARGO_DENY, "--root"]).arg(&dir))?;
    }
    // The directory name cargo-deny derives from the default database URL.
    let repo = dir.join("db/advisory-db-3157b0e258782691");
    let stamp = std::fs::read_to_string(snapshot.join("SNAPSHOT")).map_err(|e| format!("{}: {e}", snapshot.display()))?;
    if std::fs::read_to_string(repo.join("SNAPSHOT")).ok().as_deref() != Some(stamp.as_str()) || !repo.join(".git").is_dir() {
        let _ = std::fs::remove_dir_all(&repo);
        std::fs::create_dir_all(&repo).map_err(|e| e.to_string())?;
        run(Command::new("cp").arg("-r").arg(snapshot.join(".")).arg(&repo))?;
        let date = stamp.split_whitespace().nth(1).ok_or("SNAPSHOT: no date")?.to_string();
        let git = |args: &[&str]| {
            let mut c = Command::new("git");
            c.args(["-c", "user.name=xtask", "-c", "user.email=xtask@localhost", "-c", "commit.gpgsign=false"])
                .args(args)
                .current_dir(&repo)
                .env("GIT_AUTHOR_DATE", &date)
                .env("GIT_COMMITTER_DATE", &date);
            c
        };
        run(git(&["init", "-q"]).arg("."))?;
        run(&mut git(&["add", "-A"]))?;
        run(&mut git(&["commit", "-q", "-m", "RustSec advisory database snapshot"]))?;
    }
    let metadata =
        output(cargo().args(["metadata", "--format-version", "1", "--locked"]).current_dir(root())).ok_or("cargo metadata failed")?;
    let metadata_path = dir.join("metadata.json");
    std::fs::write(&metadata_path, metadata).map_err(|e| e.to_string())?;
    run(Command::new(&bin).args(["--offline", "--metadata-path"]).arg(&metadata_path).arg("check").current_dir(root()))
}

/// The reference implementations the signing crate is cross-checked against
/// (crates/sign/tests/crosscheck.rs), pinned, in a venv under target/.
const PYTHON_PACKAGES: &[&str] = &["razorpay==2.0.1", "paytmchecksum==1.7.0", "pycryptodome==4.4.0"];

fn python_venv() -> PathBuf {
    root().join("target/xtask-python")
}

fn ensure_python_packages() -> Result<()> {
    let venv = python_venv();
    let stamp = venv.join("kassa-packages.txt");
    let want = PYTHON_PACKAGES.join("\n");
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s == want) {
        return Ok(());
    }
    step("installing the Python reference implementations for the signing cross-checks");
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(venv.join("bin/pip")).args(["install", "--quiet", "--disable-pip-version-check"]).args(PYTHON_PACKAGES))?;
    std::fs::write(&stamp, want).map_err(|e| e.to_string())
}

fn ensure_wasm_target() -> Result<()> {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if installed.lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        return Ok(());
    }
    step("installing the wasm32-unknown-unknown target");
    run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// The wasm-bindgen version Cargo.lock pins; the CLI must match it exactly.
fn locked_wasm_bindgen() -> Result<String> {
    let lock = std::fs::read_to_string("Cargo.lock").map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\""
            && let Some(v) = lines.next().and_then(|l| l.trim().strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_string());
        }
    }
    Err("wasm-bindgen is not in Cargo.lock".into())
}

fn ensure_wasm_bindgen() -> Result<()> {
    let want = locked_wasm_bindgen()?;
    let have = output(Command::new("wasm-bindgen").arg("--version")).unwrap_or_default();
    if have.split_whitespace().nth(1) == Some(want.as_str()) {
        return Ok(());
    }
    step(&format!("installing wasm-bindgen-cli {want} (the version in Cargo.lock)"));
    let locked = run(cargo().args(["install", "wasm-bindgen-cli", "--version", &want, "--locked"]));
    if locked.is_err() {
        // The CLI's own lock file can name a yanked crate; resolve afresh then.
        eprintln!("xtask: --locked install failed, retrying with a fresh resolution");
        run(cargo().args(["install", "wasm-bindgen-cli", "--version", &want]))?;
    }
    Ok(())
}

fn apt_install(pkgs: &[&str]) -> Result<()> {
    step(&format!("installing Debian packages: {}", pkgs.join(" ")));
    let sudo: &[&str] = if output(Command::new("id").arg("-u")).is_some_and(|u| u.trim() == "0") { &[] } else { &["sudo"] };
    let apt = |args: &[&str]| {
        let mut c = Command::new(sudo.first().copied().unwrap_or("apt-get"));
        if !sudo.is_empty() {
            c.arg("apt-get");
        }
        c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    let update_stamp = Path::new("/var/lib/apt/lists/partial");
    let lists_fresh = std::fs::read_dir("/var/lib/apt/lists").map(|d| d.count() > 3).unwrap_or(false) && update_stamp.exists();
    if !lists_fresh || run(&mut apt(&[&["install", "-y", "-q"], pkgs].concat())).is_err() {
        run(&mut apt(&["update", "-q"]))?;
        run(&mut apt(&[&["install", "-y", "-q"], pkgs].concat()))?;
    }
    Ok(())
}

/// The PostgreSQL server the server's integration tests also run against:
/// `KASSA_TEST_POSTGRES` if set, else Debian's PostgreSQL on 127.0.0.1:5432,
/// installed, started and given a `kassa` role here. `Ok(None)` with the
/// reason when it cannot be had (no root, no apt): the caller says it skipped.
fn ensure_postgres() -> Result<std::result::Result<String, String>> {
    if let Ok(url) = std::env::var("KASSA_TEST_POSTGRES") {
        return Ok(Ok(url));
    }
    let root_user = output(Command::new("id").arg("-u")).is_some_and(|u| u.trim() == "0");
    if !root_user {
        return Ok(Err("not root, so Debian's PostgreSQL cannot be installed and started here; set KASSA_TEST_POSTGRES=postgres://USER:PASS@HOST/DB (a role that may CREATE DATABASE)".into()));
    }
    if !Path::new("/usr/bin/pg_ctlcluster").exists() || !Path::new("/usr/lib/postgresql").exists() {
        apt_install(&["postgresql"])?;
    }
    let clusters = output(Command::new("pg_lsclusters").arg("-h")).unwrap_or_default();
    let Some(line) = clusters.lines().find(|l| l.split_whitespace().nth(1) == Some("main")) else {
        return Ok(Err(format!("no PostgreSQL cluster named main (pg_lsclusters: {clusters:?})")));
    };
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.get(3) != Some(&"online") {
        step(&format!("starting PostgreSQL {} (cluster main)", fields[0]));
        run(Command::new("pg_ctlcluster").args(["--skip-systemctl-redirect", fields[0], "main", "start"]))?;
    }
    let port = fields.get(2).copied().unwrap_or("5432");
    let psql = |sql: &str| -> Result<String> {
        let out = Command::new("runuser")
            .args(["-u", "postgres", "--", "psql", "-p", port, "-v", "ON_ERROR_STOP=1", "-tAc", sql])
            .current_dir("/")
            .output()
            .map_err(|e| format!("psql: {e}"))?;
        if !out.status.success() {
            return Err(format!("psql {sql:?}: {}", String::from_utf8_lossy(&out.stderr)));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    psql(
        "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kassa') THEN CREATE ROLE kassa LOGIN CREATEDB PASSWORD 'kassa'; END IF; END$$",
    )?;
    pg_tls(&psql)?;
    // Each test makes a database of its own; drop those of earlier runs.
    for db in psql("SELECT datname FROM pg_database WHERE datname LIKE 'kassa\\_t\\_%'")?.lines().filter(|l| !l.is_empty()) {
        psql(&format!("DROP DATABASE IF EXISTS \"{db}\""))?;
    }
    Ok(Ok(format!("postgres://kassa:kassa@127.0.0.1:{port}/postgres")))
}

/// Where the test PostgreSQL's TLS certificates are: a CA (`ca.pem`) and a server certificate for localhost.
const PG_TLS_DIR: &str = "/var/lib/postgresql/kassa-tls";

/// Serves PostgreSQL over TLS with a certificate for `localhost` from a CA of
/// its own (made once with openssl), so `sslmode=verify-full` can be tested.
fn pg_tls(psql: &dyn Fn(&str) -> Result<String>) -> Result<()> {
    let dir = Path::new(PG_TLS_DIR);
    if !dir.join("server.pem").exists() {
        step("PostgreSQL over TLS: a test CA and a server certificate for localhost");
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let ossl = |args: &[&str]| run(Command::new("openssl").args(args).current_dir(dir));
        ossl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "3650",
            "-subj",
            "/CN=Kassa test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ])?;
        ossl(&["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr"])?;
        std::fs::write(
            dir.join("server.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
        )
        .map_err(|e| e.to_string())?;
        ossl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "3650",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ])?;
        run(Command::new("chown").args(["-R", "postgres:postgres", PG_TLS_DIR]))?;
        run(Command::new("chmod").args(["0600", &format!("{PG_TLS_DIR}/server.key"), &format!("{PG_TLS_DIR}/ca.key")]))?;
        run(Command::new("chmod").args(["0644", &format!("{PG_TLS_DIR}/ca.pem")]))?;
    }
    psql(&format!("ALTER SYSTEM SET ssl_cert_file = '{PG_TLS_DIR}/server.pem'"))?;
    psql(&format!("ALTER SYSTEM SET ssl_key_file = '{PG_TLS_DIR}/server.key'"))?;
    psql("ALTER SYSTEM SET ssl = on")?;
    psql("SELECT pg_reload_conf()")?;
    Ok(())
}

fn ensure_npm_packages() -> Result<()> {
    ensure_npm_dir(Path::new("tests/e2e"), "the end-to-end tests")?;
    ensure_npm_dir(Path::new("xtask/tools"), "the widget build (wasm-opt, esbuild)")
}

/// `npm ci` in `dir` unless its node_modules was installed from this very
/// lockfile (a copy of it is kept as the stamp; npm's own hidden lockfile is
/// also rewritten by `npm install --package-lock-only`, so it cannot tell).
fn ensure_npm_dir(dir: &Path, what: &str) -> Result<()> {
    let stamp = dir.join("node_modules/.kassa-installed-from.json");
    let lock = std::fs::read(dir.join("package-lock.json")).map_err(|e| format!("cannot read {}/package-lock.json: {e}", dir.display()))?;
    if std::fs::read(&stamp).is_ok_and(|s| s == lock) {
        return Ok(());
    }
    step(&format!("installing npm packages for {what}"));
    run(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(dir))?;
    std::fs::write(&stamp, lock).map_err(|e| e.to_string())
}

// ---------------------------------------------------------------- build

fn build_widget() -> Result<()> {
    ensure_npm_dir(Path::new("xtask/tools"), "the widget build (wasm-opt, esbuild)")?;
    step("building the widget (release, size-optimised)");
    // Panic locations name source files; shorter paths are fewer bytes in the bundle.
    let mut rustflags = std::env::var("RUSTFLAGS").unwrap_or_default();
    if let Some(home) =
        std::env::var_os("CARGO_HOME").map(PathBuf::from).or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
    {
        rustflags = format!("{rustflags} --remap-path-prefix={}=/cargo", home.join("registry/src").display()).trim().to_string();
    }
    run(cargo()
        .args(["build", "--release", "--package", "kassa-widget", "--target", "wasm32-unknown-unknown"])
        .env("RUSTFLAGS", &rustflags))?;
    let wasm = Path::new("target/wasm32-unknown-unknown/release/kassa_widget.wasm");
    std::fs::create_dir_all("pkg").map_err(|e| e.to_string())?;
    run(Command::new("wasm-bindgen").args(["--target", "web", "--out-dir", "pkg", "--out-name", "kassa_widget"]).arg(wasm))?;
    let bg = Path::new("pkg/kassa_widget_bg.wasm");
    // binaryen from npm (Debian's is too old for rustc's reference types), after wasm-bindgen.
    let tools = Path::new("xtask/tools/node_modules/.bin");
    // It also shortens the import, export and module names (wasm-bindgen's are
    // long and hashed) and prints the renames, which the JS glue then follows.
    let features = ["--enable-reference-types", "--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext"];
    let features = [&features[..], &["--enable-mutable-globals", "--enable-multivalue"]].concat();
    run(Command::new(tools.join("wasm-opt"))
        .args(["-Oz", "--converge", "--low-memory-unused", "--zero-filled-memory", "--strip-debug", "--strip-producers"])
        .args(&features)
        .arg("-o")
        .arg(bg)
        .arg(bg))?;
    // Alone: under --converge the pass would run again and print a second map.
    let out = Command::new(tools.join("wasm-opt"))
        .arg("--minify-imports-and-exports-and-modules")
        .args(&features)
        .arg("-o")
        .arg(bg)
        .arg(bg)
        .output()
        .map_err(|e| format!("cannot run wasm-opt: {e}"))?;
    if !out.status.success() {
        return Err(format!("wasm-opt failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    rename_in_glue(&String::from_utf8_lossy(&out.stdout))?;
    run(Command::new(tools.join("esbuild")).args([
        "pkg/kassa_widget.js",
        "--minify",
        "--format=esm",
        "--allow-overwrite",
        "--log-level=warning",
        "--outfile=pkg/kassa_widget.js",
    ]))?;
    run(Command::new(tools.join("esbuild")).args(["src/kassa.css", "--minify", "--log-level=warning", "--outfile=pkg/kassa.css"]))?;
    // The script-tag loader (www/kassa.js with the bridge), and the npm package around the widget (www/npm/).
    run(Command::new(tools.join("esbuild")).args([
        "www/kassa.js",
        "--bundle",
        "--minify",
        "--format=iife",
        "--target=es2020",
        "--log-level=warning",
        "--outfile=pkg/kassa.js",
    ]))?;
    for file in ["www/bridge.js", "www/npm/index.js", "www/npm/index.d.ts", "www/npm/package.json", "www/npm/README.md"] {
        let to = Path::new("pkg").join(Path::new(file).file_name().unwrap_or_default());
        std::fs::copy(file, to).map_err(|e| format!("cannot copy {file}: {e}"))?;
    }
    // Languages other than English are fetched by the page when it needs them.
    std::fs::create_dir_all("pkg/i18n").map_err(|e| e.to_string())?;
    for entry in std::fs::read_dir("i18n").map_err(|e| format!("cannot read i18n/: {e}"))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|x| x == "json") && path.file_stem().is_some_and(|n| n != "english") {
            let to = Path::new("pkg/i18n").join(path.file_name().unwrap_or_default());
            std::fs::copy(&path, &to).map_err(|e| format!("cannot copy {}: {e}", path.display()))?;
        }
    }
    precompress_pkg()?;
    let size = std::fs::metadata(bg).map(|m| m.len()).unwrap_or(0);
    eprintln!("widget: pkg/kassa_widget_bg.wasm {size} bytes");
    build_dashboard(&rustflags)
}

/// The merchant dashboard (crates/dashboard, Leptos CSR) into pkg/dashboard/,
/// which `kassa serve` serves under /assets/dashboard/ (not in the npm package).
fn build_dashboard(rustflags: &str) -> Result<()> {
    step("building the dashboard (release)");
    run(cargo()
        .args(["build", "--release", "--package", "kassa-dashboard", "--target", "wasm32-unknown-unknown"])
        .env("RUSTFLAGS", rustflags))?;
    let out = Path::new("pkg/dashboard");
    std::fs::create_dir_all(out).map_err(|e| e.to_string())?;
    let wasm = Path::new("target/wasm32-unknown-unknown/release/kassa_dashboard.wasm");
    run(Command::new("wasm-bindgen").args(["--target", "web", "--out-dir", "pkg/dashboard", "--out-name", "kassa_dashboard"]).arg(wasm))?;
    let bg = out.join("kassa_dashboard_bg.wasm");
    let tools = Path::new("xtask/tools/node_modules/.bin");
    run(Command::new(tools.join("wasm-opt"))
        .args(["-Oz", "--strip-debug", "--strip-producers", "--enable-reference-types", "--enable-bulk-memory"])
        .args(["--enable-nontrapping-float-to-int", "--enable-sign-ext", "--enable-mutable-globals", "--enable-multivalue"])
        .arg("-o")
        .arg(&bg)
        .arg(&bg))?;
    run(Command::new(tools.join("esbuild")).args([
        "crates/dashboard/dashboard.css",
        "--minify",
        "--log-level=warning",
        "--outfile=pkg/dashboard/dashboard.css",
    ]))?;
    // The shell's one script (the CSP allows no inline script): load the module, which mounts the app.
    std::fs::write(out.join("boot.js"), "import init from './kassa_dashboard.js';\ninit();\n").map_err(|e| e.to_string())?;
    for name in ["kassa_dashboard_bg.wasm", "kassa_dashboard.js", "dashboard.css"] {
        let path = out.join(name);
        let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for (ext, packed) in [("br", brotli_best(&bytes)?), ("gz", gzip_best(&bytes)?)] {
            let to = out.join(format!("{name}.{ext}"));
            std::fs::write(&to, packed).map_err(|e| format!("cannot write {}: {e}", to.display()))?;
        }
    }
    let size = std::fs::metadata(&bg).map(|m| m.len()).unwrap_or(0);
    eprintln!("dashboard: pkg/dashboard/kassa_dashboard_bg.wasm {size} bytes");
    Ok(())
}

/// Writes `.br` (quality 11) and `.gz` (level 9) beside the payment page's
/// files in pkg/, which `kassa serve` sends to browsers that accept them
/// (tower-http's precompressed ServeDir). Not in the npm package (`files`).
fn precompress_pkg() -> Result<()> {
    for name in ["kassa_widget_bg.wasm", "kassa_widget.js", "kassa.css", "kassa.js"] {
        let path = Path::new("pkg").join(name);
        let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for (ext, packed) in [("br", brotli_best(&bytes)?), ("gz", gzip_best(&bytes)?)] {
            let to = Path::new("pkg").join(format!("{name}.{ext}"));
            std::fs::write(&to, packed).map_err(|e| format!("cannot write {}: {e}", to.display()))?;
        }
    }
    Ok(())
}

/// gzip at its best compression.
fn gzip_best(bytes: &[u8]) -> Result<Vec<u8>> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).map_err(|e| e.to_string())?;
    enc.finish().map_err(|e| e.to_string())
}

/// brotli at quality 11, the 4 MiB window.
fn brotli_best(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).map_err(|e| e.to_string())?;
    Ok(out)
}

/// Applies wasm-opt's renames (`{"imports": [[module, name, new]], "exports": [[name, new]]}`)
/// to the wasm-bindgen glue and its types: the one import module becomes `a`,
/// each import key and each `wasm.export` its new name.
fn rename_in_glue(map: &str) -> Result<()> {
    let map: serde_json::Value = serde_json::from_str(map.trim()).map_err(|e| format!("wasm-opt's rename map: {e}"))?;
    let pairs = |key: &str, from: usize, to: usize| -> Vec<(String, String)> {
        map[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p.get(from)?.as_str()?.to_string(), p.get(to)?.as_str()?.to_string())))
            .collect()
    };
    let (imports, exports) = (pairs("imports", 1, 2), pairs("exports", 0, 1));
    if imports.iter().chain(&exports).any(|(_, new)| !new.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'$' || b == b'_')) {
        return Err("wasm-opt renamed to a name that is not a JS identifier".into());
    }
    let replace_word = |text: &str, old: &str, new: &str| -> String {
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(i) = rest.find(old) {
            let before = out.chars().last().or_else(|| rest[..i].chars().last());
            let before = if i > 0 { rest[..i].chars().last() } else { before };
            let after = rest[i + old.len()..].chars().next();
            out.push_str(&rest[..i]);
            out.push_str(if ident(before) || ident(after) { old } else { new });
            rest = &rest[i + old.len()..];
        }
        out.push_str(rest);
        out
    };
    let glue_path = Path::new("pkg/kassa_widget.js");
    let mut glue = std::fs::read_to_string(glue_path).map_err(|e| e.to_string())?;
    let module = "\"./kassa_widget_bg.js\"";
    if glue.matches(module).count() != 1 {
        return Err("the wasm-bindgen glue does not import one ./kassa_widget_bg.js module as expected".into());
    }
    glue = glue.replace(module, "\"a\"");
    for (old, new) in &imports {
        if !glue.contains(old.as_str()) {
            return Err(format!("import {old} not found in the glue"));
        }
        glue = replace_word(&glue, old, new);
    }
    let mut types = std::fs::read_to_string("pkg/kassa_widget.d.ts").map_err(|e| e.to_string())?;
    for (old, new) in &exports {
        glue = glue.replace(&format!("wasm.{old}"), &format!("wasm.{new}"));
        types = types.replace(&format!("readonly {old}:"), &format!("readonly {new}:"));
    }
    std::fs::write(glue_path, glue).map_err(|e| e.to_string())?;
    std::fs::write("pkg/kassa_widget.d.ts", types).map_err(|e| e.to_string())
}

fn build_binaries() -> Result<()> {
    step("building the server and the demo shop");
    run(cargo().args(["build", "--package", "kassa-server", "--package", "kassa-demo-shop"]))
}

/// Builds the npm/Vite demo app (`www/demo/npm`) in `dir` against the
/// package `package` (the `pkg/` folder, or an `npm pack` tarball) with the
/// Vite of `xtask/tools`; returns the folder of the built app.
fn build_npm_demo(dir: &Path, package: &Path) -> Result<PathBuf> {
    step("building the npm demo app (www/demo/npm, Vite)");
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for file in ["index.html", "main.ts"] {
        std::fs::copy(Path::new("www/demo/npm").join(file), dir.join(file)).map_err(|e| format!("cannot copy www/demo/npm/{file}: {e}"))?;
    }
    std::fs::write(dir.join("package.json"), "{\"name\":\"kassa-demo-npm\",\"private\":true,\"type\":\"module\"}\n")
        .map_err(|e| e.to_string())?;
    run(Command::new("npm").args(["install", "--no-audit", "--no-fund", "--silent"]).arg(package).current_dir(dir))?;
    let vite = root().join("xtask/tools/node_modules/vite/bin/vite.js");
    run(Command::new("node").arg(vite).args(["build", "--base", "./", "--logLevel", "warn"]).current_dir(dir))?;
    Ok(dir.join("dist"))
}

// ---------------------------------------------------------------- demo

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

/// The demo merchant's dashboard admin (a demo: the password is printed).
const DEMO_DASHBOARD_EMAIL: &str = "admin@demo.example";
const DEMO_DASHBOARD_PASSWORD: &str = "kassa-demo-dashboard";

fn demo(args: &[String]) -> Result<()> {
    let listen = flag(args, "--listen").unwrap_or_else(|| "127.0.0.1:8080".into());
    let shop_listen = flag(args, "--shop-listen").unwrap_or_else(|| "127.0.0.1:8081".into());
    setup(Needs::WIDGET)?;
    build_widget()?;
    build_binaries()?;
    let data = Path::new("data");
    std::fs::create_dir_all(data).map_err(|e| e.to_string())?;
    let db_url = "sqlite://data/kassa.db";
    let creds = data.join("demo-merchant.json");
    if !creds.exists() {
        step("creating the demo merchant");
        let out = Command::new("target/debug/kassa")
            .args(["merchant", "create", "demo", "--name", "Kassa Demo Shop", "--database-url", db_url])
            // The shop's integration pages frame the payment page; its backend receives the webhooks.
            .args(["--allowed-origin", &format!("http://{shop_listen}")])
            .args(["--webhook-url", &format!("http://{shop_listen}/webhooks/kassa")])
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("kassa merchant create failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        std::fs::write(&creds, &out.stdout).map_err(|e| e.to_string())?;
    }
    // A dashboard admin for the demo merchant (a demo password, printed below).
    let dashboard_user = data.join("demo-dashboard-user");
    if !dashboard_user.exists() {
        step("adding the demo merchant's dashboard admin");
        run(Command::new("target/debug/kassa")
            .args(["user", "add", "demo", "--email", DEMO_DASHBOARD_EMAIL, "--role", "admin", "--database-url", db_url])
            .env("KASSA_USER_PASSWORD", DEMO_DASHBOARD_PASSWORD))?;
        std::fs::write(&dashboard_user, DEMO_DASHBOARD_EMAIL).map_err(|e| e.to_string())?;
    }
    // The shop's RSA key for signed Process SDK orderDetails, registered with Kassa.
    let keys = data.join("shop-keys");
    if !keys.join("private_key.pem").exists() {
        step("creating the demo shop's orderDetails signing key");
        run(Command::new("target/debug/kassa").args(["keygen", "--out"]).arg(&keys))?;
        run(Command::new("target/debug/kassa")
            .args(["merchant", "add-key", "demo", "--key-id", "demo-key", "--database-url", db_url, "--public-key"])
            .arg(keys.join("public_key.pem")))?;
    }
    // Accounts on the server's Razorpay and Paytm sandboxes, so the shop can route orders to them.
    let gateways = data.join("demo-gateways.json");
    if !gateways.exists() {
        step("opening the demo merchant's Razorpay and Paytm sandbox accounts");
        let mut linked = Vec::new();
        for gateway in ["razorpay", "paytm"] {
            let out = Command::new("target/debug/kassa")
                .args(["merchant", "add-gateway", "demo", "--gateway", gateway, "--sandbox", "--database-url", db_url])
                .args(["--public-url", &format!("http://{listen}")])
                .output()
                .map_err(|e| e.to_string())?;
            if !out.status.success() {
                return Err(format!("kassa merchant add-gateway failed: {}", String::from_utf8_lossy(&out.stderr)));
            }
            linked.push(String::from_utf8_lossy(&out.stdout).trim().to_string());
        }
        std::fs::write(&gateways, format!("[{}]\n", linked.join(",\n"))).map_err(|e| e.to_string())?;
    }
    let npm_app = build_npm_demo(Path::new("target/demo-npm"), &root().join("pkg"))?;
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    ctrlc::set_handler(move || s.store(true, Ordering::SeqCst)).map_err(|e| e.to_string())?;

    let kassa_url = format!("http://{listen}");
    let shop_url = format!("http://{shop_listen}");
    let mut server = Command::new("target/debug/kassa")
        // The demo shop receives webhooks on this machine.
        .args(["serve", "--listen", &listen, "--database-url", db_url, "--webhook-allow-private"])
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut shop = Command::new("target/debug/kassa-demo-shop")
        .args(["--listen", &shop_listen, "--kassa-url", &kassa_url, "--key-id", "demo-key", "--credentials"])
        .arg(&creds)
        .arg("--private-key")
        .arg(keys.join("private_key.pem"))
        .arg("--npm-app-dir")
        .arg(&npm_app)
        .spawn()
        .map_err(|e| e.to_string())?;
    let ready = wait_for_health(&listen, Duration::from_secs(20));
    let creds_text = std::fs::read_to_string(&creds).unwrap_or_default();
    if ready {
        eprintln!(
            "\nKassa demo is running (Ctrl-C stops it; data is kept in ./data)\n\
             \n  demo shop:      {shop_url}/\
             \n  Kassa server:   {kassa_url}/  (API: POST {kassa_url}/orders)\
             \n  dashboard:      {kassa_url}/dashboard  ({DEMO_DASHBOARD_EMAIL}, password {DEMO_DASHBOARD_PASSWORD})\
             \n  database:       ./data/kassa.db\
             \n  merchant credentials (./data/demo-merchant.json):\n{creds_text}\
             \n  sandbox card:   4111 1111 1111 1111, any future expiry, any CVV, OTP 123456\
             \n  gateways:       the shop's \"Pay through\" routes to Razorpay or Paytm (their sandboxes on this server;\
             \n                  accounts in ./data/demo-gateways.json)\n"
        );
    }
    let result = supervise(&mut [&mut server, &mut shop], &stop);
    for child in [&mut server, &mut shop] {
        terminate(child);
    }
    result
}

fn wait_for_health(listen: &str, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(mut s) = std::net::TcpStream::connect(listen) {
            use std::io::{Read, Write};
            let _ = s.write_all(b"GET /health HTTP/1.0\r\n\r\n");
            let mut buf = String::new();
            let _ = s.read_to_string(&mut buf);
            if buf.starts_with("HTTP/1.0 200") || buf.starts_with("HTTP/1.1 200") {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

fn supervise(children: &mut [&mut Child], stop: &AtomicBool) -> Result<()> {
    loop {
        if stop.load(Ordering::SeqCst) {
            eprintln!("\nstopping…");
            return Ok(());
        }
        for c in children.iter_mut() {
            if let Ok(Some(status)) = c.try_wait() {
                return if stop.load(Ordering::SeqCst) { Ok(()) } else { Err(format!("a demo process exited ({status})")) };
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// SIGTERM (graceful), then SIGKILL after 5 s.
fn terminate(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

// ---------------------------------------------------------------- test

fn test() -> Result<()> {
    // The test runners run in process groups of their own (see run_counted),
    // so the terminal's Ctrl-C does not reach them: pass it on.
    ctrlc::set_handler(|| {
        let group = RUNNING_GROUP.load(Ordering::SeqCst);
        if group != 0 {
            kill_group(group);
        }
        std::process::exit(130);
    })
    .map_err(|e| e.to_string())?;
    setup(Needs::ALL)?;
    let mut results: Vec<(&str, Result<()>)> = Vec::new();
    let mut counts = (0u64, 0u64);
    let mut skipped: Vec<&str> = Vec::new();

    step("cargo deny check: advisories (offline, the RustSec snapshot), licenses, bans, sources");
    match advisory_db() {
        Some(db) => {
            let checked = deny(&db);
            if checked.is_ok() {
                counts.0 += 1;
            } else {
                counts.1 += 1;
            }
            results.push(("dependencies (cargo deny)", checked));
        }
        None => {
            eprintln!("\nxtask: SKIPPED cargo deny: no RustSec snapshot (set KASSA_ADVISORY_DB, or put it at ../shared/advisory-db)");
            skipped.push("dependencies (cargo deny)");
        }
    }

    step("native tests: types, signing (with cross-checks against the PyPI reference packages), server, CLI");
    results.push((
        "native (cargo test)",
        run_counted(
            cargo()
                // (PostgreSQL over TLS runs with the PostgreSQL half below.)
                .args([
                    "test",
                    "--no-fail-fast",
                    "--workspace",
                    "--exclude",
                    "kassa-widget",
                    "--exclude",
                    "kassa-dashboard",
                    "--",
                    "--include-ignored",
                    "--skip",
                    "postgres_over_tls",
                    "--skip",
                    "many_instances",
                ])
                .env("KASSA_PYTHON", python_venv().join("bin/python")),
            Duration::from_secs(40 * 60),
            &mut counts,
        ),
    ));

    // The server's integration tests again, on PostgreSQL.
    match ensure_postgres() {
        Ok(Ok(url)) => {
            // The multi-instance test puts Debian's nginx in front of three servers.
            if !Path::new("/usr/sbin/nginx").exists() {
                apt_install(&["nginx-light"])?;
            }
            step(
                "server tests again on PostgreSQL: API, in-process contract, SIGKILL durability, hostile HTTP, gateways, pre-authorization, \
                 stored instruments, dashboard, three instances behind nginx",
            );
            results.push((
                "server on PostgreSQL (cargo test)",
                run_counted(
                    cargo()
                        .args([
                            "test",
                            "--no-fail-fast",
                            "--package",
                            "kassa-server",
                            "--test",
                            "api",
                            "--test",
                            "contract",
                            "--test",
                            "durability",
                            "--test",
                            "hostile",
                            "--test",
                            "gateways",
                            "--test",
                            "preauth",
                            "--test",
                            "limits",
                            "--test",
                            "webhook_targets",
                            "--test",
                            "pg_tls",
                            "--test",
                            "multi_instance",
                            "--test",
                            "observe",
                            "--test",
                            "rotation",
                            "--test",
                            "instruments",
                            "--test",
                            "dashboard",
                            "--",
                            "--include-ignored",
                        ])
                        .env("KASSA_TEST_POSTGRES", url)
                        // The tests' databases are sealed under a key of the test run's own.
                        .env("KASSA_MASTER_KEY_FILE", root().join("target/xtask-postgres-master.key"))
                        .env("KASSA_TEST_POSTGRES_TLS_CA", PG_TLS_DIR.to_string() + "/ca.pem"),
                    Duration::from_secs(15 * 60),
                    &mut counts,
                ),
            ));
        }
        Ok(Err(why)) if std::env::var_os("CI").is_none() => {
            eprintln!("\nxtask: SKIPPED the PostgreSQL half of the server tests: {why}");
            skipped.push("server on PostgreSQL");
        }
        Ok(Err(why)) => results.push(("server on PostgreSQL", Err(why))),
        Err(e) => results.push(("server on PostgreSQL", Err(e))),
    }

    step("widget tests: wasm-bindgen-test in headless Chromium");
    results.push((
        "widget (wasm-bindgen-test, Chromium)",
        run_counted(
            cargo()
                .args(["test", "--no-fail-fast", "--package", "kassa-widget", "--target", "wasm32-unknown-unknown"])
                .env("CHROMEDRIVER", "/usr/bin/chromedriver")
                .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", root().join("tests/webdriver.json"))
                .env("WASM_BINDGEN_TEST_TIMEOUT", "120"),
            Duration::from_secs(15 * 60),
            &mut counts,
        ),
    ));

    let built = build_widget().and_then(|()| build_binaries());
    let e2e = built.and_then(|()| {
        step("end-to-end tests: shop → payment page → bank OTP → signed return, in headless Chromium");
        run_counted(
            Command::new("node")
                // A test that hangs fails after 3 minutes and the others go on.
                .args(["--test", "--test-concurrency=1", "--test-timeout=180000", "--test-reporter=tap", "tests/e2e/"])
                .env("KASSA_BIN", root().join("target/debug/kassa"))
                .env("SHOP_BIN", root().join("target/debug/kassa-demo-shop"))
                .env("KASSA_ROOT", root()),
            Duration::from_secs(20 * 60),
            &mut counts,
        )
    });
    results.push(("end-to-end (node --test, Chromium)", e2e));

    eprintln!("\n==> summary");
    let mut failed = 0;
    for (name, r) in &results {
        match r {
            Ok(()) => eprintln!("  ok      {name}"),
            Err(e) => {
                failed += 1;
                eprintln!("  FAILED  {name}: {e}");
            }
        }
    }
    for name in &skipped {
        eprintln!("  SKIPPED {name}");
    }
    // One closing line over every runner: the counts their own summaries reported.
    println!("{} passed, {} failed", counts.0, counts.1);
    if failed == 0 { Ok(()) } else { Err(format!("{failed} test suite(s) failed")) }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The hang that once stopped CI: a test runner that exits while a server
    /// it started (and did not stop) still holds the output pipe.
    #[test]
    fn a_leftover_holding_the_output_neither_hangs_the_run_nor_survives_it() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("leftover.pid");
        let script =
            format!("echo 'test result: FAILED. 2 passed; 1 failed; 0 ignored'; sleep 600 & echo $! > {}; exit 1", pid_file.display());
        let mut counts = (0, 0);
        let r = run_counted(Command::new("sh").args(["-c", &script]), Duration::from_secs(300), &mut counts);
        assert!(r.is_err(), "the runner's failure is reported");
        assert_eq!(counts, (2, 1));
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let alive = Path::new(&format!("/proc/{}", pid.trim())).exists()
            && !std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default().contains(") Z ");
        assert!(!alive, "the leftover sleep {pid} was killed");
    }

    #[test]
    fn a_runner_past_its_limit_is_stopped_and_fails() {
        let mut counts = (0, 0);
        let r = run_counted(Command::new("sh").args(["-c", "echo '# pass 3'; sleep 600"]), Duration::from_secs(1), &mut counts);
        let e = r.unwrap_err();
        assert!(e.contains("still running after 1 s"), "{e}");
        assert_eq!(counts, (3, 0));
    }
}
