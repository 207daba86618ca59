/**
 * Rollback: returns the service to its last good revision and names the deployment to watch. When
 * ECS (or an earlier attempt of this step) is already on the way back, it starts nothing and
 * watches that deployment. It refuses, with `RollbackFailed`, to "return" to a revision that was
 * never the last good one.
 */
import { describeAwsError, wasRefused } from '../domain/aws-error-kind';
import { deadlineAfter } from '../domain/deadline';
import { environmentOfRequest } from '../domain/environment-lookup';
import { RollbackFailed, TransientAwsError } from '../domain/errors';
import { describeRollbackCause, planRollback } from '../domain/rollback-plan';
import { primaryDeployment } from '../domain/task-definition';
import type {
  DeploymentRequest,
  RollbackResult,
  RolloutJudgement,
  SmokeResult,
  StateError,
  UpdateResult,
} from '../domain/workflow-state';
import { describeService, updateServiceRevision } from '../aws/ecs-deploy';
import { getLive, getRegistrationRecord, ledgerTable, recentDeployments } from '../aws/ledger';
import { deploymentRecordKeyOf, previousVerifiedRevision } from '../domain/ledger';
import { lambdaEntry, type HandlerDeps } from './runtime';

/** The whole workflow state (`$`) as the Rollback state receives it. */
export interface RollbackState {
  readonly request: DeploymentRequest;
  readonly update?: UpdateResult;
  readonly rollout?: RolloutJudgement;
  readonly smoke?: SmokeResult;
  readonly error?: StateError;
}

export interface RollbackEvent {
  readonly executionId: string;
  readonly state: RollbackState;
}

/** A read the rollback cannot do without: a refusal ends the rollback with what to do by hand. */
async function mustRead<T>(what: string, request: DeploymentRequest, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (wasRefused(error)) {
      throw new RollbackFailed(
        `${what} failed (${describeAwsError(error)}), so the rollback of ${request.serviceName} cannot be planned. ` +
          `Roll back by hand: \`aws ecs update-service --cluster ${request.clusterName} --service ${request.serviceName} ` +
          '--task-definition <last good revision> --force-new-deployment`.',
        { cause: error },
      );
    }
    throw error;
  }
}

/** A rollback a person asked for (`afu9-deploy rollback`), not one an ECS failure event started. */
function isManualRollback(request: DeploymentRequest): boolean {
  return request.kind === 'rollback' && !request.failedDeploymentId;
}

/**
 * What the deployment ledger names as the last known good revision. After an ECS failure event, the
 * live pointer: the revision the last verified deployment or rollback left. For a manual rollback, the
 * newest verified revision other than the one running now. Only asked when no update was recorded.
 * An unreadable ledger never stops a rollback: the service's own deployments still name a target.
 */
async function lastVerifiedRevision(
  deps: HandlerDeps,
  request: DeploymentRequest,
  leaving: string | undefined,
): Promise<string | undefined> {
  try {
    const table = ledgerTable(deps.settings);
    if (isManualRollback(request)) {
      // The running revision may well be the live one: the person wants the verified one before it.
      return previousVerifiedRevision(
        await recentDeployments(deps.clients, table, request.environment),
        leaving,
      );
    }
    const live = await getLive(deps.clients, table, request.environment);
    return live?.taskDefinitionArn;
  } catch (error) {
    deps.logger.warn('the deployment ledger could not be read; planning from the service alone', {
      error: describeAwsError(error),
    });
    return undefined;
  }
}

