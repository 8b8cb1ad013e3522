// Intake benchmark: createPayment over HTTP GraphQL against the gateway alone (its outbox relay
// publishes to JetStream; no worker competes), compared with the bare Fastify + pg baseline
// doing the same inserts, at the same concurrency, in the same run. The two are measured in
// interleaved rounds (baseline, gateway, gateway, baseline, ...) so that whatever else the
// machine does weighs on both alike. Then the gateway at a fixed rate below its maximum, for
// the latency a caller sees with headroom left.
import { hashApiKey } from '../libs/payments/src/api-keys/api-key.service';
import { CpuGroup, byPid } from './cpu';
import { Endpoint, LoadRecord, closedLoop, openLoop } from './load';
import {
  BenchContext,
  Measured,
  PhaseReport,
  infrastructureGroups,
  measured,
  mergeMeasures,
  phaseReport,
  unpublishedOutbox,
} from './phase';
import {
  BenchClient,
  BenchDatabase,
  ChildApp,
  createApiClient,
  createDatabase,
  createNamespace,
  freePort,
  productEnv,
  startProduct,
} from './stack';

export interface IntakeResults {
  readonly baseline: PhaseReport;
  readonly product: PhaseReport;
  /** product accepted/s ÷ baseline accepted/s, over all rounds */
  readonly ratio: number;
  /** The same ratio round by round: its spread shows how steady the machine was. */
  readonly ratioPerRound: readonly number[];
  readonly productAtRate: PhaseReport;
  /** Outbox rows not yet published when each gateway phase ended (relay lag). */
  readonly outboxBacklog: { readonly afterMax: number; readonly afterRate: number };
}

/** One side of the comparison: a server, its database, where to send load, what to sample. */
interface Side {
  readonly name: string;
  readonly db: BenchDatabase;
  readonly endpoint: Endpoint;
  readonly warmupEndpoint: Endpoint;
  readonly groups: CpuGroup[];
  readonly stop: () => Promise<void>;
}

async function startBaseline(ctx: BenchContext, namespace: string): Promise<Side> {
  const db = await createDatabase(ctx.cleanup, ctx.config.adminDatabaseUrl, 'bench_base_');
  const client = await createApiClient(db, 'bench-baseline');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const app = await ChildApp.start(ctx.cleanup, {
    name: 'baseline',
    script: 'bench/baseline-server.ts',
    env: {
      NODE_ENV: 'production',
      BENCH_PARENT_PID: String(process.pid),
      PORT: String(port),
      DATABASE_URL: db.url,
      DB_POOL_SIZE: String(ctx.config.poolSize),
      NATS_NAMESPACE: namespace,
      BASELINE_CLIENT_ID: client.id,
      BASELINE_KEY_HASH: hashApiKey(client.key),
    },
    readyUrl: `${url}/readyz`,
  });
  const endpoint = { url, path: '/graphql', apiKey: client.key };
  const groups = [byPid('baseline', app.pid), ...infrastructureGroups()];
  const stop = () => app.stop();
  return { name: 'baseline', db, endpoint, warmupEndpoint: endpoint, groups, stop };
}

interface Gateway {
  readonly side: Side;
  readonly rateEndpoint: Endpoint;
}

async function startGateway(ctx: BenchContext, namespace: string): Promise<Gateway> {
  const { config } = ctx;
  const db = await createDatabase(ctx.cleanup, config.adminDatabaseUrl, 'bench_intake_');
  const [warmup, max, rate] = await Promise.all(
    ['warmup', 'max', 'rate'].map((name) => createApiClient(db, `bench-intake-${name}`)),
  );
  const env = productEnv(db, namespace, config.natsUrl, config.poolSize);
  const { app, url } = await startProduct(ctx.cleanup, 'intake-gateway', 'gateway', env);
  const endpoint = (client: BenchClient): Endpoint => ({
    url,
    path: '/graphql',
    apiKey: client.key,
  });
  const groups = [byPid('gateway', app.pid), ...infrastructureGroups()];
  const side: Side = {
    name: 'gateway',
    db,
    endpoint: endpoint(max),
    warmupEndpoint: endpoint(warmup),
    groups,
    stop: () => app.stop(),
  };
  return { side, rateEndpoint: endpoint(rate) };
}

