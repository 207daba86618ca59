/**
 * AWS response shapes for the deploy tests, as ECS, ECR and Secrets Manager document them, filled
 * with the AFU-9 staging service (runbook v0.2.5).
 */
import type { Deployment, Service, TaskDefinition } from '@aws-sdk/client-ecs';
import type { DeploymentRequest, ImageRef } from '../../../lambdas/domain/workflow-state';

export const account = '111122223333';
export const region = 'eu-central-1';
export const registry = `${account}.dkr.ecr.${region}.amazonaws.com`;
export const executionId = `arn:aws:states:${region}:${account}:execution:Afu9DeployOrchestrator:staging-stage-3f9c2ab-1`;
export const otherExecutionId = `arn:aws:states:${region}:${account}:execution:Afu9DeployOrchestrator:staging-stage-0a1b2c3-1`;

export const oldDigest = `sha256:${'a'.repeat(64)}`;
export const newDigest = `sha256:${'b'.repeat(64)}`;
export const sidecarDigest = `sha256:${'c'.repeat(64)}`;

/** A revision of the family staging and production shared before each environment had its own. */
export const taskDefinitionArn = (revision: number) =>
  `arn:aws:ecs:${region}:${account}:task-definition/afu9-control-center:${revision}`;
/** A revision of staging's own family. */
export const stagingTaskDefinitionArn = (revision: number) =>
  `arn:aws:ecs:${region}:${account}:task-definition/afu9-control-center-staging:${revision}`;
/** When ResolveRequest accepted the staging request: the sort key of its deployment record. */
export const requestStartedAt = '2026-11-27T08:58:00.000Z';
export const serviceArn = `arn:aws:ecs:${region}:${account}:service/afu9-cluster/afu9-control-center-staging`;

export const githubSecretArn = `arn:aws:secretsmanager:${region}:${account}:secret:afu9/github-Xy12Ab`;
export const llmSecretArn = `arn:aws:secretsmanager:${region}:${account}:secret:afu9/llm-Qw34Er`;
export const databaseSecretArn = `arn:aws:secretsmanager:${region}:${account}:secret:afu9/database-Zx56Cv`;

/** DescribeTaskDefinition `taskDefinition` of the running AFU-9 revision. */
export function runningTaskDefinition(revision = 41): TaskDefinition {
  return {
    taskDefinitionArn: taskDefinitionArn(revision),
    family: 'afu9-control-center',
    taskRoleArn: `arn:aws:iam::${account}:role/Afu9EcsStack-TaskRole`,
    executionRoleArn: `arn:aws:iam::${account}:role/Afu9EcsStack-TaskExecutionRole`,
    networkMode: 'awsvpc',
    revision,
    volumes: [],
    status: 'ACTIVE',
    requiresAttributes: [
      { name: 'com.amazonaws.ecs.capability.logging-driver.awslogs' },
      { name: 'ecs.capability.secrets.asm.environment-variables' },
      { name: 'ecs.capability.execution-role-ecr-pull' },
      { name: 'ecs.capability.task-eni' },
    ],
    placementConstraints: [],
    compatibilities: ['EC2', 'FARGATE'],
    requiresCompatibilities: ['FARGATE'],
    cpu: '1024',
    memory: '2048',
    registeredAt: new Date('2026-11-20T10:00:00.000Z'),
    registeredBy: `arn:aws:sts::${account}:assumed-role/cdk-hnb659fds-cfn-exec-role/AWSCloudFormation`,
    containerDefinitions: [
      {
        name: 'control-center',
        image: `${registry}/afu9/control-center@${oldDigest}`,
        essential: true,
        portMappings: [{ containerPort: 3000, hostPort: 3000, protocol: 'tcp' }],
        environment: [{ name: 'NODE_ENV', value: 'production' }],
        secrets: [
          { name: 'GITHUB_TOKEN', valueFrom: `${githubSecretArn}:token::` },
          { name: 'GITHUB_OWNER', valueFrom: `${githubSecretArn}:owner::` },
          { name: 'GITHUB_REPO', valueFrom: `${githubSecretArn}:repo::` },
          { name: 'OPENAI_API_KEY', valueFrom: `${llmSecretArn}:openai_api_key::` },
          { name: 'DATABASE_HOST', valueFrom: `${databaseSecretArn}:host::` },
          { name: 'DATABASE_PASSWORD', valueFrom: `${databaseSecretArn}:password::` },
        ],
        healthCheck: {
          command: ['CMD-SHELL', 'wget -qO- http://localhost:3000/api/health || exit 1'],
          interval: 30,
          retries: 5,
          startPeriod: 120,
          timeout: 5,
        },
        logConfiguration: {
          logDriver: 'awslogs',
          options: {
            'awslogs-group': '/ecs/afu9-control-center',
            'awslogs-region': region,
            'awslogs-stream-prefix': 'control-center',
          },
        },
      },
      {
        name: 'mcp-github',
        image: `${registry}/afu9/mcp-github:stage-3f9c2ab`,
        essential: false,
        portMappings: [{ containerPort: 3001, hostPort: 3001, protocol: 'tcp' }],
        secrets: [{ name: 'GITHUB_TOKEN', valueFrom: `${githubSecretArn}:token::` }],
      },
      {
        name: 'mcp-deploy',
        image: `${registry}/afu9/mcp-deploy:stage-3f9c2ab`,
        essential: false,
        portMappings: [{ containerPort: 3002, hostPort: 3002, protocol: 'tcp' }],
      },
      {
        name: 'mcp-observability',
        image: `${registry}/afu9/mcp-observability:stage-3f9c2ab`,
        essential: false,
        portMappings: [{ containerPort: 3003, hostPort: 3003, protocol: 'tcp' }],
      },
    ],
  };
}

