"""The official `stripe` Python package (16.1.0) against connect-sessions as a CI test double.

Run by `compat/run.sh double`, which starts a second server of its own, on a fresh database,
with `serve --accept-any-test-key --test-double` and creates no platform, then exports:
  CS_DOUBLE_API_BASE   http://127.0.0.1:PORT of that server

Written the way stripe-python's own suite writes its account-session tests (against
stripe-mock): `sk_test_123` as the key and no set-up at all; the key becomes a platform on its
first use. Then what issue 16 asks of a test double, through the SDK where the SDK has the call
and raw HTTP (with the same keys) for the test helpers and the browser's claim:
  - two 500s on POST /v1/account_sessions, retried by the SDK under one idempotency key, the
    third attempt answered, and all three in the request log;
  - the clock moved 31 minutes: an unclaimed session's claim is refused as expired at once;
  - reset: the platform keeps its keys and has no account left; another platform keeps its own;
  - live keys refused.
The server's clock only moves forwards and is shared by every test here (and by the Node
suite and schemathesis after them), so expiries are checked against the server's clock, read
through GET /v1/test_helpers/clock, never against this machine's.
"""

import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import stripe
from stripe import StripeClient

# The keys of stripe-mock and of the SDKs' own test suites.
SECRET_KEY = "sk_test_123"
PUBLISHABLE_KEY = "pk_test_123"
EXPECTED = json.loads(
    (Path(__file__).resolve().parent.parent / "expected_components.json").read_text()
)["components"]
SESSION_TTL = 1800
REQ_ID = re.compile(r"req_[A-Za-z0-9]{14}")


@pytest.fixture(scope="session")
def base():
    value = os.environ.get("CS_DOUBLE_API_BASE")
    if not value:
        pytest.fail("CS_DOUBLE_API_BASE is not set: run this file through `compat/run.sh double`")
    return value


def make_client(base, key=SECRET_KEY, retries=0):
    return StripeClient(key, base_addresses={"api": base}, max_network_retries=retries)


@pytest.fixture
def client(base):
    return make_client(base)


@pytest.fixture
def global_config(base, monkeypatch):
    """stripe-python's own tests' configuration: module globals, restored afterwards."""
    monkeypatch.setattr(stripe, "api_key", SECRET_KEY)
    monkeypatch.setattr(stripe, "api_base", base)
    monkeypatch.setattr(stripe, "max_network_retries", 0)


def call(base, method, path, key=SECRET_KEY, params=None):
    """Raw HTTP with `key` as a Bearer token: (status, decoded JSON body)."""
    data = None
    url = base + path
    if params is not None and method == "GET":
        url += "?" + urllib.parse.urlencode(params)
    elif params is not None:
        data = urllib.parse.urlencode(params).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Authorization": "Bearer " + key}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def ok(base, method, path, key=SECRET_KEY, params=None):
    status, body = call(base, method, path, key, params)
    assert status == 200, (method, path, status, body)
    return body


def server_now(base):
    clock = ok(base, "GET", "/v1/test_helpers/clock")
    assert clock["object"] == "test_helpers.clock" and clock["livemode"] is False, clock
    return clock["now"]


def claim(base, client_secret):
    """What Connect.js does in the browser with the publishable key."""
    return call(base, "POST", "/v1/account_sessions/claim", PUBLISHABLE_KEY,
                {"client_secret": client_secret})


def assert_account_session(base, session, account_id, enabled, created_between):
    """An `stripe.AccountSession` with every field, expiring TTL after its creation (server time)."""
    assert isinstance(session, stripe.AccountSession), type(session)
    assert session.object == "account_session"
    assert session.account == account_id
    assert re.fullmatch(r"accs_secret__[A-Za-z0-9_-]{47}", session.client_secret), session.client_secret[:13]
    assert session.livemode is False
    earliest, latest = created_between
    assert earliest + SESSION_TTL <= session.expires_at <= latest + SESSION_TTL, (session.expires_at, created_between)
    assert "id" not in session.to_dict(), "an account session has no id"
    components = session.to_dict()["components"]
    assert sorted(components) == sorted(EXPECTED)
    for name, features in EXPECTED.items():
        assert components[name]["enabled"] is (name in enabled), name
        assert sorted(components[name]["features"]) == sorted(features), name
    assert REQ_ID.fullmatch(session.last_response.request_id)
    return components


