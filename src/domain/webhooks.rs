//! Webhook endpoints, recorded events and their delivery schedule: what a
//! platform registers, what it is sent, and when a failed delivery is tried
//! again (Stripe's documented behaviour where known, ours where not).

use std::net::IpAddr;
use std::time::Duration;

use serde_json::{Value, json};

use crate::clock::Timestamp;

use super::account::Metadata;
use super::ids::{AccountId, EventId, PlatformId, WebhookEndpointId};
use super::mode::Mode;

/// Whether an endpoint receives events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointStatus {
    /// It does.
    Enabled,
    /// It does not, until enabled again (events meanwhile are never sent).
    Disabled,
}
wire_enum!(EndpointStatus { Disabled => "disabled", Enabled => "enabled" });

/// A platform's webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    /// `we_…`
    pub id: WebhookEndpointId,
    /// Its platform.
    pub platform: PlatformId,
    /// Test or live: it receives that mode's events only.
    pub mode: Mode,
    /// Where events are POSTed.
    pub url: String,
    /// Event types it receives; `*` for all.
    pub enabled_events: Vec<String>,
    /// Whether it receives events of connected accounts (all this server emits).
    pub connect: bool,
    /// The API version it asked events to be labelled with.
    pub api_version: Option<String>,
    /// The platform's note.
    pub description: Option<String>,
    /// The platform's key-value pairs.
    pub metadata: Metadata,
    /// Enabled or disabled.
    pub status: EndpointStatus,
    /// Creation time.
    pub created: Timestamp,
}

impl WebhookEndpoint {
    /// Whether the endpoint is sent an event of `event_type` about a
    /// connected account (`connect`) or about the platform itself.
    pub fn wants(&self, event_type: &str, connect: bool) -> bool {
        self.status == EndpointStatus::Enabled
            && self.connect == connect
            && self
                .enabled_events
                .iter()
                .any(|enabled| enabled == "*" || enabled == event_type)
    }

    /// The `webhook_endpoint` object; `secret` only in the response that creates it.
    pub fn to_json(&self, secret: Option<&str>) -> Value {
        let mut object = json!({
            "id": self.id,
            "object": "webhook_endpoint",
            "api_version": self.api_version,
            "application": null,
            "created": self.created.as_secs(),
            "description": self.description,
            "enabled_events": self.enabled_events,
            "livemode": self.mode.is_live(),
            "metadata": self.metadata,
            "status": self.status.as_str(),
            "url": self.url,
        });
        if let Some(secret) = secret {
            object["secret"] = json!(secret);
        }
        object
    }
}

/// What an endpoint's signing secret is sealed with (the master keys'
/// associated data): bound to its endpoint, so a sealed secret copied onto
/// another endpoint's row does not open.
pub fn secret_seal_context(endpoint: &WebhookEndpointId) -> Vec<u8> {
    format!("webhook_endpoint_secret:{endpoint}").into_bytes()
}

/// Stripe's cap on a platform's endpoints (in each mode).
pub const MAX_ENDPOINTS: usize = 16;

/// Why a webhook URL is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlRefusal {
    /// Not an absolute `http(s)` URL with a host.
    NotAUrl,
    /// Live mode needs `https`.
    NotHttps,
    /// A private, loopback or link-local address, refused for live mode.
    PrivateAddress,
}

/// Whether `ip` is one a live-mode endpoint may not reach: loopback,
/// private, link-local, unspecified, or otherwise not routed on the internet.
pub fn is_private_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => {
            ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_broadcast()
                || ip.is_documentation()
                // 100.64.0.0/10, carrier-grade NAT.
                || (ip.octets()[0] == 100 && (ip.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(ip) => {
            ip.is_loopback()
                || ip.is_unspecified()
                // fc00::/7 unique local, fe80::/10 link-local.
                || (ip.segments()[0] & 0xfe00) == 0xfc00
                || (ip.segments()[0] & 0xffc0) == 0xfe80
                || ip.to_ipv4_mapped().is_some_and(|v4| is_private_address(IpAddr::V4(v4)))
        }
    }
}

/// Checks an endpoint URL for `mode`: test mode takes `http` and loopback
/// addresses; live mode needs `https`, and, when `refuse_private`, a host
/// that is not a private or loopback address (the resolved addresses are
/// checked again at each delivery).
pub fn check_url(url: &str, mode: Mode, refuse_private: bool) -> Result<url::Url, UrlRefusal> {
    let parsed = url::Url::parse(url).map_err(|_| UrlRefusal::NotAUrl)?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(UrlRefusal::NotAUrl);
    }
    if mode.is_live() {
        if parsed.scheme() != "https" {
            return Err(UrlRefusal::NotHttps);
        }
        if refuse_private {
            let private = match parsed.host() {
                Some(url::Host::Ipv4(ip)) => is_private_address(IpAddr::V4(ip)),
                Some(url::Host::Ipv6(ip)) => is_private_address(IpAddr::V6(ip)),
                Some(url::Host::Domain(name)) => {
                    name.eq_ignore_ascii_case("localhost") || name.ends_with(".localhost")
                }
                None => true,
            };
            if private {
                return Err(UrlRefusal::PrivateAddress);
            }
        }
    }
    Ok(parsed)
}

