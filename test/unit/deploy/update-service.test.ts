import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { RegisteredRevision } from '../../../lambdas/domain/ledger';
import { createUpdateServiceHandler } from '../../../lambdas/handlers/update-service';
import { testDeps } from '../../support/deps';
import {
  awsError,
  deployment,
  executionId,
  newDigest,
  primaryImage,
  registry,
  requestStartedAt,
  runningTaskDefinition,
  service,
  stagingRequest,
  stagingTaskDefinitionArn,
  steadyDeployment,
  taskDefinitionArn,
} from './fixtures';

const ecs = mockClient(ECSClient);
const dynamodb = mockClient(DynamoDBDocumentClient);

const running = taskDefinitionArn(41);
const registered = stagingTaskDefinitionArn(1);
const now = new Date('2026-11-27T09:00:00.000Z');

/** This execution's deployment record, as ResolveRequest wrote it. */
const recordKey = {
  pk: 'ENV#staging',
  sk: `DEPLOYMENT#${requestStartedAt}#staging-stage-3f9c2ab-1`,
};

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

function ourTags() {
  return [
    { key: 'afu9:execution-id', value: executionId },
    { key: 'afu9:deployment-key', value: `staging:${newDigest}` },
    { key: 'afu9:previous-task-definition', value: running },
  ];
}

/** Tags the AFU-9 ECS stack puts on its task definition (CDK `Tags.of`, CloudFormation's own). */
const stackTags = [
  { key: 'project', value: 'afu9' },
  { key: 'cost-center', value: 'platform' },
  { key: 'aws:cloudformation:stack-name', value: 'Afu9EcsStack' },
];

function givenService(deployments = [steadyDeployment]): void {
  ecs.on(DescribeServicesCommand).resolves({ services: [service(deployments)], failures: [] });
}

function givenRunning(tags: { key: string; value: string }[] = stackTags): void {
  ecs
    .on(DescribeTaskDefinitionCommand, { taskDefinition: running })
    .resolves({ taskDefinition: runningTaskDefinition(41), tags });
}

const recordedRevision: RegisteredRevision = {
  taskDefinitionArn: registered,
  previousTaskDefinitionArn: running,
  registeredAt: '2026-11-27T09:00:00.000Z',
};

/** The execution's deployment record; `registeredRevision` once an attempt recorded one. */
function givenRecord(registeredRevision?: RegisteredRevision): void {
  dynamodb
    .on(GetCommand)
    .resolves({ Item: { ...recordKey, ...(registeredRevision && { registeredRevision }) } });
  dynamodb.on(UpdateCommand).resolves({});
}

function givenRegisterAndUpdateSucceed(): void {
  ecs.on(RegisterTaskDefinitionCommand).resolves({
    taskDefinition: {
      ...runningTaskDefinition(1),
      family: 'afu9-control-center-staging',
      taskDefinitionArn: registered,
    },
  });
  ecs.on(UpdateServiceCommand).resolves({ service: service([rollingOut, drainingOld]) });
}

const update = (deps = testDeps({ now })) =>
  createUpdateServiceHandler(deps)({ executionId, request: stagingRequest(), images: [primaryImage] });

afterEach(() => {
  ecs.reset();
  dynamodb.reset();
});

