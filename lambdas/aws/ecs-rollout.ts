/**
 * What ECS says about a rollout: the service's deployments and events, and the stopped tasks of one
 * revision with their reasons and exit codes. Read-only; SDK failures become named domain errors
 * (throttling and 5xx as TransientAwsError so the workflow retries them).
 */
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  type Deployment,
  type Task,
} from '@aws-sdk/client-ecs';
import { AwsErrorKind, classifyAwsError, describeAwsError } from '../domain/aws-error-kind';
import { RolloutFailed, TransientAwsError, type DeploymentError } from '../domain/errors';
import type { TaskHealthObservation } from '../domain/smoke';
import type {
  DeploymentObservation,
  ServiceObservation,
  StoppedTaskObservation,
} from '../domain/rollout-judgement';
import type { AwsClients } from './clients';

export interface ServiceRef {
  readonly clusterName: string;
  readonly serviceName: string;
}

function toDomainError(error: unknown, call: string, what: string): DeploymentError {
  const kind = classifyAwsError(error);
  const described = describeAwsError(error);
  if (kind === AwsErrorKind.transient) {
    return new TransientAwsError(
      `ECS ${call} for ${what} failed (${described}); the workflow retries this step.`,
      {
        cause: error,
      },
    );
  }
  const hint =
    kind === AwsErrorKind.accessDenied
      ? `grant the orchestrator's function ecs:${call} on ${what}`
      : kind === AwsErrorKind.notFound
        ? 'check the clusterName and serviceName of the environment in the deployment configuration (deploy.config.json)'
        : 'read the error, fix its cause, then run the deployment again';
  return new RolloutFailed(`ECS ${call} for ${what} failed (${described}); ${hint}.`, { cause: error });
}

function serviceLabel(ref: ServiceRef): string {
  return `service ${ref.serviceName} in cluster ${ref.clusterName}`;
}

/** The service's deployments and newest events. Throws RolloutFailed when the service is not there. */
export async function observeService(
  clients: Pick<AwsClients, 'ecs'>,
  ref: ServiceRef,
): Promise<ServiceObservation> {
  const label = serviceLabel(ref);
  let result;
  try {
    result = await clients.ecs.send(
      new DescribeServicesCommand({ cluster: ref.clusterName, services: [ref.serviceName] }),
    );
  } catch (error) {
    throw toDomainError(error, 'DescribeServices', label);
  }
  const service = result.services?.find((s) => s.serviceName === ref.serviceName) ?? result.services?.[0];
  if (!service || service.status !== 'ACTIVE') {
    const failure = result.failures?.[0]?.reason;
    const found = service
      ? `its status is ${service.status ?? 'unknown'}`
      : `ECS answered ${failure ?? 'no service'}`;
    throw new RolloutFailed(
      `ECS has no active ${label} (${found}), so the rollout cannot be judged. Check the cluster and ` +
        'service names of the environment in the deployment configuration (deploy.config.json) and whether ' +
        'someone deleted the service.',
    );
  }
  return {
    deployments: (service.deployments ?? []).map(toDeploymentObservation),
    events: (service.events ?? []).map((event) => ({
      createdAt: event.createdAt?.toISOString(),
      message: event.message ?? '',
    })),
  };
}

function toDeploymentObservation(deployment: Deployment): DeploymentObservation {
  return {
    id: deployment.id ?? '',
    status: deployment.status ?? 'UNKNOWN',
    taskDefinitionArn: deployment.taskDefinition ?? '',
    rolloutState: deployment.rolloutState,
    rolloutStateReason: deployment.rolloutStateReason,
    desiredCount: deployment.desiredCount ?? 0,
    runningCount: deployment.runningCount ?? 0,
    failedTasks: deployment.failedTasks ?? 0,
    createdAt: deployment.createdAt?.toISOString(),
  };
}

/**
 * The service's stopped tasks that run `taskDefinitionArn`, with each container's exit code and
 * whether the task definition marks it essential. ECS keeps stopped tasks for about an hour; the
 * newest page (up to 100) is plenty to judge a rollout.
 */
