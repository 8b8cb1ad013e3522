import { paymentEventSchema } from '../../../contracts/src';
import { stripeChargeFact } from './stripe-charge-effect';

const transaction = {
  id: 'txn_123',
  object: 'balance_transaction',
  amount: 10_000,
  fee: 320,
  net: 9_680,
  currency: 'usd',
  status: 'pending',
  type: 'charge',
  reporting_category: 'charge',
  created: 1_795_000_000,
  available_on: 1_795_172_800,
  source: 'ch_1',
};

describe('stripeChargeFact: the expanded balance transaction', () => {
  it('carries it whole, in the neutral shape of the event contract', () => {
    const fact = stripeChargeFact({ id: 'ch_1', balance_transaction: transaction });
    expect(fact.transaction).toEqual({
      id: 'txn_123',
      type: 'charge',
      reportingCategory: 'charge',
      amount: 10_000,
      fee: 320,
      net: 9_680,
      currency: 'USD',
      status: 'pending',
      createdAt: new Date(1_795_000_000_000).toISOString(),
      availableOn: new Date(1_795_172_800_000).toISOString(),
      sourceReference: 'ch_1',
    });
  });

  it('drops the copy (but keeps the fee) when net is not amount - fee', () => {
    const fact = stripeChargeFact({
      id: 'ch_1',
      balance_transaction: { ...transaction, net: 9_000 },
    });
    expect(fact.fee).toBe(320);
    expect(fact.transaction).toBeNull();
  });

  it('has none when only the id was sent', () => {
    expect(stripeChargeFact({ id: 'ch_1', balance_transaction: 'txn_123' }).transaction).toBe(
      undefined,
    );
  });
});

describe('payment event contract: balanceTransaction', () => {
  const base = {
    v: 1,
    eventId: 'evt_01kaaaaaaaaaaaaaaaaaaaaaaa',
    type: 'fee_recorded',
    occurredAt: '2026-11-22T10:00:00.000Z',
    payment: {
      id: 'pay_01kaaaaaaaaaaaaaaaaaaaaaaa',
      clientId: 'cli',
      status: 'SUCCEEDED',
      amount: 10_000,
      currency: 'USD',
      amountCaptured: 10_000,
      amountRefunded: 0,
      processor: 'stripe',
      processorReference: 'pi_1',
    },
    fee: 320,
    net: 9_680,
    feeCurrency: 'USD',
  };
  const snapshot = stripeChargeFact({ id: 'ch_1', balance_transaction: transaction }).transaction!;

  it('accepts events without it (older producers)', () => {
    expect(paymentEventSchema.safeParse(base).success).toBe(true);
  });

  it('accepts and keeps a valid one', () => {
    const parsed = paymentEventSchema.parse({ ...base, balanceTransaction: snapshot });
    expect(parsed.balanceTransaction).toEqual(snapshot);
  });

  it.each([
    ['net ≠ amount − fee', { net: 1 }, 'net'],
    ['a negative fee', { fee: -1, net: 10_001 }, 'fee'],
    ['an unknown currency', { currency: 'XXQ' }, 'currency'],
    ['a fractional amount', { amount: 10.5, net: 10.5 - 320 }, 'amount'],
  ])('refuses %s, naming the field', (_name, change, field) => {
    const result = paymentEventSchema.safeParse({
      ...base,
      balanceTransaction: { ...snapshot, ...change },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toContain(
      `balanceTransaction.${field}`,
    );
  });
});
