// The runtime honours every tag and setter the installed loaders declare. The lists are read
// from the installed packages themselves (the stable @stripe/connect-js and its preview build),
// so a loader release that adds a tag or a setter fails this check until the runtime has it.
import { createRequire } from "node:module";
import fs from "node:fs";
import { test, expect } from "../lib/fixtures.mjs";
import { createAccount } from "../lib/api.mjs";
import { E2E_DIR, RUNTIME_FILE } from "../lib/paths.mjs";

const require = createRequire(`${E2E_DIR}/`);
const LOADERS = {
  stable: require("@stripe/connect-js/dist/pure.js"),
  preview: require("@stripe/connect-js-preview/dist/pure.js"),
};

/** {tag: [setter, ...]} as the loader installs them on each element it creates. */
function settersByTag(loader) {
  const common = Object.keys(loader.ConnectElementCommonMethodConfig);
  return Object.fromEntries(loader.connectElementTagNames.map((tag) => [
    tag, [...Object.keys(loader.ConnectElementCustomMethodConfig[tag] || {}), ...common],
  ]));
}

test("the installed loaders declare tags and setters (the lists below are not empty)", () => {
  expect(LOADERS.stable.connectElementTagNames.length).toBeGreaterThanOrEqual(21);
  expect(LOADERS.preview.connectElementTagNames.length).toBeGreaterThan(LOADERS.stable.connectElementTagNames.length);
  expect(settersByTag(LOADERS.stable)["account-onboarding"]).toContain("setOnStepChange");
});

for (const [build, loader] of Object.entries(LOADERS)) {
  test(`every ${build} tag is a custom element with setConnector and the InternalOnly method behind each of its setters`, async ({ page }) => {
    await page.goto(`${process.env.CS_STATIC_BASE}/blank`);
    await page.addScriptTag({ content: fs.readFileSync(RUNTIME_FILE, "utf8") });
    const missing = await page.evaluate((expected) => {
      const gaps = [];
      for (const [tag, setters] of Object.entries(expected)) {
        const name = `stripe-connect-${tag}`;
        if (!customElements.get(name)) { gaps.push(`${name}: not defined`); continue; }
        const element = document.createElement(name);
        if (typeof element.setConnector !== "function") gaps.push(`${name}.setConnector`);
        for (const setter of setters) {
          if (typeof element[`${setter}InternalOnly`] !== "function") gaps.push(`${name}.${setter}InternalOnly`);
        }
      }
      return gaps;
    }, settersByTag(loader));
    expect(missing, `the runtime lacks what @stripe/connect-js (${build}) declares`).toEqual([]);
  });
}

test("the stock loader creates every stable tag and calls every setter without an error", async ({ page, openApp, pageErrors }) => {
  const account = await createAccount();
  const byTag = settersByTag(LOADERS.stable);
  const components = Object.entries(byTag).map(([tag, setters]) => ({
    tag,
    // undefined clears a setter; every setter accepts it but setFinancialAccount, which gets a string.
    props: Object.fromEntries(setters.filter((s) => !s.startsWith("setOn")).map((s) => {
      const prop = s.charAt(3).toLowerCase() + s.slice(4);
      return [prop, s === "setFinancialAccount" ? "fa_test" : undefined];
    })),
    events: setters.filter((s) => s.startsWith("setOn")).map((s) => `on${s.slice(5)}`),
  }));
  await openApp({
    app: "vanilla", wiring: "script", account: account.id,
    sessionComponents: Object.fromEntries(Object.keys(byTag).map((tag) => [tag.replace(/-/g, "_"), { enabled: true }])),
    components,
  });
  for (const tag of Object.keys(byTag)) {
    // Loaded: whatever the component shows now, it is past its loading state.
    await expect(page.locator(`stripe-connect-${tag}`).locator('[data-testid]:not([data-testid="cs-loading"])').first()).toBeAttached();
  }
  const errors = await page.evaluate(() => window.__events.filter((e) => e.name === "onLoadError"));
  expect(errors).toEqual([]);
  expect(pageErrors).toEqual([]);
});
