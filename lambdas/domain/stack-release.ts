/**
 * The decisions of one stack of an infrastructure release: what CloudFormation's own status says
 * about the update the deploy build asked for (never the build's exit code alone), and whether the
 * update started an ECS deployment of the environment's service. Pure: the watch handler brings the
 * observations.
 */
import { primaryDeployment, type DeploymentSnapshot } from './task-definition';

/** What the watch saw of a stack (DescribeStacks), or that it does not exist. */
export type StackObservation =
  | { readonly exists: false }
  | {
      readonly exists: true;
      readonly stackStatus: string;
      readonly statusReason?: string;
      /** LastUpdatedTime, else CreationTime (ISO): changes whenever CloudFormation starts an operation. */
      readonly changedAt: string;
      readonly outputs: readonly StackOutput[];
    };

export interface StackOutput {
  readonly key: string;
  readonly value: string;
}

/** The stack and the service before the deploy build ran: what "changed" is measured against. */
export interface StackBaseline {
  readonly stackName: string;
  readonly exists: boolean;
  readonly stackStatus?: string;
  readonly changedAt?: string;
  /** The service's PRIMARY ECS deployment then, when the service existed. */
  readonly primaryDeploymentId?: string;
  readonly primaryTaskDefinitionArn?: string;
  /** When the baseline was taken (ISO); the watch gives up STACK_WATCH_LIMIT_SECONDS after it. */
  readonly takenAt: string;
}

/**
 * What the DeployStack state leaves in `$.stackDeploy`: the build's id and status when the build
 * ended (SUCCEEDED), or Step Functions' `{Error, Cause}` when it failed, timed out or was stopped.
 */
export type DeployBuildOutcome =
  | { readonly buildId: string; readonly buildStatus: string }
  | { readonly Error: string; readonly Cause?: string };

export const StackWatchStatus = {
  /** CloudFormation is still working on the stack: look again. */
  inProgress: 'IN_PROGRESS',
  /** CloudFormation completed the update (or the creation) this release started. */
  deployed: 'DEPLOYED',
  /** Nothing to deploy: the build succeeded and CloudFormation started no operation. */
  noChange: 'NO_CHANGE',
  /** CloudFormation failed the update and rolled the stack back to what it was: a failure. */
  rolledBack: 'ROLLED_BACK',
  /** The update failed and the stack is not back where it was, or never started: a person looks. */
  failed: 'FAILED',
} as const;
export type StackWatchStatus = (typeof StackWatchStatus)[keyof typeof StackWatchStatus];

export interface StackJudgement {
  readonly status: StackWatchStatus;
  /** CloudFormation's status as it said it (`UPDATE_ROLLBACK_COMPLETE`), or `DOES_NOT_EXIST`. */
  readonly stackStatus: string;
  /** One sentence a person reads in the notification. */
  readonly reason: string;
}

/**
 * Past this many seconds after the baseline, a stack still in progress is reported, not awaited. Well
 * above the deploy build's own 60 minutes: when the build times out, `cdk deploy` stops waiting but
 * CloudFormation carries on (a database's class, storage or engine change can take hours), and the
 * release keeps watching what CloudFormation says.
 */
export const STACK_WATCH_LIMIT_SECONDS = 3 * 3600;

/** Completed operations CloudFormation ends an update or a creation with. */
const COMPLETE = new Set(['UPDATE_COMPLETE', 'CREATE_COMPLETE', 'IMPORT_COMPLETE']);
/** CloudFormation's own rollback, completed: the stack is back on its previous template. */
const ROLLED_BACK = new Set(['UPDATE_ROLLBACK_COMPLETE', 'ROLLBACK_COMPLETE', 'IMPORT_ROLLBACK_COMPLETE']);

function buildSucceeded(build: DeployBuildOutcome): boolean {
  return 'buildStatus' in build && build.buildStatus === 'SUCCEEDED';
}

function buildText(build: DeployBuildOutcome): string {
  if ('buildStatus' in build) return `the deploy build ${build.buildId} ended ${build.buildStatus}`;
  const cause = build.Cause ? `: ${build.Cause.slice(0, 200)}` : '';
  return `the deploy build failed (${build.Error}${cause})`;
}

/**
 * What became of the stack, from CloudFormation's status and whether it started an operation since
 * the baseline. Every terminal status of a stack is named; a status this does not know fails
 * closed. `now` decides when a stack still in progress stops being awaited.
 */
