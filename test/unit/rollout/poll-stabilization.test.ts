import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { environments } from '../../support/afu9-config';
import type { DeploymentRequest, RolloutTarget } from '../../../lambdas/domain/workflow-state';
import { createPollStabilizationHandler } from '../../../lambdas/handlers/poll-stabilization';
import { testDeps } from '../../support/deps';
import {
  CLUSTER,
  NEW_TASK_DEF,
  OLD_DEPLOYMENT,
  OLD_TASK_DEF,
  OUR_DEPLOYMENT,
  ROLLBACK_DEPLOYMENT,
  SERVICE,
  cannotPullTask,
  deployment,
  describeServices,
  describeTaskDefinition,
  describeTasks,
  essentialExitTask,
  healthCheckKilledTask,
  secretsTask,
  serviceMissing,
  stoppedTask,
  taskArn,
} from './ecs-fixtures';

const ecs = mockClient(ECSClient);

const request: DeploymentRequest = {
  kind: 'deploy',
  environment: 'staging',
  clusterName: CLUSTER,
  serviceName: SERVICE,
  taskFamily: 'afu9-control-center',
  stackName: 'Afu9EcsStack',
  images: [{ container: 'control-center', repository: 'afu9/control-center', tag: 'stage-3f9c2ab' }],
  version: 'stage-3f9c2ab',
  skipDiffGate: false,
  requestedBy: 'test',
  trigger: 'manual',
  deploymentKey: 'staging#stage-3f9c2ab',
  redeploy: false,
  safetyNetPollSeconds: 300,
};
const target: RolloutTarget = {
  deploymentId: OUR_DEPLOYMENT,
  taskDefinitionArn: NEW_TASK_DEF,
  previousTaskDefinitionArn: OLD_TASK_DEF,
  deadline: '2026-11-27T09:30:00.000Z',
};
const input = { executionId: 'arn:aws:states:eu-central-1:123456789012:execution:deploy:x', request, target };

function withStoppedTasks(...tasks: ReturnType<typeof stoppedTask>[]) {
  ecs.on(ListTasksCommand).resolves({ taskArns: tasks.map((t) => t.taskArn!) });
  ecs.on(DescribeTasksCommand).resolves(describeTasks(tasks));
  ecs.on(DescribeTaskDefinitionCommand).resolves(describeTaskDefinition());
}

afterEach(() => ecs.reset());

