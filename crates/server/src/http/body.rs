//! Request bodies: `application/x-www-form-urlencoded` (the Juspay default)
//! or JSON, read into one flat list of fields so both get the same rules.
//!
//! JSON objects flatten to dotted names (`{"metadata":{"webhook_url":…}}` is
//! `metadata.webhook_url`), as the form encoding spells them.

use crate::http::error::AppError;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;

/// Fields of a request body, consumed by name; whatever is left over is an error.
#[derive(Debug, Default)]
pub struct Fields(Vec<(String, String)>);

/// `Fields` as an extractor: reads the body (every rejection answered in the
/// JSON error shape, not axum's plain text) and parses it by `Content-Type`.
impl<S: Send + Sync> axum::extract::FromRequest<S> for Fields {
    type Rejection = AppError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Fields, AppError> {
        let headers = req.headers().clone();
        let body = match Bytes::from_request(req, state).await {
            Ok(b) => b,
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(AppError {
                    status: axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                    code: "payload_too_large",
                    message: format!("the body is larger than {} bytes", crate::MAX_BODY),
                    retry_after: None,
                });
            }
            Err(_) => return Err(AppError::bad_request("invalid_request", "the body could not be read")),
        };
        Fields::parse(&headers, &body)
    }
}

impl Fields {
    /// Parses a body according to its `Content-Type`.
    pub fn parse(headers: &HeaderMap, body: &Bytes) -> Result<Fields, AppError> {
        let ct = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let pairs = match mime.as_str() {
            "application/x-www-form-urlencoded" => parse_form(body)?,
            "application/json" => parse_json(body)?,
            "" if body.is_empty() => Vec::new(),
            _ => {
                return Err(AppError {
                    status: axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    code: "unsupported_media_type",
                    message: "send application/x-www-form-urlencoded or application/json".into(),
                    retry_after: None,
                });
            }
        };
        // Linear in the number of fields (at most MAX_FIELDS), whatever the body.
        let mut seen = std::collections::HashSet::with_capacity(pairs.len());
        for (k, _) in &pairs {
            if !seen.insert(k.as_str()) {
                return Err(AppError::bad_request("duplicate_parameter", format!("parameter {} is given more than once", shown(k))));
            }
        }
        Ok(Fields(pairs))
    }

    /// Every field, in the order sent (a gateway's signed callback is checked over all of them).
    pub fn into_pairs(self) -> Vec<(String, String)> {
        self.0
    }

    /// Fields from already-decoded pairs (no duplicates expected).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Fields {
        Fields(pairs)
    }

    /// Whether a field is present with a value.
    pub fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, v)| k == key && !v.is_empty())
    }

    /// A digest of every field (sorted), to tell a repeat of the same request
    /// from a different one. `options.*` fields do not change what is
    /// created, except `options.create_mandate`.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut pairs: Vec<&(String, String)> =
            self.0.iter().filter(|(k, v)| (!k.starts_with("options.") || k == "options.create_mandate") && !v.is_empty()).collect();
        pairs.sort();
        let mut h = Sha256::new();
        for (k, v) in pairs {
            h.update((k.len() as u64).to_le_bytes());
            h.update(k.as_bytes());
            h.update((v.len() as u64).to_le_bytes());
            h.update(v.as_bytes());
        }
        hex::encode(h.finalize())
    }

    /// Removes and returns a field; an empty value counts as absent.
    pub fn take(&mut self, key: &str) -> Option<String> {
        let i = self.0.iter().position(|(k, _)| k == key)?;
        let (_, v) = self.0.swap_remove(i);
        (!v.is_empty()).then_some(v)
    }

    /// Removes and returns a field, an empty value included.
    pub fn take_raw(&mut self, key: &str) -> Option<String> {
        let i = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.swap_remove(i).1)
    }

    /// Like [`Fields::take`] but required.
    pub fn require(&mut self, key: &'static str) -> Result<String, AppError> {
        self.take(key).ok_or_else(|| AppError::bad_request("missing_parameter", format!("{key} is required")))
    }

    /// An optional amount field (seed 000's decimal form).
    pub fn amount(&mut self, key: &str) -> Result<Option<kassa_types::Amount>, AppError> {
        self.take(key)
            .map(|a| kassa_types::Amount::parse(&a).map_err(|e| AppError::bad_request("invalid_amount", e.to_string())))
            .transpose()
    }

    /// A required amount field.
    pub fn require_amount(&mut self, key: &'static str) -> Result<kassa_types::Amount, AppError> {
        self.amount(key)?.ok_or_else(|| AppError::bad_request("missing_parameter", format!("{key} is required")))
    }

    /// Removes every field whose name starts with `prefix`.
    pub fn take_prefixed(&mut self, prefix: &str) -> Vec<(String, String)> {
        let (taken, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.0).into_iter().partition(|(k, _)| k.starts_with(prefix));
        self.0 = kept;
        taken
    }

    /// Fails if any field was not consumed.
    pub fn finish(self) -> Result<(), AppError> {
        match self.0.first() {
            None => Ok(()),
            Some((k, _)) => Err(AppError::bad_request("unknown_parameter", format!("unknown parameter {}", shown(k)))),
        }
    }
}

