/**
 * ECS response and event shapes as the AWS documentation shows them (DescribeServices,
 * DescribeTasks, DescribeTaskDefinition, `ECS Deployment State Change`), filled with AFU-9 names.
 */
import type {
  DescribeServicesCommandOutput,
  DescribeTaskDefinitionCommandOutput,
  DescribeTasksCommandOutput,
  Deployment,
  Task,
} from '@aws-sdk/client-ecs';

export const ACCOUNT = '123456789012';
export const CLUSTER = 'afu9-cluster';
export const SERVICE = 'afu9-control-center-staging';
export const OLD_TASK_DEF = `arn:aws:ecs:eu-central-1:${ACCOUNT}:task-definition/afu9-control-center:42`;
export const NEW_TASK_DEF = `arn:aws:ecs:eu-central-1:${ACCOUNT}:task-definition/afu9-control-center:43`;
export const OTHER_TASK_DEF = `arn:aws:ecs:eu-central-1:${ACCOUNT}:task-definition/afu9-control-center:44`;
export const OUR_DEPLOYMENT = 'ecs-svc/4918260367359402519';
export const OLD_DEPLOYMENT = 'ecs-svc/1203581623849950672';
export const ROLLBACK_DEPLOYMENT = 'ecs-svc/7722810364115528410';
export const STARTED_AT = new Date('2026-11-27T09:00:00.000Z');

export function deployment(overrides: Partial<Deployment> & Pick<Deployment, 'id'>): Deployment {
  return {
    status: 'PRIMARY',
    taskDefinition: NEW_TASK_DEF,
    desiredCount: 1,
    pendingCount: 0,
    runningCount: 0,
    failedTasks: 0,
    createdAt: STARTED_AT,
    updatedAt: STARTED_AT,
    launchType: 'FARGATE',
    platformVersion: '1.4.0',
    rolloutState: 'IN_PROGRESS',
    rolloutStateReason: `ECS deployment ${overrides.id} in progress.`,
    ...overrides,
  };
}

export function describeServices(
  deployments: Deployment[],
  messages: string[] = [`(service ${SERVICE}) has started 1 tasks: (task 0f3a7c1e9b2d4f6a8c0e1b3d5f7a9c2e).`],
): DescribeServicesCommandOutput {
  return {
    $metadata: { httpStatusCode: 200 },
    failures: [],
    services: [
      {
        serviceArn: `arn:aws:ecs:eu-central-1:${ACCOUNT}:service/${CLUSTER}/${SERVICE}`,
        serviceName: SERVICE,
        clusterArn: `arn:aws:ecs:eu-central-1:${ACCOUNT}:cluster/${CLUSTER}`,
        status: 'ACTIVE',
        desiredCount: 1,
        runningCount: 1,
        pendingCount: 0,
        launchType: 'FARGATE',
        taskDefinition: deployments.find((d) => d.status === 'PRIMARY')?.taskDefinition,
        deployments,
        events: messages.map((message, index) => ({
          id: `e${index}`,
          createdAt: new Date(STARTED_AT.getTime() + (messages.length - index) * 1000),
          message,
        })),
      },
    ],
  };
}

export function serviceMissing(): DescribeServicesCommandOutput {
  return {
    $metadata: { httpStatusCode: 200 },
    services: [],
    failures: [
      { arn: `arn:aws:ecs:eu-central-1:${ACCOUNT}:service/${CLUSTER}/${SERVICE}`, reason: 'MISSING' },
    ],
  };
}

export function taskArn(id: string): string {
  return `arn:aws:ecs:eu-central-1:${ACCOUNT}:task/${CLUSTER}/${id}`;
}

export function stoppedTask(overrides: Partial<Task> & Pick<Task, 'taskArn'>): Task {
  return {
    clusterArn: `arn:aws:ecs:eu-central-1:${ACCOUNT}:cluster/${CLUSTER}`,
    taskDefinitionArn: NEW_TASK_DEF,
    group: `service:${SERVICE}`,
    startedBy: OUR_DEPLOYMENT,
    lastStatus: 'STOPPED',
    desiredStatus: 'STOPPED',
    launchType: 'FARGATE',
    stoppedAt: new Date('2026-11-27T09:02:00.000Z'),
    ...overrides,
  };
}

export const cannotPullTask = stoppedTask({
  taskArn: taskArn('5b1f0e6a2c9d4e7f8a3b6c1d0e9f2a4b'),
  stopCode: 'TaskFailedToStart',
  stoppedReason:
    'CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref ' +
    `${ACCOUNT}.dkr.ecr.eu-central-1.amazonaws.com/afu9/control-center:stage-3f9c2ab: not found`,
  containers: [{ name: 'control-center', lastStatus: 'STOPPED' }],
});

export const secretsTask = stoppedTask({
  taskArn: taskArn('9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d'),
  stopCode: 'TaskFailedToStart',
  stoppedReason:
    'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval ' +
    'failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch ' +
    `secret arn:aws:secretsmanager:eu-central-1:${ACCOUNT}:secret:afu9/database-AbCdEf from secrets manager: ` +
    "ResourceNotFoundException: Secrets Manager can't find the specified secret.",
  containers: [{ name: 'control-center', lastStatus: 'STOPPED' }],
});

export const essentialExitTask = stoppedTask({
  taskArn: taskArn('1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f'),
  stopCode: 'EssentialContainerExited',
  stoppedReason: 'Essential container in task exited',
  containers: [
    { name: 'control-center', lastStatus: 'STOPPED', exitCode: 1 },
    { name: 'mcp-github', lastStatus: 'STOPPED', exitCode: 143 },
  ],
});

