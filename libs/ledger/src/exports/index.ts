export * from './amounts';
export * from './csv';
export * from './export-contract';
export * from './formats';
export * from './ledger-export.service';
export * from './ledger-export.client';
export * from './mapping';
