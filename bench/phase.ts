// Helpers shared by the benchmarks: a phase measured (CPU per process, database statistics),
// its report, and polling the payments of a client until they are final.
import { BenchConfig } from './config';
import { Cleanup } from './cleanup';
import { CpuGroup, CpuMeter, CpuReport, byComm, byPid, cpuMsPerPayment, mergeCpu } from './cpu';
import {
  DbActivity,
  PerPayment,
  SessionSampler,
  SessionStates,
  activityBetween,
  backendPids,
  dbCounters,
  perPayment,
  sumActivity,
} from './db-stats';
import { LoadRecord, LoadStats, toStats } from './load';
import { BenchDatabase, sleep } from './stack';

const POLL_MS = 250;

export interface BenchContext {
  readonly config: BenchConfig;
  readonly cleanup: Cleanup;
  /** Progress lines go here (stderr), the results table to stdout. */
  readonly log: (line: string) => void;
}

export interface Measures {
  readonly cpu: CpuReport;
  readonly db: DbActivity;
  readonly sessions: SessionStates;
}

export interface Measured<T> extends Measures {
  readonly result: T;
}

/** The measures of several windows (interleaved rounds) as one. */
export function mergeMeasures(parts: readonly Measures[]): Measures {
  const wallS = parts.reduce((sum, p) => sum + p.cpu.wallS, 0);
  const sessions: SessionStates = {};
  for (const part of parts) {
    for (const [state, n] of Object.entries(part.sessions)) {
      sessions[state] = (sessions[state] ?? 0) + (n * part.cpu.wallS) / wallS;
    }
  }
  for (const state of Object.keys(sessions))
    sessions[state] = Math.round(sessions[state] * 10) / 10;
  return {
    cpu: mergeCpu(parts.map((p) => p.cpu)),
    db: parts.map((p) => p.db).reduce(sumActivity),
    sessions,
  };
}

/** Runs `work` while measuring CPU per process group, database activity and session states. */
export async function measured<T>(
  groups: readonly CpuGroup[],
  db: BenchDatabase,
  work: () => Promise<T>,
): Promise<Measured<T>> {
  const backends = new Set<number>();
  const ownBackends: CpuGroup = {
    name: 'postgres (this database only)',
    select: (pid) => backends.has(pid),
    subset: true,
  };
  const meter = new CpuMeter([...groups, ownBackends]);
  const sampler = new SessionSampler(db);
  const before = await dbCounters(db);
  meter.start();
  sampler.start();
  let result: T;
  try {
    result = await work();
  } finally {
    await sampler.stop();
  }
  for (const pid of await backendPids(db)) backends.add(pid);
  const cpu = meter.stop();
  const sessions = sampler.states();
  return { result, cpu, db: activityBetween(await dbCounters(db), before), sessions };
}

/** What a benchmark reports of one phase (possibly several interleaved rounds). */
export interface PhaseReport {
  readonly load: LoadStats;
  readonly cpu: CpuReport;
  /** CPU milliseconds per payment, per process group. */
  readonly cpuMsPerPayment: Record<string, number>;
  readonly db: PerPayment;
  readonly sessions: SessionStates;
}

/** `payments` defaults to the accepted requests. */
export function phaseReport(
  records: readonly LoadRecord[],
  measures: Measures,
  payments?: number,
): PhaseReport {
  const load = toStats(records);
  const n = payments ?? load.accepted;
  return {
    load,
    cpu: measures.cpu,
    cpuMsPerPayment: cpuMsPerPayment(measures.cpu, n),
    db: perPayment(measures.db, n),
    sessions: measures.sessions,
  };
}

/** The processes every phase reports besides the apps under test. */
export function infrastructureGroups(): CpuGroup[] {
  return [
    byComm('postgres (all)', 'postgres'),
    byComm('nats-server', 'nats-server'),
    byPid('load generator (bench)', process.pid),
  ];
}

export interface StatusCounts {
  readonly total: number;
  /** Payments not yet final (PENDING or PROCESSING). */
  readonly open: number;
  readonly byStatus: Record<string, number>;
}

export async function statusCounts(db: BenchDatabase, clientId: string): Promise<StatusCounts> {
  const rows: { status: string; n: number }[] = await db.dataSource.query(
    `SELECT status, count(*)::int AS n FROM payments WHERE client_id = $1 GROUP BY status`,
    [clientId],
  );
  const byStatus = Object.fromEntries(rows.map((r) => [r.status, r.n]));
  const total = rows.reduce((sum, r) => sum + r.n, 0);
  const open = (byStatus.PENDING ?? 0) + (byStatus.PROCESSING ?? 0);
  return { total, open, byStatus };
}

export interface DrainResult {
  readonly drained: boolean;
  /** When the last open payment was seen final (performance.now() clock). */
  readonly at: number;
  readonly counts: StatusCounts;
}

/** Payments of the client still PENDING or PROCESSING (found through the status index). */
async function openPayments(db: BenchDatabase, clientId: string): Promise<number> {
  const [row]: { n: number }[] = await db.dataSource.query(
    `SELECT count(*)::int AS n FROM payments
     WHERE status IN ('PENDING', 'PROCESSING') AND client_id = $1`,
    [clientId],
  );
  return row.n;
}

/** Polls until no payment of the client is PENDING or PROCESSING, or the deadline passes. */
export async function waitUntilFinal(
  db: BenchDatabase,
  clientId: string,
  timeoutS: number,
): Promise<DrainResult> {
  const deadline = performance.now() + timeoutS * 1000;
  await sleep(POLL_MS); // requests cut at the end of the load may still be committing
  for (;;) {
    const open = await openPayments(db, clientId);
    const at = performance.now();
    if (open === 0 || at > deadline) {
      return { drained: open === 0, at, counts: await statusCounts(db, clientId) };
    }
    await sleep(POLL_MS);
  }
}

export async function unpublishedOutbox(db: BenchDatabase): Promise<number> {
  const [row]: { n: number }[] = await db.dataSource.query(
    `SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`,
  );
  return row.n;
}
