import { feeToLearn } from './learned-fee';
import { simulatorWebhookEffect } from './simulator-webhook-effect';
import { stripeWebhookEffect } from './stripe-webhook-effect';
import { WebhookEffect, ignore } from './webhook-effect';

type EffectMapper = (type: string, payload: unknown) => WebhookEffect;

/** One mapping per processor; events of others are kept but ignored. */
const EFFECT_MAPPERS: Readonly<Record<string, EffectMapper>> = {
  stripe: stripeWebhookEffect,
  simulator: simulatorWebhookEffect,
};

/** What a stored webhook asks of our objects (pure: the processor, its type and payload). */
export function webhookEffectOf(processor: string, type: string, payload: unknown): WebhookEffect {
  const mapper = EFFECT_MAPPERS[processor];
  return mapper ? mapper(type, payload) : ignore(`no mapping for ${processor}`);
}

/**
 * Whether applying the webhook may need its charge's fee from the processor (a charge naming
 * its balance transaction without the fee). Known at intake, so the worker skips its pre-read
 * for every other event; an unreadable payload answers true (the worker then looks itself).
 */
export function mayNeedFeeLookup(processor: string, type: string, payload: unknown): boolean {
  try {
    return feeToLearn(webhookEffectOf(processor, type, payload)) !== null;
  } catch {
    return true;
  }
}
