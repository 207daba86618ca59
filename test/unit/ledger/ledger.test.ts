import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient } from '@aws-sdk/client-sfn';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import {
  acquireServiceLock,
  claimImage,
  findImageClaim,
  finishDeploymentRecord,
  getLive,
  ledgerTable,
  recentDeployments,
  recordDuplicate,
  releaseImageClaim,
  releaseServiceLock,
} from '../../../lambdas/aws/ledger';
import {
  decideLock,
  DEFAULT_LEDGER_RETENTION_DAYS,
  imageClaimKey,
  ledgerExpiry,
  liveAfter,
  previousVerifiedRevision,
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

  it('names the newest verified revision other than the running one, for a manual rollback', () => {
    const records = [
      { outcome: 'succeeded' as const, taskDefinitionAfter: 'td:43' },
      { outcome: 'rollback-failed' as const },
      { outcome: 'rolled-back' as const, taskDefinitionAfter: 'td:41' },
      { outcome: 'succeeded' as const, taskDefinitionAfter: 'td:40' },
    ];
    expect(previousVerifiedRevision(records, 'td:43')).toBe('td:41');
    expect(previousVerifiedRevision(records, 'td:44')).toBe('td:43');
    expect(
      previousVerifiedRevision([{ outcome: 'succeeded', taskDefinitionAfter: 'td:43' }], 'td:43'),
    ).toBeUndefined();
  });

  it('counts the ECS deployment an infrastructure release verified before a later stack stopped it', () => {
    const records = [
      { outcome: 'succeeded' as const, taskDefinitionAfter: 'td:44' },
      { outcome: 'stack-failed' as const },
      { outcome: 'stack-failed' as const, taskDefinitionAfter: 'td:43' },
      { outcome: 'succeeded' as const, taskDefinitionAfter: 'td:42' },
    ];
    expect(previousVerifiedRevision(records, 'td:44')).toBe('td:43');
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
    recordSk: `DEPLOYMENT#${NOW.toISOString()}#staging-stage-aaa`,
  };
  const otherClaim = {
    executionId: OTHER,
    deploymentId: 'staging-stage-bbb',
    claimedAt: '2026-11-27T08:41:09.000Z',
    recordSk: 'DEPLOYMENT#2026-11-27T08:41:09.000Z#staging-stage-bbb',
  };
  const claimInput = (redeploy: boolean) => ({
    environment: 'staging',
    imageKey: 'sha256:abc',
    claim,
    redeploy,
    now: NOW,
  });

  it('gives the image to the first execution that asks', async () => {
    // Prepare
    dynamodb.on(PutCommand).resolves({});
    const { clients } = testDeps();

    // Act
    const result = await claimImage(clients, table, claimInput(false));

    // Assess
    expect(result).toEqual({ claimed: true, claim });
    expect(dynamodb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ pk: 'IMAGE#staging#sha256:abc', sk: 'CLAIM', executionId: ME }),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  it('tells a duplicate trigger which execution already has the image', async () => {
    // Prepare
    dynamodb.on(PutCommand).rejects(conditionFailed());
    dynamodb
      .on(GetCommand)
      .resolves({ Item: { pk: 'IMAGE#staging#sha256:abc', sk: 'CLAIM', ...otherClaim } });
    const { clients } = testDeps();

    // Act
    const result = await claimImage(clients, table, claimInput(false));

    // Assess
    expect(result).toEqual({ claimed: false, by: otherClaim });
  });

  it("keeps the execution's own claim when its step is retried", async () => {
    // Prepare
    const earlier = { ...claim, claimedAt: '2026-11-27T08:59:58.000Z' };
    dynamodb.on(PutCommand).rejects(conditionFailed());
    dynamodb.on(GetCommand).resolves({ Item: earlier });
    const { clients } = testDeps();

    // Act
    const result = await claimImage(clients, table, claimInput(false));

    // Assess
    expect(result).toEqual({ claimed: true, claim: earlier });
  });

  it('takes the claim over for a redeploy, replacing exactly the claim it read and remembering it', async () => {
    // Prepare
    dynamodb.on(GetCommand).resolves({ Item: otherClaim });
    dynamodb.on(PutCommand).resolves({});
    const { clients } = testDeps();

    // Act
    const result = await claimImage(clients, table, claimInput(true));

    // Assess
    expect(result).toEqual({ claimed: true, claim: { ...claim, takenOverFrom: otherClaim } });
    expect(dynamodb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ executionId: ME, takenOverFrom: otherClaim }),
      ConditionExpression: 'executionId = :previous',
      ExpressionAttributeValues: { ':previous': OTHER },
    });
  });

  it('reads the duplicates noted on a claim as a sorted list', async () => {
    // Prepare
    dynamodb.on(GetCommand).resolves({
      Item: { ...otherClaim, duplicates: new Set(['b-run', 'a-run']), expiresAt: 1 },
    });
    const { clients } = testDeps();

    // Act
    const found = await findImageClaim(clients, table, { environment: 'staging', imageKey: 'sha256:abc' });

    // Assess
    expect(found).toEqual({ ...otherClaim, duplicates: ['a-run', 'b-run'] });
  });
});

