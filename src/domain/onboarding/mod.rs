//! Onboarding: what a connected account tells Stripe about itself (its
//! business type, the individual or the company and its persons, terms
//! acceptance, payout settings), how test mode verifies it, and the
//! requirements, capability statuses and enabled flags that follow.

pub mod changes;
pub mod identity;
pub mod requirements;
pub mod verification;
