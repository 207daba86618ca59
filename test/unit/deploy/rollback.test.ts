import {
  DescribeServicesCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type Deployment,
} from '@aws-sdk/client-ecs';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { nextRevision } from '../../../lambdas/domain/task-definition';
import { createRollbackHandler, type RollbackState } from '../../../lambdas/handlers/rollback';
import { testDeps } from '../../support/deps';
import failedEvent from '../../../events/ecs-deployment-failed.json';
import {
  awsError,
  deployment,
  executionId,
  requestStartedAt,
  runningTaskDefinition,
  service,
  stagingRequest,
  taskDefinitionArn,
} from './fixtures';

const ecs = mockClient(ECSClient);
const dynamodb = mockClient(DynamoDBDocumentClient);

const good = taskDefinitionArn(41);
const bad = taskDefinitionArn(42);
const now = new Date('2026-11-27T09:20:00.000Z');

const ours = deployment({
  id: 'ecs-svc/2222222222222222222',
  status: 'PRIMARY',
  taskDefinition: bad,
  rolloutState: 'IN_PROGRESS',
});
const lastGood = deployment({
  id: 'ecs-svc/1111111111111111111',
  status: 'ACTIVE',
  taskDefinition: good,
  rolloutState: 'COMPLETED',
});
const rollbackStarted = deployment({
  id: 'ecs-svc/3333333333333333333',
  status: 'PRIMARY',
  taskDefinition: good,
  rolloutState: 'IN_PROGRESS',
  createdAt: now,
});

const recordedUpdate = {
  previousTaskDefinitionArn: good,
  taskDefinitionArn: bad,
  deploymentId: 'ecs-svc/2222222222222222222',
  startedAt: '2026-11-27T09:00:00.000Z',
  deadline: '2026-11-27T09:30:00.000Z',
};

function givenDeployments(deployments: Deployment[]): void {
  ecs.on(DescribeServicesCommand).resolves({ services: [service(deployments)], failures: [] });
}

function givenRollbackAccepted(): void {
  ecs
    .on(UpdateServiceCommand)
    .resolves({ service: service([rollbackStarted, { ...ours, status: 'ACTIVE' }]) });
}

const rollBack = (state: RollbackState, deps = testDeps({ now })) =>
  createRollbackHandler(deps)({ executionId, state });

beforeEach(() => {
  // An empty ledger unless a test says otherwise: nothing verified yet.
  dynamodb.on(GetCommand).resolves({});
});

afterEach(() => {
  ecs.reset();
  dynamodb.reset();
});

