/**
 * The focused evaluator against @cloud-copilot/iam-simulate as an oracle, on generated requests and
 * policies shaped like the synthesized template's: both must reach the same decision. iam-simulate
 * is AGPL-3.0 and a devDependency used here only; it is never part of the sandbox or a bundle.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import fc from 'fast-check';
import {
  evaluate,
  type AuthorizationRequest,
  type Caller,
  type Decision,
} from '../../../sandbox/iam/evaluate';
import type { PolicyDocument, PolicyStatement } from '../../../sandbox/iam/policy';

const ACCOUNT = '123456789012';
const OTHER_ACCOUNT = '210987654321';
const REGION = 'eu-central-1';
const ecs = `arn:aws:ecs:${REGION}:${ACCOUNT}`;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/Afu9-UpdateServiceRole`;
const SESSION_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/Afu9-UpdateServiceRole/Afu9-UpdateService`;
const ROLE: Caller = { kind: 'role', roleArn: ROLE_ARN, sessionArn: SESSION_ARN, accountId: ACCOUNT };
const TASK_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/afu9-control-center-task`;
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:Afu9-Topic`;
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const secretPrefix = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:`;

function document(...statements: PolicyStatement[]): PolicyDocument {
  return { Version: '2012-10-17', Statement: statements };
}

/** The update-service and verify-secrets grants as the stack synthesizes them, plus denies of the kinds CDK writes. */
const ROLE_POLICIES: readonly PolicyDocument[] = [
  document(
    {
      Effect: 'Allow',
      Action: 'ecs:DescribeServices',
      Resource: [`${ecs}:service/afu9-cluster/afu9-control-center`],
    },
    { Effect: 'Allow', Action: ['ecs:DescribeTaskDefinition', 'ecs:ListTaskDefinitions'], Resource: '*' },
    {
      Effect: 'Allow',
      Action: 'ecs:RegisterTaskDefinition',
      Resource: '*',
      Condition: { Null: { 'aws:RequestTag/afu9:execution-id': 'false' } },
    },
    {
      Effect: 'Allow',
      Action: 'ecs:TagResource',
      Resource: `${ecs}:task-definition/afu9-control-center:*`,
      Condition: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
    },
    {
      Effect: 'Allow',
      Action: 'ecs:UpdateService',
      Resource: [
        `${ecs}:service/afu9-cluster/afu9-control-center`,
        `${ecs}:service/afu9-cluster/afu9-control-center-staging`,
      ],
      Condition: { ArnLike: { 'ecs:task-definition': [`${ecs}:task-definition/afu9-control-center:*`] } },
    },
    {
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: TASK_ROLE_ARN,
      Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    },
    {
      Effect: 'Allow',
      Action: 'ecs:ListTasks',
      Resource: '*',
      Condition: { ArnEquals: { 'ecs:cluster': [`${ecs}:cluster/afu9-cluster`] } },
    },
    {
      Effect: 'Allow',
      Action: 'ecs:DescribeTasks',
      Resource: `${ecs}:task/afu9-cluster/*`,
      Condition: { ArnEquals: { 'ecs:cluster': [`${ecs}:cluster/afu9-cluster`] } },
    },
    {
      Effect: 'Allow',
      Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
      Resource: [`${secretPrefix}afu9/github-??????`, `${secretPrefix}afu9/database-??????`],
    },
  ),
  document(
    {
      Effect: 'Deny',
      NotAction: ['ecs:*', 'iam:PassRole', 'secretsmanager:*'],
      Resource: '*',
    },
    {
      Effect: 'Deny',
      Action: 'ecs:*',
      Resource: '*',
      Condition: { BoolIfExists: { 'aws:SecureTransport': 'false' } },
    },
    {
      Effect: 'Deny',
      Action: 'ecs:TagResource',
      Resource: '*',
      Condition: { 'ForAnyValue:StringNotLike': { 'aws:TagKeys': ['afu9:*'] } },
    },
  ),
];

type Scenario = {
  readonly caller: Caller;
  readonly request: AuthorizationRequest;
  readonly identityPolicies: readonly PolicyDocument[];
  readonly resourcePolicy?: PolicyDocument;
  readonly resourceKind?: 'default' | 'kms-key';
};

const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });
const cluster = fc.constantFrom('afu9-cluster', 'afu9-cluster-2', 'other');
const family = fc.constantFrom('afu9-control-center', 'afu9-control-centerx', 'other');
const revision = fc.integer({ min: 1, max: 120 });
const secure = optional(fc.boolean());
const withTransport = (
  context: Record<string, AuthorizationRequest['context'][string] | undefined>,
  https?: boolean,
) =>
  Object.fromEntries(
    Object.entries({ ...context, 'aws:SecureTransport': https }).filter(([, value]) => value !== undefined),
  ) as AuthorizationRequest['context'];

