// Rate-limit utilisation: the fake Stripe answers 429 above 100 requests/s (its own token
// bucket); the worker's limiter starts at STRIPE_RATE_LIMIT_PER_SEC=100. 300 payments/s are
// offered for BENCH_RL_DURATION_S (half CHECKOUT, half BACKGROUND, bare pm_card_visa, so all of
// them go to Stripe). The JetStream backlog grows (300 in, 100 out): that is expected; what is
// measured is what Stripe sees and how long each lane waits in the worker's limiter.
//
// Wait of one authorize attempt = time the recording proxy in front of the fake first saw the
// attempt's Idempotency-Key (`<paymentId>:authorize:<n>`) − the attempt row's created_at (the
// worker inserts it right before asking the limiter for a token). Same machine, same clock.
import { bucketDelta, bucketQuantile, histogramBuckets } from './prometheus-histogram';
import { CpuReport } from './cpu';
import { measured } from './phase';
import { BenchContext, statusCounts } from './phase';
import {
  HealthSample,
  PaymentStream,
  ProcessorStack,
  ProxyAnswer,
  StripeHealthWatch,
  Quantiles,
  quantiles,
  round2,
  startProcessorStack,
} from './processor-stack';
import { sleep } from './stack';

const TAIL_TIMEOUT_MS = 20_000;

export interface LaneWaits {
  /** Attempts claimed in the steady window (all attempt numbers). */
  readonly attempts: number;
  /** Of those, requests that reached Stripe: their wait. */
  readonly reachedStripe: Quantiles;
  /**
   * Waits of every attempt, counting an attempt that gave up in the limiter (local
   * `rate_limited` after CHECKOUT_MAX_WAIT_MS) or was still waiting with the time it waited.
   */
  readonly all: Quantiles;
  /** Attempts refused by the worker's own limiter (waited longer than CHECKOUT_MAX_WAIT_MS). */
  readonly gaveUpInLimiter: number;
  /** Attempts still pending when the benchmark stopped looking. */
  readonly stillWaiting: number;
}

/** Waits observed by the worker's own limiter histogram, per lane, over the steady window. */
export interface LimiterHistogramWaits {
  readonly CHECKOUT: { n: number; p50: number | null; p99: number | null };
  readonly BACKGROUND: { n: number; p50: number | null; p99: number | null };
}

export interface RateLimitResults {
  readonly offeredRate: number;
  readonly durationS: number;
  readonly stripeLimit: number;
  /** rate_limiter_wait_seconds{processor="stripe"} of the worker: the wait IN the limiter. */
  readonly limiterHistogramMs: LimiterHistogramWaits;
  readonly load: {
    sent: number;
    accepted: number;
    failed: number;
    firstFailure: string | null;
    httpP99Ms: number;
  };
  /** [from, to] seconds after the load started. */
  readonly steadyWindowS: readonly [number, number];
  /** Successful PaymentIntent creations per second at the fake, steady window. */
  readonly stripeSuccessPerS: number;
  /** stripeSuccessPerS ÷ stripeLimit. */
  readonly utilisation: number;
  /** Successful creations per second of load, whole load. */
  readonly perSecond: readonly number[];
  /** Every request the fake received, and those it answered 429, over the whole run. */
  readonly stripeRequests: number;
  readonly stripe429: number;
  readonly share429: number;
  readonly share429Steady: number;
  readonly paymentIntentsCreated: number;
  /** Answers of the fake by method, path (ids replaced by :id) and status, whole run. */
  readonly stripeAnswers: Record<string, number>;
  readonly waitsMs: { readonly CHECKOUT: LaneWaits; readonly BACKGROUND: LaneWaits };
  /** Payments created during the load, by status, when the benchmark stopped. */
  readonly statusesAtEnd: Record<string, number>;
  readonly failureCodes: Record<string, number>;
  /**
   * The worker's own view, sampled through processorHealth in the steady window: limiter rate
   * (AIMD) min/max, and queue depth per lane, mean and max.
   */
  readonly limiter: {
    readonly samples: number;
    readonly rateMin: number;
    readonly rateMax: number;
    readonly queueMean: Record<string, number>;
    readonly queueMax: Record<string, number>;
  };
  readonly cpu: CpuReport;
}

interface AttemptRow {
  key: string;
  priority: 'CHECKOUT' | 'BACKGROUND';
  outcome: string;
  error_message: string | null;
  created_ms: number;
  completed_ms: number | null;
}

