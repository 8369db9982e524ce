/*!
 * connect-sessions browser runtime, version 0.1.0.
 *
 * An offline runtime for connect-sessions, a self-hostable Account Sessions server.
 * It stands behind the documented seam of the open-source Connect.js loader:
 * when `window.StripeConnect.init` is a function before the loader runs, the
 * loader uses it instead of downloading its vendor's runtime. This file defines
 * that function and the `stripe-connect-*` custom elements the loader creates;
 * those names are the loader's contract. Everything else here is this
 * project's own. connect-sessions is not affiliated with Stripe.
 *
 * Plain JavaScript, no build step. Load it with a script tag before the
 * platform's bundle, route the loader's script URL to it, or import it for its
 * side effect.
 *
 * API base (where the claim and every later call go), first match wins:
 *   1. window.ConnectSessionsConfig = { apiBase: "http://127.0.0.1:12111" }, set before init;
 *   2. the data-api-base attribute of this script's tag;
 *   3. the origin this script was served from;
 *   4. the page's origin (when imported into a bundle).
 *
 * License: the project's. Written from public facts only.
 */
(function () {
  "use strict";

  if (typeof window === "undefined" || typeof document === "undefined") return;
  const existing = window.StripeConnect;
  if (existing && existing.runtime && existing.runtime.name === "connect-sessions") return;

  const RUNTIME_VERSION = "0.1.0";
  const CURRENT_SCRIPT = document.currentScript;
  /** The simulated sign-in's test code (the sign-in is a local stand-in, nothing is sent anywhere). */
  const SIGN_IN_TEST_CODE = "000000";

  // ---------------------------------------------------------------------------------------------
  // The loader's contract: tags and setters
  // ---------------------------------------------------------------------------------------------

  /** Every tag of the stable loader, then the preview loader's extra ones. */
  const STABLE_TAGS = [
    "account-onboarding", "disputes-list", "payments", "payment-details", "payment-disputes",
    "payouts", "payouts-list", "payout-details", "balances", "account-management",
    "notification-banner", "instant-payouts-promotion", "issuing-card", "issuing-cards-list",
    "financial-account", "financial-account-transactions", "documents", "tax-registrations",
    "tax-settings", "balance-report", "payout-reconciliation-report",
  ];
  const PREVIEW_TAGS = [
    "payment-method-settings", "instant-payouts", "recipients", "recipients-list",
    "capital-financing", "capital-financing-application", "capital-financing-promotion",
    "capital-overview", "product-tax-code-selector", "export-tax-transactions",
    "tax-threshold-monitoring", "app-install", "app-viewport", "reporting-chart", "check-scanning",
    "agentic-commerce-settings", "terminal-hardware-orders", "terminal-hardware-shop",
    "network-cost-passthrough-report", "financial-accounts", "financial-accounts-transactions",
    "bills",
  ];
  /**
   * Every setter either loader installs on an element. The loader forwards `setX(v)` to
   * `setXInternalOnly(v)`; every element here has all of them, so no loader release that
   * only reshuffles setters between tags can make one throw.
   */
  const SETTERS = [
    "setOnLoadError", "setOnLoaderStart",
    "setFullTermsOfServiceUrl", "setRecipientTermsOfServiceUrl", "setPrivacyPolicyUrl",
    "setSkipTermsOfServiceCollection", "setCollectionOptions", "setOnExit", "setOnStepChange",
    "setOnSectionOpen", "setOnNotificationsChange", "setOnInstantPayoutsPromotionLoaded",
    "setOnInstantPayoutCreated", "setDefaultCard", "setCardSwitching", "setFetchEphemeralKey",
    "setShowSpendControls", "setIssuingProgram", "setFinancialAccount", "setDefaultFilters",
    "setPayment", "setOnClose", "setOnDisputesLoaded", "setHideProductTaxCodeSelector",
    "setDisplayHeadOfficeCountries", "setOnTaxSettingsUpdated", "setOnAfterTaxRegistrationAdded",
    "setDisplayCountries", "setOnAfterTaxRegistrationExpired", "setPayout",
    "setOnReportAvailabilityLoaded",
    // preview loader
    "setApp", "setAppData", "setDataSource", "setDefaultFinancingOffer", "setDisabled",
    "setEligibilityCriteriaUrl", "setHandleCheckScanSubmitted", "setHideDescription",
    "setHowCapitalWorksUrl", "setInitialTaxCode", "setIntervalEnd", "setIntervalStart",
    "setIntervalType", "setLayout", "setOnAgreementUpdated", "setOnAppInstallStateChanged",
    "setOnAppInstallStateFetched", "setOnApplicationStepChange", "setOnApplicationSubmitted",
    "setOnCheckoutFinished", "setOnEligibleFinancingOfferLoaded", "setOnFinancingsLoaded",
    "setOnTaxCodeSelect", "setPaymentMethodConfiguration", "setReportName",
    "setShowFinancingSelector", "setSupportUrl",
  ];

  /** `account-onboarding` → `account_onboarding`, the session's component key. */
  const componentKey = (tag) => tag.replace(/-/g, "_");
  /** `setOnExit` → `onExit`, the key a setter's value is kept under. */
  const propName = (setter) => setter.charAt(3).toLowerCase() + setter.slice(4);

  // ---------------------------------------------------------------------------------------------
  // Errors: every failure a component reports carries one of the loader's error types
  // ---------------------------------------------------------------------------------------------

  class EmbeddedError extends Error {
    /**
     * @param {string} type one of the loader's `EmbeddedErrorType`s
     * @param {string} message shown to the user and passed to onLoadError
     * @param {object} [api] the server's error envelope's `error`, when there was one
     */
    constructor(type, message, api) {
      super(message);
      this.type = type;
      this.api = api || null;
      this.status = 0;
    }
  }

  /** HTTP status (and network failure) → the loader's error type. */
  function errorTypeForStatus(status) {
    if (status === 0) return "api_connection_error";
    if (status === 401 || status === 403) return "authentication_error";
    if (status === 429) return "rate_limit_error";
    if (status >= 400 && status < 500) return "invalid_request_error";
    return "api_error";
  }

  function asEmbeddedError(error) {
    if (error instanceof EmbeddedError) return error;
    return new EmbeddedError("render_error", (error && error.message) || String(error));
  }

  // ---------------------------------------------------------------------------------------------
  // Small helpers
  // ---------------------------------------------------------------------------------------------

  /** Stripe's form encoding: nested objects in bracket notation, arrays as `key[]`. */
  function encodeForm(value, prefix, out) {
    out = out || [];
    if (value === undefined || value === null) return out;
    if (Array.isArray(value)) {
      value.forEach((item, i) => encodeForm(item, `${prefix}[${i}]`, out));
    } else if (typeof value === "object") {
      for (const [key, inner] of Object.entries(value)) {
        encodeForm(inner, prefix ? `${prefix}[${key}]` : key, out);
      }
    } else {
      out.push(`${encodeURIComponent(prefix)}=${encodeURIComponent(String(value))}`);
    }
    return out;
  }

  /** `h("div", {class: "x", onclick: f}, child, ...)`: a DOM element. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith("on") && typeof value === "function") {
        el.addEventListener(key.slice(2), value);
      } else if (key === "class") {
        el.className = value;
      } else if (key === "dataset") {
        for (const [k, v] of Object.entries(value)) if (v !== undefined) el.dataset[k] = v;
      } else if (key === "value" || key === "checked" || key === "selected") {
        el[key] = value;
      } else {
        el.setAttribute(key, value === true ? "" : String(value));
      }
    }
    appendAll(el, children);
    return el;
  }

  function appendAll(parent, children) {
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) continue;
      parent.appendChild(typeof child === "string" || typeof child === "number"
        ? document.createTextNode(String(child)) : child);
    }
  }

  /** Reads a dotted path (`dob.day`) from an object. */
  function dig(object, path) {
    return path.split(".").reduce((o, k) => (o === undefined || o === null ? undefined : o[k]), object);
  }

  /** `individual` + `dob.day` → `individual[dob][day]`; no prefix → `dob[day]`. */
  function paramName(prefix, path) {
    const parts = path.split(".");
    const head = prefix ? [prefix, ...parts] : parts;
    return head[0] + head.slice(1).map((p) => `[${p}]`).join("");
  }

  /** Sets `dob.day` on a nested object. */
  function assign(object, path, value) {
    const parts = path.split(".");
    let o = object;
    for (const p of parts.slice(0, -1)) o = o[p] = o[p] || {};
    o[parts[parts.length - 1]] = value;
  }

  let idCounter = 0;
  const uid = (base) => `cs-${base}-${++idCounter}`;
  const testId = (s) => s.replace(/\]\[|\[|\]/g, ".").replace(/\.$/, "");

  function humanize(word) {
    const s = String(word).replace(/_/g, " ");
    return s.charAt(0).toUpperCase() + s.slice(1);
  }

  // ---------------------------------------------------------------------------------------------
  // Configuration
  // ---------------------------------------------------------------------------------------------

  function resolveApiBase() {
    const config = window.ConnectSessionsConfig;
    let base = config && typeof config.apiBase === "string" && config.apiBase;
    if (!base && CURRENT_SCRIPT && CURRENT_SCRIPT.dataset && CURRENT_SCRIPT.dataset.apiBase) {
      base = CURRENT_SCRIPT.dataset.apiBase;
    }
    if (!base && CURRENT_SCRIPT && CURRENT_SCRIPT.src) base = new URL(CURRENT_SCRIPT.src).origin;
    if (!base) base = window.location.origin;
    if (/^https:\/\/connect-js\.stripe\.com$/.test(base)) {
      console.warn("[connect-sessions] this runtime was served from the loader's own URL: set " +
        "window.ConnectSessionsConfig = { apiBase: \"http://your-connect-sessions-server\" } before init.");
    }
    return base.replace(/\/+$/, "");
  }

  // ---------------------------------------------------------------------------------------------
  // The connector: one per init(). It claims the client secret, holds the em_ key in memory
  // (a private field, never in storage or the DOM), refreshes it once for all waiting calls
  // when it expires, and fans appearance changes and logout out to its elements.
  // ---------------------------------------------------------------------------------------------

  class Connector {
    #secret = null;
    #session = null;          // the current claimed session (without the secret)
    #sessionPromise = null;   // resolves to the current session
    #refreshPromise = null;   // a refresh in flight, shared by every call that needs it
    #eager = null;            // the loader's eagerClientSecretPromise, used once
    #fetchClientSecret;
    #publishableKey;

    constructor(params) {
      if (!params || typeof params !== "object") {
        throw new Error("StripeConnect.init needs an object with publishableKey and fetchClientSecret");
      }
      if (typeof params.publishableKey !== "string" || !params.publishableKey) {
        throw new Error("StripeConnect.init needs a publishableKey");
      }
      if (typeof params.fetchClientSecret !== "function") {
        throw new Error("StripeConnect.init needs a fetchClientSecret function");
      }
      this.#publishableKey = params.publishableKey;
      this.#fetchClientSecret = params.fetchClientSecret;
      const meta = params.metaOptions || {};
      if (meta.eagerClientSecretPromise && typeof meta.eagerClientSecretPromise.then === "function") {
        this.#eager = meta.eagerClientSecretPromise;
        // Handled when consumed; this only keeps a rejection from being reported as unhandled.
        this.#eager.catch(() => {});
      }
      this.apiBase = resolveApiBase();
      this.appearance = params.appearance || {};
      this.locale = params.locale || "auto";
      this.displayOptions = params.displayOptions || {};
      this.fonts = params.fonts || [];
      this.sdk = meta.sdk === true ? (meta.sdkOptions || {}) : null;
      this.elements = new Set();
      this.loggedOut = false;
      this.signedIn = false;    // the simulated sign-in, shared by this connector's elements
      /** Number of successful claims (the first and every refresh), for debugging. */
      this.claims = 0;
      loadFonts(this.fonts);
      // Claim at once: the loader fetched the secret eagerly for this purpose.
      this.session().catch(() => {});
    }

    /** The current claimed session; claims on first use and after logout. */
    session() {
      if (!this.#sessionPromise) {
        const secret = this.#eager ? this.#eager : this.#callFetchClientSecret();
        this.#eager = null;
        this.#sessionPromise = this.#claim(secret);
        this.#sessionPromise.catch(() => { this.#sessionPromise = null; });
      }
      return this.#sessionPromise;
    }

    #callFetchClientSecret() {
      try {
        return Promise.resolve(this.#fetchClientSecret());
      } catch (error) {
        return Promise.reject(error);
      }
    }

    async #claim(secretPromise) {
      let clientSecret;
      try {
        clientSecret = await secretPromise;
      } catch (error) {
        throw new EmbeddedError("account_session_create_error",
          `fetchClientSecret failed: ${(error && error.message) || error}`);
      }
      if (typeof clientSecret !== "string" || !clientSecret) {
        throw new EmbeddedError("account_session_create_error",
          "fetchClientSecret must resolve to an account session's client_secret");
      }
      const response = await this.#send("POST", "/v1/account_sessions/claim",
        { client_secret: clientSecret }, this.#publishableKey);
      if (!response.ok) {
        const error = response.error;
        // A refused claim (already claimed, expired, revoked, unknown) means no session
        // could be made from what the platform handed over.
        if (response.status === 400) {
          error.type = "account_session_create_error";
        }
        throw error;
      }
      const { secret, ...session } = response.body;
      this.#secret = secret;
      this.#session = session;
      this.loggedOut = false;
      this.claims += 1;
      return session;
    }

    /** One HTTP exchange. Resolves to {ok, status, body} or {ok: false, error}. */
    async #send(method, path, params, key) {
      const headers = { Authorization: `Bearer ${key}` };
      let url = this.apiBase + path;
      let body;
      const encoded = params ? encodeForm(params, "").join("&") : "";
      if (method === "GET" || method === "DELETE") {
        if (encoded) url += `?${encoded}`;
      } else {
        headers["Content-Type"] = "application/x-www-form-urlencoded";
        body = encoded;
      }
      let response;
      try {
        response = await fetch(url, { method, headers, body, credentials: "omit", cache: "no-store" });
      } catch (error) {
        const e = new EmbeddedError("api_connection_error",
          `Could not reach the connect-sessions server at ${this.apiBase}`);
        return { ok: false, status: 0, error: e };
      }
      let json = null;
      try { json = await response.json(); } catch (_) { json = null; }
      if (response.ok) return { ok: true, status: response.status, body: json };
      const api = (json && json.error) || {};
      const e = new EmbeddedError(errorTypeForStatus(response.status),
        api.message || `The server answered ${response.status}`, api);
      e.status = response.status;
      return { ok: false, status: response.status, error: e };
    }

    /**
     * A call to the client-side API with the em_ key. When the key has expired it gets a new
     * secret from fetchClientSecret, claims it, and retries once; concurrent calls that meet
     * the same expired key share that one refresh.
     */
    async request(method, path, params) {
      if (this.loggedOut) throw new EmbeddedError("authentication_error", "The session has ended (logged out)");
      let session = await this.session();
      let response = await this.#send(method, path, params, this.#secret);
      if (!response.ok && response.status === 401 && response.error.api && response.error.api.code === "api_key_expired") {
        session = await this.#refresh(session);
        response = await this.#send(method, path, params, this.#secret);
      }
      if (!response.ok) throw response.error;
      if (method !== "GET") this.#changed();
      return response.body;
    }

    /** After a write, the account's other components on the page show the new state. */
    #changed() {
      clearTimeout(this.changeTimer);
      this.changeTimer = setTimeout(() => {
        for (const element of this.elements) element._accountChanged();
      }, 50);
    }

    #refresh(stale) {
      if (this.#session && this.#session !== stale && this.#sessionPromise) return this.#sessionPromise;
      if (!this.#refreshPromise) {
        const promise = this.#claim(this.#callFetchClientSecret());
        this.#sessionPromise = promise;
        this.#refreshPromise = promise.finally(() => { this.#refreshPromise = null; });
        promise.catch(() => { if (this.#sessionPromise === promise) this.#sessionPromise = null; });
      }
      return this.#refreshPromise;
    }

    /** Ends the embedded session on the server and forgets the key. */
    async logout() {
      const secret = this.#secret;
      this.loggedOut = true;
      this.#secret = null;
      this.#session = null;
      this.#sessionPromise = null;
      this.signedIn = false;
      let failure = null;
      if (secret) {
        const response = await this.#send("DELETE", "/v1/embedded_session", null, secret);
        // An already expired or ended key is as logged out as it gets.
        if (!response.ok && response.status !== 401) failure = response.error;
      }
      for (const element of this.elements) element._loggedOut();
      if (failure) throw failure;
    }

    /** Re-applies appearance, locale and display options to every mounted element. */
    update(options) {
      const o = options || {};
      if (o.appearance) {
        this.appearance = {
          ...this.appearance,
          ...o.appearance,
          variables: { ...(this.appearance.variables || {}), ...(o.appearance.variables || {}) },
        };
      }
      if (o.locale) this.locale = o.locale;
      if (o.displayOptions) this.displayOptions = { ...this.displayOptions, ...o.displayOptions };
      for (const element of this.elements) element._presentationChanged();
    }

    _attach(element) { this.elements.add(element); }
    _detach(element) { this.elements.delete(element); }
  }

  function loadFonts(fonts) {
    for (const font of fonts || []) {
      try {
        if (font && font.cssSrc) {
          if (!document.querySelector(`link[data-cs-font="${CSS.escape(font.cssSrc)}"]`)) {
            document.head.appendChild(h("link", { rel: "stylesheet", href: font.cssSrc, "data-cs-font": font.cssSrc }));
          }
        } else if (font && font.family && font.src && typeof FontFace === "function") {
          const descriptors = {};
          for (const k of ["display", "style", "weight", "unicodeRange"]) if (font[k]) descriptors[k] = font[k];
          const face = new FontFace(font.family, font.src, descriptors);
          document.fonts.add(face);
          face.load().catch(() => {});
        }
      } catch (_) { /* a bad font entry must not break the components */ }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Appearance: the loader's appearance variables become CSS custom properties on each
  // element (`--cs-…`), which the element's styles read. A platform can also set the same
  // custom properties from its own CSS.
  // ---------------------------------------------------------------------------------------------

  /** appearance.variables key → custom property. Other keys are accepted and ignored. */
  const APPEARANCE_VARIABLES = {
    colorPrimary: "--cs-color-primary",
    colorBackground: "--cs-color-background",
    colorText: "--cs-color-text",
    colorSecondaryText: "--cs-color-secondary-text",
    colorBorder: "--cs-color-border",
    colorDanger: "--cs-color-danger",
    fontFamily: "--cs-font-family",
    fontSizeBase: "--cs-font-size",
    spacingUnit: "--cs-spacing",
    borderRadius: "--cs-radius",
    buttonPrimaryColorBackground: "--cs-button-primary-background",
    buttonPrimaryColorBorder: "--cs-button-primary-border",
    buttonPrimaryColorText: "--cs-button-primary-text",
    buttonSecondaryColorBackground: "--cs-button-secondary-background",
    buttonSecondaryColorBorder: "--cs-button-secondary-border",
    buttonSecondaryColorText: "--cs-button-secondary-text",
    buttonBorderRadius: "--cs-button-radius",
    formBorderRadius: "--cs-input-radius",
    formHighlightColorBorder: "--cs-focus-color",
    formAccentColor: "--cs-accent",
    actionPrimaryColorText: "--cs-link-color",
    offsetBackgroundColor: "--cs-offset-background",
    badgeSuccessColorText: "--cs-success-text",
    badgeWarningColorText: "--cs-warning-text",
    overlayBackdropColor: "--cs-overlay-backdrop",
    overlayBorderRadius: "--cs-overlay-radius",
    overlayZIndex: "--cs-overlay-z-index",
  };

  const STYLES = `
:host {
  display: block;
  --cs-color-primary: #2459d6;
  --cs-color-background: #ffffff;
  --cs-color-text: #1d2433;
  --cs-color-secondary-text: #5a6477;
  --cs-color-border: #c9cfda;
  --cs-color-danger: #c0262d;
  --cs-font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  --cs-font-size: 16px;
  --cs-spacing: 8px;
  --cs-radius: 6px;
  color: var(--cs-color-text);
  font-family: var(--cs-font-family);
  font-size: var(--cs-font-size);
  line-height: 1.45;
}
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
.cs-root {
  background: var(--cs-color-background);
  border: 1px solid var(--cs-color-border);
  border-radius: var(--cs-radius);
  padding: calc(var(--cs-spacing) * 3);
}
h2 { font-size: 1.35em; margin: 0 0 var(--cs-spacing); line-height: 1.25; }
h3 { font-size: 1.1em; margin: calc(var(--cs-spacing) * 2) 0 var(--cs-spacing); }
h2:focus, h3:focus { outline: none; }
h2:focus-visible, h3:focus-visible { outline: 2px solid var(--cs-focus-color, var(--cs-color-primary)); outline-offset: 2px; }
p { margin: 0 0 calc(var(--cs-spacing) * 1.5); }
.cs-muted { color: var(--cs-color-secondary-text); font-size: 0.9em; }
.cs-badge { display: inline-block; border: 1px solid var(--cs-color-border); border-radius: 999px;
  padding: 0 var(--cs-spacing); font-size: 0.8em; color: var(--cs-color-secondary-text); margin-left: var(--cs-spacing); }
.cs-badge[data-tone="warning"] { color: var(--cs-warning-text, #8a5a00); border-color: currentColor; }
.cs-badge[data-tone="success"] { color: var(--cs-success-text, #1e7a3c); border-color: currentColor; }
.cs-badge[data-tone="danger"] { color: var(--cs-color-danger); border-color: currentColor; }
.cs-simulated { display: inline-block; background: #fff4d6; color: #6b4b00; border: 1px dashed #b58900;
  border-radius: var(--cs-radius); padding: 2px var(--cs-spacing); font-size: 0.8em; font-weight: 600; margin-bottom: var(--cs-spacing); }
button {
  font: inherit; cursor: pointer; border-radius: var(--cs-button-radius, var(--cs-radius));
  padding: var(--cs-spacing) calc(var(--cs-spacing) * 2); min-height: 40px;
  border: 1px solid var(--cs-button-secondary-border, var(--cs-color-border));
  background: var(--cs-button-secondary-background, var(--cs-color-background));
  color: var(--cs-button-secondary-text, var(--cs-color-text));
}
button.cs-primary {
  background: var(--cs-button-primary-background, var(--cs-color-primary));
  border-color: var(--cs-button-primary-border, var(--cs-button-primary-background, var(--cs-color-primary)));
  color: var(--cs-button-primary-text, #ffffff);
  font-weight: 600;
}
button.cs-link { border: none; background: none; padding: 0; min-height: 0; color: var(--cs-link-color, var(--cs-color-primary)); text-decoration: underline; }
button.cs-danger-link { border: none; background: none; padding: 0; min-height: 0; color: var(--cs-color-danger); text-decoration: underline; }
button:disabled { opacity: 0.6; cursor: progress; }
button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible, a:focus-visible, summary:focus-visible {
  outline: 3px solid var(--cs-focus-color, var(--cs-color-primary)); outline-offset: 2px;
}
a { color: var(--cs-link-color, var(--cs-color-primary)); }
.cs-actions { display: flex; gap: var(--cs-spacing); flex-wrap: wrap; margin-top: calc(var(--cs-spacing) * 2); align-items: center; }
.cs-field { display: flex; flex-direction: column; gap: 4px; margin-bottom: calc(var(--cs-spacing) * 1.5); flex: 1 1 180px; min-width: 0; }
.cs-row { display: flex; gap: calc(var(--cs-spacing) * 1.5); flex-wrap: wrap; }
label, legend { font-weight: 600; font-size: 0.92em; }
fieldset { border: none; padding: 0; margin: 0 0 var(--cs-spacing); min-width: 0; }
input, select, textarea {
  font: inherit; color: var(--cs-color-text); background: var(--cs-color-background);
  border: 1px solid var(--cs-color-border); border-radius: var(--cs-input-radius, var(--cs-radius));
  padding: var(--cs-spacing); min-height: 40px; width: 100%;
}
input[type="checkbox"], input[type="radio"] { width: auto; min-height: 0; accent-color: var(--cs-accent, var(--cs-color-primary)); }
.cs-check { display: flex; gap: var(--cs-spacing); align-items: flex-start; margin-bottom: var(--cs-spacing); font-weight: 400; }
.cs-choice { display: flex; gap: var(--cs-spacing); align-items: center; border: 1px solid var(--cs-color-border);
  border-radius: var(--cs-radius); padding: var(--cs-spacing) calc(var(--cs-spacing) * 1.5); margin-bottom: var(--cs-spacing); font-weight: 400; }
[aria-invalid="true"] { border-color: var(--cs-color-danger); box-shadow: 0 0 0 1px var(--cs-color-danger); }
.cs-error { color: var(--cs-color-danger); font-size: 0.9em; }
.cs-alert { border: 1px solid var(--cs-color-danger); color: var(--cs-color-danger); border-radius: var(--cs-radius);
  padding: var(--cs-spacing) calc(var(--cs-spacing) * 1.5); margin-bottom: calc(var(--cs-spacing) * 2); }
.cs-note { border: 1px solid var(--cs-color-border); background: var(--cs-offset-background, #f5f7fa); border-radius: var(--cs-radius);
  padding: var(--cs-spacing) calc(var(--cs-spacing) * 1.5); margin-bottom: calc(var(--cs-spacing) * 2); }
.cs-layout { display: grid; grid-template-columns: minmax(150px, 220px) 1fr; gap: calc(var(--cs-spacing) * 3); }
@media (max-width: 640px) { .cs-layout { grid-template-columns: 1fr; } }
.cs-steps { list-style: none; margin: 0; padding: 0; counter-reset: step; }
.cs-steps li { display: flex; gap: var(--cs-spacing); align-items: center; padding: 6px 0; color: var(--cs-color-secondary-text); }
.cs-steps li::before { counter-increment: step; content: counter(step); display: inline-flex; width: 24px; height: 24px; flex: none;
  border-radius: 50%; border: 1px solid var(--cs-color-border); align-items: center; justify-content: center; font-size: 0.8em; }
.cs-steps li[data-state="complete"]::before { content: "\\2713"; background: var(--cs-color-primary); color: #fff; border-color: var(--cs-color-primary); }
.cs-steps li[aria-current="step"] { color: var(--cs-color-text); font-weight: 600; }
.cs-steps li[aria-current="step"]::before { border-color: var(--cs-color-primary); color: var(--cs-color-primary); border-width: 2px; }
.cs-card { border: 1px solid var(--cs-color-border); border-radius: var(--cs-radius); padding: calc(var(--cs-spacing) * 2);
  margin-bottom: calc(var(--cs-spacing) * 2); }
.cs-card-head { display: flex; justify-content: space-between; align-items: baseline; gap: var(--cs-spacing); }
.cs-card-head h3, .cs-card > h3:first-child { margin-top: 0; }
dl { display: grid; grid-template-columns: minmax(120px, 35%) 1fr; gap: 4px calc(var(--cs-spacing) * 2); margin: 0; }
dt { color: var(--cs-color-secondary-text); }
dd { margin: 0; overflow-wrap: anywhere; }
ul.cs-list { margin: 0 0 var(--cs-spacing); padding-left: 1.2em; }
.cs-banner { padding-left: calc(var(--cs-spacing) * 2); display: flex; gap: calc(var(--cs-spacing) * 2); align-items: center; justify-content: space-between; flex-wrap: wrap;
  border-left: 4px solid var(--cs-warning-text, #b58900); }
dialog { border: 1px solid var(--cs-color-border); border-radius: var(--cs-overlay-radius, var(--cs-radius)); padding: 0;
  color: var(--cs-color-text); background: var(--cs-color-background); width: min(720px, 94vw); max-height: 90vh; }
dialog[data-overlay="drawer"] { margin: 0 0 0 auto; height: 100vh; max-height: 100vh; width: min(560px, 100vw); border-radius: 0; }
dialog::backdrop { background: var(--cs-overlay-backdrop, rgba(20, 26, 38, 0.45)); }
.cs-dialog-body { padding: calc(var(--cs-spacing) * 3); overflow: auto; }
.cs-dialog-head { display: flex; justify-content: space-between; align-items: center; gap: var(--cs-spacing); }
.cs-dialog-head h2 { margin: 0; }
.cs-spinner { display: inline-block; width: 1em; height: 1em; border: 2px solid var(--cs-color-border);
  border-top-color: var(--cs-color-primary); border-radius: 50%; animation: cs-spin 0.8s linear infinite; vertical-align: -2px; margin-right: 6px; }
@keyframes cs-spin { to { transform: rotate(360deg); } }
@media (prefers-reduced-motion: reduce) { .cs-spinner { animation: none; } }
.cs-visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

  // ---------------------------------------------------------------------------------------------
  // The element every tag shares: the loader's methods, the lifecycle, callbacks, appearance.
  // Content lives in an open shadow root, so styles stay inside and tests can reach it.
  // ---------------------------------------------------------------------------------------------

  /**
   * Callbacks that report a state rather than an action. If the platform sets the listener
   * only after the state was reached (React sets props in an effect, after the element
   * started), the listener still gets the latest payload, once.
   */
  const STICKY_EVENTS = new Set([
    "onLoaderStart", "onLoadError", "onNotificationsChange", "onStepChange",
    "onDisputesLoaded", "onInstantPayoutsPromotionLoaded", "onReportAvailabilityLoaded",
  ]);

  class ConnectElement extends HTMLElement {
    constructor() {
      super();
      this._props = {};
      this._pending = {};
      this._connector = null;
      this._started = false;
      this._session = null;
      this._features = {};
      const shadow = this.attachShadow({ mode: "open" });
      const style = document.createElement("style");
      style.textContent = STYLES;
      this._variables = document.createElement("style");
      this._root = h("div", { class: "cs-root", part: "root", lang: "en" });
      shadow.append(style, this._variables, this._root);
    }

    /** The tag as the loader's `create()` takes it: `account-onboarding`. */
    get connectTag() { return this.localName.replace(/^stripe-connect-/, ""); }

    /** Called by the loader once init resolved, with the runtime's `connect` object. */
    setConnector(connector) {
      if (!(connector instanceof Connector)) {
        throw new Error("setConnector expects the connect object of this runtime's StripeConnect.init()");
      }
      if (this._connector === connector) return;
      if (this._connector) this._connector._detach(this);
      this._connector = connector;
      this._started = false;
      if (this.isConnected) connector._attach(this);
      this._presentationChanged();
      this._maybeStart();
    }

    connectedCallback() {
      if (this._connector) this._connector._attach(this);
      this._maybeStart();
    }

    disconnectedCallback() {
      if (this._connector) this._connector._detach(this);
    }

    _maybeStart() {
      if (this._started || !this._connector || !this.isConnected) return;
      this._started = true;
      // After the current task: the loader forwards setters made right after create() in
      // microtasks, so they are all in place before the component starts.
      setTimeout(() => {
        // Removed again meanwhile (React's strict mode mounts twice): start when it is back.
        if (!this.isConnected) { this._started = false; return; }
        this._start();
      }, 0);
    }

    async _start() {
      const connector = this._connector;
      this._emit("onLoaderStart", { elementTagName: this.localName });
      this._renderLoading();
      try {
        const session = await connector.session();
        if (connector !== this._connector) return;
        const key = componentKey(this.connectTag);
        const component = session.components && session.components[key];
        if (!component || !component.enabled) {
          throw new EmbeddedError("invalid_request_error",
            `This account session does not enable the ${key} component. Create the session with components[${key}][enabled]=true to use <${this.localName}>.`);
        }
        this._session = session;
        this._features = component.features || {};
        await this._load();
      } catch (error) {
        this._fail(error);
      }
    }

    /** Renders the component; subclasses override. */
    async _load() {}

    _fail(error) {
      const e = asEmbeddedError(error);
      if (this._connector && this._connector.loggedOut) return this._loggedOut();
      this._emit("onLoadError", { error: { type: e.type, message: e.message }, elementTagName: this.localName });
      this._replace(h("div", { role: "alert", "data-testid": "cs-load-error", dataset: { errorType: e.type } },
        h("h2", {}, "This component could not load"),
        h("p", {}, e.message),
        h("p", { class: "cs-muted" }, `Error type: ${e.type}`)));
    }

    _loggedOut() {
      this._replace(h("div", { role: "status", "data-testid": "cs-logged-out" },
        h("h2", {}, "Signed out"),
        h("p", {}, "This session has ended. Reload the page to start a new one.")));
    }

    _renderLoading() {
      this._replace(h("div", { role: "status", "aria-live": "polite", "data-testid": "cs-loading" },
        h("span", { class: "cs-spinner", "aria-hidden": "true" }), "Loading…"));
    }

    _replace(...nodes) {
      this._root.replaceChildren();
      appendAll(this._root, nodes);
    }

    /** Calls a platform callback; state callbacks wait for a late listener (see STICKY_EVENTS). */
    _emit(name, payload) {
      const listener = this._props[name];
      if (typeof listener === "function") {
        delete this._pending[name];
        try { listener(payload); } catch (error) { console.error(`[connect-sessions] ${name} threw`, error); }
      } else if (STICKY_EVENTS.has(name)) {
        this._pending[name] = payload;
      }
    }

    _setProp(name, value) {
      this._props[name] = value;
      if (typeof value === "function" && Object.prototype.hasOwnProperty.call(this._pending, name)) {
        const payload = this._pending[name];
        delete this._pending[name];
        queueMicrotask(() => this._emit(name, payload));
      }
      this._propChanged(name, value);
    }

    /** A setter's value changed; subclasses re-render what depends on it. */
    _propChanged() {}

    /** Appearance, locale or display options changed (init, or the instance's update()). */
    _presentationChanged() {
      const connector = this._connector;
      if (!connector) return;
      const variables = (connector.appearance && connector.appearance.variables) || {};
      const declarations = [];
      for (const [key, property] of Object.entries(APPEARANCE_VARIABLES)) {
        const value = variables[key];
        if (value !== undefined && value !== null && value !== "") {
          declarations.push(`${property}: ${String(value).replace(/[;{}<]/g, "")};`);
        }
      }
      this._variables.textContent = `:host { ${declarations.join(" ")} }`;
      this._root.dataset.locale = connector.locale;
      this._root.dataset.overlay = this._overlay();
      this._root.dataset.showObjectIds = String(!!connector.displayOptions.showObjectIds);
      this._displayChanged();
    }

    /** Display options changed; subclasses re-render. */
    _displayChanged() {}

    /** Something on the page changed the account; components that show it reload. */
    _accountChanged() {}

    _overlay() {
      const overlays = this._connector && this._connector.appearance && this._connector.appearance.overlays;
      return overlays === "drawer" ? "drawer" : "dialog";
    }

    _showIds() { return !!(this._connector && this._connector.displayOptions.showObjectIds); }
  }

  for (const setter of SETTERS) {
    const name = propName(setter);
    Object.defineProperty(ConnectElement.prototype, `${setter}InternalOnly`, {
      value: function (value) { this._setProp(name, value); },
      writable: true,
      configurable: true,
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Requirements: which of the account's requirement strings a component asks for, and the
  // section of the forms each one belongs to.
  // ---------------------------------------------------------------------------------------------

  /** The requirement strings to collect, per the component's collectionOptions. */
  function dueRequirements(account, collectionOptions) {
    const options = collectionOptions || {};
    const r = account.requirements || {};
    const f = account.future_requirements || {};
    const eventually = options.fields === "eventually_due";
    let due = [...(r.currently_due || []), ...(r.past_due || [])];
    if (eventually) due.push(...(r.eventually_due || []));
    if (options.futureRequirements === "include") {
      due.push(...(f.currently_due || []), ...(f.past_due || []));
      if (eventually) due.push(...(f.eventually_due || []));
    }
    const covers = (list, req) => list.some((x) => req === x || req.startsWith(`${x}.`));
    const only = options.requirements && options.requirements.only;
    const exclude = options.requirements && options.requirements.exclude;
    if (Array.isArray(only)) due = due.filter((req) => covers(only, req));
    if (Array.isArray(exclude)) due = due.filter((req) => !covers(exclude, req));
    return new Set(due);
  }

  const COMPANY_LIKE = new Set(["company", "non_profit", "government_entity"]);
  const PEOPLE_REQUIREMENT = /^(representative|owners|directors|executives|person_[A-Za-z0-9]+)\./;

  /** The sections, in onboarding order. `matches` tells which requirement strings each owns. */
  const SECTIONS = [
    { id: "business_type", title: "Business type",
      matches: (req) => req === "business_type",
      applies: () => true },
    { id: "personal_details", title: "Personal details",
      matches: (req) => req.startsWith("individual."),
      applies: (a) => a.business_type === "individual" },
    { id: "company_details", title: "Company details",
      matches: (req) => req.startsWith("company.") && !/_provided$/.test(req),
      applies: (a) => COMPANY_LIKE.has(a.business_type) },
    { id: "people", title: "People",
      matches: (req) => PEOPLE_REQUIREMENT.test(req) || /^company\.(owners|directors|executives)_provided$/.test(req),
      applies: (a) => COMPANY_LIKE.has(a.business_type) },
    { id: "business_profile", title: "Business profile",
      matches: (req) => req.startsWith("business_profile.") || req.startsWith("settings."),
      applies: () => true },
    { id: "external_account", title: "Bank account",
      matches: (req) => req === "external_account" || req.startsWith("external_account."),
      applies: (a, features) => features.external_account_collection !== false },
    { id: "tos_acceptance", title: "Terms of service",
      matches: (req) => req.startsWith("tos_acceptance."),
      applies: (a, features, props) => !props.skipTermsOfServiceCollection },
  ];
  const sectionById = (id) => SECTIONS.find((s) => s.id === id);

  /** The requirement strings in `due` that a section owns. */
  function sectionDue(section, due) {
    return [...due].filter((req) => section.matches(req));
  }

  /** Requirement errors (verification failures) for the component's requirements. */
  function requirementErrors(account) {
    const errors = [...((account.requirements || {}).errors || [])];
    return errors.filter((e) => e && e.requirement);
  }

  function pendingVerification(account) {
    return [...((account.requirements || {}).pending_verification || [])];
  }

  /** Whether the simulated sign-in applies: Stripe collects requirements and the session did not disable user authentication. */
  function needsSignIn(account, features) {
    const controller = account.controller || {};
    return controller.requirement_collection === "stripe" && features.disable_stripe_user_authentication === false;
  }

  // ---------------------------------------------------------------------------------------------
  // Forms: field lists, rendering with labels and error slots, collecting values, and putting
  // the server's errors (their bracketed `param`) next to the right input.
  // ---------------------------------------------------------------------------------------------

  const F = {
    firstName: { path: "first_name", label: "First name", autocomplete: "given-name" },
    lastName: { path: "last_name", label: "Last name", autocomplete: "family-name" },
    email: { path: "email", label: "Email", type: "email", autocomplete: "email" },
    phone: { path: "phone", label: "Phone number", type: "tel", autocomplete: "tel" },
    dob: { legend: "Date of birth", row: true, fields: [
      { path: "dob.month", label: "Month", inputmode: "numeric", autocomplete: "bday-month", maxlength: 2, placeholder: "MM", number: true },
      { path: "dob.day", label: "Day", inputmode: "numeric", autocomplete: "bday-day", maxlength: 2, placeholder: "DD", number: true },
      { path: "dob.year", label: "Year", inputmode: "numeric", autocomplete: "bday-year", maxlength: 4, placeholder: "YYYY", number: true },
    ] },
    address: (legend) => ({ legend, fields: [
      { path: "address.line1", label: "Address line 1", autocomplete: "address-line1" },
      { path: "address.line2", label: "Address line 2", autocomplete: "address-line2", optional: true },
      { row: true, fields: [
        { path: "address.city", label: "City", autocomplete: "address-level2" },
        { path: "address.state", label: "State", autocomplete: "address-level1" },
        { path: "address.postal_code", label: "ZIP or postal code", autocomplete: "postal-code" },
      ] },
    ] }),
    ssnLast4: { path: "ssn_last_4", label: "Last 4 digits of Social Security number", inputmode: "numeric", maxlength: 4,
      sensitive: "ssn_last_4_provided", autocomplete: "off" },
    idNumber: { path: "id_number", label: "Full Social Security number or ID number", inputmode: "numeric",
      sensitive: "id_number_provided", autocomplete: "off" },
  };

  /** Walks a field list, calling fn on every leaf field. */
  function eachField(items, fn) {
    for (const item of items) {
      if (item.fields) eachField(item.fields, fn); else fn(item);
    }
  }

  /**
   * A form over one object of the API. `prefix` is the parameter prefix (`individual`,
   * `company`, or "" for a person's own endpoint); `reqPrefix` the requirement prefix
   * (`individual`, `person_…`, `representative`).
   */
  class FormView {
    constructor({ items, prefix, reqPrefix, values, due, idPrefix }) {
      this.items = items;
      this.prefix = prefix || "";
      this.reqPrefix = reqPrefix || prefix || "";
      this.values = values || {};
      this.due = due || new Set();
      this.inputs = new Map();   // param name → {input, error, spec}
      this.alert = h("div", { class: "cs-alert", role: "alert", hidden: true, "data-testid": "cs-form-error" });
      this.node = h("div", { class: "cs-form" }, this.alert, this.items.map((item) => this.#render(item)));
      this.idPrefix = idPrefix || "";
    }

    nameOf(spec) { return spec.name || paramName(this.prefix, spec.path); }
    reqOf(spec) { return spec.req || `${this.reqPrefix}.${spec.path}`; }

    #render(item) {
      if (item.fields) {
        const inner = item.fields.map((f) => this.#render(f));
        if (item.legend) {
          return h("fieldset", {}, h("legend", {}, item.legend), item.row ? h("div", { class: "cs-row" }, inner) : inner);
        }
        return h("div", { class: item.row ? "cs-row" : "" }, inner);
      }
      return this.#field(item);
    }

    #field(spec) {
      const name = this.nameOf(spec);
      const id = uid("field");
      const errorId = `${id}-error`;
      const hintId = `${id}-hint`;
      const current = spec.value !== undefined ? spec.value : (spec.path ? dig(this.values, spec.path) : undefined);
      const provided = spec.sensitive && this.values[spec.sensitive];
      const due = this.due.has(this.reqOf(spec));
      let hint = spec.hint || "";
      if (spec.sensitive && provided) hint = "Already provided. Leave empty to keep it.";
      const describedBy = [hint ? hintId : "", errorId].filter(Boolean).join(" ");
      const common = { id, name, "aria-describedby": describedBy, "data-testid": `field-${testId(name)}` };
      let input;
      if (spec.type === "checkbox") {
        input = h("input", { ...common, type: "checkbox", checked: current === true || current === "true" });
        const error = h("div", { class: "cs-error", id: errorId });
        // A box the account is asked to have checked (an attestation, a role the person must hold).
        const mustCheck = !spec.optional && (spec.required || due);
        if (mustCheck) input.setAttribute("aria-required", "true");
        this.inputs.set(name, { input, error, spec, required: mustCheck });
        return h("div", { class: "cs-field" },
          h("label", { class: "cs-check", for: id }, input, h("span", {}, spec.label)), error);
      }
      if (spec.type === "select") {
        input = h("select", common,
          h("option", { value: "" }, spec.placeholder || "Select…"),
          spec.options.map(([value, label]) => h("option", { value, selected: String(current || "") === value }, label)));
      } else if (spec.type === "textarea") {
        input = h("textarea", { ...common, rows: 3 });
        input.value = current === undefined || current === null ? "" : String(current);
      } else {
        input = h("input", {
          ...common, type: spec.type || "text", autocomplete: spec.autocomplete, inputmode: spec.inputmode,
          maxlength: spec.maxlength, placeholder: spec.placeholder,
        });
        input.value = spec.sensitive || current === undefined || current === null ? "" : String(current);
      }
      // Required: what the account is asked for (a secret already on file is not asked again),
      // and what the form itself needs.
      const required = !spec.optional && (spec.required || (due && !provided));
      if (required) input.setAttribute("aria-required", "true");
      const error = h("div", { class: "cs-error", id: errorId });
      this.inputs.set(name, { input, error, spec, required });
      return h("div", { class: "cs-field" },
        h("label", { for: id }, spec.label, spec.optional ? h("span", { class: "cs-muted" }, " (optional)") : null),
        hint ? h("div", { class: "cs-muted", id: hintId }, hint) : null,
        input, error);
    }

    /** The form's values as a nested params object: only what the user filled in. */
    collect() {
      const out = {};
      for (const [name, { input, spec }] of this.inputs) {
        let value;
        if (spec.type === "checkbox") {
          if (spec.onlyWhenChecked && !input.checked) continue;
          value = input.checked ? "true" : "false";
        } else {
          value = input.value.trim();
          if (value === "") continue;
          if (spec.number) value = String(parseInt(value, 10));
        }
        assign(out, name.replace(/\]\[|\[/g, ".").replace(/\]$/, ""), value);
      }
      return out;
    }

    value(name) {
      const entry = this.inputs.get(name);
      if (!entry) return undefined;
      return entry.spec.type === "checkbox" ? entry.input.checked : entry.input.value.trim();
    }

    clearErrors() {
      this.alert.hidden = true;
      this.alert.textContent = "";
      for (const { input, error } of this.inputs.values()) {
        input.removeAttribute("aria-invalid");
        error.textContent = "";
      }
    }

    /** Marks one input invalid. Returns false when the form has no such input. */
    fieldError(name, message) {
      const entry = this.inputs.get(name);
      if (!entry) return false;
      entry.input.setAttribute("aria-invalid", "true");
      entry.error.textContent = message;
      return true;
    }

    /** Client-side check: required fields that are empty. Returns true when valid. */
    validate() {
      let ok = true;
      for (const [name, { input, spec, required }] of this.inputs) {
        if (!required) continue;
        if (spec.type === "checkbox") {
          if (!input.checked) {
            this.fieldError(name, "Check this box to continue.");
            ok = false;
          }
          continue;
        }
        if (input.value.trim() === "") {
          this.fieldError(name, spec.type === "select" ? `Choose ${spec.label.toLowerCase()}.` : `Enter ${spec.label.toLowerCase()}.`);
          ok = false;
        }
      }
      return ok;
    }

    /** An API error: next to its input when its param names one, else at the top. */
    apiError(error) {
      const param = error && error.api && error.api.param;
      if (param && this.fieldError(param, error.message)) return;
      this.formError(error.message || "Something went wrong.");
    }

    formError(message) {
      this.alert.hidden = false;
      this.alert.textContent = message;
    }

    /** Verification failures from the account's requirements.errors, next to their inputs. */
    requirementErrors(errors) {
      for (const e of errors) {
        if (!e.requirement.startsWith(`${this.reqPrefix}.`)) continue;
        const path = e.requirement.slice(this.reqPrefix.length + 1);
        const name = paramName(this.prefix, path);
        if (!this.fieldError(name, e.reason || humanize(e.code))) this.formError(e.reason || humanize(e.code));
      }
    }

    focusFirstError() {
      for (const { input } of this.inputs.values()) {
        if (input.getAttribute("aria-invalid") === "true") { input.focus(); return; }
      }
      if (!this.alert.hidden) {
        this.alert.setAttribute("tabindex", "-1");
        this.alert.focus();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Section editors, shared by onboarding (a step each) and account management (an overlay
  // each). An editor is {node, submit(): Promise<boolean>}: submit validates, saves, and
  // reports the server's refusals next to the inputs.
  // ---------------------------------------------------------------------------------------------

  const MCC_OPTIONS = [
    ["5734", "Software"], ["7372", "Computer programming and data processing"],
    ["5812", "Restaurants and eating places"], ["5999", "Retail: miscellaneous"],
    ["5691", "Clothing stores"], ["7299", "Personal services"], ["8299", "Education"],
    ["8398", "Charitable organizations"], ["7011", "Lodging"], ["4121", "Taxis and ride sharing"],
    ["8999", "Professional services"],
  ];
  const CURRENCY_BY_COUNTRY = { US: "usd", CA: "cad", GB: "gbp", AU: "aud", NZ: "nzd", JP: "jpy", CH: "chf",
    DE: "eur", FR: "eur", ES: "eur", IT: "eur", NL: "eur", IE: "eur", BE: "eur", AT: "eur", PT: "eur", FI: "eur" };
  const BUSINESS_TYPES = [
    ["individual", "Individual or sole proprietor", "You run the business yourself, without a separate legal entity."],
    ["company", "Company", "A corporation, LLC or partnership."],
    ["non_profit", "Non-profit organization", "A registered charity or other non-profit."],
    ["government_entity", "Government entity", "A government agency or public body."],
  ];
  /** Test-mode hints: the server's documented test values. */
  const TEST_HINTS = {
    phone: "Test mode: 0000000000",
    "address.line1": "Test mode: address_full_match",
    ssn_last_4: "Test mode: 0000",
    id_number: "Test mode: 000000000",
    tax_id: "Test mode: 000000000",
    routing_number: "Test mode: 110000000",
    account_number: "Test mode: 000123456789",
  };

  function withHints(items, testMode) {
    if (!testMode) return items;
    return items.map((item) => {
      if (item.fields) return { ...item, fields: withHints(item.fields, testMode) };
      const key = item.path || item.name;
      return TEST_HINTS[key] ? { ...item, hint: TEST_HINTS[key] } : item;
    });
  }

  function dobTestNote(testMode) {
    return testMode ? h("p", { class: "cs-muted" }, "Test mode: a date of birth of 01/01/1902 verifies at once, 01/01/1901 after a short delay.") : null;
  }

  /** Runs a save; API refusals go to the form. Returns whether it succeeded. */
  async function saving(form, fn) {
    form.clearErrors();
    try {
      await fn();
      return true;
    } catch (error) {
      const e = asEmbeddedError(error);
      if (e.api && e.api.message) form.apiError(e); else form.formError(e.message);
      form.focusFirstError();
      return false;
    }
  }

  function requireAll(form) {
    if (form.validate()) return true;
    form.focusFirstError();
    return false;
  }

  const EDITORS = {
    business_type(ctx) {
      const error = h("div", { class: "cs-error", id: uid("err") });
      const radios = BUSINESS_TYPES.map(([value, label, description]) => {
        const id = uid("bt");
        return h("label", { class: "cs-choice", for: id },
          h("input", { type: "radio", name: "business_type", id, value, checked: ctx.account.business_type === value,
            "data-testid": `business-type-${value}` }),
          h("span", {}, h("strong", {}, label), h("br"), h("span", { class: "cs-muted" }, description)));
      });
      const fieldset = h("fieldset", { "aria-describedby": error.id, role: "radiogroup" },
        h("legend", {}, "What kind of business is this?"), radios, error);
      const form = new FormView({ items: [] });
      form.inputs.set("business_type", { input: fieldset, error, spec: { label: "Business type" } });
      return {
        node: h("div", {}, form.node, fieldset),
        submit: () => {
          const checked = fieldset.querySelector("input:checked");
          form.clearErrors();
          if (!checked) {
            form.fieldError("business_type", "Choose a business type.");
            checked || radios[0].querySelector("input").focus();
            return false;
          }
          return saving(form, () => ctx.api("POST", "/v1/account", { business_type: checked.value }));
        },
      };
    },

    personal_details(ctx) {
      const individual = ctx.account.individual || {};
      const us = (ctx.account.country || "US") === "US";
      const items = [
        { row: true, fields: [F.firstName, F.lastName] },
        { row: true, fields: [F.email, F.phone] },
        F.dob,
        F.address("Home address"),
      ];
      if (us || ctx.due.has("individual.ssn_last_4") || individual.ssn_last_4_provided) items.push(F.ssnLast4);
      if (ctx.due.has("individual.id_number") || individual.id_number_provided) items.push(F.idNumber);
      const form = new FormView({ items: withHints(items, ctx.testMode), prefix: "individual", values: individual, due: ctx.due });
      form.requirementErrors(ctx.errors);
      return {
        node: h("div", {}, dobTestNote(ctx.testMode), form.node),
        submit: () => requireAll(form) && saving(form, () => ctx.api("POST", "/v1/account", form.collect())),
      };
    },

    company_details(ctx) {
      const company = ctx.account.company || {};
      const items = [
        { path: "name", label: "Legal business name", autocomplete: "organization" },
        { row: true, fields: [
          { path: "phone", label: "Business phone number", type: "tel", autocomplete: "tel" },
          { path: "tax_id", label: "Employer Identification Number (EIN)", inputmode: "numeric", sensitive: "tax_id_provided", autocomplete: "off" },
        ] },
        F.address("Business address"),
      ];
      const form = new FormView({ items: withHints(items, ctx.testMode), prefix: "company", values: company, due: ctx.due });
      form.requirementErrors(ctx.errors);
      return {
        node: form.node,
        submit: () => requireAll(form) && saving(form, () => ctx.api("POST", "/v1/account", form.collect())),
      };
    },

    people(ctx) {
      return peopleEditor(ctx);
    },

    business_profile(ctx) {
      const profile = ctx.account.business_profile || {};
      const descriptor = dig(ctx.account, "settings.payments.statement_descriptor");
      const urlDue = ctx.due.has("business_profile.url");
      const items = [
        { path: "mcc", label: "Industry", type: "select", options: MCC_OPTIONS, placeholder: "Choose an industry" },
        { path: "url", label: "Business website", type: "url", autocomplete: "url", optional: true,
          hint: urlDue ? "Required unless you describe what you sell below." : "" },
        { path: "product_description", label: "What do you sell?", type: "textarea", optional: true },
        { row: true, fields: [
          { path: "name", label: "Public business name", optional: true, autocomplete: "organization" },
          { path: "support_email", label: "Support email", type: "email", optional: true },
          { path: "support_phone", label: "Support phone", type: "tel", optional: true },
        ] },
        { name: "settings[payments][statement_descriptor]", req: "settings.payments.statement_descriptor",
          label: "Statement descriptor", value: descriptor, maxlength: 22,
          hint: "Shown on your customers' card statements: 5 to 22 characters." },
      ];
      const form = new FormView({ items, prefix: "business_profile", values: profile, due: ctx.due });
      form.requirementErrors(ctx.errors);
      return {
        node: form.node,
        submit: () => {
          form.clearErrors();
          let ok = form.validate();
          if (urlDue && !form.value("business_profile[url]") && !form.value("business_profile[product_description]")) {
            form.fieldError("business_profile[url]", "Enter your business website, or describe what you sell.");
            ok = false;
          }
          if (!ok) { form.focusFirstError(); return false; }
          const values = form.collect();
          return saving(form, () => ctx.api("POST", "/v1/account", values));
        },
      };
    },

    external_account(ctx) {
      const country = ctx.account.country || "US";
      const currency = CURRENCY_BY_COUNTRY[country] || "usd";
      const items = [
        { name: "account_holder_name", label: "Account holder name", autocomplete: "name", required: true },
        { row: true, fields: [
          { name: "routing_number", label: "Routing number", inputmode: "numeric", required: true, autocomplete: "off" },
          { name: "account_number", label: "Account number", inputmode: "numeric", required: true, autocomplete: "off" },
        ] },
        { name: "account_number_confirmation", label: "Confirm account number", inputmode: "numeric", required: true, autocomplete: "off" },
      ];
      const form = new FormView({ items: withHints(items, ctx.testMode), due: ctx.due });
      const existing = ctx.banks || [];
      return {
        node: h("div", {},
          existing.length ? h("p", { class: "cs-muted" }, `Payouts currently go to ${existing.map(bankLabel).join(", ")}. A new account replaces the default.`) : null,
          h("p", {}, `Payouts are paid in ${currency.toUpperCase()} to a checking account in ${country}.`),
          form.node),
        submit: () => {
          form.clearErrors();
          if (!requireAll(form)) return false;
          if (form.value("account_number") !== form.value("account_number_confirmation")) {
            form.fieldError("account_number_confirmation", "The account numbers do not match.");
            form.focusFirstError();
            return false;
          }
          const { account_number_confirmation: _, ...values } = form.collect();
          return saving(form, () => ctx.api("POST", "/v1/account/external_accounts", { country, currency, ...values }));
        },
      };
    },

    tos_acceptance(ctx) {
      const tos = ctx.account.tos_acceptance || {};
      const recipient = tos.service_agreement === "recipient";
      const termsUrl = recipient ? ctx.props.recipientTermsOfServiceUrl : ctx.props.fullTermsOfServiceUrl;
      const privacyUrl = ctx.props.privacyPolicyUrl;
      const link = (url, text, testid) => (url ? h("a", { href: url, target: "_blank", rel: "noopener", "data-testid": testid }, text) : text);
      const form = new FormView({ items: [
        { name: "cs_accept_terms", label: "I have read and accept the terms above.", type: "checkbox" },
      ] });
      return {
        node: h("div", {},
          h("p", {}, "To receive payments and payouts, the account holder accepts the ",
            link(termsUrl, recipient ? "recipient services agreement" : "services agreement", "cs-terms-link"), " and the ",
            link(privacyUrl, "privacy policy", "cs-privacy-link"), "."),
          tos.date ? h("p", { class: "cs-muted" }, `Accepted on ${formatDate(tos.date, ctx.locale)}.`) : null,
          form.node),
        submit: () => {
          form.clearErrors();
          if (!form.value("cs_accept_terms")) {
            form.fieldError("cs_accept_terms", "Accept the terms to continue.");
            form.focusFirstError();
            return false;
          }
          return saving(form, () => ctx.api("POST", "/v1/account", { tos_acceptance: { user_agent: navigator.userAgent } }));
        },
      };
    },
  };

  function bankAccounts(account) {
    const list = account.external_accounts;
    return ((list && list.data) || []).filter((x) => x && x.object !== "card");
  }

  function bankLabel(ba) {
    return `${ba.bank_name || "bank account"} ending ${ba.last4 || "????"}`;
  }

  function formatDate(unix, locale) {
    try {
      const tag = locale && locale !== "auto" ? locale : undefined;
      return new Intl.DateTimeFormat(tag, { dateStyle: "medium" }).format(new Date(unix * 1000));
    } catch (_) {
      return new Date(unix * 1000).toISOString().slice(0, 10);
    }
  }

  /** The company's people: its representative (a form), others (a list), and the "provided" attestations. */
  function peopleEditor(ctx) {
    const persons = ctx.persons || [];
    const representative = persons.find((p) => p.relationship && p.relationship.representative);
    const us = (ctx.account.country || "US") === "US";
    const personItems = (reqPrefix, values) => {
      const items = [
        { row: true, fields: [F.firstName, F.lastName] },
        { row: true, fields: [F.email, F.phone] },
        F.dob,
        F.address("Home address"),
      ];
      if (us || ctx.due.has(`${reqPrefix}.ssn_last_4`) || values.ssn_last_4_provided) items.push(F.ssnLast4);
      if (ctx.due.has(`${reqPrefix}.id_number`) || values.id_number_provided) items.push(F.idNumber);
      items.push(
        { path: "relationship.title", label: "Job title", autocomplete: "organization-title", required: reqPrefix === "representative" },
        { path: "relationship.executive", label: "This person is an executive (for example the CEO or another senior manager)", type: "checkbox" },
        { path: "relationship.owner", label: "This person owns 25% or more of the company", type: "checkbox" },
        { path: "relationship.director", label: "This person is a director of the company", type: "checkbox" },
        { path: "relationship.percent_ownership", label: "Percent ownership", inputmode: "decimal", optional: true },
      );
      return withHints(items, ctx.testMode);
    };
    const repPrefix = representative ? representative.id : "representative";
    const repForm = new FormView({ items: personItems(repPrefix, representative || {}), prefix: "", reqPrefix: repPrefix,
      values: representative || {}, due: ctx.due });
    repForm.requirementErrors(ctx.errors);

    const attest = [];
    const company = ctx.account.company || {};
    for (const [flag, label] of [
      ["owners_provided", "I have added everyone who owns 25% or more of the company."],
      ["directors_provided", "I have added every director of the company."],
      ["executives_provided", "I have added every executive of the company."],
    ]) {
      if (ctx.due.has(`company.${flag}`) || company[flag]) {
        attest.push({ path: flag, label, type: "checkbox", value: company[flag] === true, onlyWhenChecked: true });
      }
    }
    const attestForm = new FormView({ items: attest, prefix: "company", values: company, due: ctx.due });

    const others = persons.filter((p) => p !== representative);
    const othersList = h("ul", { class: "cs-list", "data-testid": "cs-people-list" }, others.map((p) => {
      const roles = Object.entries(p.relationship || {}).filter(([k, v]) => v === true && k !== "representative").map(([k]) => k);
      const needs = [...ctx.due].some((req) => req.startsWith(`${p.id}.`));
      return h("li", {}, `${[p.first_name, p.last_name].filter(Boolean).join(" ") || "Unnamed person"}`,
        roles.length ? ` (${roles.join(", ")})` : "",
        needs ? h("span", { class: "cs-badge", "data-tone": "warning" }, "needs information") : null,
        ctx.showIds ? h("span", { class: "cs-muted" }, ` ${p.id}`) : null, " ",
        h("button", { type: "button", class: "cs-danger-link", "data-testid": `cs-remove-person-${p.id}`,
          onclick: async () => { await ctx.api("DELETE", `/v1/account/persons/${p.id}`); await ctx.refresh(); } },
        "Remove", h("span", { class: "cs-visually-hidden" }, ` ${p.first_name || "person"}`)));
    }));

    const addArea = h("div", {});
    const addButton = h("button", { type: "button", "data-testid": "cs-add-person", onclick: () => {
      addButton.hidden = true;
      const form = new FormView({ items: personItems("owners", {}), prefix: "", reqPrefix: "owners", values: { relationship: { owner: true } }, due: ctx.due });
      const save = h("button", { type: "button", class: "cs-primary", "data-testid": "cs-save-person", onclick: async () => {
        if (!requireAll(form)) return;
        save.disabled = true;
        if (await saving(form, () => ctx.api("POST", "/v1/account/persons", form.collect()))) await ctx.refresh();
        save.disabled = false;
      } }, "Save person");
      addArea.replaceChildren(h("div", { class: "cs-card" }, h("h3", { tabindex: "-1" }, "Add a person"), form.node,
        h("div", { class: "cs-actions" }, save, h("button", { type: "button", onclick: () => { addArea.replaceChildren(); addButton.hidden = false; } }, "Cancel"))));
      addArea.querySelector("h3").focus();
    } }, "Add an owner or director");

    return {
      node: h("div", {},
        h("h3", {}, "Representative"),
        h("p", { class: "cs-muted" }, "The person who can act for the company and who manages this account."),
        dobTestNote(ctx.testMode),
        repForm.node,
        h("h3", {}, "Owners and directors"),
        others.length ? othersList : h("p", { class: "cs-muted" }, "No one else added yet."),
        addButton, addArea,
        attest.length ? h("div", { style: "margin-top: 16px" }, attestForm.node) : null),
      submit: async () => {
        repForm.clearErrors();
        attestForm.clearErrors();
        const repOk = repForm.validate();
        const ok = attestForm.validate() && repOk;
        if (!ok) { repForm.focusFirstError(); attestForm.focusFirstError(); return false; }
        const values = repForm.collect();
        const saved = await saving(repForm, () => representative
          ? ctx.api("POST", `/v1/account/persons/${representative.id}`, values)
          : ctx.api("POST", "/v1/account/persons", { ...values, relationship: { ...(values.relationship || {}), representative: "true" } }));
        if (!saved) return false;
        const flags = attestForm.collect();
        if (flags.company && Object.keys(flags.company).length) {
          return saving(attestForm, () => ctx.api("POST", "/v1/account", flags));
        }
        return true;
      },
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Data shared by the three account components: the account, its persons, what is due.
  // ---------------------------------------------------------------------------------------------

  async function loadAccount(element) {
    const connector = element._connector;
    const account = await connector.request("GET", "/v1/account");
    let persons = [];
    if (COMPANY_LIKE.has(account.business_type)) {
      try {
        const list = await connector.request("GET", "/v1/account/persons", { limit: 100 });
        persons = (list && list.data) || [];
      } catch (error) {
        // A server without the Persons API: the people step shows an empty list.
        if (!(error instanceof EmbeddedError) || error.status !== 404) throw error;
      }
    }
    // Bank accounts come from their own endpoint, which only sessions that collect them may
    // call; the account's embedded list is the fallback.
    let banks = bankAccounts(account);
    if (element._features.external_account_collection !== false) {
      const list = await connector.request("GET", "/v1/account/external_accounts", { limit: 100 });
      banks = ((list && list.data) || []).filter((x) => x && x.object !== "card");
    }
    return { account, persons, banks };
  }

  /** The context an editor gets. */
  function editorContext(element, data, refresh) {
    const collectionOptions = element._props.collectionOptions;
    return {
      account: data.account,
      persons: data.persons,
      banks: data.banks,
      due: dueRequirements(data.account, collectionOptions),
      errors: requirementErrors(data.account),
      features: element._features,
      props: element._props,
      testMode: element._session ? element._session.livemode === false : true,
      locale: element._connector.locale,
      showIds: element._showIds(),
      api: (method, path, params) => element._connector.request(method, path, params),
      refresh,
    };
  }

  /**
   * The simulated sign-in: shown where a real deployment would make the user authenticate with
   * the payments provider. Nothing leaves the browser; the test code is SIGN_IN_TEST_CODE.
   * One sign-in serves every element of the connector.
   */
  function signIn(element, container) {
    const connector = element._connector;
    if (connector.signedIn) return Promise.resolve();
    if (!connector._signInWaiter) {
      let resolve;
      const promise = new Promise((r) => { resolve = r; });
      connector._signInWaiter = { promise, resolve };
    }
    const form = new FormView({ items: [
      { name: "code", label: "Verification code", inputmode: "numeric", autocomplete: "one-time-code", required: true, maxlength: 7 },
    ] });
    const heading = h("h2", { tabindex: "-1" }, "Sign in to continue");
    const submit = h("button", { type: "submit", class: "cs-primary", "data-testid": "cs-signin-submit" }, "Verify");
    const node = h("form", { novalidate: true, "data-testid": "cs-signin", onsubmit: (event) => {
      event.preventDefault();
      form.clearErrors();
      if (!requireAll(form)) return;
      const code = String(form.value("code")).replace(/[\s-]/g, "");
      if (code !== SIGN_IN_TEST_CODE) {
        form.fieldError("code", `That code is not valid. This sign-in is simulated: use the test code ${SIGN_IN_TEST_CODE}.`);
        form.focusFirstError();
        return;
      }
      connector.signedIn = true;
      connector._signInWaiter.resolve();
      connector._signInWaiter = null;
    } },
    h("div", { class: "cs-simulated", "data-testid": "cs-simulated-label" }, "Simulated sign-in (offline test mode)"),
    heading,
    h("p", {}, "In a live deployment the account holder would confirm their identity here. This offline runtime simulates that step: ",
      "enter the test code ", h("strong", {}, SIGN_IN_TEST_CODE), "."),
    form.node,
    h("div", { class: "cs-actions" }, submit));
    container.replaceChildren(node);
    heading.focus({ preventScroll: true });
    return connector._signInWaiter.promise;
  }

  // ---------------------------------------------------------------------------------------------
  // account-onboarding
  // ---------------------------------------------------------------------------------------------

  class OnboardingFlow {
    /**
     * @param {ConnectElement} element the element whose connector, features and setters apply
     * @param {HTMLElement} container where the flow renders
     * @param {() => void} onExit called when the user leaves the flow
     */
    constructor(element, container, onExit) {
      this.element = element;
      this.container = container;
      this.onExit = onExit;
      this.seen = new Set();
      this.current = null;
      this.data = null;
      this.notice = "";
      this.poll = null;
    }

    /** Starts at the first step with something due; `data` is a fresh loadAccount() if the caller has one. */
    async start(data) {
      if (data) {
        this.data = data;
        this.computeSteps();
      } else {
        await this.reload();
      }
      const first = this.steps.find((s) => s !== "summary" && this.stepDue(s).length) || "summary";
      this.go(first, { focus: false });
    }

    async reload() {
      this.data = await loadAccount(this.element);
      this.computeSteps();
    }

    get ctx() { return editorContext(this.element, this.data, () => this.refresh()); }

    computeSteps() {
      const { account } = this.data;
      const due = dueRequirements(account, this.element._props.collectionOptions);
      const steps = [];
      for (const section of SECTIONS) {
        if (!section.applies(account, this.element._features, this.element._props)) continue;
        const isDue = sectionDue(section, due).length > 0 || (section.id === "business_type" && !account.business_type);
        if (isDue) this.seen.add(section.id);
        if (this.seen.has(section.id)) steps.push(section.id);
      }
      steps.push("summary");
      this.steps = steps;
      this.due = due;
    }

    stepDue(id) {
      if (id === "summary") return [];
      const section = sectionById(id);
      const due = sectionDue(section, this.due);
      if (id === "business_type" && !this.data.account.business_type && !due.length) return ["business_type"];
      return due;
    }

    go(id, { focus = true } = {}) {
      if (!this.steps.includes(id)) id = "summary";
      const changed = this.current !== id;
      this.current = id;
      this.render();
      if (changed) this.element._emit("onStepChange", { step: id });
      if (focus) {
        const heading = this.container.querySelector("[data-step-heading]");
        if (heading) heading.focus({ preventScroll: false });
      }
    }

    /** Reload after a change made inside a step (a person added or removed). */
    async refresh() {
      await this.reload();
      this.render();
    }

    render() {
      clearTimeout(this.poll);
      const index = this.steps.indexOf(this.current);
      const nav = h("nav", { "aria-label": "Onboarding steps" },
        h("ol", { class: "cs-steps", "data-testid": "cs-stepper" }, this.steps.map((id, i) => {
          const complete = id !== "summary" && i < index && !this.stepDue(id).length;
          const title = id === "summary" ? "Review and finish" : sectionById(id).title;
          return h("li", { "aria-current": id === this.current ? "step" : null, "data-state": complete ? "complete" : (id === this.current ? "current" : "upcoming"),
            "data-step": id },
          i < index ? h("button", { type: "button", class: "cs-link", onclick: () => this.go(id) }, title,
            h("span", { class: "cs-visually-hidden" }, complete ? " (complete)" : "")) : h("span", {}, title));
        })));
      const main = this.current === "summary" ? this.renderSummary() : this.renderStep(this.current);
      const root = h("div", { class: "cs-layout", "data-testid": "cs-onboarding" }, nav, main);
      this.container.replaceChildren(root);
    }

    renderStep(id) {
      const section = sectionById(id);
      const editor = EDITORS[id](this.ctx);
      const index = this.steps.indexOf(id);
      const continueButton = h("button", { type: "submit", class: "cs-primary", "data-testid": "cs-continue" }, "Continue");
      const status = h("div", { role: "status", "aria-live": "polite", class: "cs-muted" });
      const form = h("form", { novalidate: true, "data-testid": `cs-step-${id}`, onsubmit: async (event) => {
        event.preventDefault();
        continueButton.disabled = true;
        status.replaceChildren(h("span", { class: "cs-spinner", "aria-hidden": "true" }), "Saving…");
        let ok = false;
        try {
          ok = await editor.submit();
          if (ok) await this.reload();
        } catch (error) {
          ok = false;
          status.textContent = asEmbeddedError(error).message;
          continueButton.disabled = false;
          return;
        }
        continueButton.disabled = false;
        status.textContent = "";
        if (!ok) return;
        const failures = this.ctx.errors.filter((e) => section.matches(e.requirement));
        if (failures.length) {
          this.notice = "Some details could not be verified. Check the highlighted fields.";
          this.go(id);
          return;
        }
        this.notice = "";
        const next = this.steps[this.steps.indexOf(id) + 1] || "summary";
        this.go(next);
      } },
      h("h2", { tabindex: "-1", "data-step-heading": "" }, section.title),
      this.notice ? h("div", { class: "cs-alert", role: "alert" }, this.notice) : null,
      editor.node,
      h("div", { class: "cs-actions" },
        index > 0 ? h("button", { type: "button", "data-testid": "cs-back", onclick: () => { this.notice = ""; this.go(this.steps[index - 1]); } }, "Back") : null,
        continueButton, status));
      return form;
    }

    renderSummary() {
      const { account } = this.data;
      const remaining = this.steps.filter((id) => id !== "summary" && this.stepDue(id).length);
      const covered = new Set(SECTIONS.filter((s) => s.applies(account, this.element._features, this.element._props))
        .flatMap((s) => sectionDue(s, this.due)));
      const uncollectable = [...this.due].filter((req) => !covered.has(req));
      const pending = pendingVerification(account);
      const complete = remaining.length === 0;
      const errors = requirementErrors(account);
      const errorsOf = (id) => errors.filter((e) => sectionById(id).matches(e.requirement));
      const exit = h("button", { type: "button", class: "cs-primary", "data-testid": "cs-exit",
        onclick: () => this.onExit() }, complete ? "Done" : "Save and exit");
      if (pending.length) {
        this.poll = setTimeout(() => this.refresh().catch(() => {}), 1500);
      }
      return h("section", { "data-testid": "cs-summary", "data-complete": String(complete && !pending.length) },
        h("h2", { tabindex: "-1", "data-step-heading": "" }, complete ? "Onboarding complete" : "Review and finish"),
        complete
          ? h("p", { "data-testid": "cs-complete" }, "All the information requested for this account has been provided.")
          : h("div", {}, h("p", {}, "Some information is still needed:"),
            h("ul", { class: "cs-list" }, remaining.map((id) => h("li", { "data-section": id }, sectionById(id).title,
              errorsOf(id).length ? h("span", { class: "cs-error" }, `: ${errorsOf(id)[0].reason || humanize(errorsOf(id)[0].code)}`) : null, " ",
              h("button", { type: "button", class: "cs-link", onclick: () => this.go(id) }, "Review",
                h("span", { class: "cs-visually-hidden" }, ` ${sectionById(id).title}`)))))),
        pending.length ? h("div", { class: "cs-note", role: "status", "data-testid": "cs-pending" },
          h("span", { class: "cs-spinner", "aria-hidden": "true" }), "Verifying the details you provided…") : null,
        uncollectable.length ? h("div", { class: "cs-note", "data-testid": "cs-uncollectable" },
          h("p", {}, "These requirements cannot be collected by this offline runtime:"),
          h("ul", { class: "cs-list" }, uncollectable.map((req) => h("li", {}, h("code", {}, req))))) : null,
        this.element._showIds() ? h("p", { class: "cs-muted" }, `Account ${account.id}`) : null,
        h("div", { class: "cs-actions" }, exit));
    }

    stop() { clearTimeout(this.poll); }
  }

  class AccountOnboardingElement extends ConnectElement {
    async _load() {
      const body = h("div", {});
      this._replace(body);
      let data = await loadAccount(this);
      if (needsSignIn(data.account, this._features) && !this._connector.signedIn) {
        this._emit("onStepChange", { step: "stripe_user_authentication" });
        await signIn(this, body);
        data = null;   // reloaded after the sign-in, which may have taken a while
      }
      this._flow = new OnboardingFlow(this, body, () => this._emit("onExit"));
      await this._flow.start(data);
    }

    _propChanged(name) {
      if (!this._flow || !this._flow.data) return;
      if (["collectionOptions", "skipTermsOfServiceCollection", "fullTermsOfServiceUrl",
        "recipientTermsOfServiceUrl", "privacyPolicyUrl"].includes(name)) {
        this._flow.computeSteps();
        this._flow.go(this._flow.current, { focus: false });
      }
    }

    _displayChanged() {
      if (this._flow && this._flow.data) this._flow.render();
    }

    disconnectedCallback() {
      super.disconnectedCallback();
      if (this._flow) this._flow.stop();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Overlays: account management's editors and the banner's flow open in a modal <dialog>,
  // centred ("dialog") or at the side ("drawer"), per appearance.overlays.
  // ---------------------------------------------------------------------------------------------

  function openOverlay(element, title, testid, build) {
    const dialog = h("dialog", { "data-overlay": element._overlay(), "aria-labelledby": uid("dlg"), "data-testid": testid });
    const headingId = dialog.getAttribute("aria-labelledby");
    const body = h("div", { class: "cs-dialog-body" });
    const close = () => { if (dialog.open) dialog.close(); };
    const opener = element.shadowRoot.activeElement;
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (opener && opener.isConnected) opener.focus();
    });
    const zIndex = dig(element._connector.appearance, "variables.overlayZIndex");
    if (zIndex !== undefined) dialog.style.zIndex = String(zIndex);
    body.append(h("div", { class: "cs-dialog-head" },
      h("h2", { id: headingId, tabindex: "-1" }, title),
      h("button", { type: "button", class: "cs-link", "data-testid": "cs-overlay-close", onclick: close }, "Close")));
    const content = h("div", {});
    body.append(content);
    dialog.append(body);
    element._root.append(dialog);
    dialog.showModal();
    build(content, close);
    return dialog;
  }

  // ---------------------------------------------------------------------------------------------
  // account-management
  // ---------------------------------------------------------------------------------------------

  class AccountManagementElement extends ConnectElement {
    async _load() {
      this._body = h("div", {});
      this._replace(this._body);
      const first = await loadAccount(this);
      if (needsSignIn(first.account, this._features) && !this._connector.signedIn) {
        await signIn(this, this._body);
        await this._refresh();
      } else {
        this._data = first;
        this._render();
      }
    }

    async _refresh() {
      this._data = await loadAccount(this);
      this._render();
    }

    _displayChanged() { if (this._data) this._render(); }
    _propChanged(name) { if (this._data && name === "collectionOptions") this._render(); }
    _accountChanged() {
      if (this._data && !this._root.querySelector("dialog[open]")) this._refresh().catch(() => {});
    }

    _render() {
      const ctx = editorContext(this, this._data, () => this._refresh());
      const { account, persons } = this._data;
      const value = (v) => (v === undefined || v === null || v === "" ? h("span", { class: "cs-muted" }, "Not provided") : String(v));
      const yes = (v) => (v ? "Provided" : h("span", { class: "cs-muted" }, "Not provided"));
      const address = (a) => (a && a.line1 ? [a.line1, a.line2, a.city, a.state, a.postal_code, a.country].filter(Boolean).join(", ") : null);
      const dob = (d) => (d && d.year ? `${String(d.month).padStart(2, "0")}/${String(d.day).padStart(2, "0")}/${d.year}` : null);
      const type = BUSINESS_TYPES.find(([v]) => v === account.business_type);
      const sections = [];
      sections.push(["business_type", "Business type", rowsOf([["Type", value(type && type[1])]])]);
      if (account.business_type === "individual") {
        const i = account.individual || {};
        sections.push(["personal_details", "Personal details", rowsOf([
          ["Name", value([i.first_name, i.last_name].filter(Boolean).join(" "))], ["Email", value(i.email)],
          ["Phone", value(i.phone)], ["Date of birth", value(dob(i.dob))], ["Address", value(address(i.address))],
          ["SSN (last 4)", yes(i.ssn_last_4_provided)],
          ...(this._showIds() && i.id ? [["ID", i.id]] : [])])]);
      }
      if (COMPANY_LIKE.has(account.business_type)) {
        const c = account.company || {};
        sections.push(["company_details", "Company details", rowsOf([
          ["Legal name", value(c.name)], ["Phone", value(c.phone)], ["Tax ID", yes(c.tax_id_provided)],
          ["Address", value(address(c.address))]])]);
        sections.push(["people", "People", persons.length
          ? h("ul", { class: "cs-list" }, persons.map((p) => h("li", {},
            [p.first_name, p.last_name].filter(Boolean).join(" ") || "Unnamed person",
            p.relationship && p.relationship.representative ? h("span", { class: "cs-badge" }, "representative") : null,
            this._showIds() ? h("span", { class: "cs-muted" }, ` ${p.id}`) : null)))
          : h("p", { class: "cs-muted" }, "No people added yet.")]);
      }
      const bp = account.business_profile || {};
      const mcc = MCC_OPTIONS.find(([code]) => code === bp.mcc);
      sections.push(["business_profile", "Business profile", rowsOf([
        ["Industry", value(mcc ? mcc[1] : bp.mcc)], ["Website", value(bp.url)], ["Description", value(bp.product_description)],
        ["Public name", value(bp.name)], ["Support email", value(bp.support_email)],
        ["Statement descriptor", value(dig(account, "settings.payments.statement_descriptor"))]])]);

      const cards = sections.map(([id, title, content]) => {
        const needs = sectionDue(sectionById(id), ctx.due).length > 0;
        return h("section", { class: "cs-card", "data-testid": `cs-section-${id}`, "aria-labelledby": `${id}-h` },
          h("div", { class: "cs-card-head" },
            h("h3", { id: `${id}-h` }, title, needs ? h("span", { class: "cs-badge", "data-tone": "warning" }, "Needs information") : null),
            h("button", { type: "button", class: "cs-link", "data-testid": `cs-edit-${id}`, onclick: () => this._edit(id, title) },
              "Edit", h("span", { class: "cs-visually-hidden" }, ` ${title.toLowerCase()}`))),
          content);
      });

      if (this._features.external_account_collection !== false) {
        const banks = this._data.banks || [];
        cards.push(h("section", { class: "cs-card", "data-testid": "cs-section-external_account", "aria-labelledby": "banks-h" },
          h("div", { class: "cs-card-head" },
            h("h3", { id: "banks-h" }, "Bank accounts"),
            h("button", { type: "button", class: "cs-link", "data-testid": "cs-add-bank-account",
              onclick: () => this._edit("external_account", "Add a bank account") }, "Add bank account")),
          banks.length ? h("ul", { class: "cs-list", "data-testid": "cs-bank-accounts" }, banks.map((ba) => h("li", { "data-testid": `cs-bank-${ba.last4}` },
            bankLabel(ba), ba.default_for_currency ? h("span", { class: "cs-badge", "data-tone": "success" }, "default") : null,
            this._showIds() ? h("span", { class: "cs-muted" }, ` ${ba.id}`) : null, " ",
            h("button", { type: "button", class: "cs-danger-link", "data-testid": `cs-remove-bank-${ba.id}`,
              onclick: async (event) => {
                event.target.disabled = true;
                try {
                  await this._connector.request("DELETE", `/v1/account/external_accounts/${ba.id}`);
                  await this._refresh();
                } catch (error) {
                  event.target.disabled = false;
                  event.target.after(h("span", { class: "cs-error", role: "alert" }, ` ${asEmbeddedError(error).message}`));
                }
              } }, "Remove", h("span", { class: "cs-visually-hidden" }, ` ${bankLabel(ba)}`)))))
            : h("p", { class: "cs-muted" }, "No bank account yet.")));
      }
      const tos = account.tos_acceptance || {};
      cards.push(h("section", { class: "cs-card", "data-testid": "cs-section-tos_acceptance" },
        h("h3", {}, "Terms of service"),
        h("p", {}, tos.date ? `Accepted on ${formatDate(tos.date, this._connector.locale)}.` : "Not accepted yet.")));

      this._body.replaceChildren(h("div", { "data-testid": "cs-account-management" },
        h("h2", {}, "Account details"),
        this._showIds() ? h("p", { class: "cs-muted", "data-testid": "cs-account-id" }, account.id) : null,
        cards));
    }

    _edit(id, title) {
      this._emit("onSectionOpen", { sectionName: id });
      openOverlay(this, title, `cs-edit-overlay-${id}`, (content, close) => {
        const ctx = editorContext(this, this._data, async () => {
          await this._refresh();
          close();
        });
        const editor = EDITORS[id](ctx);
        const save = h("button", { type: "submit", class: "cs-primary", "data-testid": "cs-save" }, "Save");
        content.append(h("form", { novalidate: true, onsubmit: async (event) => {
          event.preventDefault();
          save.disabled = true;
          try {
            if (await editor.submit()) {
              close();
              await this._refresh();
            }
          } finally {
            save.disabled = false;
          }
        } }, editor.node, h("div", { class: "cs-actions" }, save,
          h("button", { type: "button", onclick: close }, "Cancel"))));
        const first = content.querySelector("input, select, textarea");
        if (first) first.focus();
      });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // notification-banner
  // ---------------------------------------------------------------------------------------------

  class NotificationBannerElement extends ConnectElement {
    async _load() {
      await this._refresh();
    }

    async _refresh() {
      this._data = await loadAccount(this);
      this._render();
    }

    _propChanged(name) { if (this._data && name === "collectionOptions") this._render(); }
    _displayChanged() { if (this._data) this._render(); }
    _accountChanged() {
      if (this._data && !this._root.querySelector("dialog[open]")) this._refresh().catch(() => {});
    }

    _render() {
      const { account } = this._data;
      const due = dueRequirements(account, this._props.collectionOptions);
      const errors = requirementErrors(account);
      const items = SECTIONS.filter((s) => s.applies(account, this._features, this._props))
        .map((s) => ({ section: s, due: sectionDue(s, due), errors: errors.filter((e) => s.matches(e.requirement)) }))
        .filter((x) => x.due.length || x.errors.length);
      const pending = pendingVerification(account);
      // While verification runs, look again now and then: the count drops when it completes.
      clearTimeout(this._poll);
      if (pending.length) {
        this._poll = setTimeout(() => { if (this.isConnected) this._refresh().catch(() => {}); }, 2000);
      }
      const actionRequired = items.length;
      const total = actionRequired + (pending.length ? 1 : 0);
      const counts = `${total}/${actionRequired}`;
      if (this._counts !== counts) {
        this._counts = counts;
        this._emit("onNotificationsChange", { total, actionRequired });
      }
      this._root.hidden = total === 0;
      if (total === 0) {
        this._replace(h("div", { "data-testid": "cs-banner-empty" }));
        return;
      }
      this._replace(h("section", { class: "cs-banner", "aria-label": "Account notifications", "data-testid": "cs-notification-banner",
        dataset: { total: String(total), actionRequired: String(actionRequired) } },
      h("div", {},
        h("h2", {}, actionRequired
          ? `${actionRequired} ${actionRequired === 1 ? "item needs" : "items need"} your attention`
          : "Your details are being verified"),
        actionRequired ? h("ul", { class: "cs-list" }, items.map((x) => h("li", { "data-section": x.section.id },
          x.errors.length ? `${x.section.title}: ${x.errors[0].reason || "could not be verified"}` : `${x.section.title}: information needed`))) : null,
        pending.length ? h("p", { class: "cs-muted" }, "No action needed while verification runs.") : null),
      actionRequired ? h("button", { type: "button", class: "cs-primary", "data-testid": "cs-banner-action",
        onclick: () => this._resolve() }, "Update account details") : null));
    }

    _resolve() {
      openOverlay(this, "Update account details", "cs-banner-overlay", (content, close) => {
        const run = async () => {
          let data = await loadAccount(this);
          if (needsSignIn(data.account, this._features) && !this._connector.signedIn) {
            await signIn(this, content);
            data = null;
          }
          const flow = new OnboardingFlow(this, content, close);
          await flow.start(data);
        };
        run().catch((error) => content.replaceChildren(h("div", { role: "alert", class: "cs-alert" }, asEmbeddedError(error).message)));
      }).addEventListener("close", () => { this._refresh().catch((error) => this._fail(error)); });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Every other tag: an explicit panel. These components need data this server does not hold
  // (payments, payouts, issuing, tax...). The panel states that, and exposes the session's
  // resolved features for the component as data attributes, so a platform's own tests can
  // check what its session enabled.
  // ---------------------------------------------------------------------------------------------

  /** The "loaded" callbacks some components fire, with their empty-state payloads. */
  const OFFLINE_LOADED_EVENTS = {
    "payment-disputes": ["onDisputesLoaded", { total: 0 }],
    "instant-payouts-promotion": ["onInstantPayoutsPromotionLoaded", { promotionShown: false }],
    "payout-reconciliation-report": ["onReportAvailabilityLoaded", { isReportAvailable: false }],
  };
  /** Setters whose value names the object the component shows. */
  const OBJECT_SETTERS = [["payment", "Payment"], ["payout", "Payout"], ["financialAccount", "Financial account"],
    ["defaultCard", "Card"], ["issuingProgram", "Issuing program"]];

  class OfflineElement extends ConnectElement {
    async _load() {
      this._loaded = true;
      this._render();
      const loaded = OFFLINE_LOADED_EVENTS[this.connectTag];
      if (loaded) this._emit(loaded[0], loaded[1]);
    }

    _propChanged() { if (this._loaded) this._render(); }

    _render() {
      const key = componentKey(this.connectTag);
      const features = this._features || {};
      const dataset = { component: key, enabled: "true", offline: "true", features: JSON.stringify(features) };
      for (const [name, value] of Object.entries(features)) {
        dataset[`feature${name.split("_").map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("")}`] = String(value);
      }
      const objects = OBJECT_SETTERS.filter(([prop]) => typeof this._props[prop] === "string" && this._props[prop]);
      const closable = typeof this._props.onClose === "function";
      this._replace(h("section", { "data-testid": "cs-offline-panel", dataset, "aria-labelledby": "offline-h" },
        h("h2", { id: "offline-h" }, humanize(key.replace(/_/g, " "))),
        h("p", {}, "This component is not available offline: connect-sessions does not hold the data it shows. ",
          "The session enables it, with the features below."),
        objects.length ? rowsOf(objects.map(([prop, label]) => [label, this._props[prop]])) : null,
        Object.keys(features).length
          ? h("ul", { class: "cs-list", "data-testid": "cs-offline-features" }, Object.entries(features).map(([name, value]) =>
            h("li", { dataset: { feature: name, value: String(value) } }, h("code", {}, name), `: ${value ? "on" : "off"}`)))
          : h("p", { class: "cs-muted" }, "This component has no features to resolve."),
        closable ? h("div", { class: "cs-actions" },
          h("button", { type: "button", "data-testid": "cs-close", onclick: () => this._emit("onClose") }, "Close")) : null));
    }
  }

  /** A definition list of [label, value] pairs; values are text or nodes. */
  function rowsOf(pairs) {
    return h("dl", {}, pairs.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
  }

  // ---------------------------------------------------------------------------------------------
  // Registration and the loader's entry point
  // ---------------------------------------------------------------------------------------------

  const ELEMENT_CLASSES = {
    "account-onboarding": AccountOnboardingElement,
    "account-management": AccountManagementElement,
    "notification-banner": NotificationBannerElement,
  };

  for (const tag of [...STABLE_TAGS, ...PREVIEW_TAGS]) {
    const name = `stripe-connect-${tag}`;
    if (customElements.get(name)) continue;
    const Base = ELEMENT_CLASSES[tag] || OfflineElement;
    customElements.define(name, class extends Base {});
  }

  /**
   * The loader's seam: `init(params)` → `{connect, update, logout}`. `params` is the loader's
   * init params (publishableKey, fetchClientSecret, appearance, locale, fonts, displayOptions)
   * plus the metaOptions the loader adds (eagerClientSecretPromise, sdk, sdkOptions).
   */
  function init(params) {
    const connector = new Connector(params);
    return {
      connect: connector,
      update: (options) => connector.update(options),
      logout: () => connector.logout(),
    };
  }

  window.StripeConnect = window.StripeConnect || {};
  window.StripeConnect.init = init;
  /** Identifies this runtime; the loader ignores it. */
  window.StripeConnect.runtime = Object.freeze({
    name: "connect-sessions",
    version: RUNTIME_VERSION,
    tags: Object.freeze([...STABLE_TAGS, ...PREVIEW_TAGS]),
    setters: Object.freeze([...SETTERS]),
    signInTestCode: SIGN_IN_TEST_CODE,
  });
})();
