/**
 * Judges one ECS deployment by its id, never by how the service looks: after a circuit-breaker
 * rollback ECS shows a stable service on the OLD revision, and only the deployment id tells that
 * apart from success. Pure: the caller passes what ECS reported and the time.
 */
import type { RolloutConfig } from './environments';
import {
  RolloutStatus,
  type RolloutJudgement,
  type RolloutTarget,
  type StoppedTaskSummary,
} from './workflow-state';

/** One entry of DescribeServices `deployments[]`, as the judgement needs it. */
export interface DeploymentObservation {
  readonly id: string;
  /** `PRIMARY` (what ECS drives towards), `ACTIVE` (being drained) or `INACTIVE`. */
  readonly status: string;
  readonly taskDefinitionArn: string;
  /** `IN_PROGRESS`, `COMPLETED` or `FAILED`; absent when ECS did not say. */
  readonly rolloutState?: string;
  readonly rolloutStateReason?: string;
  readonly desiredCount: number;
  readonly runningCount: number;
  readonly failedTasks: number;
  /** ISO time the deployment was created. */
  readonly createdAt?: string;
}

export interface ServiceEventObservation {
  readonly createdAt?: string;
  readonly message: string;
}

export interface ServiceObservation {
  readonly deployments: readonly DeploymentObservation[];
  /** Service events newest first, as DescribeServices returns them. */
  readonly events: readonly ServiceEventObservation[];
}

export interface StoppedContainerObservation {
  readonly name: string;
  readonly exitCode?: number;
  readonly reason?: string;
  /** From the task definition; ECS treats a container without the flag as essential. */
  readonly essential: boolean;
}

/** One stopped task from DescribeTasks. */
export interface StoppedTaskObservation {
  readonly taskArn: string;
  readonly taskDefinitionArn: string;
  /** Tasks a service starts carry the deployment id here. */
  readonly startedBy?: string;
  readonly stoppedReason?: string;
  /** e.g. `EssentialContainerExited`, `TaskFailedToStart`, `ServiceSchedulerInitiated`. */
  readonly stopCode?: string;
  readonly stoppedAt?: string;
  readonly containers: readonly StoppedContainerObservation[];
}

export type RolloutJudgementConfig = Pick<
  RolloutConfig,
  'failFastStopReasons' | 'failFastOnEssentialExit' | 'safetyNetPollSeconds'
>;

export interface RolloutJudgementInput {
  readonly service: ServiceObservation;
  readonly stoppedTasks: readonly StoppedTaskObservation[];
  readonly target: RolloutTarget;
  readonly now: Date;
  readonly config: RolloutJudgementConfig;
}

/** How many service events and stopped tasks a judgement carries: enough to explain, small to pass on. */
const RECENT_EVENT_LIMIT = 5;
const STOPPED_TASK_LIMIT = 5;
const TEXT_LIMIT = 300;

/**
 * Next-look schedule while a rollout is in progress. Stops that will not heal (image pull, secrets,
 * crash on boot) show within the first minutes, so look every 45 s then; after that the
 * deployment's own event wakes the workflow and the slow safety-net look is enough. Four early looks
 * keep a 10-minute rollout within a few dozen state transitions.
 */
const NEXT_CHECK_SCHEDULE: readonly {
  readonly untilElapsedSeconds: number;
  readonly seconds: number;
}[] = [{ untilElapsedSeconds: 180, seconds: 45 }];
/** Never look again sooner than this, even right before the deadline. */
const MIN_NEXT_CHECK_SECONDS = 5;

const ESSENTIAL_EXIT_STOP_CODE = 'EssentialContainerExited';
const ESSENTIAL_EXIT_REASON = 'Essential container in task exited';

