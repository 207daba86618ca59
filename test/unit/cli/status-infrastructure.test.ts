/**
 * `afu9-deploy status` of an infrastructure release: the build a state waits on (phase, log link) and
 * each requested stack's CloudFormation status now; a stack that cannot be read is said so.
 */
import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { BatchGetBuildsCommand, CodeBuildClient } from '@aws-sdk/client-codebuild';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { Readable } from 'node:stream';
import { realAwsDeps, type CliAwsDeps } from '../../../cli/aws-context';
import type { CliIo } from '../../../cli/command';
import { createStatusCommand } from '../../../cli/commands/status';

const sfn = mockClient(SFNClient);
const cloudFormation = mockClient(CloudFormationClient);
const codeBuild = mockClient(CodeBuildClient);

const STATE_MACHINE_ARN = 'arn:aws:states:eu-central-1:123456789012:stateMachine:Afu9Deployment';
const ARN =
  'arn:aws:states:eu-central-1:123456789012:execution:Afu9Deployment:staging-infrastructure-20261127T101530Z';
const NOW = new Date('2026-11-27T10:15:30.000Z');
const BUILD = 'Afu9DeployOrchestrator-InfrastructureBuildsDeploy:0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0';
const deps: CliAwsDeps = { ...realAwsDeps, now: () => NOW, sleep: async () => undefined };

function io() {
  const out: string[] = [];
  const value: CliIo = {
    stdout: (t) => out.push(t),
    stderr: () => undefined,
    env: { AFU9_STATE_MACHINE_ARN: STATE_MACHINE_ARN },
    stdin: Readable.from([]),
  };
  return { io: value, stdout: () => out.join('') };
}

function givenRelease(events: object[]): void {
  sfn.on(DescribeExecutionCommand).resolves({
    executionArn: ARN,
    stateMachineArn: STATE_MACHINE_ARN,
    status: 'RUNNING',
    startDate: NOW,
    input: JSON.stringify({
      environment: 'staging',
      action: 'infrastructure',
      stacks: ['Afu9EcsStack', 'Afu9NetworkStack'],
      requestedBy: 'dana',
    }),
  });
  sfn.on(GetExecutionHistoryCommand).resolves({ events: events as never });
}

const submitted = (id: number) => ({
  id,
  type: 'TaskSubmitted',
  timestamp: NOW,
  taskSubmittedEventDetails: {
    resourceType: 'codebuild',
    resource: 'startBuild.sync',
    output: JSON.stringify({ Build: { Id: BUILD, BuildStatus: 'IN_PROGRESS' } }),
  },
});

afterEach(() => {
  sfn.reset();
  cloudFormation.reset();
  codeBuild.reset();
});

describe('afu9-deploy status of an infrastructure release', () => {
  it("shows the running build's phase and log link, and each stack's status in release order", async () => {
    // Arrange
    givenRelease([submitted(7)]);
    codeBuild.on(BatchGetBuildsCommand).resolves({
      builds: [
        {
          id: BUILD,
          currentPhase: 'BUILD',
          buildStatus: 'IN_PROGRESS',
          logs: {
            deepLink: 'https://console.aws.amazon.com/cloudwatch/home?region=eu-central-1#logEvent:group=x',
          },
        },
      ],
    });
    cloudFormation.on(DescribeStacksCommand, { StackName: 'Afu9NetworkStack' }).resolves({
      Stacks: [
        {
          StackName: 'Afu9NetworkStack',
          StackStatus: 'UPDATE_COMPLETE',
          CreationTime: new Date('2026-10-01T00:00:00Z'),
          LastUpdatedTime: new Date('2026-11-27T10:10:00Z'),
        },
      ],
    });
    cloudFormation.on(DescribeStacksCommand, { StackName: 'Afu9EcsStack' }).resolves({
      Stacks: [
        {
          StackName: 'Afu9EcsStack',
          StackStatus: 'UPDATE_IN_PROGRESS',
          CreationTime: new Date('2026-10-01T00:00:00Z'),
        },
      ],
    });
    const cli = io();

    // Act
    const code = await createStatusCommand(deps).run([ARN], cli.io);

    // Assess
    expect(code).toBe(4);
    expect(cli.stdout()).toContain(`running build: ${BUILD} phase BUILD (IN_PROGRESS)`);
    expect(cli.stdout()).toContain('  log: https://console.aws.amazon.com/cloudwatch/');
    expect(cli.stdout()).toMatch(
      /stacks \(CloudFormation now\):\n {2}Afu9NetworkStack: UPDATE_COMPLETE \(last changed 2026-11-27T10:10:00.000Z\)\n {2}Afu9EcsStack: UPDATE_IN_PROGRESS/,
    );
  });

  it('shows no build once the build task ended, and a stack it may not read as UNREADABLE (--json)', async () => {
    // Arrange
    givenRelease([submitted(7), { id: 8, type: 'TaskSucceeded', timestamp: NOW }]);
    cloudFormation.on(DescribeStacksCommand).rejects(
      new CloudFormationServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'not authorized to perform: cloudformation:DescribeStacks',
      }),
    );
    const cli = io();

    // Act
    await createStatusCommand(deps).run([ARN, '--json'], cli.io);

    // Assess
    const document = JSON.parse(cli.stdout()) as {
      infrastructure: { build?: unknown; stacks: { status: string }[] };
    };
    expect(document.infrastructure.build).toBeUndefined();
    expect(codeBuild.calls()).toHaveLength(0);
    expect(document.infrastructure.stacks.map((stack) => stack.status)).toEqual([
      expect.stringMatching(/^UNREADABLE \(AccessDenied/),
      expect.stringMatching(/^UNREADABLE \(AccessDenied/),
    ]);
  });
});
