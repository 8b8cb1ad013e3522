/**
 * NATS subjects and JetStream streams (all versioned payloads are in `messages.ts`).
 *
 * | stream            | subjects           | retention  | purpose                               |
 * |-------------------|--------------------|------------|---------------------------------------|
 * | PAYMENT_COMMANDS  | payments.cmd.>     | work queue | commands for apps/worker              |
 * | PAYMENT_EVENTS    | payments.evt.>     | limits 7 d | facts for the ledger, subscriptions   |
 * | FINANCE_EVENTS    | refunds.evt.>,     | limits 7 d | refund, dispute and payout facts      |
 * |                   | disputes.evt.>,    |            | (ledger, reconciliation)              |
 * |                   | payouts.evt.>      |            |                                       |
 * | DEAD_LETTERS      | dlq.>              | limits 30 d| rejected messages with their reason   |
 *
 * A namespace (tests only) prefixes every subject and stream so runs never share state.
 */
export const COMMAND_TYPES = [
  'authorize',
  'capture',
  'cancel',
  'refund',
  'sync',
  'webhook',
] as const;
export type CommandType = (typeof COMMAND_TYPES)[number];

export const EVENT_TYPES = [
  'processing',
  'requires_action',
  'authorized',
  'succeeded',
  'failed',
  'captured',
  'canceled',
  'refunded',
  'refund_failed',
  // The processor's fee of the payment's charge became known (book the fee from this event).
  'fee_recorded',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** `refunds.evt.*`: a refund settled (its payment's `payments.evt.refunded` is kept too). */
export const REFUND_EVENT_TYPES = ['succeeded', 'failed'] as const;
export type RefundEventType = (typeof REFUND_EVENT_TYPES)[number];

/** `disputes.evt.*`: `closed` = an inquiry closed without a chargeback, or one prevented. */
export const DISPUTE_EVENT_TYPES = ['opened', 'updated', 'won', 'lost', 'closed'] as const;
export type DisputeEventType = (typeof DISPUTE_EVENT_TYPES)[number];

/** `payouts.evt.*`: money left the processor balance for the bank, or came back. */
export const PAYOUT_EVENT_TYPES = ['paid', 'failed'] as const;
export type PayoutEventType = (typeof PAYOUT_EVENT_TYPES)[number];

export interface StreamSpec {
  readonly name: string;
  readonly subjects: readonly string[];
  readonly retention: 'workqueue' | 'limits';
  readonly maxAgeSeconds: number;
}

export class Subjects {
  constructor(readonly namespace = '') {}

  private prefix(subject: string): string {
    return this.namespace ? `${this.namespace}.${subject}` : subject;
  }

  private streamName(name: string): string {
    return this.namespace ? `${this.namespace.toUpperCase()}_${name}` : name;
  }

  command(type: CommandType): string {
    return this.prefix(`payments.cmd.${type}`);
  }

  event(type: EventType): string {
    return this.prefix(`payments.evt.${type}`);
  }

  refundEvent(type: RefundEventType): string {
    return this.prefix(`refunds.evt.${type}`);
  }

  disputeEvent(type: DisputeEventType): string {
    return this.prefix(`disputes.evt.${type}`);
  }

  payoutEvent(type: PayoutEventType): string {
    return this.prefix(`payouts.evt.${type}`);
  }

  get allCommands(): string {
    return this.prefix('payments.cmd.>');
  }

  get allEvents(): string {
    return this.prefix('payments.evt.>');
  }

  deadLetter(original: string): string {
    return this.prefix(`dlq.${original}`);
  }

  /** The last token of a subject: `payments.cmd.capture` → `capture`. */
  typeOf(subject: string): string {
    return subject.slice(subject.lastIndexOf('.') + 1);
  }

  /** Refund, dispute and payout facts (stream FINANCE_EVENTS). */
  get allFinanceEvents(): string[] {
    return ['refunds', 'disputes', 'payouts'].map((name) => this.prefix(`${name}.evt.>`));
  }

  get streams(): {
    commands: StreamSpec;
    events: StreamSpec;
    finance: StreamSpec;
    deadLetters: StreamSpec;
  } {
    return {
      commands: {
        name: this.streamName('PAYMENT_COMMANDS'),
        subjects: [this.allCommands],
        retention: 'workqueue',
        maxAgeSeconds: 7 * 86400,
      },
      events: {
        name: this.streamName('PAYMENT_EVENTS'),
        subjects: [this.allEvents],
        retention: 'limits',
        maxAgeSeconds: 7 * 86400,
      },
      finance: {
        name: this.streamName('FINANCE_EVENTS'),
        subjects: this.allFinanceEvents,
        retention: 'limits',
        maxAgeSeconds: 7 * 86400,
      },
      deadLetters: {
        name: this.streamName('DEAD_LETTERS'),
        subjects: [this.prefix('dlq.>')],
        retention: 'limits',
        maxAgeSeconds: 30 * 86400,
      },
    };
  }

  /** Core NATS (not stored): each worker's processor health snapshot, every second. */
  get processorHealth(): string {
    return this.prefix('processors.health');
  }

  get workerDurable(): string {
    return 'payment-worker';
  }
}
