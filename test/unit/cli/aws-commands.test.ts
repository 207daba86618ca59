import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { Readable } from 'node:stream';
import type { CliAwsDeps } from '../../../cli/aws-context';
import { realAwsDeps } from '../../../cli/aws-context';
import type { CliIo } from '../../../cli/command';
import { createRollbackCommand } from '../../../cli/commands/rollback';
import { createStartCommand } from '../../../cli/commands/start';
import { createStatusCommand } from '../../../cli/commands/status';

const sfn = mockClient(SFNClient);
const cloudFormation = mockClient(CloudFormationClient);

const STATE_MACHINE_ARN = 'arn:aws:states:eu-central-1:123456789012:stateMachine:Afu9Deployment';
const NOW = new Date('2026-11-27T10:15:30.000Z');

function io(env: NodeJS.ProcessEnv = { AFU9_STATE_MACHINE_ARN: STATE_MACHINE_ARN, USER: 'dana' }) {
  const out: string[] = [];
  const err: string[] = [];
  const value: CliIo = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env,
    stdin: Readable.from([]),
  };
  return { io: value, stdout: () => out.join(''), stderr: () => err.join('') };
}

const deps: CliAwsDeps = { ...realAwsDeps, now: () => NOW, sleep: async () => undefined };

function executionArn(name: string) {
  return `arn:aws:states:eu-central-1:123456789012:execution:Afu9Deployment:${name}`;
}

afterEach(() => {
  sfn.reset();
  cloudFormation.reset();
});

describe('afu9-deploy start', () => {
  it('starts an execution with a deterministic name and the validated input', async () => {
    // Prepare
    sfn
      .on(StartExecutionCommand)
      .resolves({ executionArn: executionArn('staging-stage-3f9c2ab'), startDate: NOW });
    const cli = io();
    // Act
    const code = await createStartCommand(deps).run(
      ['--env', 'staging', '--image-tag', 'stage-3f9c2ab'],
      cli.io,
    );
    // Assess
    expect(code).toBe(0);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: STATE_MACHINE_ARN,
      name: 'staging-stage-3f9c2ab',
      input: JSON.stringify({ environment: 'staging', imageTag: 'stage-3f9c2ab', requestedBy: 'dana' }),
    });
    expect(cli.stderr()).toContain('Started staging-stage-3f9c2ab');
  });

  it('refuses, without any AWS call, a tag and a digest together', async () => {
    const cli = io();
    const code = await createStartCommand(deps).run(
      ['--env', 'staging', '--image-tag', 'stage-1', '--image-digest', 'sha256:' + 'a'.repeat(64)],
      cli.io,
    );
    expect(code).toBe(2);
    expect(cli.stderr()).toContain('not both');
    expect(sfn.calls()).toHaveLength(0);
  });

  it('refuses --skip-diff-gate, saying that a recorded approval replaced it', async () => {
    const cli = io();
    const code = await createStartCommand(deps).run(
      ['--env', 'staging', '--image-tag', 'stage-1', '--skip-diff-gate'],
      cli.io,
    );
    expect(code).toBe(2);
    expect(cli.stderr()).toContain('a held diff now pauses the deployment for a recorded approval');
    expect(sfn.calls()).toHaveLength(0);
  });

  it('refuses unknown flags with the usage text', async () => {
    const cli = io();
    const code = await createStartCommand(deps).run(['--env', 'staging', '--tag', 'x'], cli.io);
    expect(code).toBe(2);
    expect(cli.stderr()).toContain('Usage: afu9-deploy start');
  });

  it('says the request was started before when the execution name exists, and exits 1', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    const cli = io();
    const code = await createStartCommand(deps).run(
      ['--env', 'staging', '--image-tag', 'stage-3f9c2ab'],
      cli.io,
    );
    expect(code).toBe(1);
    expect(cli.stderr()).toContain(executionArn('staging-stage-3f9c2ab'));
    expect(cli.stderr()).toContain('--redeploy');
  });

  it('gives a redeploy its own name, so it is not mistaken for the first deployment', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: executionArn('x'), startDate: NOW });
    await createStartCommand(deps).run(
      ['--env', 'staging', '--image-tag', 'stage-3f9c2ab', '--redeploy'],
      io().io,
    );
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      name: 'staging-stage-3f9c2ab-redeploy-20261127T101530Z',
    });
  });

  it('finds the state machine in the orchestrator stack outputs when no ARN is given', async () => {
    cloudFormation.on(DescribeStacksCommand, { StackName: 'Afu9DeployOrchestrator' }).resolves({
      Stacks: [
        {
          StackName: 'Afu9DeployOrchestrator',
          CreationTime: NOW,
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [{ OutputKey: 'StateMachineArn', OutputValue: STATE_MACHINE_ARN }],
        },
      ],
    });
    sfn.on(StartExecutionCommand).resolves({ executionArn: executionArn('x'), startDate: NOW });
    const code = await createStartCommand(deps).run(
      ['--env', 'staging', '--image-tag', 'stage-1'],
      io({}).io,
    );
    expect(code).toBe(0);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { stateMachineArn: STATE_MACHINE_ARN });
  });

  it('explains how to point at the state machine when the stack cannot be read', async () => {
    cloudFormation
      .on(DescribeStacksCommand)
      .rejects(new Error('Stack with id Afu9DeployOrchestrator does not exist'));
    await expect(
      createStartCommand(deps).run(['--env', 'staging', '--image-tag', 'stage-1'], io({}).io),
    ).rejects.toThrow(/npx cdk deploy.*AFU9_STATE_MACHINE_ARN/s);
  });

  it('follows the execution, prints each new state once, and exits 1 when it failed', async () => {
    const arn = executionArn('staging-stage-3f9c2ab');
    sfn.on(StartExecutionCommand).resolves({ executionArn: arn, startDate: NOW });
    sfn
      .on(DescribeExecutionCommand)
      .resolvesOnce({
        executionArn: arn,
        stateMachineArn: STATE_MACHINE_ARN,
        status: 'RUNNING',
        startDate: NOW,
      })
      .resolves({
        executionArn: arn,
        stateMachineArn: STATE_MACHINE_ARN,
        status: 'FAILED',
        startDate: NOW,
        error: 'RolledBack',
        cause: 'Smoke test failed: readiness answered 503',
      });
    const at = (s: number) => new Date(NOW.getTime() + s * 1000);
    const resolved = [
      { id: 1, type: 'ExecutionStarted', timestamp: at(0), executionStartedEventDetails: { input: '{}' } },
      {
        id: 2,
        type: 'TaskStateEntered',
        timestamp: at(1),
        stateEnteredEventDetails: { name: 'PollStabilization', input: '{}' },
      },
      { id: 3, type: 'LambdaFunctionScheduled', timestamp: at(1) },
    ] as const;
    sfn
      .on(GetExecutionHistoryCommand)
      .resolvesOnce({ events: [...resolved] })
      .resolves({
        events: [
          ...resolved,
          {
            id: 4,
            type: 'LambdaFunctionSucceeded',
            timestamp: at(2),
            lambdaFunctionSucceededEventDetails: {
              output: JSON.stringify({
                status: 'ROLLED_BACK_BY_ECS',
                deploymentId: 'ecs-svc/1',
                reason: 'ECS went back to :41',
                runningCount: 1,
                desiredCount: 1,
                recentEvents: [],
                stoppedTasks: [],
                nextCheckSeconds: 0,
              }),
            },
          },
          {
            id: 5,
            type: 'TaskStateExited',
            timestamp: at(2),
            stateExitedEventDetails: { name: 'PollStabilization', output: '{}' },
          },
          {
            id: 6,
            type: 'ExecutionFailed',
            timestamp: at(75),
            executionFailedEventDetails: { error: 'RolledBack', cause: 'Smoke test failed' },
          },
        ],
      });
    const cli = io();
    const code = await createStartCommand(deps).run(
      ['--env', 'staging', '--image-tag', 'stage-3f9c2ab', '--follow', '--json'],
      cli.io,
    );
    expect(code).toBe(1);
    const progress = cli.stderr();
    expect(progress.match(/execution staging-stage-3f9c2ab {2}started/g)).toHaveLength(1);
    expect(progress.match(/PollStabilization {9}SUCCEEDED/g)).toHaveLength(1);
    expect(progress).toContain(
      '+00:00:02  PollStabilization         SUCCEEDED ROLLED_BACK_BY_ECS: ECS went back to :41 (1/1 running)',
    );
    expect(progress).toContain(
      '+00:01:15  execution ended           FAILED in state PollStabilization: RolledBack Smoke test failed',
    );
    expect(JSON.parse(cli.stdout())).toEqual({
      executionArn: arn,
      name: 'staging-stage-3f9c2ab',
      status: 'FAILED',
    });
  });
});

