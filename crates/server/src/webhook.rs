//! The webhook worker: delivers the outbox (`webhook_events`) to merchants.
//!
//! Each delivery is a `POST` of the stored body with `Content-Type:
//! application/json`, `Kassa-Event-Id`, `Kassa-Signature: t=…,v1=…` (HMAC-SHA256
//! over `timestamp.body`, see `kassa_sign::webhook`) and, when the merchant set
//! them, HTTP Basic credentials as Juspay sends. Any 2xx is delivered; anything
//! else is retried on Juspay's schedule (16 retries over 24 hours with the
//! default first delay of 60 s: [`crate::domain::retry_delay`]), so a
//! receiver that is down gets every event once it is back; after the last
//! retry the event is dead, listed by `GET /webhooks?status=dead` and
//! redelivered on request. Delivery is at least once: receivers
//! de-duplicate on the event id.

use crate::AppState;
use crate::db::PendingEvent;
use base64::Engine;
use kassa_sign::webhook::{HEADER, WebhookSecret, signature_header};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a delivery attempt holds its event: longer than the 10 s a
/// delivery may take.
const DELIVERY_LEASE_MS: i64 = 15_000;

/// Deliveries under way at once, in all.
const MAX_IN_FLIGHT: usize = 64;
/// Deliveries under way at once to one merchant: a receiver that stalls holds
/// at most these, never the others' events.
const PER_MERCHANT: usize = 4;
/// Deliveries under way at once to one host (merchants may share a receiver).
const PER_HOST: usize = 4;

/// What is being delivered now, by merchant and by host.
#[derive(Default)]
struct InFlight {
    total: usize,
    merchants: HashMap<String, usize>,
    hosts: HashMap<String, usize>,
    /// Orders with a delivery under way: their next event waits for it, so one order's events arrive in order.
    orders: HashSet<String>,
}

impl InFlight {
    /// Takes a slot for a delivery to `merchant` at `host`, if all three bounds allow it.
    fn take(&mut self, merchant: &str, host: &str) -> bool {
        let (m, h) = (self.merchants.get(merchant).copied().unwrap_or(0), self.hosts.get(host).copied().unwrap_or(0));
        if self.total >= MAX_IN_FLIGHT || m >= PER_MERCHANT || h >= PER_HOST {
            return false;
        }
        self.total += 1;
        *self.merchants.entry(merchant.to_string()).or_default() += 1;
        *self.hosts.entry(host.to_string()).or_default() += 1;
        true
    }

    fn give_back(&mut self, merchant: &str, host: &str) {
        self.total = self.total.saturating_sub(1);
        for (map, key) in [(&mut self.merchants, merchant), (&mut self.hosts, host)] {
            if let Some(n) = map.get_mut(key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    map.remove(key);
                }
            }
        }
    }

    /// Merchants at their bound: their events are not even fetched meanwhile.
    fn busy_merchants(&self) -> Vec<String> {
        self.merchants.iter().filter(|(_, n)| **n >= PER_MERCHANT).map(|(m, _)| m.clone()).collect()
    }
}

/// A delivery's place in [`InFlight`], given back when dropped.
struct Slot {
    in_flight: Arc<Mutex<InFlight>>,
    /// Wakes the worker: a slot is free, so the merchant's next events need not wait for the next poll.
    wake: Arc<tokio::sync::Notify>,
    merchant: String,
    host: String,
    order: Option<String>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut f = self.in_flight.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f.give_back(&self.merchant, &self.host);
        if let Some(o) = &self.order {
            f.orders.remove(o);
        }
        drop(f);
        self.wake.notify_one();
    }
}

/// The host (and port) a URL names, for the per-host bound.
fn host_of(url: &str) -> String {
    url::Url::parse(url).ok().and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?))).unwrap_or_default()
}

/// Starts the worker on the current runtime: due events are delivered
/// concurrently, within [`MAX_IN_FLIGHT`], [`PER_MERCHANT`] and
/// [`PER_HOST`], so a receiver that never answers delays no other merchant.
pub fn spawn_worker(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let tls = match crate::tls::webhook_tls(state.config.webhook_ca_pem.as_deref()) {
            Ok(tls) => tls,
            Err(e) => {
                tracing::error!(error = %e, "webhook delivery disabled");
                return;
            }
        };
        let config = ureq::Agent::config_builder()
            .tls_config(tls)
            .https_only(false)
            .http_status_as_error(false)
            .max_redirects(0)
            // Never through an environment proxy: the guard must see the receiver's own addresses.
            .proxy(None)
            .timeout_connect(Some(Duration::from_secs(3)))
            .timeout_global(Some(Duration::from_secs(10)))
            .build();
        // Every address it connects to is checked (SSRF): crate::egress.
        let agent = ureq::Agent::with_parts(
            config,
            ureq::unversioned::transport::DefaultConnector::new(),
            crate::egress::GuardedResolver::new(state.config.webhook_allow_private),
        );
        let in_flight = Arc::new(Mutex::new(InFlight::default()));
        let wake = Arc::new(tokio::sync::Notify::new());
        loop {
            let busy = in_flight.lock().unwrap_or_else(std::sync::PoisonError::into_inner).busy_merchants();
            match state.db.due_events(state.now(), 256, &busy).await {
                Ok(events) => {
                    // Oldest first: an order's later event waits while an earlier one is fetched or under way.
                    let mut orders_seen = HashSet::new();
                    for ev in events {
                        let host = host_of(&ev.url);
                        let order = ev.order_pk.clone();
                        if let Some(o) = &order
                            && !orders_seen.insert(o.clone())
                        {
                            continue;
                        }
                        {
                            let mut f = in_flight.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                            if order.as_ref().is_some_and(|o| f.orders.contains(o)) || !f.take(&ev.merchant_id, &host) {
                                continue;
                            }
                            if let Some(o) = &order {
                                f.orders.insert(o.clone());
                            }
                        }
                        let (state, agent) = (state.clone(), agent.clone());
                        // Given back when the delivery ends, however it ends (a panic included).
                        let slot = Slot { in_flight: in_flight.clone(), wake: wake.clone(), merchant: ev.merchant_id.clone(), host, order };
                        tokio::spawn(async move {
                            let _slot = slot;
                            deliver(&state, &agent, ev).await;
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "webhook outbox unavailable"),
            }
            // Until the next poll, or until a delivery ends and frees a slot (a merchant with
            // many events is not held to its bound per poll).
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(state.config.webhook_poll_ms)) => {}
                () = wake.notified() => {}
            }
        }
    })
}

