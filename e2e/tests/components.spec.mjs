// What the components show and how: the offline panels, setter values, appearance and update(),
// overlays, the simulated sign-in, the server's validation messages, keyboard use, API base.
import fs from "node:fs";
import { test, expect, events } from "../lib/fixtures.mjs";
import { createAccount, retrieveAccount } from "../lib/api.mjs";
import { RUNTIME_FILE } from "../lib/paths.mjs";
import { readmeScreenshot } from "../lib/demo.mjs";

test("a component this server cannot back renders the offline panel with the session's resolved features", async ({ page, openApp }) => {
  const account = await createAccount();
  await openApp({ account: account.id,
    sessionComponents: {
      payments: { enabled: true, features: { refund_management: false } },
      payment_details: { enabled: true },
      payment_disputes: { enabled: true },
    },
    components: [
      { tag: "payments", events: ["onLoaderStart", "onLoadError"] },
      { tag: "payment-details", props: { payment: "py_test_123" }, events: ["onClose", "onLoaderStart"] },
      { tag: "payment-disputes", props: { payment: "py_test_456" }, events: ["onDisputesLoaded"] },
    ] });
  const panel = page.locator("stripe-connect-payments").getByTestId("cs-offline-panel");
  await expect(panel).toBeVisible();
  await expect(panel).toHaveAttribute("data-component", "payments");
  await expect(panel).toHaveAttribute("data-feature-refund-management", "false");
  await expect(panel).toHaveAttribute("data-feature-dispute-management", "true");
  expect(JSON.parse(await panel.getAttribute("data-features"))).toMatchObject({ refund_management: false, capture_payments: true });
  await expect(panel.getByText("not available offline")).toBeVisible();

  // Setter values are shown and callbacks fire with their documented payloads.
  const details = page.locator("stripe-connect-payment-details");
  await expect(details.getByText("py_test_123")).toBeVisible();
  await details.getByRole("button", { name: "Close" }).click();
  await expect.poll(() => events(page, "onClose")).toHaveLength(1);
  expect((await events(page, "onDisputesLoaded")).map((e) => e.payload)).toEqual([{ total: 0 }]);
  expect((await events(page, "onLoaderStart")).map((e) => e.payload.elementTagName).sort())
    .toEqual(["stripe-connect-payment-details", "stripe-connect-payments"]);
  expect(await events(page, "onLoadError")).toEqual([]);
});

test("appearance variables become CSS custom properties, and update() re-applies them, the locale and display options", async ({ page, openApp }) => {
  const account = await createAccount();
  await openApp({ account: account.id, sessionComponents: { account_management: { enabled: true } },
    init: { appearance: { overlays: "drawer", variables: { colorPrimary: "#aa0000", colorText: "#102030", fontFamily: "serif", fontSizeBase: "18px", borderRadius: "0px", spacingUnit: "10px" } }, locale: "fr-FR" },
    components: [{ tag: "account-management" }] });
  const management = page.locator("stripe-connect-account-management");
  await expect(management.getByTestId("cs-account-management")).toBeVisible();
  const style = (locator, property) => locator.evaluate((el, p) => getComputedStyle(el)[p], property);
  const heading = management.getByRole("heading", { name: "Account details" });
  expect(await style(heading, "color")).toBe("rgb(16, 32, 48)");
  expect(await style(heading, "fontFamily")).toBe("serif");
  const card = management.getByTestId("cs-section-business_profile");
  expect(await style(card, "borderTopLeftRadius")).toBe("0px");
  expect(await style(card, "paddingTop")).toBe("20px");
  await expect(management.getByTestId("cs-account-id")).toHaveCount(0);

  // Overlays: the editor opens as a drawer.
  await management.getByRole("button", { name: "Edit business profile" }).click();
  const dialog = management.getByRole("dialog", { name: "Business profile" });
  await expect(dialog).toHaveAttribute("data-overlay", "drawer");
  expect(await style(dialog.getByRole("button", { name: "Save" }), "backgroundColor")).toBe("rgb(170, 0, 0)");
  await dialog.getByRole("button", { name: "Cancel" }).click();

  await page.evaluate(() => window.__connectInstance.update({
    appearance: { variables: { colorPrimary: "#007700" } }, locale: "de-DE", displayOptions: { showObjectIds: true },
  }));
  await expect(management.getByTestId("cs-account-id")).toHaveText(account.id);
  await management.getByRole("button", { name: "Edit business profile" }).click();
  expect(await style(dialog.getByRole("button", { name: "Save" }), "backgroundColor")).toBe("rgb(0, 119, 0)");
  expect(await style(heading, "color")).toBe("rgb(16, 32, 48)");
  expect(await management.locator(".cs-root").getAttribute("data-locale")).toBe("de-DE");
});

