// End-to-end benchmark: gateway and worker (two child processes, SIMULATOR_LATENCY_MS=0).
//  (a) saturation: createPayment at high concurrency for the duration, then wait until every
//      accepted payment is final; completions/s from the database and from the wall clock.
//  (b) fixed offered rate (500/s): accept-to-final latency of each payment, from the database
//      (updated_at, set by the worker when it records the final status, minus created_at).
import { CpuGroup, CpuReport, byPid } from './cpu';
import { TableScans, tableScans } from './db-stats';
import { Endpoint, closedLoop, openLoop } from './load';
import {
  BenchContext,
  DrainResult,
  PhaseReport,
  StatusCounts,
  infrastructureGroups,
  measured,
  mergeMeasures,
  phaseReport,
  statusCounts,
  waitUntilFinal,
} from './phase';
import {
  BenchClient,
  BenchDatabase,
  createApiClient,
  createDatabase,
  createNamespace,
  productEnv,
  sleep,
  startProduct,
} from './stack';

const STATS_FLUSH_MS = 1500;

export interface SaturationResults {
  /** HTTP figures of the load window; CPU and database work over load and drain, per SUCCEEDED payment. */
  readonly phase: PhaseReport;
  /** Payments still PENDING/PROCESSING when the load stopped (the worker's backlog). */
  readonly openAtLoadEnd: number;
  readonly drained: boolean;
  readonly drainS: number;
  readonly counts: StatusCounts;
  readonly succeeded: number;
  /** succeeded ÷ (max(updated_at) − min(created_at)) */
  readonly completionsPerSDb: number;
  /** succeeded ÷ (all final − load start), wall clock of the benchmark */
  readonly completionsPerSWall: number;
  readonly cpuLoad: CpuReport;
  readonly cpuDrain: CpuReport;
}

