import { UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { evaluate, type Caller } from '../../../sandbox/iam/evaluate';
import { UnsupportedPolicy } from '../../../sandbox/iam/policy';
import { accessDeniedError, authorizationRequestsFor } from '../../../sandbox/iam/sdk-authorization';
import { policiesFromTemplate, type IntrinsicResolver } from '../../../sandbox/iam/template-policies';
import { ACCOUNT, REGION, SERVICE_ARN, lookups } from './command-cases';

const join = (...parts: unknown[]) => ({ 'Fn::Join': ['', parts] });
const arn = (service: string, resource: string) =>
  join(
    'arn:',
    { Ref: 'AWS::Partition' },
    `:${service}:${REGION}:`,
    { Ref: 'AWS::AccountId' },
    `:${resource}`,
  );

const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Afu9-DeploymentEvent`;
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:Afu9-Topic`;
const RULE_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:rule/Afu9-TaskStopped`;
const OTHER_RULE_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:rule/Afu9-DeploymentEnded`;

/** Shaped as `cdk synth` writes the orchestrator stack (trimmed to what the policies need). */
const template = {
  Resources: {
    Key: {
      Type: 'AWS::KMS::Key',
      Properties: {
        KeyPolicy: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: {
                AWS: join('arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root'),
              },
              Action: 'kms:*',
              Resource: '*',
            },
          ],
        },
      },
    },
    Topic: { Type: 'AWS::SNS::Topic', Properties: { KmsMasterKeyId: { 'Fn::GetAtt': ['Key', 'Arn'] } } },
    TopicPolicy: {
      Type: 'AWS::SNS::TopicPolicy',
      Properties: {
        Topics: [{ Ref: 'Topic' }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'AllowPublishThroughSSLOnly',
              Effect: 'Deny',
              Principal: '*',
              Action: 'sns:Publish',
              Resource: { Ref: 'Topic' },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ],
        },
      },
    },
    DeadLetters: { Type: 'AWS::SQS::Queue' },
    DeadLettersPolicy: {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: [{ Ref: 'DeadLetters' }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Resource: { 'Fn::GetAtt': ['DeadLetters', 'Arn'] },
              Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['TaskStopped', 'Arn'] } } },
            },
          ],
        },
      },
    },
    TaskStopped: { Type: 'AWS::Events::Rule' },
    DeploymentEnded: { Type: 'AWS::Events::Rule' },
    DeploymentEventFunction: { Type: 'AWS::Lambda::Function' },
    TaskStoppedPermission: {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': ['DeploymentEventFunction', 'Arn'] },
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': ['TaskStopped', 'Arn'] },
      },
    },
    DeploymentEndedPermission: {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: { Ref: 'DeploymentEventFunction' },
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': ['DeploymentEnded', 'Arn'] },
      },
    },
    UpdateServiceRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        },
        Policies: [
          {
            PolicyName: 'Inline',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Action: 'ecs:DescribeServices',
                  Resource: arn('ecs', 'service/afu9-cluster/*'),
                },
              ],
            },
          },
        ],
        ManagedPolicyArns: [
          { Ref: 'SharedManagedPolicy' },
          join(
            'arn:',
            { Ref: 'AWS::Partition' },
            ':iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
          ),
        ],
      },
    },
    UpdateServiceRoleDefaultPolicy: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        PolicyName: 'UpdateServiceRoleDefaultPolicy',
        Roles: [{ Ref: 'UpdateServiceRole' }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'ecs:UpdateService',
              Resource: arn('ecs', 'service/afu9-cluster/afu9-control-center'),
              Condition: {
                ArnLike: { 'ecs:task-definition': [arn('ecs', 'task-definition/afu9-control-center:*')] },
              },
            },
          ],
        },
      },
    },
    SharedManagedPolicy: {
      Type: 'AWS::IAM::ManagedPolicy',
      Properties: {
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'ecs:ListTaskDefinitions', Resource: '*' }],
        },
      },
    },
    RollbackRole: { Type: 'AWS::IAM::Role', Properties: {} },
    AttachedThroughRoles: {
      Type: 'AWS::IAM::ManagedPolicy',
      Properties: {
        Roles: [{ Ref: 'RollbackRole' }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'ecs:DescribeTaskDefinition', Resource: '*' }],
        },
      },
    },
  },
};

/** What the sandbox account answers for the intrinsics above. */
const values: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws',
  'AWS::AccountId': ACCOUNT,
  Topic: TOPIC_ARN,
  DeadLetters: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/Afu9-DeadLetters`,
  'DeadLetters.Arn': `arn:aws:sqs:${REGION}:${ACCOUNT}:Afu9-DeadLetters`,
  'TaskStopped.Arn': RULE_ARN,
  'DeploymentEnded.Arn': OTHER_RULE_ARN,
  DeploymentEventFunction: 'Afu9-DeploymentEvent',
  'DeploymentEventFunction.Arn': FUNCTION_ARN,
  'Key.Arn': `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
  SharedManagedPolicy: `arn:aws:iam::${ACCOUNT}:policy/SharedManagedPolicy`,
  UpdateServiceRole: 'Afu9-UpdateServiceRole',
  RollbackRole: 'Afu9-RollbackRole',
};

