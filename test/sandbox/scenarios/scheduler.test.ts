/**
 * The scheduler moves the virtual clock only while every activity waits, straight to the next
 * scheduled moment; a callback wait that outlives its timeout fails with States.Timeout.
 */
import { VirtualClock } from '../../../sandbox/account/virtual-clock';
import { Scheduler, SimulationStalled } from '../../../sandbox/run/scheduler';

const start = new Date('2026-11-27T09:00:00.000Z');

function setup(inFlightMs = 0) {
  const clock = new VirtualClock(start);
  const scheduler = new Scheduler(clock, { horizonMs: 3600_000, inFlightMs });
  const seconds = () => (clock.nowMillis() - start.getTime()) / 1000;
  return { clock, scheduler, seconds };
}

describe('Scheduler', () => {
  it('lets two activities sleep side by side: time jumps to each wake-up, never past it', async () => {
    // Prepare
    const { scheduler, seconds } = setup();
    const log: string[] = [];

    // Act
    void scheduler.spawn(async () => {
      await scheduler.sleep(90_000, 'build');
      log.push(`a@${seconds()}`);
    });
    void scheduler.spawn(async () => {
      await scheduler.sleep(30_000, 'retry');
      log.push(`b@${seconds()}`);
      await scheduler.sleep(30_000, 'retry');
      log.push(`b@${seconds()}`);
    });
    await scheduler.drive();

    // Assess
    expect(log).toEqual(['b@30', 'b@60', 'a@90']);
  });

  it('does not move time while an activity is busy with real I/O', async () => {
    // Prepare
    const { clock, scheduler, seconds } = setup();
    clock.schedule(5_000, 'unrelated', () => undefined);
    let seenDuringWork = -1;

    // Act
    void scheduler.spawn(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      seenDuringWork = seconds();
    });
    await scheduler.drive();

    // Assess
    expect(seenDuringWork).toBe(0);
  });

  it('completes a callback wait when the callback comes, at that moment', async () => {
    // Prepare
    const { clock, scheduler, seconds } = setup();
    let deliver: ((value: string) => void) | undefined;
    clock.schedule(42_000, 'event arrives', () => deliver?.('woken'));

    // Act
    const result = scheduler.spawn(() =>
      scheduler.waitFor<string>(
        (callback) => {
          deliver = callback;
          return () => (deliver = undefined);
        },
        300_000,
        'WaitForDeploymentEvent',
      ),
    );
    await scheduler.drive();

    // Assess
    await expect(result).resolves.toBe('woken');
    expect(seconds()).toBe(42);
  });

  it('fails a callback wait with States.Timeout when its timeout passes first', async () => {
    // Prepare
    const { scheduler, seconds } = setup();

    // Act
    const result = scheduler.spawn(() =>
      scheduler.waitFor<string>(() => () => undefined, 300_000, 'WaitForDeploymentEvent'),
    );
    const outcome = result.catch((error: Error) => error);
    await scheduler.drive();

    // Assess
    expect(await outcome).toMatchObject({ name: 'States.Timeout' });
    expect(seconds()).toBe(300);
  });

  it('lets events already in flight arrive after the last activity ends', async () => {
    // Prepare
    const { clock, scheduler } = setup(60_000);
    const started: string[] = [];
    clock.schedule(3_000, 'push event delivered', () => {
      void scheduler.spawn(async () => {
        started.push('execution');
      });
    });
    clock.schedule(3_600_000, 'an hour later', () => started.push('too late'));

    // Act
    await scheduler.drive();

    // Assess
    expect(started).toEqual(['execution']);
  });

  it('stops with a clear error instead of running past its horizon', async () => {
    // Prepare
    const { scheduler } = setup();
    void scheduler.spawn(() => scheduler.sleep(2 * 3600_000, 'a wait that never ends in time'));

    // Act / Assess
    await expect(scheduler.drive()).rejects.toBeInstanceOf(SimulationStalled);
  });

  it('stops with a clear error instead of hanging when an activity stays busy and never returns', async () => {
    // Prepare: an activity stuck in "real work" that never settles (a handler awaiting nothing).
    const clock = new VirtualClock(start);
    const scheduler = new Scheduler(clock, { horizonMs: 3600_000, inFlightMs: 0, busyLimitMs: 50 });
    void scheduler.spawn(() => new Promise<never>(() => undefined));

    // Act / Assess
    await expect(scheduler.drive()).rejects.toThrow(/stayed busy for 0.05 s of wall time/);
  });
});
