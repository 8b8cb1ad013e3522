import fc from 'fast-check';
import { DisputeEvent, PaymentEvent, PayoutEvent } from '../../libs/contracts/src';
import { newId } from '../../libs/domain/src';
import { LedgerBooks, LedgerEvent, LedgerQueries } from '../../libs/ledger/src';
import { TestDatabase, createTestDatabase } from '../support/database';

let db: TestDatabase;
let books: LedgerBooks;
let queries: LedgerQueries;

beforeAll(async () => {
  db = await createTestDatabase();
  books = new LedgerBooks(db.dataSource);
  queries = new LedgerQueries(db.dataSource);
});

afterAll(() => db.drop());

function paymentEvent(
  type: PaymentEvent['type'],
  payment: { id: string; processor: string; currency: string; amount: number },
  extra: Partial<PaymentEvent> = {},
): PaymentEvent {
  return {
    v: 1,
    eventId: newId('evt'),
    type,
    occurredAt: extra.occurredAt ?? new Date().toISOString(),
    payment: {
      id: payment.id,
      clientId: 'cli',
      status: 'SUCCEEDED',
      amount: payment.amount,
      currency: payment.currency,
      amountCaptured: payment.amount,
      amountRefunded: 0,
      processor: payment.processor,
      processorReference: null,
    },
    ...extra,
  };
}

function disputeEvent(
  type: DisputeEvent['type'],
  status: DisputeEvent['dispute']['status'],
  d: { id: string; paymentId: string; processor: string; currency: string; amount: number },
): DisputeEvent {
  return {
    v: 1,
    eventId: newId('evt'),
    type,
    occurredAt: new Date().toISOString(),
    dispute: {
      id: d.id,
      paymentId: d.paymentId,
      processor: d.processor,
      processorReference: `dp_${d.id}`,
      status,
      amount: d.amount,
      currency: d.currency,
      reason: null,
      evidenceDueBy: null,
    },
  };
}

function payoutEvent(
  type: PayoutEvent['type'],
  p: { id: string; processor: string; currency: string; amount: number },
): PayoutEvent {
  return {
    v: 1,
    eventId: newId('evt'),
    type,
    occurredAt: new Date().toISOString(),
    payout: {
      id: p.id,
      processor: p.processor,
      processorReference: `po_${p.id}`,
      status: type === 'paid' ? 'PAID' : 'FAILED',
      amount: p.amount,
      currency: p.currency,
      arrivalDate: null,
      failureCode: null,
    },
  };
}

const balanceOf = async (code: string) => (await queries.account(code))?.balance;

