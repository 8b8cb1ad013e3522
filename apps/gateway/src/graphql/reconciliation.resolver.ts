import { Inject } from '@nestjs/common';
import { Args, Context, ID, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import {
  PayoutReconciliationDto,
  ReconciliationExceptionDto,
  ReconciliationSummaryDto,
} from '../../../../libs/ledger/src/reconciliation/exception-contract';
import { ReconciliationClient } from '../../../../libs/ledger/src/reconciliation/exception-client';
import { GatewayContext } from './gateway-context';
import {
  PayoutReconciliation,
  ReconciliationException,
  ReconciliationExceptionConnection,
  ReconciliationExceptionFilter,
  ReconciliationExceptionStatus,
  ReconciliationExceptionType,
  ReconciliationPeriodInput,
  ReconciliationStatus,
  ReconciliationSummary,
  ResolveReconciliationExceptionInput,
} from './reconciliation.types';
import { RequireScopes } from './scopes.guard';
import { edgesConnection } from './connection';

const upper = <T>(value: string) => value.toUpperCase() as T;

function toSummary(s: ReconciliationSummaryDto): ReconciliationSummary {
  return {
    ...s,
    from: new Date(s.from),
    to: new Date(s.to),
    byStatus: s.byStatus.map((r) => ({ ...r, status: upper<ReconciliationStatus>(r.status) })),
    totals: [...s.totals],
  };
}

export function toException(e: ReconciliationExceptionDto): ReconciliationException {
  return {
    ...e,
    type: upper<ReconciliationExceptionType>(e.type),
    status: upper<ReconciliationExceptionStatus>(e.status),
    openedAt: new Date(e.openedAt),
    resolvedAt: e.resolvedAt ? new Date(e.resolvedAt) : null,
    item: {
      ...e.item,
      status: upper<ReconciliationStatus>(e.item.status),
      occurredAt: new Date(e.item.occurredAt),
    },
    audit: e.audit.map((a) => ({ ...a, at: new Date(a.at) })),
  };
}

/**
 * Reconciliation operations (read: `ledger:read`; resolving: `admin`), answered by apps/ledger
 * over NATS request/reply; validation and refusals come from the ledger's contract.
 */
@Resolver(() => ReconciliationException)
export class ReconciliationResolver {
  constructor(
    @Inject(ReconciliationClient) private readonly reconciliation: ReconciliationClient,
  ) {}

  @Query(() => ReconciliationSummary)
  @RequireScopes('ledger:read')
  async reconciliationSummary(
    @Args('period', { type: () => ReconciliationPeriodInput }) period: ReconciliationPeriodInput,
    @Args('processor', { type: () => String, nullable: true }) processor?: string | null,
    @Args('currency', { type: () => String, nullable: true }) currency?: string | null,
  ): Promise<ReconciliationSummary> {
    return toSummary(
      await this.reconciliation.summary({
        from: period.from.toISOString(),
        to: period.to.toISOString(),
        processor: processor ?? undefined,
        currency: currency ?? undefined,
      }),
    );
  }

  @Query(() => ReconciliationExceptionConnection)
  @RequireScopes('ledger:read')
  async reconciliationExceptions(
    @Args('filter', { type: () => ReconciliationExceptionFilter, nullable: true })
    filter?: ReconciliationExceptionFilter | null,
    @Args('first', { type: () => Int, nullable: true }) first?: number | null,
    @Args('after', { type: () => String, nullable: true }) after?: string | null,
  ): Promise<ReconciliationExceptionConnection> {
    const page = await this.reconciliation.exceptions({
      filter: {
        status: filter?.status?.toLowerCase(),
        type: filter?.type?.toLowerCase(),
        processor: filter?.processor ?? undefined,
        currency: filter?.currency ?? undefined,
        openedAfter: filter?.openedAfter?.toISOString(),
        openedBefore: filter?.openedBefore?.toISOString(),
      },
      first: first ?? undefined,
      after: after ?? undefined,
    });
    return edgesConnection(
      page.exceptions.map((e) => ({ cursor: e.cursor, node: toException(e) })),
      { hasNextPage: page.hasNextPage, hasPreviousPage: Boolean(after) },
    );
  }

  @Mutation(() => ReconciliationException)
  @RequireScopes('admin')
  async resolveReconciliationException(
    @Args('input', { type: () => ResolveReconciliationExceptionInput })
    input: ResolveReconciliationExceptionInput,
    @Context() ctx: GatewayContext,
  ): Promise<ReconciliationException> {
    return toException(
      await this.reconciliation.resolve({
        id: input.id,
        resolution: input.resolution === 'IGNORED' ? 'ignored' : 'resolved',
        reason: input.reason,
        postCorrection: input.postCorrection ?? false,
        actor: ctx.client!.id,
        requestId: ctx.requestId,
      }),
    );
  }

  @Query(() => PayoutReconciliation, { nullable: true })
  @RequireScopes('ledger:read')
  async payoutReconciliation(
    @Args('payoutId', { type: () => ID }) payoutId: string,
  ): Promise<PayoutReconciliation | null> {
    const payout: PayoutReconciliationDto | null = await this.reconciliation.payout(payoutId);
    return payout && { ...payout, status: upper<ReconciliationStatus>(payout.status) };
  }
}
