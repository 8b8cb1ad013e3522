import { ClientProxy } from '@nestjs/microservices';
import { Readable } from 'node:stream';
import { PaymentsError } from '../../../domain/src';
import { askLedger } from '../ledger-query.client';
import {
  LedgerExportChunk,
  LedgerExportDto,
  LedgerExportPatternName,
  ledgerExportSubject,
} from './export-contract';
import { ExportFormat } from './formats';

/** The gateway's way to the ledger's exports: NATS request/reply, never the ledger's tables. */
export class LedgerExportClient {
  constructor(
    private readonly proxy: ClientProxy,
    private readonly namespace: string,
    private readonly timeoutMs: number,
  ) {}

  request(input: {
    format: ExportFormat;
    from: string;
    to: string;
    currency?: string;
  }): Promise<LedgerExportDto> {
    return this.ask('request', input);
  }

  get(id: string): Promise<LedgerExportDto | null> {
    return this.ask('get', { id });
  }

  /**
   * The file, pulled from the ledger chunk by chunk as the reader consumes it. The first chunk is
   * fetched before this resolves, so a missing file is a NOT_FOUND error, not a broken stream.
   */
  async download(id: string): Promise<Readable> {
    const first = await this.chunk(id, 0);
    let offset = first.bytes.length;
    let done = first.eof;
    const stream: Readable = new Readable({
      read: () => {
        if (done) return;
        this.chunk(id, offset).then(
          (chunk) => {
            offset += chunk.bytes.length;
            done = chunk.eof;
            if (chunk.bytes.length > 0) stream.push(chunk.bytes);
            if (done) stream.push(null);
          },
          (error: Error) => stream.destroy(error),
        );
      },
    });
    if (first.bytes.length > 0) stream.push(first.bytes);
    if (done) stream.push(null);
    return stream;
  }

  private async chunk(id: string, offset: number): Promise<{ bytes: Buffer; eof: boolean }> {
    const chunk = await this.ask<LedgerExportChunk | null>('chunk', { id, offset });
    if (!chunk) throw new PaymentsError('NOT_FOUND', `export ${id} has no file`);
    const bytes = Buffer.from(chunk.data, 'base64');
    return { bytes, eof: chunk.eof || bytes.length === 0 };
  }

  close(): Promise<void> {
    return Promise.resolve(this.proxy.close());
  }

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  private ask<T>(name: LedgerExportPatternName, data: unknown): Promise<T> {
    return askLedger(this.proxy, ledgerExportSubject(this.namespace, name), data, this.timeoutMs);
  }
}
