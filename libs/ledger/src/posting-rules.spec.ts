import { PaymentEvent } from '../../contracts/src';
import { newId } from '../../domain/src';
import {
  Hold,
  PlannedEntry,
  PostingRejected,
  postAuthorization,
  postCancel,
  postCapture,
  postFee,
  postRefund,
  postRefundReversal,
  postSale,
  postingFor,
} from './posting-rules';

const paymentId = newId('pay');

function event(type: PaymentEvent['type'], extra: Partial<PaymentEvent> = {}): PaymentEvent {
  return {
    v: 1,
    eventId: newId('evt'),
    type,
    occurredAt: '2026-11-01T10:00:00.000Z',
    payment: {
      id: paymentId,
      clientId: 'cli',
      status: 'SUCCEEDED',
      amount: 1000,
      currency: 'USD',
      amountCaptured: 1000,
      amountRefunded: 0,
      processor: 'simulator',
      processorReference: 'sim_1',
    },
    ...extra,
  };
}

/** `Dr code amount` / `Cr code amount` lines, for readable expectations. */
const lines = (e: PlannedEntry) =>
  e.lines.map((l) => `${l.direction === 'debit' ? 'Dr' : 'Cr'} ${l.account.code} ${l.amount}`);

const held: Hold = { state: 'held', amount: 1000, currency: 'USD', processor: 'simulator' };

describe('posting rules', () => {
  it('succeeded (sale): Dr receivable / Cr clearing for the captured amount', () => {
    const e = event('succeeded', { amount: 900 });
    const { entries } = postSale(e);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ sourceEventId: e.eventId, kind: 'sale', status: 'posted' });
    expect(lines(entries[0])).toEqual(['Dr receivable:simulator:USD 900', 'Cr clearing:USD 900']);
  });

  it('authorized: a pending hold, unless one was already held or released', () => {
    const posting = postAuthorization(event('authorized'), null);
    expect(posting.entries[0].status).toBe('pending');
    expect(lines(posting.entries[0])).toEqual([
      'Dr receivable:simulator:USD 1000',
      'Cr clearing:USD 1000',
    ]);
    expect(posting.hold).toEqual(held);
    expect(postAuthorization(event('authorized'), held).entries).toEqual([]);
    expect(postAuthorization(event('authorized'), { ...held, state: 'released' }).entries).toEqual(
      [],
    );
  });

  it('captured: posts the capture and releases the hold', () => {
    const e = event('captured', { amount: 700 });
    const posting = postCapture(e, held);
    expect(posting.entries.map((x) => [x.kind, x.status, x.sourceEventId])).toEqual([
      ['capture', 'posted', e.eventId],
      ['authorization_release', 'pending', `${e.eventId}:release`],
    ]);
    expect(lines(posting.entries[0])).toEqual([
      'Dr receivable:simulator:USD 700',
      'Cr clearing:USD 700',
    ]);
    expect(lines(posting.entries[1])).toEqual([
      'Dr clearing:USD 1000',
      'Cr receivable:simulator:USD 1000',
    ]);
    expect(posting.hold?.state).toBe('released');
  });

  it('captured before its authorized event: no release now, and the late hold books nothing', () => {
    const capture = postCapture(event('captured', { amount: 1000 }), null);
    expect(capture.entries.map((x) => x.kind)).toEqual(['capture']);
    expect(capture.hold?.state).toBe('released');
    expect(postAuthorization(event('authorized'), capture.hold!).entries).toEqual([]);
  });

  it('canceled: releases a held authorization once; nothing for a never-authorized payment', () => {
    const first = postCancel(event('canceled'), held);
    expect(first.entries.map((x) => x.kind)).toEqual(['authorization_release']);
    expect(postCancel(event('canceled'), first.hold!).entries).toEqual([]);
    const unsent = postCancel(event('canceled'), null);
    expect(unsent.entries).toEqual([]);
    expect(unsent.hold?.state).toBe('released');
  });

  it('refunded: Dr refunds / Cr receivable', () => {
    const e = event('refunded', {
      amount: 300,
      refund: { id: newId('ref'), status: 'SUCCEEDED', amount: 300, currency: 'USD' },
    });
    expect(lines(postRefund(e).entries[0])).toEqual([
      'Dr refunds:USD 300',
      'Cr receivable:simulator:USD 300',
    ]);
  });

  it('refund_failed: reverses only a refund that had succeeded (the event carries amount)', () => {
    const refund = { id: newId('ref'), status: 'FAILED' as const, amount: 300, currency: 'USD' };
    expect(postRefundReversal(event('refund_failed', { refund })).entries).toEqual([]);
    const reversal = postRefundReversal(event('refund_failed', { refund, amount: 300 }));
    expect(reversal.entries[0].kind).toBe('refund_reversal');
    expect(lines(reversal.entries[0])).toEqual([
      'Dr receivable:simulator:USD 300',
      'Cr refunds:USD 300',
    ]);
  });

  it('fee_recorded: Dr fees / Cr receivable in the fee currency; a zero fee books nothing', () => {
    const e = event('fee_recorded', { fee: 59, net: 941, feeCurrency: 'EUR' });
    expect(lines(postFee(e).entries[0])).toEqual([
      'Dr fees:simulator:EUR 59',
      'Cr receivable:simulator:EUR 59',
    ]);
    expect(postFee(event('fee_recorded', { fee: 0, net: 1000 })).entries).toEqual([]);
    expect(() => postFee(event('fee_recorded'))).toThrow(PostingRejected);
  });

  it('a fee carried by another event type is informational: not booked twice', () => {
    const entries = postingFor(
      event('succeeded', { amount: 1000, fee: 59, net: 941 }),
      null,
    ).entries;
    expect(entries.map((x) => x.kind)).toEqual(['sale']);
  });

  it('types that move no money book nothing', () => {
    for (const type of ['processing', 'requires_action', 'failed'] as const) {
      expect(postingFor(event(type), null).entries).toEqual([]);
    }
  });

  it('refuses money movements without a processor or without an amount', () => {
    const noProcessor = event('succeeded', { amount: 100 });
    const bad = { ...noProcessor, payment: { ...noProcessor.payment, processor: null } };
    expect(() => postSale(bad)).toThrow(/without a processor/);
    expect(() => postCapture(event('captured'), held)).toThrow(/captured amount/);
    expect(() => postSale(event('succeeded', { amount: 0 }))).toThrow(PostingRejected);
  });

  it('every planned entry balances', () => {
    const all = [
      postSale(event('succeeded', { amount: 5 })),
      postCapture(event('captured', { amount: 5 }), held),
      postRefund(event('refunded', { amount: 5 })),
      postFee(event('fee_recorded', { fee: 5, net: 0 })),
    ].flatMap((p) => p.entries);
    for (const e of all) {
      const sum = (side: string) =>
        e.lines.filter((l) => l.direction === side).reduce((s, l) => s + l.amount, 0);
      expect(sum('debit')).toBe(sum('credit'));
    }
  });
});
