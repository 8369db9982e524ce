// The fixtures every browser test uses.
//
// - Every request the browser makes to a host other than loopback is aborted and recorded;
//   each test ends by asserting there were none, so nothing here can pass by reaching the
//   internet. The one exception is the "route" wiring, where the stock loader's script URL is
//   answered with this project's runtime (a route, not a network request).
// - `openApp` opens a test app (vanilla or React, on the stock loader) in one wiring, with
//   a fetchClientSecret that asks the test (Node side, with the secret key) for a new account
//   session each time it is called.
import fs from "node:fs";
import { test as base, expect } from "@playwright/test";
import { API_BASE, PUBLISHABLE_KEY, createAccountSession } from "./api.mjs";
import { RUNTIME_FILE, STRIPE_RUNTIME_URL } from "./paths.mjs";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

export const test = base.extend({
  /** URLs the test browser tried to reach off this machine. */
  blocked: [async ({ context }, use) => {
    const blocked = [];
    await context.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (url.href === STRIPE_RUNTIME_URL && context.__routeStripeUrl) {
        return route.fulfill({ status: 200, contentType: "text/javascript", body: fs.readFileSync(RUNTIME_FILE, "utf8") });
      }
      if (LOOPBACK.has(url.hostname) || url.protocol === "data:" || url.protocol === "blob:") return route.fallback();
      blocked.push(url.href);
      return route.abort("blockedbyclient");
    });
    await use(blocked);
    expect(blocked, "requests to hosts other than loopback").toEqual([]);
  }, { auto: true }],

  /** Uncaught errors and unhandled rejections in the page (the loader throws this way). */
  pageErrors: [async ({ page }, use) => {
    const errors = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await use(errors);
  }, { auto: true }],

  openApp: async ({ page, context }, use) => {
    const apps = [];
    await use(async (options) => {
      const {
        app = "vanilla", wiring = "script", account, sessionComponents, components,
        init = {}, secrets = null, publishableKey = PUBLISHABLE_KEY,
      } = options;
      const state = { secrets: [], claims: [], calls: 0 };
      // Each call of the page's fetchClientSecret: a new session from the platform's side, or
      // the next of a list the test gave (to hand over a bad secret on purpose).
      await page.exposeFunction("harnessFetchClientSecret", async () => {
        state.calls += 1;
        if (secrets && secrets.length) return secrets.shift();
        const session = await createAccountSession(account, sessionComponents);
        state.secrets.push(session.client_secret);
        return session.client_secret;
      });
      page.on("response", async (response) => {
        if (response.url().endsWith("/v1/account_sessions/claim") && response.request().method() === "POST") {
          const body = await response.json().catch(() => null);
          state.claims.push({ status: response.status(), secret: body && body.secret, body });
        }
      });
      context.__routeStripeUrl = wiring === "route";
      const config = { publishableKey, components, init };
      await page.addInitScript(({ config, apiBase, wiring }) => {
        window.__harness = config;
        // Where no script tag tells the runtime its API base, the page's configuration does.
        if (wiring !== "script") window.ConnectSessionsConfig = { apiBase };
      }, { config, apiBase: API_BASE, wiring });
      await page.goto(`${process.env.CS_STATIC_BASE}/app/${app}/${wiring}`);
      apps.push(state);
      return state;
    });
  },
});

export { expect };

/** The events a test app recorded: [{tag, name, payload}]. */
export async function events(page, name) {
  const all = await page.evaluate(() => window.__events || []);
  return name ? all.filter((e) => e.name === name) : all;
}

/** The wirings and apps every rendering test runs in. */
export const WIRINGS = ["route", "script", "alias"];
export const APPS = ["vanilla", "react"];
