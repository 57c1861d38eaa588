//! Sandboxes of the gateways' own APIs (SPEC §7): no PSP is reachable from
//! here, so `kassa serve` also serves a Razorpay API ([`razorpay`]) and a
//! Paytm API ([`paytm`]) that speak their wire formats — the official
//! Razorpay SDK and `paytmchecksum` are the check — with Kassa's sandbox
//! test data on their authentication pages. Their state lives in their own
//! tables (`psp_accounts`, `psp_objects`), as a gateway's would.

pub mod paytm;
pub mod razorpay;

use super::route::{Credentials, GatewayKind};
use crate::AppState;
use crate::db::{Db, DbError};
use axum::Router;

/// Where this server serves the sandbox of `kind`'s API.
pub fn sandbox_path(kind: GatewayKind) -> &'static str {
    match kind {
        GatewayKind::Razorpay => "/sandbox/razorpay",
        GatewayKind::Paytm => "/sandbox/paytm",
    }
}

/// Both sandboxes' routes.
pub fn routes() -> Router<AppState> {
    Router::new().merge(razorpay::routes()).merge(paytm::routes())
}

/// One change at a time to a sandbox's objects (read, decide, write), as a gateway's ledger would.
pub(crate) static LEDGER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `n` random characters of `alphabet`.
pub(crate) fn random_chars(n: usize, alphabet: &[u8]) -> String {
    (0..n).map(|_| char::from(alphabet[rand::random_range(0..alphabet.len())])).collect()
}

/// Compares two secrets through their digests (no early exit on the secret's bytes).
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    use sha2::Digest;
    sha2::Sha256::digest(a.as_bytes()) == sha2::Sha256::digest(b.as_bytes())
}

pub(crate) const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Opens an account on this server's sandbox of `kind`; its webhooks (Razorpay) go to Kassa's
/// endpoint for the linked account `kassa_account_id`.
pub async fn create_account(db: &Db, kind: GatewayKind, kassa_account_id: &str) -> Result<Credentials, DbError> {
    let creds = match kind {
        GatewayKind::Razorpay => Credentials::Razorpay {
            key_id: format!("rzp_test_{}", random_chars(14, ALNUM)),
            key_secret: random_chars(24, ALNUM),
            webhook_secret: Some(random_chars(24, ALNUM)),
        },
        GatewayKind::Paytm => Credentials::Paytm {
            mid: format!("KASSA{}", random_chars(15, b"0123456789")),
            merchant_key: random_chars(16, ALNUM),
            website_name: "WEBSTAGING".into(),
        },
    };
    let (key_id, secret, extra) = match &creds {
        Credentials::Razorpay { key_id, key_secret, webhook_secret } => (
            key_id.clone(),
            key_secret.clone(),
            serde_json::json!({ "webhook_path": format!("/gateway/webhooks/{kassa_account_id}"), "webhook_secret": webhook_secret }),
        ),
        Credentials::Paytm { mid, merchant_key, website_name } => {
            (mid.clone(), merchant_key.clone(), serde_json::json!({ "website_name": website_name }))
        }
    };
    db.create_psp_account(kind.as_str(), &key_id, &secret, &extra).await?;
    Ok(creds)
}

/// A JSON text with every non-ASCII character escaped (`\uXXXX`): Paytm's
/// Python SDK checks signatures on the text it slices out of the bytes'
/// `str()`, where non-ASCII would change.
pub(crate) fn ascii_json(v: &serde_json::Value) -> String {
    let mut out = String::new();
    for c in v.to_string().chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// The sandbox bank step both gateways' pages share: the test data and what it decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scenario {
    /// A card: OTP 123456 succeeds.
    OtpSuccess,
    /// A card the bank declines after the OTP.
    OtpDecline,
    /// Netbanking or a wallet: Success / Failure buttons.
    Buttons,
    /// A UPI collect that succeeds after the sandbox delay.
    CollectSuccess,
    /// A UPI collect that fails.
    CollectFailure,
}

