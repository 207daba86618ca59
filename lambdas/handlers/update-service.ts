/**
 * UpdateService: registers the next revision (the running one with only the deployed images
 * changed, pinned by digest, its tags kept) and points the service at it. Refuses while another
 * deployment is rolling out.
 *
 * Idempotent per execution: the registered revision is written to the execution's deployment
 * record BEFORE ECS UpdateService is called, and a retry reads it back (a consistent read of one
 * item), so it never registers a second revision for the update nor starts a second deployment,
 * however many revisions the family has.
 *
 * It throws `UpdateFailed` / `DeploymentInProgress` only when the service was certainly not
 * changed; any other failure propagates so the workflow rolls back.
 */
import { describeAwsError, transientOrOriginal, wasRefused } from '../domain/aws-error-kind';
import { deadlineAfter } from '../domain/deadline';
import { environmentOfRequest } from '../domain/environment-lookup';
import { DeploymentInProgress, TransientAwsError, UpdateFailed } from '../domain/errors';
import { deploymentRecordKeyOf, type RegisteredRevision } from '../domain/ledger';
import {
  judgeDeploymentInProgress,
  nextRevision,
  primaryDeployment,
  revisionTags,
  type DeploymentSnapshot,
} from '../domain/task-definition';
import type { DeploymentRequest, ImageRef, UpdateResult } from '../domain/workflow-state';
import {
  describeService,
  describeTaskDefinition,
  registerTaskDefinition,
  updateServiceRevision,
  type ServiceSnapshot,
} from '../aws/ecs-deploy';
import {
  getRegistrationRecord,
  ledgerTable,
  recordRegisteredRevision,
  type DeploymentRecordKey,
} from '../aws/ledger';
import { lambdaEntry, type HandlerDeps } from './runtime';

export interface UpdateServiceEvent {
  readonly executionId: string;
  readonly request: DeploymentRequest;
  /** `$.verification.images`: every image pinned by digest. */
  readonly images: readonly ImageRef[];
}

/** What to check when a call before any change is refused: the ECS resources, or the ledger table. */
const CHECK_SERVICE =
  "Check the cluster and service exist and the orchestrator's role may read them, then deploy again.";
const CHECK_LEDGER =
  "Check the orchestrator stack's ledger table exists and the update-service role may read and update its " +
  'items (dynamodb:GetItem, dynamodb:UpdateItem), then deploy again.';

/**
 * A call before any change: a refusal here proves the service is untouched; a transient failure
 * becomes `TransientAwsError`, which the workflow retries.
 */
async function beforeChange<T>(what: string, fix: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (caught) {
    const error = transientOrOriginal(caught, what);
    if (wasRefused(error)) {
      throw new UpdateFailed(
        `${what} failed (${describeAwsError(error)}); the service was not changed. ${fix}`,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
}

async function readActiveService(deps: HandlerDeps, request: DeploymentRequest): Promise<ServiceSnapshot> {
  const service = await beforeChange(`Reading service ${request.serviceName}`, CHECK_SERVICE, () =>
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
    const record = recordKeyOf(request, executionId);
    const registration = await beforeChange("Reading this execution's deployment record", CHECK_LEDGER, () =>
      getRegistrationRecord(deps.clients, ledgerTable(deps.settings), record),
    );
    if (!registration.exists) throw missingRecord(record);
    const recorded = registration.revision;
    const resumed = recorded && deploymentOn(service, recorded.taskDefinitionArn);
    if (recorded && resumed) {
      deps.logger.appendKeys({ deploymentId: resumed.id });
      deps.logger.info('an earlier attempt already started this deployment; returning it', {
        taskDefinitionArn: recorded.taskDefinitionArn,
      });
      const startedAt = resumed.createdAt ? new Date(resumed.createdAt) : deps.now();
      return {
        previousTaskDefinitionArn: recorded.previousTaskDefinitionArn,
        taskDefinitionArn: recorded.taskDefinitionArn,
        deploymentId: resumed.id,
        startedAt: startedAt.toISOString(),
        deadline: deadlineAfter(startedAt, timeoutSeconds),
      };
    }

    refuseIfInProgress(service, request);
    const previousTaskDefinitionArn = service.taskDefinition;
    const taskDefinitionArn =
      recorded?.taskDefinitionArn ??
      (await registerAndRecord(deps, event, record, previousTaskDefinitionArn));
    if (recorded) {
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

function recordKeyOf(request: DeploymentRequest, executionId: string): DeploymentRecordKey {
  const key = deploymentRecordKeyOf(request, executionId);
  if (!key) {
    throw new UpdateFailed(
      `The request of execution ${executionId} carries no startedAt, so its deployment record (where the revision ` +
        'it registers is written before the service is updated) cannot be found; the service was not changed. ' +
        'Deploy the functions and the state machine from the same release, then start the deployment again.',
    );
  }
  return key;
}

function missingRecord(record: DeploymentRecordKey): UpdateFailed {
  return new UpdateFailed(
    `The deployment record of ${record.deploymentId} (${record.environment}, started ${record.startedAt}) is not in ` +
      'the ledger table, so the revision to deploy cannot be recorded before the service is updated; the service was ' +
      'not changed. ResolveRequest writes the record: check that it ran for this execution and that the table is ' +
      "the orchestrator stack's, then start the deployment again.",
  );
}

/**
 * Registers the next revision and records it in the execution's deployment record. When an
 * earlier attempt recorded one first, that one is deployed (the revision registered here stays
 * unused: an inactive spare, tagged with this execution).
 */
async function registerAndRecord(
  deps: HandlerDeps,
  event: UpdateServiceEvent,
  record: DeploymentRecordKey,
  previousTaskDefinitionArn: string,
): Promise<string> {
  const registered = await registerNextRevision(deps, event, previousTaskDefinitionArn);
  const revision: RegisteredRevision = {
    taskDefinitionArn: registered,
    previousTaskDefinitionArn,
    registeredAt: deps.now().toISOString(),
  };
  const written = await beforeChange(
    `Recording revision ${registered} in the deployment record`,
    CHECK_LEDGER,
    () => recordRegisteredRevision(deps.clients, ledgerTable(deps.settings), record, revision),
  );
  if (!written.recorded) throw missingRecord(record);
  if (written.revision.taskDefinitionArn !== registered) {
    deps.logger.warn('an earlier attempt recorded its revision first; deploying that one', {
      recorded: written.revision.taskDefinitionArn,
      unused: registered,
    });
  }
  return written.revision.taskDefinitionArn;
}

async function registerNextRevision(
  deps: HandlerDeps,
  event: UpdateServiceEvent,
  runningTaskDefinitionArn: string,
): Promise<string> {
  const { request } = event;
  const running = await beforeChange(
    `Reading the running task definition ${runningTaskDefinitionArn}`,
    CHECK_SERVICE,
    () => describeTaskDefinition(deps.clients, runningTaskDefinitionArn),
  );
  const plan = nextRevision(running.taskDefinition, event.images, {
    running: running.tags,
    own: revisionTags({
      executionId: event.executionId,
      deploymentKey: request.deploymentKey,
      previousTaskDefinitionArn: runningTaskDefinitionArn,
    }),
  });
  if (!plan.ok) {
    throw new UpdateFailed(
      `Cannot build the next revision of ${request.taskFamily}; the service was not changed:\n` +
        plan.problems.map((problem) => `- ${problem}`).join('\n'),
    );
  }
  const registered = await registerTaskDefinition(deps.clients, {
    ...plan.input,
    // The environment's own family, even when the service still runs a revision of another one
    // (environments that once shared a family move to their own on their next deployment).
    family: request.taskFamily,
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
