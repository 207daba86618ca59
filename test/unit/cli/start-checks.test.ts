import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { realAwsDeps, type CliAwsDeps } from '../../../cli/aws-context';
import type { CliIo } from '../../../cli/command';
import { createRollbackCommand } from '../../../cli/commands/rollback';
import { createStartCommand } from '../../../cli/commands/start';
import { newDigest, runningTaskDefinition, secretValues, service } from '../deploy/fixtures';

const sfn = mockClient(SFNClient);
const cloudFormation = mockClient(CloudFormationClient);
const ecs = mockClient(ECSClient);
const ecr = mockClient(ECRClient);
const secretsManager = mockClient(SecretsManagerClient);
const mocks = [sfn, cloudFormation, ecs, ecr, secretsManager];

const STATE_MACHINE_ARN = 'arn:aws:states:eu-central-1:111122223333:stateMachine:Afu9Deployment';
const NOW = new Date('2026-11-27T10:15:30.000Z');
const deps: CliAwsDeps = { ...realAwsDeps, now: () => NOW, sleep: async () => undefined };
const start = createStartCommand(deps);
const diffFixture = (name: string) => join(__dirname, '..', '..', 'fixtures', 'cdk-diff', `${name}.txt`);

function io() {
  let out = '';
  let err = '';
  const value: CliIo = {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    env: { AFU9_STATE_MACHINE_ARN: STATE_MACHINE_ARN, USER: 'dana' },
    stdin: Readable.from([]),
  };
  return { io: value, stdout: () => out, stderr: () => err };
}

const awsCalls = () => mocks.reduce((sum, mock) => sum + mock.calls().length, 0);

/** The account as verify-secrets reads it: the running service, its task definition, the secrets, the image. */
function givenAccount(secrets: Record<string, unknown> = secretValues): void {
  const nameOf = (id: string) => /secret:(afu9\/[a-z]+)/.exec(id)?.[1] ?? id;
  ecs.on(DescribeServicesCommand).resolves({ services: [service()], failures: [] });
  ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: runningTaskDefinition(), tags: [] });
  secretsManager.on(DescribeSecretCommand).callsFake(({ SecretId }: { SecretId: string }) => ({
    ARN: `arn:aws:secretsmanager:eu-central-1:111122223333:secret:${nameOf(SecretId)}-Ab12Cd`,
    Name: nameOf(SecretId),
  }));
  secretsManager.on(GetSecretValueCommand).callsFake(({ SecretId }: { SecretId: string }) => ({
    Name: nameOf(SecretId),
    SecretString: JSON.stringify(secrets[nameOf(SecretId).replace('afu9/', '')]),
  }));
  ecr.on(DescribeImagesCommand).resolves({
    imageDetails: [
      { repositoryName: 'afu9/control-center', imageDigest: newDigest, imageTags: ['stage-3f9c2ab'] },
    ],
  });
}

afterEach(() => mocks.forEach((mock) => mock.reset()));