test("where the provider would authenticate the user, a labelled simulated sign-in takes the documented test code", async ({ page, openApp }) => {
  const account = await createAccount({ type: "express", country: "US" });
  await openApp({ account: account.id, sessionComponents: { account_onboarding: { enabled: true }, account_management: { enabled: true } },
    components: [{ tag: "account-onboarding", events: ["onStepChange", "onExit"] }, { tag: "account-management" }] });
  const onboarding = page.locator("stripe-connect-account-onboarding");
  const management = page.locator("stripe-connect-account-management");
  await expect(onboarding.getByTestId("cs-simulated-label")).toHaveText(/Simulated sign-in/);
  await expect(management.getByTestId("cs-signin")).toBeVisible();
  await expect(onboarding.getByTestId("cs-onboarding")).toHaveCount(0);
  await readmeScreenshot(onboarding, "simulated-sign-in");

  await onboarding.getByLabel("Verification code").fill("123456");
  await onboarding.getByRole("button", { name: "Verify" }).click();
  await expect(onboarding.getByText("use the test code 000000")).toBeVisible();
  await expect(onboarding.getByLabel("Verification code")).toHaveAttribute("aria-invalid", "true");

  await onboarding.getByLabel("Verification code").fill("000000");
  await onboarding.getByRole("button", { name: "Verify" }).click();
  // One sign-in serves every component of the page.
  await expect(onboarding.getByTestId("cs-onboarding")).toBeVisible();
  await expect(management.getByTestId("cs-account-management")).toBeVisible();
  expect((await events(page, "onStepChange")).map((e) => e.payload.step)).toEqual(["stripe_user_authentication", "business_type"]);
});

test("no sign-in where the platform collects requirements", async ({ page, openApp }) => {
  const account = await createAccount({ type: "custom", country: "US" });
  await openApp({ account: account.id,
    sessionComponents: { account_onboarding: { enabled: true, features: { disable_stripe_user_authentication: false } } },
    components: [{ tag: "account-onboarding", events: ["onExit"] }] });
  await expect(page.locator("stripe-connect-account-onboarding").getByTestId("cs-onboarding")).toBeVisible();
  await expect(page.getByTestId("cs-signin")).toHaveCount(0);
});

test("the server's validation errors appear next to the field they name, and keyboard use works", async ({ page, openApp }) => {
  const account = await createAccount();
  await openApp({ account: account.id, sessionComponents: { account_management: { enabled: true } },
    components: [{ tag: "account-management", events: ["onSectionOpen"] }] });
  const management = page.locator("stripe-connect-account-management");
  await expect(management.getByTestId("cs-account-management")).toBeVisible();

  // Keyboard: tab to a control, open the overlay with Enter; focus moves into it, is visible,
  // and returns to the opener when Escape closes it.
  const add = management.getByRole("button", { name: "Add bank account" });
  await add.focus();
  await page.keyboard.press("Shift+Tab");
  await page.keyboard.press("Tab");
  expect(await add.evaluate((el) => el.matches(":focus-visible") && getComputedStyle(el).outlineStyle)).toBe("solid");
  await page.keyboard.press("Enter");
  const dialog = management.getByRole("dialog", { name: "Add a bank account" });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel("Account holder name")).toBeFocused();
  expect((await events(page, "onSectionOpen")).map((e) => e.payload)).toEqual([{ sectionName: "external_account" }]);
  await page.keyboard.type("Jenny Rosen");
  await page.keyboard.press("Tab");
  await page.keyboard.type("123");
  await page.keyboard.press("Tab");
  await page.keyboard.type("000123456789");
  await page.keyboard.press("Tab");
  await page.keyboard.type("000123456789");
  await page.keyboard.press("Enter");

  // The server refuses the routing number; its message is shown at that input.
  const routing = dialog.getByLabel("Routing number");
  await expect(routing).toHaveAttribute("aria-invalid", "true");
  await expect(routing).toBeFocused();
  const describedBy = await routing.getAttribute("aria-describedby");
  const message = await routing.evaluate((el, ids) => ids.split(" ").map((id) => el.getRootNode().getElementById(id).textContent).join(" "), describedBy);
  expect(message).toContain("US routing numbers have nine digits");

  // A client-side check too: the confirmation must match.
  await routing.fill("110000000");
  await dialog.getByLabel("Confirm account number").fill("000123456780");
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(dialog.getByText("The account numbers do not match.")).toBeVisible();
  await dialog.getByLabel("Confirm account number").fill("000123456789");
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(dialog).toBeHidden();
  await expect(management.getByTestId("cs-bank-6789")).toBeVisible();

  await page.keyboard.press("Escape");
  await management.getByRole("button", { name: "Add bank account" }).click();
  await expect(dialog).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(dialog).toHaveCount(0);
  await expect(management.getByRole("button", { name: "Add bank account" })).toBeFocused();
});

