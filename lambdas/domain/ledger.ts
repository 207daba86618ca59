/**
 * The deployment ledger's decisions: what one deployment's record says, when it may be forgotten,
 * and who holds a service. Pure: the adapter in `lambdas/aws/ledger.ts` stores what these return.
 *
 * Items (one table, `pk` + `sk`):
 *   ENV#<env>            DEPLOYMENT#<startedAt>#<id>   one record per deployment, newest last
 *   ENV#<env>            LIVE                          what is live: the last verified revision
 *   IMAGE#<env>#<digest> CLAIM                         the execution that deploys this image (exactly once)
 *   LOCK#<env>           LOCK                          the execution deploying the service now (one at a time)
 */
import { z } from 'zod';
import { outcomeReasons } from './notification';
import type { DeploymentRequest, Outcome } from './workflow-state';

/** Default retention of deployment records: a 13-month audit year plus a margin. */
export const DEFAULT_LEDGER_RETENTION_DAYS = 400;

export function ledgerExpiry(now: Date, retentionDays: number): number {
  if (!Number.isInteger(retentionDays) || retentionDays < 1) {
    throw new RangeError(
      `Ledger retention must be a whole number of days, at least 1. Received: ${retentionDays}`,
    );
  }
  return Math.floor(now.getTime() / 1000) + retentionDays * 24 * 3600;
}

export const LedgerKeys = {
  deployment: (environment: string, startedAt: string, deploymentId: string) => ({
    pk: `ENV#${environment}`,
    sk: `DEPLOYMENT#${startedAt}#${deploymentId}`,
  }),
  deploymentPrefix: 'DEPLOYMENT#',
  /** A deployment record by the sort key an image claim keeps (`recordSk`). */
  deploymentBySk: (environment: string, sk: string) => ({ pk: `ENV#${environment}`, sk }),
  live: (environment: string) => ({ pk: `ENV#${environment}`, sk: 'LIVE' }),
  imageClaim: (environment: string, imageKey: string) => ({
    pk: `IMAGE#${environment}#${imageKey}`,
    sk: 'CLAIM',
  }),
  lock: (environment: string) => ({ pk: `LOCK#${environment}`, sk: 'LOCK' }),
} as const;

/** One deployment as the ledger keeps it. */
export interface DeploymentRecord {
  /** The execution name: unique per deployment. */
  readonly deploymentId: string;
  readonly executionId: string;
  readonly environment: string;
  readonly serviceName: string;
  readonly kind: DeploymentRequest['kind'];
  readonly trigger: DeploymentRequest['trigger'];
  readonly requestedBy: string;
  readonly images: readonly { container: string; repository: string; tag?: string; digest?: string }[];
  readonly version: string;
  readonly startedAt: string;
  readonly taskDefinitionBefore?: string;
  readonly taskDefinitionAfter?: string;
  /** The revision this execution registered, recorded before it asked ECS to run it. */
  readonly registeredRevision?: RegisteredRevision;
  readonly ecsDeploymentId?: string;
  /** Workflow slots the execution reached, in order (resolution, diffGate, ..., notification). */
  readonly statesReached: readonly string[];
  readonly outcome?: Outcome | 'in-progress';
  readonly reasons: readonly string[];
  readonly finishedAt?: string;
}

/** The record ResolveRequest opens for an accepted request: in progress, at its first slot. */
export function openedDeploymentRecord(
  request: DeploymentRequest,
  ids: { readonly deploymentId: string; readonly executionId: string; readonly startedAt: string },
): DeploymentRecord {
  return {
    ...ids,
    environment: request.environment,
    serviceName: request.serviceName,
    kind: request.kind,
    trigger: request.trigger,
    requestedBy: request.requestedBy,
    images: request.images,
    version: request.version,
    statesReached: ['resolution'],
    outcome: 'in-progress',
    reasons: request.failureReason ? [request.failureReason] : [],
  };
}

/**
 * The revision an execution registered and the one the service ran then. UpdateService writes it
 * once, before it calls ECS UpdateService, so every retry of the step (and the rollback) knows
 * exactly which revision this execution deploys: no search through the task family.
 */
export interface RegisteredRevision {
  readonly taskDefinitionArn: string;
  readonly previousTaskDefinitionArn: string;
  readonly registeredAt: string;
}

