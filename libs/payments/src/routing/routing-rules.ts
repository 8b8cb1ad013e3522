import { readFileSync } from 'node:fs';
import { z } from 'zod';

const processorName = z.string().regex(/^[a-z][a-z0-9_-]{0,49}$/);

const matchSchema = z
  .object({
    currencies: z
      .array(z.string().regex(/^[A-Z]{3}$/))
      .min(1)
      .optional(),
    amountMin: z.number().int().positive().optional(),
    amountMax: z.number().int().positive().optional(),
    /** `gateway` for a gpm_ payment method, else the processor that issued the token. */
    paymentMethodTypes: z.array(z.string()).min(1).optional(),
    countries: z
      .array(z.string().regex(/^[A-Z]{2}$/))
      .min(1)
      .optional(),
    metadata: z.record(z.string(), z.string()).optional(),
  })
  .strict()
  .refine(
    (m) => !(m.amountMin && m.amountMax) || m.amountMin <= m.amountMax,
    'amountMin must be ≤ amountMax',
  );

const splitSchema = z
  .array(z.object({ processor: processorName, weight: z.number().int().positive() }).strict())
  .min(1);

const ruleSchema = z
  .object({
    name: z.string().min(1).max(100),
    match: matchSchema.default({}),
    /** Ordered: the first is primary, the rest are fallbacks. */
    processors: z.array(processorName).min(1).optional(),
    /** Percentage split for the primary; the other split members and `processors` follow as fallbacks. */
    split: splitSchema.optional(),
  })
  .strict()
  .refine((r) => r.processors || r.split, 'a rule needs processors or split');

export const routingRulesSchema = z
  .object({
    version: z.literal(1),
    rules: z.array(ruleSchema).default([]),
    default: z.object({ processors: z.array(processorName).min(1) }).strict(),
  })
  .strict();

export type RoutingRules = z.infer<typeof routingRulesSchema>;
export type RoutingRule = RoutingRules['rules'][number];

export class RoutingConfigError extends Error {
  constructor(path: string, problems: string[]) {
    super(`ROUTING_CONFIG (${path}) is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'RoutingConfigError';
  }
}

/** Reads and validates the routing file (JSON); every processor named must be configured. */
export function loadRoutingRules(path: string, configured: readonly string[]): RoutingRules {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new RoutingConfigError(path, [`cannot read it as JSON: ${(error as Error).message}`]);
  }
  return validateRoutingRules(raw, configured, path);
}

export function validateRoutingRules(
  raw: unknown,
  configured: readonly string[],
  path = '(inline)',
): RoutingRules {
  const parsed = routingRulesSchema.safeParse(raw);
  if (!parsed.success) {
    throw new RoutingConfigError(
      path,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  const unknown = new Set<string>();
  const named = [
    ...parsed.data.default.processors,
    ...parsed.data.rules.flatMap((r) => [
      ...(r.processors ?? []),
      ...(r.split ?? []).map((s) => s.processor),
    ]),
  ];
  for (const name of named) if (!configured.includes(name)) unknown.add(name);
  if (unknown.size > 0) {
    throw new RoutingConfigError(path, [
      `names processors that are not configured: ${[...unknown].join(', ')}`,
    ]);
  }
  return parsed.data;
}

/** Without a routing file: Stripe first when configured, the simulator as fallback. */
export function defaultRoutingRules(configured: readonly string[]): RoutingRules {
  const order = ['stripe', 'simulator'].filter((p) => configured.includes(p));
  const rest = configured.filter((p) => !order.includes(p));
  return { version: 1, rules: [], default: { processors: [...order, ...rest] } };
}
