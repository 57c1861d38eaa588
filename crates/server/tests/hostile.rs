//! Hostile HTTP against a running `kassa serve`: slow headers and slow bodies
//! (slowloris), oversized and too many headers, invalid UTF-8, path
//! traversal, deeply nested JSON, garbage request lines, oversized declared
//! bodies by the hundred. Every one gets a 4xx or a closed connection, never
//! a 5xx or a hang; honest clients are served meanwhile; nothing is written;
//! the server's memory stays bounded.

#![allow(missing_docs, clippy::unwrap_used)]

mod common;
use common::free_port;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

struct Server {
    child: common::Running,
    port: u16,
    key: String,
}

fn serve(dir: &std::path::Path) -> Server {
    let db = common::fresh_database(dir);
    let out = Command::new(env!("CARGO_BIN_EXE_kassa")).args(["merchant", "create", "hostile", "--database-url", &db]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let creds: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let port = free_port();
    // The repository's www/ and an empty assets dir: traversal must not get out of either.
    let www = concat!(env!("CARGO_MANIFEST_DIR"), "/../../www");
    let child = Command::new(env!("CARGO_BIN_EXE_kassa"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database-url", &db, "--www-dir", www])
        .arg("--assets-dir")
        .arg(dir)
        .env("KASSA_LOG", "error")
        .spawn()
        .unwrap();
    common::wait_for_port(port);
    Server { child: common::Running(child), port, key: creds["api_key"].as_str().unwrap().to_string() }
}

impl Server {
    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s
    }

    /// Sends raw bytes; the status code of the answer (None: closed without one) and the answer.
    fn raw(&self, bytes: &[u8]) -> (Option<u16>, String) {
        let mut s = self.connect();
        // The server may answer and close before it has read everything (a 413, a 431).
        let _ = s.write_all(bytes);
        read_answer(&mut s)
    }

    fn basic(&self) -> String {
        common::basic(&self.key)
    }

    /// Resident set size now, in KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status.lines().find_map(|l| l.strip_prefix("VmRSS:")).unwrap().trim().trim_end_matches("kB").trim().parse().unwrap()
    }

    fn health_ok(&self) -> bool {
        let started = Instant::now();
        let (code, _) = self.raw(b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
        code == Some(200) && started.elapsed() < Duration::from_secs(2)
    }
}

fn read_answer(s: &mut TcpStream) -> (Option<u16>, String) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        // One answer is enough: stop at the end of a Content-Length body.
        let text = String::from_utf8_lossy(&buf);
        if let Some((head, body)) = text.split_once("\r\n\r\n")
            && let Some(len) =
                head.lines().find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().ok()))
            && len.is_some_and(|n| body.len() >= n)
        {
            break;
        }
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let code = text.strip_prefix("HTTP/1.1 ").and_then(|r| r.get(..3)).and_then(|c| c.parse().ok());
    (code, text)
}

fn is_4xx(code: Option<u16>) -> bool {
    code.is_some_and(|c| (400..500).contains(&c))
}