# --------------------------------------------------------------------------------------------
# stripe-python's own account-session tests, with sk_test_123 and no set-up
# --------------------------------------------------------------------------------------------


def test_account_session_create_with_the_global_configuration(base, global_config):
    # The first request this server has seen with sk_test_123: no platform was created for it.
    account = stripe.Account.create(type="custom")
    assert isinstance(account, stripe.Account)
    assert account.id.startswith("acct_") and account.type == "custom"

    before = server_now(base)
    session = stripe.AccountSession.create(
        account=account.id,
        components={"account_onboarding": {"enabled": True, "features": {}}},
    )
    components = assert_account_session(
        base, session, account.id, {"account_onboarding"}, (before, server_now(base))
    )
    assert components["account_onboarding"]["features"] == {
        "disable_stripe_user_authentication": False,
        "external_account_collection": True,
    }
    assert stripe.Account.retrieve(account.id).id == account.id
    # The request that made the platform is in its request log like the others.
    log = ok(base, "GET", "/v1/test_helpers/requests", params={"limit": 100})["data"]
    first = [e for e in log if e["request_id"] == account.last_response.request_id]
    assert [(e["method"], e["path"], e["params"], e["status"]) for e in first] == [
        ("POST", "/v1/accounts", {"type": "custom"}, 200)
    ], log


def test_account_session_create_through_the_client(base, client):
    account = client.v1.accounts.create({"type": "custom"})
    assert isinstance(account, stripe.Account)

    before = server_now(base)
    session = client.v1.account_sessions.create(
        {
            "account": account.id,
            "components": {
                "account_onboarding": {"enabled": True, "features": {}},
                "payments": {
                    "enabled": True,
                    "features": {"refund_management": True, "dispute_management": True,
                                 "capture_payments": True},
                },
                "payouts": {"enabled": True, "features": {"instant_payouts": False}},
            },
        }
    )
    components = assert_account_session(
        base, session, account.id, {"account_onboarding", "payments", "payouts"},
        (before, server_now(base)),
    )
    assert components["payments"]["features"]["refund_management"] is True
    assert components["payouts"]["features"]["instant_payouts"] is False
    # The client secret works in the browser with the publishable key of the same pair.
    status, body = claim(base, session.client_secret)
    assert status == 200, body
    assert body["secret"].startswith("em_"), body


def test_any_other_test_key_is_a_platform_of_its_own(base, client):
    mine = client.v1.accounts.create({"type": "custom"})
    neighbour = make_client(base, "sk_test_456")
    theirs = [a.id for a in neighbour.v1.accounts.list({"limit": 100}).data]
    assert mine.id not in theirs
    with pytest.raises(stripe.PermissionError):
        neighbour.v1.accounts.retrieve(mine.id)


# --------------------------------------------------------------------------------------------
# Faults: two 500s, the SDK's retries under one idempotency key, the request log
# --------------------------------------------------------------------------------------------


PAYOUTS = {"payouts": {"enabled": True, "features": {"instant_payouts": False}}}


def install_two_500s(base):
    ok(base, "DELETE", "/v1/test_helpers/faults")
    rule = ok(base, "POST", "/v1/test_helpers/faults",
              params={"method": "POST", "path": "/v1/account_sessions", "status": 500, "count": 2})
    assert rule["object"] == "test_helpers.fault" and rule["id"].startswith("flt_"), rule
    assert (rule["count"], rule["remaining"], rule["hits"]) == (2, 2, 0), rule
    return rule


