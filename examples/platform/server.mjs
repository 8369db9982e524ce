// The demo platform's backend. It talks to connect-sessions with the official `stripe` Node
// SDK, exactly as it would talk to Stripe but for the host, and keeps the secret key here: the
// browser only ever gets the publishable key and single-use client secrets.
//
// It hears about its connected accounts by webhook (webhooks.mjs): at start it registers, or
// reuses, a connect webhook endpoint at its own POST /webhooks, verifies every delivery's
// signature on the raw body, and its pages show the account's status as heard (GET
// /account_status, which reads only what the webhooks said).
//
// Environment: CS_API_BASE (the connect-sessions server, e.g. http://127.0.0.1:12111),
// CS_SECRET_KEY, CS_PUBLISHABLE_KEY (a platform's test keys), DEMO_PORT (default 4242; 0 picks
// a free port), DEMO_DATA_DIR (where the webhook endpoint's secret and what was heard are kept;
// default .data/ here), DEMO_WEBHOOK_URL (the URL connect-sessions delivers to; default
// http://127.0.0.1:<port>/webhooks). `./run` sets what it needs and starts the server too.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Stripe from "stripe";
import { Heard, ensureWebhookEndpoint, storedWebhookSecret } from "./webhooks.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const RUNTIME_FILE = path.resolve(here, "../../web/connect-js/connect.js");
const { CS_API_BASE, CS_SECRET_KEY, CS_PUBLISHABLE_KEY } = process.env;
for (const [name, value] of Object.entries({ CS_API_BASE, CS_SECRET_KEY, CS_PUBLISHABLE_KEY })) {
  if (!value) {
    console.error(`${name} is not set; start the demo with examples/platform/run`);
    process.exit(2);
  }
}
const DATA_DIR = path.resolve(process.env.DEMO_DATA_DIR || path.join(here, ".data"));
fs.mkdirSync(DATA_DIR, { recursive: true });
const WEBHOOK_FILE = path.join(DATA_DIR, "webhook-endpoint.json");
const heard = new Heard(path.join(DATA_DIR, "heard.json"));
// The stored secret until the endpoint is checked at start (deliveries may come meanwhile).
let webhookSecret = storedWebhookSecret(WEBHOOK_FILE);
const api = new URL(CS_API_BASE);
const stripe = new Stripe(CS_SECRET_KEY, {
  host: api.hostname,
  port: Number(api.port || 80),
  protocol: api.protocol.replace(":", ""),
  maxNetworkRetries: 1,
});

// The runtime: from the server when it serves it (its origin is then the API base), else this
// backend serves the repository's copy and the script tag names the API in data-api-base.
const served = await fetch(`${CS_API_BASE}/connect-js/v1.0/connect.js`).catch(() => null);
const RUNTIME_TAG = served && served.ok
  ? `<script src="${CS_API_BASE}/connect-js/v1.0/connect.js"></script>`
  : `<script src="/connect-js/v1.0/connect.js" data-api-base="${CS_API_BASE}"></script>`;

const COMPONENTS = {
  account_onboarding: { enabled: true, features: { external_account_collection: true } },
  account_management: { enabled: true, features: { external_account_collection: true } },
  notification_banner: { enabled: true, features: { external_account_collection: true } },
};

function cookies(req) {
  return Object.fromEntries((req.headers.cookie || "").split(/;\s*/).filter(Boolean).map((c) => c.split("=")));
}

const escape = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

