/**
 * UpdateService: registers the next revision (the running one with only the deployed images
 * changed, pinned by digest) and points the service at it. Refuses while another deployment is
 * rolling out. A retry of the same execution finds the revision it registered by its tag and the
 * deployment it started, so it never registers twice or starts a second deployment.
 *
 * It throws `UpdateFailed` / `DeploymentInProgress` only when the service was certainly not
 * changed; any other failure propagates so the workflow rolls back.
 */
import { describeAwsError, wasRefused } from '../domain/aws-error-kind';
import { deadlineAfter } from '../domain/deadline';
import { environmentOfRequest } from '../domain/environment-lookup';
import { DeploymentInProgress, TransientAwsError, UpdateFailed } from '../domain/errors';
import {
  RevisionTag,
  judgeDeploymentInProgress,
  nextRevision,
  primaryDeployment,
  revisionTags,
  tagValue,
  type DeploymentSnapshot,
  type ResourceTag,
} from '../domain/task-definition';
import type { DeploymentRequest, ImageRef, UpdateResult } from '../domain/workflow-state';
import {
  describeService,
  describeTaskDefinition,
  findRevisionOfExecution,
  registerTaskDefinition,
  updateServiceRevision,
  type ServiceSnapshot,
} from '../aws/ecs-deploy';
import { lambdaEntry, type HandlerDeps } from './runtime';

export interface UpdateServiceEvent {
  readonly executionId: string;
  readonly request: DeploymentRequest;
  /** `$.verification.images`: every image pinned by digest. */
  readonly images: readonly ImageRef[];
}

/** Reading before any change: a refusal here proves the service is untouched. */
async function beforeChange<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (wasRefused(error)) {
      throw new UpdateFailed(
        `${what} failed (${describeAwsError(error)}); the service was not changed. ` +
          "Check the cluster and service exist and the orchestrator's role may read them, then deploy again.",
        { cause: error },
      );
    }
    throw error;
  }
}

async function readActiveService(deps: HandlerDeps, request: DeploymentRequest): Promise<ServiceSnapshot> {
  const service = await beforeChange(`Reading service ${request.serviceName}`, () =>
    describeService(deps.clients, request.clusterName, request.serviceName),
  );
  if (!service || service.status !== 'ACTIVE') {
    throw new UpdateFailed(
      `Service ${request.serviceName} in cluster ${request.clusterName} is ${service?.status ?? 'not found'}; ` +
        'nothing was changed. Create or restore it (the CDK ECS stack) before deploying.',
    );
  }
  return service;
}

function refuseIfInProgress(service: ServiceSnapshot, request: DeploymentRequest): void {
  const judgement = judgeDeploymentInProgress(service.deployments);
  if (!judgement.inProgress) return;
  const { deployment, why } = judgement;
  throw new DeploymentInProgress(
    `Deployment ${deployment.id} of ${request.serviceName} (task definition ${deployment.taskDefinition}) ` +
      `is still in progress since ${deployment.createdAt ?? 'an unknown time'}: ${why}. Nothing was changed. ` +
      `Wait for it to finish (\`aws ecs describe-services --cluster ${request.clusterName} --services ${request.serviceName}\`) ` +
      `or stop it (\`aws ecs list-service-deployments --cluster ${request.clusterName} --service ${request.serviceName}\`, then ` +
      '`aws ecs stop-service-deployment --service-deployment-arn <arn>`), then deploy again.',
  );
}

/**
 * The revision the resumed deployment replaced: the tag written with the revision, else the older
 * deployment still draining. Every revision this handler registers carries the tag, so the
 * fallbacks only guard a revision someone re-tagged by hand.
 */
function recordedPrevious(
  tags: readonly ResourceTag[],
  service: ServiceSnapshot,
  resumed: DeploymentSnapshot,
): string {
  const previous =
    tagValue(tags, RevisionTag.previousTaskDefinition) ??
    service.deployments.find((deployment) => deployment !== resumed)?.taskDefinition;
  if (!previous) {
    // Not an UpdateFailed: the service was changed. The workflow's Rollback reads the service itself.
    throw new Error(
      `Deployment ${resumed.id} of this execution is running, but the revision it replaced is recorded nowhere ` +
        `(no ${RevisionTag.previousTaskDefinition} tag, no older deployment); the rollback target must come from the service.`,
    );
  }
  return previous;
}

function deploymentOn(service: ServiceSnapshot, taskDefinitionArn: string): DeploymentSnapshot | undefined {
  const primary = primaryDeployment(service.deployments);
  return primary?.taskDefinition === taskDefinitionArn ? primary : undefined;
}

