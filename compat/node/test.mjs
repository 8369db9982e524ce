// The official `stripe` Node package (23.1.0) against a running connect-sessions server.
//
// Run through compat/run.sh (`node --test test.mjs` in this folder), which starts a server and
// exports CS_API_BASE, CS_SECRET_KEY, CS_PUBLISHABLE_KEY, CS_LIVE_SECRET_KEY,
// CS_OTHER_SECRET_KEY and CS_SESSION_TTL_SECONDS. Only node:test, node:assert and stripe.

import {test, describe} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {randomUUID} from 'node:crypto';
import Stripe from 'stripe';

const SDK_API_VERSION = '2026-10-28.endive';
const EXPECTED = JSON.parse(
  readFileSync(new URL('../expected_components.json', import.meta.url), 'utf8'),
).components;
const PUBLISHABLE_MESSAGE =
  'This API call cannot be made with a publishable API key. Please use a secret API key. ' +
  'You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.';
const SEED_COMPONENTS = {
  account_onboarding: {enabled: true},
  payments: {enabled: true},
  payouts: {enabled: true},
  balances: {enabled: true},
};
const UNKNOWN_ACCOUNT = 'acct_1NkDjjJyhOZfPCWt';
const REQ_ID = /^req_[A-Za-z0-9]{14}$/;

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run this suite through compat/run.sh`);
  return v;
}

const base = new URL(env('CS_API_BASE'));
function makeClient(key) {
  return new Stripe(key, {
    host: base.hostname,
    port: Number(base.port),
    protocol: base.protocol.replace(':', ''),
    maxNetworkRetries: 0,
  });
}
const stripe = makeClient(env('CS_SECRET_KEY'));
const other = makeClient(env('CS_OTHER_SECRET_KEY'));
const live = makeClient(env('CS_LIVE_SECRET_KEY'));

const createSession = (client, account, components = SEED_COMPONENTS, extra = {}) =>
  client.accountSessions.create({account, components, ...extra});

/**
 * Await `promise`, expect it to reject with exactly `cls` (the SDK picks the class from the
 * HTTP status), then check status, type, code, param and message when given (undefined = not
 * checked; null = must be absent).
 */
async function expectError(promise, cls, status, {code, param, message} = {}) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected ${cls.name}, but the call succeeded`);
  assert.equal(err.constructor.name, cls.name, `${err.constructor.name}: ${err.message}`);
  assert.ok(err instanceof cls);
  assert.equal(err.statusCode, status, JSON.stringify(err.raw));
  assert.equal(err.raw.type, 'invalid_request_error', JSON.stringify(err.raw));
  if (code !== undefined) {
    assert.equal(err.code, code ?? undefined, JSON.stringify(err.raw));
    if (code) {
      assert.equal(err.doc_url, `https://stripe.com/docs/error-codes/${code.replaceAll('_', '-')}`);
    }
  }
  if (param !== undefined) assert.equal(err.param, param ?? undefined, JSON.stringify(err.raw));
  if (message !== undefined) assert.equal(err.message, message);
  assert.match(err.requestId, REQ_ID);
  return err;
}

function assertCatalog(components) {
  assert.deepEqual(Object.keys(components).sort(), Object.keys(EXPECTED).sort());
  assert.equal(Object.keys(components).length, 22);
  for (const [name, features] of Object.entries(EXPECTED)) {
    const comp = components[name];
    assert.deepEqual(Object.keys(comp).sort(), ['enabled', 'features'], name);
    assert.equal(typeof comp.enabled, 'boolean', name);
    assert.deepEqual(Object.keys(comp.features).sort(), [...features].sort(), name);
    for (const [f, v] of Object.entries(comp.features)) {
      assert.equal(typeof v, 'boolean', `${name}.${f}`);
    }
  }
}

