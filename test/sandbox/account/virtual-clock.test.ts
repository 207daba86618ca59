import { VirtualClock } from '../../../sandbox/account/virtual-clock';

describe('VirtualClock', () => {
  it('runs actions in time order, equal times in scheduling order, and never ahead of time', () => {
    // Prepare
    const clock = new VirtualClock(new Date('2026-11-27T09:00:00.000Z'));
    const ran: string[] = [];
    clock.schedule(2000, 'late', () =>
      ran.push(`late@${clock.nowMillis() - Date.parse('2026-11-27T09:00:00.000Z')}`),
    );
    clock.schedule(1000, 'first', () => ran.push('first'));
    clock.schedule(1000, 'second', () => ran.push('second'));

    // Act
    clock.advanceBy(1500);

    // Assess
    expect(ran).toEqual(['first', 'second']);
    clock.advanceBy(1000);
    expect(ran).toEqual(['first', 'second', 'late@2000']);
    expect(clock.now().toISOString()).toBe('2026-11-27T09:00:02.500Z');
  });

  it('runs actions that scheduled actions schedule within the same advance', () => {
    const clock = new VirtualClock();
    const ran: string[] = [];
    clock.schedule(100, 'outer', () => clock.schedule(100, 'inner', () => ran.push('inner')));

    clock.advanceBy(250);

    expect(ran).toEqual(['inner']);
  });

  it('refuses a negative delay and forgets cancelled and cleared actions', () => {
    const clock = new VirtualClock();
    const ran: string[] = [];
    const cancelled = clock.schedule(10, 'cancelled', () => ran.push('cancelled'));
    clock.schedule(20, 'cleared', () => ran.push('cleared'));

    clock.cancel(cancelled);
    clock.clear();
    clock.advanceBy(100);

    expect(ran).toEqual([]);
    expect(clock.nextDueAt()).toBeUndefined();
    expect(() => clock.schedule(-1, 'bad', () => undefined)).toThrow(RangeError);
  });
});