/**
 * What is live in an environment: the revision the last verified deployment or completed rollback
 * left. It is the last known good revision: a deployment in progress or a failed rollback never
 * moves it.
 */
export interface LiveRecord {
  readonly environment: string;
  readonly taskDefinitionArn: string;
  /** The primary image's version, when known (a rollback to a revision the ledger never saw has none). */
  readonly version?: string;
  /** The execution name that proved it. */
  readonly deploymentId: string;
  /** What proved it: a verified deployment or a completed rollback. */
  readonly provedBy?: 'succeeded' | 'rolled-back';
  readonly since: string;
}

/** The slots of the workflow state, in the order the states fill them. */
const SLOT_ORDER = [
  'resolution',
  'diffBuild',
  'diffGate',
  'approval',
  'verification',
  'update',
  'wake',
  'rollout',
  'smoke',
  'rollback',
  'rollbackWake',
  'rollbackRollout',
  'notification',
] as const;

export function statesReached(state: Readonly<Record<string, unknown>>): string[] {
  return SLOT_ORDER.filter((slot) => state[slot] !== undefined);
}

/** The execution name at the end of an execution ARN: the deployment's id in the ledger. */
export function deploymentIdOf(executionArn: string): string {
  return executionArn.slice(executionArn.lastIndexOf(':') + 1);
}

/**
 * The key of the deployment record ResolveRequest wrote for this execution, or undefined when the
 * request carries no `startedAt` (it was accepted by a release that did not write records).
 */
export function deploymentRecordKeyOf(
  request: Pick<DeploymentRequest, 'environment' | 'startedAt'>,
  executionId: string,
): { environment: string; startedAt: string; deploymentId: string } | undefined {
  if (request.startedAt === undefined) return undefined;
  return {
    environment: request.environment,
    startedAt: request.startedAt,
    deploymentId: deploymentIdOf(executionId),
  };
}