describe('afu9-deploy start judges the request by the ResolveRequest rules before any AWS call', () => {
  it.each([
    [
      ['--env', 'staging', '--image-tag', 'prod-3f9c2ab'],
      'has the prefix "prod-", which is never deployed to staging',
    ],
    [['--env', 'staging', '--image-tag', 'v0.2.6'], 'does not start with "stage-"'],
    [
      ['--env', 'staging', '--image-tag', 'stage-!'],
      'Image tag "stage-!" for container control-center is malformed',
    ],
    [['--env', 'staging', '--image-digest', 'sha256:abc'], 'is malformed: it must be "sha256:"'],
    [
      ['--env', 'production', '--image-tag', 'prod-3f9c2ab'],
      'changes only with an explicit "allowProduction": true',
    ],
    [
      ['--env', 'staging', '--image-tag', 'stage-1', '--image', 'worker=stage-1'],
      'names the container "worker"',
    ],
  ])('refuses %j with exit 1 and the orchestrator’s reason, calling nothing', async (argv, reason) => {
    // Act
    const cli = io();
    const code = await start.run(argv, cli.io);

    // Assess
    expect(code).toBe(1);
    expect(cli.stderr()).toContain('afu9-deploy start: refused, nothing was started: ');
    expect(cli.stderr()).toContain(reason);
    expect(awsCalls()).toBe(0);
  });

  it('prints the refusal as JSON with --json', async () => {
    const cli = io();
    expect(await start.run(['--env', 'staging', '--image-tag', 'prod-1', '--json'], cli.io)).toBe(1);
    expect(JSON.parse(cli.stdout())).toEqual({
      outcome: 'REFUSED',
      reason: expect.stringContaining('"prod-"'),
    });
  });

  it('refuses a production rollback without --allow-production the same way', async () => {
    const cli = io();
    const code = await createRollbackCommand(deps).run(['--env', 'production', '--reason', 'broken'], cli.io);
    expect(code).toBe(1);
    expect(cli.stderr()).toContain('"allowProduction": true');
    expect(awsCalls()).toBe(0);
  });

  it.each([
    [['--image-tag', 'stage-1'], '--env is required'],
    [['--env', 'staging'], 'Name the image to deploy'],
    [
      ['--env', 'staging', '--image-tag', 'stage-1', '--diff-file', 'diff.txt'],
      '--diff-file is judged by --dry-run only',
    ],
    [['--env', 'staging', '--image-tag', 'stage-1', '--dry-run', '--follow'], 'nothing to --follow'],
    [
      ['--env', 'staging', '--image-tag', 'stage-1', '--image', 'worker'],
      '--image takes <container>=<tag or digest>',
    ],
  ])('treats the command line %j as a usage error (exit 2), calling nothing', async (argv, message) => {
    const cli = io();
    expect(await start.run(argv, cli.io)).toBe(2);
    expect(cli.stderr()).toContain(message);
    expect(awsCalls()).toBe(0);
  });
});

