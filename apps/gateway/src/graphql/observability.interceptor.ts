import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import { Observable, tap } from 'rxjs';
import { PaymentsError } from '../../../../libs/domain/src';
import { LOGGER, Logger, Metrics } from '../../../../libs/observability/src';
import { GatewayContext } from './gateway-context';

/** Latency histogram per root field, and a log line per mutation with its correlation ids. */
@Injectable()
export class GraphqlObservabilityInterceptor implements NestInterceptor {
  constructor(
    private readonly metrics: Metrics,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType<string>() !== 'graphql') return next.handle();
    const gql = GqlExecutionContext.create(context);
    const info = gql.getInfo<{ fieldName: string; parentType: { name: string } }>();
    const ctx = gql.getContext<GatewayContext>();
    const operation = info.fieldName;
    const isMutation = info.parentType.name === 'Mutation';
    const started = performance.now();
    const done = (outcome: string, result?: unknown, error?: unknown) => {
      this.metrics.graphqlDuration.observe(
        { operation, outcome },
        (performance.now() - started) / 1000,
      );
      if (!isMutation) return;
      this.logger.info(
        {
          requestId: ctx.requestId,
          clientId: ctx.client?.id,
          operation,
          outcome,
          paymentId:
            (result as { paymentId?: string; id?: string } | undefined)?.paymentId ??
            (result as { id?: string } | undefined)?.id,
          ...(error ? { reason: (error as Error).message } : {}),
        },
        'mutation',
      );
    };
    return next.handle().pipe(
      tap({
        next: (result) => done('ok', result),
        error: (error) =>
          done(error instanceof PaymentsError ? error.code : 'INTERNAL', undefined, error),
      }),
    );
  }
}
