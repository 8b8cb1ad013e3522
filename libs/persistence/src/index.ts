export * from './database';
export * from './persistence.module';
export * from './prepared-statements';
export * from './group-commit';