export function createRollbackHandler(deps: HandlerDeps) {
  return async (event: RollbackEvent): Promise<RollbackResult> => {
    deps.logger.resetKeys();
    deps.logger.appendKeys({ executionId: event.executionId });
    const { state, executionId } = event;
    const { request, update } = state;
    const environment = environmentOfRequest(deps.environments, request.environment);
    const cause = describeRollbackCause(state);
    deps.logger.info('rollback requested', {
      cause,
      failedDeploymentId: update?.deploymentId ?? request.failedDeploymentId,
    });

    const service = await mustRead(`Reading service ${request.serviceName}`, request, () =>
      describeService(deps.clients, request.clusterName, request.serviceName),
    );
    if (!service || service.status !== 'ACTIVE') {
      throw new RollbackFailed(
        `Service ${request.serviceName} in cluster ${request.clusterName} is ${service?.status ?? 'not found'}, so there is ` +
          'nothing to roll back. Restore it with the CDK ECS stack and deploy a known good image.',
      );
    }
    // Without $.update the update may still have gone through: the revision this execution recorded
    // in its deployment record (always before calling ECS UpdateService) is then the failing one.
    const ownRecord =
      !update && request.kind === 'deploy' ? deploymentRecordKeyOf(request, executionId) : undefined;
    const ownRegistration = ownRecord
      ? await mustRead('Reading the revision this execution recorded in its deployment record', request, () =>
          getRegistrationRecord(deps.clients, ledgerTable(deps.settings), ownRecord),
        )
      : undefined;
    const ownRevision = ownRegistration?.revision;

    // A manual rollback leaves the revision running now, whatever state it is in.
    const leaving = isManualRollback(request)
      ? primaryDeployment(service.deployments)?.taskDefinition
      : undefined;
    const lastKnownGood = update ? undefined : await lastVerifiedRevision(deps, request, leaving);
    const failingDeploymentId = update?.deploymentId ?? request.failedDeploymentId;
    const failingTaskDefinitionArn = update?.taskDefinitionArn ?? ownRevision?.taskDefinitionArn ?? leaving;
    const plan = planRollback({
      deployments: service.deployments,
      ...(update ? { recordedPreviousTaskDefinitionArn: update.previousTaskDefinitionArn } : {}),
      ...(failingTaskDefinitionArn ? { failingTaskDefinitionArn } : {}),
      ...(failingDeploymentId ? { failingDeploymentId } : {}),
      ...(lastKnownGood ? { lastKnownGoodTaskDefinitionArn: lastKnownGood } : {}),
      manual: isManualRollback(request),
    });
    const deadline = deadlineAfter(deps.now(), environment.rollout.timeoutSeconds);

    switch (plan.action) {
      case 'refuse':
        throw new RollbackFailed(`Rollback of ${request.serviceName} refused (${cause}): ${plan.reason}.`);
      case 'already-rolled-back':
        deps.logger.appendKeys({ deploymentId: plan.deploymentId });
        deps.logger.info('already rolled back; watching the deployment', { plan });
        return {
          action: 'already-rolled-back',
          fromTaskDefinitionArn: plan.fromTaskDefinitionArn,
          targetTaskDefinitionArn: plan.targetTaskDefinitionArn,
          deploymentId: plan.deploymentId,
          deadline,
          reason: `${cause}; ${plan.reason}`,
        };
      case 'start': {
        const updated = await updateServiceRevision(deps.clients, {
          cluster: request.clusterName,
          service: request.serviceName,
          taskDefinition: plan.targetTaskDefinitionArn,
          forceNewDeployment: true,
        });
        if (!updated.ok) {
          throw new RollbackFailed(
            `ECS refused to return ${request.serviceName} to ${plan.targetTaskDefinitionArn} (${describeAwsError(updated.cause)}); ` +
              `it still runs ${plan.fromTaskDefinitionArn}. Fix the cause named here and roll back by hand: ` +
              `\`aws ecs update-service --cluster ${request.clusterName} --service ${request.serviceName} ` +
              `--task-definition ${plan.targetTaskDefinitionArn} --force-new-deployment\`.`,
            { cause: updated.cause },
          );
        }
        const primary = primaryDeployment(updated.service.deployments);
        if (primary?.taskDefinition !== plan.targetTaskDefinitionArn) {
          throw new TransientAwsError(
            `ECS accepted the rollback of ${request.serviceName} to ${plan.targetTaskDefinitionArn} but its answer names no ` +
              'PRIMARY deployment on that revision. The workflow retries this step, which finds the deployment on the service.',
          );
        }
        deps.logger.appendKeys({ deploymentId: primary.id });
        deps.logger.info('rollback deployment started', { plan });
        return {
          action: 'started',
          fromTaskDefinitionArn: plan.fromTaskDefinitionArn,
          targetTaskDefinitionArn: plan.targetTaskDefinitionArn,
          deploymentId: primary.id,
          deadline,
          reason: `${cause}; ${plan.reason}`,
        };
      }
    }
  };
}

export const handler = lambdaEntry('rollback', createRollbackHandler);