async fn deliver(state: &AppState, agent: &ureq::Agent, ev: PendingEvent) {
    // Ours for a while (a delivery gives up after 10 s): another server, or
    // a redelivery, leaves it alone meanwhile. Should this server die
    // mid-delivery, the event is due again when the lease ends.
    let now = state.now();
    match state.db.claim_event(&ev.id, ev.attempts, now, now.saturating_add(DELIVERY_LEASE_MS)).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::warn!(error = %e, "cannot claim a webhook event");
            return;
        }
    }
    let merchant = match state.db.merchant(&ev.merchant_id).await {
        Ok(Some(m)) => m,
        _ => return,
    };
    let secret = WebhookSecret::new(merchant.webhook_secret.expose().as_bytes().to_vec());
    // Receivers compare the signature time with their own clock: the real one.
    let ts = u64::try_from(crate::now_ms() / 1000).unwrap_or_default();
    let mut signature = signature_header(&secret, ts, ev.body.as_bytes());
    // During a rotation's overlap, a signature with the previous secret too: a
    // receiver holding either verifies (`kassa_sign::webhook::verify` takes any v1).
    if let Some(previous) = &merchant.webhook_secret_previous {
        let previous = WebhookSecret::new(previous.expose().as_bytes().to_vec());
        signature.push_str(&format!(",v1={}", kassa_sign::webhook::sign(&previous, ts, ev.body.as_bytes())));
    }
    // The merchant's Basic credentials go only to the merchant's own webhook origin,
    // never to an order's `metadata.webhook_url` elsewhere.
    let origin = |u: &str| url::Url::parse(u).ok().map(|u| u.origin());
    let own_origin = merchant.webhook_url.as_deref().and_then(origin).is_some_and(|o| Some(o) == origin(&ev.url));
    let auth = merchant.webhook_username.as_ref().filter(|_| own_origin).map(|u| {
        let pass = merchant.webhook_password.as_ref().map(|p| p.expose().to_string()).unwrap_or_default();
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{u}:{pass}")))
    });
    let plain_http = !ev.url.starts_with("https://");
    let (agent, url, body, id) = (agent.clone(), ev.url.clone(), ev.body.clone(), ev.id.clone());
    let allow_private = state.config.webhook_allow_private;
    let outcome = tokio::task::spawn_blocking(move || -> Result<(), String> {
        if plain_http && !allow_private {
            return Err("webhook URLs must be https:// (plain http only with --webhook-allow-private)".into());
        }
        let mut req = agent.post(&url).header("content-type", "application/json").header(HEADER, &signature).header("kassa-event-id", &id);
        if let Some(a) = &auth {
            req = req.header("authorization", a);
        }
        match req.send(body.as_str()) {
            Ok(resp) if resp.status().is_success() => Ok(()),
            Ok(resp) => Err(format!("receiver answered {}", resp.status())),
            Err(e) => Err(format!("cannot reach the receiver: {e}")),
        }
    })
    .await
    .unwrap_or_else(|_| Err("delivery task failed".into()));
    let now = state.now();
    let result = outcome.map_err(|error| {
        let first = i64::try_from(state.config.webhook_retry_base_ms).unwrap_or(60_000);
        let next = crate::domain::retry_delay(ev.attempts.saturating_add(1), first).map(|d| now.saturating_add(d));
        match next {
            Some(_) => tracing::info!(event = %ev.id, attempts = ev.attempts + 1, %error, "webhook delivery failed; will retry"),
            None => tracing::warn!(event = %ev.id, attempts = ev.attempts + 1, %error, "webhook delivery failed for the last time; the event is dead"),
        }
        (error, next)
    });
    if let Err(e) = state.db.event_attempted(&ev.id, ev.attempts, now, result).await {
        tracing::warn!(error = %e, "cannot record a webhook attempt");
    }
}
