import { decideRoute, splitBucket } from './route-decision';
import { RoutingConfigError, defaultRoutingRules, validateRoutingRules } from './routing-rules';

const configured = ['stripe', 'simulator'];
const both = new Map([
  ['stripe', 'pm_card_visa'],
  ['simulator', 'sim_ok'],
]);
const input = {
  paymentId: 'pay_01m807g7bx497w8mwgz3pzn4k1',
  amount: 1000,
  currency: 'EUR',
  paymentMethodType: 'gateway',
  country: 'DE',
  metadata: { channel: 'web' },
};

const rules = validateRoutingRules(
  {
    version: 1,
    rules: [
      { name: 'yen-local', match: { currencies: ['JPY'] }, processors: ['simulator'] },
      { name: 'big', match: { amountMin: 100_000 }, processors: ['simulator', 'stripe'] },
      {
        name: 'german-web',
        match: { countries: ['DE'], metadata: { channel: 'web' } },
        processors: ['stripe'],
      },
      {
        name: 'ab',
        match: { metadata: { experiment: 'b' } },
        split: [
          { processor: 'stripe', weight: 50 },
          { processor: 'simulator', weight: 50 },
        ],
      },
    ],
    default: { processors: ['stripe', 'simulator'] },
  },
  configured,
);

describe('routing rules', () => {
  it('takes the first matching rule and keeps only processors holding a token', () => {
    expect(decideRoute(rules, { ...input, currency: 'JPY' }, both).candidates).toEqual([
      { processor: 'simulator', token: 'sim_ok' },
    ]);
    expect(
      decideRoute(rules, { ...input, amount: 200_000 }, both).candidates.map((c) => c.processor),
    ).toEqual(['simulator', 'stripe']);
    const german = decideRoute(rules, input, both);
    expect(german.rule).toBe('german-web');
    expect(german.reason).toMatch(/rule "german-web" matched/);
  });

  it('falls back to the default order and explains skipped processors', () => {
    const decision = decideRoute(
      rules,
      { ...input, country: 'FR' },
      new Map([['simulator', 'sim_ok']]),
    );
    expect(decision.rule).toBe('default');
    expect(decision.candidates.map((c) => c.processor)).toEqual(['simulator']);
    expect(decision.reason).toMatch(/skipped stripe/);
  });

  it('splits by a deterministic bucket of the payment id, close to the weights', () => {
    const ab = { ...input, country: null, metadata: { experiment: 'b' } };
    const first = decideRoute(rules, ab, both).candidates[0].processor;
    expect(decideRoute(rules, ab, both).candidates[0].processor).toBe(first);
    let stripe = 0;
    for (let i = 0; i < 2000; i++) {
      const id = `pay_${i.toString(36).padStart(26, '0')}`;
      if (decideRoute(rules, { ...ab, paymentId: id }, both).candidates[0].processor === 'stripe')
        stripe++;
    }
    expect(stripe / 2000).toBeGreaterThan(0.45);
    expect(stripe / 2000).toBeLessThan(0.55);
    expect(splitBucket(input.paymentId)).toBe(splitBucket(input.paymentId));
  });

  it('defaults to Stripe first when configured, else the simulator alone', () => {
    expect(defaultRoutingRules(['simulator', 'stripe']).default.processors).toEqual([
      'stripe',
      'simulator',
    ]);
    expect(defaultRoutingRules(['simulator']).default.processors).toEqual(['simulator']);
  });

  it.each([
    [{ version: 2, default: { processors: ['stripe'] } }, /version/],
    [{ version: 1, default: { processors: ['adyen'] } }, /not configured: adyen/],
    [
      { version: 1, rules: [{ name: 'x', match: {} }], default: { processors: ['stripe'] } },
      /processors or split/,
    ],
    [
      {
        version: 1,
        rules: [{ name: 'x', match: { amountMin: 5, amountMax: 1 }, processors: ['stripe'] }],
        default: { processors: ['stripe'] },
      },
      /amountMin/,
    ],
    [
      {
        version: 1,
        rules: [{ name: 'x', match: { colour: 'red' }, processors: ['stripe'] }],
        default: { processors: ['stripe'] },
      },
      /colour|Unrecognized/,
    ],
  ])('refuses an invalid file with a clear reason (%#)', (raw, reason) => {
    expect(() => validateRoutingRules(raw, configured)).toThrow(RoutingConfigError);
    expect(() => validateRoutingRules(raw, configured)).toThrow(reason);
  });
});
