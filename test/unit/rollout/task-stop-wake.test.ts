import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { waitRecordKey } from '../../../lambdas/aws/deployment-table';
import type {
  DeploymentRequest,
  DeploymentWake,
  RolloutTarget,
} from '../../../lambdas/domain/workflow-state';
import { createDeploymentEventHandler } from '../../../lambdas/handlers/deployment-event';
import { createPollStabilizationHandler } from '../../../lambdas/handlers/poll-stabilization';
import { createRegisterWaitHandler } from '../../../lambdas/handlers/register-wait';
import { testDeps } from '../../support/deps';
import {
  ACCOUNT,
  CLUSTER,
  NEW_TASK_DEF,
  OLD_DEPLOYMENT,
  OLD_TASK_DEF,
  OUR_DEPLOYMENT,
  SERVICE,
  cannotPullTask,
  deployment,
  deploymentStateChange,
  describeServices,
  describeTaskDefinition,
  describeTasks,
  essentialExitTask,
  healthCheckKilledTask,
  taskStateChange,
} from './ecs-fixtures';
import { fakeWaitTable } from './wait-table-fake';

const ecs = mockClient(ECSClient);
const sfn = mockClient(SFNClient);
const table = fakeWaitTable();

const EXECUTION = 'arn:aws:states:eu-central-1:123456789012:execution:Afu9Deployment:staging-3f9c2ab';
function waitInput(taskToken: string, executionId = EXECUTION) {
  return { taskToken, executionId, deploymentId: OUR_DEPLOYMENT, clusterName: CLUSTER, serviceName: SERVICE };
}

const crashStop = taskStateChange(essentialExitTask);
const pullStop = taskStateChange(cannotPullTask);
const healthCheckStop = taskStateChange(healthCheckKilledTask);

function wakes(): { token: string; wake: DeploymentWake }[] {
  return sfn.commandCalls(SendTaskSuccessCommand).map((call) => ({
    token: call.args[0].input.taskToken!,
    wake: JSON.parse(call.args[0].input.output!) as DeploymentWake,
  }));
}

function awsError(name: string, httpStatusCode: number) {
  return Object.assign(new Error(`${name} from the service`), { name, $metadata: { httpStatusCode } });
}

beforeEach(() => {
  table.items.clear();
  ecs.on(DescribeServicesCommand).resolves(describeServices([deployment({ id: OUR_DEPLOYMENT })]));
  sfn.on(SendTaskSuccessCommand).resolves({});
});
afterEach(() => {
  ecs.reset();
  sfn.reset();
});

