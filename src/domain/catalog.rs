//! The embedded-component catalog: one table of every component and its features,
//! and the rules that resolve a request's components into the full set a session
//! carries (defaults from the account's controller, and what the controller allows).
//!
//! The table follows Stripe's OpenAPI spec (2026-07-29.dahlia) plus
//! `payment_method_settings` and the response-only `money_movement` feature of
//! `financial_account` from the seed's example, 22 components in all; a test checks
//! it against `../shared/stripe-openapi/`.

use std::fmt;

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::account::{Controller, LossesPayer, RequirementCollection};

/// A feature flag of an embedded component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Feature {
    /// `capture_payments`
    CapturePayments,
    /// `card_management`
    CardManagement,
    /// `card_spend_dispute_management`
    CardSpendDisputeManagement,
    /// `cardholder_management`
    CardholderManagement,
    /// `destination_on_behalf_of_charge_management`
    DestinationOnBehalfOfChargeManagement,
    /// `disable_stripe_user_authentication`
    DisableStripeUserAuthentication,
    /// `dispute_management`
    DisputeManagement,
    /// `edit_payout_schedule`
    EditPayoutSchedule,
    /// `external_account_collection`
    ExternalAccountCollection,
    /// `instant_payouts`
    InstantPayouts,
    /// `money_movement` (response only)
    MoneyMovement,
    /// `refund_management`
    RefundManagement,
    /// `send_money`
    SendMoney,
    /// `smart_disputes_management`
    SmartDisputesManagement,
    /// `spend_control_management`
    SpendControlManagement,
    /// `standard_payouts`
    StandardPayouts,
    /// `transfer_balance`
    TransferBalance,
}

impl Feature {
    /// Every feature, for lookups by name.
    pub const ALL: [Self; 17] = [
        Self::CapturePayments,
        Self::CardManagement,
        Self::CardSpendDisputeManagement,
        Self::CardholderManagement,
        Self::DestinationOnBehalfOfChargeManagement,
        Self::DisableStripeUserAuthentication,
        Self::DisputeManagement,
        Self::EditPayoutSchedule,
        Self::ExternalAccountCollection,
        Self::InstantPayouts,
        Self::MoneyMovement,
        Self::RefundManagement,
        Self::SendMoney,
        Self::SmartDisputesManagement,
        Self::SpendControlManagement,
        Self::StandardPayouts,
        Self::TransferBalance,
    ];

    /// The feature's name on the wire.
    pub const fn name(self) -> &'static str {
        match self {
            Self::CapturePayments => "capture_payments",
            Self::CardManagement => "card_management",
            Self::CardSpendDisputeManagement => "card_spend_dispute_management",
            Self::CardholderManagement => "cardholder_management",
            Self::DestinationOnBehalfOfChargeManagement => {
                "destination_on_behalf_of_charge_management"
            }
            Self::DisableStripeUserAuthentication => "disable_stripe_user_authentication",
            Self::DisputeManagement => "dispute_management",
            Self::EditPayoutSchedule => "edit_payout_schedule",
            Self::ExternalAccountCollection => "external_account_collection",
            Self::InstantPayouts => "instant_payouts",
            Self::MoneyMovement => "money_movement",
            Self::RefundManagement => "refund_management",
            Self::SendMoney => "send_money",
            Self::SmartDisputesManagement => "smart_disputes_management",
            Self::SpendControlManagement => "spend_control_management",
            Self::StandardPayouts => "standard_payouts",
            Self::TransferBalance => "transfer_balance",
        }
    }

    /// The feature with this wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|feature| feature.name() == name)
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One embedded component: its name and the features it has.
#[derive(Debug, PartialEq, Eq)]
pub struct ComponentSpec {
    /// The component's name on the wire.
    pub name: &'static str,
    /// Features a request may set, in the spec's (alphabetical) order.
    pub features: &'static [Feature],
    /// Features that appear in responses but cannot be requested.
    pub response_only: &'static [Feature],
}

impl ComponentSpec {
    /// Whether a request may set `feature` on this component.
    pub fn accepts(&self, feature: Feature) -> bool {
        self.features.contains(&feature)
    }

    /// Every feature of this component as responses list it, alphabetically:
    /// the request features and the response-only ones merged (both lists are
    /// kept sorted; a test checks it), without allocating.
    pub fn response_features(&self) -> impl Iterator<Item = Feature> + '_ {
        let mut requested = self.features.iter().copied().peekable();
        let mut response_only = self.response_only.iter().copied().peekable();
        std::iter::from_fn(move || match (requested.peek(), response_only.peek()) {
            (Some(a), Some(b)) if b.name() < a.name() => response_only.next(),
            (Some(_), _) => requested.next(),
            (None, _) => response_only.next(),
        })
    }
}

