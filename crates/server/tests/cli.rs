//! `kassa sign|verify|keygen` through the real binary: output and exit status.

#![allow(missing_docs, clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

fn kassa(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kassa"))
        .args(args)
        .current_dir(dir)
        .env_remove("KASSA_RESPONSE_KEY")
        .env_remove("RAZORPAY_SECRET")
        .env_remove("PAYTM_MERCHANT_KEY")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap().trim().to_string()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

#[test]
fn return_url_sign_and_verify() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("rk"), "krk_secret\n").unwrap();
    let signed = kassa(d.path(), &["sign", "return-url", "--key-file", "rk", "order_id=o1&status=CHARGED&status_id=21"]);
    assert_eq!(code(&signed), 0);
    let q = stdout(&signed);
    assert!(q.contains("%253D&signature_algorithm=HMAC-SHA256"), "{q}");
    assert_eq!(code(&kassa(d.path(), &["verify", "return-url", "--key-file", "rk", &q])), 0);
    let bad = kassa(d.path(), &["verify", "return-url", "--key-file", "rk", &q.replace("CHARGED", "CHARGEd")]);
    assert_eq!(code(&bad), 1);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("does not match"));
    let algo = kassa(d.path(), &["verify", "return-url", "--key-file", "rk", &q.replace("HMAC-SHA256", "MD5")]);
    assert_eq!(code(&algo), 1);
    assert!(String::from_utf8_lossy(&algo.stderr).contains("unsupported signature_algorithm"));
    assert_eq!(code(&kassa(d.path(), &["verify", "return-url", "--key-file", "rk", "a=%zz"])), 2);
    assert_eq!(code(&kassa(d.path(), &["verify", "return-url", "--key-file", "missing", &q])), 2);
    let no_key = kassa(d.path(), &["verify", "return-url", &q]);
    assert_eq!(code(&no_key), 2);
    assert!(String::from_utf8_lossy(&no_key.stderr).contains("KASSA_RESPONSE_KEY"));
    let env = Command::new(env!("CARGO_BIN_EXE_kassa"))
        .args(["verify", "return-url", &q])
        .env("KASSA_RESPONSE_KEY", "krk_secret")
        .output()
        .unwrap();
    assert_eq!(code(&env), 0);
    // The key never appears in any output.
    for o in [&signed, &bad, &no_key] {
        assert!(!String::from_utf8_lossy(&o.stdout).contains("krk_secret") && !String::from_utf8_lossy(&o.stderr).contains("krk_secret"));
    }
}

#[test]
fn keygen_and_order_details() {
    let d = tempfile::tempdir().unwrap();
    assert_eq!(code(&kassa(d.path(), &["keygen", "--out", "keys"])), 0);
    assert_eq!(code(&kassa(d.path(), &["keygen", "--out", "keys"])), 2, "never overwrites a key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d.path().join("keys/private_key.pem")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let json = r#"{"order_id":"o1","merchant_id":"m1","amount":"1.00","customer_id":"c1","timestamp":"1700000000000"}"#;
    for hex in [false, true] {
        let mut args = vec!["sign", "order-details", "--private-key", "keys/private_key.pem"];
        if hex {
            args.push("--hex");
        }
        args.push(json);
        let sig = stdout(&kassa(d.path(), &args));
        assert_eq!(sig.chars().all(|c| c.is_ascii_hexdigit()), hex, "{sig}");
        let ok = kassa(d.path(), &["verify", "order-details", "--public-key", "keys/public_key.pem", "--signature", &sig, json]);
        assert_eq!(code(&ok), 0);
        let bad = kassa(
            d.path(),
            &["verify", "order-details", "--public-key", "keys/public_key.pem", "--signature", &sig, &json.replace("1.00", "9.00")],
        );
        assert_eq!(code(&bad), 1);
    }
    assert_eq!(code(&kassa(d.path(), &["sign", "order-details", "--private-key", "keys/public_key.pem", json])), 2);
    assert_eq!(code(&kassa(d.path(), &["sign", "order-details", "--private-key", "keys/private_key.pem", "not json"])), 2);
}

#[test]
fn razorpay_and_paytm() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("rs"), "key_secret").unwrap();
    let sig = kassa(d.path(), &["sign", "razorpay", "--secret-file", "rs", "fake_order_id", "fake_payment_id"]);
    assert_eq!(stdout(&sig), "b2335e3b0801106b84a7faff035df56ecffde06918c9ddd1f0fafbb37a51cc89");
    std::fs::write(d.path().join("ws"), "123456\n").unwrap();
    std::fs::write(d.path().join("body.json"), r#"{"a":1,"b":2,"c":{"d":3}}"#).unwrap();
    let good = "2fe04e22977002e6c7cb553adab8b460cb9e2a4970d5953cb27a8472752e3bbc";
    assert_eq!(code(&kassa(d.path(), &["verify", "razorpay-webhook", "--secret-file", "ws", "--signature", good, "body.json"])), 0);
    let flipped = good.replacen('2', "3", 1);
    assert_eq!(code(&kassa(d.path(), &["verify", "razorpay-webhook", "--secret-file", "ws", "--signature", &flipped, "body.json"])), 1);
    assert_eq!(code(&kassa(d.path(), &["verify", "razorpay-webhook", "--secret-file", "ws", "--signature", good, "nope.json"])), 2);

    std::fs::write(d.path().join("pk"), "aBcDeFgHiJkLmNoP\n").unwrap();
    let c = stdout(&kassa(d.path(), &["sign", "paytm", "--key-file", "pk", "--form", "MID=m1&ORDERID=o1"]));
    assert_eq!(code(&kassa(d.path(), &["verify", "paytm", "--key-file", "pk", "--checksum", &c, "--form", "ORDERID=o1&MID=m1"])), 0);
    assert_eq!(code(&kassa(d.path(), &["verify", "paytm", "--key-file", "pk", "--checksum", &c, "m1|o1"])), 0);
    assert_eq!(code(&kassa(d.path(), &["verify", "paytm", "--key-file", "pk", "--checksum", &c, "m1|o2"])), 1);
    assert_eq!(code(&kassa(d.path(), &["verify", "paytm", "--key-file", "pk", "--checksum", "garbage", "m1|o1"])), 1);
    assert_eq!(code(&kassa(d.path(), &["sign", "paytm", "--key-file", "pk"])), 2, "BODY or --form is required");
    std::fs::write(d.path().join("short"), "abc").unwrap();
    assert_eq!(code(&kassa(d.path(), &["sign", "paytm", "--key-file", "short", "x"])), 2);
}