async function steadyAttempts(stack: ProcessorStack, from: number, to: number) {
  const rows: AttemptRow[] = await stack.db.dataSource.query(
    `SELECT a.idempotency_key AS key, p.priority, a.outcome, a.error_message,
            EXTRACT(EPOCH FROM a.created_at)::float8 * 1000 AS created_ms,
            EXTRACT(EPOCH FROM a.completed_at)::float8 * 1000 AS completed_ms
     FROM payment_attempts a JOIN payments p ON p.id = a.payment_id
     WHERE a.operation = 'authorize' AND p.client_id = $1
       AND a.created_at >= to_timestamp($2::float8 / 1000) AND a.created_at < to_timestamp($3::float8 / 1000)`,
    [stack.client.id, from, to],
  );
  return rows;
}

/** Waits until no attempt claimed before `to` waits in the limiter any more (bounded). */
async function waitForTail(stack: ProcessorStack, from: number, to: number): Promise<void> {
  const deadline = Date.now() + TAIL_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const rows = await steadyAttempts(stack, from, to);
    const waiting = rows.filter(
      (r) => r.outcome === 'pending' && !stack.proxy!.firstSeen.has(r.key),
    );
    if (waiting.length === 0) return;
    await sleep(250);
  }
}

function laneWaits(rows: AttemptRow[], firstSeen: Map<string, number>, now: number): LaneWaits {
  const reached: number[] = [];
  const all: number[] = [];
  let gaveUp = 0;
  let waiting = 0;
  for (const r of rows) {
    const seen = firstSeen.get(r.key);
    if (seen !== undefined) {
      const wait = Math.max(0, seen - r.created_ms);
      reached.push(wait);
      all.push(wait);
    } else if (r.outcome === 'pending') {
      waiting += 1;
      all.push(now - r.created_ms);
    } else {
      if (r.error_message?.includes('local limiter wait exceeded')) gaveUp += 1;
      all.push((r.completed_ms ?? now) - r.created_ms);
    }
  }
  return {
    attempts: rows.length,
    reachedStripe: quantiles(reached),
    all: quantiles(all),
    gaveUpInLimiter: gaveUp,
    stillWaiting: waiting,
  };
}

async function failureCodes(stack: ProcessorStack): Promise<Record<string, number>> {
  const rows: { code: string | null; n: number }[] = await stack.db.dataSource.query(
    `SELECT failure->>'code' AS code, count(*)::int AS n FROM payments
     WHERE client_id = $1 AND status = 'FAILED' GROUP BY 1`,
    [stack.client.id],
  );
  return Object.fromEntries(rows.map((r) => [r.code ?? 'none', r.n]));
}

