// Batch reconciliation benchmark (BENCH_ONLY=reconciliation, and part of all):
//   a fresh database is seeded (not timed), set-based with generate_series, with
//   BENCH_RECON_LINES (1,000,000) processor balance transactions over 30 days — 90 % charges
//   (stripe, USD; each with its payment, charge id in payment_fees, a ledger sale and a ledger
//   fee entry) and 10 % refunds (each with its refund row and a ledger refund entry) — then
//   (a) ReconciliationRuns.reconcilePeriod over the whole period (items and exceptions written,
//       windows of BENCH_RECON_WINDOW_DAYS, default 31 = the whole 31-day period in one window;
//       30 gave a second, nearly empty window) is timed, and
//   (b) as the baseline in the same run, a plain SQL join of the same tables (balance
//       transactions ⋈ payment_fees/refunds ⋈ payments ⋈ ledger lines, aggregated per payment
//       into a temporary table). Targets: ≤ 30 s and ≤ 2 × baseline.
import { Client } from 'pg';
import { ReconciliationEngine, ReconciliationRuns } from '../libs/ledger/src/reconciliation';
import { BenchContext } from './phase';
import { createDatabase } from './stack';

export const RECONCILIATION_TARGETS = { seconds: 30, ratio: 2 } as const;

export interface ReconciliationResults {
  readonly lines: number;
  readonly windows: number;
  readonly seedS: number;
  readonly reconcileS: number;
  readonly baselineS: number;
  readonly ratio: number;
  readonly matched: number;
  readonly items: number;
}

const FROM = new Date('2026-10-01T00:00:00Z');
const DAYS = 30;

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

