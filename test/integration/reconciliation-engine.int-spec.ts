import fc from 'fast-check';
import { ProcessorBalanceTransaction, PaymentEvent, PayoutEvent } from '../../libs/contracts/src';
import { hasPrefix, newId } from '../../libs/domain/src';
import { LedgerBooks, LedgerEvent } from '../../libs/ledger/src';
import {
  BalanceTransactionIngest,
  InvalidBalanceTransaction,
  ReconciliationEngine,
  ReconciliationRequestError,
  ReconciliationRuns,
  payoutReconciliation,
} from '../../libs/ledger/src/reconciliation';
import { TestDatabase, createTestDatabase } from '../support/database';

/**
 * The reconciliation engine against real Postgres: seeded scenarios with known answers (each
 * in the right status with the right amount at stake and one open exception), fixes resolving
 * them automatically, dry runs, resumed runs, idempotence, and a property test.
 */
let db: TestDatabase;
let books: LedgerBooks;
let engine: ReconciliationEngine;
let runs: ReconciliationRuns;
let ingest: BalanceTransactionIngest;

const NOW = new Date('2026-11-22T12:00:00.000Z');
const OCT = { from: new Date('2026-10-01T00:00:00Z'), to: new Date('2026-11-01T00:00:00Z') };
const CLIENT = 'cli_recon';

/** Fee model of the fakes: 2.9 % + 30, rounded half up, in integers. */
const feeOf = (amount: number) => Math.floor((amount * 29 + 500) / 1000) + 30;
const at = (day: number, hour = 10) =>
  new Date(Date.UTC(2026, 9, day, hour, Math.floor(Math.random() * 60)));

interface Charge {
  readonly paymentId: string;
  readonly processor: string;
  readonly reference: string;
  readonly charge: string;
  readonly amount: number;
  readonly currency: string;
  readonly day: number;
}

function paymentEvent(
  type: PaymentEvent['type'],
  c: Charge,
  extra: Partial<PaymentEvent> = {},
): PaymentEvent {
  return {
    v: 1,
    eventId: newId('evt'),
    type,
    occurredAt: at(c.day).toISOString(),
    payment: {
      id: c.paymentId,
      clientId: CLIENT,
      status: 'SUCCEEDED',
      amount: c.amount,
      currency: c.currency,
      amountCaptured: c.amount,
      amountRefunded: 0,
      processor: c.processor,
      processorReference: c.reference,
    },
    ...extra,
  };
}

function bt(
  c: Pick<Charge, 'processor' | 'currency' | 'day'>,
  fields: Partial<ProcessorBalanceTransaction> & { amount: number; sourceReference: string },
): ProcessorBalanceTransaction {
  const fee = fields.fee ?? 0;
  return {
    id: `txn_${newId('att').slice(4)}`,
    type: 'charge',
    reportingCategory: 'charge',
    currency: c.currency,
    fee,
    net: fields.amount - fee,
    status: 'available',
    createdAt: at(c.day, 11),
    availableOn: at(c.day + 2),
    ...fields,
  };
}

/** A charge on both sides: gateway payment (+ charge id), processor BT, ledger sale and fee. */
async function seedCharge(
  options: Partial<Charge> & {
    ledger?: boolean;
    ledgerFee?: number;
    processorFee?: number;
    bts?: number;
  } = {},
): Promise<Charge> {
  const processor = options.processor ?? 'stripe';
  const c: Charge = {
    paymentId: newId('pay'),
    processor,
    reference: `${processor === 'stripe' ? 'pi' : 'simpay'}_${newId('att').slice(4)}`,
    charge: `ch_${newId('att').slice(4)}`,
    amount: options.amount ?? 10_000,
    currency: options.currency ?? 'USD',
    day: options.day ?? 10,
  };
  const source = processor === 'stripe' ? c.charge : c.reference;
  const fee = options.processorFee ?? feeOf(c.amount);
  await db.dataSource.query(
    `INSERT INTO payments (id, client_id, status, amount, currency, amount_authorized, amount_captured,
       capture_method, priority, payment_method, processor, processor_reference, created_at, updated_at)
     VALUES ($1, $2, 'SUCCEEDED', $3, $4, $3, $3, 'AUTOMATIC', 'CHECKOUT', 'card', $5, $6, $7, $7)`,
    [c.paymentId, CLIENT, c.amount, c.currency, processor, c.reference, at(c.day)],
  );
  if (processor === 'stripe') {
    await db.dataSource.query(
      `INSERT INTO payment_fees (payment_id, processor, charge_reference) VALUES ($1, $2, $3)`,
      [c.paymentId, processor, c.charge],
    );
  }
  if (options.ledger !== false) {
    await books.applyBatch([
      paymentEvent('succeeded', c, { amount: c.amount }),
      paymentEvent('fee_recorded', c, {
        fee: options.ledgerFee ?? feeOf(c.amount),
        net: c.amount - (options.ledgerFee ?? feeOf(c.amount)),
        feeCurrency: c.currency,
      }),
    ]);
  }
  const transactions = Array.from({ length: options.bts ?? 1 }, () =>
    bt(c, { amount: c.amount, fee, sourceReference: source }),
  );
  if (transactions.length > 0) await ingest.ingest(processor, transactions, 'pull');
  return c;
}

