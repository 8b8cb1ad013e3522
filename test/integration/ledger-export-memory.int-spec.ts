import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DEFAULT_EXPORT_MAPPING, LedgerExportService } from '../../libs/ledger/src/exports';
import { TestDatabase, createTestDatabase } from '../support/database';

/**
 * A large export runs in flat memory: rows come from a server-side cursor 5000 at a time and go
 * to the file as they are read. Live heap (after a forced GC, sampled while exporting) must stay
 * far below the file's size. LEDGER_EXPORT_MEMORY_LINES=1000000 for the full-size run.
 */
const LINES = Number(process.env.LEDGER_EXPORT_MEMORY_LINES ?? 100_000);
const ENTRIES = LINES / 2;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), 'ledger-export-mem-'));
  await db.dataSource.query(
    `INSERT INTO ledger_accounts (code, name, type, normal_side, currency, processor) VALUES
       ('receivable:simulator:USD', 'Processor receivable (simulator, USD)', 'asset', 'debit', 'USD', 'simulator'),
       ('clearing:USD', 'Customer payments clearing (USD)', 'liability', 'credit', 'USD', NULL)`,
  );
  // Seeding only: the balance triggers are skipped (every entry is balanced by construction).
  await db.dataSource.transaction(async (tx) => {
    await tx.query(`SET LOCAL session_replication_role = replica`);
    await tx.query(
      `INSERT INTO journal_entries (id, source_event_id, kind, payment_id, status, occurred_at)
       SELECT 'je_' || lpad(g::text, 26, '0'), 'evt_' || g, 'sale', 'pay_' || g, 'posted',
              timestamptz '2026-10-01' + (g % 2592000) * interval '1 second'
         FROM generate_series(1, $1) g`,
      [ENTRIES],
    );
    await tx.query(
      `INSERT INTO journal_lines (entry_id, line_no, account_id, direction, amount, currency, pending, occurred_at)
       SELECT e.id, s.n, a.id, CASE s.n WHEN 1 THEN 'debit' ELSE 'credit' END,
              1 + (right(e.id, 8)::bigint * 7919) % 10000000, 'USD', false, e.occurred_at
         FROM journal_entries e
         CROSS JOIN (VALUES (1), (2)) s(n)
         JOIN ledger_accounts a ON a.code = CASE s.n WHEN 1 THEN 'receivable:simulator:USD' ELSE 'clearing:USD' END`,
    );
  });
  await db.dataSource.query(`ANALYZE journal_entries, journal_lines, ledger_accounts`);
}, 600_000);

afterAll(async () => {
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it(`exports ${LINES} lines with flat memory`, async () => {
  const service = new LedgerExportService(db.dataSource, { dir, mapping: DEFAULT_EXPORT_MAPPING });
  const created = await service.create({
    format: 'netsuite',
    from: '2026-10-01T00:00:00.000Z',
    to: '2026-11-01T00:00:00.000Z',
    currency: 'USD',
  });
  gc();
  const baseline = process.memoryUsage().heapUsed;
  let peak = 0;
  const sampler = setInterval(() => {
    gc();
    peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
  }, 250);
  const started = Date.now();
  try {
    const done = await service.run(created.id);
    expect(done).toMatchObject({ status: 'completed', entryCount: ENTRIES, lineCount: LINES });
    expect(done.totalDebits).toBe(done.totalCredits);
    const { size } = await stat(done.path!);
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
    process.stderr.write(
      `ledger export: ${LINES} lines, ${mb(size)} file, ${Date.now() - started} ms, ` +
        `peak live heap growth ${mb(peak)}\n`,
    );
    // Building the file in memory would hold at least its size; a cursor holds one batch.
    expect(peak).toBeLessThan(Math.min(40 * 1024 * 1024, size / 2));
  } finally {
    clearInterval(sampler);
  }
}, 600_000);
