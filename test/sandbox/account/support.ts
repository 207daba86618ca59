import type { VirtualClock } from '../../../sandbox/account/virtual-clock';

/** Runs scheduled actions in order until `done` holds; fails when it never does within `limitMs`. */
export function advanceUntil(clock: VirtualClock, done: () => boolean, limitMs = 3_600_000): void {
  const limit = clock.nowMillis() + limitMs;
  while (!done()) {
    const next = clock.nextDueAt();
    if (next === undefined || next > limit) {
      throw new Error(`advanceUntil: the condition did not hold within ${limitMs} ms of virtual time`);
    }
    clock.advanceTo(next);
  }
}

/** Seconds of virtual time since `start`. */
export function secondsSince(clock: VirtualClock, start: number): number {
  return (clock.nowMillis() - start) / 1000;
}
