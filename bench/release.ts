/**
 * The release figures: one release of the configuration's containers, pushed with one tag a few
 * virtual seconds apart as CI pushes them, played three times in the sandbox on one virtual clock
 * and one timing model. The orchestrator side is the `release` scenario (the real ASL, the shipped
 * bundles, every push an ECR event the stack's rule turns into an execution). The baselines are one
 * execution per push, as the orchestrator behaved before releases: every push becomes a request
 * that deploys only its own image, delivered at the same virtual moment as the push, and refused
 * while another execution holds the service (hand-started requests still behave exactly so,
 * docs/releases.md); once as is, once with CI sending every refused push again when the service
 * frees. Every figure is read at the end of each run, from the simulated ECS and ECR through their
 * APIs and from the messages the SNS topic received. */
import { DescribeImagesCommand } from '@aws-sdk/client-ecr';
import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { loadDeployConfig, repositoryConfigPath } from '../infra/deploy-config-file';
import { parseImageReference } from '../lambdas/domain/image-parameters';
import type { EnvironmentConfig } from '../lambdas/domain/environments';
import { DeploymentInProgress } from '../lambdas/domain/errors';
import { Outcome, type StartDeploymentInput } from '../lambdas/domain/workflow-state';
import type { PublishedMessage, SimulatedAccount } from '../sandbox/account/simulated-account';
import { runSimulation, type FurtherInput, type SimulationRun } from '../sandbox/runner';
import type { SimulatedExecution } from '../sandbox/run/execution';
import { releasePushes } from '../sandbox/run/release-pushes';
import { findScenario, type Scenario } from '../sandbox/scenarios';
import { rehearsalEnvironment, scenarioForConfig } from '../sandbox/scenarios/configured';

/** One side of the release figures (the `release` of the `npm run bench -- --json` document). */
export interface ReleaseSide {
  /**
   * Virtual seconds from the release's last push to the moment the service's deployment carrying
   * every image of the tag reached its steady state; null when the service never ran them all.
   */
  readonly secondsLastPushToAllImagesRunning: number | null;
  /** Messages the notification topic received that report a failure (all but `succeeded` ones). */
  readonly failureNotifications: number;
  /** Images of the tag that no task of the service ever ran. */
  readonly imagesNeverDeployed: number;
  /** Executions the pushes (and CI's retries) started. */
  readonly executions: number;
  /** ECS deployments of the service during the run (its `SERVICE_DEPLOYMENT_IN_PROGRESS` events). */
  readonly deployments: number;
}

export interface ReleaseFigures {
  /** Containers the release pushes an image of (every configured container of the environment). */
  readonly images: number;
  readonly orchestrator: ReleaseSide;
  readonly onePerPush: ReleaseSide;
  /** One execution per push, CI sending every refused push again once the service frees. */
  readonly onePerPushCiRetries: ReleaseSide;
}

/** What the simulated account says at the end of a run. */
interface EndReading {
  /** Container → digest of the tag's image in its repository. */
  readonly tagDigests: ReadonlyMap<string, string>;
  /** Digests any task of the service ran (it reached RUNNING). */
  readonly digestsRun: ReadonlySet<string>;
  /** Moment the PRIMARY deployment reached its steady state, when it did and carries every image of the tag. */
  readonly allImagesSteadyAtMs?: number;
}

function releaseScenario(environments: ReturnType<typeof loadDeployConfig>['environments']): Scenario {
  const found = findScenario('release');
  if (!found) throw new Error('The sandbox has no scenario "release"; the bench measures a release on it.');
  return scenarioForConfig(found, environments);
}

function releaseTag(scenario: Scenario): string {
  if (scenario.trigger.kind !== 'release') {
    throw new Error(
      `The "release" scenario is no longer started by a release (its trigger: ${scenario.trigger.kind}).`,
    );
  }
  return scenario.trigger.tag;
}

