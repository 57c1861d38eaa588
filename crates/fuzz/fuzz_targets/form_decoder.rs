//! libFuzzer target: see `checks::form_decoder`.
#![no_main]

#[path = "checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::form_decoder(data));