describe('ledger database invariants (triggers)', () => {
  async function account(code: string, currency = 'USD'): Promise<number> {
    const [row] = await db.dataSource.query(
      `INSERT INTO ledger_accounts (code, name, type, normal_side, currency)
       VALUES ($1, $1, 'asset', 'debit', $2) RETURNING id`,
      [code, currency],
    );
    return Number(row.id);
  }

  async function entryWith(
    lines: Array<[number, 'debit' | 'credit', number, string?]>,
  ): Promise<void> {
    const id = newId('je');
    await db.dataSource.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO journal_entries (id, source_event_id, kind, status, occurred_at)
         VALUES ($1, $2, 'test', 'posted', now())`,
        [id, newId('evt')],
      );
      let n = 0;
      for (const [accountId, direction, amount, currency] of lines) {
        await tx.query(
          `INSERT INTO journal_lines (entry_id, line_no, account_id, direction, amount, currency, pending, occurred_at)
           VALUES ($1, $2, $3, $4, $5, $6, false, now())`,
          [id, ++n, accountId, direction, amount, currency ?? 'USD'],
        );
      }
    });
  }

  let a: number;
  let b: number;
  beforeAll(async () => {
    a = await account('test:a');
    b = await account('test:b');
  });

  it('accepts a balanced entry of two lines', async () => {
    await expect(
      entryWith([
        [a, 'debit', 10],
        [b, 'credit', 10],
      ]),
    ).resolves.toBeUndefined();
  });

  it('refuses, at commit, an entry whose debits and credits differ', async () => {
    await expect(
      entryWith([
        [a, 'debit', 10],
        [b, 'credit', 9],
      ]),
    ).rejects.toThrow(/does not balance in USD/);
  });

  it('refuses an entry with one line, and an entry with none', async () => {
    await expect(entryWith([[a, 'debit', 10]])).rejects.toThrow(/at least 2 are required/);
    await expect(entryWith([])).rejects.toThrow(/at least 2 are required/);
  });

  /** Entries written in one transaction, each statement inserting the lines given for it. */
  async function entriesByStatement(
    statements: Array<Array<[entry: number, account: number, 'debit' | 'credit', number]>>,
  ): Promise<void> {
    const ids = [newId('je'), newId('je'), newId('je')];
    await db.dataSource.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO journal_entries (id, source_event_id, kind, status, occurred_at)
         SELECT id, 'evt_' || id, 'test', 'posted', now() FROM unnest($1::text[]) AS id`,
        [ids],
      );
      let n = 0;
      for (const lines of statements) {
        await tx.query(
          `INSERT INTO journal_lines (entry_id, line_no, account_id, direction, amount, currency, pending, occurred_at)
           SELECT e, n, a, d, m, 'USD', false, now()
             FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[], $5::bigint[]) AS l(e, n, a, d, m)`,
          [
            lines.map(([entry]) => ids[entry]),
            lines.map(() => ++n),
            lines.map(([, account]) => account),
            lines.map(([, , direction]) => direction),
            lines.map(([, , , amount]) => amount),
          ],
        );
      }
    });
  }

  it('checks the lines of many entries per statement, and of one entry over several', async () => {
    const three = (amount: number): Array<[number, number, 'debit' | 'credit', number]> => [
      [0, a, 'debit', 10],
      [0, b, 'credit', 10],
      [1, a, 'debit', 7],
      [1, b, 'credit', amount],
      [2, a, 'debit', 1],
      [2, b, 'credit', 1],
    ];
    await expect(entriesByStatement([three(7)])).resolves.toBeUndefined();
    await expect(entriesByStatement([three(6)])).rejects.toThrow(/does not balance in USD/);
    // Entry 0 over two statements, balanced only together; entries 1 and 2 complete in each.
    await expect(
      entriesByStatement([
        [
          [0, a, 'debit', 10],
          [1, a, 'debit', 3],
          [1, b, 'credit', 3],
        ],
        [
          [0, b, 'credit', 4],
          [0, b, 'credit', 6],
          [2, a, 'debit', 1],
          [2, b, 'credit', 1],
        ],
      ]),
    ).resolves.toBeUndefined();
    // Balanced in the first statement, then one more line: unbalanced with three lines.
    await expect(
      entriesByStatement([
        [
          [0, a, 'debit', 10],
          [0, b, 'credit', 10],
          [1, a, 'debit', 1],
          [1, b, 'credit', 1],
          [2, a, 'debit', 1],
          [2, b, 'credit', 1],
        ],
        [[0, a, 'debit', 5]],
      ]),
    ).rejects.toThrow(/does not balance in USD/);
    // Entry 2 never gets a line.
    await expect(
      entriesByStatement([
        [
          [0, a, 'debit', 1],
          [0, b, 'credit', 1],
          [1, a, 'debit', 1],
          [1, b, 'credit', 1],
        ],
      ]),
    ).rejects.toThrow(/has 0 line\(s\); at least 2 are required/);
  });

  it('refuses a line in another currency than its account', async () => {
    const eur = await account('test:eur', 'EUR');
    const eur2 = await account('test:eur2', 'EUR');
    await expect(
      entryWith([
        [eur, 'debit', 5, 'USD'],
        [eur2, 'credit', 5, 'USD'],
      ]),
    ).rejects.toThrow(/another currency/);
  });

  it('refuses a line whose entry is missing, or on a missing account', async () => {
    const orphanLine = (entryId: string, accountId: number) =>
      db.dataSource.query(
        `INSERT INTO journal_lines (entry_id, line_no, account_id, direction, amount, currency, pending, occurred_at)
         VALUES ($1, 1, $2, 'debit', 5, 'USD', false, now()), ($1, 2, $3, 'credit', 5, 'USD', false, now())`,
        [entryId, accountId, b],
      );
    await expect(orphanLine(newId('je'), a)).rejects.toThrow(/refers to missing entry/);
    await expect(
      entryWith([
        [a, 'debit', 5],
        [987_654_321, 'credit', 5],
      ]),
    ).rejects.toThrow(/on a missing account/);
  });

  it('refuses lines added to an entry posted in an earlier transaction', async () => {
    const [{ id }] = await db.dataSource.query(
      `SELECT e.id FROM journal_entries e ORDER BY e.posted_at DESC LIMIT 1`,
    );
    await expect(
      db.dataSource.query(
        `INSERT INTO journal_lines (entry_id, line_no, account_id, direction, amount, currency, pending, occurred_at)
         VALUES ($1, 90, $2, 'debit', 3, 'USD', false, now()), ($1, 91, $3, 'credit', 3, 'USD', false, now())`,
        [id, a, b],
      ),
    ).rejects.toThrow(/was posted earlier/);
  });

  it('refuses deleting or truncating an account', async () => {
    await expect(
      db.dataSource.query(`DELETE FROM ledger_accounts WHERE id = $1`, [a]),
    ).rejects.toThrow(/append-only: DELETE refused/);
    await expect(db.dataSource.query(`TRUNCATE ledger_accounts CASCADE`)).rejects.toThrow(
      /append-only/,
    );
  });

  it('refuses zero and negative line amounts', async () => {
    await expect(
      entryWith([
        [a, 'debit', 0],
        [b, 'credit', 0],
      ]),
    ).rejects.toThrow(/check/i);
    await expect(
      entryWith([
        [a, 'debit', -5],
        [b, 'credit', -5],
      ]),
    ).rejects.toThrow(/check/i);
  });

  it('refuses UPDATE, DELETE and TRUNCATE of entries and lines (append-only)', async () => {
    await entryWith([
      [a, 'debit', 7],
      [b, 'credit', 7],
    ]);
    const q = (sql: string) => db.dataSource.query(sql);
    await expect(q(`UPDATE journal_lines SET amount = amount + 1`)).rejects.toThrow(
      /append-only: UPDATE refused/,
    );
    await expect(q(`DELETE FROM journal_lines`)).rejects.toThrow(/append-only: DELETE refused/);
    await expect(q(`UPDATE journal_entries SET kind = 'x'`)).rejects.toThrow(/append-only/);
    await expect(q(`DELETE FROM journal_entries`)).rejects.toThrow(/append-only/);
    await expect(q(`TRUNCATE journal_lines CASCADE`)).rejects.toThrow(/append-only/);
  });
});