describe('afu9-deploy status', () => {
  it('turns an execution name into its ARN and exits 4 while it runs', async () => {
    const arn = executionArn('staging-stage-3f9c2ab');
    sfn
      .on(DescribeExecutionCommand, { executionArn: arn })
      .resolves({ executionArn: arn, stateMachineArn: STATE_MACHINE_ARN, status: 'RUNNING', startDate: NOW });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
    const cli = io();
    const code = await createStatusCommand(deps).run(['staging-stage-3f9c2ab'], cli.io);
    expect(code).toBe(4);
    expect(cli.stdout()).toContain('status: RUNNING');
  });

  it('exits 0 for a succeeded execution and prints one JSON document with --json', async () => {
    const arn = executionArn('done');
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: arn,
      stateMachineArn: STATE_MACHINE_ARN,
      status: 'SUCCEEDED',
      startDate: NOW,
    });
    sfn
      .on(GetExecutionHistoryCommand)
      .resolves({ events: [{ id: 1, type: 'ExecutionSucceeded', timestamp: NOW }] });
    const cli = io();
    const code = await createStatusCommand(deps).run([arn, '--json'], cli.io);
    expect(code).toBe(0);
    expect(JSON.parse(cli.stdout())).toMatchObject({
      status: 'SUCCEEDED',
      timeline: ['+00:00:00  execution ended           SUCCEEDED'],
    });
  });

  it('is a usage error without exactly one execution', async () => {
    const cli = io();
    expect(await createStatusCommand(deps).run([], cli.io)).toBe(2);
    expect(cli.stderr()).toContain('exactly one execution');
  });
});

describe('afu9-deploy rollback', () => {
  it('starts a rollback execution that names the reason', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: executionArn('r'), startDate: NOW });
    const code = await createRollbackCommand(deps).run(
      ['--env', 'staging', '--reason', 'login broken since 10:02'],
      io().io,
    );
    expect(code).toBe(0);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      name: 'staging-rollback-20261127T101530Z',
      input: JSON.stringify({
        environment: 'staging',
        action: 'rollback',
        reason: 'login broken since 10:02',
        requestedBy: 'dana',
      }),
    });
  });

  it('needs a reason', async () => {
    const cli = io();
    expect(await createRollbackCommand(deps).run(['--env', 'staging'], cli.io)).toBe(2);
    expect(cli.stderr()).toContain('--reason');
  });
});
