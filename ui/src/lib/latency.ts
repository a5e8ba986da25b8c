// Scan → result-row latency, measured in the window itself (the figure
// docs/BENCHMARKS.md reports): from the Enter key to the row being painted.

const samples: number[] = [];

export function recordScanLatency(ms: number): void {
  samples.push(ms);
  if (samples.length > 5000) samples.shift();
}

/** Read by the E2E benchmark through WebDriver. */
(globalThis as { __kanoonScanLatencies?: number[] }).__kanoonScanLatencies = samples;

/** Resolves after the browser has painted the current DOM. */
export function afterPaint(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}
