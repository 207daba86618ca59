import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { createUpdateServiceHandler } from '../../../lambdas/handlers/update-service';
import { testDeps } from '../../support/deps';
import {
  awsError,
  deployment,
  executionId,
  newDigest,
  otherExecutionId,
  primaryImage,
  registry,
  runningTaskDefinition,
  service,
  stagingRequest,
  steadyDeployment,
  taskDefinitionArn,
} from './fixtures';

const ecs = mockClient(ECSClient);

const running = taskDefinitionArn(41);
const registered = taskDefinitionArn(42);
const now = new Date('2026-11-27T09:00:00.000Z');

const rollingOut = deployment({
  id: 'ecs-svc/2222222222222222222',
  status: 'PRIMARY',
  taskDefinition: registered,
  rolloutState: 'IN_PROGRESS',
  rolloutStateReason: 'ECS deployment ecs-svc/2222222222222222222 in progress.',
  runningCount: 0,
  createdAt: now,
  updatedAt: now,
});
const drainingOld = { ...steadyDeployment, status: 'ACTIVE' };

function ourTags(execution = executionId) {
  return [
    { key: 'afu9:execution-id', value: execution },
    { key: 'afu9:deployment-key', value: `staging:${newDigest}` },
    { key: 'afu9:previous-task-definition', value: running },
  ];
}

function givenService(deployments = [steadyDeployment]): void {
  ecs.on(DescribeServicesCommand).resolves({ services: [service(deployments)], failures: [] });
}

function givenRevisions(newest: { arn: string; tags: { key: string; value: string }[] }[] = []): void {
  ecs.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [...newest.map((r) => r.arn), running] });
  ecs
    .on(DescribeTaskDefinitionCommand, { taskDefinition: running })
    .resolves({ taskDefinition: runningTaskDefinition(41), tags: [] });
  for (const revision of newest) {
    ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: revision.arn }).resolves({
      taskDefinition: { ...runningTaskDefinition(42), taskDefinitionArn: revision.arn },
      tags: revision.tags,
    });
  }
}

function givenRegisterAndUpdateSucceed(): void {
  ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { ...runningTaskDefinition(42) } });
  ecs.on(UpdateServiceCommand).resolves({ service: service([rollingOut, drainingOld]) });
}

const update = (deps = testDeps({ now })) =>
  createUpdateServiceHandler(deps)({ executionId, request: stagingRequest(), images: [primaryImage] });

afterEach(() => ecs.reset());

