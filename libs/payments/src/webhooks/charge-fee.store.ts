import { EntityManager } from 'typeorm';
import { KnownFee } from '../events';
import { ChargeFact } from './webhook-effect';
import { preparedSql } from '../../../persistence/src';

const RECORD_CHARGE_FACT_SQL = preparedSql(
  `INSERT INTO payment_fees (payment_id, processor, charge_reference,
       balance_transaction_reference, fee, net, currency, fee_recorded_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $5::bigint IS NULL THEN NULL ELSE now() END)
     ON CONFLICT (payment_id) DO UPDATE SET
       charge_reference = COALESCE(EXCLUDED.charge_reference, payment_fees.charge_reference),
       balance_transaction_reference = COALESCE(EXCLUDED.balance_transaction_reference,
         payment_fees.balance_transaction_reference),
       fee = COALESCE(payment_fees.fee, EXCLUDED.fee),
       net = COALESCE(payment_fees.net, EXCLUDED.net),
       currency = COALESCE(payment_fees.currency, EXCLUDED.currency),
       fee_recorded_at = COALESCE(payment_fees.fee_recorded_at, EXCLUDED.fee_recorded_at),
       updated_at = now()`,
);
const KNOWN_FEE_SQL = preparedSql(
  `SELECT fee, net, currency FROM payment_fees WHERE payment_id = $1 AND fee IS NOT NULL`,
);
const PAYMENT_OF_REFERENCE_SQL = preparedSql(
  `SELECT id FROM payments WHERE processor = $1 AND processor_reference = $2`,
);
const PAYMENT_OF_CHARGE_SQL = preparedSql(
  `SELECT payment_id FROM payment_fees WHERE processor = $1 AND charge_reference = $2`,
);

/**
 * A payment's charge and fee (table payment_fees). The fee is written once, when first known,
 * and never changes after (a balance transaction's fee is fixed). The caller holds the payment's
 * row lock, so two writers of one payment never interleave.
 */
export async function recordChargeFact(
  tx: EntityManager,
  paymentId: string,
  processor: string,
  fact: ChargeFact,
): Promise<{ newlyKnown: KnownFee | null }> {
  const before = await feeOf(tx, paymentId);
  await tx.query(RECORD_CHARGE_FACT_SQL, [
    paymentId,
    processor,
    fact.chargeReference,
    fact.balanceTransaction,
    fact.fee,
    fact.net,
    fact.currency,
  ]);
  const known = !before && fact.fee !== null && fact.net !== null && fact.currency !== null;
  return {
    newlyKnown: known
      ? {
          fee: fact.fee!,
          net: fact.net!,
          currency: fact.currency!,
          ...(fact.transaction ? { balanceTransaction: fact.transaction } : {}),
        }
      : null,
  };
}

/** The payment's fee and net, when known. */
export async function feeOf(tx: EntityManager, paymentId: string): Promise<KnownFee | null> {
  const [row] = await tx.query(KNOWN_FEE_SQL, [paymentId]);
  return row ? { fee: Number(row.fee), net: Number(row.net), currency: row.currency } : null;
}

/** Our payment whose charge this is (disputes name the charge; older API versions nothing else). */
export async function paymentIdOfCharge(
  tx: EntityManager,
  processor: string,
  chargeReference: string,
): Promise<string | null> {
  const [row] = await tx.query(PAYMENT_OF_CHARGE_SQL, [processor, chargeReference]);
  return row?.payment_id ?? null;
}

/** Our payment the processor knows by this reference (its PaymentIntent, say). */
export async function paymentIdOfReference(
  tx: EntityManager,
  processor: string,
  processorReference: string,
): Promise<string | null> {
  const [row] = await tx.query(PAYMENT_OF_REFERENCE_SQL, [processor, processorReference]);
  return row?.id ?? null;
}
