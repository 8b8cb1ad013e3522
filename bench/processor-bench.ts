// The processor benchmarks (BENCH_ONLY=processors, and part of `all`): Stripe rate-limit
// utilisation, then failover. Each runs on a stack of its own that is torn down before the
// next starts (a worker still draining a backlog would otherwise compete for the CPU).
import { Cleanup } from './cleanup';
import { BenchContext } from './phase';
import { FailoverResults, runFailoverBenchmark } from './processor-failover';
import { RateLimitResults, runRateLimitBenchmark } from './processor-rate-limit';

export interface ProcessorResults {
  readonly rateLimit: RateLimitResults | null;
  readonly failover: FailoverResults | null;
  /** A benchmark that threw: the other one still ran. */
  readonly errors: readonly string[];
}

async function isolated<T>(
  ctx: BenchContext,
  name: string,
  run: (ctx: BenchContext) => Promise<T>,
): Promise<{ value: T | null; error: string | null }> {
  const own = new Cleanup();
  ctx.cleanup.add(`clean up ${name}`, () => own.runAll());
  try {
    return { value: await run({ ...ctx, cleanup: own }), error: null };
  } catch (e) {
    const error = `${name}: ${(e as Error).stack ?? String(e)}`;
    ctx.log(`failed: ${error}`);
    return { value: null, error };
  } finally {
    ctx.log(`${name}: cleaning up`);
    await own.runAll();
  }
}

export async function runProcessorBenchmarks(ctx: BenchContext): Promise<ProcessorResults> {
  const rateLimit = await isolated(ctx, 'rate limit', runRateLimitBenchmark);
  const failover = await isolated(ctx, 'failover', runFailoverBenchmark);
  return {
    rateLimit: rateLimit.value,
    failover: failover.value,
    errors: [rateLimit.error, failover.error].filter((e): e is string => e !== null),
  };
}
