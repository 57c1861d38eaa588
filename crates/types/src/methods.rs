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
