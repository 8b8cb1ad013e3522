// `npm run bench`: intake and end-to-end benchmarks of the payment gateway on this machine.
// Every run builds its own databases and NATS namespaces, runs the apps as child processes,
// and removes all of it at the end, also on failure or Ctrl-C. See docs/benchmarks.md.
import 'reflect-metadata';
import { Cleanup } from './cleanup';
import { loadBenchConfig } from './config';
import { EndToEndResults, runEndToEndBenchmark } from './end-to-end';
import { IntakeResults, runIntakeBenchmark } from './intake';
import {
  LedgerResults,
  formatLedgerResults,
  runLedgerBenchmark,
  writeLedgerResults,
} from './ledger-ingest';
import { ExportResults, formatExportResults, runExportBenchmark } from './ledger-export';
import { BenchContext } from './phase';
import {
  ReconciliationResults,
  formatReconciliationResults,
  runReconciliationBenchmark,
} from './reconciliation';
import { ProcessorResults, runProcessorBenchmarks } from './processor-bench';
import { insertProcessorText, withProcessors } from './processor-report';
import { buildResults, formatResults, machineInfo, sourceInfo, writeResults } from './report';
import { appLogSummary } from './stack';
import {
  WebhookResults,
  formatWebhookResults,
  runWebhookBenchmark,
  writeWebhookResults,
} from './webhook-intake';

function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/** Ctrl-C or SIGTERM: stop the children and drop what was created, then exit. */
function onSignal(cleanup: Cleanup): void {
  const handler = (signal: NodeJS.Signals) => {
    log(`${signal}: cleaning up`);
    void cleanup.runAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}

async function main(): Promise<number> {
  const config = loadBenchConfig();
  const started = new Date();
  const machine = machineInfo();
  const source = sourceInfo(); // the code as it is when the apps start
  const cleanup = new Cleanup();
  const ctx: BenchContext = { config, cleanup, log };
  onSignal(cleanup);
  log(`load average ${machine.loadAverage.join(' ')}; phases ${config.durationS} s`);
  let intake: IntakeResults | null = null;
  let endToEnd: EndToEndResults | null = null;
  let processors: ProcessorResults | null = null;
  let webhooks: WebhookResults | null = null;
  let ledger: LedgerResults | null = null;
  let reconciliation: ReconciliationResults | null = null;
  let exports: ExportResults | null = null;
  let error: string | null = null;
  try {
    // Each benchmark's stack is torn down before the next one measures (idle apps still use CPU).
    if (config.only === 'all' || config.only === 'intake') intake = await runIntakeBenchmark(ctx);
    await cleanup.runAll();
    if (config.only === 'all' || config.only === 'e2e') endToEnd = await runEndToEndBenchmark(ctx);
    await cleanup.runAll();
    if (config.only === 'all' || config.only === 'processors') {
      processors = await runProcessorBenchmarks(ctx);
    }
    if (config.only === 'all' || config.only === 'webhooks') {
      webhooks = await runWebhookBenchmark(ctx);
    }
    await cleanup.runAll();
    if (config.only === 'all' || config.only === 'ledger') ledger = await runLedgerBenchmark(ctx);
    await cleanup.runAll();
    if (config.only === 'all' || config.only === 'reconciliation') {
      reconciliation = await runReconciliationBenchmark(ctx);
    }
    await cleanup.runAll();
    if (config.only === 'all' || config.only === 'export') exports = await runExportBenchmark(ctx);
  } catch (e) {
    error = (e as Error).stack ?? String(e);
    log(`failed: ${error}`);
  } finally {
    log('cleaning up');
    await cleanup.runAll();
  }
  const logs = appLogSummary();
  const results = withProcessors(
    buildResults(started, machine, source, config, intake, endToEnd, logs, error),
    processors,
  );
  console.log(insertProcessorText(formatResults(results), processors));
  if (webhooks) console.log(formatWebhookResults(webhooks));
  if (webhooks) console.log(`\nwebhook results written to ${writeWebhookResults(webhooks)}`);
  if (ledger) console.log(formatLedgerResults(ledger));
  if (ledger) console.log(`\nledger results written to ${writeLedgerResults(ledger)}`);
  if (reconciliation) console.log(formatReconciliationResults(reconciliation));
  if (exports) console.log(formatExportResults(exports));
  console.log(`\nresults written to ${writeResults(results)}`);
  return error === null ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    log(`crashed: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
