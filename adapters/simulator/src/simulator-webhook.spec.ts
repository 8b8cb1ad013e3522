import { createHmac } from 'node:crypto';
import { ProcessorError } from '../../../libs/contracts/src';
import { MemorySimulatorStore } from './memory-simulator-store';
import { SimulatorAdapter } from './simulator.adapter';
import { signSimulatorWebhook } from './simulator-webhook';

const SECRET = 'whsec_simulator_test';
const NOW_SEC = 1_763_700_000;
const BODY = JSON.stringify({
  id: 'evt_sim_1',
  type: 'payment.succeeded',
  created: NOW_SEC - 10,
  data: { reference: 'simpay_abc' },
});

function adapter(secret: string | null = SECRET): SimulatorAdapter {
  const store = new MemorySimulatorStore();
  return new SimulatorAdapter({
    store,
    webhookSecret: secret ?? undefined,
    now: () => new Date(NOW_SEC * 1000),
  });
}

function rejection(body: string, header: string | undefined, target = adapter()): ProcessorError {
  try {
    target.parseWebhook(Buffer.from(body), header);
  } catch (error) {
    expect(error).toBeInstanceOf(ProcessorError);
    expect((error as ProcessorError).kind).toBe('webhook_signature');
    return error as ProcessorError;
  }
  throw new Error('expected the webhook to be rejected');
}

describe('simulator webhooks', () => {
  it('signs with Stripe’s scheme', () => {
    const expected = createHmac('sha256', SECRET).update(`${NOW_SEC}.${BODY}`).digest('hex');
    expect(signSimulatorWebhook(BODY, SECRET, NOW_SEC)).toBe(`t=${NOW_SEC},v1=${expected}`);
  });

  it('accepts a valid signature and parses the event', () => {
    const parsed = adapter().parseWebhook(
      Buffer.from(BODY),
      signSimulatorWebhook(BODY, SECRET, NOW_SEC),
    );
    expect(parsed).toEqual({
      eventId: 'evt_sim_1',
      type: 'payment.succeeded',
      occurredAt: new Date((NOW_SEC - 10) * 1000),
      payload: { reference: 'simpay_abc' },
    });
  });

  it('accepts a header with several v1 entries when one matches', () => {
    const valid = signSimulatorWebhook(BODY, SECRET, NOW_SEC);
    const header = `t=${NOW_SEC},v1=${'0'.repeat(64)},${valid.split(',')[1]}`;
    expect(adapter().parseWebhook(Buffer.from(BODY), header).eventId).toBe('evt_sim_1');
  });

  it('rejects a tampered body', () => {
    const header = signSimulatorWebhook(BODY, SECRET, NOW_SEC);
    expect(rejection(BODY.replace('simpay_abc', 'simpay_xyz'), header).message).toMatch(
      /no signature matches/,
    );
  });

  it('rejects a signature made with another secret', () => {
    const header = signSimulatorWebhook(BODY, 'whsec_other', NOW_SEC);
    expect(rejection(BODY, header).message).toMatch(/no signature matches/);
  });

  it('rejects a stale or far-future timestamp', () => {
    const stale = signSimulatorWebhook(BODY, SECRET, NOW_SEC - 301);
    expect(rejection(BODY, stale).message).toMatch(/tolerance/);
    const future = signSimulatorWebhook(BODY, SECRET, NOW_SEC + 301);
    expect(rejection(BODY, future).message).toMatch(/tolerance/);
    const edge = signSimulatorWebhook(BODY, SECRET, NOW_SEC - 300);
    expect(adapter().parseWebhook(Buffer.from(BODY), edge).eventId).toBe('evt_sim_1');
  });

  it('rejects a missing header, a header without v1 and a bad timestamp', () => {
    expect(rejection(BODY, undefined).message).toMatch(/missing signature header/);
    expect(rejection(BODY, `t=${NOW_SEC}`).message).toMatch(/no v1 signature/);
    expect(rejection(BODY, `t=soon,v1=${'0'.repeat(64)}`).message).toMatch(/timestamp/);
  });

  it('rejects a correctly signed body that is not valid JSON or not an event', () => {
    const garbage = '{"id": "evt_1",';
    expect(rejection(garbage, signSimulatorWebhook(garbage, SECRET, NOW_SEC)).message).toMatch(
      /not valid JSON/,
    );
    const notEvent = JSON.stringify({ hello: 'world' });
    expect(rejection(notEvent, signSimulatorWebhook(notEvent, SECRET, NOW_SEC)).message).toMatch(
      /not a simulator event/,
    );
  });

  it('rejects everything when no secret is configured', () => {
    const header = signSimulatorWebhook(BODY, SECRET, NOW_SEC);
    expect(rejection(BODY, header, adapter(null)).message).toMatch(/no simulator webhook secret/);
  });
});
