//! Transport and served files (issue 18): `return_url` must be https://
//! outside localhost and keeps its own query and fragment with a signature
//! that verifies over the whole query; HSTS behind an https public URL;
//! `Cross-Origin-Opener-Policy` on the web and mobile pages; a CSP that fails
//! closed; `/static` serves the page's four files only; `kassa serve`
//! refuses a plain-http public URL on another address, and `--allowed-origin`
//! must be https:// outside localhost.

#![allow(missing_docs, clippy::unwrap_used)]

use kassa_sign::{ResponseKey, return_url};
use serde_json::Value;
use std::process::Command;

mod common;

type Server = common::M1Server;

fn start(public_url: Option<&'static str>) -> Server {
    common::start_m1(
        "krk_transport",
        |_| {},
        |db| async { db },
        move |base| {
            let mut c = common::test_config(base);
            c.www_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../www");
            if let Some(p) = public_url {
                c.public_url = p.into();
            }
            c
        },
    )
}

impl Server {
    fn get(&self, path: &str) -> (u16, ureq::http::HeaderMap, String) {
        let mut r = self.agent.get(format!("{}{path}", self.base)).call().unwrap();
        let headers = r.headers().clone();
        (r.status().as_u16(), headers, r.body_mut().read_to_string().unwrap())
    }

