// Starts the demo platform's backend (examples/platform/server.mjs) against the test server,
// on a free port, for tests that use the demo as a person would. Each demo keeps its data (its
// webhook endpoint's secret, what it heard) in a temporary folder of its own, and its webhook
// endpoint is deleted when it stops, so demos started by several workers never share either.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { call } from "./api.mjs";
import { REPO_ROOT } from "./paths.mjs";

export const DEMO_DIR = path.join(REPO_ROOT, "examples/platform");
export const SCREENSHOTS_DIR = path.join(REPO_ROOT, "docs/screenshots");

export async function startDemo() {
  if (!fs.existsSync(path.join(DEMO_DIR, "dist/vanilla.js"))) {
    throw new Error("the demo's pages are not built: run the tests with scripts/e2e");
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "connect-sessions-demo-"));
  const child = spawn(process.execPath, [path.join(DEMO_DIR, "server.mjs")], {
    env: { ...process.env, DEMO_PORT: "0", DEMO_DATA_DIR: dataDir, DEMO_WEBHOOK_URL: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo did not start:\n${output}`)), 15_000);
    const onData = (chunk) => {
      output += chunk;
      const match = output.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (match) { clearTimeout(timer); resolve(match[1]); }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`the demo exited (${code}):\n${output}`)); });
  });
  /** The webhook endpoint the demo registered: {id, url, secret}. */
  const webhookEndpoint = () => JSON.parse(fs.readFileSync(path.join(dataDir, "webhook-endpoint.json"), "utf8"));
  const stop = async () => {
    await new Promise((resolve) => { child.removeAllListeners("exit"); child.once("exit", resolve); child.kill("SIGTERM"); });
    const endpoint = fs.existsSync(path.join(dataDir, "webhook-endpoint.json")) ? webhookEndpoint() : null;
    if (endpoint) {
      const { status } = await call("DELETE", `/v1/webhook_endpoints/${endpoint.id}`);
      if (status !== 200) console.warn(`could not delete the demo's webhook endpoint ${endpoint.id}: ${status}`);
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  return { url, webhookEndpoint, output: () => output, stop };
}

/** Saves a README screenshot when E2E_SCREENSHOTS=1 (scripts/e2e passes it on). */
export async function readmeScreenshot(locator, name) {
  if (process.env.E2E_SCREENSHOTS !== "1") return;
  fs.mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  await locator.screenshot({ path: path.join(SCREENSHOTS_DIR, `${name}.png`), animations: "disabled" });
}
