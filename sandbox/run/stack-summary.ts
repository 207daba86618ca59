/**
 * The `stacks` of an infrastructure release in the `simulate --json` document: for each requested
 * stack, in the order the release deploys them, its diff verdict, what became of the approval it
 * needed (if any), and what became of it. Read from the states the execution went through.
 */
import type { SimulatedExecution, StateRecord } from './execution';

/**
 * `pending`: asked for and not decided when the run ended; `expired`: nobody decided in time (=
 * denied).
 */
export type StackApproval = 'not-needed' | 'pending' | 'approved' | 'denied' | 'expired';
export type StackStatus =
  'deployed' | 'no-change' | 'rolled-back' | 'failed' | 'not-approved' | 'not-attempted';

export interface StackSummary {
  readonly name: string;
  /** The diff gate's verdict on the stack's diff; null when the release never got to it. */
  readonly verdict: 'PASS' | 'WARN' | 'BLOCKED' | 'ERROR' | null;
  /** Its approval: not needed, or what became of it; null when the release never got to its gate. */
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
          current.approval = output.approvalRequired === true ? 'pending' : 'not-needed';
        }
        break;
      case 'RequestStackApproval': {
        // The decision decide-approval handed the paused state (SendTaskSuccess output).
        const decision = (record.output as { stackApproval?: { decision?: string } } | undefined)
          ?.stackApproval?.decision;
        if (current && (decision === 'approved' || decision === 'denied')) current.approval = decision;
        break;
      }
      case 'ExpireStackApproval':
        // The wait timed out: expired, whether or not recording it succeeded.
        if (current) current.approval = 'expired';
        break;
      case 'WatchStack':
        if (current && output && typeof output.status === 'string') {
          current.status = WATCHED[output.status] ?? current.status;
        }
        break;
      case 'NotifyStackNotApproved':
        if (current) current.status = 'not-approved';
        break;
      case 'NotifyStackFailed':
        // A stack that failed before CloudFormation said anything (its build, its gate, its ECS deployment).
        if (current && current.status !== 'rolled-back') current.status = 'failed';
        break;
    }
  }
  return [...summaries.values()];
}
