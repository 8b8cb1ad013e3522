/** A half-open time range [from, to). */
export interface TimeWindow {
  readonly from: Date;
  readonly to: Date;
}

export const DAY_MS = 86_400_000;

/**
 * Splits [from, to) into consecutive windows of `windowMs` (the last one shorter), aligned on
 * `from`. A run processes and commits them one by one, recording where to resume.
 */
export function splitWindows(from: Date, to: Date, windowMs: number): TimeWindow[] {
  if (!(from.getTime() < to.getTime())) throw new RangeError('period: from must be before to');
  if (!Number.isSafeInteger(windowMs) || windowMs <= 0) {
    throw new RangeError('window must be a positive whole number of milliseconds');
  }
  const windows: TimeWindow[] = [];
  for (let start = from.getTime(); start < to.getTime(); start += windowMs) {
    windows.push({ from: new Date(start), to: new Date(Math.min(start + windowMs, to.getTime())) });
  }
  return windows;
}
