import { Args, Context, Mutation, Query, Resolver } from '@nestjs/graphql';
import { ProcessorControlService } from '../../../../libs/payments/src';
import { GatewayContext } from './gateway-context';
import { ProcessorHealthView } from './processor-health.view';
import { ProcessorControl, ProcessorHealth } from './processor.types';
import { RequireScopes } from './scopes.guard';

/** Processor health and the operator's pause/resume (audited in the payments service). */
@Resolver()
export class ProcessorsResolver {
  constructor(
    private readonly health: ProcessorHealthView,
    private readonly controls: ProcessorControlService,
  ) {}

  @Query(() => [ProcessorHealth])
  @RequireScopes('payments:read')
  processorHealth() {
    return this.health.summary();
  }

  @Mutation(() => ProcessorControl, {
    description: 'Stops new calls to a processor (admin; audited).',
  })
  @RequireScopes('admin')
  pauseProcessor(
    @Args('processor') processor: string,
    @Args('reason') reason: string,
    @Context() ctx: GatewayContext,
  ) {
    return this.controls.setPaused(ctx.client!, processor, true, reason);
  }

  @Mutation(() => ProcessorControl, {
    description: 'Lets a paused processor take calls again (admin; audited).',
  })
  @RequireScopes('admin')
  resumeProcessor(
    @Args('processor') processor: string,
    @Args('reason', { type: () => String, nullable: true }) reason: string | null,
    @Context() ctx: GatewayContext,
  ) {
    return this.controls.setPaused(ctx.client!, processor, false, reason ?? null);
  }
}