describe('UpdateService', () => {
  it('registers the running revision with only the new image and starts the deployment', async () => {
    givenService();
    givenRevisions();
    givenRegisterAndUpdateSucceed();
    const deps = testDeps({ now });

    const result = await update(deps);

    expect(result).toEqual({
      previousTaskDefinitionArn: running,
      taskDefinitionArn: registered,
      deploymentId: 'ecs-svc/2222222222222222222',
      startedAt: '2026-11-27T09:00:00.000Z',
      deadline: '2026-11-27T09:30:00.000Z',
    });
    const input = ecs.commandCalls(RegisterTaskDefinitionCommand)[0]!.args[0].input;
    const before = runningTaskDefinition(41);
    expect(input.containerDefinitions![0]!.image).toBe(`${registry}/afu9/control-center@${newDigest}`);
    expect(input.containerDefinitions!.slice(1)).toEqual(before.containerDefinitions!.slice(1));
    expect(input).toMatchObject({
      family: 'afu9-control-center',
      requiresCompatibilities: ['FARGATE'],
      cpu: '1024',
      memory: '2048',
    });
    for (const field of [
      'taskDefinitionArn',
      'revision',
      'status',
      'requiresAttributes',
      'compatibilities',
      'registeredAt',
      'registeredBy',
    ]) {
      expect(input).not.toHaveProperty(field);
    }
    expect(input.tags).toEqual(ourTags());
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, {
      cluster: 'afu9-cluster',
      service: 'afu9-control-center-staging',
      taskDefinition: registered,
    });
    expect(deps.logLines.every((line) => JSON.parse(line).executionId === executionId)).toBe(true);
    expect(
      deps.logLines.some((line) => JSON.parse(line).deploymentId === 'ecs-svc/2222222222222222222'),
    ).toBe(true);
  });

  it('refuses while the PRIMARY deployment is still rolling out, naming it and what to do', async () => {
    givenService([
      { ...rollingOut, taskDefinition: taskDefinitionArn(40), createdAt: new Date('2026-11-27T08:55:00Z') },
    ]);
    givenRevisions();

    const error = await update().catch((caught: Error) => caught);

    expect(error).toMatchObject({ name: 'DeploymentInProgress' });
    expect((error as Error).message).toContain(
      `Deployment ecs-svc/2222222222222222222 of afu9-control-center-staging (task definition ${taskDefinitionArn(40)}) is still in progress since 2026-11-27T08:55:00.000Z`,
    );
    expect((error as Error).message).toMatch(
      /Wait for it to finish .* or stop it .*aws ecs stop-service-deployment/,
    );
    expect(ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('refuses while an older deployment is still ACTIVE beside the PRIMARY', async () => {
    givenService([
      { ...steadyDeployment, id: 'ecs-svc/3', taskDefinition: taskDefinitionArn(40) },
      drainingOld,
    ]);
    givenRevisions();

    await expect(update()).rejects.toMatchObject({
      name: 'DeploymentInProgress',
      message: expect.stringContaining('still has 2 deployments'),
    });
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('on a retry after the update went through, returns the same deployment without registering or updating again', async () => {
    givenService([rollingOut, drainingOld]);
    givenRevisions([{ arn: registered, tags: ourTags() }]);
    const retriedAt = new Date('2026-11-27T09:01:30.000Z');

    const result = await update(testDeps({ now: retriedAt }));

    expect(result).toEqual({
      previousTaskDefinitionArn: running,
      taskDefinitionArn: registered,
      deploymentId: 'ecs-svc/2222222222222222222',
      startedAt: '2026-11-27T09:00:00.000Z',
      deadline: '2026-11-27T09:30:00.000Z',
    });
    expect(ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
    expect(ecs).toHaveReceivedCommandWith(ListTaskDefinitionsCommand, {
      familyPrefix: 'afu9-control-center',
      sort: 'DESC',
      status: 'ACTIVE',
    });
  });

  it('on a retry after only the register went through, reuses that revision instead of registering a second', async () => {
    givenService();
    givenRevisions([{ arn: registered, tags: ourTags() }]);
    ecs.on(UpdateServiceCommand).resolves({ service: service([rollingOut, drainingOld]) });

    const result = await update();

    expect(result.taskDefinitionArn).toBe(registered);
    expect(ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
    expect(ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
  });

  it("does not take another execution's revision for its own", async () => {
    givenService();
    givenRevisions([{ arn: taskDefinitionArn(43), tags: ourTags(otherExecutionId) }]);
    givenRegisterAndUpdateSucceed();

    await update();

    expect(ecs).toHaveReceivedCommandTimes(RegisterTaskDefinitionCommand, 1);
  });

  it('throws UpdateFailed when ECS refuses the new revision, and never touches the service', async () => {
    givenService();
    givenRevisions();
    ecs
      .on(RegisterTaskDefinitionCommand)
      .rejects(awsError('ClientException', 'client', 'Invalid setting for container memory.'));

    const error = await update().catch((caught: Error) => caught);

    expect(error).toMatchObject({ name: 'UpdateFailed', cause: { name: 'ClientException' } });
    expect((error as Error).message).toContain(
      'ECS refused to register the next revision of afu9-control-center (ClientException: Invalid setting',
    );
    expect((error as Error).message).toContain('the service was not changed');
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('throws UpdateFailed when ECS refuses the service update', async () => {
    givenService();
    givenRevisions();
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: runningTaskDefinition(42) });
    ecs
      .on(UpdateServiceCommand)
      .rejects(
        awsError(
          'InvalidParameterException',
          'client',
          'The container control-center does not exist in the task definition.',
        ),
      );

    await expect(update()).rejects.toMatchObject({
      name: 'UpdateFailed',
      message: expect.stringContaining(`still runs ${running}`),
    });
  });

  it('does not claim "unchanged" when the update may have gone through: a 5xx becomes TransientAwsError, anything else propagates', async () => {
    givenService();
    givenRevisions();
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: runningTaskDefinition(42) });
    ecs
      .on(UpdateServiceCommand)
      .rejectsOnce(awsError('ServerException', 'server'))
      .rejectsOnce(new TypeError('socket hang up'));

    await expect(update()).rejects.toMatchObject({ name: 'TransientAwsError' });
    await expect(update()).rejects.toMatchObject({ name: 'TypeError' });
  });

  it('throws UpdateFailed when the service does not exist', async () => {
    ecs.on(DescribeServicesCommand).resolves({
      services: [],
      failures: [
        {
          arn: 'arn:aws:ecs:eu-central-1:111122223333:service/afu9-cluster/afu9-control-center-staging',
          reason: 'MISSING',
        },
      ],
    });

    await expect(update()).rejects.toMatchObject({
      name: 'UpdateFailed',
      message: expect.stringContaining('is not found'),
    });
  });

  it('throws UpdateFailed when the image to deploy is not pinned by digest', async () => {
    givenService();
    givenRevisions();

    const error = await createUpdateServiceHandler(testDeps())({
      executionId,
      request: stagingRequest(),
      images: [{ ...primaryImage, digest: undefined }],
    }).catch((caught: Error) => caught);

    expect(error).toMatchObject({
      name: 'UpdateFailed',
      message: expect.stringContaining('not pinned by a sha256 digest'),
    });
    expect(ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
  });
});
