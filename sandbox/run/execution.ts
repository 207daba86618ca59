/**
 * One execution of the real state machine definition in the sandbox, run by aws-local-stepfunctions.
 * Task states call local invokers (the real handlers, a simulated CodeBuild job, a task-token wait);
 * this module adds what the library leaves to its caller: the context object ($$.Execution.*,
 * $$.Task.Token), Retry backoff in virtual time, and a record of every state with its virtual
 * entry and exit times, read from the library's own event log.
 */
import '../promise-with-resolvers';
import type { StateMachine } from 'aws-local-stepfunctions';
import type { VirtualClock } from '../account/virtual-clock';
import { readReferencePath } from './json-path';
import type { Scheduler } from './scheduler';

/** The parts of an ASL state the runner reads. */
export interface AslState {
  readonly Type: string;
  readonly Next?: string;
  readonly Default?: string;
  readonly End?: boolean;
  readonly Choices?: readonly { readonly Next: string }[];
  readonly Catch?: readonly { readonly ErrorEquals: readonly string[]; readonly Next: string }[];
  readonly Resource?: string;
  readonly Retry?: readonly AslRetrier[];
  readonly TimeoutSeconds?: number;
  readonly TimeoutSecondsPath?: string;
  readonly Seconds?: number;
  readonly SecondsPath?: string;
}

export interface AslRetrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds?: number;
  readonly MaxAttempts?: number;
  readonly BackoffRate?: number;
  readonly MaxDelaySeconds?: number;
}

export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, AslState>>;
}

/** What an invoker learns about the call it serves. */
export interface TaskCall {
  readonly execution: SimulatedExecution;
  readonly stateName: string;
  readonly state: AslState;
  /** The state's input before InputPath and Parameters (what TimeoutSecondsPath reads). */
  readonly rawInput: () => Promise<unknown>;
}

/** Runs one Task state: receives the state's effective input (after Parameters). */
export type TaskInvoker = (input: unknown, call: TaskCall) => Promise<unknown>;

export interface StateError {
  readonly Error: string;
  readonly Cause: string;
}

/** One call of a Task state's resource (a state retried has several). */
export interface Invocation {
  readonly stateName: string;
  readonly startMs: number;
  endMs: number;
  readonly input: unknown;
  output?: unknown;
  error?: StateError;
}

export type StateStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CAUGHT';

export interface StateRecord {
  readonly name: string;
  readonly type: string;
  status: StateStatus;
  enteredAtMs: number;
  leftAtMs: number;
  readonly invocations: Invocation[];
  error?: StateError;
  /** The state's input as it entered (before InputPath and Parameters). */
  readonly input: unknown;
  /** The state's output as it left (after ResultPath and OutputPath); absent when it failed. */
  output?: unknown;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED';

export interface ExecutionTrigger {
  /** `input`: started with the run's input; `eventbridge`: started by a rule; `request`: a second request. */
  readonly kind: 'input' | 'eventbridge' | 'request';
  readonly description: string;
}

export interface ExecutionSetup {
  readonly name: string;
  readonly arn: string;
  readonly stateMachineArn: string;
  readonly roleArn: string;
  readonly input: unknown;
  readonly trigger: ExecutionTrigger;
}

export interface ExecutionEnvironment {
  readonly stateMachine: StateMachine;
  readonly definition: AslDefinition;
  readonly clock: VirtualClock;
  readonly scheduler: Scheduler;
  readonly invokerFor: (stateName: string, state: AslState) => TaskInvoker;
  /** Issues a task token for a state that reads `$$.Task.Token`. */
  readonly issueTaskToken: (execution: SimulatedExecution) => string;
  readonly onStateClosed: (execution: SimulatedExecution, record: StateRecord) => void;
}

/** Retrier defaults from the States Language specification. */
const RETRY_DEFAULTS = { IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 } as const;

export class SimulatedExecution {
  readonly name: string;
  readonly arn: string;
  readonly input: unknown;
  readonly trigger: ExecutionTrigger;
  readonly startedAtMs: number;
  status: ExecutionStatus = 'RUNNING';
  endedAtMs: number | undefined;
  output: unknown;
  error: StateError | undefined;
  readonly states: StateRecord[] = [];
  readonly invocations: Invocation[] = [];

