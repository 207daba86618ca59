/**
 * Alarms for what needs a person and what the per-deployment notifications cannot report themselves.
 * Routine outcomes (rejected, blocked, refused, rolled back) end executions in `Fail` states and are
 * announced by the notify function, so `ExecutionsFailed` is not watched; a failed rollback is a
 * critical notification of its own. Every alarm has an explicit name, so the topic and key policies
 * can let CloudWatch publish exactly these alarms (see NotificationTopic.allowAlarmsToPublish).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { AsyncInvocationFailures } from './async-invocation-failures';
import type { NotificationTopic } from './notification-topic';

export interface OrchestratorAlarmsProps {
  readonly stateMachine: sfn.StateMachine;
  /** The rules that start and wake executions; their failed deliveries raise an alarm. */
  readonly rules: readonly events.IRule[];
  /** Where the rules' targets park what they could not deliver. */
  readonly deadLetterQueue: sqs.IQueue;
  readonly notifyFunction: lambda.IFunction;
  /** The functions invoked asynchronously, each with its on-failure queue. */
  readonly asyncFailures: readonly AsyncInvocationFailures[];
  readonly notifications: NotificationTopic;
}

const period = Duration.minutes(5);
/** CloudWatch's limit on the metrics one alarm's math expression may use. */
const MAX_ALARM_METRICS = 10;

export class OrchestratorAlarms extends Construct {
  readonly executionsTimedOut: cloudwatch.Alarm;
  readonly executionsAborted: cloudwatch.Alarm;
  readonly notifyErrors: cloudwatch.Alarm;
  readonly triggerDeliveryFailed: cloudwatch.Alarm;
  private readonly created: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: OrchestratorAlarmsProps) {
    super(scope, id);

    this.executionsTimedOut = this.alarm('ExecutionsTimedOut', {
      alarmDescription:
        'A deployment execution reached the state machine timeout. Every stage has its own shorter limit, so this ' +
        'is a bug or an AWS outage: open the execution in the Step Functions console, see which state it was in, ' +
        'and check the service (aws ecs describe-services) before starting anything again.',
      metric: props.stateMachine.metricTimedOut({ period, statistic: 'Sum' }),
    });

    this.executionsAborted = this.alarm('ExecutionsAborted', {
      alarmDescription:
        'A deployment execution was stopped (StopExecution) before it finished, so no notification was sent and its ' +
        'ledger record stays open until the next deployment takes the lock over. Find out who stopped it, check the ' +
        'service, and redo the deployment if it is still wanted.',
      metric: props.stateMachine.metricAborted({ period, statistic: 'Sum' }),
    });

    // Lambda's own Errors only count runs that started. Step Functions also counts the invocations that
    // never ran the function (throttled, a Lambda service error on every retry, a timeout): then no
    // message went out and no record was finished, and only these metrics say so.
    const stepFunctionsSaw = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/States',
        metricName,
        dimensionsMap: { LambdaFunctionArn: props.notifyFunction.functionArn },
        period,
        statistic: 'Sum',
      });
    this.notifyErrors = this.alarm('NotifyErrors', {
      alarmDescription:
        'The notify function failed or could not be invoked, so a deployment outcome may not have been ' +
        'announced or recorded. Check its logs and the executions that ended in the last period.',
      metric: new cloudwatch.MathExpression({
        expression: sumOfFilled(['errors', 'throttles', 'invokeFailed', 'invokeTimedOut']),
        label: 'Notify failures, including invocations that never ran',
        usingMetrics: {
          errors: props.notifyFunction.metricErrors({ period, statistic: 'Sum' }),
          throttles: props.notifyFunction.metricThrottles({ period, statistic: 'Sum' }),
          invokeFailed: stepFunctionsSaw('LambdaFunctionsFailed'),
          invokeTimedOut: stepFunctionsSaw('LambdaFunctionsTimedOut'),
        },
        period,
      }),
    });

    this.triggerDeliveryFailed = this.alarm('TriggerDeliveryFailed', {
      alarmDescription:
        'EventBridge gave up delivering an ECR push or ECS event to its target (FailedInvocations), or could not ' +
        'park it in the dead-letter queue (InvocationsFailedToBeSentToDlq). If UndeliveredTriggers fired too, the ' +
        'event waits in the dead-letter queue; otherwise it is gone: the metrics name the rule, start or check the ' +
        'deployment by hand.',
      metric: failedDeliveries(props.rules),
    });

    this.queueAlarms(
      'UndeliveredTriggers',
      props.deadLetterQueue,
      'An ECR push or ECS event could not be delivered to the orchestrator and waits in the trigger dead-letter ' +
        'queue. Read the message (its attributes name the rule and the error), start the deployment by hand if it is ' +
        'still wanted, then delete the message.',
    );

    for (const failures of props.asyncFailures) {
      const name = failures.function.node.id;
      this.alarm(`${name}Errors`, {
        alarmDescription:
          `The ${failures.function.node.id} function failed on an event it was invoked with asynchronously, or Lambda ` +
          'could not park a failed event. Lambda retries twice; read the function logs for the error.',
        metric: new cloudwatch.MathExpression({
          expression: sumOfFilled(['errors', 'destinationDeliveryFailures']),
          label: 'Function errors and records Lambda could not park',
          usingMetrics: {
            errors: failures.function.metricErrors({ period, statistic: 'Sum' }),
            destinationDeliveryFailures: failures.function.metric('DestinationDeliveryFailures', {
              period,
              statistic: 'Sum',
            }),
          },
          period,
        }),
      });
      this.queueAlarms(
        `${name}OnFailure`,
        failures.queue,
        `An event the ${failures.function.node.id} function failed on after Lambda's retries (or that grew too old) ` +
          'waits in its on-failure queue. The record holds the event, the error and the attempts; fix the cause, then ' +
          'redrive it (docs/stack.md) or delete it.',
      );
    }

    const action = new SnsAction(props.notifications.topic);
    for (const alarm of this.created) alarm.addAlarmAction(action);
    props.notifications.allowAlarmsToPublish(this.created.map((alarm) => alarmNameOf(this, alarm.node.id)));
  }

  /** Every alarm of the stack; each notifies the topic. */
  get all(): readonly cloudwatch.Alarm[] {
    return this.created;
  }

  /**
   * Two alarms per queue. `<name>` is in alarm while a message waits, and notifies once when that
   * begins. `<name>Arrived` notifies again for every later arrival: it counts messages sent to the queue
   * per minute, so a minute without a new message returns it to OK (SQS reports a zero for an active
   * queue; a missing point is treated as OK too), and the next message is a new OK → ALARM transition,
   * which is what sends a notification. A queue already in alarm thus still reports new failures.
   */
  private queueAlarms(name: string, queue: sqs.IQueue, description: string): void {
    this.alarm(name, {
      alarmDescription: description,
      metric: queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
    });
    this.alarm(`${name}Arrived`, {
      alarmDescription: `New messages arrived (again) in the queue of alarm ${alarmNameOf(this, name)}. ${description}`,
      metric: queue.metricNumberOfMessagesSent({ period: Duration.minutes(1), statistic: 'Sum' }),
    });
  }

  private alarm(
    id: string,
    props: Pick<cloudwatch.AlarmProps, 'alarmDescription' | 'metric'>,
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      ...props,
      alarmName: alarmNameOf(this, id),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // Several of these metrics are only published when non-zero.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.created.push(alarm);
    return alarm;
  }
}

