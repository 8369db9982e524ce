// Playwright drives Debian's Chromium (never a downloaded browser); scripts/e2e starts the
// server and passes its address and keys in CS_API_BASE, CS_SECRET_KEY, CS_PUBLISHABLE_KEY.
import { defineConfig } from "@playwright/test";

const chromium = process.env.CHROMIUM || "/usr/bin/chromium";

export default defineConfig({
  testDir: "./tests",
  testMatch: /.*\.spec\.mjs$/,
  globalSetup: "./lib/global-setup.mjs",
  fullyParallel: true,
  workers: Number(process.env.E2E_WORKERS || 2),
  timeout: 60_000,
  expect: { timeout: 10_000 },
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"], ["./lib/summary-reporter.mjs"]],
  outputDir: "./test-results",
  use: {
    browserName: "chromium",
    headless: true,
    viewport: { width: 1100, height: 900 },
    locale: "en-US",
    timezoneId: "UTC",
    launchOptions: {
      executablePath: chromium,
      args: [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
      ],
    },
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
});
