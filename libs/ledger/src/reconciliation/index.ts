// Reconciliation (DESIGN.md §7): the matching engine, batch runs, balance-transaction ingest and
// pull (engine), and the exception queue, summary and resolution (operations).
export * from './balance-transaction-ingest';
export * from './payout-reconciliation';
export * from './reconcile-period';
export * from './reconciliation-counts';
export * from './reconciliation-engine';
export * from './reconciliation-windows';
export * from './balance-transaction-pull';
export * from './realtime-reconciler';
