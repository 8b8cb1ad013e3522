import { randomUUID } from 'node:crypto';
import {
  BalanceMovementQuery,
  ClaimResult,
  CompleteResult,
  DEFAULT_CLAIM_LEASE_MS,
  PaymentEffect,
  RequestClaim,
  RequestFingerprint,
  SavedRequest,
  SavedResponse,
  SimulatorBalanceMovement,
  SimulatorPayment,
  SimulatorPaymentState,
  SimulatorStore,
  movementId,
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
  private readonly movements: SimulatorBalanceMovement[] = [];
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
    let payment: SimulatorPayment | undefined;
    if (effect?.type === 'update') {
      const current = this.payments.get(effect.reference);
      if (!current || !sameState(current, effect.expected)) return 'stale';
      payment = { ...current, ...effect.next };
      this.payments.set(effect.reference, payment);
    }
    if (effect?.type === 'create') {
      payment = { ...effect.payment };
      this.payments.set(effect.payment.reference, payment);
    }
    if (payment) this.recordMovement(payment, response, effect);
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

  async listMovements(query: BalanceMovementQuery): Promise<SimulatorBalanceMovement[]> {
    const { from, to, after, limit } = query;
    return this.movements
      .filter((m) => m.createdAt >= from && m.createdAt <= to)
      .filter((m) => !after || compareMovement(m, after) > 0)
      .sort(compareMovement)
      .slice(0, limit)
      .map((m) => ({ ...m, createdAt: new Date(m.createdAt) }));
  }

  // The same facts the SQL store reads back from its requests: a payment's first capture, a
  // succeeded refund.
  private recordMovement(
    payment: SimulatorPayment,
    response: SavedResponse,
    effect?: PaymentEffect,
  ): void {
    const createdAt = new Date(this.nowMs());
    const capturedBefore = effect?.type === 'update' ? effect.expected.amountCaptured : 0;
    if (response.type === 'payment' && capturedBefore === 0 && payment.amountCaptured > 0) {
      this.movements.push({
        id: movementId(payment.reference),
        type: 'charge',
        sourceReference: payment.reference,
        amount: payment.amountCaptured,
        currency: payment.currency,
        createdAt,
      });
    }
    if (response.type === 'refund' && response.result.status === 'succeeded') {
      this.movements.push({
        id: movementId(response.result.processorReference),
        type: 'refund',
        sourceReference: response.result.processorReference,
        amount: -response.result.amount,
        currency: payment.currency,
        createdAt,
      });
    }
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

function compareMovement(
  a: { readonly createdAt: Date; readonly id: string },
  b: { readonly createdAt: Date; readonly id: string },
): number {
  const byTime = a.createdAt.getTime() - b.createdAt.getTime();
  if (byTime !== 0) return byTime;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function sameState(payment: SimulatorPaymentState, expected: SimulatorPaymentState): boolean {
  return (
    payment.status === expected.status &&
    payment.amountCaptured === expected.amountCaptured &&
    payment.amountRefunded === expected.amountRefunded
  );
}
