export * from './messages';
export * from './processor-adapter';
export * from './processor-error';
export * from './subjects';
export * from './balance-transactions';
