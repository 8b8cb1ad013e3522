import Stripe from 'stripe';
import { ProcessorError } from '../../../libs/contracts/src';
import { verifyStripeWebhook } from './stripe-webhook';

const SECRET = 'whsec_current';
const OLD_SECRET = 'whsec_previous';
const now = () => Math.floor(Date.now() / 1000);

const event = {
  id: 'evt_1',
  object: 'event',
  type: 'payment_intent.succeeded',
  created: 1_700_000_000,
  data: { object: { id: 'pi_1', object: 'payment_intent' } },
};
const payload = JSON.stringify(event);

function sign(body: string, secret: string, timestamp = now()): string {
  return Stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp });
}

function rejection(call: () => unknown): ProcessorError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(ProcessorError);
    expect((error as ProcessorError).kind).toBe('webhook_signature');
    return error as ProcessorError;
  }
  throw new Error('expected a webhook_signature error');
}

describe('verifyStripeWebhook', () => {
  it('accepts a valid signature and returns the event', () => {
    const parsed = verifyStripeWebhook(Buffer.from(payload), sign(payload, SECRET), [SECRET]);
    expect(parsed).toEqual({
      eventId: 'evt_1',
      type: 'payment_intent.succeeded',
      occurredAt: new Date(1_700_000_000_000),
      payload: expect.objectContaining({ id: 'evt_1' }),
    });
  });

  it('rejects a tampered body', () => {
    const header = sign(payload, SECRET);
    const tampered = payload.replace('pi_1', 'pi_2');
    const error = rejection(() => verifyStripeWebhook(Buffer.from(tampered), header, [SECRET]));
    expect(error.message).toMatch(/signature/i);
  });

  it('rejects a re-serialised body (the raw bytes are signed)', () => {
    const header = sign(JSON.stringify(event, null, 2), SECRET);
    rejection(() => verifyStripeWebhook(Buffer.from(payload), header, [SECRET]));
  });

  it('rejects the wrong secret', () => {
    rejection(() =>
      verifyStripeWebhook(Buffer.from(payload), sign(payload, 'whsec_other'), [SECRET]),
    );
  });

  it('accepts any secret of a rotation list, old or new', () => {
    const secrets = [SECRET, OLD_SECRET];
    for (const secret of secrets) {
      const parsed = verifyStripeWebhook(Buffer.from(payload), sign(payload, secret), secrets);
      expect(parsed.eventId).toBe('evt_1');
    }
  });

  it('accepts a header carrying several v1 signatures (Stripe during rotation)', () => {
    const t = now();
    const old = sign(payload, OLD_SECRET, t)
      .split(',')
      .find((p) => p.startsWith('v1='));
    const header = `${sign(payload, SECRET, t)},${old}`;
    expect(verifyStripeWebhook(Buffer.from(payload), header, [OLD_SECRET]).eventId).toBe('evt_1');
  });

  it('rejects a stale timestamp beyond the tolerance', () => {
    const header = sign(payload, SECRET, now() - 301);
    const error = rejection(() => verifyStripeWebhook(Buffer.from(payload), header, [SECRET]));
    expect(error.message).toMatch(/tolerance/i);
    expect(verifyStripeWebhook(Buffer.from(payload), header, [SECRET], 600).eventId).toBe('evt_1');
  });

  it('rejects a missing header', () => {
    const error = rejection(() => verifyStripeWebhook(Buffer.from(payload), undefined, [SECRET]));
    expect(error.message).toMatch(/missing Stripe-Signature/);
  });

  it('rejects a header without a v1 signature', () => {
    const header = `t=${now()},v0=abc`;
    const error = rejection(() => verifyStripeWebhook(Buffer.from(payload), header, [SECRET]));
    expect(error.message).toMatch(/expected scheme/i);
  });

  it('rejects a signed body that is not JSON', () => {
    rejection(() =>
      verifyStripeWebhook(Buffer.from('not json'), sign('not json', SECRET), [SECRET]),
    );
  });
});
