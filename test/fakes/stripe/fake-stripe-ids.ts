import { randomBytes } from 'node:crypto';

/** Stripe-looking object ids (`pi_…`, `re_…`, `txn_…`, `req_…`). */
export function stripeId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
