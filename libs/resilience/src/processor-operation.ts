import { RateLimitLane } from './rate-limit-lane';

export const PROCESSOR_OPERATIONS = [
  'authorize',
  'capture',
  'cancel',
  'refund',
  'retrieve',
] as const;
export type ProcessorOperation = (typeof PROCESSOR_OPERATIONS)[number];

/**
 * Lane per verb unless the caller pins one with `withLane`. Capture and cancel finish or undo a
 * checkout the customer is waiting on, so they ride with it; status syncs are background work.
 */
export const DEFAULT_OPERATION_LANES: Readonly<Record<ProcessorOperation, RateLimitLane>> = {
  authorize: 'CHECKOUT',
  capture: 'CHECKOUT',
  cancel: 'CHECKOUT',
  refund: 'REFUND',
  retrieve: 'BACKGROUND',
};