def create_with_retries(base, style, account_id, monkeypatch):
    if style == "client":
        client = make_client(base, retries=2)
        return client.v1.account_sessions.create({"account": account_id, "components": PAYOUTS})
    monkeypatch.setattr(stripe, "api_key", SECRET_KEY)
    monkeypatch.setattr(stripe, "api_base", base)
    monkeypatch.setattr(stripe, "max_network_retries", 2)
    return stripe.AccountSession.create(account=account_id, components=PAYOUTS)


@pytest.mark.parametrize("style", ["client", "global"])
def test_two_500s_are_retried_by_the_sdk_under_one_idempotency_key(base, client, style, monkeypatch):
    account = client.v1.accounts.create({"type": "custom"})
    install_two_500s(base)

    before = server_now(base)
    session = create_with_retries(base, style, account.id, monkeypatch)

    # The third attempt answered.
    assert_account_session(base, session, account.id, {"payouts"}, (before, server_now(base)))
    response = session.last_response
    assert response.code == 200
    key = response.idempotency_key
    assert key, "the SDK sends an Idempotency-Key with every POST"
    rules = ok(base, "GET", "/v1/test_helpers/faults")["data"]
    assert [(r["hits"], r["remaining"]) for r in rules] == [(2, 0)], rules

    # The request log, newest first: the answer, then the two faulted attempts, one key.
    log = ok(base, "GET", "/v1/test_helpers/requests", params={"limit": 3})
    assert log["object"] == "list" and log["url"] == "/v1/test_helpers/requests", log
    entries = log["data"]
    assert [(e["method"], e["path"]) for e in entries] == [("POST", "/v1/account_sessions")] * 3, entries
    assert [e["status"] for e in entries] == [200, 500, 500], entries
    assert [e["faulted"] for e in entries] == [False, True, True], entries
    assert [e["idempotency_key"] for e in entries] == [key] * 3, entries
    assert log["has_more"] is True, "the account's creation is older"
    for e in entries:
        assert e["object"] == "test_helpers.request"
        assert e["params"] == {
            "account": account.id,
            "components": {"payouts": {"enabled": "true", "features": {"instant_payouts": "false"}}},
        }, e["params"]
        assert REQ_ID.fullmatch(e["request_id"]), e
        assert before <= e["created"] <= server_now(base), e
    assert entries[0]["request_id"] == response.request_id
    assert len({e["request_id"] for e in entries}) == 3, "each attempt is a request of its own"
    ok(base, "DELETE", "/v1/test_helpers/faults")


def test_without_retries_the_sdk_raises_stripes_500(base, client):
    account = client.v1.accounts.create({"type": "custom"})
    ok(base, "DELETE", "/v1/test_helpers/faults")
    ok(base, "POST", "/v1/test_helpers/faults",
       params={"method": "POST", "path": "/v1/account_sessions", "status": 500})  # count: 1

    with pytest.raises(stripe.APIError) as info:
        client.v1.account_sessions.create({"account": account.id, "components": PAYOUTS})
    again = client.v1.account_sessions.create({"account": account.id, "components": PAYOUTS})

    e = info.value
    assert type(e) is stripe.APIError, repr(e)
    assert e.http_status == 500
    assert e.error.type == "api_error"
    assert e.user_message == (
        "An error occurred with our connection to the database or another internal service. "
        "You can safely retry this request."
    )
    assert e.headers["Stripe-Should-Retry"] == "true"
    assert REQ_ID.fullmatch(e.request_id)
    assert again.account == account.id, "the rule's count was one"


# --------------------------------------------------------------------------------------------
# The clock
# --------------------------------------------------------------------------------------------


