//! Abuse limits (issue 18): payment attempts per client token and per
//! client address, failed API-key attempts per address, failed attempts per
//! order (enforced in the transaction that records an attempt:
//! [`crate::db::Db::start_txn`]), and a bound on requests served at once
//! ([`crate::app`]). A limit answers 429 with `Retry-After` and the JSON
//! error. The rates are GCRA limiters (`governor`), keyed per token or address.

use crate::http::error::AppError;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The figures, each configurable on `kassa serve`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitSettings {
    /// Failed attempts an order takes before it takes no more (its link stops taking payments).
    pub failed_attempts_per_order: u32,
    /// Payment attempts (`POST /txns`) a minute with one client token.
    pub txns_per_minute_per_token: u32,
    /// Payment attempts a minute from one client address.
    pub txns_per_minute_per_address: u32,
    /// Failed API-key attempts a minute from one address before it is locked out for a minute.
    pub auth_failures_per_minute_per_address: u32,
    /// Requests served at once; more are answered 429 at once.
    pub max_concurrent_requests: usize,
}

impl Default for LimitSettings {
    fn default() -> LimitSettings {
        LimitSettings {
            failed_attempts_per_order: 5,
            txns_per_minute_per_token: 20,
            txns_per_minute_per_address: 300,
            auth_failures_per_minute_per_address: 10,
            max_concurrent_requests: 1024,
        }
    }
}

/// The limiters of one server.
#[derive(Debug)]
pub struct Limiters {
    txn_token: DefaultKeyedRateLimiter<String>,
    txn_address: DefaultKeyedRateLimiter<IpAddr>,
    auth_failures: DefaultKeyedRateLimiter<IpAddr>,
    /// Addresses locked out of API-key authentication, until when.
    locked: Mutex<HashMap<IpAddr, Instant>>,
    /// Dashboard sign-in attempts per email (issue 16), counted before the password is checked.
    sign_in_email: DefaultKeyedRateLimiter<String>,
    /// Dashboard sign-in attempts per client address.
    sign_in_address: DefaultKeyedRateLimiter<IpAddr>,
    /// Checks since the limiters last forgot idle keys.
    checks: AtomicU64,
}

/// The client's address: the connection's peer, or behind a proxy the
/// operator trusts (`--trust-forwarded-for`), the last address of
/// `X-Forwarded-For` (the one that proxy added).
pub fn client_address_of(parts: &axum::http::request::Parts, trust_forwarded_for: bool) -> Option<IpAddr> {
    let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    client_address(peer, &parts.headers, trust_forwarded_for)
}

/// The client's address from the connection's `peer` and the request's `headers`, as [`client_address_of`] says.
pub fn client_address(peer: Option<IpAddr>, headers: &axum::http::HeaderMap, trust_forwarded_for: bool) -> Option<IpAddr> {
    if trust_forwarded_for
        && let Some(forwarded) = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).next_back()
        && let Some(ip) = forwarded.rsplit(',').next().and_then(|a| a.trim().parse::<IpAddr>().ok())
    {
        return Some(ip);
    }
    peer
}

/// How long an address that failed too many API keys is locked out.
const LOCKOUT: Duration = Duration::from_secs(60);

/// Dashboard sign-in attempts a minute for one email (guessing one user's
/// password from many addresses), and from one address (many users' from one).
const SIGN_INS_PER_MINUTE_PER_EMAIL: u32 = 5;
const SIGN_INS_PER_MINUTE_PER_ADDRESS: u32 = 20;

/// The key a client address is limited by: an IPv4 address, or an IPv6
/// address's /64 (what one subscriber usually holds).
pub fn limit_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

/// Whole seconds until `wait` has passed, at least 1.
fn secs(wait: Duration) -> u64 {
    wait.as_secs().saturating_add(u64::from(wait.subsec_nanos() > 0)).max(1)
}

impl Limiters {
    /// Limiters with these figures.
    pub fn new(s: &LimitSettings) -> Limiters {
        Limiters {
            txn_token: RateLimiter::keyed(per_minute(s.txns_per_minute_per_token)),
            txn_address: RateLimiter::keyed(per_minute(s.txns_per_minute_per_address)),
            auth_failures: RateLimiter::keyed(per_minute(s.auth_failures_per_minute_per_address)),
            locked: Mutex::new(HashMap::new()),
            sign_in_email: RateLimiter::keyed(per_minute(SIGN_INS_PER_MINUTE_PER_EMAIL)),
            sign_in_address: RateLimiter::keyed(per_minute(SIGN_INS_PER_MINUTE_PER_ADDRESS)),
            checks: AtomicU64::new(0),
        }
    }

