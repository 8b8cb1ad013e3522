// The baseline: the least a createPayment endpoint must do, with the same tools the product
// stands on (Fastify 5, pg 8, a pool of the same size) and none of the framework layers. It
// accepts the benchmark's GraphQL request body as plain JSON (reads variables.input, no GraphQL
// parsing), checks the bearer key, and writes the same three rows the product writes, with the
// same columns and jsonb payloads, in one transaction: BEGIN; idempotency key; payment; outbox
// command; COMMIT. It does not publish to NATS (the product's relay does; that is product cost).
//
// Run by bench/run.ts as a child process:
//   PORT DATABASE_URL DB_POOL_SIZE NATS_NAMESPACE BASELINE_KEY_HASH BASELINE_CLIENT_ID
import Fastify, { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { Pool, PoolClient } from 'pg';
import { Subjects } from '../libs/contracts/src/subjects';
import { newId } from '../libs/domain/src/ids';
import { requestHash } from '../libs/payments/src/idempotency/request-hash';

const BODY_LIMIT_BYTES = 256 * 1024;
const IDEMPOTENCY_TTL_HOURS = 24;

interface Input {
  readonly idempotencyKey: string;
  readonly amount: number;
  readonly currency: string;
  readonly paymentMethod: string;
}

class BadRequest extends Error {}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

function validInput(body: unknown): Input {
  const input = (body as { variables?: { input?: Record<string, unknown> } } | null)?.variables
    ?.input;
  const { idempotencyKey, amount, currency, paymentMethod } = input ?? {};
  if (
    typeof idempotencyKey !== 'string' ||
    idempotencyKey.length < 1 ||
    idempotencyKey.length > 255
  ) {
    throw new BadRequest('idempotencyKey must be 1-255 characters');
  }
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) {
    throw new BadRequest('amount must be a positive integer');
  }
  if (typeof currency !== 'string' || !/^[A-Za-z]{3}$/.test(currency)) {
    throw new BadRequest('currency must be ISO 4217');
  }
  if (typeof paymentMethod !== 'string' || paymentMethod.length === 0) {
    throw new BadRequest('paymentMethod is required');
  }
  return { idempotencyKey, amount, currency: currency.toUpperCase(), paymentMethod };
}

/** The payment as the product stores it in idempotency_keys.response. */
function newPayment(clientId: string, input: Input) {
  const now = new Date();
  return {
    id: newId('pay'),
    clientId,
    status: 'PENDING',
    amount: input.amount,
    currency: input.currency,
    amountAuthorized: 0,
    amountCaptured: 0,
    amountRefunded: 0,
    captureMethod: 'AUTOMATIC',
    priority: 'CHECKOUT',
    paymentMethod: input.paymentMethod,
    processor: null,
    processorReference: null,
    failure: null,
    nextAction: null,
    pendingOperation: null,
    pendingCaptureAmount: null,
    processorPin: null,
    customerId: null,
    description: null,
    metadata: null,
    createdAt: now,
    updatedAt: now,
  };
}

type Payment = ReturnType<typeof newPayment>;

class BaselineHandler {
  constructor(
    private readonly pool: Pool,
    private readonly clientId: string,
    private readonly keyHash: string,
    private readonly subject: string,
  ) {}

  async createPayment(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    if (!this.authenticated(request.headers.authorization)) {
      return reply.code(401).send({ errors: [{ message: 'unauthenticated' }] });
    }
    let input: Input;
    try {
      input = validInput(request.body);
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error;
      return reply.code(400).send({ errors: [{ message: error.message }] });
    }
    const payment = newPayment(this.clientId, input);
    const claimed = await this.insert(input, payment);
    if (!claimed) return reply.code(409).send({ errors: [{ message: 'idempotency key in use' }] });
    return { data: { createPayment: { id: payment.id, status: payment.status } } };
  }

  private authenticated(header: string | undefined): boolean {
    const token = /^Bearer\s+(\S+)$/i.exec(header?.trim() ?? '')?.[1];
    if (!token || !token.startsWith('gk_')) return false;
    return createHash('sha256').update(token).digest('hex') === this.keyHash;
  }

  private async insert(input: Input, payment: Payment): Promise<boolean> {
    const db = await this.pool.connect();
    try {
      await db.query('BEGIN');
      const claimed = await this.claimKey(db, input, payment);
      if (!claimed) {
        await db.query('ROLLBACK');
        return false;
      }
      await this.insertPayment(db, payment);
      await this.insertCommand(db, payment.id);
      await db.query('COMMIT');
      return true;
    } catch (error) {
      await db.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      db.release();
    }
  }

  private async claimKey(db: PoolClient, input: Input, payment: Payment): Promise<boolean> {
    const request = {
      amount: input.amount,
      currency: input.currency,
      paymentMethod: input.paymentMethod,
      captureMethod: payment.captureMethod,
      customerId: null,
      description: null,
      metadata: null,
      priority: payment.priority,
      processor: null,
    };
    const result = await db.query(
      `INSERT INTO idempotency_keys (client_id, key, operation, request_hash, resource_id, response, expires_at)
       VALUES ($1, $2, 'createPayment', $3, $4, $5::jsonb, now() + make_interval(hours => $6))
       ON CONFLICT (client_id, key) DO NOTHING RETURNING 1`,
      [
        this.clientId,
        input.idempotencyKey,
        requestHash('createPayment', request),
        payment.id,
        JSON.stringify(payment),
        IDEMPOTENCY_TTL_HOURS,
      ],
    );
    return result.rowCount === 1;
  }

  private async insertPayment(db: PoolClient, payment: Payment): Promise<void> {
    await db.query(
      `INSERT INTO payments (id, client_id, status, amount, currency, capture_method, priority, payment_method,
                             processor_pin, customer_id, description, metadata, created_at, updated_at)
       VALUES ($1, $2, 'PENDING', $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $12)`,
      [
        payment.id,
        payment.clientId,
        payment.amount,
        payment.currency,
        payment.captureMethod,
        payment.priority,
        payment.paymentMethod,
        payment.processorPin,
        payment.customerId,
        payment.description,
        payment.metadata,
        payment.createdAt,
      ],
    );
  }

  private async insertCommand(db: PoolClient, paymentId: string): Promise<void> {
    await db.query(`INSERT INTO outbox (id, subject, payload) VALUES ($1, $2, $3::jsonb)`, [
      newId('obx'),
      this.subject,
      JSON.stringify({ v: 1, type: 'authorize', paymentId }),
    ]);
  }
}

async function main(): Promise<void> {
  const pool = new Pool({
    connectionString: env('DATABASE_URL'),
    max: Number(process.env.DB_POOL_SIZE ?? 20),
    application_name: 'bench-baseline',
    statement_timeout: 30_000,
    lock_timeout: 5000,
  });
  const handler = new BaselineHandler(
    pool,
    env('BASELINE_CLIENT_ID'),
    env('BASELINE_KEY_HASH'),
    new Subjects(process.env.NATS_NAMESPACE ?? '').command('authorize'),
  );
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT_BYTES });
  app.post('/graphql', (request, reply) => handler.createPayment(request, reply));
  app.get('/readyz', async () => {
    await pool.query('SELECT 1');
    return { status: 'ready' };
  });
  const close = async () => {
    await app.close();
    await pool.end();
    process.exit(0);
  };
  process.once('SIGTERM', () => void close());
  process.once('SIGINT', () => void close());
  await app.listen({ port: Number(env('PORT')), host: '127.0.0.1' });
  process.stdout.write('{"msg":"started"}\n');
}

main().catch((error: Error) => {
  process.stderr.write(`baseline: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
