// The same platform front end in React, on the stock @stripe/react-connect-js.
import { useState } from "react";
import { createRoot } from "react-dom/client";
import { loadConnectAndInitialize } from "@stripe/connect-js";
import * as Connect from "@stripe/react-connect-js";

const harness = window.__harness;
window.__events = [];
const record = (tag, name) => (payload) => window.__events.push({ tag, name, payload: payload === undefined ? null : JSON.parse(JSON.stringify(payload)) });

/** `account-onboarding` → ConnectAccountOnboarding */
const componentFor = (tag) => Connect[`Connect${tag.split("-").map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("")}`];

function App() {
  const [instance] = useState(() => {
    const created = loadConnectAndInitialize({
      publishableKey: harness.publishableKey,
      fetchClientSecret: async () => window.harnessFetchClientSecret(),
      ...(harness.init || {}),
    });
    window.__connectInstance = created;
    return created;
  });
  return (
    <Connect.ConnectComponentsProvider connectInstance={instance}>
      {harness.components.map((component) => {
        const Component = componentFor(component.tag);
        const events = Object.fromEntries((component.events || []).map((name) => [name, record(component.tag, name)]));
        return (
          <div data-component={component.tag} key={component.tag}>
            <Component {...(component.props || {})} {...events} />
          </div>
        );
      })}
    </Connect.ConnectComponentsProvider>
  );
}

createRoot(document.getElementById("app")).render(<App />);
window.__mounted = true;
