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

  it('words a secret that fails to decrypt as "could not read" (NG), apart from "missing"', async () => {
    // Prepare
    givenRunningService();
    givenHealthySecrets();
    givenImage('afu9/control-center', newDigest, []);
    secretsManager
      .on(GetSecretValueCommand, { SecretId: llmSecretArn })
      .rejects(
        awsError(
          'DecryptionFailure',
          'client',
          "Secrets Manager can't decrypt the protected secret text using the provided KMS key.",
        ),
      );

    // Act
    const { error } = await verifyFailure();

    // Assess
    expect(error.name).toBe('SecretsInvalid');
    expect(error.message).toContain('secret afu9/llm: could not read it (GetSecretValue: DecryptionFailure)');
    expect(error.message).not.toContain('does not exist');
  });

  it('refuses with OrchestratorPermissionMissing, not SecretsInvalid, when its own role may not read a secret', async () => {
    // Prepare
    givenRunningService();
    givenHealthySecrets();
    givenImage('afu9/control-center', newDigest, []);
    secretsManager
      .on(GetSecretValueCommand, { SecretId: githubSecretArn })
      .rejects(
        awsError(
          'AccessDeniedException',
          'client',
          `User: arn:aws:sts::${account}:assumed-role/Afu9DeployOrchestrator-VerifySecretsRole/verify-secrets is not authorized to perform: secretsmanager:GetSecretValue on resource: ${githubSecretArn} because no identity-based policy allows the secretsmanager:GetSecretValue action`,
        ),
      );

    // Act
    const { error } = await verifyFailure();

    // Assess
    expect(error.name).toBe('OrchestratorPermissionMissing');
    expect(error.message).toMatch(
      /^The orchestrator's own role lacks 1 permission\(s\) to check what afu9-control-center-staging \(staging\) needs, so the deployment is refused \(fail closed\); this is a missing grant, not a verdict on the secrets or images\./,
    );
    expect(error.message).toContain(
      "- DENIED secret afu9/github: the orchestrator's own role may not call secretsmanager:GetSecretValue on it (GetSecretValue: AccessDeniedException)",
    );
    expect(error.message).toContain(
      'the orchestrator stack grants secretsmanager:GetSecretValue on every configured secret',
    );
    expect(error.message).not.toContain('does not exist');
  });

  it("names kms:Decrypt through Secrets Manager when the secret's customer-managed key refuses the role", async () => {
    // Prepare
    givenRunningService();
    givenHealthySecrets();
    givenImage('afu9/control-center', newDigest, []);
    secretsManager
      .on(GetSecretValueCommand, { SecretId: databaseSecretArn })
      .rejects(awsError('AccessDeniedException', 'client', 'Access to KMS is not allowed'));

    // Act
    const { error } = await verifyFailure();

    // Assess
    expect(error.name).toBe('OrchestratorPermissionMissing');
    expect(error.message).toContain(
      "DENIED secret afu9/database: the orchestrator's own role may not call kms:Decrypt on it (GetSecretValue: AccessDeniedException)",
    );
    expect(error.message).toContain('condition kms:ViaService = secretsmanager.<region>.amazonaws.com');
    expect(error.message).toContain("a customer-managed key's key policy must allow it as well");
  });

  it('reports an RDS-managed secret the task definition references explicitly, and what the stack grants on it', async () => {
    // Prepare
    const rdsSecretArn = `arn:aws:secretsmanager:eu-central-1:${account}:secret:rds!db-0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e-Xy12Ab`;
    const running = runningTaskDefinition();
    running.containerDefinitions![0]!.secrets = [
      ...running.containerDefinitions![0]!.secrets!,
      { name: 'DATABASE_MASTER_PASSWORD', valueFrom: `${rdsSecretArn}:password::` },
    ];
    ecs.on(DescribeServicesCommand).resolves({ services: [service()], failures: [] });
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: running, tags: [] });
    givenHealthySecrets();
    givenImage('afu9/control-center', newDigest, []);
    secretsManager
      .on(DescribeSecretCommand, { SecretId: rdsSecretArn })
      .rejects(
        awsError(
          'AccessDeniedException',
          'client',
          'is not authorized to perform: secretsmanager:DescribeSecret',
        ),
      );

    // Act
    const { error } = await verifyFailure();

    // Assess
    expect(error.name).toBe('OrchestratorPermissionMissing');
    expect(error.message).toContain(
      'DENIED secret rds!db-0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e-Xy12Ab: RDS-managed secret outside the environment config (referenced by container control-center)',
    );
    expect(error.message).toContain(
      'grants secretsmanager:DescribeSecret on RDS-managed secrets (secret:rds!*)',
    );
  });

  it('refuses with SecretsInvalid when a secret is broken, and still names the checks it was denied', async () => {
    // Prepare
    givenRunningService();
    givenHealthySecrets({ github: { ...secretValues.github, token: '' } });
    givenImage('afu9/control-center', newDigest, []);
    secretsManager
      .on(DescribeSecretCommand, { SecretId: llmSecretArn })
      .rejects(awsError('AccessDeniedException'));

    // Act
    const { error } = await verifyFailure();

    // Assess
    expect(error.name).toBe('SecretsInvalid');
    expect(error.message).toContain(
      "1 more check(s) could not be made because the orchestrator's own role lacks a permission",
    );
    expect(error.message).toContain('- secret-key afu9/github › token: required key "token" is empty');
    expect(error.message).toContain('- DENIED secret afu9/llm:');
  });

  it('refuses with OrchestratorPermissionMissing when its own role may not look an image up', async () => {
    // Prepare
    givenRunningService();
    givenHealthySecrets();
    ecr
      .on(DescribeImagesCommand)
      .rejects(
        awsError('AccessDeniedException', 'client', 'is not authorized to perform: ecr:DescribeImages'),
      );

    // Act
    const { error } = await verifyFailure();

    // Assess
    expect(error.name).toBe('OrchestratorPermissionMissing');
    expect(error.message).toContain(
      'DENIED image afu9/control-center:stage-4d5e6f7@' +
        newDigest +
        ": the orchestrator's own role may not call ecr:DescribeImages on afu9/control-center",
    );
  });

  it('refuses with OrchestratorPermissionMissing when its own role may not read the service', async () => {
    // Prepare
    ecs
      .on(DescribeServicesCommand)
      .rejects(
        awsError('AccessDeniedException', 'client', 'is not authorized to perform: ecs:DescribeServices'),
      );

    // Act
    const { error } = await verifyFailure();

    // Assess
    expect(error.name).toBe('OrchestratorPermissionMissing');
    expect(error.message).toContain("The orchestrator's own role may not call ecs:DescribeServices");
    expect(error.message).toContain('this says nothing about the secrets');
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
