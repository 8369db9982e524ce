// Builds the two test apps (vanilla and React, both on the stock @stripe/connect-js) with vite,
// twice: as published ("plain"), and with a bundler alias that puts this project's runtime in
// front of the stock loader ("alias", see apps/alias/connect-js.mjs).
import path from "node:path";
import { build } from "vite";
import { DIST_DIR, E2E_DIR } from "./paths.mjs";

export async function buildApps() {
  for (const variant of ["plain", "alias"]) {
    await build({
      root: E2E_DIR,
      configFile: false,
      logLevel: "warn",
      mode: "production",
      define: { "process.env.NODE_ENV": JSON.stringify("production") },
      esbuild: { jsx: "automatic" },
      resolve: {
        alias: variant === "alias"
          // Only the bare specifier: the alias module itself imports "@stripe/connect-js/pure".
          ? [{ find: /^@stripe\/connect-js$/, replacement: path.join(E2E_DIR, "apps/alias/connect-js.mjs") }]
          : [],
      },
      build: {
        outDir: path.join(DIST_DIR, variant),
        emptyOutDir: true,
        minify: false,
        sourcemap: false,
        reportCompressedSize: false,
        rollupOptions: {
          input: {
            vanilla: path.join(E2E_DIR, "apps/vanilla/main.js"),
            react: path.join(E2E_DIR, "apps/react/main.jsx"),
          },
          output: { entryFileNames: "[name].js", chunkFileNames: "chunks/[name]-[hash].js", format: "es" },
          preserveEntrySignatures: "strict",
        },
      },
    });
  }
}
