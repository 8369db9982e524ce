// Once per run: check the environment scripts/e2e provides, build the test apps, start the
// static server. Workers read what this sets in process.env.
import { buildApps } from "./build-apps.mjs";
import { startStaticServer } from "./static-server.mjs";

export default async function globalSetup() {
  for (const name of ["CS_API_BASE", "CS_SECRET_KEY", "CS_PUBLISHABLE_KEY"]) {
    if (!process.env[name]) throw new Error(`${name} is not set: run the browser tests with scripts/e2e`);
  }
  const apiBase = process.env.CS_API_BASE;
  const health = await fetch(`${apiBase}/healthz`).catch(() => null);
  if (!health || !health.ok) throw new Error(`no connect-sessions server answers at ${apiBase}`);
  // The server serves the runtime itself once its route exists; until then the static server does.
  const served = await fetch(`${apiBase}/connect-js/v1.0/connect.js`).catch(() => null);
  const serverServesRuntime = !!(served && served.ok && /javascript/.test(served.headers.get("content-type") || ""));
  process.env.CS_SERVER_SERVES_RUNTIME = serverServesRuntime ? "1" : "";
  await buildApps();
  const { server, url } = await startStaticServer({ apiBase, serverServesRuntime });
  process.env.CS_STATIC_BASE = url;
  return async () => { await new Promise((r) => server.close(r)); };
}
