// Failover: gpm_ payments (a token at Stripe and at the simulator) at a steady offered rate.
// Stripe healthy for BENCH_FO_STEADY_S; at T0 the fake Stripe stops listening (outage:
// connections refused) for BENCH_FO_OUTAGE_S; at T1 it listens again. The load keeps going
// until a payment created after T1 has SUCCEEDED on Stripe (or BENCH_FO_RECOVERY_TIMEOUT_S),
// then every payment is drained to a final status and money is counted on both sides.
// All times are taken from the database (created_at by the gateway, updated_at by the worker's
// final write) against T0/T1 from this process's clock (same machine).
import { measured } from './phase';
import { BenchContext, waitUntilFinal } from './phase';
import {
  ProcessorStack,
  Quantiles,
  PaymentStream,
  StripeHealthWatch,
  createGatewayPaymentMethod,
  quantiles,
  round2,
  startProcessorStack,
} from './processor-stack';
import { sleep } from './stack';
import { CpuReport } from './cpu';

const POLL_MS = 200;

export interface BreakerChange {
  /** ms after T0 (negative: before the outage). */
  readonly atMs: number;
  readonly state: string;
}

export interface MoneyCheck {
  readonly payments: number;
  /** SUCCEEDED payments charged exactly once (Stripe + simulator). */
  readonly succeededChargedOnce: number;
  /** FAILED payments charged nowhere. */
  readonly failedNotCharged: number;
  /** Payments breaking the rule: id, status, Stripe charges, simulator charges. */
  readonly violations: readonly {
    id: string;
    status: string;
    processor: string | null;
    stripe: number;
    simulator: number;
  }[];
  /** SUCCEEDED payments whose `processor` is not where the money moved. */
  readonly processorMismatch: number;
  readonly notFinal: number;
}

export interface FailoverResults {
  readonly rate: number;
  readonly load: { sent: number; accepted: number; failed: number; firstFailure: string | null };
  readonly steadyS: number;
  readonly outageS: number;
  /** T0 → the first payment created at or after T0 SUCCEEDED on the simulator. */
  readonly firstOnSimulatorMs: number | null;
  /** Payments created during the outage: created → final, those that SUCCEEDED on the simulator. */
  readonly outageToSimulatorMs: Quantiles;
  /** Payments created during the outage, by final processor/status. */
  readonly outagePayments: Record<string, number>;
  /** How payments created during the outage got there: Stripe attempts before the simulator. */
  readonly outageStripeAttempts: Record<string, number>;
  /**
   * Where the time of outage payments went (p50 / p99 ms): created → first attempt claimed
   * (outbox, JetStream), the refused Stripe attempt, refused → simulator attempt claimed (the
   * command's redelivery delay), simulator attempt claimed → final; and created → final of
   * payments that skipped Stripe (breaker open) and of payments before T0 (healthy Stripe).
   */
  readonly breakdownMs: Record<string, { n: number; p50: number; p99: number }>;
  /** Authorize attempts of the whole run by processor, outcome and error kind. */
  readonly attempts: Record<string, number>;
  /** Payments created before T0 that were still open at T0 and ended on Stripe after T1. */
  readonly heldAtStripeThroughOutage: number;
  /** T1 → the first payment created at or after T1 SUCCEEDED on Stripe. */
  readonly recoveryMs: number | null;
  /** T1 → creation of that payment. */
  readonly recoveryCreatedAfterMs: number | null;
  /** Breaker state changes seen through processorHealth (the worker publishes every second). */
  readonly breaker: readonly BreakerChange[];
  /** Payments by processor and status after the drain. */
  readonly final: Record<string, number>;
  readonly drained: boolean;
  readonly money: MoneyCheck;
  readonly stripeRequests: number;
  readonly cpu: CpuReport;
}

async function firstSucceeded(
  stack: ProcessorStack,
  processor: string,
  createdFrom: number,
): Promise<{ done_ms: number; created_ms: number } | undefined> {
  const [row]: { done_ms: number; created_ms: number }[] = await stack.db.dataSource.query(
    `SELECT EXTRACT(EPOCH FROM updated_at)::float8 * 1000 AS done_ms,
            EXTRACT(EPOCH FROM created_at)::float8 * 1000 AS created_ms
     FROM payments WHERE client_id = $1 AND status = 'SUCCEEDED' AND processor = $2
       AND created_at >= to_timestamp($3::float8 / 1000)
     ORDER BY updated_at LIMIT 1`,
    [stack.client.id, processor, createdFrom],
  );
  return row;
}

interface PaymentRow {
  id: string;
  status: string;
  processor: string | null;
  created_ms: number;
  updated_ms: number;
  stripe_attempts: number;
}

