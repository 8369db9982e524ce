// The demo platform (examples/platform) as a person uses it: its backend on the official stripe
// SDK, its pages on the stock loaders, this server behind both, and the account's status heard
// by signed webhooks.
import crypto from "node:crypto";
import { test, expect } from "../lib/fixtures.mjs";
import { startDemo } from "../lib/demo.mjs";
import { retrieveAccount } from "../lib/api.mjs";
import { bankAccount, businessProfile, continueFrom, fillPerson, terms } from "../lib/onboarding-steps.mjs";

let demo;
test.beforeAll(async () => { demo = await startDemo(); });
test.afterAll(async () => { await demo?.stop(); });

test("the demo creates an account on request and its vanilla pages render onboarding, the banner and management", async ({ page }) => {
  await page.goto(demo.url);
  await expect(page.getByText("No connected account yet")).toBeVisible();
  await page.getByRole("button", { name: "Create a new connected account and start onboarding" }).click();
  await expect(page).toHaveURL(/\/onboarding$/);
  const onboarding = page.locator("stripe-connect-account-onboarding");
  await expect(onboarding.getByRole("heading", { name: "Business type" })).toBeVisible();
  await expect(page.getByRole("status").first()).toHaveText("Step: business_type");

  await page.getByRole("link", { name: "Account" }).click();
  await expect(page.locator("stripe-connect-account-management").getByRole("heading", { name: "Account details" })).toBeVisible();
  await page.goto(demo.url);
  await expect(page.getByTestId("demo-account")).toHaveText(/^acct_/);
});

test("the demo's React page renders the components through @stripe/react-connect-js", async ({ page }) => {
  await page.goto(`${demo.url}/react`);
  const onboarding = page.locator("stripe-connect-account-onboarding");
  await expect(onboarding.getByRole("heading", { name: "Business type" })).toBeVisible();
  await expect(page.getByText("Onboarding step: business_type")).toBeVisible();
  await page.getByRole("tab", { name: "Account details" }).click();
  await expect(page.locator("stripe-connect-account-management").getByRole("heading", { name: "Account details" })).toBeVisible();
});

test("a person onboards through the demo's onboarding page; the status heard by webhook turns to charges enabled once verification completes, and the backend reports details submitted", async ({ page }) => {
  await page.goto(demo.url);
  await page.getByRole("button", { name: "Create a new connected account and start onboarding" }).click();
  const onboarding = page.locator("stripe-connect-account-onboarding");
  // What the demo knows of the account, from the API's answer at its creation until an event comes.
  const heard = page.getByTestId("demo-webhook-status");
  await expect(heard).toHaveAttribute("data-status", "onboarding");
  await expect(heard.getByTestId("demo-webhook-status-label")).toHaveText("Onboarding not finished");
  await onboarding.getByLabel("Individual or sole proprietor").check();
  await continueFrom(onboarding, "business_type");
  await fillPerson(onboarding.getByTestId("cs-step-personal_details"), { first: "Jenny", last: "Rosen" });
  await continueFrom(onboarding, "personal_details");
  await businessProfile(onboarding);
  await bankAccount(onboarding);
  await terms(onboarding, null);

  // The same page, never reloaded, hears by webhook that charges are enabled: the address and
  // SSN test values verify after the server's --verification-delay (5 s in scripts/e2e), whose
  // completion the server reports as events with nobody's request behind them.
  await expect(heard).toHaveAttribute("data-status", "charges_enabled", { timeout: 20_000 });
  await expect(heard.getByTestId("demo-webhook-status-label")).toHaveText("Charges enabled");
  await expect(heard.getByTestId("demo-webhook-facts")).toContainText("Charges: enabled");
  await expect(heard.getByTestId("demo-webhook-facts")).toContainText("Details submitted: yes");
  const types = await heard.getByTestId("demo-webhook-events").locator("code").allTextContents();
  for (const type of ["account.updated", "capability.updated"]) expect(types).toContain(type);
  await onboarding.getByRole("button", { name: "Done" }).click();

  // The page's onExit takes the person to their account.
  await expect(page).toHaveURL(/\/management$/);
  const management = page.locator("stripe-connect-account-management");
  await expect(management.getByTestId("cs-section-personal_details")).toContainText("Jenny Rosen");
  await expect(page.getByText("No notifications")).toBeVisible();
  await page.getByRole("link", { name: "Home" }).click();
  await expect(page.getByTestId("demo-details-submitted")).toHaveText("yes");
  const account = await retrieveAccount(await page.getByTestId("demo-account").textContent());
  expect(account.details_submitted).toBe(true);
  expect(account.charges_enabled).toBe(true);
  expect(account.individual.last_name).toBe("Rosen");
  // The status panel on the management and home pages says the same.
  await expect(page.getByTestId("demo-webhook-status")).toHaveAttribute("data-status", "charges_enabled");
});

test("the demo's POST /webhooks answers 400 to a bad signature and ignores the event; a good one over the raw bytes is heard", async () => {
  const { secret } = demo.webhookEndpoint();
  const account = `acct_e2eSigned${Date.now()}`;
  const sign = (body, key, t = Math.floor(Date.now() / 1000)) =>
    `t=${t},v1=${crypto.createHmac("sha256", key).update(`${t}.${body}`).digest("hex")}`;
  const post = (body, signature) => fetch(`${demo.url}/webhooks`, {
    method: "POST",
    headers: { "Content-Type": "application/json; charset=utf-8", ...(signature ? { "Stripe-Signature": signature } : {}) },
    body,
  });
  const heard = async () => (await (await fetch(`${demo.url}/account_status`, { headers: { Cookie: `demo_account=${account}` } })).json()).heard;
  const event = (id, created, chargesEnabled) => ({
    id, object: "event", type: "account.updated", account, created, livemode: false, api_version: "2026-07-29.dahlia",
    data: { object: { id: account, object: "account", charges_enabled: chargesEnabled, payouts_enabled: chargesEnabled,
      details_submitted: true, requirements: { currently_due: [], past_due: [], eventually_due: [], pending_verification: [] } } },
  });
  const now = Math.floor(Date.now() / 1000);

  // Signed with the endpoint's secret, in bytes a JSON parser and serializer would not give back.
  const genuine = JSON.stringify(event(`evt_e2eGenuine${Date.now()}`, now, false), null, 3);
  expect((await post(genuine, sign(genuine, secret))).status).toBe(200);
  expect((await heard()).charges_enabled).toBe(false);

  // Forgeries claiming charges are enabled, later than the genuine event.
  const forged = JSON.stringify(event(`evt_e2eForged${Date.now()}`, now + 60, true));
  const refused = [
    ["no signature", null],
    ["another secret", sign(forged, "whsec_notTheDemosSecret0000000000000000")],
    ["the signature of other bytes", sign(genuine, secret)],
    ["a signature too old", sign(forged, secret, now - 3600)],
    ["not a signature", "v1=deadbeef"],
  ];
  for (const [what, signature] of refused) {
    const response = await post(forged, signature);
    expect(response.status, what).toBe(400);
  }
  expect((await heard()).charges_enabled).toBe(false);
  expect((await heard()).history.map((h) => h.type)).toEqual(["account.updated"]);
});
