/**
 * The ECS API of the simulated account: the commands the orchestrator's adapters send, answered
 * from the service engine and the task definition registry in the SDK's output shapes, failing
 * with ECS's exceptions (ClusterNotFoundException, ServiceNotFoundException, ClientException,
 * InvalidParameterException, ResourceNotFoundException).
 */
import {
  ClientException,
  ClusterNotFoundException,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSServiceException,
  InvalidParameterException,
  ListTagsForResourceCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  ResourceNotFoundException,
  ServiceNotFoundException,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateServiceCommand,
  type Deployment,
  type Service,
  type Tag,
  type Task,
  type UpdateServiceCommandInput,
} from '@aws-sdk/client-ecs';
import { route, simulatedClient, type SimulatedClient } from '../dispatch';
import type { FaultInjector } from '../faults';
import { awsError } from '../sdk-errors';
import type { VirtualClock } from '../virtual-clock';
import type { ServiceEngine, SimDeployment, SimService, SimTask } from './service-engine';
import type { TaskDefinitionRegistry } from './task-definitions';

const MAX_DESCRIBE_TASKS = 100;
const DEFAULT_LIST_PAGE = 100;

export interface EcsApiDependencies {
  readonly clusterArn: string;
  readonly engine: ServiceEngine;
  readonly taskDefinitions: TaskDefinitionRegistry;
  readonly clock: VirtualClock;
  readonly faults: FaultInjector;
}

