/**
 * What `afu9-deploy status` adds for an infrastructure release: the build a state is waiting on (its
 * phase and a link to its log, from CodeBuild), and each requested stack as CloudFormation sees it
 * now. Read-only; a stack that cannot be read is shown as such, never guessed.
 */
import { BatchGetBuildsCommand, type CodeBuildClient } from '@aws-sdk/client-codebuild';
import { DescribeStacksCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { SendOnly } from '../lambdas/aws/clients';
import { describeAwsError } from '../lambdas/domain/aws-error-kind';
import type { Environments } from '../lambdas/domain/environments';
import { resolveTrigger } from '../lambdas/domain/request-validation';
import { parseTriggerInput } from '../lambdas/domain/trigger-events';

export interface RunningBuild {
  readonly id: string;
  readonly phase: string;
  readonly status: string;
  /** The CloudWatch Logs console link CodeBuild gives (`logs.deepLink`), when it has one. */
  readonly logLink?: string;
}

export interface StackState {
  readonly name: string;
  /** CloudFormation's status, `DOES_NOT_EXIST`, or `UNREADABLE (<why>)`. */
  readonly status: string;
  readonly lastChanged?: string;
}

export interface InfrastructureStatus {
  readonly build?: RunningBuild;
  readonly stacks: readonly StackState[];
}

/**
 * The stacks of an infrastructure release, in the order it deploys them, from the execution's input
 * and the configuration (the rules the orchestrator applied); undefined for any other execution.
 */
export function releaseStacksOf(input: string | undefined, environments: Environments): string[] | undefined {
  try {
    const trigger = parseTriggerInput(JSON.parse(input ?? 'null'));
    if (trigger.kind !== 'start' || trigger.input.action !== 'infrastructure') return undefined;
    const result = resolveTrigger(trigger, { environments, executionName: 'status' });
    return result.status === 'accepted' ? [...(result.request.stacks ?? [])] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The build a `codebuild:startBuild.sync` state started and is still waiting on: its TaskSubmitted
 * event (which carries StartBuild's answer) with no later end of that task.
 */
export function runningBuildId(events: readonly HistoryEvent[]): string | undefined {
  let running: string | undefined;
  for (const event of events) {
    if (event.type === 'TaskSubmitted' && event.taskSubmittedEventDetails?.resourceType === 'codebuild') {
      try {
        const output = JSON.parse(event.taskSubmittedEventDetails.output ?? '{}') as {
          Build?: { Id?: string };
        };
        running = output.Build?.Id;
      } catch {
        running = undefined;
      }
    } else if (running && /^Task(Succeeded|Failed|TimedOut|Aborted)$/.test(event.type ?? '')) {
      running = undefined;
    }
  }
  return running;
}

export async function describeBuild(
  codeBuild: SendOnly<CodeBuildClient>,
  id: string,
): Promise<RunningBuild | undefined> {
  const { builds } = await codeBuild.send(new BatchGetBuildsCommand({ ids: [id] }));
  const build = builds?.[0];
  if (!build) return undefined;
  return {
    id,
    phase: build.currentPhase ?? 'UNKNOWN',
    status: build.buildStatus ?? 'UNKNOWN',
    ...(build.logs?.deepLink && { logLink: build.logs.deepLink }),
  };
}

export async function describeStacks(
  cloudFormation: SendOnly<CloudFormationClient>,
  names: readonly string[],
): Promise<StackState[]> {
  return Promise.all(
    names.map(async (name): Promise<StackState> => {
      try {
        const stack = (await cloudFormation.send(new DescribeStacksCommand({ StackName: name }))).Stacks?.[0];
        const changed = stack?.LastUpdatedTime ?? stack?.CreationTime;
        return {
          name,
          status: stack?.StackStatus ?? 'DOES_NOT_EXIST',
          ...(changed && { lastChanged: new Date(changed).toISOString() }),
        };
      } catch (error) {
        const { name: errorName, message } = error as { name?: string; message?: string };
        if (errorName === 'ValidationError' && /does not exist/.test(message ?? '')) {
          return { name, status: 'DOES_NOT_EXIST' };
        }
        return { name, status: `UNREADABLE (${describeAwsError(error)})` };
      }
    }),
  );
}

/** The lines `status` prints under the timeline. */
export function infrastructureStatusLines(status: InfrastructureStatus): string[] {
  const build = status.build;
  return [
    ...(build
      ? [
          `running build: ${build.id} phase ${build.phase} (${build.status})`,
          ...(build.logLink ? [`  log: ${build.logLink}`] : []),
        ]
      : []),
    'stacks (CloudFormation now):',
    ...status.stacks.map(
      (stack) =>
        `  ${stack.name}: ${stack.status}${stack.lastChanged ? ` (last changed ${stack.lastChanged})` : ''}`,
    ),
  ];
}
