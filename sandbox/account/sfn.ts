/**
 * Simulated Step Functions callback surface: task tokens the runner issues for
 * `waitForTaskToken` states, completed by SendTaskSuccess / SendTaskFailure with Step Functions'
 * errors (TaskDoesNotExist, TaskTimedOut, InvalidOutput); and DescribeExecution for the executions
 * the runner registers.
 */
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  InvalidOutput,
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNServiceException,
  TaskDoesNotExist,
  TaskTimedOut,
  type ExecutionStatus,
} from '@aws-sdk/client-sfn';
import { route, simulatedClient, type SimulatedClient } from './dispatch';
import type { FaultInjector } from './faults';
import type { IdSource } from './ids';
import { awsError } from './sdk-errors';
import type { TaskTokenCompletion } from './simulated-account';
import type { VirtualClock } from './virtual-clock';

const MAX_OUTPUT_BYTES = 256 * 1024;

type TokenState = 'waiting' | 'completed' | 'timed-out';

export interface ExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: ExecutionStatus;
  readonly startDate: Date;
  readonly stopDate?: Date;
}

export class SimulatedSfn {
  private readonly tokens = new Map<string, TokenState>();
  private readonly listeners = new Set<(completion: TaskTokenCompletion) => void>();
  private readonly executions = new Map<string, ExecutionRecord>();
  readonly client: SimulatedClient;

  constructor(
    private readonly ids: IdSource,
    private readonly clock: VirtualClock,
    faults: FaultInjector,
  ) {
    this.client = simulatedClient('sfn', 'Step Functions', SFNServiceException, faults, [
      route(SendTaskSuccessCommand, (input) => {
        this.requireWaiting(input.taskToken);
        if (!isJson(input.output)) {
          throw awsError(InvalidOutput, 'Invalid Output: output must be a JSON document of at most 256 KB');
        }
        this.complete({ token: input.taskToken!, outcome: 'success', output: input.output });
        return {};
      }),
      route(SendTaskFailureCommand, (input) => {
        this.requireWaiting(input.taskToken);
        this.complete({
          token: input.taskToken!,
          outcome: 'failure',
          ...(input.error !== undefined ? { error: input.error } : {}),
          ...(input.cause !== undefined ? { cause: input.cause } : {}),
        });
        return {};
      }),
      route(SendTaskHeartbeatCommand, (input) => {
        this.requireWaiting(input.taskToken);
        return {};
      }),
      route(DescribeExecutionCommand, (input) => {
        const execution = input.executionArn ? this.executions.get(input.executionArn) : undefined;
        if (!execution)
          throw awsError(ExecutionDoesNotExist, `Execution Does Not Exist: '${input.executionArn}'`);
        return {
          ...execution,
          startDate: new Date(execution.startDate),
          ...(execution.stopDate ? { stopDate: new Date(execution.stopDate) } : {}),
        };
      }),
    ]);
  }

  /** A token for a `waitForTaskToken` state, shaped like Step Functions' (opaque, long). */
  issueToken(): string {
    const token = `AQB4AAAAKgAAAAMAAAAAAAAAA${Buffer.from(this.ids.hex(96), 'hex').toString('base64')}`;
    this.tokens.set(token, 'waiting');
    return token;
  }

  /** Whether Step Functions issued this task token (it decodes only its own). */
  issued(token: string): boolean {
    return this.tokens.has(token);
  }

  /** The wait gave up (its timeout): a late SendTask* now gets TaskTimedOut. */
  expireToken(token: string): void {
    if (this.tokens.get(token) === 'waiting') this.tokens.set(token, 'timed-out');
  }

  onTaskTokenCompleted(listener: (completion: TaskTokenCompletion) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Records (or updates) an execution DescribeExecution reports. */
  recordExecution(execution: ExecutionRecord): void {
    this.executions.set(execution.executionArn, execution);
  }

  executionExists(executionArn: string): boolean {
    return this.executions.has(executionArn);
  }

  /** Marks an execution finished with this status, now. */
  finishExecution(executionArn: string, status: Exclude<ExecutionStatus, 'RUNNING'>): void {
    const execution = this.executions.get(executionArn);
    if (!execution)
      throw new Error(`The sandbox has no execution ${executionArn} to finish; record it first.`);
    this.executions.set(executionArn, { ...execution, status, stopDate: this.clock.now() });
  }

  private requireWaiting(token: string | undefined): void {
    if (!token || token.length > 1024) throw awsError(InvalidToken, "Invalid Token: 'Invalid token'");
    const state = this.tokens.get(token);
    if (state === undefined) throw awsError(TaskDoesNotExist, 'Task Does Not Exist');
    if (state !== 'waiting')
      throw awsError(TaskTimedOut, "Task Timed Out: 'Provided task does not exist anymore'");
  }

  private complete(completion: TaskTokenCompletion): void {
    this.tokens.set(completion.token, 'completed');
    for (const listener of [...this.listeners]) listener(completion);
  }
}

function isJson(output: string | undefined): boolean {
  if (output === undefined || Buffer.byteLength(output) > MAX_OUTPUT_BYTES) return false;
  try {
    JSON.parse(output);
    return true;
  } catch {
    return false;
  }
}
