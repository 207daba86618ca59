/**
 * WaitForDeploymentEvent (and WaitForRollbackEvent): stores the workflow's task token in the wait
 * record, then wakes the workflow at once if something it has not been woken for already happened:
 * the deployment's outcome or a stopped task of it arrived before the token was stored, or ECS already
 * shows the deployment COMPLETED or FAILED (an event that was lost). Signals that woke this execution
 * before do not wake it again: the judgement asked to wait again after seeing them, and waking at once
 * would spin. Otherwise it returns and the workflow waits for the next event or its safety-net timeout.
 */
import { z } from 'zod';
import { getWaitRecord, storeWaitToken, WakeSignal, type WaitRecord } from '../aws/deployment-table';
import { observeService } from '../aws/ecs-rollout';
import { completeWaitOnce, type WaitCompletion } from '../aws/wait-token';
import { RolloutFailed } from '../domain/errors';
import { TASK_STOPPED_WAKE, type DeploymentWake } from '../domain/workflow-state';
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
    const record = await storeWaitToken(deps.clients, tableName, { ...input, now: deps.now() });

    const stored = unseenWakes(record);
    // Without a stored outcome, ask ECS whether its event was lost; a stored signal wakes anyway.
    const pending = stored.length > 0 || record.event ? stored : await finishedInEcs(input, record);
    const first = pending[0];
    if (!first) {
      deps.logger.info('Waiting for a deployment event', { wokenBefore: record.wokenBy });
      return { action: 'waiting' };
    }
    // One wake-up covers every pending signal: the poll it leads to looks at all of them.
    const completion = await completeWaitOnce(deps.clients, tableName, {
      deploymentId: input.deploymentId,
      taskToken: input.taskToken,
      woken: { executionId: input.executionId, signals: pending.map((p) => p.signal) },
      wake: first.wake,
      now: deps.now(),
    });
    return report(deps, completion, first.wake);
  };

  /** The outcome ECS shows for the deployment when its event was lost, unless it woke this execution. */
  async function finishedInEcs(input: RegisterWaitInput, record: WaitRecord): Promise<PendingWake[]> {
    const service = await observeService(deps.clients, input);
    const ours = service.deployments.find((d) => d.id === input.deploymentId);
    const eventName = ours?.rolloutState ? FINISHED_ROLLOUT_EVENTS[ours.rolloutState] : undefined;
    if (!ours || !eventName) return [];
    const signal = WakeSignal.deploymentEnded(eventName);
    if (record.wokenBy.includes(signal)) return [];
    return [
      {
        signal,
        wake: {
          source: 'already-finished',
          eventName,
          deploymentId: input.deploymentId,
          ...(ours.rolloutStateReason ? { reason: ours.rolloutStateReason } : {}),
        },
      },
    ];
  }
}

interface PendingWake {
  readonly signal: string;
  readonly wake: DeploymentWake;
}

/** Stored signals that have not woken this execution yet: the deployment's outcome first, then stops. */
function unseenWakes(record: WaitRecord): PendingWake[] {
  const { deploymentId, event } = record;
  const wakes: PendingWake[] = [
    ...(event
      ? [
          {
            signal: WakeSignal.deploymentEnded(event.eventName),
            wake: {
              source: 'event' as const,
              eventName: event.eventName,
              deploymentId,
              ...(event.reason ? { reason: event.reason } : {}),
            },
          },
        ]
      : []),
    ...record.taskStops.map((stop) => ({
      signal: WakeSignal.taskStopped(stop.taskArn),
      wake: {
        source: 'event' as const,
        eventName: TASK_STOPPED_WAKE,
        deploymentId,
        reason: stop.reason,
        taskArn: stop.taskArn,
      },
    })),
  ];
  return wakes.filter((pending) => !record.wokenBy.includes(pending.signal));
}

function report(deps: HandlerDeps, completion: WaitCompletion, wake: DeploymentWake): RegisterWaitResult {
  switch (completion.outcome) {
    case 'delivered':
      deps.logger.info('Something this execution had not seen yet happened; woke the workflow', { wake });
      return { action: 'woken', wake };
    case 'already-completed':
      deps.logger.info('The event handler woke the workflow first', { wake });
      return { action: 'already-woken' };
    case 'execution-moved-on':
      deps.logger.warn('Step Functions no longer waits on this token', { why: completion.why, wake });
      return { action: 'already-woken' };
  }
}

export const handler = lambdaEntry('register-wait', createRegisterWaitHandler);