describe('Rollback', () => {
  it('returns the service to the revision the update recorded and names the deployment to watch', async () => {
    givenDeployments([ours, lastGood]);
    givenRollbackAccepted();

    const result = await rollBack({
      request: stagingRequest(),
      update: recordedUpdate,
      smoke: { passed: false, baseUrl: 'https://stage.afu-9.com', checks: [] },
    });

    expect(result).toEqual({
      action: 'started',
      fromTaskDefinitionArn: bad,
      targetTaskDefinitionArn: good,
      deploymentId: 'ecs-svc/3333333333333333333',
      deadline: '2026-11-27T09:50:00.000Z',
      reason: expect.stringMatching(/^the smoke test failed .*returning from .*:42 to .*:41/),
    });
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, {
      cluster: 'afu9-cluster',
      service: 'afu9-control-center-staging',
      taskDefinition: good,
      forceNewDeployment: true,
    });
  });

  it("returns a sidecar-only deployment to the whole previous revision: every container's image as before", async () => {
    // Prepare: revision 42 is 41 with only mcp-github's image changed, as UpdateService builds it.
    const before = runningTaskDefinition(41);
    const sidecarImage = {
      container: 'mcp-github',
      repository: 'afu9/mcp-github',
      tag: 'stage-5e6f7a8',
      digest: `sha256:${'5e'.repeat(32)}`,
    };
    const plan = nextRevision(before, [sidecarImage], { running: [], own: [] });
    if (!plan.ok) throw new Error(plan.problems.join('; '));
    const imagesOf = (containers: readonly { name?: string; image?: string }[] | undefined) =>
      Object.fromEntries((containers ?? []).map((container) => [container.name, container.image]));
    const changed = Object.entries(imagesOf(plan.input.containerDefinitions))
      .filter(([name, image]) => imagesOf(before.containerDefinitions)[name!] !== image)
      .map(([name]) => name);
    expect(changed).toEqual(['mcp-github']);
    givenDeployments([ours, lastGood]);
    givenRollbackAccepted();

    // Act
    const result = await rollBack({
      request: stagingRequest({ images: [sidecarImage], version: 'stage-5e6f7a8' }),
      update: recordedUpdate,
      smoke: { passed: false, baseUrl: 'https://stage.afu-9.com', checks: [] },
    });

    // Assess: the service goes back to revision 41 itself (revisions are immutable), so the primary
    // and every sidecar run the images of 41 again, not a copy with only the sidecar reverted.
    expect(result.targetTaskDefinitionArn).toBe(before.taskDefinitionArn);
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { taskDefinition: before.taskDefinitionArn });
    expect(ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
  });

  it('starts nothing when ECS already rolled back, and watches the deployment ECS started', async () => {
    givenDeployments([rollbackStarted, { ...ours, status: 'ACTIVE', rolloutState: 'FAILED' }]);

    const result = await rollBack({
      request: stagingRequest(),
      update: recordedUpdate,
      rollout: {
        status: 'ROLLED_BACK_BY_ECS',
        deploymentId: recordedUpdate.deploymentId,
        reason: 'ECS returned the service to revision 41',
        runningCount: 1,
        desiredCount: 1,
        recentEvents: [],
        stoppedTasks: [],
        nextCheckSeconds: 0,
      },
    });

    expect(result).toMatchObject({
      action: 'already-rolled-back',
      deploymentId: 'ecs-svc/3333333333333333333',
      targetTaskDefinitionArn: good,
      fromTaskDefinitionArn: bad,
    });
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('without $.update, finds the revision this execution recorded and returns to the last COMPLETED one', async () => {
    // Prepare
    givenDeployments([ours, lastGood]);
    dynamodb
      .on(GetCommand, {
        Key: { pk: 'ENV#staging', sk: `DEPLOYMENT#${requestStartedAt}#staging-stage-3f9c2ab-1` },
      })
      .resolves({
        Item: {
          registeredRevision: {
            taskDefinitionArn: bad,
            previousTaskDefinitionArn: good,
            registeredAt: '2026-11-27T09:00:00.000Z',
          },
        },
      });
    givenRollbackAccepted();

    // Act
    const result = await rollBack({
      request: stagingRequest(),
      error: { Error: 'States.Timeout', Cause: 'Task timed out' },
    });

    // Assess
    expect(result).toMatchObject({
      action: 'started',
      targetTaskDefinitionArn: good,
      fromTaskDefinitionArn: bad,
    });
    expect(result.reason).toMatch(/^States.Timeout: Task timed out/);
    expect(ecs).not.toHaveReceivedCommand(ListTaskDefinitionsCommand);
  });

  it('without $.update, ends in RollbackFailed with the manual command when its deployment record cannot be read', async () => {
    // Prepare
    givenDeployments([ours, lastGood]);
    dynamodb
      .on(GetCommand)
      .rejects(awsError('AccessDeniedException', 'client', 'not authorized to perform: dynamodb:GetItem'));

    // Act
    const error = await rollBack({
      request: stagingRequest(),
      error: { Error: 'Lambda.Unknown', Cause: 'Runtime exited with error: signal: killed' },
    }).catch((caught: Error) => caught);

    // Assess
    expect(error).toMatchObject({ name: 'RollbackFailed' });
    expect((error as Error).message).toContain(
      'Reading the revision this execution recorded in its deployment record failed (AccessDeniedException',
    );
    expect((error as Error).message).toContain('aws ecs update-service --cluster afu9-cluster');
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('from an ECS circuit-breaker event, returns to the last COMPLETED deployment when ECS did not', async () => {
    const failedId = failedEvent.detail.deploymentId;
    givenDeployments([{ ...ours, id: failedId, rolloutState: 'FAILED' }, lastGood]);
    givenRollbackAccepted();

    const result = await rollBack({
      request: stagingRequest({
        kind: 'rollback',
        trigger: 'ecs-deployment-failed',
        images: [],
        failedDeploymentId: failedId,
        failureReason: failedEvent.detail.reason,
      }),
    });

    expect(result).toMatchObject({
      action: 'started',
      targetTaskDefinitionArn: good,
      fromTaskDefinitionArn: bad,
    });
    expect(result.reason).toContain(
      `ECS deployment ${failedId} failed (ECS deployment circuit breaker: task failed to start.)`,
    );
  });

  it('from an ECS circuit-breaker event, watches the rollback ECS itself started', async () => {
    const failedId = failedEvent.detail.deploymentId;
    givenDeployments([rollbackStarted, { ...ours, id: failedId, status: 'ACTIVE', rolloutState: 'FAILED' }]);

    const result = await rollBack({
      request: stagingRequest({
        kind: 'rollback',
        trigger: 'ecs-deployment-failed',
        images: [],
        failedDeploymentId: failedId,
      }),
    });

    expect(result).toMatchObject({
      action: 'already-rolled-back',
      deploymentId: 'ecs-svc/3333333333333333333',
      targetTaskDefinitionArn: good,
    });
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('from an ECS circuit-breaker event, returns to the revision the ledger verified last', async () => {
    // Prepare: ECS shows two COMPLETED-looking candidates; only the ledger knows which one was verified.
    const failedId = failedEvent.detail.deploymentId;
    const verified = taskDefinitionArn(40);
    givenDeployments([{ ...ours, id: failedId, rolloutState: 'FAILED' }, lastGood]);
    givenRollbackAccepted();
    dynamodb.on(GetCommand).resolves({
      Item: {
        pk: 'ENV#staging',
        sk: 'LIVE',
        environment: 'staging',
        taskDefinitionArn: verified,
        since: now.toISOString(),
      },
    });
    ecs.on(UpdateServiceCommand).resolves({
      service: service([
        { ...rollbackStarted, taskDefinition: verified },
        { ...ours, status: 'ACTIVE' },
      ]),
    });

    // Act
    const result = await rollBack({
      request: stagingRequest({
        kind: 'rollback',
        trigger: 'ecs-deployment-failed',
        images: [],
        failedDeploymentId: failedId,
      }),
    });

    // Assess
    expect(result).toMatchObject({ action: 'started', targetTaskDefinitionArn: verified });
    expect(result.reason).toContain('the deployment ledger records it as the last verified revision');
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { taskDefinition: verified });
  });

  it('ignores a ledger that names the failing revision itself', async () => {
    const failedId = failedEvent.detail.deploymentId;
    givenDeployments([{ ...ours, id: failedId, rolloutState: 'FAILED' }, lastGood]);
    givenRollbackAccepted();
    dynamodb
      .on(GetCommand)
      .resolves({ Item: { environment: 'staging', taskDefinitionArn: bad, since: now.toISOString() } });

    const result = await rollBack({
      request: stagingRequest({
        kind: 'rollback',
        trigger: 'ecs-deployment-failed',
        images: [],
        failedDeploymentId: failedId,
      }),
    });

    expect(result).toMatchObject({ action: 'started', targetTaskDefinitionArn: good });
  });

  it('plans from the service alone, with a warning, when the ledger cannot be read', async () => {
    const failedId = failedEvent.detail.deploymentId;
    givenDeployments([{ ...ours, id: failedId, rolloutState: 'FAILED' }, lastGood]);
    givenRollbackAccepted();
    dynamodb
      .on(GetCommand)
      .rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    const deps = testDeps({ now });

    const result = await rollBack(
      {
        request: stagingRequest({
          kind: 'rollback',
          trigger: 'ecs-deployment-failed',
          images: [],
          failedDeploymentId: failedId,
        }),
      },
      deps,
    );

    expect(result).toMatchObject({ action: 'started', targetTaskDefinitionArn: good });
    expect(deps.logLines.join('\n')).toContain('the deployment ledger could not be read');
  });

  describe('asked for by a person (afu9-deploy rollback)', () => {
    const manual = () =>
      stagingRequest({ kind: 'rollback', trigger: 'manual', images: [], version: 'last-good-revision' });
    const steadyOnBad = deployment({
      id: 'ecs-svc/4444444444444444444',
      status: 'PRIMARY',
      taskDefinition: bad,
      rolloutState: 'COMPLETED',
    });

    it('returns to the newest revision the ledger verified before the running one', async () => {
      // Prepare: the service runs :42 (verified too, newest); :41 was verified before it.
      givenDeployments([steadyOnBad]);
      dynamodb.on(QueryCommand).resolves({
        Items: [
          { outcome: 'succeeded', taskDefinitionAfter: bad },
          { outcome: 'blocked' },
          { outcome: 'succeeded', taskDefinitionAfter: good },
        ],
      });
      givenRollbackAccepted();

      // Act
      const result = await rollBack({ request: manual() });

      // Assess
      expect(result).toMatchObject({
        action: 'started',
        fromTaskDefinitionArn: bad,
        targetTaskDefinitionArn: good,
      });
      expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, { taskDefinition: good });
    });

    it('refuses, saying how to deploy instead, when no earlier revision was ever verified', async () => {
      givenDeployments([steadyOnBad]);
      dynamodb.on(QueryCommand).resolves({ Items: [{ outcome: 'succeeded', taskDefinitionAfter: bad }] });

      const error = await rollBack({ request: manual() }).catch((caught: Error) => caught);

      expect(error).toMatchObject({ name: 'RollbackFailed' });
      expect((error as Error).message).toContain('records no verified revision before the running one');
      expect((error as Error).message).toContain('--redeploy');
      expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
    });
  });

  it('trusts the update it recorded over the ledger', async () => {
    givenDeployments([ours, lastGood]);
    givenRollbackAccepted();

    await rollBack({ request: stagingRequest(), update: recordedUpdate });

    expect(dynamodb).not.toHaveReceivedCommand(GetCommand);
  });

  it('refuses when no deployment other than the failed one ever COMPLETED', async () => {
    const failedId = failedEvent.detail.deploymentId;
    givenDeployments([{ ...ours, id: failedId, rolloutState: 'FAILED' }]);

    const error = await rollBack({
      request: stagingRequest({
        kind: 'rollback',
        trigger: 'ecs-deployment-failed',
        images: [],
        failedDeploymentId: failedId,
      }),
    }).catch((caught: Error) => caught);

    expect(error).toMatchObject({ name: 'RollbackFailed' });
    expect((error as Error).message).toContain('no revision is known to be good: deploy a known good image');
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('refuses to "return" to the failing revision', async () => {
    givenDeployments([ours, lastGood]);

    await expect(
      rollBack({ request: stagingRequest(), update: { ...recordedUpdate, previousTaskDefinitionArn: bad } }),
    ).rejects.toMatchObject({
      name: 'RollbackFailed',
      message: expect.stringContaining('is the failing revision itself'),
    });
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('throws RollbackFailed with the command to run by hand when ECS refuses the rollback', async () => {
    givenDeployments([ours, lastGood]);
    ecs
      .on(UpdateServiceCommand)
      .rejects(
        awsError('AccessDeniedException', 'client', 'User is not authorized to perform: ecs:UpdateService'),
      );

    const error = await rollBack({ request: stagingRequest(), update: recordedUpdate }).catch(
      (caught: Error) => caught,
    );

    expect(error).toMatchObject({ name: 'RollbackFailed', cause: { name: 'AccessDeniedException' } });
    expect((error as Error).message).toContain(
      `aws ecs update-service --cluster afu9-cluster --service afu9-control-center-staging --task-definition ${good} --force-new-deployment`,
    );
  });

  it('leaves a throttled rollback to the workflow retry, which then finds the deployment already started', async () => {
    givenDeployments([ours, lastGood]);
    ecs.on(UpdateServiceCommand).rejects(awsError('ThrottlingException', 'client', 'Rate exceeded'));

    await expect(rollBack({ request: stagingRequest(), update: recordedUpdate })).rejects.toMatchObject({
      name: 'TransientAwsError',
    });

    ecs.reset();
    givenDeployments([rollbackStarted, { ...ours, status: 'ACTIVE' }]);
    await expect(rollBack({ request: stagingRequest(), update: recordedUpdate })).resolves.toMatchObject({
      action: 'already-rolled-back',
      deploymentId: 'ecs-svc/3333333333333333333',
    });
  });
});