export const healthCheckKilledTask = stoppedTask({
  taskArn: taskArn('2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a'),
  stopCode: 'ServiceSchedulerInitiated',
  stoppedReason: `Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:eu-central-1:${ACCOUNT}:targetgroup/afu9-tg/6d0ecf831eec9f09)`,
  containers: [
    { name: 'control-center', lastStatus: 'STOPPED', exitCode: 137 },
    { name: 'mcp-github', lastStatus: 'STOPPED', exitCode: 143 },
  ],
});

export function describeTasks(tasks: Task[]): DescribeTasksCommandOutput {
  return { $metadata: { httpStatusCode: 200 }, tasks, failures: [] };
}

export function describeTaskDefinition(): DescribeTaskDefinitionCommandOutput {
  return {
    $metadata: { httpStatusCode: 200 },
    taskDefinition: {
      taskDefinitionArn: NEW_TASK_DEF,
      family: 'afu9-control-center',
      revision: 43,
      containerDefinitions: [
        { name: 'control-center', image: 'x', essential: true },
        { name: 'mcp-github', image: 'x', essential: false },
        { name: 'mcp-deploy', image: 'x', essential: false },
        { name: 'mcp-observability', image: 'x', essential: false },
      ],
    },
  };
}

/** An `ECS Deployment State Change` event exactly as EventBridge delivers it. */
export function deploymentStateChange(
  eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS' | 'SERVICE_DEPLOYMENT_COMPLETED' | 'SERVICE_DEPLOYMENT_FAILED',
  deploymentId: string = OUR_DEPLOYMENT,
) {
  const reasons = {
    SERVICE_DEPLOYMENT_IN_PROGRESS: `ECS deployment ${deploymentId} in progress.`,
    SERVICE_DEPLOYMENT_COMPLETED: `ECS deployment ${deploymentId} completed.`,
    SERVICE_DEPLOYMENT_FAILED: 'ECS deployment circuit breaker: task failed to start.',
  };
  return {
    version: '0',
    id: 'ddca6449-b258-46c0-8653-e0e3a6d0468b',
    'detail-type': 'ECS Deployment State Change',
    source: 'aws.ecs',
    account: ACCOUNT,
    time: '2026-11-27T09:04:00Z',
    region: 'eu-central-1',
    resources: [`arn:aws:ecs:eu-central-1:${ACCOUNT}:service/${CLUSTER}/${SERVICE}`],
    detail: {
      eventType: eventName === 'SERVICE_DEPLOYMENT_FAILED' ? 'ERROR' : 'INFO',
      eventName,
      deploymentId,
      updatedAt: '2026-11-27T09:03:58Z',
      reason: reasons[eventName],
    },
  };
}

/**
 * An `ECS Task State Change` event for a stopped task exactly as EventBridge delivers it: the
 * documented envelope, and the task as DescribeTasks shows it with ISO timestamps as `detail`.
 */
export function taskStateChange(task: Task, eventId = '3317b2af-7005-947d-b652-f55e762e571a') {
  const iso = (date: Date | undefined) => date?.toISOString();
  const arn = task.taskArn!;
  return {
    version: '0',
    id: eventId,
    'detail-type': 'ECS Task State Change',
    source: 'aws.ecs',
    account: ACCOUNT,
    time: '2026-11-27T09:02:01Z',
    region: 'eu-central-1',
    resources: [arn],
    detail: {
      attachments: [
        {
          id: '1789bcae-ddfb-4d10-8ebe-8ac87ddba5b8',
          type: 'eni',
          status: 'DELETED',
          details: [
            { name: 'subnetId', value: 'subnet-0a1b2c3d4e5f60718' },
            { name: 'networkInterfaceId', value: 'eni-0a1b2c3d4e5f60718' },
          ],
        },
      ],
      availabilityZone: 'eu-central-1a',
      clusterArn: task.clusterArn,
      connectivity: 'CONNECTED',
      containers: (task.containers ?? []).map((container) => ({
        containerArn: `arn:aws:ecs:eu-central-1:${ACCOUNT}:container/${CLUSTER}/${arn.slice(arn.lastIndexOf('/') + 1)}/${container.name}`,
        lastStatus: 'STOPPED',
        name: container.name,
        image: `${ACCOUNT}.dkr.ecr.eu-central-1.amazonaws.com/afu9/control-center:stage-3f9c2ab`,
        taskArn: arn,
        networkInterfaces: [
          { attachmentId: '1789bcae-ddfb-4d10-8ebe-8ac87ddba5b8', privateIpv4Address: '10.0.1.17' },
        ],
        cpu: '0',
        ...(container.exitCode !== undefined ? { exitCode: container.exitCode } : {}),
        ...(container.reason ? { reason: container.reason } : {}),
      })),
      cpu: '1024',
      createdAt: '2026-11-27T09:00:05.402Z',
      desiredStatus: task.desiredStatus,
      enableExecuteCommand: false,
      ephemeralStorage: { sizeInGiB: 20 },
      executionStoppedAt: iso(task.stoppedAt),
      group: task.group,
      launchType: 'FARGATE',
      lastStatus: task.lastStatus,
      memory: '2048',
      overrides: { containerOverrides: (task.containers ?? []).map((c) => ({ name: c.name })) },
      platformVersion: '1.4.0',
      ...(task.startedBy ? { startedBy: task.startedBy } : {}),
      ...(task.stopCode ? { stopCode: task.stopCode } : {}),
      stoppedAt: iso(task.stoppedAt),
      ...(task.stoppedReason ? { stoppedReason: task.stoppedReason } : {}),
      stoppingAt: iso(task.stoppedAt),
      taskArn: arn,
      taskDefinitionArn: task.taskDefinitionArn,
      updatedAt: iso(task.stoppedAt),
      version: 5,
    },
  };
}