async function seedRefund(c: Charge, amount: number, ledger = true): Promise<string> {
  const refundId = newId('ref');
  const reference = `re_${newId('att').slice(4)}`;
  await db.dataSource.query(
    `INSERT INTO refunds (id, payment_id, status, amount, currency, processor_reference, created_at, updated_at)
     VALUES ($1, $2, 'SUCCEEDED', $3, $4, $5, $6, $6)`,
    [refundId, c.paymentId, amount, c.currency, reference, at(c.day + 1)],
  );
  await db.dataSource.query(
    `UPDATE payments SET amount_refunded = amount_refunded + $2 WHERE id = $1`,
    [c.paymentId, amount],
  );
  if (ledger) await books.applyBatch([paymentEvent('refunded', c, { amount })]);
  await ingest.ingest(
    c.processor,
    [
      {
        ...bt({ ...c, day: c.day + 1 }, { amount: -amount, sourceReference: reference }),
        type: 'refund',
        reportingCategory: 'refund',
      },
    ],
    'pull',
  );
  return reference;
}

/** A payout of the given charges' nets; `amount` overrides what the payout says it paid. */
async function seedPayout(
  charges: readonly Charge[],
  options: { amount?: number; ledger?: boolean } = {},
): Promise<{ id: string; reference: string; amount: number }> {
  const rows = (await db.dataSource.query(
    `SELECT id, net FROM processor_balance_transactions WHERE source_reference = ANY($1)`,
    [charges.flatMap((c) => [c.charge, c.reference])],
  )) as { id: string; net: string }[];
  const total = rows.reduce((sum, r) => sum + Number(r.net), 0);
  const amount = options.amount ?? total;
  const id = newId('pyo');
  const reference = `po_${newId('att').slice(4)}`;
  const day = 25;
  await db.dataSource.query(
    `INSERT INTO payouts (id, processor, processor_reference, amount, currency, status, created_at, updated_at)
     VALUES ($1, 'stripe', $2, $3, 'USD', 'PAID', $4, $4)`,
    [id, reference, amount, at(day)],
  );
  if (options.ledger !== false) {
    const event: PayoutEvent = {
      v: 1,
      eventId: newId('evt'),
      type: 'paid',
      occurredAt: at(day).toISOString(),
      payout: {
        id,
        processor: 'stripe',
        processorReference: reference,
        status: 'PAID',
        amount,
        currency: 'USD',
        arrivalDate: null,
        failureCode: null,
      },
    };
    await books.applyBatch([event as LedgerEvent]);
  }
  const linked = rows.map((r) => ({ id: r.id, payout: reference }));
  const own = bt(
    { processor: 'stripe', currency: 'USD', day },
    {
      amount: -amount,
      sourceReference: reference,
      type: 'payout',
      reportingCategory: 'payout',
      payoutReference: reference,
    },
  );
  const existing = (await db.dataSource.query(
    `SELECT id, type, reporting_category, source_reference, amount, fee, net, currency, status, created_at
       FROM processor_balance_transactions WHERE id = ANY($1)`,
    [linked.map((l) => l.id)],
  )) as Record<string, string & Date>[];
  await ingest.ingest(
    'stripe',
    [
      own,
      ...existing.map((r) => ({
        id: r.id,
        type: r.type,
        reportingCategory: r.reporting_category,
        sourceReference: r.source_reference,
        amount: Number(r.amount),
        fee: Number(r.fee),
        net: Number(r.net),
        currency: r.currency,
        status: r.status,
        createdAt: r.created_at,
        availableOn: r.created_at,
        payoutReference: reference,
      })),
    ],
    'pull',
  );
  return { id, reference, amount };
}

