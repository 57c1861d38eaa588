//! Which gateway an order goes to (SPEC §7): the merchant's accounts at
//! real gateways, Juspay's gateway numbering, seed 000's mandatory
//! parameters, and the routing rule.

use crate::secret::Secret;
use serde::{Deserialize, Serialize};

/// A gateway Kassa has an adapter for, besides its built-in sandbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GatewayKind {
    /// Razorpay (seed 002): Orders API, S2S payments, HMAC signatures.
    Razorpay,
    /// Paytm (seed 004): Create Order with `head.signature`, `txnToken`, checksums.
    Paytm,
}

/// Juspay's `gateway_id` numbers, from Juspay's Euler backend
/// (`Euler/Common/Types/Gateway.hs`, `gatewayList`: `(PAYU, 12)`,
/// `(PAYTM, 18)`, `(PAYTM_V2, 19)`, `(RAZORPAY, 23)`; seed 001 quotes 12
/// and 18). README "Gateways" lists the source.
pub const JUSPAY_GATEWAY_IDS: &[(&str, u16)] = &[
    ("AXIS", 1),
    ("HDFC", 2),
    ("ICICI", 3),
    ("CITI", 4),
    ("AMEX", 5),
    ("CYBERSOURCE", 6),
    ("KOTAK", 9),
    ("EBS", 11),
    ("PAYU", 12),
    ("CCAVENUE", 13),
    ("CITRUS", 14),
    ("PAYTM", 18),
    ("PAYTM_V2", 19),
    ("RAZORPAY", 23),
    ("FREECHARGE", 33),
];

impl GatewayKind {
    /// Both.
    pub const ALL: [GatewayKind; 2] = [GatewayKind::Razorpay, GatewayKind::Paytm];

    /// Stored and command-line name.
    pub fn as_str(self) -> &'static str {
        match self {
            GatewayKind::Razorpay => "razorpay",
            GatewayKind::Paytm => "paytm",
        }
    }

    /// Parses a stored or command-line name.
    pub fn parse(s: &str) -> Option<GatewayKind> {
        GatewayKind::ALL.into_iter().find(|k| k.as_str().eq_ignore_ascii_case(s))
    }

    /// Juspay's `gateway_id` of it (what the status body shows).
    pub fn juspay_id(self) -> u16 {
        match self {
            GatewayKind::Razorpay => 23,
            GatewayKind::Paytm => 18,
        }
    }

    /// The gateway an order's `gateway_id` names: Juspay's number (Paytm's
    /// two, 18 and 19, are one adapter), or its name.
    pub fn from_gateway_id(id: &str) -> Option<GatewayKind> {
        match id.trim() {
            "23" => Some(GatewayKind::Razorpay),
            "18" | "19" => Some(GatewayKind::Paytm),
            name => GatewayKind::parse(name),
        }
    }

    /// Its name on the shopper's pages.
    pub fn display(self) -> &'static str {
        match self {
            GatewayKind::Razorpay => "Razorpay",
            GatewayKind::Paytm => "Paytm",
        }
    }

    /// The order fields seed 000's "Mandatory Parameters" table marks "Yes"
    /// for this gateway, beyond `order_id` and `amount` (always required):
    /// for Razorpay and Paytm the same four.
    pub fn mandatory_fields(self) -> &'static [&'static str] {
        match self {
            GatewayKind::Razorpay | GatewayKind::Paytm => &["customer_id", "customer_email", "customer_phone", "description"],
        }
    }
}

/// What an account needs to talk to its gateway.
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "gateway", rename_all = "lowercase")]
pub enum Credentials {
    /// Razorpay's API key pair, and the secret its webhooks are signed with.
    Razorpay {
        /// `rzp_test_…` / `rzp_live_…`.
        key_id: String,
        /// The key secret (Basic password, and the payment signature key).
        key_secret: String,
        /// The webhook secret (`X-Razorpay-Signature`); `None`: webhooks are refused.
        #[serde(default)]
        webhook_secret: Option<String>,
    },
    /// Paytm's merchant id and key.
    Paytm {
        /// `mid`.
        mid: String,
        /// The merchant key (checksums).
        merchant_key: String,
        /// `websiteName`.
        website_name: String,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Razorpay { key_id, .. } => write!(f, "Razorpay {{ key_id: {key_id}, secrets: *** }}"),
            Credentials::Paytm { mid, website_name, .. } => write!(f, "Paytm {{ mid: {mid}, website_name: {website_name}, key: *** }}"),
        }
    }
}

