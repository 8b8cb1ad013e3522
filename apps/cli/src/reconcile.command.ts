import { parseArgs } from 'node:util';
import { AppConfig } from '../../../libs/config/src';
import { isKnownCurrency } from '../../../libs/domain/src';
import {
  ReconciliationEngine,
  ReconciliationRunResult,
  ReconciliationRuns,
} from '../../../libs/ledger/src/reconciliation';
import { createDataSource, runMigrations } from '../../../libs/persistence/src';

export const RECONCILE_USAGE = `  npm run cli -- reconcile --from ISO --to ISO [--processor P] [--currency CUR] [--dry-run]
  npm run cli -- reconcile --resume RUN_ID                  batch reconciliation (counts per status)`;

export type ReconcileArgs =
  | {
      readonly mode: 'period';
      readonly from: Date;
      readonly to: Date;
      readonly processor: string | null;
      readonly currency: string | null;
      readonly dryRun: boolean;
    }
  | { readonly mode: 'resume'; readonly runId: string };

/** Bad arguments: the message says which, nothing was run. */
export class ReconcileArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReconcileArgsError';
  }
}

/** Pure: the command line as a request, or a `ReconcileArgsError`. */
export function parseReconcileArgs(args: readonly string[]): ReconcileArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        processor: { type: 'string' },
        currency: { type: 'string' },
        'dry-run': { type: 'boolean' },
        resume: { type: 'string' },
      },
      strict: true,
    }));
  } catch (error) {
    throw new ReconcileArgsError((error as Error).message);
  }
  if (values.resume !== undefined) {
    if (!/^\d{1,18}$/.test(values.resume)) throw new ReconcileArgsError('--resume needs a run id');
    if (values.from || values.to) throw new ReconcileArgsError('--resume takes no period');
    return { mode: 'resume', runId: values.resume };
  }
  const date = (name: 'from' | 'to') => {
    const raw = values[name];
    if (!raw) throw new ReconcileArgsError(`--${name} is required (ISO 8601)`);
    const parsed = new Date(raw);
    if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(parsed.getTime())) {
      throw new ReconcileArgsError(`--${name} must be an ISO 8601 date, got ${raw}`);
    }
    return parsed;
  };
  const from = date('from');
  const to = date('to');
  if (from.getTime() >= to.getTime()) throw new ReconcileArgsError('--from must be before --to');
  const currency = values.currency?.toUpperCase() ?? null;
  if (currency !== null && !isKnownCurrency(currency)) {
    throw new ReconcileArgsError(`--currency ${values.currency} is not an ISO 4217 currency`);
  }
  return {
    mode: 'period',
    from,
    to,
    processor: values.processor ?? null,
    currency,
    dryRun: values['dry-run'] ?? false,
  };
}

/** Counts per status as printed (one line per status, then the totals). */
export function formatRun(result: ReconciliationRunResult): string {
  const lines = [
    `run ${result.runId}${result.dryRun ? ' (dry run: nothing written)' : ''}: ${result.status}, ${result.from.toISOString()} → ${result.to.toISOString()}`,
  ];
  for (const [status, c] of Object.entries(result.counts)) {
    lines.push(
      `  ${status.padEnd(22)} ${String(c.count).padStart(9)}  at stake ${c.amountAtStake}`,
    );
  }
  lines.push(`  amount at stake (minor units, all currencies): ${result.amountAtStake}`);
  return lines.join('\n');
}

export async function reconcileCommand(args: readonly string[], config: AppConfig): Promise<void> {
  const request = parseReconcileArgs(args);
  const concurrency = config.ledger.reconciliation.batchConcurrency;
  const dataSource = createDataSource({
    url: config.databaseUrl,
    // the shards of a window side by side, plus the connection holding the run's lock
    poolSize: concurrency + 1,
    applicationName: 'cli',
  });
  await dataSource.initialize();
  try {
    await runMigrations(dataSource);
    const engine = new ReconciliationEngine(dataSource, {
      graceMs: config.ledger.reconciliation.graceMs,
    });
    const runs = new ReconciliationRuns(dataSource, engine, { concurrency });
    const result =
      request.mode === 'resume'
        ? await runs.resumeRun(request.runId)
        : await runs.reconcilePeriod(request);
    process.stdout.write(`${formatRun(result)}\n`);
  } finally {
    await dataSource.destroy();
  }
}