/// A field name as it may appear in an error message: bounded and printable.
fn shown(name: &str) -> String {
    let s: String = name.chars().filter(|c| !c.is_control()).take(40).collect();
    format!("`{s}`")
}

/// The most fields a body may have: every endpoint needs far fewer (an order
/// with all its udfs, addresses and metadata has about 60).
pub const MAX_FIELDS: usize = 256;

fn too_many() -> AppError {
    AppError::bad_request("too_many_parameters", format!("the body has more than {MAX_FIELDS} fields"))
}

fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, AppError> {
    let bad = || AppError::bad_request("invalid_request", "the form body is not valid application/x-www-form-urlencoded");
    // Counted before anything is decoded.
    if body.split(|b| *b == b'&').filter(|p| !p.is_empty()).nth(MAX_FIELDS).is_some() {
        return Err(too_many());
    }
    let mut out = Vec::new();
    for part in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let mut it = part.splitn(2, |b| *b == b'=');
        let k = it.next().unwrap_or_default();
        let v = it.next().ok_or_else(bad)?;
        let k = kassa_sign::encode::form_decode(std::str::from_utf8(k).map_err(|_| bad())?).ok_or_else(bad)?;
        let v = kassa_sign::encode::form_decode(std::str::from_utf8(v).map_err(|_| bad())?).ok_or_else(bad)?;
        if k.is_empty() {
            return Err(bad());
        }
        out.push((k, v));
    }
    Ok(out)
}

fn parse_json(body: &[u8]) -> Result<Vec<(String, String)>, AppError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| AppError::bad_request("invalid_request", "the body is not valid JSON"))?;
    let serde_json::Value::Object(map) = value else {
        return Err(AppError::bad_request("invalid_request", "the JSON body must be an object"));
    };
    let mut out = Vec::new();
    flatten("", map, &mut out, 0)?;
    Ok(out)
}

/// Fields whose value is a JSON document of its own, kept as its text (form
/// bodies send the text): Juspay's `payment_filter`.
const JSON_VALUED: &[&str] = &["payment_filter"];

