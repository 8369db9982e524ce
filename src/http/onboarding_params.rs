//! The onboarding parameters of accounts and persons, read from the form into
//! the domain's change commands: `business_profile`, `business_type`,
//! `individual`, `company`, `tos_acceptance`, `settings`, `external_account`,
//! and a person's fields. Both the platform's and the account's own endpoints
//! read them here, so each is parsed one way.

use std::net::IpAddr;

use crate::clock::Timestamp;
use crate::domain::account::{
    BusinessProfileUpdate, DelayDays, FieldUpdate, PayoutScheduleUpdate, SettingsUpdate,
};
use crate::domain::external_account::{BankAccountDetails, HolderType};
use crate::domain::onboarding::changes::{
    AddressUpdate, CompanyUpdate, DobUpdate, IdentityUpdate, PercentUpdate, PersonUpdate,
    RelationshipUpdate, Secret, TosUpdate,
};
use crate::domain::onboarding::identity::{
    BusinessType, Dob, PayoutInterval, Percent, ServiceAgreement, Weekday,
};

use super::error::ApiError;
use super::form::{FormValue, Params};
use super::params::{check_email_param, read_metadata};

/// An optional string that an empty value unsets. (Its length, at most 5,000
/// characters, and its characters were checked when the form was decoded.)
fn string(params: &mut Params<'_>, key: &str) -> FieldUpdate {
    params.string_update(key)
}

/// An email address that an empty value unsets.
fn email(params: &mut Params<'_>, key: &str) -> FieldUpdate {
    match string(params, key) {
        FieldUpdate::Set(value) => {
            let param = params.param(key);
            check_email_param(params, param, value).map_or(FieldUpdate::Keep, FieldUpdate::Set)
        }
        other => other,
    }
}

/// A web address that an empty value unsets: `http` or `https`, with a host.
fn url(params: &mut Params<'_>, key: &str) -> FieldUpdate {
    match string(params, key) {
        FieldUpdate::Set(value) => {
            let valid = url::Url::parse(&value).is_ok_and(|parsed| {
                matches!(parsed.scheme(), "http" | "https") && parsed.host_str().is_some()
            });
            if valid {
                FieldUpdate::Set(value)
            } else {
                let param = params.param(key);
                params.reject(ApiError::InvalidUrl { param });
                FieldUpdate::Keep
            }
        }
        other => other,
    }
}

/// A secret (an ID number, a tax ID): accepted, never kept.
fn secret(params: &mut Params<'_>, key: &str) -> Option<Secret> {
    let value = params.optional_string(key)?;
    Some(Secret::new(value.trim()))
}

/// `business_profile[...]`.
pub fn read_business_profile(params: &mut Params<'_>) -> BusinessProfileUpdate {
    let Some(mut profile) = params.optional_hash("business_profile") else {
        return BusinessProfileUpdate::default();
    };
    let mcc = string(&mut profile, "mcc");
    if let FieldUpdate::Set(code) = &mcc
        && (code.len() != 4 || !code.bytes().all(|b| b.is_ascii_digit()))
    {
        let param = profile.param("mcc");
        profile.reject(ApiError::invalid(
            param,
            format!("Invalid mcc: '{code}' is not a four-digit merchant category code."),
        ));
    }
    BusinessProfileUpdate {
        mcc,
        name: string(&mut profile, "name"),
        product_description: string(&mut profile, "product_description"),
        support_email: email(&mut profile, "support_email"),
        support_phone: string(&mut profile, "support_phone"),
        support_url: url(&mut profile, "support_url"),
        url: url(&mut profile, "url"),
    }
}

/// `business_type`, `individual[...]`, `company[...]` and `tos_acceptance[...]`.
pub fn read_identity(params: &mut Params<'_>) -> IdentityUpdate {
    IdentityUpdate {
        business_type: params.optional_enum("business_type", BusinessType::VALUES),
        individual: params
            .optional_hash("individual")
            .map(|mut individual| read_person(&mut individual)),
        company: params
            .optional_hash("company")
            .map(|mut company| read_company(&mut company)),
        tos_acceptance: params
            .optional_hash("tos_acceptance")
            .map(|mut tos| read_tos(&mut tos)),
    }
}

