import { DisputeEvent, PayoutEvent, RefundEvent } from '../../contracts/src';
import { DisputeStatus, newId } from '../../domain/src';
import { plan } from './ledger-books';
import {
  PlannedEntry,
  financePostingFor,
  postDisputeClosed,
  postDisputeLost,
  postDisputeOpened,
  postDisputeUpdated,
  postDisputeWon,
  postPayoutFailed,
  postPayoutPaid,
} from './posting-rules';

const paymentId = newId('pay');
const disputeId = newId('dsp');
const payoutId = newId('pyo');

function dispute(type: DisputeEvent['type'], status: DisputeStatus, amount = 700): DisputeEvent {
  return {
    v: 1,
    eventId: newId('evt'),
    type,
    occurredAt: '2026-11-01T10:00:00.000Z',
    dispute: {
      id: disputeId,
      paymentId,
      processor: 'stripe',
      processorReference: 'dp_1',
      status,
      amount,
      currency: 'EUR',
      reason: 'fraudulent',
      evidenceDueBy: null,
    },
  };
}

function payout(type: PayoutEvent['type'], amount = 5000): PayoutEvent {
  return {
    v: 1,
    eventId: newId('evt'),
    type,
    occurredAt: '2026-11-02T10:00:00.000Z',
    payout: {
      id: payoutId,
      processor: 'stripe',
      processorReference: 'po_1',
      status: type === 'paid' ? 'PAID' : 'FAILED',
      amount,
      currency: 'EUR',
      arrivalDate: null,
      failureCode: type === 'failed' ? 'account_closed' : null,
    },
  };
}

const lines = (e: PlannedEntry) =>
  e.lines.map((l) => `${l.direction === 'debit' ? 'Dr' : 'Cr'} ${l.account.code} ${l.amount}`);

describe('finance posting rules: disputes', () => {
  it('opened (chargeback): Dr disputes / Cr receivable, keyed by the dispute', () => {
    const { entries } = postDisputeOpened(dispute('opened', 'NEEDS_RESPONSE'));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      sourceEventId: `${disputeId}:withdrawn`,
      kind: 'dispute',
      paymentId,
      status: 'posted',
    });
    expect(lines(entries[0])).toEqual([
      'Dr disputes:stripe:EUR 700',
      'Cr receivable:stripe:EUR 700',
    ]);
  });

  it('opened as an inquiry (WARNING_*) moves nothing; its escalation (updated) withdraws', () => {
    expect(postDisputeOpened(dispute('opened', 'WARNING_NEEDS_RESPONSE')).entries).toEqual([]);
    expect(postDisputeUpdated(dispute('updated', 'WARNING_UNDER_REVIEW')).entries).toEqual([]);
    const escalated = postDisputeUpdated(dispute('updated', 'NEEDS_RESPONSE')).entries;
    expect(escalated.map((e) => e.sourceEventId)).toEqual([`${disputeId}:withdrawn`]);
  });

  it('won: the reversal Dr receivable / Cr disputes (with the withdrawal, idempotent by id)', () => {
    const { entries } = postDisputeWon(dispute('won', 'WON'));
    expect(entries.map((e) => [e.sourceEventId, e.kind])).toEqual([
      [`${disputeId}:withdrawn`, 'dispute'],
      [`${disputeId}:won`, 'dispute_reversal'],
    ]);
    expect(lines(entries[1])).toEqual([
      'Dr receivable:stripe:EUR 700',
      'Cr disputes:stripe:EUR 700',
    ]);
  });

  it('lost: no further move (the loss stays in the disputes expense)', () => {
    const { entries } = postDisputeLost(dispute('lost', 'LOST'));
    expect(entries.map((e) => e.sourceEventId)).toEqual([`${disputeId}:withdrawn`]);
  });

  it('closed (inquiry closed, or prevented): nothing', () => {
    expect(postDisputeClosed(dispute('closed', 'WARNING_CLOSED')).entries).toEqual([]);
    expect(financePostingFor(dispute('closed', 'PREVENTED'), new Set()).entries).toEqual([]);
  });

  it('a zero amount moves nothing', () => {
    expect(postDisputeOpened(dispute('opened', 'NEEDS_RESPONSE', 0)).entries).toEqual([]);
  });

  it('plan: opened + won in one batch, in any order, books one withdrawal and one reversal', () => {
    for (const order of [
      [dispute('opened', 'NEEDS_RESPONSE'), dispute('won', 'WON')],
      [dispute('won', 'WON'), dispute('opened', 'NEEDS_RESPONSE')],
    ]) {
      const { planned } = plan(order, new Map());
      expect(planned.map((e) => e.sourceEventId).sort()).toEqual([
        `${disputeId}:withdrawn`,
        `${disputeId}:won`,
      ]);
    }
  });
});

describe('finance posting rules: payouts and refunds', () => {
  it('paid: Dr bank / Cr receivable, no payment', () => {
    const { entries } = postPayoutPaid(payout('paid'));
    expect(entries[0]).toMatchObject({
      sourceEventId: `${payoutId}:paid`,
      kind: 'payout',
      paymentId: null,
    });
    expect(lines(entries[0])).toEqual(['Dr bank:EUR 5000', 'Cr receivable:stripe:EUR 5000']);
  });

  it('failed after paid: the reversal Dr receivable / Cr bank; failed before paid: nothing', () => {
    const { entries } = postPayoutFailed(payout('failed'), true);
    expect(entries[0]).toMatchObject({
      sourceEventId: `${payoutId}:failed`,
      kind: 'payout_reversal',
    });
    expect(lines(entries[0])).toEqual(['Dr receivable:stripe:EUR 5000', 'Cr bank:EUR 5000']);
    expect(postPayoutFailed(payout('failed'), false).entries).toEqual([]);
  });

  it('plan: paid then failed in one batch reverses; failed alone does not', () => {
    expect(plan([payout('paid'), payout('failed')], new Map()).planned.map((e) => e.kind)).toEqual([
      'payout',
      'payout_reversal',
    ]);
    expect(plan([payout('failed')], new Map()).planned).toEqual([]);
    expect(
      plan([payout('failed')], new Map(), new Set([payoutId])).planned.map((e) => e.kind),
    ).toEqual(['payout_reversal']);
  });

  it('plan: a failed delivered before and again after its paid, in one batch, reverses once', () => {
    const failed = payout('failed');
    const twice = plan([failed, payout('paid'), failed, failed], new Map()).planned;
    expect(twice.map((e) => e.kind)).toEqual(['payout', 'payout_reversal']);
  });

  it('refunds.evt.* book nothing (the refund is booked from payments.evt.refunded)', () => {
    const refund: RefundEvent = {
      v: 1,
      eventId: newId('evt'),
      type: 'succeeded',
      occurredAt: '2026-11-01T10:00:00.000Z',
      paymentId,
      processor: 'stripe',
      refund: { id: newId('ref'), status: 'SUCCEEDED', amount: 100, currency: 'EUR' },
    };
    expect(financePostingFor(refund, new Set()).entries).toEqual([]);
  });

  it('every planned finance entry balances', () => {
    const all = [
      postDisputeWon(dispute('won', 'WON')),
      postPayoutPaid(payout('paid')),
      postPayoutFailed(payout('failed'), true),
    ].flatMap((p) => p.entries);
    for (const e of all) {
      const sum = (side: string) =>
        e.lines.filter((l) => l.direction === side).reduce((s, l) => s + l.amount, 0);
      expect(sum('debit')).toBe(sum('credit'));
    }
  });
});
