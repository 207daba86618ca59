/**
 * `afu9-deploy start --infrastructure --stacks ...`: the start input an infrastructure release sends,
 * its dry run (the order, no AWS call), and the flags it refuses before anything is started.
 */
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { Readable } from 'node:stream';
import { realAwsDeps, type CliAwsDeps } from '../../../cli/aws-context';
import type { CliIo } from '../../../cli/command';
import { createStartCommand } from '../../../cli/commands/start';

const sfn = mockClient(SFNClient);
const STATE_MACHINE_ARN = 'arn:aws:states:eu-central-1:111122223333:stateMachine:Afu9Deployment';
const NOW = new Date('2026-11-27T10:15:30.000Z');
const deps: CliAwsDeps = { ...realAwsDeps, now: () => NOW, sleep: async () => undefined };
const start = createStartCommand(deps);

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

afterEach(() => sfn.reset());

describe('afu9-deploy start --infrastructure', () => {
  it('starts the release with the stacks in dependency order under a name of its own', async () => {
    // Arrange
    sfn.on(StartExecutionCommand).resolves({
      executionArn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:staging-infrastructure-20261127T101530Z`,
    });
    const { io: cli } = io();

    // Act
    const code = await start.run(
      ['--env', 'staging', '--infrastructure', '--stacks', 'Afu9EcsStack,Afu9NetworkStack'],
      cli,
    );

    // Assess
    expect(code).toBe(0);
    const call = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(call.name).toBe('staging-infrastructure-20261127T101530Z');
    expect(JSON.parse(call.input!)).toEqual({
      environment: 'staging',
      action: 'infrastructure',
      stacks: ['Afu9EcsStack', 'Afu9NetworkStack'],
      requestedBy: 'dana',
    });
  });

  it('--dry-run shows the order the release deploys in, and calls no AWS API', async () => {
    // Arrange
    const { io: cli, stdout } = io();

    // Act
    const code = await start.run(
      ['--env', 'staging', '--infrastructure', '--stacks', 'all', '--dry-run', '--json'],
      cli,
    );

    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(stdout())).toEqual({
      outcome: 'DRY RUN OK',
      stacks: ['Afu9NetworkStack', 'Afu9DatabaseStack', 'Afu9EcsStack', 'Afu9AlarmsStack', 'Afu9IamStack'],
    });
    expect(sfn.calls()).toHaveLength(0);
  });

  it.each([
    [['--infrastructure'], /--infrastructure needs --stacks/],
    [
      ['--infrastructure', '--stacks', 'all', '--image-tag', 'stage-1'],
      /deploys stacks, not images: remove --image-tag/,
    ],
    [['--stacks', 'all', '--image-tag', 'stage-1'], /add --infrastructure/],
  ])('refuses %j as a usage error before any AWS call', async (flags, message) => {
    // Arrange
    const { io: cli, stderr } = io();

    // Act
    const code = await start.run(['--env', 'staging', ...flags], cli);

    // Assess
    expect(code).toBe(2);
    expect(stderr()).toMatch(message);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('refuses a stack the environment does not configure, naming the ones it does (exit 1)', async () => {
    // Arrange
    const { io: cli, stderr } = io();

    // Act
    const code = await start.run(['--env', 'staging', '--infrastructure', '--stacks', 'Afu9NopeStack'], cli);

    // Assess
    expect(code).toBe(1);
    expect(stderr()).toContain('configures no stack "Afu9NopeStack"');
    expect(sfn.calls()).toHaveLength(0);
  });
});