/// A person's fields, at the top of a Persons API request or inside `individual`.
pub fn read_person(params: &mut Params<'_>) -> PersonUpdate {
    PersonUpdate {
        first_name: string(params, "first_name"),
        last_name: string(params, "last_name"),
        email: email(params, "email"),
        phone: string(params, "phone"),
        dob: read_dob(params),
        address: read_address(params, "address"),
        id_number: secret(params, "id_number"),
        ssn_last_4: read_ssn_last_4(params),
        relationship: read_relationship(params),
        metadata: read_metadata(params),
    }
}

/// `dob[day|month|year]`, or `dob=` to remove it.
fn read_dob(params: &mut Params<'_>) -> Option<DobUpdate> {
    let mut dob = match params.clearable_hash("dob") {
        Err(_) => return Some(DobUpdate::Clear),
        Ok(None) => return None,
        Ok(Some(dob)) => dob,
    };
    let part = |dob: &mut Params<'_>, key: &str, range| {
        let value = dob.optional_integer(key, range);
        if value.is_none() && !dob.contains(key) {
            let param = dob.param(key);
            dob.reject(ApiError::ParameterMissing { param });
        }
        value
    };
    let day = part(&mut dob, "day", 1..=31).and_then(|d| u8::try_from(d).ok());
    let month = part(&mut dob, "month", 1..=12).and_then(|m| u8::try_from(m).ok());
    let year = part(&mut dob, "year", 1900..=9999).and_then(|y| u16::try_from(y).ok());
    Some(DobUpdate::Set(Dob { day, month, year }))
}

/// An address hash under `key`.
fn read_address(params: &mut Params<'_>, key: &str) -> AddressUpdate {
    let Some(mut address) = params.optional_hash(key) else {
        return AddressUpdate::default();
    };
    let country = string(&mut address, "country");
    let country = match country {
        FieldUpdate::Set(code) => match crate::domain::country::parse(&code) {
            Some(code) => FieldUpdate::Set(code),
            None => {
                let param = address.param("country");
                address.reject(ApiError::invalid(
                    param,
                    format!("Invalid country: '{code}' is not an ISO 3166-1 alpha-2 country code."),
                ));
                FieldUpdate::Keep
            }
        },
        other => other,
    };
    AddressUpdate {
        city: string(&mut address, "city"),
        country,
        line1: string(&mut address, "line1"),
        line2: string(&mut address, "line2"),
        postal_code: string(&mut address, "postal_code"),
        state: string(&mut address, "state"),
    }
}

/// `ssn_last_4`: exactly four digits.
fn read_ssn_last_4(params: &mut Params<'_>) -> Option<Secret> {
    let value = params.optional_string("ssn_last_4")?;
    let digits = value.trim();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        let param = params.param("ssn_last_4");
        params.reject(ApiError::invalid(
            param,
            "Invalid ssn_last_4: it must be the last four digits of a US Social Security number.",
        ));
        return None;
    }
    Some(Secret::new(digits))
}

/// `relationship[...]`.
fn read_relationship(params: &mut Params<'_>) -> RelationshipUpdate {
    let Some(mut relationship) = params.optional_hash("relationship") else {
        return RelationshipUpdate::default();
    };
    RelationshipUpdate {
        authorizer: relationship.optional_bool("authorizer"),
        director: relationship.optional_bool("director"),
        executive: relationship.optional_bool("executive"),
        legal_guardian: relationship.optional_bool("legal_guardian"),
        owner: relationship.optional_bool("owner"),
        percent_ownership: read_percent(&mut relationship),
        representative: relationship.optional_bool("representative"),
        title: string(&mut relationship, "title"),
    }
}

