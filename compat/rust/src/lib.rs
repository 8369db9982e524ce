//! Compatibility tests for async-stripe 1.0.0-rc.10 live in `tests/async_stripe.rs`.
//! Run them through `compat/run.sh`, which starts a server and exports `CS_API_BASE` and
//! `CS_SECRET_KEY` (see `compat/README.md`).
