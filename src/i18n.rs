//! The page's words in nine languages (seed 001's `language`).
//!
//! English is compiled in (`i18n/english.json`); another language is one
//! small JSON file fetched from the widget's assets when the page needs it,
//! so the critical path of an English page carries no other language. The
//! browser parses the JSON: no parser in the wasm. A merchant can override
//! any string by its key. Lookups go override → language → English.

use wasm_bindgen::{JsCast, JsValue};

/// The languages of seed 001, with their BCP 47 tags.
pub const LANGUAGES: [(&str, &str); 9] = [
    ("english", "en"),
    ("hindi", "hi"),
    ("telugu", "te"),
    ("tamil", "ta"),
    ("bengali", "bn"),
    ("malayalam", "ml"),
    ("gujarati", "gu"),
    ("kannada", "kn"),
    ("marathi", "mr"),
];

/// The English strings, the fallback for every key.
pub const ENGLISH_JSON: &str = include_str!("../i18n/english.json");

macro_rules! keys {
    ($($name:ident = $id:literal,)*) => {
        /// A string of the page, by its key in the language files.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[allow(missing_docs)]
        pub enum Key { $($name,)* }

        impl Key {
            /// Every key, in file order.
            pub const ALL: &[Key] = &[$(Key::$name,)*];

            /// The key's name in the language files and in merchant overrides.
            pub fn id(self) -> &'static str {
                match self { $(Key::$name => $id,)* }
            }
        }
    };
}

keys! {
    Order = "order",
    Secured = "secured",
    Methods = "methods",
    TabCard = "tab_card",
    TabNb = "tab_nb",
    TabWallet = "tab_wallet",
    TabUpi = "tab_upi",
    Paid = "paid",
    Expired = "expired",
    InProgress = "in_progress",
    NoMethod = "no_method",
    Offline = "offline",
    Retry = "retry",
    Redirecting = "redirecting",
    Processing = "processing",
    Pay = "pay",
    Loading = "loading",
    ExpiresIn = "expires_in",
    CardNumber = "card_number",
    CardExpiry = "card_expiry",
    CardCvv = "card_cvv",
    CardName = "card_name",
    ErrCardNumber = "err_card_number",
    ErrExpiry = "err_expiry",
    ErrCardExpired = "err_card_expired",
    ErrCvv3 = "err_cvv3",
    ErrCvv4 = "err_cvv4",
    ErrName = "err_name",
    ChooseBank = "choose_bank",
    ChooseWallet = "choose_wallet",
    ErrBank = "err_bank",
    ErrWallet = "err_wallet",
    SearchBank = "search_bank",
    PopularBanks = "popular_banks",
    OtherBanks = "other_banks",
    NoBank = "no_bank",
    UpiId = "upi_id",
    UpiHint = "upi_hint",
    ErrUpi = "err_upi",
    UpiWaiting = "upi_waiting",
    UpiTimeLeft = "upi_time_left",
    Cancel = "cancel",
    UpiCancelled = "upi_cancelled",
    UpiTimeout = "upi_timeout",
    ResultSuccess = "result_success",
    ResultFailed = "result_failed",
    ResultPending = "result_pending",
    HoldNote = "hold_note",
    Held = "held",
    Closed = "closed",
    SavedCards = "saved_cards",
    NewCard = "new_card",
    SaveCard = "save_card",
    CardEnding = "card_ending",
    CardExpiredTag = "card_expired_tag",
    MandateTerms = "mandate_terms",
    MandateTermsFixed = "mandate_terms_fixed",
    MandateRevocable = "mandate_revocable",
    MandateIrrevocable = "mandate_irrevocable",
    MandateOptIn = "mandate_opt_in",
    FreqOnetime = "freq_onetime",
    FreqDaily = "freq_daily",
    FreqWeekly = "freq_weekly",
    FreqFortnightly = "freq_fortnightly",
    FreqMonthly = "freq_monthly",
    FreqBimonthly = "freq_bimonthly",
    FreqQuarterly = "freq_quarterly",
    FreqHalfyearly = "freq_halfyearly",
    FreqYearly = "freq_yearly",
    FreqAspresented = "freq_aspresented",
}

/// The language a page asks for (`language` of the payload or the page URL),
/// if it is one of [`LANGUAGES`]; names are matched case-insensitively.
pub fn known_language(asked: &str) -> Option<&'static str> {
    LANGUAGES.iter().map(|(name, _)| *name).find(|name| name.eq_ignore_ascii_case(asked.trim()))
}

/// The BCP 47 tag of a language name (`hindi` → `hi`); English otherwise.
pub fn lang_tag(language: &str) -> &'static str {
    LANGUAGES.iter().find(|(name, _)| *name == language).map_or("en", |(_, tag)| tag)
}

/// The page's strings: one JS object, English overlaid by the language's
/// table and then by the merchant's overrides.
#[derive(Clone, Debug)]
pub struct Strings {
    table: js_sys::Object,
    /// The language name in use (`english` when a table could not be had).
    pub language: &'static str,
}

impl Strings {
    /// English only.
    pub fn english() -> Strings {
        Strings::build("english", None, None)
    }

    /// English, overlaid by `language_table` and then by `overrides` (objects
    /// of key → string; anything else in them is ignored).
    pub fn build(language: &'static str, language_table: Option<&JsValue>, overrides: Option<&JsValue>) -> Strings {
        let english = js_sys::JSON::parse(ENGLISH_JSON).ok().and_then(|v| v.dyn_into::<js_sys::Object>().ok()).unwrap_or_default();
        let table = js_sys::Object::new();
        js_sys::Object::assign(&table, &english);
        for layer in [language_table, overrides].into_iter().flatten() {
            if let Some(obj) = layer.dyn_ref::<js_sys::Object>() {
                for key in Key::ALL {
                    let id = JsValue::from_str(key.id());
                    if let Ok(v) = js_sys::Reflect::get(obj, &id)
                        && v.is_string()
                    {
                        let _ = js_sys::Reflect::set(&table, &id, &v);
                    }
                }
            }
        }
        Strings { table, language }
    }

    /// The string for `key`.
    pub fn get(&self, key: Key) -> String {
        js_sys::Reflect::get(&self.table, &JsValue::from_str(key.id())).ok().and_then(|v| v.as_string()).unwrap_or_default()
    }

    /// The string for `key` with `{name}` placeholders filled in.
    pub fn fill(&self, key: Key, values: &[(&str, &str)]) -> String {
        let mut s = self.get(key);
        for (name, value) in values {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }

    /// The BCP 47 tag of the language in use.
    pub fn tag(&self) -> &'static str {
        lang_tag(self.language)
    }
}

/// Fetches `{assets_base}/i18n/{language}.json`; `None` (and a console
/// warning) when it cannot be had, so the page falls back to English.
pub async fn fetch_table(assets_base: &str, language: &str) -> Option<JsValue> {
    let url = format!("{}/i18n/{language}.json", assets_base.trim_end_matches('/'));
    let window = web_sys::window()?;
    let got = async {
        let resp: web_sys::Response = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(&url)).await.ok()?.dyn_into().ok()?;
        if !resp.ok() {
            return None;
        }
        wasm_bindgen_futures::JsFuture::from(resp.json().ok()?).await.ok()
    }
    .await;
    if got.is_none() {
        web_sys::console::warn_1(&format!("kassa: could not load {url}; showing English").into());
    }
    got
}
