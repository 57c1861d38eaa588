//! Mandates (seed 001, `shared/research/psp-apis.md` §2): the terms a
//! merchant asks for on an order (`options.create_mandate`, `mandate.*`),
//! checked as seed 001 says, and the billing cycles that bound executions.
//! No HTTP and no SQL here.

use serde::{Deserialize, Serialize};

/// `options.create_mandate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Mode {
    /// The order is paid only with a method that registers the mandate.
    Required,
    /// The shopper chooses whether to register it.
    Optional,
}

impl Mode {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Required => "REQUIRED",
            Mode::Optional => "OPTIONAL",
        }
    }
}

/// The methods that register a mandate.
pub const CAPABLE: [kassa_types::PaymentMethod; 2] = [kassa_types::PaymentMethod::Card, kassa_types::PaymentMethod::Upi];

/// Where an order's `extra` keeps the mandate terms it asks for.
pub const EXTRA_KEY: &str = "mandate";

/// `mandate.frequency`.
pub const FREQUENCIES: [&str; 10] =
    ["ONETIME", "DAILY", "WEEKLY", "FORTNIGHTLY", "MONTHLY", "BIMONTHLY", "QUARTERLY", "HALFYEARLY", "YEARLY", "ASPRESENTED"];

/// The terms of a mandate, as the order asked for them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    /// REQUIRED or OPTIONAL.
    pub mode: Mode,
    /// The most one execution may take (minor units).
    pub max_amount_minor: i64,
    /// The order's currency (ISO 4217).
    #[serde(default = "inr")]
    pub currency: String,
    /// `FIXED` (every execution takes `max_amount`) or `VARIABLE` (up to it).
    pub amount_rule: String,
    /// One of [`FREQUENCIES`].
    pub frequency: String,
    /// `ON`, `BEFORE` or `AFTER`, if given.
    #[serde(default)]
    pub rule_type: Option<String>,
    /// The day the rule names (1–7 weekly, 1–16 fortnightly, 1–31 monthly and longer).
    #[serde(default)]
    pub rule_value: Option<u8>,
    /// Unix seconds.
    pub start_date: i64,
    /// Unix seconds; UPI mandates need one.
    #[serde(default)]
    pub end_date: Option<i64>,
    /// The shopper may revoke it.
    pub revokable_by_customer: bool,
    /// The amount is blocked (one-time mandates).
    pub block_fund: bool,
}

fn inr() -> String {
    "INR".into()
}

/// How long a mandate with no end date lasts (30 years, in seconds).
pub const DEFAULT_LIFETIME_SECS: i64 = 30 * 365 * 24 * 3600;

impl Terms {
    /// Whether paying by `method` can register the mandate: a card can, UPI
    /// only with an end date the merchant set (NPCI's UPI AutoPay has one).
    pub fn registers_by(&self, method: kassa_types::PaymentMethod) -> bool {
        match method {
            kassa_types::PaymentMethod::Card => true,
            kassa_types::PaymentMethod::Upi => self.end_date.is_some(),
            kassa_types::PaymentMethod::Nb | kassa_types::PaymentMethod::Wallet => false,
        }
    }

    /// When the mandate ends (Unix ms).
    pub fn end_ms(&self) -> i64 {
        self.end_date.unwrap_or(self.start_date.saturating_add(DEFAULT_LIFETIME_SECS)).saturating_mul(1000)
    }

    /// Why `amount_minor` may not be taken by one execution, in Juspay's words, if it may not.
    pub fn refuse_amount(&self, amount_minor: i64) -> Option<&'static str> {
        if self.amount_rule == "FIXED" && amount_minor != self.max_amount_minor {
            Some("Order amount not equal to mandate max amount.")
        } else if amount_minor > self.max_amount_minor {
            Some("Order amount greater than mandate max amount.")
        } else {
            None
        }
    }
}

/// A field of the request that breaks the rules, and why.
#[derive(Debug, PartialEq, Eq)]
pub struct Invalid(pub String);

/// What [`terms`] reads: the request's `options.create_mandate` and `mandate.*` fields.
#[derive(Debug, Default)]
pub struct Asked {
    /// `options.create_mandate`.
    pub mode: Option<String>,
    /// `mandate.<name>` (and the legacy `mandate_max_amount` as `max_amount`).
    pub fields: Vec<(String, String)>,
}

fn day_of(secs: i64, offset_secs: i64) -> Option<time::Date> {
    time::OffsetDateTime::from_unix_timestamp(secs.checked_add(offset_secs)?).ok().map(|t| t.date())
}

