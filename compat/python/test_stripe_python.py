"""The official `stripe` Python package (16.1.0) against a running connect-sessions server.

Run through `compat/run.sh`, which starts a server and exports:
  CS_API_BASE          http://127.0.0.1:PORT
  CS_SECRET_KEY        test secret key of platform A
  CS_PUBLISHABLE_KEY   test publishable key of platform A
  CS_LIVE_SECRET_KEY   live secret key of platform A
  CS_OTHER_SECRET_KEY  test secret key of platform B
  CS_SESSION_TTL_SECONDS  the TTL the server was started with (default 1800)
  CS_VERIFICATION_DELAY_SECONDS  the server's test-mode verification delay (run.sh: 1)

Every test creates the accounts it uses. Errors are checked through the SDK's own exception
classes, which the SDK picks from the HTTP status, then through `code`, `param` and the message.
"""

import json
import os
import re
import time
import uuid
from pathlib import Path

import pytest
import stripe
from stripe import StripeClient

SDK_API_VERSION = "2026-10-28.endive"
EXPECTED = json.loads(
    (Path(__file__).resolve().parent.parent / "expected_components.json").read_text()
)["components"]
PUBLISHABLE_MESSAGE = (
    "This API call cannot be made with a publishable API key. Please use a secret API key. "
    "You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys."
)
SEED_COMPONENTS = {
    "account_onboarding": {"enabled": True},
    "payments": {"enabled": True},
    "payouts": {"enabled": True},
    "balances": {"enabled": True},
}
UNKNOWN_ACCOUNT = "acct_1NkDjjJyhOZfPCWt"


def env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run this suite through compat/run.sh")
    return value


@pytest.fixture(scope="session")
def base():
    return env("CS_API_BASE")


def make_client(key, base):
    return StripeClient(key, base_addresses={"api": base}, max_network_retries=0)


@pytest.fixture(scope="session")
def client(base):
    return make_client(env("CS_SECRET_KEY"), base)


@pytest.fixture(scope="session")
def other_client(base):
    return make_client(env("CS_OTHER_SECRET_KEY"), base)


@pytest.fixture(scope="session")
def live_client(base):
    return make_client(env("CS_LIVE_SECRET_KEY"), base)


def create_session(client, account_id, components=None, **extra):
    params = {"account": account_id, "components": components or SEED_COMPONENTS}
    params.update(extra)
    return client.v1.account_sessions.create(params)


def expect_error(fn, cls, status, *, code=None, param=None, message=None, type_="invalid_request_error"):
    """Call fn, expect the SDK to raise exactly `cls`, and check the error's fields.

    `code`/`param`/`message` of None mean "not checked". The error body's `code` and `param` are read from `e.error` (the SDK fills `e.code`/`e.param`
    only on InvalidRequestError/CardError; AuthenticationError and PermissionError keep them in
    the error object).
    """
    with pytest.raises(stripe.StripeError) as info:
        fn()
    e = info.value
    assert type(e) is cls, f"expected {cls.__name__}, got {type(e).__name__}: {e!r} body={e.http_body}"
    assert e.http_status == status, e.http_body
    assert e.error is not None, f"no Stripe error envelope in {e.http_body!r}"
    assert e.error.type == type_, e.http_body
    if code is not None:
        assert e.error.code == code, e.http_body
        if cls is stripe.InvalidRequestError:
            assert e.code == code
        if code:
            assert e.error.doc_url == "https://stripe.com/docs/error-codes/" + code.replace("_", "-"), e.http_body
    if param is not None:
        assert e.error.param == param, e.http_body
        if cls is stripe.InvalidRequestError:
            assert e.param == param
    if message is not None:
        assert e.user_message == message, e.http_body
    assert e.request_id and re.fullmatch(r"req_[A-Za-z0-9]{14}", e.request_id), e.headers
    return e


def assert_catalog(components):
    """Exactly the 22 components, each with a bool `enabled` and exactly its bool features."""
    assert sorted(components.keys()) == sorted(EXPECTED.keys())
    assert len(components) == 22
    for name, features in EXPECTED.items():
        comp = components[name]
        assert sorted(comp.keys()) == ["enabled", "features"], (name, comp)
        assert isinstance(comp["enabled"], bool), (name, comp)
        assert sorted(comp["features"].keys()) == sorted(features), (name, comp["features"])
        for f, v in comp["features"].items():
            assert isinstance(v, bool), (name, f, v)


def assert_session(session, account_id, livemode=False):
    ttl = int(os.environ.get("CS_SESSION_TTL_SECONDS", "1800"))
    assert session.object == "account_session"
    assert session.account == account_id
    assert isinstance(session.client_secret, str)
    assert session.client_secret.startswith("accs_secret__"), session.client_secret[:13]
    assert len(session.client_secret) == 60
    assert re.fullmatch(r"accs_secret__[A-Za-z0-9_-]{47}", session.client_secret)
    assert session.livemode is livemode
    now = int(time.time())
    assert session.expires_at > now
    assert now + ttl - 120 <= session.expires_at <= now + ttl + 5, (session.expires_at, now, ttl)
    assert "id" not in session.to_dict(), "an account session has no id"
    comps = session.to_dict()["components"]
    assert_catalog(comps)
    return comps


# --------------------------------------------------------------------------------------------
# Accounts
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "type_, controller",
    [
        ("custom", {"losses": "application", "fees": "application_custom", "req": "application", "dash": "none"}),
        ("express", {"losses": "application", "fees": "application_express", "req": "stripe", "dash": "express"}),
        ("standard", {"losses": "stripe", "fees": "account", "req": "stripe", "dash": "full"}),
    ],
)
def test_create_account_by_type_maps_to_controller(client, type_, controller):
    before = int(time.time())
    acct = client.v1.accounts.create(
        {
            "type": type_,
            "email": f"{type_}@example.com",
            "metadata": {"suite": "python", "n": "1"},
            "business_profile": {"name": "Ada's Shop", "url": "https://example.com/shop"},
        }
    )
    assert re.fullmatch(r"acct_[A-Za-z0-9]{16}", acct.id), acct.id
    assert acct.object == "account"
    assert acct.type == type_
    assert acct.country == "US"
    assert acct.email == f"{type_}@example.com"
    assert acct.metadata.to_dict() == {"suite": "python", "n": "1"}
    assert acct.business_profile.name == "Ada's Shop"
    assert acct.business_profile.url == "https://example.com/shop"
    assert before - 5 <= acct.created <= int(time.time()) + 5
    for flag in ("charges_enabled", "payouts_enabled", "details_submitted"):
        assert isinstance(acct[flag], bool), flag
    assert acct.capabilities is not None
    c = acct.controller
    assert c.is_controller is True
    assert c.type == "application"
    assert c.losses.payments == controller["losses"]
    assert c.fees.payer == controller["fees"]
    assert c.requirement_collection == controller["req"]
    assert c.stripe_dashboard.type == controller["dash"]
    assert acct.last_response.code == 200
    assert re.fullmatch(r"req_[A-Za-z0-9]{14}", acct.last_response.request_id)


