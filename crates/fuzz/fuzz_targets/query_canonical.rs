//! libFuzzer target: see `checks::query_canonical`.
#![no_main]

#[path = "checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::query_canonical(data));
