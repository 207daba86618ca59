/**
 * The infrastructure release's two CodeBuild projects as the workflow's `codebuild:startBuild.sync`
 * Tasks see them, authorized with the state machine's role:
 *
 * - synth+diff: writes the scenario's recorded `cdk diff` of the stack, and the cloud assembly it
 *   synthesized (unless the recorded run failed before there was one);
 * - deploy: reads that assembly back (a build without it fails, as `aws s3 cp` would), asks the
 *   simulated CloudFormation to update the stack the way the scenario says, and, like `cdk deploy`,
 *   waits until CloudFormation ends the update: SUCCEEDED when it completed, FAILED otherwise.
 *   Updating the environment's ECS stack starts an ECS deployment of its service, with the image
 *   the stack's recorded diff shows.
 *
 * What the rehearsal stores in place of the zipped assembly is its manifest (the JSON `cdk synth`
 * writes as `manifest.json`), which names the stack: enough to hold the deploy build to the assembly
 * that was gated. The builds' own IAM (lookup role, deploy role) is AWS's to enforce; the rehearsal
 * checks only the state machine's right to start them.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { StackUpdateEnding } from '../account/cloudformation';
import type { RevisionBehaviour, SimulatedAccount } from '../account/simulated-account';
import type { DeployedStack } from '../assembly/cloud-assembly';
import { authorizeBuildTask } from './diff-build';
import type { TaskCall } from './execution';
import type { Scheduler } from './scheduler';
import { namedError, uuidFrom } from './service-values';
import type { TaskAuthorizer } from './task-authorization';

/** typical: provisioning, a cached `npm ci`, then `cdk synth` and `cdk diff` of one stack. */
const SYNTH_DIFF_BUILD_SECONDS = 120;
/** typical: provisioning, `npm ci` and unzipping the assembly before `cdk deploy` calls CloudFormation. */
const DEPLOY_BUILD_SETUP_SECONDS = 40;

/** How the deploy of one stack goes: CloudFormation's course, or a build that fails before it. */
export type StackDeployBehaviour = StackUpdateEnding | { readonly kind: 'build-fails-before-update' };

export interface InfrastructureBuildsContext {
  readonly account: SimulatedAccount;
  readonly stack: DeployedStack;
  readonly scheduler: Pick<Scheduler, 'sleep'>;
  readonly authorizeTask: TaskAuthorizer;
  readonly synthDiffProject: string;
  readonly deployProject: string;
  readonly artifactsBucket: string;
  /** The recorded `cdk diff` text each stack's synth prints, by stack name. */
  readonly diffTextOf: (stackName: string) => string;
  /** Whether the recorded diff is a failed run (no assembly was synthesized). */
  readonly synthFailsFor: (stackName: string) => boolean;
  readonly deployBehaviourOf: (stackName: string) => StackDeployBehaviour;
  /** The image tag the ECS stack's recorded diff deploys. */
  readonly ecsStackImageTag: string;
  /** How that image behaves when ECS starts it. @default healthy */
  readonly ecsStackRevision?: RevisionBehaviour;
}

interface BuildInput {
  readonly ProjectName?: string;
  readonly EnvironmentVariablesOverride?: readonly { readonly Name: string; readonly Value: string }[];
}

export class InfrastructureBuilds {
  constructor(private readonly context: InfrastructureBuildsContext) {}

  serves(projectName: unknown): boolean {
    return projectName === this.context.synthDiffProject || projectName === this.context.deployProject;
  }

  authorize(call: TaskCall, projectName: string): void {
    authorizeBuildTask(this.context, call, projectName);
  }

