import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { LOGGER, Logger } from '../../../libs/observability/src';
import {
  RECONCILIATION_PATTERNS,
  exceptionsRequest,
  parseReconciliationRequest,
  payoutRequest,
  resolveRequest,
  summaryRequest,
} from '../../../libs/ledger/src/reconciliation/exception-contract';
import { ExceptionQueue } from '../../../libs/ledger/src/reconciliation/exception-queue';
import { ExceptionResolution } from '../../../libs/ledger/src/reconciliation/exception-resolution';
import { ReconciliationSummaryQuery } from '../../../libs/ledger/src/reconciliation/summary-query';
import {
  PAYOUT_RECONCILIATION,
  PayoutReconciliationLookup,
} from './reconciliation-operations.providers';
import { answerRpc } from './rpc-answer';

/**
 * `ledger.reconciliation.*` over NATS request/reply (thin: validation here, SQL in the libs):
 * the summary of a period, the exception queue, an operator's resolution, and one payout.
 */
@Controller()
export class ReconciliationOperationsController {
  constructor(
    private readonly summaries: ReconciliationSummaryQuery,
    private readonly queue: ExceptionQueue,
    private readonly resolution: ExceptionResolution,
    @Inject(PAYOUT_RECONCILIATION) private readonly payouts: PayoutReconciliationLookup,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @MessagePattern(RECONCILIATION_PATTERNS.summary)
  summary(@Payload() data: unknown) {
    return answerRpc(this.logger, 'reconciliation summary', () =>
      this.summaries.summary(parseReconciliationRequest(summaryRequest, data)),
    );
  }

  @MessagePattern(RECONCILIATION_PATTERNS.exceptions)
  exceptions(@Payload() data: unknown) {
    return answerRpc(this.logger, 'reconciliation exceptions', () =>
      this.queue.list(parseReconciliationRequest(exceptionsRequest, data)),
    );
  }

  @MessagePattern(RECONCILIATION_PATTERNS.resolve)
  resolve(@Payload() data: unknown) {
    return answerRpc(this.logger, 'reconciliation resolution', () =>
      this.resolution.resolve(parseReconciliationRequest(resolveRequest, data)),
    );
  }

  @MessagePattern(RECONCILIATION_PATTERNS.payout)
  payout(@Payload() data: unknown) {
    return answerRpc(this.logger, 'payout reconciliation', () =>
      this.payouts(parseReconciliationRequest(payoutRequest, data).payoutId),
    );
  }
}
