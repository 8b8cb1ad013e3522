import {
  BalanceTransactionSnapshot,
  ProcessorBalanceTransaction,
  balanceTransactionSnapshotSchema,
} from '../../../contracts/src';
import { ChargeFact, WebhookEffect } from './webhook-effect';

/** Asks a processor for one balance transaction (null: the processor does not offer it / know it). */
export type BalanceTransactionLookup = (
  processor: string,
  id: string,
) => Promise<BalanceTransactionSnapshot | null>;

/** The charge fact an effect carries, if any. */
export function chargeFactOf(effect: WebhookEffect): ChargeFact | null {
  if (effect.kind === 'charge') return effect.charge;
  if (effect.kind === 'payment') return effect.charge ?? null;
  return null;
}

/**
 * A charge that names its balance transaction but not its fee (Stripe sends the id unless the
 * endpoint expands it): the transaction to ask the processor for, or null.
 */
export function feeToLearn(effect: WebhookEffect): string | null {
  const fact = chargeFactOf(effect);
  return fact?.balanceTransaction && fact.fee === null ? fact.balanceTransaction : null;
}

/**
 * The effect with the charge's fee, net and currency taken from the transaction the processor
 * answered; unchanged if that transaction belongs to another charge (never trust a mismatch).
 */
export function withLearnedFee(
  effect: WebhookEffect,
  transaction: BalanceTransactionSnapshot,
): WebhookEffect {
  const fact = chargeFactOf(effect);
  if (!fact || fact.balanceTransaction !== transaction.id) return effect;
  if (fact.chargeReference && transaction.sourceReference !== fact.chargeReference) return effect;
  const charge: ChargeFact = {
    ...fact,
    fee: transaction.fee,
    net: transaction.net,
    currency: transaction.currency,
    transaction,
  };
  if (effect.kind === 'charge') return { ...effect, charge };
  if (effect.kind === 'payment') return { ...effect, charge };
  return effect;
}

/** A processor's balance transaction in the event contract's shape; null if it is not valid. */
export function balanceTransactionSnapshot(
  t: ProcessorBalanceTransaction,
): BalanceTransactionSnapshot | null {
  const parsed = balanceTransactionSnapshotSchema.safeParse({
    id: t.id,
    type: t.type,
    reportingCategory: t.reportingCategory,
    amount: t.amount,
    fee: t.fee,
    net: t.net,
    currency: t.currency,
    status: t.status,
    createdAt: t.createdAt.toISOString(),
    availableOn: t.availableOn ? t.availableOn.toISOString() : null,
    sourceReference: t.sourceReference,
  });
  return parsed.success ? parsed.data : null;
}
