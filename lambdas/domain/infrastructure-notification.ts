/**
 * Words the notification an infrastructure release ends with: which stacks were deployed, where it
 * stopped and why (CloudFormation's own words, the diff gate's findings, the ECS deployment the
 * stack started, a denied or expired approval), which stacks were not attempted, and who approved
 * or denied each held stack and why. The state is read through schemas that keep only the fields
 * named here, as for an image release (./notification.ts); the approvals of the stacks before the
 * current one come from the ledger (the state keeps only the current stack's).
 */
import { z } from 'zod';
import { decisionOf, describeDecision, type ApprovalDecision, type ApprovalRecord } from './approval';
import { stackFates, type StackFate } from './stack-graph';
import { Outcome } from './workflow-state';

const MAX_TEXT_LENGTH = 600;
const MAX_FINDINGS = 10;

function slot<T extends z.ZodType>(schema: T) {
  return schema.optional().catch(undefined);
}

const FindingSchema = z.object({
  resourceType: z.string(),
  logicalId: z.string(),
  change: z.string(),
  reason: z.string(),
});

const InfrastructureStateSchema = z.object({
  request: z.object({
    kind: z.literal('infrastructure'),
    environment: z.string(),
    clusterName: z.string(),
    serviceName: z.string(),
    requestedBy: z.string(),
    trigger: z.string(),
    stacks: z.array(z.string()),
  }),
  release: slot(z.object({ index: z.number(), count: z.number() })),
  stack: slot(z.object({ name: z.string() })),
  stackGate: slot(
    z.object({
      verdict: z.string(),
      proceed: z.boolean(),
      message: z.string(),
      blocking: z.array(FindingSchema).catch([]),
      warnings: z.array(FindingSchema).catch([]),
    }),
  ),
  stackWatch: slot(
    z.object({
      status: z.string(),
      stackStatus: z.string(),
      reason: z.string(),
      ecsDeployment: slot(z.object({ deploymentId: z.string() })),
    }),
  ),
  /** The deploy build's answer, or the error it was caught with: present once DeployStack has run. */
  stackDeploy: slot(z.object({ buildStatus: z.string().optional(), Error: z.string().optional() })),
  stackRollout: slot(z.object({ status: z.string(), reason: z.string() })),
  stackSmoke: slot(
    z.object({
      passed: z.boolean(),
      checks: z
        .array(z.object({ name: z.string(), status: z.string(), reason: z.string().optional() }))
        .catch([]),
    }),
  ),
  stackApproval: slot(
    z.object({
      decision: z.enum(['approved', 'denied', 'expired']),
      reason: z.string(),
      approver: slot(z.object({ arn: z.string(), accountId: z.string(), userId: z.string() })),
      decidedAt: z.string(),
    }),
  ),
  error: slot(z.object({ Error: z.string(), Cause: z.string().optional() })),
});
type InfrastructureState = z.infer<typeof InfrastructureStateSchema>;

/** Whether the state is an infrastructure release's (its request says so). */
export function isInfrastructureState(state: unknown): boolean {
  const request = (state as { request?: { kind?: unknown } } | null)?.request;
  return request?.kind === 'infrastructure';
}

function readState(state: unknown): InfrastructureState | undefined {
  const parsed = InfrastructureStateSchema.safeParse(state);
  return parsed.success ? parsed.data : undefined;
}

function clip(text: string, max = MAX_TEXT_LENGTH): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

/** A Catch's Cause: Lambda's JSON error document in AWS, plain text elsewhere. */
function errorText(error: { Error: string; Cause?: string }): string {
  const cause = error.Cause?.trim();
  if (!cause) return error.Error;
  try {
    const parsed = JSON.parse(cause) as { errorType?: unknown; errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') {
      return `${typeof parsed.errorType === 'string' ? parsed.errorType : error.Error}: ${clip(parsed.errorMessage)}`;
    }
  } catch {
    // Not JSON: the cause is the message itself.
  }
  // Step Functions' own causes often open with the error's name already.
  return cause.startsWith(error.Error) ? clip(cause) : `${error.Error}: ${clip(cause)}`;
}

/** A sentence's end after an error text, which may or may not close with a full stop. */
function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/**
 * Why a step failed, with what is known of the stack: the failed step alone would read as "nothing
 * happened", while after the deploy build CloudFormation may have updated the stack and ECS may be
 * rolling out what the update started.
 */
