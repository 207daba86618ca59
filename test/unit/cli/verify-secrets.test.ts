import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { Readable } from 'node:stream';
import { realAwsDeps } from '../../../cli/aws-context';
import type { CliIo } from '../../../cli/command';
import { createVerifySecretsCommand } from '../../../cli/commands/verify-secrets';
import { newDigest, runningTaskDefinition, secretValues, service } from '../deploy/fixtures';

const ecs = mockClient(ECSClient);
const ecr = mockClient(ECRClient);
const secretsManager = mockClient(SecretsManagerClient);

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const value: CliIo = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env: {},
    stdin: Readable.from([]),
  };
  return { io: value, stdout: () => out.join(''), stderr: () => err.join('') };
}

/** Secrets Manager answering by name (`afu9/github`, ...) or by the ARN the task definition uses. */
function givenSecrets(values: Record<string, unknown>): void {
  const nameOf = (id: string) => /secret:(afu9\/[a-z]+)/.exec(id)?.[1] ?? id;
  secretsManager.on(DescribeSecretCommand).callsFake(({ SecretId }: { SecretId: string }) => ({
    ARN: `arn:aws:secretsmanager:eu-central-1:111122223333:secret:${nameOf(SecretId)}-Ab12Cd`,
    Name: nameOf(SecretId),
  }));
  secretsManager.on(GetSecretValueCommand).callsFake(({ SecretId }: { SecretId: string }) => ({
    Name: nameOf(SecretId),
    SecretString: JSON.stringify(values[nameOf(SecretId).replace('afu9/', '')]),
  }));
}

const command = createVerifySecretsCommand(realAwsDeps);

beforeEach(() => {
  ecs.on(DescribeServicesCommand).resolves({ services: [service()], failures: [] });
  ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: runningTaskDefinition(), tags: [] });
});

afterEach(() => {
  ecs.reset();
  ecr.reset();
  secretsManager.reset();
});

describe('afu9-deploy verify-secrets', () => {
  it('prints a tree of OK checks and exits 0 when every secret and key is there', async () => {
    // Prepare
    givenSecrets(secretValues);
    const cli = io();
    // Act
    const code = await command.run(['--env', 'staging'], cli.io);
    // Assess
    expect(code).toBe(0);
    expect(cli.stdout()).toMatch(
      /^verify-secrets staging \(service afu9-control-center-staging in afu9-cluster\)\n {2}secrets\n/,
    );
    expect(cli.stdout()).toContain('OK    afu9/github');
    expect(cli.stdout()).toMatch(/\n\d+ OK, 0 NG, \d+ SKIP, 0 DENIED\n$/);
  });

  it('marks a placeholder key NG, exits 1, and never prints a value', async () => {
    givenSecrets({ ...secretValues, github: { ...secretValues.github, token: 'ghp_your_token_here' } });
    const cli = io();
    const code = await command.run(['--env', 'staging'], cli.io);
    expect(code).toBe(1);
    expect(cli.stdout()).toMatch(/NG {4}afu9\/github › token: key "token" still holds a runbook placeholder/);
    const values = [
      secretValues.llm.openai_api_key,
      secretValues.database.password,
      secretValues.database.host,
      secretValues.database.username,
    ];
    for (const value of values) expect(cli.stdout()).not.toContain(value);
    expect(cli.stdout()).not.toContain('ghp_your_token_here');
  });

  it('checks the image too when one is named, and reports a missing one as NG', async () => {
    givenSecrets(secretValues);
    ecr.on(DescribeImagesCommand).rejects(
      Object.assign(new Error("The image with imageId {imageTag:'stage-nope'} does not exist"), {
        name: 'ImageNotFoundException',
        $fault: 'client',
      }),
    );
    const cli = io();
    const code = await command.run(['--env', 'staging', '--image-tag', 'stage-nope', '--json'], cli.io);
    expect(code).toBe(1);
    const document = JSON.parse(cli.stdout());
    expect(document.checks).toContainEqual(
      expect.objectContaining({ kind: 'image', status: 'NG', subject: 'afu9/control-center:stage-nope' }),
    );
  });

  it('pins a found image by digest in the OK line', async () => {
    givenSecrets(secretValues);
    ecr.on(DescribeImagesCommand).resolves({
      imageDetails: [
        { repositoryName: 'afu9/control-center', imageDigest: newDigest, imageTags: ['stage-1'] },
      ],
    });
    const cli = io();
    expect(await command.run(['--env', 'staging', '--image-tag', 'stage-1'], cli.io)).toBe(0);
    expect(cli.stdout()).toContain(`OK    afu9/control-center:stage-1@${newDigest}`);
  });

  it('refuses an unknown environment before any AWS call', async () => {
    const cli = io();
    expect(await command.run(['--env', 'qa'], cli.io)).toBe(2);
    expect(cli.stderr()).toContain("Unknown environment 'qa'. Known environments: staging, production.");
    expect(ecs.calls()).toHaveLength(0);
  });
});
