import { randomUUID } from 'node:crypto';
import { parseCurrency } from '../../../libs/domain/src';
import {
  CLAIM_REQUEST,
  COMPLETE_REQUEST,
  COMPLETE_WITH_NEW_PAYMENT,
  COMPLETE_WITH_PAYMENT_UPDATE,
  COUNT_CHARGES,
  FIND_PAYMENT,
  FIND_REQUEST,
  LIST_MOVEMENTS,
  RELEASE_REQUEST,
} from './sql-simulator-statements';
import { parseSimulatorStatus } from './simulator-status';
import {
  BalanceMovementQuery,
  ClaimResult,
  CompleteResult,
  DEFAULT_CLAIM_LEASE_MS,
  PaymentEffect,
  RequestClaim,
  RequestFingerprint,
  SIMULATOR_OPERATIONS,
  SavedRequest,
  SavedResponse,
  SimulatorBalanceMovement,
  SimulatorPayment,
  SimulatorPaymentState,
  SimulatorStore,
} from './simulator-store';

/** Anything that runs one parameterised statement: a pg Pool or Client, a TypeORM DataSource. */
export interface SqlQueryRunner {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

export interface SqlSimulatorStoreOptions {
  readonly leaseMs?: number;
}

type Row = Record<string, unknown>;

/** What simulator_requests.response holds: a claim in progress, or the final answer. */
type StoredResponse =
  | { readonly state: 'pending'; readonly owner: string; readonly lockedAt: number }
  | { readonly state: 'done'; readonly response: SavedResponse };

/**
 * Postgres store shared by every worker process. Each method is one statement, so it needs no
 * transaction or dedicated connection and stays atomic across processes. Give it a pool or a
 * DataSource, not a transaction's manager: claims must commit (and be seen) at once.
 */
export class SqlSimulatorStore implements SimulatorStore {
  private readonly leaseMs: number;

  constructor(
    private readonly sql: SqlQueryRunner,
    options: SqlSimulatorStoreOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? DEFAULT_CLAIM_LEASE_MS;
  }

  async claim(request: RequestFingerprint): Promise<ClaimResult> {
    const owner = randomUUID();
    const { idempotencyKey, operation, requestHash } = request;
    const claimed = await this.rows(CLAIM_REQUEST, [
      idempotencyKey,
      owner,
      operation,
      requestHash,
      this.leaseMs,
    ]);
    if (claimed.length > 0) return { claimed: true, claim: { idempotencyKey, owner } };
    // The insert waited for any concurrent holder to commit, so this read sees its row.
    return { claimed: false, existing: await this.findRequest(idempotencyKey) };
  }

  async complete(
    claim: RequestClaim,
    response: SavedResponse,
    effect?: PaymentEffect,
  ): Promise<CompleteResult> {
    const stored: StoredResponse = { state: 'done', response };
    const head = [claim.idempotencyKey, claim.owner, JSON.stringify(stored)];
    if (effect?.type === 'update') {
      const [row] = await this.rows(COMPLETE_WITH_PAYMENT_UPDATE, [
        ...head,
        effect.reference,
        ...stateParams(effect.next),
        ...stateParams(effect.expected),
      ]);
      if (Number(row?.owned) === 0) return 'lost';
      return Number(row?.done) === 1 ? 'completed' : 'stale';
    }
    const [row] = effect
      ? await this.rows(COMPLETE_WITH_NEW_PAYMENT, [...head, ...paymentParams(effect.payment)])
      : await this.rows(COMPLETE_REQUEST, head);
    return Number(row?.done) === 1 ? 'completed' : 'lost';
  }

  async release(claim: RequestClaim): Promise<void> {
    await this.rows(RELEASE_REQUEST, [claim.idempotencyKey, claim.owner]);
  }

  async findRequest(idempotencyKey: string): Promise<SavedRequest | null> {
    const [row] = await this.rows(FIND_REQUEST, [idempotencyKey]);
    return row ? toSavedRequest(row) : null;
  }

  async findPayment(reference: string): Promise<SimulatorPayment | null> {
    const [row] = await this.rows(FIND_PAYMENT, [reference]);
    return row ? toPayment(row) : null;
  }

  async chargeCount(merchantRef: string): Promise<number> {
    const [row] = await this.rows(COUNT_CHARGES, [merchantRef]);
    return Number(row?.count ?? 0);
  }

  async listMovements(query: BalanceMovementQuery): Promise<SimulatorBalanceMovement[]> {
    const { from, to, after, limit } = query;
    const rows = await this.rows(LIST_MOVEMENTS, [
      from,
      to,
      after?.createdAt ?? null,
      after?.id ?? null,
      limit,
    ]);
    return rows.map(toMovement);
  }

  private async rows(statement: string, params: unknown[]): Promise<Row[]> {
    return rowsOf(await this.sql.query(statement, params));
  }
}

// pg answers { rows }; TypeORM answers the rows, or [rows, rowCount] for UPDATE and DELETE.
function rowsOf(result: unknown): Row[] {
  if (Array.isArray(result)) {
    const pair = result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number';
    return (pair ? result[0] : result) as Row[];
  }
  const rows = (result as { rows?: unknown } | null)?.rows;
  if (Array.isArray(rows)) return rows as Row[];
  throw new Error('simulator store: unexpected query result shape');
}

function stateParams(state: SimulatorPaymentState): unknown[] {
  return [state.status, state.amountCaptured, state.amountRefunded];
}

function paymentParams(p: SimulatorPayment): unknown[] {
  const { reference, merchantRef, token, status, amount, currency } = p;
  return [
    reference,
    merchantRef,
    token,
    status,
    amount,
    currency,
    p.amountCaptured,
    p.amountRefunded,
  ];
}

function toSavedRequest(row: Row): SavedRequest {
  const stored = parseJson(row.response) as StoredResponse;
  const operation = SIMULATOR_OPERATIONS.find((op) => op === row.operation);
  if (!operation) throw new Error(`unknown simulator operation "${String(row.operation)}"`);
  return {
    idempotencyKey: String(row.idempotency_key),
    operation,
    requestHash: String(row.request_hash),
    response: stored.state === 'done' ? stored.response : null,
  };
}

function toPayment(row: Row): SimulatorPayment {
  const currency = parseCurrency(String(row.currency));
  if (!currency)
    throw new Error(`unknown currency "${String(row.currency)}" in simulator_payments`);
  return {
    reference: String(row.reference),
    merchantRef: String(row.merchant_ref),
    token: String(row.token),
    status: parseSimulatorStatus(String(row.status)),
    amount: Number(row.amount),
    currency,
    amountCaptured: Number(row.amount_captured),
    amountRefunded: Number(row.amount_refunded),
  };
}

function toMovement(row: Row): SimulatorBalanceMovement {
  const currency = parseCurrency(String(row.currency));
  if (!currency)
    throw new Error(`unknown currency "${String(row.currency)}" in simulator_payments`);
  return {
    id: String(row.id),
    type: row.type === 'refund' ? 'refund' : 'charge',
    sourceReference: String(row.source_reference),
    amount: Number(row.amount),
    currency,
    createdAt: new Date(row.created_at as string | Date),
  };
}

// jsonb arrives parsed from pg, but a runner with other type parsers may hand back text.
function parseJson(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}
