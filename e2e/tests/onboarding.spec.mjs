// Onboarding through the UI to details_submitted, as a person fills it in with the test values,
// checked on the platform's side with the secret key.
import { test, expect, events } from "../lib/fixtures.mjs";
import { createAccount, retrieveAccount } from "../lib/api.mjs";
import { readmeScreenshot } from "../lib/demo.mjs";
import { bankAccount, businessProfile, continueFrom, fillPerson, terms } from "../lib/onboarding-steps.mjs";

const US_ACCOUNT = { type: "custom", country: "US", capabilities: { card_payments: { requested: true }, transfers: { requested: true } } };
const SESSION = {
  account_onboarding: { enabled: true },
  account_management: { enabled: true },
  notification_banner: { enabled: true },
};

test("a US individual is onboarded through the UI to details_submitted", async ({ page, openApp }) => {
  const account = await createAccount(US_ACCOUNT);
  await openApp({ app: "vanilla", wiring: "script", account: account.id, sessionComponents: SESSION,
    components: [
      { tag: "notification-banner", events: ["onNotificationsChange"] },
      { tag: "account-onboarding", props: { fullTermsOfServiceUrl: "https://platform.example/terms", privacyPolicyUrl: "https://platform.example/privacy" },
        events: ["onStepChange", "onExit"] },
      { tag: "account-management" },
    ] });
  const onboarding = page.locator("stripe-connect-account-onboarding");
  const banner = page.locator("stripe-connect-notification-banner");
  await expect(banner.getByTestId("cs-notification-banner")).toBeVisible();
  await readmeScreenshot(banner, "notification-banner");

  await onboarding.getByLabel("Individual or sole proprietor").check();
  await continueFrom(onboarding, "business_type");

  const personal = onboarding.getByTestId("cs-step-personal_details");
  await fillPerson(personal, { first: "Jenny", last: "Rosen" });
  await readmeScreenshot(onboarding, "account-onboarding");
  await continueFrom(onboarding, "personal_details");
  await businessProfile(onboarding);
  await bankAccount(onboarding);
  await terms(onboarding);

  await expect(onboarding.getByRole("heading", { name: "Onboarding complete" })).toBeVisible();
  // Verification of the test values finishes by itself; the summary follows.
  await expect(onboarding.getByTestId("cs-summary")).toHaveAttribute("data-complete", "true", { timeout: 20_000 });
  await readmeScreenshot(onboarding, "account-onboarding-complete");
  // The banner on the same page follows: nothing to do, and, once the test values' verification
  // completes (a few seconds), nothing pending either.
  await expect.poll(async () => (await events(page, "onNotificationsChange")).at(-1)?.payload, { timeout: 20_000 })
    .toEqual({ total: 0, actionRequired: 0 });
  await expect(banner.getByTestId("cs-notification-banner")).toHaveCount(0);
  await onboarding.getByRole("button", { name: "Done" }).click();
  await expect.poll(() => events(page, "onExit")).toHaveLength(1);
  expect((await events(page, "onStepChange")).map((e) => e.payload.step)).toEqual([
    "business_type", "personal_details", "business_profile", "external_account", "tos_acceptance", "summary",
  ]);

  // Account management on the same page shows what was entered.
  const management = page.locator("stripe-connect-account-management");
  await expect(management.getByTestId("cs-section-personal_details")).toContainText("Jenny Rosen");
  await expect(management.getByTestId("cs-bank-6789")).toBeVisible();
  await readmeScreenshot(management, "account-management");

  const after = await retrieveAccount(account.id);
  expect(after.details_submitted).toBe(true);
  expect(after.business_type).toBe("individual");
  expect(after.requirements.currently_due).toEqual([]);
  expect(after.individual.first_name).toBe("Jenny");
});

