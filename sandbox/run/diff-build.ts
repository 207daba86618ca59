/**
 * The CodeBuild project that runs `cdk diff` for the diff gate, as the workflow's
 * `codebuild:startBuild.sync` Task sees it: the grant Step Functions needs to create the state
 * machine, the build's calls made with the state machine's role, and a build that writes the
 * scenario's recorded diff.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { SimulatedAccount } from '../account/simulated-account';
import type { DeployedStack } from '../assembly/cloud-assembly';
import { TemplateResolutionError } from '../assembly/intrinsics';
import type { PolicySource } from '../iam/authorize';
import type { Caller } from '../iam/evaluate';
import type { AslDefinition, TaskCall } from './execution';
import type { Scheduler } from './scheduler';
import { judgeDelivery } from './service-deliveries';
import { namedError, uuidFrom } from './service-values';
import type { TaskAuthorizer } from './task-authorization';

/**
 * typical: a CodeBuild `cdk diff` of one stack (provisioning ~30 s, cached `npm ci`, synth and
 * diff ~60 s). The workflow waits for it whatever it takes; the figure only places it on the timeline.
 */
const CDK_DIFF_BUILD_SECONDS = 90;

/** The rule Step Functions manages to learn when a `startBuild.sync` build ends. */
const CODEBUILD_SYNC_RULE = 'StepFunctionsGetEventForCodeBuildStartBuildRule';

const FIXTURE_DIR = join(__dirname, '..', '..', 'test', 'fixtures', 'cdk-diff');

export function readFixture(name: string): string {
  try {
    return readFileSync(join(FIXTURE_DIR, name), 'utf8');
  } catch (error) {
    throw new Error(
      `The scenario's cdk diff fixture test/fixtures/cdk-diff/${name} cannot be read ` +
        `(${(error as NodeJS.ErrnoException).code ?? String(error)}). Name a file that exists there.`,
      { cause: error },
    );
  }
}

/**
 * Step Functions creates the managed EventBridge rule a `.sync` CodeBuild task needs when the state
 * machine is created, with the state machine's role; without the grant, CreateStateMachine itself
 * fails (`AccessDeniedException: '<role>' is not authorized to create managed-rule`), so such a
 * stack never deploys and cannot be rehearsed.
 */
export function checkManagedRuleGrant(
  definition: AslDefinition,
  stack: DeployedStack,
  policies: PolicySource,
): void {
  const usesSyncBuild = Object.values(definition.States).some(
    (state) => state.Resource === 'arn:aws:states:::codebuild:startBuild.sync',
  );
  if (!usesSyncBuild) return;
  const { accountId, region, stateMachineRole: role } = stack;
  const rule = `arn:aws:events:${region}:${accountId}:rule/${CODEBUILD_SYNC_RULE}`;
  const caller: Caller = {
    kind: 'role',
    roleArn: role.roleArn,
    sessionArn: `arn:aws:sts::${accountId}:assumed-role/${role.roleName}/CreateStateMachine`,
    accountId,
  };
  const verdict = judgeDelivery(
    'Step Functions CreateStateMachine',
    (['events:PutTargets', 'events:PutRule', 'events:DescribeRule'] as const).map((action) => ({
      caller,
      request: { action, resource: rule, context: {} },
    })),
    policies,
  );
  if (verdict.allowed) return;
  throw new TemplateResolutionError(
    `AWS would refuse to create the state machine: CreateStateMachine answers AccessDeniedException: ` +
      `'${role.roleArn}' is not authorized to create managed-rule (${verdict.reason}). Grant the state machine ` +
      `role events:PutTargets, events:PutRule and events:DescribeRule on ${rule}.`,
  );
}

/** What the diff build needs from the simulation. */
export interface DiffBuildContext {
  readonly account: SimulatedAccount;
  readonly stack: DeployedStack;
  readonly scheduler: Pick<Scheduler, 'sleep'>;
  readonly authorizeTask: TaskAuthorizer;
  /** The project's name, as the stack's definition substitutions give it. */
  readonly projectName: string;
  /** The bucket the build writes its diff to. */
  readonly diffBucket: string;
  /** The recorded `cdk diff` output the build writes. */
  readonly diffText: string;
}

/**
 * What the state machine's role must be allowed for a `codebuild:startBuild.sync` task of one project:
 * StartBuild, and BatchGetBuilds to follow the build. A refusal fails the task as Step Functions
 * reports it (`CodeBuild.AWSCodeBuildException`).
 */
export function authorizeBuildTask(
  context: { readonly stack: DeployedStack; readonly authorizeTask: TaskAuthorizer },
  call: TaskCall,
  projectName: string,
): void {
  const { accountId, region } = context.stack;
  const project = `arn:aws:codebuild:${region}:${accountId}:project/${projectName}`;
  context.authorizeTask(
    call,
    (['codebuild:StartBuild', 'codebuild:BatchGetBuilds'] as const).map((action) => ({
      action,
      resource: project,
      context: {},
    })),
    'CodeBuild.AWSCodeBuildException',
    'AWSCodeBuild',
    400,
  );
}

export class DiffBuild {
  constructor(private readonly context: DiffBuildContext) {}

  /**
   * `startBuild.sync` as Step Functions runs it: it starts the build and polls it with the state
   * machine's role. (StopBuild is only called when the state is stopped or times out, which the
   * sandbox's build never is; the managed rule is checked when the state machine is created.)
   */
  authorize(call: TaskCall): void {
    authorizeBuildTask(this.context, call, this.context.projectName);
  }

  /**
   * `codebuild:startBuild.sync` of the diff project: the build runs for its usual time, writes the
   * scenario's recorded `cdk diff` output to the key the workflow gave it, and reports SUCCEEDED
   * (the build script records a failing `cdk diff` in the text; the diff gate judges it).
   */
  async run(input: unknown, call: TaskCall): Promise<unknown> {
    const { account, projectName } = this.context;
    const params = input as {
      ProjectName?: string;
      EnvironmentVariablesOverride?: { Name: string; Value: string; Type?: string }[];
    };
    if (params.ProjectName !== projectName) {
      throw namedError(
        'CodeBuild.ResourceNotFoundException',
        `Project cannot be found: arn:aws:codebuild:${account.region}:${account.accountId}:project/${params.ProjectName}`,
      );
    }
    const variables = params.EnvironmentVariablesOverride ?? [];
    const key = variables.find((variable) => variable.Name === 'DIFF_OBJECT_KEY')?.Value;
    if (!key) {
      throw namedError(
        'States.TaskFailed',
        'The diff build got no DIFF_OBJECT_KEY; it has nowhere to write the diff.',
      );
    }
    const buildId = `${projectName}:${uuidFrom(`${call.execution.arn}#${key}`)}`;
    const startTime = account.clock.now();
    await this.context.scheduler.sleep(CDK_DIFF_BUILD_SECONDS * 1000, `CodeBuild ${buildId}`);
    await account.clients.s3.send(
      new PutObjectCommand({
        Bucket: this.context.diffBucket,
        Key: key,
        Body: this.context.diffText,
        ContentType: 'text/plain; charset=utf-8',
      }),
    );
    return {
      Build: {
        Id: buildId,
        Arn: `arn:aws:codebuild:${account.region}:${account.accountId}:build/${buildId}`,
        ProjectName: projectName,
        BuildStatus: 'SUCCEEDED',
        CurrentPhase: 'COMPLETED',
        BuildComplete: true,
        StartTime: startTime.toISOString(),
        EndTime: account.clock.now().toISOString(),
        Environment: { EnvironmentVariables: variables },
      },
    };
  }
}
