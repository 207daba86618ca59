import { ConditionalCheckFailedException, ThrottlingException } from '@aws-sdk/client-dynamodb';
import { NotFoundException, PublishCommand, SNSClient, ThrottledException } from '@aws-sdk/client-sns';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { NotificationFailed, TransientAwsError } from '../../../lambdas/domain/errors';
import { Outcome } from '../../../lambdas/domain/workflow-state';
import { createNotifyHandler } from '../../../lambdas/handlers/notify';
import { testDeps, type TestDeps } from '../../support/deps';
import { loadSampleEvent } from '../request/sample-events';
import {
  blockedDiffGate,
  completedRollout,
  executionArn,
  failedSmoke,
  requestFrom,
  startedRollback,
  succeededState,
  update,
  verification,
} from './states';
import { answerForLiveRevision } from './live-revision';

const sns = mockClient(SNSClient);
const dynamodb = mockClient(DynamoDBDocumentClient);
// The image parameters are specified in notify-image-parameters.test.ts; here every write succeeds.
const ecs = mockClient(ECSClient);
const ecr = mockClient(ECRClient);
const ssm = mockClient(SSMClient);

const NOW = new Date('2026-11-27T09:01:00.000Z');
const STARTED_AT = '2026-11-27T08:55:00.000Z';
const DEPLOYMENT_ID = '7c1e6a52-run';
const recordKey = { pk: 'ENV#staging', sk: `DEPLOYMENT#${STARTED_AT}#${DEPLOYMENT_ID}` };
const liveKey = { pk: 'ENV#staging', sk: 'LIVE' };
const lockKey = { pk: 'LOCK#staging', sk: 'LOCK' };
const metadata = { httpStatusCode: 400, requestId: 'b2c9a0e1-0000-4000-8000-000000000001' };

/** The state of the ECR push sample with the request as ResolveRequest returns it (with its start time). */
function withStartedAt<T extends { request: object }>(state: T): T {
  return { ...state, request: { ...state.request, startedAt: STARTED_AT } };
}

function rolledBackState() {
  return withStartedAt({
    ...succeededState(),
    smoke: failedSmoke,
    error: { Error: 'SmokeTestFailed', Cause: 'readiness answered 503' },
    rollback: startedRollback,
    rollbackRollout: { ...completedRollout, deploymentId: startedRollback.deploymentId },
  });
}

function notify(outcome: Outcome, state: unknown, deps: TestDeps = testDeps({ now: NOW })) {
  return createNotifyHandler(deps)({ executionId: executionArn, outcome, state });
}

/** The fields the record was finished with, by name. */
function finishedFields(): Record<string, unknown> {
  const input = dynamodb.commandCalls(UpdateCommand)[0]?.args[0].input as UpdateCommandInput;
  const names = input.ExpressionAttributeNames ?? {};
  const values = input.ExpressionAttributeValues ?? {};
  return Object.fromEntries(
    Object.keys(names).map((alias) => [names[alias], values[alias.replace('#f', ':v')]]),
  );
}

function livePuts() {
  return dynamodb
    .commandCalls(PutCommand)
    .map((call) => call.args[0].input.Item)
    .filter((item) => item?.sk === 'LIVE');
}

beforeEach(() => {
  dynamodb.onAnyCommand().resolves({});
  answerForLiveRevision({ ecs, ecr, ssm });
  sns.on(PublishCommand).resolves({ MessageId: 'f3b6c1de-5d2a-5b7e-9a41-1c3e8d0b7a52' });
});

afterEach(() => {
  sns.reset();
  dynamodb.reset();
  ecs.reset();
  ecr.reset();
  ssm.reset();
});