  async run(input: unknown, call: TaskCall): Promise<unknown> {
    const params = input as BuildInput;
    const projectName = params.ProjectName!;
    const variable = (name: string): string => {
      const value = params.EnvironmentVariablesOverride?.find((candidate) => candidate.Name === name)?.Value;
      if (!value) {
        throw namedError(
          'States.TaskFailed',
          `The ${projectName} build got no ${name}; its build spec stops at once.`,
        );
      }
      return value;
    };
    const stackName = variable('STACK_NAME');
    const assemblyKey = variable('ASSEMBLY_OBJECT_KEY');
    const buildId = `${projectName}:${uuidFrom(`${call.execution.arn}#${call.stateName}#${assemblyKey}`)}`;
    const startTime = this.context.account.clock.now();
    const succeeded =
      projectName === this.context.synthDiffProject
        ? await this.synthAndDiff(stackName, variable('DIFF_OBJECT_KEY'), assemblyKey)
        : await this.deploy(stackName, assemblyKey, call);
    const build = {
      Id: buildId,
      Arn: `arn:aws:codebuild:${this.context.account.region}:${this.context.account.accountId}:build/${buildId}`,
      ProjectName: projectName,
      BuildStatus: succeeded ? 'SUCCEEDED' : 'FAILED',
      CurrentPhase: 'COMPLETED',
      BuildComplete: true,
      StartTime: startTime.toISOString(),
      EndTime: this.context.account.clock.now().toISOString(),
    };
    // A `.sync` build that does not succeed fails the Task with the build as its cause.
    if (!succeeded) throw namedError('States.TaskFailed', JSON.stringify({ Build: build }));
    return { Build: build };
  }

  private async synthAndDiff(stackName: string, diffKey: string, assemblyKey: string): Promise<boolean> {
    const { account, artifactsBucket } = this.context;
    await this.context.scheduler.sleep(
      SYNTH_DIFF_BUILD_SECONDS * 1000,
      `CodeBuild synth+diff of ${stackName}`,
    );
    await account.clients.s3.send(
      new PutObjectCommand({
        Bucket: artifactsBucket,
        Key: diffKey,
        Body: this.context.diffTextOf(stackName),
        ContentType: 'text/plain; charset=utf-8',
      }),
    );
    if (!this.context.synthFailsFor(stackName)) {
      const manifest = {
        version: '36.0.0',
        artifacts: {
          [stackName]: {
            type: 'aws:cloudformation:stack',
            properties: { templateFile: `${stackName}.template.json` },
          },
        },
      };
      await account.clients.s3.send(
        new PutObjectCommand({ Bucket: artifactsBucket, Key: assemblyKey, Body: JSON.stringify(manifest) }),
      );
    }
    return true;
  }

  private async deploy(stackName: string, assemblyKey: string, call: TaskCall): Promise<boolean> {
    const { account, artifactsBucket, scheduler } = this.context;
    await scheduler.sleep(DEPLOY_BUILD_SETUP_SECONDS * 1000, `CodeBuild deploy of ${stackName}: setup`);
    const assembly = await this.assemblyText(artifactsBucket, assemblyKey);
    if (!assembly?.includes(`"${stackName}"`)) return false;
    const behaviour = this.context.deployBehaviourOf(stackName);
    if (behaviour.kind === 'build-fails-before-update') return false;
    const { endsAtMs, finalStatus } = account.cloudformation.startUpdate(stackName, behaviour);
    const environment = account.environments[(call.execution.input as { environment: string }).environment];
    if (environment?.stackName === stackName && behaviour.kind === 'complete') {
      // CloudFormation registers the new task definition and updates the service: a new ECS deployment.
      const { ecsStackImageTag, ecsStackRevision } = this.context;
      if (ecsStackRevision) account.ecs.setBehaviour(ecsStackImageTag, ecsStackRevision);
      account.ecs.deployImage({ environment: environment.name, imageTag: this.context.ecsStackImageTag });
    }
    await scheduler.sleep(
      Math.max(0, endsAtMs - account.clock.nowMillis()),
      `cdk deploy of ${stackName} waits`,
    );
    return finalStatus === 'UPDATE_COMPLETE';
  }

  private async assemblyText(bucket: string, key: string): Promise<string | undefined> {
    try {
      const object = await this.context.account.clients.s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: key }),
      );
      return await object.Body?.transformToString();
    } catch {
      return undefined;
    }
  }
}
