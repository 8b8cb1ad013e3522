import {
  AuthorizeRequest,
  ProcessorAdapter,
  ProcessorError,
  ProcessorErrorKind,
  isProcessorError,
} from '../../libs/contracts/src';
import { newId, parseCurrency } from '../../libs/domain/src';

/** Tokens that make an adapter (or its fake) behave in each way the contract checks. */
export interface ContractTokens {
  readonly ok: string;
  readonly softDecline: string;
  readonly hardDecline: string;
  readonly requiresAction: string;
  readonly unavailable: string;
  /** The charge is made but the caller sees a timeout. */
  readonly timeoutAfterCharge: string;
}

/** Faults an adapter's fake injects around one call instead of through a token. */
export type ContractFault = 'unavailable' | 'timeoutAfterCharge';

export interface ContractFixture {
  readonly adapter: ProcessorAdapter;
  readonly tokens: ContractTokens;
  /**
   * Runs one call under a fault of the processor's fake (default: just runs it, the token
   * carrying the fault). The fault must be over when the returned promise settles.
   */
  underFault?<T>(fault: ContractFault, call: () => Promise<T>): Promise<T>;
  /**
   * False when the processor cannot find a payment by our idempotency key alone (Stripe):
   * `retrieve({ idempotencyKey })` then answers null and re-sending the same request with the
   * same key is how the outcome is learnt. Default true.
   */
  readonly retrievesByIdempotencyKey?: boolean;
  /** Processor-side payments that authorized or moved money for one of our payment ids. */
  chargeCount(paymentId: string): Promise<number>;
  teardown?(): Promise<void>;
}

const USD = parseCurrency('USD')!;

/**
 * The behaviour every processor adapter must show, written only against ProcessorAdapter so
 * each adapter (simulator, Stripe against its fake) runs the same suite.
 */
