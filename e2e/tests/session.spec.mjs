// The runtime's session behaviour through the stock loader: claim, refresh across an expired
// session, logout, features, components the session did not enable, and claim failures.
import { test, expect, events, APPS } from "../lib/fixtures.mjs";
import { call, createAccount, createAccountSession, expireAccountSession } from "../lib/api.mjs";

const MANAGEMENT = { account_management: { enabled: true } };

async function addBankAccount(management, { routing = "110000000", account = "000123456789" } = {}) {
  await management.getByRole("button", { name: "Add bank account" }).click();
  const dialog = management.getByRole("dialog", { name: "Add a bank account" });
  await dialog.getByLabel("Account holder name").fill("Jenny Rosen");
  await dialog.getByLabel("Routing number").fill(routing);
  await dialog.getByLabel("Account number", { exact: true }).fill(account);
  await dialog.getByLabel("Confirm account number").fill(account);
  await dialog.getByRole("button", { name: "Save" }).click();
  return dialog;
}

test("an expired session is refreshed through fetchClientSecret and the user's action succeeds unnoticed", async ({ page, openApp }) => {
  const account = await createAccount();
  const state = await openApp({ account: account.id, sessionComponents: MANAGEMENT,
    components: [{ tag: "account-management", events: ["onLoadError"] }] });
  const management = page.locator("stripe-connect-account-management");
  await expect(management.getByTestId("cs-account-management")).toBeVisible();
  expect(state.calls).toBe(1);

  await expireAccountSession(state.secrets[0]);
  const expiredKey = state.claims[0].secret;
  expect((await call("GET", "/v1/embedded_session", null, expiredKey)).body.error.code).toBe("api_key_expired");

  const dialog = await addBankAccount(management);
  await expect(dialog).toBeHidden();
  await expect(management.getByTestId("cs-bank-6789")).toBeVisible();
  await expect(page.getByRole("alert")).toHaveCount(0);
  expect(await events(page, "onLoadError")).toEqual([]);
  // One new secret from the platform, claimed once, with a new key.
  expect(state.calls).toBe(2);
  expect(state.claims.map((c) => c.status)).toEqual([200, 200]);
  expect(state.claims[1].secret).not.toBe(expiredKey);
});

test("calls that meet the same expired key share one refresh", async ({ page, openApp }) => {
  const account = await createAccount();
  const state = await openApp({ account: account.id, sessionComponents: MANAGEMENT,
    components: [{ tag: "account-management" }] });
  const management = page.locator("stripe-connect-account-management");
  await expect(management.getByTestId("cs-account-management")).toBeVisible();
  await expireAccountSession(state.secrets[0]);
  const ids = await page.evaluate(async () => {
    const connector = document.querySelector("stripe-connect-account-management")._connector;
    const results = await Promise.all([1, 2, 3, 4].map(() => connector.request("GET", "/v1/account")));
    return results.map((a) => a.id);
  });
  expect(ids).toEqual([account.id, account.id, account.id, account.id]);
  expect(state.calls).toBe(2);
  expect(state.claims.length).toBe(2);
});

test("logout ends the embedded session on the server and the components say so", async ({ page, openApp }) => {
  const account = await createAccount();
  const state = await openApp({ account: account.id, sessionComponents: { ...MANAGEMENT, account_onboarding: { enabled: true } },
    components: [{ tag: "account-onboarding", events: ["onExit"] }, { tag: "account-management" }] });
  await expect(page.locator("stripe-connect-account-management").getByTestId("cs-account-management")).toBeVisible();
  const key = state.claims[0].secret;
  expect((await call("GET", "/v1/embedded_session", null, key)).status).toBe(200);

  await page.evaluate(() => window.__connectInstance.logout());

  expect((await call("GET", "/v1/embedded_session", null, key)).status).toBe(401);
  await expect(page.locator("stripe-connect-account-management").getByTestId("cs-logged-out")).toBeVisible();
  await expect(page.locator("stripe-connect-account-onboarding").getByTestId("cs-logged-out")).toBeVisible();
  expect(state.calls).toBe(1);
});

