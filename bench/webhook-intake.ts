// Webhook intake benchmark (BENCH_ONLY=webhooks, and part of all):
//  (a) signed Stripe events/s accepted on POST /webhooks/stripe by the gateway alone, against a
//      bare Fastify handler that verifies with stripe.webhooks.constructEvent and inserts the
//      same rows, at the same concurrency, in interleaved rounds (ABBA) of the same run;
//  (b) a fresh gateway and worker at a fixed 1,000 events/s (BENCH_WEBHOOK_RATE), after a
//      warm-up of BENCH_WARMUP_S at that rate: the answer time a processor sees, and the webhook
//      lag applied_at − received_at from the database, of the measured events only.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CpuGroup, byPid } from './cpu';
import { BenchContext, infrastructureGroups, measured } from './phase';
import {
  ROOT,
  BenchDatabase,
  ChildApp,
  createDatabase,
  createNamespace,
  freePort,
  productEnv,
  sleep,
  startProduct,
} from './stack';
import { WebhookLoad, WebhookTarget, closedLoopWebhooks, openLoopWebhooks } from './webhook-load';
import { formatSlowWindows } from './slow-windows';

const SECRET = 'whsec_bench_webhooks';
const STRIPE_ENV = {
  STRIPE_SECRET_KEY: 'sk_test_benchWebhooks',
  STRIPE_WEBHOOK_SECRET: SECRET,
  // Never called: the gateway only verifies, and payout events need no processor call.
  STRIPE_API_BASE: 'http://127.0.0.1:9',
};

export const WEBHOOK_TARGETS = { ratio: 0.5, answerP99Ms: 50, lagP99Ms: 250 } as const;

