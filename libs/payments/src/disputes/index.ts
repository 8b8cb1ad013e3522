export * from './dispute-query.service';
export * from './dispute.view';