// Every page but the policies shows the account's status as heard by webhook, asking this
// backend (never the API) once a second.
const STATUS_PANEL = `
    <aside class="card heard" data-testid="demo-webhook-status" data-status="none" aria-labelledby="heard-title">
      <p class="heard-title" id="heard-title">Account status, kept current by webhooks</p>
      <p aria-live="polite"><strong data-testid="demo-webhook-status-label">Loading…</strong></p>
      <ul class="facts" data-testid="demo-webhook-facts" hidden>
        <li>Charges: <span data-fact="charges_enabled"></span></li>
        <li>Payouts: <span data-fact="payouts_enabled"></span></li>
        <li>Details submitted: <span data-fact="details_submitted"></span></li>
        <li>Requirements due: <span data-fact="due"></span></li>
        <li>Pending verification: <span data-fact="pending_verification"></span></li>
      </ul>
      <details hidden><summary data-testid="demo-webhook-latest">Events heard</summary><ol data-testid="demo-webhook-events"></ol></details>
    </aside>
    <script>
    (() => {
      const panel = document.querySelector('[data-testid="demo-webhook-status"]');
      const label = panel.querySelector('[data-testid="demo-webhook-status-label"]');
      const facts = panel.querySelector(".facts");
      const fact = (name) => panel.querySelector('[data-fact="' + name + '"]');
      const list = panel.querySelector("ol");
      const yes = (v) => (v == null ? "unknown" : v ? "enabled" : "disabled");
      let last = "";
      async function refresh() {
        let body;
        try {
          const response = await fetch("/account_status", { cache: "no-store" });
          if (!response.ok) return;
          body = await response.text();
        } catch { return; }
        if (body === last) return;
        last = body;
        const { account, heard } = JSON.parse(body);
        panel.dataset.status = heard ? heard.status.code : "none";
        label.textContent = !account ? "No account to hear about yet."
          : heard ? heard.status.label : "Nothing heard about this account yet.";
        facts.hidden = !(heard && heard.requirements);
        if (heard && heard.requirements) {
          fact("charges_enabled").textContent = yes(heard.charges_enabled);
          fact("payouts_enabled").textContent = yes(heard.payouts_enabled);
          fact("details_submitted").textContent = heard.details_submitted ? "yes" : "no";
          fact("due").textContent = String(Math.max(heard.requirements.currently_due, heard.requirements.past_due));
          fact("pending_verification").textContent = String(heard.requirements.pending_verification);
        }
        const history = heard ? heard.history : [];
        const when = (entry) => new Date(entry.created * 1000).toLocaleTimeString();
        list.parentElement.hidden = !history.length;
        if (history.length) {
          list.parentElement.querySelector("summary").textContent =
            "Events heard (latest: " + history[0].type + " at " + when(history[0]) + ")";
        }
        list.replaceChildren(...history.map((entry) => {
          const item = document.createElement("li");
          const time = document.createElement("time");
          time.dateTime = new Date(entry.created * 1000).toISOString();
          time.textContent = when(entry);
          const type = document.createElement("code");
          type.textContent = entry.type;
          item.append(time, " ", type);
          return item;
        }));
      }
      refresh();
      setInterval(refresh, 1000);
    })();
    </script>`;

