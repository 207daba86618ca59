/**
 * Throttling is retried by the SDK client itself (the handler never sees it): this suite lets the
 * real Secrets Manager client from testDeps() (maxAttempts 3, standard retry mode) talk to a fake HTTP layer
 * that throttles once, instead of stubbing `send`, which would bypass the SDK's retry.
 */
import { Readable } from 'node:stream';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { createVerifySecretsHandler } from '../../../lambdas/handlers/verify-secrets';
import { testDeps } from '../../support/deps';
import {
  databaseSecretArn,
  executionId,
  githubSecretArn,
  llmSecretArn,
  newDigest,
  runningTaskDefinition,
  secretValues,
  service,
  stagingRequest,
} from './fixtures';

const ecs = mockClient(ECSClient);
const ecr = mockClient(ECRClient);

interface HttpRequestLike {
  readonly headers: Record<string, string>;
  readonly body?: unknown;
}

const valuesByArn: Record<string, unknown> = {
  [githubSecretArn]: secretValues.github,
  [llmSecretArn]: secretValues.llm,
  [databaseSecretArn]: secretValues.database,
};

function jsonResponse(statusCode: number, body: unknown) {
  return {
    response: {
      statusCode,
      reason: statusCode === 200 ? 'OK' : 'Bad Request',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'req-1' },
      body: Readable.from([Buffer.from(JSON.stringify(body))]),
    },
  };
}

/** Answers Secrets Manager's JSON protocol; throttles the first DescribeSecret of afu9/github. */
function fakeSecretsManagerHttp(requests: string[]) {
  let throttled = false;
  return {
    handle: async (request: HttpRequestLike) => {
      const target = request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'] ?? '';
      const { SecretId } = JSON.parse(new TextDecoder().decode(request.body as Uint8Array)) as {
        SecretId: string;
      };
      requests.push(`${target} ${SecretId}`);
      if (target.endsWith('DescribeSecret') && SecretId === githubSecretArn && !throttled) {
        throttled = true;
        return jsonResponse(400, { __type: 'ThrottlingException', message: 'Rate exceeded' });
      }
      if (target.endsWith('DescribeSecret'))
        return jsonResponse(200, { ARN: SecretId, Name: SecretId.split(':').at(-1) });
      return jsonResponse(200, {
        ARN: SecretId,
        SecretString: JSON.stringify(valuesByArn[SecretId]),
        VersionStages: ['AWSCURRENT'],
      });
    },
  };
}

async function settleOnFakeClock<T>(promise: Promise<T>): Promise<T> {
  let settled = false;
  const tracked = promise.finally(() => {
    settled = true;
  });
  while (!settled) await jest.advanceTimersByTimeAsync(250);
  return tracked;
}

const savedEnv = { ...process.env };

beforeAll(() => {
  // The real client signs its requests; static test credentials keep it off any credential lookup.
  process.env.AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
});

afterAll(() => {
  process.env = savedEnv;
});

afterEach(() => {
  ecs.reset();
  ecr.reset();
  jest.useRealTimers();
});

describe('VerifySecrets with the real SDK retry', () => {
  it('succeeds when Secrets Manager throttles once: the SDK client retries, the handler never sees it', async () => {
    // After a throttle the client backs off (exponential, with jitter) before retrying: run
    // those waits on jest's clock instead of the wall clock.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    ecs.on(DescribeServicesCommand).resolves({ services: [service()] });
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: runningTaskDefinition() });
    ecr
      .on(DescribeImagesCommand)
      .resolves({ imageDetails: [{ repositoryName: 'afu9/control-center', imageDigest: newDigest }] });
    const deps = testDeps();
    const requests: string[] = [];
    (deps.clients.secretsManager as SecretsManagerClient).config.requestHandler = fakeSecretsManagerHttp(
      requests,
    ) as never;

    const startedAt = Date.now();
    const verification = createVerifySecretsHandler(deps)({ executionId, request: stagingRequest() });
    const result = await settleOnFakeClock(verification);

    expect(result.ok).toBe(true);
    expect(
      requests.filter((line) => line === `secretsmanager.DescribeSecret ${githubSecretArn}`),
    ).toHaveLength(2);
    // The SDK waited (backoff, pacing) on the fake clock, not in the handler's own sleep.
    expect(Date.now() - startedAt).toBeGreaterThan(0);
    expect(deps.sleptMs()).toBe(0);
  });
});
