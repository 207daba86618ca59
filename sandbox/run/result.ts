/**
 * What one simulation yields: the `simulate --json` document of docs/json-outputs.md, built from the
 * recorded executions, plus the richer record the human timeline and the tests read.
 */
import type { ApprovalRecord } from '../../lambdas/domain/approval';
import type { ApprovalAttempt } from './approvals';
import type { AuthorizationRecord } from './function-clients';
import { parseTriggerInput } from '../../lambdas/domain/trigger-events';
import { Trigger, type Outcome } from '../../lambdas/domain/workflow-state';
import type { Item } from '../account/dynamodb/expressions';
import type { BusEvent, PublishedMessage } from '../account/simulated-account';
import type { QueueMessage } from '../account/sqs';
import type { AlarmStatus } from './cloudwatch';
import { describeState, lastErrorOf } from '../report/decisions';
import type { AslDefinition, SimulatedExecution, StateRecord } from './execution';
import type { StackSummary } from './stack-summary';

export type SimulationStatus = 'SUCCEEDED' | 'FAILED';

/**
 * How the deployment ended. The notification outcomes, with `deployed` for a success; `ignored`
 * when no deployment was asked for; `failed` when the execution failed outside every designed path.
 */
export type SimulationOutcome = Exclude<Outcome, 'succeeded'> | 'deployed' | 'ignored' | 'failed';

export interface StateEntry {
  readonly name: string;
  /** Step Functions' status of the state: SUCCEEDED, FAILED, or CAUGHT (its Catch handled an error). */
  readonly status: string;
  readonly enteredAt: string;
  readonly leftAt: string;
  /** The error its last attempt ended with, when it failed or was caught (`States.Timeout`, ...). */
  readonly error?: string;
  /** What it decided, in the timeline's words (sandbox/report/decisions.ts); empty for Choice, Pass, Succeed. */
  readonly decision: readonly string[];
}

export interface NotificationEntry {
  readonly subject: string;
  readonly message: string;
}

/** One execution of the run, for scenarios that start more than one (duplicate-push, concurrent). */
export interface ExecutionSummary {
  readonly name: string;
  /** What its input is: `manual` (a start input), `ecr-push`, `ecs-deployment-failed`, `other-event`, or `unreadable`. */
  readonly trigger: string;
  readonly startedBy: string;
  readonly status: SimulationStatus | 'RUNNING';
  readonly outcome: SimulationOutcome | 'running';
  readonly terminalState: string | undefined;
  readonly error?: string;
}

/** A call a function's role (or the resource's policy) did not allow: AWS would have answered AccessDenied. */
export interface AccessDeniedEntry {
  /** The function's handler (`update-service`), or the service delivering (`EventBridge rule <name>`). */
  readonly caller: string;
  readonly action: string;
  readonly resource: string;
  readonly decision: 'explicit-deny' | 'implicit-deny';
}

/**
 * The `simulate --json` document (docs/json-outputs.md); `executions` is an addition listing every
 * execution, `accessDenied` one listing every call the template's policies refused.
 */
export interface SimulationDocument {
  readonly scenario: string;
  readonly status: SimulationStatus;
  readonly outcome: SimulationOutcome;
  readonly rolledBack: boolean;
  readonly taskDefinitionBefore: string | null;
  /** The revision the run's UpdateService registered and deployed; null when the run deployed none. */
  readonly taskDefinitionDeployed: string | null;
  readonly taskDefinitionAfter: string | null;
  readonly states: readonly StateEntry[];
  readonly notifications: readonly NotificationEntry[];
  readonly virtualSeconds: number;
  readonly executions: readonly ExecutionSummary[];
  readonly accessDenied: readonly AccessDeniedEntry[];
  /** Every alarm of the template at the end of the run; one the sandbox cannot evaluate says why. */
  readonly alarms: readonly AlarmStatus[];
  /** What the service runs at the end: container → `<repository>@sha256:<hex>` of the serving revision. */
  readonly imagesAfter: Readonly<Record<string, string>>;
  /** The SSM parameters at the end (name → value): the image pointers notify published for the ECS stack. */
  readonly imageParameters: Readonly<Record<string, string>>;
  /** Every approval the runs' executions asked for, as the ledger keeps it at the end (docs/approvals.md). */
  readonly approvals: readonly ApprovalEntry[];
  /** Infrastructure releases only: each requested stack, in deploy order, with its verdict, approval and status. */
  readonly stacks?: readonly StackSummary[];
}

/** One approval in `simulate --json`: the ledger's record, named by its execution. */
export interface ApprovalEntry extends Omit<ApprovalRecord, 'executionArn' | 'findings'> {
  readonly execution: string;
  readonly verdict: ApprovalRecord['findings']['verdict'];
}