fn flatten(
    prefix: &str,
    map: serde_json::Map<String, serde_json::Value>,
    out: &mut Vec<(String, String)>,
    depth: usize,
) -> Result<(), AppError> {
    if depth > 2 {
        return Err(AppError::bad_request("invalid_request", "the JSON body is nested too deeply"));
    }
    for (k, v) in map {
        if out.len() >= MAX_FIELDS {
            return Err(too_many());
        }
        let name = if prefix.is_empty() { k } else { format!("{prefix}.{k}") };
        if JSON_VALUED.contains(&name.as_str()) && (v.is_object() || v.is_array()) {
            out.push((name, v.to_string()));
            continue;
        }
        match v {
            serde_json::Value::Null => {}
            serde_json::Value::String(s) => out.push((name, s)),
            serde_json::Value::Bool(b) => out.push((name, b.to_string())),
            serde_json::Value::Number(n) => out.push((name, n.to_string())),
            serde_json::Value::Object(m) => flatten(&name, m, out, depth + 1)?,
            serde_json::Value::Array(_) => {
                return Err(AppError::bad_request("invalid_request", format!("{} must not be an array", shown(&name))));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_str(ct).expect("header"));
        h
    }

    #[test]
    fn form_and_json_give_the_same_fields() {
        let mut f =
            Fields::parse(&headers("application/x-www-form-urlencoded"), &Bytes::from("a=1&metadata.webhook_url=x%20y")).expect("form");
        assert_eq!(f.take("a").as_deref(), Some("1"));
        assert_eq!(f.take("metadata.webhook_url").as_deref(), Some("x y"));
        f.finish().expect("all consumed");
        let mut j = Fields::parse(&headers("application/json; charset=utf-8"), &Bytes::from(r#"{"a":1,"metadata":{"webhook_url":"x y"}}"#))
            .expect("json");
        assert_eq!(j.take("a").as_deref(), Some("1"));
        assert_eq!(j.take("metadata.webhook_url").as_deref(), Some("x y"));
    }

    #[test]
    fn refuses_bad_bodies() {
        let form = headers("application/x-www-form-urlencoded");
        for body in ["a=%zz", "a=1&a=2", "=1", "novalue"] {
            assert!(Fields::parse(&form, &Bytes::from(body)).is_err(), "{body}");
        }
        let json = headers("application/json");
        for body in ["[1]", "{", r#"{"a":[1]}"#, r#"{"a":{"b":{"c":{"d":1}}}}"#] {
            assert!(Fields::parse(&json, &Bytes::from(body)).is_err(), "{body}");
        }
        assert!(Fields::parse(&headers("text/plain"), &Bytes::from("a=1")).is_err());
        let mut f = Fields::parse(&form, &Bytes::from("extra=1")).expect("form");
        assert!(f.take("a").is_none());
        assert!(f.finish().is_err());
    }

    #[test]
    fn the_number_of_fields_is_capped() {
        let form = headers("application/x-www-form-urlencoded");
        let body = |n: usize| (0..n).map(|i| format!("k{i}=v")).collect::<Vec<_>>().join("&");
        assert!(Fields::parse(&form, &Bytes::from(body(MAX_FIELDS))).is_ok());
        let e = Fields::parse(&form, &Bytes::from(body(MAX_FIELDS + 1))).expect_err("too many");
        assert_eq!(e.code, "too_many_parameters");
        let json = headers("application/json");
        let body = |n: usize| format!("{{{}}}", (0..n).map(|i| format!("\"k{i}\":1")).collect::<Vec<_>>().join(","));
        assert!(Fields::parse(&json, &Bytes::from(body(MAX_FIELDS))).is_ok());
        assert_eq!(Fields::parse(&json, &Bytes::from(body(MAX_FIELDS + 1))).expect_err("too many").code, "too_many_parameters");
    }
}

/// A query string read as `T`; a query string that does not fit is the JSON
/// 400 (not axum's plain-text rejection).
#[derive(Debug)]
pub struct QueryOf<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for QueryOf<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<QueryOf<T>, AppError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(q)| QueryOf(q))
            .map_err(|_| AppError::bad_request("invalid_parameter", "the query string is not valid"))
    }
}

/// A `limit` query parameter: `default` when absent or empty, else 1 to `max`.
pub fn limit_param(v: Option<&str>, default: i64, max: i64) -> Result<i64, AppError> {
    match v {
        None | Some("") => Ok(default),
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|l| (1..=max).contains(l))
            .ok_or_else(|| AppError::bad_request("invalid_parameter", format!("limit must be 1 to {max}"))),
    }
}