test("a US company with its representative is onboarded through the UI to details_submitted (React)", async ({ page, openApp }) => {
  const account = await createAccount(US_ACCOUNT);
  await openApp({ app: "react", wiring: "script", account: account.id, sessionComponents: SESSION,
    components: [{ tag: "account-onboarding", props: { fullTermsOfServiceUrl: "https://platform.example/terms" }, events: ["onStepChange", "onExit"] }] });
  const onboarding = page.locator("stripe-connect-account-onboarding");
  await onboarding.getByLabel("Company").check();
  await continueFrom(onboarding, "business_type");

  const company = onboarding.getByTestId("cs-step-company_details");
  await company.getByLabel("Legal business name").fill("Rocket Rides Inc.");
  await company.getByLabel("Business phone number").fill("0000000000");
  await company.getByLabel("Employer Identification Number (EIN)").fill("000000000");
  await company.getByLabel("Address line 1").fill("address_full_match");
  await company.getByLabel("City").fill("South San Francisco");
  await company.getByLabel("State").fill("CA");
  await company.getByLabel("ZIP or postal code").fill("94080");
  await continueFrom(onboarding, "company_details");

  const people = onboarding.getByTestId("cs-step-people");
  await fillPerson(people, { first: "Jenny", last: "Rosen" });
  await readmeScreenshot(onboarding, "account-onboarding-company-people");
  await people.getByLabel("Job title").fill("CEO");
  await people.getByLabel(/is an executive/).check();
  await people.getByLabel("This person owns 25% or more of the company").check();
  await people.getByLabel("Percent ownership").fill("100");
  const attest = people.getByLabel("I have added everyone who owns 25% or more of the company.");
  if (await attest.count()) await attest.check();
  await continueFrom(onboarding, "people");
  await businessProfile(onboarding);
  await bankAccount(onboarding);
  await terms(onboarding);

  await expect(onboarding.getByRole("heading", { name: "Onboarding complete" })).toBeVisible();
  const after = await retrieveAccount(account.id);
  expect(after.details_submitted).toBe(true);
  expect(after.business_type).toBe("company");
  expect(after.requirements.currently_due).toEqual([]);
  expect((await events(page, "onStepChange")).map((e) => e.payload.step)).toEqual([
    "business_type", "company_details", "people", "business_profile", "external_account", "tos_acceptance", "summary",
  ]);
});

test("collectionOptions and skipTermsOfServiceCollection decide which requirements onboarding collects", async ({ page, openApp }) => {
  const account = await createAccount(US_ACCOUNT);
  await openApp({ app: "vanilla", wiring: "script", account: account.id, sessionComponents: SESSION,
    components: [{ tag: "account-onboarding", events: ["onStepChange", "onExit"], props: {
      collectionOptions: { fields: "currently_due", requirements: { exclude: ["external_account", "business_profile", "settings"] } },
      skipTermsOfServiceCollection: true,
    } }] });
  const onboarding = page.locator("stripe-connect-account-onboarding");
  await onboarding.getByLabel("Individual or sole proprietor").check();
  await continueFrom(onboarding, "business_type");
  const steps = () => onboarding.getByTestId("cs-stepper").locator("li").evaluateAll((items) => items.map((li) => li.dataset.step));
  await expect.poll(steps).toEqual(["business_type", "personal_details", "summary"]);
  await fillPerson(onboarding.getByTestId("cs-step-personal_details"), { first: "Jenny", last: "Rosen" });
  await continueFrom(onboarding, "personal_details");
  // What was left out is still due on the account; this flow did not ask for it.
  await expect(onboarding.getByRole("heading", { name: "Onboarding complete" })).toBeVisible();
  const after = await retrieveAccount(account.id);
  expect(after.details_submitted).toBe(false);
  expect(after.requirements.currently_due).toEqual(expect.arrayContaining(["external_account", "business_profile.mcc", "tos_acceptance.date"]));
  expect(after.requirements.currently_due.filter((r) => r.startsWith("individual."))).toEqual([]);
});