/// The terms the order asks for, checked (seed 001): `None` when it asks for
/// no mandate. `amount_minor` is the order's amount, `now_ms` the time.
pub fn terms(asked: Asked, amount_minor: i64, has_customer: bool, now_ms: i64) -> Result<Option<Terms>, Invalid> {
    let bad = |m: &str| Err(Invalid(m.to_string()));
    let Some(mode) = asked.mode else {
        return match asked.fields.first() {
            Some((k, _)) => bad(&format!("mandate.{k} needs options.create_mandate (REQUIRED or OPTIONAL)")),
            None => Ok(None),
        };
    };
    let mode = match mode.as_str() {
        "REQUIRED" => Mode::Required,
        "OPTIONAL" => Mode::Optional,
        _ => return bad("options.create_mandate must be REQUIRED or OPTIONAL"),
    };
    if !has_customer {
        return bad("a mandate belongs to a customer: customer_id is required with options.create_mandate");
    }
    let mut get = std::collections::HashMap::new();
    for (k, v) in asked.fields {
        const KNOWN: [&str; 9] = [
            "max_amount",
            "amount_rule",
            "start_date",
            "end_date",
            "frequency",
            "rule_type",
            "rule_value",
            "revokable_by_customer",
            "block_funds",
        ];
        if !KNOWN.contains(&k.as_str()) {
            return bad(&format!("unknown parameter mandate.{}", k.chars().take(40).collect::<String>()));
        }
        if get.insert(k.clone(), v).is_some() {
            return bad(&format!("mandate.{k} is given twice"));
        }
    }
    let amount_rule = get.remove("amount_rule").unwrap_or_else(|| "VARIABLE".into());
    if amount_rule != "FIXED" && amount_rule != "VARIABLE" {
        return bad("mandate.amount_rule must be FIXED or VARIABLE");
    }
    let max = match get.remove("max_amount") {
        Some(v) => Some(
            kassa_types::Amount::parse(&v)
                .ok()
                .and_then(|a| i64::try_from(a.minor()).ok())
                .filter(|m| *m > 0)
                .ok_or_else(|| Invalid("mandate.max_amount must be a positive amount such as 1000.00".into()))?,
        ),
        None => None,
    };
    let max_amount_minor = match (amount_rule.as_str(), max) {
        ("FIXED", None) => amount_minor,
        ("FIXED", Some(m)) if m != amount_minor => return bad("mandate.amount_rule FIXED means amount equals mandate.max_amount"),
        (_, Some(m)) => m,
        (_, None) => return bad("mandate.max_amount is required when mandate.amount_rule is VARIABLE"),
    };
    if amount_minor > max_amount_minor {
        return bad("amount is greater than mandate.max_amount");
    }
    let now_s = now_ms.div_euclid(1000);
    let epoch = |name: &str, v: String| -> Result<i64, Invalid> {
        v.parse::<i64>()
            .ok()
            .filter(|s| (0..=253_402_300_799).contains(s))
            .ok_or_else(|| Invalid(format!("mandate.{name} must be a UNIX timestamp in seconds")))
    };
    let start_date = match get.remove("start_date") {
        Some(v) => epoch("start_date", v)?,
        None => now_s,
    };
    // "The start date has to be today's date": today in UTC or in India (UTC+5:30).
    const IST: i64 = 19_800;
    if ![0, IST].iter().any(|off| day_of(start_date, *off).is_some() && day_of(start_date, *off) == day_of(now_s, *off)) {
        return bad("mandate.start_date must be today (a UNIX timestamp in seconds, UTC)");
    }
    let end_date = get.remove("end_date").map(|v| epoch("end_date", v)).transpose()?;
    if end_date.is_some_and(|e| e <= start_date.max(now_s)) {
        return bad("mandate.end_date must be after mandate.start_date and in the future");
    }
    let frequency = get.remove("frequency").unwrap_or_else(|| "ASPRESENTED".into());
    if !FREQUENCIES.contains(&frequency.as_str()) {
        return bad(
            "mandate.frequency must be one of ONETIME, DAILY, WEEKLY, FORTNIGHTLY, MONTHLY, BIMONTHLY, QUARTERLY, HALFYEARLY, YEARLY, ASPRESENTED",
        );
    }
    let rule_type = get.remove("rule_type");
    if rule_type.as_deref().is_some_and(|r| !["ON", "BEFORE", "AFTER"].contains(&r)) {
        return bad("mandate.rule_type must be ON, BEFORE or AFTER");
    }
    let range = match frequency.as_str() {
        "WEEKLY" => Some(7),
        "FORTNIGHTLY" => Some(16),
        "MONTHLY" | "BIMONTHLY" | "QUARTERLY" | "HALFYEARLY" | "YEARLY" => Some(31),
        _ => None,
    };
    let rule_value = match (get.remove("rule_value"), range) {
        (None, None) => None,
        (Some(_), None) => return bad(&format!("mandate.rule_value does not apply to frequency {frequency}")),
        (None, Some(_)) => return bad(&format!("mandate.rule_value is required for frequency {frequency}")),
        (Some(v), Some(top)) => Some(
            v.parse::<u8>()
                .ok()
                .filter(|d| (1..=top).contains(d))
                .ok_or_else(|| Invalid(format!("mandate.rule_value must be 1 to {top} for frequency {frequency}")))?,
        ),
    };
    let flag = |name: &str, v: Option<String>| -> Result<Option<bool>, Invalid> {
        match v.map(|s| s.to_ascii_lowercase()).as_deref() {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(Invalid(format!("mandate.{name} must be true or false"))),
        }
    };
    let one_time = frequency == "ONETIME";
    let revokable_by_customer = flag("revokable_by_customer", get.remove("revokable_by_customer"))?.unwrap_or(true);
    if !revokable_by_customer && !one_time {
        return bad("mandate.revokable_by_customer must be true for a recurring mandate (false only for ONETIME)");
    }
    let block_fund = match flag("block_funds", get.remove("block_funds"))? {
        Some(b) if b != one_time => {
            return bad("mandate.block_funds must be true for a ONETIME mandate and false for a recurring one");
        }
        Some(b) => b,
        None => one_time,
    };
    Ok(Some(Terms {
        mode,
        max_amount_minor,
        currency: inr(),
        amount_rule,
        frequency,
        rule_type,
        rule_value,
        start_date,
        end_date,
        revokable_by_customer,
        block_fund,
    }))
}