describe('poll-stabilization handler', () => {
  it('reports COMPLETED for our primary, completed, fully running deployment', async () => {
    // Prepare
    ecs
      .on(DescribeServicesCommand)
      .resolves(
        describeServices(
          [deployment({ id: OUR_DEPLOYMENT, rolloutState: 'COMPLETED', runningCount: 1 })],
          [`(service ${SERVICE}) has reached a steady state.`],
        ),
      );
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    const deps = testDeps();

    // Act
    const result = await createPollStabilizationHandler(deps)(input);

    // Assess
    expect(result.status).toBe('COMPLETED');
    expect(result.recentEvents[0]).toContain('has reached a steady state');
    expect(ecs).toHaveReceivedCommandWith(ListTasksCommand, {
      cluster: CLUSTER,
      serviceName: SERVICE,
      desiredStatus: 'STOPPED',
    });
    expect(ecs).not.toHaveReceivedCommand(DescribeTasksCommand);
    expect(deps.logLines.join('\n')).toContain(OUR_DEPLOYMENT);
  });

  it('reports ROLLED_BACK_BY_ECS when the service is stable again on the old revision', async () => {
    ecs.on(DescribeServicesCommand).resolves(
      describeServices(
        [
          deployment({
            id: ROLLBACK_DEPLOYMENT,
            taskDefinition: OLD_TASK_DEF,
            rolloutState: 'COMPLETED',
            runningCount: 1,
          }),
          deployment({
            id: OUR_DEPLOYMENT,
            status: 'ACTIVE',
            rolloutState: 'FAILED',
            rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
            failedTasks: 3,
          }),
        ],
        [
          `(service ${SERVICE}) has reached a steady state.`,
          `(service ${SERVICE}) deployment ${OUR_DEPLOYMENT} deployment failed: tasks failed to start.`,
        ],
      ),
    );
    withStoppedTasks(healthCheckKilledTask);

    const result = await createPollStabilizationHandler(testDeps())(input);

    expect(result.status).toBe('ROLLED_BACK_BY_ECS');
    expect(result.rolloutStateReason).toBe('ECS deployment circuit breaker: tasks failed to start.');
    expect(result.stoppedTasks[0]!.stoppedReason).toContain('ELB health checks');
    expect(result.stoppedTasks[0]!.containers).toEqual([
      { name: 'control-center', exitCode: 137 },
      { name: 'mcp-github', exitCode: 143 },
    ]);
  });

  it.each([
    ['an image that cannot be pulled', cannotPullTask, 'CannotPullContainerError'],
    ['a secret that cannot be fetched', secretsTask, 'ResourceInitializationError'],
    [
      'the essential container crashing',
      essentialExitTask,
      'essential container control-center exited with code 1',
    ],
  ])('fails fast on %s while ECS still says IN_PROGRESS', async (_case, task, expected) => {
    ecs
      .on(DescribeServicesCommand)
      .resolves(
        describeServices([
          deployment({ id: OUR_DEPLOYMENT, failedTasks: 1 }),
          deployment({ id: OLD_DEPLOYMENT, status: 'ACTIVE', taskDefinition: OLD_TASK_DEF, runningCount: 1 }),
        ]),
      );
    withStoppedTasks(task);

    const result = await createPollStabilizationHandler(testDeps())(input);

    expect(result.status).toBe('FAILED');
    expect(result.reason).toContain(expected);
    expect(ecs).toHaveReceivedCommandWith(DescribeTaskDefinitionCommand, { taskDefinition: NEW_TASK_DEF });
  });

  it('takes essential flags from the task definition: a crashed sidecar does not fail fast', async () => {
    ecs.on(DescribeServicesCommand).resolves(describeServices([deployment({ id: OUR_DEPLOYMENT })]));
    withStoppedTasks(
      stoppedTask({
        taskArn: taskArn('3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b'),
        stopCode: 'EssentialContainerExited',
        stoppedReason: 'Essential container in task exited',
        containers: [
          { name: 'control-center', exitCode: 0 },
          { name: 'mcp-github', exitCode: 1 },
        ],
      }),
    );

    const result = await createPollStabilizationHandler(testDeps())(input);

    expect(result.status).toBe('IN_PROGRESS');
    expect(result.nextCheckSeconds).toBeGreaterThan(0);
  });

  it('only judges stopped tasks of the new revision', async () => {
    ecs.on(DescribeServicesCommand).resolves(describeServices([deployment({ id: OUR_DEPLOYMENT })]));
    const oldTask = { ...cannotPullTask, taskDefinitionArn: OLD_TASK_DEF, startedBy: OLD_DEPLOYMENT };
    withStoppedTasks(oldTask);

    const result = await createPollStabilizationHandler(testDeps())(input);

    expect(result.status).toBe('IN_PROGRESS');
    expect(ecs).not.toHaveReceivedCommand(DescribeTaskDefinitionCommand);
  });

  it('reports TIMED_OUT when the deadline has passed', async () => {
    ecs.on(DescribeServicesCommand).resolves(describeServices([deployment({ id: OUR_DEPLOYMENT })]));
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });

    const result = await createPollStabilizationHandler(testDeps({ now: new Date('2026-11-27T09:45:00Z') }))(
      input,
    );

    expect(result.status).toBe('TIMED_OUT');
  });

  it('throws RolloutFailed with a clear message when the service does not exist', async () => {
    ecs.on(DescribeServicesCommand).resolves(serviceMissing());

    await expect(createPollStabilizationHandler(testDeps())(input)).rejects.toMatchObject({
      name: 'RolloutFailed',
      message: expect.stringContaining(
        `no active service ${SERVICE} in cluster ${CLUSTER} (ECS answered MISSING)`,
      ),
    });
  });

  it('throws TransientAwsError when ECS throttles, so the workflow retries the poll', async () => {
    ecs.on(DescribeServicesCommand).rejects(
      Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    await expect(createPollStabilizationHandler(testDeps())(input)).rejects.toMatchObject({
      name: 'TransientAwsError',
      cause: expect.objectContaining({ name: 'ThrottlingException' }),
    });
  });

  it('throws RolloutFailed naming the permission when access is denied', async () => {
    ecs.on(DescribeServicesCommand).resolves(describeServices([deployment({ id: OUR_DEPLOYMENT })]));
    ecs.on(ListTasksCommand).rejects(
      Object.assign(new Error('not authorized'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    await expect(createPollStabilizationHandler(testDeps())(input)).rejects.toMatchObject({
      name: 'RolloutFailed',
      message: expect.stringContaining('grant the orchestrator'),
    });
  });

  it('refuses a target without a deployment id', async () => {
    await expect(
      createPollStabilizationHandler(testDeps())({ ...input, target: { ...target, deploymentId: '' } }),
    ).rejects.toMatchObject({
      name: 'RolloutFailed',
      message: expect.stringContaining('no complete rollout target'),
    });
    expect(ecs).not.toHaveReceivedCommand(DescribeServicesCommand);
  });

  it('refuses an environment it does not know', async () => {
    const unknown = { ...request, environment: 'toString' as unknown as 'staging' };
    await expect(
      createPollStabilizationHandler(testDeps())({ ...input, request: unknown }),
    ).rejects.toMatchObject({
      name: 'RolloutFailed',
    });
  });

  it('uses the environment rollout rules (fail fast off ⇒ keeps waiting on a crash)', async () => {
    ecs.on(DescribeServicesCommand).resolves(describeServices([deployment({ id: OUR_DEPLOYMENT })]));
    withStoppedTasks(essentialExitTask);
    const deps = {
      ...testDeps(),
      environments: {
        ...environments,
        staging: {
          ...environments.staging,
          rollout: { ...environments.staging.rollout, failFastOnEssentialExit: false },
        },
      },
    };

    const result = await createPollStabilizationHandler(deps)(input);

    expect(result.status).toBe('IN_PROGRESS');
  });
});