export function judgeRollout(input: RolloutJudgementInput): RolloutJudgement {
  const { service, target } = input;
  const ours = service.deployments.find((d) => d.id === target.deploymentId);
  const primary = service.deployments.find((d) => d.status === 'PRIMARY');
  const counted = ours ?? primary;
  const ourStoppedTasks = stoppedTasksOf(input.stoppedTasks, target);
  const base = {
    deploymentId: target.deploymentId,
    rolloutStateReason: clip(ours?.rolloutStateReason),
    runningCount: counted?.runningCount ?? 0,
    desiredCount: counted?.desiredCount ?? 0,
    recentEvents: service.events.slice(0, RECENT_EVENT_LIMIT).map(describeEvent),
    stoppedTasks: ourStoppedTasks.slice(0, STOPPED_TASK_LIMIT).map(summarise),
    nextCheckSeconds: 0,
  };

  const finished = judgeFinished(ours, primary, target);
  if ('status' in finished) return { ...base, ...finished };
  const running = finished.running;

  const failFast = findNonHealingStop(ourStoppedTasks, input.config);
  if (failFast) {
    return {
      ...base,
      status: RolloutStatus.failed,
      reason:
        `Task ${shortTaskId(failFast.task.taskArn)} of ${shortTaskDefinition(target.taskDefinitionArn)} stopped: ` +
        `${failFast.why}. This does not heal by retrying, so deployment ${target.deploymentId} fails now ` +
        "instead of waiting for ECS's circuit breaker. Fix the cause, then deploy again.",
    };
  }

  const progress =
    `${running.runningCount}/${running.desiredCount} tasks running, ${running.failedTasks} failed so far, ` +
    `rollout ${running.rolloutState ?? 'state not reported'}`;
  const deadline = Date.parse(target.deadline);
  if (Number.isNaN(deadline) || input.now.getTime() > deadline) {
    return {
      ...base,
      status: RolloutStatus.timedOut,
      reason: Number.isNaN(deadline)
        ? `Deployment ${target.deploymentId} has no readable deadline (${JSON.stringify(target.deadline)}), ` +
          `so it counts as timed out (${progress}).`
        : `Deployment ${target.deploymentId} did not finish by ${target.deadline} (${progress}). ` +
          'Read the service events and stopped tasks below for what held it up.',
    };
  }
  return {
    ...base,
    status: RolloutStatus.inProgress,
    reason: `Deployment ${target.deploymentId} is rolling out: ${progress}.`,
    nextCheckSeconds: nextCheckSeconds(
      running.createdAt,
      deadline,
      input.now,
      input.config.safetyNetPollSeconds,
    ),
  };
}

type Verdict = Pick<RolloutJudgement, 'status' | 'reason'>;

/** A verdict when the deployment has ended one way or another; otherwise our still-running deployment. */
function judgeFinished(
  ours: DeploymentObservation | undefined,
  primary: DeploymentObservation | undefined,
  target: RolloutTarget,
): Verdict | { readonly running: DeploymentObservation } {
  const id = target.deploymentId;
  if (ours?.status === 'PRIMARY') {
    if (ours.rolloutState === 'FAILED') {
      return {
        status: RolloutStatus.failed,
        reason: `ECS failed deployment ${id}: ${withoutFinalStop(ours.rolloutStateReason ?? 'no reason given')}.`,
      };
    }
    if (ours.taskDefinitionArn !== target.taskDefinitionArn) {
      return {
        status: RolloutStatus.failed,
        reason:
          `Deployment ${id} runs ${shortTaskDefinition(ours.taskDefinitionArn)}, not the expected ` +
          `${shortTaskDefinition(target.taskDefinitionArn)}; it cannot count as this rollout.`,
      };
    }
    if (ours.rolloutState === 'COMPLETED' && ours.runningCount === ours.desiredCount) {
      return {
        status: RolloutStatus.completed,
        reason:
          `Deployment ${id} completed: ${ours.runningCount}/${ours.desiredCount} tasks running ` +
          `${shortTaskDefinition(target.taskDefinitionArn)}.`,
      };
    }
    return { running: ours };
  }
  // Ours is no longer (or never was) what ECS drives towards.
  if (!primary) {
    if (ours) return { running: ours };
    return {
      status: RolloutStatus.failed,
      reason: `ECS lists neither deployment ${id} nor any primary deployment; the rollout state is unknown.`,
    };
  }
  const ourOutcome = ours
    ? `deployment ${id} is ${ours.status}` +
      (ours.rolloutState === 'FAILED'
        ? ` and FAILED: ${withoutFinalStop(ours.rolloutStateReason ?? 'no reason given')}`
        : '')
    : `deployment ${id} is no longer listed`;
  if (target.previousTaskDefinitionArn && primary.taskDefinitionArn === target.previousTaskDefinitionArn) {
    return {
      status: RolloutStatus.rolledBackByEcs,
      reason:
        `ECS rolled the service back to ${shortTaskDefinition(primary.taskDefinitionArn)} ` +
        `(deployment ${primary.id}); ${ourOutcome}. The service may look stable, but on the OLD revision: ` +
        'this deployment failed.',
    };
  }
  return {
    status: RolloutStatus.replaced,
    reason:
      `Deployment ${primary.id} (${shortTaskDefinition(primary.taskDefinitionArn)}) replaced ours; ` +
      `${ourOutcome}. Someone else deployed the service: find out who before deploying again.`,
  };
}

/** Stopped tasks this deployment started (a service puts the deployment id in `startedBy`). */
function stoppedTasksOf(
  tasks: readonly StoppedTaskObservation[],
  target: RolloutTarget,
): StoppedTaskObservation[] {
  return tasks
    .filter(
      (task) =>
        task.taskDefinitionArn === target.taskDefinitionArn &&
        (task.startedBy === undefined || task.startedBy === target.deploymentId),
    )
    .sort((a, b) => (b.stoppedAt ?? '').localeCompare(a.stoppedAt ?? ''));
}