export interface AcceptToFinal {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export interface RateResults {
  /** HTTP figures of the load; CPU and database work per SUCCEEDED payment. */
  readonly phase: PhaseReport;
  readonly drained: boolean;
  readonly counts: StatusCounts;
  readonly succeeded: number;
  /** Accepted-but-not-SUCCEEDED payments (still open or ended otherwise). */
  readonly notSucceeded: number;
  readonly acceptToFinalMs: AcceptToFinal;
}

export interface EndToEndResults {
  readonly saturation: SaturationResults;
  readonly atRate: RateResults;
  /** Scans per table over the whole end-to-end run (a growing sequential scan is a smell). */
  readonly tableScans: TableScans;
}

interface Stack {
  readonly db: BenchDatabase;
  readonly endpoint: (client: BenchClient) => Endpoint;
  readonly groups: CpuGroup[];
}

async function startStack(ctx: BenchContext): Promise<Stack> {
  const { config } = ctx;
  const db = await createDatabase(ctx.cleanup, config.adminDatabaseUrl, 'bench_e2e_');
  const namespace = createNamespace(ctx.cleanup, config.natsUrl, 'benche');
  const env = productEnv(db, namespace, config.natsUrl, config.poolSize);
  ctx.log('e2e: starting gateway (SERVICES=gateway) and worker (SERVICES=worker)');
  // The gateway first: it migrates and creates the streams; the worker then finds both.
  const gateway = await startProduct(ctx.cleanup, 'e2e-gateway', 'gateway', env);
  const worker = await startProduct(ctx.cleanup, 'e2e-worker', 'worker', env);
  return {
    db,
    endpoint: (client) => ({ url: gateway.url, path: '/graphql', apiKey: client.key }),
    groups: [
      byPid('gateway', gateway.app.pid),
      byPid('worker', worker.app.pid),
      ...infrastructureGroups(),
    ],
  };
}

async function warmUp(ctx: BenchContext, stack: Stack, client: BenchClient): Promise<void> {
  const { warmupS, e2eConnections, drainTimeoutS } = ctx.config;
  ctx.log(`e2e: warm-up ${warmupS} s`);
  const warmup = await closedLoop(stack.endpoint(client), {
    label: 'e2e-warmup',
    connections: e2eConnections,
    durationS: warmupS,
  });
  if (warmup.counts.accepted === 0) {
    throw new Error(`e2e warm-up accepted nothing: ${warmup.firstFailure}`);
  }
  const drain = await waitUntilFinal(stack.db, client.id, drainTimeoutS);
  if (!drain.drained) throw new Error(`e2e warm-up payments not final after ${drainTimeoutS} s`);
}

async function succeededSpan(db: BenchDatabase, clientId: string) {
  const [row]: { n: number; span_s: number | null }[] = await db.dataSource.query(
    `SELECT count(*)::int AS n,
            EXTRACT(EPOCH FROM max(updated_at) - min(created_at))::float8 AS span_s
     FROM payments WHERE client_id = $1 AND status = 'SUCCEEDED'`,
    [clientId],
  );
  return { n: row.n, spanS: row.span_s ?? 0 };
}

async function saturation(
  ctx: BenchContext,
  stack: Stack,
  client: BenchClient,
): Promise<SaturationResults> {
  const { e2eConnections: connections, durationS, drainTimeoutS } = ctx.config;
  ctx.log(`e2e: saturation, ${connections} connections for ${durationS} s`);
  const start = performance.now();
  const load = await measured(stack.groups, stack.db, () =>
    closedLoop(stack.endpoint(client), { label: 'e2e-max', connections, durationS }),
  );
  const openAtLoadEnd = (await statusCounts(stack.db, client.id)).open;
  const accepted = load.result.counts.accepted;
  ctx.log(`e2e: ${accepted} accepted; ${openAtLoadEnd} not final yet; draining`);
  const drain = await measured<DrainResult>(stack.groups, stack.db, () =>
    waitUntilFinal(stack.db, client.id, drainTimeoutS),
  );
  const { n, spanS } = await succeededSpan(stack.db, client.id);
  const wallS = (drain.result.at - start) / 1000;
  ctx.log(`e2e: ${n} SUCCEEDED, ${spanS > 0 ? Math.round(n / spanS) : 0}/s`);
  return {
    phase: phaseReport([load.result], mergeMeasures([load, drain]), n),
    openAtLoadEnd,
    drained: drain.result.drained,
    drainS: round1(drain.cpu.wallS),
    counts: drain.result.counts,
    succeeded: n,
    completionsPerSDb: spanS > 0 ? Math.round(n / spanS) : 0,
    completionsPerSWall: Math.round(n / wallS),
    cpuLoad: load.cpu,
    cpuDrain: drain.cpu,
  };
}

async function acceptToFinal(db: BenchDatabase, clientId: string): Promise<AcceptToFinal> {
  const [row]: { q: number[] | null; max: number | null }[] = await db.dataSource.query(
    `SELECT percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY ms) AS q, max(ms) AS max
     FROM (SELECT EXTRACT(EPOCH FROM updated_at - created_at)::float8 * 1000 AS ms
           FROM payments WHERE client_id = $1 AND status = 'SUCCEEDED') t`,
    [clientId],
  );
  const [p50, p90, p99] = (row.q ?? [0, 0, 0]).map(round1);
  return { p50, p90, p99, max: round1(row.max ?? 0) };
}

async function atRate(ctx: BenchContext, stack: Stack, client: BenchClient): Promise<RateResults> {
  const { e2eRate: rate, e2eConnections: connections, durationS, drainTimeoutS } = ctx.config;
  ctx.log(`e2e: fixed rate ${rate}/s for ${durationS} s`);
  const run = await measured(stack.groups, stack.db, async () => {
    const load = await openLoop(stack.endpoint(client), {
      label: 'e2e-rate',
      rate,
      durationS,
      connections,
    });
    return { load, drain: await waitUntilFinal(stack.db, client.id, drainTimeoutS) };
  });
  const { load, drain } = run.result;
  const latency = await acceptToFinal(stack.db, client.id);
  const succeeded = drain.counts.byStatus.SUCCEEDED ?? 0;
  ctx.log(`e2e: at ${rate}/s accept-to-final p50 ${latency.p50} ms, p99 ${latency.p99} ms`);
  return {
    phase: phaseReport([load], run, succeeded),
    drained: drain.drained,
    counts: drain.counts,
    succeeded,
    notSucceeded: Math.max(load.counts.accepted, drain.counts.total) - succeeded,
    acceptToFinalMs: latency,
  };
}

export async function runEndToEndBenchmark(ctx: BenchContext): Promise<EndToEndResults> {
  const stack = await startStack(ctx);
  const [warmupClient, maxClient, rateClient] = await Promise.all(
    ['warmup', 'max', 'rate'].map((name) => createApiClient(stack.db, `bench-e2e-${name}`)),
  );
  await warmUp(ctx, stack, warmupClient);
  const saturationResults = await saturation(ctx, stack, maxClient);
  const rateResults = await atRate(ctx, stack, rateClient);
  await sleep(STATS_FLUSH_MS); // idle backends report their table counters within a second
  return {
    saturation: saturationResults,
    atRate: rateResults,
    tableScans: await tableScans(stack.db),
  };
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
