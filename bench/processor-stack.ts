// Shared pieces of the processor benchmarks: gateway and worker pointed at the in-process fake
// Stripe (test/fakes/stripe), optionally through a recording proxy; GraphQL calls; an open-loop
// createPayment generator whose bodies the benchmark chooses.
import { Agent, IncomingMessage, Server, ServerResponse, createServer, request } from 'node:http';
import { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { FakeStripe, startFakeStripe } from '../test/fakes/stripe';
import { CpuGroup, byPid } from './cpu';
import { Endpoint, percentile } from './load';
import { BenchContext, infrastructureGroups } from './phase';
import {
  BenchClient,
  BenchDatabase,
  createApiClient,
  createDatabase,
  createNamespace,
  productEnv,
  startProduct,
} from './stack';

export const STRIPE_KEY = 'sk_test_benchProcessors';
const RUN_ID = randomBytes(4).toString('hex');

// ---------------------------------------------------------------------------------------------
// Recording proxy: when each Idempotency-Key first reached Stripe, and what Stripe answered.

export interface ProxyAnswer {
  /** Date.now() when the fake answered. */
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

/**
 * A tiny HTTP proxy in front of the fake (the fake itself keeps no per-request times). It
 * records the receipt time of the first request of every Idempotency-Key and every answer.
 */
export class RecordingProxy {
  readonly firstSeen = new Map<string, number>();
  readonly answers: ProxyAnswer[] = [];
  transportErrors = 0;
  private server: Server | null = null;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });
  private readonly target: URL;

  constructor(targetBaseUrl: string) {
    this.target = new URL(targetBaseUrl);
  }

  get baseUrl(): string {
    const address = this.server?.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  async listen(): Promise<void> {
    const server = createServer((req, res) => this.forward(req, res));
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    }
    this.agent.destroy();
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const at = Date.now();
    const key = req.headers['idempotency-key'];
    if (typeof key === 'string' && !this.firstSeen.has(key)) this.firstSeen.set(key, at);
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0];
    const upstream = request(
      {
        host: this.target.hostname,
        port: this.target.port,
        method,
        path: req.url,
        headers: { ...req.headers, host: this.target.host },
        agent: this.agent,
      },
      (answer) => {
        const status = answer.statusCode ?? 0;
        this.answers.push({ at: Date.now(), method, path, status });
        res.writeHead(status, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      this.transportErrors += 1;
      req.socket.destroy();
    });
    req.pipe(upstream);
  }
}

// ---------------------------------------------------------------------------------------------
// Stack

export interface ProcessorStack {
  readonly db: BenchDatabase;
  readonly fake: FakeStripe;
  readonly proxy: RecordingProxy | null;
  readonly client: BenchClient;
  readonly endpoint: Endpoint;
  readonly groups: CpuGroup[];
  /** The worker's own /metrics (WORKER_METRICS_PORT), when `workerMetrics` was asked for. */
  readonly workerMetricsUrl: string | null;
}

export interface ProcessorStackOptions {
  readonly prefix: string;
  readonly fakeRateLimitPerSec: number;
  /** Put the recording proxy between the worker and the fake. */
  readonly proxy: boolean;
  /** Product settings on top of productEnv and the Stripe ones. */
  readonly env: Record<string, string>;
  /** Serve the worker's metrics on a free port (WORKER_METRICS_PORT). */
  readonly workerMetrics?: boolean;
}

