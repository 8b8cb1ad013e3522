import Stripe from 'stripe';
import { nowSeconds, stripeId } from './fake-stripe-ids';

export interface WebhookTarget {
  readonly url: string;
  readonly secret: string;
}

export interface WebhookEvent {
  readonly id: string;
  readonly object: 'event';
  readonly api_version: string;
  readonly created: number;
  readonly livemode: false;
  readonly pending_webhooks: number;
  readonly type: string;
  readonly data: { readonly object: unknown };
  readonly request: { readonly id: string | null; readonly idempotency_key: string | null };
}

export interface WebhookDelivery {
  readonly event: WebhookEvent;
  /** HTTP status of the receiver, or 0 when the POST failed. */
  readonly status: number;
}

/** Builds Stripe events and POSTs them signed the way Stripe does (`Stripe-Signature`). */
export class WebhookSender {
  readonly events: WebhookEvent[] = [];
  readonly deliveries: WebhookDelivery[] = [];
  private readonly pending = new Set<Promise<WebhookDelivery | null>>();

  constructor(
    private readonly target: WebhookTarget | undefined,
    private readonly apiVersion: string,
  ) {}

  /** Records the event and starts its delivery; `settle()` waits for deliveries. */
  emit(type: string, object: unknown): Promise<WebhookDelivery | null> {
    const event: WebhookEvent = {
      id: stripeId('evt'),
      object: 'event',
      api_version: this.apiVersion,
      created: nowSeconds(),
      livemode: false,
      pending_webhooks: this.target ? 1 : 0,
      type,
      data: { object: structuredClone(object) },
      request: { id: null, idempotency_key: null },
    };
    this.events.push(event);
    const delivery = this.deliver(event);
    this.pending.add(delivery);
    void delivery.finally(() => this.pending.delete(delivery));
    return delivery;
  }

  async settle(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  private async deliver(event: WebhookEvent): Promise<WebhookDelivery | null> {
    if (!this.target) return null;
    const payload = JSON.stringify(event, null, 2);
    const signature = Stripe.webhooks.generateTestHeaderString({
      payload,
      secret: this.target.secret,
      timestamp: nowSeconds(),
    });
    const status = await fetch(this.target.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Stripe-Signature': signature },
      body: payload,
    }).then(
      (response) => response.status,
      () => 0,
    );
    const delivery = { event, status };
    this.deliveries.push(delivery);
    return delivery;
  }
}

/** Signs a payload like Stripe; for tests that post their own webhooks. */
export function signStripePayload(
  payload: string,
  secret: string,
  timestamp = nowSeconds(),
): string {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
}
