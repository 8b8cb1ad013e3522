import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { PaymentsError } from '../../../../libs/domain/src';
import { LedgerExportClient } from '../../../../libs/ledger/src/exports';
import { ApiKeyService, hasScope } from '../../../../libs/payments/src';
import { authenticate } from '../graphql/gateway-context';

/**
 * `GET /exports/:id`: a completed journal export's file, with the API's bearer key and scope
 * `ledger:export` (401 without a valid key, 403 without the scope). The bytes are pulled from
 * the ledger over NATS in chunks as the client reads, so no disk is shared with the ledger.
 */
@Controller('exports')
export class LedgerExportDownloadController {
  constructor(
    private readonly apiKeys: ApiKeyService,
    @Inject(LedgerExportClient) private readonly exports: LedgerExportClient,
  ) {}

  @Get(':id')
  async download(
    @Param('id') id: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const client = await authenticate(this.apiKeys, request.headers.authorization);
    if (!client) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'unauthenticated', message: 'a valid API key is required' });
    }
    if (!hasScope(client, 'ledger:export')) {
      return reply
        .code(403)
        .send({ error: 'forbidden', message: 'this API key lacks the scope ledger:export' });
    }
    const record = /^lex_[0-9a-z]{26}$/.test(id) ? await this.lookup(id) : null;
    if (!record) return reply.code(404).send({ error: 'not_found', message: `export ${id}` });
    if (record.status !== 'completed') {
      return reply.code(409).send({
        error: 'not_ready',
        status: record.status,
        message: record.status === 'failed' ? (record.error ?? 'failed') : 'not completed yet',
      });
    }
    const file = await notFoundAsNull(this.exports.download(id));
    if (!file) return reply.code(404).send({ error: 'not_found', message: `export ${id} file` });
    return reply
      .code(200)
      .header('content-type', record.contentType)
      .header('content-disposition', `attachment; filename="${record.fileName}"`)
      .header('cache-control', 'no-store')
      .send(file);
  }

  private lookup(id: string) {
    return notFoundAsNull(this.exports.get(id));
  }
}

async function notFoundAsNull<T>(work: Promise<T>): Promise<T | null> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof PaymentsError && error.code === 'NOT_FOUND') return null;
    throw error;
  }
}
