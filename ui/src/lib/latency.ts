// Scan → result-row latency, measured in the window itself (the figure
// docs/BENCHMARKS.md reports): from the Enter key to the row being painted.
import { tick } from "svelte";

const samples: number[] = [];

/**
 * Where one scan's time went, in ms from its Enter key: the command sent,
 * its answer back, the DOM updated, the frame's callback, the paint done.
 * Read by the desktop benchmark to say which part the slow scans lose.
 */
export interface ScanParts {
  sent: number;
  answered: number;
  updated: number;
  frame: number;
  painted: number;
}

const parts: ScanParts[] = [];

export function recordScanLatency(ms: number, phases?: ScanParts): void {
  samples.push(ms);
  if (samples.length > 5000) samples.shift();
  if (phases) {
    parts.push(phases);
    if (parts.length > 5000) parts.shift();
  }
}

/** Read by the E2E benchmark through WebDriver. */
const g = globalThis as { __kanoonScanLatencies?: number[]; __kanoonScanParts?: ScanParts[] };
g.__kanoonScanLatencies = samples;
g.__kanoonScanParts = parts;

/** Resolves after the browser has painted the current DOM. */
export function afterPaint(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

/** As `afterPaint`, resolving to when the frame's callback ran. */
function afterPaintFrom(): Promise<number> {
  return new Promise((resolve) =>
    requestAnimationFrame(() => {
      const frame = performance.now();
      setTimeout(() => resolve(frame), 0);
    }),
  );
}

/**
 * A scan's command and the screen's update with its answer, timed step by
 * step from the scan's Enter (`started`) to the result painted.
 */
export async function timedScan<T>(started: number, command: () => Promise<T>, show: (answer: T) => void): Promise<T> {
  const sent = performance.now();
  const answer = await command();
  const answered = performance.now();
  show(answer);
  await tick();
  const updated = performance.now();
  const frame = await afterPaintFrom();
  const painted = performance.now();
  recordScanLatency(painted - started, {
    sent: sent - started, answered: answered - started, updated: updated - started,
    frame: frame - started, painted: painted - started,
  });
  return answer;
}
