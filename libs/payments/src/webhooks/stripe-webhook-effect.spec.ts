import { stripeWebhookEffect } from './stripe-webhook-effect';
import { simulatorWebhookEffect } from './simulator-webhook-effect';
import { refundTransition } from './webhook-application.service';

const intent = (over: Record<string, unknown> = {}) => ({
  id: 'pi_1',
  object: 'payment_intent',
  amount: 1000,
  amount_received: 0,
  amount_capturable: 0,
  client_secret: 'pi_1_secret_x',
  metadata: { payment_id: 'pay_01' },
  ...over,
});
const event = (type: string, object: unknown) => ({ id: 'evt_1', type, data: { object } });
const effect = (type: string, object: unknown) => stripeWebhookEffect(type, event(type, object));
const match = { processorReference: 'pi_1', paymentId: 'pay_01' };

describe('stripeWebhookEffect', () => {
  it('payment_intent.succeeded: SUCCEEDED with the amount received as captured', () => {
    expect(effect('payment_intent.succeeded', intent({ amount_received: 1000 }))).toEqual({
      kind: 'payment',
      match,
      status: 'SUCCEEDED',
      amountAuthorized: 1000,
      amountCaptured: 1000,
      nextAction: null,
      failure: null,
    });
  });

  it('payment_intent.payment_failed: FAILED with the failure from last_payment_error', () => {
    const failed = effect(
      'payment_intent.payment_failed',
      intent({
        last_payment_error: {
          code: 'card_declined',
          decline_code: 'insufficient_funds',
          message: 'Your card has insufficient funds.',
        },
      }),
    );
    expect(failed).toMatchObject({
      status: 'FAILED',
      failure: {
        code: 'card_declined',
        declineCode: 'insufficient_funds',
        message: 'Your card has insufficient funds.',
        retryable: true,
      },
    });
    expect(effect('payment_intent.payment_failed', intent())).toMatchObject({
      status: 'FAILED',
      failure: { code: 'payment_failed', retryable: false },
    });
  });

  it('requires_action, canceled, amount_capturable_updated and processing', () => {
    expect(
      effect(
        'payment_intent.requires_action',
        intent({ next_action: { type: 'redirect_to_url', redirect_to_url: { url: 'https://x' } } }),
      ),
    ).toMatchObject({
      status: 'REQUIRES_ACTION',
      nextAction: {
        type: 'redirect_to_url',
        redirectUrl: 'https://x',
        clientSecret: 'pi_1_secret_x',
      },
    });
    expect(effect('payment_intent.canceled', intent())).toMatchObject({ status: 'CANCELED' });
    expect(
      effect('payment_intent.amount_capturable_updated', intent({ amount_capturable: 800 })),
    ).toMatchObject({ status: 'AUTHORIZED', amountAuthorized: 800 });
    expect(effect('payment_intent.processing', intent())).toEqual({
      kind: 'payment',
      match,
      status: null,
    });
  });

  it('refund events: status mapped, found by refund id or metadata.refund_id', () => {
    const refund = (status: string) => ({
      id: 're_1',
      object: 'refund',
      amount: 300,
      status,
      payment_intent: 'pi_1',
      metadata: { refund_id: 'ref_01', payment_id: 'pay_01' },
    });
    expect(effect('refund.created', refund('succeeded'))).toEqual({
      kind: 'refunds',
      payment: match,
      refunds: [
        { processorReference: 're_1', refundId: 'ref_01', status: 'SUCCEEDED', amount: 300 },
      ],
    });
    expect(effect('refund.updated', refund('pending'))).toMatchObject({
      refunds: [{ status: 'PENDING' }],
    });
    expect(effect('refund.updated', refund('canceled'))).toMatchObject({
      refunds: [{ status: 'FAILED' }],
    });
    expect(effect('refund.failed', refund('succeeded'))).toMatchObject({
      refunds: [{ status: 'FAILED', failure: { code: 'refund_failed' } }],
    });
  });

  it('charge.refunded: each listed refund; without a list it is ignored', () => {
    const charge = {
      id: 'ch_1',
      object: 'charge',
      payment_intent: 'pi_1',
      amount_refunded: 500,
      metadata: { payment_id: 'pay_01' },
      refunds: {
        data: [
          { id: 're_1', amount: 300, status: 'succeeded', metadata: { refund_id: 'ref_01' } },
          { id: 're_2', amount: 200, status: 'pending', metadata: {} },
        ],
      },
    };
    expect(effect('charge.refunded', charge)).toEqual({
      kind: 'refunds',
      payment: match,
      refunds: [
        { processorReference: 're_1', refundId: 'ref_01', status: 'SUCCEEDED', amount: 300 },
        { processorReference: 're_2', refundId: null, status: 'PENDING', amount: 200 },
      ],
    });
    const { refunds: _omitted, ...bare } = charge;
    expect(effect('charge.refunded', bare)).toMatchObject({ kind: 'ignore' });
  });

  it('unknown types and events without data.object are ignored with a reason', () => {
    expect(effect('customer.created', { id: 'cus_1' })).toEqual({
      kind: 'ignore',
      reason: 'event type customer.created is not used',
    });
    expect(stripeWebhookEffect('payment_intent.succeeded', { id: 'evt_1' })).toMatchObject({
      kind: 'ignore',
    });
  });
});

describe('simulatorWebhookEffect', () => {
  it('maps the four payment events by reference, in either data shape', () => {
    expect(simulatorWebhookEffect('payment.succeeded', { reference: 'simpay_1' })).toMatchObject({
      kind: 'payment',
      status: 'SUCCEEDED',
      match: { processorReference: 'simpay_1', paymentId: null },
    });
    expect(
      simulatorWebhookEffect('payment.failed', { object: { id: 'simpay_2', payment_id: 'pay_9' } }),
    ).toMatchObject({
      status: 'FAILED',
      match: { processorReference: 'simpay_2', paymentId: 'pay_9' },
      failure: { code: 'payment_failed' },
    });
    expect(simulatorWebhookEffect('payment.requires_action', { reference: 'r' })).toMatchObject({
      status: 'REQUIRES_ACTION',
    });
    expect(simulatorWebhookEffect('payment.canceled', { reference: 'r' })).toMatchObject({
      status: 'CANCELED',
    });
  });

  it('ignores other types and events naming no payment', () => {
    expect(simulatorWebhookEffect('payout.paid', {})).toMatchObject({ kind: 'ignore' });
    expect(simulatorWebhookEffect('payment.succeeded', {})).toMatchObject({ kind: 'ignore' });
  });
});

describe('refundTransition', () => {
  it('moves only forward; SUCCEEDED → FAILED is a reversal', () => {
    expect(refundTransition('PENDING', 'SUCCEEDED')).toBe('moved');
    expect(refundTransition('PENDING', 'FAILED')).toBe('moved');
    expect(refundTransition('SUCCEEDED', 'FAILED')).toBe('moved');
    expect(refundTransition('SUCCEEDED', 'SUCCEEDED')).toBe('unchanged');
    expect(refundTransition('SUCCEEDED', 'PENDING')).toBe('refused');
    expect(refundTransition('FAILED', 'SUCCEEDED')).toBe('refused');
    expect(refundTransition('FAILED', 'PENDING')).toBe('refused');
  });
});