#[test]
fn hostile_requests_get_4xx_or_a_closed_connection_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path());
    let auth = server.basic();
    let baseline_rss = server.rss_kib();

    // Slowloris, headers: one header line a second, never the blank line.
    let slow_headers = {
        let mut s = server.connect();
        std::thread::spawn(move || {
            let started = Instant::now();
            let _ = s.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n");
            for i in 0..40 {
                std::thread::sleep(Duration::from_secs(1));
                if s.write_all(format!("x-slow-{i}: y\r\n").as_bytes()).is_err() {
                    break;
                }
            }
            let (code, _) = read_answer(&mut s);
            (code, started.elapsed())
        })
    };
    // Slowloris, body: a declared body that never completes.
    let slow_body = {
        let mut s = server.connect();
        let auth = auth.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            let head = format!(
                "POST /orders HTTP/1.1\r\nhost: x\r\nauthorization: {auth}\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 100\r\n\r\norder_id="
            );
            s.write_all(head.as_bytes()).unwrap();
            let (code, body) = read_answer(&mut s);
            (code, body, started.elapsed())
        })
    };

    // Meanwhile honest clients are served at once.
    std::thread::sleep(Duration::from_millis(500));
    for _ in 0..5 {
        assert!(server.health_ok(), "an honest client waits behind the slow ones");
    }

    // Oversized headers, too many headers, a garbage request line.
    let big = format!("GET /health HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n", "a".repeat(200 * 1024));
    let (code, _) = server.raw(big.as_bytes());
    assert!(code.is_none() || is_4xx(code), "oversized header: {code:?}");
    let many: String = (0..300).map(|i| format!("x-h{i}: v\r\n")).collect();
    let (code, _) = server.raw(format!("GET /health HTTP/1.1\r\nhost: x\r\n{many}\r\n").as_bytes());
    assert!(code.is_none() || is_4xx(code), "300 headers: {code:?}");
    let (code, _) = server.raw(b"\x00\x01\xff GARBAGE\r\n\r\n");
    assert!(code.is_none() || is_4xx(code), "garbage request line: {code:?}");

    // Invalid UTF-8 in a form body, a path, a header.
    let body: &[u8] = b"order_id=bad\xff\xfe&amount=10";
    let mut req = format!(
        "POST /orders HTTP/1.1\r\nhost: x\r\nauthorization: {auth}\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    let (code, text) = server.raw(&req);
    assert_eq!(code, Some(400), "{text}");
    assert!(text.contains("\"status\":\"error\""), "{text}");
    let (code, text) =
        server.raw(format!("GET /orders/%FF%FE HTTP/1.1\r\nhost: x\r\nauthorization: {auth}\r\nconnection: close\r\n\r\n").as_bytes());
    assert!(is_4xx(code), "{text}");
    let (code, _) = server.raw(b"GET /orders/x HTTP/1.1\r\nhost: x\r\nauthorization: Basic \xff\xfe\r\nconnection: close\r\n\r\n");
    assert!(code.is_none() || code == Some(401) || code == Some(400), "{code:?}");

    // Path traversal out of www/ and the assets dir.
    for path in [
        "/static/../Cargo.toml",
        "/static/%2e%2e/Cargo.toml",
        "/static/..%2f..%2fCargo.toml",
        "/static/%2e%2e%2f%2e%2e%2fCargo.toml",
        "/assets/../../../../etc/passwd",
        "/assets/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/static/..\\..\\Cargo.toml",
        "/static//etc/passwd",
    ] {
        let (code, text) = server.raw(format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes());
        assert!(code.is_none() || is_4xx(code), "{path}: {code:?}");
        assert!(!text.contains("[package]") && !text.contains("root:"), "{path} leaked a file");
    }

    // 64 KB of distinct keys (a quadratic duplicate check made this cost a second of CPU): refused by count.
    let keys: String = (0..7_000).map(|i| format!("k{i:05}=v&")).collect();
    let form_keys = keys[..keys.len() - 1].to_string();
    let json_keys = format!("{{{}}}", (0..5_500).map(|i| format!("\"k{i:05}\":1")).collect::<Vec<_>>().join(","));
    for (ct, body) in [("application/x-www-form-urlencoded", form_keys), ("application/json", json_keys)] {
        let req = format!(
            "POST /orders HTTP/1.1\r\nhost: x\r\nauthorization: {auth}\r\ncontent-type: {ct}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let (code, text) = server.raw(req.as_bytes());
        assert_eq!(code, Some(400), "{ct}: {text}");
        assert!(text.contains("too_many_parameters"), "{ct}: {text}");
    }

    // Deeply nested JSON, as arrays and as objects.
    for nested in ["[".repeat(30_000) + &"]".repeat(30_000), "{\"a\":".repeat(10_000) + "1" + &"}".repeat(10_000)] {
        let req = format!(
            "POST /orders HTTP/1.1\r\nhost: x\r\nauthorization: {auth}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{nested}",
            nested.len()
        );
        let (code, text) = server.raw(req.as_bytes());
        assert_eq!(code, Some(400), "nested JSON: {text}");
    }

    // The gateway endpoints and the gateways' sandboxes: garbage, deep JSON, forged credentials.
    let deep = "[".repeat(30_000) + &"]".repeat(30_000);
    for (path, headers, expect) in [
        ("/gateway/return/txn_nope", "content-type: application/x-www-form-urlencoded\r\n", "4xx"),
        ("/gateway/webhooks/gwa_nope", "content-type: application/json\r\nx-razorpay-signature: 00\r\n", "4xx"),
        ("/sandbox/razorpay/v1/orders", "content-type: application/json\r\n", "4xx"),
        ("/sandbox/razorpay/v1/orders", "content-type: application/json\r\nauthorization: Basic cnpwX3Rlc3RfeDp5\r\n", "4xx"),
        ("/sandbox/razorpay/v1/payments/create/json", "content-type: application/json\r\n", "4xx"),
        ("/sandbox/paytm/aoa-acquiring-biz/v2/order?mid=M&orderId=O", "content-type: application/json\r\n", "2222"),
        ("/sandbox/paytm/v3/order/status", "content-type: application/json\r\n", "2222"),
        ("/sandbox/paytm/refund/apply", "content-type: application/json\r\n", "2222"),
        ("/sandbox/paytm/theia/api/v1/processTransaction?mid=M&orderId=O", "content-type: application/json\r\n", "2222"),
    ] {
        for body in [deep.as_str(), "\u{0}\u{1}not json at all", "{\"head\":{},\"body\":[]}"] {
            let req =
                format!("POST {path} HTTP/1.1\r\nhost: x\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
            let (code, text) = server.raw(req.as_bytes());
            match expect {
                // Paytm answers its errors with HTTP 200 and a result code, as the real API does.
                "2222" => assert!(code == Some(200) && text.contains("\"resultStatus\":\"F\""), "{path}: {code:?} {text}"),
                _ => assert!(is_4xx(code), "{path}: {code:?} {text}"),
            }
        }
    }

    // Oversized declared bodies, by the hundred at once: refused before they are read.
    let floods: Vec<_> = (0..200)
        .map(|_| {
            let port = server.port;
            let auth = auth.clone();
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                let head = format!("POST /orders HTTP/1.1\r\nhost: x\r\nauthorization: {auth}\r\ncontent-length: 1073741824\r\n\r\n");
                let _ = s.write_all(head.as_bytes());
                let _ = s.write_all(&[b'a'; 4096]);
                read_answer(&mut s).0
            })
        })
        .collect();
    for f in floods {
        assert_eq!(f.join().unwrap(), Some(413));
    }

    // The slow clients were cut off: headers without an answer (hyper closes
    // the connection, or answers 408), the body with the JSON 408.
    let (code, took) = slow_headers.join().unwrap();
    assert!(code.is_none() || code == Some(408), "slow headers: {code:?}");
    assert!(took < Duration::from_secs(25), "slow headers held for {took:?}");
    let (code, body, took) = slow_body.join().unwrap();
    assert_eq!(code, Some(408), "{body}");
    assert!(body.contains("request_timeout"), "{body}");
    assert!(took < Duration::from_secs(25), "slow body held for {took:?}");

    // Still healthy, nothing written, memory bounded.
    assert!(server.health_ok());
    let (code, text) =
        server.raw(format!("GET /orders/bad HTTP/1.1\r\nhost: x\r\nauthorization: {auth}\r\nconnection: close\r\n\r\n").as_bytes());
    assert_eq!(code, Some(404), "{text}");
    let grown = server.rss_kib().saturating_sub(baseline_rss);
    assert!(grown < 64 * 1024, "the server grew by {grown} KiB");
}
