//! HTTPS: `kassa serve --tls-cert --tls-key` with a certificate made here by
//! a throwaway CA; Juspay's own Node SDK against it, unchanged but for its
//! `baseUrl`; webhook delivery to an `https://` receiver that the server
//! checks against that CA (`--webhook-ca-file`).

#![allow(missing_docs, clippy::unwrap_used)]

mod common;
use common::basic;
use common::free_port;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

/// A CA and a certificate it signed for 127.0.0.1 and localhost, as PEM files in `dir`.
fn pki(dir: &Path) -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.distinguished_name.push(DnType::CommonName, "Kassa test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    params.distinguished_name.push(DnType::CommonName, "127.0.0.1");
    let cert = params.signed_by(&key, &issuer).unwrap();
    let pki = Pki { ca: dir.join("ca.pem"), cert: dir.join("cert.pem"), key: dir.join("key.pem") };
    std::fs::write(&pki.ca, ca_cert.pem()).unwrap();
    std::fs::write(&pki.cert, cert.pem()).unwrap();
    std::fs::write(&pki.key, key.serialize_pem()).unwrap();
    pki
}

struct Kassa {
    /// Held for its drop: the server stops with the test, passed or not.
    _server: common::Running,
    base: String,
    creds: Value,
}

/// `kassa merchant create` then `kassa serve` over HTTPS on `port` (0: any free port).
fn serve_tls(dir: &Path, pki: &Pki, webhook_url: Option<&str>, port: u16) -> Kassa {
    let db = common::fresh_database(dir);
    let mut create = Command::new(env!("CARGO_BIN_EXE_kassa"));
    create.args(["merchant", "create", "tlsshop", "--database-url", &db, "--webhook-username", "hooks"]);
    if let Some(url) = webhook_url {
        create.args(["--webhook-url", url]);
    }
    let out = create.env("KASSA_WEBHOOK_PASSWORD", "hook-pass").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let creds: Value = serde_json::from_slice(&out.stdout).unwrap();
    let port = if port == 0 { free_port() } else { port };
    let child = Command::new(env!("CARGO_BIN_EXE_kassa"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            &db,
            "--webhook-retry-ms",
            "50",
            "--webhook-allow-private",
        ])
        .arg("--tls-cert")
        .arg(&pki.cert)
        .arg("--tls-key")
        .arg(&pki.key)
        .arg("--webhook-ca-file")
        .arg(&pki.ca)
        .env("KASSA_LOG", "error")
        .spawn()
        .unwrap();
    common::wait_for_port(port);
    let base = if port == 443 { "https://127.0.0.1".to_string() } else { format!("https://127.0.0.1:{port}") };
    Kassa { _server: common::Running(child), base, creds }
}

fn agent(pki: &Pki) -> ureq::Agent {
    let tls = kassa_server::tls::webhook_tls(Some(&std::fs::read(&pki.ca).unwrap())).unwrap();
    ureq::Agent::config_builder().tls_config(tls).http_status_as_error(false).max_redirects(0).build().into()
}

#[test]
fn the_server_speaks_https_and_plain_http_gets_no_answer() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki(dir.path());
    let k = serve_tls(dir.path(), &pki, None, 0);
    let mut r = agent(&pki).get(format!("{}/health", k.base)).call().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.body_mut().read_to_string().unwrap().contains("ok"));
    // Payment links are https too.
    let key = k.creds["api_key"].as_str().unwrap();
    let mut r = agent(&pki)
        .post(format!("{}/orders", k.base))
        .header("authorization", &basic(key))
        .header("content-type", "application/x-www-form-urlencoded")
        .send("order_id=tls1&amount=5")
        .unwrap();
    let body: Value = r.body_mut().read_json().unwrap();
    assert!(body["payment_links"]["web"].as_str().unwrap().starts_with(&format!("{}/", k.base)), "{body}");
    // A client that does not trust the CA is refused.
    let untrusted: ureq::Agent = ureq::Agent::config_builder().tls_config(kassa_server::tls::webhook_tls(None).unwrap()).build().into();
    assert!(untrusted.get(format!("{}/health", k.base)).call().is_err());
    // Plain HTTP on the TLS port gets no HTTP answer.
    let plain: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(5))).build().into();
    assert!(plain.get(k.base.replace("https://", "http://") + "/health").call().is_err());
}

/// An HTTPS receiver on `port` with the test certificate: records (headers, body) of each POST.
fn https_receiver(pki: &Pki, port: u16, seen: Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>>) {
    let (cert, key) = (pki.cert.clone(), pki.key.clone());
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        rt.block_on(async move {
            let tls = kassa_server::tls::server_config(&cert, &key).await.unwrap();
            let app = axum::Router::new().route(
                "/hook",
                axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                    let seen = seen.clone();
                    async move {
                        seen.lock().unwrap().push((headers, body));
                        "ok"
                    }
                }),
            );
            let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
            listener.set_nonblocking(true).unwrap();
            ready_tx.send(()).unwrap();
            axum_server::from_tcp_rustls(listener, tls).unwrap().serve(app.into_make_service()).await.unwrap();
        });
    });
    ready_rx.recv().unwrap();
}