/** The image key an exactly-once claim is made on: the primary image's digest, else its tag. */
export function imageClaimKey(request: Pick<DeploymentRequest, 'deploymentKey'>): string {
  return request.deploymentKey.replace(/^[^#]*#/, '');
}

/**
 * Which revision is live after an outcome, if the outcome proves one: a verified deployment makes its
 * new revision live; a completed rollback makes its target live. Other outcomes prove nothing new.
 */
export function liveAfter(
  outcome: Outcome,
  update: { taskDefinitionArn?: string } | undefined,
  rollback: { targetTaskDefinitionArn?: string } | undefined,
): string | undefined {
  if (outcome === 'succeeded') return update?.taskDefinitionArn;
  if (outcome === 'rolled-back') return rollback?.targetTaskDefinitionArn;
  return undefined;
}

/**
 * For a rollback a person asks for: the newest revision a deployment or rollback proved good that is
 * not the one running now (`records` newest first, as the ledger lists them). An infrastructure release
 * that stopped at a later stack (`stack-failed`, or held for approval: `blocked`) still proved the ECS
 * deployment an earlier stack started; only then does its record carry `taskDefinitionAfter`.
 */
export function previousVerifiedRevision(
  records: readonly Pick<DeploymentRecord, 'outcome' | 'taskDefinitionAfter'>[],
  current: string | undefined,
): string | undefined {
  const proves: ReadonlySet<DeploymentRecord['outcome']> = new Set([
    'succeeded',
    'rolled-back',
    'stack-failed',
    'blocked',
  ]);
  return records.find(
    (record) =>
      proves.has(record.outcome) &&
      record.taskDefinitionAfter !== undefined &&
      record.taskDefinitionAfter !== current,
  )?.taskDefinitionAfter;
}

/** Who holds a service, and whether a new request may take it. */
export interface LockHolder {
  readonly executionId: string;
  readonly acquiredAt: string;
}

export type LockDecision =
  | { readonly action: 'acquire' }
  | { readonly action: 'already-held' }
  | { readonly action: 'take-over'; readonly from: LockHolder }
  | { readonly action: 'refuse'; readonly holder: LockHolder };

/**
 * A lock is released only when its holder is no longer running (never after a blind timeout that
 * could cut a live deployment short). `holderRunning` is undefined when there is no holder.
 */
export function decideLock(
  me: string,
  holder: LockHolder | undefined,
  holderRunning: boolean | undefined,
): LockDecision {
  if (!holder) return { action: 'acquire' };
  if (holder.executionId === me) return { action: 'already-held' };
  if (holderRunning === false) return { action: 'take-over', from: holder };
  return { action: 'refuse', holder };
}

/** What a message needs to tell a person how to send a request again. */
export interface RestartContext {
  /** The environment's primary container: `afu9-deploy start` names its image with --image-tag/--image-digest. */
  readonly primaryContainer: string;
  readonly requiresAllowFlag: boolean;
}

/**
 * The `afu9-deploy` command that sends this request again; for images the CLI cannot name (no
 * primary image), the start input to send instead.
 */
export function restartCommand(
  request: Pick<DeploymentRequest, 'kind' | 'environment' | 'images'>,
  context: RestartContext,
  redeploy: boolean,
): string {
  const allow = context.requiresAllowFlag ? ' --allow-production' : '';
  if (request.kind === 'rollback') {
    return `\`afu9-deploy rollback --env ${request.environment}${allow} --reason "<why>"\``;
  }
  const [first, ...others] = request.images;
  if (first?.container === context.primaryContainer) {
    const primary = first.tag ? `--image-tag ${first.tag}` : `--image-digest ${first.digest ?? ''}`;
    const extra = others.map((image) => ` --image ${image.container}=${image.digest ?? image.tag ?? ''}`);
    return `\`afu9-deploy start --env ${request.environment} ${primary}${extra.join('')}${allow}${redeploy ? ' --redeploy' : ''}\``;
  }
  const input = {
    environment: request.environment,
    images: Object.fromEntries(
      request.images.map((image) => [image.container, [image.tag, image.digest].filter(Boolean).join('@')]),
    ),
    ...(context.requiresAllowFlag && { allowProduction: true }),
    ...(redeploy && { redeploy: true }),
  };
  return `a start-execution with the input ${JSON.stringify(input)}`;
}

/** Why a trigger for an image that another execution has claimed deploys nothing. */
export function duplicateReason(
  request: Pick<DeploymentRequest, 'kind' | 'environment' | 'images'>,
  imageKey: string,
  holder: { readonly executionId: string; readonly claimedAt: string },
  context: RestartContext,
): string {
  return (
    `Image ${imageKey} for ${request.environment} was already claimed by execution ${deploymentIdOf(holder.executionId)} ` +
    `at ${holder.claimedAt}: this trigger is a duplicate and deploys nothing. To deploy the image again on purpose, ` +
    `send it with "redeploy": true (${restartCommand(request, context, true)}). What happened to it: ` +
    `\`afu9-deploy history --env ${request.environment} --image ${imageKey}\`.`
  );
}

/** Why a request was refused while another execution deploys the service: who, since when, what to do. */
export function deploymentInProgressMessage(
  request: Pick<DeploymentRequest, 'kind' | 'environment' | 'images' | 'serviceName'>,
  holder: LockHolder,
  context: RestartContext,
): string {
  const running = deploymentIdOf(holder.executionId);
  return (
    `${request.serviceName} (${request.environment}) is being deployed by execution ${running} since ${holder.acquiredAt}. ` +
    `This ${request.kind} request was refused (not queued) and changed nothing. Wait until ${running} ends ` +
    `(\`afu9-deploy status ${running}\`), then send it again: ${restartCommand(request, context, false)}.`
  );
}

/** Why an ECS failure event starts no rollback while an execution deploys the service. */
export function failureOwnedByRunningExecution(
  request: Pick<DeploymentRequest, 'environment' | 'failedDeploymentId'>,
  holder: LockHolder,
): string {
  return (
    `ECS deployment ${request.failedDeploymentId ?? '(unknown)'} of ${request.environment} failed while execution ` +
    `${deploymentIdOf(holder.executionId)} deploys the service (since ${holder.acquiredAt}); that execution judges ` +
    'the service and rolls back itself, so this event starts no second rollback.'
  );
}

/** The few slots of the state the ledger reads at the end of an execution; one that does not fit is absent. */
const FinishingStateSchema = z.object({
  request: z
    .object({
      kind: z.enum(['deploy', 'rollback', 'infrastructure']),
      environment: z.string(),
      version: z.string(),
      startedAt: z.string().optional(),
    })
    .optional()
    .catch(undefined),
  update: z
    .object({
      previousTaskDefinitionArn: z.string(),
      taskDefinitionArn: z.string(),
      deploymentId: z.string(),
    })
    .optional()
    .catch(undefined),
  rollback: z
    .object({
      fromTaskDefinitionArn: z.string(),
      targetTaskDefinitionArn: z.string(),
      deploymentId: z.string(),
    })
    .optional()
    .catch(undefined),
  /**
   * An infrastructure release: the last ECS deployment a stack update started that was judged COMPLETED
   * and passed the smoke test (RecordStackDeployment); `{}` until one was.
   */
  verifiedDeployment: z
    .object({
      previousTaskDefinitionArn: z.string(),
      taskDefinitionArn: z.string(),
      deploymentId: z.string(),
    })
    .optional()
    .catch(undefined),
});

/** What the Notify step writes to the ledger for one finished execution. */
export interface LedgerEnding {
  readonly environment: string;
  /** The record to finish: present when ResolveRequest wrote one (the request carries its `startedAt`). */
  readonly record?: {
    readonly startedAt: string;
    readonly deploymentId: string;
    readonly fields: Pick<DeploymentRecord, 'outcome' | 'reasons' | 'statesReached' | 'finishedAt'> &
      Partial<Pick<DeploymentRecord, 'taskDefinitionBefore' | 'taskDefinitionAfter' | 'ecsDeploymentId'>>;
  };
  /** The revision the outcome proves live, when it proves one. */
  readonly live?: {
    readonly taskDefinitionArn: string;
    /** Known for a verified deployment; a rollback target's version comes from the previous live record. */
    readonly version?: string;
    readonly provedBy: 'succeeded' | 'rolled-back';
  };
}

/**
 * The ledger's side of an execution's end, or undefined when the state holds no request (a request
 * refused by ResolveRequest never took the service nor wrote a record).
 */
export function ledgerEnding(input: {
  readonly outcome: Outcome;
  readonly executionId: string;
  readonly state: unknown;
  readonly now: Date;
}): LedgerEnding | undefined {
  const parsed = FinishingStateSchema.safeParse(input.state);
  if (!parsed.success || !parsed.data.request) return undefined;
  const { request, rollback, verifiedDeployment } = parsed.data;
  // An infrastructure release's verified ECS deployment is recorded as an image release's own update.
  const update = parsed.data.update ?? verifiedDeployment;
  // Only an outcome that proves a revision says what runs afterwards; a failed rollback leaves it unknown.
  // A verified deployment a stack started stays proven when a later stack fails or waits for a person.
  const after =
    request.kind === 'infrastructure'
      ? verifiedDeployment?.taskDefinitionArn
      : liveAfter(input.outcome, update, rollback);
  const before = update?.previousTaskDefinitionArn ?? rollback?.fromTaskDefinitionArn;
  // The deployment this execution started first: its own, or for a rollback request the rollback's.
  const ecsDeploymentId = update?.deploymentId ?? rollback?.deploymentId;
  return {
    environment: request.environment,
    ...(request.startedAt !== undefined && {
      record: {
        startedAt: request.startedAt,
        deploymentId: deploymentIdOf(input.executionId),
        fields: {
          outcome: input.outcome,
          reasons: outcomeReasons(input.outcome, input.state),
          statesReached: statesReached(input.state as Readonly<Record<string, unknown>>),
          finishedAt: input.now.toISOString(),
          ...(before !== undefined && { taskDefinitionBefore: before }),
          ...(after !== undefined && { taskDefinitionAfter: after }),
          ...(ecsDeploymentId !== undefined && { ecsDeploymentId }),
        },
      },
    }),
    ...(after !== undefined && {
      live: {
        taskDefinitionArn: after,
        ...(input.outcome === 'succeeded' && request.kind === 'deploy' && { version: request.version }),
        provedBy: input.outcome === 'rolled-back' ? 'rolled-back' : 'succeeded',
      },
    }),
  };
}
