/**
 * SDK commands as the Lambdas send them, each with the checks AWS makes for it. Shared by the
 * command-map test and the catalogue test (which proves every action, ARN and key exists).
 */
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { DescribeImagesCommand } from '@aws-sdk/client-ecr';
import { DescribeSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { DescribeStackEventsCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { QueryCommand as LowLevelQueryCommand } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AuthorizationRequest } from '../../../sandbox/iam/evaluate';
import type { AccountLookups } from '../../../sandbox/iam/sdk-authorization';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-central-1';
const ecs = `arn:aws:ecs:${REGION}:${ACCOUNT}`;
export const CLUSTER_ARN = `${ecs}:cluster/afu9-cluster`;
export const SERVICE_ARN = `${ecs}:service/afu9-cluster/afu9-control-center`;
export const TASK_ARN = `${ecs}:task/afu9-cluster/0123456789abcdef0123456789abcdef`;
export const TABLE_ARN = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/Afu9Deployments`;
export const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:Afu9DeployOrchestrator-NotificationsTopic-AbCdEf123456`;
export const TOPIC_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
export const SECRET_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/0987dcba-09fe-87dc-65ba-ab0987654321`;
export const STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:Afu9Deployment`;
export const EXECUTION_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:execution:Afu9Deployment:deploy-staging-1`;
export const GITHUB_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:afu9/github-Ab12Cd`;
export const DATABASE_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:afu9/database-Xy98Zw`;
export const IMAGE_PARAMETER_ARN = `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/deploy/staging/mcp-github/image`;
export const NETWORK_STACK_ARN = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/Afu9NetworkStack/1a2b3c4d-0000-11ef-9a2b-0a1b2c3d4e5f`;
export const TASK_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAfake-token-of-an-Afu9Deployment-execution';
export const TASK_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/afu9-control-center-task`;
export const EXECUTION_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/afu9-control-center-execution`;

/** The account the cases run against: one secret on the AWS managed key, one on a customer managed key. */
export const lookups: AccountLookups = {
  accountId: ACCOUNT,
  region: REGION,
  secretArn: (id) =>
    ({
      'afu9/github': GITHUB_SECRET_ARN,
      [GITHUB_SECRET_ARN]: GITHUB_SECRET_ARN,
      'afu9/database': DATABASE_SECRET_ARN,
      [DATABASE_SECRET_ARN]: DATABASE_SECRET_ARN,
    })[id],
  secretKmsKeyArn: (id) => (id.includes('afu9/database') ? SECRET_KEY_ARN : undefined),
  topicKmsKeyArn: (topic) => (topic === TOPIC_ARN ? TOPIC_KEY_ARN : undefined),
  bucketKmsKeyArn: (bucket) => (bucket === 'afu9-sse-kms-bucket' ? SECRET_KEY_ARN : undefined),
  latestTaskDefinitionRevision: (family) => (family === 'afu9-control-center' ? 41 : undefined),
  latestActiveTaskDefinitionArn: (family) =>
    family === 'afu9-control-center' ? `${ecs}:task-definition/afu9-control-center:41` : undefined,
  stackArn: (name) =>
    name === 'Afu9NetworkStack' || name === NETWORK_STACK_ARN ? NETWORK_STACK_ARN : undefined,
  taskTokenIssuer: (token) => (token === TASK_TOKEN ? STATE_MACHINE_ARN : undefined),
};

const https = { 'aws:SecureTransport': true, 'aws:RequestedRegion': REGION, 'aws:ViaAWSService': false };

function check(
  action: string,
  resource: string,
  context: AuthorizationRequest['context'] = {},
): AuthorizationRequest {
  return { action, resource, context: { ...https, ...context } };
}

function viaService(action: string, key: string, service: string, context: AuthorizationRequest['context']) {
  return {
    action,
    resource: key,
    context: {
      ...https,
      'aws:ViaAWSService': true,
      'kms:ViaService': `${service}.${REGION}.amazonaws.com`,
      'kms:CallerAccount': ACCOUNT,
      ...context,
    },
  };
}

export interface CommandCase {
  readonly name: string;
  readonly command: unknown;
  readonly expected: readonly AuthorizationRequest[];
}

const executionTag = { key: 'afu9:execution-id', value: 'deploy-staging-1' };

export const COMMAND_CASES: readonly CommandCase[] = [
  {
    name: 'ECS DescribeServices by cluster and service name',
    command: new DescribeServicesCommand({ cluster: 'afu9-cluster', services: ['afu9-control-center'] }),
    expected: [check('ecs:DescribeServices', SERVICE_ARN, { 'ecs:cluster': CLUSTER_ARN })],
  },
  {
    name: 'ECS DescribeServices by cluster and service ARN',
    command: new DescribeServicesCommand({ cluster: CLUSTER_ARN, services: [SERVICE_ARN] }),
    expected: [check('ecs:DescribeServices', SERVICE_ARN, { 'ecs:cluster': CLUSTER_ARN })],
  },
  {
    name: 'ECS UpdateService to a revision ARN',
    command: new UpdateServiceCommand({
      cluster: 'afu9-cluster',
      service: 'afu9-control-center',
      taskDefinition: `${ecs}:task-definition/afu9-control-center:42`,
    }),
    expected: [
      check('ecs:UpdateService', SERVICE_ARN, {
        'ecs:cluster': CLUSTER_ARN,
        'ecs:task-definition': `${ecs}:task-definition/afu9-control-center:42`,
      }),
    ],
  },
  {
    name: 'ECS UpdateService by ARNs, to family:revision, forcing a new deployment',
    command: new UpdateServiceCommand({
      cluster: CLUSTER_ARN,
      service: SERVICE_ARN,
      taskDefinition: 'afu9-control-center:40',
      forceNewDeployment: true,
    }),
    expected: [
      check('ecs:UpdateService', SERVICE_ARN, {
        'ecs:cluster': CLUSTER_ARN,
        'ecs:task-definition': `${ecs}:task-definition/afu9-control-center:40`,
      }),
    ],
  },
  {
    name: 'ECS UpdateService to a bare family (its newest ACTIVE revision)',
    command: new UpdateServiceCommand({
      cluster: 'afu9-cluster',
      service: 'afu9-control-center',
      taskDefinition: 'afu9-control-center',
    }),
    expected: [
      check('ecs:UpdateService', SERVICE_ARN, {
        'ecs:cluster': CLUSTER_ARN,
        'ecs:task-definition': `${ecs}:task-definition/afu9-control-center:41`,
      }),
    ],
  },
  {
    name: 'ECS RegisterTaskDefinition with roles and the execution tag',
    command: new RegisterTaskDefinitionCommand({
      family: 'afu9-control-center',
      taskRoleArn: TASK_ROLE_ARN,
      executionRoleArn: EXECUTION_ROLE_ARN,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '512',
      memory: '1024',
      containerDefinitions: [{ name: 'control-center', image: 'x', essential: true }],
      tags: [executionTag],
    }),
    expected: [
      check('ecs:RegisterTaskDefinition', `${ecs}:task-definition/afu9-control-center:42`, {
        'aws:RequestTag/afu9:execution-id': 'deploy-staging-1',
        'aws:TagKeys': ['afu9:execution-id'],
        'ecs:task-cpu': '512',
        'ecs:task-memory': '1024',
      }),
      check('ecs:TagResource', `${ecs}:task-definition/afu9-control-center:42`, {
        'aws:RequestTag/afu9:execution-id': 'deploy-staging-1',
        'aws:TagKeys': ['afu9:execution-id'],
        'ecs:CreateAction': 'RegisterTaskDefinition',
      }),
      check('iam:PassRole', TASK_ROLE_ARN, { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' }),
      check('iam:PassRole', EXECUTION_ROLE_ARN, { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' }),
    ],
  },
  {
    name: 'ECS RegisterTaskDefinition of a new family, untagged, without roles',
    command: new RegisterTaskDefinitionCommand({
      family: 'afu9-new',
      containerDefinitions: [{ name: 'app', image: 'x' }],
    }),
    expected: [check('ecs:RegisterTaskDefinition', `${ecs}:task-definition/afu9-new:1`)],
  },
  {
    name: 'ECS DescribeTaskDefinition with tags (no resource-level permissions)',
    command: new DescribeTaskDefinitionCommand({
      taskDefinition: `${ecs}:task-definition/afu9-control-center:41`,
      include: ['TAGS'],
    }),
    expected: [check('ecs:DescribeTaskDefinition', '*')],
  },
  {
    name: 'ECS ListTaskDefinitions (no resource-level permissions)',
    command: new ListTaskDefinitionsCommand({
      familyPrefix: 'afu9-control-center',
      status: 'ACTIVE',
      sort: 'DESC',
    }),
    expected: [check('ecs:ListTaskDefinitions', '*')],
  },
  {
    name: 'ECS ListTasks of a service (no container instance named)',
    command: new ListTasksCommand({
      cluster: 'afu9-cluster',
      serviceName: 'afu9-control-center',
      desiredStatus: 'STOPPED',
      maxResults: 100,
    }),
    expected: [check('ecs:ListTasks', '*', { 'ecs:cluster': CLUSTER_ARN })],
  },
  {
    name: 'ECS DescribeTasks by ARN and by id',
    command: new DescribeTasksCommand({
      cluster: 'afu9-cluster',
      tasks: [TASK_ARN, 'fedcba9876543210fedcba9876543210'],
    }),
    expected: [
      check('ecs:DescribeTasks', TASK_ARN, { 'ecs:cluster': CLUSTER_ARN }),
      check('ecs:DescribeTasks', `${ecs}:task/afu9-cluster/fedcba9876543210fedcba9876543210`, {
        'ecs:cluster': CLUSTER_ARN,
      }),
    ],
  },
  {
    name: 'ECR DescribeImages in the own registry',
    command: new DescribeImagesCommand({
      repositoryName: 'afu9/control-center',
      imageIds: [{ imageTag: 'v1.2.3' }],
    }),
    expected: [
      check('ecr:DescribeImages', `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/afu9/control-center`),
    ],
  },
  {
    name: 'Secrets Manager DescribeSecret by name',
    command: new DescribeSecretCommand({ SecretId: 'afu9/github' }),
    expected: [
      {
        ...check('secretsmanager:DescribeSecret', GITHUB_SECRET_ARN, {
          'secretsmanager:SecretId': GITHUB_SECRET_ARN,
        }),
        shownAs: 'afu9/github',
      },
    ],
  },
  {
    name: 'Secrets Manager DescribeSecret of a secret that does not exist',
    command: new DescribeSecretCommand({ SecretId: 'afu9/missing' }),
    expected: [
      {
        ...check(
          'secretsmanager:DescribeSecret',
          `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:afu9/missing`,
          {
            'secretsmanager:SecretId': `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:afu9/missing`,
          },
        ),
        shownAs: 'afu9/missing',
      },
    ],
  },
  {
    name: 'Secrets Manager GetSecretValue on the AWS managed key',
    command: new GetSecretValueCommand({ SecretId: GITHUB_SECRET_ARN, VersionStage: 'AWSCURRENT' }),
    expected: [
      {
        ...check('secretsmanager:GetSecretValue', GITHUB_SECRET_ARN, {
          'secretsmanager:SecretId': GITHUB_SECRET_ARN,
          'secretsmanager:VersionStage': 'AWSCURRENT',
        }),
        shownAs: GITHUB_SECRET_ARN,
      },
    ],
  },
  {
    name: 'Secrets Manager GetSecretValue on a customer managed key',
    command: new GetSecretValueCommand({ SecretId: 'afu9/database' }),
    expected: [
      {
        ...check('secretsmanager:GetSecretValue', DATABASE_SECRET_ARN, {
          'secretsmanager:SecretId': DATABASE_SECRET_ARN,
        }),
        shownAs: 'afu9/database',
      },
      viaService('kms:Decrypt', SECRET_KEY_ARN, 'secretsmanager', {
        'kms:EncryptionContext:SecretARN': DATABASE_SECRET_ARN,
      }),
    ],
  },
  {
    name: 'SNS Publish to the KMS-encrypted topic',
    command: new PublishCommand({ TopicArn: TOPIC_ARN, Subject: 's', Message: 'm' }),
    expected: [
      check('sns:Publish', TOPIC_ARN),
      viaService('kms:GenerateDataKey', TOPIC_KEY_ARN, 'sns', {}),
      viaService('kms:Decrypt', TOPIC_KEY_ARN, 'sns', {}),
    ],
  },
  {
    name: 'S3 GetObject from an SSE-S3 bucket',
    command: new GetObjectCommand({ Bucket: 'afu9-diffs', Key: 'diffs/deploy-staging-1.txt' }),
    expected: [
      check('s3:GetObject', 'arn:aws:s3:::afu9-diffs/diffs/deploy-staging-1.txt', {
        's3:ResourceAccount': ACCOUNT,
      }),
    ],
  },
  {
    name: 'S3 GetObject from an SSE-KMS bucket',
    command: new GetObjectCommand({ Bucket: 'afu9-sse-kms-bucket', Key: 'a.txt' }),
    expected: [
      check('s3:GetObject', 'arn:aws:s3:::afu9-sse-kms-bucket/a.txt', { 's3:ResourceAccount': ACCOUNT }),
      viaService('kms:Decrypt', SECRET_KEY_ARN, 's3', {
        'kms:EncryptionContext:aws:s3:arn': 'arn:aws:s3:::afu9-sse-kms-bucket/a.txt',
        'kms:EncryptionContextKeys': ['aws:s3:arn'],
      }),
    ],
  },
  {
    name: 'S3 PutObject with SSE-KMS requested',
    command: new PutObjectCommand({
      Bucket: 'afu9-diffs',
      Key: 'diffs/x.txt',
      Body: 'diff',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: SECRET_KEY_ARN,
    }),
    expected: [
      check('s3:PutObject', 'arn:aws:s3:::afu9-diffs/diffs/x.txt', {
        's3:ResourceAccount': ACCOUNT,
        's3:x-amz-server-side-encryption': 'aws:kms',
        's3:x-amz-server-side-encryption-aws-kms-key-id': SECRET_KEY_ARN,
      }),
      viaService('kms:GenerateDataKey', SECRET_KEY_ARN, 's3', {
        'kms:EncryptionContext:aws:s3:arn': 'arn:aws:s3:::afu9-diffs/diffs/x.txt',
        'kms:EncryptionContextKeys': ['aws:s3:arn'],
      }),
    ],
  },
  {
    name: 'Step Functions DescribeExecution',
    command: new DescribeExecutionCommand({ executionArn: EXECUTION_ARN }),
    expected: [check('states:DescribeExecution', EXECUTION_ARN)],
  },
  {
    name: 'Step Functions GetExecutionHistory',
    command: new GetExecutionHistoryCommand({ executionArn: EXECUTION_ARN, maxResults: 1000 }),
    expected: [check('states:GetExecutionHistory', EXECUTION_ARN)],
  },
  {
    name: 'Step Functions StartExecution',
    command: new StartExecutionCommand({
      stateMachineArn: STATE_MACHINE_ARN,
      name: 'deploy-staging-1',
      input: '{}',
    }),
    expected: [check('states:StartExecution', STATE_MACHINE_ARN)],
  },
  {
    name: 'Step Functions SendTaskSuccess (checked on the state machine that issued the token)',
    command: new SendTaskSuccessCommand({ taskToken: TASK_TOKEN, output: '{}' }),
    expected: [check('states:SendTaskSuccess', STATE_MACHINE_ARN)],
  },
  {
    name: 'DynamoDB document client Get with a consistent read',
    command: new GetCommand({
      TableName: 'Afu9Deployments',
      Key: { pk: 'a', sk: 'b' },
      ConsistentRead: true,
    }),
    expected: [check('dynamodb:GetItem', TABLE_ARN)],
  },
  {
    name: 'DynamoDB document client conditional Put',
    command: new PutCommand({
      TableName: 'Afu9Deployments',
      Item: { pk: 'a', sk: 'b' },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }),
    expected: [check('dynamodb:PutItem', TABLE_ARN)],
  },
  {
    name: 'DynamoDB document client Update returning new values',
    command: new UpdateCommand({
      TableName: TABLE_ARN,
      Key: { pk: 'a', sk: 'b' },
      UpdateExpression: 'SET #s = :s',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':s': 'done' },
      ReturnValues: 'ALL_NEW',
    }),
    expected: [check('dynamodb:UpdateItem', TABLE_ARN, { 'dynamodb:ReturnValues': 'ALL_NEW' })],
  },
  {
    name: 'DynamoDB document client Delete',
    command: new DeleteCommand({ TableName: 'Afu9Deployments', Key: { pk: 'a', sk: 'b' } }),
    expected: [check('dynamodb:DeleteItem', TABLE_ARN)],
  },
  {
    name: 'DynamoDB document client Query',
    command: new QueryCommand({
      TableName: 'Afu9Deployments',
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': 'a' },
      ScanIndexForward: false,
      Limit: 10,
    }),
    expected: [check('dynamodb:Query', TABLE_ARN)],
  },
  {
    name: 'DynamoDB Query on an index (low-level client)',
    command: new LowLevelQueryCommand({
      TableName: 'Afu9Deployments',
      IndexName: 'by-environment',
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: 'a' } },
      Select: 'ALL_PROJECTED_ATTRIBUTES',
    }),
    expected: [
      check('dynamodb:Query', `${TABLE_ARN}/index/by-environment`, {
        'dynamodb:Select': 'ALL_PROJECTED_ATTRIBUTES',
      }),
    ],
  },
  {
    name: 'SSM PutParameter of an image parameter (the ARN drops the leading slash)',
    command: new PutParameterCommand({
      Name: '/deploy/staging/mcp-github/image',
      Value: 'afu9/mcp-github@sha256:1b2c3d4e5f60718293a4b5c6d7e8f9010a1b2c3d4e5f60718293a4b5c6d7e8f9',
      Type: 'String',
      Tier: 'Standard',
      Overwrite: true,
    }),
    expected: [check('ssm:PutParameter', IMAGE_PARAMETER_ARN)],
  },
  {
    name: 'SSM GetParameter of a version (the selector is not part of the resource)',
    command: new GetParameterCommand({ Name: '/deploy/staging/mcp-github/image:3' }),
    expected: [check('ssm:GetParameter', IMAGE_PARAMETER_ARN)],
  },
  {
    name: 'SSM GetParameter by ARN',
    command: new GetParameterCommand({ Name: IMAGE_PARAMETER_ARN }),
    expected: [check('ssm:GetParameter', IMAGE_PARAMETER_ARN)],
  },
  {
    name: 'CloudFormation DescribeStacks by name (the stack ARN carries its id)',
    command: new DescribeStacksCommand({ StackName: 'Afu9NetworkStack' }),
    expected: [check('cloudformation:DescribeStacks', NETWORK_STACK_ARN)],
  },
  {
    name: 'CloudFormation DescribeStackEvents by name',
    command: new DescribeStackEventsCommand({ StackName: 'Afu9NetworkStack' }),
    expected: [check('cloudformation:DescribeStackEvents', NETWORK_STACK_ARN)],
  },
  {
    name: 'CloudFormation DescribeStacks of a stack that does not exist (authorized on a stand-in id)',
    command: new DescribeStacksCommand({ StackName: 'Afu9DnsStack' }),
    expected: [
      check(
        'cloudformation:DescribeStacks',
        `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/Afu9DnsStack/00000000-0000-0000-0000-000000000000`,
      ),
    ],
  },
];