function findNonHealingStop(
  tasks: readonly StoppedTaskObservation[],
  config: RolloutJudgementConfig,
): { task: StoppedTaskObservation; why: string } | undefined {
  for (const task of tasks) {
    const texts = [task.stoppedReason, ...task.containers.map((c) => c.reason)].filter(
      (text): text is string => Boolean(text),
    );
    const reason = config.failFastStopReasons.find((wanted) =>
      texts.some((text) => text.toLowerCase().includes(wanted.toLowerCase())),
    );
    if (reason) {
      const detail = texts.find((text) => text.toLowerCase().includes(reason.toLowerCase()));
      return { task, why: clip(detail) ?? reason };
    }
    if (config.failFastOnEssentialExit && stoppedByEssentialExit(task)) {
      // Only a stop the essential container caused counts: when ECS stops a task for another
      // reason (failed health checks, scale-in) every container exits 137/143 as well.
      const crashed = task.containers.find(
        (c) => c.essential && c.exitCode !== undefined && c.exitCode !== 0,
      );
      if (crashed) {
        return {
          task,
          why: `essential container ${crashed.name} exited with code ${crashed.exitCode}${crashed.reason ? ` (${clip(crashed.reason)})` : ''}`,
        };
      }
    }
  }
  return undefined;
}

function stoppedByEssentialExit(task: StoppedTaskObservation): boolean {
  return (
    task.stopCode === ESSENTIAL_EXIT_STOP_CODE || (task.stoppedReason ?? '').startsWith(ESSENTIAL_EXIT_REASON)
  );
}

function nextCheckSeconds(
  createdAt: string | undefined,
  deadline: number,
  now: Date,
  safetyNetPollSeconds: number,
): number {
  const created = createdAt ? Date.parse(createdAt) : Number.NaN;
  // Unknown age: assume the rollout just began, when looking often matters most.
  const elapsedSeconds = Number.isNaN(created) ? 0 : Math.max(0, (now.getTime() - created) / 1000);
  const scheduled =
    NEXT_CHECK_SCHEDULE.find((step) => elapsedSeconds < step.untilElapsedSeconds)?.seconds ??
    safetyNetPollSeconds;
  // Look again right after the deadline passes, so a stuck rollout ends on time.
  const untilDeadline = Math.ceil((deadline - now.getTime()) / 1000) + 1;
  return Math.max(MIN_NEXT_CHECK_SECONDS, Math.min(scheduled, safetyNetPollSeconds, untilDeadline));
}

/**
 * One line on why a task stopped, for the wake-up an `ECS Task State Change` event sends: ECS's
 * reason and stop code, then each container that exited non-zero or gave a reason.
 */
export function describeTaskStop(task: {
  readonly stoppedReason?: string;
  readonly stopCode?: string;
  readonly containers: readonly Omit<StoppedContainerObservation, 'essential'>[];
}): string {
  const stop = `${task.stoppedReason ?? 'no reason given'}${task.stopCode ? ` (${task.stopCode})` : ''}`;
  const containers = task.containers
    .filter((c) => (c.exitCode !== undefined && c.exitCode !== 0) || c.reason)
    .map(
      (c) =>
        `container ${c.name}` +
        (c.exitCode !== undefined ? ` exited with code ${c.exitCode}` : '') +
        (c.reason ? `: ${c.reason}` : ''),
    );
  return clip([stop, ...containers].join('; '))!;
}

function summarise(task: StoppedTaskObservation): StoppedTaskSummary {
  return {
    taskArn: task.taskArn,
    stoppedReason: clip(task.stoppedReason) ?? 'no reason given',
    containers: task.containers.map((c) => ({
      name: c.name,
      ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
      ...(c.reason ? { reason: clip(c.reason) } : {}),
    })),
  };
}

function describeEvent(event: ServiceEventObservation): string {
  const text = clip(event.message) ?? '';
  return event.createdAt ? `${event.createdAt} ${text}` : text;
}

/** ECS reasons end with a full stop; ours are embedded in a sentence of their own. */
function withoutFinalStop(text: string): string {
  return text.replace(/\.+$/, '');
}

function clip(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  return text.length > TEXT_LIMIT ? `${text.slice(0, TEXT_LIMIT - 1)}…` : text;
}

/** `arn:aws:ecs:…:task-definition/shop-api:42` → `shop-api:42`. */
export function shortTaskDefinition(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1) || arn;
}

function shortTaskId(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1) || arn;
}