/** The whole record of a run. */
export interface SimulationRun {
  readonly document: SimulationDocument;
  /** The definition the run executed, substituted with the sandbox's ARNs. */
  readonly definition: AslDefinition;
  /** Every execution, the main one first. */
  readonly executions: readonly SimulatedExecution[];
  readonly published: readonly PublishedMessage[];
  /** Every log line every handler wrote. */
  readonly logLines: readonly string[];
  /** Every URL a handler fetched (the smoke test's requests), in order. */
  readonly requests: readonly string[];
  /** Every authorization request a handler's SDK call made, with the evaluator's decision, in order. */
  readonly authorizations: readonly AuthorizationRecord[];
  /** Every decision the person (`approver`) sent through the approval URL, with the answer. */
  readonly approvalAttempts: readonly ApprovalAttempt[];
  /** Every event put on the account's EventBridge bus, in order. */
  readonly busEvents: readonly BusEvent[];
  /** The orchestrator table's items at the end (wait records and the deployment ledger). */
  readonly ledgerItems: readonly Item[];
  /** The revision the service's load balancer routes to at the end, or null when none serves. */
  readonly servingTaskDefinition: string | null;
  /**
   * What CloudFormation itself reports for each of the environment's configured stacks at the end
   * (read past the API), to hold what the release reported against it.
   */
  readonly stackStatuses: Readonly<Record<string, string>>;
  /** Every injected fault that struck, in order. */
  readonly faultsStruck: readonly string[];
  readonly startedAt: Date;
  readonly liveServiceUrl: string;
  /** The messages in each of the stack's queues at the end, by queue name. */
  readonly queueMessages: Readonly<Record<string, readonly QueueMessage[]>>;
}

const outcomeByNotifyInput: Readonly<Record<Outcome, SimulationOutcome>> = {
  succeeded: 'deployed',
  blocked: 'blocked',
  rejected: 'rejected',
  'failed-before-change': 'failed-before-change',
  'rolled-back': 'rolled-back',
  'rollback-failed': 'rollback-failed',
  'stack-failed': 'stack-failed',
};

/** The outcome the execution notified, or its terminal state's meaning when it notified none. */
export function outcomeOf(execution: SimulatedExecution): SimulationOutcome | 'running' {
  if (execution.status === 'RUNNING') return 'running';
  const terminal = execution.currentState;
  if (terminal === 'Ignored') return 'ignored';
  if (terminal === 'Deployed') return 'deployed';
  for (const record of [...execution.states].reverse()) {
    const notified = notifiedOutcome(record);
    if (notified) return notified;
  }
  return 'failed';
}

function notifiedOutcome(record: StateRecord): SimulationOutcome | undefined {
  const input = record.invocations[0]?.input as { outcome?: unknown } | undefined;
  const outcome = input?.outcome;
  if (typeof outcome === 'string' && outcome in outcomeByNotifyInput) {
    return outcomeByNotifyInput[outcome as Outcome];
  }
  return undefined;
}

export function stateEntries(execution: SimulatedExecution): StateEntry[] {
  return execution.states.map((record) => {
    const error = lastErrorOf(record);
    return {
      name: record.name,
      status: record.status,
      enteredAt: new Date(record.enteredAtMs).toISOString(),
      leftAt: new Date(record.leftAtMs).toISOString(),
      ...(error !== undefined && record.status !== 'SUCCEEDED' ? { error } : {}),
      decision: describeState(record),
    };
  });
}

/** The revision the execution's UpdateService deployed, if it got that far. */
export function deployedTaskDefinition(execution: SimulatedExecution): string | null {
  const update = execution.states.find((record) => record.name === 'UpdateService' && record.output);
  const arn = (update?.invocations.at(-1)?.output as { taskDefinitionArn?: unknown } | undefined)
    ?.taskDefinitionArn;
  return typeof arn === 'string' ? arn : null;
}

/** The kind of trigger an execution's input is, in the workflow's words (Trigger). */
export function triggerOf(input: unknown): string {
  try {
    const trigger = parseTriggerInput(input);
    switch (trigger.kind) {
      case 'start':
        return Trigger.manual;
      case 'ecr-image-action':
        return Trigger.ecrPush;
      case 'ecs-deployment-state-change':
        return Trigger.ecsDeploymentFailed;
      case 'other-event':
        return 'other-event';
    }
  } catch {
    return 'unreadable';
  }
}

export function summarize(execution: SimulatedExecution): ExecutionSummary {
  return {
    name: execution.name,
    trigger: triggerOf(execution.input),
    startedBy: execution.trigger.description,
    status: execution.status,
    outcome: outcomeOf(execution),
    terminalState: execution.status === 'RUNNING' ? undefined : execution.currentState,
    ...(execution.error ? { error: `${execution.error.Error}: ${execution.error.Cause}` } : {}),
  };
}