use Feature as F;

const NO_FEATURES: &[Feature] = &[];
const ACCOUNT_FEATURES: &[Feature] = &[
    F::DisableStripeUserAuthentication,
    F::ExternalAccountCollection,
];
const PAYOUT_FEATURES: &[Feature] = &[
    F::DisableStripeUserAuthentication,
    F::EditPayoutSchedule,
    F::ExternalAccountCollection,
    F::InstantPayouts,
    F::StandardPayouts,
];
const PAYMENT_FEATURES: &[Feature] = &[
    F::CapturePayments,
    F::DestinationOnBehalfOfChargeManagement,
    F::DisputeManagement,
    F::RefundManagement,
    F::SmartDisputesManagement,
];
const PAYMENT_DISPUTE_FEATURES: &[Feature] = &[
    F::DestinationOnBehalfOfChargeManagement,
    F::DisputeManagement,
    F::RefundManagement,
    F::SmartDisputesManagement,
];
const FINANCIAL_ACCOUNT_FEATURES: &[Feature] = &[
    F::DisableStripeUserAuthentication,
    F::ExternalAccountCollection,
    F::SendMoney,
    F::TransferBalance,
];
const ISSUING_CARD_FEATURES: &[Feature] = &[
    F::CardManagement,
    F::CardSpendDisputeManagement,
    F::CardholderManagement,
    F::SpendControlManagement,
];
const ISSUING_CARDS_LIST_FEATURES: &[Feature] = &[
    F::CardManagement,
    F::CardSpendDisputeManagement,
    F::CardholderManagement,
    F::DisableStripeUserAuthentication,
    F::SpendControlManagement,
];

/// Builds a catalog row; keeps the table below one line per component.
const fn component(
    name: &'static str,
    features: &'static [Feature],
    response_only: &'static [Feature],
) -> ComponentSpec {
    ComponentSpec {
        name,
        features,
        response_only,
    }
}

/// Every component this server knows, alphabetically. Responses list all of them.
pub static CATALOG: [ComponentSpec; 22] = [
    component("account_management", ACCOUNT_FEATURES, NO_FEATURES),
    component("account_onboarding", ACCOUNT_FEATURES, NO_FEATURES),
    component("balance_report", NO_FEATURES, NO_FEATURES),
    component("balances", PAYOUT_FEATURES, NO_FEATURES),
    component("disputes_list", PAYMENT_FEATURES, NO_FEATURES),
    component("documents", NO_FEATURES, NO_FEATURES),
    component(
        "financial_account",
        FINANCIAL_ACCOUNT_FEATURES,
        &[F::MoneyMovement],
    ),
    component(
        "financial_account_transactions",
        &[F::CardSpendDisputeManagement],
        NO_FEATURES,
    ),
    component(
        "instant_payouts_promotion",
        &[
            F::DisableStripeUserAuthentication,
            F::ExternalAccountCollection,
            F::InstantPayouts,
        ],
        NO_FEATURES,
    ),
    component("issuing_card", ISSUING_CARD_FEATURES, NO_FEATURES),
    component(
        "issuing_cards_list",
        ISSUING_CARDS_LIST_FEATURES,
        NO_FEATURES,
    ),
    component("notification_banner", ACCOUNT_FEATURES, NO_FEATURES),
    component("payment_details", PAYMENT_FEATURES, NO_FEATURES),
    component("payment_disputes", PAYMENT_DISPUTE_FEATURES, NO_FEATURES),
    component(
        "payment_method_settings",
        &[F::DisableStripeUserAuthentication],
        NO_FEATURES,
    ),
    component("payments", PAYMENT_FEATURES, NO_FEATURES),
    component("payout_details", NO_FEATURES, NO_FEATURES),
    component("payout_reconciliation_report", NO_FEATURES, NO_FEATURES),
    component("payouts", PAYOUT_FEATURES, NO_FEATURES),
    component("payouts_list", NO_FEATURES, NO_FEATURES),
    component("tax_registrations", NO_FEATURES, NO_FEATURES),
    component("tax_settings", NO_FEATURES, NO_FEATURES),
];

