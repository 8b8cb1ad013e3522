import { ReconcileArgsError, parseReconcileArgs } from './reconcile.command';

describe('parseReconcileArgs', () => {
  it('reads a period with its options', () => {
    expect(
      parseReconcileArgs([
        '--from',
        '2026-10-01T00:00:00Z',
        '--to',
        '2026-11-01',
        '--processor',
        'stripe',
        '--currency',
        'usd',
        '--dry-run',
      ]),
    ).toEqual({
      mode: 'period',
      from: new Date('2026-10-01T00:00:00Z'),
      to: new Date('2026-11-01T00:00:00Z'),
      processor: 'stripe',
      currency: 'USD',
      dryRun: true,
    });
  });

  it('reads a resume', () => {
    expect(parseReconcileArgs(['--resume', '42'])).toEqual({ mode: 'resume', runId: '42' });
  });

  it.each([
    [['--to', '2026-11-01']],
    [['--from', 'yesterday', '--to', '2026-11-01']],
    [['--from', '2026-11-02', '--to', '2026-11-01']],
    [['--from', '2026-10-01', '--to', '2026-11-01', '--currency', 'EURO']],
    [['--resume', 'abc']],
    [['--from', '2026-10-01', '--to', '2026-11-01', '--bogus']],
  ])('refuses %j with a typed error', (args) => {
    expect(() => parseReconcileArgs(args)).toThrow(ReconcileArgsError);
  });
});
