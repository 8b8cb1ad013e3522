import {
  Args,
  Context,
  ID,
  Int,
  Mutation,
  Parent,
  Query,
  ResolveField,
  Resolver,
  Subscription,
} from '@nestjs/graphql';
import {
  PaymentIntakeService,
  PaymentQueryService,
  PaymentMethodService,
  PaymentView,
  RouteDecision as RouteDecisionView,
  validateCreatePayment,
} from '../../../../libs/payments/src';
import { newId } from '../../../../libs/domain/src';
import { toConnection } from './connection';
import { GatewayContext } from './gateway-context';
import { PaymentUpdatesBridge } from './payment-updates.bridge';
import {
  CancelPaymentInput,
  CapturePaymentInput,
  CreatePaymentInput,
  CreatePaymentMethodInput,
  Payment,
  PaymentMethod,
  PaymentAttempt,
  PaymentConnection,
  PaymentFilter,
  Refund,
  RefundPaymentInput,
  RouteDecision,
} from './payment.types';
import { RequireScopes } from './scopes.guard';

/** Thin: authorisation by decorator, logic in libs/payments. `ctx.client` is set by the guard. */
@Resolver(() => Payment)
export class PaymentsResolver {
  constructor(
    private readonly intake: PaymentIntakeService,
    private readonly query: PaymentQueryService,
    private readonly updates: PaymentUpdatesBridge,
    private readonly paymentMethods: PaymentMethodService,
  ) {}

  @Query(() => Payment, { nullable: true })
  @RequireScopes('payments:read')
  payment(
    @Args('id', { type: () => ID }) id: string,
    @Context() ctx: GatewayContext,
  ): Promise<PaymentView> {
    return this.query.getPayment(ctx.client!, id);
  }

  @Query(() => PaymentConnection)
  @RequireScopes('payments:read')
  async payments(
    @Context() ctx: GatewayContext,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
    @Args('filter', { type: () => PaymentFilter, nullable: true }) filter?: PaymentFilter,
  ) {
    const page = await this.query.listPayments(ctx.client!, first, after, {
      ...filter,
      status: filter?.status as PaymentView['status'] | undefined,
    });
    return toConnection(page.payments, page);
  }

  @Mutation(() => Payment, {
    description: 'Answers at once, usually PENDING; the worker calls the processor.',
  })
  @RequireScopes('payments:write')
  createPayment(@Args('input') input: CreatePaymentInput, @Context() ctx: GatewayContext) {
    return this.intake.createPayment(ctx.client!, input);
  }

  @Mutation(() => Payment)
  @RequireScopes('payments:write')
  capturePayment(@Args('input') input: CapturePaymentInput, @Context() ctx: GatewayContext) {
    return this.intake.capturePayment(ctx.client!, input);
  }

  @Mutation(() => Payment)
  @RequireScopes('payments:write')
  cancelPayment(@Args('input') input: CancelPaymentInput, @Context() ctx: GatewayContext) {
    return this.intake.cancelPayment(ctx.client!, input);
  }

  @Mutation(() => Refund)
  @RequireScopes('refunds:write')
  refundPayment(@Args('input') input: RefundPaymentInput, @Context() ctx: GatewayContext) {
    return this.intake.refundPayment(ctx.client!, input);
  }

  @Subscription(() => Payment, {
    resolve: (payload: { paymentUpdated: PaymentView }) => payload.paymentUpdated,
  })
  @RequireScopes('payments:read')
  async paymentUpdated(@Args('id', { type: () => ID }) id: string, @Context() ctx: GatewayContext) {
    const client = ctx.client!;
    await this.query.getPayment(client, id); // NOT_FOUND before subscribing to someone else's payment
    return this.updates.watch(id, () => this.query.getPayment(client, id));
  }

  @Mutation(() => PaymentMethod, {
    description:
      'Registers one instrument known at several processors (gpm_…); only those fail over.',
  })
  @RequireScopes('payments:write')
  createPaymentMethod(
    @Args('input') input: CreatePaymentMethodInput,
    @Context() ctx: GatewayContext,
  ) {
    return this.paymentMethods.create(ctx.client!, input);
  }

  @Query(() => RouteDecision, { description: 'Which processors would take this payment, and why.' })
  @RequireScopes('payments:read')
  async routePreview(@Args('input') input: CreatePaymentInput, @Context() ctx: GatewayContext) {
    const valid = validateCreatePayment(input);
    const decision = await this.intake.route(ctx.client!, valid, newId('pay'));
    return toRouteDecision(decision);
  }

  @ResolveField(() => RouteDecision, { nullable: true })
  routing(@Parent() payment: PaymentView) {
    return payment.route ? toRouteDecision(payment.route) : null;
  }

  @ResolveField(() => [PaymentAttempt])
  attempts(@Parent() payment: PaymentView, @Context() ctx: GatewayContext) {
    return ctx.loaders.attempts.load(payment.id);
  }

  @ResolveField(() => [Refund])
  refunds(@Parent() payment: PaymentView, @Context() ctx: GatewayContext) {
    return ctx.loaders.refunds.load(payment.id);
  }
}

function toRouteDecision(decision: RouteDecisionView): RouteDecision {
  return {
    rule: decision.rule,
    reason: decision.reason,
    processors: decision.candidates.map((c) => c.processor),
  };
}
