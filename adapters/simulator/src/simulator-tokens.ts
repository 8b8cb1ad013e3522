/** Test payment-method tokens of the simulated processor (shared/API.md). */
export const SIMULATOR_TOKENS = {
  ok: 'sim_ok',
  declineInsufficientFunds: 'sim_decline_insufficient_funds',
  declineDoNotHonor: 'sim_decline_do_not_honor',
  declineStolenCard: 'sim_decline_stolen_card',
  requiresAction: 'sim_3ds',
  timeout: 'sim_timeout',
  unavailable: 'sim_unavailable',
} as const;

export const SIMULATOR_TOKEN_PREFIX = 'sim_';

export type TokenBehaviour =
  | { readonly type: 'charge' }
  /** The charge is made and saved, but the caller only sees a timeout. */
  | { readonly type: 'charge_then_timeout' }
  | { readonly type: 'requires_action' }
  | { readonly type: 'decline'; readonly declineCode: string; readonly hardDecline: boolean }
  /** Refused before anything is processed. */
  | { readonly type: 'unavailable' };

const BEHAVIOURS: ReadonlyMap<string, TokenBehaviour> = new Map<string, TokenBehaviour>([
  [SIMULATOR_TOKENS.ok, { type: 'charge' }],
  [SIMULATOR_TOKENS.timeout, { type: 'charge_then_timeout' }],
  [SIMULATOR_TOKENS.requiresAction, { type: 'requires_action' }],
  [SIMULATOR_TOKENS.unavailable, { type: 'unavailable' }],
  [
    SIMULATOR_TOKENS.declineInsufficientFunds,
    { type: 'decline', declineCode: 'insufficient_funds', hardDecline: false },
  ],
  [
    SIMULATOR_TOKENS.declineDoNotHonor,
    { type: 'decline', declineCode: 'do_not_honor', hardDecline: false },
  ],
  [
    SIMULATOR_TOKENS.declineStolenCard,
    { type: 'decline', declineCode: 'stolen_card', hardDecline: true },
  ],
]);

/** How the simulator treats a token; undefined for a token it never issued. */
export function tokenBehaviour(token: string): TokenBehaviour | undefined {
  return BEHAVIOURS.get(token);
}
