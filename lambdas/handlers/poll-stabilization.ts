/**
 * PollStabilization (and PollRollback): looks at ECS once and judges THIS deployment by its id:
 * still rolling out, completed on the new revision, failed (circuit breaker or a stop that will not
 * heal), rolled back by ECS, replaced, or timed out. Only COMPLETED lets the workflow go on.
 */
import { observeService, observeStoppedTasks } from '../aws/ecs-rollout';
import { environmentNamed } from '../domain/environments';
import { RolloutFailed } from '../domain/errors';
import { judgeRollout } from '../domain/rollout-judgement';
import {
  RolloutStatus,
  type DeploymentRequest,
  type RolloutJudgement,
  type RolloutTarget,
} from '../domain/workflow-state';
import { lambdaEntry, type HandlerDeps } from './runtime';

export interface PollStabilizationInput {
  readonly executionId: string;
  readonly request: DeploymentRequest;
  readonly target: RolloutTarget;
}

export function createPollStabilizationHandler(deps: HandlerDeps) {
  return async (event: PollStabilizationInput): Promise<RolloutJudgement> => {
    const { request, target } = event;
    deps.logger.resetKeys();
    deps.logger.appendKeys({ executionId: event.executionId, deploymentId: target?.deploymentId });

    if (!target?.deploymentId || !target.taskDefinitionArn || !target.deadline) {
      throw new RolloutFailed(
        `The workflow passed no complete rollout target (deployment id, task definition, deadline): ` +
          `${JSON.stringify(target ?? null)}. The UpdateService or Rollback result is missing; check the execution's ` +
          'earlier steps.',
      );
    }
    const environment = environmentNamed(deps.environments, request?.environment);
    if (!environment) {
      throw new RolloutFailed(
        `The request names environment ${JSON.stringify(request?.environment)}, which the orchestrator does not ` +
          'know, so its rollout rules are unknown. Check the environments of the deployment configuration the stack was built from.',
      );
    }

    const ref = { clusterName: request.clusterName, serviceName: request.serviceName };
    const service = await observeService(deps.clients, ref);
    const stoppedTasks = await observeStoppedTasks(deps.clients, {
      ...ref,
      taskDefinitionArn: target.taskDefinitionArn,
    });
    const judgement = judgeRollout({
      service,
      stoppedTasks,
      target,
      now: deps.now(),
      config: environment.rollout,
    });

    const summary = {
      status: judgement.status,
      reason: judgement.reason,
      runningCount: judgement.runningCount,
      desiredCount: judgement.desiredCount,
      nextCheckSeconds: judgement.nextCheckSeconds,
    };
    if (judgement.status === RolloutStatus.inProgress || judgement.status === RolloutStatus.completed) {
      deps.logger.info('Rollout judged', summary);
    } else {
      deps.logger.warn('Rollout did not succeed', {
        ...summary,
        rolloutStateReason: judgement.rolloutStateReason,
        recentEvents: judgement.recentEvents,
        stoppedTasks: judgement.stoppedTasks,
      });
    }
    return judgement;
  };
}

export const handler = lambdaEntry('poll-stabilization', createPollStabilizationHandler);
