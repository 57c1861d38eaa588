//! Banks and wallets offered by the sandbox gateway, shared by the page and the server.

/// Netbanking banks (code, name), popular ones first.
pub const BANKS: &[(&str, &str)] = &[
    ("NB_SBI", "State Bank of India"),
    ("NB_HDFC", "HDFC Bank"),
    ("NB_ICICI", "ICICI Bank"),
    ("NB_AXIS", "Axis Bank"),
    ("NB_KOTAK", "Kotak Mahindra Bank"),
    ("NB_PNB", "Punjab National Bank"),
    ("NB_BOB", "Bank of Baroda"),
    ("NB_YESB", "Yes Bank"),
];

/// Wallets (code, name).
pub const WALLETS: &[(&str, &str)] = &[("PAYTM", "Paytm"), ("MOBIKWIK", "MobiKwik"), ("PHONEPE", "PhonePe"), ("AMAZONPAY", "Amazon Pay")];

/// Whether `vpa` looks like a UPI id: `name@handle`, the name 2–256 of
/// `A–Z a–z 0–9 . _ -`, the handle 2–64 letters and digits.
///
/// ```
/// assert!(kassa_types::methods::vpa_valid("success@kassa"));
/// assert!(!kassa_types::methods::vpa_valid("not a vpa"));
/// ```
pub fn vpa_valid(vpa: &str) -> bool {
    let Some((name, handle)) = vpa.split_once('@') else { return false };
    (2..=256).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && (2..=64).contains(&handle.len())
        && handle.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// How many of [`BANKS`] are listed as popular, above the rest.
pub const POPULAR_BANKS: usize = 4;
