import { DataSource } from 'typeorm';
import { PaymentsError, newId } from '../../../domain/src';
import { ApiClient } from '../api-keys/scopes';
import { IdempotencyStore } from '../idempotency/idempotency.store';
import { requestHash } from '../idempotency/request-hash';
import { assertNoCardData, validIdempotencyKey } from '../intake/payment-input';
import { ProcessorRouter } from '../routing/processor-router';

export interface CreatePaymentMethodInput {
  readonly idempotencyKey: string;
  readonly tokens: readonly { readonly processor: string; readonly token: string }[];
  readonly customerId?: string | null;
  readonly label?: string | null;
}

export interface PaymentMethodView {
  readonly id: string;
  readonly processors: string[];
  readonly customerId: string | null;
  readonly label: string | null;
  readonly createdAt: Date;
}

const MAX_TOKENS = 10;

/**
 * Gateway payment methods (gpm_…): one customer instrument known at several processors, each
 * through that processor's own token. Only payments made with one can fail over.
 */
export class PaymentMethodService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly idempotency: IdempotencyStore,
    private readonly router: ProcessorRouter,
  ) {}

  async create(client: ApiClient, input: CreatePaymentMethodInput): Promise<PaymentMethodView> {
    assertNoCardData(input);
    const key = validIdempotencyKey(input.idempotencyKey);
    const tokens = this.validTokens(input.tokens);
    const customerId = optional(input.customerId, 'customerId');
    const label = optional(input.label, 'label');
    const scope = {
      clientId: client.id,
      key,
      operation: 'createPaymentMethod',
      requestHash: requestHash('createPaymentMethod', { tokens, customerId, label }),
    };
    const { response } = await this.idempotency.run(scope, async (tx) => {
      const view: PaymentMethodView = {
        id: newId('gpm'),
        processors: tokens.map((t) => t.processor),
        customerId,
        label,
        createdAt: new Date(),
      };
      await tx.query(
        `INSERT INTO payment_methods (id, client_id, customer_id, label, created_at) VALUES ($1, $2, $3, $4, $5)`,
        [view.id, client.id, customerId, label, view.createdAt],
      );
      await tx.query(
        `INSERT INTO payment_method_tokens (payment_method_id, processor, token, position)
         SELECT $1, p, t, n FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS x(p, t, n)`,
        [view.id, tokens.map((t) => t.processor), tokens.map((t) => t.token)],
      );
      return { resourceId: view.id, response: view };
    });
    return { ...response, createdAt: new Date(response.createdAt) };
  }

  /** The tokens of the caller's own payment method, by processor, in registration order. */
  async tokensFor(client: ApiClient, paymentMethodId: string): Promise<Map<string, string>> {
    const rows: { processor: string; token: string }[] = await this.dataSource.query(
      `SELECT t.processor, t.token FROM payment_method_tokens t
       JOIN payment_methods m ON m.id = t.payment_method_id
       WHERE m.id = $1 AND m.client_id = $2 ORDER BY t.position`,
      [paymentMethodId, client.id],
    );
    if (rows.length === 0) throw PaymentsError.badInput('paymentMethod', 'unknown payment method');
    return new Map(rows.map((r) => [r.processor, r.token]));
  }

  private validTokens(
    tokens: CreatePaymentMethodInput['tokens'],
  ): { processor: string; token: string }[] {
    if (!Array.isArray(tokens) || tokens.length === 0 || tokens.length > MAX_TOKENS) {
      throw PaymentsError.badInput('tokens', `tokens must list 1-${MAX_TOKENS} processor tokens`);
    }
    const seen = new Set<string>();
    return tokens.map(({ processor, token }, i) => {
      if (!this.router.names.includes(processor)) {
        throw PaymentsError.badInput(
          `tokens[${i}].processor`,
          `processor must be one of: ${this.router.names.join(', ')}`,
        );
      }
      if (seen.has(processor))
        throw PaymentsError.badInput(`tokens[${i}].processor`, `${processor} is listed twice`);
      seen.add(processor);
      if (
        typeof token !== 'string' ||
        !/^[A-Za-z0-9_]{3,255}$/.test(token) ||
        !this.router.adapter(processor).ownsToken(token)
      ) {
        throw PaymentsError.badInput(
          `tokens[${i}].token`,
          `this is not a ${processor} payment-method token`,
        );
      }
      return { processor, token };
    });
  }
}

function optional(value: unknown, field: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > 255) {
    throw PaymentsError.badInput(field, `${field} must be a string of at most 255 characters`);
  }
  return value;
}
