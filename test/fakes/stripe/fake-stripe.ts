import { FakeStripeFault, FaultSlot } from './fake-stripe-faults';
import { PaymentIntentObject, PayoutObject } from './fake-stripe-objects';
import { completeThreeDS } from './fake-stripe-payment-intents';
import { FAKE_STRIPE_API_VERSION, FakeStripeServer } from './fake-stripe-server';
import { FakeStripeStore } from './fake-stripe-store';
import {
  WebhookDelivery,
  WebhookEvent,
  WebhookSender,
  WebhookTarget,
} from './fake-stripe-webhooks';

export interface FakeStripeOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** Requests a second over all endpoints before 429; Stripe's test mode allows 25. */
  readonly rateLimitPerSec?: number;
  /** Where events are POSTed, signed with this secret. */
  readonly webhook?: WebhookTarget;
  /** Accept only this API key (default: any well-formed sk_test_/rk_test_ key). */
  readonly secretKey?: string;
}

export interface FakeStripeFaults {
  /** Replaces the current fault; resolves once an outage started or ended. */
  set(fault: FakeStripeFault | null): Promise<void>;
  readonly current: FakeStripeFault | null;
}

export interface FakeStripe {
  readonly baseUrl: string;
  readonly faults: FakeStripeFaults;
  setRateLimit(perSec: number): void;
  /** Every PaymentIntent created, declined ones included. */
  paymentIntentsCreated(): number;
  /** PaymentIntents with metadata.payment_id = paymentId that authorized or moved money. */
  chargesFor(paymentId: string): number;
  refundsCreated(): number;
  /** Requests that arrived with this Idempotency-Key, dropped and replayed ones included. */
  requestsByIdempotencyKey(key: string): number;
  rateLimitedCount(): number;
  requestCount(): number;
  paymentIntent(id: string): PaymentIntentObject | undefined;
  /** Emits (and delivers, when a webhook target is set) an event of this type. */
  emitWebhook(type: string, object: unknown): Promise<WebhookDelivery | null>;
  /** Events generated so far, automatic ones included, oldest first. */
  events(): readonly WebhookEvent[];
  webhookDeliveries(): readonly WebhookDelivery[];
  /** Waits until every started webhook delivery has finished. */
  settleWebhooks(): Promise<void>;
  /**
   * Pays out the available balance of `currency`: every balance transaction not paid out yet
   * (they then list under `GET /v1/balance_transactions?payout=po_…`), plus the payout's own
   * balance transaction (type 'payout', negative amount). `created` (unix seconds) backdates it.
   * Throws when there is nothing positive to pay out. Emits no webhook (use emitWebhook).
   */
  createPayout(options: { currency: string; created?: number }): PayoutObject;
  /** Finishes the 3-D Secure step of a requires_action PaymentIntent. */
  completeThreeDS(paymentIntentId: string, outcome: 'succeed' | 'fail'): PaymentIntentObject;
  stop(): Promise<void>;
}

/**
 * Starts an in-process, stateful fake of the parts of Stripe's v1 API the adapter uses, speaking
 * the wire format of the official SDK, with injectable faults and signed webhooks.
 */
export async function startFakeStripe(options: FakeStripeOptions = {}): Promise<FakeStripe> {
  const webhooks = new WebhookSender(options.webhook, FAKE_STRIPE_API_VERSION);
  const store = new FakeStripeStore((type, object) => void webhooks.emit(type, object));
  const slot = new FaultSlot();
  const server = new FakeStripeServer({
    store,
    faults: slot,
    rateLimitPerSec: options.rateLimitPerSec ?? 25,
    secretKey: options.secretKey,
  });
  await server.listen(options.port ?? 0);
  const baseUrl = server.baseUrl;

  const faults: FakeStripeFaults = {
    async set(fault) {
      slot.set(fault);
      if (fault?.kind === 'outage') await server.close();
      else await server.reopen();
    },
    get current() {
      return slot.current;
    },
  };

  return {
    baseUrl,
    faults,
    setRateLimit: (perSec) => server.setRateLimit(perSec),
    paymentIntentsCreated: () => store.intents.size,
    chargesFor: (paymentId) => store.chargesFor(paymentId),
    refundsCreated: () => store.refunds.size,
    requestsByIdempotencyKey: (key) => server.requestsByIdempotencyKey(key),
    rateLimitedCount: () => server.rateLimited,
    requestCount: () => server.requests,
    paymentIntent: (id) => {
      const record = store.intents.get(id);
      return record ? structuredClone(record.intent) : undefined;
    },
    emitWebhook: (type, object) => webhooks.emit(type, object),
    events: () => webhooks.events,
    webhookDeliveries: () => webhooks.deliveries,
    settleWebhooks: () => webhooks.settle(),
    completeThreeDS: (id, outcome) => completeThreeDS(store, id, outcome),
    createPayout: (payoutOptions) => store.createPayout(payoutOptions),
    async stop() {
      await server.close();
      await webhooks.settle();
    },
  };
}
