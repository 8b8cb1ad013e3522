import { AuthorizeRequest, ProcessorError } from '../../../libs/contracts/src';
import { newId, parseCurrency } from '../../../libs/domain/src';
import {
  describeProcessorAdapterContract,
  processorErrorOf,
} from '../../../test/contract/processor-adapter.contract';
import { describeBalanceTransactionReport } from '../../../test/contract/balance-transactions.contract';
import { MemorySimulatorStore } from './memory-simulator-store';
import { SimulatorAdapter, SimulatorAdapterOptions } from './simulator.adapter';
import { SimulatorStore } from './simulator-store';
import { SIMULATOR_TOKENS } from './simulator-tokens';

const SIMULATOR_CONTRACT_TOKENS = {
  ok: SIMULATOR_TOKENS.ok,
  softDecline: SIMULATOR_TOKENS.declineInsufficientFunds,
  hardDecline: SIMULATOR_TOKENS.declineStolenCard,
  requiresAction: SIMULATOR_TOKENS.requiresAction,
  unavailable: SIMULATOR_TOKENS.unavailable,
  timeoutAfterCharge: SIMULATOR_TOKENS.timeout,
};

describeProcessorAdapterContract('simulator (memory store)', async () => {
  const store = new MemorySimulatorStore();
  return {
    adapter: new SimulatorAdapter({ store }),
    tokens: SIMULATOR_CONTRACT_TOKENS,
    chargeCount: (paymentId) => store.chargeCount(paymentId),
  };
});

describeBalanceTransactionReport('simulator (memory store)', async () => ({
  adapter: new SimulatorAdapter({ store: new MemorySimulatorStore() }),
  okToken: SIMULATOR_TOKENS.ok,
  // The simulator charges no fee: its report says 0 and net = amount.
  expectedFee: () => 0,
}));

describe('simulator balance report arguments', () => {
  const adapter = new SimulatorAdapter({ store: new MemorySimulatorStore() });
  const drain = async (
    query: Parameters<NonNullable<typeof adapter.listBalanceTransactions>>[0],
  ) => {
    for await (const t of adapter.listBalanceTransactions(query)) void t;
  };

  it('refuses a window that ends before it starts, as a typed error', async () => {
    const query = { createdFrom: new Date('2026-11-02'), createdTo: new Date('2026-11-01') };
    await processorErrorOf(drain(query), 'invalid_request');
  });

  it('refuses a page size above 100', async () => {
    const query = { createdFrom: new Date(0), createdTo: new Date(), pageSize: 101 };
    await processorErrorOf(drain(query), 'invalid_request');
  });
});

const USD = parseCurrency('USD')!;

function authorizeRequest(
  token: string,
  overrides: Partial<AuthorizeRequest> = {},
): AuthorizeRequest {
  return {
    idempotencyKey: `key-${newId('att')}`,
    paymentId: newId('pay'),
    amount: 1000,
    currency: USD,
    paymentMethodToken: token,
    captureMethod: 'AUTOMATIC',
    ...overrides,
  };
}

function simulator(options: Partial<SimulatorAdapterOptions> = {}) {
  const store = new MemorySimulatorStore();
  return { store, adapter: new SimulatorAdapter({ store, ...options }) };
}

afterEach(() => {
  jest.useRealTimers();
});

