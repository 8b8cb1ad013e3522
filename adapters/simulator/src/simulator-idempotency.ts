import { delay } from './delay';
import { ProcessorError, isProcessorError } from '../../../libs/contracts/src';
import { Decision } from './simulator-decisions';
import {
  ClaimResult,
  RequestClaim,
  RequestFingerprint,
  SavedRequest,
  SavedResponse,
  SimulatorStore,
} from './simulator-store';

const POLL_MS = 10;
/** How long a call waits for another call holding the same key before giving up. */
const WAIT_FOR_HOLDER_MS = 5_000;
/** Each stale retry means another call changed the payment, so progress is still made. */
const MAX_STALE_RETRIES = 20;

export interface RunOutcome {
  readonly response: SavedResponse;
  /** True when the response was saved by an earlier (or concurrent) call with the same key. */
  readonly replayed: boolean;
}

/**
 * Runs a mutating call at most once per idempotency key: replays what is saved under the key,
 * waits while another call holds it, or claims it, decides, and saves the answer with its effect.
 */
export async function runOnce(
  store: SimulatorStore,
  request: RequestFingerprint,
  decide: () => Promise<Decision>,
): Promise<RunOutcome> {
  const deadline = Date.now() + WAIT_FOR_HOLDER_MS;
  for (;;) {
    const result = await claimOrUnavailable(store, request);
    if (result.claimed) {
      const response = await decideAndComplete(store, result.claim, decide);
      if (response) return { response, replayed: false };
      continue; // the claim was taken over: read what the new holder saves
    }
    if (!result.existing) continue; // released meanwhile: claim again
    assertSameRequest(result.existing, request);
    if (result.existing.response) return { response: result.existing.response, replayed: true };
    if (Date.now() >= deadline) throw keyInUse();
    await delay(POLL_MS);
  }
}

async function decideAndComplete(
  store: SimulatorStore,
  claim: RequestClaim,
  decide: () => Promise<Decision>,
): Promise<SavedResponse | null> {
  for (let attempt = 0; attempt < MAX_STALE_RETRIES; attempt += 1) {
    const decision = await decideOrRelease(store, claim, decide);
    const result = await store
      .complete(claim, decision.response, decision.effect)
      .catch((error: unknown) => {
        throw storeFailure('timeout_unknown_outcome', error, 'it may or may not have been applied');
      });
    if (result === 'completed') return decision.response;
    if (result === 'lost') return null;
  }
  await store.release(claim).catch(() => undefined);
  const message = 'the payment kept changing concurrently; nothing was done';
  throw new ProcessorError('unavailable', message, { processorCode: 'lock_timeout' });
}

async function decideOrRelease(
  store: SimulatorStore,
  claim: RequestClaim,
  decide: () => Promise<Decision>,
): Promise<Decision> {
  try {
    return await decide();
  } catch (error) {
    await store.release(claim).catch(() => undefined);
    throw isProcessorError(error) ? error : storeFailure('unavailable', error, 'nothing was done');
  }
}

async function claimOrUnavailable(
  store: SimulatorStore,
  request: RequestFingerprint,
): Promise<ClaimResult> {
  // A failed claim never moved money: at worst it left a claim that its lease will expire.
  return store.claim(request).catch((error: unknown) => {
    throw storeFailure('unavailable', error, 'nothing was done');
  });
}

function assertSameRequest(saved: SavedRequest, request: RequestFingerprint): void {
  if (saved.operation === request.operation && saved.requestHash === request.requestHash) return;
  const message = `idempotency key ${request.idempotencyKey} was already used for another request`;
  throw new ProcessorError('invalid_request', `${message} (${saved.operation})`, {
    processorCode: 'idempotency_error',
  });
}

function keyInUse(): ProcessorError {
  // The holder may still move money, so the outcome of this call is unknown, not "not processed".
  return new ProcessorError(
    'timeout_unknown_outcome',
    'another request with this idempotency key is still in progress',
    { processorCode: 'idempotency_key_in_use' },
  );
}

function storeFailure(
  kind: 'unavailable' | 'timeout_unknown_outcome',
  error: unknown,
  consequence: string,
): ProcessorError {
  const reason = error instanceof Error ? error.message : String(error);
  return new ProcessorError(kind, `simulator store failed (${reason}); ${consequence}`, {
    processorCode: 'store_failure',
  });
}
