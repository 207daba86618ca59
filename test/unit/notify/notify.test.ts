import 'aws-sdk-client-mock-jest';
import {
  AuthorizationErrorException,
  InternalErrorException,
  NotFoundException,
  PublishCommand,
  SNSClient,
  ThrottledException,
} from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { NotificationFailed, TransientAwsError } from '../../../lambdas/domain/errors';
import { Outcome } from '../../../lambdas/domain/workflow-state';
import { createNotifyHandler } from '../../../lambdas/handlers/notify';
import { testDeps } from '../../support/deps';
import { loadSampleEvent } from '../request/sample-events';
import { executionArn, succeededState } from './states';
import { answerForLiveRevision } from './live-revision';

const sns = mockClient(SNSClient);
// The ledger's side of notify is specified in notify-ledger.test.ts; here every ledger write succeeds.
const dynamodb = mockClient(DynamoDBDocumentClient);
// The image parameters are specified in notify-image-parameters.test.ts; here every write succeeds.
const ecs = mockClient(ECSClient);
const ecr = mockClient(ECRClient);
const ssm = mockClient(SSMClient);
const topicArn = 'arn:aws:sns:eu-central-1:123456789012:afu9-deployments';
const metadata = { httpStatusCode: 400, requestId: 'b2c9a0e1-0000-4000-8000-000000000001' };

beforeEach(() => {
  dynamodb.onAnyCommand().resolves({});
  answerForLiveRevision({ ecs, ecr, ssm });
});

afterEach(() => {
  sns.reset();
  dynamodb.reset();
  ecs.reset();
  ecr.reset();
  ssm.reset();
});

function notify(outcome: Outcome, state: unknown, deps = testDeps()) {
  return createNotifyHandler(deps)({
    executionId: executionArn,
    outcome,
    state,
    startedAt: '2026-11-27T08:55:00.000Z',
  });
}

describe('notify handler', () => {
  it('publishes one message with outcome and environment attributes', async () => {
    // Prepare
    sns.on(PublishCommand).resolves({ MessageId: 'f3b6c1de-5d2a-5b7e-9a41-1c3e8d0b7a52' });
    const deps = testDeps();

    // Act
    const result = await notify(Outcome.succeeded, succeededState(), deps);

    // Assess
    expect(result).toEqual({
      messageId: 'f3b6c1de-5d2a-5b7e-9a41-1c3e8d0b7a52',
      subject: '[AFU-9 staging] Deployed stage-3f9c2ab',
    });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: topicArn,
      Subject: '[AFU-9 staging] Deployed stage-3f9c2ab',
      Message: expect.stringContaining('Duration:          5m 00s (since the execution started)'),
      MessageAttributes: {
        outcome: { DataType: 'String', StringValue: 'succeeded' },
        environment: { DataType: 'String', StringValue: 'staging' },
      },
    });
    const published = deps.logLines
      .map((line) => JSON.parse(line))
      .find((line) => line.message === 'Notification published');
    expect(published).toMatchObject({
      executionId: executionArn,
      outcome: 'succeeded',
      environment: 'staging',
    });
  });

  it('publishes a rejection of a bare start input', async () => {
    // Prepare
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });

    // Act
    await notify(Outcome.rejected, {
      ...loadSampleEvent('start-staging.json'),
      error: { Error: 'DeploymentRejected', Cause: 'Image tag "stage-3f9c2ab" ...' },
    });

    // Assess
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      Subject: '[AFU-9 staging] REJECTED request: stage-3f9c2ab',
      MessageAttributes: {
        outcome: { DataType: 'String', StringValue: 'rejected' },
        environment: { DataType: 'String', StringValue: 'staging' },
      },
    });
  });

  it('publishes for an empty state', async () => {
    // Prepare
    sns.on(PublishCommand).resolves({ MessageId: 'm-2' });

    // Act
    const result = await notify(Outcome.failedBeforeChange, {});

    // Assess
    expect(result.subject).toBe('[AFU-9] FAILED before any change: deployment');
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      MessageAttributes: expect.objectContaining({
        environment: { DataType: 'String', StringValue: 'unknown' },
      }),
    });
  });

  it.each([
    ['throttling', new ThrottledException({ message: 'Rate exceeded', $metadata: metadata })],
    [
      'an SNS 5xx',
      new InternalErrorException({
        message: 'Internal error',
        $metadata: { ...metadata, httpStatusCode: 500 },
      }),
    ],
  ])('asks the state machine to retry on %s', async (_name, failure) => {
    // Prepare
    sns.on(PublishCommand).rejects(failure);

    // Act
    const error = await notify(Outcome.succeeded, succeededState()).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(TransientAwsError);
    expect((error as Error).cause).toBe(failure);
  });

  it.each([
    ['a missing topic', new NotFoundException({ message: 'Topic does not exist', $metadata: metadata })],
    [
      'a denied publish',
      new AuthorizationErrorException({
        message: 'not authorized to perform: SNS:Publish',
        $metadata: { ...metadata, httpStatusCode: 403 },
      }),
    ],
  ])('fails with NotificationFailed and the cause on %s', async (_name, failure) => {
    // Prepare
    sns.on(PublishCommand).rejects(failure);

    // Act
    const error = await notify(Outcome.rolledBack, succeededState()).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(NotificationFailed);
    expect((error as Error).message).toMatch(
      /Publishing the "rolled-back" notification to .* failed .* Check that the topic exists/,
    );
    expect((error as Error).cause).toBe(failure);
  });

  it('fails with NotificationFailed when SNS returns no message id', async () => {
    // Prepare
    sns.on(PublishCommand).resolves({});

    // Act
    const outcome = notify(Outcome.succeeded, succeededState());

    // Assess
    await expect(outcome).rejects.toThrow(NotificationFailed);
  });
});
