import { randomUUID } from 'node:crypto';
import {
  ClaimResult,
  CompleteResult,
  DEFAULT_CLAIM_LEASE_MS,
  PaymentEffect,
  RequestClaim,
  RequestFingerprint,
  SavedRequest,
  SavedResponse,
  SimulatorPayment,
  SimulatorPaymentState,
  SimulatorStore,
} from './simulator-store';

export interface MemorySimulatorStoreOptions {
  readonly leaseMs?: number;
  readonly nowMs?: () => number;
}

interface MemoryRequest extends RequestFingerprint {
  readonly response: SavedResponse | null;
  readonly owner?: string;
  readonly lockedAt: number;
}

/** Single-process store for unit tests and local runs; every method is synchronous inside. */
export class MemorySimulatorStore implements SimulatorStore {
  private readonly requests = new Map<string, MemoryRequest>();
  private readonly payments = new Map<string, SimulatorPayment>();
  private readonly leaseMs: number;
  private readonly nowMs: () => number;

  constructor(options: MemorySimulatorStoreOptions = {}) {
    this.leaseMs = options.leaseMs ?? DEFAULT_CLAIM_LEASE_MS;
    this.nowMs = options.nowMs ?? Date.now;
  }

  async claim(request: RequestFingerprint): Promise<ClaimResult> {
    const existing = this.requests.get(request.idempotencyKey);
    if (existing && !this.isAbandoned(existing, request)) {
      return { claimed: false, existing: toSaved(existing) };
    }
    const owner = randomUUID();
    this.requests.set(request.idempotencyKey, {
      ...request,
      response: null,
      owner,
      lockedAt: this.nowMs(),
    });
    return { claimed: true, claim: { idempotencyKey: request.idempotencyKey, owner } };
  }

  async complete(
    claim: RequestClaim,
    response: SavedResponse,
    effect?: PaymentEffect,
  ): Promise<CompleteResult> {
    const request = this.requests.get(claim.idempotencyKey);
    if (!request || request.response || request.owner !== claim.owner) return 'lost';
    if (effect?.type === 'update') {
      const payment = this.payments.get(effect.reference);
      if (!payment || !sameState(payment, effect.expected)) return 'stale';
      this.payments.set(effect.reference, { ...payment, ...effect.next });
    }
    if (effect?.type === 'create')
      this.payments.set(effect.payment.reference, { ...effect.payment });
    this.requests.set(claim.idempotencyKey, {
      ...request,
      response: structuredClone(response),
      owner: undefined,
    });
    return 'completed';
  }

  async release(claim: RequestClaim): Promise<void> {
    const request = this.requests.get(claim.idempotencyKey);
    if (request && !request.response && request.owner === claim.owner) {
      this.requests.delete(claim.idempotencyKey);
    }
  }

  async findRequest(idempotencyKey: string): Promise<SavedRequest | null> {
    const request = this.requests.get(idempotencyKey);
    return request ? toSaved(request) : null;
  }

  async findPayment(reference: string): Promise<SimulatorPayment | null> {
    const payment = this.payments.get(reference);
    return payment ? { ...payment } : null;
  }

  async chargeCount(merchantRef: string): Promise<number> {
    return [...this.payments.values()].filter((p) => p.merchantRef === merchantRef).length;
  }

  // Only the same request may take over, and only once its holder has had a full lease.
  private isAbandoned(existing: MemoryRequest, request: RequestFingerprint): boolean {
    return (
      existing.response === null &&
      existing.operation === request.operation &&
      existing.requestHash === request.requestHash &&
      existing.lockedAt <= this.nowMs() - this.leaseMs
    );
  }
}

function toSaved(request: MemoryRequest): SavedRequest {
  return {
    idempotencyKey: request.idempotencyKey,
    operation: request.operation,
    requestHash: request.requestHash,
    response: request.response ? structuredClone(request.response) : null,
  };
}

function sameState(payment: SimulatorPaymentState, expected: SimulatorPaymentState): boolean {
  return (
    payment.status === expected.status &&
    payment.amountCaptured === expected.amountCaptured &&
    payment.amountRefunded === expected.amountRefunded
  );
}