  private pendingToken: string | undefined;
  private readonly entriesInvoked = new Map<string, number>();
  private readonly retryAttempts = new Map<string, number[]>();
  private readonly enteredInputs = new Map<string, unknown[]>();
  private readonly enteredWaiters: (() => boolean)[] = [];

  constructor(
    private readonly setup: ExecutionSetup,
    private readonly env: ExecutionEnvironment,
  ) {
    this.name = setup.name;
    this.arn = setup.arn;
    this.input = setup.input;
    this.trigger = setup.trigger;
    this.startedAtMs = env.clock.nowMillis();
  }

  /** The last state the execution was in (its terminal state once it has ended). */
  get currentState(): string | undefined {
    return this.states.at(-1)?.name;
  }

  /** Takes the token issued for the state now starting; the next state reading one gets a new one. */
  takeTaskToken(): string {
    const token = this.pendingToken;
    if (!token) {
      throw new Error(
        `State machine execution ${this.name} started a callback task without reading $$.Task.Token. ` +
          'A waitForTaskToken state must pass $$.Task.Token in its Parameters.',
      );
    }
    this.pendingToken = undefined;
    return token;
  }

  /** Runs the execution to its end; never throws (a failure is the execution's status). */
  async run(): Promise<void> {
    const overrides = this.overrides();
    const taskContext = {} as { readonly Token: string };
    Object.defineProperty(taskContext, 'Token', {
      enumerable: true,
      get: () => {
        this.pendingToken ??= this.env.issueTaskToken(this);
        return this.pendingToken;
      },
    });
    const startTime = new Date(this.startedAtMs).toISOString();
    const { result, eventLogs } = this.env.stateMachine.run(this.input as never, {
      overrides,
      context: {
        Execution: {
          Id: this.arn,
          Name: this.name,
          StartTime: startTime,
          Input: this.input as never,
          RoleArn: this.setup.roleArn,
        },
        StateMachine: { Id: this.setup.stateMachineArn, Name: this.setup.stateMachineArn.split(':').at(-1) },
        Task: taskContext,
      },
    });
    const recording = this.record(eventLogs);
    try {
      this.output = await result;
      this.status = 'SUCCEEDED';
    } catch (error) {
      this.status = 'FAILED';
      this.error = executionError(error);
    }
    await recording;
    this.endedAtMs = this.env.clock.nowMillis();
  }

  private overrides() {
    const taskResourceLocalHandlers: Record<string, (input: unknown) => Promise<never>> = {};
    const retryIntervalOverrides: Record<string, number> = {};
    const waitTimeOverrides: Record<string, number> = {};
    for (const [stateName, state] of Object.entries(this.env.definition.States)) {
      if (state.Type === 'Task') {
        const invoker = this.env.invokerFor(stateName, state);
        taskResourceLocalHandlers[stateName] = (input) =>
          this.invoke(stateName, state, invoker, input) as Promise<never>;
      }
      // Backoff and waits pass in virtual time (see `invoke`), never in wall time.
      if (state.Retry) retryIntervalOverrides[stateName] = 0;
      if (state.Type === 'Wait') waitTimeOverrides[stateName] = 0;
    }
    return { taskResourceLocalHandlers, retryIntervalOverrides, waitTimeOverrides };
  }