async function tasksOfService(account: SimulatedAccount, env: EnvironmentConfig): Promise<Task[]> {
  const arns: string[] = [];
  for (const desiredStatus of ['RUNNING', 'STOPPED'] as const) {
    let nextToken: string | undefined;
    do {
      const page = await account.clients.ecs.send(
        new ListTasksCommand({
          cluster: env.clusterName,
          serviceName: env.serviceName,
          desiredStatus,
          nextToken,
        }),
      );
      arns.push(...(page.taskArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
  }
  const tasks: Task[] = [];
  for (let start = 0; start < arns.length; start += 100) {
    const described = await account.clients.ecs.send(
      new DescribeTasksCommand({ cluster: env.clusterName, tasks: arns.slice(start, start + 100) }),
    );
    tasks.push(...(described.tasks ?? []));
  }
  return tasks;
}

async function tagDigestsOf(
  account: SimulatedAccount,
  env: EnvironmentConfig,
  tag: string,
): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  for (const container of env.containers) {
    const { imageDetails } = await account.clients.ecr.send(
      new DescribeImagesCommand({ repositoryName: container.repository, imageIds: [{ imageTag: tag }] }),
    );
    const digest = imageDetails?.[0]?.imageDigest;
    if (!digest) throw new Error(`ECR has no ${container.repository}:${tag}; the release was not pushed.`);
    digests.set(container.name, digest);
  }
  return digests;
}

const digestOf = (image: string | undefined): string | undefined =>
  image ? parseImageReference(image)?.digest : undefined;

async function readEnd(account: SimulatedAccount, env: EnvironmentConfig, tag: string): Promise<EndReading> {
  const tagDigests = await tagDigestsOf(account, env, tag);
  const tasks = await tasksOfService(account, env);
  const digestsRun = new Set(
    tasks
      .filter((task) => task.startedAt !== undefined)
      .flatMap((task) => (task.containers ?? []).map((container) => digestOf(container.image)))
      .filter((digest): digest is string => digest !== undefined),
  );
  const { services } = await account.clients.ecs.send(
    new DescribeServicesCommand({ cluster: env.clusterName, services: [env.serviceName] }),
  );
  const primary = services?.[0]?.deployments?.find((deployment) => deployment.status === 'PRIMARY');
  // The tasks of the primary deployment are the ones it launched: their images are what it carries.
  const primaryDigests = new Set(
    tasks
      .filter((task) => task.startedBy === primary?.id)
      .flatMap((task) => (task.containers ?? []).map((container) => digestOf(container.image))),
  );
  const carriesAll = [...tagDigests.values()].every((digest) => primaryDigests.has(digest));
  const steady = primary?.rolloutState === 'COMPLETED' && primary.updatedAt !== undefined;
  return {
    tagDigests,
    digestsRun,
    ...(carriesAll && steady ? { allImagesSteadyAtMs: new Date(primary.updatedAt!).getTime() } : {}),
  };
}

/**
 * A message reporting a failure: every execution's notification carries its outcome, and only a
 * `succeeded` one reports none; a CloudWatch alarm's message (no outcome) is sent only in ALARM.
 */
function reportsFailure(message: PublishedMessage): boolean {
  return message.attributes.outcome !== Outcome.succeeded;
}

function side(run: SimulationRun, end: EndReading, lastPushAtMs: number): ReleaseSide {
  const never = [...end.tagDigests.values()].filter((digest) => !end.digestsRun.has(digest));
  return {
    secondsLastPushToAllImagesRunning:
      end.allImagesSteadyAtMs === undefined ? null : (end.allImagesSteadyAtMs - lastPushAtMs) / 1000,
    failureNotifications: run.published.filter(reportsFailure).length,
    imagesNeverDeployed: never.length,
    executions: run.executions.length,
    deployments: run.busEvents.filter(
      (event) =>
        event.source === 'aws.ecs' &&
        event['detail-type'] === 'ECS Deployment State Change' &&
        event.detail.eventName === 'SERVICE_DEPLOYMENT_IN_PROGRESS',
    ).length,
  };
}

/** The moment of the last ECR push event of the tag the run put on the bus. */
function lastPushEventAtMs(run: SimulationRun, tag: string): number {
  const pushes = run.busEvents.filter(
    (event) =>
      event.source === 'aws.ecr' &&
      event['detail-type'] === 'ECR Image Action' &&
      event.detail['action-type'] === 'PUSH' &&
      event.detail['image-tag'] === tag,
  );
  if (pushes.length === 0) throw new Error(`The release run pushed no image tagged ${tag}.`);
  return Math.max(...pushes.map((event) => Date.parse(event.time)));
}

/** The execution was refused because another execution held the service. */
function refusedWhileServiceHeld(execution: SimulatedExecution): boolean {
  return execution.states.some((record) =>
    record.invocations.some((invocation) => invocation.error?.Error === DeploymentInProgress.name),
  );
}

/**
 * The pushes as one execution each, as before releases: every push a request that deploys only its
 * own image, sent at the push's virtual moment. With `ciRetries`, the CI job of a refused push
 * sends it again the moment the execution holding the service ends (the earliest it could know the
 * service is free): all waiting pushes at once, so one takes the service and the others are refused
 * again, until every push has had its deployment.
 */
async function onePerPushRun(
  scenario: Scenario,
  env: EnvironmentConfig,
  tag: string,
  ciRetries: boolean,
): Promise<ReleaseSide> {
  const requests: FurtherInput[] = releasePushes(env, tag, 'all').map((push, index) => ({
    input: {
      environment: env.name,
      images: { [push.container]: push.tag },
      requestedBy: 'ci',
    } satisfies StartDeploymentInput,
    label: `push ${index + 1} of ${push.repository}:${push.tag} as its own request`,
    // EventBridge names every execution its rule starts: one per push, none refused by name.
    executionName: `push-${index + 1}-${push.container}`,
  }));
  const sent = new Map(requests.map((request) => [request.executionName!, request]));
  const waiting: FurtherInput[] = [];
  let retries = 0;
  let end: EndReading | undefined;
  const [first, ...rest] = requests;
  const run = await runSimulation({
    scenario,
    input: first!.input,
    inputLabel: first!.label,
    inputExecutionName: first!.executionName,
    moreInputs: rest,
    pushed: true,
    afterRun: async (account) => {
      end = await readEnd(account, env, tag);
    },
    ...(ciRetries
      ? {
          onExecutionEnded: (execution, send) => {
            const request = sent.get(execution.name);
            if (request && refusedWhileServiceHeld(execution)) {
              waiting.push(request);
              return;
            }
            // The service is free: every refused push is sent again, each as a new execution.
            for (const again of waiting.splice(0)) {
              retries += 1;
              const executionName = `${again.executionName!.replace(/-retry-\d+$/, '')}-retry-${retries}`;
              const retry = { ...again, label: `${again.label}, sent again by CI`, executionName };
              sent.set(executionName, retry);
              send(retry);
            }
          },
        }
      : {}),
  });
  // The requests were sent at the pushes' moments: the last push's execution started last of them.
  const lastPushAtMs = Math.max(
    ...run.executions
      .filter((execution) => requests.some((r) => r.executionName === execution.name))
      .map((execution) => execution.startedAtMs),
  );
  return side(run, end!, lastPushAtMs);
}

export async function benchmarkRelease(
  onProgress: (text: string) => void = () => undefined,
): Promise<ReleaseFigures> {
  const { environments } = loadDeployConfig(repositoryConfigPath);
  const scenario = releaseScenario(environments);
  const env = rehearsalEnvironment(environments);
  const tag = releaseTag(scenario);

  onProgress(`release: ${env.containers.length} pushes of ${tag}, orchestrator (release scenario)`);
  let orchestratorEnd: EndReading | undefined;
  const orchestratorRun = await runSimulation({
    scenario,
    afterRun: async (account) => {
      orchestratorEnd = await readEnd(account, env, tag);
    },
  });

  onProgress(`release: ${env.containers.length} pushes of ${tag}, one execution per push`);
  const onePerPush = await onePerPushRun(scenario, env, tag, false);
  onProgress(
    `release: ${env.containers.length} pushes of ${tag}, one execution per push, CI retrying refused pushes`,
  );
  const onePerPushCiRetries = await onePerPushRun(scenario, env, tag, true);

  return {
    images: env.containers.length,
    orchestrator: side(orchestratorRun, orchestratorEnd!, lastPushEventAtMs(orchestratorRun, tag)),
    onePerPush,
    onePerPushCiRetries,
  };
}
