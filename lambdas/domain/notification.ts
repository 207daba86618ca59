/**
 * Words the one notification an execution ends with, from whatever the state holds at that point.
 * The state may be partial (a rejected request has no `$.request`, an event-started rollback has no
 * `$.update`) or carry slots of an unexpected shape: each slot is read through a schema that keeps
 * only the fields named here, and a slot that does not fit is treated as absent. So nothing a step
 * did not mean for a person (a secret check's details, an unknown field) reaches the message.
 */
import { z } from 'zod';
import { describeDecision } from './approval';
import {
  composeInfrastructureMessage,
  infrastructureReasons,
  isInfrastructureState,
  type ReleaseApprovals,
} from './infrastructure-notification';
import { Outcome } from './workflow-state';

export interface Notification {
  /** ASCII, one line, under 100 characters (the SNS limit). */
  readonly subject: string;
  readonly message: string;
  /** SNS message attributes, for subscription filter policies. */
  readonly attributes: { readonly outcome: Outcome; readonly environment: string };
}

export interface NotificationInput {
  readonly outcome: Outcome;
  /** The execution ARN (`$$.Execution.Id`). */
  readonly executionId: string;
  /** The whole state (`$`) as the Notify state received it. */
  readonly state: unknown;
  /** `$$.Execution.StartTime`: the duration is measured from it when present. */
  readonly startedAt?: string;
  readonly now: Date;
  /** Used for the console link when the execution ARN names no region. */
  readonly region: string;
  /** The configured environment names: any other name a raw input carries is filed as unknown. */
  readonly knownEnvironments: readonly string[];
  /** The configuration's `displayName`, opening the subject: `[<displayName> <environment>]`. */
  readonly displayName: string;
  /** An infrastructure release's approvals from the ledger: who decided each held stack. @default none */
  readonly releaseApprovals?: ReleaseApprovals;
}

/** SNS: "must be less than 100 characters long", ASCII, no line breaks. */
export const MAX_SUBJECT_LENGTH = 99;
const MAX_TEXT_LENGTH = 600;
const MAX_LISTED = 10;
const MAX_STOPPED_TASKS = 5;

function slot<T extends z.ZodType>(schema: T) {
  return schema.optional().catch(undefined);
}

const ImageSchema = z.object({
  container: z.string(),
  repository: z.string(),
  tag: z.string().optional(),
  digest: z.string().optional(),
});
type Image = z.infer<typeof ImageSchema>;

const FindingSchema = z.object({
  resourceType: z.string(),
  logicalId: z.string(),
  change: z.string(),
  reason: z.string(),
});
type Finding = z.infer<typeof FindingSchema>;

const RolloutSchema = z.object({
  status: z.string(),
  deploymentId: z.string().optional(),
  reason: z.string(),
  rolloutStateReason: z.string().optional(),
  stoppedTasks: z
    .array(
      z.object({
        stoppedReason: z.string(),
        containers: z
          .array(
            z.object({
              name: z.string(),
              exitCode: z.number().optional(),
              reason: z.string().optional(),
            }),
          )
          .catch([]),
      }),
    )
    .catch([]),
});
type Rollout = z.infer<typeof RolloutSchema>;

