// Reads one Prometheus histogram from a /metrics text page, and estimates quantiles of the
// observations made between two scrapes (bucket counts are cumulative and only grow).

export type Buckets = ReadonlyMap<number, number>;

/** Cumulative bucket counts (`le` → count) of `name` whose labels include all of `labels`. */
export function histogramBuckets(
  page: string,
  name: string,
  labels: Readonly<Record<string, string>>,
): Map<number, number> {
  const buckets = new Map<number, number>();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of page.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`)) continue;
    const close = line.indexOf('}');
    const labelText = line.slice(name.length + '_bucket{'.length, close);
    if (!wanted.every((w) => labelText.includes(w))) continue;
    const le = /le="([^"]+)"/.exec(labelText)?.[1];
    if (!le) continue;
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(line.slice(close + 1).trim()));
  }
  return buckets;
}

/** The observations made between `before` and `after`, per bucket (still cumulative). */
export function bucketDelta(before: Buckets, after: Buckets): Map<number, number> {
  const delta = new Map<number, number>();
  for (const [le, count] of after) delta.set(le, count - (before.get(le) ?? 0));
  return delta;
}

/**
 * The q-quantile, linearly interpolated inside its bucket (as Prometheus' histogram_quantile);
 * null without observations. A quantile in the +Inf bucket is reported as the last finite bound.
 */
export function bucketQuantile(buckets: Buckets, q: number): number | null {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Number.POSITIVE_INFINITY) ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const bound of bounds) {
    const count = buckets.get(bound)!;
    if (count >= rank) {
      if (!Number.isFinite(bound)) return lower;
      const inBucket = count - below;
      return inBucket > 0 ? lower + ((bound - lower) * (rank - below)) / inBucket : bound;
    }
    lower = bound;
    below = count;
  }
  return lower;
}
