import { Args, Context, ID, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import { WebhookEventService, WebhookEventStatus } from '../../../../libs/payments/src';
import { toConnection } from './connection';
import { GatewayContext } from './gateway-context';
import { RequireScopes } from './scopes.guard';
import { WebhookEvent, WebhookEventConnection, WebhookEventFilter } from './webhook.types';

/** Operators' view of stored processor webhooks, and replay (admin; audited in the service). */
@Resolver(() => WebhookEvent)
export class WebhooksResolver {
  constructor(private readonly events: WebhookEventService) {}

  @Query(() => WebhookEventConnection)
  @RequireScopes('admin')
  async webhookEvents(
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
    @Args('filter', { type: () => WebhookEventFilter, nullable: true })
    filter?: WebhookEventFilter,
  ) {
    const page = await this.events.list(first, after, {
      ...filter,
      status: filter?.status as WebhookEventStatus | undefined,
    });
    return toConnection(page.events, page);
  }

  @Mutation(() => WebhookEvent, {
    description:
      'Applies a stored webhook again (idempotent: nothing moves twice). Admin; audited.',
  })
  @RequireScopes('admin')
  replayWebhookEvent(
    @Args('id', { type: () => ID }) id: string,
    @Args('reason', { type: () => String, nullable: true }) reason: string | null,
    @Context() ctx: GatewayContext,
  ) {
    return this.events.replay(ctx.client!, id, reason ?? null);
  }
}
