import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { waitRecordKey } from '../../../lambdas/aws/deployment-table';
import type { DeploymentWake } from '../../../lambdas/domain/workflow-state';
import { createDeploymentEventHandler } from '../../../lambdas/handlers/deployment-event';
import { createRegisterWaitHandler } from '../../../lambdas/handlers/register-wait';
import { testDeps } from '../../support/deps';
import {
  CLUSTER,
  OUR_DEPLOYMENT,
  SERVICE,
  deployment,
  deploymentStateChange,
  describeServices,
} from './ecs-fixtures';
import { fakeWaitTable } from './wait-table-fake';

const ecs = mockClient(ECSClient);
const sfn = mockClient(SFNClient);
const table = fakeWaitTable();

const EXECUTION = 'arn:aws:states:eu-central-1:123456789012:execution:Afu9Deploy:staging-3f9c2ab';
function waitInput(taskToken = 'token-1') {
  return {
    taskToken,
    executionId: EXECUTION,
    deploymentId: OUR_DEPLOYMENT,
    clusterName: CLUSTER,
    serviceName: SERVICE,
  };
}
const completed = deploymentStateChange('SERVICE_DEPLOYMENT_COMPLETED');
const failed = deploymentStateChange('SERVICE_DEPLOYMENT_FAILED');

function rolloutInEcs(rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED', rolloutStateReason?: string) {
  ecs.on(DescribeServicesCommand).resolves(
    describeServices([
      deployment({
        id: OUR_DEPLOYMENT,
        rolloutState,
        ...(rolloutStateReason ? { rolloutStateReason } : {}),
      }),
    ]),
  );
}

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
  rolloutInEcs('IN_PROGRESS');
  sfn.on(SendTaskSuccessCommand).resolves({});
});
afterEach(() => {
  ecs.reset();
  sfn.reset();
});

describe('waiting for the deployment: register-wait and deployment-event together', () => {
  it('event before token: the register step finds the stored event and wakes the workflow once', async () => {
    // Prepare
    const deps = testDeps();

    // Act
    const onEvent = await createDeploymentEventHandler(deps)(completed);
    const onRegister = await createRegisterWaitHandler(deps)(waitInput());

    // Assess
    expect(onEvent.action).toBe('stored');
    expect(onRegister.action).toBe('woken');
    expect(wakes()).toEqual([
      {
        token: 'token-1',
        wake: {
          source: 'event',
          eventName: 'SERVICE_DEPLOYMENT_COMPLETED',
          deploymentId: OUR_DEPLOYMENT,
          reason: `ECS deployment ${OUR_DEPLOYMENT} completed.`,
        },
      },
    ]);
    expect(ecs).not.toHaveReceivedCommand(DescribeServicesCommand);
  });

  it('token before event: the event wakes the workflow once', async () => {
    const deps = testDeps();

    const onRegister = await createRegisterWaitHandler(deps)(waitInput());
    const onEvent = await createDeploymentEventHandler(deps)(failed);

    expect(onRegister.action).toBe('waiting');
    expect(onEvent.action).toBe('woken');
    expect(wakes()).toEqual([
      {
        token: 'token-1',
        wake: {
          source: 'event',
          eventName: 'SERVICE_DEPLOYMENT_FAILED',
          deploymentId: OUR_DEPLOYMENT,
          reason: 'ECS deployment circuit breaker: task failed to start.',
        },
      },
    ]);
    expect(deps.logLines.some((line) => line.includes(EXECUTION))).toBe(true);
  });

  it('a duplicate event completes the token only once', async () => {
    const deps = testDeps();
    await createRegisterWaitHandler(deps)(waitInput());

    const first = await createDeploymentEventHandler(deps)(completed);
    const second = await createDeploymentEventHandler(deps)(completed);

    expect([first.action, second.action]).toEqual(['woken', 'already-woken']);
    expect(wakes()).toHaveLength(1);
  });

  it.each([0, 1, 2, 3])(
    'register and event racing (interleaving %i) complete the token exactly once',
    async (seed) => {
      const deps = testDeps();
      const later = (steps: number) => new Promise<void>((resolve) => setTimeout(resolve, steps));

      await Promise.all([
        later(seed % 2).then(() => createRegisterWaitHandler(deps)(waitInput())),
        later(seed >> 1).then(() => createDeploymentEventHandler(deps)(completed)),
        later(seed >> 1).then(() => createDeploymentEventHandler(deps)(completed)),
      ]);

      expect(wakes()).toHaveLength(1);
    },
  );

  it('lost event, ECS shows COMPLETED: the register step wakes the workflow itself', async () => {
    rolloutInEcs('COMPLETED', `ECS deployment ${OUR_DEPLOYMENT} completed.`);

    const result = await createRegisterWaitHandler(testDeps())(waitInput());

    expect(result.action).toBe('woken');
    expect(wakes()[0]!.wake).toEqual({
      source: 'already-finished',
      eventName: 'SERVICE_DEPLOYMENT_COMPLETED',
      deploymentId: OUR_DEPLOYMENT,
      reason: `ECS deployment ${OUR_DEPLOYMENT} completed.`,
    });
  });

  it('lost event, ECS shows FAILED: the register step wakes the workflow with the reason', async () => {
    rolloutInEcs('FAILED', 'ECS deployment circuit breaker: tasks failed to start.');

    await createRegisterWaitHandler(testDeps())(waitInput());

    expect(wakes()[0]!.wake).toMatchObject({
      source: 'already-finished',
      eventName: 'SERVICE_DEPLOYMENT_FAILED',
      reason: 'ECS deployment circuit breaker: tasks failed to start.',
    });
  });

  it('waiting again after a wake-up does not wake at once on the same outcome (no spin)', async () => {
    const deps = testDeps();
    await createRegisterWaitHandler(deps)(waitInput('token-1'));
    await createDeploymentEventHandler(deps)(completed);

    const again = await createRegisterWaitHandler(deps)(waitInput('token-2'));

    expect(again.action).toBe('waiting');
    expect(wakes().map((w) => w.token)).toEqual(['token-1']);
  });

  it('an event meeting a timed-out token gives the claim back, so the next wait gets the event', async () => {
    const deps = testDeps();
    await createRegisterWaitHandler(deps)(waitInput('token-1'));
    sfn.on(SendTaskSuccessCommand, { taskToken: 'token-1' }).rejects(awsError('TaskTimedOut', 400));

    const onEvent = await createDeploymentEventHandler(deps)(completed);
    const onRegister = await createRegisterWaitHandler(deps)(waitInput('token-2'));

    expect(onEvent.action).toBe('execution-moved-on');
    expect(
      deps.logLines.some((line) => line.includes('"level":"WARN"') && line.includes('TaskTimedOut')),
    ).toBe(true);
    expect(onRegister.action).toBe('woken');
    expect(wakes().at(-1)!.token).toBe('token-2');
  });

  it('a retried register step whose wait was already completed does nothing', async () => {
    const deps = testDeps();
    await createDeploymentEventHandler(deps)(completed);
    await createRegisterWaitHandler(deps)(waitInput());

    const retried = await createRegisterWaitHandler(deps)(waitInput());

    expect(retried.action).toBe('already-woken');
    expect(wakes()).toHaveLength(1);
  });

  it('refuses an incomplete wait input', async () => {
    await expect(
      createRegisterWaitHandler(testDeps())({ ...waitInput(), deploymentId: '' }),
    ).rejects.toMatchObject({ name: 'RolloutFailed', message: expect.stringContaining('deploymentId') });
  });

  it('fails with TransientAwsError when ECS throttles the lost-event check (the workflow retries)', async () => {
    ecs.on(DescribeServicesCommand).rejects(awsError('ThrottlingException', 400));

    await expect(createRegisterWaitHandler(testDeps())(waitInput())).rejects.toMatchObject({
      name: 'TransientAwsError',
    });
  });
});