function assertSession(session, accountId, livemode = false) {
  const ttl = Number(process.env.CS_SESSION_TTL_SECONDS || 1800);
  assert.equal(session.object, 'account_session');
  assert.equal(session.account, accountId);
  assert.match(session.client_secret, /^accs_secret__[A-Za-z0-9_-]{47}$/);
  assert.equal(session.client_secret.length, 60);
  assert.equal(session.livemode, livemode);
  const now = Math.floor(Date.now() / 1000);
  assert.ok(session.expires_at > now, `expires_at ${session.expires_at} <= now ${now}`);
  assert.ok(
    session.expires_at >= now + ttl - 120 && session.expires_at <= now + ttl + 5,
    `expires_at ${session.expires_at}, now ${now}, ttl ${ttl}`,
  );
  assert.equal(session.id, undefined, 'an account session has no id');
  assertCatalog(session.components);
  return session.components;
}

describe('accounts', () => {
  const table = {
    custom: ['application', 'application_custom', 'application', 'none'],
    express: ['application', 'application_express', 'stripe', 'express'],
    standard: ['stripe', 'account', 'stripe', 'full'],
  };
  for (const [type, [losses, payer, req, dash]] of Object.entries(table)) {
    test(`create type=${type} maps to its controller`, async () => {
      const before = Math.floor(Date.now() / 1000);
      const acct = await stripe.accounts.create({
        type,
        email: `${type}@example.com`,
        metadata: {suite: 'node'},
        business_profile: {name: 'Ada & Co', url: 'https://example.com/a b'},
      });
      assert.match(acct.id, /^acct_[A-Za-z0-9]{16}$/);
      assert.equal(acct.object, 'account');
      assert.equal(acct.type, type);
      assert.equal(acct.country, 'US');
      assert.equal(acct.email, `${type}@example.com`);
      assert.deepEqual(acct.metadata, {suite: 'node'});
      assert.equal(acct.business_profile.name, 'Ada & Co');
      assert.equal(acct.business_profile.url, 'https://example.com/a b');
      assert.ok(acct.created >= before - 5 && acct.created <= Date.now() / 1000 + 5);
      for (const flag of ['charges_enabled', 'payouts_enabled', 'details_submitted']) {
        assert.equal(typeof acct[flag], 'boolean', flag);
      }
      assert.equal(typeof acct.capabilities, 'object');
      assert.equal(acct.controller.is_controller, true);
      assert.equal(acct.controller.type, 'application');
      assert.equal(acct.controller.losses.payments, losses);
      assert.equal(acct.controller.fees.payer, payer);
      assert.equal(acct.controller.requirement_collection, req);
      assert.equal(acct.controller.stripe_dashboard.type, dash);
      assert.match(acct.lastResponse.requestId, REQ_ID);
      assert.equal(acct.lastResponse.statusCode, 200);
    });
  }

  test('create with controller properties', async () => {
    const acct = await stripe.accounts.create({
      controller: {
        fees: {payer: 'application'},
        losses: {payments: 'application'},
        requirement_collection: 'application',
        stripe_dashboard: {type: 'none'},
      },
      country: 'FR',
    });
    assert.equal(acct.type, 'none');
    assert.equal(acct.country, 'FR');
    assert.equal(acct.controller.fees.payer, 'application');
    assert.equal(acct.controller.requirement_collection, 'application');
    assert.equal(acct.controller.stripe_dashboard.type, 'none');
  });

  test('type and controller together are rejected', async () => {
    await expectError(
      stripe.accounts.create({type: 'express', controller: {losses: {payments: 'application'}}}),
      Stripe.errors.StripeInvalidRequestError,
      400,
    );
  });

  test('unknown parameter', async () => {
    await expectError(
      stripe.accounts.create({type: 'custom', bogus: 'x'}),
      Stripe.errors.StripeInvalidRequestError,
      400,
      {code: 'parameter_unknown', param: 'bogus', message: 'Received unknown parameter: bogus'},
    );
  });

  test('retrieve, update metadata, list, delete', async () => {
    const acct = await stripe.accounts.create({type: 'custom', metadata: {a: '1', b: '2'}});
    const got = await stripe.accounts.retrieve(acct.id);
    assert.equal(got.id, acct.id);
    assert.deepEqual(got.metadata, {a: '1', b: '2'});

    const upd = await stripe.accounts.update(acct.id, {metadata: {b: '', c: '3'}});
    assert.deepEqual(upd.metadata, {a: '1', c: '3'});
    // null is how stripe-node unsets a key (sent as `metadata[a]=`).
    const upd2 = await stripe.accounts.update(acct.id, {metadata: {a: null}});
    assert.deepEqual(upd2.metadata, {c: '3'});

    const newer = await stripe.accounts.create({type: 'custom'});
    const page = await stripe.accounts.list({limit: 2});
    assert.equal(page.object, 'list');
    assert.deepEqual(page.data.map((a) => a.id), [newer.id, acct.id]);
    assert.equal(page.has_more, true);
    const next = await stripe.accounts.list({limit: 1, starting_after: newer.id});
    assert.deepEqual(next.data.map((a) => a.id), [acct.id]);

    const del = await stripe.accounts.del(acct.id);
    assert.deepEqual({id: del.id, object: del.object, deleted: del.deleted}, {id: acct.id, object: 'account', deleted: true});
    await expectError(stripe.accounts.retrieve(acct.id), Stripe.errors.StripePermissionError, 403, {
      code: 'account_invalid',
    });
    await expectError(createSession(stripe, acct.id), Stripe.errors.StripeInvalidRequestError, 400, {
      code: 'resource_missing',
      param: 'account',
      message: `No such account: '${acct.id}'`,
    });
  });

  test('retrieve an unknown account is a permission error', async () => {
    const err = await expectError(stripe.accounts.retrieve(UNKNOWN_ACCOUNT), Stripe.errors.StripePermissionError, 403, {
      code: 'account_invalid',
    });
    assert.match(
      err.message,
      new RegExp(
        `^The provided key 'sk_test_\\*+[A-Za-z0-9]{4,6}' does not have access to account '${UNKNOWN_ACCOUNT}' ` +
          `\\(or that account does not exist\\)\\. Application access may have been revoked\\.$`,
      ),
    );
    assert.ok(!err.message.includes(env('CS_SECRET_KEY')));
  });
});