describe('UpdateService', () => {
  it("registers the running revision with only the new image, in the environment's own family, and starts the deployment", async () => {
    givenService();
    givenRunning();
    givenRecord();
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
      family: 'afu9-control-center-staging',
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
    expect(input.tags).toEqual([...stackTags.filter((tag) => !tag.key.startsWith('aws:')), ...ourTags()]);
    expect(dynamodb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: recordKey,
      UpdateExpression: 'SET registeredRevision = :revision',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(registeredRevision)',
      ExpressionAttributeValues: { ':revision': recordedRevision },
    });
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
    givenRunning();
    givenRecord();

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
    givenRunning();
    givenRecord();

    await expect(update()).rejects.toMatchObject({
      name: 'DeploymentInProgress',
      message: expect.stringContaining('still has 2 deployments'),
    });
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('records the registered revision in its deployment record before it asks ECS to run it', async () => {
    // Prepare
    givenService();
    givenRunning();
    givenRecord();
    givenRegisterAndUpdateSucceed();
    let recordedBeforeUpdate = false;
    ecs.on(UpdateServiceCommand).callsFake(() => {
      recordedBeforeUpdate = dynamodb.commandCalls(UpdateCommand).length === 1;
      return { service: service([rollingOut, drainingOld]) };
    });

    // Act
    await update();

    // Assess
    expect(recordedBeforeUpdate).toBe(true);
    expect(dynamodb).toHaveReceivedCommandWith(GetCommand, {
      Key: recordKey,
      ConsistentRead: true,
    });
  });

  it('on a retry after the update went through, returns the same deployment without registering or updating again', async () => {
    // Prepare
    givenService([rollingOut, drainingOld]);
    givenRecord(recordedRevision);
    const retriedAt = new Date('2026-11-27T09:01:30.000Z');

    // Act
    const result = await update(testDeps({ now: retriedAt }));

    // Assess
    expect(result).toEqual({
      previousTaskDefinitionArn: running,
      taskDefinitionArn: registered,
      deploymentId: 'ecs-svc/2222222222222222222',
      startedAt: '2026-11-27T09:00:00.000Z',
      deadline: '2026-11-27T09:30:00.000Z',
    });
    expect(ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
    expect(dynamodb).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('finds its own revision exactly, however many revisions the family has, without listing the family', async () => {
    // Prepare: six newer revisions (other executions, other environments) than its own
    givenService([rollingOut, drainingOld]);
    givenRecord(recordedRevision);
    ecs.on(ListTaskDefinitionsCommand).resolves({
      taskDefinitionArns: [7, 6, 5, 4, 3, 2].map(stagingTaskDefinitionArn),
    });

    // Act
    const result = await update();

    // Assess
    expect(result.taskDefinitionArn).toBe(registered);
    expect(ecs).not.toHaveReceivedCommand(ListTaskDefinitionsCommand);
    expect(ecs).not.toHaveReceivedCommand(DescribeTaskDefinitionCommand);
  });

  it('on a retry after only the register and its record went through, reuses that revision instead of registering a second', async () => {
    // Prepare
    givenService();
    givenRecord(recordedRevision);
    ecs.on(UpdateServiceCommand).resolves({ service: service([rollingOut, drainingOld]) });

    // Act
    const result = await update();

    // Assess
    expect(result.taskDefinitionArn).toBe(registered);
    expect(ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
    expect(ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
  });

  it('deploys the revision an earlier attempt recorded first when it loses the race to record its own', async () => {
    // Prepare
    givenService();
    givenRunning();
    givenRegisterAndUpdateSucceed();
    const earlier = { ...recordedRevision, taskDefinitionArn: stagingTaskDefinitionArn(2) };
    dynamodb
      .on(GetCommand)
      .resolvesOnce({ Item: { ...recordKey } })
      .resolves({ Item: { ...recordKey, registeredRevision: earlier } });
    dynamodb.on(UpdateCommand).rejects(awsError('ConditionalCheckFailedException'));
    ecs.on(UpdateServiceCommand).resolves({
      service: service([{ ...rollingOut, taskDefinition: earlier.taskDefinitionArn }, drainingOld]),
    });

    // Act
    const result = await update();

    // Assess
    expect(result.taskDefinitionArn).toBe(earlier.taskDefinitionArn);
    expect(ecs).toHaveReceivedCommandWith(UpdateServiceCommand, {
      taskDefinition: earlier.taskDefinitionArn,
    });
  });

  it('throws UpdateFailed before registering anything when the execution has no deployment record', async () => {
    // Prepare
    givenService();
    givenRunning();
    dynamodb.on(GetCommand).resolves({});

    // Act
    const error = await update().catch((caught: Error) => caught);

    // Assess
    expect(error).toMatchObject({ name: 'UpdateFailed' });
    expect((error as Error).message).toContain(
      `The deployment record of staging-stage-3f9c2ab-1 (staging, started ${requestStartedAt}) is not in the ledger table`,
    );
    expect(ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('throws UpdateFailed when the request carries no startedAt (no record to write the revision on)', async () => {
    // Prepare
    givenService();

    // Act
    const error = await createUpdateServiceHandler(testDeps())({
      executionId,
      request: stagingRequest({ startedAt: undefined }),
      images: [primaryImage],
    }).catch((caught: Error) => caught);

    // Assess
    expect(error).toMatchObject({
      name: 'UpdateFailed',
      message: expect.stringContaining('carries no startedAt'),
    });
    expect(ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
  });

  it('throws UpdateFailed, and never updates the service, when the ledger refuses the record write', async () => {
    // Prepare
    givenService();
    givenRunning();
    givenRecord();
    givenRegisterAndUpdateSucceed();
    dynamodb
      .on(UpdateCommand)
      .rejects(awsError('AccessDeniedException', 'client', 'not authorized to perform: dynamodb:UpdateItem'));

    // Act
    const error = await update().catch((caught: Error) => caught);

    // Assess
    expect(error).toMatchObject({
      name: 'UpdateFailed',
      message: expect.stringContaining('the service was not changed'),
    });
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('throws TransientAwsError, and never updates the service, when the ledger is throttled', async () => {
    // Prepare
    givenService();
    givenRunning();
    givenRecord();
    givenRegisterAndUpdateSucceed();
    dynamodb.on(UpdateCommand).rejects(awsError('ProvisionedThroughputExceededException', 'client'));

    // Act / Assess
    await expect(update()).rejects.toMatchObject({ name: 'TransientAwsError' });
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it("keeps the running revision's tags, leaves out AWS's reserved aws: tags and lets its own tags win", async () => {
    // Prepare
    givenService();
    givenRunning([
      { key: 'project', value: 'afu9' },
      { key: 'aws:cloudformation:logical-id', value: 'TaskDefinitionB36D86D9' },
      { key: 'afu9:execution-id', value: 'an-older-execution' },
    ]);
    givenRecord();
    givenRegisterAndUpdateSucceed();

    // Act
    await update();

    // Assess
    expect(ecs).toHaveReceivedCommandWith(RegisterTaskDefinitionCommand, {
      tags: [{ key: 'project', value: 'afu9' }, ...ourTags()],
    });
  });

  it("refuses, before registering, a revision that would exceed ECS's 50 tags", async () => {
    // Prepare
    givenService();
    givenRunning(Array.from({ length: 48 }, (_, index) => ({ key: `team-tag-${index}`, value: 'x' })));
    givenRecord();

    // Act
    const error = await update().catch((caught: Error) => caught);

    // Assess
    expect(error).toMatchObject({ name: 'UpdateFailed' });
    expect((error as Error).message).toContain(
      "the running task definition carries 48 tags of its own; with the orchestrator's 3",
    );
    expect((error as Error).message).toContain('remove at least 1 tag(s)');
    expect(ecs).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
  });

  it('throws UpdateFailed when ECS refuses the new revision, and never touches the service', async () => {
    givenService();
    givenRunning();
    givenRecord();
    ecs
      .on(RegisterTaskDefinitionCommand)
      .rejects(awsError('ClientException', 'client', 'Invalid setting for container memory.'));

    const error = await update().catch((caught: Error) => caught);

    expect(error).toMatchObject({ name: 'UpdateFailed', cause: { name: 'ClientException' } });
    expect((error as Error).message).toContain(
      'ECS refused to register the next revision of afu9-control-center-staging (ClientException: Invalid setting',
    );
    expect((error as Error).message).toContain('the service was not changed');
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('throws UpdateFailed when ECS refuses the service update', async () => {
    givenService();
    givenRunning();
    givenRecord();
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
    givenRunning();
    givenRecord();
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
    givenRunning();
    givenRecord();

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