function layout({ title, page, body, script, watch = true }) {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escape(title)} · Demo platform</title>
  <style>
    body { font-family: system-ui, "DejaVu Sans", sans-serif; margin: 0; background: #f4f6f8; color: #1d2433; }
    header { background: #10243e; color: #fff; padding: 12px 24px; display: flex; gap: 24px; align-items: center; flex-wrap: wrap; }
    header a { color: #fff; }
    header strong { font-size: 1.1em; margin-right: auto; }
    main { max-width: 960px; margin: 24px auto; padding: 0 16px; }
    .status { color: #445; min-height: 1.4em; }
    .tabs { display: flex; gap: 8px; margin: 16px 0; }
    .tabs button { font: inherit; padding: 8px 14px; border: 1px solid #c9cfda; border-radius: 8px; background: #fff; cursor: pointer; }
    .tabs button[aria-selected="true"] { border-color: #5b3cc4; color: #5b3cc4; font-weight: 600; }
    .card { background: #fff; border: 1px solid #d8dde6; border-radius: 10px; padding: 20px; margin-bottom: 16px; }
    button.plain { font: inherit; padding: 8px 14px; border-radius: 8px; border: 1px solid #c9cfda; background: #fff; cursor: pointer; }
    stripe-connect-notification-banner { margin-bottom: 16px; }
    code { background: #eef1f5; padding: 1px 4px; border-radius: 4px; }
    .heard { padding: 12px 20px; }
    .heard p { margin: 0 0 6px; font-size: 1.15em; }
    .heard p.heard-title { font-weight: 600; font-size: 1em; margin: 0 0 4px; color: #445; }
    .heard[data-status="charges_enabled"] strong { color: #0b6e4f; }
    .heard .facts { display: flex; flex-wrap: wrap; gap: 4px 20px; list-style: none; margin: 0; padding: 0; color: #445; }
    .heard details { margin-top: 6px; }
    .heard ol { margin: 6px 0 0; padding-left: 20px; font-size: 0.9em; }
  </style>
  <script>window.DEMO = ${JSON.stringify({ publishableKey: CS_PUBLISHABLE_KEY })};</script>
  ${script ? `${RUNTIME_TAG}\n  <script type="module" src="/dist/${script}.js"></script>` : ""}
</head>
<body data-page="${page}">
  <header>
    <strong>Demo platform</strong>
    <nav aria-label="Demo"><a href="/">Home</a> · <a href="/onboarding">Onboarding</a> · <a href="/management">Account</a> · <a href="/react">React page</a></nav>
  </header>
  <main>${watch ? STATUS_PANEL : ""}${body}</main>
</body>
</html>`;
}

async function home(accountId) {
  let summary = "<p>No connected account yet. Create one to start.</p>";
  if (accountId) {
    try {
      const account = await stripe.accounts.retrieve(accountId);
      const due = (account.requirements && account.requirements.currently_due) || [];
      summary = `<p>Your connected account: <code data-testid="demo-account">${escape(account.id)}</code> (${escape(account.type || "")}).</p>
        <p>Details submitted: <strong data-testid="demo-details-submitted">${account.details_submitted ? "yes" : "no"}</strong>.
        Requirements currently due: <strong>${due.length}</strong>.</p>`;
    } catch (error) {
      summary = `<p>The account in your cookie is not on this server any more (${escape(error.message)}). Create a new one.</p>`;
    }
  }
  return layout({
    title: "Home", page: "home", body: `
    <div class="card">
      <h1>A platform on connect-sessions</h1>
      <p>This backend creates connected accounts and account sessions with the official <code>stripe</code> Node SDK,
      pointed at a local connect-sessions server. The pages use the stock <code>@stripe/connect-js</code> and
      <code>@stripe/react-connect-js</code> from npm; the components come from connect-sessions' offline runtime.</p>
      ${summary}
      <form method="post" action="/accounts">
        <p><label><input type="radio" name="type" value="custom" checked> Custom account (the platform collects requirements)</label><br>
        <label><input type="radio" name="type" value="express"> Express account (shows the simulated sign-in, test code <code>000000</code>)</label></p>
        <button class="plain" type="submit">Create a new connected account and start onboarding</button>
      </form>
    </div>
    <div class="card">
      <h2>Test values</h2>
      <p>Date of birth 01/01/1902 (verifies at once), address line 1 <code>address_full_match</code>, SSN last 4 <code>0000</code>,
      EIN <code>000000000</code>, phone <code>0000000000</code>, routing number <code>110000000</code> with account <code>000123456789</code>.</p>
    </div>` });
}

function pageFor(name) {
  if (name === "onboarding") {
    return layout({ title: "Onboarding", page: "onboarding", script: "vanilla", body: `
      <h1>Set up payouts</h1>
      <p class="status" id="status" role="status"></p>
      <div id="components"></div>` });
  }
  if (name === "management") {
    return layout({ title: "Account", page: "management", script: "vanilla", body: `
      <h1>Your account</h1>
      <p class="status" id="status" role="status"></p>
      <div id="components"></div>
      <p><button class="plain" id="logout" type="button">Sign out of the embedded session</button></p>` });
  }
  return layout({ title: "React", page: "react", script: "react", body: `<h1>The React page</h1><div id="root"></div>` });
}

async function readBody(req) {
  let data = "";
  for await (const chunk of req) data += chunk;
  return new URLSearchParams(data);
}

function send(res, status, type, body, headers = {}) {
  res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store", ...headers });
  res.end(body);
}

async function createAccount(type) {
  const account = await stripe.accounts.create({
    type: type === "express" ? "express" : "custom",
    country: "US",
    capabilities: { card_payments: { requested: true }, transfers: { requested: true } },
  });
  // The platform's record of the account starts from the API's answer; webhooks keep it current.
  heard.created(account);
  return account;
}

/** The request's body as it came, bytes and all: a webhook's signature covers exactly these. */
async function readRawBody(req, limit = 1 << 20) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw Object.assign(new Error("body too large"), { status: 413 });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** POST /webhooks: a delivery from connect-sessions, verified as Stripe's docs show. */
async function receiveWebhook(req, res) {
  const raw = await readRawBody(req);
  let event;
  try {
    if (!webhookSecret) throw new Error("no webhook endpoint is registered yet");
    event = stripe.webhooks.constructEvent(raw, req.headers["stripe-signature"] || "", webhookSecret);
  } catch (error) {
    console.error(`POST /webhooks refused: ${error.message}`);
    return send(res, 400, "text/plain; charset=utf-8", `Webhook Error: ${error.message}`);
  }
  if (heard.hear(event)) console.log(`webhook: ${event.type} ${event.account || ""} (${event.id})`);
  return send(res, 200, "application/json", JSON.stringify({ received: true }));
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, "http://localhost");
  let accountId = cookies(req).demo_account;
  try {
    if (req.method === "GET" && url.pathname === "/") return send(res, 200, "text/html; charset=utf-8", await home(accountId));
    if (req.method === "GET" && ["/onboarding", "/management", "/react"].includes(url.pathname)) {
      return send(res, 200, "text/html; charset=utf-8", pageFor(url.pathname.slice(1)));
    }
    if (req.method === "POST" && url.pathname === "/webhooks") return await receiveWebhook(req, res);
    if (req.method === "GET" && url.pathname === "/account_status") {
      return send(res, 200, "application/json", JSON.stringify({ account: accountId || null, heard: heard.view(accountId) }));
    }
    if (req.method === "POST" && url.pathname === "/accounts") {
      const form = await readBody(req);
      const account = await createAccount(form.get("type"));
      return send(res, 303, "text/plain", "", { Location: "/onboarding", "Set-Cookie": `demo_account=${account.id}; Path=/; HttpOnly; SameSite=Lax` });
    }
    if (req.method === "POST" && url.pathname === "/account_session") {
      const headers = {};
      if (!accountId) {
        accountId = (await createAccount("custom")).id;
        headers["Set-Cookie"] = `demo_account=${accountId}; Path=/; HttpOnly; SameSite=Lax`;
      }
      const session = await stripe.accountSessions.create({ account: accountId, components: COMPONENTS });
      return send(res, 200, "application/json", JSON.stringify({ client_secret: session.client_secret }), headers);
    }
    if (req.method === "GET" && url.pathname === "/connect-js/v1.0/connect.js") {
      return send(res, 200, "text/javascript; charset=utf-8", fs.readFileSync(RUNTIME_FILE));
    }
    if (req.method === "GET" && (url.pathname === "/terms" || url.pathname === "/privacy")) {
      return send(res, 200, "text/html; charset=utf-8", layout({ title: "Policy", page: "policy", watch: false,
        body: `<div class="card"><h1>${url.pathname === "/terms" ? "Services agreement" : "Privacy policy"}</h1><p>The demo platform's placeholder text.</p></div>` }));
    }
    if (req.method === "GET" && url.pathname.startsWith("/dist/")) {
      const dist = path.join(here, "dist");
      const file = path.join(dist, path.normalize(url.pathname.slice("/dist/".length)));
      if (file.startsWith(dist) && fs.existsSync(file) && fs.statSync(file).isFile()) {
        return send(res, 200, "text/javascript; charset=utf-8", fs.readFileSync(file));
      }
    }
    send(res, 404, "text/plain", "not found");
  } catch (error) {
    const message = (error && error.raw && error.raw.message) || (error && error.message) || String(error);
    console.error(`${req.method} ${url.pathname}: ${message}`);
    send(res, error.status || 500, "application/json", JSON.stringify({ error: message }));
  }
});

// Listen first (DEMO_PORT=0 picks the port the webhook URL names), then register the endpoint,
// then say the demo is ready.
server.listen(Number(process.env.DEMO_PORT ?? 4242), "127.0.0.1", async () => {
  const { port } = server.address();
  const webhookUrl = process.env.DEMO_WEBHOOK_URL || `http://127.0.0.1:${port}/webhooks`;
  try {
    const endpoint = await ensureWebhookEndpoint(stripe, { url: webhookUrl, file: WEBHOOK_FILE });
    webhookSecret = endpoint.secret;
    const how = endpoint.created ? "registered" : endpoint.updated ? "reused (its URL, events or status put right)" : "reused";
    const deleted = endpoint.replaced ? `; deleted ${endpoint.replaced} endpoint(s) at that URL whose secret was unknown` : "";
    console.log(`Webhook endpoint ${endpoint.id} ${how} for ${webhookUrl}${deleted}`);
  } catch (error) {
    console.error(`Could not register the webhook endpoint for ${webhookUrl}: ${(error.raw && error.raw.message) || error.message}`);
    process.exit(1);
  }
  console.log(`Demo platform listening on http://127.0.0.1:${port} (connect-sessions at ${CS_API_BASE})`);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.close(() => process.exit(0)));
