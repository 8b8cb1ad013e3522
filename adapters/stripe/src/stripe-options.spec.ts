import { StripeAdapter } from './stripe.adapter';
import { StripeAdapterOptions, stripeClientConfig, validateStripeOptions } from './stripe-options';

const valid: StripeAdapterOptions = {
  secretKey: 'sk_test_abc123',
  webhookSecrets: ['whsec_1'],
  apiBase: 'https://api.stripe.com',
  timeoutMs: 10_000,
};

describe('Stripe adapter options', () => {
  it.each(['sk_test_abc', 'sk_live_ABC9', 'rk_test_x1', 'rk_live_y2'])(
    'accepts %s',
    (secretKey) => {
      expect(() => validateStripeOptions({ ...valid, secretKey })).not.toThrow();
    },
  );

  it.each(['', 'pk_test_abc', 'sk_abc', 'sk_test_', 'sk_test_abc def', 'whsec_abc'])(
    'refuses the key "%s", naming STRIPE_SECRET_KEY',
    (secretKey) => {
      expect(() => StripeAdapter.validateOptions({ ...valid, secretKey })).toThrow(
        /STRIPE_SECRET_KEY/,
      );
    },
  );

  it('never echoes a refused key', () => {
    expect(() => validateStripeOptions({ ...valid, secretKey: 'sk_live_TopSecret!' })).not.toThrow(
      /TopSecret/,
    );
    expect(() => validateStripeOptions({ ...valid, secretKey: 'sk_live_TopSecret!' })).toThrow();
  });

  it.each([[[]], [['']], [['whsec_1', ' ']]])('refuses webhook secrets %j', (webhookSecrets) => {
    expect(() => validateStripeOptions({ ...valid, webhookSecrets })).toThrow(
      /STRIPE_WEBHOOK_SECRET/,
    );
  });

  it('refuses a malformed API base and a bad timeout', () => {
    expect(() => validateStripeOptions({ ...valid, apiBase: 'api.stripe.com' })).toThrow(
      /STRIPE_API_BASE/,
    );
    expect(() => validateStripeOptions({ ...valid, apiBase: 'ftp://x' })).toThrow(
      /STRIPE_API_BASE/,
    );
    expect(() => validateStripeOptions({ ...valid, timeoutMs: 0 })).toThrow(/timeoutMs/);
  });

  it('configures the SDK with retries off, the host and the timeout', () => {
    expect(stripeClientConfig(valid)).toMatchObject({
      host: 'api.stripe.com',
      port: 443,
      protocol: 'https',
      maxNetworkRetries: 0,
      timeout: 10_000,
    });
    expect(
      stripeClientConfig({ ...valid, apiBase: 'http://127.0.0.1:12111', apiVersion: '2025-01-01' }),
    ).toMatchObject({
      host: '127.0.0.1',
      port: '12111',
      protocol: 'http',
      apiVersion: '2025-01-01',
    });
  });

  it('owns pm_ tokens only', () => {
    const adapter = new StripeAdapter(valid);
    expect(adapter.name).toBe('stripe');
    expect(adapter.ownsToken('pm_card_visa')).toBe(true);
    expect(adapter.ownsToken('sim_ok')).toBe(false);
  });
});
