/**
 * `--config <path>` on the commands that read environment facts: the environments, services and
 * guardrails come from the file given (here a shop's, not AFU-9's), and a file the schema refuses is
 * a usage error naming each problem with its path, before any AWS call.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { realAwsDeps, type AwsTarget, type CliAwsDeps } from '../../../cli/aws-context';
import { defaultConfigNotice } from '../../../cli/args';
import type { CliIo } from '../../../cli/command';
import { diffGateCommand } from '../../../cli/commands/diff-gate';
import { createHistoryCommand } from '../../../cli/commands/history';
import { createRollbackCommand } from '../../../cli/commands/rollback';
import { createStartCommand } from '../../../cli/commands/start';
import { createStatusCommand } from '../../../cli/commands/status';
import { createVerifySecretsCommand } from '../../../cli/commands/verify-secrets';
import { main } from '../../../cli/main';
import { repositoryConfigPath } from '../../../infra/deploy-config-file';

const ecs = mockClient(ECSClient);
const sfn = mockClient(SFNClient);
const cloudFormation = mockClient(CloudFormationClient);
const mocks = [ecs, sfn, cloudFormation];
const awsCalls = () => mocks.reduce((sum, mock) => sum + mock.calls().length, 0);

const deps: CliAwsDeps = {
  ...realAwsDeps,
  now: () => new Date('2026-11-27T10:15:30.000Z'),
  sleep: async () => undefined,
};
const shopConfig = join(__dirname, '..', '..', 'fixtures', 'config', 'shop.deploy.config.json');

function io() {
  let out = '';
  let err = '';
  const value: CliIo = {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    env: { AFU9_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:444455556666:stateMachine:Deployment' },
    stdin: Readable.from([]),
  };
  return { io: value, stdout: () => out, stderr: () => err };
}

afterEach(() => mocks.forEach((mock) => mock.reset()));

describe('--config', () => {
  it("start judges the request by the given file's guardrails: its tag prefix, its allow flag", async () => {
    // Prepare
    const wrongPrefix = io();
    const guarded = io();

    // Act
    const prefixCode = await createStartCommand(deps).run(
      ['--config', shopConfig, '--env', 'staging', '--image-tag', 'stage-3f9c2ab'],
      wrongPrefix.io,
    );
    const guardedCode = await createStartCommand(deps).run(
      ['--config', shopConfig, '--env', 'live', '--image-tag', 'release-3f9c2ab'],
      guarded.io,
    );

    // Assess
    expect(prefixCode).toBe(1);
    expect(wrongPrefix.stderr()).toContain('does not start with "rc-"');
    expect(guardedCode).toBe(1);
    expect(guarded.stderr()).toContain('"allowProduction": true');
    expect(awsCalls()).toBe(0);
  });

  it('an environment the file does not name is a usage error listing the ones it does', async () => {
    // Prepare
    const cli = io();

    // Act
    const code = await createRollbackCommand(deps).run(
      ['--config', shopConfig, '--env', 'production', '--reason', 'broken'],
      cli.io,
    );

    // Assess
    expect(code).toBe(2);
    expect(cli.stderr()).toContain("Unknown environment 'production'. Known environments: staging, live.");
  });

  it("verify-secrets checks the given file's service in its cluster", async () => {
    // Prepare
    ecs.on(DescribeServicesCommand).resolves({
      services: [],
      failures: [
        {
          arn: 'arn:aws:ecs:eu-west-1:444455556666:service/shop-cluster/shop-api-staging',
          reason: 'MISSING',
        },
      ],
    });

    // Act
    const run = createVerifySecretsCommand(deps).run(['--config', shopConfig, '--env', 'staging'], io().io);

    // Assess
    await expect(run).rejects.toThrow('service shop-api-staging in cluster shop-cluster was not found');
    expect(ecs.commandCalls(DescribeServicesCommand)[0]!.args[0].input).toMatchObject({
      cluster: 'shop-cluster',
      services: ['shop-api-staging'],
    });
  });

  it('GIVEN a file the schema refuses THEN every command that reads it exits 2, naming the path and what is expected', async () => {
    // Prepare
    const file = JSON.parse(readFileSync(shopConfig, 'utf8')) as {
      environments: Record<string, { smoke: { baseUrl: string } }>;
    };
    file.environments.staging!.smoke.baseUrl = 'ftp://x';
    const broken = join(mkdtempSync(join(tmpdir(), 'afu9-config-')), 'deploy.config.json');
    writeFileSync(broken, JSON.stringify(file));
    const problem =
      'environments.staging.smoke.baseUrl: expected an https URL (without credentials, query or fragment), received "ftp://x"';

    // Act
    const runs = await Promise.all(
      [
        (cli: CliIo) =>
          createStartCommand(deps).run(['--config', broken, '--env', 'staging', '--image-tag', 'rc-1'], cli),
        (cli: CliIo) => createVerifySecretsCommand(deps).run(['--config', broken, '--env', 'staging'], cli),
        (cli: CliIo) => createHistoryCommand(deps).run(['--config', broken, '--env', 'staging'], cli),
        (cli: CliIo) => main(['simulate', '--config', broken], cli),
      ].map(async (command) => {
        const cli = io();
        return { code: await command(cli.io), stderr: cli.stderr() };
      }),
    );

    // Assess
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`The deployment configuration ${broken} is not valid:`);
      expect(run.stderr).toContain(problem);
    }
    expect(awsCalls()).toBe(0);
  });

  it("simulate --list words the scenarios in the given file's names", async () => {
    // Prepare
    const cli = io();

    // Act
    const code = await main(['simulate', '--list', '--json', '--config', shopConfig], cli.io);

    // Assess
    expect(code).toBe(0);
    const listed = JSON.parse(cli.stdout()) as { name: string; summary: string }[];
    expect(listed.find((scenario) => scenario.name === 'secret-missing')?.summary).toBe(
      'the secret shop/db is scheduled for deletion: refused before the service is touched',
    );
  });
});

describe('the region, with --config', () => {
  function recordingDeps(targets: AwsTarget[]): CliAwsDeps {
    return {
      ...deps,
      clients: (target) => {
        targets.push(target);
        return realAwsDeps.clients(target);
      },
      cloudFormation: (target) => {
        targets.push(target);
        return realAwsDeps.cloudFormation(target);
      },
    };
  }

  beforeEach(() => {
    ecs.onAnyCommand().rejects(Object.assign(new Error('not here'), { name: 'ClusterNotFoundException' }));
    sfn.onAnyCommand().rejects(Object.assign(new Error('not here'), { name: 'ExecutionDoesNotExist' }));
  });

  it.each([
    ['verify-secrets', (d: CliAwsDeps) => createVerifySecretsCommand(d), ['--env', 'staging']],
    ['history', (d: CliAwsDeps) => createHistoryCommand(d), ['--env', 'staging', '--table', 'deployments']],
    ['status', (d: CliAwsDeps) => createStatusCommand(d), ['staging-rc-3f9c2ab']],
  ] as const)(
    '%s talks to the region the configured environments live in, not a default one',
    async (_name, command, args) => {
      // Prepare
      const targets: AwsTarget[] = [];

      // Act
      // The mocked account has nothing: each command fails after its first call, which is all this needs.
      await command(recordingDeps(targets))
        .run(['--config', shopConfig, ...args], io().io)
        .catch(() => undefined);

      // Assess
      expect(targets.length).toBeGreaterThan(0);
      expect(new Set(targets.map((target) => target.region))).toEqual(new Set(['eu-west-1']));
    },
  );

  it('--region still wins over the configured region', async () => {
    // Prepare
    const targets: AwsTarget[] = [];

    // Act
    await createVerifySecretsCommand(recordingDeps(targets))
      .run(['--config', shopConfig, '--env', 'staging', '--region', 'us-east-1'], io().io)
      .catch(() => undefined);

    // Assess
    expect(new Set(targets.map((target) => target.region))).toEqual(new Set(['us-east-1']));
  });
});

describe('without --config', () => {
  const bin = join(__dirname, '..', '..', '..', 'bin', 'afu9-deploy.cjs');
  const run = (args: readonly string[], cwd: string) =>
    spawnSync(process.execPath, [bin, ...args], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });

  it("says on one stderr line that it reads the repository's file, where no ./deploy.config.json is", () => {
    // Act
    const result = run(['simulate', '--list'], mkdtempSync(join(tmpdir(), 'afu9-no-config-')));

    // Assess
    expect(result.status).toBe(0);
    const lines = result.stderr.split('\n').filter((line) => line.includes(repositoryConfigPath));
    expect(lines).toEqual([
      `afu9-deploy: using ${repositoryConfigPath} (no --config given and no ./deploy.config.json here); ` +
        'pass --config <path> for your own environments.',
    ]);
  }, 30_000);

  it('says nothing of it when --config or ./deploy.config.json chose the file, or the command reads none', () => {
    const empty = mkdtempSync(join(tmpdir(), 'afu9-no-config-'));
    const withLocal = mkdtempSync(join(tmpdir(), 'afu9-local-config-'));
    writeFileSync(join(withLocal, 'deploy.config.json'), readFileSync(shopConfig, 'utf8'));

    expect(defaultConfigNotice(['--config', shopConfig], empty)).toBeUndefined();
    expect(defaultConfigNotice([`--config=${shopConfig}`], empty)).toBeUndefined();
    expect(defaultConfigNotice([], withLocal)).toBeUndefined();
    expect(defaultConfigNotice([], dirname(repositoryConfigPath))).toBeUndefined();
    expect(defaultConfigNotice([], empty)).toContain(`using ${repositoryConfigPath}`);
    expect(diffGateCommand.readsConfiguration?.(['--file', 'diff.txt'])).toBe(false);
    expect(diffGateCommand.readsConfiguration?.(['--file', 'diff.txt', '--env', 'staging'])).toBe(true);
  });
});
