// A static server for the test apps, on loopback: the built bundles, the runtime file, and one
// page per app and wiring. It stands in for a platform's web server.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { DIST_DIR, RUNTIME_FILE } from "./paths.mjs";

const TYPES = { ".js": "text/javascript; charset=utf-8", ".html": "text/html; charset=utf-8", ".css": "text/css", ".png": "image/png" };

/**
 * The page of an app in one wiring:
 *   route  - nothing but the bundle: the stock loader injects its vendor's script URL, which the
 *            test browser routes to this project's runtime;
 *   script - the runtime's script tag before the bundle;
 *   alias  - the bundle built with the bundler alias.
 */
export function appPage({ app, wiring, runtimeUrl, apiBase }) {
  const variant = wiring === "alias" ? "alias" : "plain";
  const scriptTag = wiring === "script"
    ? `<script src="${runtimeUrl}"${apiBase ? ` data-api-base="${apiBase}"` : ""}></script>\n    `
    : "";
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>${app} app (${wiring} wiring)</title>
    <style>body { font-family: "DejaVu Sans", sans-serif; margin: 24px; background: #f3f4f7; } [data-component] { margin-bottom: 24px; }</style>
    ${scriptTag}<script type="module" src="/dist/${variant}/${app}.js"></script>
  </head>
  <body>
    <main id="app"></main>
  </body>
</html>
`;
}

export function startStaticServer({ apiBase, serverServesRuntime }) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://localhost");
    const send = (status, type, body) => {
      res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store" });
      res.end(body);
    };
    const page = url.pathname.match(/^\/app\/(vanilla|react)\/(route|script|alias)$/);
    if (page) {
      const [, app, wiring] = page;
      const own = `http://${req.headers.host}/connect-js/v1.0/connect.js`;
      // Where the server serves the runtime, the script tag points there and the API base is
      // the script's own origin; else this server serves the file and data-api-base names the API.
      const runtimeUrl = serverServesRuntime ? `${apiBase}/connect-js/v1.0/connect.js` : own;
      return send(200, TYPES[".html"], appPage({ app, wiring, runtimeUrl, apiBase: serverServesRuntime ? null : apiBase }));
    }
    if (url.pathname === "/blank") return send(200, TYPES[".html"], "<!doctype html><html lang=\"en\"><head><title>blank</title></head><body></body></html>");
    if (url.pathname === "/connect-js/v1.0/connect.js") return send(200, TYPES[".js"], fs.readFileSync(RUNTIME_FILE));
    if (url.pathname.startsWith("/dist/")) {
      const file = path.join(DIST_DIR, path.normalize(url.pathname.slice("/dist/".length)));
      if (file.startsWith(DIST_DIR) && fs.existsSync(file) && fs.statSync(file).isFile()) {
        return send(200, TYPES[path.extname(file)] || "application/octet-stream", fs.readFileSync(file));
      }
    }
    send(404, "text/plain", "not found");
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${server.address().port}` }));
  });
}