const StateSchema = z.object({
  request: slot(
    z.object({
      kind: z.enum(['deploy', 'rollback']),
      environment: z.string(),
      clusterName: z.string(),
      serviceName: z.string(),
      images: z.array(ImageSchema).catch([]),
      version: z.string(),
      skipDiffGate: z.boolean().catch(false),
      skipReason: z.string().optional(),
      requestedBy: z.string(),
      trigger: z.string(),
      failedDeploymentId: z.string().optional(),
      failureReason: z.string().optional(),
    }),
  ),
  diffGate: slot(
    z.object({
      verdict: z.string(),
      skipped: z.boolean().catch(false),
      skipReason: z.string().optional(),
      counts: z.object({ blocking: z.number(), warnings: z.number(), safe: z.number() }),
      blocking: z.array(FindingSchema).catch([]),
      warnings: z.array(FindingSchema).catch([]),
      message: z.string(),
    }),
  ),
  // Names and statuses only: a check's `detail` is never copied into a message.
  verification: slot(
    z.object({
      checks: z.array(z.object({ kind: z.string(), subject: z.string(), status: z.string() })).catch([]),
      images: z.array(ImageSchema).catch([]),
    }),
  ),
  update: slot(
    z.object({
      previousTaskDefinitionArn: z.string(),
      taskDefinitionArn: z.string(),
      deploymentId: z.string(),
      startedAt: z.string(),
    }),
  ),
  rollout: slot(RolloutSchema),
  smoke: slot(
    z.object({
      passed: z.boolean(),
      checks: z
        .array(
          z.object({
            name: z.string(),
            url: z.string(),
            status: z.string(),
            httpStatus: z.number().optional(),
            reason: z.string().optional(),
          }),
        )
        .catch([]),
    }),
  ),
  rollback: slot(
    z.object({
      action: z.string(),
      fromTaskDefinitionArn: z.string(),
      targetTaskDefinitionArn: z.string(),
      deploymentId: z.string(),
      reason: z.string(),
    }),
  ),
  rollbackRollout: slot(RolloutSchema),
  // The decision on a held diff (RequestApproval / ExpireApproval): who, what, why, when.
  approval: slot(
    z.object({
      decision: z.enum(['approved', 'denied', 'expired']),
      reason: z.string(),
      approver: z.object({ arn: z.string(), accountId: z.string(), userId: z.string() }).optional(),
      decidedAt: z.string(),
    }),
  ),
  error: slot(z.object({ Error: z.string(), Cause: z.string().optional() })),
  // The original start input sits at the top of the state; a rejected request has nothing else.
  environment: slot(z.string()),
  imageTag: slot(z.string()),
  imageDigest: slot(z.string()),
  requestedBy: slot(z.string()),
  detail: slot(z.object({ 'repository-name': z.string().optional(), 'image-tag': z.string().optional() })),
});
type State = z.infer<typeof StateSchema>;

function readState(state: unknown): State {
  const parsed = StateSchema.safeParse(state);
  return parsed.success ? parsed.data : StateSchema.parse({});
}

/** Keeps free text readable: one line, bounded. */
function clip(text: string, max = MAX_TEXT_LENGTH): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

/**
 * A Catch's Cause: in AWS a Lambda error arrives as the JSON string
 * `{"errorType","errorMessage","trace"}`; other errors (and local runs) give plain text.
 */
export function describeStateError(error: { Error: string; Cause?: string }): string {
  const cause = error.Cause?.trim();
  if (!cause) return error.Error;
  try {
    const parsed: unknown = JSON.parse(cause);
    if (typeof parsed === 'object' && parsed !== null) {
      const { errorType, errorMessage } = parsed as { errorType?: unknown; errorMessage?: unknown };
      if (typeof errorMessage === 'string') {
        const type = typeof errorType === 'string' ? errorType : error.Error;
        return `${type}: ${clip(errorMessage)}`;
      }
    }
  } catch {
    // Not JSON: the cause is the message itself.
  }
  return `${error.Error}: ${clip(cause)}`;
}

