import { authorizeAll, type PolicySource } from '../../../sandbox/iam/authorize';
import {
  UnsupportedDelivery,
  alarmNotification,
  onFailureDestination,
  ruleInvokesFunction,
  rulePublishesToTopic,
  ruleSendsToQueue,
  ruleStartsExecution,
} from '../../../sandbox/iam/deliveries';
import type { Caller } from '../../../sandbox/iam/evaluate';
import type { PolicyDocument, PolicyStatement } from '../../../sandbox/iam/policy';
import { policiesFromTemplate } from '../../../sandbox/iam/template-policies';
import { ACCOUNT, REGION } from './command-cases';
import {
  FUNCTION_ARN,
  KEY_ARN,
  OTHER_RULE_ARN,
  QUEUE_ARN,
  RULE_ARN,
  STATE_MACHINE_ARN,
  TOPIC_ARN,
  resolve,
  template,
} from './template-fixture';

const ALARM_ARN = `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:Afu9-RollbackFailed`;
const EVENTS_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/Afu9-StateMachineEventsRole`;
const FUNCTION_ROLE: Extract<Caller, { kind: 'role' }> = {
  kind: 'role',
  roleArn: `arn:aws:iam::${ACCOUNT}:role/Afu9-DeploymentEventRole`,
  sessionArn: `arn:aws:sts::${ACCOUNT}:assumed-role/Afu9-DeploymentEventRole/Afu9-DeploymentEvent`,
  accountId: ACCOUNT,
};
const ON_FAILURE_QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:Afu9-OnFailure`;

const fromTemplate = policiesFromTemplate(template, resolve);
/** The sandbox account's names for the template's logical ids. */
const LOGICAL_IDS: Readonly<Record<string, string>> = {
  [TOPIC_ARN]: 'Topic',
  [KEY_ARN]: 'Key',
  [QUEUE_ARN]: 'DeadLetters',
  [FUNCTION_ARN]: 'DeploymentEventFunction',
  [EVENTS_ROLE_ARN]: 'StateMachineEventsRole',
};

function account(
  overrides: {
    topicPolicy?: PolicyDocument;
    roles?: Readonly<Record<string, readonly PolicyDocument[]>>;
  } = {},
): PolicySource {
  return {
    identityPolicies: (roleArn) =>
      overrides.roles?.[roleArn] ??
      (roleArn === EVENTS_ROLE_ARN
        ? (fromTemplate.identityPolicies.get('StateMachineEventsRole') ?? [])
        : []),
    resourcePolicy: (resourceArn) => {
      if (resourceArn === TOPIC_ARN && overrides.topicPolicy) return overrides.topicPolicy;
      const id = LOGICAL_IDS[resourceArn];
      if (!id) return undefined;
      return id === 'StateMachineEventsRole'
        ? fromTemplate.trustPolicies.get(id)
        : fromTemplate.resourcePolicies.get(id);
    },
  };
}

const alarmsMayPublish: PolicyStatement = {
  Sid: 'AllowAlarms',
  Effect: 'Allow',
  Principal: { Service: 'cloudwatch.amazonaws.com' },
  Action: 'sns:Publish',
  Resource: TOPIC_ARN,
  Condition: {
    StringEquals: { 'aws:SourceAccount': ACCOUNT },
    ArnLike: { 'aws:SourceArn': `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:Afu9-*` },
  },
};

