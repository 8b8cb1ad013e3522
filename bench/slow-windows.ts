// The slowest half-seconds of a fixed-rate phase. A p99 over 20 s says how many answers were
// slow, not whether they were spread out (a server slower all along) or bunched (a pause: a
// garbage collection, another process taking the cores); the worst windows tell which.

export interface SlowWindow {
  /** Start of the window, seconds after the phase's first request was due. */
  readonly atS: number;
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * The `count` windows of `windowS` seconds with the highest p99, by when each request was due
 * (`dueS[i]` for `latencies[i]`), worst first. Windows with fewer than 20 requests are skipped.
 */
export function slowestWindows(
  dueS: readonly number[],
  latencies: readonly number[],
  count = 3,
  windowS = 0.5,
): SlowWindow[] {
  if (dueS.length !== latencies.length) throw new Error('one due time per latency');
  const windows = new Map<number, number[]>();
  dueS.forEach((due, i) => {
    const index = Math.floor(due / windowS);
    const list = windows.get(index) ?? [];
    list.push(latencies[i]);
    windows.set(index, list);
  });
  return [...windows.entries()]
    .filter(([, list]) => list.length >= 20)
    .map(([index, list]) => {
      const sorted = [...list].sort((a, b) => a - b);
      const at = (p: number) =>
        sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
      return {
        atS: Math.round(index * windowS * 10) / 10,
        requests: sorted.length,
        p50Ms: Math.round(at(0.5) * 10) / 10,
        p99Ms: Math.round(at(0.99) * 10) / 10,
      };
    })
    .sort((a, b) => b.p99Ms - a.p99Ms)
    .slice(0, count);
}

/** "13.0 s p99 127 ms (p50 58, 638 req.)", the windows in one line. */
export function formatSlowWindows(windows: readonly SlowWindow[]): string {
  if (windows.length === 0) return 'none (too few requests)';
  return windows
    .map((w) => `${w.atS.toFixed(1)} s p99 ${w.p99Ms} ms (p50 ${w.p50Ms}, ${w.requests} req.)`)
    .join('; ');
}
