// The demo's front end: two small bundles on the stock loaders, built into dist/.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  logLevel: "warn",
  esbuild: { jsx: "automatic" },
  build: {
    outDir: path.join(here, "dist"),
    emptyOutDir: true,
    reportCompressedSize: false,
    rollupOptions: {
      input: { vanilla: path.join(here, "src/vanilla.js"), react: path.join(here, "src/react.jsx") },
      output: { entryFileNames: "[name].js", chunkFileNames: "chunks/[name]-[hash].js" },
    },
  },
});