async function allPayments(stack: ProcessorStack): Promise<PaymentRow[]> {
  return stack.db.dataSource.query(
    `SELECT p.id, p.status, p.processor,
            EXTRACT(EPOCH FROM p.created_at)::float8 * 1000 AS created_ms,
            EXTRACT(EPOCH FROM p.updated_at)::float8 * 1000 AS updated_ms,
            (SELECT count(*)::int FROM payment_attempts a
             WHERE a.payment_id = p.id AND a.operation = 'authorize' AND a.processor = 'stripe')
              AS stripe_attempts
     FROM payments p WHERE p.client_id = $1`,
    [stack.client.id],
  );
}

interface AttemptTimes {
  payment_id: string;
  processor: string;
  outcome: string;
  error_kind: string | null;
  created_ms: number;
  completed_ms: number | null;
}

async function attemptTimes(stack: ProcessorStack): Promise<AttemptTimes[]> {
  return stack.db.dataSource.query(
    `SELECT a.payment_id, a.processor, a.outcome, a.error_kind,
            EXTRACT(EPOCH FROM a.created_at)::float8 * 1000 AS created_ms,
            EXTRACT(EPOCH FROM a.completed_at)::float8 * 1000 AS completed_ms
     FROM payment_attempts a JOIN payments p ON p.id = a.payment_id
     WHERE p.client_id = $1 AND a.operation = 'authorize' ORDER BY a.attempt_number`,
    [stack.client.id],
  );
}

function breakdown(
  payments: PaymentRow[],
  attempts: AttemptTimes[],
  t0: number,
  t1: number,
): FailoverResults['breakdownMs'] {
  const byPayment = new Map<string, AttemptTimes[]>();
  for (const a of attempts)
    byPayment.set(a.payment_id, [...(byPayment.get(a.payment_id) ?? []), a]);
  const series: Record<string, number[]> = {
    'outage, via Stripe: created → first attempt': [],
    'outage, via Stripe: refused Stripe attempt': [],
    'outage, via Stripe: refused → simulator attempt': [],
    'outage, via Stripe: simulator attempt → final': [],
    'outage, via Stripe: created → final': [],
    'outage, breaker open: created → final': [],
    'before T0, on Stripe: created → final': [],
  };
  for (const p of payments) {
    if (p.status !== 'SUCCEEDED') continue;
    const list = byPayment.get(p.id) ?? [];
    const total = p.updated_ms - p.created_ms;
    if (p.created_ms < t0 && p.processor === 'stripe' && p.updated_ms < t0) {
      series['before T0, on Stripe: created → final'].push(total);
    }
    if (p.created_ms < t0 || p.created_ms >= t1 || p.processor !== 'simulator') continue;
    const stripe = list.filter((a) => a.processor === 'stripe');
    const sim = list.find((a) => a.processor === 'simulator');
    if (stripe.length === 0) {
      series['outage, breaker open: created → final'].push(total);
      continue;
    }
    const last = stripe[stripe.length - 1];
    series['outage, via Stripe: created → first attempt'].push(list[0].created_ms - p.created_ms);
    if (last.completed_ms !== null) {
      series['outage, via Stripe: refused Stripe attempt'].push(
        last.completed_ms - last.created_ms,
      );
      if (sim)
        series['outage, via Stripe: refused → simulator attempt'].push(
          sim.created_ms - last.completed_ms,
        );
    }
    if (sim)
      series['outage, via Stripe: simulator attempt → final'].push(p.updated_ms - sim.created_ms);
    series['outage, via Stripe: created → final'].push(total);
  }
  return Object.fromEntries(
    Object.entries(series).map(([name, values]) => {
      const q = quantiles(values);
      return [name, { n: q.n, p50: q.p50, p99: q.p99 }];
    }),
  );
}

async function moneyCheck(stack: ProcessorStack, payments: PaymentRow[]): Promise<MoneyCheck> {
  const rows: { merchant_ref: string; n: number }[] = await stack.db.dataSource.query(
    `SELECT merchant_ref, count(*)::int AS n FROM simulator_payments GROUP BY merchant_ref`,
  );
  const simulator = new Map(rows.map((r) => [r.merchant_ref, r.n]));
  let succeededChargedOnce = 0;
  let failedNotCharged = 0;
  let processorMismatch = 0;
  let notFinal = 0;
  const violations: MoneyCheck['violations'][number][] = [];
  for (const p of payments) {
    const stripe = stack.fake.chargesFor(p.id);
    const sim = simulator.get(p.id) ?? 0;
    const entry = { id: p.id, status: p.status, processor: p.processor, stripe, simulator: sim };
    if (p.status === 'SUCCEEDED') {
      if (stripe + sim === 1) succeededChargedOnce += 1;
      else violations.push(entry);
      if ((stripe === 1 && p.processor !== 'stripe') || (sim === 1 && p.processor !== 'simulator'))
        processorMismatch += 1;
    } else if (p.status === 'FAILED') {
      if (stripe + sim === 0) failedNotCharged += 1;
      else violations.push(entry);
    } else {
      notFinal += 1;
      if (stripe + sim > 1) violations.push(entry);
    }
  }
  return {
    payments: payments.length,
    succeededChargedOnce,
    failedNotCharged,
    violations: violations.slice(0, 20),
    processorMismatch,
    notFinal,
  };
}

