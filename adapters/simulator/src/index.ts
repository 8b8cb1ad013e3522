export * from './memory-simulator-store';
export * from './simulator-status';
export * from './simulator-store';
export * from './simulator-tokens';
export * from './simulator-webhook';
export * from './simulator.adapter';
export * from './sql-simulator-store';
export { SIMULATOR_HOT_STATEMENTS } from './sql-simulator-statements';