function errorReason(state: InfrastructureState, error: { Error: string; Cause?: string }): string {
  const { stack, stackDeploy, stackWatch } = state;
  const name = stack?.name ?? 'the stack';
  const text = errorText(error);
  if (!stackDeploy) {
    return `${sentence(text)} ${name} was not deployed: the release stopped before its deploy build.`;
  }
  const ecsDeployment = stackWatch?.status === 'DEPLOYED' ? stackWatch.ecsDeployment : undefined;
  if (ecsDeployment) {
    return (
      `CloudFormation reports ${name} ${stackWatch!.stackStatus}, but the ECS deployment ${ecsDeployment.deploymentId} ` +
      `its update started was not verified (${text}). The service may be running that revision unverified, and ` +
      'the ledger did not make it live: check the service (`afu9-deploy status`, the ECS console) before deploying again.'
    );
  }
  return (
    `The deploy build of ${name} ended ${stackDeploy.buildStatus ?? stackDeploy.Error ?? 'with an error'}, but what ` +
    `CloudFormation did could not be read to its end (${text}). The stack may have been updated: check ` +
    `\`aws cloudformation describe-stacks --stack-name ${name}\` before deploying again.`
  );
}

/** Why the release stopped at its current stack, in one sentence. */
function stopReason(state: InfrastructureState): string {
  const { stackApproval, stackGate, stackWatch, stackRollout, stackSmoke } = state;
  if (stackApproval && stackApproval.decision !== 'approved') {
    return clip(`${state.stack?.name ?? 'The stack'}: ${describeDecision(stackApproval)}`);
  }
  if (state.error) return errorReason(state, state.error);
  if (stackSmoke && !stackSmoke.passed) {
    const failed = stackSmoke.checks.filter((check) => check.status === 'FAIL').map((check) => check.name);
    return `The stack's update started an ECS deployment that did not pass the smoke checks (${failed.join(', ') || 'see the execution'}).`;
  }
  if (stackRollout && stackRollout.status !== 'COMPLETED') {
    return `The stack's update started ECS deployment ${stackWatch?.ecsDeployment?.deploymentId ?? ''}, which ended ${stackRollout.status}: ${clip(stackRollout.reason)}`;
  }
  if (stackWatch) return clip(stackWatch.reason);
  if (stackGate) return clip(stackGate.message);
  return 'The release stopped without a recorded reason; read the execution history.';
}

const FATE_WORDS: Readonly<Record<StackFate, string>> = {
  deployed: 'deployed',
  failed: 'FAILED',
  'not-approved': 'NOT APPROVED (not deployed)',
  'not-attempted': 'not attempted',
};

function fatesOf(state: InfrastructureState, outcome: Outcome) {
  const { stacks } = state.request;
  const stoppedAt = outcome === Outcome.succeeded ? stacks.length : (state.release?.index ?? 0);
  return stackFates(stacks, stoppedAt, outcome === Outcome.blocked ? 'not-approved' : 'failed');
}

function headline(outcome: Outcome, state: InfrastructureState): string {
  const stopped = state.stack?.name ?? state.request.stacks[state.release?.index ?? 0] ?? 'a stack';
  switch (outcome) {
    case Outcome.succeeded:
      return `Infrastructure DEPLOYED: ${state.request.stacks.length} stack(s)`;
    case Outcome.blocked:
      return `Infrastructure NOT APPROVED at ${stopped}: approval ${state.stackApproval?.decision ?? 'not given'}`;
    default:
      return `Infrastructure FAILED at ${stopped}`;
  }
}

function findingLines(state: InfrastructureState): string[] {
  const gate = state.stackGate;
  if (!gate || gate.proceed) return [];
  const findings = [
    ...gate.blocking.map((finding) => ({ label: 'BLOCKING', finding })),
    ...gate.warnings.map((finding) => ({ label: 'WARNING', finding })),
  ];
  return [
    `Diff gate: ${gate.verdict}: ${clip(gate.message)}`,
    ...findings
      .slice(0, MAX_FINDINGS)
      .map(
        ({ label, finding }) =>
          `  ${label} ${finding.resourceType} ${finding.logicalId} (${finding.change}): ${clip(finding.reason, 200)}`,
      ),
    ...(findings.length > MAX_FINDINGS ? [`  ... and ${findings.length - MAX_FINDINGS} more`] : []),
  ];
}

