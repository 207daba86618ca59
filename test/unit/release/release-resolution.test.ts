/**
 * ResolveRequest for an ECR push: the push's release is opened, assembled, joined, sealed or
 * followed up, against DynamoDB, ECR and Step Functions as aws-sdk-client-mock answers them.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DescribeImagesCommand,
  ECRClient,
  ImageNotFoundException,
  type DescribeImagesCommandInput,
} from '@aws-sdk/client-ecr';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DeploymentRejected,
  OrchestratorPermissionMissing,
  TransientAwsError,
} from '../../../lambdas/domain/errors';
import type { ReleaseRecord } from '../../../lambdas/domain/release';
import type { ResolveResult } from '../../../lambdas/domain/workflow-state';
import { createResolveRequestHandler } from '../../../lambdas/handlers/resolve-request';
import { testDeps } from '../../support/deps';
import { loadSampleEvent } from '../request/sample-events';

const dynamodb = mockClient(DynamoDBDocumentClient);
const ecr = mockClient(ECRClient);
const sfn = mockClient(SFNClient);

const NOW = new Date('2026-11-27T09:00:00.000Z');
const TAG = 'stage-3f9c2ab';
const executionArn = (name: string) =>
  `arn:aws:states:eu-central-1:111122223333:execution:Afu9DeployOrchestrator:${name}`;
const ME = 'push-mcp-github';
const OPENER = 'push-control-center';
const releaseKey = { pk: `RELEASE#staging#${TAG}`, sk: 'RELEASE' };
const digestOf = (repository: string) =>
  `sha256:${Buffer.from(repository).toString('hex').padEnd(64, '0').slice(0, 64)}`;
const allRepositories = [
  'afu9/control-center',
  'afu9/mcp-github',
  'afu9/mcp-deploy',
  'afu9/mcp-observability',
];

/** A push of the sample's tag to mcp-github (its digest as ECR shows it). */
function githubPush() {
  const event = loadSampleEvent('ecr-push.json') as { detail: Record<string, string> };
  return {
    ...event,
    detail: {
      ...event.detail,
      'repository-name': 'afu9/mcp-github',
      'image-digest': digestOf('afu9/mcp-github'),
    },
  };
}

const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

/** ECR shows the tag in these repositories and no other. */
function ecrHasTagIn(repositories: readonly string[]) {
  ecr.on(DescribeImagesCommand).callsFake(async (input: DescribeImagesCommandInput) => {
    const repository = input.repositoryName!;
    if (!repositories.includes(repository)) {
      throw new ImageNotFoundException({ message: `no ${TAG} in ${repository}`, $metadata: {} });
    }
    return { imageDetails: [{ imageDigest: digestOf(repository), imageTags: [TAG] }] };
  });
}

function releaseItem(record: Partial<ReleaseRecord>): { Item: Record<string, unknown> } {
  return {
    Item: {
      ...releaseKey,
      environment: 'staging',
      tag: TAG,
      state: 'assembling',
      executionId: executionArn(OPENER),
      openedAt: '2026-11-27T08:59:50.000Z',
      settleDeadline: '2026-11-27T09:01:50.000Z',
      joins: 0,
      ...record,
    },
  };
}

function ledger(release?: { Item: Record<string, unknown> }) {
  dynamodb.on(GetCommand).resolves({});
  if (release) dynamodb.on(GetCommand, { Key: releaseKey }).resolves(release);
  dynamodb.on(PutCommand).resolves({});
  dynamodb.on(UpdateCommand).resolves({});
}

function resolve(input: unknown = githubPush(), now = NOW): Promise<ResolveResult> {
  return createResolveRequestHandler(testDeps({ now }))({
    executionId: executionArn(ME),
    executionName: ME,
    input,
  });
}

afterEach(() => {
  dynamodb.reset();
  ecr.reset();
  sfn.reset();
});