/// `percent_ownership`: a number from 0 to 100 with at most two decimals;
/// empty unsets it.
fn read_percent(params: &mut Params<'_>) -> PercentUpdate {
    let value = match params.string_update("percent_ownership") {
        FieldUpdate::Keep => return PercentUpdate::Keep,
        FieldUpdate::Clear => return PercentUpdate::Clear,
        FieldUpdate::Set(value) => value,
    };
    match parse_hundredths(value.trim()) {
        Some(share) if share <= Percent::WHOLE.0 => PercentUpdate::Set(Percent(share)),
        _ => {
            let param = params.param("percent_ownership");
            params.reject(ApiError::invalid(
                param,
                format!("Invalid percent_ownership: '{value}' is not a number from 0 to 100."),
            ));
            PercentUpdate::Keep
        }
    }
}

/// `"80"`, `"80.5"` or `"80.25"` in hundredths (8000, 8050, 8025).
fn parse_hundredths(text: &str) -> Option<u32> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || fraction.len() > 2 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u32 = whole.parse().ok()?;
    let fraction: u32 = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<u32>().ok()? * 10,
        _ => fraction.parse().ok()?,
    };
    whole.checked_mul(100)?.checked_add(fraction)
}

/// `company[...]`.
fn read_company(params: &mut Params<'_>) -> CompanyUpdate {
    CompanyUpdate {
        name: string(params, "name"),
        phone: string(params, "phone"),
        structure: string(params, "structure"),
        address: read_address(params, "address"),
        tax_id: secret(params, "tax_id"),
        directors_provided: params.optional_bool("directors_provided"),
        executives_provided: params.optional_bool("executives_provided"),
        owners_provided: params.optional_bool("owners_provided"),
    }
}

/// `tos_acceptance[...]`.
fn read_tos(params: &mut Params<'_>) -> TosUpdate {
    let date = params
        .optional_integer("date", 0..=i64::from(u32::MAX))
        .map(Timestamp::from_secs);
    let ip = match string(params, "ip") {
        FieldUpdate::Set(ip) if ip.trim().parse::<IpAddr>().is_err() => {
            let param = params.param("ip");
            params.reject(ApiError::invalid(
                param,
                format!("Invalid IP address: '{ip}'."),
            ));
            FieldUpdate::Keep
        }
        other => other,
    };
    TosUpdate {
        date,
        ip,
        user_agent: string(params, "user_agent"),
        service_agreement: params.optional_enum("service_agreement", ServiceAgreement::VALUES),
    }
}

/// `settings[payments][statement_descriptor]` and `settings[payouts][schedule][...]`.
pub fn read_settings(params: &mut Params<'_>) -> SettingsUpdate {
    let Some(mut settings) = params.optional_hash("settings") else {
        return SettingsUpdate::default();
    };
    let statement_descriptor = match settings.optional_hash("payments") {
        Some(mut payments) => {
            let descriptor = string(&mut payments, "statement_descriptor");
            if let FieldUpdate::Set(text) = &descriptor {
                let len = text.chars().count();
                if !(5..=22).contains(&len) || text.contains(['<', '>', '\\', '\'', '"', '*']) {
                    let param = payments.param("statement_descriptor");
                    payments.reject(ApiError::invalid(
                        param,
                        "Invalid statement_descriptor: it must be 5 to 22 characters, without < > \\ ' \" or *.",
                    ));
                }
            }
            descriptor
        }
        None => FieldUpdate::Keep,
    };
    let payout_schedule = settings.optional_hash("payouts").and_then(|mut payouts| {
        payouts
            .optional_hash("schedule")
            .map(|mut schedule| read_schedule(&mut schedule))
    });
    SettingsUpdate {
        statement_descriptor,
        payout_schedule,
    }
}