/** Fake Stripe (this process), optional proxy, database, namespace, gateway and worker. */
export async function startProcessorStack(
  ctx: BenchContext,
  options: ProcessorStackOptions,
): Promise<ProcessorStack> {
  const { config, cleanup } = ctx;
  const fake = await startFakeStripe({
    rateLimitPerSec: options.fakeRateLimitPerSec,
    secretKey: STRIPE_KEY,
  });
  cleanup.add('stop fake Stripe', async () => {
    if (fake.faults.current) await fake.faults.set(null);
    await fake.stop();
  });
  let proxy: RecordingProxy | null = null;
  if (options.proxy) {
    const started = new RecordingProxy(fake.baseUrl);
    await started.listen();
    cleanup.add('stop recording proxy', () => started.close());
    proxy = started;
  }
  const db = await createDatabase(cleanup, config.adminDatabaseUrl, `bench_${options.prefix}_`);
  const namespace = createNamespace(cleanup, config.natsUrl, `bench${options.prefix}`);
  const metricsPort = options.workerMetrics ? await freePort() : 0;
  const env = {
    ...productEnv(db, namespace, config.natsUrl, config.poolSize),
    WORKER_METRICS_PORT: String(metricsPort),
    STRIPE_SECRET_KEY: STRIPE_KEY,
    STRIPE_WEBHOOK_SECRET: 'whsec_bench',
    STRIPE_API_BASE: proxy?.baseUrl ?? fake.baseUrl,
    ...options.env,
  };
  ctx.log(`${options.prefix}: starting gateway and worker against the fake Stripe`);
  const gateway = await startProduct(cleanup, `${options.prefix}-gateway`, 'gateway', env);
  const worker = await startProduct(cleanup, `${options.prefix}-worker`, 'worker', env);
  const client = await createApiClient(db, `bench-${options.prefix}`);
  return {
    db,
    fake,
    proxy,
    client,
    endpoint: { url: gateway.url, path: '/graphql', apiKey: client.key },
    workerMetricsUrl: metricsPort ? `http://127.0.0.1:${metricsPort}/metrics` : null,
    groups: [
      byPid('gateway', gateway.app.pid),
      byPid('worker', worker.app.pid),
      ...infrastructureGroups(),
    ],
  };
}

