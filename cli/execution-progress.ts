/**
 * A person-readable view of a real execution's history, in the rehearsal's timeline format
 * (sandbox/report/timeline.ts): one line per state when it closes, with its status and what it
 * decided, read from the same task results by the same describer; then how the execution ended.
 * History events are turned into the sandbox's state records, so both print the same lines.
 */
import type { DescribeExecutionCommandOutput, HistoryEvent } from '@aws-sdk/client-sfn';
import type { AwsClients } from '../lambdas/aws/clients';
import { describeExecution, historySince } from '../lambdas/aws/step-functions';
import type { Invocation, StateError, StateRecord } from '../sandbox/run/execution';
import { stateTimelineLines, timelineLine } from '../sandbox/report/timeline';
import { ExitCode } from './command';

function parseJson(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function nameOfExecution(executionArn: string): string {
  return executionArn.slice(executionArn.lastIndexOf(':') + 1);
}

/** `TaskStateEntered` → `Task`. */
function stateTypeOf(eventType: string): string {
  return eventType.replace(/State(Entered|Exited)$/, '');
}

type Failure = { error?: string; cause?: string } | undefined;

function stateError(failure: NonNullable<Failure>): StateError {
  return { Error: failure.error ?? 'error', Cause: failure.cause ?? '' };
}

/** Consumes history events in order (across polls) and returns the timeline lines they complete. */
export class ExecutionTimeline {
  private open: StateRecord | undefined;
  private lastState = '';

  constructor(
    private readonly executionArn: string,
    private readonly startedAt: Date,
  ) {}

  private elapsed(event: HistoryEvent): number {
    return (event.timestamp ?? this.startedAt).getTime() - this.startedAt.getTime();
  }

  private close(record: StateRecord, event: HistoryEvent): string[] {
    this.open = undefined;
    // Choice and Pass states only route; the rehearsal's timeline leaves them out too.
    if (record.type === 'Choice' || record.type === 'Pass') return [];
    record.leftAtMs = this.elapsed(event);
    return stateTimelineLines(record, record.leftAtMs);
  }

  private startInvocation(event: HistoryEvent): void {
    this.open?.invocations.push({
      stateName: this.open.name,
      startMs: this.elapsed(event),
      endMs: this.elapsed(event),
      input: undefined,
    });
  }

  private endInvocation(event: HistoryEvent, result: { output?: string; failure?: Failure }): void {
    const invocation: Invocation | undefined = this.open?.invocations.at(-1);
    if (!invocation) return;
    invocation.endMs = this.elapsed(event);
    if (result.failure) invocation.error = stateError(result.failure);
    else invocation.output = parseJson(result.output);
  }

  /** The lines `event` completes (none for most events). */
  consume(event: HistoryEvent): string[] {
    const type = event.type ?? '';
    if (type === 'ExecutionStarted') {
      const input = parseJson(event.executionStartedEventDetails?.input) as
        { requestedBy?: string } | undefined;
      const by = input?.requestedBy ? ` by ${input.requestedBy}` : '';
      return [timelineLine(0, `execution ${nameOfExecution(this.executionArn)}`, `started${by}`)];
    }
    if (event.stateEnteredEventDetails) {
      this.lastState = event.stateEnteredEventDetails.name ?? '';
      this.open = {
        name: this.lastState,
        type: stateTypeOf(type),
        status: 'RUNNING',
        enteredAtMs: this.elapsed(event),
        leftAtMs: this.elapsed(event),
        invocations: [],
        input: parseJson(event.stateEnteredEventDetails.input),
      };
      return [];
    }
    if (type === 'LambdaFunctionScheduled' || type === 'TaskScheduled') {
      this.startInvocation(event);
      return [];
    }
    if (event.lambdaFunctionSucceededEventDetails || event.taskSucceededEventDetails) {
      const details = event.lambdaFunctionSucceededEventDetails ?? event.taskSucceededEventDetails;
      this.endInvocation(event, { output: details?.output });
      return [];
    }
    const taskFailure =
      event.lambdaFunctionFailedEventDetails ??
      event.lambdaFunctionTimedOutEventDetails ??
      event.lambdaFunctionScheduleFailedEventDetails ??
      event.lambdaFunctionStartFailedEventDetails ??
      event.taskFailedEventDetails ??
      event.taskTimedOutEventDetails ??
      event.taskStartFailedEventDetails ??
      event.taskSubmitFailedEventDetails;
    if (taskFailure) {
      this.endInvocation(event, { failure: taskFailure });
      return [];
    }
    if (event.stateExitedEventDetails && this.open) {
      const record = this.open;
      record.output = parseJson(event.stateExitedEventDetails.output);
      record.status = record.invocations.at(-1)?.error ? 'CAUGHT' : 'SUCCEEDED';
      return this.close(record, event);
    }
    return this.ended(event);
  }

  private ended(event: HistoryEvent): string[] {
    const failure = event.executionFailedEventDetails ?? event.executionTimedOutEventDetails;
    const status =
      event.type === 'ExecutionSucceeded'
        ? 'SUCCEEDED'
        : event.type === 'ExecutionFailed'
          ? 'FAILED'
          : event.type === 'ExecutionTimedOut'
            ? 'TIMED_OUT'
            : event.type === 'ExecutionAborted'
              ? 'ABORTED'
              : undefined;
    if (!status) return [];
    const lines: string[] = [];
    if (this.open) {
      const record = this.open;
      record.status = 'FAILED';
      if (failure) record.error = stateError(failure);
      lines.push(...this.close(record, event));
    }
    const why = failure?.error ? `: ${failure.error}${failure.cause ? ` ${failure.cause}` : ''}` : '';
    lines.push(
      timelineLine(
        this.elapsed(event),
        'execution ended',
        `${status}${this.lastState ? ` in state ${this.lastState}` : ''}${why}`,
      ),
    );
    return lines;
  }
}

export interface FollowOptions {
  readonly pollMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly print: (line: string) => void;
}

/** Prints new timeline lines until the execution ends; returns its final description. */
export async function followExecution(
  clients: Pick<AwsClients, 'sfn'>,
  executionArn: string,
  options: FollowOptions,
): Promise<DescribeExecutionCommandOutput> {
  let lastEventId = 0;
  let timeline: ExecutionTimeline | undefined;
  for (;;) {
    const execution = await describeExecution(clients, executionArn);
    timeline ??= new ExecutionTimeline(executionArn, execution.startDate ?? new Date());
    for (const event of await historySince(clients, executionArn, lastEventId)) {
      lastEventId = Math.max(lastEventId, event.id ?? 0);
      for (const line of timeline.consume(event)) options.print(line);
    }
    if (execution.status !== 'RUNNING') return execution;
    await options.sleep(options.pollMs);
  }
}

/** The whole timeline of an execution's history (for `status`). */
export function timelineOf(executionArn: string, startedAt: Date, events: readonly HistoryEvent[]): string[] {
  const timeline = new ExecutionTimeline(executionArn, startedAt);
  return events.flatMap((event) => timeline.consume(event));
}

/** Exit code of a finished execution: 0 succeeded, 1 anything else (failed, timed out, aborted). */
export function exitCodeFor(status: string | undefined): number {
  return status === 'SUCCEEDED' ? ExitCode.ok : ExitCode.failed;
}