impl Credentials {
    /// Which gateway they are for.
    pub fn kind(&self) -> GatewayKind {
        match self {
            Credentials::Razorpay { .. } => GatewayKind::Razorpay,
            Credentials::Paytm { .. } => GatewayKind::Paytm,
        }
    }

    /// Stored form (JSON), a secret.
    pub fn to_secret(&self) -> Secret {
        Secret::new(serde_json::to_string(self).unwrap_or_default())
    }
}

/// What linking an account asks for (the command line's flags, the dashboard's form).
#[derive(Clone, Debug, Default)]
pub struct LinkRequest {
    /// `metadata.JUSPAY:gateway_reference_id` that picks it ("" for none).
    pub reference_id: String,
    /// Open an account on this server's own sandbox of the gateway instead.
    pub sandbox: bool,
    /// The gateway's API base URL (default: Razorpay's; Paytm's is required).
    pub base_url: Option<String>,
    /// Razorpay: key id.
    pub key_id: Option<String>,
    /// Razorpay: key secret.
    pub key_secret: Option<String>,
    /// Razorpay: webhook secret.
    pub webhook_secret: Option<String>,
    /// Paytm: merchant id.
    pub mid: Option<String>,
    /// Paytm: merchant key.
    pub merchant_key: Option<String>,
    /// Paytm: website name.
    pub website_name: Option<String>,
}

/// Why an account was not linked.
#[derive(Debug)]
pub enum LinkError {
    /// The request does not hold (naming the field as the caller calls it).
    Invalid(String),
    /// The database failed.
    Db(crate::db::DbError),
}

impl From<String> for LinkError {
    fn from(why: String) -> LinkError {
        LinkError::Invalid(why)
    }
}

impl From<crate::db::DbError> for LinkError {
    fn from(e: crate::db::DbError) -> LinkError {
        LinkError::Db(e)
    }
}

impl std::fmt::Display for LinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LinkError::Invalid(why) => f.write_str(why),
            LinkError::Db(e) => write!(f, "{e}"),
        }
    }
}