export interface WebhookLag {
  readonly events: number;
  readonly applied: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface WebhookResults {
  readonly connections: number;
  readonly baseline: WebhookLoad;
  readonly gateway: WebhookLoad;
  readonly ratio: number;
  readonly ratioPerRound: readonly number[];
  /** The target rate (BENCH_WEBHOOK_RATE, default 1,000/s), gateway and worker running. */
  readonly atRate: RatePhase;
  /** A rate with headroom on this machine (BENCH_WEBHOOK_HEADROOM_FRACTION × gateway max). */
  readonly atHeadroom: RatePhase;
}

export interface RatePhase extends WebhookLoad {
  readonly rate: number;
  readonly lag: WebhookLag;
  readonly cpuMsPerEvent: Record<string, number>;
  /** CPU the hypervisor took from this machine during the phase, percent of one core. */
  readonly stealPercent: number;
}

interface Side {
  readonly name: 'baseline' | 'gateway';
  readonly target: WebhookTarget;
  readonly stop: () => Promise<void>;
}

async function startBaseline(ctx: BenchContext, namespace: string): Promise<Side> {
  const db = await createDatabase(ctx.cleanup, ctx.config.adminDatabaseUrl, 'bench_whbase_');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const app = await ChildApp.start(ctx.cleanup, {
    name: 'webhook-baseline',
    script: 'bench/webhook-baseline-server.ts',
    env: {
      NODE_ENV: 'production',
      BENCH_PARENT_PID: String(process.pid),
      PORT: String(port),
      DATABASE_URL: db.url,
      DB_POOL_SIZE: String(ctx.config.poolSize),
      NATS_NAMESPACE: namespace,
      STRIPE_WEBHOOK_SECRET: SECRET,
    },
    readyUrl: `${url}/readyz`,
  });
  return {
    name: 'baseline',
    target: { url: `${url}/webhooks/stripe`, secret: SECRET },
    stop: () => app.stop(),
  };
}

async function startGateway(
  ctx: BenchContext,
  prefix: string,
  services: 'gateway' | 'gateway+worker',
): Promise<{ side: Side; db: BenchDatabase; groups: CpuGroup[] }> {
  const { config } = ctx;
  const db = await createDatabase(ctx.cleanup, config.adminDatabaseUrl, prefix);
  const namespace = createNamespace(ctx.cleanup, config.natsUrl, 'benchw');
  const env = { ...productEnv(db, namespace, config.natsUrl, config.poolSize), ...STRIPE_ENV };
  const gateway = await startProduct(ctx.cleanup, `${prefix}gateway`, 'gateway', env);
  const groups = [byPid('gateway', gateway.app.pid), ...infrastructureGroups()];
  const apps = [gateway.app];
  if (services === 'gateway+worker') {
    const worker = await startProduct(ctx.cleanup, `${prefix}worker`, 'worker', env);
    groups.push(byPid('worker', worker.app.pid));
    apps.push(worker.app);
  }
  return {
    db,
    groups,
    side: {
      name: 'gateway',
      target: { url: `${gateway.url}/webhooks/stripe`, secret: SECRET },
      stop: async () => {
        for (const app of apps.reverse()) await app.stop();
      },
    },
  };
}

function merge(parts: readonly WebhookLoad[]): WebhookLoad {
  const accepted = parts.reduce((s, p) => s + p.accepted, 0);
  const durationS = parts.reduce((s, p) => s + p.durationS, 0);
  const pick = (k: keyof WebhookLoad['latencyMs']) => Math.max(...parts.map((p) => p.latencyMs[k]));
  return {
    accepted,
    failed: parts.reduce((s, p) => s + p.failed, 0),
    durationS,
    acceptedPerS: Math.round(accepted / durationS),
    // Worst round of each percentile (rounds are equal length; a conservative merge).
    slowestHalfSeconds: [],
    latencyMs: {
      p50: pick('p50'),
      p90: pick('p90'),
      p99: pick('p99'),
      max: pick('max'),
      mean: pick('mean'),
    },
    firstFailure: parts.find((p) => p.firstFailure)?.firstFailure ?? null,
  };
}

/** Baseline and gateway at the same concurrency, ABBA, after a warm-up of each. */
async function compare(ctx: BenchContext, baseline: Side, gateway: Side) {
  const { rounds, durationS, warmupS, connections } = ctx.config;
  for (const side of [baseline, gateway]) {
    ctx.log(`webhooks: ${side.name} warm-up ${warmupS} s`);
    const warm = await closedLoopWebhooks(side.target, {
      label: `${side.name}w`,
      connections,
      durationS: warmupS,
    });
    if (warm.accepted === 0)
      throw new Error(`${side.name} accepted no webhook: ${warm.firstFailure}`);
  }
  const runs = { baseline: [] as WebhookLoad[], gateway: [] as WebhookLoad[] };
  const ratioPerRound: number[] = [];
  for (let i = 0; i < rounds; i += 1) {
    for (const side of i % 2 === 0 ? [baseline, gateway] : [gateway, baseline]) {
      ctx.log(`webhooks: round ${i + 1}/${rounds}, ${side.name}, ${connections} connections`);
      runs[side.name].push(
        await closedLoopWebhooks(side.target, {
          label: `${side.name}${i}`,
          connections,
          durationS: durationS / rounds,
        }),
      );
    }
    ratioPerRound.push(
      round2(runs.gateway[i].acceptedPerS / Math.max(1, runs.baseline[i].acceptedPerS)),
    );
  }
  return { baseline: merge(runs.baseline), gateway: merge(runs.gateway), ratioPerRound };
}

/**
 * applied_at − received_at of the events of one load (its label is in their ids), once the
 * worker applied them all (or time ran out).
 */
async function measureLag(
  ctx: BenchContext,
  db: BenchDatabase,
  total: number,
  label: string,
): Promise<WebhookLag> {
  const ofLoad = `strpos(processor_event_id, '_' || $1 || '_') > 0`;
  const deadline = Date.now() + ctx.config.drainTimeoutS * 1000;
  for (;;) {
    // Every stored event (also those whose answer came too late for the load generator) done.
    const [row] = await db.dataSource.query(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'received')::int AS waiting
       FROM webhook_events WHERE ${ofLoad}`,
      [label],
    );
    if ((row.total >= total && row.waiting === 0) || Date.now() > deadline) break;
    await sleep(250);
  }
  const [lag] = await db.dataSource.query(
    `SELECT count(*)::int AS events, count(applied_at)::int AS applied,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99, max(ms) AS max
     FROM (SELECT applied_at,
             EXTRACT(EPOCH FROM (COALESCE(applied_at, now()) - received_at)) * 1000 AS ms
           FROM webhook_events WHERE ${ofLoad}) e`,
    [label],
  );
  return {
    events: lag.events,
    applied: lag.applied,
    p50Ms: round1(Number(lag.p50)),
    p99Ms: round1(Number(lag.p99)),
    maxMs: round1(Number(lag.max)),
  };
}

export async function runWebhookBenchmark(ctx: BenchContext): Promise<WebhookResults> {
  const { config } = ctx;
  const rate = Number(process.env.BENCH_WEBHOOK_RATE ?? 1000);
  ctx.log('webhooks: starting the webhook baseline server and the gateway (SERVICES=gateway)');
  const baselineNamespace = createNamespace(ctx.cleanup, config.natsUrl, 'benchwb');
  const [baseline, gateway] = await Promise.all([
    startBaseline(ctx, baselineNamespace),
    startGateway(ctx, 'bench_whmax_', 'gateway'),
  ]);
  const compared = await compare(ctx, baseline, gateway.side);
  await baseline.stop();
  await gateway.side.stop();
  const ratio = round2(compared.gateway.acceptedPerS / Math.max(1, compared.baseline.acceptedPerS));
  ctx.log(
    `webhooks: baseline ${compared.baseline.acceptedPerS}/s, gateway ${compared.gateway.acceptedPerS}/s (×${ratio})`,
  );

  const atRate = await ratePhase(ctx, rate);
  const headroom = Number(process.env.BENCH_WEBHOOK_HEADROOM_FRACTION ?? 0.4);
  const atHeadroom = await ratePhase(
    ctx,
    Math.max(1, Math.round(compared.gateway.acceptedPerS * headroom)),
  );
  return {
    connections: config.connections,
    baseline: compared.baseline,
    gateway: compared.gateway,
    ratio,
    ratioPerRound: compared.ratioPerRound,
    atRate,
    atHeadroom,
  };
}

/**
 * A fresh gateway + worker (no backlog from earlier phases) at a fixed offered rate: warmed up
 * at that rate first (as the other phases are: a cold process's first second is JIT and pool
 * growth, not its steady state), drained, then measured.
 */
async function ratePhase(ctx: BenchContext, rate: number): Promise<RatePhase> {
  const { config } = ctx;
  const stack = await startGateway(ctx, `bench_wh${rate}_`, 'gateway+worker');
  const load = (label: string, durationS: number) =>
    openLoopWebhooks(stack.side.target, {
      label,
      rate,
      durationS,
      connections: config.connections,
    });
  ctx.log(`webhooks: gateway + worker warm-up at ${rate}/s for ${config.warmupS} s`);
  const warm = await load(`warm${rate}`, config.warmupS);
  await measureLag(ctx, stack.db, warm.accepted, `warm${rate}`);
  ctx.log(`webhooks: gateway + worker at a fixed ${rate}/s for ${config.durationS} s`);
  const run = await measured(stack.groups, stack.db, () => load(`rate${rate}`, config.durationS));
  const lag = await measureLag(ctx, stack.db, run.result.accepted, `rate${rate}`);
  await stack.side.stop();
  // percent of one core over the phase → CPU ms per accepted event
  const cpuMsPerEvent = Object.fromEntries(
    Object.entries(run.cpu.percent).map(([name, pct]) => [
      name,
      round2(((pct / 100) * run.cpu.wallS * 1000) / Math.max(1, run.result.accepted)),
    ]),
  );
  return { ...run.result, rate, lag, cpuMsPerEvent, stealPercent: run.cpu.steal };
}

/** The section printed after the other suites' results. */
export function formatWebhookResults(w: WebhookResults): string {
  const T = WEBHOOK_TARGETS;
  const mark = (pass: boolean) => (pass ? 'PASS' : 'FAIL');
  const line = (name: string, l: WebhookLoad) =>
    `  ${name.padEnd(22)} ${String(l.acceptedPerS).padStart(6)}/s accepted  p50 ${l.latencyMs.p50} ms  p99 ${l.latencyMs.p99} ms  max ${l.latencyMs.max} ms  failed ${l.failed}`;
  return [
    '',
    `Webhooks: POST /webhooks/stripe, signed payout.paid events, ${w.connections} connections`,
    line('baseline (closed loop)', w.baseline),
    line('gateway (closed loop)', w.gateway),
    ...[w.atRate, w.atHeadroom].flatMap((r) => [
      line(`gateway+worker @${r.rate}/s`, r),
      `    slowest half-seconds (answers): ${formatSlowWindows(r.slowestHalfSeconds)}`,
      `    lag applied_at − received_at: p50 ${r.lag.p50Ms} ms, p99 ${r.lag.p99Ms} ms, max ${r.lag.maxMs} ms (${r.lag.applied}/${r.lag.events} applied)`,
      `    CPU ms per event: ${Object.entries(r.cpuMsPerEvent)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}; stolen by the hypervisor ${r.stealPercent} % of one core`,
    ]),
    `  ${mark(w.ratio >= T.ratio)} gateway ÷ baseline ${w.ratio} (rounds ${w.ratioPerRound.join(', ')}), target >= ${T.ratio}`,
    `  ${mark(w.atRate.latencyMs.p99 <= T.answerP99Ms && w.atRate.failed === 0)} answer p99 at ${w.atRate.rate}/s ${w.atRate.latencyMs.p99} ms, target <= ${T.answerP99Ms}`,
    `  ${mark(w.atRate.lag.p99Ms <= T.lagP99Ms && w.atRate.lag.applied === w.atRate.lag.events)} webhook lag p99 at ${w.atRate.rate}/s ${w.atRate.lag.p99Ms} ms, target <= ${T.lagP99Ms}`,
  ].join('\n');
}

export function webhookChecksPass(w: WebhookResults): boolean {
  const T = WEBHOOK_TARGETS;
  return (
    w.ratio >= T.ratio &&
    w.atRate.latencyMs.p99 <= T.answerP99Ms &&
    w.atRate.lag.p99Ms <= T.lagP99Ms &&
    w.atRate.lag.applied === w.atRate.lag.events
  );
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}
function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

/** bench/results/<date>-webhooks.json, beside the run's main results file. */
export function writeWebhookResults(w: WebhookResults): string {
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString()}-webhooks.json`);
  writeFileSync(file, `${JSON.stringify({ ...w, pass: webhookChecksPass(w) }, null, 2)}\n`);
  return file;
}