test("the API base: ConnectSessionsConfig.apiBase, else the script's data-api-base, else the script's origin", async ({ page }) => {
  const runtime = fs.readFileSync(RUNTIME_FILE, "utf8");
  const base = process.env.CS_STATIC_BASE;
  const apiBaseWith = async (setup) => {
    await page.goto(`${base}/blank`);
    return page.evaluate(async ({ setup, base }) => {
      if (setup.global) window.ConnectSessionsConfig = { apiBase: setup.global };
      const script = document.createElement("script");
      script.src = `${base}/connect-js/v1.0/connect.js`;
      if (setup.data) script.dataset.apiBase = setup.data;
      await new Promise((resolve) => { script.onload = resolve; document.head.appendChild(script); });
      const instance = window.StripeConnect.init({ publishableKey: "pk_test_x", fetchClientSecret: () => new Promise(() => {}) });
      return instance.connect.apiBase;
    }, { setup, base });
  };
  expect(await apiBaseWith({ global: "http://127.0.0.1:1/", data: "http://127.0.0.1:2" })).toBe("http://127.0.0.1:1");
  expect(await apiBaseWith({ data: "http://127.0.0.1:2/" })).toBe("http://127.0.0.1:2");
  expect(await apiBaseWith({})).toBe(base);
  expect(runtime.length).toBeGreaterThan(0);
});

test("account management edits a section in its overlay and shows what the server saved", async ({ page, openApp }) => {
  const account = await createAccount({ type: "custom", country: "US", business_type: "individual" });
  await openApp({ app: "react", wiring: "route", account: account.id, sessionComponents: { account_management: { enabled: true } },
    components: [{ tag: "account-management", events: ["onSectionOpen"] }] });
  const management = page.locator("stripe-connect-account-management");
  await expect(management.getByTestId("cs-section-business_profile")).toContainText("Needs information");
  await management.getByRole("button", { name: "Edit business profile" }).click();
  const dialog = management.getByRole("dialog", { name: "Business profile" });
  await dialog.getByLabel("Industry").selectOption({ label: "Software" });
  await dialog.getByLabel("Business website").fill("https://accessible.stripe.com");
  await dialog.getByLabel("Statement descriptor").fill("ROCKET RIDES");
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(dialog).toHaveCount(0);
  const card = management.getByTestId("cs-section-business_profile");
  await expect(card).toContainText("https://accessible.stripe.com");
  await expect(card).not.toContainText("Needs information");
  await management.getByRole("button", { name: "Edit personal details" }).click();
  expect((await events(page, "onSectionOpen")).map((e) => e.payload.sectionName)).toEqual(["business_profile", "personal_details"]);
  const saved = await retrieveAccount(account.id);
  expect(saved.business_profile).toMatchObject({ mcc: "5734", url: "https://accessible.stripe.com" });
  expect(saved.settings.payments.statement_descriptor).toBe("ROCKET RIDES");
});
