import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { NatsConnection, Subscription } from '@nats-io/transport-node';
import { Subjects } from '../../../../libs/contracts/src';
import { NATS_CONNECTION } from '../../../../libs/messaging/src';
import { LOGGER, Logger } from '../../../../libs/observability/src';
import { PaymentView } from '../../../../libs/payments/src';

type Listener = () => void;

/**
 * Feeds `paymentUpdated` subscriptions from the payment events every worker publishes
 * (core NATS subscription on payments.evt.>, so every gateway copy sees every event).
 * A payment is reloaded only when someone in this process watches it.
 */
@Injectable()
export class PaymentUpdatesBridge implements OnModuleInit, OnModuleDestroy {
  private readonly listeners = new Map<string, Set<Listener>>();
  private subscription?: Subscription;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.subscription = this.nc.subscribe(this.subjects.allEvents, {
      callback: (error, msg) => {
        if (error) return this.logger.warn({ err: error }, 'payment events subscription error');
        // Nobody in this process watches a payment: nothing to parse (every event passes here).
        if (this.listeners.size === 0) return;
        try {
          const paymentId = (msg.json() as { payment?: { id?: unknown } }).payment?.id;
          if (typeof paymentId === 'string')
            this.listeners.get(paymentId)?.forEach((notify) => notify());
        } catch {
          // Malformed events are the consumers' business (dead-lettered there); ignore here.
        }
      },
    });
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  /**
   * Yields the payment now, then each time it changes. The listener is registered before the
   * first load, so a change between the two is never missed.
   */
  watch(
    paymentId: string,
    load: () => Promise<PaymentView>,
  ): AsyncGenerator<{ paymentUpdated: PaymentView }> {
    let changed = true;
    let wake: (() => void) | undefined;
    const listener = () => {
      changed = true;
      wake?.();
    };
    const set = this.listeners.get(paymentId) ?? new Set();
    set.add(listener);
    this.listeners.set(paymentId, set);
    const remove = () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(paymentId);
    };
    return (async function* stream() {
      let last: PaymentView | undefined;
      try {
        for (;;) {
          if (!changed) await new Promise<void>((resolve) => (wake = resolve));
          changed = false;
          const current = await load();
          if (
            !last ||
            current.status !== last.status ||
            current.updatedAt.getTime() !== last.updatedAt.getTime()
          ) {
            last = current;
            yield { paymentUpdated: current };
          }
        }
      } finally {
        remove();
      }
    })();
  }
}
