import { stripeWebhookEffect } from './stripe-webhook-effect';

const event = (type: string, object: unknown) => ({ id: 'evt_1', type, data: { object } });
const effect = (type: string, object: unknown) => stripeWebhookEffect(type, event(type, object));

const dispute = (over: Record<string, unknown> = {}) => ({
  id: 'dp_1',
  object: 'dispute',
  amount: 1000,
  currency: 'eur',
  charge: 'ch_1',
  payment_intent: 'pi_1',
  reason: 'fraudulent',
  status: 'needs_response',
  evidence_details: { due_by: 1_800_000_000 },
  ...over,
});

describe('stripe dispute events', () => {
  it.each([
    ['charge.dispute.created', 'needs_response', 'NEEDS_RESPONSE'],
    ['charge.dispute.updated', 'under_review', 'UNDER_REVIEW'],
    ['charge.dispute.closed', 'won', 'WON'],
    ['charge.dispute.closed', 'lost', 'LOST'],
    ['charge.dispute.closed', 'warning_closed', 'WARNING_CLOSED'],
    ['charge.dispute.created', 'warning_needs_response', 'WARNING_NEEDS_RESPONSE'],
  ])('%s with status %s → %s', (type, status, ours) => {
    expect(effect(type, dispute({ status }))).toEqual({
      kind: 'dispute',
      processorReference: 'dp_1',
      match: { processorReference: 'pi_1', paymentId: null },
      chargeReference: 'ch_1',
      status: ours,
      amount: 1000,
      currency: 'EUR',
      reason: 'fraudulent',
      evidenceDueBy: new Date(1_800_000_000_000),
    });
  });

  it('an expanded charge gives the charge id and our payment id from its metadata', () => {
    const mapped = effect(
      'charge.dispute.created',
      dispute({ payment_intent: null, charge: { id: 'ch_9', metadata: { payment_id: 'pay_9' } } }),
    );
    expect(mapped).toMatchObject({
      chargeReference: 'ch_9',
      match: { processorReference: null, paymentId: 'pay_9' },
    });
  });

  it('an unknown dispute status or a missing amount is ignored, never guessed', () => {
    expect(effect('charge.dispute.updated', dispute({ status: 'brand_new' }))).toMatchObject({
      kind: 'ignore',
      reason: expect.stringMatching(/brand_new/),
    });
    expect(effect('charge.dispute.created', dispute({ amount: undefined }))).toMatchObject({
      kind: 'ignore',
    });
  });
});

describe('stripe payout events', () => {
  const payout = (over: Record<string, unknown> = {}) => ({
    id: 'po_1',
    object: 'payout',
    amount: 5000,
    currency: 'usd',
    arrival_date: 1_800_000_000,
    status: 'paid',
    failure_code: null,
    ...over,
  });

  it('payout.paid → PAID with its arrival date', () => {
    expect(effect('payout.paid', payout())).toEqual({
      kind: 'payout',
      processorReference: 'po_1',
      status: 'PAID',
      amount: 5000,
      currency: 'USD',
      arrivalDate: new Date(1_800_000_000_000),
      failureCode: null,
    });
  });

  it('payout.failed → FAILED with the failure code (a default when Stripe gives none)', () => {
    expect(
      effect('payout.failed', payout({ status: 'failed', failure_code: 'account_closed' })),
    ).toMatchObject({ status: 'FAILED', failureCode: 'account_closed' });
    expect(effect('payout.failed', payout({ status: 'failed' }))).toMatchObject({
      failureCode: 'payout_failed',
    });
  });

  it('other payout events are not used', () => {
    expect(effect('payout.created', payout())).toMatchObject({ kind: 'ignore' });
  });
});

describe('stripe charge events (fee and net)', () => {
  const charge = (over: Record<string, unknown> = {}) => ({
    id: 'ch_1',
    object: 'charge',
    status: 'succeeded',
    payment_intent: 'pi_1',
    metadata: { payment_id: 'pay_01' },
    balance_transaction: 'txn_1',
    ...over,
  });

  it('a balance transaction id only: the charge is kept, the fee stays unknown', () => {
    expect(effect('charge.succeeded', charge())).toEqual({
      kind: 'charge',
      match: { processorReference: 'pi_1', paymentId: 'pay_01' },
      charge: {
        chargeReference: 'ch_1',
        balanceTransaction: 'txn_1',
        fee: null,
        net: null,
        currency: null,
      },
    });
  });

  it('an expanded balance transaction gives fee and net in its currency', () => {
    const expanded = charge({
      balance_transaction: { id: 'txn_1', fee: 59, net: 941, currency: 'eur' },
    });
    expect(effect('charge.captured', expanded)).toMatchObject({
      charge: { balanceTransaction: 'txn_1', fee: 59, net: 941, currency: 'EUR' },
    });
  });

  it('payment_intent.succeeded with an expanded latest_charge carries the charge fact', () => {
    const intent = {
      id: 'pi_1',
      amount: 1000,
      amount_received: 1000,
      metadata: { payment_id: 'pay_01' },
      latest_charge: charge({
        balance_transaction: { id: 'txn_1', fee: 59, net: 941, currency: 'eur' },
      }),
    };
    expect(effect('payment_intent.succeeded', intent)).toMatchObject({
      kind: 'payment',
      status: 'SUCCEEDED',
      charge: { chargeReference: 'ch_1', fee: 59, net: 941, currency: 'EUR' },
    });
    // Not expanded (the usual case): no charge fact at all.
    expect(
      effect('payment_intent.succeeded', { ...intent, latest_charge: 'ch_1' }),
    ).not.toHaveProperty('charge');
  });

  it('a charge that moved no money yet is ignored', () => {
    expect(
      effect('charge.updated', charge({ status: 'pending', balance_transaction: null })),
    ).toMatchObject({ kind: 'ignore' });
  });
});