export function formatDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.round(totalSeconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

/** `arn:...:task-definition/shop-api:42` → `shop-api:42`. */
function taskDefinitionName(arn: string): string {
  const marker = 'task-definition/';
  const at = arn.indexOf(marker);
  return at >= 0 ? arn.slice(at + marker.length) : arn;
}

function shortDigest(digest: string): string {
  return digest.startsWith('sha256:') ? digest.slice(0, 'sha256:'.length + 12) : digest;
}

function executionConsoleUrl(executionArn: string, fallbackRegion: string): string {
  const region = /^arn:aws[a-z-]*:states:([a-z0-9-]+):/.exec(executionArn)?.[1] ?? fallbackRegion;
  return (
    `https://${region}.console.aws.amazon.com/states/home?region=${region}` +
    `#/v2/executions/details/${executionArn}`
  );
}

/** What the notification is about, from the request or, failing that, the raw input. */
interface Subject {
  readonly environment?: string;
  readonly version?: string;
  readonly rollbackRequest: boolean;
}

function subjectOf(state: State, knownEnvironments: readonly string[]): Subject {
  const request = state.request;
  if (request) {
    return {
      environment: request.environment,
      ...(request.kind === 'deploy' && { version: request.version }),
      rollbackRequest: request.kind === 'rollback',
    };
  }
  const version = state.imageTag ?? state.imageDigest ?? state.detail?.['image-tag'];
  return {
    ...(typeof state.environment === 'string' &&
      knownEnvironments.includes(state.environment) && { environment: state.environment }),
    ...(version !== undefined && { version }),
    rollbackRequest: false,
  };
}

function headline(outcome: Outcome, about: Subject): string {
  const version = about.version
    ? about.version.startsWith('sha256:')
      ? shortDigest(about.version)
      : about.version
    : undefined;
  const what = version ?? 'deployment';
  switch (outcome) {
    case Outcome.succeeded:
      return `Deployed ${what}`;
    case Outcome.blocked:
      return `BLOCKED by the diff gate: ${what}`;
    case Outcome.rejected:
      return `REJECTED request: ${what}`;
    case Outcome.failedBeforeChange:
      return `FAILED before any change: ${what}`;
    case Outcome.rolledBack:
      return about.rollbackRequest ? 'ROLLED BACK to the last good revision' : `ROLLED BACK ${what}`;
    case Outcome.rollbackFailed:
      return about.rollbackRequest ? 'CRITICAL: ROLLBACK FAILED' : `CRITICAL: ROLLBACK FAILED for ${what}`;
    case Outcome.stackFailed:
      return `Infrastructure release FAILED`;
  }
}

/** SNS subjects are ASCII without control characters, and shorter than 100 characters. */
function toSubject(text: string): string {
  const ascii = text.replace(/[^\x20-\x7E]/g, '?');
  return ascii.length > MAX_SUBJECT_LENGTH ? `${ascii.slice(0, MAX_SUBJECT_LENGTH - 3)}...` : ascii;
}

function opening(outcome: Outcome, about: Subject, state: State): string {
  const where = about.environment ?? 'an unknown environment';
  const what = about.version ?? 'the requested image';
  switch (outcome) {
    case Outcome.succeeded:
      return `Deployed ${what} to ${where}. The rollout completed and the smoke checks passed.`;
    case Outcome.blocked:
      if (state.approval?.decision === 'denied') {
        return `The deployment of ${what} to ${where} was DENIED at its approval (the diff gate held it). Nothing was changed.`;
      }
      if (state.approval?.decision === 'expired') {
        return `The approval of the deployment of ${what} to ${where} EXPIRED unanswered (the diff gate held it). Nothing was changed.`;
      }
      return `The diff gate BLOCKED the deployment of ${what} to ${where}. Nothing was changed.`;
    case Outcome.rejected:
      return 'The deployment request was REJECTED. Nothing was changed. Fix the request and start again.';
    case Outcome.failedBeforeChange:
      return `The deployment of ${what} to ${where} FAILED before the service was changed. Nothing was changed.`;
    case Outcome.rolledBack:
      if (state.request?.trigger === 'ecs-deployment-failed') {
        return `ECS deployment ${state.request.failedDeploymentId ?? ''} of ${where} failed; the service was ROLLED BACK to its last good revision.`;
      }
      if (about.rollbackRequest) {
        return `${where} was ROLLED BACK to its last good revision on request.`;
      }
      return `The deployment of ${what} to ${where} failed; the service was ROLLED BACK to its last good revision.`;
    case Outcome.rollbackFailed:
      return (
        `CRITICAL: rolling ${where} back FAILED. The service may be running a broken or unknown revision. ` +
        'Act now: look at the service in the ECS console and return it to a good revision by hand.'
      );
    case Outcome.stackFailed:
      return `An infrastructure release of ${where} FAILED.`;
  }
}

function imageLine(image: Image): string {
  const reference = [image.tag && `:${image.tag}`, image.digest && `@${image.digest}`]
    .filter(Boolean)
    .join('');
  return `  ${image.container}: ${image.repository}${reference}`;
}

function taskDefinitionLine(outcome: Outcome, state: State): string | undefined {
  const { update, rollback } = state;
  const unchanged: Outcome[] = [Outcome.blocked, Outcome.rejected, Outcome.failedBeforeChange];
  if (unchanged.includes(outcome)) return 'unchanged';
  if (rollback) {
    const from = taskDefinitionName(rollback.fromTaskDefinitionArn);
    const to = taskDefinitionName(rollback.targetTaskDefinitionArn);
    const back = outcome === Outcome.rollbackFailed ? 'rolling back to' : 'rolled back to';
    return `${from} -> ${back} ${to}`;
  }
  if (update) {
    return `${taskDefinitionName(update.previousTaskDefinitionArn)} -> ${taskDefinitionName(update.taskDefinitionArn)}`;
  }
  return undefined;
}

function durationLine(input: NotificationInput, state: State): string | undefined {
  const measure = (iso: string) => {
    const started = Date.parse(iso);
    return Number.isNaN(started) ? undefined : (input.now.getTime() - started) / 1000;
  };
  const sinceStart = input.startedAt === undefined ? undefined : measure(input.startedAt);
  if (sinceStart !== undefined) return `${formatDuration(sinceStart)} (since the execution started)`;
  const sinceUpdate = state.update ? measure(state.update.startedAt) : undefined;
  if (sinceUpdate !== undefined) return `${formatDuration(sinceUpdate)} (since the service update)`;
  return undefined;
}

function findingLine(label: string, finding: Finding): string {
  return `  ${label} ${finding.resourceType} ${finding.logicalId} (${finding.change}): ${clip(finding.reason, 200)}`;
}

function listed<T>(items: readonly T[], render: (item: T) => string, total = items.length): string[] {
  const lines = items.slice(0, MAX_LISTED).map(render);
  const more = total - lines.length;
  return more > 0 ? [...lines, `  ... and ${more} more`] : lines;
}

function diffGateLines(state: State): string[] {
  const { diffGate, request } = state;
  const lines: string[] = [];
  if (diffGate) {
    const { counts } = diffGate;
    lines.push(
      `Diff gate: ${diffGate.verdict} (${counts.blocking} blocking, ${counts.warnings} warnings, ${counts.safe} safe). ${clip(diffGate.message, 300)}`,
    );
    if (diffGate.skipped) {
      lines.push(
        `  SKIPPED on request, reason: ${clip(diffGate.skipReason ?? request?.skipReason ?? 'none given')}. ` +
          `These ${diffGate.verdict === 'WARN' ? 'warnings, which the approval policy holds for review,' : 'blocking findings'} were let through:`,
      );
    }
    lines.push(...listed(diffGate.blocking, (f) => findingLine('BLOCKING', f), counts.blocking));
    lines.push(...listed(diffGate.warnings, (f) => findingLine('WARNING', f), counts.warnings));
  } else if (request?.skipDiffGate) {
    lines.push(`Diff gate: skip requested, reason: ${clip(request.skipReason ?? 'none given')}.`);
  }
  return lines;
}

function verificationLines(state: State): string[] {
  const problems = state.verification?.checks.filter((check) => check.status !== 'OK') ?? [];
  if (problems.length === 0) return [];
  return [
    'Secrets and images:',
    ...listed(problems, (check) => `  ${check.status} ${check.kind} ${check.subject}`),
  ];
}

/** `alreadySaid` is the Reason line: a rollout reason that is the Reason is not repeated. */
function rolloutLines(
  label: string,
  rollout: Rollout | undefined,
  alreadySaid: string | undefined,
): string[] {
  if (!rollout || rollout.status === 'COMPLETED') return [];
  const reason = clip(rollout.reason);
  const lines = [
    reason === alreadySaid ? `${label}: ${rollout.status}` : `${label}: ${rollout.status}: ${reason}`,
  ];
  if (rollout.rolloutStateReason) lines.push(`  ECS says: ${clip(rollout.rolloutStateReason, 300)}`);
  for (const task of rollout.stoppedTasks.slice(0, MAX_STOPPED_TASKS)) {
    const containers = task.containers
      .filter((container) => container.exitCode !== undefined || container.reason)
      .map((container) => {
        const why = [
          container.exitCode !== undefined && `exit ${container.exitCode}`,
          container.reason && clip(container.reason, 150),
        ].filter(Boolean);
        return `${container.name}: ${why.join(', ')}`;
      });
    const suffix = containers.length > 0 ? ` (${containers.join('; ')})` : '';
    lines.push(`  stopped task: ${clip(task.stoppedReason, 200)}${suffix}`);
  }
  return lines;
}

function smokeLines(state: State): string[] {
  const smoke = state.smoke;
  if (!smoke) return [];
  const failed = smoke.checks.filter((check) => check.status === 'FAIL');
  const skipped = smoke.checks
    .filter((check) => check.status === 'SKIP')
    .map((check) => `  SKIP ${check.name}${check.reason ? ` - ${clip(check.reason, 200)}` : ''}`);
  if (failed.length === 0) {
    const passed = smoke.checks.length - skipped.length;
    return [
      `Smoke checks: ${passed} passed${skipped.length > 0 ? `, ${skipped.length} skipped:` : '.'}`,
      ...skipped,
    ];
  }
  return [
    `Smoke checks: ${failed.length} of ${smoke.checks.length} failed:`,
    ...listed(failed, (check) =>
      [
        `  FAIL ${check.name} ${check.url}`,
        check.httpStatus !== undefined && `HTTP ${check.httpStatus}`,
        check.reason && clip(check.reason, 200),
      ]
        .filter(Boolean)
        .join(' - '),
    ),
  ];
}

function reasonLine(outcome: Outcome, state: State): string | undefined {
  if (state.error) return describeStateError(state.error);
  if (outcome === Outcome.blocked && state.approval && state.approval.decision !== 'approved') {
    return clip(describeDecision(state.approval));
  }
  if (outcome === Outcome.blocked && state.diffGate) return clip(state.diffGate.message);
  const failedRollout = [state.rollbackRollout, state.rollout].find(
    (rollout) => rollout && rollout.status !== 'COMPLETED',
  );
  if (failedRollout) return clip(failedRollout.reason);
  if (state.smoke && !state.smoke.passed) return 'The live service did not pass its smoke checks.';
  if (state.request?.failureReason) return clip(state.request.failureReason);
  return undefined;
}

function field(label: string, value: string | undefined): string[] {
  return value === undefined ? [] : [`${`${label}:`.padEnd(19)}${value}`];
}

/** The subject, body and attributes of the one notification an execution ends with. */
export function composeNotification(input: NotificationInput): Notification {
  if (isInfrastructureState(input.state)) {
    const infrastructure = composeInfrastructureMessage(input.outcome, input.state, input.releaseApprovals);
    if (infrastructure) {
      const environment = (input.state as { request: { environment: string } }).request.environment;
      return {
        subject: toSubject(`[${input.displayName} ${environment}] ${infrastructure.headline}`),
        message: [
          ...infrastructure.lines,
          ...field('Duration', durationLine(input, readState(input.state))),
          '',
          `Execution: ${executionConsoleUrl(input.executionId, input.region)}`,
        ].join('\n'),
        attributes: { outcome: input.outcome, environment },
      };
    }
  }
  const state = readState(input.state);
  const about = subjectOf(state, input.knownEnvironments);
  const { request, rollback } = state;
  const environmentLabel = about.environment
    ? `${input.displayName} ${about.environment}`
    : input.displayName;
  const images = state.verification?.images.length ? state.verification.images : (request?.images ?? []);

  const reason = reasonLine(input.outcome, state);
  const lines = [
    opening(input.outcome, about, state),
    '',
    ...field('Outcome', input.outcome),
    ...field(
      'Environment',
      request
        ? `${request.environment} (service ${request.serviceName}, cluster ${request.clusterName})`
        : (about.environment ??
            (state.environment !== undefined
              ? `unknown: ${JSON.stringify(clip(state.environment, 60))}`
              : undefined)),
    ),
    ...field('Version', about.version),
    ...(images.length > 0 ? ['Images:', ...images.map(imageLine)] : []),
    ...field('Task definition', taskDefinitionLine(input.outcome, state)),
    ...field('Duration', durationLine(input, state)),
    ...field(
      'Requested by',
      request ? `${request.requestedBy} (trigger: ${request.trigger})` : state.requestedBy,
    ),
    ...field('Failed deployment', request?.failedDeploymentId),
    ...field('Approval', state.approval ? clip(describeDecision(state.approval), 400) : undefined),
    '',
    ...field('Reason', reason),
    ...diffGateLines(state),
    ...verificationLines(state),
    ...rolloutLines('Rollout', state.rollout, reason),
    ...smokeLines(state),
    ...(rollback ? [`Rollback: ${rollback.action}: ${clip(rollback.reason)}`] : []),
    ...rolloutLines('Rollback rollout', state.rollbackRollout, reason),
    '',
    `Execution: ${executionConsoleUrl(input.executionId, input.region)}`,
  ];
  return {
    subject: toSubject(`[${environmentLabel}] ${headline(input.outcome, about)}`),
    message: lines.join('\n').replace(/\n{3,}/g, '\n\n'),
    attributes: { outcome: input.outcome, environment: about.environment ?? 'unknown' },
  };
}

const MAX_REASONS = 8;
const MAX_REASON_LENGTH = 300;

/**
 * The outcome's reasons in a few short lines for the deployment ledger: the notification's Reason
 * line and the findings, checks and steps behind it. Read through the same schema as the message,
 * so nothing a step did not mean for a person (a secret check's details) is kept.
 */
export function outcomeReasons(outcome: Outcome, rawState: unknown): string[] {
  if (isInfrastructureState(rawState)) return infrastructureReasons(outcome, rawState).slice(0, MAX_REASONS);
  const state = readState(rawState);
  const reason = reasonLine(outcome, state);
  const { diffGate, verification, smoke, rollback, approval } = state;
  const approvalLine = approval ? describeDecision(approval) : undefined;
  const reasons = [
    ...(reason ? [reason] : []),
    // The approval is the audit's first question: who let it through (or stopped it), and why.
    ...(approvalLine && approvalLine !== reason ? [approvalLine] : []),
    ...(diffGate?.skipped
      ? [`diff gate skipped: ${diffGate.skipReason ?? state.request?.skipReason ?? 'no reason given'}`]
      : []),
    ...(diffGate?.blocking ?? []).map(
      (finding) =>
        `blocking ${finding.resourceType} ${finding.logicalId} (${finding.change}): ${finding.reason}`,
    ),
    ...(verification?.checks ?? [])
      .filter((check) => check.status !== 'OK')
      .map((check) => `${check.status} ${check.kind} ${check.subject}`),
    ...(smoke?.checks ?? [])
      .filter((check) => check.status === 'FAIL')
      .map(
        (check) =>
          `smoke ${check.name} failed` +
          (check.httpStatus !== undefined ? ` (HTTP ${check.httpStatus})` : '') +
          (check.reason ? `: ${check.reason}` : ''),
      ),
    ...(rollback ? [`rollback ${rollback.action}: ${rollback.reason}`] : []),
  ];
  return reasons.slice(0, MAX_REASONS).map((text) => clip(text, MAX_REASON_LENGTH));
}