/** `<stack name>-<alarm id>`: unique in the account and region, as the stack name is. */
function alarmNameOf(scope: Construct, id: string): string {
  return `${Stack.of(scope).stackName}-${id}`;
}

/**
 * The sum of metrics, each read as 0 where it has no datapoint. These metrics are published only when
 * something happened, and a metric-math sum has no value at a time one of its terms lacks one: without
 * FILL an error next to a quiet metric would never reach the threshold.
 */
function sumOfFilled(ids: readonly string[]): string {
  return ids.map((id) => `FILL(${id}, 0)`).join(' + ');
}

/**
 * Deliveries EventBridge gave up on, summed over the rules: FailedInvocations (failed for good after
 * the retries) and InvocationsFailedToBeSentToDlq (not even parked). Both are published only when
 * not zero.
 */
function failedDeliveries(rules: readonly events.IRule[]): cloudwatch.MathExpression {
  const usingMetrics: Record<string, cloudwatch.IMetric> = {};
  rules.forEach((rule, index) => {
    for (const [key, metricName] of [
      ['failed', 'FailedInvocations'],
      ['notParked', 'InvocationsFailedToBeSentToDlq'],
    ] as const) {
      usingMetrics[`${key}${index}`] = new cloudwatch.Metric({
        namespace: 'AWS/Events',
        metricName,
        dimensionsMap: { RuleName: rule.ruleName },
        period,
        statistic: 'Sum',
      });
    }
  });
  const ids = Object.keys(usingMetrics);
  if (ids.length > MAX_ALARM_METRICS) {
    throw new Error(
      `One alarm can watch at most ${MAX_ALARM_METRICS} metrics, i.e. ${MAX_ALARM_METRICS / 2} rules. ` +
        `Received: ${rules.length} rules; split the TriggerDeliveryFailed alarm.`,
    );
  }
  return new cloudwatch.MathExpression({
    expression: sumOfFilled(ids),
    label: 'Trigger events EventBridge could not deliver, or not park',
    usingMetrics,
    period,
  });
}
