// Load generation against one createPayment endpoint, every response checked.
//  - closedLoop: autocannon, N connections each sending its next request when the previous one
//    answered: the maximum the server sustains at that concurrency.
//  - openLoop: requests at evenly spaced instants (a fixed offered rate) whatever the server
//    does; latency counts from the instant a request was due, so queueing is not hidden.
//    (autocannon's overallRate sends each connection's quota in a burst at the start of every
//    second, which measures saturation latency rather than latency at that rate.)
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import { RawHttpPool, fireAtRate, rawPost, settle } from './raw-http';
import { SlowWindow, slowestWindows } from './slow-windows';

const CREATE_PAYMENT =
  'mutation Create($input: CreatePaymentInput!) { createPayment(input: $input) { id status } }';
const RUN_ID = randomBytes(4).toString('hex');
const REQUEST_TIMEOUT_MS = 10_000;
const OPEN_LOOP_GRACE_MS = 15_000;
const OPEN_LOOP_MAX_OUTSTANDING = 5_000;
const FAILURE_TEXT_MAX = 400;

let sequence = 0;

/** A unique body per request: same shape for the product (GraphQL) and the baseline server. */
export function createPaymentBody(label: string): string {
  sequence += 1;
  return JSON.stringify({
    query: CREATE_PAYMENT,
    variables: {
      input: {
        idempotencyKey: `bench-${RUN_ID}-${label}-${sequence}`,
        amount: 1000,
        currency: 'USD',
        paymentMethod: 'sim_ok',
      },
    },
  });
}

export interface Endpoint {
  /** Base URL, e.g. http://127.0.0.1:3000 */
  readonly url: string;
  readonly path: string;
  readonly apiKey: string;
}

function headers(endpoint: Endpoint): Record<string, string> {
  return { 'content-type': 'application/json', authorization: `Bearer ${endpoint.apiKey}` };
}

// ---------------------------------------------------------------------------------------------
// Verification and records

export interface Counts {
  /** 2xx with data.createPayment.id and no errors. */
  accepted: number;
  non2xx: number;
  /** 2xx whose body carries GraphQL errors or no payment id. */
  graphqlErrors: number;
  /** Connection errors, timeouts, requests never answered. */
  transportErrors: number;
}

/** The raw outcome of one load run; several (rounds) merge into one LoadStats. */
export interface LoadRecord {
  readonly mode: 'closed' | 'open';
  readonly connections: number;
  readonly offeredRate: number | null;
  readonly durationS: number;
  readonly counts: Counts;
  readonly latencies: readonly number[];
  /** Open loop only: when each answered request was due, seconds into the phase. */
  readonly dueS?: readonly number[];
  readonly firstFailure: string | null;
}

function isAcceptedPayment(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as {
      data?: { createPayment?: { id?: unknown } };
      errors?: unknown[];
    };
    const noErrors = parsed.errors === undefined || parsed.errors.length === 0;
    return noErrors && typeof parsed.data?.createPayment?.id === 'string';
  } catch {
    return false;
  }
}

/** Classifies each response; counts what was accepted and how the rest failed. */
class Verifier {
  readonly counts: Counts = { accepted: 0, non2xx: 0, graphqlErrors: 0, transportErrors: 0 };
  readonly latencies: number[] = [];
  readonly dueS: number[] = [];
  firstFailure: string | null = null;

  /** `dueS`: when the request was due, seconds into the phase (open loop). */
  response(status: number, body: string, latencyMs: number, dueS?: number): void {
    this.latencies.push(latencyMs);
    if (dueS !== undefined) this.dueS.push(dueS);
    if (status < 200 || status > 299) {
      this.counts.non2xx += 1;
      this.noteFailure(`HTTP ${status}: ${body}`);
    } else if (isAcceptedPayment(body)) {
      this.counts.accepted += 1;
    } else {
      this.counts.graphqlErrors += 1;
      this.noteFailure(`HTTP ${status}: ${body}`);
    }
  }

  transportError(message: string, count = 1): void {
    if (count <= 0) return;
    this.counts.transportErrors += count;
    this.noteFailure(message);
  }

