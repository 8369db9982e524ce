// The official `stripe` Node package (23.1.0) against connect-sessions as a CI test double.
//
// Run by `compat/run.sh double` (`node --test test_double.mjs` in this folder), which starts a
// second server of its own, on a fresh database, with `serve --accept-any-test-key
// --test-double`, creates no platform, and exports CS_DOUBLE_API_BASE. The key is stripe-mock's
// `sk_test_123`, a platform from its first use. A fault rule of two 500s on
// POST /v1/account_sessions: the SDK, with its retries on, retries both under the idempotency
// key it made and succeeds on the third attempt; the request log shows all three. The test
// helpers are called over raw HTTP (fetch) with the same key. Only node:test, node:assert and
// stripe.

import {test, describe, beforeEach} from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';

const SECRET_KEY = 'sk_test_123';
const REQ_ID = /^req_[A-Za-z0-9]{14}$/;
const SESSION_TTL = 1800;
const PAYOUTS = {payouts: {enabled: true, features: {instant_payouts: false}}};

const baseUrl = process.env.CS_DOUBLE_API_BASE;
if (!baseUrl) throw new Error('CS_DOUBLE_API_BASE is not set: run this file through `compat/run.sh double`');
const base = new URL(baseUrl);

function makeClient(maxNetworkRetries) {
  return new Stripe(SECRET_KEY, {
    host: base.hostname,
    port: Number(base.port),
    protocol: base.protocol.replace(':', ''),
    maxNetworkRetries,
  });
}

/** Raw HTTP with sk_test_123 as a Bearer token: [status, JSON body]. */
async function call(method, path, params) {
  const init = {method, headers: {Authorization: `Bearer ${SECRET_KEY}`}};
  let url = new URL(path, base);
  if (params && method === 'GET') {
    url.search = new URLSearchParams(params).toString();
  } else if (params) {
    init.body = new URLSearchParams(params);
  }
  const response = await fetch(url, init);
  return [response.status, await response.json()];
}

async function ok(method, path, params) {
  const [status, body] = await call(method, path, params);
  assert.equal(status, 200, `${method} ${path}: ${status} ${JSON.stringify(body)}`);
  return body;
}

const serverNow = async () => (await ok('GET', '/v1/test_helpers/clock')).now;

describe('two 500s on POST /v1/account_sessions, retried by the SDK', () => {
  let account;
  beforeEach(async () => {
    account = (await makeClient(0).accounts.create({type: 'custom'})).id;
    await ok('DELETE', '/v1/test_helpers/faults');
    const rule = await ok('POST', '/v1/test_helpers/faults', {
      method: 'POST',
      path: '/v1/account_sessions',
      status: '500',
      count: '2',
    });
    assert.equal(rule.object, 'test_helpers.fault');
    assert.deepEqual([rule.count, rule.remaining, rule.hits], [2, 2, 0]);
  });

  const styles = {
    'maxNetworkRetries: 2 on the client': () =>
      makeClient(2).accountSessions.create({account, components: PAYOUTS}),
    'maxNetworkRetries: 2 on the request': () =>
      makeClient(0).accountSessions.create({account, components: PAYOUTS}, {maxNetworkRetries: 2}),
  };
  for (const [style, create] of Object.entries(styles)) {
    test(`${style}: the third attempt succeeds, all three logged under one idempotency key`, async () => {
      const before = await serverNow();
      const session = await create();
      const after = await serverNow();

      // The answer of the third attempt.
      assert.equal(session.object, 'account_session');
      assert.equal(session.account, account);
      assert.match(session.client_secret, /^accs_secret__[A-Za-z0-9_-]{47}$/);
      assert.equal(session.livemode, false);
      assert.ok(
        session.expires_at >= before + SESSION_TTL && session.expires_at <= after + SESSION_TTL,
        `expires_at ${session.expires_at}, server clock ${before}..${after}`,
      );
      assert.equal(session.components.payouts.enabled, true);
      assert.equal(session.components.payouts.features.instant_payouts, false);
      const {statusCode, idempotencyKey, requestId} = session.lastResponse;
      assert.equal(statusCode, 200);
      assert.match(idempotencyKey, /^stripe-node-retry-[0-9a-f-]{36}$/);
      assert.match(requestId, REQ_ID);
      const rules = (await ok('GET', '/v1/test_helpers/faults')).data;
      assert.deepEqual(rules.map((r) => [r.hits, r.remaining]), [[2, 0]]);

      // The request log, newest first.
      const log = await ok('GET', '/v1/test_helpers/requests', {limit: '3'});
      assert.equal(log.object, 'list');
      assert.equal(log.has_more, true, "the account's creation is older");
      const entries = log.data;
      assert.deepEqual(
        entries.map((e) => [e.method, e.path, e.status, e.faulted, e.idempotency_key]),
        [
          ['POST', '/v1/account_sessions', 200, false, idempotencyKey],
          ['POST', '/v1/account_sessions', 500, true, idempotencyKey],
          ['POST', '/v1/account_sessions', 500, true, idempotencyKey],
        ],
      );
      for (const e of entries) {
        assert.equal(e.object, 'test_helpers.request');
        assert.deepEqual(e.params, {
          account,
          components: {payouts: {enabled: 'true', features: {instant_payouts: 'false'}}},
        });
        assert.match(e.request_id, REQ_ID);
        assert.ok(e.created >= before && e.created <= after, JSON.stringify(e));
      }
      assert.equal(entries[0].request_id, requestId);
      assert.equal(new Set(entries.map((e) => e.request_id)).size, 3);
      await ok('DELETE', '/v1/test_helpers/faults');
    });
  }

  test('without retries the SDK rejects with StripeAPIError, Stripe-Should-Retry: true', async () => {
    let err;
    try {
      await makeClient(0).accountSessions.create({account, components: PAYOUTS});
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof Stripe.errors.StripeAPIError, `${err?.constructor?.name}: ${err?.message}`);
    assert.equal(err.statusCode, 500);
    assert.equal(err.type, 'StripeAPIError');
    assert.equal(err.raw.type, 'api_error');
    assert.equal(
      err.message,
      'An error occurred with our connection to the database or another internal service. ' +
        'You can safely retry this request.',
    );
    assert.equal(err.headers['stripe-should-retry'], 'true');
    assert.match(err.requestId, REQ_ID);
    await ok('DELETE', '/v1/test_helpers/faults');
  });
});
