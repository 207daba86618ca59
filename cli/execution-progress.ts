/**
 * A person-readable view of a real execution's history: one line when a state starts, one when it
 * ends with what it decided, and the failure reasons; only events newer than the last shown.
 */
import type { DescribeExecutionCommandOutput, HistoryEvent } from '@aws-sdk/client-sfn';
import type { AwsClients } from '../lambdas/aws/clients';
import { describeExecution, historySince } from '../lambdas/aws/step-functions';

function elapsed(since: Date, at: Date | undefined): string {
  const seconds = Math.max(0, Math.round(((at ?? since).getTime() - since.getTime()) / 1000));
  const mm = String(Math.floor(seconds / 60)).padStart(2, '0');
  const ss = String(seconds % 60).padStart(2, '0');
  return `+${mm}:${ss}`;
}

function parseJson(text: string | undefined): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** What a state decided, read from the slot it wrote (see lambdas/domain/workflow-state.ts). */
function decisionOf(stateName: string, output: Record<string, unknown> | undefined): string {
  const slot = (key: string) => output?.[key] as Record<string, unknown> | undefined;
  switch (stateName) {
    case 'ResolveRequest': {
      const resolution = slot('resolution');
      return resolution ? `${resolution.status}${resolution.reason ? `: ${resolution.reason}` : ''}` : '';
    }
    case 'AnalyzeDiff': {
      const gate = slot('diffGate');
      return gate ? `verdict ${gate.verdict}${gate.skipped ? ' (skipped with a reason)' : ''}` : '';
    }
    case 'UpdateService': {
      const update = slot('update');
      return update
        ? `${update.previousTaskDefinitionArn} → ${update.taskDefinitionArn} (${update.deploymentId})`
        : '';
    }
    case 'PollStabilization':
    case 'PollRollback': {
      const rollout = slot(stateName === 'PollRollback' ? 'rollbackRollout' : 'rollout');
      return rollout ? `${rollout.status}: ${rollout.reason}` : '';
    }
    case 'SmokeTest': {
      const smoke = slot('smoke');
      return smoke ? (smoke.passed ? 'all checks passed' : 'checks failed') : '';
    }
    case 'Rollback': {
      const rollback = slot('rollback');
      return rollback ? `${rollback.action} → ${rollback.targetTaskDefinitionArn}` : '';
    }
    default:
      return '';
  }
}

export function describeHistoryEvent(event: HistoryEvent, startedAt: Date): string | undefined {
  const at = elapsed(startedAt, event.timestamp);
  if (event.stateEnteredEventDetails) return `${at}  ▶ ${event.stateEnteredEventDetails.name}`;
  if (event.stateExitedEventDetails) {
    const name = event.stateExitedEventDetails.name ?? '';
    const decision = decisionOf(name, parseJson(event.stateExitedEventDetails.output));
    return `${at}  ✓ ${name}${decision ? `  ${decision}` : ''}`;
  }
  const failure =
    event.taskFailedEventDetails ??
    event.lambdaFunctionFailedEventDetails ??
    event.taskTimedOutEventDetails ??
    event.executionFailedEventDetails;
  if (failure) return `${at}  ✗ ${failure.error ?? 'error'}: ${failure.cause ?? ''}`.trimEnd();
  if (event.type === 'ExecutionSucceeded') return `${at}  execution succeeded`;
  if (event.type === 'ExecutionAborted') return `${at}  execution aborted`;
  if (event.type === 'ExecutionTimedOut') return `${at}  execution timed out`;
  return undefined;
}

export interface FollowOptions {
  readonly pollMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly print: (line: string) => void;
}

/** Prints new history lines until the execution ends; returns its final description. */
export async function followExecution(
  clients: Pick<AwsClients, 'sfn'>,
  executionArn: string,
  options: FollowOptions,
): Promise<DescribeExecutionCommandOutput> {
  let lastEventId = 0;
  for (;;) {
    const execution = await describeExecution(clients, executionArn);
    const startedAt = execution.startDate ?? new Date();
    for (const event of await historySince(clients, executionArn, lastEventId)) {
      lastEventId = Math.max(lastEventId, event.id ?? 0);
      const line = describeHistoryEvent(event, startedAt);
      if (line) options.print(line);
    }
    if (execution.status !== 'RUNNING') return execution;
    await options.sleep(options.pollMs);
  }
}

/** Exit code of a finished execution: 0 succeeded, 1 anything else (failed, timed out, aborted). */
export function exitCodeFor(status: string | undefined): number {
  return status === 'SUCCEEDED' ? 0 : 1;
}
