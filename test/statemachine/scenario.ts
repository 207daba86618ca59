/**
 * Runs the real `deployment.asl.json` (after the same substitution CDK does) in
 * aws-local-stepfunctions, with every Task state answered by a scripted sequence of replies, and
 * reports what happened: states visited, terminal state, notifications sent, handler inputs.
 */
import { StateMachine, type RunOptions, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { substituteForLocalRun } from '../../statemachine/definition';
import { deploymentErrorClasses, type DeploymentErrorName } from '../../lambdas/domain/errors';
import { executionId, executionName, fakeSubstitutions, notification, stateMachineArn } from './fixtures';

type LocalHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
type JsonValue = Awaited<ReturnType<LocalHandlers[string]>>;

/** One scripted answer of a Task state: a result, or a thrown error routed by its `name`. */
export type Reply = { readonly returns: unknown } | { readonly throws: Error };

export const returns = (value: unknown): Reply => ({ returns: value });

/** A project error (lambdas/domain/errors.ts) or an AWS/Step Functions error such as `States.Timeout`. */
export function throws(name: string, message = `${name} (scripted)`): Reply {
  return { throws: namedError(name, message) };
}

function namedError(name: string, message: string): Error {
  const ErrorClass = deploymentErrorClasses[name as DeploymentErrorName];
  if (ErrorClass) return new ErrorClass(message);
  const error = new Error(message);
  error.name = name;
  return error;
}

export interface Scenario {
  /** The execution input (start input or EventBridge event). */
  readonly input: unknown;
  /** Task state name → its replies in call order (a retry consumes the next one). */
  readonly replies: Readonly<Record<string, readonly Reply[]>>;
}

export interface SentNotification {
  readonly state: string;
  readonly outcome: string;
  readonly input: Record<string, unknown>;
}

export interface ScenarioResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  /** The Succeed or Fail state the execution ended in. */
  readonly terminalState: string;
  /** Every state entered, in order (a retry is not a new entry). */
  readonly visited: readonly string[];
  /** The raw state input of each state entered, in the same order as `visited`. */
  readonly enteredWith: readonly unknown[];
  /** Notifications the Notify function delivered (attempts that threw are not sent). */
  readonly notifications: readonly SentNotification[];
  /** Task state name → the input of each call, retries included. */
  readonly calls: Readonly<Record<string, readonly Record<string, unknown>[]>>;
  /** Task state name → the error names it was retried on, in order. */
  readonly retries: Readonly<Record<string, readonly string[]>>;
  /** The execution output (the last state's output) when it succeeded. */
  readonly output?: Record<string, unknown>;
  /** Error and cause of the failed execution. */
  readonly error?: { readonly Error: string; readonly Cause: unknown };
}

const definition: StateMachineDefinition = substituteForLocalRun(fakeSubstitutions);
const taskStates = Object.entries(definition.States)
  .filter(([, state]) => state.Type === 'Task')
  .map(([name]) => name);
const waitStates = Object.entries(definition.States)
  .filter(([, state]) => state.Type === 'Wait')
  .map(([name]) => name);
const isNotifyState = (name: string) => name.startsWith('Notify');
// Validating the definition is the slow part of a run; one machine serves every scenario.
const machine = new StateMachine(definition);

export async function runScenario(scenario: Scenario): Promise<ScenarioResult> {
  const unknownStates = Object.keys(scenario.replies).filter((name) => !taskStates.includes(name));
  if (unknownStates.length > 0)
    throw new Error(`The scenario scripts states that are not Tasks: ${unknownStates}`);

  const pending = new Map(Object.entries(scenario.replies).map(([name, replies]) => [name, [...replies]]));
  const calls: Record<string, Record<string, unknown>[]> = {};
  const notifications: SentNotification[] = [];
  const unexpected: string[] = [];

  const handlerFor = (stateName: string) => async (input: JsonValue) => {
    const received = input as Record<string, unknown>;
    (calls[stateName] ??= []).push(received);
    const queue = pending.get(stateName);
    let reply = queue?.shift();
    if (!reply && isNotifyState(stateName) && !scenario.replies[stateName]) reply = returns(notification());
    if (!reply) {
      unexpected.push(stateName);
      throw namedError('UnexpectedCall', `the scenario has no reply left for ${stateName}`);
    }
    if ('throws' in reply) throw reply.throws;
    if (isNotifyState(stateName)) {
      notifications.push({ state: stateName, outcome: String(received.outcome), input: received });
    }
    return reply.returns as JsonValue;
  };

  const execution = machine.run(scenario.input as JsonValue, {
    context: {
      Execution: { Id: executionId, Name: executionName },
      StateMachine: { Id: stateMachineArn, Name: 'Afu9Deployment' },
      Task: { Token: 'AQCEAAAAKgAAAAMAAAAAAAAAAd1ZYfake-task-token' },
    },
    overrides: {
      taskResourceLocalHandlers: Object.fromEntries(taskStates.map((name) => [name, handlerFor(name)])),
      // Backoff is asserted statically on the definition; here retries happen at once.
      retryIntervalOverrides: Object.fromEntries(taskStates.map((name) => [name, 0])),
      // Wait states (a release settling) pass at once: what they wait is asserted on their input.
      waitTimeOverrides: Object.fromEntries(waitStates.map((name) => [name, 0])),
    },
  });

  let output: Record<string, unknown> | undefined;
  try {
    output = (await execution.result) as Record<string, unknown>;
  } catch {
    // The execution failed; the event log below says how.
  }

  const visited: string[] = [];
  const enteredWith: unknown[] = [];
  const retries: Record<string, string[]> = {};
  const failedAttempt = new Map<string, string>();
  let status: ScenarioResult['status'] = 'FAILED';
  let error: ScenarioResult['error'];
  for await (const event of execution.eventLogs) {
    if (event.type === 'StateEntered') {
      visited.push(event.state.name);
      enteredWith.push(event.state.input);
    }
    if (event.type === 'StateFailed') failedAttempt.set(event.state.name, event.Error);
    if (event.type === 'StateRetried') {
      (retries[event.state.name] ??= []).push(failedAttempt.get(event.state.name) ?? 'unknown');
    }
    if (event.type === 'ExecutionSucceeded') status = 'SUCCEEDED';
    if (event.type === 'ExecutionFailed') error = { Error: event.Error, Cause: event.Cause };
  }

  const trace = `Visited: ${visited.join(' → ')}. Execution error: ${JSON.stringify(error ?? null)}`;
  if (unexpected.length > 0) {
    throw new Error(`Unexpected calls (no scripted reply): ${unexpected.join(', ')}. ${trace}`);
  }
  const leftOver = [...pending].filter(([, queue]) => queue.length > 0).map(([name]) => name);
  if (leftOver.length > 0) {
    throw new Error(`Scripted replies never used for: ${leftOver.join(', ')}. ${trace}`);
  }

  return {
    status,
    terminalState: visited[visited.length - 1] ?? '',
    visited,
    enteredWith,
    notifications,
    calls,
    retries,
    ...(output ? { output } : {}),
    ...(error ? { error } : {}),
  };
}
