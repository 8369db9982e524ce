// The same platform in React, as the React Connect.js documentation shows: one instance in
// state, a provider, and a component per embedded UI.
import { useState } from "react";
import { createRoot } from "react-dom/client";
import { loadConnectAndInitialize } from "@stripe/connect-js";
import {
  ConnectAccountManagement,
  ConnectAccountOnboarding,
  ConnectComponentsProvider,
  ConnectNotificationBanner,
} from "@stripe/react-connect-js";

function App() {
  const [stripeConnectInstance] = useState(() => {
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
    return loadConnectAndInitialize({
      publishableKey: window.DEMO.publishableKey,
      fetchClientSecret,
      appearance: { overlays: "drawer", variables: { colorPrimary: "#5b3cc4", borderRadius: "10px" } },
    });
  });
  const [tab, setTab] = useState("onboarding");
  const [step, setStep] = useState("");
  return (
    <ConnectComponentsProvider connectInstance={stripeConnectInstance}>
      <ConnectNotificationBanner onNotificationsChange={({ total }) => console.info(`${total} notifications`)} />
      <div role="tablist" aria-label="Account" className="tabs">
        <button role="tab" aria-selected={tab === "onboarding"} onClick={() => setTab("onboarding")}>Onboarding</button>
        <button role="tab" aria-selected={tab === "management"} onClick={() => setTab("management")}>Account details</button>
      </div>
      <p className="status" role="status">{step && `Onboarding step: ${step}`}</p>
      {tab === "onboarding" ? (
        <ConnectAccountOnboarding
          onExit={() => setTab("management")}
          onStepChange={({ step }) => setStep(step)}
          fullTermsOfServiceUrl="/terms"
          privacyPolicyUrl="/privacy"
        />
      ) : (
        <ConnectAccountManagement />
      )}
    </ConnectComponentsProvider>
  );
}

createRoot(document.getElementById("root")).render(<App />);
