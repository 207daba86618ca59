import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { createVerifySecretsHandler } from '../../../lambdas/handlers/verify-secrets';
import type { VerificationResult } from '../../../lambdas/domain/workflow-state';
import { testDeps } from '../../support/deps';
import {
  account,
  awsError,
  databaseSecretArn,
  executionId,
  githubSecretArn,
  llmSecretArn,
  newDigest,
  primaryImage,
  runningTaskDefinition,
  secretValues,
  service,
  stagingRequest,
} from './fixtures';

const ecs = mockClient(ECSClient);
const ecr = mockClient(ECRClient);
const secretsManager = mockClient(SecretsManagerClient);

const secretArns = { github: githubSecretArn, llm: llmSecretArn, database: databaseSecretArn } as const;
type SecretKey = keyof typeof secretArns;

function givenRunningService(): void {
  ecs.on(DescribeServicesCommand).resolves({ services: [service()], failures: [] });
  ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: runningTaskDefinition(), tags: [] });
}

function givenSecret(key: SecretKey, secretString: string): void {
  const arn = secretArns[key];
  const name = `afu9/${key}`;
  secretsManager.on(DescribeSecretCommand, { SecretId: arn }).resolves({
    ARN: arn,
    Name: name,
    LastChangedDate: new Date('2026-11-01T08:00:00Z'),
    VersionIdsToStages: { 'c0ffee00-1111-2222-3333-444455556666': ['AWSCURRENT'] },
  });
  secretsManager.on(GetSecretValueCommand, { SecretId: arn }).resolves({
    ARN: arn,
    Name: name,
    VersionId: 'c0ffee00-1111-2222-3333-444455556666',
    SecretString: secretString,
    VersionStages: ['AWSCURRENT'],
    CreatedDate: new Date('2026-11-01T08:00:00Z'),
  });
}

function givenHealthySecrets(overrides: Partial<Record<SecretKey, unknown>> = {}): void {
  for (const key of Object.keys(secretArns) as SecretKey[]) {
    const value = key in overrides ? overrides[key] : secretValues[key];
    givenSecret(key, typeof value === 'string' ? value : JSON.stringify(value));
  }
}

function givenImage(repositoryName: string, digest: string, tags: string[]): void {
  ecr.on(DescribeImagesCommand, { repositoryName }).resolves({
    imageDetails: [
      {
        registryId: account,
        repositoryName,
        imageDigest: digest,
        imageTags: tags,
        imageSizeInBytes: 187_654_321,
        imagePushedAt: new Date('2026-11-27T08:40:00Z'),
        imageManifestMediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      },
    ],
  });
}

const sensitiveValues = [
  secretValues.github.token,
  secretValues.llm.openai_api_key,
  secretValues.database.host,
  secretValues.database.password,
  'ghp_your_token_here',
  'not-json-but-a-secret-Q9x',
];

/** Nothing the handler produced may contain any value it read. */
function expectNoSecretValue(...outputs: unknown[]): void {
  const text = outputs
    .map((output) => (typeof output === 'string' ? output : JSON.stringify(output)))
    .join('\n');
  for (const value of sensitiveValues) expect(text).not.toContain(value);
}

async function verifyFailure(
  deps = testDeps(),
): Promise<{ error: Error; deps: ReturnType<typeof testDeps> }> {
  const error = await createVerifySecretsHandler(deps)({ executionId, request: stagingRequest() }).then(
    () => {
      throw new Error('expected VerifySecrets to fail');
    },
    (caught: Error) => caught,
  );
  return { error, deps };
}

afterEach(() => {
  ecs.reset();
  ecr.reset();
  secretsManager.reset();
});