export function createUpdateServiceHandler(deps: HandlerDeps) {
  return async (event: UpdateServiceEvent): Promise<UpdateResult> => {
    deps.logger.resetKeys();
    deps.logger.appendKeys({ executionId: event.executionId });
    const { request, executionId } = event;
    const environment = environmentOfRequest(deps.environments, request.environment);
    const timeoutSeconds = environment.rollout.timeoutSeconds;

    const service = await readActiveService(deps, request);
    const ownRevision = await beforeChange(
      `Looking for a revision this execution registered in ${request.taskFamily}`,
      () => findRevisionOfExecution(deps.clients, request.taskFamily, executionId),
    );
    const resumed = ownRevision && deploymentOn(service, ownRevision.taskDefinitionArn);
    if (ownRevision && resumed) {
      deps.logger.appendKeys({ deploymentId: resumed.id });
      deps.logger.info('an earlier attempt already started this deployment; returning it', {
        taskDefinitionArn: ownRevision.taskDefinitionArn,
      });
      const startedAt = resumed.createdAt ? new Date(resumed.createdAt) : deps.now();
      return {
        previousTaskDefinitionArn: recordedPrevious(ownRevision.tags, service, resumed),
        taskDefinitionArn: ownRevision.taskDefinitionArn,
        deploymentId: resumed.id,
        startedAt: startedAt.toISOString(),
        deadline: deadlineAfter(startedAt, timeoutSeconds),
      };
    }

    refuseIfInProgress(service, request);
    const previousTaskDefinitionArn = service.taskDefinition;
    const taskDefinitionArn = ownRevision
      ? ownRevision.taskDefinitionArn
      : await registerNextRevision(deps, event, previousTaskDefinitionArn);
    if (ownRevision) {
      deps.logger.info('reusing the revision an earlier attempt registered', { taskDefinitionArn });
    }

    const updated = await updateServiceRevision(deps.clients, {
      cluster: request.clusterName,
      service: request.serviceName,
      taskDefinition: taskDefinitionArn,
    });
    if (!updated.ok) {
      throw new UpdateFailed(
        `ECS refused to update ${request.serviceName} to ${taskDefinitionArn} (${describeAwsError(updated.cause)}); ` +
          'the service was not changed and still runs ' +
          `${previousTaskDefinitionArn}. Fix the cause named here, then deploy again.`,
        { cause: updated.cause },
      );
    }
    const startedAt = deps.now();
    const deployment = deploymentOn(updated.service, taskDefinitionArn);
    if (!deployment) {
      throw new TransientAwsError(
        `ECS accepted the update of ${request.serviceName} to ${taskDefinitionArn} but its answer names no PRIMARY ` +
          'deployment on that revision. The workflow retries this step, which reads the service again and picks the deployment up.',
      );
    }
    deps.logger.appendKeys({ deploymentId: deployment.id });
    deps.logger.info('service update started', { previousTaskDefinitionArn, taskDefinitionArn });
    return {
      previousTaskDefinitionArn,
      taskDefinitionArn,
      deploymentId: deployment.id,
      startedAt: startedAt.toISOString(),
      deadline: deadlineAfter(startedAt, timeoutSeconds),
    };
  };
}

async function registerNextRevision(
  deps: HandlerDeps,
  event: UpdateServiceEvent,
  runningTaskDefinitionArn: string,
): Promise<string> {
  const { request } = event;
  const running = await beforeChange(`Reading the running task definition ${runningTaskDefinitionArn}`, () =>
    describeTaskDefinition(deps.clients, runningTaskDefinitionArn),
  );
  const plan = nextRevision(
    running.taskDefinition,
    event.images,
    revisionTags({
      executionId: event.executionId,
      deploymentKey: request.deploymentKey,
      previousTaskDefinitionArn: runningTaskDefinitionArn,
    }),
  );
  if (!plan.ok) {
    throw new UpdateFailed(
      `Cannot build the next revision of ${request.taskFamily}; the service was not changed:\n` +
        plan.problems.map((problem) => `- ${problem}`).join('\n'),
    );
  }
  const registered = await registerTaskDefinition(deps.clients, {
    ...plan.input,
    family: running.taskDefinition.family,
    containerDefinitions: plan.input.containerDefinitions ?? [],
  });
  if (!registered.ok) {
    throw new UpdateFailed(
      `ECS refused to register the next revision of ${request.taskFamily} (${describeAwsError(registered.cause)}); ` +
        'the service was not changed. Fix the cause named here, then deploy again.',
      { cause: registered.cause },
    );
  }
  deps.logger.info('registered the next revision', { taskDefinitionArn: registered.taskDefinitionArn });
  return registered.taskDefinitionArn;
}

export const handler = lambdaEntry('update-service', createUpdateServiceHandler);
