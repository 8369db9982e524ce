// The stock loader, unmodified, renders this project's onboarding in each of the three ways of
// wiring it to the runtime, in a vanilla app and a React app.
import { test, expect, events, WIRINGS, APPS } from "../lib/fixtures.mjs";
import { createAccount } from "../lib/api.mjs";
import { STRIPE_RUNTIME_URL } from "../lib/paths.mjs";

for (const app of APPS) {
  for (const wiring of WIRINGS) {
    test(`${app} app, ${wiring} wiring: the stock loader renders onboarding from this server`, async ({ page, openApp, pageErrors }) => {
      const account = await createAccount();
      const state = await openApp({
        app, wiring, account: account.id,
        sessionComponents: { account_onboarding: { enabled: true } },
        components: [{ tag: "account-onboarding", events: ["onLoaderStart", "onLoadError", "onStepChange", "onExit"] }],
      });
      const onboarding = page.locator("stripe-connect-account-onboarding");
      await expect(onboarding.getByTestId("cs-onboarding")).toBeVisible();
      await expect(onboarding.getByRole("heading", { name: "Business type" })).toBeVisible();

      // The runtime on the page is this project's, and it claimed the platform's secret once.
      expect(await page.evaluate(() => window.StripeConnect.runtime.name)).toBe("connect-sessions");
      // The loader called fetchClientSecret eagerly; the runtime claimed that secret
      // (metaOptions.eagerClientSecretPromise) instead of asking for another.
      expect(state.calls, "fetchClientSecret calls").toBe(1);
      expect(state.claims.map((c) => c.status)).toEqual([200]);
      expect(state.claims[0].body.account).toBe(account.id);

      // How the loader met the runtime is what distinguishes the wirings.
      const injected = await page.evaluate((url) => !!document.querySelector(`script[src="${url}"]`), STRIPE_RUNTIME_URL);
      expect(injected, "the loader injected its vendor's script URL").toBe(wiring === "route");
      const runtimeTags = await page.evaluate(() => [...document.scripts].filter((s) => s.src.endsWith("/connect-js/v1.0/connect.js")).length);
      expect(runtimeTags, "script tags of the runtime served from loopback").toBe(wiring === "script" ? 1 : 0);

      expect((await events(page, "onLoaderStart")).map((e) => e.payload)).toEqual([{ elementTagName: "stripe-connect-account-onboarding" }]);
      expect(await events(page, "onLoadError")).toEqual([]);
      expect((await events(page, "onStepChange")).map((e) => e.payload.step)).toEqual(["business_type"]);
      expect(pageErrors).toEqual([]);
    });
  }
}