describe('VerifySecrets', () => {
  it('passes when every secret, key and image is in order, and pins each image by its digest', async () => {
    givenRunningService();
    givenHealthySecrets();
    givenImage('afu9/control-center', newDigest, ['stage-4d5e6f7']);
    const deps = testDeps();

    const result: VerificationResult = await createVerifySecretsHandler(deps)({
      executionId,
      request: stagingRequest({ images: [{ ...primaryImage, digest: undefined }] }),
    });

    expect(result.ok).toBe(true);
    expect(result.images).toEqual([{ ...primaryImage, digest: newDigest }]);
    expect(result.checks.filter((check) => check.status !== 'OK')).toEqual([]);
    expect(result.checks).toEqual(
      expect.arrayContaining([
        { kind: 'secret', subject: 'afu9/github', status: 'OK', detail: expect.any(String) },
        { kind: 'secret-key', subject: 'afu9/github › token', status: 'OK', detail: 'present' },
        { kind: 'secret-key', subject: 'afu9/llm › openai_api_key', status: 'OK', detail: 'present' },
        {
          kind: 'secret-key',
          subject: 'afu9/llm › anthropic_api_key',
          status: 'OK',
          detail: 'optional, not set',
        },
        { kind: 'secret-key', subject: 'afu9/database › password', status: 'OK', detail: 'present' },
        {
          kind: 'image',
          subject: `afu9/control-center:stage-4d5e6f7@${newDigest}`,
          status: 'OK',
          detail: 'exists in ECR',
        },
      ]),
    );
    expect(ecr).toHaveReceivedCommandWith(DescribeImagesCommand, {
      repositoryName: 'afu9/control-center',
      registryId: account,
      imageIds: [{ imageTag: 'stage-4d5e6f7' }],
    });
    expect(secretsManager).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: githubSecretArn });
    expectNoSecretValue(result, deps.logLines);
  });

  it('looks an image up by digest when the request pins one, and checks only the images being changed', async () => {
    givenRunningService();
    givenHealthySecrets();
    givenImage('afu9/control-center', newDigest, ['stage-4d5e6f7']);

    await createVerifySecretsHandler(testDeps())({ executionId, request: stagingRequest() });

    expect(ecr).toHaveReceivedCommandTimes(DescribeImagesCommand, 1);
    expect(ecr).toHaveReceivedCommandWith(DescribeImagesCommand, { imageIds: [{ imageDigest: newDigest }] });
  });

  it('fails naming a missing secret and how to create it', async () => {
    givenRunningService();
    givenHealthySecrets();
    givenImage('afu9/control-center', newDigest, []);
    secretsManager
      .on(DescribeSecretCommand, { SecretId: databaseSecretArn })
      .rejects(
        awsError('ResourceNotFoundException', 'client', "Secrets Manager can't find the specified secret."),
      );

    const { error, deps } = await verifyFailure();

    expect(error.name).toBe('SecretsInvalid');
    expect(error.message).toContain('secret afu9/database: does not exist');
    expect(error.message).toContain('aws secretsmanager create-secret --name afu9/database');
    expect(error.message).toContain('nothing was changed');
    expectNoSecretValue(error.message, deps.logLines);
  });

  it('fails on a secret scheduled for deletion, with the date and the restore command, without reading its value', async () => {
    givenRunningService();
    givenHealthySecrets();
    givenImage('afu9/control-center', newDigest, []);
    secretsManager.on(DescribeSecretCommand, { SecretId: githubSecretArn }).resolves({
      ARN: githubSecretArn,
      Name: 'afu9/github',
      DeletedDate: new Date('2026-12-04T09:00:00Z'),
    });

    const { error } = await verifyFailure();

    expect(error.name).toBe('SecretsInvalid');
    expect(error.message).toContain(
      'secret afu9/github: is scheduled for deletion on 2026-12-04T09:00:00.000Z',
    );
    expect(error.message).toContain('aws secretsmanager restore-secret --secret-id afu9/github');
    expect(secretsManager).not.toHaveReceivedCommandWith(GetSecretValueCommand, {
      SecretId: githubSecretArn,
    });
  });

  it('fails on a secret that does not parse as JSON, without quoting it', async () => {
    givenRunningService();
    givenHealthySecrets({ database: 'not-json-but-a-secret-Q9x' });
    givenImage('afu9/control-center', newDigest, []);

    const { error, deps } = await verifyFailure();

    expect(error.message).toContain('secret afu9/database: is not a JSON object');
    expectNoSecretValue(error.message, deps.logLines);
  });

  it('fails naming a missing JSON key and a runbook placeholder, never their values', async () => {
    givenRunningService();
    givenHealthySecrets({
      github: { ...secretValues.github, token: 'ghp_your_token_here' },
      database: { ...secretValues.database, password: undefined },
    });
    givenImage('afu9/control-center', newDigest, []);

    const { error, deps } = await verifyFailure();

    expect(error.name).toBe('SecretsInvalid');
    expect(error.message).toContain(
      'secret-key afu9/github › token: key "token" still holds a runbook placeholder shaped like `ghp_your_…`',
    );
    expect(error.message).toContain(
      'secret-key afu9/database › password: required key "password" is missing',
    );
    expect(error.message).toMatch(
      /^2 problem\(s\) would stop the new tasks of afu9-control-center-staging \(staging\)/,
    );
    expectNoSecretValue(error.message, deps.logLines);
  });

  it('words access denied and KMS failures as "could not read", apart from "missing"', async () => {
    givenRunningService();
    givenHealthySecrets();
    givenImage('afu9/control-center', newDigest, []);
    secretsManager
      .on(GetSecretValueCommand, { SecretId: githubSecretArn })
      .rejects(awsError('AccessDeniedException'));
    secretsManager
      .on(GetSecretValueCommand, { SecretId: llmSecretArn })
      .rejects(awsError('DecryptionFailure'));

    const { error } = await verifyFailure();

    expect(error.message).toContain(
      'secret afu9/github: could not read it (GetSecretValue: AccessDeniedException)',
    );
    expect(error.message).toContain('secret afu9/llm: could not read it (GetSecretValue: DecryptionFailure)');
    expect(error.message).not.toContain('does not exist');
  });

  it('reports an SSM parameter reference as SKIP without failing', async () => {
    const running = runningTaskDefinition();
    running.containerDefinitions![2]!.secrets = [
      {
        name: 'FEATURE_FLAGS',
        valueFrom: 'arn:aws:ssm:eu-central-1:111122223333:parameter/afu9/feature-flags',
      },
    ];
    ecs.on(DescribeServicesCommand).resolves({ services: [service()] });
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: running });
    givenHealthySecrets();
    givenImage('afu9/control-center', newDigest, []);

    const result = await createVerifySecretsHandler(testDeps())({ executionId, request: stagingRequest() });

    expect(result.ok).toBe(true);
    expect(result.checks).toContainEqual(
      expect.objectContaining({
        status: 'SKIP',
        subject: 'arn:aws:ssm:eu-central-1:111122223333:parameter/afu9/feature-flags',
      }),
    );
  });

  it('fails with ImageNotFound naming repository and tag when the image is not in ECR', async () => {
    givenRunningService();
    givenHealthySecrets();
    ecr
      .on(DescribeImagesCommand)
      .rejects(
        awsError(
          'ImageNotFoundException',
          'client',
          "The image with imageId {imageDigest:'null', imageTag:'stage-4d5e6f7'} does not exist",
        ),
      );

    const error = await createVerifySecretsHandler(testDeps())({
      executionId,
      request: stagingRequest({ images: [{ ...primaryImage, digest: undefined }] }),
    }).catch((caught: Error) => caught);

    expect(error).toMatchObject({ name: 'ImageNotFound' });
    expect((error as Error).message).toContain(
      'image afu9/control-center:stage-4d5e6f7: image not found in ECR repository afu9/control-center: push it first',
    );
  });

  it('fails with SecretsInvalid when the running task definition cannot be read', async () => {
    ecs.on(DescribeServicesCommand).resolves({
      services: [],
      failures: [
        {
          arn: 'arn:aws:ecs:eu-central-1:111122223333:service/afu9-cluster/afu9-control-center-staging',
          reason: 'MISSING',
        },
      ],
    });

    const { error } = await verifyFailure();

    expect(error.name).toBe('SecretsInvalid');
    expect(error.message).toContain(
      'service afu9-control-center-staging in cluster afu9-cluster was not found',
    );
  });

  it('turns throttling the SDK could not retry away into TransientAwsError, which the workflow retries', async () => {
    givenRunningService();
    secretsManager
      .on(DescribeSecretCommand)
      .rejects(awsError('ThrottlingException', 'client', 'Rate exceeded'));

    const { error } = await verifyFailure();

    expect(error.name).toBe('TransientAwsError');
    expect(error.cause).toMatchObject({ name: 'ThrottlingException' });
  });
});