    fn order(&self, form: &str) -> (u16, Value) {
        let mut r = self.post_as_m1("/orders", form);
        (r.status().as_u16(), r.body_mut().read_json().unwrap())
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[test]
fn return_urls_are_https_and_keep_their_own_query_and_fragment_under_the_signature() {
    let s = start(None);
    for bad in [
        "http://shop.example/ret",
        "http://10.0.0.5/ret",
        "ftp://shop.example/",
        "https://shop.example/ret?status=CHARGED",
        "https://shop.example/ret?a=1&a=2",
    ] {
        let (code, body) = s.order(&format!("order_id=bad{}&amount=1&return_url={}", bad.len(), enc(bad)));
        assert_eq!((code, body["error_code"].as_str()), (400, Some("invalid_parameter")), "{bad}: {body}");
    }
    for (i, ok) in ["http://localhost:3000/ret", "http://127.0.0.1:8000/ret"].iter().enumerate() {
        assert_eq!(s.order(&format!("order_id=ok{i}&amount=1&return_url={}", enc(ok))).0, 200, "{ok}");
    }
    // The merchant's own query and fragment survive, and the signature covers the whole query.
    let (code, created) = s.order(&format!(
        "order_id=own1&amount=1&options.get_client_auth_token=true&return_url={}",
        enc("https://shop.example/ret?cart=42&note=a%20b#done")
    ));
    assert_eq!(code, 200, "{created}");
    let token = created["juspay"]["client_auth_token"].as_str().unwrap();
    let mut txn = common::card_fields("4111111111111111");
    txn["order_id"] = created["id"].clone();
    let mut r = s
        .agent
        .post(format!("{}/txns", s.base))
        .header("authorization", &format!("Bearer {token}"))
        .header("content-type", "application/json")
        .send(txn.to_string())
        .unwrap();
    let txn: Value = r.body_mut().read_json().unwrap();
    let r = s
        .agent
        .post(txn["payment"]["authentication"]["url"].as_str().unwrap())
        .header("content-type", "application/x-www-form-urlencoded")
        .send("otp=123456&action=submit")
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let location = r.headers().get("location").unwrap().to_str().unwrap().to_string();
    let (before_fragment, fragment) = location.split_once('#').unwrap();
    assert_eq!(fragment, "done", "{location}");
    let (base, query) = before_fragment.split_once('?').unwrap();
    assert_eq!(base, "https://shop.example/ret");
    let params = return_url::verify_query(&ResponseKey::new(b"krk_transport".to_vec()), query).unwrap();
    assert_eq!((params.get("cart"), params.get("note"), params.get("status")), (Some("42"), Some("a b"), Some("CHARGED")), "{location}");
}

#[test]
fn security_headers_hsts_coop_and_a_csp_that_fails_closed() {
    // Behind an https public URL: HSTS on everything.
    let s = start(Some("https://pay.example"));
    let (code, headers, _) = s.get("/health");
    assert_eq!(code, 200);
    assert_eq!(headers.get("strict-transport-security").unwrap(), "max-age=31536000");
    let (_, created) = s.order("order_id=h1&amount=1");
    let ord = created["id"].as_str().unwrap().to_string();
    let (_, web, _) = s.get(&format!("/merchant/pay/{ord}"));
    let (_, mobile, _) = s.get(&format!("/merchant/pay/{ord}?mobile=true"));
    let (_, frame, _) = s.get(&format!("/merchant/ipay/{ord}"));
    assert_eq!(web.get("cross-origin-opener-policy").unwrap(), "same-origin");
    assert_eq!(mobile.get("cross-origin-opener-policy").unwrap(), "same-origin");
    assert!(frame.get("cross-origin-opener-policy").is_none(), "the iframe page lives in the merchant's window");
    // A merchant origin that cannot go into a header: the iframe page's CSP allows nothing, rather than being left out.
    common::execute_sql(&s.db_url, "UPDATE merchants SET allowed_origins = 'https://a.example' || char(1) WHERE id = 'm1'");
    let (_, frame, _) = s.get(&format!("/merchant/ipay/{ord}"));
    assert_eq!(frame.get("content-security-policy").unwrap(), "default-src 'none'; frame-ancestors 'none'");
    // A plain-http public URL (development on this machine): no HSTS.
    let s = start(None);
    assert!(s.get("/health").1.get("strict-transport-security").is_none());
}

#[test]
fn static_serves_the_payment_pages_files_only() {
    let s = start(None);
    for file in kassa_server::pages::STATIC_FILES {
        let (code, headers, _) = s.get(&format!("/static/{file}"));
        assert_eq!(code, 200, "{file}");
        assert_eq!(headers.get("x-content-type-options").unwrap(), "nosniff");
    }
    for path in [
        "/static/bench/plain-form.html",
        "/static/demo/checkout.js",
        "/static/npm/index.d.ts",
        "/static/bridge.js",
        "/static/kassa.js",
        "/bench/plain-form.html",
    ] {
        assert_eq!(s.get(path).0, 404, "{path}");
    }
}

#[test]
fn kassa_serve_refuses_plain_http_to_other_machines_and_merchant_origins_must_be_https() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::fresh_database(dir.path());
    let out = Command::new(env!("CARGO_BIN_EXE_kassa"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", &db, "--public-url", "http://pay.example"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--insecure-http"), "{}", String::from_utf8_lossy(&out.stderr));
    // Links naming this machine, but listening on every address: refused too (before anything listens).
    let out = Command::new(env!("CARGO_BIN_EXE_kassa"))
        .args(["serve", "--listen", "0.0.0.0:0", "--database-url", &db, "--public-url", "http://localhost:8080"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--insecure-http"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(env!("CARGO_BIN_EXE_kassa"))
        .args(["merchant", "create", "m9", "--database-url", &db, "--allowed-origin", "http://shop.example"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("https://"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(env!("CARGO_BIN_EXE_kassa"))
        .args(["merchant", "create", "m9", "--database-url", &db, "--allowed-origin", "http://localhost:5173"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // With --insecure-http it starts (and serves).
    let port = common::free_port();
    let running = common::serve_binary(&db, port, &["--public-url", "http://pay.example", "--insecure-http"]);
    // Card data is in its memory: it writes no core dump.
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", running.id())).unwrap();
    let core = limits.lines().find(|l| l.starts_with("Max core file size")).unwrap();
    assert_eq!(core.split_whitespace().skip(4).take(2).collect::<Vec<_>>(), ["0", "0"], "{core}");
}