/// The version of the stored bit layout of resolved components: which bit
/// means what follows from [`CATALOG`]'s order. Changing the catalog changes
/// the layout: bump this, and keep reading the old layout until sessions
/// stored with it have expired (a test pins the current layout).
pub const LAYOUT_VERSION: u8 = 1;

/// The catalog entry named `name`.
pub fn lookup(name: &str) -> Option<&'static ComponentSpec> {
    CATALOG.iter().find(|spec| spec.name == name)
}

/// One component as a request configured it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentRequest {
    /// Which component.
    pub spec: &'static ComponentSpec,
    /// `components[NAME][enabled]`.
    pub enabled: bool,
    /// The features the request set explicitly, in request order.
    pub features: Vec<(Feature, bool)>,
}

impl ComponentRequest {
    /// The value the request gave `feature`, if it gave one.
    fn explicit(&self, feature: Feature) -> Option<bool> {
        self.features
            .iter()
            .find(|(requested, _)| *requested == feature)
            .map(|(_, value)| *value)
    }
}

/// The components a request configured, in request order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComponentsRequest(pub Vec<ComponentRequest>);

/// A request that the account's controller does not allow, or that contradicts itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComponentRuleViolation {
    /// `disable_stripe_user_authentication: true` or `external_account_collection:
    /// false` on an account where Stripe collects requirements.
    #[error(
        "The `{feature}` feature can only be `{allowed_value}` for accounts where \
         `controller.requirement_collection` is `application`; this account's \
         `controller.requirement_collection` is `stripe`."
    )]
    NeedsApplicationRequirementCollection {
        /// The component whose feature was set.
        component: &'static str,
        /// The feature.
        feature: Feature,
        /// The one value only `application`-collected accounts may use.
        allowed_value: bool,
    },
    /// Two components set `disable_stripe_user_authentication` differently.
    #[error(
        "The `features[disable_stripe_user_authentication]` property specified by `{component}` and `{earlier_component}` must be the same."
    )]
    DisableStripeUserAuthenticationDiffers {
        /// The later component, whose value disagrees.
        component: &'static str,
        /// The first component that set the feature.
        earlier_component: &'static str,
    },
}

impl ComponentRuleViolation {
    /// The full bracketed parameter that broke the rule.
    pub fn param(&self) -> String {
        let (component, feature) = match self {
            Self::NeedsApplicationRequirementCollection {
                component, feature, ..
            } => (*component, *feature),
            Self::DisableStripeUserAuthenticationDiffers { component, .. } => {
                (*component, Feature::DisableStripeUserAuthentication)
            }
        };
        format!("components[{component}][features][{feature}]")
    }
}

/// One component as a session carries it: enabled or not, every feature resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedComponent {
    /// Which component.
    pub spec: &'static ComponentSpec,
    /// Whether the session enables it.
    pub enabled: bool,
    /// Every response feature of the component with its value, alphabetically.
    pub features: Vec<(Feature, bool)>,
}

impl ResolvedComponent {
    /// The resolved value of `feature`, if the component has it.
    pub fn feature(&self, feature: Feature) -> Option<bool> {
        self.features
            .iter()
            .find(|(candidate, _)| *candidate == feature)
            .map(|(_, value)| *value)
    }
}

/// Every catalog component as a session carries it, in catalog order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedComponents(Vec<ResolvedComponent>);

impl ResolvedComponents {
    /// Resolves a request against the account's controller: applies the documented
    /// defaults, then checks the rules. The request's own order decides which
    /// component is named first when two disagree.
    pub fn resolve(
        request: &ComponentsRequest,
        controller: &Controller,
    ) -> Result<Self, ComponentRuleViolation> {
        let session_wide_dsua = session_wide_disable_stripe_user_authentication(request)?;
        check_controller_allows(request, controller)?;
        let resolved = CATALOG
            .iter()
            .map(|spec| {
                let requested = request
                    .0
                    .iter()
                    .find(|entry| std::ptr::eq(entry.spec, spec));
                resolve_component(spec, requested, session_wide_dsua, controller)
            })
            .collect();
        Ok(Self(resolved))
    }

    /// The components, in catalog order.
    pub fn iter(&self) -> impl Iterator<Item = &ResolvedComponent> {
        self.0.iter()
    }

    /// The component named `name`.
    pub fn get(&self, name: &str) -> Option<&ResolvedComponent> {
        self.0.iter().find(|component| component.spec.name == name)
    }

