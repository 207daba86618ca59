/**
 * What happens to an event a function invoked asynchronously (by EventBridge) could not process.
 * EventBridge's retries and dead-letter queue cover only the delivery: once Lambda has accepted the
 * event, EventBridge is done. Lambda then runs the function, retries a function error twice, and
 * without a destination drops the event. This construct states those rules in the template and
 * parks every event that exhausts them in an encrypted queue, where an alarm sees it and a person
 * can redrive it.
 */
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeRule } from './nag';

/** Lambda's own retries of a function error in an asynchronous invocation (AWS allows 0 to 2). */
export const ASYNC_RETRY_ATTEMPTS = 2;

export interface AsyncInvocationFailuresProps {
  /** The function invoked asynchronously. */
  readonly function: lambda.IFunction;
  /**
   * How long Lambda keeps an event it could not yet run (throttling, retries) before it parks it.
   * Between 1 minute and 6 hours.
   */
  readonly maxEventAge: Duration;
}

export class AsyncInvocationFailures extends Construct {
  readonly function: lambda.IFunction;
  /** Lambda's on-failure destination: one record per event, with the request, the error and the attempts. */
  readonly queue: sqs.Queue;

  constructor(scope: Construct, id: string, props: AsyncInvocationFailuresProps) {
    super(scope, id);
    const ageSeconds = props.maxEventAge.toSeconds();
    if (ageSeconds < 60 || ageSeconds > 6 * 3600) {
      throw new Error(
        `maxEventAge must be between 1 minute and 6 hours (Lambda's limits). Received: ${props.maxEventAge.toHumanString()}.`,
      );
    }
    this.function = props.function;

    this.queue = new sqs.Queue(this, 'Queue', {
      // SQS-managed encryption: Lambda sends with the function's role, which then needs no key grant.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeRule(
      this.queue,
      'SQS3',
      "This queue is itself the on-failure destination of a function's asynchronous invocations; nothing " +
        'consumes it automatically, so a queue behind it would only move the same records again. Alarms watch it.',
    );

    // The destination grants the function's role sqs:SendMessage on the queue: Lambda sends the
    // record with the execution role.
    props.function.configureAsyncInvoke({
      onFailure: new SqsDestination(this.queue),
      retryAttempts: ASYNC_RETRY_ATTEMPTS,
      maxEventAge: props.maxEventAge,
    });
  }
}
