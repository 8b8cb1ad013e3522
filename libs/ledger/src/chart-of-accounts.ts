/**
 * The chart of accounts: a typed table of templates. Accounts are created on first use, one per
 * template and currency (and processor where the template says so); handlers and rules name a
 * template, never an account code string.
 */
export type AccountType = 'asset' | 'liability' | 'revenue' | 'expense' | 'equity';
export type Side = 'debit' | 'credit';

export interface AccountTemplate {
  readonly key: string;
  readonly name: string;
  readonly type: AccountType;
  readonly normalSide: Side;
  /** `processor`: one account per processor and currency; `currency`: one per currency. */
  readonly scope: 'processor' | 'currency';
}

export const ACCOUNT_TEMPLATES = {
  /** What the processor owes us: gross captures, less fees, refunds and payouts. */
  processorReceivable: {
    key: 'receivable',
    name: 'Processor receivable',
    type: 'asset',
    normalSide: 'debit',
    scope: 'processor',
  },
  /** Customer money received, not yet recognised as revenue by the business (a liability). */
  customerClearing: {
    key: 'clearing',
    name: 'Customer payments clearing',
    type: 'liability',
    normalSide: 'credit',
    scope: 'currency',
  },
  processingFees: {
    key: 'fees',
    name: 'Processing fees',
    type: 'expense',
    normalSide: 'debit',
    scope: 'processor',
  },
  /** Contra revenue: a revenue account whose normal side is debit. */
  refunds: {
    key: 'refunds',
    name: 'Refunds (contra revenue)',
    type: 'revenue',
    normalSide: 'debit',
    scope: 'currency',
  },
  disputes: {
    key: 'disputes',
    name: 'Disputes and chargebacks',
    type: 'expense',
    normalSide: 'debit',
    scope: 'processor',
  },
  bank: { key: 'bank', name: 'Bank (cash)', type: 'asset', normalSide: 'debit', scope: 'currency' },
  suspense: {
    key: 'suspense',
    name: 'Suspense',
    type: 'asset',
    normalSide: 'debit',
    scope: 'currency',
  },
} as const satisfies Record<string, AccountTemplate>;

export type AccountTemplateName = keyof typeof ACCOUNT_TEMPLATES;

/** A concrete account: what the ledger creates on first use. */
export interface AccountSpec {
  readonly code: string;
  readonly name: string;
  readonly type: AccountType;
  readonly normalSide: Side;
  readonly currency: string;
  readonly processor: string | null;
}

/** `receivable:simulator:USD`, `clearing:USD`: deterministic codes, stable across deploys. */
export function accountFor(
  template: AccountTemplateName,
  currency: string,
  processor: string | null = null,
): AccountSpec {
  const t: AccountTemplate = ACCOUNT_TEMPLATES[template];
  if (t.scope === 'processor' && !processor) {
    throw new Error(`account ${t.key} needs a processor`);
  }
  const owner = t.scope === 'processor' ? processor : null;
  return {
    code: owner ? `${t.key}:${owner}:${currency}` : `${t.key}:${currency}`,
    name: owner ? `${t.name} (${owner}, ${currency})` : `${t.name} (${currency})`,
    type: t.type,
    normalSide: t.normalSide,
    currency,
    processor: owner,
  };
}
