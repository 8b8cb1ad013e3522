/** Priority lanes of the per-processor rate limiter (DESIGN.md §6). */
export const RATE_LIMIT_LANES = ['CHECKOUT', 'REFUND', 'OPERATOR', 'BACKGROUND'] as const;
export type RateLimitLane = (typeof RATE_LIMIT_LANES)[number];

/** Lower tier is served first; REFUND and OPERATOR share a tier and are served by arrival. */
export const LANE_TIER: Readonly<Record<RateLimitLane, number>> = {
  CHECKOUT: 0,
  REFUND: 1,
  OPERATOR: 1,
  BACKGROUND: 2,
};