function tally<R>(rows: readonly R[], key: (r: R) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) out[key(r)] = (out[key(r)] ?? 0) + 1;
  return out;
}

export async function runFailoverBenchmark(ctx: BenchContext): Promise<FailoverResults> {
  const { foRate: rate, foSteadyS, foOutageS, foRecoveryTimeoutS } = ctx.config.processors;
  const stack = await startProcessorStack(ctx, {
    prefix: 'pfo',
    fakeRateLimitPerSec: 10_000,
    proxy: false, // an outage must be a refused connection, as the fake makes it
    // The worker's limiter must not be what slows Stripe down here; breaker etc. as shipped.
    env: { STRIPE_RATE_LIMIT_PER_SEC: '1000' },
  });
  const gpm = await createGatewayPaymentMethod(stack.endpoint, [
    { processor: 'stripe', token: 'pm_card_visa' },
    { processor: 'simulator', token: 'sim_ok' },
  ]);
  const stream = new PaymentStream(stack.endpoint, 'fo', rate, () => ({ paymentMethod: gpm }));
  const breaker = new StripeHealthWatch(stack.endpoint);
  let t0 = 0;
  let t1 = 0;
  let recovered: { done_ms: number; created_ms: number } | undefined;
  const run = await measured(stack.groups, stack.db, async () => {
    breaker.start();
    stream.start();
    ctx.log(`failover: ${rate} gpm_ payments/s, Stripe healthy for ${foSteadyS} s`);
    await sleep(foSteadyS * 1000);
    t0 = Date.now();
    await stack.fake.faults.set({ kind: 'outage' });
    ctx.log(`failover: Stripe down (connections refused) for ${foOutageS} s`);
    await sleep(foOutageS * 1000 - (Date.now() - t0));
    t1 = Date.now();
    await stack.fake.faults.set(null);
    ctx.log('failover: Stripe back; waiting for a new payment to succeed on Stripe');
    const deadline = t1 + foRecoveryTimeoutS * 1000;
    while (Date.now() < deadline) {
      recovered = await firstSucceeded(stack, 'stripe', t1);
      if (recovered) break;
      await sleep(POLL_MS);
    }
    await sleep(2000); // a little load on the recovered Stripe
    await stream.stop();
    ctx.log(`failover: load stopped (${stream.counts.accepted} accepted); draining`);
    const drain = await waitUntilFinal(stack.db, stack.client.id, ctx.config.drainTimeoutS);
    await breaker.stop();
    return drain;
  });
  const payments = await allPayments(stack);
  const attempts = await attemptTimes(stack);
  const firstSim = await firstSucceeded(stack, 'simulator', t0);
  const duringOutage = payments.filter((p) => p.created_ms >= t0 && p.created_ms < t1);
  const toSimulator = duringOutage
    .filter((p) => p.status === 'SUCCEEDED' && p.processor === 'simulator')
    .map((p) => p.updated_ms - p.created_ms);
  const held = payments.filter(
    (p) =>
      p.created_ms < t0 && p.updated_ms >= t0 && p.processor === 'stripe' && p.status !== 'FAILED',
  ).length;
  const results: FailoverResults = {
    rate,
    load: { ...stream.counts },
    steadyS: foSteadyS,
    outageS: round2((t1 - t0) / 1000),
    firstOnSimulatorMs: firstSim ? Math.round(firstSim.done_ms - t0) : null,
    outageToSimulatorMs: quantiles(toSimulator),
    outagePayments: tally(duringOutage, (p) => `${p.processor ?? 'none'} ${p.status}`),
    outageStripeAttempts: tally(duringOutage, (p) => `${p.stripe_attempts} Stripe attempts`),
    breakdownMs: breakdown(payments, attempts, t0, t1),
    attempts: tally(attempts, (a) => `${a.processor} ${a.outcome} ${a.error_kind ?? ''}`.trim()),
    heldAtStripeThroughOutage: held,
    recoveryMs: recovered ? Math.round(recovered.done_ms - t1) : null,
    recoveryCreatedAfterMs: recovered ? Math.round(recovered.created_ms - t1) : null,
    breaker: breaker.breakerChanges().map((c) => ({ atMs: c.at - t0, state: c.state })),
    final: tally(payments, (p) => `${p.processor ?? 'none'} ${p.status}`),
    drained: run.result.drained,
    money: await moneyCheck(stack, payments),
    stripeRequests: stack.fake.requestCount(),
    cpu: run.cpu,
  };
  ctx.log(
    `failover: first on simulator ${results.firstOnSimulatorMs} ms after T0, ` +
      `p50 ${results.outageToSimulatorMs.p50} ms; back on Stripe ${results.recoveryMs} ms after T1; ` +
      `${results.money.violations.length} money violations`,
  );
  return results;
}
