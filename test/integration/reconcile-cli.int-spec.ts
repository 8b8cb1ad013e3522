import { spawn } from 'node:child_process';
import { PaymentEvent, ProcessorBalanceTransaction } from '../../libs/contracts/src';
import { newId } from '../../libs/domain/src';
import { LedgerBooks } from '../../libs/ledger/src';
import {
  BalanceTransactionIngest,
  ReconciliationEngine,
} from '../../libs/ledger/src/reconciliation';
import { TestDatabase, createTestDatabase } from '../support/database';

/**
 * `npm run cli -- reconcile …` end to end, as a scheduled job runs it: a child process against a
 * seeded test database (a matched charge, a fee mismatch, a balance transaction with no payment,
 * all in October 2026), dry run first (counts, nothing written), then for real.
 */
const ROOT = `${__dirname}/../..`;
const CLIENT = 'cli_cli';
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.dataSource.query(
    `INSERT INTO api_clients (id, name, key_hash, scopes) VALUES ($1, 'cli', 'h', '{}')`,
    [CLIENT],
  );
  const books = new LedgerBooks(db.dataSource);
  // Ingest through an engine whose grace keeps real-time passes from writing any exception.
  const ingest = new BalanceTransactionIngest(
    db.dataSource,
    new ReconciliationEngine(db.dataSource, { graceMs: 86_400_000 * 365 }),
  );
  const day = (d: number) => new Date(Date.UTC(2026, 9, d, 10));
  const seed = async (amount: number, ledgerFee: number, processorFee: number, d: number) => {
    const paymentId = newId('pay');
    const reference = `simpay_${newId('att').slice(4)}`;
    await db.dataSource.query(
      `INSERT INTO payments (id, client_id, status, amount, currency, amount_authorized,
         amount_captured, capture_method, priority, payment_method, processor, processor_reference,
         created_at, updated_at)
       VALUES ($1, $2, 'SUCCEEDED', $3, 'USD', $3, $3, 'AUTOMATIC', 'CHECKOUT', 'card',
         'simulator', $4, $5, $5)`,
      [paymentId, CLIENT, amount, reference, day(d)],
    );
    const event = (type: PaymentEvent['type'], extra: Partial<PaymentEvent>): PaymentEvent => ({
      v: 1,
      eventId: newId('evt'),
      type,
      occurredAt: day(d).toISOString(),
      payment: {
        id: paymentId,
        clientId: CLIENT,
        status: 'SUCCEEDED',
        amount,
        currency: 'USD',
        amountCaptured: amount,
        amountRefunded: 0,
        processor: 'simulator',
        processorReference: reference,
      },
      ...extra,
    });
    await books.applyBatch([
      event('succeeded', { amount }),
      ...(ledgerFee > 0
        ? [event('fee_recorded', { fee: ledgerFee, net: amount - ledgerFee, feeCurrency: 'USD' })]
        : []),
    ]);
    await ingest.ingest('simulator', [bt(reference, amount, processorFee, day(d))], 'pull');
  };
  await seed(2_000, 0, 0, 3); // matched
  await seed(5_000, 0, 45, 12); // fee_mismatch, 45 at stake
  // A balance transaction nothing on our side knows: missing_in_ledger, 700 at stake.
  await ingest.ingest('simulator', [bt('simpay_unknown', 700, 0, day(20))], 'pull');
});

afterAll(async () => {
  await db?.drop();
});

function bt(source: string, amount: number, fee: number, at: Date): ProcessorBalanceTransaction {
  return {
    id: `simtxn_${newId('att').slice(4)}`,
    sourceReference: source,
    type: 'charge',
    reportingCategory: 'charge',
    currency: 'USD',
    amount,
    fee,
    net: amount - fee,
    status: 'available',
    createdAt: at,
    availableOn: at,
  };
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'cli', '--', ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'silent' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const countOf = (stdout: string, status: string) =>
  Number(new RegExp(`^\\s+${status}\\s+(\\d+)\\s+at stake (\\d+)`, 'm').exec(stdout)?.[1] ?? -1);
const stakeOf = (stdout: string, status: string) =>
  Number(new RegExp(`^\\s+${status}\\s+(\\d+)\\s+at stake (\\d+)`, 'm').exec(stdout)?.[2] ?? -1);
const itemCount = async () =>
  Number((await db.dataSource.query(`SELECT count(*)::int AS n FROM reconciliation_items`))[0].n);

const PERIOD = ['--from', '2026-10-01T00:00:00Z', '--to', '2026-11-01T00:00:00Z'];

it('dry run: prints the counts per status and writes no item or exception', async () => {
  // The real-time pass of the ingest already wrote the one matched item (within the grace it
  // writes nothing else).
  const before = await itemCount();
  expect(before).toBe(1);
  const { code, stdout, stderr } = await cli(['reconcile', ...PERIOD, '--dry-run']);
  expect(stderr).not.toMatch(/error/);
  expect(code).toBe(0);
  expect(stdout).toMatch(/dry run: nothing written/);
  expect(countOf(stdout, 'matched')).toBe(1);
  expect(countOf(stdout, 'fee_mismatch')).toBe(1);
  expect(stakeOf(stdout, 'fee_mismatch')).toBe(45);
  expect(countOf(stdout, 'missing_in_ledger')).toBe(1);
  expect(stakeOf(stdout, 'missing_in_ledger')).toBe(700);
  expect(await itemCount()).toBe(before);
  const [{ n }] = await db.dataSource.query(
    `SELECT count(*)::int AS n FROM reconciliation_exceptions`,
  );
  expect(n).toBe(0);
}, 60_000);

it('for real: the same counts, and the items and exceptions are written', async () => {
  const { code, stdout } = await cli(['reconcile', ...PERIOD, '--processor', 'simulator']);
  expect(code).toBe(0);
  expect(stdout).not.toMatch(/dry run/);
  expect(countOf(stdout, 'fee_mismatch')).toBe(1);
  expect(await itemCount()).toBe(3);
  const open = await db.dataSource.query(
    `SELECT type, amount_at_stake FROM reconciliation_exceptions WHERE status = 'open'
      ORDER BY type`,
  );
  expect(open).toEqual([
    { type: 'fee_mismatch', amount_at_stake: 45 },
    { type: 'missing_in_ledger', amount_at_stake: 700 },
  ]);
}, 60_000);

it('refuses a period that ends before it starts, exit code 64, nothing written', async () => {
  const before = await itemCount();
  const { code, stderr } = await cli([
    'reconcile',
    '--from',
    '2026-11-01T00:00:00Z',
    '--to',
    '2026-10-01T00:00:00Z',
    '--dry-run',
  ]);
  expect(code).toBe(64);
  expect(stderr).toMatch(/^error: /m);
  expect(await itemCount()).toBe(before);
}, 60_000);
