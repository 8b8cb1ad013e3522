import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ledgerExportCommand } from '../../apps/cli/src/ledger-export.command';
import { loadConfig } from '../../libs/config/src';
import { PaymentEvent } from '../../libs/contracts/src';
import { CurrencyCode, currencyExponent, newId } from '../../libs/domain/src';
import { LedgerBooks, LedgerQueries } from '../../libs/ledger/src';
import {
  DEFAULT_EXPORT_MAPPING,
  ExportFormat,
  ExportMappingError,
  GENERIC_COLUMNS,
  LedgerExportMapping,
  LedgerExportService,
  UnmappedAccountsError,
  loadExportMapping,
  parseCsv,
  parseDecimal,
  quickbooksJournalNo,
} from '../../libs/ledger/src/exports';
import { TestDatabase, createTestDatabase } from '../support/database';

/** Journal exports against real Postgres: files read back and checked against the books. */
let db: TestDatabase;
let dir: string;
let books: LedgerBooks;
let queries: LedgerQueries;

const MARCH = { from: '2026-03-01T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z' };
const MAY = { from: '2026-05-01T00:00:00.000Z', to: '2026-06-01T00:00:00.000Z' };
const JUNE = { from: '2026-06-01T00:00:00.000Z', to: '2026-07-01T00:00:00.000Z' };
const WEIRD_MEMO = 'adjustment, "manual"\nsecond line';

function event(
  type: PaymentEvent['type'],
  p: { id: string; processor: string; currency: string; amount: number },
  extra: Partial<PaymentEvent> & { occurredAt: string },
): PaymentEvent {
  return {
    v: 1,
    eventId: newId('evt'),
    type,
    payment: {
      id: p.id,
      clientId: 'cli',
      status: 'SUCCEEDED',
      amount: p.amount,
      currency: p.currency,
      amountCaptured: p.amount,
      amountRefunded: 0,
      processor: p.processor,
      processorReference: null,
    },
    ...extra,
  };
}

async function seedMarch(): Promise<void> {
  const events: PaymentEvent[] = [];
  const day = (d: number) => `2026-03-${String(d).padStart(2, '0')}T10:00:00.000Z`;
  // USD: 0.10 + 0.20 must read 0.30, never 0.30000000000000004.
  for (const [i, amount] of [10, 20, 123_456_789, 1999].entries()) {
    const p = {
      id: newId('pay'),
      processor: i % 2 ? 'stripe' : 'simulator',
      currency: 'USD',
      amount,
    };
    events.push(event('succeeded', p, { amount, occurredAt: day(i + 2) }));
    if (i === 3) {
      events.push(event('refunded', p, { amount: 500, occurredAt: day(20) }));
      events.push(event('fee_recorded', p, { fee: 88, occurredAt: day(21) }));
    }
  }
  const jpy = { id: newId('pay'), processor: 'simulator', currency: 'JPY', amount: 5000 };
  events.push(event('succeeded', jpy, { amount: 5000, occurredAt: day(5) }));
  events.push(event('refunded', jpy, { amount: 1200, occurredAt: day(6) }));
  const kwd = { id: newId('pay'), processor: 'simulator', currency: 'KWD', amount: 12_345 };
  events.push(event('succeeded', kwd, { amount: 12_345, occurredAt: day(7) }));
  // A pending authorization hold: not posted, so not exported.
  const held = { id: newId('pay'), processor: 'simulator', currency: 'USD', amount: 700 };
  events.push(event('authorized', held, { occurredAt: day(8) }));
  const result = await books.applyBatch(events);
  expect(result.rejected.size).toBe(0);
}

