/**
 * Alarms for what the per-deployment notifications cannot report themselves: executions that
 * failed or timed out, triggers that could not be delivered, and the notifier failing.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface OrchestratorAlarmsProps {
  readonly stateMachine: sfn.StateMachine;
  readonly deadLetterQueue: sqs.IQueue;
  readonly notifyFunction: lambda.IFunction;
  readonly topic: sns.ITopic;
}

const period = Duration.minutes(5);

export class OrchestratorAlarms extends Construct {
  readonly executionsFailed: cloudwatch.Alarm;
  readonly undeliveredTriggers: cloudwatch.Alarm;
  readonly notifyErrors: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: OrchestratorAlarmsProps) {
    super(scope, id);
    const action = new SnsAction(props.topic);

    this.executionsFailed = new cloudwatch.Alarm(this, 'ExecutionsFailed', {
      alarmDescription:
        'A deployment execution failed or timed out. Open the execution in the Step Functions console; ' +
        'the deployment notification (if it was sent) names the failed step.',
      metric: new cloudwatch.MathExpression({
        expression: 'failed + timedOut',
        label: 'Failed or timed-out executions',
        usingMetrics: {
          failed: props.stateMachine.metricFailed({ period, statistic: 'Sum' }),
          timedOut: props.stateMachine.metricTimedOut({ period, statistic: 'Sum' }),
        },
        period,
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.undeliveredTriggers = new cloudwatch.Alarm(this, 'UndeliveredTriggers', {
      alarmDescription:
        'An ECR push or ECS deployment event could not be delivered to the orchestrator. Read the ' +
        'message in the dead-letter queue and start the deployment by hand if it is still wanted.',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period,
        statistic: 'Maximum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
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
    this.notifyErrors = new cloudwatch.Alarm(this, 'NotifyErrors', {
      alarmDescription:
        'The notify function failed or could not be invoked, so a deployment outcome may not have been ' +
        'announced or recorded. Check its logs and the executions that ended in the last period.',
      metric: new cloudwatch.MathExpression({
        expression: 'errors + throttles + invokeFailed + invokeTimedOut',
        label: 'Notify failures, including invocations that never ran',
        usingMetrics: {
          errors: props.notifyFunction.metricErrors({ period, statistic: 'Sum' }),
          throttles: props.notifyFunction.metricThrottles({ period, statistic: 'Sum' }),
          invokeFailed: stepFunctionsSaw('LambdaFunctionsFailed'),
          invokeTimedOut: stepFunctionsSaw('LambdaFunctionsTimedOut'),
        },
        period,
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    for (const alarm of [this.executionsFailed, this.undeliveredTriggers, this.notifyErrors]) {
      alarm.addAlarmAction(action);
    }
  }
}