describe('a stopped task of the deployment wakes the waiting execution', () => {
  it('wakes the waiting execution once with TASK_STOPPED, the task and why it stopped', async () => {
    // Prepare
    const deps = testDeps();
    await createRegisterWaitHandler(deps)(waitInput('token-1'));

    // Act
    const result = await createDeploymentEventHandler(deps)(crashStop);

    // Assess
    expect(result.action).toBe('woken');
    expect(wakes()).toEqual([
      {
        token: 'token-1',
        wake: {
          source: 'event',
          eventName: 'TASK_STOPPED',
          deploymentId: OUR_DEPLOYMENT,
          taskArn: essentialExitTask.taskArn,
          reason:
            'Essential container in task exited (EssentialContainerExited); ' +
            'container control-center exited with code 1; container mcp-github exited with code 143',
        },
      },
    ]);
    expect(deps.logLines.some((line) => line.includes(EXECUTION) && line.includes(OUR_DEPLOYMENT))).toBe(
      true,
    );
  });

  it('a duplicate delivery of the same stop wakes nobody, before or after the wait re-registered', async () => {
    const deps = testDeps();
    await createRegisterWaitHandler(deps)(waitInput('token-1'));
    await createDeploymentEventHandler(deps)(crashStop);

    const duplicateBetweenWaits = await createDeploymentEventHandler(deps)(crashStop);
    const again = await createRegisterWaitHandler(deps)(waitInput('token-2'));
    const duplicateWhileWaiting = await createDeploymentEventHandler(deps)(crashStop);

    expect(duplicateBetweenWaits.action).toBe('already-woken');
    expect(again.action).toBe('waiting');
    expect(duplicateWhileWaiting.action).toBe('already-woken');
    expect(wakes().map((w) => w.token)).toEqual(['token-1']);
  });

  it('a second, different stop wakes the re-registered wait', async () => {
    const deps = testDeps();
    await createRegisterWaitHandler(deps)(waitInput('token-1'));
    await createDeploymentEventHandler(deps)(healthCheckStop);
    await createRegisterWaitHandler(deps)(waitInput('token-2'));

    const second = await createDeploymentEventHandler(deps)(pullStop);

    expect(second.action).toBe('woken');
    expect(wakes().map((w) => [w.token, w.wake.taskArn])).toEqual([
      ['token-1', healthCheckKilledTask.taskArn],
      ['token-2', cannotPullTask.taskArn],
    ]);
    expect(wakes()[1]!.wake.reason).toContain('CannotPullContainerError');
  });

  it('a stop that arrives between two waits wakes the next wait at once, without asking ECS', async () => {
    const deps = testDeps();
    await createRegisterWaitHandler(deps)(waitInput('token-1'));
    await createDeploymentEventHandler(deps)(healthCheckStop);
    ecs.resetHistory();

    const between = await createDeploymentEventHandler(deps)(pullStop);
    const next = await createRegisterWaitHandler(deps)(waitInput('token-2'));

    expect(between.action).toBe('stored');
    expect(next).toMatchObject({ action: 'woken', wake: { taskArn: cannotPullTask.taskArn } });
    expect(ecs).not.toHaveReceivedCommand(DescribeServicesCommand);
  });

  it('the outcome arriving while the execution judged a stop wakes its next wait (not only the safety net)', async () => {
    const deps = testDeps();
    await createRegisterWaitHandler(deps)(waitInput('token-1'));
    await createDeploymentEventHandler(deps)(healthCheckStop);

    const outcome = await createDeploymentEventHandler(deps)(
      deploymentStateChange('SERVICE_DEPLOYMENT_COMPLETED'),
    );
    const next = await createRegisterWaitHandler(deps)(waitInput('token-2'));

    expect(outcome.action).toBe('stored');
    expect(next).toMatchObject({
      action: 'woken',
      wake: { source: 'event', eventName: 'SERVICE_DEPLOYMENT_COMPLETED' },
    });
  });

  it('after a stop woke it, the next wait still catches an outcome whose event was lost', async () => {
    const deps = testDeps();
    await createRegisterWaitHandler(deps)(waitInput('token-1'));
    await createDeploymentEventHandler(deps)(healthCheckStop);
    ecs
      .on(DescribeServicesCommand)
      .resolves(
        describeServices([deployment({ id: OUR_DEPLOYMENT, rolloutState: 'COMPLETED', runningCount: 1 })]),
      );

    const next = await createRegisterWaitHandler(deps)(waitInput('token-2'));

    expect(next).toMatchObject({
      action: 'woken',
      wake: { source: 'already-finished', eventName: 'SERVICE_DEPLOYMENT_COMPLETED' },
    });
  });

  it.each([0, 1, 2, 3])(
    'a stop racing the register step (interleaving %i) wakes exactly once',
    async (seed) => {
      const deps = testDeps();
      const later = (steps: number) => new Promise<void>((resolve) => setTimeout(resolve, steps));

      await Promise.all([
        later(seed % 2).then(() => createRegisterWaitHandler(deps)(waitInput('token-1'))),
        later(seed >> 1).then(() => createDeploymentEventHandler(deps)(crashStop)),
        later(seed >> 1).then(() => createDeploymentEventHandler(deps)(crashStop)),
      ]);

      expect(wakes()).toHaveLength(1);
      expect(wakes()[0]!.wake.eventName).toBe('TASK_STOPPED');
    },
  );

  it('a stop meeting a timed-out token gives its claim back, so the next wait gets it', async () => {
    const deps = testDeps();
    await createRegisterWaitHandler(deps)(waitInput('token-1'));
    sfn.on(SendTaskSuccessCommand, { taskToken: 'token-1' }).rejects(awsError('TaskTimedOut', 400));

    const onStop = await createDeploymentEventHandler(deps)(crashStop);
    const next = await createRegisterWaitHandler(deps)(waitInput('token-2'));

    expect(onStop.action).toBe('execution-moved-on');
    expect(next).toMatchObject({ action: 'woken', wake: { eventName: 'TASK_STOPPED' } });
    expect(wakes().at(-1)!.token).toBe('token-2');
  });
});

describe('a stop that arrives before the token is stored is not lost', () => {
  it('the first wait of the execution wakes at once with it, and waiting again does not spin', async () => {
    const deps = testDeps();

    const onStop = await createDeploymentEventHandler(deps)(crashStop);
    const first = await createRegisterWaitHandler(deps)(waitInput('token-1'));
    const again = await createRegisterWaitHandler(deps)(waitInput('token-2'));

    expect(onStop.action).toBe('stored');
    expect(first).toMatchObject({ action: 'woken', wake: { eventName: 'TASK_STOPPED' } });
    expect(again.action).toBe('waiting');
    expect(wakes().map((w) => w.token)).toEqual(['token-1']);
  });

  it('one wake-up covers every stop stored so far: the poll it leads to sees them all', async () => {
    const deps = testDeps();
    await createDeploymentEventHandler(deps)(healthCheckStop);
    await createDeploymentEventHandler(deps)(crashStop);

    await createRegisterWaitHandler(deps)(waitInput('token-1'));
    const again = await createRegisterWaitHandler(deps)(waitInput('token-2'));

    expect(again.action).toBe('waiting');
    expect(wakes()).toHaveLength(1);
  });

  it('another execution waiting on the same deployment is woken by stops the first one already saw', async () => {
    const deps = testDeps();
    await createRegisterWaitHandler(deps)(waitInput('token-1'));
    await createDeploymentEventHandler(deps)(crashStop);

    const other = await createRegisterWaitHandler(deps)(waitInput('token-9', `${EXECUTION}-retry`));

    expect(other).toMatchObject({ action: 'woken', wake: { taskArn: essentialExitTask.taskArn } });
  });
});

