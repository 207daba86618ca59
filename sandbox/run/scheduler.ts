/**
 * Who may move the virtual clock, and when. Several things run at once in the sandbox: the
 * execution being simulated, executions EventBridge starts on the side (a second push, ECS's
 * deployment-failed event), and deliveries of events to the wake-up Lambda. Each is an activity.
 * An activity is busy while it can make progress by itself (handler code, local HTTP calls) and
 * blocked while it waits for virtual time (a CodeBuild job, a retry backoff, a task token).
 * Time moves only when every activity is blocked, and then straight to the next scheduled moment,
 * so a ten-minute rollout takes milliseconds and every wait ends exactly when it would in AWS.
 */
import type { VirtualClock } from '../account/virtual-clock';

/** Raised inside an activity when its wait for a task token outlives the state's timeout. */
export class StatesTimeout extends Error {
  constructor(message: string) {
    super(message);
    // The name Step Functions gives a task that timed out; the ASL catches exactly this name.
    this.name = 'States.Timeout';
  }
}

/** The simulation can make no further progress: every activity waits and nothing is scheduled. */
export class SimulationStalled extends Error {
  override readonly name = 'SimulationStalled';
}

export interface SchedulerOptions {
  /** Virtual time after which the simulation is stopped as stalled (a safety net for the sandbox). */
  readonly horizonMs: number;
  /**
   * Once no activity is left, time still runs this long, so what is already on its way (an event
   * EventBridge delivers seconds later, which may start an execution) still arrives.
   */
  readonly inFlightMs: number;
  /**
   * Wall time an activity may stay busy without blocking (handler code, local HTTP) before the
   * simulation is stopped as stalled, instead of hanging the command.
   *
   * @default 120000
   */
  readonly busyLimitMs?: number;
}

const DEFAULT_BUSY_LIMIT_MS = 120_000;

export class Scheduler {
  private busy = 0;
  private live = 0;
  private readonly startedAt: number;
  private failure: Error | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly clock: VirtualClock,
    private readonly options: SchedulerOptions,
  ) {
    this.startedAt = clock.nowMillis();
  }

  /** Runs `work` as an activity; it counts as busy until it blocks or ends. */
  spawn<T>(work: () => Promise<T>): Promise<T> {
    this.live += 1;
    this.changeBusy(+1);
    return Promise.resolve()
      .then(work)
      .finally(() => {
        this.live -= 1;
        this.changeBusy(-1);
      });
  }

  /** Blocks the calling activity for `ms` of virtual time. */
  sleep(ms: number, label: string): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return this.block((wake) => {
      this.clock.schedule(ms, label, () => wake());
    });
  }

  /**
   * Blocks the calling activity until `subscribe`'s callback is called (a task token completed) or
   * `timeoutMs` of virtual time pass, whichever comes first; the timeout rejects with
   * States.Timeout as Step Functions' own timer would.
   */
  waitFor<T>(
    subscribe: (deliver: (value: T) => void) => () => void,
    timeoutMs: number,
    label: string,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.changeBusy(-1);
      let settled = false;
      // The callback may come while `subscribe` is still running, before it has returned its stop.
      const subscription: { stop?: () => void } = {};
      const settle = (finish: () => void) => {
        if (settled) return;
        settled = true;
        this.changeBusy(+1);
        subscription.stop?.();
        this.clock.cancel(timer);
        finish();
      };
      const timer = this.clock.schedule(timeoutMs, `${label}: timeout`, () =>
        settle(() => reject(new StatesTimeout(`${label} was not completed within ${timeoutMs / 1000} s.`))),
      );
      subscription.stop = subscribe((value) => settle(() => resolve(value)));
      if (settled) subscription.stop();
    });
  }

  /**
   * Moves the clock while activities are alive: waits until all of them are blocked, then advances
   * to the next scheduled moment. Resolves when no activity is left and nothing is in flight.
   */
  async drive(): Promise<void> {
    let quietSince: number | undefined;
    for (;;) {
      await this.settled();
      if (this.failure) throw this.failure;
      if (this.live === 0) {
        quietSince ??= this.clock.nowMillis();
        const next = this.clock.nextDueAt();
        if (next === undefined || next > quietSince + this.options.inFlightMs) return;
        this.advance(next);
        continue;
      }
      quietSince = undefined;
      const next = this.clock.nextDueAt();
      if (next === undefined) {
        throw new SimulationStalled(
          `${this.live} activit${this.live === 1 ? 'y waits' : 'ies wait'} for something that was never scheduled. ` +
            'The sandbox cannot continue; run the scenario again with --json and report the states it reached.',
        );
      }
      if (next - this.startedAt > this.options.horizonMs) {
        throw new SimulationStalled(
          `The simulation passed ${this.options.horizonMs / 3_600_000} h of virtual time without finishing. ` +
            'A wait in the workflow never ends; run the scenario with --json to see the state it is stuck in.',
        );
      }
      this.advance(next);
    }
  }

  private advance(targetMs: number): void {
    try {
      this.clock.advanceTo(targetMs);
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
    }
  }

  private block(arm: (wake: () => void) => void): Promise<void> {
    return new Promise<void>((resolve) => {
      this.changeBusy(-1);
      arm(() => {
        this.changeBusy(+1);
        resolve();
      });
    });
  }

  private changeBusy(delta: number): void {
    this.busy += delta;
    if (this.busy <= 0) {
      const waiting = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiting) wake();
    }
  }

  /**
   * Resolves once no activity is busy, and stays so across a full turn of the event loop: a
   * completion delivered asynchronously (a promise callback, a local HTTP answer) counts as work
   * not yet done.
   */
  private async settled(): Promise<void> {
    for (;;) {
      if (this.busy > 0) await this.untilIdle();
      await new Promise((resolve) => setImmediate(resolve));
      if (this.busy <= 0) return;
    }
  }

  /** Resolves when no activity is busy; rejects when one stays busy past the wall-time limit. */
  private untilIdle(): Promise<void> {
    const limitMs = this.options.busyLimitMs ?? DEFAULT_BUSY_LIMIT_MS;
    return new Promise<void>((resolve, reject) => {
      const watchdog = setTimeout(
        () =>
          reject(
            new SimulationStalled(
              `An activity stayed busy for ${limitMs / 1000} s of wall time without waiting on the virtual clock ` +
                '(a handler or a local HTTP call that never returns). The sandbox stopped instead of hanging; run the ' +
                'scenario again with --json and report the states it reached.',
            ),
          ),
        limitMs,
      );
      // The watchdog alone never keeps the process alive.
      watchdog.unref();
      this.idleWaiters.push(() => {
        clearTimeout(watchdog);
        resolve();
      });
    });
  }
}