const resolve: IntrinsicResolver = (intrinsic) => {
  if (typeof intrinsic.Ref === 'string') return values[intrinsic.Ref]!;
  const getAtt = intrinsic['Fn::GetAtt'] as [string, string] | undefined;
  if (getAtt) return values[`${getAtt[0]}.${getAtt[1]}`]!;
  const [separator, parts] = intrinsic['Fn::Join'] as [string, unknown[]];
  return parts
    .map((part) => (typeof part === 'string' ? part : resolve(part as Record<string, unknown>)))
    .join(separator);
};

const SESSION_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/Afu9-UpdateServiceRole/Afu9-UpdateService`;
const ROLE: Caller = {
  kind: 'role',
  roleArn: `arn:aws:iam::${ACCOUNT}:role/Afu9-UpdateServiceRole`,
  sessionArn: SESSION_ARN,
  accountId: ACCOUNT,
};

describe('policiesFromTemplate', () => {
  const policies = policiesFromTemplate(template, resolve);

  it("gathers a role's inline, attached and managed policies under its logical id, intrinsics resolved", () => {
    const documents = policies.identityPolicies.get('UpdateServiceRole') ?? [];
    const actions = documents
      .flatMap((d) => (Array.isArray(d.Statement) ? d.Statement : [d.Statement]))
      .map((s) => s.Action);
    expect(actions.sort()).toEqual(['ecs:DescribeServices', 'ecs:ListTaskDefinitions', 'ecs:UpdateService']);
    expect(JSON.stringify(documents)).not.toMatch(/Fn::|"Ref"/);
    expect(policies.identityPolicies.get('RollbackRole')).toHaveLength(1);
  });

  it('reports managed policies the template does not define instead of guessing their content', () => {
    expect(policies.externalManagedPolicies.get('UpdateServiceRole')).toEqual([
      'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
    ]);
  });

  it('authorizes the update-service call its grant covers, and denies it in AWS words once the grant is gone', () => {
    const command = new UpdateServiceCommand({
      cluster: 'afu9-cluster',
      service: 'afu9-control-center',
      taskDefinition: 'afu9-control-center:42',
    });
    const [request] = authorizationRequestsFor(command, lookups);
    const identityPolicies = policies.identityPolicies.get('UpdateServiceRole')!;
    expect(evaluate({ caller: ROLE, request: request!, identityPolicies }).decision).toBe('allowed');

    const withoutGrant = identityPolicies.filter((d) => !JSON.stringify(d).includes('ecs:UpdateService'));
    const denied = evaluate({ caller: ROLE, request: request!, identityPolicies: withoutGrant });
    expect(accessDeniedError('com.amazonaws.ecs', SESSION_ARN, request!, denied.reason)).toMatchObject({
      name: 'AccessDeniedException',
      message: `User: ${SESSION_ARN} is not authorized to perform: ecs:UpdateService on resource: ${SERVICE_ARN} because no identity-based policy allows the ecs:UpdateService action`,
    });
  });

  it('keys topic, queue and key policies by the logical id of what they attach to', () => {
    expect([...policies.resourcePolicies.keys()].sort()).toEqual([
      'DeadLetters',
      'DeploymentEventFunction',
      'Key',
      'Topic',
    ]);
  });

  it('leaves the enforceSSL-only topic policy refusing CloudWatch, as AWS would', () => {
    const result = evaluate({
      caller: { kind: 'service', service: 'cloudwatch.amazonaws.com' },
      request: { action: 'sns:Publish', resource: TOPIC_ARN, context: { 'aws:SecureTransport': true } },
      identityPolicies: [],
      resourcePolicy: policies.resourcePolicies.get('Topic')!,
    });
    expect(result.decision).toBe('implicit-deny');
  });

  it("turns every Lambda permission into a statement of the function's policy, scoped to its source rule", () => {
    const invoke = (sourceArn: string) =>
      evaluate({
        caller: { kind: 'service', service: 'events.amazonaws.com' },
        request: {
          action: 'lambda:InvokeFunction',
          resource: FUNCTION_ARN,
          context: { 'aws:SourceArn': sourceArn },
        },
        identityPolicies: [],
        resourcePolicy: policies.resourcePolicies.get('DeploymentEventFunction')!,
      }).decision;
    expect(invoke(RULE_ARN)).toBe('allowed');
    expect(invoke(OTHER_RULE_ARN)).toBe('allowed');
    expect(invoke(`arn:aws:events:${REGION}:${ACCOUNT}:rule/SomeoneElse`)).toBe('implicit-deny');
  });

  it('lets EventBridge send to the dead-letter queue only for the rule its policy names', () => {
    const send = (sourceArn: string) =>
      evaluate({
        caller: { kind: 'service', service: 'events.amazonaws.com' },
        request: {
          action: 'sqs:SendMessage',
          resource: `arn:aws:sqs:${REGION}:${ACCOUNT}:Afu9-DeadLetters`,
          context: { 'aws:SourceArn': sourceArn },
        },
        identityPolicies: [],
        resourcePolicy: policies.resourcePolicies.get('DeadLetters')!,
      }).decision;
    expect(send(RULE_ARN)).toBe('allowed');
    expect(send(OTHER_RULE_ARN)).toBe('implicit-deny');
  });

  it('refuses two policies that replace the same topic policy, since AWS keeps whichever lands last', () => {
    const twice = {
      Resources: {
        ...template.Resources,
        SecondTopicPolicy: { ...template.Resources.TopicPolicy },
      },
    };
    expect(() => policiesFromTemplate(twice, resolve)).toThrow(UnsupportedPolicy);
  });
});
