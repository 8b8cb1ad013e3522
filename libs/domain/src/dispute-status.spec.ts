import { disputeChange, payoutChange } from './dispute-status';

const at = (s: number) => new Date(s * 1000);

describe('disputeChange', () => {
  it('moves to a later stage, whatever the event times', () => {
    expect(
      disputeChange(
        { status: 'NEEDS_RESPONSE', lastEventAt: at(10) },
        { status: 'UNDER_REVIEW', eventAt: at(5) },
      ),
    ).toBe('advance');
    expect(
      disputeChange(
        { status: 'WARNING_UNDER_REVIEW', lastEventAt: at(1) },
        { status: 'NEEDS_RESPONSE', eventAt: at(2) },
      ),
    ).toBe('advance');
  });

  it('refreshes the same stage only from a newer event', () => {
    const current = { status: 'NEEDS_RESPONSE' as const, lastEventAt: at(10) };
    expect(disputeChange(current, { status: 'NEEDS_RESPONSE', eventAt: at(11) })).toBe('refresh');
    expect(disputeChange(current, { status: 'NEEDS_RESPONSE', eventAt: at(10) })).toBe('stale');
    expect(disputeChange(current, { status: 'WARNING_NEEDS_RESPONSE', eventAt: at(99) })).toBe(
      'stale',
    );
  });

  it('never reopens or changes a closed dispute', () => {
    for (const closed of ['WON', 'LOST', 'WARNING_CLOSED', 'PREVENTED'] as const) {
      for (const to of ['NEEDS_RESPONSE', 'UNDER_REVIEW', 'WON', 'LOST'] as const) {
        expect(
          disputeChange({ status: closed, lastEventAt: at(1) }, { status: to, eventAt: at(9) }),
        ).toBe('stale');
      }
    }
  });
});

describe('payoutChange', () => {
  it('PENDING → PAID | FAILED, PAID → FAILED; FAILED is final', () => {
    expect(payoutChange('PENDING', 'PAID')).toBe('moved');
    expect(payoutChange('PENDING', 'FAILED')).toBe('moved');
    expect(payoutChange('PAID', 'FAILED')).toBe('moved');
    expect(payoutChange('FAILED', 'PAID')).toBe('refused');
    expect(payoutChange('PAID', 'PAID')).toBe('unchanged');
  });
});
