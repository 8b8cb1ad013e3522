// Stripe event bodies for disputes, payouts and charges, in Stripe's own JSON shape (tests post
// them through the intake or have the fake Stripe emit their `data.object`).

let seq = 0;
export const testStripeId = (prefix: string) =>
  `${prefix}_${Date.now().toString(36)}${(seq++).toString(36)}`;

export function stripeDispute(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: testStripeId('dp'),
    object: 'dispute',
    amount: 1000,
    currency: 'eur',
    charge: testStripeId('ch'),
    payment_intent: null,
    reason: 'fraudulent',
    status: 'needs_response',
    evidence_details: { due_by: Math.floor(Date.now() / 1000) + 7 * 86400 },
    ...over,
  };
}

export function stripePayout(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: testStripeId('po'),
    object: 'payout',
    amount: 12_345,
    currency: 'eur',
    arrival_date: Math.floor(Date.now() / 1000) + 86400,
    status: 'paid',
    failure_code: null,
    ...over,
  };
}

/** A whole event; `created` in seconds (Stripe's resolution). */
export function stripeEventOf(
  type: string,
  object: unknown,
  created = Math.floor(Date.now() / 1000),
): Record<string, unknown> {
  return { id: testStripeId('evt'), object: 'event', type, created, data: { object } };
}