async function item(processor: string, key: string) {
  const rows = (await db.dataSource.query(
    `SELECT i.*, (SELECT count(*)::int FROM reconciliation_exceptions e WHERE e.item_id = i.id AND e.status = 'open') AS open,
            (SELECT e.id FROM reconciliation_exceptions e WHERE e.item_id = i.id AND e.status = 'open') AS exception_id,
            (SELECT e.type FROM reconciliation_exceptions e WHERE e.item_id = i.id AND e.status = 'open') AS exception_type,
            (SELECT e.amount_at_stake FROM reconciliation_exceptions e WHERE e.item_id = i.id AND e.status = 'open') AS exception_at_stake
       FROM reconciliation_items i WHERE processor = $1 AND item_key = $2`,
    [processor, key],
  )) as Record<string, unknown>[];
  return rows[0];
}

async function tableCounts(): Promise<Record<string, number>> {
  const [row] = (await db.dataSource.query(`SELECT
      (SELECT count(*) FROM reconciliation_items)::int AS items,
      (SELECT count(*) FROM reconciliation_exceptions)::int AS exceptions,
      (SELECT count(*) FROM reconciliation_exceptions WHERE status = 'open')::int AS open,
      (SELECT count(*) FROM reconciliation_exception_audit)::int AS audit`)) as Record<
    string,
    number
  >[];
  return row;
}

async function snapshot(): Promise<unknown[]> {
  return db.dataSource.query(
    `SELECT i.processor, i.item_key, i.kind, i.status, i.amount_at_stake, i.processor_amount,
            i.ledger_amount, i.gateway_amount, i.balance_transaction_count,
            e.id AS exception, e.type, e.status AS exception_status, e.amount_at_stake AS exception_at_stake
       FROM reconciliation_items i LEFT JOIN reconciliation_exceptions e ON e.item_id = i.id
      ORDER BY i.processor, i.item_key, e.id`,
  );
}

beforeAll(async () => {
  db = await createTestDatabase();
  await db.dataSource.query(
    `INSERT INTO api_clients (id, name, key_hash, scopes) VALUES ($1, 'recon', 'h', '{}')`,
    [CLIENT],
  );
  books = new LedgerBooks(db.dataSource);
  engine = new ReconciliationEngine(db.dataSource, { now: () => NOW });
  runs = new ReconciliationRuns(db.dataSource, engine);
  ingest = new BalanceTransactionIngest(db.dataSource, engine);
});

afterAll(async () => {
  await db?.drop();
});

async function clearAll(): Promise<void> {
  // Reconciliation and gateway tables only; journal tables are append-only, so each scenario
  // uses fresh payments and the batch runs below are scoped to what they seeded.
  await db.dataSource.query(
    `TRUNCATE reconciliation_exception_audit, reconciliation_exceptions, reconciliation_items,
              reconciliation_runs, processor_balance_transactions`,
  );
}

/** Items, exceptions and their audit only (runs and facts stay). */
async function clearItems(): Promise<void> {
  await db.dataSource.query(
    `TRUNCATE reconciliation_exception_audit, reconciliation_exceptions, reconciliation_items`,
  );
}

/** A snapshot with exception ids replaced by a marker (ids differ from run to run). */
function stripExceptionIds(rows: unknown[]): unknown[] {
  return (rows as Record<string, unknown>[]).map(({ exception, ...rest }) => ({
    ...rest,
    exception: exception ? 'rex' : null,
  }));
}

/** The processor's charge transaction of `c`, created on another day than the payment. */
async function chargeTransactionOn(c: Charge, day: number): Promise<void> {
  const transaction = bt(c, { amount: c.amount, fee: feeOf(c.amount), sourceReference: c.charge });
  await ingest.ingest(c.processor, [{ ...transaction, createdAt: at(day) }], 'pull');
}