describe('deployment-event handler', () => {
  it('ignores IN_PROGRESS events without touching the table', async () => {
    const deps = testDeps();

    const result = await createDeploymentEventHandler(deps)(
      deploymentStateChange('SERVICE_DEPLOYMENT_IN_PROGRESS'),
    );

    expect(result.action).toBe('ignored');
    expect(table.items.size).toBe(0);
    expect(deps.logLines.join('\n')).toContain('IN_PROGRESS');
  });

  it('stores the event under the deployment id', async () => {
    await createDeploymentEventHandler(testDeps())(completed);

    const key = waitRecordKey(OUR_DEPLOYMENT);
    expect(table.items.get(`${key.pk}|${key.sk}`)).toMatchObject({
      deploymentId: OUR_DEPLOYMENT,
      event: { eventName: 'SERVICE_DEPLOYMENT_COMPLETED', time: '2026-11-27T09:04:00Z' },
    });
  });

  it.each(['TaskDoesNotExist', 'InvalidToken'])(
    'logs a warning and succeeds when Step Functions answers %s',
    async (name) => {
      const deps = testDeps();
      await createRegisterWaitHandler(deps)(waitInput());
      sfn.on(SendTaskSuccessCommand).rejects(awsError(name, 400));

      const result = await createDeploymentEventHandler(deps)(completed);

      expect(result.action).toBe('execution-moved-on');
      expect(deps.logLines.some((line) => line.includes('"level":"WARN"') && line.includes(name))).toBe(true);
    },
  );

  it('throws when Step Functions throttles, and the retried event still wakes the workflow once', async () => {
    const deps = testDeps();
    await createRegisterWaitHandler(deps)(waitInput());
    sfn.on(SendTaskSuccessCommand).rejectsOnce(awsError('ThrottlingException', 400)).resolves({});

    await expect(createDeploymentEventHandler(deps)(completed)).rejects.toMatchObject({
      name: 'TransientAwsError',
    });
    const retried = await createDeploymentEventHandler(deps)(completed);

    expect(retried.action).toBe('woken');
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 2);
  });

  it('throws when DynamoDB fails, so EventBridge retries the event', async () => {
    table.failNextUpdate(awsError('ProvisionedThroughputExceededException', 400));

    await expect(createDeploymentEventHandler(testDeps())(completed)).rejects.toMatchObject({
      name: 'ProvisionedThroughputExceededException',
    });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  it('rejects an event that is not an ECS deployment state change, saying what is wrong', async () => {
    const wrong = { ...completed, detail: { ...completed.detail, deploymentId: undefined } };

    await expect(createDeploymentEventHandler(testDeps())(wrong)).rejects.toMatchObject({
      name: 'DeploymentRejected',
      message: expect.stringContaining('deploymentId'),
    });
    await expect(
      createDeploymentEventHandler(testDeps())({ ...completed, 'detail-type': 'ECS Task State Change' }),
    ).rejects.toMatchObject({ name: 'DeploymentRejected' });
  });
});