/** One GraphQL request; throws on transport errors, GraphQL errors or a missing `data`. */
export async function graphql<T>(
  endpoint: Endpoint,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const response = await fetch(new URL(endpoint.path, endpoint.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${endpoint.apiKey}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (!response.ok || body.errors?.length || !body.data) {
    throw new Error(`GraphQL HTTP ${response.status}: ${JSON.stringify(body).slice(0, 400)}`);
  }
  return body.data;
}

/** A gateway payment method (gpm_) holding a token at each processor. */
export async function createGatewayPaymentMethod(
  endpoint: Endpoint,
  tokens: { processor: string; token: string }[],
): Promise<string> {
  const data = await graphql<{ createPaymentMethod: { id: string } }>(
    endpoint,
    `
      mutation PM($input: CreatePaymentMethodInput!) {
        createPaymentMethod(input: $input) {
          id
        }
      }
    `,
    { input: { idempotencyKey: `bench-pm-${RUN_ID}`, tokens, label: 'bench card' } },
  );
  return data.createPaymentMethod.id;
}

// ---------------------------------------------------------------------------------------------
// Stripe's health as the worker reports it (processorHealth: published by the worker about
// once a second through NATS, read here through the gateway)

export interface HealthSample {
  readonly at: number;
  readonly breakerState: string;
  readonly ratePerSecond: number;
  readonly queueDepth: Record<string, number>;
}

const HEALTH_QUERY =
  '{ processorHealth { processor breakerState ratePerSecond lanes { lane queueDepth } } }';

export class StripeHealthWatch {
  readonly samples: HealthSample[] = [];
  private stopped = false;
  private loop?: Promise<void>;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly intervalMs = 200,
  ) {}

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          const data = await graphql<{
            processorHealth: {
              processor: string;
              breakerState: string;
              ratePerSecond: number;
              lanes: { lane: string; queueDepth: number }[];
            }[];
          }>(this.endpoint, HEALTH_QUERY);
          const h = data.processorHealth.find((x) => x.processor === 'stripe');
          if (h) {
            this.samples.push({
              at: Date.now(),
              breakerState: h.breakerState,
              ratePerSecond: h.ratePerSecond,
              queueDepth: Object.fromEntries(h.lanes.map((l) => [l.lane, l.queueDepth])),
            });
          }
        } catch {
          /* a missed sample is fine */
        }
        await new Promise((resolve) => setTimeout(resolve, this.intervalMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /** When the breaker state seen changed (first sample included). */
  breakerChanges(): { at: number; state: string }[] {
    const changes: { at: number; state: string }[] = [];
    for (const s of this.samples) {
      if (s.breakerState !== changes.at(-1)?.state)
        changes.push({ at: s.at, state: s.breakerState });
    }
    return changes;
  }
}

// ---------------------------------------------------------------------------------------------
// Open-loop createPayment with chosen inputs

const CREATE_PAYMENT =
  'mutation Create($input: CreatePaymentInput!) { createPayment(input: $input) { id status } }';
const TICK_MS = 2;
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_OUTSTANDING = 5_000;

export interface OpenLoopCounts {
  sent: number;
  accepted: number;
  failed: number;
  firstFailure: string | null;
}

/**
 * Sends createPayment at evenly spaced instants until stop() (or `durationS`), each with the
 * input `input(i)` returns (idempotencyKey, amount and currency are added). Latency counts from
 * the instant a request was due.
 */
export class PaymentStream {
  readonly counts: OpenLoopCounts = { sent: 0, accepted: 0, failed: 0, firstFailure: null };
  readonly latencies: number[] = [];
  private readonly agent: Agent;
  private readonly target: URL;
  private outstanding = 0;
  private timer?: NodeJS.Timeout;
  private done?: Promise<void>;
  private finish?: () => void;
  startedAt = 0;
  stoppedAt = 0;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly label: string,
    private readonly rate: number,
    private readonly input: (i: number) => Record<string, unknown>,
    connections = 64,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: connections });
    this.target = new URL(endpoint.path, endpoint.url);
  }

  /** Starts sending; resolves (via finished()) after `durationS` or stop(). */
  start(durationS = Infinity): void {
    const interval = 1000 / this.rate;
    const total = Number.isFinite(durationS) ? Math.round(this.rate * durationS) : Infinity;
    const start = performance.now();
    this.startedAt = Date.now();
    let scheduled = 0;
    this.done = new Promise((resolve) => (this.finish = resolve));
    this.timer = setInterval(() => {
      const due = Math.min(total, Math.floor((performance.now() - start) / interval) + 1);
      for (; scheduled < due; scheduled += 1) this.fire(scheduled, start + scheduled * interval);
      if (scheduled >= total) this.stopSending();
    }, TICK_MS);
  }

  /** Stops sending; resolves once every request got its answer (or 15 s passed). */
  async stop(): Promise<void> {
    this.stopSending();
    await this.finished();
  }

  async finished(): Promise<void> {
    await this.done;
    const deadline = performance.now() + 15_000;
    while (this.outstanding > 0 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (this.outstanding > 0) {
      this.counts.failed += this.outstanding;
      this.counts.firstFailure ??= `${this.outstanding} requests unanswered 15 s after the load`;
      this.outstanding = 0;
    }
    this.agent.destroy();
  }

  private stopSending(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.stoppedAt = Date.now();
    this.finish?.();
  }

  private fail(text: string): void {
    this.counts.failed += 1;
    this.counts.firstFailure ??= text.slice(0, 400);
  }

  private fire(i: number, dueAt: number): void {
    this.counts.sent += 1;
    if (this.outstanding >= MAX_OUTSTANDING) return this.fail('generator backlog: skipped');
    this.outstanding += 1;
    const body = JSON.stringify({
      query: CREATE_PAYMENT,
      variables: {
        input: {
          idempotencyKey: `bench-${RUN_ID}-${this.label}-${i}`,
          amount: 1000,
          currency: 'USD',
          ...this.input(i),
        },
      },
    });
    let settled = false;
    const settle = (record: () => void) => {
      if (settled) return;
      settled = true;
      this.outstanding -= 1;
      record();
    };
    const req = request(this.target, {
      method: 'POST',
      agent: this.agent,
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${this.endpoint.apiKey}`,
        'content-length': Buffer.byteLength(body),
      },
      timeout: REQUEST_TIMEOUT_MS,
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => settle(() => this.fail(error.message)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (error) => settle(() => this.fail(error.message)));
      res.on('end', () =>
        settle(() => {
          const text = Buffer.concat(chunks).toString('utf8');
          this.latencies.push(performance.now() - dueAt);
          if (res.statusCode === 200 && /"createPayment":\{"id":"/.test(text)) {
            this.counts.accepted += 1;
          } else {
            this.fail(`HTTP ${res.statusCode}: ${text}`);
          }
        }),
      );
    });
    req.end(body);
  }
}

// ---------------------------------------------------------------------------------------------
// Small statistics

export interface Quantiles {
  readonly n: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export function quantiles(values: readonly number[]): Quantiles {
  const sorted = [...values].sort((a, b) => a - b);
  const q = (p: number) => Math.round(percentile(sorted, p) * 10) / 10;
  return { n: sorted.length, p50: q(50), p90: q(90), p99: q(99), max: q(100) };
}

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** A TCP port nobody listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