export function createEcsClient(deps: EcsApiDependencies): SimulatedClient {
  const { engine, taskDefinitions, clock } = deps;
  const clusterName = deps.clusterArn.split('/').pop()!;

  const requireCluster = (cluster: string | undefined): void => {
    const name = cluster ?? 'default';
    if (name !== clusterName && name !== deps.clusterArn)
      throw awsError(ClusterNotFoundException, 'Cluster not found.');
  };
  const findService = (reference: string): SimService | undefined =>
    [...engine.services.values()].find((s) => s.name === reference || s.arn === reference);
  const requireService = (cluster: string | undefined, reference: string | undefined): SimService => {
    requireCluster(cluster);
    const service = reference ? findService(reference) : undefined;
    if (!service) throw awsError(ServiceNotFoundException, 'Service not found.');
    return service;
  };
  const tagsOf = (resourceArn: string | undefined): { tags: Tag[] } => {
    const revision = resourceArn ? taskDefinitions.findByArn(resourceArn) : undefined;
    if (revision) return revision;
    const service = resourceArn ? findService(resourceArn) : undefined;
    if (service && resourceArn === service.arn) return service;
    throw awsError(ResourceNotFoundException, 'The specified resource could not be found.');
  };

  return simulatedClient('ecs', 'ECS', ECSServiceException, deps.faults, [
    route(DescribeServicesCommand, (input) => {
      requireCluster(input.cluster);
      const services: Service[] = [];
      const failures = [];
      for (const reference of input.services ?? []) {
        const service = findService(reference);
        if (service) {
          services.push({
            ...describeService(engine, service),
            ...(input.include?.includes('TAGS') ? { tags: structuredClone(service.tags) } : {}),
          });
        } else
          failures.push({
            arn: reference.startsWith('arn:')
              ? reference
              : `${deps.clusterArn.replace(':cluster/', ':service/')}/${reference}`,
            reason: 'MISSING',
          });
      }
      return { services, failures };
    }),
    route(UpdateServiceCommand, (input) => ({ service: describeService(engine, updateService(input)) })),
    route(RegisterTaskDefinitionCommand, (input) => {
      const stored = taskDefinitions.register(input, clock.now());
      return { taskDefinition: structuredClone(stored.definition), tags: structuredClone(stored.tags) };
    }),
    route(DescribeTaskDefinitionCommand, (input) => {
      const stored = taskDefinitions.require(input.taskDefinition);
      return {
        taskDefinition: structuredClone(stored.definition),
        ...(input.include?.includes('TAGS') ? { tags: structuredClone(stored.tags) } : {}),
      };
    }),
    route(ListTaskDefinitionsCommand, (input) => {
      const arns = taskDefinitions.list({
        familyPrefix: input.familyPrefix,
        status: input.status,
        sort: input.sort,
      });
      return page(arns, input.maxResults, input.nextToken, 'taskDefinitionArns');
    }),
    route(DeregisterTaskDefinitionCommand, (input) => ({
      taskDefinition: structuredClone(
        taskDefinitions.deregister(input.taskDefinition, clock.now()).definition,
      ),
    })),
    route(ListTasksCommand, (input) => {
      requireCluster(input.cluster);
      if (input.serviceName && !findService(input.serviceName))
        throw awsError(ServiceNotFoundException, 'Service not found.');
      const desiredStatus = input.desiredStatus ?? 'RUNNING';
      const service = input.serviceName ? findService(input.serviceName) : undefined;
      const arns = engine.tasks
        .filter((task) => (service ? task.serviceName === service.name : true))
        .filter((task) => task.desiredStatus === desiredStatus)
        .filter((task) => (input.startedBy ? task.deploymentId === input.startedBy : true))
        .filter((task) =>
          input.family ? taskDefinitions.findByArn(task.taskDefinitionArn)?.family === input.family : true,
        )
        .reverse()
        .map((task) => task.arn);
      return page(arns, input.maxResults, input.nextToken, 'taskArns');
    }),
    route(DescribeTasksCommand, (input) => {
      requireCluster(input.cluster);
      const references = input.tasks ?? [];
      if (references.length === 0 || references.length > MAX_DESCRIBE_TASKS) {
        throw awsError(
          InvalidParameterException,
          `Tasks cannot be empty and can contain at most ${MAX_DESCRIBE_TASKS} tasks.`,
        );
      }
      const tasks: Task[] = [];
      const failures = [];
      for (const reference of references) {
        const task = engine.tasks.find((t) => t.arn === reference || t.id === reference);
        if (task)
          tasks.push({
            ...describeTask(task, deps.clusterArn, taskDefinitions),
            ...(input.include?.includes('TAGS') ? { tags: [] } : {}),
          });
        else failures.push({ arn: reference, reason: 'MISSING' });
      }
      return { tasks, failures };
    }),
    route(ListTagsForResourceCommand, (input) => ({ tags: structuredClone(tagsOf(input.resourceArn).tags) })),
    route(TagResourceCommand, (input) => {
      const holder = tagsOf(input.resourceArn);
      for (const tag of input.tags ?? []) {
        if (!tag.key)
          throw awsError(InvalidParameterException, 'Tag keys must be between 1 and 128 characters.');
        holder.tags = [
          ...holder.tags.filter((t) => t.key !== tag.key),
          { key: tag.key, value: tag.value ?? '' },
        ];
      }
      return {};
    }),
    route(UntagResourceCommand, (input) => {
      const holder = tagsOf(input.resourceArn);
      holder.tags = holder.tags.filter((t) => !(input.tagKeys ?? []).includes(t.key ?? ''));
      return {};
    }),
  ]);

  function updateService(input: UpdateServiceCommandInput): SimService {
    const service = requireService(input.cluster, input.service);
    if (input.desiredCount !== undefined) {
      if (!Number.isInteger(input.desiredCount) || input.desiredCount < 0) {
        throw awsError(InvalidParameterException, 'Desired count must be a non-negative integer.');
      }
      engine.setDesiredCount(service, input.desiredCount);
    }
    const primary = service.deployments[0];
    let taskDefinitionArn = primary?.taskDefinitionArn;
    if (input.taskDefinition !== undefined) {
      const revision = taskDefinitions.find(input.taskDefinition);
      if (!revision) throw awsError(ClientException, 'TaskDefinition not found.');
      if (revision.status !== 'ACTIVE') throw awsError(ClientException, `TaskDefinition is inactive`);
      taskDefinitionArn = revision.arn;
    }
    if (!taskDefinitionArn) throw awsError(ClientException, 'The service has no task definition to deploy.');
    if (taskDefinitionArn !== primary?.taskDefinitionArn || input.forceNewDeployment) {
      engine.startDeployment(service, taskDefinitionArn);
    }
    return service;
  }
}

function page<K extends string>(
  items: readonly string[],
  maxResults: number | undefined,
  nextToken: string | undefined,
  key: K,
): Record<K, string[]> & { nextToken?: string } {
  const start = nextToken ? Number(Buffer.from(nextToken, 'base64').toString('utf-8')) : 0;
  const size = maxResults ?? DEFAULT_LIST_PAGE;
  const slice = items.slice(start, start + size);
  const end = start + slice.length;
  return {
    [key]: slice,
    ...(end < items.length ? { nextToken: Buffer.from(String(end), 'utf-8').toString('base64') } : {}),
  } as Record<K, string[]> & { nextToken?: string };
}