async function warmUp(ctx: BenchContext, side: Side): Promise<void> {
  const { connections, warmupS } = ctx.config;
  ctx.log(`intake: ${side.name} warm-up ${warmupS} s`);
  const label = `${side.name}-warmup`;
  const warmup = await closedLoop(side.warmupEndpoint, { label, connections, durationS: warmupS });
  if (warmup.counts.accepted === 0) {
    throw new Error(`${side.name} accepted nothing in warm-up: ${warmup.firstFailure}`);
  }
}

function round(ctx: BenchContext, side: Side, durationS: number): Promise<Measured<LoadRecord>> {
  const { connections } = ctx.config;
  return measured(side.groups, side.db, () =>
    closedLoop(side.endpoint, { label: side.name, connections, durationS }),
  );
}

function acceptedPerS(run: Measured<LoadRecord>): number {
  return run.result.counts.accepted / run.result.durationS;
}

/** Rounds of baseline and gateway at the same concurrency, in ABBA order. */
async function compare(ctx: BenchContext, baseline: Side, gateway: Side) {
  const { rounds, durationS, connections } = ctx.config;
  const roundS = durationS / rounds;
  const runs = { baseline: [] as Measured<LoadRecord>[], gateway: [] as Measured<LoadRecord>[] };
  const ratioPerRound: number[] = [];
  for (let i = 0; i < rounds; i += 1) {
    const order = i % 2 === 0 ? [baseline, gateway] : [gateway, baseline];
    for (const side of order) {
      ctx.log(
        `intake: round ${i + 1}/${rounds}, ${side.name}, ${connections} connections, ${roundS} s`,
      );
      runs[side.name as 'baseline' | 'gateway'].push(await round(ctx, side, roundS));
    }
    ratioPerRound.push(
      round2(acceptedPerS(runs.gateway[i]) / Math.max(1, acceptedPerS(runs.baseline[i]))),
    );
  }
  const report = (list: Measured<LoadRecord>[]) =>
    phaseReport(
      list.map((r) => r.result),
      mergeMeasures(list),
    );
  return { baseline: report(runs.baseline), product: report(runs.gateway), ratioPerRound };
}

async function atRate(ctx: BenchContext, gateway: Gateway, maxPerS: number): Promise<PhaseReport> {
  const { config } = ctx;
  const rate = Math.max(1, Math.floor(maxPerS * config.intakeRateFraction));
  ctx.log(
    `intake: gateway at a fixed ${rate}/s for ${config.durationS} s (after ${config.warmupS} s at that rate, not measured)`,
  );
  const run = await measured(gateway.side.groups, gateway.side.db, () =>
    openLoop(gateway.rateEndpoint, {
      label: 'gateway-rate',
      rate,
      durationS: config.durationS,
      connections: config.connections,
      // The max-rate phase's sockets are gone: open the phase's own and settle at the rate first.
      warmupS: config.warmupS,
    }),
  );
  return phaseReport([run.result], run);
}

export async function runIntakeBenchmark(ctx: BenchContext): Promise<IntakeResults> {
  const namespace = createNamespace(ctx.cleanup, ctx.config.natsUrl, 'benchi');
  ctx.log('intake: starting the baseline server and the gateway (SERVICES=gateway)');
  const [baseline, gateway] = await Promise.all([
    startBaseline(ctx, namespace),
    startGateway(ctx, namespace),
  ]);
  await warmUp(ctx, baseline);
  await warmUp(ctx, gateway.side);
  const compared = await compare(ctx, baseline, gateway.side);
  await baseline.stop(); // frees its pool before the fixed-rate phase
  const afterMax = await unpublishedOutbox(gateway.side.db);
  const ratio =
    compared.product.load.acceptedPerS / Math.max(1, compared.baseline.load.acceptedPerS);
  ctx.log(
    `intake: baseline ${compared.baseline.load.acceptedPerS}/s, gateway ${compared.product.load.acceptedPerS}/s`,
  );
  const productAtRate = await atRate(ctx, gateway, compared.product.load.acceptedPerS);
  const afterRate = await unpublishedOutbox(gateway.side.db);
  await gateway.side.stop();
  return {
    baseline: compared.baseline,
    product: compared.product,
    ratio: round2(ratio),
    ratioPerRound: compared.ratioPerRound,
    productAtRate,
    outboxBacklog: { afterMax, afterRate },
  };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