describe('seeded scenarios with known answers', () => {
  let clean: Charge[];
  let fee: Charge;
  let unbooked: Charge;
  let duplicated: Charge;
  let payout: { id: string; reference: string; amount: number };
  let shortPayout: { id: string; reference: string; amount: number };
  let orphanSource: string;

  beforeAll(async () => {
    await clearAll();
    clean = [];
    for (let day = 1; day <= 28; day += 3)
      clean.push(await seedCharge({ day, amount: 1000 * day }));
    clean.push(await seedCharge({ processor: 'simulator', day: 5, amount: 4321 }));
    await seedRefund(clean[0], 400);
    payout = await seedPayout(clean.slice(1, 4));
    fee = await seedCharge({ day: 12, amount: 10_000, processorFee: 320, ledgerFee: 300 });
    unbooked = await seedCharge({ day: 13, amount: 7777, ledger: false });
    duplicated = await seedCharge({ day: 14, amount: 5000, bts: 2 });
    const paidOut = await seedCharge({ day: 15, amount: 20_000 });
    shortPayout = await seedPayout([paidOut], { amount: 19_000 + 500 });
    orphanSource = 'ch_nobodyknowsme';
    await ingest.ingest(
      'stripe',
      [
        bt(
          { processor: 'stripe', currency: 'USD', day: 16 },
          { amount: 999, fee: 59, sourceReference: orphanSource },
        ),
      ],
      'webhook',
    );
  });

  it('a clean month: every clean charge, refund and payout is matched with nothing at stake', async () => {
    const result = await runs.reconcilePeriod({ ...OCT, dryRun: false });
    expect(result.status).toBe('completed');
    for (const c of clean) {
      const row = await item(c.processor, `charge:${c.paymentId}`);
      expect(row).toMatchObject({ status: 'matched', amount_at_stake: 0, open: 0 });
    }
    expect(await item('stripe', `refund:${clean[0].paymentId}`)).toMatchObject({
      status: 'matched',
      processor_amount: -400,
      ledger_amount: -400,
      gateway_amount: -400,
    });
    expect(await item('stripe', `payout:${payout.reference}`)).toMatchObject({
      status: 'matched',
      kind: 'payout',
      balance_transaction_count: 3,
    });
  });

  it('a fee that differs is a fee_mismatch with the difference at stake and an open exception', async () => {
    const row = await item('stripe', `charge:${fee.paymentId}`);
    expect(row).toMatchObject({
      status: 'fee_mismatch',
      amount_at_stake: 20,
      processor_fee: 320,
      ledger_fee: 300,
      open: 1,
      exception_type: 'fee_mismatch',
      exception_at_stake: 20,
    });
    expect(hasPrefix(row.exception_id as string, 'rex')).toBe(true);
  });

  it('a payment missing in the ledger is missing_in_ledger with its whole amount at stake', async () => {
    expect(await item('stripe', `charge:${unbooked.paymentId}`)).toMatchObject({
      status: 'missing_in_ledger',
      amount_at_stake: 7777,
      ledger_amount: null,
      open: 1,
    });
  });

  it('a balance transaction with no payment is missing_in_ledger under its source', async () => {
    expect(await item('stripe', `charge:src:${orphanSource}`)).toMatchObject({
      status: 'missing_in_ledger',
      amount_at_stake: 999,
      payment_id: null,
      source_reference: orphanSource,
      open: 1,
    });
  });

  it('a payout whose lines do not sum is an amount_mismatch with the difference at stake', async () => {
    const row = await item('stripe', `payout:${shortPayout.reference}`);
    const net = 20_000 - feeOf(20_000);
    expect(row).toMatchObject({
      status: 'amount_mismatch',
      amount_at_stake: Math.abs(19_500 - net),
      processor_amount: net,
      ledger_amount: 19500,
      gateway_amount: 19500,
      open: 1,
    });
    await expect(payoutReconciliation(db.dataSource, engine, shortPayout.id)).resolves.toEqual({
      payoutId: shortPayout.id,
      processor: 'stripe',
      currency: 'USD',
      payoutAmount: 19_500,
      balanceTransactionTotal: net,
      ledgerBankAmount: 19_500,
      status: 'amount_mismatch',
      itemCount: 1,
    });
    await expect(
      payoutReconciliation(db.dataSource, engine, payout.reference),
    ).resolves.toMatchObject({ payoutId: payout.id, status: 'matched', itemCount: 3 });
    await expect(payoutReconciliation(db.dataSource, engine, 'pyo_unknown')).resolves.toBeNull();
  });

  it('a duplicate balance transaction is duplicate with the extra amount at stake', async () => {
    expect(await item('stripe', `charge:${duplicated.paymentId}`)).toMatchObject({
      status: 'duplicate',
      amount_at_stake: 5000,
      balance_transaction_count: 2,
      open: 1,
    });
  });

  it('the run reports counts per status that equal the items written', async () => {
    const [run] = (await db.dataSource.query(
      `SELECT counts, status FROM reconciliation_runs ORDER BY id DESC LIMIT 1`,
    )) as { counts: Record<string, { count: number; amountAtStake: number }>; status: string }[];
    const perStatus = (await db.dataSource.query(
      `SELECT status, count(*)::int AS n, sum(amount_at_stake)::bigint AS stake
         FROM reconciliation_items GROUP BY status`,
    )) as { status: string; n: number; stake: string }[];
    for (const s of perStatus) {
      expect(run.counts[s.status]).toEqual({ count: s.n, amountAtStake: Number(s.stake) });
    }
    expect(run.counts.fee_mismatch.count).toBe(1);
    expect(run.counts.duplicate.count).toBe(1);
    expect(run.counts.missing_in_ledger.count).toBe(2);
    expect(run.counts.amount_mismatch.count).toBe(1);
  });

  it('running twice gives the same items and exceptions (idempotent)', async () => {
    const before = await snapshot();
    const audit = (await tableCounts()).audit;
    await runs.reconcilePeriod({ ...OCT });
    expect(await snapshot()).toEqual(before);
    expect((await tableCounts()).audit).toBe(audit);
  });

  it('a dry run computes the counts and writes no item or exception', async () => {
    const before = await snapshot();
    const counts = await tableCounts();
    const dry = await runs.reconcilePeriod({ ...OCT, dryRun: true });
    expect(dry.dryRun).toBe(true);
    expect(dry.counts.fee_mismatch).toEqual({ count: 1, amountAtStake: 20 });
    expect(dry.counts.duplicate).toEqual({ count: 1, amountAtStake: 5000 });
    expect(await snapshot()).toEqual(before);
    expect(await tableCounts()).toEqual(counts);
  });

  it('fixing the data and re-running resolves the exceptions automatically, audited', async () => {
    // The missing sale and the missing 20 of fee get booked; the duplicate BT was a bad import.
    await books.applyBatch([
      paymentEvent('succeeded', unbooked, { amount: unbooked.amount }),
      paymentEvent('fee_recorded', unbooked, {
        fee: feeOf(unbooked.amount),
        net: unbooked.amount - feeOf(unbooked.amount),
        feeCurrency: 'USD',
      }),
      paymentEvent('fee_recorded', fee, { fee: 20, net: -20, feeCurrency: 'USD' }),
    ]);
    await db.dataSource.query(
      `DELETE FROM processor_balance_transactions WHERE id = (
         SELECT max(id) FROM processor_balance_transactions WHERE source_reference = $1)`,
      [duplicated.charge],
    );
    const exceptionIds = [
      (await item('stripe', `charge:${unbooked.paymentId}`)).exception_id,
      (await item('stripe', `charge:${fee.paymentId}`)).exception_id,
      (await item('stripe', `charge:${duplicated.paymentId}`)).exception_id,
    ];
    const result = await runs.reconcilePeriod({ ...OCT });
    expect(result.counts.fee_mismatch.count).toBe(0);
    expect(result.counts.duplicate.count).toBe(0);
    expect(result.counts.missing_in_ledger.count).toBe(1); // the orphan BT stays
    for (const c of [unbooked, fee, duplicated]) {
      expect(await item('stripe', `charge:${c.paymentId}`)).toMatchObject({
        status: 'matched',
        open: 0,
      });
    }
    const closed = (await db.dataSource.query(
      `SELECT e.id, e.status, e.resolved_by, a.action, a.actor, a.reason
         FROM reconciliation_exceptions e JOIN reconciliation_exception_audit a ON a.exception_id = e.id
        WHERE e.id = ANY($1) AND a.action = 'auto_resolved' ORDER BY e.id`,
      [exceptionIds],
    )) as Record<string, string>[];
    expect(closed).toHaveLength(3);
    for (const row of closed) {
      expect(row).toMatchObject({ status: 'resolved', resolved_by: 'system', actor: 'system' });
      expect(row.reason).toMatch(/matched/);
    }
  });

  it('a late payment for an orphan balance transaction supersedes the orphan item in real time', async () => {
    const paymentId = newId('pay');
    await db.dataSource.query(
      `INSERT INTO payments (id, client_id, status, amount, currency, amount_authorized, amount_captured,
         capture_method, priority, payment_method, processor, processor_reference, created_at, updated_at)
       VALUES ($1, $2, 'SUCCEEDED', 999, 'USD', 999, 999, 'AUTOMATIC', 'CHECKOUT', 'card', 'stripe', 'pi_late', $3, $3)`,
      [paymentId, CLIENT, at(16)],
    );
    await db.dataSource.query(
      `INSERT INTO payment_fees (payment_id, processor, charge_reference) VALUES ($1, 'stripe', $2)`,
      [paymentId, orphanSource],
    );
    const late: Charge = {
      paymentId,
      processor: 'stripe',
      reference: 'pi_late',
      charge: orphanSource,
      amount: 999,
      currency: 'USD',
      day: 16,
    };
    await books.applyBatch([
      paymentEvent('succeeded', late, { amount: 999 }),
      paymentEvent('fee_recorded', late, { fee: 59, net: 940, feeCurrency: 'USD' }),
    ]);
    await engine.reconcileSources({ paymentIds: [paymentId] });
    expect(await item('stripe', `charge:${paymentId}`)).toMatchObject({ status: 'matched' });
    expect(await item('stripe', `charge:src:${orphanSource}`)).toMatchObject({
      status: 'matched',
      open: 0,
    });
  });
});

