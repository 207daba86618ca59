/**
 * The rollout figures, measured side by side in the sandbox on one virtual clock and one timing
 * model (sandbox/timing-model.ts). Each figure pairs a run of the real workflow (sandbox/runner.ts)
 * with a run of ECS alone in an identical simulated account, where the same revision is deployed
 * at the same virtual moment as the workflow's UpdateService deployed it. The simulated ECS is
 * deterministic, so both runs pass through the same ECS moments (steady state, first failed task,
 * circuit breaker); the ECS-alone run reads them exactly through the ECS API, and the workflow
 * run is checked against them where it reports them itself.
 */
import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  type Service,
} from '@aws-sdk/client-ecs';
import { repositoryDeployConfig } from '../infra/deploy-config-file';
import {
  RolloutStatus,
  type RolloutJudgement,
  type StartDeploymentInput,
  type UpdateResult,
} from '../lambdas/domain/workflow-state';
import { createSimulatedAccount } from '../sandbox/account';
import type { SimulatedAccount } from '../sandbox/account/simulated-account';
import { runSimulation, type SimulationRun } from '../sandbox/runner';
import { findScenario, type Scenario, type ScenarioWorld } from '../sandbox/scenarios';
import { afu9TimingModel, secondsUntilHealthy, type TimingModel } from '../sandbox/timing-model';
import type { StateRecord } from '../sandbox/run/execution';

/** The `rollout` of the `npm run bench -- --json` document (docs/json-outputs.md). */
export interface RolloutFigures {
  readonly detectionDelaySeconds: { readonly orchestrator: number; readonly poll15s: number };
  readonly secondsToRollbackStart: { readonly orchestrator: number; readonly circuitBreaker: number };
  readonly stateTransitions10MinRollout: { readonly orchestrator: number; readonly poll15s: number };
}

/** What the figures were measured on, for the table. */
export interface RolloutContext {
  /** Seconds from UpdateService to steady state in the happy world and in the slow-start world. */
  readonly happyRolloutSeconds: number;
  readonly tenMinuteRolloutSeconds: number;
  /** Failed tasks ECS's circuit breaker waited for (desired count 1: its minimum, 3). */
  readonly circuitBreakerFailedTasks: number;
  /** How the orchestrator's rollback began: it started one, or found ECS's already running. */
  readonly orchestratorRollbackAction: string;
}

export interface RolloutBenchmark {
  readonly figures: RolloutFigures;
  readonly context: RolloutContext;
  /** The workflow runs, reused for the Lambda sample events. */
  readonly runs: {
    readonly happy: SimulationRun;
    readonly crash: SimulationRun;
    readonly approval: SimulationRun;
  };
}

/** `aws ecs wait services-stable` polls DescribeServices every 15 s. */
export const POLL_INTERVAL_SECONDS = 15;
/** A Step Functions poll loop iteration: Wait, a DescribeServices Task, a Choice. */
export const TRANSITIONS_PER_POLL = 3;
export const TEN_MINUTES = 600;

/** The targets of issue 5: what the orchestrator must achieve against its baselines. */
export const rolloutTargets = {
  /** Steady state noticed within this many seconds. */
  maxDetectionDelaySeconds: 5,
  /** Rollback started at least this many times sooner than the circuit breaker starts its own. */
  minRollbackSpeedup: 3,
  /** State transitions of a whole run whose rollout takes ten minutes. */
  maxStateTransitions10MinRollout: 40,
} as const;
/** No rollout in these worlds comes near it; a run that does is stuck. */
const HORIZON_SECONDS = 3 * 3600;

/** Seconds from a deployment starting to ECS calling it COMPLETED, for a healthy revision. */
export function healthyRolloutSeconds(timing: TimingModel): number {
  return timing.schedulerLaunchSeconds + secondsUntilHealthy(timing) + timing.deregistrationDelaySeconds;
}

/** The AFU-9 timing with a container start slow enough that a healthy rollout takes ten minutes. */
export function tenMinuteTiming(): Partial<TimingModel> {
  const extra = TEN_MINUTES - healthyRolloutSeconds(afu9TimingModel);
  return { containerStartSeconds: afu9TimingModel.containerStartSeconds + Math.max(0, extra) };
}

function scenario(name: string): Scenario {
  const found = findScenario(name);
  if (!found) throw new Error(`The sandbox has no scenario "${name}"; the bench measures on it.`);
  return found;
}

function tenMinuteScenario(): Scenario {
  const happy = scenario('happy');
  return {
    ...happy,
    name: 'bench-ten-minute-rollout',
    summary: 'a healthy revision whose containers start slowly: the rollout takes ten minutes',
    world: { ...happy.world, timing: { ...happy.world.timing, ...tenMinuteTiming() } },
  };
}

