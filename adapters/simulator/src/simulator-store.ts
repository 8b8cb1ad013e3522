import {
  ProcessorErrorKind,
  ProcessorPaymentResult,
  ProcessorRefundResult,
} from '../../../libs/contracts/src';
import { CurrencyCode } from '../../../libs/domain/src';
import { SimulatorPaymentStatus } from './simulator-status';

/** The part of a processor-side payment that capture, cancel and refund change. */
export interface SimulatorPaymentState {
  readonly status: SimulatorPaymentStatus;
  readonly amountCaptured: number;
  readonly amountRefunded: number;
}

/** A processor-side payment (table simulator_payments); merchantRef is our payment id. */
export interface SimulatorPayment extends SimulatorPaymentState {
  readonly reference: string;
  readonly merchantRef: string;
  readonly token: string;
  readonly amount: number;
  readonly currency: CurrencyCode;
}

export const SIMULATOR_OPERATIONS = ['authorize', 'capture', 'cancel', 'refund'] as const;
export type SimulatorOperation = (typeof SIMULATOR_OPERATIONS)[number];

export interface SavedError {
  readonly kind: ProcessorErrorKind;
  readonly message: string;
  readonly processorCode?: string;
  readonly declineCode?: string;
  readonly hardDecline?: boolean;
  readonly retryable?: boolean;
}

/** What a call answered; replayed verbatim for the same idempotency key. */
export type SavedResponse =
  | { readonly type: 'payment'; readonly result: ProcessorPaymentResult }
  | {
      readonly type: 'refund';
      readonly result: ProcessorRefundResult;
      /** The simulator payment refunded (absent in responses saved before the report existed). */
      readonly paymentReference?: string;
    }
  | { readonly type: 'error'; readonly error: SavedError };

/** Identifies a call: same key with another operation or hash is a misuse of the key. */
export interface RequestFingerprint {
  readonly idempotencyKey: string;
  readonly operation: SimulatorOperation;
  readonly requestHash: string;
}

/** A saved request; `response` is null while another call still holds the key. */
export interface SavedRequest extends RequestFingerprint {
  readonly response: SavedResponse | null;
}

/** Proof that this call holds a key; the owner fences out a call whose claim was taken over. */
export interface RequestClaim {
  readonly idempotencyKey: string;
  readonly owner: string;
}

/** `existing` is null when the key was released between the claim and the read: claim again. */
export type ClaimResult =
  | { readonly claimed: true; readonly claim: RequestClaim }
  | { readonly claimed: false; readonly existing: SavedRequest | null };

export type PaymentEffect =
  | { readonly type: 'create'; readonly payment: SimulatorPayment }
  | {
      readonly type: 'update';
      readonly reference: string;
      readonly expected: SimulatorPaymentState;
      readonly next: SimulatorPaymentState;
    };

/**
 * completed: response saved and effect applied together. stale: the payment no longer has the
 * expected state, nothing was written. lost: the claim was taken over, nothing was written.
 */
export type CompleteResult = 'completed' | 'stale' | 'lost';

/**
 * Money the simulated processor moved on the merchant's balance: a captured charge (+) or a
 * succeeded refund (−), in minor units of `currency`. The simulator takes no fee.
 */
export interface SimulatorBalanceMovement {
  /** `simtxn_<charge or refund reference>`: stable, one per movement. */
  readonly id: string;
  readonly type: 'charge' | 'refund';
  /** The payment reference (`simpay_…`) for a charge, the refund reference (`simref_…`). */
  readonly sourceReference: string;
  /** Signed: a charge positive, a refund negative. */
  readonly amount: number;
  readonly currency: CurrencyCode;
  /** Millisecond precision (the keyset cursor is a JS Date). */
  readonly createdAt: Date;
}

/** Movements created in [from, to] (inclusive), ordered by (createdAt, id), after `after`. */
export interface BalanceMovementQuery {
  readonly from: Date;
  readonly to: Date;
  readonly after?: { readonly createdAt: Date; readonly id: string };
  readonly limit: number;
}

/** A claim older than this is presumed abandoned (its caller died) and may be taken over. */
export const DEFAULT_CLAIM_LEASE_MS = 30_000;

/**
 * Persistence of the simulated processor. Every method is atomic on its own, so several
 * processes sharing one store never apply a key's effect twice.
 */
export interface SimulatorStore {
  /** Claims a key for this call, or returns what is saved under it (taking over stale claims). */
  claim(request: RequestFingerprint): Promise<ClaimResult>;
  /** Saves the response and applies its effect in one step, only while the claim is held. */
  complete(
    claim: RequestClaim,
    response: SavedResponse,
    effect?: PaymentEffect,
  ): Promise<CompleteResult>;
  /** Gives a held key back unprocessed, so the next call with it starts afresh. */
  release(claim: RequestClaim): Promise<void>;
  findRequest(idempotencyKey: string): Promise<SavedRequest | null>;
  findPayment(reference: string): Promise<SimulatorPayment | null>;
  /** Payments created (authorized, charged or awaiting action) for one merchant payment id. */
  chargeCount(merchantRef: string): Promise<number>;
  /** One page of the balance report (captured charges and succeeded refunds). */
  listMovements(query: BalanceMovementQuery): Promise<SimulatorBalanceMovement[]>;
}

/** The stable id of the balance movement a charge or refund reference made. */
export function movementId(sourceReference: string): string {
  return `simtxn_${sourceReference}`;
}