    /// Forgets keys idle long enough to be back at full capacity, now and then.
    fn tidy(&self) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            self.txn_token.retain_recent();
            self.txn_address.retain_recent();
            self.auth_failures.retain_recent();
            self.sign_in_email.retain_recent();
            self.sign_in_address.retain_recent();
            let now = Instant::now();
            self.locked.lock().unwrap_or_else(std::sync::PoisonError::into_inner).retain(|_, until| *until > now);
        }
    }

    /// A payment attempt with client token `token` from `address`.
    pub fn txn(&self, token: &str, address: Option<IpAddr>) -> Result<(), AppError> {
        self.tidy();
        let clock = DefaultClock::default();
        if let Err(not_until) = self.txn_token.check_key(&token.to_string()) {
            return Err(AppError::too_many(
                "too_many_requests",
                "too many payment attempts for this order; wait before trying again",
                secs(not_until.wait_time_from(clock.now())),
            ));
        }
        if let Some(address) = address.map(limit_key)
            && let Err(not_until) = self.txn_address.check_key(&address)
        {
            return Err(AppError::too_many(
                "too_many_requests",
                "too many payment attempts from this address; wait before trying again",
                secs(not_until.wait_time_from(clock.now())),
            ));
        }
        Ok(())
    }

    /// Refuses an address locked out after too many failed API-key attempts (before the key is looked at).
    pub fn auth_allowed(&self, address: Option<IpAddr>) -> Result<(), AppError> {
        let Some(address) = address.map(limit_key) else { return Ok(()) };
        let until = self.locked.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&address).copied();
        match until {
            Some(until) if until > Instant::now() => Err(AppError::too_many(
                "too_many_failed_logins",
                "too many failed API key attempts from this address; wait before trying again",
                secs(until.saturating_duration_since(Instant::now())),
            )),
            _ => Ok(()),
        }
    }

    /// Counts a dashboard sign-in attempt for `email` (lower case) from
    /// `address` before its password is checked, so that concurrent guesses
    /// count too; refuses it past either figure, or while the address is
    /// locked out after failed API keys or sign-ins.
    pub fn sign_in_attempt(&self, email: &str, address: Option<IpAddr>) -> Result<(), AppError> {
        self.tidy();
        self.auth_allowed(address)?;
        let clock = DefaultClock::default();
        let refuse = |wait: Duration, whose: &str| {
            AppError::too_many(
                "too_many_failed_logins",
                format!("too many sign-ins for this {whose}; wait before trying again"),
                secs(wait),
            )
        };
        if let Err(not_until) = self.sign_in_email.check_key(&email.to_string()) {
            return Err(refuse(not_until.wait_time_from(clock.now()), "email"));
        }
        if let Some(address) = address.map(limit_key)
            && let Err(not_until) = self.sign_in_address.check_key(&address)
        {
            return Err(refuse(not_until.wait_time_from(clock.now()), "address"));
        }
        Ok(())
    }

    /// Counts a failed API-key attempt from `address`; past the limit, the address is locked out.
    pub fn auth_failed(&self, address: Option<IpAddr>) {
        let Some(address) = address.map(limit_key) else { return };
        self.tidy();
        if self.auth_failures.check_key(&address).is_err() {
            self.locked.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(address, Instant::now() + LOCKOUT);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_refuse_past_their_figures_with_a_retry_time() {
        let l = Limiters::new(&LimitSettings {
            txns_per_minute_per_token: 3,
            txns_per_minute_per_address: 5,
            auth_failures_per_minute_per_address: 2,
            ..LimitSettings::default()
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        for _ in 0..3 {
            assert!(l.txn("kct_one", Some(a)).is_ok());
        }
        let e = l.txn("kct_one", Some(a)).expect_err("fourth with one token");
        assert_eq!((e.status.as_u16(), e.code), (429, "too_many_requests"));
        assert!(e.retry_after.is_some_and(|s| (1..=60).contains(&s)), "{:?}", e.retry_after);
        // Another token from the same address: until the address's own limit.
        assert!(l.txn("kct_two", Some(a)).is_ok());
        assert!(l.txn("kct_three", Some(a)).is_ok(), "the address's fifth (an attempt refused for its token does not count)");
        assert!(l.txn("kct_five", Some(a)).is_err(), "the address's sixth");
        assert!(l.txn("kct_four", None).is_ok(), "no address known: only the token counts");
        // Failed logins lock the address out, whatever key it sends next.
        assert!(l.auth_allowed(Some(a)).is_ok());
        for _ in 0..3 {
            l.auth_failed(Some(a));
        }
        let e = l.auth_allowed(Some(a)).expect_err("locked out");
        assert_eq!((e.status.as_u16(), e.code), (429, "too_many_failed_logins"));
        assert!(l.auth_allowed(Some("192.0.2.2".parse().unwrap_or(a))).is_ok(), "another address is not");
        // IPv6: one /64 is one client.
        let v6 = |s: &str| -> IpAddr { s.parse().unwrap_or(a) };
        assert_eq!(limit_key(v6("2001:db8:1:2:aaaa::1")), limit_key(v6("2001:db8:1:2:bbbb::9")));
        assert_ne!(limit_key(v6("2001:db8:1:2::1")), limit_key(v6("2001:db8:1:3::1")));
        assert_eq!(limit_key(v6("::ffff:192.0.2.7")), v6("192.0.2.7"));
        // Behind a trusted proxy the client is the last X-Forwarded-For address; otherwise the peer.
        let mut h = axum::http::HeaderMap::new();
        h.insert("x-forwarded-for", axum::http::HeaderValue::from_static("203.0.113.9, 198.51.100.4"));
        let proxy = Some(v6("10.0.0.2"));
        assert_eq!(client_address(proxy, &h, true), Some(v6("198.51.100.4")));
        assert_eq!(client_address(proxy, &h, false), proxy);
        assert_eq!(client_address(proxy, &axum::http::HeaderMap::new(), true), proxy);
    }
}