/// The billing cycle an execution dated `at_ms` falls in (UTC): at most one
/// successful execution per cycle. ASPRESENTED has no cycle (each order is
/// its own); a ONETIME mandate has one.
pub fn cycle(frequency: &str, at_ms: i64, order_pk: &str) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(at_ms.div_euclid(1000)).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let (y, m, d) = (t.year(), u8::from(t.month()), t.day());
    match frequency {
        "ONETIME" => "once".into(),
        "DAILY" => format!("{y}-{m:02}-{d:02}"),
        "WEEKLY" => {
            let (iso_year, week, _) = t.to_iso_week_date();
            format!("{iso_year}-W{week:02}")
        }
        "FORTNIGHTLY" => format!("{y}-{m:02}-F{}", if d <= 15 { 1 } else { 2 }),
        "MONTHLY" => format!("{y}-{m:02}"),
        "BIMONTHLY" => format!("{y}-B{}", m.div_ceil(2)),
        "QUARTERLY" => format!("{y}-Q{}", m.div_ceil(3)),
        "HALFYEARLY" => format!("{y}-H{}", m.div_ceil(6)),
        "YEARLY" => format!("{y}"),
        _ => format!("order:{order_pk}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_800_000_000; // 2025-12-03T22:13:20Z

    fn ask(mode: Option<&str>, fields: &[(&str, &str)]) -> Asked {
        Asked { mode: mode.map(str::to_string), fields: fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() }
    }

    #[test]
    fn terms_follow_seed_001() {
        assert_eq!(terms(ask(None, &[]), 100, true, NOW), Ok(None));
        let ok = terms(ask(Some("REQUIRED"), &[("max_amount", "1000.00"), ("frequency", "MONTHLY"), ("rule_value", "5")]), 100, true, NOW)
            .unwrap()
            .unwrap();
        assert_eq!((ok.max_amount_minor, ok.amount_rule.as_str(), ok.rule_value, ok.block_fund), (100_000, "VARIABLE", Some(5), false));
        assert_eq!(ok.start_date, NOW / 1000);
        let fixed = terms(ask(Some("OPTIONAL"), &[("amount_rule", "FIXED")]), 4999, true, NOW).unwrap().unwrap();
        assert_eq!(fixed.max_amount_minor, 4999);
        let refused = |mode: Option<&str>, f: &[(&str, &str)], customer: bool| terms(ask(mode, f), 100, customer, NOW).unwrap_err().0;
        assert!(refused(None, &[("max_amount", "1")], true).contains("options.create_mandate"));
        assert!(refused(Some("SOMETIMES"), &[], true).contains("REQUIRED or OPTIONAL"));
        assert!(refused(Some("REQUIRED"), &[("max_amount", "10")], false).contains("customer_id"));
        assert!(refused(Some("REQUIRED"), &[], true).contains("max_amount is required"));
        assert!(refused(Some("REQUIRED"), &[("amount_rule", "FIXED"), ("max_amount", "2.00")], true).contains("FIXED"));
        assert!(refused(Some("REQUIRED"), &[("max_amount", "0.50")], true).contains("greater than"));
        assert!(refused(Some("REQUIRED"), &[("max_amount", "-1")], true).contains("positive"));
        assert!(refused(Some("REQUIRED"), &[("max_amount", "10"), ("start_date", "1600000000")], true).contains("today"));
        let yesterday = (NOW / 1000 - 2 * 86_400).to_string();
        assert!(refused(Some("REQUIRED"), &[("max_amount", "10"), ("end_date", &yesterday)], true).contains("end_date"));
        assert!(refused(Some("REQUIRED"), &[("max_amount", "10"), ("frequency", "HOURLY")], true).contains("frequency"));
        assert!(refused(Some("REQUIRED"), &[("max_amount", "10"), ("frequency", "WEEKLY"), ("rule_value", "8")], true).contains("1 to 7"));
        assert!(
            refused(Some("REQUIRED"), &[("max_amount", "10"), ("frequency", "FORTNIGHTLY"), ("rule_value", "17")], true)
                .contains("1 to 16")
        );
        assert!(
            refused(Some("REQUIRED"), &[("max_amount", "10"), ("frequency", "MONTHLY"), ("rule_value", "32")], true).contains("1 to 31")
        );
        assert!(refused(Some("REQUIRED"), &[("max_amount", "10"), ("frequency", "MONTHLY")], true).contains("required"));
        assert!(
            refused(Some("REQUIRED"), &[("max_amount", "10"), ("frequency", "DAILY"), ("rule_value", "2")], true)
                .contains("does not apply")
        );
        assert!(refused(Some("REQUIRED"), &[("max_amount", "10"), ("revokable_by_customer", "false")], true).contains("ONETIME"));
        assert!(refused(Some("REQUIRED"), &[("max_amount", "10"), ("block_funds", "true")], true).contains("block_funds"));
        assert!(
            refused(Some("REQUIRED"), &[("max_amount", "10"), ("frequency", "ONETIME"), ("block_funds", "false")], true)
                .contains("block_funds")
        );
        assert!(refused(Some("REQUIRED"), &[("max_amount", "10"), ("colour", "red")], true).contains("unknown"));
        let one = terms(
            ask(Some("REQUIRED"), &[("max_amount", "10"), ("frequency", "ONETIME"), ("revokable_by_customer", "FALSE")]),
            100,
            true,
            NOW,
        )
        .unwrap()
        .unwrap();
        assert!(one.block_fund && !one.revokable_by_customer);
    }

    #[test]
    fn amounts_and_cycles() {
        let t = terms(ask(Some("REQUIRED"), &[("max_amount", "10.00")]), 100, true, NOW).unwrap().unwrap();
        assert_eq!(t.refuse_amount(1000), None);
        assert!(t.refuse_amount(1001).unwrap().contains("greater"));
        let f = Terms { amount_rule: "FIXED".into(), ..t };
        assert!(f.refuse_amount(999).unwrap().contains("not equal"));
        let day = 86_400_000;
        // 2025-12-03 is a Wednesday in ISO week 49.
        assert_eq!(cycle("MONTHLY", NOW, "o"), "2025-12");
        assert_eq!(cycle("MONTHLY", NOW + 28 * day, "o"), "2025-12");
        assert_eq!(cycle("MONTHLY", NOW + 29 * day, "o"), "2026-01");
        assert_eq!(cycle("WEEKLY", NOW, "o"), cycle("WEEKLY", NOW + 4 * day, "o"));
        assert_ne!(cycle("WEEKLY", NOW, "o"), cycle("WEEKLY", NOW + 5 * day, "o"));
        assert_eq!(cycle("FORTNIGHTLY", NOW, "o"), "2025-12-F1");
        assert_eq!(cycle("FORTNIGHTLY", NOW + 13 * day, "o"), "2025-12-F2");
        assert_eq!(cycle("DAILY", NOW, "o"), "2025-12-03");
        assert_eq!(cycle("QUARTERLY", NOW, "o"), "2025-Q4");
        assert_eq!(cycle("HALFYEARLY", NOW, "o"), "2025-H2");
        assert_eq!(cycle("BIMONTHLY", NOW, "o"), "2025-B6");
        assert_eq!(cycle("ONETIME", NOW, "a"), cycle("ONETIME", NOW + 400 * day, "b"));
        assert_ne!(cycle("ASPRESENTED", NOW, "a"), cycle("ASPRESENTED", NOW, "b"));
    }
}
