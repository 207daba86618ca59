import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient } from '@aws-sdk/client-sfn';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import {
  acquireServiceLock,
  claimImage,
  finishDeploymentRecord,
  releaseServiceLock,
} from '../../../lambdas/aws/ledger';
import {
  decideLock,
  DEFAULT_LEDGER_RETENTION_DAYS,
  imageClaimKey,
  ledgerExpiry,
  liveAfter,
  statesReached,
} from '../../../lambdas/domain/ledger';
import { testDeps } from '../../support/deps';

const dynamodb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const table = { tableName: 'afu9-deployments', retentionDays: DEFAULT_LEDGER_RETENTION_DAYS };
const NOW = new Date('2026-11-27T09:00:00.000Z');
const ME = 'arn:aws:states:eu-central-1:123456789012:execution:Afu9Deployment:staging-stage-aaa';
const OTHER = 'arn:aws:states:eu-central-1:123456789012:execution:Afu9Deployment:staging-stage-bbb';

const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

afterEach(() => {
  dynamodb.reset();
  sfn.reset();
});

describe('ledger decisions', () => {
  it('keeps records for the configured retention, 400 days by default', () => {
    const expiry = ledgerExpiry(NOW, DEFAULT_LEDGER_RETENTION_DAYS);
    expect(expiry - NOW.getTime() / 1000).toBe(400 * 24 * 3600);
  });

  it('refuses a retention that is not a whole positive number of days', () => {
    expect(() => ledgerExpiry(NOW, 0)).toThrow('Received: 0');
    expect(() => ledgerExpiry(NOW, 1.5)).toThrow('Received: 1.5');
  });

  it('claims images by the digest part of the deployment key', () => {
    expect(imageClaimKey({ deploymentKey: 'staging#sha256:abc' })).toBe('sha256:abc');
  });

  it('lists the workflow slots an execution reached, in workflow order', () => {
    expect(statesReached({ smoke: {}, resolution: {}, update: {}, unrelated: 1 })).toEqual([
      'resolution',
      'update',
      'smoke',
    ]);
  });

  it('makes a revision live only when a deployment was verified or a rollback completed', () => {
    expect(liveAfter('succeeded', { taskDefinitionArn: 'td:42' }, undefined)).toBe('td:42');
    expect(
      liveAfter('rolled-back', { taskDefinitionArn: 'td:42' }, { targetTaskDefinitionArn: 'td:41' }),
    ).toBe('td:41');
    expect(
      liveAfter('rollback-failed', { taskDefinitionArn: 'td:42' }, { targetTaskDefinitionArn: 'td:41' }),
    ).toBe(undefined);
    expect(liveAfter('blocked', undefined, undefined)).toBeUndefined();
  });

  it('never takes a lock from a holder that is still running', () => {
    const holder = { executionId: OTHER, acquiredAt: NOW.toISOString() };
    expect(decideLock(ME, holder, true)).toEqual({ action: 'refuse', holder });
    expect(decideLock(ME, holder, false)).toEqual({ action: 'take-over', from: holder });
    expect(decideLock(ME, undefined, undefined)).toEqual({ action: 'acquire' });
    expect(decideLock(ME, { executionId: ME, acquiredAt: NOW.toISOString() }, undefined)).toEqual({
      action: 'already-held',
    });
  });
});

describe('claimImage', () => {
  const claim = {
    executionId: ME,
    deploymentId: 'staging-stage-aaa',
    claimedAt: NOW.toISOString(),
    recordSk: 'x',
  };

  it('gives the image to the first execution that asks', async () => {
    dynamodb.on(PutCommand).resolves({});
    const { clients } = testDeps();
    const result = await claimImage(clients, table, {
      environment: 'staging',
      imageKey: 'sha256:abc',
      claim,
      redeploy: false,
      now: NOW,
    });
    expect(result).toEqual({ claimed: true });
    expect(dynamodb).toHaveReceivedCommandWith(PutCommand, {
      ConditionExpression: 'attribute_not_exists(pk) OR executionId = :me',
    });
  });

  it('tells a duplicate trigger which execution already has the image', async () => {
    dynamodb.on(PutCommand).rejects(conditionFailed());
    dynamodb.on(GetCommand).resolves({ Item: { ...claim, executionId: OTHER } });
    const { clients } = testDeps();
    const result = await claimImage(clients, table, {
      environment: 'staging',
      imageKey: 'sha256:abc',
      claim,
      redeploy: false,
      now: NOW,
    });
    expect(result).toEqual({ claimed: false, by: expect.objectContaining({ executionId: OTHER }) });
  });

  it('takes the claim over without a condition when a redeploy is asked for', async () => {
    dynamodb.on(PutCommand).resolves({});
    const { clients } = testDeps();
    await claimImage(clients, table, {
      environment: 'staging',
      imageKey: 'sha256:abc',
      claim,
      redeploy: true,
      now: NOW,
    });
    const put = dynamodb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put.ConditionExpression).toBeUndefined();
  });
});

