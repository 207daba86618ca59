import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient, SFNServiceException, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { realAwsDeps, type CliAwsDeps } from '../../../cli/aws-context';
import { classifyAwsFailure } from '../../../cli/aws-failure';
import { colourEnabled } from '../../../cli/colour';
import type { CliIo } from '../../../cli/command';
import { createStartCommand } from '../../../cli/commands/start';
import { closestMatches, editDistance } from '../../../cli/did-you-mean';
import { main } from '../../../cli/main';

const sfn = mockClient(SFNClient);
const cloudFormation = mockClient(CloudFormationClient);
const ecs = mockClient(ECSClient);
const ecr = mockClient(ECRClient);
const secretsManager = mockClient(SecretsManagerClient);

const STATE_MACHINE_ARN = 'arn:aws:states:eu-central-1:123456789012:stateMachine:Afu9Deployment';
const NOW = new Date('2026-11-27T10:15:30.000Z');
const deps: CliAwsDeps = { ...realAwsDeps, now: () => NOW, sleep: async () => undefined };

function io(options: { env?: NodeJS.ProcessEnv; tty?: boolean } = {}) {
  let out = '';
  let err = '';
  const value: CliIo = {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    env: options.env ?? { AFU9_STATE_MACHINE_ARN: STATE_MACHINE_ARN, USER: 'dana' },
    stdin: Readable.from([]),
    ...(options.tty !== undefined && { tty: { stdout: options.tty, stderr: options.tty } }),
  };
  return { io: value, stdout: () => out, stderr: () => err };
}

function awsCalls(): number {
  return [sfn, cloudFormation, ecs, ecr, secretsManager].reduce((sum, mock) => sum + mock.calls().length, 0);
}

afterEach(() => {
  for (const mock of [sfn, cloudFormation, ecs, ecr, secretsManager]) mock.reset();
});

const COMMANDS = ['diff-gate', 'simulate', 'verify-secrets', 'start', 'status', 'history', 'rollback'];

describe('--version and --help', () => {
  const version = (
    JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as { version: string }
  ).version;

  it.each([[['--version']], [['-V']], [['start', '--version']]])(
    '%j prints the package version',
    async (argv) => {
      const cli = io();
      expect(await main(argv, cli.io)).toBe(0);
      expect(cli.stdout()).toBe(`afu9-deploy ${version}\n`);
    },
  );

  it.each(
    COMMANDS.flatMap((name) => [
      [name, '--help'],
      [name, '-h'],
    ]),
  )('%s %s prints the command usage on stdout and exits 0', async (name, flag) => {
    const cli = io();
    expect(await main([name, flag], cli.io)).toBe(0);
    expect(cli.stdout()).toMatch(/^Usage: afu9-deploy /);
    expect(awsCalls()).toBe(0);
  });

  it.each(['verify-secrets', 'start', 'status', 'history', 'rollback'])(
    '%s, which calls AWS, documents --profile, --region and exit code 3',
    async (name) => {
      const cli = io();
      await main([name, '--help'], cli.io);
      expect(cli.stdout()).toContain('--profile <name>');
      expect(cli.stdout()).toContain('--region <region>');
      expect(cli.stdout()).toMatch(/3 AWS unreachable or\s+credentials\s+missing/);
    },
  );
});