describe('recordDuplicate', () => {
  it('adds the execution to the claim as a set, so a retried step does not count twice', async () => {
    // Prepare
    dynamodb.on(UpdateCommand).resolves({});
    const { clients } = testDeps();

    // Act
    await recordDuplicate(clients, table, {
      environment: 'staging',
      imageKey: 'sha256:abc',
      executionId: ME,
      at: NOW.toISOString(),
    });

    // Assess
    expect(dynamodb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: 'IMAGE#staging#sha256:abc', sk: 'CLAIM' },
      UpdateExpression: 'ADD #duplicates :execution SET #lastDuplicateAt = :at',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':execution': new Set([ME]), ':at': NOW.toISOString() },
    });
  });
});

describe('releaseImageClaim', () => {
  const input = { environment: 'staging', imageKey: 'sha256:abc', executionId: ME, now: NOW };
  const mine = { executionId: ME, deploymentId: 'a', claimedAt: NOW.toISOString(), recordSk: 'x' };

  it('frees an image this execution claimed', async () => {
    // Prepare
    dynamodb.on(GetCommand).resolves({ Item: mine });
    dynamodb.on(DeleteCommand).resolves({});
    const { clients } = testDeps();

    // Act
    await releaseImageClaim(clients, table, input);

    // Assess
    expect(dynamodb).toHaveReceivedCommandWith(DeleteCommand, {
      Key: { pk: 'IMAGE#staging#sha256:abc', sk: 'CLAIM' },
      ConditionExpression: 'executionId = :me',
      ExpressionAttributeValues: { ':me': ME },
    });
  });

  it('gives a redeployed image back to the claim it took over', async () => {
    // Prepare
    const previous = {
      executionId: OTHER,
      deploymentId: 'b',
      claimedAt: '2026-11-27T08:00:00.000Z',
      recordSk: 'y',
    };
    dynamodb.on(GetCommand).resolves({ Item: { ...mine, takenOverFrom: previous } });
    dynamodb.on(PutCommand).resolves({});
    const { clients } = testDeps();

    // Act
    await releaseImageClaim(clients, table, input);

    // Assess
    expect(dynamodb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ pk: 'IMAGE#staging#sha256:abc', ...previous }),
      ConditionExpression: 'executionId = :me',
    });
    expect(dynamodb).not.toHaveReceivedCommand(DeleteCommand);
  });

  it("never touches another execution's claim", async () => {
    // Prepare
    dynamodb.on(GetCommand).resolves({ Item: { ...mine, executionId: OTHER } });
    const { clients } = testDeps();

    // Act
    await releaseImageClaim(clients, table, input);

    // Assess
    expect(dynamodb).not.toHaveReceivedCommand(DeleteCommand);
    expect(dynamodb).not.toHaveReceivedCommand(PutCommand);
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
    expect(result).toEqual({ acquired: true, since: NOW.toISOString() });
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

  it('takes over a lock whose holder has ended (FAILED), never by age', async () => {
    // Prepare
    dynamodb.on(GetCommand).resolves({
      Item: { pk: 'LOCK#staging', sk: 'LOCK', executionId: OTHER, acquiredAt: '2025-01-01T00:00:00.000Z' },
    });
    sfn.on(DescribeExecutionCommand).resolves({
      status: 'FAILED',
      executionArn: OTHER,
      stateMachineArn: 'sm',
      startDate: new Date('2025-01-01T00:00:00.000Z'),
    });
    dynamodb.on(PutCommand).resolves({});
    const { clients } = testDeps();

    // Act
    const result = await acquireServiceLock(clients, table, {
      environment: 'staging',
      executionId: ME,
      now: NOW,
    });

    // Assess
    expect(result).toEqual({
      acquired: true,
      since: NOW.toISOString(),
      tookOverFrom: { executionId: OTHER, acquiredAt: '2025-01-01T00:00:00.000Z' },
    });
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: OTHER });
  });

  it('answers a retried step with the time its first attempt took the lock, without writing', async () => {
    // Prepare
    dynamodb.on(GetCommand).resolves({ Item: { executionId: ME, acquiredAt: '2026-11-27T08:59:59.000Z' } });
    const { clients } = testDeps();

    // Act
    const result = await acquireServiceLock(clients, table, {
      environment: 'staging',
      executionId: ME,
      now: NOW,
    });

    // Assess
    expect(result).toEqual({ acquired: true, since: '2026-11-27T08:59:59.000Z' });
    expect(dynamodb).not.toHaveReceivedCommand(PutCommand);
    expect(sfn).not.toHaveReceivedAnyCommand();
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

  it('finishes only a record that exists, and says when there is none', async () => {
    // Prepare
    dynamodb.on(UpdateCommand).rejects(conditionFailed());
    const { clients } = testDeps();

    // Act
    const finished = await finishDeploymentRecord(clients, table, {
      environment: 'staging',
      startedAt: NOW.toISOString(),
      deploymentId: 'staging-stage-aaa',
      fields: {
        outcome: 'succeeded',
        reasons: [],
        statesReached: ['resolution'],
        finishedAt: NOW.toISOString(),
      },
    });

    // Assess
    expect(finished).toBe(false);
    expect(dynamodb).toHaveReceivedCommandWith(UpdateCommand, {
      ConditionExpression: 'attribute_exists(pk)',
    });
  });
});

