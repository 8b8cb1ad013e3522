import { ClientProxy } from '@nestjs/microservices';
import { TimeoutError, firstValueFrom, timeout } from 'rxjs';
import { PaymentsError } from '../../domain/src';
import {
  AccountBalance,
  BalanceRequest,
  EntriesRequest,
  JournalEntryDto,
  JournalEntryPage,
  LedgerAccountDto,
  LedgerQueryError,
  LedgerQueryName,
  TrialBalanceDto,
  TrialBalanceRequest,
  ledgerQuerySubject,
} from './query-contract';

/**
 * The gateway's way to the ledger: NATS request/reply through a Nest ClientProxy, never the
 * ledger's tables. Ledger errors come back as API errors; silence becomes SERVICE_UNAVAILABLE.
 */
export class LedgerQueryClient {
  constructor(
    private readonly proxy: ClientProxy,
    private readonly namespace: string,
    private readonly timeoutMs: number,
  ) {}

  accounts(): Promise<LedgerAccountDto[]> {
    return this.ask('accounts', {});
  }

  async account(code: string): Promise<LedgerAccountDto | null> {
    return this.ask('account', { code });
  }

  balance(request: BalanceRequest): Promise<AccountBalance> {
    return this.ask('balance', request);
  }

  entries(request: EntriesRequest): Promise<JournalEntryPage> {
    return this.ask('entries', request);
  }

  entriesByPayments(paymentIds: readonly string[]): Promise<JournalEntryDto[][]> {
    return this.ask('entriesByPayments', { paymentIds });
  }

  trialBalance(request: TrialBalanceRequest): Promise<TrialBalanceDto> {
    return this.ask('trialBalance', request);
  }

  close(): Promise<void> {
    return Promise.resolve(this.proxy.close());
  }

  /** Nest calls this on the gateway's instance at shutdown. */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  private ask<T>(name: LedgerQueryName, data: unknown): Promise<T> {
    return askLedger(this.proxy, ledgerQuerySubject(this.namespace, name), data, this.timeoutMs);
  }
}

/**
 * One request/reply to apps/ledger (queries, exports, reconciliation). Its refusals become API
 * errors (BAD_USER_INPUT, NOT_FOUND, INVALID_STATE); silence or a failure there becomes
 * SERVICE_UNAVAILABLE.
 */
export async function askLedger<T>(
  proxy: ClientProxy,
  subject: string,
  data: unknown,
  timeoutMs: number,
): Promise<T> {
  try {
    return await firstValueFrom(proxy.send<T>(subject, data).pipe(timeout(timeoutMs)));
  } catch (error) {
    throw toApiError(error);
  }
}

function toApiError(error: unknown): PaymentsError {
  if (error instanceof TimeoutError) {
    return new PaymentsError('SERVICE_UNAVAILABLE', 'the ledger did not answer in time');
  }
  const e = error as Partial<LedgerQueryError> | undefined;
  if (e?.code === 'BAD_USER_INPUT') return PaymentsError.badInput(e.field ?? 'input', e.message!);
  if (e?.code === 'NOT_FOUND') return new PaymentsError('NOT_FOUND', e.message!);
  if (e?.code === 'INVALID_STATE') return new PaymentsError('INVALID_STATE', e.message!);
  return new PaymentsError('SERVICE_UNAVAILABLE', 'the ledger could not answer');
}