describe('account sessions', () => {
  test("the seed's session for a custom account", async () => {
    const acct = await stripe.accounts.create({type: 'custom'});
    const idem = `compat-node-${randomUUID()}`;
    const session = await stripe.accountSessions.create(
      {account: acct.id, components: SEED_COMPONENTS},
      {idempotencyKey: idem},
    );
    const c = assertSession(session, acct.id);
    for (const name of Object.keys(EXPECTED)) {
      assert.equal(c[name].enabled, name in SEED_COMPONENTS, name);
      if (EXPECTED[name].length === 0) assert.deepEqual(c[name].features, {}, name);
    }
    for (const name of ['balances', 'payouts']) {
      assert.deepEqual(
        c[name].features,
        {
          disable_stripe_user_authentication: false,
          edit_payout_schedule: false,
          external_account_collection: true,
          instant_payouts: false,
          standard_payouts: false,
        },
        name,
      );
    }
    for (const name of ['payments', 'payment_details', 'disputes_list']) {
      assert.deepEqual(
        c[name].features,
        {
          capture_payments: true,
          destination_on_behalf_of_charge_management: false,
          dispute_management: true,
          refund_management: true,
          smart_disputes_management: true,
        },
        name,
      );
    }
    assert.equal(c.payment_disputes.features.smart_disputes_management, true);
    assert.deepEqual(c.financial_account.features, {
      disable_stripe_user_authentication: false,
      external_account_collection: true,
      money_movement: false,
      send_money: false,
      transfer_balance: false,
    });
    assert.deepEqual(c.payment_method_settings.features, {disable_stripe_user_authentication: false});
    assert.ok(!Object.values(c.issuing_cards_list.features).some(Boolean));

    const r = session.lastResponse;
    assert.equal(r.statusCode, 200);
    assert.match(r.requestId, REQ_ID);
    assert.equal(r.idempotencyKey, idem);
    assert.equal(r.apiVersion, SDK_API_VERSION);
    assert.equal(r.headers['cache-control'], 'no-cache, no-store');
    assert.match(r.headers['content-type'], /^application\/json/);
  });

  test('every POST carries the SDK idempotency key, echoed back; sessions are fresh', async () => {
    const acct = await stripe.accounts.create({type: 'custom'});
    const [s1, s2] = [await createSession(stripe, acct.id), await createSession(stripe, acct.id)];
    assert.notEqual(s1.client_secret, s2.client_secret);
    assert.notEqual(s1.lastResponse.requestId, s2.lastResponse.requestId);
    assert.match(s1.lastResponse.idempotencyKey, /^stripe-node-retry-/);
    assert.notEqual(s1.lastResponse.idempotencyKey, s2.lastResponse.idempotencyKey);
  });

  test('standard account: stripe-owned payout defaults; explicit features kept', async () => {
    const acct = await stripe.accounts.create({type: 'standard'});
    const session = await createSession(
      stripe,
      acct.id,
      {balances: {enabled: true}, payments: {enabled: true, features: {dispute_management: false}}},
      {expand: ['components']},
    );
    const c = assertSession(session, acct.id);
    for (const name of ['balances', 'payouts']) {
      assert.equal(c[name].features.instant_payouts, true, name);
      assert.equal(c[name].features.standard_payouts, true, name);
      assert.equal(c[name].features.edit_payout_schedule, true, name);
    }
    assert.equal(c.instant_payouts_promotion.features.instant_payouts, true);
    assert.equal(c.payments.features.dispute_management, false);
    assert.equal(c.payments.features.smart_disputes_management, false);
    assert.equal(c.payments.features.refund_management, true);
  });

  test('explicit disable_stripe_user_authentication applies session-wide', async () => {
    const acct = await stripe.accounts.create({type: 'custom'});
    const session = await createSession(stripe, acct.id, {
      notification_banner: {enabled: true, features: {disable_stripe_user_authentication: true}},
    });
    const c = assertSession(session, acct.id);
    const having = Object.entries(EXPECTED)
      .filter(([, f]) => f.includes('disable_stripe_user_authentication'))
      .map(([n]) => n);
    assert.ok(having.length >= 8);
    for (const name of having) {
      assert.equal(c[name].features.disable_stripe_user_authentication, true, name);
    }
  });

  test('live key: livemode sessions, and no cross-mode access', async () => {
    const liveAcct = await live.accounts.create({type: 'custom'});
    assertSession(await createSession(live, liveAcct.id), liveAcct.id, true);
    await expectError(createSession(stripe, liveAcct.id), Stripe.errors.StripeInvalidRequestError, 400, {
      code: 'resource_missing',
      param: 'account',
      message:
        `No such account: '${liveAcct.id}'; a similar object exists in live mode, ` +
        'but a test mode key was used to make this request.',
    });
  });
});

