// Checks and text of the processor benchmarks, merged into the run's results (report.ts builds
// the rest; its checks table and JSON then carry these too).
import { CpuReport } from './cpu';
import { ProcessorResults } from './processor-bench';
import { PROCESSOR_TARGETS } from './processor-config';
import { BenchResults, Check } from './report';

const T = PROCESSOR_TARGETS;

const atLeast = (name: string, value: number, min: number): Check => ({
  name,
  value,
  target: `>= ${min}`,
  pass: value >= min,
});
const atMost = (name: string, value: number | null, max: number): Check => ({
  name,
  value: value ?? -1,
  target: `<= ${max}`,
  pass: value !== null && value <= max,
});
const holds = (name: string, value: boolean): Check => ({
  name,
  value,
  target: 'true',
  pass: value,
});

export function processorChecks(p: ProcessorResults): Check[] {
  const checks: Check[] = [];
  const rl = p.rateLimit;
  if (rl) {
    checks.push(
      atLeast(
        'processors: Stripe utilisation (ok creations/s ÷ limit)',
        rl.utilisation,
        T.rlUtilisation,
      ),
      atMost('processors: share of 429 among calls to Stripe', rl.share429, T.rl429Share),
      atMost(
        "processors: CHECKOUT wait in the limiter p99 ms (worker's histogram)",
        rl.limiterHistogramMs.CHECKOUT.p99 ?? Number.POSITIVE_INFINITY,
        T.rlCheckoutWaitP99Ms,
      ),
    );
  }
  const fo = p.failover;
  if (fo) {
    checks.push(
      atMost(
        'processors: outage → first payment on simulator ms',
        fo.firstOnSimulatorMs,
        T.foFailoverMs,
      ),
      atMost(
        'processors: created in outage → SUCCEEDED on simulator p50 ms',
        fo.outageToSimulatorMs.n > 0 ? fo.outageToSimulatorMs.p50 : null,
        T.foFailoverMs,
      ),
      atMost('processors: recovery → new payment on Stripe ms', fo.recoveryMs, T.foRecoveryMs),
      holds(
        'processors: no double charge, no charge without success',
        fo.money.violations.length === 0 && fo.money.notFinal === 0,
      ),
    );
  }
  if (p.errors.length > 0) checks.push(holds('processors: both benchmarks ran', false));
  return checks;
}

/** The run's results with the processor figures, checks and pass flag added. */
export function withProcessors(
  results: BenchResults,
  processors: ProcessorResults | null,
): BenchResults & { processors: ProcessorResults | null; processorTargets: typeof T } {
  if (!processors) return { ...results, processors, processorTargets: T };
  const checks = [...results.checks, ...processorChecks(processors)];
  return {
    ...results,
    processors,
    processorTargets: T,
    checks,
    passed: results.error === null && checks.every((c) => c.pass),
  };
}

function cpuLine(cpu: CpuReport): string {
  const parts = Object.entries(cpu.percent).map(([name, pct]) => {
    const wait = cpu.waitingForCpu[name];
    return `${name} ${pct.toFixed(0)}${wait === undefined ? '' : ` w${wait.toFixed(0)}`}`;
  });
  return `  CPU % of one core (w = % waiting for a core): ${parts.join(', ')}, other ${cpu.other.toFixed(0)}, steal ${(cpu.steal ?? 0).toFixed(0)}, machine ${cpu.machineBusy.toFixed(0)}/${cpu.capacity}`;
}