describe('runs', () => {
  it('refuses bad periods and unknown runs with a typed error, writing nothing', async () => {
    const before = await tableCounts();
    await expect(runs.reconcilePeriod({ from: OCT.to, to: OCT.from })).rejects.toBeInstanceOf(
      ReconciliationRequestError,
    );
    await expect(runs.reconcilePeriod({ ...OCT, currency: 'XXY' })).rejects.toBeInstanceOf(
      ReconciliationRequestError,
    );
    await expect(runs.resumeRun('987654')).rejects.toBeInstanceOf(ReconciliationRequestError);
    for (const concurrency of [0, 1.5, 17]) {
      await expect(runs.reconcilePeriod({ ...OCT, concurrency })).rejects.toBeInstanceOf(
        ReconciliationRequestError,
      );
    }
    expect(await tableCounts()).toEqual(before);
    expect(() => new ReconciliationRuns(db.dataSource, engine, { concurrency: 0 })).toThrow(
      RangeError,
    );
  });

  it('a window split over parallel shards gives the same items, exceptions and counts as one transaction', async () => {
    await clearAll();
    for (let day = 1; day <= 12; day += 1) {
      const c = await seedCharge({
        day,
        amount: 3000 + day,
        ledger: day % 4 !== 0,
        processorFee: day % 3 === 0 ? 77 : undefined,
        bts: day === 7 ? 2 : 1,
      });
      if (day % 2 === 0) await seedRefund(c, 100 + day, day !== 6);
    }
    await clearItems();
    const single = await runs.reconcilePeriod({
      ...OCT,
      windowMs: 31 * 86_400_000,
      concurrency: 1,
    });
    const expected = await snapshot();
    expect(expected.length).toBeGreaterThan(12);
    expect(single.counts.matched.count).toBeGreaterThan(0);
    expect(single.counts.missing_in_ledger.count).toBeGreaterThan(0);
    expect(single.counts.duplicate.count).toBe(1);
    for (const concurrency of [2, 5]) {
      await clearItems();
      const sharded = await runs.reconcilePeriod({
        ...OCT,
        windowMs: 31 * 86_400_000,
        concurrency,
      });
      expect(sharded.counts).toEqual(single.counts);
      expect(stripExceptionIds(await snapshot())).toEqual(stripExceptionIds(expected));
    }
  });

  it('daily windows find transactions outside them by scan and by references alike, as one window does', async () => {
    await clearAll();
    const late = await seedCharge({ day: 5, amount: 5005, bts: 0 });
    await chargeTransactionOn(late, 8);
    const early = await seedCharge({ day: 12, amount: 1212, bts: 0 });
    await chargeTransactionOn(early, 11);
    const refunded = await seedCharge({ day: 3, amount: 3003 });
    await seedRefund(refunded, 303);
    const twice = await seedCharge({ day: 14, amount: 1414 });
    await chargeTransactionOn(twice, 20);
    const orphan = { processor: 'stripe', currency: 'USD', day: 2 };
    await ingest.ingest(
      'stripe',
      [
        bt(orphan, { amount: 222, sourceReference: 'ch_orphan_two_days' }),
        bt({ ...orphan, day: 9 }, { amount: 999, sourceReference: 'ch_orphan_two_days' }),
      ],
      'webhook',
    );
    await clearItems();
    const whole = await runs.reconcilePeriod({ ...OCT, windowMs: 31 * 86_400_000 });
    const expected = await snapshot();
    // late, early, the refunded charge and its refund; twice and the orphan have two charge
    // transactions each
    expect(whole.counts.matched.count).toBe(4);
    expect(whole.counts.duplicate.count).toBe(2);
    expect(await item('stripe', 'charge:src:ch_orphan_two_days')).toMatchObject({
      balance_transaction_count: 2,
      processor_amount: 1221,
    });
    for (const outsideWindowLookup of ['scan', 'references', 'auto'] as const) {
      await clearItems();
      const daily = new ReconciliationRuns(
        db.dataSource,
        new ReconciliationEngine(db.dataSource, { now: () => NOW, outsideWindowLookup }),
      );
      const result = await daily.reconcilePeriod({ ...OCT, concurrency: 2 });
      expect(result.windows).toBe(31);
      expect(result.counts).toEqual(whole.counts);
      expect(stripExceptionIds(await snapshot())).toEqual(stripExceptionIds(expected));
    }
  });

  it('two runs of the same period at once both complete and write each item once', async () => {
    await clearAll();
    for (let day = 1; day <= 8; day += 1) {
      await seedCharge({ day, amount: 4000 + day, ledger: day % 3 !== 0 });
    }
    await clearItems();
    const alone = await runs.reconcilePeriod({ ...OCT, concurrency: 1 });
    const expected = await snapshot();
    await clearItems();
    const [a, b] = await Promise.all([
      runs.reconcilePeriod({ ...OCT, concurrency: 2 }),
      runs.reconcilePeriod({ ...OCT, concurrency: 3 }),
    ]);
    expect(a.status).toBe('completed');
    expect(a.counts).toEqual(alone.counts);
    expect(b.counts).toEqual(alone.counts);
    const [row] = (await db.dataSource.query(
      `SELECT count(*)::int AS items, count(DISTINCT (processor, item_key))::int AS keys,
              (SELECT count(*)::int FROM reconciliation_exceptions WHERE status = 'open') AS open
         FROM reconciliation_items`,
    )) as { items: number; keys: number; open: number }[];
    expect(row.items).toBe(row.keys);
    expect(row.open).toBeGreaterThanOrEqual(2);
    expect(stripExceptionIds(await snapshot())).toEqual(stripExceptionIds(expected));
  });

  it('an interrupted run resumed gives the same items, exceptions and counts as an uninterrupted one', async () => {
    await clearAll();
    for (let day = 1; day <= 20; day += 1) {
      await seedCharge({
        day,
        amount: 2000 + day,
        ledger: day % 5 !== 0,
        processorFee: day % 4 === 0 ? 99 : undefined,
      });
    }
    const whole = await runs.reconcilePeriod({ ...OCT });
    const expected = await snapshot();
    await clearItems();
    let windows = 0;
    await expect(
      runs.reconcilePeriod({
        ...OCT,
        afterWindow: () => {
          windows += 1;
          if (windows === 9) throw new Error('simulated crash');
        },
      }),
    ).rejects.toThrow('simulated crash');
    const [failed] = (await db.dataSource.query(
      `SELECT id, status, next_from FROM reconciliation_runs ORDER BY id DESC LIMIT 1`,
    )) as { id: string; status: string; next_from: Date }[];
    expect(failed.status).toBe('failed');
    expect(failed.next_from.toISOString()).toBe('2026-10-10T00:00:00.000Z');
    const resumed = await runs.resumeRun(String(failed.id));
    expect(resumed.counts).toEqual(whole.counts);
    expect(stripExceptionIds(await snapshot())).toEqual(stripExceptionIds(expected));
    await expect(runs.resumeRun(String(failed.id))).rejects.toThrow(/already completed/);
  });
});

