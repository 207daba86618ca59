/**
 * The watch-stack handler with mocked CloudFormation and ECS: the baseline it takes, a deployed stack
 * that started an ECS deployment, CloudFormation's rollback with the resource that failed, a stack
 * still in progress looked at again, and a watch that may not read the stack.
 */
import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import type { StackBaseline } from '../../../lambdas/domain/stack-release';
import { createWatchStackHandler, type StackWatchResult } from '../../../lambdas/handlers/watch-stack';
import { testDeps } from '../../support/deps';

const cloudformation = mockClient(CloudFormationClient);
const ecs = mockClient(ECSClient);

const STACK = 'Afu9EcsStack';
const request = {
  environment: 'staging',
  clusterName: 'afu9-cluster',
  serviceName: 'afu9-control-center-staging',
};
const taskDefinition = (revision: number) =>
  `arn:aws:ecs:eu-central-1:123456789012:task-definition/afu9-control-center-staging:${revision}`;
const OLD = 'ecs-svc/1111111111111111111';
const NEW = 'ecs-svc/2222222222222222222';

function stack(status: string, lastUpdated: string, reason?: string) {
  return {
    Stacks: [
      {
        StackName: STACK,
        CreationTime: new Date('2026-10-01T00:00:00Z'),
        LastUpdatedTime: new Date(lastUpdated),
        StackStatus: status as never,
        ...(reason && { StackStatusReason: reason }),
        Outputs: [{ OutputKey: 'ServiceName', OutputValue: 'afu9-control-center-staging' }],
      },
    ],
  };
}

function service(deploymentId: string, revision: number) {
  return {
    services: [
      {
        serviceArn: 'arn:aws:ecs:eu-central-1:123456789012:service/afu9-cluster/afu9-control-center-staging',
        status: 'ACTIVE',
        deployments: [{ id: deploymentId, status: 'PRIMARY', taskDefinition: taskDefinition(revision) }],
      },
    ],
  };
}

const baseline: StackBaseline = {
  stackName: STACK,
  exists: true,
  stackStatus: 'UPDATE_COMPLETE',
  changedAt: '2026-11-20T10:00:00.000Z',
  primaryDeploymentId: OLD,
  primaryTaskDefinitionArn: taskDefinition(41),
  takenAt: '2026-11-27T08:58:00.000Z',
};
const build = { buildId: 'deploy:1', buildStatus: 'SUCCEEDED' };

afterEach(() => {
  cloudformation.reset();
  ecs.reset();
});

