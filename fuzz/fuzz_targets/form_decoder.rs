//! The form decoder on arbitrary bytes: it must never panic, and whatever it
//! accepts must read through the account-session parameters and fingerprint
//! without panicking either.

#![no_main]

use connect_sessions::http::extract::FromParams;
use connect_sessions::http::form::{self, Decoder, FormLimits};
use connect_sessions::http::routes::account_sessions::CreateAccountSessionParams;
use connect_sessions::http::routes::accounts::CreateAccountParams;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(decoded) = form::parse(data, FormLimits::default()) else {
        return;
    };
    let _ = form::canonical_bytes(&decoded.tree);
    for read in [read_session as fn(form::DecodedForm), read_account] {
        read(decoded.clone());
    }
});

fn read_session(decoded: form::DecodedForm) {
    let mut decoder = Decoder::new(decoded.key_order);
    {
        let mut root = decoder.root(decoded.tree);
        let _ = CreateAccountSessionParams::from_params(&mut root);
    }
    let _ = decoder.finish();
}

fn read_account(decoded: form::DecodedForm) {
    let mut decoder = Decoder::new(decoded.key_order);
    {
        let mut root = decoder.root(decoded.tree);
        let _ = CreateAccountParams::from_params(&mut root);
    }
    let _ = decoder.finish();
}
