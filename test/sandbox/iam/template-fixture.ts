/**
 * A template shaped as `cdk synth` writes the orchestrator stack, trimmed to what the policies need,
 * and a resolver answering its intrinsics as the sandbox account would.
 */
import type { IntrinsicResolver } from '../../../sandbox/iam/template-policies';
import { ACCOUNT, REGION } from './command-cases';

const join = (...parts: unknown[]) => ({ 'Fn::Join': ['', parts] });
const arn = (service: string, resource: string) =>
  join(
    'arn:',
    { Ref: 'AWS::Partition' },
    `:${service}:${REGION}:`,
    { Ref: 'AWS::AccountId' },
    `:${resource}`,
  );

export const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Afu9-DeploymentEvent`;
export const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:Afu9-Topic`;
export const RULE_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:rule/Afu9-TaskStopped`;
export const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
export const QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:Afu9-DeadLetters`;
export const STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:Afu9Deployment`;
export const OTHER_RULE_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:rule/Afu9-DeploymentEnded`;

/** Shaped as `cdk synth` writes the orchestrator stack (trimmed to what the policies need). */
export const template = {
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
            ...['cloudwatch', 'events'].map((service) => ({
              Sid: `AllowPublishFrom${service}`,
              Effect: 'Allow',
              Principal: { Service: `${service}.amazonaws.com` },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
              Resource: '*',
              Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
            })),
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
    StateMachine: { Type: 'AWS::StepFunctions::StateMachine' },
    StateMachineEventsRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        },
      },
    },
    StateMachineEventsRoleDefaultPolicy: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        PolicyName: 'StateMachineEventsRoleDefaultPolicy',
        Roles: [{ Ref: 'StateMachineEventsRole' }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: 'states:StartExecution', Resource: { Ref: 'StateMachine' } },
          ],
        },
      },
    },
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
  'DeadLetters.Arn': QUEUE_ARN,
  'TaskStopped.Arn': RULE_ARN,
  'DeploymentEnded.Arn': OTHER_RULE_ARN,
  DeploymentEventFunction: 'Afu9-DeploymentEvent',
  'DeploymentEventFunction.Arn': FUNCTION_ARN,
  'Key.Arn': KEY_ARN,
  SharedManagedPolicy: `arn:aws:iam::${ACCOUNT}:policy/SharedManagedPolicy`,
  UpdateServiceRole: 'Afu9-UpdateServiceRole',
  'UpdateServiceRole.Arn': `arn:aws:iam::${ACCOUNT}:role/Afu9-UpdateServiceRole`,
  RollbackRole: 'Afu9-RollbackRole',
  StateMachine: STATE_MACHINE_ARN,
  StateMachineEventsRole: 'Afu9-StateMachineEventsRole',
  'StateMachineEventsRole.Arn': `arn:aws:iam::${ACCOUNT}:role/Afu9-StateMachineEventsRole`,
};

export const resolve: IntrinsicResolver = (intrinsic) => {
  if (typeof intrinsic.Ref === 'string') return values[intrinsic.Ref]!;
  const getAtt = intrinsic['Fn::GetAtt'] as [string, string] | undefined;
  if (getAtt) return values[`${getAtt[0]}.${getAtt[1]}`]!;
  const [separator, parts] = intrinsic['Fn::Join'] as [string, unknown[]];
  return parts
    .map((part) => (typeof part === 'string' ? part : resolve(part as Record<string, unknown>)))
    .join(separator);
};