def test_create_account_with_controller_properties(client):
    acct = client.v1.accounts.create(
        {
            "controller": {
                "fees": {"payer": "application"},
                "losses": {"payments": "application"},
                "requirement_collection": "application",
                "stripe_dashboard": {"type": "none"},
            },
            "country": "GB",
        }
    )
    assert acct.country == "GB"
    # Created through controller properties: Stripe reports type "none" and fees.payer application.
    assert acct.type == "none"
    c = acct.controller
    assert c.is_controller is True
    assert c.type == "application"
    assert c.fees.payer == "application"
    assert c.losses.payments == "application"
    assert c.requirement_collection == "application"
    assert c.stripe_dashboard.type == "none"


def test_controller_defaults_when_omitted(client):
    acct = client.v1.accounts.create({"controller": {"losses": {"payments": "stripe"}}})
    c = acct.controller
    assert c.fees.payer == "account"
    assert c.losses.payments == "stripe"
    assert c.requirement_collection == "stripe"
    assert c.stripe_dashboard.type == "full"


def test_rejected_controller_combination(client):
    e = expect_error(
        lambda: client.v1.accounts.create(
            {"controller": {"stripe_dashboard": {"type": "none"}, "requirement_collection": "stripe", "losses": {"payments": "application"}}}
        ),
        stripe.InvalidRequestError,
        400,
    )
    assert "Stripe must be liable for negative balances or refunds and chargebacks" in e.user_message


def test_type_and_controller_together_is_rejected(client):
    expect_error(
        lambda: client.v1.accounts.create({"type": "custom", "controller": {"losses": {"payments": "application"}}}),
        stripe.InvalidRequestError,
        400,
    )


def test_create_account_unknown_param(client):
    expect_error(
        lambda: client.v1.accounts.create({"type": "custom", "bogus": "1"}),
        stripe.InvalidRequestError,
        400,
        code="parameter_unknown",
        param="bogus",
        message="Received unknown parameter: bogus",
    )


def test_retrieve_update_metadata_and_delete(client):
    acct = client.v1.accounts.create({"type": "custom", "metadata": {"a": "1", "b": "2"}})
    got = client.v1.accounts.retrieve(acct.id)
    assert got.id == acct.id and got.type == "custom"
    assert got.metadata.to_dict() == {"a": "1", "b": "2"}

    # Metadata merges; an empty value unsets a key.
    upd = client.v1.accounts.update(acct.id, {"metadata": {"b": "", "c": "3"}, "email": "new@example.com"})
    assert upd.id == acct.id
    assert upd.metadata.to_dict() == {"a": "1", "c": "3"}
    assert upd.email == "new@example.com"
    assert client.v1.accounts.retrieve(acct.id).metadata.to_dict() == {"a": "1", "c": "3"}

    # Controller properties cannot change after creation.
    expect_error(
        lambda: client.v1.accounts.update(acct.id, {"controller": {"stripe_dashboard": {"type": "full"}}}),
        stripe.InvalidRequestError,
        400,
    )

    deleted = client.v1.accounts.delete(acct.id)
    assert deleted.id == acct.id
    assert deleted.object == "account"
    assert deleted.deleted is True

    # A deleted account is gone for retrieve (403, Stripe's account_invalid) and for sessions.
    expect_error(lambda: client.v1.accounts.retrieve(acct.id), stripe.PermissionError, 403, code="account_invalid")
    expect_error(
        lambda: create_session(client, acct.id),
        stripe.InvalidRequestError,
        400,
        code="resource_missing",
        param="account",
        message=f"No such account: '{acct.id}'",
    )


def test_list_accounts_newest_first_with_pagination(client):
    ids = [client.v1.accounts.create({"type": "express", "metadata": {"i": str(i)}}).id for i in range(4)][1:]
    page = client.v1.accounts.list({"limit": 3})
    assert page.object == "list"
    assert page.url == "/v1/accounts"
    assert [a.id for a in page.data] == list(reversed(ids))
    assert page.has_more is True  # a fourth, older account exists
    after = client.v1.accounts.list({"limit": 1, "starting_after": ids[2]})
    assert [a.id for a in after.data] == [ids[1]]
    before = client.v1.accounts.list({"limit": 2, "ending_before": ids[0]})
    assert [a.id for a in before.data] == [ids[2], ids[1]]
    expect_error(
        lambda: client.v1.accounts.list({"limit": 101}),
        stripe.InvalidRequestError,
        400,
        param="limit",
    )


def test_retrieve_unknown_account_is_permission_error(client):
    e = expect_error(
        lambda: client.v1.accounts.retrieve(UNKNOWN_ACCOUNT),
        stripe.PermissionError,
        403,
        code="account_invalid",
    )
    assert re.fullmatch(
        r"The provided key 'sk_test_\*+[A-Za-z0-9]{4,6}' does not have access to account "
        + re.escape(f"'{UNKNOWN_ACCOUNT}'")
        + r" \(or that account does not exist\)\. Application access may have been revoked\.",
        e.user_message,
    ), e.user_message
    assert env("CS_SECRET_KEY") not in e.user_message


# --------------------------------------------------------------------------------------------
# Account sessions: the seed's request, shape and defaults
# --------------------------------------------------------------------------------------------


def test_seed_session_for_custom_account(client):
    acct = client.v1.accounts.create({"type": "custom"})
    idem = f"compat-python-{uuid.uuid4()}"
    session = client.v1.account_sessions.create(
        {"account": acct.id, "components": SEED_COMPONENTS},
        {"idempotency_key": idem},
    )
    comps = assert_session(session, acct.id)
    for name in EXPECTED:
        assert comps[name]["enabled"] is (name in SEED_COMPONENTS), name
    for name, features in EXPECTED.items():
        if not features:
            assert comps[name]["features"] == {}, name

    # Defaults resolved from a Custom account (losses.payments = application).
    for name in ("balances", "payouts"):
        f = comps[name]["features"]
        assert f["instant_payouts"] is False
        assert f["standard_payouts"] is False
        assert f["edit_payout_schedule"] is False
        assert f["external_account_collection"] is True
        assert f["disable_stripe_user_authentication"] is False
    assert comps["instant_payouts_promotion"]["features"]["instant_payouts"] is False
    for name in ("payments", "payment_details", "disputes_list"):
        f = comps[name]["features"]
        assert f == {
            "capture_payments": True,
            "destination_on_behalf_of_charge_management": False,
            "dispute_management": True,
            "refund_management": True,
            "smart_disputes_management": True,
        }, name
    assert comps["payment_disputes"]["features"] == {
        "destination_on_behalf_of_charge_management": False,
        "dispute_management": True,
        "refund_management": True,
        "smart_disputes_management": True,
    }
    assert comps["financial_account"]["features"] == {
        "disable_stripe_user_authentication": False,
        "external_account_collection": True,
        "money_movement": False,
        "send_money": False,
        "transfer_balance": False,
    }
    assert not any(comps["issuing_card"]["features"].values())
    assert not any(comps["financial_account_transactions"]["features"].values())
    assert comps["payment_method_settings"]["features"] == {"disable_stripe_user_authentication": False}

    # Wire protocol headers, as the SDK exposes them.
    resp = session.last_response
    assert resp.code == 200
    assert re.fullmatch(r"req_[A-Za-z0-9]{14}", resp.request_id), resp.request_id
    assert resp.idempotency_key == idem
    assert resp.headers["Stripe-Version"] == SDK_API_VERSION
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.headers["Cache-Control"] == "no-cache, no-store"


