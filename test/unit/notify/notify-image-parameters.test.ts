import 'aws-sdk-client-mock-jest';
import { ECRClient } from '@aws-sdk/client-ecr';
import { DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { AccessDeniedException, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { NotificationFailed } from '../../../lambdas/domain/errors';
import { Outcome } from '../../../lambdas/domain/workflow-state';
import { createNotifyHandler } from '../../../lambdas/handlers/notify';
import { testDeps } from '../../support/deps';
import { answerForLiveRevision, sidecarDigests } from './live-revision';
import {
  completedRollout,
  digest,
  executionArn,
  failedSmoke,
  startedRollback,
  succeededState,
  update,
} from './states';

const sns = mockClient(SNSClient);
const dynamodb = mockClient(DynamoDBDocumentClient);
const ecs = mockClient(ECSClient);
const ecr = mockClient(ECRClient);
const ssm = mockClient(SSMClient);

const STARTED_AT = '2026-11-27T08:55:00.000Z';
const denial =
  'User: arn:aws:sts::111122223333:assumed-role/Notify/notify is not authorized to perform: ssm:PutParameter on ' +
  'resource: arn:aws:ssm:eu-central-1:111122223333:parameter/deploy/staging/mcp-github/image because no ' +
  'identity-based policy allows the ssm:PutParameter action';

function withStartedAt<T extends { request: object }>(state: T): T {
  return { ...state, request: { ...state.request, startedAt: STARTED_AT } };
}

function notify(outcome: Outcome, state: unknown, deps = testDeps()) {
  return createNotifyHandler(deps)({ executionId: executionArn, outcome, state });
}

/** Parameter name → value, of every PutParameter made. */
function written(): Record<string, string | undefined> {
  return Object.fromEntries(
    ssm.commandCalls(PutParameterCommand).map((call) => [call.args[0].input.Name, call.args[0].input.Value]),
  );
}

const everyContainer = {
  '/deploy/staging/control-center/image': `afu9/control-center@${digest}`,
  '/deploy/staging/mcp-github/image': `afu9/mcp-github@${sidecarDigests['afu9/mcp-github']}`,
  '/deploy/staging/mcp-deploy/image': `afu9/mcp-deploy@${sidecarDigests['afu9/mcp-deploy']}`,
  '/deploy/staging/mcp-observability/image': `afu9/mcp-observability@${sidecarDigests['afu9/mcp-observability']}`,
};

beforeEach(() => {
  dynamodb.onAnyCommand().resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'f3b6c1de-5d2a-5b7e-9a41-1c3e8d0b7a52' });
  answerForLiveRevision({ ecs, ecr, ssm });
});

afterEach(() => {
  for (const mock of [sns, dynamodb, ecs, ecr, ssm]) mock.reset();
});

describe('notify publishes the live images as SSM parameters', () => {
  it('writes one String parameter per container of the verified revision, pinned by digest, before publishing', async () => {
    // Act
    await notify(Outcome.succeeded, withStartedAt(succeededState()));

    // Assess
    expect(ecs).toHaveReceivedCommandWith(DescribeTaskDefinitionCommand, {
      taskDefinition: update.taskDefinitionArn,
    });
    expect(written()).toEqual(everyContainer);
    for (const call of ssm.commandCalls(PutParameterCommand)) {
      expect(call.args[0].input).toMatchObject({ Type: 'String', Tier: 'Standard', Overwrite: true });
      expect(call.calledBefore(sns.commandCalls(PublishCommand)[0]!)).toBe(true);
    }
  });

  it('points the parameters at the rollback target after a completed rollback', async () => {
    // Prepare
    const state = withStartedAt({
      ...succeededState(),
      smoke: failedSmoke,
      error: { Error: 'SmokeTestFailed', Cause: 'readiness answered 503' },
      rollback: startedRollback,
      rollbackRollout: { ...completedRollout, deploymentId: startedRollback.deploymentId },
    });

    // Act
    await notify(Outcome.rolledBack, state);

    // Assess
    expect(ecs).toHaveReceivedCommandWith(DescribeTaskDefinitionCommand, {
      taskDefinition: startedRollback.targetTaskDefinitionArn,
    });
    expect(Object.keys(written())).toEqual(Object.keys(everyContainer));
  });

  it.each([Outcome.rollbackFailed, Outcome.failedBeforeChange, Outcome.blocked])(
    'leaves the parameters where they are after %s: nothing new was verified',
    async (outcome) => {
      // Act
      await notify(outcome, withStartedAt(succeededState()));

      // Assess
      expect(ssm).not.toHaveReceivedCommand(PutParameterCommand);
      expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    },
  );

  it('still sends the outcome when a parameter cannot be written, says so in the message, then fails the step', async () => {
    // Prepare
    ssm
      .on(PutParameterCommand, { Name: '/deploy/staging/mcp-github/image' })
      .rejects(
        new AccessDeniedException({ message: denial, Message: denial, $metadata: { httpStatusCode: 400 } }),
      );

    // Act
    const error = await notify(Outcome.succeeded, withStartedAt(succeededState())).catch((e: unknown) => e);

    // Assess
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    const message = sns.commandCalls(PublishCommand)[0]!.args[0].input.Message!;
    expect(message).toContain(
      'the image parameters were NOT all published: mcp-github: AccessDeniedException',
    );
    expect(error).toBeInstanceOf(NotificationFailed);
    expect((error as Error).message).toMatch(
      /"succeeded" notification was published \(message f3b6c1de-.*\), but the image parameters were NOT all published: mcp-github: AccessDeniedException.*ssm:PutParameter/,
    );
    // The other containers were still written.
    expect(Object.keys(written())).toHaveLength(4);
  });

  it('names a revision it cannot read, and still sends the outcome', async () => {
    // Prepare
    ecs.on(DescribeTaskDefinitionCommand).rejects(
      Object.assign(new Error('Unable to describe task definition.'), {
        name: 'ClientException',
        $fault: 'client',
      }),
    );

    // Act
    const error = await notify(Outcome.succeeded, withStartedAt(succeededState())).catch((e: unknown) => e);

    // Assess
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect((error as Error).message).toContain(
      `reading the containers of ${update.taskDefinitionArn} (ClientException`,
    );
    expect(ssm).not.toHaveReceivedCommand(PutParameterCommand);
  });

  it('uses the configured prefix of the environment', async () => {
    // Prepare
    const deps = testDeps();
    const staging = deps.environments.staging!;
    const configured = {
      ...deps,
      environments: { ...deps.environments, staging: { ...staging, imageParameterPrefix: '/afu9/images' } },
    };

    // Act
    await notify(Outcome.succeeded, withStartedAt(succeededState()), configured);

    // Assess
    expect(Object.keys(written())).toContain('/afu9/images/staging/control-center/image');
  });
});