describe('did you mean', () => {
  it('measures a swap of two letters as one edit', () => {
    expect(editDistance('strat', 'start')).toBe(1);
    expect(editDistance('staging', 'staging')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('takes a word cut short for the one word it begins, before any nearer-looking one', () => {
    expect(closestMatches('stat', ['start', 'status', 'simulate'])).toEqual(['status']);
    expect(closestMatches('prod', ['staging', 'production'])).toEqual(['production']);
    expect(closestMatches('st', ['start', 'status'])).toEqual([]);
  });

  it('suggests only close matches', () => {
    expect(closestMatches('stagign', ['staging', 'production'])).toEqual(['staging']);
    expect(closestMatches('qa', ['staging', 'production'])).toEqual([]);
    expect(closestMatches('deploy', ['diff-gate', 'simulate', 'start', 'status'])).toEqual([]);
  });

  it.each([
    [['strat'], "unknown command 'strat'. Did you mean 'start'?"],
    [
      ['verify-secret', '--env', 'staging'],
      "unknown command 'verify-secret'. Did you mean 'verify-secrets'?",
    ],
    [
      ['start', '--env', 'staging', '--image-tag', 'stage-1', '--folow'],
      "Unknown option '--folow'. Did you mean '--follow'?",
    ],
    [
      ['history', '--env', 'staging', '--regoin', 'eu-west-1'],
      "Unknown option '--regoin'. Did you mean '--region'?",
    ],
    [['diff-gate', '--fiel', 'diff.txt'], "Unknown argument '--fiel'. Did you mean '--file'?"],
    [
      ['start', '--env', 'stagign', '--image-tag', 'stage-1'],
      "Unknown environment 'stagign'. Did you mean 'staging'?",
    ],
    [
      ['rollback', '--env', 'prodution', '--reason', 'x'],
      "Unknown environment 'prodution'. Did you mean 'production'?",
    ],
    [['simulate', '--scenario', 'hapy'], "There is no scenario named 'hapy'. Did you mean 'happy'?"],
  ])('%j is a usage error that suggests the near name', async (argv, message) => {
    const cli = io();
    expect(await main(argv, cli.io)).toBe(2);
    expect(cli.stderr()).toContain(message);
    expect(awsCalls()).toBe(0);
  });

  it('suggests nothing for a name far from every known one, and lists the known ones instead', async () => {
    const cli = io();
    expect(await main(['start', '--env', 'qa', '--image-tag', 'stage-1'], cli.io)).toBe(2);
    expect(cli.stderr()).toContain("Unknown environment 'qa'. Known environments: staging, production.");
    expect(cli.stderr()).not.toContain('Did you mean');
  });
});

describe('colour', () => {
  it.each([
    [{}, true, true],
    [{}, false, false],
    [{ TERM: 'dumb' }, true, false],
    [{ NO_COLOR: '1' }, true, false],
    [{ NO_COLOR: '' }, true, true],
    [{ FORCE_COLOR: '1' }, false, true],
    [{ FORCE_COLOR: '0' }, true, false],
    [{ FORCE_COLOR: 'false' }, true, false],
    [{ FORCE_COLOR: '1', NO_COLOR: '1' }, false, true],
  ])('env %j on a terminal=%s: colour %s', (env, isTTY, expected) => {
    expect(colourEnabled(env, isTTY)).toBe(expected);
  });

  const diff = join(__dirname, '..', '..', 'fixtures', 'cdk-diff', 'ecs-service-replace.txt');

  it('paints the verdict for a terminal, and not when NO_COLOR is set', async () => {
    const terminal = io({ env: {}, tty: true });
    const noColour = io({ env: { NO_COLOR: '1' }, tty: true });

    await main(['diff-gate', '--file', diff], terminal.io);
    await main(['diff-gate', '--file', diff], noColour.io);

    expect(terminal.stdout()).toContain('Diff gate: \u001b[31mBLOCKED\u001b[39m');
    expect(noColour.stdout()).toContain('Diff gate: BLOCKED');
    expect(noColour.stdout()).not.toContain('\u001b[');
  });

  it('paints into a pipe with FORCE_COLOR, and never a --json document', async () => {
    const forced = io({ env: { FORCE_COLOR: '1' }, tty: false });
    const json = io({ env: { FORCE_COLOR: '1' }, tty: true });

    await main(['diff-gate', '--file', diff], forced.io);
    await main(['diff-gate', '--file', diff, '--json'], json.io);

    expect(forced.stdout()).toContain('\u001b[31mBLOCKED');
    expect(json.stdout()).not.toContain('\u001b[');
    expect(JSON.parse(json.stdout()).verdict).toBe('BLOCKED');
  });

  it('writes nothing coloured into a pipe by default', async () => {
    const piped = io({ env: {}, tty: false });
    await main(['diff-gate', '--file', diff], piped.io);
    expect(piped.stdout()).not.toContain('\u001b[');
  });
});

describe('exit code 3: AWS unreachable, credentials missing, expired or denied', () => {
  const start = ['--env', 'staging', '--image-tag', 'stage-3f9c2ab'];
  const serviceError = (name: string, message: string) =>
    new SFNServiceException({ name, message, $fault: 'client', $metadata: { httpStatusCode: 400 } });

  it.each([
    [
      'no credentials',
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
      'No AWS credentials found (CredentialsProviderError: Could not load credentials from any providers). Run `aws sso login --profile ci`',
    ],
    [
      'an expired SSO session',
      Object.assign(
        new Error(
          'The SSO session associated with this profile has expired or is otherwise invalid. To refresh this SSO session run aws sso login with the corresponding profile.',
        ),
        { name: 'CredentialsProviderError' },
      ),
      'The AWS credentials of profile ci have expired',
    ],
    [
      'an expired token',
      serviceError('ExpiredTokenException', 'The security token included in the request is expired'),
      'The AWS credentials of profile ci have expired (ExpiredTokenException',
    ],
    [
      'credentials AWS does not know',
      serviceError('UnrecognizedClientException', 'The security token included in the request is invalid.'),
      'AWS does not accept the credentials of profile ci (UnrecognizedClientException',
    ],
    [
      'a denied action',
      serviceError(
        'AccessDeniedException',
        'User: arn:aws:sts::123456789012:assumed-role/dev/dana is not authorized to perform: states:StartExecution on resource: ' +
          `${STATE_MACHINE_ARN} because no identity-based policy allows the states:StartExecution action`,
      ),
      'AWS denied access to profile ci (AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/dev/dana is not authorized',
    ],
    [
      'no network',
      Object.assign(new Error('getaddrinfo ENOTFOUND states.eu-west-1.amazonaws.com'), {
        code: 'ENOTFOUND',
        syscall: 'getaddrinfo',
        hostname: 'states.eu-west-1.amazonaws.com',
        $metadata: { attempts: 5, totalRetryDelay: 2100 },
      }),
      'AWS could not be reached in region eu-west-1 (Error: getaddrinfo ENOTFOUND states.eu-west-1.amazonaws.com). Check the network',
    ],
    [
      'a connection refused',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' }),
      'AWS could not be reached in region eu-west-1',
    ],
  ])('%s: says what went wrong and what to do', async (_, error, message) => {
    // Prepare
    sfn.on(StartExecutionCommand).rejects(error);
    const cli = io();

    // Act
    const code = await createStartCommand(deps).run(
      [...start, '--profile', 'ci', '--region', 'eu-west-1'],
      cli.io,
    );

    // Assess
    expect(code).toBe(3);
    expect(cli.stderr()).toContain(`afu9-deploy start: ${message}`);
  });

  it.each([
    ['verify-secrets', '--env', 'staging'],
    ['start', ...start],
    ['start', ...start, '--dry-run'],
    ['status', 'staging-stage-3f9c2ab'],
    ['history', '--env', 'staging'],
    ['rollback', '--env', 'staging', '--reason', 'broken'],
  ])(
    '%s … --json prints one error document on stdout, saying what went wrong and what to do (exit 3)',
    async (...argv) => {
      // Prepare
      const expired = serviceError(
        'ExpiredTokenException',
        'The security token included in the request is expired',
      );
      sfn.onAnyCommand().rejects(expired);
      cloudFormation.onAnyCommand().rejects(expired);
      ecs.onAnyCommand().rejects(expired);
      ecr.onAnyCommand().rejects(expired);
      secretsManager.onAnyCommand().rejects(expired);
      const cli = io();

      // Act
      const code = await main([...argv, '--json', '--profile', 'ci'], cli.io);

      // Assess
      expect(code).toBe(3);
      expect(JSON.parse(cli.stdout())).toEqual({
        error: {
          kind: 'credentials-expired',
          message: expect.stringContaining(
            'The AWS credentials of profile ci have expired (ExpiredTokenException',
          ),
          remedy: expect.stringContaining('aws sso login --profile ci'),
        },
      });
      expect(cli.stderr()).toContain(
        `afu9-deploy ${argv[0]}: The AWS credentials of profile ci have expired`,
      );
    },
  );

  it('finds the failure inside the error of the stack lookup that wraps it', async () => {
    cloudFormation.on(DescribeStacksCommand).rejects(
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
    );
    const cli = io({ env: { AWS_PROFILE: 'dev' } });

    const code = await createStartCommand(deps).run(start, cli.io);

    expect(code).toBe(3);
    expect(cli.stderr()).toContain('aws sso login --profile dev');
  });

  it('keeps exit 1 for an AWS error that is not about access', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(serviceError('StateMachineDoesNotExist', 'State Machine Does Not Exist'));
    await expect(createStartCommand(deps).run(start, io().io)).rejects.toThrow(
      'State Machine Does Not Exist',
    );
    expect(classifyAwsFailure(serviceError('ThrottlingException', 'Rate exceeded'))).toBeUndefined();
  });

  it('gives the SDK clients the --profile and --region', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${STATE_MACHINE_ARN}:x`, startDate: NOW });

    await createStartCommand(deps).run([...start, '--profile', 'ci', '--region', 'eu-west-1'], io().io);

    const client = sfn.send.getCall(0).thisValue as SFNClient;
    expect(client.config.profile).toBe('ci');
    expect(await client.config.region()).toBe('eu-west-1');
  });
});