def test_sessions_are_fresh_and_sdk_idempotency_key_echoed(client):
    acct = client.v1.accounts.create({"type": "custom"})
    s1 = create_session(client, acct.id)
    s2 = create_session(client, acct.id)
    assert s1.client_secret != s2.client_secret
    assert s1.last_response.request_id != s2.last_response.request_id
    # The SDK adds its own Idempotency-Key to every POST; the server echoes it.
    for s in (s1, s2):
        assert s.last_response.idempotency_key, s.last_response.headers
    assert s1.last_response.idempotency_key != s2.last_response.idempotency_key


def test_standard_account_payout_defaults_and_explicit_features(client):
    acct = client.v1.accounts.create({"type": "standard"})
    session = create_session(
        client,
        acct.id,
        {
            "balances": {"enabled": True},
            "payments": {"enabled": True, "features": {"dispute_management": False, "refund_management": False}},
        },
        expand=["components"],
    )
    comps = assert_session(session, acct.id)
    for name in ("balances", "payouts"):
        f = comps[name]["features"]
        assert f["instant_payouts"] is True, name
        assert f["standard_payouts"] is True, name
        assert f["edit_payout_schedule"] is True, name
    assert comps["instant_payouts_promotion"]["features"]["instant_payouts"] is True
    assert comps["payouts"]["enabled"] is False
    p = comps["payments"]["features"]
    assert p["dispute_management"] is False
    assert p["refund_management"] is False
    assert p["smart_disputes_management"] is False, "follows the component's dispute_management"
    assert p["capture_payments"] is True
    assert comps["payment_details"]["features"]["dispute_management"] is True


def test_external_account_collection_false_flips_that_components_auth_default(client):
    acct = client.v1.accounts.create({"type": "custom"})
    session = create_session(
        client,
        acct.id,
        {"payouts": {"enabled": True, "features": {"external_account_collection": False}}},
    )
    comps = assert_session(session, acct.id)
    assert comps["payouts"]["features"]["external_account_collection"] is False
    assert comps["payouts"]["features"]["disable_stripe_user_authentication"] is True
    assert comps["balances"]["features"]["external_account_collection"] is True
    assert comps["balances"]["features"]["disable_stripe_user_authentication"] is False


def test_explicit_disable_stripe_user_authentication_is_session_wide(client):
    acct = client.v1.accounts.create({"type": "custom"})
    session = create_session(
        client,
        acct.id,
        {"account_management": {"enabled": True, "features": {"disable_stripe_user_authentication": True}}},
    )
    comps = assert_session(session, acct.id)
    having = [n for n, f in EXPECTED.items() if "disable_stripe_user_authentication" in f]
    assert len(having) >= 8
    for name in having:
        assert comps[name]["features"]["disable_stripe_user_authentication"] is True, name
        if "external_account_collection" in EXPECTED[name]:
            assert comps[name]["features"]["external_account_collection"] is True, name


def test_live_key_sessions(client, live_client):
    live_acct = live_client.v1.accounts.create({"type": "custom"})
    session = create_session(live_client, live_acct.id)
    assert_session(session, live_acct.id, livemode=True)

    test_acct = client.v1.accounts.create({"type": "custom"})
    expect_error(
        lambda: create_session(live_client, test_acct.id),
        stripe.InvalidRequestError,
        400,
        code="resource_missing",
        param="account",
        message=(
            f"No such account: '{test_acct.id}'; a similar object exists in test mode, "
            "but a live mode key was used to make this request."
        ),
    )
    expect_error(
        lambda: create_session(client, live_acct.id),
        stripe.InvalidRequestError,
        400,
        code="resource_missing",
        param="account",
        message=(
            f"No such account: '{live_acct.id}'; a similar object exists in live mode, "
            "but a test mode key was used to make this request."
        ),
    )


# --------------------------------------------------------------------------------------------
# Account sessions: errors
# --------------------------------------------------------------------------------------------


def test_missing_account(client):
    expect_error(
        lambda: client.v1.account_sessions.create({"components": SEED_COMPONENTS}),
        stripe.InvalidRequestError,
        400,
        code="parameter_missing",
        param="account",
        message="Missing required param: account.",
    )


def test_missing_components(client):
    acct = client.v1.accounts.create({"type": "custom"})
    expect_error(
        lambda: client.v1.account_sessions.create({"account": acct.id}),
        stripe.InvalidRequestError,
        400,
        code="parameter_missing",
        param="components",
        message="Missing required param: components.",
    )


def test_unknown_component(client):
    acct = client.v1.accounts.create({"type": "custom"})
    expect_error(
        lambda: create_session(client, acct.id, {"payments": {"enabled": True}, "bogus": {"enabled": True}}),
        stripe.InvalidRequestError,
        400,
        code="parameter_unknown",
        param="components[bogus]",
        message="Received unknown parameter: components[bogus]",
    )


def test_unknown_feature(client):
    acct = client.v1.accounts.create({"type": "custom"})
    expect_error(
        lambda: create_session(client, acct.id, {"payments": {"enabled": True, "features": {"bogus_feature": True}}}),
        stripe.InvalidRequestError,
        400,
        code="parameter_unknown",
        param="components[payments][features][bogus_feature]",
        message="Received unknown parameter: components[payments][features][bogus_feature]",
    )


def test_component_without_enabled(client):
    acct = client.v1.accounts.create({"type": "custom"})
    expect_error(
        lambda: create_session(client, acct.id, {"payments": {"features": {"refund_management": False}}}),
        stripe.InvalidRequestError,
        400,
        code="parameter_missing",
        param="components[payments][enabled]",
        message="Missing required param: components[payments][enabled].",
    )


def test_invalid_boolean(client):
    acct = client.v1.accounts.create({"type": "custom"})
    expect_error(
        lambda: create_session(client, acct.id, {"payments": {"enabled": "maybe"}}),
        stripe.InvalidRequestError,
        400,
        param="components[payments][enabled]",
        message="Invalid boolean: maybe",
    )


def test_unknown_account(client):
    expect_error(
        lambda: create_session(client, UNKNOWN_ACCOUNT),
        stripe.InvalidRequestError,
        400,
        code="resource_missing",
        param="account",
        message=f"No such account: '{UNKNOWN_ACCOUNT}'",
    )


def test_account_of_other_platform_is_invisible(client, other_client):
    theirs = other_client.v1.accounts.create({"type": "custom"})
    # The owner can use it...
    assert_session(create_session(other_client, theirs.id), theirs.id)
    # ...another platform cannot see it at all.
    expect_error(
        lambda: create_session(client, theirs.id),
        stripe.InvalidRequestError,
        400,
        code="resource_missing",
        param="account",
        message=f"No such account: '{theirs.id}'",
    )
    expect_error(lambda: client.v1.accounts.retrieve(theirs.id), stripe.PermissionError, 403, code="account_invalid")
    listed = [a.id for a in client.v1.accounts.list({"limit": 100}).data]
    assert theirs.id not in listed
    assert theirs.id in [a.id for a in other_client.v1.accounts.list({"limit": 100}).data]


def test_bad_api_key(base):
    bad = "sk_test_" + "Z" * 40 + "wrong1"
    e = expect_error(
        lambda: create_session(make_client(bad, base), UNKNOWN_ACCOUNT),
        stripe.AuthenticationError,
        401,
    )
    prefix = "Invalid API Key provided: "
    assert e.user_message.startswith(prefix), e.user_message
    masked = e.user_message[len(prefix):]
    assert len(masked) == len(bad), "the mask keeps the key's length"
    assert masked.startswith("sk_test_")
    assert masked.endswith(bad[-4:])
    assert set(masked[8:-6]) == {"*"}, masked
    assert "ZZZZ" not in masked