const roleRequest: fc.Arbitrary<AuthorizationRequest> = fc.oneof(
  fc
    .record({
      cluster,
      service: fc.constantFrom('afu9-control-center', 'afu9-control-center-staging', 'intruder'),
      family: optional(family),
      revision,
      secure,
    })
    .map(({ cluster, service, family, revision, secure }) => ({
      action: 'ecs:UpdateService',
      resource: `${ecs}:service/${cluster}/${service}`,
      context: withTransport(
        {
          'ecs:cluster': `${ecs}:cluster/${cluster}`,
          'ecs:task-definition': family ? `${ecs}:task-definition/${family}:${revision}` : undefined,
        },
        secure,
      ),
    })),
  fc
    .record({ family, revision, tags: fc.subarray(['afu9:execution-id', 'team']), secure })
    .map(({ family, revision, tags, secure }) => ({
      action: 'ecs:RegisterTaskDefinition',
      resource: `${ecs}:task-definition/${family}:${revision}`,
      context: withTransport(
        {
          ...Object.fromEntries(tags.map((key) => [`aws:RequestTag/${key}`, 'value'])),
          'aws:TagKeys': tags.length > 0 ? tags : undefined,
        },
        secure,
      ),
    })),
  fc
    .record({
      family,
      revision,
      tags: fc.subarray(['afu9:execution-id', 'team']),
      createAction: optional(fc.constantFrom('RegisterTaskDefinition', 'CreateService')),
      secure,
    })
    .map(({ family, revision, tags, createAction, secure }) => ({
      action: 'ecs:TagResource',
      resource: `${ecs}:task-definition/${family}:${revision}`,
      context: withTransport(
        { 'aws:TagKeys': tags.length > 0 ? tags : undefined, 'ecs:CreateAction': createAction },
        secure,
      ),
    })),
  fc
    .record({
      role: fc.constantFrom(TASK_ROLE_ARN, `arn:aws:iam::${ACCOUNT}:role/Admin`),
      passedTo: optional(fc.constantFrom('ecs-tasks.amazonaws.com', 'lambda.amazonaws.com')),
    })
    .map(({ role, passedTo }) => ({
      action: 'iam:PassRole',
      resource: role,
      context: withTransport({ 'iam:PassedToService': passedTo }),
    })),
  fc.record({ cluster, secure, task: fc.boolean() }).map(({ cluster, secure, task }) => ({
    action: task ? 'ecs:DescribeTasks' : 'ecs:ListTasks',
    resource: task ? `${ecs}:task/${cluster}/0123456789abcdef` : '*',
    context: withTransport({ 'ecs:cluster': `${ecs}:cluster/${cluster}` }, secure),
  })),
  fc
    .record({
      name: fc.constantFrom('afu9/github', 'afu9/github-admin', 'afu9/database'),
      suffix: fc.stringMatching(/^[A-Za-z0-9]{5,7}$/),
      action: fc.constantFrom('secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'),
    })
    .map(({ name, suffix, action }) => ({
      action,
      resource: `${secretPrefix}${name}-${suffix}`,
      context: {},
    })),
  fc.constantFrom('ecs:DescribeTaskDefinition', 'ecs:DeleteService', 'sns:Publish').map((action) => ({
    action,
    resource: action === 'sns:Publish' ? TOPIC_ARN : '*',
    context: {},
  })),
);

const TOPIC_POLICY = document(
  {
    Sid: 'AllowPublishThroughSSLOnly',
    Effect: 'Deny',
    Principal: '*',
    Action: 'sns:Publish',
    Resource: TOPIC_ARN,
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  },
  {
    Sid: 'AllowAlarms',
    Effect: 'Allow',
    Principal: { Service: 'cloudwatch.amazonaws.com' },
    Action: 'sns:Publish',
    Resource: TOPIC_ARN,
    Condition: {
      StringEquals: { 'aws:SourceAccount': ACCOUNT },
      ArnLike: { 'aws:SourceArn': `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:Afu9-*` },
    },
  },
);