/** A hand-made entry (books only come from rules, but a memo can hold anything). */
async function entry(
  kind: string,
  occurredAt: string,
  lines: Array<[code: string, 'debit' | 'credit', number]>,
  currency = 'USD',
): Promise<string> {
  const id = newId('je');
  await db.dataSource.transaction(async (tx) => {
    for (const [code] of lines) {
      await tx.query(
        `INSERT INTO ledger_accounts (code, name, type, normal_side, currency)
         VALUES ($1, $1, 'asset', 'debit', $2) ON CONFLICT (code) DO NOTHING`,
        [code, currency],
      );
    }
    await tx.query(
      `INSERT INTO journal_entries (id, source_event_id, kind, status, occurred_at)
       VALUES ($1, $2, $3, 'posted', $4)`,
      [id, newId('evt'), kind, occurredAt],
    );
    let n = 0;
    for (const [code, direction, amount] of lines) {
      await tx.query(
        `INSERT INTO journal_lines (entry_id, line_no, account_id, direction, amount, currency, pending, occurred_at)
         SELECT $1, $2, id, $3, $4, $5, false, $6 FROM ledger_accounts WHERE code = $7`,
        [id, ++n, direction, amount, currency, occurredAt, code],
      );
    }
  });
  return id;
}

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), 'ledger-export-test-'));
  books = new LedgerBooks(db.dataSource);
  queries = new LedgerQueries(db.dataSource);
  await seedMarch();
  await entry(WEIRD_MEMO, '2026-05-10T12:00:00.000Z', [
    ['clearing:USD', 'debit', 30],
    ['receivable:simulator:USD', 'credit', 30],
  ]);
  await entry(
    'adjustment',
    '2026-06-10T12:00:00.000Z',
    [
      ['clearing:EUR', 'debit', 5],
      ['custom:unmapped:EUR', 'credit', 3],
      ['other:unmapped:EUR', 'credit', 2],
    ],
    'EUR',
  );
});