def test_publishable_key(base):
    pk = make_client(env("CS_PUBLISHABLE_KEY"), base)
    expect_error(
        lambda: create_session(pk, UNKNOWN_ACCOUNT),
        stripe.AuthenticationError,
        401,
        code="secret_key_required",
        message=PUBLISHABLE_MESSAGE,
    )
    expect_error(
        lambda: pk.v1.accounts.create({"type": "custom"}),
        stripe.AuthenticationError,
        401,
        code="secret_key_required",
        message=PUBLISHABLE_MESSAGE,
    )


def test_disable_stripe_user_authentication_not_allowed_for_stripe_collected(client):
    acct = client.v1.accounts.create({"type": "standard"})
    e = expect_error(
        lambda: create_session(
            client, acct.id, {"account_onboarding": {"enabled": True, "features": {"disable_stripe_user_authentication": True}}}
        ),
        stripe.InvalidRequestError,
        400,
        param="components[account_onboarding][features][disable_stripe_user_authentication]",
    )
    assert "requirement_collection" in e.user_message, e.user_message


def test_external_account_collection_false_not_allowed_for_stripe_collected(client):
    acct = client.v1.accounts.create({"type": "express"})
    e = expect_error(
        lambda: create_session(client, acct.id, {"payouts": {"enabled": True, "features": {"external_account_collection": False}}}),
        stripe.InvalidRequestError,
        400,
        param="components[payouts][features][external_account_collection]",
    )
    assert "requirement_collection" in e.user_message, e.user_message


def test_disagreeing_disable_stripe_user_authentication(client):
    acct = client.v1.accounts.create({"type": "custom"})
    e = expect_error(
        lambda: create_session(
            client,
            acct.id,
            {
                "account_onboarding": {"enabled": True, "features": {"disable_stripe_user_authentication": True}},
                "payouts": {"enabled": True, "features": {"disable_stripe_user_authentication": False}},
            },
        ),
        stripe.InvalidRequestError,
        400,
    )
    assert re.fullmatch(
        r"The `features\[disable_stripe_user_authentication\]` property specified by "
        r"`(payouts|account_onboarding)` and `(payouts|account_onboarding)` must be the same\.",
        e.user_message,
    ), e.user_message
    assert "`payouts`" in e.user_message and "`account_onboarding`" in e.user_message
    assert e.param and e.param.endswith("[features][disable_stripe_user_authentication]"), e.param


# --------------------------------------------------------------------------------------------
# The old global configuration style
# --------------------------------------------------------------------------------------------


def test_global_api_base_style(base, monkeypatch):
    monkeypatch.setattr(stripe, "api_key", env("CS_SECRET_KEY"))
    monkeypatch.setattr(stripe, "api_base", base)
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    acct = stripe.Account.create(type="custom", email="global@example.com")
    assert acct.id.startswith("acct_") and acct.type == "custom"
    assert stripe.Account.retrieve(acct.id).email == "global@example.com"
    session = stripe.AccountSession.create(account=acct.id, components=SEED_COMPONENTS)
    comps = assert_session(session, acct.id)
    assert comps["payments"]["enabled"] is True
    assert re.fullmatch(r"req_[A-Za-z0-9]{14}", session.last_response.request_id)
    e = expect_error(
        lambda: stripe.AccountSession.create(account=acct.id, components={"bogus": {"enabled": True}}),
        stripe.InvalidRequestError,
        400,
        code="parameter_unknown",
        param="components[bogus]",
        message="Received unknown parameter: components[bogus]",
    )
    assert isinstance(e, stripe.InvalidRequestError)


# --------------------------------------------------------------------------------------------
# Onboarding: identity, persons, bank accounts and the requirements derived from them
# --------------------------------------------------------------------------------------------
#
# Stripe's test values (the "Testing Connect" documentation): DOB 1902-01-01 and ID number
# 222222222 verify at once, DOB 1901-01-01, SSN last 4 `0000` and address line1
# `address_full_match` after the server's verification delay (`run.sh` starts it with 1 s),
# DOB 1990-01-01 fails; routing 110000000 with account 000123456789 is STRIPE TEST BANK.

VERIFICATION_DELAY = float(os.environ.get("CS_VERIFICATION_DELAY_SECONDS", "5"))
CUSTOM_US = {
    "type": "custom",
    "country": "US",
    "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
}
TOS_DATE = 1780272000
ADDRESS = {"line1": "address_full_match", "city": "Schenectady", "state": "NY", "postal_code": "12345"}
# An individual that verifies at once but for the address, which the server checks later.
INDIVIDUAL = {
    "first_name": "Jenny",
    "last_name": "Rosen",
    "email": "jenny@example.com",
    "phone": "0000000000",
    "dob": {"day": 1, "month": 1, "year": 1902},
    "address": ADDRESS,
    "id_number": "222222222",
}
# A person whose identity verifies after the delay.
PERSON = {
    "first_name": "Jane",
    "last_name": "Roe",
    "email": "jane@example.com",
    "phone": "0000000000",
    "dob": {"day": 1, "month": 1, "year": 1901},
    "address": ADDRESS,
    "ssn_last_4": "0000",
}
BANK_ACCOUNT = {
    "object": "bank_account",
    "country": "US",
    "currency": "usd",
    "routing_number": "110000000",
    "account_number": "000123456789",
}
KEYED_IDENTITY_REASON = (
    "The identity information you entered cannot be verified. Please correct any errors or upload a "
    "document that matches the identity fields (e.g., name and date of birth) that you entered."
)


def business_details(holder_type):
    """What every US account needs besides its identity, with the platform's bank account."""
    return {
        "business_profile": {
            "mcc": "5734",
            "url": "https://accessible.stripe.com",
            "product_description": "Rides to the moon",
            "support_email": "support@example.com",
            "support_phone": "0000000000",
            "support_url": "https://accessible.stripe.com/support",
        },
        "settings": {
            "payments": {"statement_descriptor": "ROCKET RIDES"},
            "payouts": {"schedule": {"interval": "weekly", "weekly_anchor": "friday"}},
        },
        "tos_acceptance": {"date": TOS_DATE, "ip": "8.8.8.8"},
        "external_account": {**BANK_ACCOUNT, "account_holder_name": "Jenny Rosen", "account_holder_type": holder_type},
    }


def eventually(fetch, done, what):
    """Fetch until `done(value)`, for at most a few verification delays."""
    deadline = time.monotonic() + 5 * VERIFICATION_DELAY + 2
    while True:
        value = fetch()
        if done(value):
            return value
        assert time.monotonic() < deadline, f"{what} did not happen: {value}"
        time.sleep(0.2)


def assert_nothing_due(requirements):
    for field in ("currently_due", "eventually_due", "past_due", "pending_verification", "errors", "alternatives"):
        assert getattr(requirements, field) == [], (field, requirements)
    assert requirements.current_deadline is None
    assert requirements.disabled_reason is None