test("a date of birth that fails verification is reported at its field, and a corrected one lets onboarding go on", async ({ page, openApp }) => {
  const account = await createAccount(US_ACCOUNT);
  await openApp({ app: "vanilla", wiring: "script", account: account.id, sessionComponents: SESSION,
    components: [{ tag: "account-onboarding", events: ["onStepChange", "onExit"] }] });
  const onboarding = page.locator("stripe-connect-account-onboarding");
  await onboarding.getByLabel("Individual or sole proprietor").check();
  await continueFrom(onboarding, "business_type");
  const personal = onboarding.getByTestId("cs-step-personal_details");
  await fillPerson(personal, { first: "Jenny", last: "Rosen" });
  await personal.getByLabel("Year").fill("1990");
  await personal.getByRole("button", { name: "Continue" }).click();

  // Still on the step, with the server's reason next to the date of birth.
  await expect(personal.getByRole("alert").first()).toContainText("could not be verified");
  const day = personal.getByLabel("Day");
  await expect(day).toHaveAttribute("aria-invalid", "true");
  const reason = await day.evaluate((el) => el.getRootNode().getElementById(el.getAttribute("aria-describedby").split(" ").pop()).textContent);
  const server = await retrieveAccount(account.id);
  const error = server.requirements.errors.find((e) => e.requirement === "individual.dob.day");
  expect(error).toBeTruthy();
  expect(reason).toBe(error.reason);

  await personal.getByLabel("Year").fill("1902");
  await personal.getByLabel("Last 4 digits of Social Security number").fill("0000");
  await continueFrom(onboarding, "personal_details");
  await expect(onboarding.getByTestId("cs-step-business_profile")).toBeVisible();
  const after = await retrieveAccount(account.id);
  expect(after.requirements.errors.filter((e) => e.requirement.startsWith("individual.dob"))).toEqual([]);
});

test("the banner counts what is due, its action opens onboarding in an overlay, and its count follows", async ({ page, openApp }) => {
  const account = await createAccount(US_ACCOUNT);
  await openApp({ app: "react", wiring: "alias", account: account.id, sessionComponents: SESSION,
    init: { appearance: { overlays: "drawer" } },
    components: [{ tag: "notification-banner", events: ["onNotificationsChange"] }] });
  const banner = page.locator("stripe-connect-notification-banner");
  // business type, business profile (with the statement descriptor), bank account, terms
  await expect(banner.getByTestId("cs-notification-banner")).toHaveAttribute("data-action-required", "4");
  await expect.poll(async () => (await events(page, "onNotificationsChange")).at(-1)?.payload).toEqual({ total: 4, actionRequired: 4 });

  await banner.getByRole("button", { name: "Update account details" }).click();
  const overlay = banner.getByRole("dialog", { name: "Update account details" });
  await expect(overlay).toHaveAttribute("data-overlay", "drawer");
  await overlay.getByLabel("Individual or sole proprietor").check();
  await continueFrom(overlay, "business_type");
  await fillPerson(overlay.getByTestId("cs-step-personal_details"), { first: "Jenny", last: "Rosen" });
  await continueFrom(overlay, "personal_details");
  await expect(overlay.getByTestId("cs-step-business_profile")).toBeVisible();
  await overlay.getByRole("button", { name: "Close" }).click();
  await expect(overlay).toHaveCount(0);

  // Business type and the individual's details are done: three items remain (once the test
  // values' verification, pending for a few seconds, completes).
  await expect.poll(async () => (await events(page, "onNotificationsChange")).at(-1)?.payload, { timeout: 20_000 })
    .toEqual({ total: 3, actionRequired: 3 });
  await expect(banner.getByText("Business type: information needed")).toHaveCount(0);
  await expect(banner.getByText("Personal details: information needed")).toHaveCount(0);
  const after = await retrieveAccount(account.id);
  expect(after.business_type).toBe("individual");
  expect(after.individual.first_name).toBe("Jenny");
});