/// Links an account at gateway `kind` to merchant `merchant_id`, last in its
/// routing preference: checks `r`, opens a sandbox account when asked, and
/// stores it (credentials sealed). The account and its priority; else why not
/// (naming the field as `field` calls it).
pub async fn link_account(
    db: &crate::db::Db,
    merchant_id: &str,
    kind: GatewayKind,
    r: LinkRequest,
    field: impl Fn(&str) -> String,
) -> Result<(Account, i64), LinkError> {
    if r.reference_id.len() > 64 || !r.reference_id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')) {
        return Err(format!("{} must be at most 64 letters, digits, '_', '-' or '.'", field("reference_id")).into());
    }
    let given = |v: Option<String>, name: &str| -> Result<String, String> {
        v.map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("{} is required (or a sandbox account)", field(name)))
    };
    let base_url = match r.base_url.filter(|u| !u.trim().is_empty()) {
        Some(u) => {
            let parsed = url::Url::parse(u.trim()).map_err(|_| format!("{} must be an absolute URL", field("base_url")))?;
            if !matches!(parsed.scheme(), "https" | "http") {
                return Err(format!("{} must be http(s)", field("base_url")).into());
            }
            u.trim().trim_end_matches('/').to_string()
        }
        None if r.sandbox => String::new(),
        None => match kind {
            GatewayKind::Razorpay => "https://api.razorpay.com".into(),
            // Seed 004's Create Order lives on Paytm's AI router, the payment and status APIs on its PG:
            // which host serves both for an account is Paytm's to say, so it is asked for.
            GatewayKind::Paytm => {
                return Err(format!("{} is required for a Paytm account (the host Paytm gave for its API)", field("base_url")).into());
            }
        },
    };
    let taken = |kind: GatewayKind, reference_id: &str| {
        format!("this merchant already has a {} account with reference id {reference_id:?}", kind.as_str())
    };
    // Refused before a sandbox account is opened for nothing.
    if db.gateway_accounts(merchant_id).await?.iter().any(|a| a.kind() == kind && a.reference_id == r.reference_id) {
        return Err(taken(kind, &r.reference_id).into());
    }
    let id = crate::random_id("gwa_");
    let credentials = if r.sandbox {
        crate::gateway::psp::create_account(db, kind, &id).await?
    } else {
        match kind {
            GatewayKind::Razorpay => Credentials::Razorpay {
                key_id: given(r.key_id, "key_id")?,
                key_secret: given(r.key_secret, "key_secret")?,
                webhook_secret: r.webhook_secret.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
            },
            GatewayKind::Paytm => {
                let merchant_key = given(r.merchant_key, "merchant_key")?;
                if ![16, 32].contains(&merchant_key.len()) {
                    return Err(LinkError::Invalid("a Paytm merchant key is 16 or 32 characters".into()));
                }
                Credentials::Paytm { mid: given(r.mid, "mid")?, merchant_key, website_name: given(r.website_name, "website_name")? }
            }
        }
    };
    let account = Account { id, merchant_id: merchant_id.to_string(), reference_id: r.reference_id, priority: 0, credentials, base_url };
    match db.add_gateway_account(&account).await {
        Ok(p) => Ok((account, p)),
        Err(crate::db::DbError::Conflict) => Err(taken(kind, &account.reference_id).into()),
        Err(e) => Err(e.into()),
    }
}

/// A merchant's account at a gateway.
#[derive(Clone, Debug)]
pub struct Account {
    /// `gwa_<32 hex>`.
    pub id: String,
    /// Owner.
    pub merchant_id: String,
    /// `metadata.JUSPAY:gateway_reference_id` that picks it ("" for none).
    pub reference_id: String,
    /// Lower is preferred.
    pub priority: i64,
    /// Credentials.
    pub credentials: Credentials,
    /// The gateway's API base URL; "" for this server's own sandbox of it.
    pub base_url: String,
}

impl Account {
    /// Its gateway.
    pub fn kind(&self) -> GatewayKind {
        self.credentials.kind()
    }

    /// The API base URL, this server's sandbox of the gateway when none was given.
    pub fn base(&self, public_url: &str) -> String {
        if self.base_url.is_empty() {
            format!("{public_url}{}", crate::gateway::psp::sandbox_path(self.kind()))
        } else {
            self.base_url.trim_end_matches('/').to_string()
        }
    }
}

