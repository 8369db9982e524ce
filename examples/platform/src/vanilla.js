// The platform's pages without a framework, written as the Connect.js documentation shows:
// the stock loader, a fetchClientSecret that asks the platform's backend for an account
// session, and components created from the instance and appended to the page.
import { loadConnectAndInitialize } from "@stripe/connect-js";

const fetchClientSecret = async () => {
  const response = await fetch("/account_session", { method: "POST" });
  if (!response.ok) {
    const { error } = await response.json();
    console.error("Could not create an account session:", error);
    return undefined;
  }
  const { client_secret: clientSecret } = await response.json();
  return clientSecret;
};

const stripeConnectInstance = loadConnectAndInitialize({
  publishableKey: window.DEMO.publishableKey,
  fetchClientSecret,
  appearance: {
    overlays: "dialog",
    variables: { colorPrimary: "#0b6e4f", borderRadius: "8px", fontFamily: "system-ui, sans-serif" },
  },
});

const page = document.body.dataset.page;
const container = document.getElementById("components");
const status = document.getElementById("status");

if (page === "onboarding") {
  const accountOnboarding = stripeConnectInstance.create("account-onboarding");
  accountOnboarding.setOnExit(() => {
    status.textContent = "You left onboarding. Your details are saved.";
    window.location.href = "/management";
  });
  accountOnboarding.setOnStepChange(({ step }) => { status.textContent = `Step: ${step}`; });
  container.appendChild(accountOnboarding);
}

if (page === "management") {
  const notificationBanner = stripeConnectInstance.create("notification-banner");
  notificationBanner.setOnNotificationsChange(({ total, actionRequired }) => {
    status.textContent = total ? `${total} notifications, ${actionRequired} needing action` : "No notifications";
  });
  container.appendChild(notificationBanner);
  const accountManagement = stripeConnectInstance.create("account-management");
  container.appendChild(accountManagement);
}

document.getElementById("logout")?.addEventListener("click", async () => {
  await stripeConnectInstance.logout();
  status.textContent = "Signed out of the embedded session.";
});
