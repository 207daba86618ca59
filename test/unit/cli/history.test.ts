import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { Readable } from 'node:stream';
import { realAwsDeps, type CliAwsDeps } from '../../../cli/aws-context';
import type { CliIo } from '../../../cli/command';
import { createHistoryCommand } from '../../../cli/commands/history';
import { main } from '../../../cli/main';

const dynamodb = mockClient(DynamoDBDocumentClient);
const cloudFormation = mockClient(CloudFormationClient);

const NOW = new Date('2026-11-27T10:15:30.000Z');
const TABLE = 'Afu9DeployOrchestrator-Table-1X2Y3Z';
const DIGEST = 'sha256:f17abd9a871ef6ec25b19d8b6cc997a3221ae2cee6aa9d128ff56dc48d98d521';
const executionArn = (name: string) =>
  `arn:aws:states:eu-central-1:123456789012:execution:Afu9DeployOrchestrator:${name}`;
const taskDefinition = (revision: number) =>
  `arn:aws:ecs:eu-central-1:123456789012:task-definition/afu9-control-center:${revision}`;

const deps: CliAwsDeps = { ...realAwsDeps, now: () => NOW, sleep: async () => undefined };

function io(env: NodeJS.ProcessEnv = { AFU9_DEPLOYMENT_TABLE: TABLE }) {
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

function record(name: string, startedAt: string, fields: Record<string, unknown>) {
  return {
    pk: 'ENV#staging',
    sk: `DEPLOYMENT#${startedAt}#${name}`,
    expiresAt: 1_799_999_999,
    deploymentId: name,
    executionId: executionArn(name),
    environment: 'staging',
    serviceName: 'afu9-control-center-staging',
    kind: 'deploy',
    trigger: 'ecr-push',
    requestedBy: 'ecr-push',
    images: [
      {
        container: 'control-center',
        repository: 'afu9/control-center',
        tag: 'stage-3f9c2ab',
        digest: DIGEST,
      },
    ],
    version: 'stage-3f9c2ab',
    startedAt,
    statesReached: ['resolution'],
    reasons: [],
    ...fields,
  };
}

const succeeded = record('ecr-push-e88b7e53', '2026-11-27T08:41:09.000Z', {
  outcome: 'succeeded',
  taskDefinitionBefore: taskDefinition(41),
  taskDefinitionAfter: taskDefinition(42),
  finishedAt: '2026-11-27T08:49:30.000Z',
});
const rolledBack = record('staging-stage-77aa01c', '2026-11-27T09:30:00.000Z', {
  trigger: 'manual',
  requestedBy: 'john.roe',
  version: 'stage-77aa01c',
  images: [{ container: 'control-center', repository: 'afu9/control-center', tag: 'stage-77aa01c' }],
  outcome: 'rolled-back',
  taskDefinitionBefore: taskDefinition(42),
  taskDefinitionAfter: taskDefinition(42),
  reasons: ['SmokeTestFailed: readiness answered 503', 'smoke readiness failed (HTTP 503)'],
});
const live = {
  pk: 'ENV#staging',
  sk: 'LIVE',
  environment: 'staging',
  taskDefinitionArn: taskDefinition(42),
  version: 'stage-3f9c2ab',
  deploymentId: 'staging-stage-77aa01c',
  provedBy: 'rolled-back',
  since: '2026-11-27T09:41:00.000Z',
};

afterEach(() => {
  dynamodb.reset();
  cloudFormation.reset();
});

describe('afu9-deploy history', () => {
  it('shows what is live and the newest deployments, with the reasons of the failed ones', async () => {
    // Prepare
    dynamodb.on(GetCommand, { Key: { pk: 'ENV#staging', sk: 'LIVE' } }).resolves({ Item: live });
    dynamodb.on(QueryCommand).resolves({ Items: [rolledBack, succeeded] });
    const cli = io();

    // Act
    const code = await createHistoryCommand(deps).run(['--env', 'staging'], cli.io);

    // Assess
    expect(code).toBe(0);
    const out = cli.stdout();
    expect(out).toContain(`Deployment ledger of staging (table ${TABLE})`);
    expect(out).toContain(
      'Live (last good): afu9-control-center:42  version stage-3f9c2ab  since 2026-11-27T09:41:00.000Z  (rolled-back by staging-stage-77aa01c)',
    );
    expect(out).toMatch(
      /2026-11-27T09:30:00.000Z {2}rolled-back .*manual by john.roe .*staging-stage-77aa01c/,
    );
    expect(out).toContain('      SmokeTestFailed: readiness answered 503');
    expect(out).toMatch(/succeeded .*afu9-control-center:41 -> afu9-control-center:42 .*ecr-push-e88b7e53/);
    expect(dynamodb).toHaveReceivedCommandWith(QueryCommand, {
      TableName: TABLE,
      ExpressionAttributeValues: { ':pk': 'ENV#staging', ':prefix': 'DEPLOYMENT#' },
      ScanIndexForward: false,
      Limit: 10,
    });
  });

  it('warns that the live revision may not be running while the newest deployment is unsettled', async () => {
    // Prepare
    dynamodb.on(GetCommand).resolves({ Item: live });
    dynamodb.on(QueryCommand).resolves({
      Items: [
        record('staging-stage-88bb02d', '2026-11-27T10:10:00.000Z', { outcome: 'in-progress' }),
        succeeded,
      ],
    });
    const cli = io();

    // Act
    await createHistoryCommand(deps).run(['--env', 'staging'], cli.io);

    // Assess
    expect(cli.stdout()).toContain(
      'the newest deployment staging-stage-88bb02d is in-progress; the service may not run the live revision right now',
    );
  });

  it('prints one JSON document without the storage attributes', async () => {
    // Prepare
    dynamodb.on(GetCommand).resolves({ Item: live });
    dynamodb.on(QueryCommand).resolves({ Items: [succeeded] });
    const cli = io();

    // Act
    const code = await createHistoryCommand(deps).run(['--env', 'staging', '--json', '--limit', '5'], cli.io);

    // Assess
    expect(code).toBe(0);
    const document = JSON.parse(cli.stdout());
    const { pk: _pk, sk: _sk, ...liveRecord } = live;
    const { pk: _rpk, sk: _rsk, expiresAt: _expiresAt, ...deployment } = succeeded;
    expect(document).toEqual({
      environment: 'staging',
      table: TABLE,
      live: liveRecord,
      deployments: [deployment],
    });
  });

  it('tells what happened to a pushed image: who claimed it, the duplicates ignored, the outcome', async () => {
    // Prepare
    dynamodb.on(GetCommand, { Key: { pk: `IMAGE#staging#${DIGEST}`, sk: 'CLAIM' } }).resolves({
      Item: {
        pk: `IMAGE#staging#${DIGEST}`,
        sk: 'CLAIM',
        executionId: executionArn('ecr-push-e88b7e53'),
        deploymentId: 'ecr-push-e88b7e53',
        claimedAt: '2026-11-27T08:41:09.000Z',
        recordSk: succeeded.sk,
        duplicates: new Set([executionArn('ecr-push-5d0c11aa')]),
        lastDuplicateAt: '2026-11-27T08:41:11.000Z',
      },
    });
    dynamodb.on(GetCommand, { Key: { pk: 'ENV#staging', sk: succeeded.sk } }).resolves({ Item: succeeded });
    dynamodb.on(QueryCommand).resolves({ Items: [rolledBack, succeeded] });
    const cli = io();

    // Act
    const code = await createHistoryCommand(deps).run(['--env', 'staging', '--image', DIGEST], cli.io);

    // Assess
    expect(code).toBe(0);
    const out = cli.stdout();
    expect(out).toContain(`Image ${DIGEST}: claimed by ecr-push-e88b7e53 at 2026-11-27T08:41:09.000Z`);
    expect(out).toContain(
      '1 duplicate trigger(s) ignored (ecr-push-5d0c11aa), the last at 2026-11-27T08:41:11.000Z',
    );
    expect(out.match(/ecr-push-e88b7e53$/gm)).toHaveLength(1);
    expect(out).toMatch(/succeeded .*afu9-control-center:41 -> afu9-control-center:42/);
  });

  it('finds an image by tag among the recent deployments when it was claimed by digest', async () => {
    // Prepare
    dynamodb.on(GetCommand).resolves({});
    dynamodb.on(QueryCommand).resolves({ Items: [rolledBack, succeeded] });
    const cli = io();

    // Act
    const code = await createHistoryCommand(deps).run(
      ['--env', 'staging', '--image', 'stage-77aa01c', '--json'],
      cli.io,
    );

    // Assess
    expect(code).toBe(0);
    const document = JSON.parse(cli.stdout());
    expect(document).toMatchObject({ image: 'stage-77aa01c', claim: null });
    expect(document.deployments.map((d: { deploymentId: string }) => d.deploymentId)).toEqual([
      'staging-stage-77aa01c',
    ]);
  });

  it('exits 1 and says where it looked when the ledger knows nothing of the image', async () => {
    // Prepare
    dynamodb.on(GetCommand).resolves({});
    dynamodb.on(QueryCommand).resolves({ Items: [succeeded] });
    const cli = io();

    // Act
    const code = await createHistoryCommand(deps).run(
      ['--env', 'staging', '--image', 'stage-0000000'],
      cli.io,
    );

    // Assess
    expect(code).toBe(1);
    expect(cli.stdout()).toBe('');
    expect(cli.stderr()).toContain(
      'knows no deployment of stage-0000000: no claim, and none of the newest 100',
    );
  });

  it('finds the table in the orchestrator stack outputs when neither flag nor variable names it', async () => {
    // Prepare
    cloudFormation.on(DescribeStacksCommand, { StackName: 'Afu9DeployOrchestrator' }).resolves({
      Stacks: [
        {
          StackName: 'Afu9DeployOrchestrator',
          CreationTime: NOW,
          StackStatus: 'UPDATE_COMPLETE',
          Outputs: [{ OutputKey: 'TableName', OutputValue: TABLE }],
        },
      ],
    });
    dynamodb.on(GetCommand).resolves({});
    dynamodb.on(QueryCommand).resolves({ Items: [] });
    const cli = io({});

    // Act
    const code = await createHistoryCommand(deps).run(['--env', 'staging'], cli.io);

    // Assess
    expect(code).toBe(0);
    expect(dynamodb).toHaveReceivedCommandWith(QueryCommand, { TableName: TABLE });
    expect(cli.stdout()).toContain('Live: unknown.');
  });

  it('prefers --table over the environment variable', async () => {
    // Prepare
    dynamodb.on(GetCommand).resolves({});
    dynamodb.on(QueryCommand).resolves({ Items: [] });

    // Act
    await createHistoryCommand(deps).run(['--env', 'staging', '--table', 'other-table'], io().io);

    // Assess
    expect(dynamodb).toHaveReceivedCommandWith(QueryCommand, { TableName: 'other-table' });
  });

  it('explains how to name the table when the stack has no such output', async () => {
    // Prepare
    cloudFormation.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'Afu9DeployOrchestrator',
          CreationTime: NOW,
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [],
        },
      ],
    });

    // Act
    const outcome = createHistoryCommand(deps).run(['--env', 'staging'], io({}).io);

    // Assess
    await expect(outcome).rejects.toThrow(/has no TableName output.*--table.*AFU9_DEPLOYMENT_TABLE/s);
  });

  it('says how to point at the table when it does not exist', async () => {
    // Prepare
    dynamodb
      .on(GetCommand)
      .rejects(new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} }));
    dynamodb.on(QueryCommand).resolves({ Items: [] });
    const cli = io();

    // Act
    const code = await createHistoryCommand(deps).run(['--env', 'staging'], cli.io);

    // Assess
    expect(code).toBe(1);
    expect(cli.stderr()).toContain('Pass --table <name> and --region <region>');
  });

  it.each([
    [[], '--env is required'],
    [['--env', 'qa'], "Unknown environment 'qa'. Known environments: staging, production."],
    [['--env', 'staging', '--limit', '0'], '--limit takes a whole number from 1 to 100. Received: 0'],
    [['--env', 'staging', '--image', ' '], '--image takes a digest'],
    [['--env', 'staging', '--follow'], "Unknown option '--follow'"],
  ])('refuses %j as a usage error before any AWS call', async (argv, message) => {
    // Prepare
    const cli = io();

    // Act
    const code = await createHistoryCommand(deps).run(argv, cli.io);

    // Assess
    expect(code).toBe(2);
    expect(cli.stderr()).toContain(message);
    expect(cli.stderr()).toContain('Usage: afu9-deploy history');
    expect(dynamodb.calls()).toHaveLength(0);
  });

  it('is listed by afu9-deploy and answers --help', async () => {
    // Prepare
    const list = io();
    const help = io();

    // Act
    await main(['--help'], list.io);
    const code = await main(['history', '--help'], help.io);

    // Assess
    expect(list.stdout()).toMatch(/^ {2}history +what is live/m);
    expect(code).toBe(0);
    expect(help.stdout()).toContain('--image <ref>');
  });
});