/// Why an order cannot be routed.
#[derive(Debug, PartialEq, Eq)]
pub enum RouteError {
    /// The gateway it names is not one of the merchant's.
    NoAccount(String),
    /// It lacks fields its gateway requires (seed 000), all of them named.
    Missing(GatewayKind, Vec<&'static str>),
}

/// Routes an order: `gateway_id` (Juspay's number, or Kassa's sandbox
/// number) and `metadata.JUSPAY:gateway_reference_id` pick one of the
/// merchant's `accounts`; without them, the first by the merchant's
/// preference; a merchant without accounts pays through the built-in
/// sandbox (`None`). `present` says whether the order has a field.
pub fn route<'a>(
    accounts: &'a [Account],
    gateway_id: Option<&str>,
    reference_id: Option<&str>,
    sandbox_id: u16,
    present: impl Fn(&str) -> bool,
) -> Result<Option<&'a Account>, RouteError> {
    let chosen = match gateway_id.map(str::trim) {
        Some(id) if id == sandbox_id.to_string() => {
            if reference_id.is_some_and(|r| !r.is_empty()) {
                return Err(RouteError::NoAccount("the built-in sandbox has no reference ids".into()));
            }
            return Ok(None);
        }
        Some(id) => {
            let kind = GatewayKind::from_gateway_id(id).ok_or_else(|| {
                RouteError::NoAccount(format!("gateway_id {:?} names a gateway this merchant has no account for", trunc(id)))
            })?;
            let mut of_kind = accounts.iter().filter(|a| a.kind() == kind);
            let found = match reference_id {
                Some(r) => of_kind.find(|a| a.reference_id == r),
                None => of_kind.min_by_key(|a| a.priority),
            };
            Some(found.ok_or_else(|| match reference_id {
                Some(r) => RouteError::NoAccount(format!(
                    "this merchant has no {} account with gateway_reference_id {:?}",
                    kind.display(),
                    trunc(r)
                )),
                None => RouteError::NoAccount(format!("this merchant has no {} account (gateway_id {id})", kind.display())),
            })?)
        }
        None => match reference_id {
            Some(r) => Some(
                accounts
                    .iter()
                    .filter(|a| a.reference_id == r)
                    .min_by_key(|a| a.priority)
                    .ok_or_else(|| RouteError::NoAccount(format!("no gateway account has gateway_reference_id {:?}", trunc(r))))?,
            ),
            None => accounts.iter().min_by_key(|a| a.priority),
        },
    };
    if let Some(account) = chosen {
        let missing: Vec<&'static str> = account.kind().mandatory_fields().iter().copied().filter(|f| !present(f)).collect();
        if !missing.is_empty() {
            return Err(RouteError::Missing(account.kind(), missing));
        }
    }
    Ok(chosen)
}

fn trunc(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(id: &str, creds: Credentials, reference: &str, priority: i64) -> Account {
        Account {
            id: id.into(),
            merchant_id: "m".into(),
            reference_id: reference.into(),
            priority,
            credentials: creds,
            base_url: String::new(),
        }
    }

    #[test]
    fn routing_follows_gateway_id_reference_and_preference() {
        let rzp = || Credentials::Razorpay { key_id: "rzp_test_x".into(), key_secret: "s".into(), webhook_secret: None };
        let ptm = Credentials::Paytm { mid: "M".into(), merchant_key: "k".into(), website_name: "WEBSTAGING".into() };
        let accounts = vec![acct("a", rzp(), "", 2), acct("b", rzp(), "second", 3), acct("c", ptm, "", 1)];
        let all = |_: &str| true;
        let pick = |g: Option<&str>, r: Option<&str>| route(&accounts, g, r, 999, all).map(|a| a.map(|a| a.id.clone()));
        assert_eq!(pick(None, None), Ok(Some("c".into())));
        assert_eq!(pick(Some("23"), None), Ok(Some("a".into())));
        assert_eq!(pick(Some("23"), Some("second")), Ok(Some("b".into())));
        assert_eq!(pick(Some("18"), None), Ok(Some("c".into())));
        assert_eq!(pick(Some("19"), None), Ok(Some("c".into())));
        assert_eq!(pick(None, Some("second")), Ok(Some("b".into())));
        assert_eq!(pick(Some("999"), None), Ok(None));
        assert!(matches!(pick(Some("12"), None), Err(RouteError::NoAccount(_))));
        assert!(matches!(pick(Some("23"), Some("third")), Err(RouteError::NoAccount(_))));
        assert_eq!(route(&[], None, None, 999, all).map(|a| a.is_some()), Ok(false));
        let missing = route(&accounts, Some("23"), None, 999, |f| f == "customer_id");
        assert_eq!(
            missing.map(|_| ()),
            Err(RouteError::Missing(GatewayKind::Razorpay, vec!["customer_email", "customer_phone", "description"]))
        );
    }

    #[test]
    fn credentials_never_print_secrets() {
        let c = Credentials::Razorpay {
            key_id: "rzp_test_x".into(),
            key_secret: "topsecret".into(),
            webhook_secret: Some("hooksecret".into()),
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("topsecret") && !shown.contains("hooksecret"), "{shown}");
    }
}
