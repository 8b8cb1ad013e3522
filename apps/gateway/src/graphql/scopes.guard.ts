import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext } from '@nestjs/graphql';
import { PaymentsError } from '../../../../libs/domain/src';
import { Scope, hasScope } from '../../../../libs/payments/src';
import { GatewayContext } from './gateway-context';

const SCOPES_KEY = 'requiredScopes';

/** The scopes a root field needs; a root field without this decorator is refused to everyone. */
export const RequireScopes = (...scopes: Scope[]) => SetMetadata(SCOPES_KEY, scopes);

@Injectable()
export class ScopesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType<string>() !== 'graphql') return true;
    const ctx = GqlExecutionContext.create(context).getContext<GatewayContext>();
    if (!ctx.client)
      throw new PaymentsError(
        'UNAUTHENTICATED',
        'a valid API key is required (Authorization: Bearer …)',
      );
    const required = this.reflector.get<Scope[] | undefined>(SCOPES_KEY, context.getHandler());
    if (!required) throw new PaymentsError('FORBIDDEN', 'this field is not available');
    const missing = required.filter((scope) => !hasScope(ctx.client!, scope));
    if (missing.length > 0) {
      throw new PaymentsError('FORBIDDEN', `this API key lacks the scope ${missing.join(', ')}`);
    }
    return true;
  }
}