    /// The compact stored form: a layout byte, then one bit per component
    /// (`enabled`) followed by one bit per response feature, in catalog order,
    /// least significant bit first. About 12 bytes, against 3 KB of JSON: one
    /// million stored sessions stay small and cheap to write.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = vec![LAYOUT_VERSION];
        let mut bit = 0usize;
        let mut push = |value: bool| {
            if bit.is_multiple_of(8) {
                bytes.push(0);
            }
            if value && let Some(last) = bytes.last_mut() {
                *last |= 1 << (bit % 8);
            }
            bit += 1;
        };
        for component in &self.0 {
            push(component.enabled);
            for (_, value) in &component.features {
                push(*value);
            }
        }
        bytes
    }

    /// Reads what [`ResolvedComponents::to_bytes`] wrote; `None` for another
    /// layout or a truncated value.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let (&layout, bits) = bytes.split_first()?;
        if layout != LAYOUT_VERSION {
            return None;
        }
        let mut index = 0usize;
        let mut read = || {
            let byte = bits.get(index / 8)?;
            let value = byte & (1 << (index % 8)) != 0;
            index += 1;
            Some(value)
        };
        CATALOG
            .iter()
            .map(|spec| {
                let enabled = read()?;
                let features = spec
                    .response_features()
                    .map(|feature| read().map(|value| (feature, value)))
                    .collect::<Option<Vec<_>>>()?;
                Some(ResolvedComponent {
                    spec,
                    enabled,
                    features,
                })
            })
            .collect::<Option<Vec<_>>>()
            .map(Self)
    }
}

impl Serialize for ResolvedComponents {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for component in &self.0 {
            map.serialize_entry(component.spec.name, &ComponentJson(component))?;
        }
        map.end()
    }
}

/// `{"enabled": …, "features": {…}}` for one component.
struct ComponentJson<'a>(&'a ResolvedComponent);

impl Serialize for ComponentJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("enabled", &self.0.enabled)?;
        map.serialize_entry("features", &FeaturesJson(&self.0.features))?;
        map.end()
    }
}

/// `{"feature": bool, …}`.
struct FeaturesJson<'a>(&'a [(Feature, bool)]);

impl Serialize for FeaturesJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (feature, value) in self.0 {
            map.serialize_entry(feature.name(), value)?;
        }
        map.end()
    }
}