describe('afu9-deploy start --dry-run', () => {
  const dryRun = ['--env', 'staging', '--image-tag', 'stage-3f9c2ab', '--dry-run'];

  it('resolves, verifies and gates, changes nothing, and ends with DRY RUN OK', async () => {
    // Prepare
    givenAccount();
    const cli = io();

    // Act
    const code = await start.run([...dryRun, '--diff-file', diffFixture('ecs-new-image')], cli.io);

    // Assess
    expect(code).toBe(0);
    const out = cli.stdout();
    expect(out).toContain(
      'Dry run: deploy stage-3f9c2ab to afu9-control-center-staging in afu9-cluster (staging); nothing is changed',
    );
    expect(out).toContain('execution name staging-stage-3f9c2ab');
    expect(out).toContain(`OK    afu9/control-center:stage-3f9c2ab@${newDigest}`);
    expect(out).toContain('diff gate: PASS');
    expect(out).toMatch(
      /DRY RUN OK: `afu9-deploy start` without --dry-run would start staging-stage-3f9c2ab\.\n$/,
    );
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('says every reason the orchestrator would stop: a blocked diff and a placeholder secret', async () => {
    // Prepare
    givenAccount({ ...secretValues, github: { ...secretValues.github, token: 'ghp_your_token_here' } });
    const cli = io();

    // Act
    const code = await start.run([...dryRun, '--diff-file', diffFixture('ecs-service-replace')], cli.io);

    // Assess
    expect(code).toBe(1);
    const out = cli.stdout();
    expect(out).toContain('DRY RUN REFUSED: the orchestrator would stop this deployment:');
    expect(out).toMatch(/ {2}- afu9\/github › token: key "token" still holds a runbook placeholder/);
    expect(out).toMatch(/ {2}- diff gate BLOCKED: /);
    expect(out).not.toContain('ghp_your_token_here');
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('lets a BLOCKED diff through with --skip-diff-gate and a reason, as the orchestrator would', async () => {
    givenAccount();
    const cli = io();

    const code = await start.run(
      [
        ...dryRun,
        '--diff-file',
        diffFixture('ecs-service-replace'),
        '--skip-diff-gate',
        '--reason',
        'INC-42',
      ],
      cli.io,
    );

    expect(code).toBe(0);
    expect(cli.stdout()).toContain('diff gate: BLOCKED (skipped with --skip-diff-gate)');
  });

  it("refuses a production WARN as the orchestrator would: production's approval policy asks for a review", async () => {
    // Prepare
    givenAccount();
    ecr.on(DescribeImagesCommand).resolves({
      imageDetails: [
        { repositoryName: 'afu9/control-center', imageDigest: newDigest, imageTags: ['prod-3f9c2ab'] },
      ],
    });
    const production = [
      '--env',
      'production',
      '--image-tag',
      'prod-3f9c2ab',
      '--allow-production',
      '--dry-run',
    ];
    const cli = io();

    // Act
    const code = await start.run([...production, '--diff-file', diffFixture('multi-stack-deployed')], cli.io);

    // Assess
    expect(code).toBe(1);
    const out = cli.stdout();
    expect(out).toContain('diff gate: WARN (0 blocking, 3 warnings, 1 safe)');
    expect(out).toContain('DRY RUN REFUSED: the orchestrator would stop this deployment:');
    expect(out).toMatch(
      / {2}- diff gate WARN: WARN: 3 changes .* The approval policy of environment production \(approval\.warn: "stop"\) requires a person's review for warnings/,
    );
  });

  it('prints one JSON document with --json', async () => {
    givenAccount();
    const cli = io();

    const code = await start.run([...dryRun, '--json'], cli.io);

    expect(code).toBe(0);
    expect(JSON.parse(cli.stdout())).toMatchObject({
      dryRun: true,
      outcome: 'OK',
      executionName: 'staging-stage-3f9c2ab',
      stateMachineArn: STATE_MACHINE_ARN,
      request: { kind: 'deploy', environment: 'staging', version: 'stage-3f9c2ab' },
      diffGate: null,
      reasons: [],
    });
  });

  it('ends with DRY RUN REFUSED and the rules’ reason when the request rules refuse the request, calling nothing', async () => {
    // Act
    const cli = io();
    const code = await start.run(['--env', 'staging', '--image-tag', 'prod-3f9c2ab', '--dry-run'], cli.io);

    // Assess
    expect(code).toBe(1);
    const out = cli.stdout();
    expect(out).toContain('Dry run: deploy prod-3f9c2ab to staging; nothing is changed');
    expect(out).toContain('DRY RUN REFUSED: the orchestrator would stop this deployment:');
    expect(out).toMatch(
      / {2}- request: Image .*prod-3f9c2ab has the prefix "prod-", which is never deployed to staging/,
    );
    expect(awsCalls()).toBe(0);
  });

  it('prints the dry run document, outcome REFUSED, when the request rules refuse the request with --json', async () => {
    const cli = io();

    const code = await start.run(
      ['--env', 'staging', '--image-tag', 'prod-3f9c2ab', '--dry-run', '--json'],
      cli.io,
    );

    expect(code).toBe(1);
    expect(JSON.parse(cli.stdout())).toEqual({
      dryRun: true,
      outcome: 'REFUSED',
      executionName: 'staging-prod-3f9c2ab',
      stateMachineArn: null,
      request: null,
      checks: [],
      diffGate: null,
      reasons: [expect.stringMatching(/^request: .*has the prefix "prod-"/)],
    });
    expect(awsCalls()).toBe(0);
  });

  it('is a usage error, before any AWS call, when the diff file cannot be read', async () => {
    const cli = io();
    expect(await start.run([...dryRun, '--diff-file', '/nonexistent/diff.txt'], cli.io)).toBe(2);
    expect(cli.stderr()).toContain('Cannot read --diff-file /nonexistent/diff.txt');
    expect(awsCalls()).toBe(0);
  });
});
