/**
 * Decline codes after which the same card must not be tried again: the card is reported lost,
 * stolen or fraudulent, closed or blocked, or its data is wrong (Stripe's decline-code table,
 * "do not try again" / "customer must use another card"). Everything else — insufficient_funds,
 * generic_decline, do_not_honor, try_again_later, processing_error … — is soft.
 */
export const HARD_DECLINE_CODES: ReadonlySet<string> = new Set([
  'fraudulent',
  'lost_card',
  'stolen_card',
  'pickup_card',
  'restricted_card',
  'merchant_blacklist',
  'security_violation',
  'do_not_try_again',
  'revocation_of_all_authorizations',
  'revocation_of_authorization',
  'stop_payment_order',
  'invalid_account',
  'new_account_information_available',
  'card_not_supported',
  'currency_not_supported',
  'transaction_not_allowed',
  'not_permitted',
  'expired_card',
  'incorrect_number',
  'invalid_number',
  'invalid_expiry_month',
  'invalid_expiry_year',
]);

/** The issuer's reason when given (`decline_code`), else Stripe's `code`. */
export function normaliseDeclineCode(error: {
  readonly decline_code?: string | null;
  readonly code?: string | null;
}): string | undefined {
  const code = error.decline_code || error.code;
  return code ? code.trim().toLowerCase() : undefined;
}

/** Hard by code, or because the network's advice says not to retry as is. */
export function isHardDecline(declineCode: string, adviceCode?: string | null): boolean {
  if (adviceCode === 'do_not_try_again' || adviceCode === 'confirm_card_data') return true;
  if (adviceCode === 'try_again_later') return false;
  return HARD_DECLINE_CODES.has(declineCode);
}