#[test]
fn merchant_add_key() {
    let d = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/k.db", d.path().display());
    let created = kassa(d.path(), &["merchant", "create", "shop1", "--database-url", &db]);
    assert_eq!(code(&created), 0);
    let creds: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    assert!(creds["webhook_secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(code(&kassa(d.path(), &["keygen", "--out", "keys"])), 0);
    let add = ["merchant", "add-key", "shop1", "--key-id", "k1", "--public-key", "keys/public_key.pem", "--database-url", &db];
    assert_eq!(code(&kassa(d.path(), &add)), 0);
    assert_ne!(code(&kassa(d.path(), &add)), 0, "a key id is registered once");
    let private = ["merchant", "add-key", "shop1", "--key-id", "k2", "--public-key", "keys/private_key.pem", "--database-url", &db];
    assert_ne!(code(&kassa(d.path(), &private)), 0, "a private key is refused");
    let nobody = ["merchant", "add-key", "nobody", "--key-id", "k1", "--public-key", "keys/public_key.pem", "--database-url", &db];
    assert_ne!(code(&kassa(d.path(), &nobody)), 0);
}

#[test]
fn merchant_create_checks_the_theme_and_the_allowed_origins() {
    let d = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/k.db", d.path().display());
    std::fs::write(d.path().join("logo.svg"), "<svg xmlns='http://www.w3.org/2000/svg' width='8' height='8'/>").unwrap();
    std::fs::write(d.path().join("logo.gif"), "GIF89a").unwrap();
    let create = |id: &str, extra: &[&str]| {
        let mut args = vec!["merchant", "create", id, "--database-url", db.as_str()];
        args.extend_from_slice(extra);
        kassa(d.path(), &args)
    };
    let ok = create(
        "themed",
        &[
            "--accent",
            "#ffcc00",
            "--radius",
            "4",
            "--logo",
            "logo.svg",
            "--appearance",
            "dark",
            "--allowed-origin",
            "https://shop.example/",
            "--allowed-origin",
            "http://127.0.0.1:8081",
        ],
    );
    assert_eq!(code(&ok), 0, "{}", String::from_utf8_lossy(&ok.stderr));
    for (extra, says) in [
        (&["--accent", "red"][..], "accent"),
        (&["--radius", "30"][..], "radius"),
        (&["--logo", "logo.gif"][..], "--logo"),
        (&["--appearance", "sepia"][..], "--appearance"),
        (&["--allowed-origin", "https://shop.example/checkout"][..], "--allowed-origin"),
        (&["--allowed-origin", "javascript:alert(1)"][..], "--allowed-origin"),
    ] {
        let out = create("bad", extra);
        assert_ne!(code(&out), 0, "{extra:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(says), "{extra:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}
