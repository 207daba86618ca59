/**
 * Publishes one outcome notification to the orchestrator's SNS topic. The wording is decided in
 * `domain/notification.ts`; this adapter only sends it and turns SNS failures into the two errors
 * the state machine routes on: TransientAwsError (retried) and NotificationFailed.
 */
import { PublishCommand } from '@aws-sdk/client-sns';
import type { Notification } from '../domain/notification';
import { AwsErrorKind, classifyAwsError, describeAwsError } from '../domain/aws-error-kind';
import { NotificationFailed, TransientAwsError } from '../domain/errors';
import type { AwsClients } from './clients';

/** Publishes the notification; returns the SNS message id. */
export async function publishNotification(
  clients: Pick<AwsClients, 'sns'>,
  topicArn: string,
  notification: Notification,
): Promise<string> {
  try {
    const result = await clients.sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: notification.subject,
        Message: notification.message,
        MessageAttributes: {
          outcome: { DataType: 'String', StringValue: notification.attributes.outcome },
          environment: { DataType: 'String', StringValue: notification.attributes.environment },
        },
      }),
    );
    if (!result.MessageId) {
      throw new NotificationFailed(
        `SNS accepted the publish to ${topicArn} but returned no message id; check the topic's delivery status logs.`,
      );
    }
    return result.MessageId;
  } catch (error) {
    if (error instanceof NotificationFailed) throw error;
    if (classifyAwsError(error) === AwsErrorKind.transient) {
      throw new TransientAwsError(
        `SNS is throttling or failing (${describeAwsError(error)}) while publishing to ${topicArn}; the state machine retries.`,
        { cause: error },
      );
    }
    throw new NotificationFailed(
      `Publishing the "${notification.attributes.outcome}" notification to ${topicArn} failed (${describeAwsError(error)}). ` +
        'Check that the topic exists and that the notify function may sns:Publish to it (and use its KMS key).',
      { cause: error },
    );
  }
}