def test_custom_individual_is_onboarded_to_charges_enabled_in_one_update(client):
    acct = client.v1.accounts.create(CUSTOM_US)
    due = acct.requirements.currently_due
    for field in ("business_type", "external_account", "tos_acceptance.date", "business_profile.mcc"):
        assert field in due, (field, due)
    assert acct.requirements.past_due == due
    assert acct.requirements.disabled_reason == "requirements.past_due"
    assert acct.requirements.current_deadline is None
    alternative = acct.requirements.alternatives[0]
    assert alternative.original_fields_due == ["business_profile.url"]
    assert alternative.alternative_fields_due == ["business_profile.product_description"]
    assert acct.future_requirements.currently_due == []
    assert acct.capabilities.card_payments == "inactive"
    assert (acct.charges_enabled, acct.payouts_enabled, acct.details_submitted) == (False, False, False)
    assert acct.business_type is None
    assert acct.external_accounts.total_count == 0

    submitted = client.v1.accounts.update(
        acct.id, {"business_type": "individual", "individual": INDIVIDUAL, **business_details("individual")}
    )
    assert submitted.requirements.currently_due == []
    assert submitted.requirements.errors == []
    assert sorted(submitted.requirements.pending_verification) == [
        "individual.address.city",
        "individual.address.line1",
        "individual.address.postal_code",
        "individual.address.state",
    ]
    assert submitted.requirements.disabled_reason == "requirements.pending_verification"
    assert submitted.capabilities.card_payments == "pending"
    assert submitted.details_submitted is True
    assert submitted.charges_enabled is False

    onboarded = eventually(
        lambda: client.v1.accounts.retrieve(acct.id),
        lambda a: a.capabilities.card_payments == "active",
        "card_payments active",
    )
    assert isinstance(onboarded, stripe.Account)
    assert_nothing_due(onboarded.requirements)
    assert onboarded.future_requirements.currently_due == []
    assert onboarded.future_requirements.errors == []
    assert onboarded.capabilities.card_payments == "active"
    assert onboarded.capabilities.transfers == "active"
    assert onboarded.charges_enabled is True
    assert onboarded.payouts_enabled is True
    assert onboarded.details_submitted is True
    assert onboarded.business_type == "individual"

    individual = onboarded.individual
    assert isinstance(individual, stripe.Person)
    assert individual.id.startswith("person_")
    assert individual.account == acct.id
    assert individual.verification.status == "verified"
    assert individual.id_number_provided is True
    assert individual.first_name == "Jenny" and individual.last_name == "Rosen"
    assert (individual.dob.day, individual.dob.month, individual.dob.year) == (1, 1, 1902)
    assert individual.address.line1 == "address_full_match"
    assert individual.relationship.representative is True
    assert individual.requirements.currently_due == []

    banks = onboarded.external_accounts
    assert banks.total_count == 1
    bank = banks.data[0]
    assert isinstance(bank, stripe.BankAccount)
    assert bank.bank_name == "STRIPE TEST BANK"
    assert bank.last4 == "6789"
    assert bank.routing_number == "110000000"
    assert bank.account_holder_name == "Jenny Rosen"
    assert bank.account_holder_type == "individual"
    assert bank.default_for_currency is True
    assert bank.currency == "usd"

    assert onboarded.tos_acceptance.date == TOS_DATE
    assert onboarded.tos_acceptance.ip == "8.8.8.8"
    schedule = onboarded.settings.payouts.schedule
    assert schedule.interval == "weekly"
    assert schedule.weekly_anchor == "friday"
    assert onboarded.settings.payments.statement_descriptor == "ROCKET RIDES"
    profile = onboarded.business_profile
    assert profile.mcc == "5734"
    assert profile.product_description == "Rides to the moon"
    assert profile.support_email == "support@example.com"
    assert profile.support_phone == "0000000000"
    assert profile.support_url == "https://accessible.stripe.com/support"


def test_company_is_onboarded_through_the_persons_api(client):
    acct = client.v1.accounts.create(CUSTOM_US)
    company = client.v1.accounts.update(
        acct.id,
        {
            "business_type": "company",
            "company": {"name": "Rocket Rides", "phone": "0000000000", "tax_id": "000000000", "address": ADDRESS},
            **business_details("company"),
        },
    )
    due = company.requirements.currently_due
    for field in ("company.owners_provided", "owners.first_name", "representative.relationship.title"):
        assert field in due, (field, due)

    representative = client.v1.accounts.persons.create(
        acct.id, {**PERSON, "relationship": {"representative": True, "executive": True, "title": "CEO"}}
    )
    assert isinstance(representative, stripe.Person)
    assert re.fullmatch(r"person_[A-Za-z0-9]+", representative.id), representative.id
    assert representative.account == acct.id
    assert representative.relationship.representative is True
    assert representative.relationship.executive is True
    assert representative.relationship.title == "CEO"
    assert representative.ssn_last_4_provided is True
    assert representative.requirements.currently_due == []
    assert representative.verification.status == "pending"
    owner = client.v1.accounts.persons.create(
        acct.id, {**PERSON, "first_name": "Owen", "relationship": {"owner": True, "percent_ownership": 100}}
    )
    assert owner.relationship.owner is True
    assert owner.relationship.percent_ownership == 100

    onboarded = eventually(
        lambda: client.v1.accounts.retrieve(acct.id),
        lambda a: a.requirements.pending_verification == [],
        "the persons and the company verified",
    )
    assert_nothing_due(onboarded.requirements)
    assert onboarded.capabilities.card_payments == "active"
    assert (onboarded.charges_enabled, onboarded.payouts_enabled, onboarded.details_submitted) == (True, True, True)
    assert onboarded.business_type == "company"
    assert onboarded.company.name == "Rocket Rides"
    assert onboarded.company.tax_id_provided is True
    assert onboarded.company.address.line1 == "address_full_match"

    listed = client.v1.accounts.persons.list(acct.id)
    assert listed.url == f"/v1/accounts/{acct.id}/persons"
    assert [p.id for p in listed.data] == [owner.id, representative.id], "newest first"
    assert all(isinstance(p, stripe.Person) for p in listed.data)
    assert [p.verification.status for p in listed.data] == ["verified", "verified"]
    owners = client.v1.accounts.persons.list(acct.id, {"relationship": {"owner": True}})
    assert [p.id for p in owners.data] == [owner.id]
    got = client.v1.accounts.persons.retrieve(acct.id, representative.id)
    assert got.relationship.title == "CEO"
    renamed = client.v1.accounts.persons.update(acct.id, owner.id, {"relationship": {"title": "Founder"}})
    assert renamed.relationship.title == "Founder"

    expect_error(
        lambda: client.v1.accounts.persons.delete(acct.id, representative.id),
        stripe.InvalidRequestError,
        400,
        param="person",
    )
    deleted = client.v1.accounts.persons.delete(acct.id, owner.id)
    assert deleted.id == owner.id
    assert deleted.deleted is True
    assert [p.id for p in client.v1.accounts.persons.list(acct.id).data] == [representative.id]