describe('ingest and real time', () => {
  it('refuses an invalid balance transaction and writes nothing of the batch', async () => {
    const before = (await db.dataSource.query(
      `SELECT count(*)::int AS n FROM processor_balance_transactions`,
    )) as { n: number }[];
    const good = bt(
      { processor: 'stripe', currency: 'USD', day: 3 },
      { amount: 100, sourceReference: 'ch_x' },
    );
    await expect(
      ingest.ingest('stripe', [good, { ...good, id: 'txn_bad', net: 7 }], 'pull'),
    ).rejects.toBeInstanceOf(InvalidBalanceTransaction);
    await expect(
      ingest.ingest('stripe', [{ ...good, amount: 0.5, net: 0.5 }], 'pull'),
    ).rejects.toThrow(/integer/);
    expect(
      await db.dataSource.query(`SELECT count(*)::int AS n FROM processor_balance_transactions`),
    ).toEqual(before);
  });

  it('a balance transaction seen again keeps its amounts and takes the new status and payout', async () => {
    const t = bt(
      { processor: 'stripe', currency: 'USD', day: 3 },
      { amount: 100, sourceReference: 'ch_again' },
    );
    await ingest.ingest('stripe', [{ ...t, status: 'pending' }], 'webhook');
    await ingest.ingest(
      'stripe',
      [{ ...t, amount: 5, net: 5, status: 'available', payoutReference: 'po_1' }],
      'pull',
    );
    const [row] = (await db.dataSource.query(
      `SELECT amount, status, payout_reference, received_via FROM processor_balance_transactions WHERE id = $1`,
      [t.id],
    )) as Record<string, string>[];
    expect(row).toEqual({
      amount: 100,
      status: 'available',
      payout_reference: 'po_1',
      received_via: 'webhook',
    });
  });

  it('real time: a fresh payment without its balance transaction is not an exception within the grace', async () => {
    const fresh = new ReconciliationEngine(db.dataSource, { graceMs: 600_000 });
    const paymentId = newId('pay');
    await db.dataSource.query(
      `INSERT INTO payments (id, client_id, status, amount, currency, amount_authorized, amount_captured,
         capture_method, priority, payment_method, processor, processor_reference)
       VALUES ($1, $2, 'SUCCEEDED', 500, 'USD', 500, 500, 'AUTOMATIC', 'CHECKOUT', 'card', 'simulator', 'simpay_fresh')`,
      [paymentId, CLIENT],
    );
    await fresh.reconcileSources({ paymentIds: [paymentId] });
    expect(await item('simulator', `charge:${paymentId}`)).toBeUndefined();
    const later = new ReconciliationEngine(db.dataSource, {
      graceMs: 600_000,
      now: () => new Date(Date.now() + 3_600_000),
    });
    await later.reconcileSources({ paymentIds: [paymentId] });
    expect(await item('simulator', `charge:${paymentId}`)).toMatchObject({
      status: 'missing_at_processor',
      amount_at_stake: 500,
      open: 1,
    });
  });
});

