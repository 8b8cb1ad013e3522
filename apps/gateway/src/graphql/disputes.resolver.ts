import { Args, Context, Int, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { DisputeQueryService, PaymentView } from '../../../../libs/payments/src';
import { Dispute, DisputeConnection, DisputeFilter } from './dispute.types';
import { toConnection } from './connection';
import { GatewayContext } from './gateway-context';
import { Payment } from './payment.types';
import { RequireScopes } from './scopes.guard';

/** Disputes of the caller's payments (all of them for admin), and `Payment.disputes`. */
@Resolver(() => Payment)
export class DisputesResolver {
  constructor(private readonly disputes: DisputeQueryService) {}

  @Query(() => DisputeConnection, { name: 'disputes' })
  @RequireScopes('payments:read')
  async listDisputes(
    @Context() ctx: GatewayContext,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
    @Args('filter', { type: () => DisputeFilter, nullable: true }) filter?: DisputeFilter,
  ) {
    const page = await this.disputes.listDisputes(ctx.client!, first, after, filter ?? {});
    return toConnection(page.disputes, page);
  }

  /** Batched per request like refunds; the parent payment was already scoped to the caller. */
  @ResolveField(() => [Dispute], { name: 'disputes' })
  paymentDisputes(@Parent() payment: PaymentView, @Context() ctx: GatewayContext) {
    return ctx.loaders.disputes.load(payment.id);
  }
}