for (const collect of [false, true]) {
  test(`external_account_collection=${collect} ${collect ? "shows" : "hides"} the bank-account controls`, async ({ page, openApp }) => {
    const account = await createAccount();
    await openApp({ account: account.id,
      sessionComponents: { account_management: { enabled: true, features: { external_account_collection: collect } } },
      components: [{ tag: "account-management" }] });
    const management = page.locator("stripe-connect-account-management");
    await expect(management.getByTestId("cs-account-management")).toBeVisible();
    await expect(management.getByRole("heading", { name: "Business profile" })).toBeVisible();
    await expect(management.getByRole("button", { name: "Add bank account" })).toHaveCount(collect ? 1 : 0);
    await expect(management.getByTestId("cs-section-external_account")).toHaveCount(collect ? 1 : 0);
  });
}

for (const app of APPS) {
  test(`${app} app: a component the session did not enable raises onLoadError and the others render`, async ({ page, openApp }) => {
    const account = await createAccount();
    await openApp({ app, account: account.id, sessionComponents: MANAGEMENT,
      components: [
        { tag: "account-onboarding", events: ["onLoadError", "onLoaderStart", "onExit"] },
        { tag: "account-management", events: ["onLoadError"] },
      ] });
    const onboarding = page.locator("stripe-connect-account-onboarding");
    await expect(onboarding.getByTestId("cs-load-error")).toBeVisible();
    await expect(onboarding.getByTestId("cs-load-error")).toHaveAttribute("data-error-type", "invalid_request_error");
    await expect(page.locator("stripe-connect-account-management").getByTestId("cs-account-management")).toBeVisible();
    await expect.poll(() => events(page, "onLoadError")).toHaveLength(1);
    const [error] = await events(page, "onLoadError");
    expect(error.tag).toBe("account-onboarding");
    expect(error.payload.elementTagName).toBe("stripe-connect-account-onboarding");
    expect(error.payload.error.type).toBe("invalid_request_error");
    expect(error.payload.error.message).toContain("account_onboarding");
    expect((await events(page, "onLoaderStart")).map((e) => e.tag)).toEqual(["account-onboarding"]);
  });
}

test("a refused claim (a secret already used) raises onLoadError account_session_create_error", async ({ page, openApp }) => {
  const account = await createAccount();
  const session = await createAccountSession(account.id, MANAGEMENT);
  const claimed = await call("POST", "/v1/account_sessions/claim", { client_secret: session.client_secret }, process.env.CS_PUBLISHABLE_KEY);
  expect(claimed.status).toBe(200);
  await openApp({ account: account.id, sessionComponents: MANAGEMENT, secrets: [session.client_secret],
    components: [{ tag: "account-management", events: ["onLoadError"] }] });
  const management = page.locator("stripe-connect-account-management");
  await expect(management.getByTestId("cs-load-error")).toHaveAttribute("data-error-type", "account_session_create_error");
  await expect.poll(() => events(page, "onLoadError")).toHaveLength(1);
  const [error] = await events(page, "onLoadError");
  expect(error.payload.error.type).toBe("account_session_create_error");
});

test("a fetchClientSecret that fails raises onLoadError account_session_create_error", async ({ page, openApp }) => {
  await openApp({ account: "acct_does_not_exist", sessionComponents: MANAGEMENT,
    components: [{ tag: "account-management", events: ["onLoadError"] }] });
  await expect.poll(() => events(page, "onLoadError")).toHaveLength(1);
  const [error] = await events(page, "onLoadError");
  expect(error.payload.error.type).toBe("account_session_create_error");
  expect(error.payload.error.message).toContain("fetchClientSecret");
});

test("a wrong publishable key raises onLoadError authentication_error", async ({ page, openApp }) => {
  const account = await createAccount();
  await openApp({ account: account.id, sessionComponents: MANAGEMENT, publishableKey: "pk_test_not_a_real_key",
    components: [{ tag: "account-management", events: ["onLoadError"] }] });
  await expect.poll(() => events(page, "onLoadError")).toHaveLength(1);
  const [error] = await events(page, "onLoadError");
  expect(error.payload.error.type).toBe("authentication_error");
});
