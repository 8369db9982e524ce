import path from "node:path";
import { fileURLToPath } from "node:url";

export const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const REPO_ROOT = path.resolve(E2E_DIR, "..");
export const RUNTIME_FILE = path.join(REPO_ROOT, "web/connect-js/connect.js");
export const DIST_DIR = path.join(E2E_DIR, "dist");
/** The URL the stock loader injects when no runtime is on the page. */
export const STRIPE_RUNTIME_URL = "https://connect-js.stripe.com/v1.0/connect.js";
