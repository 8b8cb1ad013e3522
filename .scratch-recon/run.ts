import { Client } from 'pg';
import { createDataSource } from '../libs/persistence/src';
import { ReconciliationEngine, ReconciliationRuns } from '../libs/ledger/src/reconciliation';
import { BASELINE } from '../bench/reconciliation';

async function main() {
  const tpl = process.argv[2];
  const name = tpl + '_w';
  const windowDays = Number(process.argv[3] ?? 31);
  const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${tpl}"`);
  await admin.end();
  const url = `postgres://postgres@127.0.0.1:5432/${name}`;
  const ds = createDataSource({ url, poolSize: 2, applicationName: 'bench' });
  await ds.initialize();
  const c = new Client({ connectionString: url });
  await c.connect();
  await c.query('ANALYZE');
  const engine = new ReconciliationEngine(ds, { graceMs: 0 });
  const runs = new ReconciliationRuns(ds, engine);
  const FROM = new Date('2026-10-01T00:00:00Z');
  const to = new Date(FROM.getTime() + 31 * 86_400_000);
  for (const label of ['run1', 'run2']) {
    const t = process.hrtime.bigint();
    const run = await runs.reconcilePeriod({ from: FROM, to, windowMs: windowDays * 86_400_000 });
    console.log(label, Number(process.hrtime.bigint() - t) / 1e9, 'windows', run.windows, JSON.stringify(run.counts.matched));
  }
  const t = process.hrtime.bigint();
  await c.query('BEGIN');
  await c.query(`SET LOCAL work_mem = '256MB'`);
  await c.query(BASELINE);
  await c.query('COMMIT');
  console.log('baseline', Number(process.hrtime.bigint() - t) / 1e9);
  const h = await c.query(`SELECT count(*), md5(string_agg(concat_ws('|', processor, item_key, kind, currency, payment_id, refund_id, dispute_id, payout_id, source_reference, balance_transaction_count, processor_amount, processor_fee, processor_currency, gateway_amount, ledger_amount, ledger_fee, status, amount_at_stake, occurred_at), ',' ORDER BY processor, item_key)) FROM reconciliation_items`);
  console.log('items', h.rows[0]);
  await c.end();
  await ds.destroy();
}
main().catch((e) => { console.error(e); process.exit(1); });