describe('a push and the release of its tag', () => {
  it('opens the release and lets it settle while other repositories lack the tag', async () => {
    // Prepare
    ledger();
    ecrHasTagIn(['afu9/mcp-github']);

    // Act
    const result = await resolve();

    // Assess
    expect(result).toEqual({
      status: 'assembling',
      reason: expect.stringContaining(
        'no image tagged stage-3f9c2ab yet in afu9/control-center, afu9/mcp-deploy, afu9/mcp-observability',
      ),
      waitSeconds: 5,
    });
    expect(dynamodb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({
        ...releaseKey,
        state: 'assembling',
        executionId: executionArn(ME),
        settleDeadline: '2026-11-27T09:02:00.000Z',
      }),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(dynamodb).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('seals at once when every repository has the tag, and deploys all four images pinned by digest', async () => {
    // Prepare
    ledger();
    ecrHasTagIn(allRepositories);

    // Act
    const result = await resolve();

    // Assess
    expect(result.status).toBe('accepted');
    const request = result.status === 'accepted' ? result.request : undefined;
    expect(request?.images.map((image) => [image.container, image.digest])).toEqual([
      ['control-center', digestOf('afu9/control-center')],
      ['mcp-github', digestOf('afu9/mcp-github')],
      ['mcp-deploy', digestOf('afu9/mcp-deploy')],
      ['mcp-observability', digestOf('afu9/mcp-observability')],
    ]);
    expect(request?.version).toBe(TAG);
    expect(request?.deploymentKey).toBe(
      `staging#${digestOf('afu9/control-center')}+mcp-github=${digestOf('afu9/mcp-github')}` +
        `+mcp-deploy=${digestOf('afu9/mcp-deploy')}+mcp-observability=${digestOf('afu9/mcp-observability')}`,
    );
    expect(dynamodb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: releaseKey,
      ConditionExpression: 'executionId = :me AND #state = :assembling AND joins = :seen',
    });
    // Exactly once on the set of digests.
    expect(dynamodb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ pk: `IMAGE#${request?.deploymentKey}`, sk: 'CLAIM' }),
    });
  });

  it('joins a release another running execution assembles and ends quietly, naming that execution', async () => {
    // Prepare
    ledger(releaseItem({}));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' } as never);

    // Act
    const result = await resolve();

    // Assess
    expect(result).toEqual({
      status: 'ignored',
      reason: expect.stringContaining(`joins release staging/${TAG}, which execution ${OPENER} assembles`),
    });
    expect(dynamodb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: releaseKey,
      UpdateExpression: 'ADD joins :one, joinedBy :me',
      ConditionExpression: 'executionId = :opener AND #state = :assembling',
    });
    expect(ecr).not.toHaveReceivedCommand(DescribeImagesCommand);
  });

  it('joins instead when another push opened the release between its read and its write', async () => {
    // Prepare
    ledger();
    dynamodb.on(GetCommand, { Key: releaseKey }).resolvesOnce({}).resolves(releaseItem({}));
    dynamodb.on(PutCommand).callsFake(async (input: { Item?: Record<string, unknown> }) => {
      if (input.Item?.pk === releaseKey.pk) throw conditionFailed();
      return {};
    });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' } as never);

    // Act
    const result = await resolve();

    // Assess
    expect(result).toEqual({
      status: 'ignored',
      reason: expect.stringContaining(`which execution ${OPENER}`),
    });
    expect(ecr).not.toHaveReceivedCommand(DescribeImagesCommand);
  });

  it('takes a release over whose execution ended before it sealed, so the push is not swallowed', async () => {
    // Prepare
    ledger(releaseItem({}));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'FAILED' } as never);
    ecrHasTagIn(['afu9/mcp-github']);

    // Act
    const result = await resolve();

    // Assess
    expect(result.status).toBe('assembling');
    expect(dynamodb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ ...releaseKey, executionId: executionArn(ME) }),
      ConditionExpression: 'executionId = :previous AND #state = :state',
    });
  });

  it('ignores a push of an image the sealed release already holds', async () => {
    // Prepare
    const images = [
      { container: 'mcp-github', repository: 'afu9/mcp-github', digest: digestOf('afu9/mcp-github') },
    ];
    ledger(releaseItem({ state: 'sealed', images, sealedAt: '2026-11-27T08:59:59.000Z' }));

    // Act
    const result = await resolve();

    // Assess
    expect(result).toEqual({
      status: 'ignored',
      reason: expect.stringContaining(`is already part of release staging/${TAG}`),
    });
    expect(dynamodb).not.toHaveReceivedCommand(PutCommand);
  });

  it('opens a follow-up release for a new image of the tag after the release sealed', async () => {
    // Prepare
    const images = [{ container: 'mcp-github', repository: 'afu9/mcp-github', digest: digestOf('old') }];
    ledger(releaseItem({ state: 'sealed', images, sealedAt: '2026-11-27T08:59:59.000Z' }));
    ecrHasTagIn(allRepositories);

    // Act
    const result = await resolve();

    // Assess
    expect(result.status).toBe('accepted');
    expect(dynamodb).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({
        ...releaseKey,
        follows: executionArn(OPENER),
        executionId: executionArn(ME),
      }),
      ExpressionAttributeValues: { ':previous': executionArn(OPENER), ':state': 'sealed' },
    });
  });

  it('looks again when a push joined between its look and its seal, so that push is in the release', async () => {
    // Prepare
    ledger(releaseItem({ executionId: executionArn(ME), settleDeadline: '2026-11-27T08:59:00.000Z' }));
    dynamodb.on(UpdateCommand).rejectsOnce(conditionFailed()).resolves({});
    ecrHasTagIn(allRepositories);

    // Act
    const result = await resolve();

    // Assess
    expect(result.status).toBe('accepted');
    expect(dynamodb).toHaveReceivedCommandTimes(UpdateCommand, 2);
    expect(ecr).toHaveReceivedCommandTimes(DescribeImagesCommand, 8);
  });

  it('seals with the images found once the settle window has passed; the others keep their image', async () => {
    // Prepare
    ledger(releaseItem({ executionId: executionArn(ME), settleDeadline: '2026-11-27T08:59:00.000Z' }));
    ecrHasTagIn(['afu9/mcp-github']);

    // Act
    const result = await resolve();

    // Assess
    expect(result.status === 'accepted' && result.request.images.map((image) => image.container)).toEqual([
      'mcp-github',
    ]);
  });

  it('refuses, naming the missing grant, when ECR denies the lookup', async () => {
    // Prepare
    ledger();
    ecr.on(DescribeImagesCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: ecr:DescribeImages'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    // Act
    const error = await resolve().catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(OrchestratorPermissionMissing);
    expect((error as Error).message).toContain('Grant the resolve-request function ecr:DescribeImages');
  });

  it('leaves a throttled lookup to the workflow retry', async () => {
    // Prepare
    ledger();
    ecr.on(DescribeImagesCommand).rejects(
      Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    // Act / Assess
    await expect(resolve()).rejects.toBeInstanceOf(TransientAwsError);
  });

  it('refuses a release that holds no image after its settle window', async () => {
    // Prepare
    ledger(releaseItem({ executionId: executionArn(ME), settleDeadline: '2026-11-27T08:59:00.000Z' }));
    ecrHasTagIn([]);

    // Act
    const error = await resolve().catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(DeploymentRejected);
    expect((error as Error).message).toContain('holds no image');
  });
});