def test_a_failing_test_value_is_a_typed_requirements_error(client):
    acct = client.v1.accounts.create(CUSTOM_US)
    failed = client.v1.accounts.update(
        acct.id,
        {
            "business_type": "individual",
            "individual": {**INDIVIDUAL, "dob": {"day": 1, "month": 1, "year": 1990}},
            **business_details("individual"),
        },
    )
    error = failed.requirements.errors[0]
    assert error.code == "verification_failed_keyed_identity"
    assert error.requirement == "individual.dob.day"
    assert error.reason == KEYED_IDENTITY_REASON
    assert failed.requirements.currently_due == ["individual.dob.day", "individual.dob.month", "individual.dob.year"]
    assert failed.capabilities.card_payments == "inactive"
    assert failed.individual.verification.status == "unverified"
    assert failed.individual.requirements.currently_due == ["dob.day", "dob.month", "dob.year"]

    corrected = client.v1.accounts.update(acct.id, {"individual": {"dob": {"day": 1, "month": 1, "year": 1902}}})
    assert corrected.requirements.errors == []
    assert corrected.requirements.currently_due == []


def test_platform_bank_accounts_through_the_external_account_methods(client):
    acct = client.v1.accounts.create({"type": "custom", "country": "US"})
    # Another test account number than btok_us_verified's: an account refuses a duplicate.
    bank = {**BANK_ACCOUNT, "account_number": "000111111116"}
    from_hash = client.v1.accounts.external_accounts.create(
        acct.id,
        {"external_account": {**bank, "account_holder_name": "Jenny Rosen", "account_holder_type": "individual"}},
    )
    assert isinstance(from_hash, stripe.BankAccount)
    assert from_hash.id.startswith("ba_")
    assert from_hash.account == acct.id
    assert from_hash.bank_name == "STRIPE TEST BANK"
    assert from_hash.last4 == "1116"
    assert from_hash.routing_number == "110000000"
    assert from_hash.account_holder_name == "Jenny Rosen"
    assert from_hash.account_holder_type == "individual"
    assert from_hash.default_for_currency is True
    assert (from_hash.country, from_hash.currency) == ("US", "usd")

    from_token = client.v1.accounts.external_accounts.create(acct.id, {"external_account": "btok_us_verified"})
    assert isinstance(from_token, stripe.BankAccount)
    assert from_token.id != from_hash.id
    assert from_token.bank_name == "STRIPE TEST BANK"
    assert from_token.last4 == "6789"
    assert from_token.default_for_currency is False, "the first one stays the default for usd"

    got = client.v1.accounts.external_accounts.retrieve(acct.id, from_token.id)
    assert isinstance(got, stripe.BankAccount)
    assert got.id == from_token.id
    updated = client.v1.accounts.external_accounts.update(
        acct.id, from_token.id, {"account_holder_name": "Rocket Rides", "account_holder_type": "company"}
    )
    assert updated.account_holder_name == "Rocket Rides"
    assert updated.account_holder_type == "company"
    listed = client.v1.accounts.external_accounts.list(acct.id)
    assert sorted(b.id for b in listed.data) == sorted([from_hash.id, from_token.id])

    deleted = client.v1.accounts.external_accounts.delete(acct.id, from_token.id)
    assert deleted.id == from_token.id
    assert deleted.deleted is True
    remaining = client.v1.accounts.retrieve(acct.id).external_accounts
    assert remaining.total_count == 1
    assert [b.id for b in remaining.data] == [from_hash.id]


def test_id_numbers_and_ssns_never_appear_in_a_response(client):
    # The full number, the last four as a value, and either as a field of its own.
    secrets = ["123456789", '"4321"', '"id_number":', '"ssn_last_4":']

    def raw(obj):
        body = obj.last_response.body
        for secret in secrets:
            assert secret not in body, f"{secret} answered in {body}"
        return obj

    identity = {"first_name": "Jenny", "id_number": "123456789", "ssn_last_4": "4321"}
    acct = raw(client.v1.accounts.create({**CUSTOM_US, "business_type": "individual", "individual": identity}))
    assert acct.individual.id_number_provided is True
    assert acct.individual.ssn_last_4_provided is True
    raw(client.v1.accounts.update(acct.id, {"individual": {"id_number": "123456789"}}))
    raw(client.v1.accounts.retrieve(acct.id))
    raw(client.v1.accounts.list({"limit": 5}))

    company = client.v1.accounts.create({"type": "custom", "business_type": "company"})
    person = raw(client.v1.accounts.persons.create(company.id, {**identity, "relationship": {"owner": True}}))
    assert person.id_number_provided is True
    assert person.ssn_last_4_provided is True
    raw(client.v1.accounts.persons.update(company.id, person.id, {"id_number": "123456789", "ssn_last_4": "4321"}))
    raw(client.v1.accounts.persons.retrieve(company.id, person.id))
    raw(client.v1.accounts.persons.list(company.id))


def test_the_platform_cannot_write_an_express_accounts_identity_once_onboarding_started(client):
    acct = client.v1.accounts.create(
        {
            "type": "express",
            "country": "US",
            "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
            "business_type": "individual",
            "individual": {"first_name": "Jenny"},
        }
    )
    create_session(client, acct.id, {"account_onboarding": {"enabled": True}})
    expect_error(
        lambda: client.v1.accounts.update(acct.id, {"individual": {"last_name": "Roe"}}),
        stripe.PermissionError,
        403,
        code="oauth_not_supported",
        param="individual",
        message=(
            "This application does not have the required permissions for the parameter 'individual' "
            f"on account '{acct.id}'."
        ),
    )
    assert client.v1.accounts.retrieve(acct.id).individual.last_name is None, "nothing refused was written"
    # The business profile stays the platform's to write.
    assert client.v1.accounts.update(acct.id, {"business_profile": {"name": "Rocket Rides"}}).business_profile.name == (
        "Rocket Rides"
    )


# --------------------------------------------------------------------------------------------
# Events and signed webhooks: the SDK's own helper verifies every delivery
# --------------------------------------------------------------------------------------------
#
# A receiver on a loopback port of this process keeps every POST's raw body and headers and
# answers 200. Every delivery goes through `stripe.Webhook.construct_event` and
# `StripeClient.construct_event` unchanged, on the raw bytes: a signature the server computes in
# any other way than Stripe's is refused there. `run.sh` starts the server with
# `--webhook-poll-interval 100ms`, so a delivery that is due arrives within a fraction of a second.

DELIVERY_WAIT = 10 * VERIFICATION_DELAY + 10
WEBHOOK_USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
# The data.object class stripe-python builds for each type the onboarding below causes.
EVENT_OBJECT_CLASS = {
    "account.updated": stripe.Account,
    "capability.updated": stripe.Capability,
    "person.created": stripe.Person,
    "person.updated": stripe.Person,
    "account.external_account.created": stripe.BankAccount,
}


class Delivery:
    def __init__(self, body, headers):
        self.body = body  # the raw bytes, exactly as received
        self.headers = headers  # lower-case names
        self.json = json.loads(body)

    @property
    def signature(self):
        return self.headers["stripe-signature"]


