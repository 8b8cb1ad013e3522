import { Inject } from '@nestjs/common';
import {
  Args,
  Context,
  GraphQLISODateTime,
  Int,
  Parent,
  Query,
  ResolveField,
  Resolver,
} from '@nestjs/graphql';
import DataLoader from 'dataloader';
import { PaymentsError } from '../../../../libs/domain/src';
import {
  AccountBalance,
  JournalEntryDto,
  LedgerAccountDto,
  LedgerQueryClient,
  encodeEntryCursor,
} from '../../../../libs/ledger/src';
import { PaymentView, hasScope } from '../../../../libs/payments/src';
import { GatewayContext } from './gateway-context';
import {
  JournalEntry,
  JournalEntryConnection,
  JournalEntryFilter,
  LedgerAccount,
  LedgerBalance,
  TrialBalance,
} from './ledger.types';
import { Payment } from './payment.types';
import { RequireScopes } from './scopes.guard';
import { edgesConnection } from './connection';

/** Per-request batching of `Payment.ledgerEntries`: one ledger query per request, not per payment. */
const entryLoaders = new WeakMap<GatewayContext, DataLoader<string, JournalEntryDto[]>>();

const toEntry = (e: JournalEntryDto) => ({
  ...e,
  occurredAt: new Date(e.occurredAt),
  postedAt: new Date(e.postedAt),
});

const toBalance = (b: AccountBalance) => ({ ...b, asOf: b.asOf ? new Date(b.asOf) : null });

/** Ledger reads (scope `ledger:read`), answered by apps/ledger over NATS request/reply. */
@Resolver(() => LedgerAccount)
export class LedgerResolver {
  constructor(@Inject(LedgerQueryClient) private readonly ledger: LedgerQueryClient) {}

  @Query(() => [LedgerAccount])
  @RequireScopes('ledger:read')
  ledgerAccounts(): Promise<LedgerAccountDto[]> {
    return this.ledger.accounts();
  }

  @Query(() => LedgerAccount, { nullable: true })
  @RequireScopes('ledger:read')
  ledgerAccount(@Args('code') code: string): Promise<LedgerAccountDto | null> {
    return this.ledger.account(code);
  }

  @ResolveField(() => LedgerBalance, { description: 'Current balance, or as of an instant.' })
  async balance(
    @Parent() account: LedgerAccountDto,
    @Args('asOf', { type: () => GraphQLISODateTime, nullable: true }) asOf?: Date | null,
  ) {
    if (!asOf) return toBalance(account.balance);
    return toBalance(await this.ledger.balance({ code: account.code, asOf: asOf.toISOString() }));
  }

  @Query(() => JournalEntryConnection)
  @RequireScopes('ledger:read')
  async journalEntries(
    @Args('filter', { type: () => JournalEntryFilter, nullable: true })
    filter?: JournalEntryFilter,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
  ) {
    const page = await this.ledger.entries({
      paymentId: filter?.paymentId ?? undefined,
      first: first ?? 20,
      after: after ?? undefined,
    });
    return edgesConnection(
      page.entries.map((e) => ({ cursor: encodeEntryCursor(e.id), node: toEntry(e) })),
      { hasNextPage: page.hasNextPage, hasPreviousPage: Boolean(after) },
    );
  }

  @Query(() => TrialBalance)
  @RequireScopes('ledger:read')
  async trialBalance(
    @Args('currency') currency: string,
    @Args('asOf', { type: () => GraphQLISODateTime, nullable: true }) asOf?: Date | null,
  ) {
    const tb = await this.ledger.trialBalance({ currency, asOf: asOf?.toISOString() });
    return {
      ...tb,
      asOf: tb.asOf ? new Date(tb.asOf) : null,
      rows: tb.rows.map((r) => ({ ...r, accountCode: r.code })),
    };
  }
}

/** `Payment.ledgerEntries`: the payment was already scoped to the caller; the ledger needs `ledger:read`. */
@Resolver(() => Payment)
export class PaymentLedgerEntriesResolver {
  constructor(@Inject(LedgerQueryClient) private readonly ledger: LedgerQueryClient) {}

  @ResolveField(() => [JournalEntry])
  async ledgerEntries(@Parent() payment: PaymentView, @Context() ctx: GatewayContext) {
    if (!ctx.client || !hasScope(ctx.client, 'ledger:read')) {
      throw new PaymentsError('FORBIDDEN', 'this API key lacks the scope ledger:read');
    }
    let loader = entryLoaders.get(ctx);
    if (!loader) {
      loader = new DataLoader((ids: readonly string[]) => this.ledger.entriesByPayments(ids), {
        maxBatchSize: 500,
      });
      entryLoaders.set(ctx, loader);
    }
    return (await loader.load(payment.id)).map(toEntry);
  }
}