/** Seeds, in chunks of rows per transaction (the ledger's deferred checks run per commit). */
export async function seed(
  client: Client,
  lines: number,
  log: (line: string) => void,
): Promise<void> {
  const charges = Math.ceil(lines * 0.9);
  const refunds = lines - charges;
  const step = `(${DAYS} * 86400.0 / ${charges})`;
  await client.query(
    `INSERT INTO api_clients (id, name, key_hash, scopes) VALUES ('cli_bench', 'bench', 'h', '{}')`,
  );
  await client.query(`
    INSERT INTO ledger_accounts (code, name, type, normal_side, currency, processor) VALUES
      ('receivable:stripe:USD', 'Processor receivable (stripe, USD)', 'asset', 'debit', 'USD', 'stripe'),
      ('clearing:USD', 'Customer payments clearing (USD)', 'liability', 'credit', 'USD', NULL),
      ('fees:stripe:USD', 'Processing fees (stripe, USD)', 'expense', 'debit', 'USD', 'stripe'),
      ('refunds:USD', 'Refunds (contra revenue) (USD)', 'revenue', 'debit', 'USD', NULL)`);
  const amount = `(1000 + (i % 997))`;
  const fee = `((${amount} * 29 + 500) / 1000 + 30)`;
  const at = `(timestamptz '${FROM.toISOString()}' + (i * ${step}) * interval '1 second')`;
  await client.query(`
    INSERT INTO payments (id, client_id, status, amount, currency, amount_authorized, amount_captured,
      amount_refunded, capture_method, priority, payment_method, processor, processor_reference,
      created_at, updated_at)
    SELECT 'pay_' || lpad(i::text, 26, '0'), 'cli_bench', 'SUCCEEDED', ${amount}, 'USD', ${amount},
           ${amount}, CASE WHEN i <= ${refunds} THEN 100 ELSE 0 END, 'AUTOMATIC', 'CHECKOUT', 'card',
           'stripe', 'pi_' || i, ${at}, ${at}
      FROM generate_series(1, ${charges}) i`);
  await client.query(`
    INSERT INTO payment_fees (payment_id, processor, charge_reference, balance_transaction_reference, fee, net, currency)
    SELECT 'pay_' || lpad(i::text, 26, '0'), 'stripe', 'ch_' || i, 'txn_c' || i, ${fee}, ${amount} - ${fee}, 'USD'
      FROM generate_series(1, ${charges}) i`);
  await client.query(`
    INSERT INTO refunds (id, payment_id, status, amount, currency, processor_reference, created_at, updated_at)
    SELECT 'ref_' || lpad(i::text, 26, '0'), 'pay_' || lpad(i::text, 26, '0'), 'SUCCEEDED', 100, 'USD',
           're_' || i, ${at} + interval '1 hour', ${at} + interval '1 hour'
      FROM generate_series(1, ${refunds}) i`);
  await client.query(`
    INSERT INTO processor_balance_transactions (processor, id, type, reporting_category,
      source_reference, amount, fee, net, currency, status, created_at, available_on, received_via)
    SELECT 'stripe', 'txn_c' || i, 'charge', 'charge', 'ch_' || i, ${amount}, ${fee}, ${amount} - ${fee},
           'USD', 'available', ${at} + interval '1 second', ${at} + interval '2 days', 'pull'
      FROM generate_series(1, ${charges}) i
    UNION ALL
    SELECT 'stripe', 'txn_r' || i, 'refund', 'refund', 're_' || i, -100, 0, -100, 'USD', 'available',
           ${at} + interval '1 hour', ${at} + interval '3 days', 'pull'
      FROM generate_series(1, ${refunds}) i`);
  log(`reconciliation bench: seeded ${charges} charges, ${refunds} refunds; booking the ledger`);
  const acct = (code: string) => `(SELECT id FROM ledger_accounts WHERE code = '${code}')`;
  const chunk = 200_000;
  for (let lo = 1; lo <= charges; lo += chunk) {
    const hi = Math.min(charges, lo + chunk - 1);
    await client.query('BEGIN');
    await client.query(`
      INSERT INTO journal_entries (id, source_event_id, kind, payment_id, status, occurred_at)
      SELECT 'je_' || k.kind || i, 'evt_' || k.kind || i, k.kind, 'pay_' || lpad(i::text, 26, '0'),
             'posted', ${at}
        FROM generate_series(${lo}, ${hi}) i CROSS JOIN (VALUES ('sale'), ('processor_fee')) k(kind)
      UNION ALL
      SELECT 'je_refund' || i, 'evt_refund' || i, 'refund', 'pay_' || lpad(i::text, 26, '0'), 'posted',
             ${at} + interval '1 hour'
        FROM generate_series(${lo}, ${Math.min(hi, refunds)}) i`);
    await client.query(`
      INSERT INTO journal_lines (entry_id, line_no, account_id, direction, amount, currency, pending, occurred_at)
      SELECT 'je_sale' || i, 1, ${acct('receivable:stripe:USD')}, 'debit', ${amount}, 'USD', false, ${at}
        FROM generate_series(${lo}, ${hi}) i
      UNION ALL
      SELECT 'je_sale' || i, 2, ${acct('clearing:USD')}, 'credit', ${amount}, 'USD', false, ${at}
        FROM generate_series(${lo}, ${hi}) i
      UNION ALL
      SELECT 'je_processor_fee' || i, 1, ${acct('fees:stripe:USD')}, 'debit', ${fee}, 'USD', false, ${at}
        FROM generate_series(${lo}, ${hi}) i
      UNION ALL
      SELECT 'je_processor_fee' || i, 2, ${acct('receivable:stripe:USD')}, 'credit', ${fee}, 'USD', false, ${at}
        FROM generate_series(${lo}, ${hi}) i
      UNION ALL
      SELECT 'je_refund' || i, 1, ${acct('refunds:USD')}, 'debit', 100, 'USD', false, ${at}
        FROM generate_series(${lo}, ${Math.min(hi, refunds)}) i
      UNION ALL
      SELECT 'je_refund' || i, 2, ${acct('receivable:stripe:USD')}, 'credit', 100, 'USD', false, ${at}
        FROM generate_series(${lo}, ${Math.min(hi, refunds)}) i`);
    await client.query('COMMIT');
  }
  await client.query('VACUUM ANALYZE');
}

