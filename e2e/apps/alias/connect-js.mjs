// The bundler-alias wiring: the app's `import ... from "@stripe/connect-js"` resolves here (see
// lib/build-apps.mjs). This module runs the connect-sessions runtime for its side effect, which
// defines window.StripeConnect.init, then hands out the stock loader unchanged; the loader
// finds the runtime already there and loads nothing. The runtime takes its API base from
// window.ConnectSessionsConfig, as there is no script tag to read it from.
import "../../../web/connect-js/connect.js";

export * from "@stripe/connect-js/pure";
