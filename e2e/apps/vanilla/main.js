// A platform's front end on the stock loader, configured by the test (window.__harness):
// which components to mount, with which setter values; every callback is recorded in
// window.__events. The secret comes from the test through window.harnessFetchClientSecret,
// standing in for the platform's backend.
import { loadConnectAndInitialize } from "@stripe/connect-js";

const harness = window.__harness;
window.__events = [];
const record = (tag, name) => (payload) => window.__events.push({ tag, name, payload: payload === undefined ? null : JSON.parse(JSON.stringify(payload)) });

const instance = loadConnectAndInitialize({
  publishableKey: harness.publishableKey,
  fetchClientSecret: async () => window.harnessFetchClientSecret(),
  ...(harness.init || {}),
});
window.__connectInstance = instance;

const main = document.getElementById("app");
for (const component of harness.components) {
  const element = instance.create(component.tag);
  for (const [prop, value] of Object.entries(component.props || {})) {
    element[`set${prop.charAt(0).toUpperCase()}${prop.slice(1)}`](value);
  }
  for (const name of component.events || []) {
    element[`set${name.charAt(0).toUpperCase()}${name.slice(1)}`](record(component.tag, name));
  }
  const box = document.createElement("div");
  box.dataset.component = component.tag;
  box.appendChild(element);
  main.appendChild(box);
}
window.__mounted = true;