function record(
  run: SimulationRun,
  state: string,
  matches: (output: unknown) => boolean = () => true,
): StateRecord {
  const found = run.executions[0]?.states.find(
    (candidate) => candidate.name === state && matches(candidate.invocations[0]?.output),
  );
  if (!found) {
    throw new Error(
      `The ${run.document.scenario} run never reached ${state} as the bench expects ` +
        `(it ended ${run.document.outcome}). The rollout figures cannot be measured on it.`,
    );
  }
  return found;
}

function updateOf(run: SimulationRun): UpdateResult {
  return record(run, 'UpdateService').invocations[0]!.output as UpdateResult;
}

/** What ECS alone did with the revision, read through its API. */
interface EcsTimeline {
  readonly deployedAtMs: number;
  readonly steadyAtMs?: number;
  readonly firstFailedTaskAtMs?: number;
  readonly circuitBreakerRollbackAtMs?: number;
  readonly failedTasks: number;
  /** The 15-s poller: its first poll that found the service stable, and how many polls after the first. */
  readonly pollDetectedAtMs?: number;
  readonly pollIterations?: number;
}

/** `services-stable` success: every service has one deployment and runs as many tasks as desired. */
function servicesStable(services: readonly Service[]): boolean {
  return services.every(
    (service) => service.deployments?.length === 1 && service.runningCount === service.desiredCount,
  );
}

async function describeService(account: SimulatedAccount): Promise<Service> {
  const env = repositoryDeployConfig().environments.staging!;
  const output = await account.clients.ecs.send(
    new DescribeServicesCommand({ cluster: env.clusterName, services: [env.serviceName] }),
  );
  const service = output.services?.[0];
  if (!service) throw new Error(`The simulated account lost the service ${env.serviceName}.`);
  return service;
}

async function firstFailedTaskAt(
  account: SimulatedAccount,
  deploymentId: string,
): Promise<number | undefined> {
  const cluster = repositoryDeployConfig().environments.staging!.clusterName;
  const listed = await account.clients.ecs.send(
    new ListTasksCommand({ cluster, desiredStatus: 'STOPPED', startedBy: deploymentId }),
  );
  const arns = listed.taskArns ?? [];
  if (arns.length === 0) return undefined;
  const described = await account.clients.ecs.send(new DescribeTasksCommand({ cluster, tasks: arns }));
  const stops = (described.tasks ?? []).flatMap((task) =>
    task.stoppedAt ? [new Date(task.stoppedAt).getTime()] : [],
  );
  return stops.length ? Math.min(...stops) : undefined;
}

/**
 * ECS alone: the world's revision deployed at `deployAtMs` in a fresh simulated account, watched
 * by a poller that calls DescribeServices every 15 s from that moment, as
 * `aws ecs update-service ... && aws ecs wait services-stable` would. Runs until the service is
 * stable (and the poller saw it) or ECS's circuit breaker started its rollback.
 */
async function ecsAlone(world: ScenarioWorld, imageTag: string, deployAtMs: number): Promise<EcsTimeline> {
  const account = await createSimulatedAccount({
    ...(world.timing ? { timing: world.timing } : {}),
    services: { staging: { circuitBreakerRollback: world.ecsRollback ?? true } },
  });
  try {
    const { clock } = account;
    if (world.newRevision) account.ecs.setBehaviour(imageTag, world.newRevision);
    clock.advanceTo(deployAtMs);
    const { deploymentId } = account.ecs.deployImage({ environment: 'staging', imageTag });
    const horizon = deployAtMs + HORIZON_SECONDS * 1000;
    for (let poll = 0; deployAtMs + poll * POLL_INTERVAL_SECONDS * 1000 <= horizon; poll += 1) {
      clock.advanceTo(deployAtMs + poll * POLL_INTERVAL_SECONDS * 1000);
      const service = await describeService(account);
      const ours = service.deployments?.find((deployment) => deployment.id === deploymentId);
      const failedTasks = ours?.failedTasks ?? 0;
      if (servicesStable([service]) && ours?.status === 'PRIMARY') {
        return {
          deployedAtMs: deployAtMs,
          steadyAtMs: new Date(ours.updatedAt!).getTime(),
          failedTasks,
          pollDetectedAtMs: clock.nowMillis(),
          pollIterations: poll,
        };
      }
      const rollback = service.deployments?.find(
        (deployment) => deployment.status === 'PRIMARY' && deployment.id !== deploymentId,
      );
      if (rollback?.createdAt) {
        return {
          deployedAtMs: deployAtMs,
          firstFailedTaskAtMs: await firstFailedTaskAt(account, deploymentId),
          circuitBreakerRollbackAtMs: new Date(rollback.createdAt).getTime(),
          failedTasks,
        };
      }
    }
    throw new Error(
      `ECS neither finished nor rolled back ${imageTag} within ${HORIZON_SECONDS} s of virtual time.`,
    );
  } finally {
    await account.close();
  }
}

