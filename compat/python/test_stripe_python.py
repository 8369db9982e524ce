"""The official `stripe` Python package (16.1.0) against a running connect-sessions server.

Run through `compat/run.sh`, which starts a server and exports:
  CS_API_BASE          http://127.0.0.1:PORT
  CS_SECRET_KEY        test secret key of platform A
  CS_PUBLISHABLE_KEY   test publishable key of platform A
  CS_LIVE_SECRET_KEY   live secret key of platform A
  CS_OTHER_SECRET_KEY  test secret key of platform B
  CS_SESSION_TTL_SECONDS  the TTL the server was started with (default 1800)

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
