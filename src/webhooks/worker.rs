//! The delivery worker: settles accounts whose pending checks completed by
//! themselves (their events are recorded then), leases due deliveries from
//! the outbox and POSTs each signed event to its endpoint, recording every
//! attempt. Any number of workers, in any number of processes, share one
//! outbox: a lease gives each delivery to one of them at a time.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, USER_AGENT};
use tokio::sync::Semaphore;

use crate::clock::{Clock, Timestamp};
use crate::domain::ids::WebhookEndpointId;
use crate::domain::webhooks::{DELIVERY_TIMEOUT, is_private_address, secret_seal_context};
use crate::keyring::Keyring;
use crate::store::{AttemptResult, ClaimLimits, ClaimedDelivery, Store, StoreError};

use super::signature;

/// How the worker runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliverySettings {
    /// How often it looks for due deliveries and settled accounts.
    pub poll_interval: Duration,
    /// Most deliveries in flight at once, from this process.
    pub concurrency: u32,
    /// Most deliveries in flight at once to one endpoint, from this process:
    /// one slow receiver cannot hold every slot.
    pub per_endpoint: u32,
    /// How long one attempt may take before it counts as failed.
    pub timeout: Duration,
    /// Whether live-mode deliveries may reach private, loopback and
    /// link-local addresses (checked on every resolution).
    pub allow_private_addresses: bool,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(1),
            concurrency: 32,
            per_endpoint: 4,
            timeout: DELIVERY_TIMEOUT,
            allow_private_addresses: false,
        }
    }
}

impl DeliverySettings {
    /// How long a lease lasts: an attempt's whole timeout with a margin, so
    /// a live worker always finishes before another may take its delivery
    /// over; a worker that died mid-delivery loses it after this.
    pub fn lease(&self) -> Duration {
        self.timeout * 2 + Duration::from_secs(10)
    }
}

/// Installs ring as the process's TLS provider, which reqwest's rustls
/// needs (without a provider of its own, it would pull in aws-lc and a C
/// toolchain); ring is what the PostgreSQL driver uses too. Idempotent: a
/// provider already installed stays.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Most accounts one settling transaction takes.
const SETTLE_BATCH: u32 = 100;

/// What a delivery's POST says it is.
const DELIVERY_USER_AGENT: &str = "Stripe/1.0 (+https://stripe.com/docs/webhooks)";

/// The worker: its store, clock, keys and HTTP clients.
#[derive(Debug, Clone)]
pub struct Deliverer {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    keyring: Arc<Keyring>,
    settings: DeliverySettings,
    /// For test-mode endpoints: any address, loopback included.
    test_client: reqwest::Client,
    /// For live-mode endpoints: public addresses only, unless allowed.
    live_client: reqwest::Client,
    /// Deliveries in flight per endpoint, in this process.
    in_flight: Arc<Mutex<HashMap<WebhookEndpointId, u32>>>,
    /// Free delivery slots of this process.
    slots: Arc<Semaphore>,
}