describe('property: clean items always match; one perturbation is always detected', () => {
  it('holds for random charges and a random perturbation', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 100, max: 5_000_000 }), { minLength: 1, maxLength: 4 }),
        fc.constantFrom('none', 'fee', 'ledger', 'duplicate', 'amount'),
        fc.nat(),
        async (amounts, perturbation, pick) => {
          const seeded: Charge[] = [];
          const target = pick % amounts.length;
          for (const [i, amount] of amounts.entries()) {
            const hit = perturbation !== 'none' && i === target;
            seeded.push(
              await seedCharge({
                day: 20,
                amount,
                processorFee: hit && perturbation === 'fee' ? feeOf(amount) + 7 : undefined,
                ledger: !(hit && perturbation === 'ledger'),
                bts: hit && perturbation === 'duplicate' ? 2 : 1,
              }),
            );
          }
          if (perturbation === 'amount') {
            const c = seeded[target];
            await books.applyBatch([paymentEvent('captured', c, { amount: 13 })]);
          }
          await engine.reconcileSources({ paymentIds: seeded.map((c) => c.paymentId) });
          for (const [i, c] of seeded.entries()) {
            const row = await item('stripe', `charge:${c.paymentId}`);
            if (perturbation === 'none' || i !== target) {
              expect(row).toMatchObject({ status: 'matched', amount_at_stake: 0, open: 0 });
              continue;
            }
            const expected = {
              fee: ['fee_mismatch', 7],
              ledger: ['missing_in_ledger', c.amount],
              duplicate: ['duplicate', c.amount],
              amount: ['amount_mismatch', 13],
            }[perturbation];
            expect(row).toMatchObject({
              status: expected[0],
              amount_at_stake: expected[1],
              open: 1,
            });
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