function describeDeployment(engine: ServiceEngine, deployment: SimDeployment): Deployment {
  const tasks = engine.tasksOf(deployment.id);
  return {
    id: deployment.id,
    status: deployment.status,
    taskDefinition: deployment.taskDefinitionArn,
    desiredCount: deployment.desiredCount,
    pendingCount: tasks.filter((t) => t.lastStatus === 'PROVISIONING' || t.lastStatus === 'PENDING').length,
    runningCount: tasks.filter((t) => t.lastStatus === 'RUNNING').length,
    failedTasks: deployment.failedTasks,
    createdAt: new Date(deployment.createdAt),
    updatedAt: new Date(deployment.updatedAt),
    launchType: 'FARGATE',
    platformVersion: '1.4.0',
    platformFamily: 'Linux',
    rolloutState: deployment.rolloutState,
    rolloutStateReason: deployment.rolloutStateReason,
  };
}

export function describeService(engine: ServiceEngine, service: SimService): Service {
  const tasks = engine.tasks.filter((t) => t.serviceName === service.name);
  const primary = service.deployments[0];
  return {
    serviceArn: service.arn,
    serviceName: service.name,
    clusterArn: service.clusterArn,
    loadBalancers: [
      {
        targetGroupArn: service.targetGroupArn,
        containerName: service.loadBalancedContainer.name,
        ...(service.loadBalancedContainer.port !== undefined
          ? { containerPort: service.loadBalancedContainer.port }
          : {}),
      },
    ],
    serviceRegistries: [],
    status: 'ACTIVE',
    desiredCount: service.desiredCount,
    runningCount: tasks.filter((t) => t.lastStatus === 'RUNNING').length,
    pendingCount: tasks.filter((t) => t.lastStatus === 'PROVISIONING' || t.lastStatus === 'PENDING').length,
    launchType: 'FARGATE',
    platformVersion: 'LATEST',
    platformFamily: 'Linux',
    taskDefinition: primary?.taskDefinitionArn,
    deploymentConfiguration: {
      deploymentCircuitBreaker: {
        enable: service.circuitBreaker.enable,
        rollback: service.circuitBreaker.rollback,
      },
      maximumPercent: 200,
      minimumHealthyPercent: 100,
    },
    deployments: service.deployments.map((d) => describeDeployment(engine, d)),
    events: service.events.map((e) => ({ id: e.id, createdAt: new Date(e.createdAt), message: e.message })),
    createdAt: new Date(service.createdAt),
    placementConstraints: [],
    placementStrategy: [],
    healthCheckGracePeriodSeconds: 120,
    schedulingStrategy: 'REPLICA',
    deploymentController: { type: 'ECS' },
    enableECSManagedTags: true,
    propagateTags: 'SERVICE',
    enableExecuteCommand: false,
  };
}

function describeTask(task: SimTask, clusterArn: string, taskDefinitions: TaskDefinitionRegistry): Task {
  const revision = taskDefinitions.findByArn(task.taskDefinitionArn);
  return {
    taskArn: task.arn,
    clusterArn,
    taskDefinitionArn: task.taskDefinitionArn,
    group: `service:${task.serviceName}`,
    startedBy: task.deploymentId,
    lastStatus: task.lastStatus,
    desiredStatus: task.desiredStatus,
    healthStatus: task.healthStatus,
    launchType: 'FARGATE',
    platformVersion: '1.4.0',
    platformFamily: 'Linux',
    cpu: revision?.definition.cpu,
    memory: revision?.definition.memory,
    availabilityZone: 'eu-central-1a',
    connectivity: 'CONNECTED',
    createdAt: new Date(task.createdAt),
    ...(task.pullStartedAt ? { pullStartedAt: new Date(task.pullStartedAt) } : {}),
    ...(task.pullStoppedAt ? { pullStoppedAt: new Date(task.pullStoppedAt) } : {}),
    ...(task.startedAt ? { startedAt: new Date(task.startedAt) } : {}),
    ...(task.stoppingAt ? { stoppingAt: new Date(task.stoppingAt) } : {}),
    ...(task.stoppedAt ? { stoppedAt: new Date(task.stoppedAt) } : {}),
    ...(task.stoppedReason ? { stoppedReason: task.stoppedReason } : {}),
    ...(task.stopCode ? { stopCode: task.stopCode } : {}),
    containers: task.containers.map((c) => ({
      containerArn: `${task.arn.replace(':task/', ':container/')}/${c.name}`,
      taskArn: task.arn,
      name: c.name,
      image: c.image,
      lastStatus: c.lastStatus,
      healthStatus: c.healthStatus,
      ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
      ...(c.reason ? { reason: c.reason } : {}),
      networkBindings: [],
    })),
    enableExecuteCommand: false,
    ephemeralStorage: { sizeInGiB: 20 },
    version: 1,
  };
}