describe('account session errors', () => {
  let acct;
  const account = async () => (acct ??= await stripe.accounts.create({type: 'custom'}));

  test('missing account', async () => {
    await expectError(
      stripe.accountSessions.create({components: SEED_COMPONENTS}),
      Stripe.errors.StripeInvalidRequestError,
      400,
      {code: 'parameter_missing', param: 'account', message: 'Missing required param: account.'},
    );
  });

  test('missing components', async () => {
    await expectError(
      stripe.accountSessions.create({account: (await account()).id}),
      Stripe.errors.StripeInvalidRequestError,
      400,
      {code: 'parameter_missing', param: 'components', message: 'Missing required param: components.'},
    );
  });

  test('unknown component', async () => {
    await expectError(
      createSession(stripe, (await account()).id, {payments: {enabled: true}, bogus: {enabled: true}}),
      Stripe.errors.StripeInvalidRequestError,
      400,
      {code: 'parameter_unknown', param: 'components[bogus]', message: 'Received unknown parameter: components[bogus]'},
    );
  });

  test('unknown feature', async () => {
    await expectError(
      createSession(stripe, (await account()).id, {payouts: {enabled: true, features: {nope: true}}}),
      Stripe.errors.StripeInvalidRequestError,
      400,
      {
        code: 'parameter_unknown',
        param: 'components[payouts][features][nope]',
        message: 'Received unknown parameter: components[payouts][features][nope]',
      },
    );
  });

  test('component without enabled', async () => {
    await expectError(
      createSession(stripe, (await account()).id, {payments: {features: {refund_management: false}}}),
      Stripe.errors.StripeInvalidRequestError,
      400,
      {
        code: 'parameter_missing',
        param: 'components[payments][enabled]',
        message: 'Missing required param: components[payments][enabled].',
      },
    );
  });

  test('invalid boolean', async () => {
    await expectError(
      createSession(stripe, (await account()).id, {payments: {enabled: 'maybe'}}),
      Stripe.errors.StripeInvalidRequestError,
      400,
      {param: 'components[payments][enabled]', message: 'Invalid boolean: maybe'},
    );
  });

  test('unknown account', async () => {
    await expectError(createSession(stripe, UNKNOWN_ACCOUNT), Stripe.errors.StripeInvalidRequestError, 400, {
      code: 'resource_missing',
      param: 'account',
      message: `No such account: '${UNKNOWN_ACCOUNT}'`,
    });
  });

  test("another platform's account does not exist for us", async () => {
    const theirs = await other.accounts.create({type: 'custom'});
    assertSession(await createSession(other, theirs.id), theirs.id);
    await expectError(createSession(stripe, theirs.id), Stripe.errors.StripeInvalidRequestError, 400, {
      code: 'resource_missing',
      param: 'account',
      message: `No such account: '${theirs.id}'`,
    });
    await expectError(stripe.accounts.retrieve(theirs.id), Stripe.errors.StripePermissionError, 403, {
      code: 'account_invalid',
    });
    const ours = await stripe.accounts.list({limit: 100});
    assert.ok(!ours.data.some((a) => a.id === theirs.id));
  });

  test('bad API key', async () => {
    const bad = 'sk_test_' + 'Q'.repeat(40) + 'nope42';
    const err = await expectError(createSession(makeClient(bad), UNKNOWN_ACCOUNT), Stripe.errors.StripeAuthenticationError, 401);
    const prefix = 'Invalid API Key provided: ';
    assert.ok(err.message.startsWith(prefix), err.message);
    const masked = err.message.slice(prefix.length);
    assert.equal(masked.length, bad.length, 'the mask keeps the key length');
    assert.ok(masked.startsWith('sk_test_'));
    assert.ok(masked.endsWith(bad.slice(-4)));
    assert.match(masked.slice(8, -6), /^\*+$/);
  });

  test('publishable key', async () => {
    const pk = makeClient(env('CS_PUBLISHABLE_KEY'));
    await expectError(createSession(pk, UNKNOWN_ACCOUNT), Stripe.errors.StripeAuthenticationError, 401, {
      code: 'secret_key_required',
      message: PUBLISHABLE_MESSAGE,
    });
    await expectError(pk.accounts.list(), Stripe.errors.StripeAuthenticationError, 401, {
      code: 'secret_key_required',
      message: PUBLISHABLE_MESSAGE,
    });
  });

  test('disable_stripe_user_authentication=true needs requirement_collection=application', async () => {
    const std = await stripe.accounts.create({type: 'standard'});
    const err = await expectError(
      createSession(stripe, std.id, {payouts: {enabled: true, features: {disable_stripe_user_authentication: true}}}),
      Stripe.errors.StripeInvalidRequestError,
      400,
      {param: 'components[payouts][features][disable_stripe_user_authentication]'},
    );
    assert.match(err.message, /requirement_collection/);
  });

  test('external_account_collection=false needs requirement_collection=application', async () => {
    const std = await stripe.accounts.create({type: 'standard'});
    const err = await expectError(
      createSession(stripe, std.id, {account_onboarding: {enabled: true, features: {external_account_collection: false}}}),
      Stripe.errors.StripeInvalidRequestError,
      400,
      {param: 'components[account_onboarding][features][external_account_collection]'},
    );
    assert.match(err.message, /requirement_collection/);
  });

  test('explicit disable_stripe_user_authentication values must agree', async () => {
    const err = await expectError(
      createSession(stripe, (await account()).id, {
        payouts: {enabled: true, features: {disable_stripe_user_authentication: false}},
        account_onboarding: {enabled: true, features: {disable_stripe_user_authentication: true}},
      }),
      Stripe.errors.StripeInvalidRequestError,
      400,
    );
    assert.match(
      err.message,
      /^The `features\[disable_stripe_user_authentication\]` property specified by `(payouts|account_onboarding)` and `(payouts|account_onboarding)` must be the same\.$/,
    );
    assert.ok(err.message.includes('`payouts`') && err.message.includes('`account_onboarding`'));
    assert.match(err.param, /\[features\]\[disable_stripe_user_authentication\]$/);
  });
});
