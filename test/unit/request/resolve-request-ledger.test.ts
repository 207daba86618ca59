import { ConditionalCheckFailedException, ThrottlingException } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient } from '@aws-sdk/client-sfn';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type PutCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { DescribeImagesCommand, ECRClient, ImageNotFoundException } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { DeploymentInProgress, TransientAwsError } from '../../../lambdas/domain/errors';
import type { DeploymentRequest, ResolveResult } from '../../../lambdas/domain/workflow-state';
import { createResolveRequestHandler } from '../../../lambdas/handlers/resolve-request';
import { testDeps, type TestDeps } from '../../support/deps';
import { loadSampleEvent } from './sample-events';

const dynamodb = mockClient(DynamoDBDocumentClient);
const ecr = mockClient(ECRClient);

/** ECR does not know the tags these tests start with, unless a test says otherwise. */
function ecrKnowsNoTag() {
  ecr
    .on(DescribeImagesCommand)
    .rejects(
      new ImageNotFoundException({ message: 'The image with imageId ... does not exist', $metadata: {} }),
    );
}
beforeEach(ecrKnowsNoTag);
const sfn = mockClient(SFNClient);

const NOW = new Date('2026-11-27T09:00:00.000Z');
const stateMachineArn = 'arn:aws:states:eu-central-1:111122223333:stateMachine:Afu9DeployOrchestrator';
const executionArn = (name: string) =>
  `arn:aws:states:eu-central-1:111122223333:execution:Afu9DeployOrchestrator:${name}`;
const ME = 'ecr-push-e88b7e53';
const RUNNING = 'staging-stage-1b2c3d4';
const DIGEST = 'sha256:f17abd9a871ef6ec25b19d8b6cc997a3221ae2cee6aa9d128ff56dc48d98d521';

const claimKey = { pk: `IMAGE#staging#${DIGEST}`, sk: 'CLAIM' };
const tagClaimKey = { pk: 'IMAGE#staging#stage-3f9c2ab', sk: 'CLAIM' };
const lockKey = { pk: 'LOCK#staging', sk: 'LOCK' };
const runningHolder = {
  ...lockKey,
  executionId: executionArn(RUNNING),
  acquiredAt: '2026-11-27T08:52:10.000Z',
};

const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

function describedAs(name: string, status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED') {
  return {
    executionArn: executionArn(name),
    stateMachineArn,
    name,
    status,
    startDate: new Date('2026-11-27T08:52:09.000Z'),
  };
}

/** Puts of items under `pk` fail with `error`; every other put succeeds. */
function putsFail(pk: string, error: Error) {
  dynamodb.on(PutCommand).callsFake(async (input: PutCommandInput) => {
    if (input.Item?.pk === pk) throw error;
    return {};
  });
}

const releaseKey = { pk: 'RELEASE#staging#stage-3f9c2ab', sk: 'RELEASE' };

/**
 * The push's release, sealed by this execution with the pushed image alone (the other repositories
 * never got the tag): from here on a push deploys as any request does (tests/unit/release cover how
 * a release is assembled).
 */
function releaseSealedByMe() {
  dynamodb.on(GetCommand, { Key: releaseKey }).resolves({
    Item: {
      ...releaseKey,
      environment: 'staging',
      tag: 'stage-3f9c2ab',
      state: 'sealed',
      executionId: executionArn(ME),
      openedAt: '2026-11-27T08:57:00.000Z',
      settleDeadline: '2026-11-27T08:59:00.000Z',
      sealedAt: '2026-11-27T08:59:00.000Z',
      joins: 0,
      images: [{ container: 'control-center', repository: 'afu9/control-center', digest: DIGEST }],
    },
  });
}

/** An empty ledger: no claims, no lock; every write succeeds. */
function emptyLedger() {
  dynamodb.on(GetCommand).resolves({});
  dynamodb.on(PutCommand).resolves({});
  dynamodb.on(UpdateCommand).resolves({});
  dynamodb.on(DeleteCommand).resolves({});
  releaseSealedByMe();
}

function resolve(input: unknown, deps: TestDeps = testDeps({ now: NOW }), name = ME): Promise<ResolveResult> {
  return createResolveRequestHandler(deps)({ executionId: executionArn(name), executionName: name, input });
}

function putItems(pk: string) {
  return dynamodb
    .commandCalls(PutCommand)
    .map((call) => call.args[0].input.Item ?? {})
    .filter((item) => item.pk === pk);
}

function logged(deps: TestDeps, message: string) {
  return deps.logLines.map((line) => JSON.parse(line)).find((line) => line.message === message);
}

