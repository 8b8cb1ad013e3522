import { ClientProxy } from '@nestjs/microservices';
import { askLedger } from '../ledger-query.client';
import {
  ExceptionPageDto,
  PayoutReconciliationDto,
  ReconciliationExceptionDto,
  ReconciliationPatternName,
  ReconciliationSummaryDto,
  ResolveInput,
  reconciliationSubject,
} from './exception-contract';

/**
 * The gateway's way to reconciliation: NATS request/reply to apps/ledger, never its tables.
 * Ledger refusals become API errors (BAD_USER_INPUT, NOT_FOUND, INVALID_STATE); silence or a
 * failure there becomes SERVICE_UNAVAILABLE.
 */
export class ReconciliationClient {
  constructor(
    private readonly proxy: ClientProxy,
    private readonly namespace: string,
    private readonly timeoutMs: number,
  ) {}

  summary(request: {
    from: string;
    to: string;
    processor?: string;
    currency?: string;
  }): Promise<ReconciliationSummaryDto> {
    return this.ask('summary', request);
  }

  exceptions(request: {
    filter?: Record<string, string | undefined>;
    first?: number;
    after?: string;
  }): Promise<ExceptionPageDto> {
    return this.ask('exceptions', request);
  }

  resolve(request: ResolveInput): Promise<ReconciliationExceptionDto> {
    return this.ask('resolve', request);
  }

  payout(payoutId: string): Promise<PayoutReconciliationDto | null> {
    return this.ask('payout', { payoutId });
  }

  close(): Promise<void> {
    return Promise.resolve(this.proxy.close());
  }

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  private ask<T>(name: ReconciliationPatternName, data: unknown): Promise<T> {
    return askLedger(this.proxy, reconciliationSubject(this.namespace, name), data, this.timeoutMs);
  }
}
