/**
 * EventBridge target for two ECS events of the watched services, each recorded in the wait record of
 * its deployment and, when a workflow is already waiting on that deployment, waking it:
 * - `ECS Deployment State Change` COMPLETED or FAILED: the deployment's outcome. IN_PROGRESS events
 *   carry nothing to act on.
 * - `ECS Task State Change` with lastStatus STOPPED: a task the deployment started stopped
 *   (`startedBy` of a service task IS its deployment id). The poll then fails the rollout at once when
 *   the stop will not heal (image pull, secrets, crash on boot) instead of waiting for ECS's circuit
 *   breaker, and otherwise waits again.
 * Each distinct signal (the outcome, or one stopped task) wakes an execution once, however often
 * EventBridge delivers it.
 */
import { z } from 'zod';
import { storeDeploymentEvent, storeTaskStop, WakeSignal, type WaitRecord } from '../aws/deployment-table';
import { completeWaitOnce } from '../aws/wait-token';
import { DeploymentRejected } from '../domain/errors';
import { describeTaskStop } from '../domain/rollout-judgement';
import { TASK_STOPPED_WAKE, type DeploymentWake } from '../domain/workflow-state';
import { lambdaEntry, type HandlerDeps } from './runtime';

const envelope = {
  source: z.literal('aws.ecs'),
  id: z.string().min(1),
  time: z.string().min(1),
  resources: z.array(z.string()),
};

/** The documented envelope and detail of the event; fields we do not use are let through. */
export const ecsDeploymentStateChange = z.object({
  ...envelope,
  'detail-type': z.literal('ECS Deployment State Change'),
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

/** The documented event; its detail is the task as DescribeTasks shows it, with ISO timestamps. */
export const ecsTaskStateChange = z.object({
  ...envelope,
  'detail-type': z.literal('ECS Task State Change'),
  detail: z.object({
    clusterArn: z.string().min(1),
    taskArn: z.string().min(1),
    taskDefinitionArn: z.string().min(1),
    lastStatus: z.string().min(1),
    /** `service:<name>` for a task a service started. */
    group: z.string().optional(),
    /** The deployment id (`ecs-svc/...`) for a task a service started. */
    startedBy: z.string().optional(),
    stoppedReason: z.string().optional(),
    stopCode: z.string().optional(),
    stoppedAt: z.string().optional(),
    containers: z
      .array(
        z.object({
          name: z.string(),
          exitCode: z.number().optional(),
          reason: z.string().optional(),
        }),
      )
      .default([]),
  }),
});
export type EcsTaskStateChange = z.infer<typeof ecsTaskStateChange>;

const understoodEvents = z.discriminatedUnion('detail-type', [ecsDeploymentStateChange, ecsTaskStateChange]);

export interface DeploymentEventResult {
  /**
   * `ignored`: nothing to act on (an IN_PROGRESS event; a task that has not stopped, or that no watched
   * service started); `stored`: no workflow waits for it right now (its next register step will find
   * it); `woken`: this event woke the workflow; `already-woken`: this signal woke the workflow before
   * (duplicate event); `execution-moved-on`: the wait had ended (timed out, execution over).
   */
  readonly action: 'ignored' | 'stored' | 'woken' | 'already-woken' | 'execution-moved-on';
}

const SERVICE_GROUP_PREFIX = 'service:';

export function createDeploymentEventHandler(deps: HandlerDeps) {
  const { tableName } = deps.settings;

  /** Wakes the workflow waiting on `record`'s deployment with `signal`, unless it saw it already. */
  async function deliver(
    record: WaitRecord,
    signal: string,
    wake: DeploymentWake,
  ): Promise<DeploymentEventResult> {
    if (record.executionId) deps.logger.appendKeys({ executionId: record.executionId });
    const { eventName } = wake;
    if (record.wokenBy.includes(signal)) {
      deps.logger.info('This event woke the workflow before; duplicate event', { eventName });
      return { action: 'already-woken' };
    }
    if (!record.taskToken || !record.executionId) {
      deps.logger.info('Stored the event; no workflow waits on it yet', { eventName });
      return { action: 'stored' };
    }
    if (record.tokenCompletedAt) {
      deps.logger.info('Stored the event; the workflow is between two waits and its next wait takes it', {
        eventName,
      });
      return { action: 'stored' };
    }
    const completion = await completeWaitOnce(deps.clients, tableName, {
      deploymentId: record.deploymentId,
      taskToken: record.taskToken,
      woken: { executionId: record.executionId, signals: [signal] },
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
  }

  async function onDeploymentStateChange(event: EcsDeploymentStateChange): Promise<DeploymentEventResult> {
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
    return deliver(record, WakeSignal.deploymentEnded(eventName), {
      source: 'event',
      eventName,
      deploymentId,
      ...(reason ? { reason } : {}),
    });
  }

  async function onTaskStateChange(event: EcsTaskStateChange): Promise<DeploymentEventResult> {
    const task = event.detail;
    deps.logger.appendKeys({ taskArn: task.taskArn, eventId: event.id });
    if (task.lastStatus !== 'STOPPED') {
      deps.logger.info('Ignoring a task that has not stopped', { lastStatus: task.lastStatus });
      return { action: 'ignored' };
    }
    const clusterName = task.clusterArn.slice(task.clusterArn.lastIndexOf('/') + 1);
    const serviceName = task.group?.startsWith(SERVICE_GROUP_PREFIX)
      ? task.group.slice(SERVICE_GROUP_PREFIX.length)
      : undefined;
    const watched = Object.values(deps.environments).some(
      (env) => env.clusterName === clusterName && env.serviceName === serviceName,
    );
    if (!watched || !task.startedBy) {
      deps.logger.info('Ignoring a stopped task that no watched service started', {
        clusterName,
        group: task.group,
        startedBy: task.startedBy,
      });
      return { action: 'ignored' };
    }
    const deploymentId = task.startedBy;
    deps.logger.appendKeys({ deploymentId });
    const reason = describeTaskStop(task);
    const record = await storeTaskStop(deps.clients, tableName, {
      deploymentId,
      stop: { taskArn: task.taskArn, reason, time: task.stoppedAt ?? event.time },
      now: deps.now(),
    });
    return deliver(record, WakeSignal.taskStopped(task.taskArn), {
      source: 'event',
      eventName: TASK_STOPPED_WAKE,
      deploymentId,
      reason,
      taskArn: task.taskArn,
    });
  }

  return async (raw: unknown): Promise<DeploymentEventResult> => {
    deps.logger.resetKeys();
    const parsed = understoodEvents.safeParse(raw);
    if (!parsed.success) {
      // Thrown, not dropped: after EventBridge's retries the event lands in the dead-letter queue
      // where a person can see it.
      throw new DeploymentRejected(
        `Not an ECS Deployment State Change or ECS Task State Change event this function understands ` +
          `(${z.prettifyError(parsed.error).replace(/\n/g, ' ')}). Check the EventBridge rules that target it.`,
      );
    }
    const event = parsed.data;
    return event['detail-type'] === 'ECS Deployment State Change'
      ? onDeploymentStateChange(event)
      : onTaskStateChange(event);
  };
}

export const handler = lambdaEntry('deployment-event', createDeploymentEventHandler);
