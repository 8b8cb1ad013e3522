import {
  AuthorizeRequest,
  ProcessorAdapter,
  ProcessorBalanceTransaction,
} from '../../libs/contracts/src';
import { newId, parseCurrency } from '../../libs/domain/src';

export interface BalanceReportFixture {
  readonly adapter: ProcessorAdapter;
  /** A token that charges successfully. */
  readonly okToken: string;
  /** The fee the processor reports for a charge of this amount (the simulator: 0). */
  readonly expectedFee: (amount: number) => number;
  /**
   * The source reference a charge's balance transaction carries, given the payment's
   * processorReference (what the gateway stores as payment_attempts.processor_reference).
   */
  readonly chargeSourceOf?: (processorReference: string) => Promise<string> | string;
}

const EUR = parseCurrency('EUR')!;

/**
 * The balance report every processor adapter that offers `listBalanceTransactions` must give:
 * charges positive, refunds negative, in the payment's currency, with the references the gateway
 * stores, filtered by created time and paged.
 */
export function describeBalanceTransactionReport(
  name: string,
  setup: () => Promise<BalanceReportFixture>,
): void {
  describe(`balance transaction report: ${name}`, () => {
    let fixture: BalanceReportFixture;
    let adapter: ProcessorAdapter;
    let before: Date;
    let after: Date;
    let charged: { reference: string; amount: number };
    let captured: { reference: string; amount: number };
    let refunds: { reference: string; amount: number }[];

    beforeAll(async () => {
      fixture = await setup();
      adapter = fixture.adapter;
      // Whole seconds on both sides (Stripe stores created in seconds).
      before = new Date(Math.floor(Date.now() / 1000) * 1000 - 1000);
      await sleep(1100);
      const auto = await adapter.authorize(authorizeRequest(fixture.okToken, 2500));
      charged = { reference: auto.processorReference, amount: 2500 };
      const manual = await adapter.authorize(
        authorizeRequest(fixture.okToken, 1800, { captureMethod: 'MANUAL' }),
      );
      await adapter.capture({
        idempotencyKey: key(),
        processorReference: manual.processorReference,
        amount: 1200,
      });
      captured = { reference: manual.processorReference, amount: 1200 };
      // Authorized only: moves no money, so it is not reported.
      await adapter.authorize(authorizeRequest(fixture.okToken, 700, { captureMethod: 'MANUAL' }));
      refunds = [];
      for (const amount of [400, 300]) {
        const refund = await adapter.refund({
          idempotencyKey: key(),
          processorReference: auto.processorReference,
          refundId: newId('ref'),
          amount,
        });
        refunds.push({ reference: refund.processorReference, amount });
      }
      after = new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000);
    });

    const list = async (from: Date, to: Date, pageSize?: number) => {
      const out: ProcessorBalanceTransaction[] = [];
      for await (const t of adapter.listBalanceTransactions!({
        createdFrom: from,
        createdTo: to,
        pageSize,
      })) {
        out.push(t);
      }
      return out;
    };
    const chargeSource = (reference: string) =>
      fixture.chargeSourceOf ? fixture.chargeSourceOf(reference) : reference;

    it('offers the report', () => {
      expect(typeof adapter.listBalanceTransactions).toBe('function');
    });

    it('reports each charge positive and each refund negative, in the payment currency', async () => {
      const listed = await list(before, after);
      const bySource = new Map(listed.map((t) => [t.sourceReference, t]));
      for (const charge of [charged, captured]) {
        const t = bySource.get(await chargeSource(charge.reference));
        const fee = fixture.expectedFee(charge.amount);
        expect(t).toMatchObject({
          type: 'charge',
          amount: charge.amount,
          fee,
          net: charge.amount - fee,
          currency: 'EUR',
        });
      }
      for (const refund of refunds) {
        expect(bySource.get(refund.reference)).toMatchObject({
          type: 'refund',
          amount: -refund.amount,
          currency: 'EUR',
        });
      }
      const ours = listed.filter((t) => t.createdAt >= before && t.createdAt <= after);
      expect(ours).toHaveLength(listed.length);
      for (const t of listed) {
        expect(t.net).toBe(t.amount - t.fee);
        expect(Number.isSafeInteger(t.amount)).toBe(true);
        expect(t.id).toEqual(expect.any(String));
      }
      // The authorized-only payment moved nothing: exactly 2 charges and 2 refunds are ours.
      const sources = new Set([
        await chargeSource(charged.reference),
        await chargeSource(captured.reference),
        ...refunds.map((r) => r.reference),
      ]);
      expect(listed.filter((t) => sources.has(t.sourceReference ?? ''))).toHaveLength(4);
    });

    it('pages through the window without repeating or skipping', async () => {
      const all = await list(before, after);
      const paged = await list(before, after, 1);
      expect(paged.map((t) => t.id).sort()).toEqual(all.map((t) => t.id).sort());
      expect(new Set(paged.map((t) => t.id)).size).toBe(paged.length);
    });

    it('leaves out transactions created outside the window', async () => {
      const earlier = await list(new Date(before.getTime() - 3_600_000), before);
      const ids = new Set((await list(before, after)).map((t) => t.id));
      expect(earlier.filter((t) => ids.has(t.id))).toEqual([]);
      const later = await list(after, new Date(after.getTime() + 3_600_000));
      expect(later.filter((t) => ids.has(t.id))).toEqual([]);
    });
  });
}

function authorizeRequest(
  token: string,
  amount: number,
  overrides: Partial<AuthorizeRequest> = {},
): AuthorizeRequest {
  return {
    idempotencyKey: key(),
    paymentId: newId('pay'),
    amount,
    currency: EUR,
    paymentMethodToken: token,
    captureMethod: 'AUTOMATIC',
    ...overrides,
  };
}

function key(): string {
  return `bt-contract-${newId('att')}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
