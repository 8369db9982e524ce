// How the demo platform hears about its connected accounts: as a Connect platform does on
// Stripe, from signed webhooks. At start it registers (or reuses) a `connect=true` webhook
// endpoint pointing at its own `POST /webhooks` through the stripe SDK, and keeps the endpoint's
// signing secret, which the API shows only once, in its data folder. Each verified event updates
// what it knows of the event's account: the latest `charges_enabled`, `payouts_enabled`,
// `details_submitted`, requirement counts, capability statuses, and the events heard, newest
// first. The pages read that through `GET /account_status`; nothing here polls the API.
import fs from "node:fs";

/** The event types the endpoint subscribes to. Stripe's `enabled_events` takes `*` or exact
 *  types (no `person.*`), so the families are spelled out. */
export const WEBHOOK_EVENTS = [
  "account.updated",
  "capability.updated",
  "account.external_account.created",
  "account.external_account.updated",
  "account.external_account.deleted",
  "person.created",
  "person.updated",
  "person.deleted",
];

const HISTORY_LENGTH = 12;

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    if (error.code !== "ENOENT") console.error(`ignoring ${file}: ${error.message}`);
    return null;
  }
}

/** Writes a file only its owner reads, in one step (a crash leaves the old one or the new one). */
function writeJson(file, value) {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(temporary, file);
}

/** The secret kept in `file` by an earlier start, if any. */
export function storedWebhookSecret(file) {
  const stored = readJson(file);
  return (stored && stored.secret) || null;
}

/**
 * Makes sure connect-sessions will send this platform's connected-account events to `url`,
 * and returns the endpoint's signing secret. `file` keeps {id, url, secret} between starts:
 * - the endpoint in the file, if it still exists, is reused (its URL, events and status put
 *   right if they changed), and other endpoints at `url`, whose secrets are unknown, deleted;
 * - otherwise every endpoint at `url` is deleted (its secret is lost for good: the API shows
 *   it only in the response that created it) and a new one is created and saved.
 */
export async function ensureWebhookEndpoint(stripe, { url, file }) {
  const stored = readJson(file);
  const all = [];
  for await (const endpoint of stripe.webhookEndpoints.list({ limit: 100 })) all.push(endpoint);
  const mine = stored && stored.secret && all.find((endpoint) => endpoint.id === stored.id);
  const strangers = all.filter((endpoint) => endpoint.url === url && endpoint !== mine);
  for (const endpoint of strangers) await stripe.webhookEndpoints.del(endpoint.id);
  if (mine) {
    const sameEvents = [...mine.enabled_events].sort().join() === [...WEBHOOK_EVENTS].sort().join();
    const updated = mine.url !== url || !sameEvents || mine.status !== "enabled";
    if (updated) {
      await stripe.webhookEndpoints.update(mine.id, { url, enabled_events: WEBHOOK_EVENTS, disabled: false });
      writeJson(file, { ...stored, url });
    }
    return { id: mine.id, secret: stored.secret, created: false, updated, replaced: strangers.length };
  }
  const endpoint = await stripe.webhookEndpoints.create({
    url,
    enabled_events: WEBHOOK_EVENTS,
    connect: true,
    description: "connect-sessions demo platform",
  });
  writeJson(file, { id: endpoint.id, url, secret: endpoint.secret });
  return { id: endpoint.id, secret: endpoint.secret, created: true, updated: false, replaced: strangers.length };
}

/** Whether `previous` (an event's `data.previous_attributes`) describes `object`: every
 *  attribute it names has that value in `object` (hashes compared key by key). */
function describes(previous, object) {
  return Object.entries(previous).every(([key, value]) => {
    const actual = object == null ? undefined : object[key];
    const hash = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
    if (hash(value) && hash(actual)) return describes(value, actual);
    return JSON.stringify(value) === JSON.stringify(actual ?? null);
  });
}

const count = (list) => (Array.isArray(list) ? list.length : 0);

