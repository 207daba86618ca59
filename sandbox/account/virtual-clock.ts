/**
 * The sandbox's time: a discrete-event scheduler. Nothing in the sandbox sleeps; simulated ECS
 * schedules what happens next (an image pulled, a health check failed) and the runner advances the
 * clock to the next scheduled moment while the workflow waits. A ten-minute rollout takes
 * milliseconds of wall time and every figure it yields is in virtual seconds.
 */
export interface ScheduledAction {
  readonly at: number;
  readonly seq: number;
  readonly label: string;
  readonly run: () => void;
}

export class VirtualClock {
  private nowMs: number;
  private seq = 0;
  private queue: ScheduledAction[] = [];

  constructor(start: Date = new Date('2026-11-27T09:00:00.000Z')) {
    this.nowMs = start.getTime();
  }

  now(): Date {
    return new Date(this.nowMs);
  }

  nowMillis(): number {
    return this.nowMs;
  }

  /** Runs `run` when the clock reaches `delayMs` from now. Equal times run in scheduling order. */
  schedule(delayMs: number, label: string, run: () => void): ScheduledAction {
    if (!Number.isFinite(delayMs) || delayMs < 0) {
      throw new RangeError(`VirtualClock.schedule needs a delay >= 0 ms. Received: ${delayMs}`);
    }
    const action = { at: this.nowMs + delayMs, seq: this.seq++, label, run };
    this.queue.push(action);
    this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
    return action;
  }

  cancel(action: ScheduledAction): void {
    this.queue = this.queue.filter((a) => a !== action);
  }

  /** Drops every scheduled action (the account is closing). */
  clear(): void {
    this.queue = [];
  }

  /** When the next scheduled action is due, or undefined when nothing is scheduled. */
  nextDueAt(): number | undefined {
    return this.queue[0]?.at;
  }

  /** Moves time forward to `targetMs`, running every action due on the way, in order. */
  advanceTo(targetMs: number): void {
    if (targetMs < this.nowMs) return;
    for (;;) {
      const next = this.queue[0];
      if (!next || next.at > targetMs) break;
      this.queue.shift();
      this.nowMs = next.at;
      next.run();
    }
    this.nowMs = targetMs;
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.nowMs + ms);
  }

  /** A `sleep` for handlers: time passes (and scheduled actions run) without waiting. */
  readonly sleep = async (ms: number): Promise<void> => {
    this.advanceBy(ms);
  };
}
