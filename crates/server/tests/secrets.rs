//! Secrets at rest (issue 18), through the real binary: the database file
//! holds no merchant response key, webhook secret or password, gateway
//! credential or client-token key in plain text; the database, its
//! directory and the master key file are readable by their owner only; the
//! master key is rotated by `kassa rotate-master-key` (the old key then opens
//! nothing, the new one everything); secrets an older Kassa stored in plain
//! text are sealed at the next start.

#![allow(missing_docs, clippy::unwrap_used)]

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

mod common;

fn kassa(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kassa"));
    c.args(args).env_remove("KASSA_MASTER_KEY").env_remove("KASSA_MASTER_KEY_FILE");
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// Every byte the database has on disk (the main file and its write-ahead log).
fn raw_database(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for name in ["kassa.db", "kassa.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.join(name)) {
            all.extend(bytes);
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn the_database_file_holds_no_secret_and_is_private() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let db = format!("sqlite://{}/kassa.db", dir.display());
    let created: Value = serde_json::from_str(&ok(&kassa(
        &["merchant", "create", "m1", "--database-url", &db, "--webhook-url", "https://shop.example/hook", "--webhook-username", "shop"],
        &[("KASSA_WEBHOOK_PASSWORD", "webhook-password-0f1e2d")],
    )))
    .unwrap();
    let rzp_secret = "rzp_key_secret_5a6b7c8d9e";
    let rzp_webhook = "rzp_webhook_secret_1a2b3c";
    std::fs::write(tmp.path().join("ks"), rzp_secret).unwrap();
    std::fs::write(tmp.path().join("ws"), rzp_webhook).unwrap();
    ok(&kassa(
        &[
            "merchant",
            "add-gateway",
            "m1",
            "--gateway",
            "razorpay",
            "--key-id",
            "rzp_test_abc",
            "--key-secret-file",
            tmp.path().join("ks").to_str().unwrap(),
            "--webhook-secret-file",
            tmp.path().join("ws").to_str().unwrap(),
            "--database-url",
            &db,
        ],
        &[],
    ));
    // Rotated credentials (with an overlap, so old and new are both kept) are stored the same way.
    let rotated = |command: &str, field: &str| -> String {
        let out: Value = serde_json::from_str(&ok(&kassa(&["merchant", command, "m1", "--database-url", &db], &[]))).unwrap();
        out[field].as_str().unwrap().to_string()
    };
    let rotated_response_key = rotated("rotate-response-key", "response_key");
    let rotated_webhook_secret = rotated("rotate-webhook-secret", "webhook_secret");
    // The server creates its client-token key on start.
    drop(common::serve_binary(&db, common::free_port(), &[]));
    let token_key = {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        hex::encode(rt.block_on(async { kassa_server::db::Db::open(&db).await.unwrap().server_key("client_token_key").await.unwrap() }))
    };
    let raw = raw_database(&dir);
    assert!(raw.len() > 4096, "the database was read");
    for (what, secret) in [
        ("response key", created["response_key"].as_str().unwrap()),
        ("webhook secret", created["webhook_secret"].as_str().unwrap()),
        ("webhook password", "webhook-password-0f1e2d"),
        ("Razorpay key secret", rzp_secret),
        ("Razorpay webhook secret", rzp_webhook),
        ("client-token key", &token_key),
        ("rotated response key", &rotated_response_key),
        ("rotated webhook secret", &rotated_webhook_secret),
    ] {
        assert!(!contains(&raw, secret), "the {what} is in the database file in plain text");
    }
    assert!(contains(&raw, "v1:dk_"), "sealed values are there");
    // The API key is kept as its hash only (as before).
    assert!(!contains(&raw, created["api_key"].as_str().unwrap()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700, "data directory");
        assert_eq!(mode(&dir.join("kassa.db")), 0o600, "database file");
        assert_eq!(mode(&dir.join("master.key")), 0o600, "master key file");
    }
}

#[test]
fn the_master_key_rotates_and_the_old_one_then_opens_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/kassa.db", tmp.path().display());
    let created: Value = serde_json::from_str(&ok(&kassa(&["merchant", "create", "m1", "--database-url", &db], &[]))).unwrap();
    let old_key = std::fs::read_to_string(tmp.path().join("master.key")).unwrap();
    let new_file = tmp.path().join("elsewhere/new.key");
    let rotated: Value =
        serde_json::from_str(&ok(&kassa(&["rotate-master-key", "--new-key-file", new_file.to_str().unwrap(), "--database-url", &db], &[])))
            .unwrap();
    assert_eq!(rotated["resealed_data_keys"], 1, "{rotated}");
    // The old key (the default file) opens nothing now: the CLI says which key it needs.
    let refused = kassa(&["merchant", "create", "m2", "--database-url", &db], &[]);
    assert!(!refused.status.success());
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains(rotated["master_key_id"].as_str().unwrap()) && why.contains("KASSA_MASTER_KEY"), "{why}");
    let refused = kassa(&["merchant", "create", "m2", "--database-url", &db], &[("KASSA_MASTER_KEY", old_key.trim())]);
    assert!(!refused.status.success());
    // The new one opens everything: the merchant's response key is the same.
    let new_hex = std::fs::read_to_string(&new_file).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let key = kassa_server::db::vault::MasterKey::from_hex(&new_hex).unwrap();
    let m = rt.block_on(async { kassa_server::db::Db::open_with(&db, &key).await.unwrap().merchant("m1").await.unwrap().unwrap() });
    assert_eq!(m.response_key.expose(), created["response_key"].as_str().unwrap());
    ok(&kassa(&["merchant", "create", "m2", "--database-url", &db, "--master-key-file", new_file.to_str().unwrap()], &[]));
    ok(&kassa(&["merchant", "create", "m3", "--database-url", &db], &[("KASSA_MASTER_KEY", new_hex.trim())]));
}

#[test]
fn secrets_stored_in_plain_text_by_an_older_kassa_are_sealed_at_the_next_start() {
    let tmp = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/kassa.db", tmp.path().display());
    ok(&kassa(&["merchant", "create", "m1", "--database-url", &db], &[]));
    // As an older Kassa left it.
    common::execute_sql(
        &db,
        "UPDATE merchants SET response_key = 'krk_plain_legacy_value', webhook_secret = 'whsec_plain_legacy' WHERE id = 'm1'",
    );
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let m = rt.block_on(async { kassa_server::db::Db::open(&db).await.unwrap().merchant("m1").await.unwrap().unwrap() });
    assert_eq!((m.response_key.expose(), m.webhook_secret.expose()), ("krk_plain_legacy_value", "whsec_plain_legacy"));
    let stored = common::query_strings(&db, "SELECT response_key FROM merchants WHERE id = 'm1'");
    assert!(stored[0].starts_with("v1:dk_"), "{stored:?}");
}

#[test]
fn an_older_kassa_refuses_a_database_a_newer_one_migrated() {
    let tmp = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/kassa.db", tmp.path().display());
    ok(&kassa(&["merchant", "create", "m1", "--database-url", &db], &[]));
    common::execute_sql(&db, "INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)");
    let refused = kassa(&["merchant", "create", "m2", "--database-url", &db], &[]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("newer than this Kassa knows"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}
