import { createHash } from 'node:crypto';
import { RoutingRule, RoutingRules } from './routing-rules';

export interface RouteInput {
  readonly paymentId: string;
  readonly amount: number;
  readonly currency: string;
  /** `gateway` for a gpm_ payment method, else the processor that issued the token. */
  readonly paymentMethodType: string;
  readonly country: string | null;
  readonly metadata: Readonly<Record<string, string>> | null;
}

export interface RouteCandidate {
  readonly processor: string;
  readonly token: string;
}

/** Stored on the payment: which processors, in which order, and why. */
export interface RouteDecision {
  readonly rule: string;
  readonly reason: string;
  readonly candidates: readonly RouteCandidate[];
}

function matches(rule: RoutingRule, input: RouteInput): boolean {
  const m = rule.match;
  if (m.currencies && !m.currencies.includes(input.currency)) return false;
  if (m.amountMin !== undefined && input.amount < m.amountMin) return false;
  if (m.amountMax !== undefined && input.amount > m.amountMax) return false;
  if (m.paymentMethodTypes && !m.paymentMethodTypes.includes(input.paymentMethodType)) return false;
  if (m.countries && (!input.country || !m.countries.includes(input.country))) return false;
  for (const [key, value] of Object.entries(m.metadata ?? {})) {
    if (input.metadata?.[key] !== value) return false;
  }
  return true;
}

/** Deterministic per payment (a redelivered command routes the same way): bucket 0–99. */
export function splitBucket(paymentId: string): number {
  return createHash('sha256').update(paymentId).digest().readUInt32BE(0) % 100;
}

function ordered(rule: RoutingRule, paymentId: string): { processors: string[]; note: string } {
  if (!rule.split) return { processors: [...(rule.processors ?? [])], note: '' };
  const total = rule.split.reduce((sum, s) => sum + s.weight, 0);
  const point = (splitBucket(paymentId) / 100) * total;
  let acc = 0;
  const chosen = rule.split.find((s) => (acc += s.weight) > point) ?? rule.split[0];
  const rest = rule.split.filter((s) => s !== chosen).map((s) => s.processor);
  return {
    processors: [chosen.processor, ...rest, ...(rule.processors ?? [])],
    note: ` (split: ${chosen.processor} drew bucket ${splitBucket(paymentId)} of weights ${rule.split.map((s) => `${s.processor}=${s.weight}`).join(',')})`,
  };
}

/**
 * The first matching rule (else the default) orders the processors; only those holding a
 * token for this payment method remain. Empty candidates mean the payment cannot be routed.
 */
export function decideRoute(
  rules: RoutingRules,
  input: RouteInput,
  tokens: ReadonlyMap<string, string>,
): RouteDecision {
  const rule = rules.rules.find((r) => matches(r, input));
  const { processors, note } = rule
    ? ordered(rule, input.paymentId)
    : { processors: rules.default.processors, note: '' };
  const unique = [...new Set(processors)];
  const candidates = unique
    .filter((p) => tokens.has(p))
    .map((p) => ({ processor: p, token: tokens.get(p)! }));
  const skipped = unique.filter((p) => !tokens.has(p));
  const reason =
    `${rule ? `rule "${rule.name}" matched` : 'no rule matched: default order'}${note}; order ${unique.join(' > ')}` +
    (skipped.length ? `; skipped ${skipped.join(', ')} (no token for this payment method)` : '');
  return { rule: rule?.name ?? 'default', reason, candidates };
}