describe('deliveries under the template policies', () => {
  it('refuses an alarm notification when the topic policy holds only the enforceSSL deny', () => {
    const result = authorizeAll(
      alarmNotification({ alarmArn: ALARM_ARN, topicArn: TOPIC_ARN, topicKmsKeyArn: KEY_ARN }),
      account(),
    );
    expect(result).toMatchObject({
      allowed: false,
      check: {
        caller: { kind: 'service', service: 'cloudwatch.amazonaws.com' },
        request: { action: 'sns:Publish' },
      },
      reason: 'no resource-based policy allows the sns:Publish action',
    });
  });

  it("delivers an alarm notification once the topic policy allows this stack's alarms, key included", () => {
    const topicPolicy = { ...(fromTemplate.resourcePolicies.get('Topic') as PolicyDocument) };
    const withAlarms: PolicyDocument = {
      ...topicPolicy,
      Statement: [...(topicPolicy.Statement as PolicyStatement[]), alarmsMayPublish],
    };
    const checks = alarmNotification({ alarmArn: ALARM_ARN, topicArn: TOPIC_ARN, topicKmsKeyArn: KEY_ARN });
    expect(checks.map((c) => c.request.action)).toEqual([
      'sns:Publish',
      'kms:GenerateDataKey',
      'kms:Decrypt',
    ]);
    expect(authorizeAll(checks, account({ topicPolicy: withAlarms }))).toEqual({ allowed: true });
    // Someone else's alarm in the same account is still refused.
    const foreign = alarmNotification({
      alarmArn: `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:SomeoneElse`,
      topicArn: TOPIC_ARN,
    });
    expect(authorizeAll(foreign, account({ topicPolicy: withAlarms })).allowed).toBe(false);
  });

  it("refuses EventBridge's data key for the encrypted topic when the key policy conditions on aws:SourceAccount", () => {
    // EventBridge sends no aws:Source* keys to KMS, so this key-policy statement never matches.
    const everyone: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sns:Publish',
          Resource: TOPIC_ARN,
        },
      ],
    };
    const result = authorizeAll(
      rulePublishesToTopic({ ruleArn: RULE_ARN, topicArn: TOPIC_ARN, topicKmsKeyArn: KEY_ARN }),
      account({ topicPolicy: everyone }),
    );
    expect(result).toMatchObject({
      allowed: false,
      check: { request: { action: 'kms:GenerateDataKey', resource: KEY_ARN } },
      reason: 'no resource-based policy allows the kms:GenerateDataKey action',
    });
  });

  it('invokes the function for the rules its Lambda permissions name, and only those', () => {
    expect(
      authorizeAll(ruleInvokesFunction({ ruleArn: RULE_ARN, functionArn: FUNCTION_ARN }), account()),
    ).toEqual({
      allowed: true,
    });
    const stranger = `arn:aws:events:${REGION}:${ACCOUNT}:rule/SomeoneElse`;
    expect(
      authorizeAll(ruleInvokesFunction({ ruleArn: stranger, functionArn: FUNCTION_ARN }), account()),
    ).toMatchObject({
      allowed: false,
      reason: 'no resource-based policy allows the lambda:InvokeFunction action',
    });
  });

  it('parks an undeliverable event in the dead-letter queue only for the rule its queue policy names', () => {
    expect(authorizeAll(ruleSendsToQueue({ ruleArn: RULE_ARN, queueArn: QUEUE_ARN }), account())).toEqual({
      allowed: true,
    });
    expect(
      authorizeAll(ruleSendsToQueue({ ruleArn: OTHER_RULE_ARN, queueArn: QUEUE_ARN }), account()).allowed,
    ).toBe(false);
  });

  it('starts the state machine through the rule role: the trust policy, then the role policy', () => {
    const checks = ruleStartsExecution({
      ruleArn: RULE_ARN,
      roleArn: EVENTS_ROLE_ARN,
      roleSessionArn: `arn:aws:sts::${ACCOUNT}:assumed-role/Afu9-StateMachineEventsRole/events`,
      stateMachineArn: STATE_MACHINE_ARN,
    });
    expect(checks.map((c) => c.request.action)).toEqual(['sts:AssumeRole', 'states:StartExecution']);
    expect(authorizeAll(checks, account())).toEqual({ allowed: true });
    expect(authorizeAll(checks, account({ roles: { [EVENTS_ROLE_ARN]: [] } }))).toMatchObject({
      allowed: false,
      reason: 'no identity-based policy allows the states:StartExecution action',
    });
  });

  it("hands a failed asynchronous event to the on-failure queue with the function's own role", () => {
    const checks = onFailureDestination({
      functionRole: FUNCTION_ROLE,
      destinationArn: ON_FAILURE_QUEUE_ARN,
    });
    expect(authorizeAll(checks, account())).toMatchObject({
      allowed: false,
      reason: 'no identity-based policy allows the sqs:SendMessage action',
    });
    const mayDeliver: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: ON_FAILURE_QUEUE_ARN }],
    };
    expect(authorizeAll(checks, account({ roles: { [FUNCTION_ROLE.roleArn]: [mayDeliver] } }))).toEqual({
      allowed: true,
    });
  });

  it('refuses to model a destination that is neither a queue nor a topic', () => {
    expect(() =>
      onFailureDestination({
        functionRole: FUNCTION_ROLE,
        destinationArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:x`,
      }),
    ).toThrow(UnsupportedDelivery);
  });
});
