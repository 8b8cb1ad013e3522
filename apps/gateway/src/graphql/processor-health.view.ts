import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { NatsConnection, Subscription } from '@nats-io/transport-node';
import { Subjects } from '../../../../libs/contracts/src';
import { NATS_CONNECTION } from '../../../../libs/messaging/src';
import { ProcessorRouter } from '../../../../libs/payments/src';
import type { ProcessorHealth as WorkerProcessorHealth } from '../../../../libs/resilience/src';

const STALE_AFTER_MS = 5000;
const LANES = ['CHECKOUT', 'REFUND', 'OPERATOR', 'BACKGROUND'] as const;
const BREAKER_SEVERITY = { unknown: -1, closed: 0, half_open: 1, open: 2 } as const;

interface WorkerReport {
  readonly workerId: string;
  readonly at: number;
  readonly processors: WorkerProcessorHealth[];
}

export interface ProcessorHealthSummary {
  processor: string;
  breakerState: keyof typeof BREAKER_SEVERITY;
  errorRate: number;
  calls: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencyP99Ms: number | null;
  ratePerSecond: number;
  tokens: number;
  lanes: { lane: string; queueDepth: number }[];
  paused: boolean;
  pauseReason: string | null;
  reportingWorkers: number;
}

/**
 * Aggregates the health every worker publishes each second (breakers and limiters live in the
 * workers): the worst breaker state, summed queues and rates, the slowest percentiles.
 */
@Injectable()
export class ProcessorHealthView implements OnModuleInit, OnModuleDestroy {
  private readonly reports = new Map<string, WorkerReport>();
  private subscription?: Subscription;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly router: ProcessorRouter,
  ) {}

  onModuleInit(): void {
    this.subscription = this.nc.subscribe(this.subjects.processorHealth, {
      callback: (error, msg) => {
        if (error) return;
        try {
          const report = msg.json() as WorkerReport;
          if (typeof report.workerId === 'string' && Array.isArray(report.processors)) {
            this.reports.set(report.workerId, { ...report, at: Date.now() });
          }
        } catch {
          // A malformed report is ignored; the next one replaces it.
        }
      },
    });
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  summary(): ProcessorHealthSummary[] {
    const fresh = [...this.reports.values()].filter((r) => Date.now() - r.at < STALE_AFTER_MS);
    return this.router.names.map((name) =>
      summarise(
        name,
        fresh.flatMap((r) => r.processors.filter((p) => p.name === name)),
      ),
    );
  }
}

function summarise(name: string, healths: WorkerProcessorHealth[]): ProcessorHealthSummary {
  const max = (values: number[]) => (values.length ? Math.max(...values) : null);
  const calls = healths.reduce((n, h) => n + h.breaker.calls, 0);
  const failures = healths.reduce((n, h) => n + h.breaker.failures, 0);
  const worst = healths.reduce<keyof typeof BREAKER_SEVERITY>(
    (state, h) =>
      BREAKER_SEVERITY[h.breaker.state] > BREAKER_SEVERITY[state] ? h.breaker.state : state,
    healths.length ? 'closed' : 'unknown',
  );
  return {
    processor: name,
    breakerState: worst,
    errorRate: calls ? failures / calls : 0,
    calls,
    latencyP50Ms: max(healths.map((h) => h.breaker.latencyMs.p50)),
    latencyP95Ms: max(healths.map((h) => h.breaker.latencyMs.p95)),
    latencyP99Ms: max(healths.map((h) => h.breaker.latencyMs.p99)),
    ratePerSecond: healths.reduce((n, h) => n + h.limiter.ratePerSec, 0),
    tokens: healths.reduce((n, h) => n + h.limiter.tokens, 0),
    lanes: LANES.map((lane) => ({
      lane,
      queueDepth: healths.reduce((n, h) => n + (h.limiter.queueDepth[lane] ?? 0), 0),
    })),
    paused: healths.some((h) => h.paused),
    pauseReason: healths.find((h) => h.paused)?.pauseReason ?? null,
    reportingWorkers: healths.length,
  };
}
