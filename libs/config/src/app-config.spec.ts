import { ConfigError, loadConfig } from './app-config';

describe('loadConfig', () => {
  it('has working defaults for every variable', () => {
    const config = loadConfig({});
    expect(config.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/payments');
    expect(config.natsUrl).toBe('nats://127.0.0.1:4222');
    expect(config.port).toBe(3000);
    expect(config.services).toEqual(['gateway', 'worker', 'ledger']);
    expect(config.idempotencyTtlHours).toBe(24);
    expect(config.stripe.secretKey).toBeUndefined();
    expect(config.stripe.webhookSecrets).toEqual([]);
  });

  it('reads a comma-separated webhook secret list for rotation', () => {
    expect(loadConfig({ STRIPE_WEBHOOK_SECRET: 'whsec_a, whsec_b' }).stripe.webhookSecrets).toEqual(
      ['whsec_a', 'whsec_b'],
    );
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x'],
    ['NATS_URL', 'not a url'],
    ['LOG_LEVEL', 'loud'],
    ['SIMULATOR_FAILURE_RATE', '2'],
    ['IDEMPOTENCY_TTL_HOURS', '1'],
    ['SERVICES', 'gateway,ledgerx'],
    ['NATS_NAMESPACE', 'Has-Caps'],
  ])('refuses %s=%s naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    try {
      loadConfig({ [name]: value });
    } catch (error) {
      expect((error as ConfigError).message).toContain(name);
    }
  });

  it('refuses a malformed Stripe key or a Stripe key without webhook secret, never echoing the key', () => {
    expect(() =>
      loadConfig({ STRIPE_SECRET_KEY: 'pk_live_oops', STRIPE_WEBHOOK_SECRET: 'whsec_x' }),
    ).toThrow(/STRIPE_SECRET_KEY/);
    expect(() =>
      loadConfig({ STRIPE_SECRET_KEY: 'pk_live_oops', STRIPE_WEBHOOK_SECRET: 'whsec_x' }),
    ).not.toThrow(/pk_live_oops/);
    expect(() => loadConfig({ STRIPE_SECRET_KEY: 'sk_test_abc' })).toThrow(/STRIPE_WEBHOOK_SECRET/);
    expect(
      loadConfig({ STRIPE_SECRET_KEY: 'sk_test_abc', STRIPE_WEBHOOK_SECRET: 'whsec_x' }).stripe
        .secretKey,
    ).toBe('sk_test_abc');
  });

  it('prepares hot-path statements unless DB_PREPARED_STATEMENTS is off; refuses other values', () => {
    expect(loadConfig({}).dbPreparedStatements).toBe(true);
    expect(loadConfig({ DB_PREPARED_STATEMENTS: 'off' }).dbPreparedStatements).toBe(false);
    expect(() => loadConfig({ DB_PREPARED_STATEMENTS: 'no' })).toThrow(ConfigError);
    expect(() => loadConfig({ DB_PREPARED_STATEMENTS: 'no' })).toThrow(/DB_PREPARED_STATEMENTS/);
  });

  it('refuses a batch reconciliation concurrency outside 1–16', () => {
    expect(loadConfig({}).ledger.reconciliation.batchConcurrency).toBe(2);
    expect(() => loadConfig({ RECONCILIATION_BATCH_CONCURRENCY: '0' })).toThrow(
      /RECONCILIATION_BATCH_CONCURRENCY/,
    );
  });

  it('lists every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'x', LOG_LEVEL: 'y' })).toThrow(
      /PORT[\s\S]*LOG_LEVEL|LOG_LEVEL[\s\S]*PORT/,
    );
  });
});
