// The steps of onboarding as a person fills them in, with the server's test values.
import { expect } from "@playwright/test";

/** Fills a person's identity with the test values that verify at once. */
export async function fillPerson(form, { first, last }) {
  await form.getByLabel("First name").fill(first);
  await form.getByLabel("Last name").fill(last);
  await form.getByLabel("Email").fill(`${first.toLowerCase()}@example.com`);
  await form.getByLabel("Phone number").fill("0000000000");
  await form.getByLabel("Month").fill("01");
  await form.getByLabel("Day").fill("01");
  await form.getByLabel("Year").fill("1902");
  await form.getByLabel("Address line 1").fill("address_full_match");
  await form.getByLabel("City").fill("South San Francisco");
  await form.getByLabel("State").fill("CA");
  await form.getByLabel("ZIP or postal code").fill("94080");
  await form.getByLabel("Last 4 digits of Social Security number").fill("0000");
}

export async function continueFrom(onboarding, step) {
  const form = onboarding.getByTestId(`cs-step-${step}`);
  await form.getByRole("button", { name: "Continue" }).click();
  await expect(form).toHaveCount(0);
}

export async function businessProfile(onboarding) {
  const form = onboarding.getByTestId("cs-step-business_profile");
  await form.getByLabel("Industry").selectOption({ label: "Software" });
  await form.getByLabel("Business website").fill("https://accessible.stripe.com");
  const descriptor = form.getByLabel("Statement descriptor");
  if (await descriptor.count()) await descriptor.fill("ROCKET RIDES");
  await continueFrom(onboarding, "business_profile");
}

export async function bankAccount(onboarding) {
  const form = onboarding.getByTestId("cs-step-external_account");
  await form.getByLabel("Account holder name").fill("Jenny Rosen");
  await form.getByLabel("Routing number").fill("110000000");
  await form.getByLabel("Account number", { exact: true }).fill("000123456789");
  await form.getByLabel("Confirm account number").fill("000123456789");
  await continueFrom(onboarding, "external_account");
}

export async function terms(onboarding, termsUrl = "https://platform.example/terms") {
  const form = onboarding.getByTestId("cs-step-tos_acceptance");
  if (termsUrl) await expect(form.getByRole("link", { name: "services agreement" })).toHaveAttribute("href", termsUrl);
  await form.getByLabel("I have read and accept the terms above.").check();
  await continueFrom(onboarding, "tos_acceptance");
}

