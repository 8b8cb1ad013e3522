/** What confirming with one of Stripe's test payment methods does. */
export type CardBehaviour =
  | { readonly type: 'succeed'; readonly brand: string }
  | { readonly type: 'three_ds'; readonly brand: string }
  | {
      readonly type: 'decline';
      readonly code: string;
      readonly declineCode: string;
      readonly message: string;
    };

// Names and outcomes of Stripe's documented test PaymentMethods (docs.stripe.com/testing).
const CARDS: Readonly<Record<string, CardBehaviour>> = {
  pm_card_visa: { type: 'succeed', brand: 'visa' },
  pm_card_mastercard: { type: 'succeed', brand: 'mastercard' },
  pm_card_threeDSecure2Required: { type: 'three_ds', brand: 'visa' },
  pm_card_chargeDeclined: decline('generic_decline', 'Your card was declined.'),
  pm_card_chargeDeclinedInsufficientFunds: decline(
    'insufficient_funds',
    'Your card has insufficient funds.',
  ),
  pm_card_chargeDeclinedFraudulent: decline('fraudulent', 'Your card was declined.'),
  pm_card_chargeDeclinedStolenCard: decline('stolen_card', 'Your card was declined.'),
};

export function cardBehaviour(paymentMethod: string): CardBehaviour | undefined {
  return Object.hasOwn(CARDS, paymentMethod) ? CARDS[paymentMethod] : undefined;
}

function decline(declineCode: string, message: string): CardBehaviour {
  return { type: 'decline', code: 'card_declined', declineCode, message };
}
