import { mayNeedFeeLookup, webhookEffectOf } from './webhook-effect-of';

const event = (object: unknown) => ({ data: { object } });
const charge = (balanceTransaction: unknown) => ({
  id: 'ch_1',
  object: 'charge',
  status: 'succeeded',
  payment_intent: 'pi_1',
  balance_transaction: balanceTransaction,
  metadata: {},
});

describe('mayNeedFeeLookup (the intake’s hint to the worker)', () => {
  it('is true for a charge naming its balance transaction without the fee', () => {
    expect(mayNeedFeeLookup('stripe', 'charge.succeeded', event(charge('txn_1')))).toBe(true);
  });

  it('is false once the transaction came expanded with its fee', () => {
    const expanded = {
      id: 'txn_1',
      object: 'balance_transaction',
      fee: 59,
      net: 941,
      currency: 'eur',
    };
    expect(mayNeedFeeLookup('stripe', 'charge.succeeded', event(charge(expanded)))).toBe(false);
  });

  it('is false for events that carry no charge (payouts, unknown types, unreadable bodies)', () => {
    const payout = { id: 'po_1', object: 'payout', status: 'paid', amount: 100, currency: 'eur' };
    expect(mayNeedFeeLookup('stripe', 'payout.paid', event(payout))).toBe(false);
    expect(mayNeedFeeLookup('stripe', 'customer.created', event({ id: 'cus_1' }))).toBe(false);
    expect(mayNeedFeeLookup('stripe', 'charge.succeeded', null)).toBe(false);
    expect(mayNeedFeeLookup('nobody', 'charge.succeeded', event(charge('txn_1')))).toBe(false);
  });

  it('maps through the same effect the worker applies', () => {
    expect(webhookEffectOf('stripe', 'charge.succeeded', event(charge('txn_1')))).toMatchObject({
      kind: 'charge',
      charge: { balanceTransaction: 'txn_1', fee: null },
    });
    expect(webhookEffectOf('nobody', 'x', {})).toEqual({
      kind: 'ignore',
      reason: 'no mapping for nobody',
    });
  });
});
