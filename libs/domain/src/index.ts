export * from './card-number';
export * from './currencies';
export * from './errors';
export * from './ids';
export * from './money';
export * from './payment-state-machine';
export * from './payment-status';
export * from './dispute-status';
