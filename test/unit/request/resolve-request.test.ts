import 'aws-sdk-client-mock-jest';
import { ThrottlingException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DescribeImagesCommand, ECRClient, ImageNotFoundException } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { DeploymentRejected, TransientAwsError } from '../../../lambdas/domain/errors';
import { createResolveRequestHandler } from '../../../lambdas/handlers/resolve-request';
import { testDeps } from '../../support/deps';
import { loadSampleEvent, sampleEventFiles, withDetail } from './sample-events';

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
const executionId = 'arn:aws:states:eu-central-1:111122223333:execution:Afu9DeployOrchestrator:run-0001';
const failedDeploymentId = 'ecs-svc/1338873912811884835';

const waitRecordKey = { pk: `WAIT#${failedDeploymentId}`, sk: 'WAIT' };

/** An empty ledger: no claims, no lock; every write succeeds. */
function emptyLedger() {
  dynamodb.on(GetCommand).resolves({});
  dynamodb.on(PutCommand).resolves({});
}

afterEach(() => {
  dynamodb.reset();
  ecr.reset();
});

function resolve(input: unknown, deps = testDeps()) {
  return createResolveRequestHandler(deps)({ executionId, executionName: 'run-0001', input });
}

describe('resolve-request handler', () => {
  it('accepts the staging start input and logs with the execution id', async () => {
    // Prepare
    emptyLedger();
    const deps = testDeps();

    // Act
    const result = await resolve(loadSampleEvent('start-staging.json'), deps);

    // Assess
    expect(result).toEqual({
      status: 'accepted',
      request: expect.objectContaining({
        environment: 'staging',
        version: 'stage-3f9c2ab',
        requestedBy: 'jane.doe',
      }),
    });
    const accepted = deps.logLines
      .map((line) => JSON.parse(line))
      .find((line) => line.message === 'Request accepted');
    expect(accepted).toMatchObject({
      executionId,
      environment: 'staging',
      deploymentKey: 'staging#stage-3f9c2ab',
    });
  });

  it('throws DeploymentRejected for a refused request and logs why', async () => {
    // Prepare
    const deps = testDeps();

    // Act
    const outcome = resolve({ environment: 'production', imageTag: 'prod-1' }, deps);

    // Assess
    await expect(outcome).rejects.toThrow(DeploymentRejected);
    await expect(outcome).rejects.toThrow(/allowProduction/);
    expect(deps.logLines.join('\n')).toMatch(/"errorName":"DeploymentRejected"/);
  });

  it('turns an unwatched failed ECS deployment into a rollback request', async () => {
    // Prepare
    emptyLedger();

    // Act
    const result = await resolve(loadSampleEvent('ecs-deployment-failed.json'));

    // Assess
    expect(result).toMatchObject({
      status: 'accepted',
      request: { kind: 'rollback', environment: 'staging', failedDeploymentId },
    });
    expect(dynamodb).toHaveReceivedCommandWith(GetCommand, {
      TableName: 'afu9-deployments',
      Key: waitRecordKey,
      ConsistentRead: true,
    });
  });

  it('accepts a failed deployment whose record holds only the event (no execution waits on it)', async () => {
    // Prepare
    emptyLedger();
    dynamodb.on(GetCommand, { Key: waitRecordKey }).resolves({
      Item: {
        deploymentId: failedDeploymentId,
        event: { eventName: 'SERVICE_DEPLOYMENT_FAILED', time: '2026-11-27T08:58:31Z' },
      },
    });

    // Act
    const result = await resolve(loadSampleEvent('ecs-deployment-failed.json'));

    // Assess
    expect(result.status).toBe('accepted');
  });

  it('ignores a failed deployment an orchestrator execution is watching', async () => {
    // Prepare
    const watcher = 'arn:aws:states:eu-central-1:111122223333:execution:Afu9DeployOrchestrator:push-42';
    dynamodb.on(GetCommand).resolves({
      Item: { deploymentId: failedDeploymentId, executionId: watcher, taskToken: 'token-1' },
    });
    const deps = testDeps();

    // Act
    const result = await resolve(loadSampleEvent('ecs-deployment-failed.json'), deps);

    // Assess
    expect(result).toEqual({
      status: 'ignored',
      reason: `ECS deployment ${failedDeploymentId} failed; handled by execution ${watcher}.`,
    });
    const ignoredLine = deps.logLines
      .map((line) => JSON.parse(line))
      .find((line) => line.message === 'Trigger ignored');
    expect(ignoredLine).toMatchObject({ executionId, deploymentId: failedDeploymentId });
  });

  it('asks for a retry when DynamoDB throttles', async () => {
    // Prepare
    dynamodb
      .on(GetCommand)
      .rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }));

    // Act
    const outcome = resolve(loadSampleEvent('ecs-deployment-failed.json'));

    // Assess
    await expect(outcome).rejects.toThrow(TransientAwsError);
  });

  it('refuses, keeping the cause, when the wait record cannot be read', async () => {
    // Prepare
    const denied = Object.assign(new Error('not authorized to perform dynamodb:GetItem'), {
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    dynamodb.on(GetCommand).rejects(denied);

    // Act
    const error = await resolve(loadSampleEvent('ecs-deployment-failed.json')).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(DeploymentRejected);
    expect((error as Error).message).toMatch(
      /Could not tell whether an execution already handles .* "action": "rollback"/,
    );
    expect((error as Error).cause).toBe(denied);
  });

  it('ignores an ECS COMPLETED event without reading the table', async () => {
    // Act
    const result = await resolve(
      withDetail(loadSampleEvent('ecs-deployment-failed.json'), {
        eventType: 'INFO',
        eventName: 'SERVICE_DEPLOYMENT_COMPLETED',
      }),
    );

    // Assess
    expect(result.status).toBe('ignored');
    expect(dynamodb).not.toHaveReceivedAnyCommand();
  });

  it("does not carry one invocation's deployment id into the next one's logs", async () => {
    // Prepare
    emptyLedger();
    const deps = testDeps();
    const handler = createResolveRequestHandler(deps);
    await handler({
      executionId,
      executionName: 'run-0001',
      input: loadSampleEvent('ecs-deployment-failed.json'),
    });
    deps.logLines.length = 0;

    // Act
    await handler({ executionId, executionName: 'run-0002', input: loadSampleEvent('start-staging.json') });

    // Assess
    expect(deps.logLines.join('\n')).not.toContain(failedDeploymentId);
  });
});

describe('the sample inputs in events/', () => {
  const expected: Record<string, { status: string; kind?: string; environment?: string }> = {
    'start-staging.json': { status: 'accepted', kind: 'deploy', environment: 'staging' },
    'start-production.json': { status: 'accepted', kind: 'deploy', environment: 'production' },
    'rollback-staging.json': { status: 'accepted', kind: 'rollback', environment: 'staging' },
    // A push opens the release of its tag, which settles while the other repositories lack the tag.
    'ecr-push.json': { status: 'assembling' },
    'ecs-deployment-failed.json': { status: 'accepted', kind: 'rollback', environment: 'staging' },
  };

  it('has an expectation here for every file', () => {
    expect(sampleEventFiles().sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(Object.entries(expected))('%s resolves as documented', async (file, outcome) => {
    // Prepare
    emptyLedger();

    // Act
    const result = await resolve(loadSampleEvent(file));

    // Assess
    expect(result.status).toBe(outcome.status);
    if (result.status === 'accepted') {
      expect(result.request).toMatchObject({ kind: outcome.kind, environment: outcome.environment });
    }
  });
});
