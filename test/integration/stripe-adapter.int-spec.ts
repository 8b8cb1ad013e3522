import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import {
  AuthorizeRequest,
  ProcessorBalanceTransaction,
  ProcessorError,
} from '../../libs/contracts/src';
import { newId, parseCurrency } from '../../libs/domain/src';
import { StripeAdapter, StripeAdapterOptions } from '../../adapters/stripe/src';
import {
  describeProcessorAdapterContract,
  processorErrorOf,
} from '../contract/processor-adapter.contract';
import { FakeStripe, FakeStripeFault, startFakeStripe } from '../fakes/stripe';

const SECRET_KEY = 'sk_test_fakeStripeIntegration';
const WEBHOOK_SECRET = 'whsec_fakeStripeIntegration';
const USD = parseCurrency('USD')!;

function adapterFor(fake: FakeStripe, overrides: Partial<StripeAdapterOptions> = {}) {
  return new StripeAdapter({
    secretKey: SECRET_KEY,
    webhookSecrets: [WEBHOOK_SECRET],
    apiBase: fake.baseUrl,
    timeoutMs: 2_000,
    ...overrides,
  });
}

function authorizeRequest(overrides: Partial<AuthorizeRequest> = {}): AuthorizeRequest {
  return {
    idempotencyKey: `int-${newId('att')}`,
    paymentId: newId('pay'),
    amount: 1000,
    currency: USD,
    paymentMethodToken: 'pm_card_visa',
    captureMethod: 'AUTOMATIC',
    ...overrides,
  };
}

/** Runs a call with a fault set for its whole duration (the SDK's own retry included). */
async function withFault<T>(fake: FakeStripe, fault: FakeStripeFault, call: () => Promise<T>) {
  await fake.faults.set(fault);
  try {
    return await call();
  } finally {
    await fake.faults.set(null);
  }
}