/** One entry of DescribeServices `deployments[]`. */
export function deployment(
  overrides: Partial<Deployment> & Pick<Deployment, 'id' | 'status' | 'taskDefinition'>,
): Deployment {
  return {
    desiredCount: 1,
    pendingCount: 0,
    runningCount: 1,
    failedTasks: 0,
    createdAt: new Date('2026-11-20T10:05:00.000Z'),
    updatedAt: new Date('2026-11-20T10:09:00.000Z'),
    launchType: 'FARGATE',
    platformVersion: '1.4.0',
    rolloutState: 'COMPLETED',
    rolloutStateReason: 'ECS deployment ecs-svc/1111111111111111111 completed.',
    ...overrides,
  };
}

export const steadyDeployment = deployment({
  id: 'ecs-svc/1111111111111111111',
  status: 'PRIMARY',
  taskDefinition: taskDefinitionArn(41),
});

/** DescribeServices `services[0]`. */
export function service(deployments: Deployment[] = [steadyDeployment]): Service {
  const primary = deployments.find((d) => d.status === 'PRIMARY');
  return {
    serviceArn,
    serviceName: 'afu9-control-center-staging',
    clusterArn: `arn:aws:ecs:${region}:${account}:cluster/afu9-cluster`,
    status: 'ACTIVE',
    desiredCount: 1,
    runningCount: 1,
    pendingCount: 0,
    launchType: 'FARGATE',
    taskDefinition: primary?.taskDefinition,
    deploymentConfiguration: {
      deploymentCircuitBreaker: { enable: true, rollback: true },
      maximumPercent: 200,
      minimumHealthyPercent: 100,
    },
    deployments,
    events: [],
  };
}

export const primaryImage: ImageRef = {
  container: 'control-center',
  repository: 'afu9/control-center',
  tag: 'stage-4d5e6f7',
  digest: newDigest,
};

export function stagingRequest(overrides: Partial<DeploymentRequest> = {}): DeploymentRequest {
  return {
    kind: 'deploy',
    environment: 'staging',
    clusterName: 'afu9-cluster',
    serviceName: 'afu9-control-center-staging',
    taskFamily: 'afu9-control-center-staging',
    stackName: 'Afu9EcsStack',
    images: [primaryImage],
    version: 'stage-4d5e6f7',
    skipDiffGate: false,
    requestedBy: 'jane@afu-9.com',
    trigger: 'manual',
    deploymentKey: `staging:${newDigest}`,
    redeploy: false,
    safetyNetPollSeconds: 300,
    startedAt: requestStartedAt,
    ...overrides,
  };
}

/** Real-looking secret strings; the tests assert none of these ever leaves the handler. */
export const secretValues = {
  github: { token: 'ghp_R3alT0kenV4lue9xQ2mZ8pL5nK1jH7gF4dS', owner: 'afu-9', repo: 'control-center' },
  llm: { openai_api_key: 'sk-proj-Zq8Xw2Lm5Nv7Bc3Kj9Hg4Fd1Sa6' },
  database: {
    host: 'afu9.cluster-c1x2y3.eu-central-1.rds.amazonaws.com',
    port: 5432,
    database: 'afu9',
    username: 'afu9_app',
    password: 'Pg-s3cr3t-V4lu3-9Qx',
  },
};

/** An SDK-style service error, as `ServiceException` subclasses carry it. */
export function awsError(
  name: string,
  fault: 'client' | 'server' = 'client',
  message = `${name} from AWS`,
): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: fault,
    $metadata: {
      httpStatusCode: fault === 'client' ? 400 : 500,
      requestId: 'req-1',
      attempts: 1,
      totalRetryDelay: 0,
    },
  });
}