#[test]
fn webhooks_are_delivered_to_an_https_receiver_checked_against_its_ca() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki(dir.path());
    let hook_port = free_port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    https_receiver(&pki, hook_port, seen.clone());
    let k = serve_tls(dir.path(), &pki, Some(&format!("https://127.0.0.1:{hook_port}/hook")), 0);
    let key = k.creds["api_key"].as_str().unwrap();
    let a = agent(&pki);
    let mut r = a
        .post(format!("{}/orders", k.base))
        .header("authorization", &basic(key))
        .header("content-type", "application/x-www-form-urlencoded")
        .send("order_id=hook1&amount=5&options.get_client_auth_token=true")
        .unwrap();
    let created: Value = r.body_mut().read_json().unwrap();
    let token = created["juspay"]["client_auth_token"].as_str().unwrap();
    let txn = serde_json::json!({
        "order_id": created["id"], "payment_method_type": "CARD", "card_number": "4111111111111111",
        "card_exp_month": "12", "card_exp_year": "2039", "card_security_code": "123", "name_on_card": "A"
    });
    let mut r = a
        .post(format!("{}/txns", k.base))
        .header("authorization", &format!("Bearer {token}"))
        .header("content-type", "application/json")
        .send(txn.to_string())
        .unwrap();
    let txn: Value = r.body_mut().read_json().unwrap();
    let bank = txn["payment"]["authentication"]["url"].as_str().unwrap();
    assert!(bank.starts_with("https://"), "{bank}");
    let r = a.post(bank).header("content-type", "application/x-www-form-urlencoded").send("otp=123456&action=submit").unwrap();
    assert_eq!(r.status().as_u16(), 303);

    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.lock().unwrap().len() < 2 {
        assert!(Instant::now() < deadline, "webhooks not delivered over https: {:?}", seen.lock().unwrap().len());
        std::thread::sleep(Duration::from_millis(50));
    }
    let secret = kassa_sign::webhook::WebhookSecret::new(k.creds["webhook_secret"].as_str().unwrap().as_bytes().to_vec());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let seen = seen.lock().unwrap();
    let names: Vec<String> =
        seen.iter().map(|(_, b)| serde_json::from_str::<Value>(b).unwrap()["event_name"].as_str().unwrap().into()).collect();
    assert_eq!(names, ["TXN_CREATED", "ORDER_SUCCEEDED"]);
    for (headers, body) in seen.iter() {
        let sig = headers.get("kassa-signature").unwrap().to_str().unwrap();
        kassa_sign::webhook::verify(&secret, sig, body.as_bytes(), now, 300).unwrap();
        use base64::Engine;
        let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("hooks:hook-pass"));
        assert_eq!(headers.get("authorization").unwrap().to_str().unwrap(), expected);
    }
}

/// Juspay's server SDK for Node, `expresscheckout-nodejs` from npm, unchanged:
/// create, status, session, refund and its error objects, over HTTPS.
#[test]
#[ignore = "needs node and tests/e2e/node_modules; `cargo xtask test` installs them and runs it"]
fn juspays_node_sdk_works_unchanged_against_kassa() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let modules = root.join("tests/e2e/node_modules");
    assert!(modules.join("expresscheckout-nodejs").exists(), "run `cargo xtask setup` (npm packages of tests/e2e)");
    let dir = tempfile::tempdir().unwrap();
    let pki = pki(dir.path());
    // The SDK passes `host:port` to Node's resolver as a host name, so a base URL
    // with a port fails to resolve: Kassa gets the HTTPS default port, as in production.
    if let Err(e) = std::net::TcpListener::bind("127.0.0.1:443") {
        panic!("this test serves Kassa on 127.0.0.1:443 and cannot bind it ({e}): run it as root, or free the port");
    }
    let k = serve_tls(dir.path(), &pki, None, 443);
    let out = Command::new("node")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/juspay_node.cjs"))
        // The SDK reads the version it reports from ./package.json of the working directory.
        .current_dir(root.join("tests/e2e"))
        .env("NODE_PATH", &modules)
        .env("NODE_EXTRA_CA_CERTS", &pki.ca)
        .env("NODE_ENV", "test")
        .env("KASSA_BASE", &k.base)
        .env("KASSA_API_KEY", k.creds["api_key"].as_str().unwrap())
        .env("KASSA_MERCHANT_ID", k.creds["merchant_id"].as_str().unwrap())
        .env("KASSA_CLIENT_ID", k.creds["client_id"].as_str().unwrap())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "node SDK run failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("all ok"), "{stdout}");
}