export function judgeStack(input: {
  readonly baseline: StackBaseline;
  readonly observed: StackObservation;
  readonly build: DeployBuildOutcome;
  readonly now: Date;
}): StackJudgement {
  const { baseline, observed, build, now } = input;
  const name = baseline.stackName;
  if (!observed.exists) {
    return {
      status: StackWatchStatus.failed,
      stackStatus: 'DOES_NOT_EXIST',
      reason: `${name} does not exist after the deploy: ${buildText(build)} before CloudFormation created it. Read the build's log.`,
    };
  }
  const { stackStatus } = observed;
  const why = observed.statusReason ? ` (${observed.statusReason})` : '';
  const started = !baseline.exists || observed.changedAt !== baseline.changedAt;
  if (!started) {
    return buildSucceeded(build)
      ? {
          status: StackWatchStatus.noChange,
          stackStatus,
          reason: `${name} had no changes to deploy; CloudFormation left it ${stackStatus}.`,
        }
      : {
          status: StackWatchStatus.failed,
          stackStatus,
          reason: `${buildText(build)} before CloudFormation started an update; ${name} is unchanged (${stackStatus}). Read the build's log.`,
        };
  }
  if (stackStatus === 'REVIEW_IN_PROGRESS') {
    return {
      status: StackWatchStatus.failed,
      stackStatus,
      reason: `${name} waits in REVIEW_IN_PROGRESS: a change set was created and never executed; ${buildText(build)}.`,
    };
  }
  if (stackStatus.endsWith('_IN_PROGRESS')) {
    const waitedSeconds = (now.getTime() - Date.parse(baseline.takenAt)) / 1000;
    if (waitedSeconds > STACK_WATCH_LIMIT_SECONDS) {
      return {
        status: StackWatchStatus.failed,
        stackStatus,
        reason:
          `${name} is still ${stackStatus} ${Math.round(waitedSeconds / 60)} minutes after the release began ` +
          "deploying it; the release stops watching (CloudFormation carries on). Read the stack's events.",
      };
    }
    return { status: StackWatchStatus.inProgress, stackStatus, reason: `${name} is ${stackStatus}.` };
  }
  if (COMPLETE.has(stackStatus)) {
    const note = buildSucceeded(build) ? '' : `; note that ${buildText(build)}`;
    return {
      status: StackWatchStatus.deployed,
      stackStatus,
      reason: `CloudFormation reports ${name} ${stackStatus}${note}.`,
    };
  }
  if (ROLLED_BACK.has(stackStatus)) {
    return {
      status: StackWatchStatus.rolledBack,
      stackStatus,
      reason: `CloudFormation failed the update of ${name} and rolled it back: ${stackStatus}${why}.`,
    };
  }
  if (stackStatus.endsWith('_FAILED')) {
    const advice = stackStatus.includes('ROLLBACK')
      ? ' The stack needs a person: fix the resource that failed to roll back, then continue the rollback (aws cloudformation continue-update-rollback).'
      : '';
    return {
      status: StackWatchStatus.failed,
      stackStatus,
      reason: `CloudFormation reports ${name} ${stackStatus}${why}.${advice}`,
    };
  }
  return {
    status: StackWatchStatus.failed,
    stackStatus,
    reason: `CloudFormation reports ${name} ${stackStatus}, which the release does not take for a deployed stack.`,
  };
}

/** An ECS deployment the stack update started, to judge by its id as an image release does. */
export interface StartedEcsDeployment {
  readonly deploymentId: string;
  readonly taskDefinitionArn: string;
  readonly previousTaskDefinitionArn: string;
}

/**
 * The ECS deployment the stack's update started: the service's PRIMARY deployment when it is not the
 * one the baseline saw (CloudFormation updating a task definition or service makes a new one). None
 * when the PRIMARY deployment is the same, or the service has none.
 */
export function ecsDeploymentStarted(
  baseline: Pick<StackBaseline, 'primaryDeploymentId' | 'primaryTaskDefinitionArn'>,
  deployments: readonly DeploymentSnapshot[],
): StartedEcsDeployment | undefined {
  const primary = primaryDeployment(deployments);
  if (!primary || primary.id === baseline.primaryDeploymentId) return undefined;
  return {
    deploymentId: primary.id,
    taskDefinitionArn: primary.taskDefinition,
    previousTaskDefinitionArn: baseline.primaryTaskDefinitionArn ?? '',
  };
}
