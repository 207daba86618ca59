/**
 * The `stacks` of an infrastructure release in the `simulate --json` document: for each requested
 * stack, in the order the release deploys them, its diff verdict, whether it needed a person's
 * approval, and what became of it. Read from the states the execution went through.
 */
import type { SimulatedExecution, StateRecord } from './execution';

export type StackApproval = 'not-needed' | 'needed';
export type StackStatus = 'deployed' | 'no-change' | 'rolled-back' | 'failed' | 'held' | 'not-attempted';

export interface StackSummary {
  readonly name: string;
  /** The diff gate's verdict on the stack's diff; null when the release never got to it. */
  readonly verdict: 'PASS' | 'WARN' | 'BLOCKED' | 'ERROR' | null;
  /** Whether its verdict needed a person; null when the release never got to its gate. */
  readonly approval: StackApproval | null;
  readonly status: StackStatus;
}

function outputOf(record: StateRecord): Record<string, unknown> | undefined {
  return record.invocations.at(-1)?.output as Record<string, unknown> | undefined;
}

function orderedStacks(execution: SimulatedExecution): readonly string[] | undefined {
  const resolve = execution.states.find((record) => record.name === 'ResolveRequest');
  const result =
    resolve && (outputOf(resolve) as { request?: { kind?: string; stacks?: string[] } } | undefined);
  return result?.request?.kind === 'infrastructure' ? result.request.stacks : undefined;
}

const WATCHED: Readonly<Record<string, StackStatus>> = {
  DEPLOYED: 'deployed',
  NO_CHANGE: 'no-change',
  ROLLED_BACK: 'rolled-back',
  FAILED: 'failed',
};

/** The stacks of the execution's infrastructure release, or undefined when it is not one. */
export function stackSummaries(execution: SimulatedExecution): StackSummary[] | undefined {
  const ordered = orderedStacks(execution);
  if (!ordered) return undefined;
  const summaries = new Map<string, { -readonly [K in keyof StackSummary]: StackSummary[K] }>(
    ordered.map((name) => [name, { name, verdict: null, approval: null, status: 'not-attempted' }]),
  );
  let current: { -readonly [K in keyof StackSummary]: StackSummary[K] } | undefined;
  for (const record of execution.states) {
    const output = outputOf(record);
    switch (record.name) {
      case 'SelectStack': {
        const name = (record.output as { stack?: { name?: string } } | undefined)?.stack?.name;
        current = name === undefined ? undefined : summaries.get(name);
        break;
      }
      case 'AnalyzeStackDiff':
        if (current && output) {
          current.verdict = output.verdict as StackSummary['verdict'];
          current.approval = output.proceed === true || output.verdict === 'ERROR' ? 'not-needed' : 'needed';
        }
        break;
      case 'WatchStack':
        if (current && output && typeof output.status === 'string') {
          current.status = WATCHED[output.status] ?? current.status;
        }
        break;
      case 'StackNeedsApproval':
        if (current) current.status = 'held';
        break;
      case 'NotifyStackFailed':
        // A stack that failed before CloudFormation said anything (its build, its gate, its ECS deployment).
        if (current && current.status !== 'rolled-back') current.status = 'failed';
        break;
    }
  }
  return [...summaries.values()];
}
