// The platform's side of the tests: the server's API with the secret key (never in the browser).
export const API_BASE = process.env.CS_API_BASE;
export const SECRET_KEY = process.env.CS_SECRET_KEY;
export const PUBLISHABLE_KEY = process.env.CS_PUBLISHABLE_KEY;

/** Stripe's form encoding: bracket notation for nested objects. */
export function encode(params, prefix = "", out = []) {
  for (const [key, value] of Object.entries(params || {})) {
    const name = prefix ? `${prefix}[${key}]` : key;
    if (value === undefined || value === null) continue;
    if (typeof value === "object") encode(value, name, out);
    else out.push(`${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`);
  }
  return out;
}

export async function call(method, path, params, key = SECRET_KEY) {
  const body = params && method !== "GET" ? encode(params).join("&") : undefined;
  const query = params && method === "GET" ? `?${encode(params).join("&")}` : "";
  const response = await fetch(`${API_BASE}${path}${query}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body ? { "Content-Type": "application/x-www-form-urlencoded" } : {}) },
    body,
  });
  const json = await response.json().catch(() => null);
  return { status: response.status, body: json };
}

async function ok(method, path, params, key) {
  const { status, body } = await call(method, path, params, key);
  if (status !== 200) throw new Error(`${method} ${path} answered ${status}: ${JSON.stringify(body)}`);
  return body;
}

/** A connected account; Custom (the platform collects requirements) unless told otherwise. */
export function createAccount(params = { type: "custom", country: "US" }) {
  return ok("POST", "/v1/accounts", params);
}

export function retrieveAccount(id) {
  return ok("GET", `/v1/accounts/${id}`);
}

/** An account session for `account` with `components` (`{account_onboarding: {enabled: true}}`). */
export function createAccountSession(account, components) {
  return ok("POST", "/v1/account_sessions", { account, components });
}

export function expireAccountSession(clientSecret) {
  return ok("POST", "/v1/test_helpers/account_sessions/expire", { client_secret: clientSecret });
}
