//! PostgreSQL over TLS (issue 18): Kassa reaches Debian's PostgreSQL with
//! `sslmode=require` and `sslmode=verify-full` (the server's certificate
//! checked against a CA and the host name), and refuses a server its CA did
//! not sign. `cargo xtask test` serves PostgreSQL with a certificate for
//! localhost from a CA of its own and runs this with the PostgreSQL half.

#![allow(missing_docs, clippy::unwrap_used)]

mod common;

/// The session's own connection is encrypted.
async fn encrypted(url: &str) -> bool {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let ssl: bool =
        sqlx::query_scalar::<_, bool>("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetch_one(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    ssl
}

#[test]
#[ignore = "needs PostgreSQL served over TLS (KASSA_TEST_POSTGRES, KASSA_TEST_POSTGRES_TLS_CA); `cargo xtask test` provides it"]
fn postgres_over_tls_with_require_and_verify_full() {
    let ca = std::env::var("KASSA_TEST_POSTGRES_TLS_CA").expect("KASSA_TEST_POSTGRES_TLS_CA: the CA of the test PostgreSQL's certificate");
    let dir = tempfile::tempdir().unwrap();
    // A database of its own, reached by the name its certificate carries.
    let url = common::fresh_database(dir.path()).replace("@127.0.0.1:", "@localhost:");
    assert!(url.starts_with("postgres://"), "KASSA_TEST_POSTGRES is needed: {url}");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        for url in [format!("{url}?sslmode=require"), format!("{url}?sslmode=verify-full&sslrootcert={ca}")] {
            // The whole of Kassa's storage works over it.
            let db = kassa_server::db::Db::open(&url).await.unwrap();
            let id = kassa_server::random_id("m").chars().take(12).collect::<String>();
            db.create_merchant(&common::test_merchant(&id, &kassa_server::random_id("ksk_"), "krk_tls")).await.unwrap();
            assert_eq!(db.merchant(&id).await.unwrap().unwrap().response_key.expose(), "krk_tls");
            assert!(encrypted(&url).await, "{url}: the connection is TLS");
        }
        // A CA that did not sign the server's certificate: refused.
        let other_ca = dir.path().join("other-ca.pem");
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        std::fs::write(&other_ca, cert.cert.pem()).unwrap();
        let refused = kassa_server::db::Db::open(&format!("{url}?sslmode=verify-full&sslrootcert={}", other_ca.display())).await;
        assert!(refused.is_err(), "a server certificate this CA did not sign must be refused");
    });
}
