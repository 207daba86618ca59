/**
 * The CloudWatch metrics the services publish about the run, by namespace: what Step Functions and
 * Lambda count for a failed Task attempt, and the ids of the Lambda, Step Functions, EventBridge and
 * SQS metrics the stack's alarms read.
 */
import type { MetricId } from './cloudwatch';
import type { AslState, StateRecord } from './execution';

/** Errors Step Functions reports when the Lambda service, not the function, failed the invoke. */
const LAMBDA_SERVICE_ERRORS = new Set([
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
]);

/** What Step Functions and Lambda count for each failed attempt of a Task state that invokes a function. */
export function taskMetrics(
  record: StateRecord,
  state: AslState | undefined,
  functionNameOf: (functionArn: string) => string | undefined,
): { metric: MetricId; atMs: number }[] {
  const resource = state?.Resource ?? '';
  if (!resource.startsWith('arn:aws:lambda:')) return [];
  const functionName = functionNameOf(resource);
  return record.invocations.flatMap((invocation) => {
    const error = invocation.error?.Error;
    if (error === undefined) return [];
    const atMs = invocation.endMs;
    if (error === 'States.Timeout') {
      return [{ metric: statesMetric('LambdaFunctionsTimedOut', resource), atMs }];
    }
    const failed = { metric: statesMetric('LambdaFunctionsFailed', resource), atMs };
    // A function error (its code threw, or it timed out) also counts in the function's own Errors.
    return LAMBDA_SERVICE_ERRORS.has(error) || functionName === undefined
      ? [failed]
      : [failed, { metric: lambdaMetric('Errors', functionName), atMs }];
  });
}

export function lambdaMetric(metricName: string, functionName: string): MetricId {
  return { namespace: 'AWS/Lambda', metricName, dimensions: { FunctionName: functionName } };
}

export function statesMetric(metricName: string, functionArn: string): MetricId {
  return { namespace: 'AWS/States', metricName, dimensions: { LambdaFunctionArn: functionArn } };
}

export function eventsMetric(metricName: string, ruleName: string): MetricId {
  return { namespace: 'AWS/Events', metricName, dimensions: { RuleName: ruleName } };
}

export function sqsMetric(metricName: string, queueName: string): MetricId {
  return { namespace: 'AWS/SQS', metricName, dimensions: { QueueName: queueName } };
}
