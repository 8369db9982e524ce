// Ends the run with one plain line, "N passed, N failed", which CI reads as the test count.
export default class SummaryReporter {
  constructor() { this.passed = 0; this.failed = 0; this.skipped = 0; }
  onTestEnd(test, result) {
    if (result.status === "passed") this.passed += 1;
    else if (result.status === "skipped") this.skipped += 1;
    else if (result.retry === test.retries) this.failed += 1;
  }
  onEnd() {
    console.log(`e2e: ${this.passed} passed, ${this.failed} failed${this.skipped ? `, ${this.skipped} skipped` : ""}`);
  }
  printsToStdio() { return false; }
}