export function formatProcessors(p: ProcessorResults): string {
  const lines: string[] = ['processors (fake Stripe in the benchmark process, loopback)'];
  const rl = p.rateLimit;
  if (rl) {
    const lane = (name: 'CHECKOUT' | 'BACKGROUND') => {
      const w = rl.waitsMs[name];
      return (
        `  ${name.padEnd(10)} ${w.attempts} attempts; reached Stripe: p50 ${w.reachedStripe.p50} ms, ` +
        `p99 ${w.reachedStripe.p99} ms (n ${w.reachedStripe.n}); all attempts p50 ${w.all.p50} ms, ` +
        `p99 ${w.all.p99} ms, max ${w.all.max} ms; gave up in limiter ${w.gaveUpInLimiter}, ` +
        `still waiting ${w.stillWaiting}`
      );
    };
    lines.push(
      `rate limit: ${rl.offeredRate}/s offered for ${rl.durationS} s (half CHECKOUT, half BACKGROUND), ` +
        `Stripe allows ${rl.stripeLimit}/s`,
      `  createPayment: ${rl.load.accepted}/${rl.load.sent} accepted, HTTP p99 ${rl.load.httpP99Ms} ms` +
        (rl.load.failed ? `, ${rl.load.failed} failed: ${rl.load.firstFailure}` : ''),
      `  steady window ${rl.steadyWindowS[0]}-${rl.steadyWindowS[1]} s: ${rl.stripeSuccessPerS} PaymentIntents/s ` +
        `= ${rl.utilisation} of the limit (target >= ${T.rlUtilisation})`,
      `  per second: ${rl.perSecond.join(' ')}`,
      `  429: ${rl.stripe429} of ${rl.stripeRequests} requests = ${(rl.share429 * 100).toFixed(2)} % ` +
        `(steady window ${(rl.share429Steady * 100).toFixed(2)} %; target <= ${T.rl429Share * 100} %)`,
      `  answers of the fake: ${JSON.stringify(rl.stripeAnswers)}`,
      `  wait IN the limiter (worker's rate_limiter_wait_seconds, grants in the steady window): ` +
        (['CHECKOUT', 'BACKGROUND'] as const)
          .map((l) => {
            const h = rl.limiterHistogramMs[l];
            return `${l} n ${h.n} p50 ${h.p50} ms p99 ${h.p99} ms`;
          })
          .join('; '),
      `  attempt claimed → request at Stripe (limiter + worker event loop + SDK + proxy), by lane:`,
      lane('CHECKOUT'),
      lane('BACKGROUND'),
      `  worker's limiter (processorHealth, ${rl.limiter.samples} samples): rate ${rl.limiter.rateMin}-${rl.limiter.rateMax}/s; ` +
        `queue depth mean ${JSON.stringify(rl.limiter.queueMean)}, max ${JSON.stringify(rl.limiter.queueMax)}`,
      `  payments when the benchmark stopped: ${JSON.stringify(rl.statusesAtEnd)}; failures ${JSON.stringify(rl.failureCodes)}`,
      cpuLine(rl.cpu),
    );
  }
  const fo = p.failover;
  if (fo) {
    const q = fo.outageToSimulatorMs;
    const breaker = fo.breaker.map((b) => `${b.state} at ${(b.atMs / 1000).toFixed(1)} s`);
    lines.push(
      `failover: ${fo.rate} gpm_ payments/s; Stripe healthy ${fo.steadyS} s, then down ${fo.outageS} s (T0 → T1)`,
      `  createPayment: ${fo.load.accepted}/${fo.load.sent} accepted` +
        (fo.load.failed ? `, ${fo.load.failed} failed: ${fo.load.firstFailure}` : ''),
      `  T0 → first payment created after T0 SUCCEEDED on the simulator: ${fo.firstOnSimulatorMs} ms ` +
        `(target <= ${T.foFailoverMs})`,
      `  created during the outage → SUCCEEDED on the simulator: p50 ${q.p50} ms, p90 ${q.p90} ms, ` +
        `p99 ${q.p99} ms, max ${q.max} ms (n ${q.n}; target p50 <= ${T.foFailoverMs})`,
      `  created during the outage: ${JSON.stringify(fo.outagePayments)}; ${JSON.stringify(fo.outageStripeAttempts)}`,
      `  where the time went (ms, p50/p99, n):`,
      ...Object.entries(fo.breakdownMs).map(
        ([name, q]) => `    ${name}: ${q.p50} / ${q.p99} (${q.n})`,
      ),
      `  authorize attempts: ${JSON.stringify(fo.attempts)}`,
      `  created before T0, finished at Stripe after T0: ${fo.heldAtStripeThroughOutage}`,
      `  T1 → new payment SUCCEEDED on Stripe: ${fo.recoveryMs} ms (created ${fo.recoveryCreatedAfterMs} ms after T1; ` +
        `target <= ${T.foRecoveryMs})`,
      `  Stripe breaker (processorHealth, relative to T0): ${breaker.join(', ') || 'no samples'}`,
      `  final: ${JSON.stringify(fo.final)}${fo.drained ? '' : ' (drain deadline passed)'}`,
      `  money: ${fo.money.payments} payments, ${fo.money.succeededChargedOnce} SUCCEEDED charged exactly once, ` +
        `${fo.money.failedNotCharged} FAILED charged nowhere, ${fo.money.violations.length} violations` +
        (fo.money.violations.length ? ` ${JSON.stringify(fo.money.violations)}` : '') +
        `, ${fo.money.processorMismatch} processor mismatches, ${fo.money.notFinal} not final`,
      cpuLine(fo.cpu),
    );
  }
  for (const error of p.errors) lines.push(`FAILED: ${error}`);
  return lines.join('\n');
}

/** The full text with the processor section placed before the apps' log summary. */
export function insertProcessorText(text: string, processors: ProcessorResults | null): string {
  if (!processors) return text;
  const section = formatProcessors(processors);
  const marker = '\nwarnings and errors logged by the apps:';
  const at = text.indexOf(marker);
  return at < 0 ? `${text}\n\n${section}` : `${text.slice(0, at)}\n${section}\n${text.slice(at)}`;
}