impl Deliverer {
    /// A worker over `store`, reading `clock`, opening secrets with `keyring`.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        keyring: Arc<Keyring>,
        settings: DeliverySettings,
    ) -> anyhow::Result<Self> {
        install_tls_provider();
        let client = |resolver: Option<PublicOnly>| {
            let builder = reqwest::Client::builder()
                .timeout(settings.timeout)
                .connect_timeout(settings.timeout)
                // Stripe counts a redirect as a failure.
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy();
            match resolver {
                Some(resolver) => builder.dns_resolver(Arc::new(resolver)),
                None => builder,
            }
            .build()
        };
        let live_resolver = (!settings.allow_private_addresses).then_some(PublicOnly);
        Ok(Self {
            test_client: client(None)?,
            live_client: client(live_resolver)?,
            slots: Arc::new(Semaphore::new(settings.concurrency as usize)),
            in_flight: Arc::new(Mutex::new(HashMap::new())),
            store,
            clock,
            keyring,
            settings,
        })
    }

    /// Works until the task is dropped or aborted.
    pub async fn run(self) {
        let mut ticks = tokio::time::interval(self.settings.poll_interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(error) = self.tick().await {
                // The next tick retries; a database outage must not stop the worker.
                tracing::warn!(error = %error, "webhook delivery: the store failed; will retry");
            }
        }
    }

    /// One round: settle what time changed, then start every due delivery
    /// there is room for. Deliveries run on their own tasks.
    pub async fn tick(&self) -> Result<(), StoreError> {
        let now = self.clock.now();
        while self.store.settle_accounts(now, SETTLE_BATCH).await? == u64::from(SETTLE_BATCH) {}
        let free = u32::try_from(self.slots.available_permits()).unwrap_or(u32::MAX);
        if free == 0 {
            return Ok(());
        }
        // An endpoint with deliveries in flight gets no more until they are
        // done: at most `per_endpoint` at once, however many are due.
        let busy: Vec<WebhookEndpointId> = self.lock_in_flight().keys().cloned().collect();
        let claimed = self
            .store
            .claim_deliveries(
                now,
                now.plus(self.settings.lease()),
                ClaimLimits {
                    total: free,
                    per_endpoint: self.settings.per_endpoint,
                },
                &busy,
            )
            .await?;
        for delivery in claimed {
            let Ok(slot) = self.slots.clone().try_acquire_owned() else {
                // Claimed beyond the free slots (another task took one):
                // the lease runs out and the delivery is taken again.
                break;
            };
            *self
                .lock_in_flight()
                .entry(delivery.endpoint.id.clone())
                .or_default() += 1;
            let worker = self.clone();
            tokio::spawn(async move {
                worker.deliver(&delivery).await;
                let mut in_flight = worker.lock_in_flight();
                if let Some(count) = in_flight.get_mut(&delivery.endpoint.id) {
                    *count -= 1;
                    if *count == 0 {
                        in_flight.remove(&delivery.endpoint.id);
                    }
                }
                drop(slot);
            });
        }
        Ok(())
    }

    fn lock_in_flight(&self) -> std::sync::MutexGuard<'_, HashMap<WebhookEndpointId, u32>> {
        // The map is only counted in; a panic elsewhere leaves it usable.
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes one attempt of a leased delivery and records how it went.
    async fn deliver(&self, delivery: &ClaimedDelivery) {
        let result = self.attempt(delivery).await;
        let endpoint = &delivery.endpoint.id;
        let event = &delivery.event.id;
        match &result.error {
            None => {
                tracing::debug!(%endpoint, %event, attempt = delivery.attempts + 1, "webhook delivered")
            }
            Some(error) => tracing::info!(
                %endpoint,
                %event,
                attempt = delivery.attempts + 1,
                error = %error,
                "webhook delivery failed"
            ),
        }
        if let Err(error) = self.store.finish_delivery(delivery, &result).await {
            // The lease runs out and the delivery is made again: at least once.
            tracing::warn!(%endpoint, %event, error = %error, "webhook delivery: the attempt could not be recorded");
        }
    }

    /// POSTs the event, signed, and reports the answer.
    async fn attempt(&self, delivery: &ClaimedDelivery) -> AttemptResult {
        let endpoint = &delivery.endpoint;
        let started = Instant::now();
        let finish =
            |at: Timestamp, http_status: Option<u16>, error: Option<String>| AttemptResult {
                http_status,
                error,
                latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                at,
            };
        let at = self.clock.now();
        let Some(secret) = self
            .keyring
            .open(&delivery.sealed_secret, &secret_seal_context(&endpoint.id))
            .and_then(|bytes| String::from_utf8(bytes).ok())
        else {
            return finish(
                at,
                None,
                Some(
                    "the signing secret cannot be opened with this server's master keys".to_owned(),
                ),
            );
        };
        // Serialized once: the signature covers exactly the bytes sent.
        let body = delivery.event.to_json().to_string();
        let signature = signature::header(&[secret.as_str()], at, body.as_bytes());
        let client = if endpoint.mode.is_live() {
            &self.live_client
        } else {
            &self.test_client
        };
        let request = client
            .post(&endpoint.url)
            .header(CONTENT_TYPE, "application/json; charset=utf-8")
            .header(USER_AGENT, DELIVERY_USER_AGENT)
            .header(ACCEPT, "*/*; q=0.5, application/xml")
            .header(CACHE_CONTROL, "no-cache")
            .header("Stripe-Signature", signature)
            .body(body);
        match request.send().await {
            Ok(response) => {
                let status = response.status();
                // The receiver's body is not kept; reading it ends the exchange.
                let _ = response.bytes().await;
                let error = (!status.is_success()).then(|| format!("HTTP {}", status.as_u16()));
                finish(at, Some(status.as_u16()), error)
            }
            Err(error) => finish(at, None, Some(describe(&error))),
        }
    }
}

/// What went wrong with a request that got no answer, without the URL
/// (which may carry credentials in its user part).
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        let mut cause: Option<&dyn std::error::Error> = Some(error);
        let mut refused = false;
        while let Some(current) = cause {
            refused |= current.to_string().contains(PRIVATE_REFUSAL);
            cause = current.source();
        }
        if refused {
            PRIVATE_REFUSAL.to_owned()
        } else {
            "could not connect".to_owned()
        }
    } else if error.is_redirect() {
        "redirected (redirects count as failures)".to_owned()
    } else {
        "the request failed".to_owned()
    }
}

/// Why the live-mode resolver refused a host.
const PRIVATE_REFUSAL: &str = "refused: the host resolves to a private or loopback address";

/// A resolver that answers only public addresses: a live-mode endpoint's
/// host that resolves (now, or after a DNS change) to a private, loopback
/// or link-local address is refused, so deliveries cannot be aimed at the
/// server's own network.
#[derive(Debug, Clone, Copy)]
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| !is_private_address(addr.ip()))
                .collect();
            if public.is_empty() {
                return Err(PRIVATE_REFUSAL.into());
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}