impl Scenario {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Scenario::OtpSuccess => "otp_success",
            Scenario::OtpDecline => "otp_decline",
            Scenario::Buttons => "buttons",
            Scenario::CollectSuccess => "collect_success",
            Scenario::CollectFailure => "collect_failure",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Scenario> {
        [Scenario::OtpSuccess, Scenario::OtpDecline, Scenario::Buttons, Scenario::CollectSuccess, Scenario::CollectFailure]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    /// The scenario of a test card, or why it is refused.
    pub(crate) fn of_card(number: &str) -> Result<Scenario, &'static str> {
        match number {
            "4111111111111111" | "5555555555554444" => Ok(Scenario::OtpSuccess),
            "4000000000000002" => Ok(Scenario::OtpDecline),
            n if kassa_types::card::number_valid(n) => Err("the sandbox accepts only its test cards"),
            _ => Err("Card number is invalid."),
        }
    }

    /// The scenario of a test UPI id.
    pub(crate) fn of_vpa(vpa: &str) -> Option<Scenario> {
        match vpa {
            "success@kassa" => Some(Scenario::CollectSuccess),
            "failure@kassa" => Some(Scenario::CollectFailure),
            _ => None,
        }
    }
}

/// The outcome of the bank page's answer: Some(true) paid, Some(false) failed (with whether
/// authentication failed), as (paid, authentication_failed).
pub(crate) fn decide(scenario: Scenario, action: &str, otp: &str) -> (bool, bool) {
    match (scenario, action) {
        (_, "cancel") => (false, true),
        (Scenario::OtpSuccess, _) if otp == crate::gateway::sandbox::SANDBOX_OTP => (true, false),
        (Scenario::OtpDecline, _) if otp == crate::gateway::sandbox::SANDBOX_OTP => (false, false),
        (Scenario::Buttons, "approve") => (true, false),
        (Scenario::Buttons, _) => (false, false),
        _ => (false, true),
    }
}

/// The authentication page both sandboxes show (labelled fields, Kassa's test data).
pub(crate) fn bank_page(gateway: &str, action: &str, hidden: &[(&str, &str)], scenario: Scenario, amount: &str) -> String {
    use crate::pages::esc;
    let hidden = crate::pages::hidden_inputs(hidden.iter().copied());
    let form = match scenario {
        Scenario::OtpSuccess | Scenario::OtpDecline => format!(
            "<form method=\"post\" action=\"{a}\">{hidden}<label for=\"otp\">One-time password</label>\
             <input id=\"otp\" name=\"otp\" inputmode=\"numeric\" autocomplete=\"one-time-code\" maxlength=\"8\" required>\
             <p class=\"hint\">Sandbox: <code>123456</code> approves; any other OTP fails authentication.</p>\
             <button type=\"submit\" name=\"action\" value=\"submit\">Submit OTP</button>\
             <button type=\"submit\" name=\"action\" value=\"cancel\" class=\"secondary\" formnovalidate>Cancel payment</button></form>",
            a = esc(action)
        ),
        Scenario::Buttons | Scenario::CollectSuccess | Scenario::CollectFailure => format!(
            "<form method=\"post\" action=\"{a}\">{hidden}<p class=\"hint\">Sandbox: choose the outcome of this payment.</p>\
             <button type=\"submit\" name=\"action\" value=\"approve\">Success</button>\
             <button type=\"submit\" name=\"action\" value=\"decline\" class=\"secondary\">Failure</button></form>",
            a = esc(action)
        ),
    };
    let inner = format!(
        "<p class=\"badge\">{g} sandbox</p><h1>Authorise payment</h1><dl><dt>Amount</dt><dd class=\"amount\">{amount}</dd></dl>{form}",
        g = esc(gateway),
        amount = esc(amount),
    );
    crate::pages::simple_page(&format!("{gateway} sandbox"), &inner)
}

/// The page that posts the gateway's signed answer back to the merchant's callback URL.
pub(crate) fn callback_page(gateway: &str, url: &str, fields: &[(String, String)]) -> axum::response::Response {
    use crate::pages::esc;
    let inputs = crate::pages::hidden_inputs(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let inner = format!(
        "<p class=\"badge\">{g} sandbox</p><h1>Returning to the shop</h1><form method=\"post\" action=\"{u}\">{inputs}\
         <button type=\"submit\">Return to the shop</button></form><script src=\"/gateway/autosubmit.js\"></script>",
        g = esc(gateway),
        u = esc(url),
    );
    // The merchant's callback redirects on to wherever the merchant sends the shopper, which a
    // gateway cannot know: form-action (enforced on redirects too) is left open, as a gateway's is.
    crate::pages::html(
        axum::http::StatusCode::OK,
        &crate::pages::csp("'none'", "*"),
        crate::pages::simple_page(&format!("{gateway} sandbox"), &inner),
    )
}