def test_the_clock_moved_31_minutes_expires_an_unclaimed_session_at_once(base, client):
    account = client.v1.accounts.create({"type": "custom"})
    claimed_first = client.v1.account_sessions.create({"account": account.id, "components": PAYOUTS})
    unclaimed = client.v1.account_sessions.create({"account": account.id, "components": PAYOUTS})
    status, body = claim(base, claimed_first.client_secret)
    assert status == 200, body
    before = ok(base, "GET", "/v1/test_helpers/clock")

    started = time.monotonic()
    advanced = ok(base, "POST", "/v1/test_helpers/clock/advance", params={"seconds": 31 * 60})
    status, body = claim(base, unclaimed.client_secret)
    took = time.monotonic() - started

    assert advanced["object"] == "test_helpers.clock"
    assert advanced["offset_seconds"] == before["offset_seconds"] + 1860, (before, advanced)
    assert advanced["now"] >= before["now"] + 1860
    assert unclaimed.expires_at < advanced["now"]
    assert status == 400, body
    assert body["error"]["code"] == "account_session_expired", body
    assert body["error"]["type"] == "invalid_request_error", body
    assert took < 5, f"no waiting: {took:.1f} s"
    # Never backwards.
    status, body = call(base, "POST", "/v1/test_helpers/clock/advance", params={"to": before["now"]})
    assert status == 400 and body["error"]["param"] == "to", body
    # Sessions created now expire on the moved clock.
    now = server_now(base)
    fresh = client.v1.account_sessions.create({"account": account.id, "components": PAYOUTS})
    assert now + SESSION_TTL <= fresh.expires_at <= server_now(base) + SESSION_TTL
    status, body = claim(base, fresh.client_secret)
    assert status == 200, body


# --------------------------------------------------------------------------------------------
# Reset
# --------------------------------------------------------------------------------------------


def test_reset_leaves_the_platform_with_no_accounts_and_its_neighbour_untouched(base, client):
    accounts = [client.v1.accounts.create({"type": t}) for t in ("custom", "express", "standard")]
    session = client.v1.account_sessions.create({"account": accounts[0].id, "components": PAYOUTS})
    neighbour = make_client(base, "sk_test_456")
    theirs = neighbour.v1.accounts.create({"type": "custom"})
    assert len(client.v1.accounts.list({"limit": 100}).data) >= 3

    reset = ok(base, "POST", "/v1/test_helpers/reset")

    assert reset["object"] == "test_helpers.reset" and reset["livemode"] is False, reset
    assert reset["deleted"] >= 4, reset
    listed = client.v1.accounts.list({"limit": 100})
    assert listed.data == [] and listed.has_more is False, listed
    with pytest.raises(stripe.PermissionError):
        client.v1.accounts.retrieve(accounts[0].id)
    status, body = claim(base, session.client_secret)
    assert status == 400 and body["error"]["code"] == "resource_missing", body
    # The keys still work (the list above), and the log starts again.
    assert ok(base, "GET", "/v1/test_helpers/requests")["data"][0]["path"] == "/v1/account_sessions/claim"
    assert theirs.id in [a.id for a in neighbour.v1.accounts.list({"limit": 100}).data]


# --------------------------------------------------------------------------------------------
# Live mode
# --------------------------------------------------------------------------------------------


def test_a_live_key_is_refused(base, monkeypatch):
    live = make_client(base, "sk_live_123")
    for call_ in (lambda: live.v1.accounts.create({"type": "custom"}),
                  lambda: live.v1.accounts.list()):
        with pytest.raises(stripe.AuthenticationError) as info:
            call_()
        e = info.value
        assert type(e) is stripe.AuthenticationError
        assert e.http_status == 401
        assert e.user_message == "Invalid API Key provided: sk_live_***", e.http_body
    monkeypatch.setattr(stripe, "api_key", "sk_live_123")
    monkeypatch.setattr(stripe, "api_base", base)
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    with pytest.raises(stripe.AuthenticationError):
        stripe.Account.list()
    status, body = call(base, "POST", "/v1/account_sessions/claim", "pk_live_123",
                        {"client_secret": "accs_secret__" + "x" * 47})
    assert status == 401, body