  private async invoke(
    stateName: string,
    state: AslState,
    invoker: TaskInvoker,
    input: unknown,
  ): Promise<unknown> {
    const previous = this.invocations.at(-1);
    const isRetry = previous?.stateName === stateName && previous.error !== undefined;
    let entry: number;
    if (isRetry) {
      entry = (this.entriesInvoked.get(stateName) ?? 1) - 1;
      const delayMs = this.retryDelayMs(stateName, state, previous.error!.Error);
      await this.env.scheduler.sleep(delayMs, `${this.name} ${stateName}: retry backoff`);
    } else {
      entry = this.entriesInvoked.get(stateName) ?? 0;
      this.entriesInvoked.set(stateName, entry + 1);
      const waitMs = await this.waitBefore(stateName, entry);
      if (waitMs > 0) await this.env.scheduler.sleep(waitMs, `${this.name}: Wait state before ${stateName}`);
      this.retryAttempts.delete(stateName);
    }
    const invocation: Invocation = { stateName, startMs: this.env.clock.nowMillis(), endMs: 0, input };
    this.invocations.push(invocation);
    try {
      const output = await invoker(input, {
        execution: this,
        stateName,
        state,
        rawInput: () => this.enteredInput(stateName, entry),
      });
      invocation.output = output;
      return output;
    } catch (error) {
      invocation.error = executionError(error);
      throw error;
    } finally {
      invocation.endMs = this.env.clock.nowMillis();
    }
  }

  /** The backoff Step Functions applies before the retry the library is about to make. */
  private retryDelayMs(stateName: string, state: AslState, errorName: string): number {
    const retriers = state.Retry ?? [];
    const index = retriers.findIndex((retrier) =>
      retrier.ErrorEquals.some(
        (name) =>
          name === errorName ||
          name === 'States.ALL' ||
          (name === 'States.TaskFailed' && errorName !== 'States.Timeout'),
      ),
    );
    if (index < 0) return 0;
    const attempts = this.retryAttempts.get(stateName) ?? retriers.map(() => 0);
    attempts[index] += 1;
    this.retryAttempts.set(stateName, attempts);
    const retrier = retriers[index];
    const interval = retrier.IntervalSeconds ?? RETRY_DEFAULTS.IntervalSeconds;
    const backoff = retrier.BackoffRate ?? RETRY_DEFAULTS.BackoffRate;
    const seconds = interval * Math.pow(backoff, attempts[index] - 1);
    return Math.min(seconds, retrier.MaxDelaySeconds ?? Infinity) * 1000;
  }

