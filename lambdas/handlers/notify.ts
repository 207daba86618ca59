/**
 * Notify*: publishes the one SNS message an execution ends with. The state machine calls it from
 * every terminal path with the whole state; a notification failure never changes that path's
 * terminal state (the ASL's Catch sees to it), it only fails this step.
 */
import { publishNotification } from '../aws/notifier';
import { composeNotification } from '../domain/notification';
import type { NotificationResult, Outcome } from '../domain/workflow-state';
import { lambdaEntry, type HandlerDeps } from './runtime';

export interface NotifyEvent {
  /** `$$.Execution.Id`: the execution ARN, linked from the message. */
  readonly executionId: string;
  readonly outcome: Outcome;
  /** The whole state (`$`); any slot may be missing. */
  readonly state: unknown;
  /** `$$.Execution.StartTime`; without it the duration counts from the service update. */
  readonly startedAt?: string;
}

export function createNotifyHandler(deps: HandlerDeps) {
  return async (event: NotifyEvent): Promise<NotificationResult> => {
    deps.logger.resetKeys();
    deps.logger.appendKeys({ executionId: event.executionId });
    const notification = composeNotification({
      outcome: event.outcome,
      executionId: event.executionId,
      state: event.state,
      ...(event.startedAt !== undefined && { startedAt: event.startedAt }),
      now: deps.now(),
      region: deps.settings.region,
    });
    const messageId = await publishNotification(deps.clients, deps.settings.topicArn, notification);
    deps.logger.info('Notification published', {
      outcome: event.outcome,
      environment: notification.attributes.environment,
      subject: notification.subject,
      messageId,
    });
    return { messageId, subject: notification.subject };
  };
}

export const handler = lambdaEntry('notify', createNotifyHandler);
