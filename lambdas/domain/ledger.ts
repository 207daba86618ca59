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
  readonly ecsDeploymentId?: string;
  /** Workflow slots the execution reached, in order (resolution, diffGate, ..., notification). */
  readonly statesReached: readonly string[];
  readonly outcome?: Outcome | 'in-progress';
  readonly reasons: readonly string[];
  readonly finishedAt?: string;
}

/** What is live in an environment: the revision the last verified deployment or rollback left. */
export interface LiveRecord {
  readonly environment: string;
  readonly taskDefinitionArn: string;
  readonly version: string;
  readonly deploymentId: string;
  readonly since: string;
}

/** The slots of the workflow state, in the order the states fill them. */
const SLOT_ORDER = [
  'resolution',
  'diffBuild',
  'diffGate',
  'verification',
  'update',
  'wake',
  'rollout',
  'smoke',
  'rollback',
  'rollbackRollout',
  'notification',
] as const;

export function statesReached(state: Readonly<Record<string, unknown>>): string[] {
  return SLOT_ORDER.filter((slot) => state[slot] !== undefined);
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
