export * from './command-consumer';
export * from './nats-connection';
export * from './outbox';
export * from './messaging.module';