export const BASELINE = `
  CREATE TEMP TABLE recon_baseline AS
  WITH src AS (
    SELECT pf.processor, pf.charge_reference AS reference, pf.payment_id FROM payment_fees pf
    UNION ALL
    SELECT p.processor, r.processor_reference, r.payment_id
      FROM refunds r JOIN payments p ON p.id = r.payment_id
  ), led AS (
    SELECT e.payment_id, sum(CASE WHEN l.direction = 'debit' THEN l.amount ELSE -l.amount END) AS net,
           count(*) AS lines
      FROM journal_entries e
      JOIN journal_lines l ON l.entry_id = e.id
      JOIN ledger_accounts a ON a.id = l.account_id AND a.code LIKE 'receivable:%'
     GROUP BY e.payment_id
  )
  SELECT b.processor, s.payment_id, count(*) AS n, sum(b.net) AS processor_net,
         min(p.amount_captured) AS gateway, min(led.net) AS ledger_net
    FROM processor_balance_transactions b
    JOIN src s ON s.processor = b.processor AND s.reference = b.source_reference
    JOIN payments p ON p.id = s.payment_id
    LEFT JOIN led ON led.payment_id = p.id
   GROUP BY b.processor, s.payment_id`;

export async function runReconciliationBenchmark(
  ctx: BenchContext,
): Promise<ReconciliationResults> {
  const lines = positiveInt('BENCH_RECON_LINES', 1_000_000);
  const windowDays = positiveInt('BENCH_RECON_WINDOW_DAYS', DAYS + 1);
  const db = await createDatabase(ctx.cleanup, ctx.config.adminDatabaseUrl, 'pgw_bench_recon_');
  const client = new Client({ connectionString: db.url });
  await client.connect();
  ctx.cleanup.add('close reconciliation bench client', () => client.end());
  const seedStarted = Date.now();
  await seed(client, lines, ctx.log);
  const seedS = (Date.now() - seedStarted) / 1000;
  ctx.log(`reconciliation bench: seeded in ${seedS.toFixed(0)} s; reconciling`);

  const engine = new ReconciliationEngine(db.dataSource, { graceMs: 0 });
  const runs = new ReconciliationRuns(db.dataSource, engine);
  const to = new Date(FROM.getTime() + (DAYS + 1) * 86_400_000);
  const started = process.hrtime.bigint();
  const run = await runs.reconcilePeriod({ from: FROM, to, windowMs: windowDays * 86_400_000 });
  const reconcileS = Number(process.hrtime.bigint() - started) / 1e9;
  ctx.log(`reconciliation bench: reconciled in ${reconcileS.toFixed(1)} s; baseline join`);

  const baselineStarted = process.hrtime.bigint();
  await client.query('BEGIN');
  await client.query(`SET LOCAL work_mem = '256MB'`); // as the engine's batch windows
  await client.query(BASELINE);
  await client.query('COMMIT');
  const baselineS = Number(process.hrtime.bigint() - baselineStarted) / 1e9;
  const items = Object.values(run.counts).reduce((sum, c) => sum + c.count, 0);
  return {
    lines,
    windows: run.windows,
    seedS,
    reconcileS,
    baselineS,
    ratio: reconcileS / baselineS,
    matched: run.counts.matched.count,
    items,
  };
}

export function formatReconciliationResults(r: ReconciliationResults): string {
  const ok = (pass: boolean) => (pass ? 'PASS' : 'FAIL');
  const f = (v: number) => Math.round(v).toLocaleString('en-US');
  return [
    '',
    `Reconciliation (${f(r.lines)} processor balance transactions; seeded in ${r.seedS.toFixed(0)} s, not timed)`,
    `  batch run:       ${r.reconcileS.toFixed(1)} s over ${r.windows} window(s); ${f(r.items)} items, ${f(r.matched)} matched  ${ok(r.reconcileS <= RECONCILIATION_TARGETS.seconds)} (≤ ${RECONCILIATION_TARGETS.seconds} s)`,
    `  plain SQL join:  ${r.baselineS.toFixed(1)} s`,
    `  ratio:           ${r.ratio.toFixed(2)}  ${ok(r.ratio <= RECONCILIATION_TARGETS.ratio)} (≤ ${RECONCILIATION_TARGETS.ratio} × baseline)`,
  ].join('\n');
}