function answersByRoute(answers: readonly ProxyAnswer[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of answers) {
    const key = `${a.method} ${a.path.replace(/\/(pi|re|ch)_[A-Za-z0-9]+/g, '/:id')} ${a.status}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

function limiterView(samples: HealthSample[]): RateLimitResults['limiter'] {
  const lanes = ['CHECKOUT', 'BACKGROUND'];
  const depths = (lane: string) => samples.map((s) => s.queueDepth[lane] ?? 0);
  const mean = (xs: number[]) =>
    xs.length ? round2(xs.reduce((a, b) => a + b, 0) / xs.length) : 0;
  const rates = samples.map((s) => s.ratePerSecond);
  return {
    samples: samples.length,
    rateMin: rates.length ? round2(Math.min(...rates)) : 0,
    rateMax: rates.length ? round2(Math.max(...rates)) : 0,
    queueMean: Object.fromEntries(lanes.map((l) => [l, mean(depths(l))])),
    queueMax: Object.fromEntries(lanes.map((l) => [l, Math.max(0, ...depths(l))])),
  };
}

export async function runRateLimitBenchmark(ctx: BenchContext): Promise<RateLimitResults> {
  const {
    rlDurationS: durationS,
    rlOfferedRate: rate,
    rlStripeLimit: limit,
  } = ctx.config.processors;
  const stack = await startProcessorStack(ctx, {
    prefix: 'prl',
    fakeRateLimitPerSec: limit,
    proxy: true,
    workerMetrics: true,
    env: { STRIPE_RATE_LIMIT_PER_SEC: String(limit) },
  });
  const proxy = stack.proxy!;
  const stream = new PaymentStream(stack.endpoint, 'rl', rate, (i) => ({
    paymentMethod: 'pm_card_visa',
    priority: i % 2 === 0 ? 'CHECKOUT' : 'BACKGROUND',
  }));
  ctx.log(`rate limit: ${rate} payments/s offered for ${durationS} s, Stripe allows ${limit}/s`);
  const health = new StripeHealthWatch(stack.endpoint, 250);
  health.start();
  const skipS = Math.min(5, durationS * 0.2);
  let histogramAtFrom: Promise<string> | null = null;
  const run = await measured(stack.groups, stack.db, async () => {
    stream.start(durationS);
    const scrape = setTimeout(() => {
      histogramAtFrom = scrapeMetrics(stack.workerMetricsUrl!);
    }, skipS * 1000);
    await stream.finished();
    clearTimeout(scrape);
  });
  await health.stop();
  const loadStart = stream.startedAt;
  const loadEnd = stream.stoppedAt;
  const from = loadStart + skipS * 1000;
  const to = loadEnd;
  ctx.log('rate limit: load done; waiting for attempts of the window to leave the limiter');
  await waitForTail(stack, from, to);
  const now = Date.now();
  const inLimiter = limiterHistogramWaits(
    histogramAtFrom ? await histogramAtFrom : '',
    await scrapeMetrics(stack.workerMetricsUrl!),
  );

  const creations = proxy.answers.filter(
    (a) => a.method === 'POST' && a.path === '/v1/payment_intents' && a.status === 200,
  );
  const inWindow = (a: { at: number }) => a.at >= from && a.at < to;
  const windowS = (to - from) / 1000;
  const stripeSuccessPerS = creations.filter(inWindow).length / windowS;
  const perSecond: number[] = [];
  for (let s = 0; s < Math.ceil((loadEnd - loadStart) / 1000); s += 1) {
    const a = loadStart + s * 1000;
    perSecond.push(creations.filter((c) => c.at >= a && c.at < a + 1000).length);
  }
  const steadyAnswers = proxy.answers.filter(inWindow);
  const steady429 = steadyAnswers.filter((a) => a.status === 429).length;
  const requests = stack.fake.requestCount();
  const limited = stack.fake.rateLimitedCount();

  const rows = await steadyAttempts(stack, from, to);
  const lane = (p: AttemptRow['priority']) =>
    laneWaits(
      rows.filter((r) => r.priority === p),
      proxy.firstSeen,
      now,
    );
  const counts = await statusCounts(stack.db, stack.client.id);
  const results: RateLimitResults = {
    offeredRate: rate,
    durationS: round2((loadEnd - loadStart) / 1000),
    stripeLimit: limit,
    load: {
      sent: stream.counts.sent,
      accepted: stream.counts.accepted,
      failed: stream.counts.failed,
      firstFailure: stream.counts.firstFailure,
      httpP99Ms: quantiles(stream.latencies).p99,
    },
    steadyWindowS: [round2(skipS), round2((to - loadStart) / 1000)],
    stripeSuccessPerS: round2(stripeSuccessPerS),
    utilisation: round2(stripeSuccessPerS / limit),
    perSecond,
    stripeRequests: requests,
    stripe429: limited,
    share429: requests > 0 ? Math.round((limited / requests) * 10_000) / 10_000 : 0,
    share429Steady:
      steadyAnswers.length > 0
        ? Math.round((steady429 / steadyAnswers.length) * 10_000) / 10_000
        : 0,
    paymentIntentsCreated: stack.fake.paymentIntentsCreated(),
    stripeAnswers: answersByRoute(proxy.answers),
    waitsMs: { CHECKOUT: lane('CHECKOUT'), BACKGROUND: lane('BACKGROUND') },
    limiterHistogramMs: inLimiter,
    statusesAtEnd: counts.byStatus,
    failureCodes: await failureCodes(stack),
    limiter: limiterView(health.samples.filter((h) => h.at >= from && h.at < to)),
    cpu: run.cpu,
  };
  const c = results.waitsMs.CHECKOUT.reachedStripe;
  ctx.log(
    `rate limit: ${results.stripeSuccessPerS}/s at Stripe (${results.utilisation}), ` +
      `429 share ${results.share429}, CHECKOUT in-limiter wait p99 ${inLimiter.CHECKOUT.p99} ms, ` +
      `claimed → at Stripe p50 ${c.p50} p99 ${c.p99} ms`,
  );
  return results;
}

async function scrapeMetrics(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`worker metrics: HTTP ${response.status}`);
  return response.text();
}

/** p50/p99 (ms, interpolated in the histogram's buckets) of the grants between two scrapes. */
function limiterHistogramWaits(before: string, after: string): LimiterHistogramWaits {
  const lane = (name: 'CHECKOUT' | 'BACKGROUND') => {
    const read = (page: string) =>
      histogramBuckets(page, 'rate_limiter_wait_seconds', { processor: 'stripe', lane: name });
    const delta = bucketDelta(read(before), read(after));
    const ms = (q: number) => {
      const s = bucketQuantile(delta, q);
      return s === null ? null : round2(s * 1000);
    };
    return { n: delta.get(Number.POSITIVE_INFINITY) ?? 0, p50: ms(0.5), p99: ms(0.99) };
  };
  return { CHECKOUT: lane('CHECKOUT'), BACKGROUND: lane('BACKGROUND') };
}