describe('stops that are not of the waiting deployment', () => {
  it('a stopped task of another deployment of the service is stored under that deployment only', async () => {
    const deps = testDeps();
    await createRegisterWaitHandler(deps)(waitInput('token-1'));
    const drained = taskStateChange({
      ...healthCheckKilledTask,
      startedBy: OLD_DEPLOYMENT,
      taskDefinitionArn: OLD_TASK_DEF,
      stopCode: 'ServiceSchedulerInitiated',
      stoppedReason: `Scaling activity initiated by (deployment ${OUR_DEPLOYMENT})`,
    });

    const result = await createDeploymentEventHandler(deps)(drained);

    expect(result.action).toBe('stored');
    const key = waitRecordKey(OLD_DEPLOYMENT);
    expect(table.items.has(`${key.pk}|${key.sk}`)).toBe(true);
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  it.each([
    ['another service', { group: 'service:some-other-service' }],
    ['another cluster', { clusterArn: `arn:aws:ecs:eu-central-1:${ACCOUNT}:cluster/other-cluster` }],
    ['a task no service started', { group: 'family:afu9-control-center', startedBy: undefined }],
    ['a task that has not stopped', { lastStatus: 'RUNNING', desiredStatus: 'RUNNING' }],
  ])('ignores %s without touching the table', async (_case, overrides) => {
    const deps = testDeps();
    await createRegisterWaitHandler(deps)(waitInput('token-1'));
    table.items.clear();

    const result = await createDeploymentEventHandler(deps)(
      taskStateChange({ ...essentialExitTask, ...overrides }),
    );

    expect(result.action).toBe('ignored');
    expect(table.items.size).toBe(0);
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  it('rejects a task event without a task ARN, saying what is wrong', async () => {
    const broken = { ...crashStop, detail: { ...crashStop.detail, taskArn: undefined } };

    await expect(createDeploymentEventHandler(testDeps())(broken)).rejects.toMatchObject({
      name: 'DeploymentRejected',
      message: expect.stringContaining('taskArn'),
    });
  });
});

describe('from the stop to the judgement', () => {
  const target: RolloutTarget = {
    deploymentId: OUR_DEPLOYMENT,
    taskDefinitionArn: NEW_TASK_DEF,
    previousTaskDefinitionArn: OLD_TASK_DEF,
    deadline: '2026-11-27T09:30:00.000Z',
  };
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

  function stoppedInEcs(task: typeof healthCheckKilledTask) {
    ecs.on(ListTasksCommand).resolves({ taskArns: [task.taskArn!] });
    ecs.on(DescribeTasksCommand).resolves(describeTasks([task]));
    ecs.on(DescribeTaskDefinitionCommand).resolves(describeTaskDefinition());
  }

  it('a crash on boot: the stop wakes the wait and the poll fails the rollout at once', async () => {
    const deps = testDeps();
    await createRegisterWaitHandler(deps)(waitInput('token-1'));
    stoppedInEcs(essentialExitTask);

    await createDeploymentEventHandler(deps)(crashStop);
    const judgement = await createPollStabilizationHandler(deps)({ executionId: EXECUTION, request, target });

    expect(wakes()).toHaveLength(1);
    expect(judgement.status).toBe('FAILED');
    expect(judgement.reason).toContain('essential container control-center exited with code 1');
  });

  it('a stop that may heal (ELB health checks) costs one poll, then the execution waits again', async () => {
    const deps = testDeps();
    await createRegisterWaitHandler(deps)(waitInput('token-1'));
    stoppedInEcs(healthCheckKilledTask);

    await createDeploymentEventHandler(deps)(healthCheckStop);
    const judgement = await createPollStabilizationHandler(deps)({ executionId: EXECUTION, request, target });
    const again = await createRegisterWaitHandler(deps)(waitInput('token-2'));
    await createDeploymentEventHandler(deps)(healthCheckStop);

    expect(judgement.status).toBe('IN_PROGRESS');
    expect(again.action).toBe('waiting');
    expect(wakes().map((w) => w.token)).toEqual(['token-1']);
  });
});