export function describeProcessorAdapterContract(
  name: string,
  setup: () => Promise<ContractFixture>,
): void {
  describe(`ProcessorAdapter contract: ${name}`, () => {
    let fixture: ContractFixture;
    let adapter: ProcessorAdapter;

    beforeAll(async () => {
      fixture = await setup();
      adapter = fixture.adapter;
    });

    afterAll(async () => {
      await fixture?.teardown?.();
    });

    const authorize = (overrides: Partial<AuthorizeRequest> = {}) =>
      adapter.authorize(authorizeRequest(fixture.tokens.ok, overrides));
    const underFault = <T>(fault: ContractFault, call: () => Promise<T>): Promise<T> =>
      fixture.underFault ? fixture.underFault(fault, call) : call();
    const retrievesByKey = () => fixture.retrievesByIdempotencyKey !== false;

    it('owns its own tokens', () => {
      expect(adapter.name).toEqual(expect.any(String));
      expect(adapter.ownsToken(fixture.tokens.ok)).toBe(true);
    });

    describe('authorize', () => {
      it('charges at once with automatic capture', async () => {
        const result = await authorize({ amount: 1500 });
        expect(result).toMatchObject({
          status: 'succeeded',
          amountAuthorized: 1500,
          amountCaptured: 1500,
        });
        expect(result.processorReference).toEqual(expect.any(String));
        expect(result.processorReference.length).toBeGreaterThan(0);
      });

      it('only authorizes with manual capture', async () => {
        const result = await authorize({ amount: 1500, captureMethod: 'MANUAL' });
        expect(result).toMatchObject({
          status: 'authorized',
          amountAuthorized: 1500,
          amountCaptured: 0,
        });
      });

      it('asks for customer action', async () => {
        const result = await adapter.authorize(authorizeRequest(fixture.tokens.requiresAction));
        expect(result.status).toBe('requires_action');
        expect(result.nextAction).toEqual(expect.objectContaining({ type: expect.any(String) }));
      });

      it('reports a soft decline', async () => {
        const request = authorizeRequest(fixture.tokens.softDecline);
        const error = await processorErrorOf(adapter.authorize(request), 'declined');
        expect(error.declineCode).toEqual(expect.any(String));
        expect(error.hardDecline).toBe(false);
        expect(await fixture.chargeCount(request.paymentId)).toBe(0);
      });

      it('reports a hard decline', async () => {
        const error = await processorErrorOf(
          adapter.authorize(authorizeRequest(fixture.tokens.hardDecline)),
          'declined',
        );
        expect(error.hardDecline).toBe(true);
      });

      it('reports unavailable as known not processed, with no charge', async () => {
        const request = authorizeRequest(fixture.tokens.unavailable);
        const call = underFault('unavailable', () => adapter.authorize(request));
        const error = await processorErrorOf(call, 'unavailable');
        expect(error.knownNotProcessed).toBe(true);
        expect(await fixture.chargeCount(request.paymentId)).toBe(0);
      });

      it('reports a timeout as unknown outcome and the charge is found by key', async () => {
        const request = authorizeRequest(fixture.tokens.timeoutAfterCharge, { amount: 2100 });
        const call = underFault('timeoutAfterCharge', () => adapter.authorize(request));
        const error = await processorErrorOf(call, 'timeout_unknown_outcome');
        expect(error.knownNotProcessed).toBe(false);
        expect(await fixture.chargeCount(request.paymentId)).toBe(1);

        if (!retrievesByKey()) {
          // Learnt by re-sending the same request with the same key (the worker's way).
          const retried = await adapter.authorize(request);
          expect(retried).toMatchObject({ status: 'succeeded', amountCaptured: 2100 });
          expect(await fixture.chargeCount(request.paymentId)).toBe(1);
          return;
        }
        const found = await adapter.retrieve({ idempotencyKey: request.idempotencyKey });
        expect(found).toMatchObject({ status: 'succeeded', amountCaptured: 2100 });
        const retried = await adapter.authorize(request);
        expect(retried.processorReference).toBe(found?.processorReference);
        expect(await fixture.chargeCount(request.paymentId)).toBe(1);
      });
    });

    describe('idempotency', () => {
      it('replays the same key with the same result and a single charge', async () => {
        const request = authorizeRequest(fixture.tokens.ok);
        const first = await adapter.authorize(request);
        const second = await adapter.authorize(request);
        expect(second).toEqual(first);
        expect(await fixture.chargeCount(request.paymentId)).toBe(1);
      });

      it('replays a decline for the same key', async () => {
        const request = authorizeRequest(fixture.tokens.softDecline);
        const first = await processorErrorOf(adapter.authorize(request), 'declined');
        const second = await processorErrorOf(adapter.authorize(request), 'declined');
        expect(second.declineCode).toBe(first.declineCode);
      });

      it('refuses the same key with a different amount', async () => {
        const request = authorizeRequest(fixture.tokens.ok, { amount: 1000 });
        await adapter.authorize(request);
        await processorErrorOf(adapter.authorize({ ...request, amount: 1001 }), 'invalid_request');
        expect(await fixture.chargeCount(request.paymentId)).toBe(1);
      });
    });

    describe('capture', () => {
      it('captures part of an authorization', async () => {
        const { processorReference } = await authorize({ amount: 1000, captureMethod: 'MANUAL' });
        const result = await adapter.capture({
          idempotencyKey: key(),
          processorReference,
          amount: 600,
        });
        expect(result).toMatchObject({
          status: 'succeeded',
          processorReference,
          amountCaptured: 600,
        });
      });

      it('refuses to capture more than authorized', async () => {
        const { processorReference } = await authorize({ amount: 1000, captureMethod: 'MANUAL' });
        const capture = adapter.capture({
          idempotencyKey: key(),
          processorReference,
          amount: 1001,
        });
        await processorErrorOf(capture, 'invalid_request');
      });

      it('replays a capture for the same key', async () => {
        const { processorReference } = await authorize({ amount: 1000, captureMethod: 'MANUAL' });
        const request = { idempotencyKey: key(), processorReference, amount: 400 };
        const first = await adapter.capture(request);
        expect(await adapter.capture(request)).toEqual(first);
      });
    });

    describe('cancel', () => {
      it('cancels an authorization', async () => {
        const { processorReference } = await authorize({ captureMethod: 'MANUAL' });
        const result = await adapter.cancel({ idempotencyKey: key(), processorReference });
        expect(result).toMatchObject({ status: 'canceled', processorReference, amountCaptured: 0 });
      });

      it('cancels a payment awaiting customer action', async () => {
        const { processorReference } = await adapter.authorize(
          authorizeRequest(fixture.tokens.requiresAction),
        );
        const result = await adapter.cancel({ idempotencyKey: key(), processorReference });
        expect(result.status).toBe('canceled');
      });

      it('refuses to cancel a captured payment', async () => {
        const { processorReference } = await authorize();
        const cancel = adapter.cancel({ idempotencyKey: key(), processorReference });
        await processorErrorOf(cancel, 'invalid_request');
      });
    });

    describe('refund', () => {
      it('refunds in parts up to the captured amount', async () => {
        const { processorReference } = await authorize({ amount: 1000 });
        const partial = await adapter.refund(refundRequest(processorReference, 400));
        expect(partial).toMatchObject({ status: 'succeeded', amount: 400 });
        expect(partial.processorReference).toEqual(expect.any(String));
        const rest = await adapter.refund(refundRequest(processorReference, 600));
        expect(rest).toMatchObject({ status: 'succeeded', amount: 600 });
        expect(rest.processorReference).not.toBe(partial.processorReference);
      });

      it('refuses to refund more than remains', async () => {
        const { processorReference } = await authorize({ amount: 1000 });
        await adapter.refund(refundRequest(processorReference, 400));
        const refund = adapter.refund(refundRequest(processorReference, 601));
        await processorErrorOf(refund, 'invalid_request');
      });

      it('replays a refund for the same key without refunding twice', async () => {
        const { processorReference } = await authorize({ amount: 1000 });
        const request = refundRequest(processorReference, 1000);
        const first = await adapter.refund(request);
        expect(await adapter.refund(request)).toEqual(first);
      });
    });

    describe('retrieve', () => {
      it('finds a payment by reference in its current state', async () => {
        const { processorReference } = await authorize({ amount: 800, captureMethod: 'MANUAL' });
        await adapter.capture({ idempotencyKey: key(), processorReference, amount: 500 });
        const found = await adapter.retrieve({ processorReference, idempotencyKey: key() });
        expect(found).toMatchObject({
          status: 'succeeded',
          processorReference,
          amountCaptured: 500,
        });
      });

      it('finds a payment by the key of its authorize', async () => {
        const request = authorizeRequest(fixture.tokens.ok);
        const { processorReference } = await adapter.authorize(request);
        const found = await adapter.retrieve({ idempotencyKey: request.idempotencyKey });
        if (!retrievesByKey()) {
          // Such a processor answers null by key alone; the same key still finds the payment.
          expect(found).toBeNull();
          expect((await adapter.authorize(request)).processorReference).toBe(processorReference);
          return;
        }
        expect(found?.processorReference).toBe(processorReference);
      });

      it('answers null for an unknown key', async () => {
        expect(await adapter.retrieve({ idempotencyKey: key() })).toBeNull();
      });
    });
  });
}

function authorizeRequest(
  token: string,
  overrides: Partial<AuthorizeRequest> = {},
): AuthorizeRequest {
  return {
    idempotencyKey: key(),
    paymentId: newId('pay'),
    amount: 1000,
    currency: USD,
    paymentMethodToken: token,
    captureMethod: 'AUTOMATIC',
    ...overrides,
  };
}

function refundRequest(processorReference: string, amount: number) {
  return { idempotencyKey: key(), processorReference, refundId: newId('ref'), amount };
}

function key(): string {
  return `contract-${newId('att')}`;
}

/** Awaits a call that must fail with a ProcessorError of this kind, and returns the error. */
export async function processorErrorOf(
  call: Promise<unknown>,
  kind: ProcessorErrorKind,
): Promise<ProcessorError> {
  const error = await call.then(
    (value) => {
      throw new Error(`expected a ${kind} ProcessorError, got ${JSON.stringify(value)}`);
    },
    (thrown: unknown) => thrown,
  );
  if (!isProcessorError(error)) throw error;
  expect(error.kind).toBe(kind);
  return error;
}
