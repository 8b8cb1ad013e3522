export const PAYMENT_STATUSES = [
  'PENDING',
  'PROCESSING',
  'REQUIRES_ACTION',
  'AUTHORIZED',
  'SUCCEEDED',
  'FAILED',
  'CANCELED',
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export const CAPTURE_METHODS = ['AUTOMATIC', 'MANUAL'] as const;
export type CaptureMethod = (typeof CAPTURE_METHODS)[number];

export const PRIORITIES = ['CHECKOUT', 'BACKGROUND'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const REFUND_STATUSES = ['PENDING', 'SUCCEEDED', 'FAILED'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];
