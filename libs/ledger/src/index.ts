export * from './chart-of-accounts';
export * from './ledger-books';
export * from './ledger-event-consumer';
export * from './ledger-queries';
export * from './ledger-query.client';
export * from './posting-rules';
export * from './query-contract';