/// `settings[payouts][schedule][...]`.
fn read_schedule(params: &mut Params<'_>) -> PayoutScheduleUpdate {
    let delay_days = match params.optional_string("delay_days") {
        None => None,
        Some(text) if text == "minimum" => Some(DelayDays::Minimum),
        Some(text) => match text.parse::<u32>() {
            Ok(days) if days <= 365 => Some(DelayDays::Days(days)),
            _ => {
                let param = params.param("delay_days");
                params.reject(ApiError::invalid(
                    param,
                    format!("Invalid delay_days: '{text}' is neither a number of days (up to 365) nor minimum."),
                ));
                None
            }
        },
    };
    PayoutScheduleUpdate {
        interval: params.optional_enum("interval", PayoutInterval::VALUES),
        delay_days,
        weekly_anchor: params.optional_enum("weekly_anchor", Weekday::VALUES),
        monthly_anchor: params
            .optional_integer("monthly_anchor", 1..=31)
            .and_then(|day| u8::try_from(day).ok()),
    }
}

/// Stripe's test bank account tokens, as bank details: every one is the US
/// test bank's successful account.
const TEST_BANK_TOKENS: &[&str] = &["btok_us", "btok_us_verified"];

/// An external bank account under `key`: a hash with `object=bank_account`,
/// or one of Stripe's test tokens.
pub fn read_external_account(params: &mut Params<'_>, key: &str) -> Option<BankAccountDetails> {
    let param = params.param(key);
    let value = match params.take_value(key)? {
        FormValue::Text(token) => {
            if TEST_BANK_TOKENS.contains(&token.as_str()) {
                return parse_bank(params, "US", "usd", None, Some("110000000"), "000123456789");
            }
            params.reject(ApiError::ResourceMissing {
                object: "token",
                id: token,
                param: Some(param),
                exists_in: None,
            });
            return None;
        }
        other => other,
    };
    let mut bank = params.child(key, value)?;
    if let Some(object) = bank.optional_string("object")
        && object != "bank_account"
    {
        let param = bank.param("object");
        bank.reject(ApiError::invalid(
            param,
            format!("Invalid object: must be bank_account, not '{object}'."),
        ));
    }
    read_bank_fields(&mut bank)
}

/// The fields of a bank account: `country`, `currency`, `account_number`,
/// `routing_number`, `account_holder_name`, `account_holder_type`.
pub fn read_bank_fields(params: &mut Params<'_>) -> Option<BankAccountDetails> {
    let country = params.required_string("country");
    let currency = params.required_string("currency");
    let account_holder_name = params.optional_string("account_holder_name");
    let account_holder_type = params.optional_enum("account_holder_type", HolderType::VALUES);
    let routing_number = params.optional_string("routing_number");
    let account_number = params.required_string("account_number");
    let mut details = parse_bank(
        params,
        &country?,
        &currency?,
        account_holder_name,
        routing_number.as_deref(),
        &account_number?,
    )?;
    details.account_holder_type = account_holder_type;
    Some(details)
}

/// Checked bank details; an error names the field inside `params`' hash.
fn parse_bank(
    params: &mut Params<'_>,
    country: &str,
    currency: &str,
    account_holder_name: Option<String>,
    routing_number: Option<&str>,
    account_number: &str,
) -> Option<BankAccountDetails> {
    match BankAccountDetails::parse(
        country,
        currency,
        account_holder_name,
        routing_number.map(str::to_owned),
        account_number,
    ) {
        Ok(details) => Some(details),
        Err(invalid) => {
            let param = params.param(invalid.param);
            params.reject(ApiError::invalid(param, invalid.message));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_read_in_hundredths() {
        assert_eq!(parse_hundredths("80"), Some(8_000));
        assert_eq!(parse_hundredths("80.5"), Some(8_050));
        assert_eq!(parse_hundredths("0.25"), Some(25));
        assert_eq!(parse_hundredths("1.234"), None);
        assert_eq!(parse_hundredths("-1"), None);
        assert_eq!(parse_hundredths(".5"), None);
    }
}
