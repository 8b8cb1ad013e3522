import { ITEM_STATUSES, ItemStatus } from './exception-contract';

/** Items and money at stake for one status (minor units, summed across currencies). */
export interface StatusCount {
  readonly count: number;
  readonly amountAtStake: number;
}

export type StatusCounts = Readonly<Record<ItemStatus, StatusCount>>;

export function emptyCounts(): StatusCounts {
  return Object.fromEntries(
    ITEM_STATUSES.map((s) => [s, { count: 0, amountAtStake: 0 }]),
  ) as unknown as StatusCounts;
}

/** Rows of `COUNT_ITEMS` (bigints arrive as strings) as counts; refuses unsafe integers. */
export function countsFromRows(
  rows: readonly { status: string; count: string | number; amount_at_stake: string | number }[],
): StatusCounts {
  const counts: Record<string, StatusCount> = { ...emptyCounts() };
  for (const row of rows) {
    if (!(row.status in counts)) throw new Error(`unknown reconciliation status ${row.status}`);
    counts[row.status] = { count: safe(row.count), amountAtStake: safe(row.amount_at_stake) };
  }
  return counts as StatusCounts;
}

export function addCounts(a: StatusCounts, b: StatusCounts): StatusCounts {
  return Object.fromEntries(
    ITEM_STATUSES.map((s) => [
      s,
      {
        count: a[s].count + b[s].count,
        amountAtStake: safeSum(a[s].amountAtStake, b[s].amountAtStake),
      },
    ]),
  ) as unknown as StatusCounts;
}

/** Counts as stored in `reconciliation_runs.counts` (missing statuses count zero). */
export function parseStoredCounts(value: unknown): StatusCounts {
  const stored = (value ?? {}) as Record<string, Partial<StatusCount> | undefined>;
  return Object.fromEntries(
    ITEM_STATUSES.map((s) => [
      s,
      {
        count: safe(stored[s]?.count ?? 0),
        amountAtStake: safe(stored[s]?.amountAtStake ?? 0),
      },
    ]),
  ) as unknown as StatusCounts;
}

export function totalItems(counts: StatusCounts): number {
  return ITEM_STATUSES.reduce((sum, s) => sum + counts[s].count, 0);
}

/** Money at stake over every status but `matched` (which has none). */
export function totalAtStake(counts: StatusCounts): number {
  return ITEM_STATUSES.reduce((sum, s) => safeSum(sum, counts[s].amountAtStake), 0);
}

function safe(value: string | number): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n))
    throw new Error(`reconciliation amount ${value} is not a safe integer`);
  return n;
}

function safeSum(a: number, b: number): number {
  const sum = a + b;
  if (!Number.isSafeInteger(sum)) throw new Error('reconciliation total exceeds a safe integer');
  return sum;
}
