/**
 * How each Task state of the workflow is served: a Lambda Task runs the function's real handler, a
 * `lambda:invoke.waitForTaskToken` Task waits for its token, a `codebuild:startBuild.sync` Task runs
 * the diff build. Each call is authorized with the state machine's role, meets the faults given to
 * its state, and keeps to Step Functions' timeouts and payload limit.
 */
import type { SimulatedAccount, TaskTokenCompletion } from '../account/simulated-account';
import type { AslState, TaskCall, TaskInvoker } from './execution';
import type { DiffBuild } from './diff-build';
import type { FunctionHandlers } from './function-handlers';
import type { InfrastructureBuilds } from './infrastructure-builds';
import { readReferencePath } from './json-path';
import type { Scheduler } from './scheduler';
import { jsonCopy, namedError } from './service-values';
import { lambdaInvoke, type TaskAuthorizer } from './task-authorization';
import type { TaskFault, TaskFaultQueue } from './task-faults';

/** Step Functions' limit on a state's input and output. */
const MAX_PAYLOAD_BYTES = 256 * 1024;

/**
 * The Parameters keys a state fills from `$$.Execution.StartTime`. aws-local-stepfunctions always sets
 * that field to the wall clock; the sandbox gives it the execution's start on the virtual clock, as
 * Step Functions gives the real start.
 */
function executionStartTimeKeys(state: AslState): string[] {
  const parameters = (state as { Parameters?: Record<string, unknown> }).Parameters ?? {};
  return Object.entries(parameters)
    .filter(([key, value]) => key.endsWith('.$') && value === '$$.Execution.StartTime')
    .map(([key]) => key.slice(0, -2));
}

function withVirtualStartTime(input: unknown, keys: readonly string[], call: TaskCall): unknown {
  if (keys.length === 0 || typeof input !== 'object' || input === null) return input;
  const startTime = new Date(call.execution.startedAtMs).toISOString();
  return { ...input, ...Object.fromEntries(keys.map((key) => [key, startTime])) };
}

/** Step Functions refuses a state output above 256 KB; the sandbox holds handlers to it too. */
function checkedPayload(output: unknown, stateName: string): unknown {
  const text = JSON.stringify(output ?? null);
  if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) {
    throw namedError(
      'States.DataLimitExceeded',
      `The output of ${stateName} is ${Buffer.byteLength(text)} bytes, over Step Functions' 256 KB limit.`,
    );
  }
  return JSON.parse(text) as unknown;
}

/** What serving Task states needs from the simulation. */
export interface TaskInvokerContext {
  readonly account: Pick<SimulatedAccount, 'clock' | 'onTaskTokenCompleted'>;
  /** Makes a token no longer completable (its state failed). */
  readonly expireTaskToken: (token: string) => void;
  readonly scheduler: Pick<Scheduler, 'sleep' | 'waitFor'>;
  readonly functions: FunctionHandlers;
  readonly faults: TaskFaultQueue;
  readonly authorizeTask: TaskAuthorizer;
  readonly diffBuild: DiffBuild;
  /** The synth+diff and deploy builds of infrastructure releases. */
  readonly infrastructureBuilds: InfrastructureBuilds;
  /** How long a Task without a timeout may wait: the simulation's horizon. */
  readonly horizonMs: number;
  /** Told when a callback Task's function has run and the state now waits for its token. */
  readonly onCallbackWaiting?: (call: TaskCall, functionArn: string) => void;
}

export class TaskInvokers {
  constructor(private readonly context: TaskInvokerContext) {}

  private get clock() {
    return this.context.account.clock;
  }

