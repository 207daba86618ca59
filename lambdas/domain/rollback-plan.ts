/**
 * Where a rollback goes, decided from the service's deployments alone. The target is the revision
 * the update recorded as the one running before it or, without that record, the last revision ECS
 * brought to COMPLETED. A rollback never "returns" to a revision that was not the last good one.
 */
import { primaryDeployment, type DeploymentSnapshot } from './task-definition';
import type { DeploymentRequest } from './workflow-state';

export interface RollbackContext {
  /** DescribeServices `deployments` of the service now. */
  readonly deployments: readonly DeploymentSnapshot[];
  /** `$.update.previousTaskDefinitionArn`, when the update got that far. */
  readonly recordedPreviousTaskDefinitionArn?: string;
  /** The revision that failed: `$.update.taskDefinitionArn`, or the revision this execution registered. */
  readonly failingTaskDefinitionArn?: string;
  /** The deployment that failed: `$.update.deploymentId` or the ECS event's deployment. */
  readonly failingDeploymentId?: string;
  /** What the deployment ledger says is live: the revision the last verified deployment or rollback left. */
  readonly lastKnownGoodTaskDefinitionArn?: string;
  /** A person asked to leave the running revision (no deployment failed). */
  readonly manual?: boolean;
}

export type RollbackPlan =
  | {
      /** The PRIMARY deployment is already on the target: watch it, start nothing. */
      readonly action: 'already-rolled-back';
      readonly fromTaskDefinitionArn: string;
      readonly targetTaskDefinitionArn: string;
      readonly deploymentId: string;
      readonly reason: string;
    }
  | {
      /** Start a deployment of the target (UpdateService, forceNewDeployment). */
      readonly action: 'start';
      readonly fromTaskDefinitionArn: string;
      readonly targetTaskDefinitionArn: string;
      readonly reason: string;
    }
  | { readonly action: 'refuse'; readonly reason: string };

function newestFirst(a: DeploymentSnapshot, b: DeploymentSnapshot): number {
  return (b.createdAt ?? '').localeCompare(a.createdAt ?? '');
}

interface Target {
  readonly taskDefinitionArn: string;
  readonly why: string;
}

function lastGoodTarget(
  deployments: readonly DeploymentSnapshot[],
  primary: DeploymentSnapshot,
  failingTaskDefinition: string | undefined,
  failingDeploymentId: string | undefined,
): Target | undefined {
  const notFailing = (deployment: DeploymentSnapshot) =>
    deployment.id !== failingDeploymentId && deployment.taskDefinition !== failingTaskDefinition;
  if (primary.rolloutState === 'COMPLETED' && notFailing(primary)) {
    return {
      taskDefinitionArn: primary.taskDefinition,
      why: `the PRIMARY deployment ${primary.id} on it is COMPLETED`,
    };
  }
  const completed = deployments
    .filter((deployment) => deployment.status === 'ACTIVE' && deployment.rolloutState === 'COMPLETED')
    .filter(notFailing)
    .sort(newestFirst)[0];
  if (completed) {
    return {
      taskDefinitionArn: completed.taskDefinition,
      why: `deployment ${completed.id} on it was the last to reach COMPLETED`,
    };
  }
  // ECS's circuit breaker rolls back to the last COMPLETED deployment by starting a new PRIMARY
  // on its revision; the failed deployment then stays behind as ACTIVE (or is gone).
  const failureKnown = failingDeploymentId !== undefined || failingTaskDefinition !== undefined;
  if (failureKnown && notFailing(primary) && primary.rolloutState !== 'FAILED') {
    return {
      taskDefinitionArn: primary.taskDefinition,
      why: `ECS already started deployment ${primary.id} back to it after the failure`,
    };
  }
  return undefined;
}

