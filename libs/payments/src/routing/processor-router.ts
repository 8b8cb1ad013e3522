import { PaymentsError } from '../../../domain/src';
import { ProcessorAdapter } from '../../../contracts/src';
import { RouteDecision, RouteInput, decideRoute } from './route-decision';
import { RoutingRules, defaultRoutingRules } from './routing-rules';

/**
 * Picks the processors for a payment. A processor token belongs to the processor that issued
 * it, so a bare token routes only there; a gateway payment method (gpm_…) holds tokens at
 * several processors and may fail over between them. Rules order the processors; a pin keeps
 * only the pinned one.
 */
export class ProcessorRouter {
  private readonly byName: ReadonlyMap<string, ProcessorAdapter>;
  readonly rules: RoutingRules;

  constructor(adapters: readonly ProcessorAdapter[], rules?: RoutingRules) {
    this.byName = new Map(adapters.map((a) => [a.name, a]));
    this.rules = rules ?? defaultRoutingRules(this.names);
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  adapter(name: string): ProcessorAdapter {
    const adapter = this.byName.get(name);
    if (!adapter) throw new Error(`processor "${name}" is not configured`);
    return adapter;
  }

  /** The configured processor that issued this bare token, or null. */
  ownerOf(token: string): string | null {
    return [...this.byName.values()].find((a) => a.ownsToken(token))?.name ?? null;
  }

  /** Tokens of a bare processor token: one processor, or BAD_USER_INPUT when none issued it. */
  tokensOfBareToken(token: string): Map<string, string> {
    const owner = this.ownerOf(token);
    if (!owner) {
      throw PaymentsError.badInput(
        'paymentMethod',
        `no configured processor issued this payment method (configured: ${this.names.join(', ')})`,
      );
    }
    return new Map([[owner, token]]);
  }

  /** The route for a payment, or BAD_USER_INPUT when no configured processor can take it. */
  decide(
    input: RouteInput,
    tokens: ReadonlyMap<string, string>,
    pin: string | null,
  ): RouteDecision {
    if (pin !== null && !this.byName.has(pin)) {
      throw PaymentsError.badInput(
        'processor',
        `processor must be one of: ${this.names.join(', ')}`,
      );
    }
    const usable = new Map(
      [...tokens].filter(([p]) => this.byName.has(p) && (pin === null || p === pin)),
    );
    if (pin !== null && usable.size === 0) {
      throw PaymentsError.badInput('processor', `this payment method has no token at ${pin}`);
    }
    const decision = decideRoute(this.rules, input, usable);
    if (decision.candidates.length === 0) {
      throw PaymentsError.badInput(
        'paymentMethod',
        `no processor can take this payment: ${decision.reason}`,
      );
    }
    return pin === null
      ? decision
      : { ...decision, reason: `pinned to ${pin}; ${decision.reason}` };
  }
}
