import { Inject } from '@nestjs/common';
import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { LedgerExportClient, LedgerExportDto } from '../../../../libs/ledger/src/exports';
import {
  FORMAT_FROM_LEDGER,
  FORMAT_TO_LEDGER,
  LedgerExport,
  LedgerExportInput,
} from './ledger-export.types';
import { RequireScopes } from './scopes.guard';

/** Where the gateway serves a completed export's file (apps/gateway/src/http). */
export const exportDownloadPath = (id: string) => `/exports/${id}`;

export function toLedgerExport(dto: LedgerExportDto): LedgerExport {
  return {
    id: dto.id,
    format: FORMAT_FROM_LEDGER[dto.format],
    status: dto.status,
    downloadPath: dto.status === 'completed' ? exportDownloadPath(dto.id) : null,
    entryCount: dto.entryCount,
    lineCount: dto.lineCount,
    totalDebits: asInt(dto.totalDebits),
    totalCredits: asInt(dto.totalCredits),
    totalDebitsMinor: asSafeInteger(dto.totalDebits),
    totalCreditsMinor: asSafeInteger(dto.totalCredits),
    attempts: dto.attempts,
  };
}

const INT_MAX = 2 ** 31 - 1;

/** A decimal total as GraphQL Int, or null when it does not fit (never a wrapped number). */
function asInt(total: string | null): number | null {
  const n = asSafeInteger(total);
  return n !== null && Math.abs(n) <= INT_MAX ? n : null;
}

function asSafeInteger(total: string | null): number | null {
  if (total === null) return null;
  const n = Number(total);
  return Number.isSafeInteger(n) ? n : null;
}

/** Journal exports (scope `ledger:export`): the ledger produces them; asked over NATS. */
@Resolver(() => LedgerExport)
export class LedgerExportResolver {
  constructor(@Inject(LedgerExportClient) private readonly exports: LedgerExportClient) {}

  @Mutation(() => LedgerExport)
  @RequireScopes('ledger:export')
  async requestLedgerExport(
    @Args('input', { type: () => LedgerExportInput }) input: LedgerExportInput,
  ): Promise<LedgerExport> {
    const dto = await this.exports.request({
      format: FORMAT_TO_LEDGER[input.format],
      from: input.from.toISOString(),
      to: input.to.toISOString(),
      currency: input.currency ?? undefined,
    });
    return toLedgerExport(dto);
  }

  @Query(() => LedgerExport, { nullable: true })
  @RequireScopes('ledger:export')
  async ledgerExport(@Args('id', { type: () => ID }) id: string): Promise<LedgerExport | null> {
    if (!/^lex_[0-9a-z]{26}$/.test(id)) return null;
    const dto = await this.exports.get(id);
    return dto ? toLedgerExport(dto) : null;
  }
}