describe('acquireServiceLock', () => {
  it('acquires a free lock', async () => {
    dynamodb.on(GetCommand).resolves({});
    dynamodb.on(PutCommand).resolves({});
    const { clients } = testDeps();
    const result = await acquireServiceLock(clients, table, {
      environment: 'staging',
      executionId: ME,
      now: NOW,
    });
    expect(result).toEqual({ acquired: true });
    expect(dynamodb).toHaveReceivedCommandWith(PutCommand, {
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  it('refuses while the holder is still running, naming it', async () => {
    dynamodb
      .on(GetCommand)
      .resolves({ Item: { executionId: OTHER, acquiredAt: '2026-11-27T08:50:00.000Z' } });
    sfn
      .on(DescribeExecutionCommand)
      .resolves({ status: 'RUNNING', executionArn: OTHER, stateMachineArn: 'sm', startDate: NOW });
    const { clients } = testDeps();
    const result = await acquireServiceLock(clients, table, {
      environment: 'staging',
      executionId: ME,
      now: NOW,
    });
    expect(result).toEqual({
      acquired: false,
      holder: { executionId: OTHER, acquiredAt: '2026-11-27T08:50:00.000Z' },
    });
    expect(dynamodb).not.toHaveReceivedCommand(PutCommand);
  });

  it('takes over a lock left by an execution that is no longer running', async () => {
    dynamodb
      .on(GetCommand)
      .resolves({ Item: { executionId: OTHER, acquiredAt: '2026-11-27T08:50:00.000Z' } });
    sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'gone', $metadata: {} }));
    dynamodb.on(PutCommand).resolves({});
    const { clients } = testDeps();
    const result = await acquireServiceLock(clients, table, {
      environment: 'staging',
      executionId: ME,
      now: NOW,
    });
    expect(result).toMatchObject({ acquired: true, tookOverFrom: { executionId: OTHER } });
    expect(dynamodb).toHaveReceivedCommandWith(PutCommand, {
      ConditionExpression: 'executionId = :previous',
      ExpressionAttributeValues: { ':previous': OTHER },
    });
  });

  it('loses a race cleanly: the execution that wrote first holds the lock', async () => {
    dynamodb
      .on(GetCommand)
      .resolvesOnce({})
      .resolves({ Item: { executionId: OTHER, acquiredAt: NOW.toISOString() } });
    dynamodb.on(PutCommand).rejects(conditionFailed());
    const { clients } = testDeps();
    const result = await acquireServiceLock(clients, table, {
      environment: 'staging',
      executionId: ME,
      now: NOW,
    });
    expect(result).toEqual({
      acquired: false,
      holder: { executionId: OTHER, acquiredAt: NOW.toISOString() },
    });
  });
});

describe('releaseServiceLock', () => {
  it('releases only a lock this execution holds', async () => {
    dynamodb.on(DeleteCommand).rejects(conditionFailed());
    const { clients } = testDeps();
    expect(await releaseServiceLock(clients, table, { environment: 'staging', executionId: ME })).toBe(false);
    expect(dynamodb).toHaveReceivedCommandWith(DeleteCommand, { ExpressionAttributeValues: { ':me': ME } });
  });
});

describe('finishDeploymentRecord', () => {
  it('writes only the fields that are known', async () => {
    dynamodb.on(UpdateCommand).resolves({});
    const { clients } = testDeps();
    await finishDeploymentRecord(clients, table, {
      environment: 'staging',
      startedAt: NOW.toISOString(),
      deploymentId: 'staging-stage-aaa',
      fields: {
        outcome: 'blocked',
        reasons: ['ECS service replacement'],
        statesReached: ['resolution', 'diffGate'],
        finishedAt: NOW.toISOString(),
        taskDefinitionAfter: undefined,
      },
    });
    const update = dynamodb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(Object.values(update.ExpressionAttributeNames ?? {})).toEqual([
      'outcome',
      'reasons',
      'statesReached',
      'finishedAt',
    ]);
    expect(update.Key).toEqual({
      pk: 'ENV#staging',
      sk: `DEPLOYMENT#${NOW.toISOString()}#staging-stage-aaa`,
    });
  });
});