  invokerFor(stateName: string, state: AslState): TaskInvoker {
    const { faults, authorizeTask, diffBuild } = this.context;
    const resource = state.Resource ?? '';
    if (resource.startsWith('arn:aws:lambda:')) {
      const handler = this.context.functions.handlerFor(resource);
      const startTimeKeys = executionStartTimeKeys(state);
      return (input, call) =>
        faults.around(call, async () => {
          authorizeTask(call, lambdaInvoke(resource), 'Lambda.AWSLambdaException', 'AWSLambda', 403);
          return checkedPayload(
            await handler(withVirtualStartTime(jsonCopy(input), startTimeKeys, call)),
            stateName,
          );
        });
    }
    if (resource === 'arn:aws:states:::lambda:invoke.waitForTaskToken') {
      return (input, call) => this.waitForTaskToken(input, call, faults.take(call));
    }
    if (resource === 'arn:aws:states:::codebuild:startBuild.sync') {
      const { infrastructureBuilds } = this.context;
      return (input, call) =>
        faults.around(call, () => {
          const projectName = (input as { ProjectName?: unknown }).ProjectName;
          if (infrastructureBuilds.serves(projectName)) {
            infrastructureBuilds.authorize(call, projectName as string);
            return infrastructureBuilds.run(input, call);
          }
          diffBuild.authorize(call);
          return diffBuild.run(input, call);
        });
    }
    throw new Error(
      `State ${stateName} uses the resource ${resource}, which the sandbox does not simulate. ` +
        'Simulate it in sandbox/run/task-invokers.ts before using it in the definition.',
    );
  }

  /**
   * `lambda:invoke.waitForTaskToken`: invokes the function with the token, then waits (in virtual
   * time) until someone completes the token or the state's timeout passes. A fault fails the
   * invoke; the token then belongs to a failed state, and completing it is refused.
   */
  private async waitForTaskToken(input: unknown, call: TaskCall, fault?: TaskFault): Promise<unknown> {
    const { account, expireTaskToken, scheduler, faults } = this.context;
    const { FunctionName, Payload } = input as { FunctionName: string; Payload: unknown };
    const token = call.execution.takeTaskToken();
    if (fault && fault.strikes !== 'after') {
      expireTaskToken(token);
      return faults.strike(fault, call);
    }
    try {
      this.context.authorizeTask(
        call,
        lambdaInvoke(FunctionName),
        'Lambda.AWSLambdaException',
        'AWSLambda',
        403,
      );
    } catch (error) {
      expireTaskToken(token);
      throw error;
    }
    const timeoutMs = await this.taskTimeoutMs(call);
    const startedMs = this.clock.nowMillis();
    const early: TaskTokenCompletion[] = [];
    const stopBuffering = account.onTaskTokenCompleted((completion) => {
      if (completion.token === token) early.push(completion);
    });
    let completion: TaskTokenCompletion;
    try {
      await this.context.functions.handlerFor(FunctionName)(jsonCopy(Payload));
      if (fault) await faults.strike(fault, call);
      this.context.onCallbackWaiting?.(call, FunctionName);
      completion = await scheduler.waitFor<TaskTokenCompletion>(
        (deliver) => {
          if (early[0]) {
            deliver(early[0]);
            return () => undefined;
          }
          return account.onTaskTokenCompleted((done) => {
            if (done.token === token) deliver(done);
          });
        },
        Math.max(0, startedMs + timeoutMs - this.clock.nowMillis()),
        `${call.stateName} of ${call.execution.name}`,
      );
    } catch (error) {
      expireTaskToken(token);
      throw error;
    } finally {
      stopBuffering();
    }
    if (completion.outcome === 'success') return JSON.parse(completion.output ?? 'null') as unknown;
    throw namedError(completion.error ?? 'States.TaskFailed', completion.cause ?? '');
  }

  private async taskTimeoutMs(call: TaskCall): Promise<number> {
    const { state } = call;
    if (state.TimeoutSeconds !== undefined) return state.TimeoutSeconds * 1000;
    if (state.TimeoutSecondsPath !== undefined) {
      const seconds = readReferencePath(state.TimeoutSecondsPath, await call.rawInput());
      if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1) {
        throw namedError(
          'States.Runtime',
          `TimeoutSecondsPath ${state.TimeoutSecondsPath} of ${call.stateName} is not a positive integer: ${String(seconds)}.`,
        );
      }
      return seconds * 1000;
    }
    return this.context.horizonMs;
  }
}
