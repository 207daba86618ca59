/**
 * WaitForDeploymentEvent (and WaitForRollbackEvent): stores the workflow's task token in the wait
 * record, then wakes the workflow at once if the deployment already finished: its event arrived
 * before the token was stored, or ECS already shows it COMPLETED or FAILED (an event that was lost).
 * Otherwise it returns and the workflow keeps waiting for the event or its safety-net timeout.
 */
import { z } from 'zod';
import { getWaitRecord, storeWaitToken } from '../aws/deployment-table';
import { observeService } from '../aws/ecs-rollout';
import { completeWaitOnce, type WaitCompletion } from '../aws/wait-token';
import { RolloutFailed } from '../domain/errors';
import type { DeploymentWake } from '../domain/workflow-state';
import { lambdaEntry, type HandlerDeps } from './runtime';

const registerWaitInput = z.object({
  taskToken: z.string().min(1),
  executionId: z.string().min(1),
  deploymentId: z.string().min(1),
  clusterName: z.string().min(1),
  serviceName: z.string().min(1),
});
export type RegisterWaitInput = z.infer<typeof registerWaitInput>;

export interface RegisterWaitResult {
  /**
   * `woken`: this call completed the wait; `waiting`: the event or the timeout will;
   * `already-woken`: the wait was completed before (a duplicate or retried invocation).
   */
  readonly action: 'woken' | 'waiting' | 'already-woken';
  readonly wake?: DeploymentWake;
}

/** ECS rollout states after which no further deployment event will come. */
const FINISHED_ROLLOUT_EVENTS: Readonly<Record<string, string>> = {
  COMPLETED: 'SERVICE_DEPLOYMENT_COMPLETED',
  FAILED: 'SERVICE_DEPLOYMENT_FAILED',
};

export function createRegisterWaitHandler(deps: HandlerDeps) {
  const { tableName } = deps.settings;
  return async (event: RegisterWaitInput): Promise<RegisterWaitResult> => {
    const parsed = registerWaitInput.safeParse(event);
    if (!parsed.success) {
      throw new RolloutFailed(
        `The wait step got an incomplete input (${z.prettifyError(parsed.error).replace(/\n/g, ' ')}); ` +
          'the workflow definition must pass taskToken, executionId, deploymentId, clusterName and serviceName.',
      );
    }
    const input = parsed.data;
    deps.logger.resetKeys();
    deps.logger.appendKeys({ executionId: input.executionId, deploymentId: input.deploymentId });

    const prior = await getWaitRecord(deps.clients, tableName, input.deploymentId);
    if (prior?.taskToken === input.taskToken && prior.tokenCompletedAt) {
      deps.logger.info('This wait was already completed', { completedAt: prior.tokenCompletedAt });
      return { action: 'already-woken' };
    }
    // After one wake-up with the outcome, the judgement asked to wait again: waking at once on the
    // same outcome would spin. The next event or the safety-net timeout ends this wait instead.
    const wokenBefore = prior?.executionId === input.executionId && prior.tokenCompletedAt !== undefined;

    const record = await storeWaitToken(deps.clients, tableName, { ...input, now: deps.now() });
    if (wokenBefore) {
      deps.logger.info(
        'Waiting for a new event or the safety-net timeout; this deployment woke the workflow before',
      );
      return { action: 'waiting' };
    }

    let wake: DeploymentWake | undefined;
    if (record.event) {
      wake = {
        source: 'event',
        eventName: record.event.eventName,
        deploymentId: input.deploymentId,
        ...(record.event.reason ? { reason: record.event.reason } : {}),
      };
    } else {
      const service = await observeService(deps.clients, input);
      const ours = service.deployments.find((d) => d.id === input.deploymentId);
      const eventName = ours?.rolloutState ? FINISHED_ROLLOUT_EVENTS[ours.rolloutState] : undefined;
      if (ours && eventName) {
        wake = {
          source: 'already-finished',
          eventName,
          deploymentId: input.deploymentId,
          ...(ours.rolloutStateReason ? { reason: ours.rolloutStateReason } : {}),
        };
      }
    }
    if (!wake) {
      deps.logger.info('Waiting for the deployment event');
      return { action: 'waiting' };
    }

    const completion = await completeWaitOnce(deps.clients, tableName, {
      deploymentId: input.deploymentId,
      taskToken: input.taskToken,
      wake,
      now: deps.now(),
    });
    return report(deps, completion, wake);
  };
}

function report(deps: HandlerDeps, completion: WaitCompletion, wake: DeploymentWake): RegisterWaitResult {
  switch (completion.outcome) {
    case 'delivered':
      deps.logger.info('Deployment had already finished; woke the workflow', { wake });
      return { action: 'woken', wake };
    case 'already-completed':
      deps.logger.info('The deployment event woke the workflow first', { wake });
      return { action: 'already-woken' };
    case 'execution-moved-on':
      deps.logger.warn('Step Functions no longer waits on this token', { why: completion.why, wake });
      return { action: 'already-woken' };
  }
}

export const handler = lambdaEntry('register-wait', createRegisterWaitHandler);