function opening(outcome: Outcome, state: InfrastructureState): string {
  const { environment } = state.request;
  switch (outcome) {
    case Outcome.succeeded:
      return `The infrastructure release of ${environment} DEPLOYED every requested stack, in dependency order; CloudFormation reports each complete.`;
    case Outcome.blocked:
      return (
        `The infrastructure release of ${environment} stopped at ${state.stack?.name ?? 'a stack'}: its diff needed a ` +
        "person's approval, which was not given (denied or expired), so it and the stacks after it were not deployed; " +
        'the stacks before it were.'
      );
    default:
      return `The infrastructure release of ${environment} FAILED at ${state.stack?.name ?? 'a stack'}; the stacks after it were not attempted.`;
  }
}

/**
 * The release's approvals as the ledger keeps them (one per held stack, each stack asked at most
 * once per execution), or why they could not be read.
 */
export type ReleaseApprovals =
  | { readonly read: true; readonly records: readonly ApprovalRecord[] }
  | { readonly read: false; readonly problem: string };

/** Each held stack's decision: the ledger's records, and the current stack's from the state when the ledger could not say. */
function decisionsByStack(
  state: InfrastructureState,
  approvals: ReleaseApprovals,
): Map<string, ApprovalDecision> {
  const decisions = new Map<string, ApprovalDecision>();
  if (approvals.read) {
    for (const record of approvals.records) {
      if (record.subject.kind === 'stack' && record.status !== 'pending') {
        decisions.set(record.subject.stackName, decisionOf(record));
      }
    }
  }
  if (state.stack && state.stackApproval && !decisions.has(state.stack.name)) {
    decisions.set(state.stack.name, state.stackApproval);
  }
  return decisions;
}

function stackLine(name: string, fate: StackFate, decision: ApprovalDecision | undefined): string {
  const approval = decision ? `; ${clip(describeDecision(decision), 400)}` : '';
  return `  ${name}: ${FATE_WORDS[fate]}${approval}`;
}

/** The subject and body of an infrastructure release's notification (SNS limits applied by the caller). */
export function composeInfrastructureMessage(
  outcome: Outcome,
  rawState: unknown,
  approvals: ReleaseApprovals = { read: true, records: [] },
): { readonly headline: string; readonly lines: readonly string[] } | undefined {
  const state = readState(rawState);
  if (!state) return undefined;
  const fates = fatesOf(state, outcome);
  const decisions = decisionsByStack(state, approvals);
  const { request } = state;
  return {
    headline: headline(outcome, state),
    lines: [
      opening(outcome, state),
      '',
      `Outcome:           ${outcome}`,
      `Environment:       ${request.environment} (service ${request.serviceName}, cluster ${request.clusterName})`,
      `Requested by:      ${request.requestedBy} (trigger: ${request.trigger})`,
      'Stacks:',
      ...fates.map(({ name, fate }) => stackLine(name, fate, decisions.get(name))),
      ...(approvals.read
        ? []
        : [
            `Approvals:         not read from the ledger (${clip(approvals.problem, 300)}); ` +
              `\`afu9-deploy status\` lists who decided each one.`,
          ]),
      ...(outcome === Outcome.succeeded ? [] : ['', `Reason:            ${stopReason(state)}`]),
      ...findingLines(state),
    ],
  };
}

/** The ledger's reasons for an infrastructure release's outcome. */
export function infrastructureReasons(outcome: Outcome, rawState: unknown): string[] {
  const state = readState(rawState);
  if (!state) return [];
  const fates = fatesOf(state, outcome);
  const summary = fates.map(({ name, fate }) => `${name} ${fate}`).join(', ');
  const { stack, stackApproval } = state;
  return [
    ...(outcome === Outcome.succeeded ? [] : [stopReason(state)]),
    `stacks: ${summary}`,
    // The current stack's decision; every stack's approval is its own ledger item (docs/approvals.md).
    ...(stack && stackApproval?.decision === 'approved'
      ? [`${stack.name}: ${describeDecision(stackApproval)}`]
      : []),
    ...(state.stackGate?.blocking ?? []).map(
      (finding) =>
        `blocking ${finding.resourceType} ${finding.logicalId} (${finding.change}): ${finding.reason}`,
    ),
  ].map((text) => clip(text, 300));
}
