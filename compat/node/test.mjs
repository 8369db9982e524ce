// The official `stripe` Node package (23.1.0) against a running connect-sessions server.
//
// Run through compat/run.sh (`node --test test.mjs` in this folder), which starts a server and
// exports CS_API_BASE, CS_SECRET_KEY, CS_PUBLISHABLE_KEY, CS_LIVE_SECRET_KEY,
// CS_OTHER_SECRET_KEY, CS_SESSION_TTL_SECONDS and CS_VERIFICATION_DELAY_SECONDS. Only node:test,
// node:assert and stripe.

import {test, describe} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {randomUUID} from 'node:crypto';
import {createServer} from 'node:http';
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

// Onboarding: identity, persons, bank accounts and the requirements derived from them.
//
// Stripe's test values (the "Testing Connect" documentation): DOB 1902-01-01 and ID number
// 222222222 verify at once, DOB 1901-01-01, SSN last 4 `0000` and address line1
// `address_full_match` after the server's verification delay (run.sh starts it with 1 s),
// DOB 1990-01-01 fails; routing 110000000 with account 000123456789 is STRIPE TEST BANK.
describe('onboarding', () => {
  const VERIFICATION_DELAY_MS = 1000 * Number(process.env.CS_VERIFICATION_DELAY_SECONDS || 5);
  const CUSTOM_US = {
    type: 'custom',
    country: 'US',
    capabilities: {card_payments: {requested: true}, transfers: {requested: true}},
  };
  const TOS_DATE = 1780272000;
  const ADDRESS = {line1: 'address_full_match', city: 'Schenectady', state: 'NY', postal_code: '12345'};
  // Verifies at once but for the address, which the server checks later.
  const INDIVIDUAL = {
    first_name: 'Jenny',
    last_name: 'Rosen',
    email: 'jenny@example.com',
    phone: '0000000000',
    dob: {day: 1, month: 1, year: 1902},
    address: ADDRESS,
    id_number: '222222222',
  };
  // Verifies after the delay.
  const PERSON = {
    first_name: 'Jane',
    last_name: 'Roe',
    email: 'jane@example.com',
    phone: '0000000000',
    dob: {day: 1, month: 1, year: 1901},
    address: ADDRESS,
    ssn_last_4: '0000',
  };
  const BANK_ACCOUNT = {
    object: 'bank_account',
    country: 'US',
    currency: 'usd',
    routing_number: '110000000',
    account_number: '000123456789',
  };
  const KEYED_IDENTITY_REASON =
    'The identity information you entered cannot be verified. Please correct any errors or upload a ' +
    'document that matches the identity fields (e.g., name and date of birth) that you entered.';

  const businessDetails = (holderType) => ({
    business_profile: {
      mcc: '5734',
      url: 'https://accessible.stripe.com',
      product_description: 'Rides to the moon',
      support_email: 'support@example.com',
      support_phone: '0000000000',
      support_url: 'https://accessible.stripe.com/support',
    },
    settings: {
      payments: {statement_descriptor: 'ROCKET RIDES'},
      payouts: {schedule: {interval: 'weekly', weekly_anchor: 'friday'}},
    },
    tos_acceptance: {date: TOS_DATE, ip: '8.8.8.8'},
    external_account: {...BANK_ACCOUNT, account_holder_name: 'Jenny Rosen', account_holder_type: holderType},
  });

  /** Fetch until `done(value)`, for at most a few verification delays. */
  async function eventually(fetch, done, what) {
    const deadline = Date.now() + 5 * VERIFICATION_DELAY_MS + 2000;
    for (;;) {
      const value = await fetch();
      if (done(value)) return value;
      assert.ok(Date.now() < deadline, `${what} did not happen: ${JSON.stringify(value)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  function assertNothingDue(requirements) {
    for (const field of ['currently_due', 'eventually_due', 'past_due', 'pending_verification', 'errors', 'alternatives']) {
      assert.deepEqual(requirements[field], [], field);
    }
    assert.equal(requirements.current_deadline, null);
    assert.equal(requirements.disabled_reason, null);
  }

  test('a US Custom individual is onboarded to charges_enabled in one update', async () => {
    const acct = await stripe.accounts.create(CUSTOM_US);
    for (const field of ['business_type', 'external_account', 'tos_acceptance.date', 'business_profile.mcc']) {
      assert.ok(acct.requirements.currently_due.includes(field), field);
    }
    assert.deepEqual(acct.requirements.past_due, acct.requirements.currently_due);
    assert.equal(acct.requirements.disabled_reason, 'requirements.past_due');
    assert.equal(acct.requirements.current_deadline, null);
    assert.deepEqual(acct.requirements.alternatives, [
      {alternative_fields_due: ['business_profile.product_description'], original_fields_due: ['business_profile.url']},
    ]);
    assert.deepEqual(acct.future_requirements.currently_due, []);
    assert.equal(acct.capabilities.card_payments, 'inactive');
    assert.deepEqual([acct.charges_enabled, acct.payouts_enabled, acct.details_submitted], [false, false, false]);
    assert.equal(acct.business_type, null);
    assert.equal(acct.external_accounts.total_count, 0);

    const submitted = await stripe.accounts.update(acct.id, {
      business_type: 'individual',
      individual: INDIVIDUAL,
      ...businessDetails('individual'),
    });
    assert.deepEqual(submitted.requirements.currently_due, []);
    assert.deepEqual(submitted.requirements.errors, []);
    assert.deepEqual([...submitted.requirements.pending_verification].sort(), [
      'individual.address.city',
      'individual.address.line1',
      'individual.address.postal_code',
      'individual.address.state',
    ]);
    assert.equal(submitted.requirements.disabled_reason, 'requirements.pending_verification');
    assert.equal(submitted.capabilities.card_payments, 'pending');
    assert.equal(submitted.details_submitted, true);
    assert.equal(submitted.charges_enabled, false);

    const onboarded = await eventually(
      () => stripe.accounts.retrieve(acct.id),
      (a) => a.capabilities.card_payments === 'active',
      'card_payments active',
    );
    assertNothingDue(onboarded.requirements);
    assert.deepEqual(onboarded.future_requirements.currently_due, []);
    assert.deepEqual(onboarded.future_requirements.errors, []);
    assert.deepEqual(onboarded.capabilities, {card_payments: 'active', transfers: 'active'});
    assert.equal(onboarded.charges_enabled, true);
    assert.equal(onboarded.payouts_enabled, true);
    assert.equal(onboarded.details_submitted, true);
    assert.equal(onboarded.business_type, 'individual');

    const individual = onboarded.individual;
    assert.equal(individual.object, 'person');
    assert.match(individual.id, /^person_/);
    assert.equal(individual.account, acct.id);
    assert.equal(individual.verification.status, 'verified');
    assert.equal(individual.id_number_provided, true);
    assert.equal(individual.first_name, 'Jenny');
    assert.deepEqual(individual.dob, {day: 1, month: 1, year: 1902});
    assert.equal(individual.address.line1, 'address_full_match');
    assert.equal(individual.relationship.representative, true);
    assert.deepEqual(individual.requirements.currently_due, []);

    assert.equal(onboarded.external_accounts.total_count, 1);
    const bank = onboarded.external_accounts.data[0];
    assert.equal(bank.object, 'bank_account');
    assert.equal(bank.bank_name, 'STRIPE TEST BANK');
    assert.equal(bank.last4, '6789');
    assert.equal(bank.routing_number, '110000000');
    assert.equal(bank.account_holder_name, 'Jenny Rosen');
    assert.equal(bank.account_holder_type, 'individual');
    assert.equal(bank.default_for_currency, true);

    assert.equal(onboarded.tos_acceptance.date, TOS_DATE);
    assert.equal(onboarded.tos_acceptance.ip, '8.8.8.8');
    assert.equal(onboarded.settings.payouts.schedule.interval, 'weekly');
    assert.equal(onboarded.settings.payouts.schedule.weekly_anchor, 'friday');
    assert.equal(onboarded.settings.payments.statement_descriptor, 'ROCKET RIDES');
    const profile = onboarded.business_profile;
    assert.equal(profile.mcc, '5734');
    assert.equal(profile.product_description, 'Rides to the moon');
    assert.equal(profile.support_email, 'support@example.com');
    assert.equal(profile.support_phone, '0000000000');
    assert.equal(profile.support_url, 'https://accessible.stripe.com/support');
  });

  test('a US company is onboarded through the Persons API', async () => {
    const acct = await stripe.accounts.create(CUSTOM_US);
    const company = await stripe.accounts.update(acct.id, {
      business_type: 'company',
      company: {name: 'Rocket Rides', phone: '0000000000', tax_id: '000000000', address: ADDRESS},
      ...businessDetails('company'),
    });
    for (const field of ['company.owners_provided', 'owners.first_name', 'representative.relationship.title']) {
      assert.ok(company.requirements.currently_due.includes(field), field);
    }

    const representative = await stripe.accounts.createPerson(acct.id, {
      ...PERSON,
      relationship: {representative: true, executive: true, title: 'CEO'},
    });
    assert.equal(representative.object, 'person');
    assert.match(representative.id, /^person_[A-Za-z0-9]+$/);
    assert.equal(representative.account, acct.id);
    assert.equal(representative.relationship.representative, true);
    assert.equal(representative.relationship.executive, true);
    assert.equal(representative.relationship.title, 'CEO');
    assert.equal(representative.ssn_last_4_provided, true);
    assert.deepEqual(representative.requirements.currently_due, []);
    assert.equal(representative.verification.status, 'pending');
    const owner = await stripe.accounts.createPerson(acct.id, {
      ...PERSON,
      first_name: 'Owen',
      relationship: {owner: true, percent_ownership: 100},
    });
    assert.equal(owner.relationship.owner, true);
    assert.equal(owner.relationship.percent_ownership, 100);

    const onboarded = await eventually(
      () => stripe.accounts.retrieve(acct.id),
      (a) => a.requirements.pending_verification.length === 0,
      'the persons and the company verified',
    );
    assertNothingDue(onboarded.requirements);
    assert.equal(onboarded.capabilities.card_payments, 'active');
    assert.deepEqual([onboarded.charges_enabled, onboarded.payouts_enabled, onboarded.details_submitted], [true, true, true]);
    assert.equal(onboarded.business_type, 'company');
    assert.equal(onboarded.company.name, 'Rocket Rides');
    assert.equal(onboarded.company.tax_id_provided, true);

    const listed = await stripe.accounts.listPersons(acct.id);
    assert.equal(listed.url, `/v1/accounts/${acct.id}/persons`);
    assert.deepEqual(listed.data.map((p) => p.id), [owner.id, representative.id], 'newest first');
    assert.deepEqual(listed.data.map((p) => p.verification.status), ['verified', 'verified']);
    const owners = await stripe.accounts.listPersons(acct.id, {relationship: {owner: true}});
    assert.deepEqual(owners.data.map((p) => p.id), [owner.id]);
    const got = await stripe.accounts.retrievePerson(acct.id, representative.id);
    assert.equal(got.relationship.title, 'CEO');
    const renamed = await stripe.accounts.updatePerson(acct.id, owner.id, {relationship: {title: 'Founder'}});
    assert.equal(renamed.relationship.title, 'Founder');

    await expectError(stripe.accounts.deletePerson(acct.id, representative.id), Stripe.errors.StripeInvalidRequestError, 400, {
      param: 'person',
    });
    const deleted = await stripe.accounts.deletePerson(acct.id, owner.id);
    assert.deepEqual({id: deleted.id, object: deleted.object, deleted: deleted.deleted}, {id: owner.id, object: 'person', deleted: true});
    const remaining = await stripe.accounts.listPersons(acct.id);
    assert.deepEqual(remaining.data.map((p) => p.id), [representative.id]);
  });

  test('a failing test value is a requirements error', async () => {
    const acct = await stripe.accounts.create(CUSTOM_US);
    const failed = await stripe.accounts.update(acct.id, {
      business_type: 'individual',
      individual: {...INDIVIDUAL, dob: {day: 1, month: 1, year: 1990}},
      ...businessDetails('individual'),
    });
    const [error] = failed.requirements.errors;
    assert.equal(error.code, 'verification_failed_keyed_identity');
    assert.equal(error.requirement, 'individual.dob.day');
    assert.equal(error.reason, KEYED_IDENTITY_REASON);
    assert.deepEqual(failed.requirements.currently_due, ['individual.dob.day', 'individual.dob.month', 'individual.dob.year']);
    assert.equal(failed.capabilities.card_payments, 'inactive');
    assert.equal(failed.individual.verification.status, 'unverified');

    const corrected = await stripe.accounts.update(acct.id, {individual: {dob: {day: 1, month: 1, year: 1902}}});
    assert.deepEqual(corrected.requirements.errors, []);
    assert.deepEqual(corrected.requirements.currently_due, []);
  });

  test('platform bank accounts through the external-account methods', async () => {
    const acct = await stripe.accounts.create({type: 'custom', country: 'US'});
    // Another test account number than btok_us_verified's: an account refuses a duplicate.
    const fromHash = await stripe.accounts.createExternalAccount(acct.id, {
      external_account: {
        ...BANK_ACCOUNT,
        account_number: '000111111116',
        account_holder_name: 'Jenny Rosen',
        account_holder_type: 'individual',
      },
    });
    assert.equal(fromHash.object, 'bank_account');
    assert.match(fromHash.id, /^ba_/);
    assert.equal(fromHash.account, acct.id);
    assert.equal(fromHash.bank_name, 'STRIPE TEST BANK');
    assert.equal(fromHash.last4, '1116');
    assert.equal(fromHash.routing_number, '110000000');
    assert.equal(fromHash.account_holder_name, 'Jenny Rosen');
    assert.equal(fromHash.account_holder_type, 'individual');
    assert.equal(fromHash.default_for_currency, true);
    assert.deepEqual([fromHash.country, fromHash.currency], ['US', 'usd']);

    const fromToken = await stripe.accounts.createExternalAccount(acct.id, {external_account: 'btok_us_verified'});
    assert.equal(fromToken.object, 'bank_account');
    assert.notEqual(fromToken.id, fromHash.id);
    assert.equal(fromToken.bank_name, 'STRIPE TEST BANK');
    assert.equal(fromToken.last4, '6789');
    assert.equal(fromToken.default_for_currency, false, 'the first one stays the default for usd');

    const got = await stripe.accounts.retrieveExternalAccount(acct.id, fromToken.id);
    assert.equal(got.id, fromToken.id);
    const updated = await stripe.accounts.updateExternalAccount(acct.id, fromToken.id, {
      account_holder_name: 'Rocket Rides',
      account_holder_type: 'company',
    });
    assert.equal(updated.account_holder_name, 'Rocket Rides');
    assert.equal(updated.account_holder_type, 'company');
    const listed = await stripe.accounts.listExternalAccounts(acct.id);
    assert.deepEqual(listed.data.map((b) => b.id).sort(), [fromHash.id, fromToken.id].sort());

    const deleted = await stripe.accounts.deleteExternalAccount(acct.id, fromToken.id);
    assert.equal(deleted.id, fromToken.id);
    assert.equal(deleted.deleted, true);
    const remaining = (await stripe.accounts.retrieve(acct.id)).external_accounts;
    assert.equal(remaining.total_count, 1);
    assert.deepEqual(remaining.data.map((b) => b.id), [fromHash.id]);
  });

  test('an ID number or an SSN appears in no response', async () => {
    // stripe-node returns the parsed response body as is (the fields it has, no model in
    // between), so its JSON is the raw body's content.
    const secrets = ['123456789', '"4321"', '"id_number":', '"ssn_last_4":'];
    const raw = (obj) => {
      assert.equal(obj.lastResponse.statusCode, 200);
      const body = JSON.stringify(obj);
      for (const secret of secrets) assert.ok(!body.includes(secret), `${secret} answered in ${body}`);
      return obj;
    };
    const identity = {first_name: 'Jenny', id_number: '123456789', ssn_last_4: '4321'};
    const acct = raw(await stripe.accounts.create({...CUSTOM_US, business_type: 'individual', individual: identity}));
    assert.equal(acct.individual.id_number_provided, true);
    assert.equal(acct.individual.ssn_last_4_provided, true);
    raw(await stripe.accounts.update(acct.id, {individual: {id_number: '123456789'}}));
    raw(await stripe.accounts.retrieve(acct.id));
    raw(await stripe.accounts.list({limit: 5}));

    const company = await stripe.accounts.create({type: 'custom', business_type: 'company'});
    const person = raw(await stripe.accounts.createPerson(company.id, {...identity, relationship: {owner: true}}));
    assert.equal(person.id_number_provided, true);
    assert.equal(person.ssn_last_4_provided, true);
    raw(await stripe.accounts.updatePerson(company.id, person.id, {id_number: '123456789', ssn_last_4: '4321'}));
    raw(await stripe.accounts.retrievePerson(company.id, person.id));
    raw(await stripe.accounts.listPersons(company.id));
  });

  test("the platform cannot write an Express account's identity once onboarding started", async () => {
    const acct = await stripe.accounts.create({
      type: 'express',
      country: 'US',
      capabilities: {card_payments: {requested: true}, transfers: {requested: true}},
      business_type: 'individual',
      individual: {first_name: 'Jenny'},
    });
    await createSession(stripe, acct.id, {account_onboarding: {enabled: true}});
    await expectError(
      stripe.accounts.update(acct.id, {individual: {last_name: 'Roe'}}),
      Stripe.errors.StripePermissionError,
      403,
      {
        code: 'oauth_not_supported',
        param: 'individual',
        message: `This application does not have the required permissions for the parameter 'individual' on account '${acct.id}'.`,
      },
    );
    const stored = await stripe.accounts.retrieve(acct.id);
    assert.equal(stored.individual.last_name, null, 'nothing refused was written');
    const profile = await stripe.accounts.update(acct.id, {business_profile: {name: 'Rocket Rides'}});
    assert.equal(profile.business_profile.name, 'Rocket Rides', "the business profile stays the platform's");
  });

  // Events and signed webhooks: stripe-node's own helper verifies every delivery.
  //
  // A receiver on a loopback port of this process (node:http) keeps every POST's raw body (a
  // Buffer) and headers and answers 200. Every delivery goes through
  // `stripe.webhooks.constructEvent(rawBody, header, secret)` unchanged. run.sh starts the
  // server with `--webhook-poll-interval 100ms`, so a due delivery arrives within a fraction
  // of a second.
  describe('events and signed webhooks', () => {
    const DELIVERY_WAIT_MS = 10 * VERIFICATION_DELAY_MS + 10000;
    const WEBHOOK_USER_AGENT = 'Stripe/1.0 (+https://stripe.com/docs/webhooks)';
    // The data.object each type the onboarding below causes carries.
    const EVENT_OBJECT = {
      'account.updated': 'account',
      'capability.updated': 'capability',
      'person.created': 'person',
      'person.updated': 'person',
      'account.external_account.created': 'bank_account',
    };
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

    async function startReceiver() {
      const received = [];
      const server = createServer((req, res) => {
        const chunks = [];
        req.on('data', (chunk) => chunks.push(chunk));
        req.on('end', () => {
          received.push({method: req.method, path: req.url, body: Buffer.concat(chunks), headers: req.headers});
          res.writeHead(200, {'content-length': '0'});
          res.end();
        });
      });
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${server.address().port}/stripe/webhooks`;
      const deliveries = (account) =>
        received
          .map((d) => {
            assert.equal(d.method, 'POST');
            assert.equal(d.path, '/stripe/webhooks');
            return {...d, json: JSON.parse(d.body.toString('utf8')), signature: d.headers['stripe-signature']};
          })
          .filter((d) => account === undefined || d.json.account === account);
      async function waitFor(account, done, what) {
        const deadline = Date.now() + DELIVERY_WAIT_MS;
        for (;;) {
          const got = deliveries(account);
          if (done(got.map((d) => d.json))) return got;
          assert.ok(
            Date.now() < deadline,
            `${what}: not delivered within ${DELIVERY_WAIT_MS} ms; got ` +
              JSON.stringify(got.map((d) => [d.json.type, d.json.data.object.id])),
          );
          await sleep(50);
        }
      }
      const close = () => new Promise((resolve) => server.close(resolve));
      return {url, deliveries, waitFor, close};
    }

    const has = (events, type, where = () => true) => events.some((e) => e.type === type && where(e.data.object));

    /** The delivery through stripe-node's helper, unchanged (Buffer and string); the event. */
    function verified(delivery, secret) {
      assert.equal(delivery.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(delivery.headers['user-agent'], WEBHOOK_USER_AGENT);
      assert.match(delivery.signature, /^t=\d+,v1=[0-9a-f]{64}$/);
      const event = stripe.webhooks.constructEvent(delivery.body, delivery.signature, secret);
      assert.deepEqual(stripe.webhooks.constructEvent(delivery.body.toString('utf8'), delivery.signature, secret), event);
      assert.deepEqual(Stripe.webhooks.constructEvent(delivery.body, delivery.signature, secret), event);
      return event;
    }

    function expectSignatureError(fn, message) {
      assert.throws(fn, (err) => {
        assert.ok(err instanceof Stripe.errors.StripeSignatureVerificationError, `${err.constructor.name}: ${err.message}`);
        assert.equal(err.type, 'StripeSignatureVerificationError');
        assert.ok(err.message.startsWith(message), err.message);
        return true;
      });
    }

    test('webhook endpoints are managed through the SDK', async () => {
      const receiver = await startReceiver();
      const created = await stripe.webhookEndpoints.create({
        url: receiver.url,
        enabled_events: ['*'],
        connect: true,
        description: 'compat node',
        metadata: {suite: 'node'},
      });
      try {
        assert.equal(created.object, 'webhook_endpoint');
        assert.match(created.id, /^we_[A-Za-z0-9]+$/);
        assert.match(created.secret, /^whsec_/);
        assert.equal(created.url, receiver.url);
        assert.deepEqual(created.enabled_events, ['*']);
        assert.equal(created.status, 'enabled');
        assert.equal(created.livemode, false);
        assert.equal(created.description, 'compat node');
        assert.deepEqual(created.metadata, {suite: 'node'});
        assert.equal(created.application, null);
        assert.match(created.lastResponse.requestId, REQ_ID);

        const got = await stripe.webhookEndpoints.retrieve(created.id);
        assert.equal(got.object, 'webhook_endpoint');
        assert.equal('secret' in got, false, 'the secret is shown once, on create');
        const {secret: _secret, ...withoutSecret} = created;
        assert.deepEqual({...got}, withoutSecret);

        const listed = await stripe.webhookEndpoints.list({limit: 100});
        assert.equal(listed.object, 'list');
        assert.equal(listed.url, '/v1/webhook_endpoints');
        assert.deepEqual(listed.data.filter((we) => we.id === created.id).map((we) => we.id), [created.id]);
        assert.ok(!JSON.stringify(listed.data).includes('whsec_'));

        // Disabled: the account's changes are not delivered to it.
        const disabled = await stripe.webhookEndpoints.update(created.id, {
          disabled: true,
          description: 'paused',
          metadata: {state: 'off'},
        });
        assert.equal(disabled.status, 'disabled');
        assert.equal(disabled.description, 'paused');
        assert.deepEqual(disabled.metadata, {suite: 'node', state: 'off'});
        assert.equal('secret' in disabled, false);
        const acct = await stripe.accounts.create({type: 'custom', country: 'US'});
        await stripe.accounts.update(acct.id, {email: 'paused@example.com'});
        await sleep(1000); // ten poll intervals of the server's webhook worker
        assert.deepEqual(receiver.deliveries(acct.id), [], 'a disabled endpoint gets nothing');

        // Enabled again: the next change is delivered, and it verifies with the create secret.
        const enabled = await stripe.webhookEndpoints.update(created.id, {disabled: false});
        assert.equal(enabled.status, 'enabled');
        await stripe.accounts.update(acct.id, {email: 'resumed@example.com'});
        const [delivery] = await receiver.waitFor(acct.id, (events) => events.length >= 1, 'account.updated');
        const event = verified(delivery, created.secret);
        assert.equal(event.type, 'account.updated');
        assert.equal(event.data.object.email, 'resumed@example.com');
        assert.deepEqual(event.data.previous_attributes, {email: 'paused@example.com'});
      } finally {
        const deleted = await stripe.webhookEndpoints.del(created.id);
        assert.deepEqual({...deleted}, {id: created.id, object: 'webhook_endpoint', deleted: true});
        await receiver.close();
      }
      await expectError(stripe.webhookEndpoints.retrieve(created.id), Stripe.errors.StripeInvalidRequestError, 404, {
        code: 'resource_missing',
        message: `No such webhook endpoint: '${created.id}'`,
      });
      const after = await stripe.webhookEndpoints.list({limit: 100});
      assert.ok(!after.data.some((we) => we.id === created.id));
    });

    test('every delivery of an onboarding passes stripe.webhooks.constructEvent', async () => {
      const receiver = await startReceiver();
      const endpoint = await stripe.webhookEndpoints.create({
        url: receiver.url,
        enabled_events: ['*'],
        connect: true,
        description: 'compat node onboarding',
      });
      const secret = endpoint.secret;
      assert.match(secret, /^whsec_/);
      try {
        await checkOnboardingDeliveries(receiver, secret);
      } finally {
        await stripe.webhookEndpoints.del(endpoint.id);
        await receiver.close();
      }
    });

    async function checkOnboardingDeliveries(receiver, secret) {
      const started = Math.floor(Date.now() / 1000);
      const acct = await stripe.accounts.create(CUSTOM_US);
      const idem = `compat-node-${randomUUID()}`;
      const submitted = await stripe.accounts.update(
        acct.id,
        {business_type: 'individual', individual: INDIVIDUAL, ...businessDetails('individual')},
        {idempotencyKey: idem},
      );
      const requestId = submitted.lastResponse.requestId;
      assert.equal(submitted.charges_enabled, false);
      const personId = submitted.individual.id;

      // The submission: the account, both capabilities (now pending), the bank account and the
      // individual. Then, once the address check completes: the individual verified, both
      // capabilities active, and charges enabled.
      const deliveries = await receiver.waitFor(
        acct.id,
        (events) =>
          has(events, 'account.updated', (a) => a.details_submitted && !a.charges_enabled) &&
          has(events, 'account.updated', (a) => a.charges_enabled) &&
          has(events, 'account.external_account.created') &&
          has(events, 'person.created') &&
          has(events, 'person.updated', (p) => p.verification.status === 'verified') &&
          ['card_payments', 'transfers'].every((name) =>
            ['pending', 'active'].every((status) =>
              has(events, 'capability.updated', (c) => c.id === name && c.status === status),
            ),
          ),
        "the onboarding's events",
      );

      const events = new Map();
      for (const delivery of deliveries) {
        const event = verified(delivery, secret);
        assert.match(event.id, /^evt_[A-Za-z0-9]+$/);
        assert.equal(event.object, 'event');
        assert.equal(event.account, acct.id);
        assert.equal(event.livemode, false);
        assert.equal(typeof event.api_version, 'string');
        assert.ok(event.created >= started - 5 && event.created <= Date.now() / 1000 + 5, `created ${event.created}`);
        assert.ok(Number.isInteger(event.pending_webhooks) && event.pending_webhooks >= 1, `${event.pending_webhooks}`);
        assert.deepEqual(Object.keys(event.request).sort(), ['id', 'idempotency_key']);
        assert.ok(event.type in EVENT_OBJECT, `unexpected ${event.type}`);
        assert.equal(event.data.object.object, EVENT_OBJECT[event.type], event.type);
        const t = Number(delivery.signature.split(',')[0].slice(2));
        assert.ok(Math.abs(t - Date.now() / 1000) < 60, 'signed with the current time');
        if (!events.has(event.id)) events.set(event.id, {event, delivery});
      }
      const one = (type, where) => {
        const found = [...events.values()].filter(({event}) => event.type === type && where(event));
        assert.equal(found.length, 1, `${type} in ${[...events.values()].map(({event}) => event.type)}`);
        return found[0];
      };

      // account.updated after the submission: what the platform sent, with what it replaced.
      const {event: first} = one('account.updated', (e) => !e.data.object.charges_enabled);
      assert.equal(first.data.object.id, acct.id);
      assert.equal(first.data.object.details_submitted, true);
      assert.equal(first.data.object.business_type, 'individual');
      const previous = first.data.previous_attributes;
      assert.equal(previous.details_submitted, false);
      assert.equal(previous.business_type, null);
      assert.deepEqual(previous.capabilities, {card_payments: 'inactive', transfers: 'inactive'});
      assert.ok(previous.requirements.currently_due.includes('business_type'));
      assert.equal('charges_enabled' in previous, false, 'only what changed');
      assert.deepEqual(first.request, {id: requestId, idempotency_key: idem});

      // account.updated after verification: charges_enabled went from false to true on its own.
      const {event: second, delivery: secondDelivery} = one('account.updated', (e) => e.data.object.charges_enabled);
      assert.equal(second.data.object.id, acct.id);
      assert.equal(second.data.object.payouts_enabled, true);
      assert.equal(second.data.object.capabilities.card_payments, 'active');
      assert.equal(second.data.previous_attributes.charges_enabled, false);
      assert.equal(second.data.previous_attributes.payouts_enabled, false);
      assert.equal(second.data.previous_attributes.requirements.disabled_reason, 'requirements.pending_verification');
      assert.deepEqual(second.request, {id: null, idempotency_key: null});

      for (const name of ['card_payments', 'transfers']) {
        const {event: pending} = one('capability.updated', (e) => e.data.object.id === name && e.data.object.status === 'pending');
        assert.equal(pending.data.object.account, acct.id);
        assert.equal(pending.data.object.requested, true);
        assert.deepEqual(pending.data.previous_attributes, {status: 'inactive'});
        assert.deepEqual(pending.request, {id: requestId, idempotency_key: idem});
        const {event: active} = one('capability.updated', (e) => e.data.object.id === name && e.data.object.status === 'active');
        assert.deepEqual(active.data.previous_attributes, {status: 'pending'});
      }

      const {event: bank} = one('account.external_account.created', () => true);
      assert.match(bank.data.object.id, /^ba_/);
      assert.equal(bank.data.object.account, acct.id);
      assert.equal(bank.data.object.last4, '6789');
      assert.equal(bank.data.object.bank_name, 'STRIPE TEST BANK');
      assert.equal('previous_attributes' in bank.data, false);

      const {event: person} = one('person.created', () => true);
      assert.equal(person.data.object.id, personId);
      assert.equal(person.data.object.account, acct.id);
      assert.equal(person.data.object.first_name, 'Jenny');
      assert.equal(person.data.object.relationship.representative, true);
      assert.equal('id_number' in person.data.object, false);
      const {event: verifiedPerson} = one('person.updated', () => true);
      assert.equal(verifiedPerson.data.object.id, personId);
      assert.equal(verifiedPerson.data.object.verification.status, 'verified');
      assert.equal(verifiedPerson.data.previous_attributes.verification.status, 'pending');

      // Negative cases, through the same helper, on the delivery of the second account.updated.
      const body = secondDelivery.body;
      const header = secondDelivery.signature;
      const k = body.indexOf('"charges_enabled":true') + '"charges_enabled":'.length;
      const tampered = Buffer.from(body);
      tampered[k] = 'T'.charCodeAt(0); // one byte: true -> True
      assert.equal(tampered.length, body.length);
      assert.notDeepEqual(tampered, body);
      const NO_MATCH = 'No signatures found matching the expected signature for payload';
      expectSignatureError(() => stripe.webhooks.constructEvent(tampered, header, secret), NO_MATCH);
      expectSignatureError(() => stripe.webhooks.constructEvent(tampered.toString('utf8'), header, secret), NO_MATCH);
      const wrongSecret = 'whsec_' + '0'.repeat(secret.length - 'whsec_'.length);
      expectSignatureError(() => stripe.webhooks.constructEvent(body, header, wrongSecret), NO_MATCH);
      await assert.rejects(stripe.webhooks.constructEventAsync(tampered, header, secret), Stripe.errors.StripeSignatureVerificationError);

      // An old timestamp: received 400 s after it was signed (receivedAt, in milliseconds), the
      // delivery is out of the default tolerance (300 s) and of an explicit one of 350 s.
      const later = (seconds) => Date.now() + seconds * 1000;
      assert.equal(stripe.webhooks.constructEvent(body, header, secret, undefined, undefined, later(200)).id, second.id);
      const OLD = 'Timestamp outside the tolerance zone';
      expectSignatureError(() => stripe.webhooks.constructEvent(body, header, secret, undefined, undefined, later(400)), OLD);
      expectSignatureError(() => stripe.webhooks.constructEvent(body, header, secret, 350, undefined, later(400)), OLD);
      assert.equal(stripe.webhooks.constructEvent(body, header, secret, 600, undefined, later(400)).id, second.id);
      await assert.rejects(
        stripe.webhooks.constructEventAsync(body, header, secret, undefined, undefined, later(400)),
        (err) => err instanceof Stripe.errors.StripeSignatureVerificationError && err.message === OLD,
      );
      assert.equal((await stripe.webhooks.constructEventAsync(body, header, secret)).id, second.id);

      // The same events through GET /v1/events.
      const types = [...new Set([...events.values()].map(({event}) => event.type))].sort();
      const page = await stripe.events.list({types, created: {gte: started - 5}, limit: 100});
      assert.equal(page.object, 'list');
      assert.equal(page.url, '/v1/events');
      const ours = page.data.filter((e) => e.account === acct.id);
      assert.deepEqual(ours.map((e) => e.id).sort(), [...events.keys()].sort(), 'the list holds exactly what was delivered');
      const created = ours.map((e) => e.created);
      assert.deepEqual(created, [...created].sort((a, b) => b - a), 'newest first');
      const capabilities = await stripe.events.list({type: 'capability.*', created: {gte: started - 5}, limit: 100});
      assert.deepEqual(
        capabilities.data.filter((e) => e.account === acct.id).map((e) => e.id).sort(),
        [...events.values()].filter(({event}) => event.type === 'capability.updated').map(({event}) => event.id).sort(),
      );
      // Auto-pagination through the SDK's iterator.
      const iterated = [];
      for await (const e of stripe.events.list({types: ['account.updated'], created: {gte: started - 5}, limit: 1})) {
        if (e.account === acct.id) iterated.push(e.id);
      }
      assert.deepEqual(iterated, [second.id, first.id]);

      const retrieved = (id) => eventually(() => stripe.events.retrieve(id), (e) => e.pending_webhooks === 0, `${id} counted as delivered`);
      const got = await retrieved(first.id);
      assert.equal(got.object, 'event');
      assert.equal(got.type, 'account.updated');
      assert.equal(got.data.object.object, 'account');
      assert.equal(got.data.object.id, acct.id);
      assert.equal(got.pending_webhooks, 0);
      assert.deepEqual(got.request, {id: requestId, idempotency_key: idem});
      assert.deepEqual(got.data.previous_attributes, first.data.previous_attributes);
      const { pending_webhooks: _p1, ...gotRest } = got;
      const { pending_webhooks: _p2, ...firstRest } = first;
      assert.deepEqual(gotRest, firstRest, 'the delivered event is the stored one');
      const got2 = await retrieved(second.id);
      assert.deepEqual(got2.request, {id: null, idempotency_key: null});
      assert.equal(got2.data.previous_attributes.charges_enabled, false);
      const delivered = await stripe.events.list({types, delivery_success: true, limit: 100});
      assert.ok(delivered.data.some((e) => e.id === second.id));
    }
  });
});