const alarmDelivery: fc.Arbitrary<Scenario> = fc
  .record({
    service: fc.constantFrom('cloudwatch.amazonaws.com', 'events.amazonaws.com'),
    sourceAccount: optional(fc.constantFrom(ACCOUNT, OTHER_ACCOUNT)),
    alarm: optional(fc.constantFrom('Afu9-RollbackFailed', 'Other-Alarm')),
    secure: fc.boolean(),
  })
  .map(({ service, sourceAccount, alarm, secure }) => ({
    caller: { kind: 'service', service },
    request: {
      action: 'sns:Publish',
      resource: TOPIC_ARN,
      context: withTransport(
        {
          'aws:SourceAccount': sourceAccount,
          'aws:SourceArn': alarm ? `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${alarm}` : undefined,
        },
        secure,
      ),
    },
    identityPolicies: [],
    resourcePolicy: TOPIC_POLICY,
  }));

const KEY_POLICIES: readonly PolicyDocument[] = [
  document({
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
    Action: 'kms:*',
    Resource: '*',
  }),
  document({
    Effect: 'Allow',
    Principal: { Service: 'cloudwatch.amazonaws.com' },
    Action: 'kms:*',
    Resource: '*',
  }),
  document({
    Effect: 'Allow',
    Principal: { AWS: ROLE_ARN },
    Action: 'kms:Decrypt',
    Resource: '*',
    Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` } },
  }),
];

const keyUse: fc.Arbitrary<Scenario> = fc
  .record({
    keyPolicy: fc.constantFrom(...KEY_POLICIES),
    identity: fc.constantFrom<readonly PolicyDocument[]>(
      [],
      [document({ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: KEY_ARN })],
      [
        document({
          Effect: 'Deny',
          Action: 'kms:*',
          Resource: '*',
          Condition: { StringLike: { 'kms:ViaService': 'sns.*' } },
        }),
      ],
    ),
    action: fc.constantFrom('kms:Decrypt', 'kms:GenerateDataKey'),
    via: optional(fc.constantFrom('secretsmanager', 'sns')),
  })
  .map(({ keyPolicy, identity, action, via }) => ({
    caller: ROLE,
    request: {
      action,
      resource: KEY_ARN,
      context: withTransport({ 'kms:ViaService': via ? `${via}.${REGION}.amazonaws.com` : undefined }),
    },
    identityPolicies: identity,
    resourcePolicy: keyPolicy,
    resourceKind: 'kms-key',
  }));

const ORACLE_DECISION: Readonly<Record<string, Decision>> = {
  Allowed: 'allowed',
  ExplicitlyDenied: 'explicit-deny',
  ImplicitlyDenied: 'implicit-deny',
};

async function oracle(scenario: Scenario): Promise<Decision> {
  const { caller, request } = scenario;
  const response = await runSimulation(
    {
      request: {
        principal: caller.kind === 'role' ? caller.sessionArn : caller.service,
        action: request.action,
        resource: { resource: request.resource, accountId: ACCOUNT },
        contextVariables: Object.fromEntries(
          Object.entries(request.context).map(([key, value]) => [
            key,
            Array.isArray(value) ? value.map(String) : String(value),
          ]),
        ),
      },
      identityPolicies: scenario.identityPolicies.map((policy, index) => ({
        name: `policy-${index}`,
        policy,
      })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(scenario.resourcePolicy ? { resourcePolicy: scenario.resourcePolicy } : {}),
    },
    {},
  );
  // `wildcard`: a request on `*` for an action with resource types; its overall result still decides.
  if (response.resultType === 'error') {
    throw new Error(
      `iam-simulate could not run the scenario: ${JSON.stringify(response.errors).slice(0, 2000)}`,
    );
  }
  return ORACLE_DECISION[response.overallResult]!;
}

const RUNS = { numRuns: 150 };

describe('evaluate agrees with iam-simulate (differential, dev-only oracle)', () => {
  it('on role calls against the update-service and verify-secrets grants', async () => {
    await fc.assert(
      fc.asyncProperty(roleRequest, async (request) => {
        const scenario: Scenario = { caller: ROLE, request, identityPolicies: ROLE_POLICIES };
        expect(evaluate(scenario).decision).toBe(await oracle(scenario));
      }),
      RUNS,
    );
  });

  it('on alarm deliveries to the topic under its topic policy', async () => {
    await fc.assert(
      fc.asyncProperty(alarmDelivery, async (scenario) => {
        expect(evaluate(scenario).decision).toBe(await oracle(scenario));
      }),
      RUNS,
    );
  });

  it('on key use under key policies and identity policies', async () => {
    await fc.assert(
      fc.asyncProperty(keyUse, async (scenario) => {
        expect(evaluate(scenario).decision).toBe(await oracle(scenario));
      }),
      RUNS,
    );
  });
});