describe('reading the ledger', () => {
  it('keeps records 400 days unless the settings say otherwise', () => {
    expect(ledgerTable({ tableName: 't' })).toEqual({ tableName: 't', retentionDays: 400 });
    expect(ledgerTable({ tableName: 't', ledgerRetentionDays: 730 })).toEqual({
      tableName: 't',
      retentionDays: 730,
    });
  });

  it('answers what is live without the storage attributes', async () => {
    // Prepare
    const live = {
      environment: 'staging',
      taskDefinitionArn: 'arn:aws:ecs:eu-central-1:123456789012:task-definition/afu9-control-center:42',
      version: 'stage-3f9c2ab',
      deploymentId: 'staging-stage-3f9c2ab',
      provedBy: 'succeeded',
      since: NOW.toISOString(),
    };
    dynamodb.on(GetCommand).resolves({ Item: { pk: 'ENV#staging', sk: 'LIVE', ...live } });
    const { clients } = testDeps();

    // Act
    const found = await getLive(clients, table, 'staging');

    // Assess
    expect(found).toEqual(live);
    expect(dynamodb).toHaveReceivedCommandWith(GetCommand, {
      Key: { pk: 'ENV#staging', sk: 'LIVE' },
      ConsistentRead: true,
    });
  });

  it('lists the newest deployments first', async () => {
    // Prepare
    dynamodb.on(QueryCommand).resolves({
      Items: [{ pk: 'ENV#staging', sk: 'DEPLOYMENT#b', expiresAt: 1, deploymentId: 'b' }],
    });
    const { clients } = testDeps();

    // Act
    const records = await recentDeployments(clients, table, 'staging', 5);

    // Assess
    expect(records).toEqual([{ deploymentId: 'b' }]);
    expect(dynamodb).toHaveReceivedCommandWith(QueryCommand, {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': 'ENV#staging', ':prefix': 'DEPLOYMENT#' },
      ScanIndexForward: false,
      Limit: 5,
    });
  });
});