describe('watch-stack', () => {
  it('baseline: records the stack status, when it last changed, and the PRIMARY ECS deployment', async () => {
    // Arrange
    cloudformation.on(DescribeStacksCommand).resolves(stack('UPDATE_COMPLETE', '2026-11-20T10:00:00Z'));
    ecs.on(DescribeServicesCommand).resolves(service(OLD, 41));

    // Act
    const result = await createWatchStackHandler(testDeps())({
      phase: 'baseline',
      executionId: 'exec',
      stackName: STACK,
      request,
    });

    // Assess
    expect(result).toEqual({ ...baseline, takenAt: '2026-11-27T09:00:00.000Z' });
  });

  it('watch: a deployed stack that started a new ECS deployment names it, with its deadline and the outputs', async () => {
    // Arrange
    cloudformation.on(DescribeStacksCommand).resolves(stack('UPDATE_COMPLETE', '2026-11-27T08:59:00Z'));
    ecs.on(DescribeServicesCommand).resolves(service(NEW, 42));

    // Act
    const result = (await createWatchStackHandler(testDeps())({
      phase: 'watch',
      executionId: 'exec',
      request,
      baseline,
      build,
    })) as StackWatchResult;

    // Assess
    expect(result).toMatchObject({
      status: 'DEPLOYED',
      stackStatus: 'UPDATE_COMPLETE',
      outputs: [{ key: 'ServiceName', value: 'afu9-control-center-staging' }],
      ecsDeployment: {
        deploymentId: NEW,
        taskDefinitionArn: taskDefinition(42),
        previousTaskDefinitionArn: taskDefinition(41),
      },
    });
    // staging's rollout.timeoutSeconds from now
    expect(Date.parse(result.ecsDeployment!.deadline)).toBeGreaterThan(Date.parse('2026-11-27T09:00:00Z'));
  });

  it("watch: CloudFormation's rollback is reported with the first resource that failed", async () => {
    // Arrange
    cloudformation
      .on(DescribeStacksCommand)
      .resolves(
        stack(
          'UPDATE_ROLLBACK_COMPLETE',
          '2026-11-27T08:59:00Z',
          'The following resource(s) failed to update: [Service]. ',
        ),
      );
    cloudformation.on(DescribeStackEventsCommand).resolves({
      StackEvents: [
        {
          LogicalResourceId: STACK,
          ResourceStatus: 'UPDATE_ROLLBACK_COMPLETE',
          Timestamp: new Date('2026-11-27T09:01:30Z'),
        },
        {
          LogicalResourceId: 'ServiceD69D759B',
          ResourceStatus: 'UPDATE_FAILED',
          ResourceStatusReason: 'ECS Deployment Circuit Breaker was triggered',
          Timestamp: new Date('2026-11-27T09:00:30Z'),
        },
        {
          LogicalResourceId: 'Old',
          ResourceStatus: 'UPDATE_FAILED',
          Timestamp: new Date('2026-11-01T00:00:00Z'),
        },
      ],
    } as never);

    // Act
    const result = (await createWatchStackHandler(testDeps())({
      phase: 'watch',
      executionId: 'exec',
      request,
      baseline,
      build: { Error: 'States.TaskFailed', Cause: 'build failed' },
    })) as StackWatchResult;

    // Assess
    expect(result.status).toBe('ROLLED_BACK');
    expect(result.reason).toContain(
      'First failure: ServiceD69D759B UPDATE_FAILED: ECS Deployment Circuit Breaker was triggered.',
    );
    expect(result.ecsDeployment).toBeUndefined();
  });

  it("watch: reads CloudFormation's events back page by page to the real cause, past the cancelled updates", async () => {
    // Arrange: the newest page holds the rollback and the cancellations; the cause is on the next one.
    cloudformation
      .on(DescribeStacksCommand)
      .resolves(
        stack(
          'UPDATE_ROLLBACK_COMPLETE',
          '2026-11-27T08:59:00Z',
          'The following resource(s) failed to update: [Db].',
        ),
      );
    const rollbackPage = Array.from({ length: 100 }, (_, index) => ({
      LogicalResourceId: `Resource${index}`,
      ResourceStatus: index === 99 ? 'UPDATE_FAILED' : 'UPDATE_COMPLETE',
      ...(index === 99 ? { ResourceStatusReason: 'Resource update cancelled' } : {}),
      Timestamp: new Date(Date.parse('2026-11-27T09:05:00Z') - index * 1000),
    }));
    cloudformation
      .on(DescribeStackEventsCommand, { StackName: STACK, NextToken: undefined })
      .resolves({ StackEvents: rollbackPage, NextToken: 'page-2' } as never)
      .on(DescribeStackEventsCommand, { StackName: STACK, NextToken: 'page-2' })
      .resolves({
        StackEvents: [
          {
            LogicalResourceId: 'DatabaseB269D8BB',
            ResourceStatus: 'UPDATE_FAILED',
            ResourceStatusReason: 'Cannot upgrade postgres from 15.4 to 14.9',
            Timestamp: new Date('2026-11-27T09:00:10Z'),
          },
          {
            LogicalResourceId: STACK,
            ResourceStatus: 'UPDATE_COMPLETE',
            Timestamp: new Date('2026-11-20T00:00:00Z'),
          },
        ],
        NextToken: 'page-3',
      } as never);

    // Act
    const result = (await createWatchStackHandler(testDeps())({
      phase: 'watch',
      executionId: 'exec',
      request,
      baseline,
      build: { Error: 'States.TaskFailed', Cause: 'build failed' },
    })) as StackWatchResult;

    // Assess: the cause, not the cancelled update; and no page older than the operation was read.
    expect(result.reason).toContain(
      'First failure: DatabaseB269D8BB UPDATE_FAILED: Cannot upgrade postgres from 15.4 to 14.9.',
    );
    expect(result.reason).not.toContain('Resource update cancelled');
    expect(cloudformation.commandCalls(DescribeStackEventsCommand)).toHaveLength(2);
  });

  it('watch: looks again while CloudFormation works, and returns IN_PROGRESS when its time is up', async () => {
    // Arrange
    cloudformation.on(DescribeStacksCommand).resolves(stack('UPDATE_IN_PROGRESS', '2026-11-27T08:59:00Z'));
    const deps = testDeps();

    // Act
    const result = (await createWatchStackHandler(deps)({
      phase: 'watch',
      executionId: 'exec',
      request,
      baseline,
      build,
    })) as StackWatchResult;

    // Assess
    expect(result.status).toBe('IN_PROGRESS');
    expect(cloudformation.commandCalls(DescribeStacksCommand).length).toBeGreaterThan(1);
    expect(deps.sleptMs()).toBeLessThanOrEqual(45_000);
  });

  it('refuses to guess when CloudFormation denies the read: StackUnobservable naming the grant', async () => {
    // Arrange
    cloudformation.on(DescribeStacksCommand).rejects(
      new CloudFormationServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'User is not authorized to perform: cloudformation:DescribeStacks',
      }),
    );

    // Act / Assess
    await expect(
      createWatchStackHandler(testDeps())({ phase: 'watch', executionId: 'exec', request, baseline, build }),
    ).rejects.toMatchObject({
      name: 'StackUnobservable',
      message: expect.stringContaining('cloudformation:DescribeStacks'),
    });
  });
});
