export * from './fake-stripe';
export type { FakeStripeFault } from './fake-stripe-faults';
export type {
  BalanceTransactionObject,
  PaymentIntentObject,
  PayoutObject,
  RefundObject,
} from './fake-stripe-objects';
export { signStripePayload } from './fake-stripe-webhooks';
export type { WebhookDelivery, WebhookEvent, WebhookTarget } from './fake-stripe-webhooks';
