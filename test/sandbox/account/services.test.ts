import { DescribeImagesCommand, BatchGetImageCommand, ImageNotFoundException } from '@aws-sdk/client-ecr';
import {
  DescribeServicesCommand,
  ListClustersCommand,
  ServiceNotFoundException,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, NoSuchKey, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  ResourceNotFoundException,
} from '@aws-sdk/client-secrets-manager';
import {
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  claimTokenCompletion,
  storeDeploymentEvent,
  storeWaitToken,
} from '../../../lambdas/aws/deployment-table';
import { createSimulatedAccount } from '../../../sandbox/account';
import type { SimulatedAccount, TaskTokenCompletion } from '../../../sandbox/account/simulated-account';

const table = 'afu9-deployments';
const topicArn = 'arn:aws:sns:eu-central-1:123456789012:afu9-deployments';

describe('simulated account services', () => {
  let account: SimulatedAccount;
  beforeEach(async () => {
    account = await createSimulatedAccount();
  });
  afterEach(async () => account.close());

  describe('Secrets Manager', () => {
    it('answers a seeded secret by name and by ARN with its JSON value', async () => {
      const byName = await account.clients.secretsManager.send(
        new GetSecretValueCommand({ SecretId: 'afu9/github' }),
      );
      const byArn = await account.clients.secretsManager.send(
        new DescribeSecretCommand({ SecretId: account.secretsManager.arnOf('afu9/github') }),
      );

      expect(Object.keys(JSON.parse(byName.SecretString!))).toEqual(['token', 'owner', 'repo']);
      expect(byArn).toMatchObject({
        Name: 'afu9/github',
        ARN: expect.stringMatching(/:secret:afu9\/github-[A-Za-z]{6}$/),
      });
      expect(byArn.DeletedDate).toBeUndefined();
    });

    it('shows a pending deletion in DescribeSecret and refuses its value with InvalidRequestException', async () => {
      account.secretsManager.setCondition('afu9/database', { state: 'pending-deletion' });

      const described = await account.clients.secretsManager.send(
        new DescribeSecretCommand({ SecretId: 'afu9/database' }),
      );
      const read = account.clients.secretsManager.send(
        new GetSecretValueCommand({ SecretId: 'afu9/database' }),
      );

      expect(described.DeletedDate).toEqual(account.clock.now());
      await expect(read).rejects.toBeInstanceOf(InvalidRequestException);
      await expect(read).rejects.toMatchObject({
        name: 'InvalidRequestException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      });
    });

    it('throws ResourceNotFoundException for a missing secret and shows a lacking key or placeholder in the value', async () => {
      account.secretsManager.setCondition('afu9/llm', { state: 'missing' });
      account.secretsManager.setCondition('afu9/github', { state: 'lacking-key', key: 'owner' });
      account.secretsManager.setCondition('afu9/database', { state: 'placeholder', key: 'password' });

      await expect(
        account.clients.secretsManager.send(new DescribeSecretCommand({ SecretId: 'afu9/llm' })),
      ).rejects.toBeInstanceOf(ResourceNotFoundException);
      const github = await account.clients.secretsManager.send(
        new GetSecretValueCommand({ SecretId: 'afu9/github' }),
      );
      const database = await account.clients.secretsManager.send(
        new GetSecretValueCommand({ SecretId: 'afu9/database' }),
      );
      expect(JSON.parse(github.SecretString!)).not.toHaveProperty('owner');
      expect(JSON.parse(database.SecretString!).password).toBe('REPLACE_ME');
    });
  });

  describe('ECR', () => {
    it('describes a pushed image by tag and by digest and emits the ECR push event', async () => {
      const digest = account.ecr.pushImage('afu9/control-center', 'stage-9f8e7d6');

      const byTag = await account.clients.ecr.send(
        new DescribeImagesCommand({
          repositoryName: 'afu9/control-center',
          imageIds: [{ imageTag: 'stage-9f8e7d6' }],
        }),
      );
      const byDigest = await account.clients.ecr.send(
        new BatchGetImageCommand({
          repositoryName: 'afu9/control-center',
          imageIds: [{ imageDigest: digest }],
        }),
      );
      account.clock.advanceBy(10_000);

      expect(byTag.imageDetails![0]).toMatchObject({ imageDigest: digest, imageTags: ['stage-9f8e7d6'] });
      expect(byDigest.images![0]!.imageId!.imageDigest).toBe(digest);
      expect(account.bus.history.at(-1)).toMatchObject({
        source: 'aws.ecr',
        'detail-type': 'ECR Image Action',
        detail: {
          result: 'SUCCESS',
          'action-type': 'PUSH',
          'repository-name': 'afu9/control-center',
          'image-digest': digest,
          'image-tag': 'stage-9f8e7d6',
        },
      });
    });

    it('throws ImageNotFoundException for a missing image and reports it as a BatchGetImage failure', async () => {
      const described = account.clients.ecr.send(
        new DescribeImagesCommand({
          repositoryName: 'afu9/control-center',
          imageIds: [{ imageTag: 'stage-nothere' }],
        }),
      );
      const batch = await account.clients.ecr.send(
        new BatchGetImageCommand({
          repositoryName: 'afu9/control-center',
          imageIds: [{ imageTag: 'stage-nothere' }],
        }),
      );

      await expect(described).rejects.toBeInstanceOf(ImageNotFoundException);
      expect(batch.failures).toEqual([
        {
          imageId: { imageTag: 'stage-nothere' },
          failureCode: 'ImageNotFound',
          failureReason: 'Requested image not found',
        },
      ]);
    });
  });

  describe('S3 and SNS', () => {
    it('stores and returns an object body, and throws NoSuchKey for a missing one', async () => {
      await account.clients.s3.send(
        new PutObjectCommand({ Bucket: 'afu9-deploy-diffs', Key: 'diffs/a.txt', Body: 'Stack Afu9EcsStack' }),
      );

      const object = await account.clients.s3.send(
        new GetObjectCommand({ Bucket: 'afu9-deploy-diffs', Key: 'diffs/a.txt' }),
      );

      expect(await object.Body!.transformToString()).toBe('Stack Afu9EcsStack');
      await expect(
        account.clients.s3.send(new GetObjectCommand({ Bucket: 'afu9-deploy-diffs', Key: 'diffs/none.txt' })),
      ).rejects.toBeInstanceOf(NoSuchKey);
    });

    it('records a published message and refuses a subject SNS would refuse', async () => {
      await account.clients.sns.send(
        new PublishCommand({ TopicArn: topicArn, Subject: 'Deployed stage-1', Message: 'ok' }),
      );

      expect(account.published).toEqual([
        expect.objectContaining({ topicArn, subject: 'Deployed stage-1', message: 'ok' }),
      ]);
      await expect(
        account.clients.sns.send(
          new PublishCommand({ TopicArn: topicArn, Subject: 'two\nlines', Message: 'x' }),
        ),
      ).rejects.toMatchObject({
        name: 'InvalidParameterException',
      });
      await expect(
        account.clients.sns.send(new PublishCommand({ TopicArn: `${topicArn}-other`, Message: 'x' })),
      ).rejects.toMatchObject({
        name: 'NotFoundException',
      });
    });
  });

  describe('Step Functions task tokens', () => {
    it('completes a waiting token once, tells listeners, and answers TaskTimedOut afterwards', async () => {
      const token = account.sfn.issueToken();
      const completions: TaskTokenCompletion[] = [];
      account.onTaskTokenCompleted((completion) => completions.push(completion));

      await account.clients.sfn.send(
        new SendTaskSuccessCommand({
          taskToken: token,
          output: '{"eventName":"SERVICE_DEPLOYMENT_COMPLETED"}',
        }),
      );
      const again = account.clients.sfn.send(new SendTaskFailureCommand({ taskToken: token, error: 'X' }));

      expect(completions).toEqual([
        { token, outcome: 'success', output: '{"eventName":"SERVICE_DEPLOYMENT_COMPLETED"}' },
      ]);
      await expect(again).rejects.toBeInstanceOf(TaskTimedOut);
    });

    it('answers TaskDoesNotExist for an unknown token and InvalidOutput for output that is not JSON', async () => {
      const token = account.sfn.issueToken();

      await expect(
        account.clients.sfn.send(new SendTaskSuccessCommand({ taskToken: 'AQB4unknown', output: '{}' })),
      ).rejects.toBeInstanceOf(TaskDoesNotExist);
      await expect(
        account.clients.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: 'not json' })),
      ).rejects.toMatchObject({ name: 'InvalidOutput' });
    });
  });

  describe('DynamoDB', () => {
    it('runs the wait-record adapter race-free: ALL_NEW merges both writers, the second claim fails its condition', async () => {
      const now = account.clock.now();
      await storeDeploymentEvent(account.clients, table, {
        deploymentId: 'ecs-svc/1',
        event: { eventName: 'SERVICE_DEPLOYMENT_COMPLETED', time: now.toISOString() },
        now,
      });

      const record = await storeWaitToken(account.clients, table, {
        deploymentId: 'ecs-svc/1',
        executionId: 'exec',
        taskToken: 'tok',
        now,
      });
      const first = await claimTokenCompletion(account.clients, table, {
        deploymentId: 'ecs-svc/1',
        taskToken: 'tok',
        now,
      });
      const second = await claimTokenCompletion(account.clients, table, {
        deploymentId: 'ecs-svc/1',
        taskToken: 'tok',
        now,
      });

      expect(record).toMatchObject({
        taskToken: 'tok',
        event: { eventName: 'SERVICE_DEPLOYMENT_COMPLETED' },
      });
      expect([first, second]).toEqual([true, false]);
    });

    it('evaluates conditions, REMOVE, ALL_OLD and begins_with queries as DynamoDB does', async () => {
      const db = account.clients.dynamodb;
      await db.send(
        new PutCommand({ TableName: table, Item: { pk: 'ENV#staging', sk: 'DEPLOY#2', n: 2, gone: 'x' } }),
      );
      await db.send(new PutCommand({ TableName: table, Item: { pk: 'ENV#staging', sk: 'DEPLOY#1', n: 1 } }));
      await db.send(new PutCommand({ TableName: table, Item: { pk: 'ENV#staging', sk: 'LOCK', n: 9 } }));

      const refused = db.send(
        new PutCommand({
          TableName: table,
          Item: { pk: 'ENV#staging', sk: 'LOCK' },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      const updated = await db.send(
        new UpdateCommand({
          TableName: table,
          Key: { pk: 'ENV#staging', sk: 'DEPLOY#2' },
          UpdateExpression: 'SET #n = #n + :one REMOVE gone',
          ConditionExpression: '#n > :one AND (attribute_exists(gone) OR n <> :one)',
          ExpressionAttributeNames: { '#n': 'n' },
          ExpressionAttributeValues: { ':one': 1 },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const query = await db.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
          ExpressionAttributeValues: { ':pk': 'ENV#staging', ':p': 'DEPLOY#' },
          ScanIndexForward: false,
        }),
      );
      const deleted = await db.send(
        new DeleteCommand({
          TableName: table,
          Key: { pk: 'ENV#staging', sk: 'LOCK' },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const afterDelete = await db.send(
        new GetCommand({ TableName: table, Key: { pk: 'ENV#staging', sk: 'LOCK' } }),
      );

      await expect(refused).rejects.toBeInstanceOf(ConditionalCheckFailedException);
      expect(updated.Attributes).toEqual({ pk: 'ENV#staging', sk: 'DEPLOY#2', n: 3 });
      expect(query.Items!.map((item) => item.sk)).toEqual(['DEPLOY#2', 'DEPLOY#1']);
      expect(deleted.Attributes).toEqual({ pk: 'ENV#staging', sk: 'LOCK', n: 9 });
      expect(afterDelete.Item).toBeUndefined();
    });

    it('answers ValidationException for an undefined placeholder and ResourceNotFoundException for an unknown table', async () => {
      const db = account.clients.dynamodb;
      await expect(
        db.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk: 'a', sk: 'b' },
            UpdateExpression: 'SET x = :missing',
          }),
        ),
      ).rejects.toMatchObject({ name: 'ValidationException', $fault: 'client' });
      await expect(
        db.send(new GetCommand({ TableName: 'nope', Key: { pk: 'a', sk: 'b' } })),
      ).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
      });
    });
  });

  describe('errors and faults', () => {
    it('refuses an unsupported command loudly, by name', async () => {
      await expect(account.clients.ecs.send(new ListClustersCommand({}) as never)).rejects.toThrow(
        /simulated ECS does not support ListClustersCommand/,
      );
    });

    it('answers an unknown service as ECS does: a MISSING failure from DescribeServices, ServiceNotFoundException from UpdateService', async () => {
      const described = await account.clients.ecs.send(
        new DescribeServicesCommand({ cluster: 'afu9-cluster', services: ['nope'] }),
      );

      expect(described).toMatchObject({ services: [], failures: [{ reason: 'MISSING' }] });
      await expect(
        account.clients.ecs.send(
          new UpdateServiceCommand({ cluster: 'afu9-cluster', service: 'nope', forceNewDeployment: true }),
        ),
      ).rejects.toBeInstanceOf(ServiceNotFoundException);
    });

    it('fails an injected API call the given number of times, as a throttling or 5xx error', async () => {
      account.faults.inject({
        service: 'ecs',
        command: 'DescribeServices',
        error: 'ThrottlingException',
        times: 2,
      });
      account.faults.inject({ service: 'sns', command: 'Publish', error: 'InternalError' });
      const describe = () =>
        account.clients.ecs.send(
          new DescribeServicesCommand({ cluster: 'afu9-cluster', services: ['afu9-control-center-staging'] }),
        );

      await expect(describe()).rejects.toMatchObject({
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      });
      await expect(describe()).rejects.toMatchObject({ name: 'ThrottlingException' });
      await expect(describe()).resolves.toMatchObject({
        services: [expect.objectContaining({ status: 'ACTIVE' })],
      });
      await expect(
        account.clients.sns.send(new PublishCommand({ TopicArn: topicArn, Message: 'x' })),
      ).rejects.toMatchObject({
        name: 'InternalError',
        $fault: 'server',
        $metadata: { httpStatusCode: 500 },
      });
      expect(account.faults.struck).toHaveLength(3);
    });

    it('drops or duplicates a chosen EventBridge event', async () => {
      account.faults.injectEvent({ detailType: 'ECR Image Action', action: 'drop' });
      account.faults.injectEvent({ detailType: 'ECR Image Action', action: 'duplicate', seconds: 5 });

      account.ecr.pushImage('afu9/control-center', 'stage-dropped');
      account.ecr.pushImage('afu9/control-center', 'stage-twice');
      account.clock.advanceBy(60_000);

      expect(account.bus.history.map((e) => e.detail['image-tag'])).toEqual(['stage-twice', 'stage-twice']);
    });
  });
});
