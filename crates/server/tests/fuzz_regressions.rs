//! Replays `crates/fuzz/regressions/<target>/*` through the fuzz targets'
//! own checks (`crates/fuzz/fuzz_targets/checks.rs`): every input a fuzzer
//! found (or one kept because it is awkward) stays a regression test here.

#![allow(missing_docs, clippy::unwrap_used)]

#[path = "../../fuzz/fuzz_targets/checks.rs"]
mod checks;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions").join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let result = std::panic::catch_unwind(|| check(&data));
        assert!(result.is_ok(), "{target}: {} fails", path.display());
        n += 1;
    }
    assert!(n > 0, "no regression inputs in {}", dir.display());
}

#[test]
fn form_decoder_regressions() {
    replay("form_decoder", checks::form_decoder);
}

#[test]
fn amount_regressions() {
    replay("amount", checks::amount);
}

#[test]
fn query_canonical_regressions() {
    replay("query_canonical", checks::query_canonical);
}

#[test]
fn signatures_regressions() {
    replay("signatures", checks::signatures);
}
