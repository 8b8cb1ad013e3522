import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { LedgerQueryRejected } from '../../../../libs/ledger/src';
import {
  LEDGER_EXPORT_PATTERNS,
  LedgerExportService,
  exportChunkRequest,
  exportIdRequest,
  exportRequest,
} from '../../../../libs/ledger/src/exports';
import { LOGGER, Logger } from '../../../../libs/observability/src';
import { answerRpc, validRequest } from '../rpc-answer';

/**
 * `ledger.export.*` over NATS request/reply: request starts an export in the background and
 * answers its pending record at once; get answers its state; chunk serves its file in slices.
 */
@Controller()
export class LedgerExportController {
  constructor(
    private readonly exports: LedgerExportService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @MessagePattern(LEDGER_EXPORT_PATTERNS.request)
  request(@Payload() data: unknown) {
    return answerRpc(this.logger, 'ledger export request', () =>
      this.exports.start(validRequest(exportRequest, data)),
    );
  }

  @MessagePattern(LEDGER_EXPORT_PATTERNS.get)
  get(@Payload() data: unknown) {
    return answerRpc(this.logger, 'ledger export request', () =>
      this.exports.get(validRequest(exportIdRequest, data).id),
    );
  }

  @MessagePattern(LEDGER_EXPORT_PATTERNS.chunk)
  chunk(@Payload() data: unknown) {
    return answerRpc(this.logger, 'ledger export request', async () => {
      const { id, offset } = validRequest(exportChunkRequest, data);
      const chunk = await this.exports.chunk(id, offset);
      if (!chunk) throw new LedgerQueryRejected('NOT_FOUND', `export ${id} has no completed file`);
      return chunk;
    });
  }
}
