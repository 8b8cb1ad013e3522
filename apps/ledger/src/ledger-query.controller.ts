import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  LEDGER_QUERIES,
  LedgerQueries,
  accountRequest,
  balanceRequest,
  entriesByPaymentsRequest,
  entriesRequest,
  trialBalanceRequest,
} from '../../../libs/ledger/src';
import { LOGGER, Logger } from '../../../libs/observability/src';
import { answerRpc, validRequest } from './rpc-answer';

/** Request/reply handlers of the ledger's query API (thin: validation here, SQL in LedgerQueries). */
@Controller()
export class LedgerQueryController {
  constructor(
    private readonly queries: LedgerQueries,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @MessagePattern(LEDGER_QUERIES.accounts)
  accounts() {
    return answerRpc(this.logger, 'ledger query', () => this.queries.accounts());
  }

  @MessagePattern(LEDGER_QUERIES.account)
  account(@Payload() data: unknown) {
    return answerRpc(this.logger, 'ledger query', () =>
      this.queries.account(validRequest(accountRequest, data).code),
    );
  }

  @MessagePattern(LEDGER_QUERIES.balance)
  balance(@Payload() data: unknown) {
    return answerRpc(this.logger, 'ledger query', () => {
      const request = validRequest(balanceRequest, data);
      return this.queries.balance(request.code, request.asOf);
    });
  }

  @MessagePattern(LEDGER_QUERIES.entries)
  entries(@Payload() data: unknown) {
    return answerRpc(this.logger, 'ledger query', () =>
      this.queries.entries(validRequest(entriesRequest, data)),
    );
  }

  @MessagePattern(LEDGER_QUERIES.entriesByPayments)
  entriesByPayments(@Payload() data: unknown) {
    return answerRpc(this.logger, 'ledger query', () =>
      this.queries.entriesByPayments(validRequest(entriesByPaymentsRequest, data).paymentIds),
    );
  }

  @MessagePattern(LEDGER_QUERIES.trialBalance)
  trialBalance(@Payload() data: unknown) {
    return answerRpc(this.logger, 'ledger query', () => {
      const request = validRequest(trialBalanceRequest, data);
      return this.queries.trialBalance(request.currency, request.asOf);
    });
  }
}
