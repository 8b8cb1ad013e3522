import fc from 'fast-check';
import {
  addCounts,
  countsFromRows,
  emptyCounts,
  parseStoredCounts,
  totalAtStake,
  totalItems,
} from './reconciliation-counts';
import { touchedBy } from './realtime-reconciler';
import { DAY_MS, splitWindows } from './reconciliation-windows';
import { assertBalanceTransaction } from './balance-transaction-ingest';

describe('splitWindows', () => {
  it('covers [from, to) exactly with consecutive windows', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e12 }),
        fc.integer({ min: 1, max: 40 * DAY_MS }),
        fc.integer({ min: 3_600_000, max: 10 * DAY_MS }),
        (start, length, size) => {
          const windows = splitWindows(new Date(start), new Date(start + length), size);
          expect(windows[0].from.getTime()).toBe(start);
          expect(windows.at(-1)!.to.getTime()).toBe(start + length);
          for (let i = 1; i < windows.length; i += 1) {
            expect(windows[i].from.getTime()).toBe(windows[i - 1].to.getTime());
          }
          expect(windows.length).toBe(Math.ceil(length / size));
        },
      ),
    );
  });

  it('refuses an empty period or a bad window', () => {
    expect(() => splitWindows(new Date(5), new Date(5), DAY_MS)).toThrow(RangeError);
    expect(() => splitWindows(new Date(0), new Date(5), 0)).toThrow(RangeError);
  });
});

describe('status counts', () => {
  it('reads rows, adds and totals in integers', () => {
    const a = countsFromRows([
      { status: 'matched', count: '3', amount_at_stake: '0' },
      { status: 'fee_mismatch', count: 1, amount_at_stake: '20' },
    ]);
    const b = parseStoredCounts({ fee_mismatch: { count: 2, amountAtStake: 5 } });
    const sum = addCounts(a, b);
    expect(sum.fee_mismatch).toEqual({ count: 3, amountAtStake: 25 });
    expect(totalItems(sum)).toBe(6);
    expect(totalAtStake(sum)).toBe(25);
    expect(parseStoredCounts(JSON.parse(JSON.stringify(sum)))).toEqual(sum);
    expect(emptyCounts().duplicate).toEqual({ count: 0, amountAtStake: 0 });
  });

  it('refuses unknown statuses and unsafe amounts', () => {
    expect(() => countsFromRows([{ status: 'weird', count: 1, amount_at_stake: 0 }])).toThrow();
    expect(() =>
      countsFromRows([{ status: 'matched', count: 1, amount_at_stake: '9007199254740993' }]),
    ).toThrow(/safe integer/);
  });
});

describe('touchedBy', () => {
  it('finds the payments and payouts of a batch', () => {
    const touched = touchedBy([
      { payment: { id: 'pay_a' } },
      { dispute: { paymentId: 'pay_b' } },
      { paymentId: 'pay_c', refund: {} },
      { payout: { processor: 'stripe', processorReference: 'po_1' } },
    ] as never);
    expect(touched.paymentIds.sort()).toEqual(['pay_a', 'pay_b', 'pay_c']);
    expect([...touched.payouts]).toEqual([['stripe', ['po_1']]]);
  });
});

describe('assertBalanceTransaction', () => {
  const good = {
    id: 'txn_1',
    type: 'charge',
    reportingCategory: 'charge',
    sourceReference: 'ch_1',
    currency: 'USD',
    amount: 1000,
    fee: 59,
    net: 941,
    status: 'available',
    createdAt: new Date(),
    availableOn: new Date(),
  };
  it('accepts a consistent transaction and refuses inconsistent ones', () => {
    expect(() => assertBalanceTransaction(good)).not.toThrow();
    expect(() => assertBalanceTransaction({ ...good, net: 940 })).toThrow(/net/);
    expect(() => assertBalanceTransaction({ ...good, fee: -1, net: 1001 })).toThrow(/fee/);
    expect(() => assertBalanceTransaction({ ...good, currency: 'XYZ' })).toThrow(/currency/);
    expect(() => assertBalanceTransaction({ ...good, amount: 0.1, net: 0.1 - 59 })).toThrow();
  });
});
