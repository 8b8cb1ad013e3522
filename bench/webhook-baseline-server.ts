// The webhook baseline: the least POST /webhooks/stripe must do, with the tools the product
// stands on (Fastify 5, pg 8, the official stripe SDK, a pool of the same size) and none of the
// framework layers: read the raw body, verify it with stripe.webhooks.constructEvent, and write
// the same rows the product writes (the webhook_events row, once per Stripe event id, and its
// `webhook` command in the outbox) in one transaction. No NATS (the product's relay is product
// cost).
//
// Run by bench/webhook-intake.ts as a child process:
//   PORT DATABASE_URL DB_POOL_SIZE NATS_NAMESPACE STRIPE_WEBHOOK_SECRET
import Fastify from 'fastify';
import { Pool } from 'pg';
import Stripe from 'stripe';
import { Subjects } from '../libs/contracts/src/subjects';
import { newId } from '../libs/domain/src/ids';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

async function main(): Promise<void> {
  const pool = new Pool({
    connectionString: env('DATABASE_URL'),
    max: Number(process.env.DB_POOL_SIZE ?? 20),
    application_name: 'bench-webhook-baseline',
  });
  const secret = env('STRIPE_WEBHOOK_SECRET');
  const subject = new Subjects(process.env.NATS_NAMESPACE ?? '').command('webhook');
  const app = Fastify({ logger: false, bodyLimit: 256 * 1024 });
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, body),
  );
  app.post('/webhooks/stripe', async (request, reply) => {
    let event: Stripe.Event;
    try {
      const header = request.headers['stripe-signature'];
      event = Stripe.webhooks.constructEvent(
        request.body as Buffer,
        typeof header === 'string' ? header : '',
        secret,
      );
    } catch (error) {
      return reply
        .code(400)
        .send({ error: 'invalid_signature', message: (error as Error).message });
    }
    const db = await pool.connect();
    try {
      await db.query('BEGIN');
      const id = newId('evt');
      const inserted = await db.query(
        `INSERT INTO webhook_events (id, processor, processor_event_id, type, payload, occurred_at)
         VALUES ($1, 'stripe', $2, $3, $4::jsonb, $5)
         ON CONFLICT (processor, processor_event_id) DO NOTHING RETURNING id`,
        [id, event.id, event.type, JSON.stringify(event), new Date(event.created * 1000)],
      );
      if (inserted.rowCount === 1) {
        await db.query(
          `INSERT INTO outbox (id, subject, payload) SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[])`,
          [
            [newId('obx')],
            [subject],
            [JSON.stringify({ v: 1, type: 'webhook', webhookEventId: id })],
          ],
        );
      }
      await db.query('COMMIT');
      return { received: true, duplicate: inserted.rowCount !== 1, id };
    } catch (error) {
      await db.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      db.release();
    }
  });
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
  process.stderr.write(`webhook baseline: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