afterEach(() => {
  dynamodb.reset();
  sfn.reset();
  ecr.reset();
});

describe('resolve-request and the deployment ledger', () => {
  it('claims a pushed image by digest, takes the service and records the deployment with its start time', async () => {
    // Prepare
    emptyLedger();

    // Act
    const result = await resolve(loadSampleEvent('ecr-push.json'));

    // Assess
    expect(result).toMatchObject({ status: 'accepted', request: { startedAt: NOW.toISOString() } });
    expect(dynamodb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({
        ...claimKey,
        executionId: executionArn(ME),
        claimedAt: NOW.toISOString(),
      }),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(dynamodb).toHaveReceivedCommandWith(PutCommand, {
      Item: { ...lockKey, executionId: executionArn(ME), acquiredAt: NOW.toISOString() },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    const [record] = putItems('ENV#staging');
    expect(record).toEqual({
      pk: 'ENV#staging',
      sk: `DEPLOYMENT#${NOW.toISOString()}#${ME}`,
      deploymentId: ME,
      executionId: executionArn(ME),
      environment: 'staging',
      serviceName: 'afu9-control-center-staging',
      kind: 'deploy',
      trigger: 'ecr-push',
      requestedBy: 'ecr-push',
      images: [
        {
          container: 'control-center',
          repository: 'afu9/control-center',
          tag: 'stage-3f9c2ab',
          digest: DIGEST,
        },
      ],
      version: 'stage-3f9c2ab',
      startedAt: NOW.toISOString(),
      statesReached: ['resolution'],
      outcome: 'in-progress',
      reasons: [],
      expiresAt: NOW.getTime() / 1000 + 400 * 24 * 3600,
    });
  });

  it('keeps records for the retention the settings give', async () => {
    // Prepare
    emptyLedger();
    const base = testDeps({ now: NOW });
    const deps = { ...base, settings: { ...base.settings, ledgerRetentionDays: 30 } };

    // Act
    await resolve(loadSampleEvent('ecr-push.json'), deps);

    // Assess
    expect(putItems('ENV#staging')[0]).toMatchObject({ expiresAt: NOW.getTime() / 1000 + 30 * 24 * 3600 });
  });

  it('ignores a second delivery of the same push, naming the execution that has it and how to redeploy', async () => {
    // Prepare
    emptyLedger();
    putsFail(claimKey.pk, conditionFailed());
    dynamodb.on(GetCommand, { Key: claimKey }).resolves({
      Item: {
        ...claimKey,
        executionId: executionArn('ecr-push-first'),
        deploymentId: 'ecr-push-first',
        claimedAt: '2026-11-27T08:41:09.000Z',
        recordSk: 'DEPLOYMENT#2026-11-27T08:41:09.000Z#ecr-push-first',
      },
    });
    const deps = testDeps({ now: NOW });

    // Act
    const result = await resolve(loadSampleEvent('ecr-push.json'), deps);

    // Assess
    expect(result.status).toBe('ignored');
    const reason = result.status === 'ignored' ? result.reason : '';
    expect(reason).toContain('execution ecr-push-first at 2026-11-27T08:41:09.000Z');
    expect(reason).toContain('duplicate and deploys nothing');
    expect(reason).toContain('"redeploy": true');
    expect(reason).toContain('`afu9-deploy start --env staging --image-tag stage-3f9c2ab --redeploy`');
    expect(reason).toContain(`\`afu9-deploy history --env staging --image ${DIGEST}\``);
    expect(dynamodb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: claimKey,
      ExpressionAttributeValues: { ':execution': new Set([executionArn(ME)]), ':at': NOW.toISOString() },
    });
    expect(dynamodb).not.toHaveReceivedCommandWith(GetCommand, { Key: lockKey });
    expect(putItems('ENV#staging')).toEqual([]);
    expect(logged(deps, 'Duplicate trigger ignored')).toMatchObject({
      executionId: executionArn(ME),
      imageKey: DIGEST,
      claimedBy: executionArn('ecr-push-first'),
    });
  });

  it('still ignores the duplicate when the note on the claim cannot be written', async () => {
    // Prepare
    emptyLedger();
    putsFail(claimKey.pk, conditionFailed());
    dynamodb.on(GetCommand, { Key: claimKey }).resolves({
      Item: {
        executionId: executionArn('ecr-push-first'),
        deploymentId: 'ecr-push-first',
        claimedAt: 'x',
        recordSk: 'y',
      },
    });
    dynamodb.on(UpdateCommand).rejects(
      Object.assign(new Error('not authorized to perform: dynamodb:UpdateItem'), {
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    // Act
    const result = await resolve(loadSampleEvent('ecr-push.json'));

    // Assess
    expect(result.status).toBe('ignored');
  });

  it('lets a redeploy take the claim over on purpose', async () => {
    // Prepare
    emptyLedger();
    const first = {
      executionId: executionArn('staging-stage-3f9c2ab'),
      deploymentId: 'staging-stage-3f9c2ab',
      claimedAt: '2026-11-26T15:00:00.000Z',
      recordSk: 'DEPLOYMENT#2026-11-26T15:00:00.000Z#staging-stage-3f9c2ab',
    };
    dynamodb.on(GetCommand, { Key: tagClaimKey }).resolves({ Item: { ...tagClaimKey, ...first } });
    const name = 'staging-stage-3f9c2ab-redeploy-20261127T090000Z';

    // Act
    const result = await resolve(
      { ...loadSampleEvent('start-staging.json'), redeploy: true },
      testDeps({ now: NOW }),
      name,
    );

    // Assess
    expect(result).toMatchObject({
      status: 'accepted',
      request: { redeploy: true, startedAt: NOW.toISOString() },
    });
    expect(dynamodb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({
        ...tagClaimKey,
        executionId: executionArn(name),
        takenOverFrom: first,
      }),
      ConditionExpression: 'executionId = :previous',
      ExpressionAttributeValues: { ':previous': first.executionId },
    });
  });

  it('refuses a request by hand while another execution deploys the service, naming it, and gives the image back', async () => {
    // Prepare
    emptyLedger();
    dynamodb.on(GetCommand, { Key: lockKey }).resolves({ Item: runningHolder });
    dynamodb.on(GetCommand, { Key: tagClaimKey }).resolves({
      Item: {
        ...tagClaimKey,
        executionId: executionArn(ME),
        deploymentId: ME,
        claimedAt: NOW.toISOString(),
        recordSk: 'x',
      },
    });
    sfn.on(DescribeExecutionCommand).resolves(describedAs(RUNNING, 'RUNNING'));
    const deps = testDeps({ now: NOW });

    // Act
    const error = await resolve(loadSampleEvent('start-staging.json'), deps).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(DeploymentInProgress);
    const message = (error as Error).message;
    expect(message).toContain(`is being deployed by execution ${RUNNING} since 2026-11-27T08:52:10.000Z`);
    expect(message).toContain('refused (not queued) and changed nothing');
    expect(message).toContain(`\`afu9-deploy status ${RUNNING}\``);
    expect(message).toContain('`afu9-deploy start --env staging --image-tag stage-3f9c2ab`');
    expect(dynamodb).toHaveReceivedCommandWith(DeleteCommand, {
      Key: tagClaimKey,
      ConditionExpression: 'executionId = :me',
      ExpressionAttributeValues: { ':me': executionArn(ME) },
    });
    expect(putItems('LOCK#staging')).toEqual([]);
    expect(putItems('ENV#staging')).toEqual([]);
    expect(logged(deps, 'Refused: another execution deploys the service')).toMatchObject({
      holder: { executionId: executionArn(RUNNING) },
    });
  });

  it('lets a release started by a push wait for the service another execution deploys, keeping its claim', async () => {
    // Prepare
    emptyLedger();
    dynamodb.on(GetCommand, { Key: lockKey }).resolves({ Item: runningHolder });
    sfn.on(DescribeExecutionCommand).resolves(describedAs(RUNNING, 'RUNNING'));

    // Act
    const result = await resolve(loadSampleEvent('ecr-push.json'));

    // Assess
    expect(result).toEqual({
      status: 'waiting',
      reason: expect.stringContaining(
        `waits for execution ${RUNNING}, which deploys the service, until 2026-11-27T09:39:00.000Z`,
      ),
      waitSeconds: 30,
    });
    expect(dynamodb).not.toHaveReceivedCommand(DeleteCommand);
    expect(putItems('ENV#staging')).toEqual([]);
  });

  it('fails a waiting release once its wait for the service has run out, saying how to deploy it by hand', async () => {
    // Prepare
    emptyLedger();
    dynamodb.on(GetCommand, { Key: lockKey }).resolves({ Item: runningHolder });
    dynamodb.on(GetCommand, { Key: claimKey }).resolves({
      Item: { ...claimKey, executionId: executionArn(ME), deploymentId: ME, claimedAt: 'x', recordSk: 'y' },
    });
    sfn.on(DescribeExecutionCommand).resolves(describedAs(RUNNING, 'RUNNING'));
    const late = testDeps({ now: new Date('2026-11-27T09:39:00.000Z') });

    // Act
    const error = await resolve(loadSampleEvent('ecr-push.json'), late).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(DeploymentInProgress);
    const message = (error as Error).message;
    expect(message).toContain('Release staging/stage-3f9c2ab waited 2400 s for the service');
    expect(message).toContain(`\`afu9-deploy status ${RUNNING}\``);
    expect(message).toContain('`afu9-deploy start --env staging --image-tag stage-3f9c2ab`');
    expect(dynamodb).toHaveReceivedCommandWith(DeleteCommand, { Key: claimKey });
  });

  it('refuses a rollback by hand while a deployment runs, saying how to ask again', async () => {
    // Prepare
    emptyLedger();
    dynamodb.on(GetCommand, { Key: lockKey }).resolves({ Item: runningHolder });
    sfn.on(DescribeExecutionCommand).resolves(describedAs(RUNNING, 'RUNNING'));

    // Act
    const outcome = resolve(loadSampleEvent('rollback-staging.json'));

    // Assess
    await expect(outcome).rejects.toThrow(DeploymentInProgress);
    await expect(outcome).rejects.toThrow('`afu9-deploy rollback --env staging --reason "<why>"`');
    expect(dynamodb).not.toHaveReceivedCommand(DeleteCommand);
  });

  it('names the flag production needs when it refuses a production request', async () => {
    // Prepare
    emptyLedger();
    dynamodb.on(GetCommand, { Key: { pk: 'LOCK#production', sk: 'LOCK' } }).resolves({ Item: runningHolder });
    sfn.on(DescribeExecutionCommand).resolves(describedAs(RUNNING, 'RUNNING'));

    // Act
    const outcome = resolve(loadSampleEvent('start-production.json'));

    // Assess
    await expect(outcome).rejects.toThrow(
      '`afu9-deploy start --env production --image-tag prod-3f9c2ab --allow-production`',
    );
  });

  it('leaves a failed ECS deployment to the execution that deploys the service', async () => {
    // Prepare
    emptyLedger();
    dynamodb.on(GetCommand, { Key: lockKey }).resolves({ Item: runningHolder });
    sfn.on(DescribeExecutionCommand).resolves(describedAs(RUNNING, 'RUNNING'));

    // Act
    const result = await resolve(loadSampleEvent('ecs-deployment-failed.json'));

    // Assess
    expect(result).toEqual({
      status: 'ignored',
      reason: expect.stringContaining(`while execution ${RUNNING} deploys the service`),
    });
  });

  it.each([
    ['ended', () => sfn.on(DescribeExecutionCommand).resolves(describedAs(RUNNING, 'ABORTED'))],
    [
      'no longer exists',
      () =>
        sfn
          .on(DescribeExecutionCommand)
          .rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} })),
    ],
  ])('takes the service over from an execution that %s', async (_case, describe) => {
    // Prepare
    emptyLedger();
    dynamodb.on(GetCommand, { Key: lockKey }).resolves({ Item: runningHolder });
    describe();
    const deps = testDeps({ now: NOW });

    // Act
    const result = await resolve(loadSampleEvent('ecr-push.json'), deps);

    // Assess
    expect(result.status).toBe('accepted');
    expect(dynamodb).toHaveReceivedCommandWith(PutCommand, {
      Item: { ...lockKey, executionId: executionArn(ME), acquiredAt: NOW.toISOString() },
      ConditionExpression: 'executionId = :previous',
      ExpressionAttributeValues: { ':previous': executionArn(RUNNING) },
    });
    expect(logged(deps, 'Service lock taken over from an execution that is no longer running')).toMatchObject(
      {
        from: { executionId: executionArn(RUNNING) },
      },
    );
  });

  it('writes the same record when its step is retried after a timeout', async () => {
    // Prepare
    emptyLedger();
    const firstAttempt = '2026-11-27T08:59:40.000Z';
    putsFail(claimKey.pk, conditionFailed());
    dynamodb.on(GetCommand, { Key: claimKey }).resolves({
      Item: {
        ...claimKey,
        executionId: executionArn(ME),
        deploymentId: ME,
        claimedAt: firstAttempt,
        recordSk: `DEPLOYMENT#${firstAttempt}#${ME}`,
      },
    });
    dynamodb.on(GetCommand, { Key: lockKey }).resolves({
      Item: { ...lockKey, executionId: executionArn(ME), acquiredAt: firstAttempt },
    });

    // Act
    const result = await resolve(loadSampleEvent('ecr-push.json'));

    // Assess
    expect(result).toMatchObject({ status: 'accepted', request: { startedAt: firstAttempt } });
    expect(putItems('ENV#staging')).toEqual([
      expect.objectContaining({ sk: `DEPLOYMENT#${firstAttempt}#${ME}`, startedAt: firstAttempt }),
    ]);
    expect(putItems('LOCK#staging')).toEqual([]);
  });

  it('starts a rollback record at the time it took the service', async () => {
    // Prepare
    emptyLedger();
    const name = 'staging-rollback-20261127T090000Z';

    // Act
    const result = await resolve(loadSampleEvent('rollback-staging.json'), testDeps({ now: NOW }), name);

    // Assess
    expect(result).toMatchObject({
      status: 'accepted',
      request: { kind: 'rollback', startedAt: NOW.toISOString() },
    });
    expect(dynamodb).not.toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ sk: 'CLAIM' }),
    });
    expect(putItems('ENV#staging')[0]).toMatchObject({
      kind: 'rollback',
      reasons: ['Login page returns 500 since stage-3f9c2ab'],
      requestedBy: 'jane.doe',
    });
  });

  it('asks for a retry, holding on to what it has, when DynamoDB throttles the record', async () => {
    // Prepare
    emptyLedger();
    putsFail(
      'ENV#staging',
      new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }),
    );

    // Act
    const outcome = resolve(loadSampleEvent('ecr-push.json'));

    // Assess
    await expect(outcome).rejects.toThrow(TransientAwsError);
    expect(dynamodb).not.toHaveReceivedCommand(DeleteCommand);
  });

  it('gives back the lock and the image when the ledger cannot be written at all', async () => {
    // Prepare
    emptyLedger();
    const denied = Object.assign(new Error('not authorized to perform: dynamodb:PutItem'), {
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    putsFail('ENV#staging', denied);
    dynamodb.on(GetCommand, { Key: claimKey }).resolves({
      Item: {
        ...claimKey,
        executionId: executionArn(ME),
        deploymentId: ME,
        claimedAt: NOW.toISOString(),
        recordSk: 'x',
      },
    });
    const deps = testDeps({ now: NOW });

    // Act
    const error = await resolve(loadSampleEvent('ecr-push.json'), deps).catch((e: unknown) => e);

    // Assess
    expect(error).toBe(denied);
    expect(dynamodb).toHaveReceivedCommandWith(DeleteCommand, { Key: lockKey });
    expect(dynamodb).toHaveReceivedCommandWith(DeleteCommand, { Key: claimKey });
    expect(deps.logLines.join('\n')).toContain('states:DescribeExecution');
  });

  it('returns the request it accepted with startedAt, the slot the record is found by', async () => {
    // Prepare
    emptyLedger();

    // Act
    const result = await resolve(loadSampleEvent('start-staging.json'));

    // Assess
    const request = (result as { request: DeploymentRequest }).request;
    expect(putItems('ENV#staging')[0]?.sk).toBe(`DEPLOYMENT#${request.startedAt}#${ME}`);
  });

  it('claims an image started by tag under the digest ECR reports, so it and its push are one image', async () => {
    // Prepare: ECR knows stage-3f9c2ab as the same digest the push event carries.
    emptyLedger();
    ecr
      .on(DescribeImagesCommand, {
        repositoryName: 'afu9/control-center',
        imageIds: [{ imageTag: 'stage-3f9c2ab' }],
      })
      .resolves({
        imageDetails: [
          { repositoryName: 'afu9/control-center', imageDigest: DIGEST, imageTags: ['stage-3f9c2ab'] },
        ],
      });

    // Act
    const result = await resolve(loadSampleEvent('start-staging.json'), testDeps({ now: NOW }), RUNNING);

    // Assess
    expect(result).toMatchObject({
      status: 'accepted',
      request: {
        deploymentKey: `staging#${DIGEST}`,
        version: 'stage-3f9c2ab',
        images: [{ tag: 'stage-3f9c2ab', digest: DIGEST }],
      },
    });
    expect(dynamodb).toHaveReceivedCommandWith(PutCommand, { Item: expect.objectContaining(claimKey) });
    expect(dynamodb).not.toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining(tagClaimKey),
    });
  });

  it('leaves a throttled digest lookup to the workflow retry, before anything is claimed', async () => {
    emptyLedger();
    ecr.on(DescribeImagesCommand).rejects(
      Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: {},
      }),
    );

    await expect(resolve(loadSampleEvent('start-staging.json'))).rejects.toBeInstanceOf(TransientAwsError);
    expect(dynamodb).not.toHaveReceivedCommand(PutCommand);
  });
});