/// The one value of `disable_stripe_user_authentication` the request set, if it
/// set any: it applies to every component, so all explicit values must agree.
fn session_wide_disable_stripe_user_authentication(
    request: &ComponentsRequest,
) -> Result<Option<bool>, ComponentRuleViolation> {
    let mut first: Option<(&'static str, bool)> = None;
    for entry in &request.0 {
        let Some(value) = entry.explicit(F::DisableStripeUserAuthentication) else {
            continue;
        };
        match first {
            None => first = Some((entry.spec.name, value)),
            Some((earlier_component, earlier_value)) if earlier_value != value => {
                return Err(
                    ComponentRuleViolation::DisableStripeUserAuthenticationDiffers {
                        component: entry.spec.name,
                        earlier_component,
                    },
                );
            }
            Some(_) => {}
        }
    }
    Ok(first.map(|(_, value)| value))
}

/// Rejects explicit values that only accounts with `requirement_collection:
/// application` may use.
fn check_controller_allows(
    request: &ComponentsRequest,
    controller: &Controller,
) -> Result<(), ComponentRuleViolation> {
    if controller.requirement_collection == RequirementCollection::Application {
        return Ok(());
    }
    for entry in &request.0 {
        for &(feature, value) in &entry.features {
            let restricted_value = match feature {
                F::DisableStripeUserAuthentication => true,
                F::ExternalAccountCollection => false,
                _ => continue,
            };
            if value == restricted_value {
                return Err(
                    ComponentRuleViolation::NeedsApplicationRequirementCollection {
                        component: entry.spec.name,
                        feature,
                        allowed_value: restricted_value,
                    },
                );
            }
        }
    }
    Ok(())
}

/// One component's resolved state: explicit values win, then the documented defaults.
fn resolve_component(
    spec: &'static ComponentSpec,
    requested: Option<&ComponentRequest>,
    session_wide_dsua: Option<bool>,
    controller: &Controller,
) -> ResolvedComponent {
    let explicit = |feature| requested.and_then(|entry| entry.explicit(feature));
    let stripe_covers_losses = controller.losses_payments == LossesPayer::Stripe;
    let external_account_collection = explicit(F::ExternalAccountCollection).unwrap_or(true);
    let dispute_management = explicit(F::DisputeManagement).unwrap_or(true);
    let features = spec
        .response_features()
        .map(|feature| {
            let value = explicit(feature).unwrap_or(match feature {
                F::ExternalAccountCollection => external_account_collection,
                F::DisableStripeUserAuthentication => {
                    session_wide_dsua.unwrap_or(!external_account_collection)
                }
                F::EditPayoutSchedule | F::InstantPayouts | F::StandardPayouts => {
                    stripe_covers_losses
                }
                F::CapturePayments | F::RefundManagement => true,
                F::DisputeManagement => dispute_management,
                F::SmartDisputesManagement => dispute_management,
                F::DestinationOnBehalfOfChargeManagement
                | F::SendMoney
                | F::TransferBalance
                | F::MoneyMovement
                | F::CardManagement
                | F::CardSpendDisputeManagement
                | F::CardholderManagement
                | F::SpendControlManagement => false,
            });
            // The session-wide value overrides even a component's own default.
            let value = match (feature, session_wide_dsua) {
                (F::DisableStripeUserAuthentication, Some(session_value)) => session_value,
                _ => value,
            };
            (feature, value)
        })
        .collect();
    ResolvedComponent {
        spec,
        enabled: requested.is_some_and(|entry| entry.enabled),
        features,
    }
}

/// Builders for tests elsewhere in the crate.
#[cfg(test)]
pub(crate) mod test_support {
    use super::{ComponentRequest, ComponentsRequest, Feature, lookup};

    /// `(component, enabled, explicit features)`.
    pub(crate) type Entry<'a> = (&'a str, bool, &'a [(Feature, bool)]);

    /// A request configuring `entries`, in order.
    pub(crate) fn request(entries: &[Entry<'_>]) -> ComponentsRequest {
        ComponentsRequest(
            entries
                .iter()
                .map(|(name, enabled, features)| ComponentRequest {
                    spec: lookup(name).unwrap(),
                    enabled: *enabled,
                    features: features.to_vec(),
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::account::{AccountType, Controller};

    use super::test_support::request;

    fn feature_of(resolved: &ResolvedComponents, component: &str, feature: Feature) -> bool {
        resolved.get(component).unwrap().feature(feature).unwrap()
    }

    #[test]
    fn catalog_names_are_unique_and_sorted() {
        let names: Vec<_> = CATALOG.iter().map(|spec| spec.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
    }

    #[test]
    fn payout_defaults_follow_who_covers_losses() {
        let seed = request(&[("payouts", true, &[])]);
        let standard =
            ResolvedComponents::resolve(&seed, &Controller::for_type(AccountType::Standard))
                .unwrap();
        let custom =
            ResolvedComponents::resolve(&seed, &Controller::for_type(AccountType::Custom)).unwrap();
        for feature in [F::EditPayoutSchedule, F::InstantPayouts, F::StandardPayouts] {
            assert!(feature_of(&standard, "payouts", feature));
            assert!(!feature_of(&custom, "payouts", feature));
        }
    }

    #[test]
    fn disable_stripe_user_authentication_defaults_to_the_opposite_of_external_account_collection()
    {
        let custom = Controller::for_type(AccountType::Custom);
        let req = request(&[(
            "account_onboarding",
            true,
            &[(F::ExternalAccountCollection, false)],
        )]);
        let resolved = ResolvedComponents::resolve(&req, &custom).unwrap();
        assert!(feature_of(
            &resolved,
            "account_onboarding",
            F::DisableStripeUserAuthentication
        ));
        assert!(!feature_of(
            &resolved,
            "payouts",
            F::DisableStripeUserAuthentication
        ));
    }

    #[test]
    fn an_explicit_disable_stripe_user_authentication_applies_to_every_component() {
        let custom = Controller::for_type(AccountType::Custom);
        let req = request(&[(
            "payouts",
            true,
            &[(F::DisableStripeUserAuthentication, true)],
        )]);
        let resolved = ResolvedComponents::resolve(&req, &custom).unwrap();
        for component in resolved.iter() {
            if let Some(value) = component.feature(F::DisableStripeUserAuthentication) {
                assert!(value, "{}", component.spec.name);
            }
        }
    }

    #[test]
    fn disagreeing_explicit_values_name_both_components_in_request_order() {
        let custom = Controller::for_type(AccountType::Custom);
        let req = request(&[
            (
                "account_onboarding",
                true,
                &[(F::DisableStripeUserAuthentication, false)],
            ),
            (
                "payouts",
                true,
                &[(F::DisableStripeUserAuthentication, true)],
            ),
        ]);
        let err = ResolvedComponents::resolve(&req, &custom).unwrap_err();
        assert_eq!(
            err.to_string(),
            "The `features[disable_stripe_user_authentication]` property specified by `payouts` and `account_onboarding` must be the same."
        );
        assert_eq!(
            err.param(),
            "components[payouts][features][disable_stripe_user_authentication]"
        );
    }

    #[test]
    fn stripe_collected_accounts_cannot_disable_authentication_or_external_accounts() {
        let standard = Controller::for_type(AccountType::Standard);
        let req = request(&[(
            "payouts",
            true,
            &[(F::DisableStripeUserAuthentication, true)],
        )]);
        let err = ResolvedComponents::resolve(&req, &standard).unwrap_err();
        assert_eq!(
            err.param(),
            "components[payouts][features][disable_stripe_user_authentication]"
        );
        let req = request(&[("balances", true, &[(F::ExternalAccountCollection, false)])]);
        let err = ResolvedComponents::resolve(&req, &standard).unwrap_err();
        assert_eq!(
            err.param(),
            "components[balances][features][external_account_collection]"
        );
        // The permitted values are accepted on any account (Stripe's furever demo relies on it).
        let req = request(&[(
            "payouts",
            true,
            &[
                (F::DisableStripeUserAuthentication, false),
                (F::ExternalAccountCollection, true),
            ],
        )]);
        assert!(ResolvedComponents::resolve(&req, &standard).is_ok());
    }

    #[test]
    fn smart_disputes_follow_the_components_dispute_management() {
        let standard = Controller::for_type(AccountType::Standard);
        let req = request(&[("payments", true, &[(F::DisputeManagement, false)])]);
        let resolved = ResolvedComponents::resolve(&req, &standard).unwrap();
        assert!(!feature_of(
            &resolved,
            "payments",
            F::SmartDisputesManagement
        ));
        assert!(feature_of(
            &resolved,
            "payment_details",
            F::SmartDisputesManagement
        ));
    }

    #[test]
    fn the_stored_form_round_trips_every_value_in_a_few_bytes() {
        let custom = Controller::for_type(AccountType::Custom);
        let req = request(&[
            ("payments", true, &[(F::RefundManagement, false)]),
            ("documents", true, &[]),
        ]);
        let resolved = ResolvedComponents::resolve(&req, &custom).unwrap();
        let bytes = resolved.to_bytes();
        assert!(bytes.len() <= 16, "{} bytes", bytes.len());
        assert_eq!(ResolvedComponents::from_bytes(&bytes).unwrap(), resolved);
        assert!(ResolvedComponents::from_bytes(&bytes[..bytes.len() - 1]).is_none());
        let mut other_layout = bytes.clone();
        other_layout[0] = LAYOUT_VERSION + 1;
        assert!(ResolvedComponents::from_bytes(&other_layout).is_none());
        let json = serde_json::to_value(&resolved).unwrap();
        assert_eq!(
            json["documents"],
            serde_json::json!({"enabled": true, "features": {}})
        );
    }

    #[test]
    fn feature_lists_are_sorted_so_they_merge_in_order() {
        for spec in &CATALOG {
            for list in [spec.features, spec.response_only] {
                assert!(
                    list.windows(2).all(|pair| pair[0].name() < pair[1].name()),
                    "{}",
                    spec.name
                );
            }
            let merged: Vec<&str> = spec.response_features().map(Feature::name).collect();
            let mut sorted = merged.clone();
            sorted.sort_unstable();
            assert_eq!(merged, sorted, "{}", spec.name);
        }
    }

    /// The stored bit layout of layout version 1. If this fails, the catalog
    /// changed: bump `LAYOUT_VERSION`, keep decoding version 1, and update this.
    #[test]
    fn the_stored_layout_is_pinned() {
        let layout: Vec<String> = CATALOG
            .iter()
            .map(|spec| {
                let features: Vec<&str> = spec.response_features().map(Feature::name).collect();
                format!("{}({})", spec.name, features.join(","))
            })
            .collect();
        let signature = blake3::hash(layout.join(";").as_bytes())
            .to_hex()
            .to_string();
        assert_eq!(LAYOUT_VERSION, 1);
        assert_eq!(
            &signature[..16],
            PINNED_LAYOUT_V1,
            "the catalog changed: see LAYOUT_VERSION"
        );
    }

    /// The first 16 hex digits of the layout signature of version 1.
    const PINNED_LAYOUT_V1: &str = "1fad69068504b296";
}
