//! Account capabilities: the ones a platform may request for a connected
//! account (Stripe's list, as its specification names them) and the status a
//! requested one has.

/// Capabilities a platform may request (`capabilities[NAME][requested]`), from
/// the spec's `account_capabilities`.
pub const REQUESTABLE: &[&str] = &[
    "acss_debit_payments",
    "affirm_payments",
    "afterpay_clearpay_payments",
    "alma_payments",
    "amazon_pay_payments",
    "app_distribution",
    "au_becs_debit_payments",
    "bacs_debit_payments",
    "bancontact_payments",
    "bank_transfer_payments",
    "billie_payments",
    "bizum_payments",
    "blik_payments",
    "boleto_payments",
    "card_issuing",
    "card_payments",
    "cartes_bancaires_payments",
    "cashapp_payments",
    "crypto_payments",
    "eps_payments",
    "fpx_payments",
    "gb_bank_transfer_payments",
    "giropay_payments",
    "grabpay_payments",
    "ideal_payments",
    "india_international_payments",
    "jcb_payments",
    "jp_bank_transfer_payments",
    "kakao_pay_payments",
    "klarna_payments",
    "konbini_payments",
    "kr_card_payments",
    "legacy_payments",
    "link_payments",
    "mb_way_payments",
    "mobilepay_payments",
    "multibanco_payments",
    "mx_bank_transfer_payments",
    "naver_pay_payments",
    "nz_bank_account_becs_debit_payments",
    "oxxo_payments",
    "p24_payments",
    "pay_by_bank_payments",
    "payco_payments",
    "paynow_payments",
    "payto_payments",
    "pix_payments",
    "promptpay_payments",
    "revolut_pay_payments",
    "samsung_pay_payments",
    "satispay_payments",
    "scalapay_payments",
    "sepa_bank_transfer_payments",
    "sepa_debit_payments",
    "sofort_payments",
    "sunbit_payments",
    "swish_payments",
    "tax_reporting_us_1099_k",
    "tax_reporting_us_1099_misc",
    "transfers",
    "treasury",
    "twint_payments",
    "upi_payments",
    "us_bank_account_ach_payments",
    "us_bank_transfer_payments",
    "zip_payments",
];

/// The status of a capability the platform requested for an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapabilityStatus {
    /// Active.
    Active,
    /// Requested but not yet active (requirements are due).
    Inactive,
    /// Under review.
    Pending,
}
wire_enum!(CapabilityStatus { Active => "active", Inactive => "inactive", Pending => "pending" });

/// Whether a platform may request the capability `name`.
pub fn is_requestable(name: &str) -> bool {
    REQUESTABLE.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_requestable_list_is_sorted_and_free_of_duplicates() {
        assert!(REQUESTABLE.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(is_requestable("card_payments"));
        assert!(!is_requestable("card_payment"));
    }
}
