//! `cargo xtask soak [--secs N] [--target NAME]`: the long half of the reliability suite.
//! Runs each cargo-fuzz target of `crates/fuzz` (the form decoder, the amount
//! parser, the return-URL query canonicaliser, the signature parsers) for N
//! seconds (default 60) under libFuzzer and AddressSanitizer, starting from
//! the regression inputs. A crash stops it and names the input: copy it into
//! `crates/fuzz/regressions/<target>/`, where the test suite replays it.
//!
//! cargo-fuzz needs nightly `-Z` flags; this machine has one stable
//! toolchain, so they are enabled with `RUSTC_BOOTSTRAP=1` for these builds only.

use crate::{Result, cargo, output, run, step};

/// The cargo-fuzz release this command installs.
const CARGO_FUZZ: &str = "0.13.1";
const TARGETS: [&str; 4] = ["form_decoder", "amount", "query_canonical", "signatures"];

pub(crate) fn soak(args: &[String]) -> Result<()> {
    let secs: u64 =
        crate::flag(args, "--secs").map_or(Ok(60), |s| s.parse().map_err(|_| "--secs takes a number of seconds".to_string()))?;
    let have = output(cargo().args(["fuzz", "--version"])).unwrap_or_default();
    if !have.contains(CARGO_FUZZ) {
        step(&format!("installing cargo-fuzz {CARGO_FUZZ}"));
        run(cargo().args(["install", "cargo-fuzz", "--version", CARGO_FUZZ, "--locked"]))?;
    }
    let only = crate::flag(args, "--target");
    if let Some(t) = &only
        && !TARGETS.contains(&t.as_str())
    {
        return Err(format!("--target must be one of {}", TARGETS.join(", ")));
    }
    for target in TARGETS.into_iter().filter(|t| only.as_deref().is_none_or(|o| o == *t)) {
        step(&format!("soak: fuzzing {target} for {secs} s (libFuzzer, AddressSanitizer)"));
        let corpus = format!("crates/fuzz/corpus/{target}");
        std::fs::create_dir_all(&corpus).map_err(|e| e.to_string())?;
        let result = run(cargo()
            .args(["fuzz", "run", "--fuzz-dir", "crates/fuzz", target, &corpus, &format!("crates/fuzz/regressions/{target}"), "--"])
            .arg(format!("-max_total_time={secs}"))
            .env("RUSTC_BOOTSTRAP", "1"));
        if let Err(e) = result {
            return Err(format!(
                "{target} crashed ({e}); the input is in crates/fuzz/artifacts/{target}/: copy it into crates/fuzz/regressions/{target}/ and fix"
            ));
        }
    }
    eprintln!("\nsoak: every fuzz target ran {secs} s without a crash");
    Ok(())
}
