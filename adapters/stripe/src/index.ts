export * from './stripe-balance-transactions';
export * from './stripe-decline';
export * from './stripe-errors';
export * from './stripe-options';
export * from './stripe-status';
export * from './stripe-webhook';
export * from './stripe.adapter';
