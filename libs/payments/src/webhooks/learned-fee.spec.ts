import { BalanceTransactionSnapshot } from '../../../contracts/src';
import { balanceTransactionSnapshot, feeToLearn, withLearnedFee } from './learned-fee';
import { ChargeEffect, PaymentEffect } from './webhook-effect';

const match = {
  paymentId: 'pay_x',
  processorReference: 'pi_1',
} as unknown as ChargeEffect['match'];
const charge = (fee: number | null): ChargeEffect => ({
  kind: 'charge',
  match,
  charge: { chargeReference: 'ch_1', balanceTransaction: 'txn_1', fee, net: null, currency: null },
});
const transaction: BalanceTransactionSnapshot = {
  id: 'txn_1',
  type: 'charge',
  reportingCategory: 'charge',
  amount: 1000,
  fee: 59,
  net: 941,
  currency: 'EUR',
  status: 'pending',
  createdAt: '2026-11-22T00:00:00.000Z',
  availableOn: null,
  sourceReference: 'ch_1',
};

describe('learning a charge fee from its balance transaction', () => {
  it('asks only for a named transaction whose fee is unknown', () => {
    expect(feeToLearn(charge(null))).toBe('txn_1');
    expect(feeToLearn(charge(59))).toBeNull();
    expect(feeToLearn({ kind: 'ignore', reason: 'x' })).toBeNull();
    const payment: PaymentEffect = { kind: 'payment', match, status: null };
    expect(feeToLearn(payment)).toBeNull();
    expect(feeToLearn({ ...payment, charge: charge(null).charge })).toBe('txn_1');
  });

  it('fills fee, net, currency and the transaction from the answer', () => {
    const learned = withLearnedFee(charge(null), transaction) as ChargeEffect;
    expect(learned.charge).toMatchObject({ fee: 59, net: 941, currency: 'EUR', transaction });
  });

  it('ignores an answer about another transaction or another charge', () => {
    const effect = charge(null);
    expect(withLearnedFee(effect, { ...transaction, id: 'txn_2' })).toBe(effect);
    expect(withLearnedFee(effect, { ...transaction, sourceReference: 'ch_2' })).toBe(effect);
  });

  it('converts a processor transaction, refusing an inconsistent one', () => {
    const t = {
      ...transaction,
      createdAt: new Date('2026-11-22T00:00:00Z'),
      availableOn: new Date('2026-11-24T00:00:00Z'),
    };
    expect(balanceTransactionSnapshot(t)).toMatchObject({
      availableOn: '2026-11-24T00:00:00.000Z',
      net: 941,
    });
    expect(balanceTransactionSnapshot({ ...t, net: 940 })).toBeNull();
  });
});