afterAll(async () => {
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function service(mapping: LedgerExportMapping = DEFAULT_EXPORT_MAPPING, fetchSize = 3) {
  // A tiny FETCH size so entries straddle cursor pages.
  return new LedgerExportService(db.dataSource, { dir, mapping, fetchSize });
}

async function exportOf(
  format: ExportFormat,
  period: { from: string; to: string },
  currency?: string,
  svc = service(),
) {
  const created = await svc.create({ format, ...period, currency });
  expect(created.status).toBe('pending');
  const done = await svc.run(created.id);
  expect(done.status).toBe('completed');
  return { record: done, text: readFileSync(done.path!, 'utf8') };
}

const exponent = (c: string) => currencyExponent(c as CurrencyCode);

/** Rows as objects keyed by the header; the header must hold every required column. */
function table(text: string, required: readonly string[]): Array<Record<string, string>> {
  expect(text.endsWith('\r\n')).toBe(true);
  const [header, ...rows] = parseCsv(text);
  for (const column of required) expect(header).toContain(column);
  return rows.map((r) => {
    expect(r).toHaveLength(header.length);
    return Object.fromEntries(header.map((h, i) => [h, r[i]]));
  });
}

/** Decimal strings with exactly the currency's exponent; sums per group, per currency, in bigint. */
function checkAmounts(
  rows: Array<Record<string, string>>,
  cols: { group: string; debit: string; credit: string; currency: string },
) {
  const perGroup = new Map<string, bigint>();
  let debits = 0n;
  let credits = 0n;
  for (const r of rows) {
    const e = exponent(r[cols.currency]);
    const pattern = e === 0 ? /^\d+$/ : new RegExp(`^\\d+\\.\\d{${e}}$`);
    const [d, c] = [r[cols.debit], r[cols.credit]];
    expect(d === '' ? c : d).toMatch(pattern);
    expect(d === '' || c === '').toBe(true); // one side per line
    const debit = d ? parseDecimal(d, e) : 0n;
    const credit = c ? parseDecimal(c, e) : 0n;
    debits += debit;
    credits += credit;
    const key = `${r[cols.group]}|${r[cols.currency]}`;
    perGroup.set(key, (perGroup.get(key) ?? 0n) + debit - credit);
  }
  for (const [key, net] of perGroup) expect([key, net]).toEqual([key, 0n]); // every entry balances
  return { debits, credits, groups: new Set(rows.map((r) => r[cols.group])).size };
}

const NETSUITE_COLUMNS = [
  'External ID',
  'Date',
  'Subsidiary',
  'Currency',
  'Exchange Rate',
  'Account',
  'Debit',
  'Credit',
  'Memo',
  'Name',
];
const QBO_COLUMNS = [
  'Journal No.',
  'Journal Date',
  'Account Name',
  'Debits',
  'Credits',
  'Description',
  'Name',
];

describe('ledger journal exports', () => {
  it.each(['USD', 'JPY', 'KWD'])(
    'NetSuite CSV (%s): every entry balances, totals equal the trial balance of the period',
    async (currency) => {
      const { record, text } = await exportOf('netsuite', MARCH, currency);
      expect(text).not.toMatch(/0000000000|9999999999|e[+-]\d/); // no float artefacts
      const rows = table(text, NETSUITE_COLUMNS);
      for (const r of rows) {
        expect(r.Currency).toBe(currency);
        expect(r['Exchange Rate']).toBe('1');
        expect(r.Date).toMatch(/^03\/\d\d\/2026$/);
        expect(r['External ID']).toMatch(/^je_[0-9a-z]{26}$/);
      }
      const sums = checkAmounts(rows, {
        group: 'External ID',
        debit: 'Debit',
        credit: 'Credit',
        currency: 'Currency',
      });
      const tb = await queries.trialBalance(currency, '2026-03-31T23:59:59.999Z');
      expect(tb.balanced).toBe(true);
      expect(sums.debits).toBe(BigInt(tb.debits));
      expect(sums.credits).toBe(BigInt(tb.credits));
      expect(record).toMatchObject({
        entryCount: sums.groups,
        lineCount: rows.length,
        totalDebits: String(tb.debits),
        totalCredits: String(tb.credits),
      });
    },
  );

  it('formats amounts in each currency exponent without floats (JPY none, USD 2, KWD 3)', async () => {
    const { text } = await exportOf('csv', MARCH);
    const rows = table(text, GENERIC_COLUMNS);
    const amounts = (cur: string) =>
      rows.filter((r) => r.currency === cur).map((r) => r.debit || r.credit);
    expect(amounts('JPY')).toEqual(expect.arrayContaining(['5000', '1200']));
    expect(amounts('KWD')).toEqual(['12.345', '12.345']);
    expect(amounts('USD')).toEqual(
      expect.arrayContaining(['0.10', '0.20', '1234567.89', '19.99', '5.00', '0.88']),
    );
    expect(rows.some((r) => r.memo.includes('authorization_hold'))).toBe(false); // pending: out
    expect(new Set(rows.map((r) => r.currency))).toEqual(new Set(['USD', 'JPY', 'KWD']));
    checkAmounts(rows, {
      group: 'entry_id',
      debit: 'debit',
      credit: 'credit',
      currency: 'currency',
    });
  });

  it('QuickBooks Online CSV: required columns, MM/DD/YYYY, 21-character deterministic journal numbers', async () => {
    const { record, text } = await exportOf('quickbooks', MARCH, 'USD');
    const rows = table(text, QBO_COLUMNS);
    for (const r of rows) {
      expect(r['Journal No.']).toMatch(/^J[0-9A-Z]{20}$/);
      expect(r['Journal Date']).toMatch(/^03\/\d\d\/2026$/);
    }
    expect(rows.map((r) => r['Account Name'])).toEqual(
      expect.arrayContaining([
        'Processor Receivable:simulator',
        'Processor Receivable:stripe',
        'Customer Payments Clearing',
        'Payment Processing Fees:stripe',
        'Refunds',
      ]),
    );
    const sums = checkAmounts(rows, {
      group: 'Journal No.',
      debit: 'Debits',
      credit: 'Credits',
      currency: 'Currency',
    });
    expect(sums.groups).toBe(record.entryCount);
    const tb = await queries.trialBalance('USD', '2026-03-31T23:59:59.999Z');
    expect(sums.debits).toBe(BigInt(tb.debits));
  });

  it('JSONL: one journal line per line with source references', async () => {
    const { record, text } = await exportOf('jsonl', MARCH, 'KWD');
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(record.lineCount!);
    expect(lines[0]).toMatchObject({
      entry_id: expect.stringMatching(/^je_/),
      account_code: 'receivable:simulator:KWD',
      account_name: 'Processor receivable (simulator, KWD)',
      debit: '12.345',
      credit: '',
      currency: 'KWD',
      entry_kind: 'sale',
      source_event_id: expect.stringMatching(/^evt_/),
      payment_id: expect.stringMatching(/^pay_/),
      date: '2026-03-07',
    });
  });

  it('gives the same journal ids, byte for byte the same file, on a re-export of the period', async () => {
    const a = await exportOf('netsuite', MARCH);
    const b = await exportOf('netsuite', MARCH);
    expect(a.record.id).not.toBe(b.record.id);
    expect(b.text).toBe(a.text);
    const q1 = await exportOf('quickbooks', MARCH);
    const q2 = await exportOf('quickbooks', MARCH);
    expect(q2.text).toBe(q1.text);
    const ids = new Set(table(a.text, NETSUITE_COLUMNS).map((r) => r['External ID']));
    const numbers = new Set(table(q1.text, QBO_COLUMNS).map((r) => r['Journal No.']));
    expect(numbers).toEqual(new Set([...ids].map(quickbooksJournalNo)));
  });

  it('escapes a memo with a comma, a quote and a line break per RFC 4180', async () => {
    const { text } = await exportOf('netsuite', MAY, 'USD');
    expect(text).toContain('"adjustment, ""manual""\nsecond line');
    const rows = table(text, NETSUITE_COLUMNS);
    expect(rows).toHaveLength(2);
    expect(rows[0].Memo.startsWith(WEIRD_MEMO)).toBe(true);
    expect(rows.map((r) => [r.Account, r.Debit, r.Credit])).toEqual([
      ['2150', '0.30', ''],
      ['1210', '', '0.30'],
    ]);
  });

  it('fails on unmapped accounts with the list of missing mappings, and writes no file', async () => {
    const before = readdirSync(dir);
    const svc = service();
    const created = await svc.create({ format: 'netsuite', ...JUNE });
    const error = await svc.run(created.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnmappedAccountsError);
    expect((error as UnmappedAccountsError).missing).toEqual([
      'custom:unmapped:EUR',
      'other:unmapped:EUR',
    ]);
    expect(readdirSync(dir)).toEqual(before);
    const failed = await svc.get(created.id);
    expect(failed).toMatchObject({ status: 'failed', path: null, entryCount: null });
    expect(failed?.error).toContain('custom:unmapped:EUR, other:unmapped:EUR');

    // A mapping file replaces the built-in one: a template it leaves out is unmapped too.
    const file = join(dir, '..', `${created.id}-mapping.json`);
    writeFileSync(
      file,
      JSON.stringify({
        netsuite: {
          subsidiary: 'Acme Inc.',
          accounts: {
            receivable: { account: '1200', name: 'Simulator' },
            clearing: { account: '2100' },
          },
        },
        quickbooks: { dateFormat: 'YYYY-MM-DD', accounts: { clearing: { account: 'Clearing' } } },
      }),
    );
    const custom = service(loadExportMapping(file));
    const partial = await custom.create({ format: 'netsuite', ...MARCH, currency: 'USD' });
    await expect(custom.run(partial.id)).rejects.toThrow(
      'no netsuite account mapping for 2 ledger account(s): fees:stripe:USD, refunds:USD',
    );
    expect(readdirSync(dir)).toEqual(before);
    // The generic formats use the ledger's own codes: nothing to map.
    const generic = await exportOf('csv', JUNE, undefined, custom);
    expect(generic.record.lineCount).toBe(3);
    const may = await exportOf('netsuite', MAY, 'USD', custom);
    const [first] = table(may.text, NETSUITE_COLUMNS);
    expect(first).toMatchObject({ Subsidiary: 'Acme Inc.', Account: '2100', Name: '' });
    await rm(file);
  });

  it('runs from the CLI command (scheduled jobs) into --out, recorded like the others', async () => {
    const out = join(dir, 'cli', 'march-jpy.csv');
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await ledgerExportCommand(
        'export',
        [
          '--format',
          'csv',
          '--from',
          '2026-03-01',
          '--to',
          '2026-04-01',
          '--currency',
          'jpy',
          '--out',
          out,
        ],
        () => loadConfig({ DATABASE_URL: db.url, LOG_LEVEL: 'silent' }),
        () => new Error('usage'),
      );
      const printed = JSON.parse(String(write.mock.calls[0][0]));
      expect(printed).toMatchObject({
        status: 'completed',
        currency: 'JPY',
        path: out,
        lineCount: 4,
      });
    } finally {
      write.mockRestore();
    }
    const rows = table(readFileSync(out, 'utf8'), GENERIC_COLUMNS);
    expect(rows.map((r) => r.debit || r.credit)).toEqual(['5000', '5000', '1200', '1200']);
    await expect(
      ledgerExportCommand(
        'export',
        ['--format', 'csv'],
        () => loadConfig({}),
        () => new Error('usage'),
      ),
    ).rejects.toThrow('usage');
    await expect(
      ledgerExportCommand(
        'export',
        ['--format', 'xml', '--from', '2026-03-01', '--to', '2026-04-01'],
        () => loadConfig({}),
        () => new Error('usage'),
      ),
    ).rejects.toThrow(/format/);
  });

  it('refuses an invalid mapping file at load (boot)', () => {
    const file = join(dir, '..', `bad-mapping-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ netsuite: { accounts: { fees: {} } } }));
    try {
      expect(() => loadExportMapping(file)).toThrow(ExportMappingError);
      expect(() => loadExportMapping(file)).toThrow(/netsuite\.accounts\.fees\.account/);
      expect(() => loadExportMapping(join(dir, 'missing.json'))).toThrow(/cannot be read/);
    } finally {
      void rm(file, { force: true });
    }
    expect(existsSync(dir)).toBe(true);
  });

  describe('an export interrupted by a stopped ledger', () => {
    const row = async (id: string) =>
      (
        (await db.dataSource.query(
          `SELECT status, attempts, heartbeat_at, error FROM ledger_exports WHERE id = $1`,
          [id],
        )) as {
          status: string;
          attempts: number;
          heartbeat_at: Date | null;
          error: string | null;
        }[]
      )[0];
    /** What a process that stopped mid-run leaves: running, its heartbeat minutes old. */
    const interrupted = async (svc: LedgerExportService, attempts: number) => {
      const created = await svc.create({ format: 'csv', ...MARCH });
      await db.dataSource.query(
        `UPDATE ledger_exports SET status = 'running', attempts = $2,
                heartbeat_at = now() - interval '5 minutes' WHERE id = $1`,
        [created.id, attempts],
      );
      return created.id;
    };
    const recovering = () =>
      new LedgerExportService(db.dataSource, {
        dir,
        mapping: DEFAULT_EXPORT_MAPPING,
        staleAfterMs: 60_000,
        maxAttempts: 3,
      });

    it('is run again by a recovery sweep and completes with the same file as an uninterrupted run', async () => {
      const reference = await exportOf('csv', MARCH);
      const svc = recovering();
      const id = await interrupted(svc, 1);
      const swept = await svc.recoverInterrupted();
      expect(swept.queued).toContain(id);
      expect(swept.failed).toEqual([]);
      await svc.idle();
      const done = await svc.get(id);
      expect(done).toMatchObject({ status: 'completed', attempts: 2 });
      expect(done!.totalDebits).toBe(reference.record.totalDebits);
      const text = readFileSync(done!.path!, 'utf8');
      expect(text).toBe(reference.text);
      expect((await row(id)).heartbeat_at).toBeNull();
    });

    it('recovers a running export that has no heartbeat at all (running before the upgrade)', async () => {
      const svc = recovering();
      const id = await interrupted(svc, 1);
      await db.dataSource.query(`UPDATE ledger_exports SET heartbeat_at = NULL WHERE id = $1`, [
        id,
      ]);
      expect((await svc.recoverInterrupted()).queued).toContain(id);
      await svc.idle();
      expect(await row(id)).toMatchObject({ status: 'completed', attempts: 2 });
    });

    it('fails with the reason once it was interrupted maxAttempts times, and is not run', async () => {
      const svc = recovering();
      const id = await interrupted(svc, 3);
      const swept = await svc.recoverInterrupted();
      expect(swept.failed).toEqual([id]);
      expect(swept.queued).not.toContain(id);
      await svc.idle();
      expect(await row(id)).toMatchObject({ status: 'failed', attempts: 3 });
      expect((await row(id)).error).toMatch(/interrupted 3 times/);
    });

    it('leaves alone an export whose heartbeat is fresh (another ledger is running it)', async () => {
      const svc = recovering();
      const created = await svc.create({ format: 'csv', ...MARCH });
      await db.dataSource.query(
        `UPDATE ledger_exports SET status = 'running', attempts = 1, heartbeat_at = now() WHERE id = $1`,
        [created.id],
      );
      const swept = await svc.recoverInterrupted();
      expect(swept.queued).not.toContain(created.id);
      await svc.idle();
      expect(await row(created.id)).toMatchObject({ status: 'running', attempts: 1 });
      await db.dataSource.query(
        `UPDATE ledger_exports SET status = 'failed', heartbeat_at = NULL WHERE id = $1`,
        [created.id],
      );
    });

    it('a pending export nobody queued is run once even when two ledgers sweep at the same time', async () => {
      const a = recovering();
      const b = recovering();
      const created = await a.create({ format: 'jsonl', ...MARCH });
      const [sa, sb] = await Promise.all([a.recoverInterrupted(), b.recoverInterrupted()]);
      // one or both queue it (the first may already have claimed it when the second looks)…
      const queuedBy = [sa, sb].filter((swept) => swept.queued.includes(created.id));
      expect(queuedBy.length).toBeGreaterThanOrEqual(1);
      await Promise.all([a.idle(), b.idle()]);
      // …and it runs once: one claim, one attempt
      expect(await row(created.id)).toMatchObject({ status: 'completed', attempts: 1 });
      // a second sweep has nothing left to do for it
      expect((await a.recoverInterrupted()).queued).not.toContain(created.id);

      // the claim itself: two processes running the same pending export, exactly one wins
      const other = await a.create({ format: 'csv', ...MARCH });
      const results = await Promise.allSettled([a.run(other.id), b.run(other.id)]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(String(lost?.reason)).toMatch(/not pending/);
      expect(await row(other.id)).toMatchObject({ status: 'completed', attempts: 1 });
    });

    it('beats its heartbeat while it runs (even while blocked) and clears it when done', async () => {
      const svc = new LedgerExportService(db.dataSource, {
        dir,
        mapping: DEFAULT_EXPORT_MAPPING,
        heartbeatMs: 10,
      });
      const created = await svc.create({ format: 'csv', ...MARCH });
      // Another transaction holds the chart of accounts: the export waits on its first read.
      const blocker = db.dataSource.createQueryRunner();
      await blocker.connect();
      await blocker.startTransaction();
      await blocker.query('LOCK TABLE ledger_accounts IN ACCESS EXCLUSIVE MODE');
      const running = svc.run(created.id);
      try {
        let first: Date | null = null;
        for (let i = 0; i < 1000 && !first; i++) {
          first = (await row(created.id)).heartbeat_at;
          if (!first) await new Promise((r) => setTimeout(r, 5));
        }
        expect(first).not.toBeNull();
        let later = first!;
        for (let i = 0; i < 500 && later.getTime() <= first!.getTime(); i++) {
          await new Promise((r) => setTimeout(r, 10));
          later = (await row(created.id)).heartbeat_at!;
        }
        expect(later.getTime()).toBeGreaterThan(first!.getTime());
        expect((await row(created.id)).status).toBe('running');
      } finally {
        await blocker.rollbackTransaction();
        await blocker.release();
      }
      await running;
      expect(await row(created.id)).toMatchObject({ status: 'completed', attempts: 1 });
      expect((await row(created.id)).heartbeat_at).toBeNull();
    });
  });
});