export function planRollback(context: RollbackContext): RollbackPlan {
  const primary = primaryDeployment(context.deployments);
  if (!primary) {
    return {
      action: 'refuse',
      reason:
        'the service has no PRIMARY deployment, so there is nothing to return it to: check that the service ' +
        'still exists (`aws ecs describe-services`) and deploy a known good image by hand',
    };
  }
  const failingTaskDefinition =
    context.failingTaskDefinitionArn ??
    context.deployments.find((deployment) => deployment.id === context.failingDeploymentId)?.taskDefinition;

  const ledgerTarget =
    context.lastKnownGoodTaskDefinitionArn && context.lastKnownGoodTaskDefinitionArn !== failingTaskDefinition
      ? context.lastKnownGoodTaskDefinitionArn
      : undefined;
  const target: Target | undefined = context.recordedPreviousTaskDefinitionArn
    ? {
        taskDefinitionArn: context.recordedPreviousTaskDefinitionArn,
        why: 'the update recorded it as running before',
      }
    : ledgerTarget
      ? {
          taskDefinitionArn: ledgerTarget,
          why: 'the deployment ledger records it as the last verified revision',
        }
      : lastGoodTarget(context.deployments, primary, failingTaskDefinition, context.failingDeploymentId);

  if (!target && context.manual) {
    return {
      action: 'refuse',
      reason:
        `the deployment ledger records no verified revision before the running one (${primary.taskDefinition}) and ` +
        'the service has no other COMPLETED deployment, so there is nothing known to be good to return to: deploy ' +
        'the image you want with `afu9-deploy start --env <env> --image-tag <tag> --redeploy` instead',
    };
  }
  if (!target) {
    return {
      action: 'refuse',
      reason:
        `no deployment of the service reached COMPLETED apart from the failing one (${describeDeployments(context.deployments)}), ` +
        'so no revision is known to be good: deploy a known good image with a new deployment instead of a rollback',
    };
  }
  if (target.taskDefinitionArn === failingTaskDefinition) {
    return {
      action: 'refuse',
      reason:
        `the rollback target ${target.taskDefinitionArn} is the failing revision itself, so returning to it would change nothing: ` +
        'deploy a known good image with a new deployment instead',
    };
  }
  const fromTaskDefinitionArn = failingTaskDefinition ?? primary.taskDefinition;
  if (primary.taskDefinition === target.taskDefinitionArn) {
    return {
      action: 'already-rolled-back',
      fromTaskDefinitionArn,
      targetTaskDefinitionArn: target.taskDefinitionArn,
      deploymentId: primary.id,
      reason:
        `the service's PRIMARY deployment ${primary.id} is already on ${target.taskDefinitionArn} (${target.why}); ` +
        'watching it instead of starting another deployment',
    };
  }
  return {
    action: 'start',
    fromTaskDefinitionArn,
    targetTaskDefinitionArn: target.taskDefinitionArn,
    reason: `returning from ${primary.taskDefinition} to ${target.taskDefinitionArn}: ${target.why}`,
  };
}

function describeDeployments(deployments: readonly DeploymentSnapshot[]): string {
  if (!deployments.length) return 'no deployments';
  return deployments
    .map(
      (deployment) =>
        `${deployment.id} ${deployment.status} ${deployment.rolloutState ?? 'no rollout state'} on ${deployment.taskDefinition}`,
    )
    .join('; ');
}

/** The parts of the workflow state that say why a rollback is running. */
export interface RollbackCauseState {
  readonly request: {
    readonly kind: DeploymentRequest['kind'];
    readonly requestedBy: string;
    readonly failedDeploymentId?: string;
    readonly failureReason?: string;
  };
  readonly rollout?: { readonly status: string; readonly reason: string };
  readonly smoke?: {
    readonly passed: boolean;
    readonly checks: readonly { readonly name: string; readonly status: string }[];
  };
  readonly error?: { readonly Error: string; readonly Cause?: string };
}

/** Step Functions puts a Lambda error's JSON (`errorMessage`) in `Cause`; plain text otherwise. */
function causeText(cause: string | undefined): string | undefined {
  if (!cause) return undefined;
  try {
    const parsed: unknown = JSON.parse(cause);
    const message = (parsed as { errorMessage?: unknown }).errorMessage;
    if (typeof message === 'string') return message;
  } catch {
    // Not JSON: the cause is already text.
  }
  return cause;
}

/** One sentence on why this rollback runs, for the result and the notification. */
export function describeRollbackCause(state: RollbackCauseState): string {
  if (state.request.kind === 'rollback') {
    return state.request.failedDeploymentId
      ? `ECS deployment ${state.request.failedDeploymentId} failed${state.request.failureReason ? ` (${state.request.failureReason})` : ''}`
      : `rollback requested by ${state.request.requestedBy}`;
  }
  if (state.error) {
    const cause = causeText(state.error.Cause);
    return `${state.error.Error}${cause ? `: ${cause.slice(0, 300)}` : ''}`;
  }
  if (state.smoke && !state.smoke.passed) {
    const failed = state.smoke.checks.filter((check) => check.status === 'FAIL').map((check) => check.name);
    return `the smoke test failed (${failed.join(', ') || 'no check passed'})`;
  }
  if (state.rollout && state.rollout.status !== 'COMPLETED') {
    return `the rollout ended ${state.rollout.status}: ${state.rollout.reason}`;
  }
  return 'the deployment did not finish';
}
