import { createHmac, timingSafeEqual } from 'node:crypto';
import { ParsedWebhook, ProcessorError } from '../../../libs/contracts/src';

/** Seconds a signed webhook stays acceptable, as in Stripe's scheme. */
export const WEBHOOK_TOLERANCE_SEC = 300;

/** Signature header `t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<payload>")>` (Stripe's scheme). */
export function signSimulatorWebhook(
  payload: string,
  secret: string,
  timestampSec: number,
): string {
  return `t=${timestampSec},v1=${hmacHex(secret, timestampSec, Buffer.from(payload, 'utf8'))}`;
}

/** Verifies the signature over the raw bytes, then parses `{ id, type, created, data }`. */
export function verifySimulatorWebhook(
  rawBody: Buffer,
  header: string | undefined,
  secret: string | undefined,
  now: Date,
): ParsedWebhook {
  if (!secret) throw rejected('no simulator webhook secret is configured');
  if (!header) throw rejected('missing signature header');
  const { timestamp, signatures } = parseHeader(header);
  if (signatures.length === 0) throw rejected('no v1 signature in header');
  if (timestamp === undefined) throw rejected('missing or invalid timestamp in signature header');
  if (Math.abs(now.getTime() / 1000 - timestamp) > WEBHOOK_TOLERANCE_SEC) {
    throw rejected(`timestamp is outside the ${WEBHOOK_TOLERANCE_SEC} s tolerance`);
  }
  const expected = Buffer.from(hmacHex(secret, timestamp, rawBody), 'hex');
  if (!signatures.some((candidate) => sameSignature(candidate, expected))) {
    throw rejected('no signature matches the payload');
  }
  return toParsedWebhook(parseBody(rawBody));
}

function hmacHex(secret: string, timestampSec: number, payload: Buffer): string {
  return createHmac('sha256', secret).update(`${timestampSec}.`).update(payload).digest('hex');
}

function parseHeader(header: string): { timestamp?: number; signatures: string[] } {
  const pairs = header.split(',').map((part) => part.trim().split('='));
  const timestamps = pairs.filter(([key]) => key === 't').map(([, value]) => value ?? '');
  const signatures = pairs.filter(([key]) => key === 'v1').map(([, value]) => value ?? '');
  const valid = timestamps.length === 1 && /^\d{1,12}$/.test(timestamps[0]);
  return { timestamp: valid ? Number(timestamps[0]) : undefined, signatures };
}

function sameSignature(candidate: string, expected: Buffer): boolean {
  if (!/^[0-9a-f]+$/i.test(candidate)) return false;
  const actual = Buffer.from(candidate, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function parseBody(rawBody: Buffer): unknown {
  try {
    return JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw rejected('webhook body is not valid JSON');
  }
}

function toParsedWebhook(body: unknown): ParsedWebhook {
  const event = (body ?? {}) as { id?: unknown; type?: unknown; created?: unknown; data?: unknown };
  const { id, type, created } = event;
  if (typeof id !== 'string' || typeof type !== 'string' || !Number.isInteger(created)) {
    throw rejected('webhook body is not a simulator event { id, type, created, data }');
  }
  return {
    eventId: id,
    type,
    occurredAt: new Date((created as number) * 1000),
    payload: event.data,
  };
}

function rejected(message: string): ProcessorError {
  return new ProcessorError('webhook_signature', `simulator webhook rejected: ${message}`);
}