export async function observeStoppedTasks(
  clients: Pick<AwsClients, 'ecs'>,
  ref: ServiceRef & { readonly taskDefinitionArn: string },
): Promise<StoppedTaskObservation[]> {
  const tasks = await tasksOfRevision(clients, ref, 'STOPPED');
  if (tasks.length === 0) return [];

  const essential = await essentialFlags(clients, ref.taskDefinitionArn);
  return tasks.map((task) => ({
    taskArn: task.taskArn ?? '',
    taskDefinitionArn: task.taskDefinitionArn ?? '',
    startedBy: task.startedBy,
    stoppedReason: task.stoppedReason,
    stopCode: task.stopCode,
    stoppedAt: task.stoppedAt?.toISOString(),
    containers: (task.containers ?? []).map((container) => ({
      name: container.name ?? '',
      exitCode: container.exitCode,
      reason: container.reason,
      // A container the task definition does not name cannot be judged essential.
      essential: essential.get(container.name ?? '') ?? false,
    })),
  }));
}

/** Container name → essential, from the task definition (ECS's default for an absent flag is true). */
async function essentialFlags(
  clients: Pick<AwsClients, 'ecs'>,
  taskDefinitionArn: string,
): Promise<Map<string, boolean>> {
  try {
    const result = await clients.ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }),
    );
    return new Map(
      (result.taskDefinition?.containerDefinitions ?? []).map((c) => [c.name ?? '', c.essential ?? true]),
    );
  } catch (error) {
    throw toDomainError(error, 'DescribeTaskDefinition', taskDefinitionArn);
  }
}

/** The containers of a revision with a health check, and its running tasks' container health. */
export interface RevisionHealthObservation {
  /** Containers whose task definition entry has a `healthCheck`: ECS judges only these. */
  readonly healthChecked: readonly string[];
  readonly tasks: readonly TaskHealthObservation[];
}

/**
 * The running tasks of the service that run `taskDefinitionArn`, with each container's health as
 * ECS reports it, and which containers of that revision define a health check at all (ECS reports
 * `UNKNOWN` for the others, which says nothing).
 */
export async function observeRevisionHealth(
  clients: Pick<AwsClients, 'ecs'>,
  ref: ServiceRef & { readonly taskDefinitionArn: string },
): Promise<RevisionHealthObservation> {
  let healthChecked: string[];
  try {
    const result = await clients.ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: ref.taskDefinitionArn }),
    );
    healthChecked = (result.taskDefinition?.containerDefinitions ?? [])
      .filter((container) => container.healthCheck?.command?.length)
      .map((container) => container.name ?? '');
  } catch (error) {
    throw toDomainError(error, 'DescribeTaskDefinition', ref.taskDefinitionArn);
  }
  if (healthChecked.length === 0) return { healthChecked, tasks: [] };

  const tasks = (await tasksOfRevision(clients, ref, 'RUNNING')).map((task) => ({
    taskArn: task.taskArn ?? '',
    lastStatus: task.lastStatus ?? 'UNKNOWN',
    containers: (task.containers ?? []).map((container) => ({
      name: container.name ?? '',
      ...(container.healthStatus !== undefined && { healthStatus: container.healthStatus }),
    })),
  }));
  return { healthChecked, tasks };
}

/**
 * The service's tasks of one revision with the given desired status: ListTasks' newest page (up to
 * 100, plenty to judge one rollout), then DescribeTasks for them.
 */
async function tasksOfRevision(
  clients: Pick<AwsClients, 'ecs'>,
  ref: ServiceRef & { readonly taskDefinitionArn: string },
  desiredStatus: 'RUNNING' | 'STOPPED',
): Promise<Task[]> {
  const label = serviceLabel(ref);
  let taskArns: string[];
  try {
    const listed = await clients.ecs.send(
      new ListTasksCommand({
        cluster: ref.clusterName,
        serviceName: ref.serviceName,
        desiredStatus,
        maxResults: 100,
      }),
    );
    taskArns = listed.taskArns ?? [];
  } catch (error) {
    throw toDomainError(error, 'ListTasks', label);
  }
  if (taskArns.length === 0) return [];
  try {
    const described = await clients.ecs.send(
      new DescribeTasksCommand({ cluster: ref.clusterName, tasks: taskArns }),
    );
    return (described.tasks ?? []).filter((task) => task.taskDefinitionArn === ref.taskDefinitionArn);
  } catch (error) {
    throw toDomainError(error, 'DescribeTasks', label);
  }
}
