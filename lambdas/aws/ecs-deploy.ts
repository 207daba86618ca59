/**
 * The ECS calls a deployment and a rollback make: read the service and its running revision
 * (with its tags), register the next one, point the service at a revision. Transient failures
 * become `TransientAwsError`; other SDK errors reach the handler unchanged, which decides what they
 * mean for the workflow.
 */
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type Deployment,
  type RegisterTaskDefinitionCommandInput,
  type Service,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { transientOrOriginal } from '../domain/aws-error-kind';
import type { DeploymentSnapshot, ResourceTag } from '../domain/task-definition';
import type { AwsClients } from './clients';

type EcsClients = Pick<AwsClients, 'ecs'>;

export interface ServiceSnapshot {
  readonly serviceArn: string;
  /** `ACTIVE`, `DRAINING` or `INACTIVE`. */
  readonly status: string;
  /** The revision of the PRIMARY deployment (what new tasks run). */
  readonly taskDefinition: string;
  readonly deployments: readonly DeploymentSnapshot[];
}

function toDeploymentSnapshot(deployment: Deployment): DeploymentSnapshot {
  return {
    id: deployment.id ?? '',
    status: deployment.status ?? '',
    taskDefinition: deployment.taskDefinition ?? '',
    ...(deployment.rolloutState ? { rolloutState: deployment.rolloutState } : {}),
    ...(deployment.rolloutStateReason ? { rolloutStateReason: deployment.rolloutStateReason } : {}),
    ...(deployment.desiredCount !== undefined ? { desiredCount: deployment.desiredCount } : {}),
    ...(deployment.runningCount !== undefined ? { runningCount: deployment.runningCount } : {}),
    ...(deployment.failedTasks !== undefined ? { failedTasks: deployment.failedTasks } : {}),
    ...(deployment.createdAt ? { createdAt: new Date(deployment.createdAt).toISOString() } : {}),
    ...(deployment.updatedAt ? { updatedAt: new Date(deployment.updatedAt).toISOString() } : {}),
  };
}

function toServiceSnapshot(service: Service): ServiceSnapshot {
  const deployments = (service.deployments ?? []).map(toDeploymentSnapshot);
  const primary = deployments.find((deployment) => deployment.status === 'PRIMARY');
  return {
    serviceArn: service.serviceArn ?? '',
    status: service.status ?? '',
    taskDefinition: primary?.taskDefinition || service.taskDefinition || '',
    deployments,
  };
}

/** The service as ECS sees it now, or undefined when the cluster has no such service. */
export async function describeService(
  clients: EcsClients,
  cluster: string,
  service: string,
): Promise<ServiceSnapshot | undefined> {
  try {
    const response = await clients.ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
    const found = response.services?.[0];
    return found ? toServiceSnapshot(found) : undefined;
  } catch (error) {
    throw transientOrOriginal(error, `ECS DescribeServices (${cluster}/${service})`);
  }
}

export interface TaskDefinitionWithTags {
  readonly taskDefinition: TaskDefinition;
  readonly tags: readonly ResourceTag[];
}

function toResourceTags(tags: readonly { key?: string; value?: string }[] | undefined): ResourceTag[] {
  return (tags ?? []).map((tag) => ({ key: tag.key ?? '', value: tag.value ?? '' }));
}

export async function describeTaskDefinition(
  clients: EcsClients,
  taskDefinition: string,
): Promise<TaskDefinitionWithTags> {
  try {
    const response = await clients.ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition, include: ['TAGS'] }),
    );
    if (!response.taskDefinition) {
      throw new Error(`ECS DescribeTaskDefinition returned no task definition for ${taskDefinition}`);
    }
    return { taskDefinition: response.taskDefinition, tags: toResourceTags(response.tags) };
  } catch (error) {
    throw transientOrOriginal(error, `ECS DescribeTaskDefinition (${taskDefinition})`);
  }
}

/** ECS refused the request: nothing was changed. */
export interface EcsRefusal {
  readonly ok: false;
  readonly cause: unknown;
}

/** Registers a revision; a refusal (4xx) is returned, since it proves nothing was registered. */
export async function registerTaskDefinition(
  clients: EcsClients,
  input: RegisterTaskDefinitionCommandInput,
): Promise<{ readonly ok: true; readonly taskDefinitionArn: string } | EcsRefusal> {
  try {
    const response = await clients.ecs.send(new RegisterTaskDefinitionCommand(input));
    const arn = response.taskDefinition?.taskDefinitionArn;
    if (!arn)
      throw new Error(
        `ECS RegisterTaskDefinition returned no task definition ARN for family ${input.family}`,
      );
    return { ok: true, taskDefinitionArn: arn };
  } catch (error) {
    const rethrown = transientOrOriginal(error, `ECS RegisterTaskDefinition (${input.family})`);
    if (rethrown !== error || !isClientFault(error)) throw rethrown;
    return { ok: false, cause: error };
  }
}

/**
 * Points the service at a revision. A refusal (4xx) is returned, since it proves the service was
 * not changed; anything else (5xx, timeout) leaves that open and is thrown.
 */
export async function updateServiceRevision(
  clients: EcsClients,
  input: { cluster: string; service: string; taskDefinition: string; forceNewDeployment?: boolean },
): Promise<{ readonly ok: true; readonly service: ServiceSnapshot } | EcsRefusal> {
  try {
    const response = await clients.ecs.send(
      new UpdateServiceCommand({
        cluster: input.cluster,
        service: input.service,
        taskDefinition: input.taskDefinition,
        ...(input.forceNewDeployment ? { forceNewDeployment: true } : {}),
      }),
    );
    if (!response.service)
      throw new Error(`ECS UpdateService returned no service for ${input.cluster}/${input.service}`);
    return { ok: true, service: toServiceSnapshot(response.service) };
  } catch (error) {
    const rethrown = transientOrOriginal(error, `ECS UpdateService (${input.cluster}/${input.service})`);
    if (rethrown !== error || !isClientFault(error)) throw rethrown;
    return { ok: false, cause: error };
  }
}

function isClientFault(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { $fault?: unknown }).$fault === 'client';
}