describe('StripeAdapter against the fake Stripe API', () => {
  describe('contract', () => {
    let fake: FakeStripe;
    describeProcessorAdapterContract('stripe', async () => {
      fake = await startFakeStripe({ rateLimitPerSec: 10_000, secretKey: SECRET_KEY });
      return {
        adapter: adapterFor(fake),
        tokens: {
          ok: 'pm_card_visa',
          softDecline: 'pm_card_chargeDeclinedInsufficientFunds',
          hardDecline: 'pm_card_chargeDeclinedStolenCard',
          requiresAction: 'pm_card_threeDSecure2Required',
          unavailable: 'pm_card_visa',
          timeoutAfterCharge: 'pm_card_visa',
        },
        underFault: (fault, call) =>
          withFault(
            fake,
            fault === 'unavailable' ? { kind: 'outage' } : { kind: 'dropAfterProcessing' },
            call,
          ),
        retrievesByIdempotencyKey: false,
        chargeCount: async (paymentId) => fake.chargesFor(paymentId),
        teardown: () => fake.stop(),
      };
    });
  });

  describe('faults and idempotency', () => {
    let fake: FakeStripe;
    let adapter: StripeAdapter;

    beforeAll(async () => {
      fake = await startFakeStripe({ rateLimitPerSec: 10_000, secretKey: SECRET_KEY });
      adapter = adapterFor(fake);
    });
    afterAll(() => fake.stop());
    afterEach(async () => {
      await fake.faults.set(null);
      fake.setRateLimit(10_000);
    });

    it('replays the same key without a second PaymentIntent', async () => {
      const request = authorizeRequest();
      const before = fake.paymentIntentsCreated();
      const first = await adapter.authorize(request);
      expect(await adapter.authorize(request)).toEqual(first);
      expect(fake.paymentIntentsCreated()).toBe(before + 1);
      expect(fake.requestsByIdempotencyKey(request.idempotencyKey)).toBe(2);
    });

    it('500 with Stripe-Should-Retry: true is unavailable (nothing ran, nothing saved)', async () => {
      const request = authorizeRequest();
      const error = await withFault(fake, { kind: 'error500', shouldRetry: true, times: 1 }, () =>
        processorErrorOf(adapter.authorize(request), 'unavailable'),
      );
      expect(error).toMatchObject({ retryable: true, knownNotProcessed: true });
      expect(fake.chargesFor(request.paymentId)).toBe(0);
      // Not saved under the key: the same key now runs the request.
      expect((await adapter.authorize(request)).status).toBe('succeeded');
      expect(fake.chargesFor(request.paymentId)).toBe(1);
    });

    it('500 with Stripe-Should-Retry: false is an unknown outcome, replayed for the key', async () => {
      const request = authorizeRequest();
      const error = await withFault(fake, { kind: 'error500', shouldRetry: false, times: 1 }, () =>
        processorErrorOf(adapter.authorize(request), 'timeout_unknown_outcome'),
      );
      expect(error).toMatchObject({ retryable: false, knownNotProcessed: false });
      const again = await processorErrorOf(adapter.authorize(request), 'timeout_unknown_outcome');
      expect(again.processorCode).toBe('http_500');
    });

    it('500 without Stripe-Should-Retry is an unknown outcome that may be re-sent', async () => {
      const request = authorizeRequest();
      const error = await withFault(fake, { kind: 'error500', times: 1 }, () =>
        processorErrorOf(adapter.authorize(request), 'timeout_unknown_outcome'),
      );
      expect(error.retryable).toBe(true);
    });

    it('429 is rate_limited with Retry-After, known not processed, not saved under the key', async () => {
      fake.setRateLimit(1);
      const request = authorizeRequest();
      const limitedBefore = fake.rateLimitedCount();
      const results = await Promise.allSettled(
        [0, 1, 2].map(() => adapter.authorize(authorizeRequest())),
      );
      const limited = results.find((r) => r.status === 'rejected');
      expect(limited).toBeDefined();
      const error = (limited as PromiseRejectedResult).reason as ProcessorError;
      expect(error).toMatchObject({ kind: 'rate_limited', knownNotProcessed: true });
      expect(error.retryAfterMs).toBeGreaterThanOrEqual(1000);
      expect(fake.rateLimitedCount()).toBeGreaterThan(limitedBefore);
      fake.setRateLimit(10_000);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await adapter.authorize(request)).status).toBe('succeeded');
    });

    it('outage (connection refused) is unavailable with no PaymentIntent', async () => {
      const request = authorizeRequest();
      const before = fake.paymentIntentsCreated();
      const error = await withFault(fake, { kind: 'outage' }, () =>
        processorErrorOf(adapter.authorize(request), 'unavailable'),
      );
      expect(error.processorCode).toBe('ECONNREFUSED');
      expect(fake.paymentIntentsCreated()).toBe(before);
    });

    it('a drop before processing is an unknown outcome; the same key then charges once', async () => {
      const request = authorizeRequest();
      await withFault(fake, { kind: 'dropBeforeProcessing' }, () =>
        processorErrorOf(adapter.authorize(request), 'timeout_unknown_outcome'),
      );
      // The SDK retried the closed connection once, with our key.
      expect(fake.requestsByIdempotencyKey(request.idempotencyKey)).toBe(2);
      expect(fake.chargesFor(request.paymentId)).toBe(0);
      await adapter.authorize(request);
      expect(fake.chargesFor(request.paymentId)).toBe(1);
    });

    it('a drop after processing is an unknown outcome with exactly one PaymentIntent', async () => {
      const request = authorizeRequest();
      const before = fake.paymentIntentsCreated();
      await withFault(fake, { kind: 'dropAfterProcessing' }, () =>
        processorErrorOf(adapter.authorize(request), 'timeout_unknown_outcome'),
      );
      expect(fake.paymentIntentsCreated()).toBe(before + 1);
      const retried = await adapter.authorize(request);
      expect(retried.status).toBe('succeeded');
      expect(fake.paymentIntentsCreated()).toBe(before + 1);
      expect(fake.chargesFor(request.paymentId)).toBe(1);
    });

    it("one dropped connection is absorbed by the SDK's single retry with the same key", async () => {
      for (const kind of ['dropBeforeProcessing', 'dropAfterProcessing'] as const) {
        const request = authorizeRequest();
        const before = fake.paymentIntentsCreated();
        const result = await withFault(fake, { kind, times: 1 }, () => adapter.authorize(request));
        expect(result.status).toBe('succeeded');
        expect(fake.paymentIntentsCreated()).toBe(before + 1);
        expect(fake.requestsByIdempotencyKey(request.idempotencyKey)).toBe(2);
      }
    });

    it('a reply slower than the timeout is an unknown outcome', async () => {
      const slow = adapterFor(fake, { timeoutMs: 200 });
      const request = authorizeRequest();
      await withFault(fake, { kind: 'latency', ms: 600, times: 1 }, () =>
        processorErrorOf(slow.authorize(request), 'timeout_unknown_outcome'),
      );
    });

    it('a concurrent request with the same key is an unknown outcome, never a second charge', async () => {
      const request = authorizeRequest();
      await fake.faults.set({ kind: 'latency', ms: 300, times: 1 });
      const first = adapter.authorize(request);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const second = await processorErrorOf(adapter.authorize(request), 'timeout_unknown_outcome');
      expect(second.processorCode).toBe('idempotency_key_in_use');
      expect((await first).status).toBe('succeeded');
      expect(fake.chargesFor(request.paymentId)).toBe(1);
    });

    it('a bad API key is an authentication error', async () => {
      const wrong = adapterFor(fake, { secretKey: 'sk_test_wrong' });
      const error = await processorErrorOf(wrong.authorize(authorizeRequest()), 'authentication');
      expect(error.retryable).toBe(false);
    });

    it('an unknown payment method is an invalid request', async () => {
      const request = authorizeRequest({ paymentMethodToken: 'pm_card_nope' });
      const error = await processorErrorOf(adapter.authorize(request), 'invalid_request');
      expect(error.processorCode).toBe('resource_missing');
    });

    it('retrieves null for an unknown reference', async () => {
      expect(
        await adapter.retrieve({ processorReference: 'pi_missing', idempotencyKey: 'k' }),
      ).toBeNull();
    });
  });

  describe('3-D Secure, balance transactions and webhooks', () => {
    let fake: FakeStripe;
    let adapter: StripeAdapter;
    let receiver: Server;
    const received: { body: Buffer; signature: string | undefined }[] = [];

    beforeAll(async () => {
      receiver = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const signature = req.headers['stripe-signature'];
          received.push({ body: Buffer.concat(chunks), signature: signature as string });
          res.writeHead(200).end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      const { port } = receiver.address() as AddressInfo;
      fake = await startFakeStripe({
        rateLimitPerSec: 10_000,
        webhook: { url: `http://127.0.0.1:${port}/webhooks/stripe`, secret: WEBHOOK_SECRET },
      });
      adapter = adapterFor(fake, { returnUrl: 'https://shop.example/return' });
    });
    afterAll(async () => {
      await fake.stop();
      await new Promise((resolve) => receiver.close(resolve));
    });

    it('redirects for 3-D Secure and succeeds once the customer completes it', async () => {
      const result = await adapter.authorize(
        authorizeRequest({ paymentMethodToken: 'pm_card_threeDSecure2Required' }),
      );
      expect(result.status).toBe('requires_action');
      expect(result.nextAction).toMatchObject({ type: 'redirect_to_url' });
      expect(result.nextAction?.redirectUrl).toContain(result.processorReference);
      fake.completeThreeDS(result.processorReference, 'succeed');
      const found = await adapter.retrieve({
        processorReference: result.processorReference,
        idempotencyKey: 'unused',
      });
      expect(found).toMatchObject({ status: 'succeeded', amountCaptured: 1000 });
    });

    it('reports a failed 3-D Secure as a failed payment', async () => {
      const result = await adapter.authorize(
        authorizeRequest({ paymentMethodToken: 'pm_card_threeDSecure2Required' }),
      );
      fake.completeThreeDS(result.processorReference, 'fail');
      const found = await adapter.retrieve({
        processorReference: result.processorReference,
        idempotencyKey: 'unused',
      });
      expect(found).toMatchObject({ status: 'failed' });
      expect(found?.failure?.code).toBe('payment_intent_authentication_failure');
    });

    it('lists balance transactions across pages with fees and refunds', async () => {
      const from = new Date(Date.now() - 1000);
      const charged = [];
      for (let i = 0; i < 3; i += 1)
        charged.push(await adapter.authorize(authorizeRequest({ amount: 10_000 })));
      await adapter.refund({
        idempotencyKey: `int-${newId('att')}`,
        processorReference: charged[0].processorReference,
        refundId: newId('ref'),
        amount: 2500,
        reason: 'requested_by_customer',
      });
      const listed = [];
      for await (const t of adapter.listBalanceTransactions({
        createdFrom: from,
        createdTo: new Date(Date.now() + 1000),
        pageSize: 2,
      })) {
        listed.push(t);
      }
      const charges = listed.filter((t) => t.type === 'charge' && t.amount === 10_000);
      expect(charges.length).toBeGreaterThanOrEqual(3);
      expect(charges[0]).toMatchObject({ currency: 'USD', fee: 320, net: 9680 });
      expect(listed.find((t) => t.type === 'refund')).toMatchObject({
        amount: -2500,
        fee: 0,
        net: -2500,
      });
    });

    it('retrieves one balance transaction by id (a charge fee), null for an unknown id', async () => {
      const from = new Date(Date.now() - 1000);
      await adapter.authorize(authorizeRequest({ amount: 4_000 }));
      let charge;
      for await (const t of adapter.listBalanceTransactions({
        createdFrom: from,
        createdTo: new Date(Date.now() + 1000),
      })) {
        if (t.type === 'charge' && t.amount === 4_000) charge = t;
      }
      expect(charge).toBeDefined();
      const found = await adapter.retrieveBalanceTransaction(charge!.id);
      expect(found).toEqual({ ...charge, payoutReference: undefined });
      expect(found).toMatchObject({ fee: 146, net: 3_854, currency: 'USD' });
      expect(await adapter.retrieveBalanceTransaction('txn_unknown')).toBeNull();
    });

    it('posts signed webhooks the adapter verifies', async () => {
      const result = await adapter.authorize(authorizeRequest());
      await fake.settleWebhooks();
      const events = received.map((r) => adapter.parseWebhook(r.body, r.signature));
      const succeeded = events.find(
        (e) =>
          e.type === 'payment_intent.succeeded' &&
          (e.payload as { data: { object: { id: string } } }).data.object.id ===
            result.processorReference,
      );
      expect(succeeded?.eventId).toMatch(/^evt_/);
      expect(fake.webhookDeliveries().every((d) => d.status === 200)).toBe(true);
    });
  });

  describe('balance transactions and payouts', () => {
    let fake: FakeStripe;
    let adapter: StripeAdapter;
    const EUR = parseCurrency('EUR')!;
    const GBP = parseCurrency('GBP')!;

    beforeAll(async () => {
      fake = await startFakeStripe({ rateLimitPerSec: 10_000 });
      adapter = adapterFor(fake);
    });
    afterAll(() => fake.stop());

    const list = async (from: Date, to: Date, pageSize?: number) => {
      const out: ProcessorBalanceTransaction[] = [];
      for await (const t of adapter.listBalanceTransactions({
        createdFrom: from,
        createdTo: to,
        pageSize,
      })) {
        out.push(t);
      }
      return out;
    };
    const charge = (currency: typeof EUR, amount: number) =>
      adapter.authorize(authorizeRequest({ currency, amount }));

    it('links the transactions a payout paid out to it, and lists its own negative one', async () => {
      const from = new Date(Date.now() - 1000);
      const a = await charge(EUR, 10_000);
      await charge(EUR, 5_000);
      const refund = await adapter.refund({
        idempotencyKey: `int-${newId('att')}`,
        processorReference: a.processorReference,
        refundId: newId('ref'),
        amount: 2_000,
      });
      const payout = fake.createPayout({ currency: 'eur' });
      const to = new Date(Date.now() + 1000);
      // 10000 − 320 + 5000 − 175 − 2000
      expect(payout.amount).toBe(12_505);

      const listed = await list(from, to, 2);
      const linked = listed.filter((t) => t.payoutReference === payout.id);
      expect(linked.map((t) => t.type).sort()).toEqual(['charge', 'charge', 'payout', 'refund']);
      const own = linked.find((t) => t.type === 'payout');
      expect(own).toMatchObject({
        amount: -12_505,
        fee: 0,
        net: -12_505,
        currency: 'EUR',
        sourceReference: payout.id,
        reportingCategory: 'payout',
      });
      const paidOut = linked.filter((t) => t.type !== 'payout');
      expect(paidOut.reduce((sum, t) => sum + t.net, 0)).toBe(payout.amount);
      expect(paidOut.find((t) => t.type === 'refund')).toMatchObject({
        sourceReference: refund.processorReference,
        amount: -2_000,
        status: 'available',
      });
      // Each transaction appears unlinked (created in the window) and linked (the payout's list).
      expect(new Set(listed.map((t) => t.id)).size).toBe(4);
    });

    it("takes a payout's transactions only when the payout was created in the window", async () => {
      await charge(GBP, 3_000);
      const twoDaysAgo = Math.floor(Date.now() / 1000) - 2 * 86_400;
      const payout = fake.createPayout({ currency: 'gbp', created: twoDaysAgo });

      // Now: the charge, but its payout is outside the window, so nothing names it.
      const now = await list(new Date(Date.now() - 5_000), new Date(Date.now() + 1_000));
      const gbp = now.filter((t) => t.currency === 'GBP');
      expect(gbp).toHaveLength(1);
      expect(gbp[0].payoutReference ?? null).toBeNull();

      // Two days ago: the payout's own transaction, and through the payout the charge it paid.
      const then = await list(
        new Date((twoDaysAgo - 60) * 1000),
        new Date((twoDaysAgo + 60) * 1000),
      );
      expect(
        then
          .filter((t) => t.payoutReference === payout.id)
          .map((t) => t.type)
          .sort(),
      ).toEqual(['charge', 'payout']);
      expect(then.some((t) => t.type === 'charge' && !t.payoutReference)).toBe(false);
    });

    it('pages through payouts created in the window', async () => {
      const from = new Date(Date.now() - 1000);
      const ids: string[] = [];
      for (let i = 0; i < 3; i += 1) {
        await charge(parseCurrency('CHF')!, 1_000 + i);
        ids.push(fake.createPayout({ currency: 'chf' }).id);
      }
      const listed = await list(from, new Date(Date.now() + 1000), 1);
      const chf = listed.filter((t) => t.currency === 'CHF');
      const payouts = new Set(chf.map((t) => t.payoutReference).filter(Boolean));
      expect([...payouts].sort()).toEqual([...ids].sort());
    });

    it('answers 404 for the transactions of an unknown payout', async () => {
      const response = await fetch(`${fake.baseUrl}/v1/balance_transactions?payout=po_missing`, {
        headers: { authorization: `Bearer ${SECRET_KEY}` },
      });
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: { code: 'resource_missing' } });
    });
  });
});