function required(value: number | undefined, what: string): number {
  if (value === undefined)
    throw new Error(`The ECS-alone run did not reach ${what}; the figure cannot be measured.`);
  return value;
}

const seconds = (ms: number): number => Math.round(ms) / 1000;

function imageTagOf(run: SimulationRun): string {
  const tag = (run.executions[0]?.input as StartDeploymentInput | undefined)?.imageTag;
  if (!tag) throw new Error(`The ${run.document.scenario} run was not started with an image tag.`);
  return tag;
}

const isJudged =
  (status: string) =>
  (output: unknown): boolean =>
    (output as RolloutJudgement | undefined)?.status === status;

/** The run's own evidence: the COMPLETED judgement quotes ECS's steady-state service event. */
function assertSameSteadyState(run: SimulationRun, noticed: StateRecord, steadyAtMs: number): void {
  const judgement = noticed.invocations[0]!.output as RolloutJudgement;
  const stamp = new Date(steadyAtMs).toISOString();
  if (!judgement.recentEvents.some((event) => event.startsWith(stamp) && event.includes('steady state'))) {
    throw new Error(
      `The ${run.document.scenario} run did not reach steady state at ${stamp}, when ECS alone did ` +
        `(it reported: ${judgement.recentEvents.join(' | ')}). The two sides no longer meet the same ECS; ` +
        'the figures would not compare like with like.',
    );
  }
}

export async function benchmarkRollout(
  onProgress: (text: string) => void = () => undefined,
): Promise<RolloutBenchmark> {
  onProgress('rollout: happy scenario (workflow, then ECS alone with a 15-s poller)');
  const happy = await runSimulation({ scenario: scenario('happy') });
  const happyEcs = await ecsAlone(
    scenario('happy').world,
    imageTagOf(happy),
    Date.parse(updateOf(happy).startedAt),
  );
  const steadyAtMs = required(happyEcs.steadyAtMs, 'steady state');
  const noticed = record(happy, 'PollStabilization', isJudged(RolloutStatus.completed));
  assertSameSteadyState(happy, noticed, steadyAtMs);

  onProgress('rollout: circuit-breaker scenario (workflow, then ECS alone with its circuit breaker)');
  const crash = await runSimulation({ scenario: scenario('circuit-breaker') });
  const crashEcs = await ecsAlone(
    scenario('circuit-breaker').world,
    imageTagOf(crash),
    Date.parse(updateOf(crash).startedAt),
  );
  const firstFailedAtMs = required(crashEcs.firstFailedTaskAtMs, 'a failed task');
  const circuitBreakerAtMs = required(crashEcs.circuitBreakerRollbackAtMs, "the circuit breaker's rollback");
  const rollback = record(crash, 'Rollback');

  onProgress('rollout: ten-minute rollout (workflow, then ECS alone with a 15-s poller)');
  const slow = tenMinuteScenario();
  const slowRun = await runSimulation({ scenario: slow });
  const slowEcs = await ecsAlone(slow.world, imageTagOf(slowRun), Date.parse(updateOf(slowRun).startedAt));
  const slowSteadyAtMs = required(slowEcs.steadyAtMs, 'steady state');
  assertSameSteadyState(
    slowRun,
    record(slowRun, 'PollStabilization', isJudged(RolloutStatus.completed)),
    slowSteadyAtMs,
  );

  // Not a rollout figure: its run gives the approval functions their sample events.
  onProgress('approvals: diff-blocked scenario, approved by the sandbox approver');
  const approval = await runSimulation({
    scenario: scenario('diff-blocked'),
    approvers: [{ decision: 'approve', reason: 'bench: sample decision' }],
  });

  return {
    figures: {
      detectionDelaySeconds: {
        orchestrator: seconds(noticed.enteredAtMs - steadyAtMs),
        poll15s: seconds(required(happyEcs.pollDetectedAtMs, 'a successful poll') - steadyAtMs),
      },
      secondsToRollbackStart: {
        orchestrator: seconds(rollback.enteredAtMs - firstFailedAtMs),
        circuitBreaker: seconds(circuitBreakerAtMs - firstFailedAtMs),
      },
      stateTransitions10MinRollout: {
        orchestrator: slowRun.executions[0]!.states.length,
        poll15s: required(slowEcs.pollIterations, 'a successful poll') * TRANSITIONS_PER_POLL,
      },
    },
    context: {
      happyRolloutSeconds: seconds(steadyAtMs - happyEcs.deployedAtMs),
      tenMinuteRolloutSeconds: seconds(slowSteadyAtMs - slowEcs.deployedAtMs),
      circuitBreakerFailedTasks: crashEcs.failedTasks,
      orchestratorRollbackAction: String(
        (rollback.invocations[0]?.output as { action?: unknown } | undefined)?.action,
      ),
    },
    runs: { happy, crash, approval },
  };
}
