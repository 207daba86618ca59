/**
 * WatchStack: the eyes of an infrastructure release on one stack. Two phases, one function (both read
 * the same stack and service with the same grants):
 *
 * - `baseline`, before the deploy build: the stack's status and when it last changed, and the
 *   service's PRIMARY ECS deployment. What "the update started" and "an ECS deployment started" are
 *   measured against.
 * - `watch`, after the deploy build: what CloudFormation itself reports (complete, no change, its own
 *   rollback, a failure), never the build's exit code alone. While the stack is in progress it looks
 *   again every POLL_SECONDS for up to WATCH_BUDGET_SECONDS, then returns IN_PROGRESS and the state
 *   machine calls it again. A deployed stack whose update started an ECS deployment names that
 *   deployment, which the workflow then judges by its id and smoke-tests as an image release does.
 */
import { describeService } from '../aws/ecs-deploy';
import { firstFailedResource, observeStack } from '../aws/cloudformation-stacks';
import { environmentNamed } from '../domain/environments';
import { StackUnobservable } from '../domain/errors';
import {
  ecsDeploymentStarted,
  judgeStack,
  StackWatchStatus,
  type DeployBuildOutcome,
  type StackBaseline,
  type StackOutput,
} from '../domain/stack-release';
import { primaryDeployment } from '../domain/task-definition';
import type { DeploymentRequest } from '../domain/workflow-state';
import { lambdaEntry, type HandlerDeps } from './runtime';

/**
 * How often the watch looks while CloudFormation works, and how long one invocation keeps looking
 * (within the function's 60 s timeout); the state machine calls it again while the stack is in progress.
 */
const POLL_SECONDS = 15;
const WATCH_BUDGET_SECONDS = 45;

type Request = Pick<DeploymentRequest, 'environment' | 'clusterName' | 'serviceName'>;

export type WatchStackEvent =
  | {
      readonly phase: 'baseline';
      readonly executionId: string;
      readonly stackName: string;
      readonly request: Request;
    }
  | {
      readonly phase: 'watch';
      readonly executionId: string;
      readonly request: Request;
      readonly baseline: StackBaseline;
      /** `$.stackDeploy`: the deploy build's id and status, or the error its state caught. */
      readonly build: DeployBuildOutcome;
    };

/** What `$.stackWatch` holds after a watch. */
export interface StackWatchResult {
  readonly stackName: string;
  readonly status: StackWatchStatus;
  readonly stackStatus: string;
  readonly reason: string;
  readonly outputs: readonly StackOutput[];
  /** Present when the deployed stack started an ECS deployment of the environment's service. */
  readonly ecsDeployment?: {
    readonly deploymentId: string;
    readonly taskDefinitionArn: string;
    readonly previousTaskDefinitionArn: string;
    /** When the rollout counts as TIMED_OUT (the environment's rollout.timeoutSeconds from now). */
    readonly deadline: string;
  };
}

async function takeBaseline(deps: HandlerDeps, stackName: string, request: Request): Promise<StackBaseline> {
  const observed = await observeStack(deps.clients, stackName);
  const service = await describeService(deps.clients, request.clusterName, request.serviceName);
  const primary = service ? primaryDeployment(service.deployments) : undefined;
  return {
    stackName,
    exists: observed.exists,
    ...(observed.exists && { stackStatus: observed.stackStatus, changedAt: observed.changedAt }),
    ...(primary && { primaryDeploymentId: primary.id, primaryTaskDefinitionArn: primary.taskDefinition }),
    takenAt: deps.now().toISOString(),
  };
}

async function watch(
  deps: HandlerDeps,
  event: Extract<WatchStackEvent, { phase: 'watch' }>,
): Promise<StackWatchResult> {
  const { baseline, build, request } = event;
  const { stackName } = baseline;
  const stopLookingAt = deps.now().getTime() + WATCH_BUDGET_SECONDS * 1000;
  for (;;) {
    const observed = await observeStack(deps.clients, stackName);
    const judgement = judgeStack({ baseline, observed, build, now: deps.now() });
    const outputs = observed.exists ? observed.outputs : [];
    const result = { stackName, ...judgement, outputs };
    if (judgement.status === StackWatchStatus.inProgress) {
      if (deps.now().getTime() + POLL_SECONDS * 1000 > stopLookingAt) return result;
      await deps.sleep(POLL_SECONDS * 1000);
      continue;
    }
    if (judgement.status === StackWatchStatus.rolledBack || judgement.status === StackWatchStatus.failed) {
      const culprit =
        observed.exists && baseline.takenAt
          ? await firstFailedResource(deps.clients, stackName, baseline.takenAt)
          : undefined;
      return culprit ? { ...result, reason: `${result.reason} First failure: ${culprit}.` } : result;
    }
    if (judgement.status === StackWatchStatus.deployed) {
      const service = await describeService(deps.clients, request.clusterName, request.serviceName);
      const started = service ? ecsDeploymentStarted(baseline, service.deployments) : undefined;
      if (started) {
        const environment = environmentNamed(deps.environments, request.environment);
        const timeoutSeconds = environment?.rollout.timeoutSeconds ?? 0;
        deps.logger.info('The stack update started an ECS deployment', { stackName, ...started });
        return {
          ...result,
          ecsDeployment: {
            ...started,
            deadline: new Date(deps.now().getTime() + timeoutSeconds * 1000).toISOString(),
          },
        };
      }
    }
    return result;
  }
}

export function createWatchStackHandler(deps: HandlerDeps) {
  return async (event: WatchStackEvent): Promise<StackBaseline | StackWatchResult> => {
    deps.logger.resetKeys();
    deps.logger.appendKeys({ executionId: event.executionId });
    if (!environmentNamed(deps.environments, event.request?.environment)) {
      throw new StackUnobservable(
        `The request names environment ${JSON.stringify(event.request?.environment)}, which this function's ` +
          'configuration does not have. Deploy the functions and the state machine from the same release.',
      );
    }
    if (event.phase === 'baseline') {
      const baseline = await takeBaseline(deps, event.stackName, event.request);
      deps.logger.info('Stack baseline taken', { ...baseline });
      return baseline;
    }
    const result = await watch(deps, event);
    deps.logger.info('Stack watched', {
      stackName: result.stackName,
      status: result.status,
      stackStatus: result.stackStatus,
    });
    return result;
  };
}

export const handler = lambdaEntry('watch-stack', createWatchStackHandler);