/// Whether an `enabled_events[]` entry names events: `*`, or a dotted
/// lower-case type such as `account.updated` (Stripe has hundreds; an
/// endpoint may ask for types this server never emits).
pub fn is_event_type_pattern(text: &str) -> bool {
    text == "*"
        || (text.contains('.')
            && !text.starts_with('.')
            && !text.ends_with('.')
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.'))
}

/// The API request behind an event (`request`): its id and idempotency key;
/// both `None` for changes nobody asked for (a verification completing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestRef {
    /// `req_…`
    pub id: Option<String>,
    /// The request's `Idempotency-Key`.
    pub idempotency_key: Option<String>,
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `evt_…`
    pub id: EventId,
    /// The platform it belongs to.
    pub platform: PlatformId,
    /// Test or live.
    pub mode: Mode,
    /// The connected account it is about.
    pub account: Option<AccountId>,
    /// `type`
    pub event_type: String,
    /// The version `data.object` was rendered as.
    pub api_version: String,
    /// `data`: `object` and, for updates, `previous_attributes`.
    pub data: Value,
    /// `request`
    pub request: RequestRef,
    /// Creation time.
    pub created: Timestamp,
    /// How many of its deliveries have not succeeded (yet).
    pub pending_webhooks: u32,
}

impl Event {
    /// The `event` object.
    pub fn to_json(&self) -> Value {
        let mut object = json!({
            "id": self.id,
            "object": "event",
            "api_version": self.api_version,
            "created": self.created.as_secs(),
            "data": self.data,
            "livemode": self.mode.is_live(),
            "pending_webhooks": self.pending_webhooks,
            "request": {"id": self.request.id, "idempotency_key": self.request.idempotency_key},
            "type": self.event_type,
        });
        if let Some(account) = &self.account {
            object["account"] = json!(account);
        }
        object
    }
}

/// How long events are kept and listed: Stripe's 30 days.
pub const EVENT_RETENTION: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// How long a delivery may take before it counts as failed.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// The waits before each retry of a failed delivery. Test mode: three retries
/// within about an hour (Stripe retries sandbox deliveries "three times over
/// the course of a few hours"); live mode: exponential, up to three days.
const TEST_RETRIES: &[u64] = &[60, 10 * 60, 60 * 60];
const LIVE_RETRIES: &[u64] = &[
    60,
    5 * 60,
    30 * 60,
    2 * 3600,
    5 * 3600,
    10 * 3600,
    10 * 3600,
    12 * 3600,
    12 * 3600,
    12 * 3600,
];

/// When to try a delivery again after its `failed_attempts`-th failure, or
/// `None` once it has failed for good.
pub fn retry_delay(mode: Mode, failed_attempts: u32) -> Option<Duration> {
    let schedule = if mode.is_live() {
        LIVE_RETRIES
    } else {
        TEST_RETRIES
    };
    let index = usize::try_from(failed_attempts.checked_sub(1)?).ok()?;
    schedule.get(index).map(|secs| Duration::from_secs(*secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_mode_retries_three_times_and_live_mode_for_about_three_days() {
        assert_eq!(retry_delay(Mode::Test, 1), Some(Duration::from_secs(60)));
        assert_eq!(retry_delay(Mode::Test, 3), Some(Duration::from_secs(3600)));
        assert_eq!(retry_delay(Mode::Test, 4), None);
        let live: u64 = (1..=10)
            .filter_map(|n| retry_delay(Mode::Live, n))
            .map(|d| d.as_secs())
            .sum();
        assert!((2 * 86_400..=3 * 86_400).contains(&live));
        assert_eq!(retry_delay(Mode::Live, 11), None);
    }

    #[test]
    fn live_endpoints_need_https_and_a_public_host() {
        assert!(check_url("http://127.0.0.1:9/hook", Mode::Test, true).is_ok());
        assert_eq!(
            check_url("http://example.com/hook", Mode::Live, true),
            Err(UrlRefusal::NotHttps)
        );
        for private in [
            "https://127.0.0.1/hook",
            "https://10.1.2.3/",
            "https://[::1]/",
            "https://localhost/",
            "https://169.254.169.254/latest",
            "https://[fd00::1]/",
        ] {
            assert_eq!(
                check_url(private, Mode::Live, true),
                Err(UrlRefusal::PrivateAddress),
                "{private}"
            );
        }
        assert!(check_url("https://127.0.0.1/hook", Mode::Live, false).is_ok());
        assert!(check_url("https://hooks.example.com/stripe", Mode::Live, true).is_ok());
        assert_eq!(
            check_url("ftp://example.com", Mode::Test, true),
            Err(UrlRefusal::NotAUrl)
        );
    }

    #[test]
    fn event_type_patterns_are_star_or_dotted_names() {
        assert!(is_event_type_pattern("*"));
        assert!(is_event_type_pattern("account.updated"));
        assert!(is_event_type_pattern("account.external_account.created"));
        assert!(!is_event_type_pattern("account"));
        assert!(!is_event_type_pattern("Account.Updated"));
        assert!(!is_event_type_pattern("account.updated; drop"));
    }
}