/** What the platform heard about its accounts, kept in `file`. */
export class Heard {
  constructor(file) {
    this.file = file;
    this.accounts = (readJson(file) || {}).accounts || {};
    this.seen = new Set(Object.values(this.accounts).flatMap((record) => record.history.map((h) => h.id)));
  }

  save() {
    writeJson(this.file, { accounts: this.accounts });
  }

  record(accountId) {
    this.accounts[accountId] ||= {
      account: accountId, charges_enabled: null, payouts_enabled: null, details_submitted: null,
      requirements: null, capabilities: {}, as_of: null, history: [],
    };
    return this.accounts[accountId];
  }

  /** Takes the account object's state, as of `created` (an event's, or the account's own). */
  applyAccount(record, account, created, previousAttributes) {
    const requirements = account.requirements || {};
    Object.assign(record, {
      charges_enabled: !!account.charges_enabled,
      payouts_enabled: !!account.payouts_enabled,
      details_submitted: !!account.details_submitted,
      requirements: {
        currently_due: count(requirements.currently_due),
        past_due: count(requirements.past_due),
        eventually_due: count(requirements.eventually_due),
        pending_verification: count(requirements.pending_verification),
        disabled_reason: requirements.disabled_reason || null,
      },
      as_of: { created, previous_attributes: previousAttributes || null },
    });
    for (const [name, status] of Object.entries(account.capabilities || {})) {
      record.capabilities[name] = { status, created };
    }
  }

  /** The account as the API answered its creation: where the platform's record starts. */
  created(account) {
    const record = this.record(account.id);
    if (!record.as_of) this.applyAccount(record, account, account.created, null);
    record.history.unshift({ id: null, type: "account created (API response)", created: account.created, received: Date.now() });
    record.history.splice(HISTORY_LENGTH);
    this.save();
  }

  /** A verified event. Deliveries come at least once and in no set order: a duplicate is
   *  ignored, and an account state older than the one held is not taken. */
  hear(event) {
    const accountId = event.account || (event.data.object && event.data.object.account);
    if (!accountId || this.seen.has(event.id)) return false;
    this.seen.add(event.id);
    const record = this.record(accountId);
    const object = event.data.object;
    if (event.type === "account.updated") {
      const held = record.as_of;
      const newer = !held || event.created > held.created || (event.created === held.created
        // In the same second, the event is older if the held state's previous attributes describe it.
        && !(held.previous_attributes && describes(held.previous_attributes, object)));
      if (newer) this.applyAccount(record, object, event.created, event.data.previous_attributes);
    } else if (event.type === "capability.updated") {
      const held = record.capabilities[object.id];
      if (!held || event.created >= held.created) record.capabilities[object.id] = { status: object.status, created: event.created };
    }
    record.history.unshift({ id: event.id, type: event.type, created: event.created, received: Date.now() });
    record.history.splice(HISTORY_LENGTH);
    this.save();
    return true;
  }

  /** What the pages show for one account, or null if nothing was heard of it. */
  view(accountId) {
    const record = accountId && this.accounts[accountId];
    if (!record || !record.as_of) return record ? { ...record, status: { code: "waiting", label: "Waiting for the first event" } } : null;
    return { ...record, status: statusOf(record) };
  }
}

/** The account's status in a word or three, from what was heard. */
export function statusOf(record) {
  // past_due is part of currently_due.
  const { currently_due: due, past_due: pastDue, pending_verification: pending, disabled_reason: reason } = record.requirements;
  const needed = Math.max(due, pastDue);
  if (record.charges_enabled) return { code: "charges_enabled", label: "Charges enabled" };
  if (needed === 0 && pending > 0) return { code: "verification_pending", label: "Verification pending" };
  if (!record.details_submitted) return { code: "onboarding", label: "Onboarding not finished" };
  if (needed > 0) return { code: "information_needed", label: "Information needed" };
  return { code: "restricted", label: reason ? `Charges disabled (${reason})` : "Charges disabled" };
}