  private enteredInput(stateName: string, entry: number): Promise<unknown> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        const inputs = this.enteredInputs.get(stateName);
        if (inputs && inputs.length > entry) {
          resolve(inputs[entry]);
          return true;
        }
        return false;
      };
      if (!check()) this.enteredWaiters.push(check);
    });
  }

  /**
   * Builds the state records from the library's event log. Times come from the invocations (each
   * stamped with the virtual clock as it ran); states without an invocation take no time.
   */
  private async record(eventLogs: AsyncGenerator<LibraryEvent>): Promise<void> {
    let lastLeftMs = this.startedAtMs;
    let nextInvocation = 0;
    let open: (StateRecord & { awaitingInvocation: boolean }) | undefined;
    const close = (record: StateRecord & { awaitingInvocation: boolean }) => {
      record.enteredAtMs = record.invocations[0]?.startMs ?? lastLeftMs;
      record.leftAtMs =
        record.invocations.at(-1)?.endMs ??
        record.enteredAtMs + (record.type === 'Wait' ? this.waitMs(record.name, record.input) : 0);
      lastLeftMs = record.leftAtMs;
      this.env.onStateClosed(this, record);
    };
    const takeInvocation = (record: StateRecord & { awaitingInvocation: boolean }) => {
      if (!record.awaitingInvocation) return;
      record.awaitingInvocation = false;
      const invocation = this.invocations[nextInvocation];
      if (invocation?.stateName === record.name) {
        record.invocations.push(invocation);
        nextInvocation += 1;
      }
    };
    for await (const event of eventLogs) {
      switch (event.type) {
        case 'StateEntered': {
          const name = event.state!.name;
          open = {
            name,
            type: event.state!.type,
            status: 'RUNNING',
            enteredAtMs: lastLeftMs,
            leftAtMs: lastLeftMs,
            invocations: [],
            awaitingInvocation: event.state!.type === 'Task',
            input: event.state!.input,
          };
          this.states.push(open);
          const inputs = this.enteredInputs.get(name) ?? [];
          inputs.push(event.state!.input);
          this.enteredInputs.set(name, inputs);
          this.wakeEnteredWaiters();
          break;
        }
        case 'StateFailed':
          if (!open) break;
          takeInvocation(open);
          open.status = 'FAILED';
          // The invocation kept the handler's own message; the event may carry only its inner cause.
          open.error = open.invocations.at(-1)?.error ?? {
            Error: String(event.Error),
            Cause: causeText(event.Cause),
          };
          break;
        case 'StateRetried':
          if (!open) break;
          open.status = 'RUNNING';
          open.awaitingInvocation = true;
          break;
        case 'StateCaught':
          if (open) open.status = 'CAUGHT';
          break;
        case 'StateExited':
          if (!open) break;
          takeInvocation(open);
          if (event.state!.output !== undefined) open.output = event.state!.output;
          if (open.status === 'RUNNING') open.status = 'SUCCEEDED';
          close(open);
          open = undefined;
          break;
        case 'ExecutionFailed':
        case 'ExecutionSucceeded':
          if (open) {
            if (open.status === 'RUNNING')
              open.status = event.type === 'ExecutionFailed' ? 'FAILED' : 'SUCCEEDED';
            close(open);
            open = undefined;
          }
          break;
      }
    }
  }

  /**
   * The library passes Wait states at once (its timers are wall-clock); the Task a Wait state leads to
   * sleeps its time on the virtual clock instead, before it runs. A Wait passes its input on, so its
   * `SecondsPath` reads the same on the Task's input. The Task's first entry as the StartAt state
   * came from no Wait.
   */
  private async waitBefore(stateName: string, entry: number): Promise<number> {
    const { States, StartAt } = this.env.definition;
    const wait = Object.entries(States).find(
      ([, state]) => state.Type === 'Wait' && state.Next === stateName,
    );
    if (!wait || (stateName === StartAt && entry === 0)) return 0;
    return this.waitMs(wait[0], await this.enteredInput(stateName, entry));
  }

  /** How long a Wait state waits, from its `Seconds` or its `SecondsPath` read on its input. */
  private waitMs(stateName: string, input: unknown): number {
    const state = this.env.definition.States[stateName];
    const seconds = state?.SecondsPath ? readReferencePath(state.SecondsPath, input) : state?.Seconds;
    return typeof seconds === 'number' && seconds > 0 ? seconds * 1000 : 0;
  }

  private wakeEnteredWaiters(): void {
    const waiting = this.enteredWaiters.splice(0);
    for (const check of waiting) if (!check()) this.enteredWaiters.push(check);
  }
}

/** The fields of the library's event log the recorder reads. */
interface LibraryEvent {
  readonly type: string;
  readonly state?: {
    readonly name: string;
    readonly type: string;
    readonly input: unknown;
    readonly output?: unknown;
  };
  readonly Error?: unknown;
  readonly Cause?: unknown;
}

function causeText(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return typeof cause === 'string' ? cause : JSON.stringify(cause ?? '');
}

/** `{Error, Cause}` as Step Functions reports it, from whatever was thrown. */
function executionError(error: unknown): StateError {
  if (error instanceof Error) {
    // The library wraps the state's error in ExecutionError and keeps the original as `cause`.
    const original = error.name === 'ExecutionError' && error.cause instanceof Error ? error.cause : error;
    return { Error: original.name, Cause: original.message };
  }
  return { Error: 'Error', Cause: String(error) };
}
