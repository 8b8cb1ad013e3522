import { monotonicFactory } from 'ulid';

const ulid = monotonicFactory();

/**
 * `dsp` = our dispute, `pyo` = our payout (Stripe's own payout ids start with `po_`), `rex` = a
 * reconciliation exception (generated in SQL by `reconciliation_new_id('rex')`, same shape).
 */
export type IdPrefix =
  'pay' | 'att' | 'ref' | 'obx' | 'cli' | 'gpm' | 'evt' | 'je' | 'dsp' | 'pyo' | 'rex';

/** Prefixed, time-sortable identifiers (`pay_01J…`), generated in the application. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${ulid().toLowerCase()}`;
}

export function hasPrefix(id: string, prefix: IdPrefix): boolean {
  return id.startsWith(`${prefix}_`) && id.length === prefix.length + 27;
}