  private noteFailure(text: string): void {
    this.firstFailure ??= text.slice(0, FAILURE_TEXT_MAX);
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics

export interface Latency {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export interface LoadStats extends Counts {
  readonly mode: 'closed' | 'open';
  readonly connections: number;
  /** Open loop only: the rate asked for. */
  readonly offeredRate: number | null;
  readonly durationS: number;
  readonly rounds: number;
  readonly responses: number;
  readonly acceptedPerS: number;
  readonly latencyMs: Latency;
  /** Open loop (one run): the half-seconds with the highest p99, worst first. */
  readonly slowestHalfSeconds: readonly SlowWindow[];
  /** True when every request got an accepted payment. */
  readonly clean: boolean;
  /** The first failed request, for diagnosis. */
  readonly firstFailure: string | null;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

export function summarize(latencies: readonly number[]): Latency {
  const sorted = [...latencies].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    p50: round1(percentile(sorted, 50)),
    p90: round1(percentile(sorted, 90)),
    p99: round1(percentile(sorted, 99)),
    max: round1(sorted.at(-1) ?? 0),
    mean: round1(sorted.length ? sum / sorted.length : 0),
  };
}

/** One LoadStats from one or more runs of the same kind (durations and counts add up). */
export function toStats(records: readonly LoadRecord[]): LoadStats {
  const counts: Counts = { accepted: 0, non2xx: 0, graphqlErrors: 0, transportErrors: 0 };
  for (const r of records) {
    for (const key of Object.keys(counts) as (keyof Counts)[]) counts[key] += r.counts[key];
  }
  const durationS = round1(records.reduce((sum, r) => sum + r.durationS, 0));
  const failures = counts.non2xx + counts.graphqlErrors + counts.transportErrors;
  return {
    mode: records[0].mode,
    connections: records[0].connections,
    offeredRate: records[0].offeredRate,
    durationS,
    rounds: records.length,
    ...counts,
    responses: counts.accepted + counts.non2xx + counts.graphqlErrors,
    acceptedPerS: Math.round(counts.accepted / durationS),
    latencyMs: summarize(records.flatMap((r) => r.latencies)),
    slowestHalfSeconds:
      records.length === 1 && records[0].dueS
        ? slowestWindows(records[0].dueS, records[0].latencies)
        : [],
    clean: failures === 0,
    firstFailure: records.find((r) => r.firstFailure !== null)?.firstFailure ?? null,
  };
}

// ---------------------------------------------------------------------------------------------
// Closed loop (autocannon)

export interface ClosedLoopOptions {
  readonly label: string;
  readonly connections: number;
  readonly durationS: number;
}

export function closedLoop(endpoint: Endpoint, options: ClosedLoopOptions): Promise<LoadRecord> {
  const verifier = new Verifier();
  // onResponse gets the body, the instance's 'response' event the latency, in that order.
  let pending: { status: number; body: string } | null = null;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: endpoint.url,
        connections: options.connections,
        duration: options.durationS,
        timeout: REQUEST_TIMEOUT_MS / 1000,
        requests: [
          {
            method: 'POST',
            path: endpoint.path,
            headers: headers(endpoint),
            setupRequest: (req) => ({ ...req, body: createPaymentBody(options.label) }),
            onResponse: (status, body) => (pending = { status, body }),
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        const message = `${result.errors} connection errors (${result.timeouts} timeouts)`;
        verifier.transportError(message, result.errors);
        resolve({
          mode: 'closed',
          connections: options.connections,
          offeredRate: null,
          durationS: result.duration,
          counts: verifier.counts,
          latencies: verifier.latencies,
          firstFailure: verifier.firstFailure,
        });
      },
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      verifier.response(status, pending?.body ?? '', ms);
      pending = null;
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Open loop (fixed offered rate)

export interface OpenLoopOptions {
  readonly label: string;
  readonly rate: number;
  readonly durationS: number;
  /**
   * Seconds sent at the same rate, on the same sockets, before the measured `durationS`, and not
   * recorded: the phase is measured once its connections are open and the server has settled
   * into the rate (default 0).
   */
  readonly warmupS?: number;
  /** Keep-alive sockets at most; requests beyond wait for a free one (and that wait counts). */
  readonly connections: number;
}

class OpenLoopRun {
  readonly verifier = new Verifier();
  private readonly pool: RawHttpPool;
  private readonly target: URL;
  private outstanding = 0;
  private skipped = 0;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly options: OpenLoopOptions,
  ) {
    this.target = new URL(endpoint.path, endpoint.url);
    this.pool = new RawHttpPool(this.target, options.connections, REQUEST_TIMEOUT_MS);
  }

  /**
   * Sends `rate × warmupS` requests (not recorded), then `rate × duration` requests at evenly
   * spaced instants, then waits for the answers. Returns the seconds the measured part took.
   */
  async run(): Promise<number> {
    const { rate, durationS, warmupS = 0 } = this.options;
    if (warmupS > 0) {
      const warmup = new Verifier();
      await fireAtRate(rate, warmupS, (dueAt) => this.fire(dueAt, warmup));
    }
    const start = performance.now();
    await fireAtRate(rate, durationS, (dueAt) =>
      this.fire(dueAt, this.verifier, (dueAt - start) / 1000),
    );
    const sentForS = (performance.now() - start) / 1000;
    const unanswered = await settle(() => this.outstanding, OPEN_LOOP_GRACE_MS);
    this.verifier.transportError('no answer within the grace period', unanswered);
    this.pool.destroy();
    this.verifier.transportError('generator backlog: requests skipped', this.skipped);
    return sentForS;
  }

  private fire(dueAt: number, verifier: Verifier, dueS?: number): void {
    if (this.outstanding >= OPEN_LOOP_MAX_OUTSTANDING) {
      this.skipped += 1;
      return;
    }
    this.outstanding += 1;
    const body = createPaymentBody(this.options.label);
    this.pool.request(rawPost(this.target, headers(this.endpoint), body), (error, response) => {
      this.outstanding -= 1;
      if (error || !response) verifier.transportError(error?.message ?? 'no response');
      else verifier.response(response.status, response.body, performance.now() - dueAt, dueS);
    });
  }
}

export async function openLoop(endpoint: Endpoint, options: OpenLoopOptions): Promise<LoadRecord> {
  const run = new OpenLoopRun(endpoint, options);
  const sentForS = await run.run();
  return {
    mode: 'open',
    connections: options.connections,
    offeredRate: options.rate,
    durationS: Math.round(sentForS * 100) / 100,
    counts: run.verifier.counts,
    latencies: run.verifier.latencies,
    dueS: run.verifier.dueS,
    firstFailure: run.verifier.firstFailure,
  };
}
