import { ClientProxy } from '@nestjs/microservices';
import { TimeoutError, firstValueFrom, timeout } from 'rxjs';
import { PaymentsError } from '../../../domain/src';
import { LedgerQueryError } from '../query-contract';
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

  private async ask<T>(name: ReconciliationPatternName, data: unknown): Promise<T> {
    try {
      return await firstValueFrom(
        this.proxy
          .send<T>(reconciliationSubject(this.namespace, name), data)
          .pipe(timeout(this.timeoutMs)),
      );
    } catch (error) {
      if (error instanceof TimeoutError) {
        throw new PaymentsError('SERVICE_UNAVAILABLE', 'the ledger did not answer in time');
      }
      const e = error as Partial<LedgerQueryError> | undefined;
      if (e?.code === 'BAD_USER_INPUT')
        throw PaymentsError.badInput(e.field ?? 'input', e.message!);
      if (e?.code === 'NOT_FOUND') throw new PaymentsError('NOT_FOUND', e.message!);
      if (e?.code === 'INVALID_STATE') throw new PaymentsError('INVALID_STATE', e.message!);
      throw new PaymentsError('SERVICE_UNAVAILABLE', 'the ledger could not answer');
    }
  }
}