describe('LedgerBooks.applyBatch', () => {
  const processor = 'simulator';

  it('books a sale, is idempotent by event id, and keeps lines and balances in step', async () => {
    const p = { id: newId('pay'), processor, currency: 'JPY', amount: 5000 };
    const sale = paymentEvent('succeeded', p, { amount: 5000 });
    const first = await books.applyBatch([sale, sale]);
    expect(first.entriesBooked).toBe(1);
    const again = await books.applyBatch([sale]);
    expect(again.entriesBooked).toBe(0);
    expect((await balanceOf('receivable:simulator:JPY'))?.posted).toEqual({
      debits: 5000,
      credits: 0,
      balance: 5000,
    });
    expect((await balanceOf('clearing:JPY'))?.posted.balance).toBe(5000);
    const page = await queries.entries({ paymentId: p.id, first: 10 });
    expect(page.entries).toHaveLength(1);
    expect(page.entries[0].lines.map((l) => [l.accountCode, l.direction, l.amount])).toEqual([
      ['receivable:simulator:JPY', 'debit', 5000],
      ['clearing:JPY', 'credit', 5000],
    ]);
  });

  it('authorize, capture and cancel move pending balances, in any order', async () => {
    const code = 'receivable:simulator:CHF';
    const p1 = { id: newId('pay'), processor, currency: 'CHF', amount: 800 };
    await books.applyBatch([paymentEvent('authorized', p1)]);
    expect((await balanceOf(code))?.pending.balance).toBe(800);
    await books.applyBatch([paymentEvent('captured', p1, { amount: 800 })]);
    expect((await balanceOf(code))?.pending.balance).toBe(0);
    expect((await balanceOf(code))?.posted.balance).toBe(800);

    // canceled, then its (late) authorized: the hold is never booked.
    const p2 = { id: newId('pay'), processor, currency: 'CHF', amount: 300 };
    await books.applyBatch([paymentEvent('canceled', p2), paymentEvent('authorized', p2)]);
    expect((await balanceOf(code))?.pending.balance).toBe(0);

    // authorized then canceled in one batch: held and released.
    const p3 = { id: newId('pay'), processor, currency: 'CHF', amount: 200 };
    const auth = paymentEvent('authorized', p3);
    await books.applyBatch([auth, paymentEvent('canceled', p3)]);
    await books.applyBatch([auth]); // redelivered: nothing more
    const b = await balanceOf(code);
    expect(b?.pending).toEqual({ debits: 1000, credits: 1000, balance: 0 });
    expect(b?.posted.balance).toBe(800);
  });

  it('dead-letters refused events without touching the rest of the batch', async () => {
    const p = { id: newId('pay'), processor, currency: 'SEK', amount: 100 };
    const good = paymentEvent('succeeded', p, { amount: 100 });
    const noAmount = paymentEvent('captured', p);
    const result = await books.applyBatch([good, noAmount]);
    expect(result.entriesBooked).toBe(1);
    expect([...result.rejected.entries()]).toEqual([
      [noAmount.eventId, 'captured amount must be a positive amount in minor units'],
    ]);
  });

  it('computes balances as of a past instant from the lines', async () => {
    const p = { id: newId('pay'), processor, currency: 'NOK', amount: 100 };
    await books.applyBatch([
      paymentEvent('succeeded', p, { amount: 100, occurredAt: '2026-01-01T00:00:00.000Z' }),
      paymentEvent('refunded', p, { amount: 40, occurredAt: '2026-02-01T00:00:00.000Z' }),
    ]);
    const code = 'receivable:simulator:NOK';
    expect((await queries.balance(code, '2026-01-15T00:00:00Z')).posted.balance).toBe(100);
    expect((await queries.balance(code, '2026-03-01T00:00:00Z')).posted.balance).toBe(60);
    expect((await queries.balance(code, '2025-12-31T00:00:00Z')).posted.balance).toBe(0);
    expect((await queries.balance(code)).posted.balance).toBe(60);
    const tb = await queries.trialBalance('NOK', '2026-01-15T00:00:00Z');
    expect(tb).toMatchObject({ debits: 100, credits: 100, balanced: true });
  });

  it('books disputes (opened, won, lost) and payouts (paid, failed after paid)', async () => {
    const p = { id: newId('pay'), processor: 'stripe', currency: 'DKK', amount: 10_000 };
    const code = 'receivable:stripe:DKK';
    await books.applyBatch([paymentEvent('succeeded', p, { amount: 10_000 })]);
    const won = {
      id: newId('dsp'),
      paymentId: p.id,
      processor: 'stripe',
      currency: 'DKK',
      amount: 1000,
    };
    const lost = { ...won, id: newId('dsp'), amount: 2000 };
    await books.applyBatch([
      disputeEvent('opened', 'NEEDS_RESPONSE', won),
      disputeEvent('opened', 'NEEDS_RESPONSE', lost),
    ]);
    expect((await balanceOf(code))?.posted.balance).toBe(7000);
    expect((await balanceOf('disputes:stripe:DKK'))?.posted.balance).toBe(3000);
    await books.applyBatch([disputeEvent('won', 'WON', won), disputeEvent('lost', 'LOST', lost)]);
    expect((await balanceOf(code))?.posted.balance).toBe(8000);
    expect((await balanceOf('disputes:stripe:DKK'))?.posted.balance).toBe(2000);

    const payout = { id: newId('pyo'), processor: 'stripe', currency: 'DKK', amount: 5000 };
    const paid = payoutEvent('paid', payout);
    await books.applyBatch([paid]);
    expect((await balanceOf(code))?.posted.balance).toBe(3000);
    expect((await balanceOf('bank:DKK'))?.posted.balance).toBe(5000);
    const failed = payoutEvent('failed', payout);
    await books.applyBatch([failed, paid]); // paid redelivered: nothing more
    await books.applyBatch([failed]);
    expect((await balanceOf(code))?.posted.balance).toBe(8000);
    expect((await balanceOf('bank:DKK'))?.posted.balance).toBe(0);
    // A payout that failed without being paid moved nothing.
    await books.applyBatch([payoutEvent('failed', { ...payout, id: newId('pyo') })]);
    expect((await balanceOf(code))?.posted.balance).toBe(8000);
    expect((await queries.trialBalance('DKK')).balanced).toBe(true);
  });

  /**
   * The identity these rules produce, per processor and currency:
   *   receivable = captured − refunded − fees − disputed (chargebacks not won: open or lost)
   *                − paid payouts (not failed afterwards).
   * A chargeback withdraws the amount when opened (Dr disputes / Cr receivable), so an OPEN one
   * counts too; `won` gives it back; `lost` moves nothing more; inquiries never move money.
   */
  it('property: random streams with duplicates and reordering keep the books balanced and the receivable equal to captured − refunded − fees − disputes not won − payouts not failed', async () => {
    const processors = ['simulator', 'stripe'];
    const currencies = ['EUR', 'GBP'];
    const paymentArb = fc.record({
      processor: fc.constantFrom(...processors),
      currency: fc.constantFrom(...currencies),
      amount: fc.integer({ min: 1, max: 1_000_000 }),
      manual: fc.boolean(),
      refunds: fc.array(fc.integer({ min: 1, max: 100 }), { maxLength: 3 }),
      fee: fc.integer({ min: 0, max: 500 }),
      dispute: fc.constantFrom('none', 'open', 'won', 'lost', 'inquiry'),
      disputePercent: fc.integer({ min: 1, max: 100 }),
      payout: fc.constantFrom('none', 'paid', 'paid-then-failed', 'failed'),
      payoutPercent: fc.integer({ min: 1, max: 100 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(paymentArb, { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 7 }),
        fc.infiniteStream(fc.nat()),
        async (payments, batchSize, randoms) => {
          const events: LedgerEvent[] = [];
          const expected = new Map<string, number>();
          /** Payout failures that must follow their `paid` (see docs/ledger.md). */
          const failedAfterPaid: Array<[PayoutEvent, PayoutEvent]> = [];
          for (const spec of payments) {
            const p = { id: newId('pay'), ...spec };
            let delta = p.amount;
            const capture = spec.manual
              ? paymentEvent('captured', p, { amount: p.amount })
              : paymentEvent('succeeded', p, { amount: p.amount });
            events.push(capture);
            for (const percent of spec.refunds) {
              const amount = Math.floor((p.amount * percent) / 300);
              if (amount <= 0) continue;
              delta -= amount;
              events.push(paymentEvent('refunded', p, { amount }));
            }
            events.push(paymentEvent('fee_recorded', p, { fee: spec.fee }));
            delta -= spec.fee;
            const d = {
              id: newId('dsp'),
              paymentId: p.id,
              processor: p.processor,
              currency: p.currency,
              amount: Math.max(1, Math.floor((p.amount * spec.disputePercent) / 100)),
            };
            if (spec.dispute === 'inquiry') {
              events.push(disputeEvent('opened', 'WARNING_NEEDS_RESPONSE', d));
              events.push(disputeEvent('closed', 'WARNING_CLOSED', d));
            } else if (spec.dispute !== 'none') {
              events.push(disputeEvent('opened', 'NEEDS_RESPONSE', d));
              if (spec.dispute === 'won') events.push(disputeEvent('won', 'WON', d));
              else delta -= d.amount;
              if (spec.dispute === 'lost') events.push(disputeEvent('lost', 'LOST', d));
            }
            const po = {
              id: newId('pyo'),
              processor: p.processor,
              currency: p.currency,
              amount: Math.max(1, Math.floor((p.amount * spec.payoutPercent) / 400)),
            };
            if (spec.payout === 'paid') {
              events.push(payoutEvent('paid', po));
              delta -= po.amount;
            } else if (spec.payout === 'paid-then-failed') {
              const pair: [PayoutEvent, PayoutEvent] = [
                payoutEvent('paid', po),
                payoutEvent('failed', po),
              ];
              events.push(...pair);
              failedAfterPaid.push(pair);
            } else if (spec.payout === 'failed') {
              events.push(payoutEvent('failed', po));
            }
            const key = `receivable:${p.processor}:${p.currency}`;
            expected.set(key, (expected.get(key) ?? 0) + delta);
          }
          // Duplicates (redeliveries) and a shuffle (out of order), applied in random batches.
          const it = randoms[Symbol.iterator]();
          const next = () => it.next().value as number;
          const stream = [...events, ...events.filter(() => next() % 3 === 0)];
          for (let i = stream.length - 1; i > 0; i--) {
            const j = next() % (i + 1);
            [stream[i], stream[j]] = [stream[j], stream[i]];
          }
          // A payout's last `failed` copy comes after its first `paid` (they are reports of two
          // webhooks in sequence); everything else stays in any order.
          for (const [paid, failed] of failedAfterPaid) {
            const firstPaid = stream.indexOf(paid);
            const lastFailed = stream.lastIndexOf(failed);
            if (lastFailed < firstPaid) {
              [stream[firstPaid], stream[lastFailed]] = [stream[lastFailed], stream[firstPaid]];
            }
          }
          const before = await receivables();
          for (let i = 0; i < stream.length; i += batchSize) {
            await books.applyBatch(stream.slice(i, i + batchSize));
          }
          const after = await receivables();
          for (const [code, delta] of expected) {
            expect((after.get(code) ?? 0) - (before.get(code) ?? 0)).toBe(delta);
          }
          for (const currency of currencies) {
            const tb = await queries.trialBalance(currency);
            expect(tb.balanced).toBe(true);
          }
          // Balances kept per batch equal the sums of the lines they summarise.
          const drift = await db.dataSource.query(
            `SELECT a.code FROM ledger_accounts a JOIN account_balances b ON b.account_id = a.id
               LEFT JOIN LATERAL (
                 SELECT coalesce(sum(amount) FILTER (WHERE direction = 'debit' AND NOT pending), 0) AS d,
                        coalesce(sum(amount) FILTER (WHERE direction = 'credit' AND NOT pending), 0) AS c
                   FROM journal_lines WHERE account_id = a.id) s ON true
              WHERE s.d <> b.posted_debits OR s.c <> b.posted_credits`,
          );
          expect(drift).toEqual([]);
          const unbalanced = await db.dataSource.query(
            `SELECT entry_id FROM journal_lines GROUP BY entry_id, currency
             HAVING sum(CASE WHEN direction = 'debit' THEN amount ELSE -amount END) <> 0`,
          );
          expect(unbalanced).toEqual([]);
        },
      ),
      { numRuns: 25 },
    );
  });
});

async function receivables(): Promise<Map<string, number>> {
  const accounts = await queries.accounts();
  return new Map(
    accounts
      .filter((a) => a.code.startsWith('receivable:'))
      .map((a) => [a.code, a.balance.posted.balance]),
  );
}