class Receiver:
    """`http.server` in a thread: records every POST and answers 200 with an empty body."""

    def __init__(self):
        import http.server
        import threading

        self._lock = threading.Lock()
        self._deliveries = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    receiver._deliveries.append((self.path, body, headers))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/stripe/webhooks"

    def deliveries(self, account=None):
        """Every POST so far, as Delivery (for one connected account if given)."""
        with self._lock:
            raw = list(self._deliveries)
        out = []
        for path, body, headers in raw:
            assert path == "/stripe/webhooks", path
            delivery = Delivery(body, headers)
            if account is None or delivery.json.get("account") == account:
                out.append(delivery)
        return out

    def wait_for(self, account, done, what):
        """The account's deliveries once `done(events)` holds (events: the parsed bodies)."""
        deadline = time.monotonic() + DELIVERY_WAIT
        while True:
            deliveries = self.deliveries(account)
            if done([d.json for d in deliveries]):
                return deliveries
            assert time.monotonic() < deadline, (
                f"{what}: not delivered within {DELIVERY_WAIT} s; got "
                f"{[(d.json['type'], d.json['data']['object'].get('id')) for d in deliveries]}"
            )
            time.sleep(0.05)

    def close(self):
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def has(events, type_, where=lambda obj: True):
    return any(e["type"] == type_ and where(e["data"]["object"]) for e in events)


def verified(delivery, client, secret):
    """The delivery through both of stripe-python's helpers, unchanged; returns the typed event."""
    assert delivery.headers["content-type"] == "application/json; charset=utf-8", delivery.headers
    assert delivery.headers["user-agent"] == WEBHOOK_USER_AGENT, delivery.headers
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", delivery.signature), delivery.signature
    event = stripe.Webhook.construct_event(delivery.body, delivery.signature, secret)
    assert isinstance(event, stripe.Event)
    same = client.construct_event(delivery.body.decode("utf-8"), delivery.signature, secret)
    assert isinstance(same, stripe.Event)
    assert same.to_dict() == event.to_dict()
    return event


def test_webhook_endpoints_are_managed_through_the_sdk(client, receiver):
    created = client.v1.webhook_endpoints.create(
        {
            "url": receiver.url,
            "enabled_events": ["*"],
            "connect": True,
            "description": "compat python",
            "metadata": {"suite": "python"},
        }
    )
    try:
        assert isinstance(created, stripe.WebhookEndpoint)
        assert created.object == "webhook_endpoint"
        assert re.fullmatch(r"we_[A-Za-z0-9]+", created.id), created.id
        assert isinstance(created.secret, str) and created.secret.startswith("whsec_"), created.secret[:6]
        assert created.url == receiver.url
        assert created.enabled_events == ["*"]
        assert created.status == "enabled"
        assert created.livemode is False
        assert created.description == "compat python"
        assert created.metadata.to_dict() == {"suite": "python"}
        assert created.application is None
        assert abs(created.created - time.time()) < 60

        got = client.v1.webhook_endpoints.retrieve(created.id)
        assert isinstance(got, stripe.WebhookEndpoint)
        assert "secret" not in got.to_dict(), "the secret is shown once, on create"
        expected = created.to_dict()
        del expected["secret"]
        assert got.to_dict() == expected
        assert "secret" not in got.last_response.body

        listed = client.v1.webhook_endpoints.list({"limit": 100})
        assert listed.object == "list" and listed.url == "/v1/webhook_endpoints"
        assert [we.id for we in listed.data if we.id == created.id] == [created.id]
        assert all(isinstance(we, stripe.WebhookEndpoint) for we in listed.data)
        assert "whsec_" not in listed.last_response.body

        # Disabled: the account's changes are not delivered to it.
        disabled = client.v1.webhook_endpoints.update(
            created.id, {"disabled": True, "description": "paused", "metadata": {"state": "off"}}
        )
        assert isinstance(disabled, stripe.WebhookEndpoint)
        assert disabled.status == "disabled"
        assert disabled.description == "paused"
        assert disabled.metadata.to_dict() == {"suite": "python", "state": "off"}
        assert "secret" not in disabled.to_dict()
        acct = client.v1.accounts.create({"type": "custom", "country": "US"})
        client.v1.accounts.update(acct.id, {"email": "paused@example.com"})
        time.sleep(1.0)  # ten poll intervals of the server's webhook worker
        assert receiver.deliveries(acct.id) == [], "a disabled endpoint gets nothing"

        # Enabled again: the next change is delivered, and it verifies with the create secret.
        enabled = client.v1.webhook_endpoints.update(created.id, {"disabled": False})
        assert enabled.status == "enabled"
        client.v1.accounts.update(acct.id, {"email": "resumed@example.com"})
        (delivery,) = receiver.wait_for(acct.id, lambda events: len(events) >= 1, "account.updated")
        event = verified(delivery, client, created.secret)
        assert event.type == "account.updated"
        assert event.data.object.email == "resumed@example.com"
        assert event.data.previous_attributes.to_dict() == {"email": "paused@example.com"}
    finally:
        deleted = client.v1.webhook_endpoints.delete(created.id)
    assert deleted.id == created.id
    assert deleted.deleted is True
    assert deleted.object == "webhook_endpoint"
    expect_error(
        lambda: client.v1.webhook_endpoints.retrieve(created.id),
        stripe.InvalidRequestError,
        404,
        code="resource_missing",
        message=f"No such webhook endpoint: '{created.id}'",
    )
    assert created.id not in [we.id for we in client.v1.webhook_endpoints.list({"limit": 100}).data]


def test_every_onboarding_delivery_passes_the_sdks_signature_check(client, receiver, monkeypatch):
    endpoint = client.v1.webhook_endpoints.create(
        {"url": receiver.url, "enabled_events": ["*"], "connect": True, "description": "compat python onboarding"}
    )
    secret = endpoint.secret
    assert secret.startswith("whsec_")
    try:
        check_onboarding_deliveries(client, receiver, monkeypatch, secret)
    finally:
        client.v1.webhook_endpoints.delete(endpoint.id)