describe('notify and the deployment ledger', () => {
  it('finishes the record, makes the new revision live and releases the service before publishing', async () => {
    // Act
    await notify(Outcome.succeeded, withStartedAt(succeededState()));

    // Assess
    expect(dynamodb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: recordKey,
      ConditionExpression: 'attribute_exists(pk)',
    });
    expect(finishedFields()).toEqual({
      outcome: 'succeeded',
      reasons: [],
      statesReached: ['resolution', 'diffBuild', 'diffGate', 'verification', 'update', 'rollout', 'smoke'],
      finishedAt: NOW.toISOString(),
      taskDefinitionBefore: update.previousTaskDefinitionArn,
      taskDefinitionAfter: update.taskDefinitionArn,
      ecsDeploymentId: update.deploymentId,
    });
    expect(livePuts()).toEqual([
      {
        ...liveKey,
        environment: 'staging',
        taskDefinitionArn: update.taskDefinitionArn,
        version: 'stage-3f9c2ab',
        deploymentId: DEPLOYMENT_ID,
        provedBy: 'succeeded',
        since: NOW.toISOString(),
      },
    ]);
    expect(dynamodb).toHaveReceivedCommandWith(DeleteCommand, {
      Key: lockKey,
      ConditionExpression: 'executionId = :me',
      ExpressionAttributeValues: { ':me': executionArn },
    });
    const published = sns.commandCalls(PublishCommand)[0]!;
    for (const write of dynamodb.calls()) expect(write.calledBefore(published)).toBe(true);
  });

  it('makes the rollback target live after a completed rollback, with the version the ledger knew it by', async () => {
    // Prepare
    dynamodb.on(GetCommand, { Key: liveKey }).resolves({
      Item: {
        ...liveKey,
        environment: 'staging',
        taskDefinitionArn: startedRollback.targetTaskDefinitionArn,
        version: 'stage-0a1b2c3',
        deploymentId: 'ecr-push-0a1b2c3',
        since: '2026-11-26T10:00:00.000Z',
      },
    });

    // Act
    await notify(Outcome.rolledBack, rolledBackState());

    // Assess
    expect(livePuts()).toEqual([
      expect.objectContaining({
        taskDefinitionArn: startedRollback.targetTaskDefinitionArn,
        version: 'stage-0a1b2c3',
        provedBy: 'rolled-back',
      }),
    ]);
    expect(finishedFields()).toMatchObject({
      outcome: 'rolled-back',
      taskDefinitionBefore: update.previousTaskDefinitionArn,
      taskDefinitionAfter: startedRollback.targetTaskDefinitionArn,
      reasons: expect.arrayContaining([
        'SmokeTestFailed: readiness answered 503',
        'smoke readiness failed (HTTP 503): ready is false: database check failed',
        `rollback started: ${startedRollback.reason}`,
      ]),
    });
  });

  it.each([Outcome.rollbackFailed, Outcome.failedBeforeChange, Outcome.blocked])(
    'leaves the live pointer alone after %s, and still finishes the record and releases the service',
    async (outcome) => {
      // Act
      await notify(outcome, rolledBackState());

      // Assess
      expect(livePuts()).toEqual([]);
      expect(finishedFields()).toMatchObject({ outcome });
      expect(dynamodb).toHaveReceivedCommandWith(DeleteCommand, { Key: lockKey });
    },
  );

  it('keeps the blocking findings as reasons and no detail of a secret check', async () => {
    // Prepare
    const state = withStartedAt({
      ...succeededState(),
      diffGate: blockedDiffGate,
      verification: {
        ...verification,
        checks: [
          { kind: 'secret-key', subject: 'afu9/github › token', status: 'NG', detail: 'value ghp_leak1' },
        ],
      },
    });

    // Act
    await notify(Outcome.blocked, state);

    // Assess
    const { reasons } = finishedFields() as { reasons: string[] };
    expect(reasons).toEqual(
      expect.arrayContaining([
        'blocking AWS::ECS::Service ServiceD69D759B (replace): Replacing the ECS service deletes the running one: downtime.',
        'NG secret-key afu9/github › token',
      ]),
    );
    expect(JSON.stringify(dynamodb.calls().map((call) => call.args[0].input))).not.toContain('ghp_leak1');
  });

  it('finishes no record for a request that carries no start time, and still releases the service', async () => {
    // Act
    await notify(Outcome.failedBeforeChange, {
      ...loadSampleEvent('ecr-push.json'),
      request: requestFrom('ecr-push.json'),
    });

    // Assess
    expect(dynamodb).not.toHaveReceivedCommand(UpdateCommand);
    expect(dynamodb).toHaveReceivedCommandWith(DeleteCommand, { Key: lockKey });
  });

  it('touches no ledger item for a request ResolveRequest refused', async () => {
    // Act
    await notify(Outcome.failedBeforeChange, {
      ...loadSampleEvent('start-staging.json'),
      error: {
        Error: 'DeploymentInProgress',
        Cause: 'staging is being deployed by execution staging-stage-1b2c3d4',
      },
    });

    // Assess
    expect(dynamodb).not.toHaveReceivedAnyCommand();
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
  });

  it('publishes normally when there is no record to finish, and says so in the log', async () => {
    // Prepare
    dynamodb
      .on(UpdateCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      );
    const deps = testDeps({ now: NOW });

    // Act
    const result = await notify(Outcome.succeeded, withStartedAt(succeededState()), deps);

    // Assess
    expect(result.messageId).toBe('f3b6c1de-5d2a-5b7e-9a41-1c3e8d0b7a52');
    expect(deps.logLines.join('\n')).toContain('No deployment record to finish');
  });

  it('still publishes when the ledger cannot be written, then fails the step so the error alarm fires', async () => {
    // Prepare
    dynamodb.on(UpdateCommand).rejects(
      Object.assign(new Error('not authorized to perform: dynamodb:UpdateItem'), {
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: metadata,
      }),
    );
    const deps = testDeps({ now: NOW });

    // Act
    const error = await notify(Outcome.succeeded, withStartedAt(succeededState()), deps).catch(
      (e: unknown) => e,
    );

    // Assess
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(error).toBeInstanceOf(NotificationFailed);
    expect((error as Error).message).toMatch(
      /notification was published \(message f3b6c1de-.*\), but the deployment ledger .* finishing the record of 7c1e6a52-run \(AccessDeniedException/,
    );
    expect(dynamodb).toHaveReceivedCommandWith(DeleteCommand, { Key: lockKey });
    expect(deps.logLines.join('\n')).toContain('"level":"ERROR","message":"Deployment ledger not updated');
  });

  it('leaves the record finished and the service released when SNS fails', async () => {
    // Prepare
    sns
      .on(PublishCommand)
      .rejects(new NotFoundException({ message: 'Topic does not exist', $metadata: metadata }));

    // Act
    const outcome = notify(Outcome.rolledBack, rolledBackState());

    // Assess
    await expect(outcome).rejects.toThrow(NotificationFailed);
    expect(finishedFields()).toMatchObject({ outcome: 'rolled-back' });
    expect(livePuts()).toHaveLength(1);
    expect(dynamodb).toHaveReceivedCommandWith(DeleteCommand, { Key: lockKey });
  });

  it('writes the same ending again when the step is retried after SNS throttled it', async () => {
    // Prepare
    sns
      .on(PublishCommand)
      .rejectsOnce(new ThrottledException({ message: 'Rate exceeded', $metadata: metadata }))
      .resolves({ MessageId: 'm-2' });
    dynamodb
      .on(DeleteCommand)
      .resolvesOnce({})
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      );
    const deps = testDeps({ now: NOW });
    const handler = createNotifyHandler(deps);
    const event = {
      executionId: executionArn,
      outcome: Outcome.succeeded,
      state: withStartedAt(succeededState()),
    };

    // Act
    const first = await handler(event).catch((e: unknown) => e);
    const second = await handler(event);

    // Assess
    expect(first).toBeInstanceOf(TransientAwsError);
    expect(second.messageId).toBe('m-2');
    const updates = dynamodb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(updates).toHaveLength(2);
    expect(updates[1]).toEqual(updates[0]);
    expect(livePuts()[1]).toEqual(livePuts()[0]);
    expect(deps.logLines.join('\n')).toContain('Service lock not held by this execution');
  });

  it('publishes even when DynamoDB throttles every ledger write', async () => {
    // Prepare
    const throttled = new ThrottlingException({ message: 'Rate exceeded', $metadata: metadata });
    dynamodb.on(UpdateCommand).rejects(throttled);
    dynamodb.on(PutCommand).rejects(throttled);
    dynamodb.on(DeleteCommand).rejects(throttled);

    // Act
    const error = await notify(Outcome.succeeded, withStartedAt(succeededState())).catch((e: unknown) => e);

    // Assess
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(error).toBeInstanceOf(NotificationFailed);
    expect((error as Error).message).toContain('releasing the service lock');
  });
});
