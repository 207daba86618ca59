/**
 * EventBridge target for `ECS Deployment State Change`: records a deployment's COMPLETED or FAILED
 * event in its wait record and, when a workflow is already waiting on that deployment, wakes it
 * (once, however often EventBridge delivers the event). IN_PROGRESS events carry nothing to act on.
 */
import { z } from 'zod';
import { storeDeploymentEvent } from '../aws/deployment-table';
import { completeWaitOnce } from '../aws/wait-token';
import { DeploymentRejected } from '../domain/errors';
import type { DeploymentWake } from '../domain/workflow-state';
import { lambdaEntry, type HandlerDeps } from './runtime';

/** The documented envelope and detail of the event; fields we do not use are let through. */
export const ecsDeploymentStateChange = z.object({
  'detail-type': z.literal('ECS Deployment State Change'),
  source: z.literal('aws.ecs'),
  id: z.string().min(1),
  time: z.string().min(1),
  resources: z.array(z.string()),
  detail: z.object({
    eventType: z.string().optional(),
    eventName: z.enum([
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
      'SERVICE_DEPLOYMENT_COMPLETED',
      'SERVICE_DEPLOYMENT_FAILED',
    ]),
    deploymentId: z.string().min(1),
    updatedAt: z.string().optional(),
    reason: z.string().optional(),
  }),
});
export type EcsDeploymentStateChange = z.infer<typeof ecsDeploymentStateChange>;

export interface DeploymentEventResult {
  /**
   * `ignored`: an IN_PROGRESS event; `stored`: no workflow waits yet (its register step will find
   * the event); `woken`: this event woke the workflow; `already-woken`: the wait was completed
   * before (duplicate event); `execution-moved-on`: the wait had ended (timed out, execution over).
   */
  readonly action: 'ignored' | 'stored' | 'woken' | 'already-woken' | 'execution-moved-on';
}

export function createDeploymentEventHandler(deps: HandlerDeps) {
  const { tableName } = deps.settings;
  return async (raw: unknown): Promise<DeploymentEventResult> => {
    deps.logger.resetKeys();
    const parsed = ecsDeploymentStateChange.safeParse(raw);
    if (!parsed.success) {
      // Thrown, not dropped: after EventBridge's retries the event lands in the dead-letter queue
      // where a person can see it.
      throw new DeploymentRejected(
        `Not an ECS Deployment State Change event this function understands ` +
          `(${z.prettifyError(parsed.error).replace(/\n/g, ' ')}). Check the EventBridge rule that targets it.`,
      );
    }
    const event = parsed.data;
    const { deploymentId, eventName, reason } = event.detail;
    deps.logger.appendKeys({ deploymentId, eventId: event.id });

    if (eventName === 'SERVICE_DEPLOYMENT_IN_PROGRESS') {
      deps.logger.info('Ignoring an IN_PROGRESS deployment event; only the outcome wakes a workflow');
      return { action: 'ignored' };
    }

    const record = await storeDeploymentEvent(deps.clients, tableName, {
      deploymentId,
      event: { eventName, time: event.time, ...(reason ? { reason } : {}) },
      now: deps.now(),
    });
    if (record.executionId) deps.logger.appendKeys({ executionId: record.executionId });
    if (!record.taskToken) {
      deps.logger.info('Stored the deployment event; no workflow waits on it yet', { eventName });
      return { action: 'stored' };
    }
    if (record.tokenCompletedAt) {
      deps.logger.info('The wait was already completed; duplicate event', { eventName });
      return { action: 'already-woken' };
    }

    const wake: DeploymentWake = { source: 'event', eventName, deploymentId, ...(reason ? { reason } : {}) };
    const completion = await completeWaitOnce(deps.clients, tableName, {
      deploymentId,
      taskToken: record.taskToken,
      wake,
      now: deps.now(),
    });
    switch (completion.outcome) {
      case 'delivered':
        deps.logger.info('Woke the workflow', { wake });
        return { action: 'woken' };
      case 'already-completed':
        deps.logger.info('Another delivery woke the workflow first', { eventName });
        return { action: 'already-woken' };
      case 'execution-moved-on':
        deps.logger.warn(
          'Step Functions no longer waits on this token (the safety-net poll or the end of the execution ' +
            'took over); nothing to do',
          { why: completion.why, eventName },
        );
        return { action: 'execution-moved-on' };
    }
  };
}

export const handler = lambdaEntry('deployment-event', createDeploymentEventHandler);