def check_onboarding_deliveries(client, receiver, monkeypatch, secret):
    started = int(time.time())
    acct = client.v1.accounts.create(CUSTOM_US)
    idem = f"compat-python-{uuid.uuid4()}"
    submitted = client.v1.accounts.update(
        acct.id,
        {"business_type": "individual", "individual": INDIVIDUAL, **business_details("individual")},
        {"idempotency_key": idem},
    )
    request_id = submitted.last_response.request_id
    assert submitted.charges_enabled is False
    person_id = submitted.individual.id

    # The submission: the account, both capabilities (now pending), the bank account and the
    # individual. Then, once the address check completes: the individual verified, both
    # capabilities active, and charges enabled.
    deliveries = receiver.wait_for(
        acct.id,
        lambda events: has(events, "account.updated", lambda a: a["details_submitted"] and not a["charges_enabled"])
        and has(events, "account.updated", lambda a: a["charges_enabled"])
        and has(events, "account.external_account.created")
        and has(events, "person.created")
        and has(events, "person.updated", lambda p: p["verification"]["status"] == "verified")
        and all(
            has(events, "capability.updated", lambda c, n=name, s=status: c["id"] == n and c["status"] == s)
            for name in ("card_payments", "transfers")
            for status in ("pending", "active")
        ),
        "the onboarding's events",
    )

    events = {}
    for delivery in deliveries:
        event = verified(delivery, client, secret)
        assert re.fullmatch(r"evt_[A-Za-z0-9]+", event.id), event.id
        assert event.object == "event"
        assert event.account == acct.id
        assert event.livemode is False
        assert isinstance(event.api_version, str) and event.api_version, event.api_version
        assert started - 5 <= event.created <= int(time.time()) + 5
        assert isinstance(event.pending_webhooks, int) and event.pending_webhooks >= 1, event.pending_webhooks
        assert set(event.request.to_dict()) == {"id", "idempotency_key"}, event.request
        cls = EVENT_OBJECT_CLASS.get(event.type)
        assert cls is not None, f"unexpected {event.type}"
        assert isinstance(event.data.object, cls), (event.type, type(event.data.object))
        t = int(delivery.signature.split(",")[0][2:])
        assert abs(t - time.time()) < 60, "signed with the current time"
        events.setdefault(event.id, (event, delivery))

    def one(type_, where):
        found = [(e, d) for e, d in events.values() if e.type == type_ and where(e)]
        assert len(found) == 1, (type_, [e.type for e, _ in events.values()])
        return found[0]

    # account.updated after the submission: what the platform sent, with what it replaced.
    first, _ = one("account.updated", lambda e: not e.data.object.charges_enabled)
    assert first.data.object.id == acct.id
    assert first.data.object.details_submitted is True
    assert first.data.object.business_type == "individual"
    previous = first.data.previous_attributes
    assert previous.details_submitted is False
    assert previous.business_type is None
    assert previous.capabilities.to_dict() == {"card_payments": "inactive", "transfers": "inactive"}
    assert "business_type" in previous.requirements.currently_due
    assert "charges_enabled" not in previous.to_dict(), "only what changed"
    assert first.request.id == request_id
    assert first.request.idempotency_key == idem

    # account.updated after verification: charges_enabled went from false to true on its own.
    second, second_delivery = one("account.updated", lambda e: e.data.object.charges_enabled)
    assert isinstance(second.data.object, stripe.Account)
    assert second.data.object.id == acct.id
    assert second.data.object.payouts_enabled is True
    assert second.data.object.capabilities.card_payments == "active"
    assert second.data.previous_attributes.charges_enabled is False
    assert second.data.previous_attributes.payouts_enabled is False
    assert second.data.previous_attributes.requirements.disabled_reason == "requirements.pending_verification"
    assert second.request.id is None and second.request.idempotency_key is None

    for name in ("card_payments", "transfers"):
        pending, _ = one("capability.updated", lambda e, n=name: e.data.object.id == n and e.data.object.status == "pending")
        assert pending.data.object.account == acct.id
        assert pending.data.object.requested is True
        assert pending.data.previous_attributes.to_dict() == {"status": "inactive"}
        assert pending.request.id == request_id
        active, _ = one("capability.updated", lambda e, n=name: e.data.object.id == n and e.data.object.status == "active")
        assert active.data.previous_attributes.to_dict() == {"status": "pending"}

    bank, _ = one("account.external_account.created", lambda e: True)
    assert bank.data.object.id.startswith("ba_")
    assert bank.data.object.account == acct.id
    assert bank.data.object.last4 == "6789"
    assert bank.data.object.bank_name == "STRIPE TEST BANK"
    assert "previous_attributes" not in bank.to_dict()["data"]

    person, _ = one("person.created", lambda e: True)
    assert person.data.object.id == person_id
    assert person.data.object.account == acct.id
    assert person.data.object.first_name == "Jenny"
    assert person.data.object.relationship.representative is True
    assert "id_number" not in person.data.object.to_dict()
    verified_person, _ = one("person.updated", lambda e: True)
    assert verified_person.data.object.id == person_id
    assert verified_person.data.object.verification.status == "verified"
    assert verified_person.data.previous_attributes.verification.status == "pending"

    # Negative cases, through the same helpers, on the delivery of the second account.updated.
    body, header = second_delivery.body, second_delivery.signature
    k = body.index(b'"charges_enabled":true') + len(b'"charges_enabled":')
    tampered = body[:k] + b"T" + body[k + 1 :]  # one byte: true -> True
    assert len(tampered) == len(body) and tampered != body
    for payload in (tampered, tampered.decode("utf-8")):
        with pytest.raises(stripe.SignatureVerificationError) as info:
            stripe.Webhook.construct_event(payload, header, secret)
        assert "No signatures found matching the expected signature for payload" in str(info.value)
        with pytest.raises(stripe.SignatureVerificationError):
            client.construct_event(payload, header, secret)

    wrong_secret = "whsec_" + "0" * (len(secret) - len("whsec_"))
    with pytest.raises(stripe.SignatureVerificationError) as info:
        stripe.Webhook.construct_event(body, header, wrong_secret)
    assert "No signatures found matching the expected signature for payload" in str(info.value)

    # An old timestamp: the helper reads time.time(); 400 s later the delivery is out of its
    # default tolerance (300 s), and also out of an explicit one.
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 200)
    assert stripe.Webhook.construct_event(body, header, secret).id == second.id, "200 s is within 300 s"
    monkeypatch.setattr(time, "time", lambda: real_time() + 400)
    with pytest.raises(stripe.SignatureVerificationError) as info:
        stripe.Webhook.construct_event(body, header, secret)
    assert "Timestamp outside the tolerance zone" in str(info.value)
    with pytest.raises(stripe.SignatureVerificationError):
        client.construct_event(body, header, secret)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, header, secret, tolerance=350)
    assert stripe.Webhook.construct_event(body, header, secret, tolerance=600).id == second.id
    monkeypatch.setattr(time, "time", real_time)

    # The same events through GET /v1/events, read as stripe-python's models.
    types = sorted({e.type for e, _ in events.values()})
    page = client.v1.events.list({"types": types, "created": {"gte": started - 5}, "limit": 100})
    assert page.object == "list" and page.url == "/v1/events"
    assert all(isinstance(e, stripe.Event) for e in page.data)
    ours = [e for e in page.data if e.account == acct.id]
    assert {e.id for e in ours} == set(events), "the list holds exactly what was delivered"
    assert [e.created for e in ours] == sorted((e.created for e in ours), reverse=True), "newest first"
    capabilities = client.v1.events.list({"type": "capability.*", "created": {"gte": started - 5}, "limit": 100})
    assert {e.id for e in capabilities.data if e.account == acct.id} == {
        e.id for e, _ in events.values() if e.type == "capability.updated"
    }

    def retrieved(event_id):
        return eventually(
            lambda: client.v1.events.retrieve(event_id),
            lambda e: e.pending_webhooks == 0,
            f"{event_id} counted as delivered",
        )

    got = retrieved(first.id)
    assert isinstance(got, stripe.Event)
    assert got.type == "account.updated"
    assert isinstance(got.data.object, stripe.Account)
    assert got.data.object.id == acct.id
    assert got.pending_webhooks == 0
    assert got.request.id == request_id
    assert got.request.idempotency_key == idem
    assert got.data.previous_attributes.to_dict() == first.data.previous_attributes.to_dict()
    got = retrieved(second.id)
    assert got.request.id is None and got.request.idempotency_key is None
    assert got.data.previous_attributes.charges_enabled is False
    delivered = client.v1.events.list({"types": types, "delivery_success": True, "limit": 100})
    assert second.id in [e.id for e in delivered.data]

    # The old global style: stripe.Event.list / stripe.Event.retrieve.
    monkeypatch.setattr(stripe, "api_key", env("CS_SECRET_KEY"))
    monkeypatch.setattr(stripe, "api_base", env("CS_API_BASE"))
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    listed = stripe.Event.list(types=["account.updated"], created={"gte": started - 5}, limit=100)
    assert [e.id for e in listed.data if e.account == acct.id] == [second.id, first.id]
    assert stripe.Event.retrieve(person.id).data.object.id == person_id
