/**
 * What AWS authorizes when one service delivers to another on the stack's behalf: an alarm
 * publishing to the topic, an EventBridge rule invoking a function, sending to its dead-letter
 * queue or starting the state machine through a role, Lambda handing a failed asynchronous event
 * to its on-failure destination. Each delivery is a list of checks, each with its own caller: a
 * service principal (judged by the resource policy alone) or a role (its identity policies too).
 */
import type { AuthorizationCheck, Caller } from './evaluate';
import { arnParts, type ContextValue } from './patterns';

/** A delivery named by something other than the ARNs it needs, or to a target the sandbox does not model. */
export class UnsupportedDelivery extends Error {
  override readonly name = 'UnsupportedDelivery';
}

function service(name: string): Caller {
  return { kind: 'service', service: name };
}

function part(arn: string, index: 3 | 4, what: string): string {
  const value = arnParts(arn)?.[index];
  if (!value)
    throw new Error(`${arn} is not an ARN with a ${what}; a delivery names its source and target by ARN.`);
  return value;
}

/** The confused-deputy keys a service sends for its own resource (the alarm, the rule). */
function source(sourceArn: string): Record<string, ContextValue> {
  return { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': part(sourceArn, 4, 'account') };
}

const HTTPS: Record<string, ContextValue> = { 'aws:SecureTransport': true };

/**
 * The data key an encrypted topic or queue needs from its key, asked by `via` on the caller's
 * behalf. `sourceKeys` are sent only by services that send them to KMS: CloudWatch does; EventBridge
 * does not (AWS documents that `aws:SourceArn`/`aws:SourceAccount` do not work in a key policy for
 * EventBridge delivery).
 */
function dataKey(
  caller: Caller,
  keyArn: string,
  via: 'sns' | 'sqs',
  sourceKeys: Record<string, ContextValue>,
): AuthorizationCheck[] {
  const region = part(keyArn, 3, 'region');
  const context = { ...HTTPS, ...sourceKeys, 'kms:ViaService': `${via}.${region}.amazonaws.com` };
  return (['kms:GenerateDataKey', 'kms:Decrypt'] as const).map((action) => ({
    caller,
    request: { action, resource: keyArn, context },
  }));
}

/** A CloudWatch alarm publishing its state change to an SNS topic (encrypted when `topicKmsKeyArn`). */
export function alarmNotification(input: {
  readonly alarmArn: string;
  readonly topicArn: string;
  readonly topicKmsKeyArn?: string;
}): AuthorizationCheck[] {
  const cloudwatch = service('cloudwatch.amazonaws.com');
  const keys = source(input.alarmArn);
  return [
    {
      caller: cloudwatch,
      request: { action: 'sns:Publish', resource: input.topicArn, context: { ...HTTPS, ...keys } },
    },
    ...(input.topicKmsKeyArn ? dataKey(cloudwatch, input.topicKmsKeyArn, 'sns', keys) : []),
  ];
}

/** An EventBridge rule invoking a Lambda function (asynchronously), allowed by the function's policy. */
export function ruleInvokesFunction(input: {
  readonly ruleArn: string;
  readonly functionArn: string;
}): AuthorizationCheck[] {
  return [
    {
      caller: service('events.amazonaws.com'),
      request: {
        action: 'lambda:InvokeFunction',
        resource: input.functionArn,
        context: { ...HTTPS, ...source(input.ruleArn) },
      },
    },
  ];
}

/** An EventBridge rule sending an event to an SQS queue: a target, or a target's dead-letter queue. */
export function ruleSendsToQueue(input: {
  readonly ruleArn: string;
  readonly queueArn: string;
  readonly queueKmsKeyArn?: string;
}): AuthorizationCheck[] {
  const events = service('events.amazonaws.com');
  return [
    {
      caller: events,
      request: {
        action: 'sqs:SendMessage',
        resource: input.queueArn,
        context: { ...HTTPS, ...source(input.ruleArn) },
      },
    },
    ...(input.queueKmsKeyArn ? dataKey(events, input.queueKmsKeyArn, 'sqs', {}) : []),
  ];
}

/** An EventBridge rule publishing to an SNS topic. */
export function rulePublishesToTopic(input: {
  readonly ruleArn: string;
  readonly topicArn: string;
  readonly topicKmsKeyArn?: string;
}): AuthorizationCheck[] {
  const events = service('events.amazonaws.com');
  return [
    {
      caller: events,
      request: {
        action: 'sns:Publish',
        resource: input.topicArn,
        context: { ...HTTPS, ...source(input.ruleArn) },
      },
    },
    ...(input.topicKmsKeyArn ? dataKey(events, input.topicKmsKeyArn, 'sns', {}) : []),
  ];
}

/**
 * An EventBridge rule starting a Step Functions execution through its target role: EventBridge
 * assumes the role (its trust policy decides), then the role starts the execution.
 */
export function ruleStartsExecution(input: {
  readonly ruleArn: string;
  readonly roleArn: string;
  readonly roleSessionArn: string;
  readonly stateMachineArn: string;
}): AuthorizationCheck[] {
  const account = part(input.ruleArn, 4, 'account');
  return [
    {
      caller: service('events.amazonaws.com'),
      request: {
        action: 'sts:AssumeRole',
        resource: input.roleArn,
        context: { ...HTTPS, ...source(input.ruleArn) },
      },
    },
    {
      caller: { kind: 'role', roleArn: input.roleArn, sessionArn: input.roleSessionArn, accountId: account },
      request: { action: 'states:StartExecution', resource: input.stateMachineArn, context: HTTPS },
    },
  ];
}

/**
 * Lambda handing an asynchronous event that failed every attempt to the function's on-failure
 * destination. Lambda sends with the function's execution role, so its identity policies decide
 * (with the queue's or topic's policy and key policy).
 */
export function onFailureDestination(input: {
  readonly functionRole: Extract<Caller, { kind: 'role' }>;
  readonly destinationArn: string;
  readonly destinationKmsKeyArn?: string;
}): AuthorizationCheck[] {
  const kind = arnParts(input.destinationArn)?.[2];
  if (kind !== 'sqs' && kind !== 'sns') {
    throw new UnsupportedDelivery(
      `The on-failure destination ${input.destinationArn} is neither an SQS queue nor an SNS topic; the sandbox models those two.`,
    );
  }
  return [
    {
      caller: input.functionRole,
      request: {
        action: kind === 'sqs' ? 'sqs:SendMessage' : 'sns:Publish',
        resource: input.destinationArn,
        context: HTTPS,
      },
    },
    ...(input.destinationKmsKeyArn ? dataKey(input.functionRole, input.destinationKmsKeyArn, kind, {}) : []),
  ];
}
