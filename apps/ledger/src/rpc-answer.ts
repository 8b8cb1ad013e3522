import { RpcException } from '@nestjs/microservices';
import { z } from 'zod';
import { parseMessage } from '../../../libs/contracts/src';
import { LedgerQueryError, LedgerQueryRejected } from '../../../libs/ledger/src';
import { Logger } from '../../../libs/observability/src';

/**
 * Runs a request/reply handler. Errors travel as `{ code, message, field? }`: a refused
 * request keeps its code; anything else is logged and answered as INTERNAL, with no detail.
 */
export async function answerRpc<T>(
  logger: Logger,
  what: string,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof LedgerQueryRejected) {
      throw new RpcException({
        code: error.code,
        message: error.message,
        field: error.field,
      } satisfies LedgerQueryError);
    }
    logger.error({ err: error }, `${what} failed`);
    throw new RpcException({
      code: 'INTERNAL',
      message: 'the ledger failed to answer',
    } satisfies LedgerQueryError);
  }
}

/** Parses a request payload or refuses it as BAD_USER_INPUT with the reason. */
export function validRequest<T>(schema: z.ZodType<T>, data: unknown): T {
  const parsed = parseMessage(schema, data ?? {});
  if (!parsed.ok) throw new LedgerQueryRejected('BAD_USER_INPUT', parsed.reason, 'input');
  return parsed.value;
}