describe('SimulatorAdapter', () => {
  it('owns only sim_ tokens', () => {
    const { adapter } = simulator();
    expect(adapter.name).toBe('simulator');
    expect(adapter.ownsToken('sim_ok')).toBe(true);
    expect(adapter.ownsToken('sim_anything')).toBe(true);
    expect(adapter.ownsToken('pm_card_visa')).toBe(false);
  });

  it('refuses bad options at construction', () => {
    const store = new MemorySimulatorStore();
    expect(() => new SimulatorAdapter({ store, failureRate: 1.5 })).toThrow(/failureRate/);
    expect(() => new SimulatorAdapter({ store, latencyMs: -1 })).toThrow(/latencyMs/);
  });

  describe('authorize', () => {
    it('issues simpay_ references and the 3DS redirect for sim_3ds', async () => {
      const { adapter } = simulator();
      const result = await adapter.authorize(authorizeRequest(SIMULATOR_TOKENS.requiresAction));
      expect(result.processorReference).toMatch(/^simpay_[0-9a-f]{24}$/);
      expect(result).toMatchObject({
        status: 'requires_action',
        amountAuthorized: 0,
        amountCaptured: 0,
      });
      expect(result.nextAction).toEqual({
        type: 'redirect_to_url',
        redirectUrl: `https://simulator.invalid/3ds/${result.processorReference}`,
        clientSecret: `${result.processorReference}_secret`,
      });
    });

    it.each([
      [SIMULATOR_TOKENS.declineInsufficientFunds, 'insufficient_funds', false],
      [SIMULATOR_TOKENS.declineDoNotHonor, 'do_not_honor', false],
      [SIMULATOR_TOKENS.declineStolenCard, 'stolen_card', true],
    ])('declines %s with %s', async (token, declineCode, hardDecline) => {
      const { adapter, store } = simulator();
      const request = authorizeRequest(token);
      const error = await processorErrorOf(adapter.authorize(request), 'declined');
      expect(error).toMatchObject({ declineCode, hardDecline, retryable: false });
      expect(await store.chargeCount(request.paymentId)).toBe(0);
    });

    it('refuses an unknown sim_ token as a missing resource, and replays that', async () => {
      const { adapter } = simulator();
      const request = authorizeRequest('sim_nonexistent');
      const first = await processorErrorOf(adapter.authorize(request), 'invalid_request');
      expect(first.processorCode).toBe('resource_missing');
      const again = await processorErrorOf(adapter.authorize(request), 'invalid_request');
      expect(again.message).toBe(first.message);
    });

    it('refuses a token it did not issue and invalid amounts', async () => {
      const { adapter } = simulator();
      await processorErrorOf(
        adapter.authorize(authorizeRequest('pm_card_visa')),
        'invalid_request',
      );
      await processorErrorOf(
        adapter.authorize(authorizeRequest(SIMULATOR_TOKENS.ok, { amount: 0 })),
        'invalid_request',
      );
      await processorErrorOf(
        adapter.authorize(authorizeRequest(SIMULATOR_TOKENS.ok, { amount: 10.5 })),
        'invalid_request',
      );
    });

    it('saves nothing for sim_unavailable, so the key stays usable', async () => {
      const { adapter, store } = simulator();
      const request = authorizeRequest(SIMULATOR_TOKENS.unavailable);
      await processorErrorOf(adapter.authorize(request), 'unavailable');
      expect(await store.findRequest(request.idempotencyKey)).toBeNull();
    });
  });

  describe('idempotency', () => {
    it('flags a reused key with different parameters as idempotency_error', async () => {
      const { adapter } = simulator();
      const request = authorizeRequest(SIMULATOR_TOKENS.ok);
      await adapter.authorize(request);
      const changed = adapter.authorize({ ...request, captureMethod: 'MANUAL' });
      expect((await processorErrorOf(changed, 'invalid_request')).processorCode).toBe(
        'idempotency_error',
      );
    });

    it('flags a key reused for another operation', async () => {
      const { adapter } = simulator();
      const request = authorizeRequest(SIMULATOR_TOKENS.ok, { captureMethod: 'MANUAL' });
      const { processorReference } = await adapter.authorize(request);
      const capture = adapter.capture({
        idempotencyKey: request.idempotencyKey,
        processorReference,
        amount: 100,
      });
      expect((await processorErrorOf(capture, 'invalid_request')).processorCode).toBe(
        'idempotency_error',
      );
    });

    it('charges once for concurrent calls with one key', async () => {
      const { adapter, store } = simulator();
      const request = authorizeRequest(SIMULATOR_TOKENS.ok);
      const results = await Promise.all(
        Array.from({ length: 20 }, () => adapter.authorize(request)),
      );
      expect(new Set(results.map((r) => r.processorReference)).size).toBe(1);
      expect(await store.chargeCount(request.paymentId)).toBe(1);
    });

    it('never refunds more than captured under concurrent refunds', async () => {
      const { adapter } = simulator();
      const { processorReference } = await adapter.authorize(
        authorizeRequest(SIMULATOR_TOKENS.ok, { amount: 500 }),
      );
      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, () =>
          adapter.refund({
            idempotencyKey: `key-${newId('att')}`,
            processorReference,
            refundId: newId('ref'),
            amount: 100,
          }),
        ),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(5);
      const refused = outcomes.filter((o) => o.status === 'rejected');
      expect(refused.map((o) => (o.reason as ProcessorError).kind)).toEqual(
        Array(5).fill('invalid_request'),
      );
    });

    it('makes a second caller wait for the holder of the key', async () => {
      jest.useFakeTimers();
      const { store, gate } = gatedStore();
      const adapter = new SimulatorAdapter({ store });
      const request = authorizeRequest(SIMULATOR_TOKENS.ok);
      const first = adapter.authorize(request);
      const second = adapter.authorize(request);
      await jest.advanceTimersByTimeAsync(100);
      gate.open();
      await jest.advanceTimersByTimeAsync(20);
      expect(await second).toEqual(await first);
      expect(await store.chargeCount(request.paymentId)).toBe(1);
    });

    it('gives up waiting with an unknown outcome while the holder is stuck', async () => {
      jest.useFakeTimers();
      const { store, gate } = gatedStore();
      const adapter = new SimulatorAdapter({ store });
      const request = authorizeRequest(SIMULATOR_TOKENS.ok);
      const first = adapter.authorize(request);
      const second = processorErrorOf(adapter.authorize(request), 'timeout_unknown_outcome');
      await jest.advanceTimersByTimeAsync(5_100);
      expect((await second).processorCode).toBe('idempotency_key_in_use');
      gate.open();
      await first;
    });

    it('lets a call take over a claim abandoned past its lease', async () => {
      let nowMs = 1_000_000;
      const store = new MemorySimulatorStore({ leaseMs: 30_000, nowMs: () => nowMs });
      const fingerprint = {
        idempotencyKey: 'k1',
        operation: 'authorize' as const,
        requestHash: 'h',
      };
      const dead = await store.claim(fingerprint);
      expect((await store.claim(fingerprint)).claimed).toBe(false);
      nowMs += 30_000;
      const next = await store.claim(fingerprint);
      expect(next.claimed).toBe(true);
      if (!dead.claimed) throw new Error('first claim must succeed');
      const late = await store.complete(dead.claim, {
        type: 'error',
        error: { kind: 'declined', message: 'x' },
      });
      expect(late).toBe('lost');
    });
  });

  describe('capture, cancel, refund', () => {
    it('refuses unknown references as missing resources', async () => {
      const { adapter } = simulator();
      const processorReference = 'simpay_000000000000000000000000';
      const capture = adapter.capture({ idempotencyKey: 'k-c', processorReference, amount: 1 });
      expect((await processorErrorOf(capture, 'invalid_request')).processorCode).toBe(
        'resource_missing',
      );
      const cancel = adapter.cancel({ idempotencyKey: 'k-x', processorReference });
      await processorErrorOf(cancel, 'invalid_request');
      const refund = adapter.refund({
        idempotencyKey: 'k-r',
        processorReference,
        refundId: newId('ref'),
        amount: 1,
      });
      await processorErrorOf(refund, 'invalid_request');
    });

    it('refuses a zero capture and a refund of an uncaptured payment', async () => {
      const { adapter } = simulator();
      const { processorReference } = await adapter.authorize(
        authorizeRequest(SIMULATOR_TOKENS.ok, { captureMethod: 'MANUAL' }),
      );
      await processorErrorOf(
        adapter.capture({ idempotencyKey: 'k0', processorReference, amount: 0 }),
        'invalid_request',
      );
      const refund = adapter.refund({
        idempotencyKey: 'k1',
        processorReference,
        refundId: newId('ref'),
        amount: 1,
      });
      await processorErrorOf(refund, 'invalid_request');
    });

    it('issues simref_ refund references', async () => {
      const { adapter } = simulator();
      const { processorReference } = await adapter.authorize(authorizeRequest(SIMULATOR_TOKENS.ok));
      const refund = await adapter.refund({
        idempotencyKey: 'k-ref',
        processorReference,
        refundId: newId('ref'),
        amount: 10,
      });
      expect(refund.processorReference).toMatch(/^simref_[0-9a-f]{24}$/);
    });
  });

  describe('retrieve', () => {
    it('answers null for an unknown reference and for a declined authorize', async () => {
      const { adapter } = simulator();
      const declined = authorizeRequest(SIMULATOR_TOKENS.declineDoNotHonor);
      await processorErrorOf(adapter.authorize(declined), 'declined');
      expect(await adapter.retrieve({ idempotencyKey: declined.idempotencyKey })).toBeNull();
      const byReference = { processorReference: 'simpay_unknown', idempotencyKey: 'k' };
      expect(await adapter.retrieve(byReference)).toBeNull();
    });
  });

  describe('failure injection', () => {
    it('refuses every call at failure rate 1, before processing', async () => {
      const store = new MemorySimulatorStore();
      const adapter = new SimulatorAdapter({ store, failureRate: 1 });
      const request = authorizeRequest(SIMULATOR_TOKENS.ok);
      const error = await processorErrorOf(adapter.authorize(request), 'unavailable');
      expect(error.knownNotProcessed).toBe(true);
      expect(await store.findRequest(request.idempotencyKey)).toBeNull();

      const healthy = new SimulatorAdapter({ store });
      await healthy.authorize(request);
      expect(await store.chargeCount(request.paymentId)).toBe(1);
    });

    it('fails the share of calls the random source puts under the rate', async () => {
      const draws = [0.2, 0.7];
      const { adapter } = simulator({ failureRate: 0.5, random: () => draws.shift() ?? 0 });
      await processorErrorOf(
        adapter.authorize(authorizeRequest(SIMULATOR_TOKENS.ok)),
        'unavailable',
      );
      await expect(adapter.authorize(authorizeRequest(SIMULATOR_TOKENS.ok))).resolves.toBeDefined();
    });

    it('waits the configured latency before answering', async () => {
      jest.useFakeTimers();
      const { adapter } = simulator({ latencyMs: 250 });
      let settled = false;
      const call = adapter.authorize(authorizeRequest(SIMULATOR_TOKENS.ok)).finally(() => {
        settled = true;
      });
      await jest.advanceTimersByTimeAsync(200);
      expect(settled).toBe(false);
      await jest.advanceTimersByTimeAsync(50);
      expect(settled).toBe(true);
      await call;
    });

    it('sets no timer at all without latency', async () => {
      jest.useFakeTimers();
      const { adapter } = simulator({ latencyMs: 0 });
      await expect(adapter.authorize(authorizeRequest(SIMULATOR_TOKENS.ok))).resolves.toBeDefined();
      expect(jest.getTimerCount()).toBe(0);
    });
  });

  describe('store failures', () => {
    it('reports a failed claim as unavailable and a failed save as unknown outcome', async () => {
      const memory = new MemorySimulatorStore();
      const broken = (method: keyof SimulatorStore): SimulatorStore =>
        Object.assign(Object.create(memory) as SimulatorStore, {
          [method]: () => Promise.reject(new Error('connection lost')),
        });
      const request = authorizeRequest(SIMULATOR_TOKENS.ok);
      const claimFails = new SimulatorAdapter({ store: broken('claim') });
      await processorErrorOf(claimFails.authorize(request), 'unavailable');
      const saveFails = new SimulatorAdapter({ store: broken('complete') });
      await processorErrorOf(saveFails.authorize(request), 'timeout_unknown_outcome');
    });

    it('releases the key when deciding fails, so a retry can proceed', async () => {
      const memory = new MemorySimulatorStore();
      const adapter = new SimulatorAdapter({ store: memory });
      const { processorReference } = await adapter.authorize(
        authorizeRequest(SIMULATOR_TOKENS.ok, { captureMethod: 'MANUAL' }),
      );
      const flaky = Object.assign(Object.create(memory) as SimulatorStore, {
        findPayment: () => Promise.reject(new Error('connection lost')),
      });
      const capture = { idempotencyKey: 'k-cap', processorReference, amount: 100 };
      await processorErrorOf(
        new SimulatorAdapter({ store: flaky }).capture(capture),
        'unavailable',
      );
      await expect(adapter.capture(capture)).resolves.toMatchObject({ amountCaptured: 100 });
    });
  });
});

/** A memory store whose first save blocks until the test opens the gate: a slow key holder. */
function gatedStore() {
  const memory = new MemorySimulatorStore();
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  let blocked = false;
  const store = Object.assign(Object.create(memory) as MemorySimulatorStore, {
    complete: async (...args: Parameters<SimulatorStore['complete']>) => {
      if (!blocked) {
        blocked = true;
        await opened;
      }
      return memory.complete(...args);
    },
  });
  return { store, gate: { open: () => open() } };
}
