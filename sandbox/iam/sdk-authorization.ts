/**
 * What AWS authorizes for one SDK call: the action, the resource ARN and the condition keys of each
 * check the service makes (the Service Authorization Reference), including the checks a call makes
 * on other resources (iam:PassRole for the roles a task definition names, kms:Decrypt on the key of
 * a secret). Commands are recognised by their operation schema, not by class: the functions run as
 * minified bundles that carry their own copy of the SDK. A command not listed here raises
 * UnsupportedCommand, so no call goes unauthorized.
 */
import type { AuthorizationRequest } from './evaluate';
import type { ContextValue } from './patterns';

/** Which rule a check's resource policy follows (key policies decide for their key). */
export { resourceKindOf } from './evaluate';

/** What the sandbox account knows that a request needs and the command does not say. */
export interface AccountLookups {
  readonly accountId: string;
  /** The region of the calling client (an ARN in the input takes precedence). */
  readonly region: string;
  /** The full ARN (with its random suffix) of the secret a name or ARN identifies; undefined when none exists. */
  secretArn(secretId: string): string | undefined;
  /** The customer managed key that encrypts the secret; undefined for the AWS managed key. */
  secretKmsKeyArn(secretId: string): string | undefined;
  /** The customer managed key of a topic with server-side encryption; undefined when it has none. */
  topicKmsKeyArn(topicArn: string): string | undefined;
  /** The KMS key of a bucket's default SSE-KMS encryption; undefined for SSE-S3 or none. */
  bucketKmsKeyArn(bucket: string): string | undefined;
  /** The newest revision of the family, of any status (the next registration takes the one after); undefined when never registered. */
  latestTaskDefinitionRevision(family: string): number | undefined;
  /** The ARN ECS resolves a bare family to (its newest ACTIVE revision); undefined when it has none. */
  latestActiveTaskDefinitionArn(family: string): string | undefined;
  /** The ARN (with its id) of the CloudFormation stack a name or ARN identifies; undefined when none exists. */
  stackArn(nameOrArn: string): string | undefined;
  /**
   * The state machine (or activity) ARN a task token belongs to; undefined for a token Step Functions
   * cannot decode, which it answers with InvalidToken before authorizing anything.
   */
  taskTokenIssuer(taskToken: string): string | undefined;
}

/** A command the sandbox does not know how AWS authorizes; raised rather than letting the call through. */
export class UnsupportedCommand extends Error {
  override readonly name = 'UnsupportedCommand';
}

type Input = Readonly<Record<string, unknown>>;
type RequestBuilder = (input: Input, lookups: AccountLookups) => AuthorizationRequest[];

const PARTITION = 'aws';
const SMITHY_OPERATION_SCHEMA = 9;

/** Smithy namespace → IAM service prefix. */
const IAM_PREFIX: Readonly<Record<string, string>> = {
  'com.amazonaws.ecs': 'ecs',
  'com.amazonaws.ecr': 'ecr',
  'com.amazonaws.secretsmanager': 'secretsmanager',
  'com.amazonaws.sns': 'sns',
  'com.amazonaws.s3': 's3',
  'com.amazonaws.sfn': 'states',
  'com.amazonaws.dynamodb': 'dynamodb',
  'com.amazonaws.ssm': 'ssm',
  'com.amazonaws.cloudformation': 'cloudformation',
};

export interface IdentifiedCommand {
  /** `com.amazonaws.ecs` */
  readonly namespace: string;
  /** `UpdateService` */
  readonly operation: string;
  readonly input: Input;
}

/**
 * The operation a command performs, from its schema (`[9, namespace, operation, ...]`); a
 * DynamoDBDocumentClient command carries the low-level command's schema in `clientCommand`.
 */
export function identifyCommand(command: unknown): IdentifiedCommand {
  const candidate = command as {
    schema?: unknown;
    clientCommand?: { schema?: unknown };
    input?: unknown;
  } | null;
  const schema = candidate?.clientCommand?.schema ?? candidate?.schema;
  if (
    !Array.isArray(schema) ||
    schema[0] !== SMITHY_OPERATION_SCHEMA ||
    typeof schema[1] !== 'string' ||
    typeof schema[2] !== 'string'
  ) {
    throw new UnsupportedCommand(
      'The sandbox cannot tell which AWS operation this command performs (it has no AWS SDK v3 operation schema), ' +
        'so it cannot authorize it. Send AWS SDK v3 commands.',
    );
  }
  const input = candidate?.input;
  return {
    namespace: schema[1],
    operation: schema[2],
    input: typeof input === 'object' && input !== null ? (input as Input) : {},
  };
}

/** Keys every SDK call carries: the SDK speaks HTTPS, to the client's region. */
function base(lookups: AccountLookups, region = lookups.region): Record<string, ContextValue> {
  return { 'aws:SecureTransport': true, 'aws:RequestedRegion': region, 'aws:ViaAWSService': false };
}

function request(
  action: string,
  resource: string,
  lookups: AccountLookups,
  context: Record<string, ContextValue> = {},
): AuthorizationRequest {
  return { action, resource, context: { ...base(lookups), ...context } };
}

/** A check a service makes on KMS on the caller's behalf (`kms:ViaService`). */
function kmsViaService(
  action: 'kms:Decrypt' | 'kms:GenerateDataKey',
  keyArn: string,
  service: string,
  lookups: AccountLookups,
  encryptionContext: Record<string, string>,
  /** Whether `encryptionContext` is all of it; only then is `kms:EncryptionContextKeys` sent. */
  wholeEncryptionContext: boolean,
): AuthorizationRequest {
  const region = regionOf(keyArn) ?? lookups.region;
  return {
    action,
    resource: keyArn,
    context: {
      ...base(lookups, region),
      // No aws:CalledVia: AWS sets it only for the services it lists, which the sandbox does not track.
      'aws:ViaAWSService': true,
      'kms:ViaService': `${service}.${region}.amazonaws.com`,
      'kms:CallerAccount': lookups.accountId,
      ...Object.fromEntries(
        Object.entries(encryptionContext).map(([key, value]) => [`kms:EncryptionContext:${key}`, value]),
      ),
      ...(wholeEncryptionContext && Object.keys(encryptionContext).length > 0
        ? { 'kms:EncryptionContextKeys': Object.keys(encryptionContext) }
        : {}),
    },
  };
}

function regionOf(arn: string): string | undefined {
  return arn.startsWith('arn:') ? arn.split(':')[3] || undefined : undefined;
}

function text(input: Input, field: string, operation: string): string {
  const value = input[field];
  if (typeof value !== 'string' || value === '') {
    throw new UnsupportedCommand(
      `${operation} without ${field}: the sandbox cannot tell which resource it acts on.`,
    );
  }
  return value;
}

function optionalText(input: Input, field: string): string | undefined {
  const value = input[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Fields a builder does not model would change what AWS checks; refusing them keeps the map honest. */
function onlyFields(input: Input, operation: string, allowed: readonly string[]): void {
  const unknown = Object.keys(input).filter(
    (field) => input[field] !== undefined && !allowed.includes(field),
  );
  if (unknown.length > 0) {
    throw new UnsupportedCommand(
      `${operation} with ${unknown.join(', ')}: the sandbox does not model which condition keys AWS sends for ` +
        `${unknown.length > 1 ? 'these fields' : 'this field'}. Extend sandbox/iam/sdk-authorization.ts.`,
    );
  }
}

function tagContext(tags: unknown, keyField: string, valueField: string): Record<string, ContextValue> {
  const list = Array.isArray(tags) ? (tags as Record<string, unknown>[]) : [];
  if (list.length === 0) return {};
  const context: Record<string, ContextValue> = {};
  for (const tag of list) context[`aws:RequestTag/${String(tag[keyField])}`] = String(tag[valueField] ?? '');
  context['aws:TagKeys'] = list.map((tag) => String(tag[keyField]));
  return context;
}

// ---- ECS ----

function ecsArn(lookups: AccountLookups, resource: string, region = lookups.region): string {
  return `arn:${PARTITION}:ecs:${region}:${lookups.accountId}:${resource}`;
}

/** A cluster named or given by ARN (ECS's `default` cluster when omitted). */
function clusterArn(input: Input, lookups: AccountLookups): string {
  const cluster = optionalText(input, 'cluster') ?? 'default';
  return cluster.startsWith('arn:') ? cluster : ecsArn(lookups, `cluster/${cluster}`);
}

function clusterName(clusterArnValue: string): string {
  const marker = clusterArnValue.indexOf(':cluster/');
  if (marker < 0) throw new UnsupportedCommand(`${clusterArnValue} is not an ECS cluster ARN.`);
  return clusterArnValue.slice(marker + ':cluster/'.length);
}

function serviceArn(service: string, cluster: string, lookups: AccountLookups): string {
  if (service.startsWith('arn:')) return service;
  return ecsArn(lookups, `service/${clusterName(cluster)}/${service}`, regionOf(cluster));
}

/** `family`, `family:revision` or an ARN, as the ARN ECS resolves it to. */
function taskDefinitionArn(taskDefinition: string, lookups: AccountLookups): string {
  if (taskDefinition.startsWith('arn:')) return taskDefinition;
  if (taskDefinition.includes(':')) return ecsArn(lookups, `task-definition/${taskDefinition}`);
  return (
    lookups.latestActiveTaskDefinitionArn(taskDefinition) ??
    ecsArn(lookups, `task-definition/${taskDefinition}`)
  );
}

function roleArn(role: string, lookups: AccountLookups): string {
  return role.startsWith('arn:') ? role : `arn:${PARTITION}:iam::${lookups.accountId}:role/${role}`;
}

/**
 * Every RegisterTaskDefinition field. Those with condition keys send them (`tags`, `cpu`, `memory`);
 * `ecs:privileged` and `ecs:compute-compatibility` are not sent (their value format is not documented
 * well enough to claim), so a policy conditioned on them sees the key missing.
 */
const REGISTER_TASK_DEFINITION_FIELDS = [
  'family',
  'taskRoleArn',
  'executionRoleArn',
  'networkMode',
  'containerDefinitions',
  'volumes',
  'placementConstraints',
  'requiresCompatibilities',
  'cpu',
  'memory',
  'tags',
  'pidMode',
  'ipcMode',
  'proxyConfiguration',
  'inferenceAccelerators',
  'ephemeralStorage',
  'runtimePlatform',
  'enableFaultInjection',
];

const ecs: Readonly<Record<string, RequestBuilder>> = {
  DescribeServices: (input, lookups) => {
    const cluster = clusterArn(input, lookups);
    const services = Array.isArray(input.services) ? (input.services as string[]) : [];
    if (services.length === 0)
      throw new UnsupportedCommand('DescribeServices without services names no resource.');
    return services.map((service) =>
      request('ecs:DescribeServices', serviceArn(service, cluster, lookups), lookups, {
        'ecs:cluster': cluster,
      }),
    );
  },
  UpdateService: (input, lookups) => {
    onlyFields(input, 'UpdateService', [
      'cluster',
      'service',
      'taskDefinition',
      'forceNewDeployment',
      'desiredCount',
      'deploymentConfiguration',
      'healthCheckGracePeriodSeconds',
    ]);
    const cluster = clusterArn(input, lookups);
    const taskDefinition = optionalText(input, 'taskDefinition');
    return [
      request(
        'ecs:UpdateService',
        serviceArn(text(input, 'service', 'UpdateService'), cluster, lookups),
        lookups,
        {
          'ecs:cluster': cluster,
          ...(taskDefinition ? { 'ecs:task-definition': taskDefinitionArn(taskDefinition, lookups) } : {}),
        },
      ),
    ];
  },
  RegisterTaskDefinition: (input, lookups) => {
    onlyFields(input, 'RegisterTaskDefinition', REGISTER_TASK_DEFINITION_FIELDS);
    const family = text(input, 'family', 'RegisterTaskDefinition');
    const revision = (lookups.latestTaskDefinitionRevision(family) ?? 0) + 1;
    const registered = ecsArn(lookups, `task-definition/${family}:${revision}`);
    const tags = tagContext(input.tags, 'key', 'value');
    const sizing: Record<string, ContextValue> = {
      ...(optionalText(input, 'cpu') ? { 'ecs:task-cpu': String(input.cpu) } : {}),
      ...(optionalText(input, 'memory') ? { 'ecs:task-memory': String(input.memory) } : {}),
    };
    const passRoles = ['taskRoleArn', 'executionRoleArn']
      .map((field) => optionalText(input, field))
      .filter((role): role is string => role !== undefined)
      .map((role) =>
        request('iam:PassRole', roleArn(role, lookups), lookups, {
          'iam:PassedToService': 'ecs-tasks.amazonaws.com',
        }),
      );
    return [
      request('ecs:RegisterTaskDefinition', registered, lookups, { ...tags, ...sizing }),
      ...(Object.keys(tags).length > 0
        ? [
            request('ecs:TagResource', registered, lookups, {
              ...tags,
              'ecs:CreateAction': 'RegisterTaskDefinition',
            }),
          ]
        : []),
      ...passRoles,
    ];
  },
  // No resource-level permissions for these (Service Authorization Reference).
  DescribeTaskDefinition: (_input, lookups) => [request('ecs:DescribeTaskDefinition', '*', lookups)],
  ListTaskDefinitions: (_input, lookups) => [request('ecs:ListTaskDefinitions', '*', lookups)],
  DeregisterTaskDefinition: (_input, lookups) => [request('ecs:DeregisterTaskDefinition', '*', lookups)],
  ListTasks: (input, lookups) => {
    const cluster = clusterArn(input, lookups);
    const instance = optionalText(input, 'containerInstance');
    // Listed with a container-instance resource type, but ECS checks `*` (with ecs:cluster) when none is named.
    const resource = instance
      ? instance.startsWith('arn:')
        ? instance
        : ecsArn(lookups, `container-instance/${clusterName(cluster)}/${instance}`, regionOf(cluster))
      : '*';
    return [request('ecs:ListTasks', resource, lookups, { 'ecs:cluster': cluster })];
  },
  DescribeTasks: (input, lookups) => {
    const cluster = clusterArn(input, lookups);
    const tasks = Array.isArray(input.tasks) ? (input.tasks as string[]) : [];
    if (tasks.length === 0) throw new UnsupportedCommand('DescribeTasks without tasks names no resource.');
    return tasks.map((task) =>
      request(
        'ecs:DescribeTasks',
        task.startsWith('arn:')
          ? task
          : ecsArn(lookups, `task/${clusterName(cluster)}/${task}`, regionOf(cluster)),
        lookups,
        { 'ecs:cluster': cluster },
      ),
    );
  },
  TagResource: (input, lookups) => [
    request(
      'ecs:TagResource',
      text(input, 'resourceArn', 'TagResource'),
      lookups,
      tagContext(input.tags, 'key', 'value'),
    ),
  ],
  UntagResource: (input, lookups) => [
    request('ecs:UntagResource', text(input, 'resourceArn', 'UntagResource'), lookups, {
      'aws:TagKeys': Array.isArray(input.tagKeys) ? (input.tagKeys as string[]).map(String) : [],
    }),
  ],
  ListTagsForResource: (input, lookups) => [
    request('ecs:ListTagsForResource', text(input, 'resourceArn', 'ListTagsForResource'), lookups),
  ],
};

// ---- ECR ----

const repositoryAction =
  (action: string): RequestBuilder =>
  (input, lookups) => {
    const registry = optionalText(input, 'registryId') ?? lookups.accountId;
    const repository = text(input, 'repositoryName', action);
    return [
      request(action, `arn:${PARTITION}:ecr:${lookups.region}:${registry}:repository/${repository}`, lookups),
    ];
  };

const ecr: Readonly<Record<string, RequestBuilder>> = {
  DescribeImages: repositoryAction('ecr:DescribeImages'),
  BatchGetImage: repositoryAction('ecr:BatchGetImage'),
  ListImages: repositoryAction('ecr:ListImages'),
};

// ---- Secrets Manager ----

/**
 * The ARN AWS authorizes against: the secret's full ARN when it exists; otherwise the identifier as an
 * ARN without the random suffix (so a grant on `name-??????` does not cover a missing secret).
 */
function secretResource(secretId: string, lookups: AccountLookups): string {
  return (
    lookups.secretArn(secretId) ??
    (secretId.startsWith('arn:')
      ? secretId
      : `arn:${PARTITION}:secretsmanager:${lookups.region}:${lookups.accountId}:secret:${secretId}`)
  );
}

function secretContext(input: Input, resource: string): Record<string, ContextValue> {
  return {
    'secretsmanager:SecretId': resource,
    ...(optionalText(input, 'VersionStage')
      ? { 'secretsmanager:VersionStage': String(input.VersionStage) }
      : {}),
    ...(optionalText(input, 'VersionId') ? { 'secretsmanager:VersionId': String(input.VersionId) } : {}),
  };
}

const secretsmanager: Readonly<Record<string, RequestBuilder>> = {
  DescribeSecret: (input, lookups) => {
    const resource = secretResource(text(input, 'SecretId', 'DescribeSecret'), lookups);
    return [
      {
        ...request('secretsmanager:DescribeSecret', resource, lookups, secretContext({}, resource)),
        shownAs: String(input.SecretId),
      },
    ];
  },
  GetSecretValue: (input, lookups) => {
    const secretId = text(input, 'SecretId', 'GetSecretValue');
    const resource = secretResource(secretId, lookups);
    const key = lookups.secretArn(secretId) ? lookups.secretKmsKeyArn(secretId) : undefined;
    return [
      {
        ...request('secretsmanager:GetSecretValue', resource, lookups, secretContext(input, resource)),
        shownAs: secretId,
      },
      ...(key
        ? [
            // The context also holds SecretVersionId, which the command does not say: keys are not claimed.
            kmsViaService('kms:Decrypt', key, 'secretsmanager', lookups, { SecretARN: resource }, false),
          ]
        : []),
    ];
  },
};

// ---- SNS ----

const sns: Readonly<Record<string, RequestBuilder>> = {
  Publish: (input, lookups) => {
    if (input.TargetArn !== undefined || input.PhoneNumber !== undefined) {
      throw new UnsupportedCommand(
        'Publish to a TargetArn or PhoneNumber is not modelled; publish to a TopicArn.',
      );
    }
    const topic = text(input, 'TopicArn', 'Publish');
    const key = lookups.topicKmsKeyArn(topic);
    return [
      request('sns:Publish', topic, lookups),
      // SNS asks KMS for a data key (and decrypts a cached one) on the publisher's behalf.
      ...(key
        ? [
            kmsViaService('kms:GenerateDataKey', key, 'sns', lookups, {}, false),
            kmsViaService('kms:Decrypt', key, 'sns', lookups, {}, false),
          ]
        : []),
    ];
  },
};

// ---- S3 ----

function objectArn(input: Input, operation: string): { bucket: string; arn: string } {
  const bucket = text(input, 'Bucket', operation);
  return { bucket, arn: `arn:${PARTITION}:s3:::${bucket}/${text(input, 'Key', operation)}` };
}

const readObject =
  (operation: string): RequestBuilder =>
  (input, lookups) => {
    const { bucket, arn } = objectArn(input, operation);
    const action = optionalText(input, 'VersionId') ? 's3:GetObjectVersion' : 's3:GetObject';
    const key = lookups.bucketKmsKeyArn(bucket);
    return [
      request(action, arn, lookups, { 's3:ResourceAccount': lookups.accountId }),
      ...(key ? [kmsViaService('kms:Decrypt', key, 's3', lookups, { 'aws:s3:arn': arn }, true)] : []),
    ];
  };

const s3: Readonly<Record<string, RequestBuilder>> = {
  GetObject: readObject('GetObject'),
  HeadObject: readObject('HeadObject'),
  PutObject: (input, lookups) => {
    const { bucket, arn } = objectArn(input, 'PutObject');
    const encryption = optionalText(input, 'ServerSideEncryption');
    const requestedKey = optionalText(input, 'SSEKMSKeyId');
    const key =
      requestedKey ?? (encryption && encryption !== 'aws:kms' ? undefined : lookups.bucketKmsKeyArn(bucket));
    return [
      request('s3:PutObject', arn, lookups, {
        's3:ResourceAccount': lookups.accountId,
        ...(encryption ? { 's3:x-amz-server-side-encryption': encryption } : {}),
        ...(requestedKey ? { 's3:x-amz-server-side-encryption-aws-kms-key-id': requestedKey } : {}),
      }),
      ...(key ? [kmsViaService('kms:GenerateDataKey', key, 's3', lookups, { 'aws:s3:arn': arn }, true)] : []),
    ];
  },
};

// ---- Step Functions ----

const onExecution =
  (action: string): RequestBuilder =>
  (input, lookups) => [request(action, text(input, 'executionArn', action), lookups)];

/**
 * The catalogue lists no resource type for the task-token actions, yet AWS authorizes them against
 * the state machine that issued the token (its AccessDenied names that ARN), or the activity.
 */
const onTaskToken =
  (action: string): RequestBuilder =>
  (input, lookups) => {
    const issuer = lookups.taskTokenIssuer(text(input, 'taskToken', action));
    return issuer ? [request(action, issuer, lookups)] : [];
  };

const states: Readonly<Record<string, RequestBuilder>> = {
  StartExecution: (input, lookups) => [
    request('states:StartExecution', text(input, 'stateMachineArn', 'StartExecution'), lookups),
  ],
  DescribeExecution: onExecution('states:DescribeExecution'),
  GetExecutionHistory: onExecution('states:GetExecutionHistory'),
  SendTaskSuccess: onTaskToken('states:SendTaskSuccess'),
  SendTaskFailure: onTaskToken('states:SendTaskFailure'),
  SendTaskHeartbeat: onTaskToken('states:SendTaskHeartbeat'),
};

// ---- DynamoDB ----

const tableAction =
  (action: string, options: { index?: boolean } = {}): RequestBuilder =>
  (input, lookups) => {
    const table = text(input, 'TableName', action);
    const tableArn = table.startsWith('arn:')
      ? table
      : `arn:${PARTITION}:dynamodb:${lookups.region}:${lookups.accountId}:table/${table}`;
    const index = options.index ? optionalText(input, 'IndexName') : undefined;
    const context: Record<string, ContextValue> = {};
    for (const field of ['ReturnValues', 'Select', 'ReturnConsumedCapacity'] as const) {
      const value = optionalText(input, field);
      if (value) context[`dynamodb:${field}`] = value;
    }
    return [request(action, index ? `${tableArn}/index/${index}` : tableArn, lookups, context)];
  };

const dynamodb: Readonly<Record<string, RequestBuilder>> = {
  GetItem: tableAction('dynamodb:GetItem'),
  PutItem: tableAction('dynamodb:PutItem'),
  UpdateItem: tableAction('dynamodb:UpdateItem'),
  DeleteItem: tableAction('dynamodb:DeleteItem'),
  Query: tableAction('dynamodb:Query', { index: true }),
  Scan: tableAction('dynamodb:Scan', { index: true }),
};

// ---- SSM Parameter Store ----

/**
 * A parameter's ARN from its name (`/a/b` → `parameter/a/b`) or from an ARN given as the name; a
 * `:<version>` or `:<label>` selector is not part of the resource.
 */
function parameterArn(input: Input, operation: string, lookups: AccountLookups): string {
  const name = text(input, 'Name', operation);
  if (name.startsWith('arn:')) return name.replace(/(:parameter\/[^:]*):.*$/, '$1');
  const [path = ''] = name.split(':');
  return `arn:${PARTITION}:ssm:${lookups.region}:${lookups.accountId}:parameter/${path.replace(/^\//, '')}`;
}

const ssm: Readonly<Record<string, RequestBuilder>> = {
  PutParameter: (input, lookups) => {
    if (input.Type === 'SecureString' || input.KeyId !== undefined) {
      throw new UnsupportedCommand('PutParameter of a SecureString (a KMS key check) is not modelled.');
    }
    if (input.Tags !== undefined) {
      throw new UnsupportedCommand(
        'PutParameter with Tags (an ssm:AddTagsToResource check) is not modelled.',
      );
    }
    return [request('ssm:PutParameter', parameterArn(input, 'PutParameter', lookups), lookups)];
  },
  GetParameter: (input, lookups) => [
    request('ssm:GetParameter', parameterArn(input, 'GetParameter', lookups), lookups),
  ],
};

// ---- CloudFormation ----

/**
 * A stack's ARN for a call that names it. For a stack that does not exist AWS still authorizes the
 * call (on `stack/<name>/*`, which a policy on that stack's name matches) before it answers
 * ValidationError; the sandbox checks it on a stand-in id.
 */
function stackArnOf(input: Input, operation: string, lookups: AccountLookups): string {
  const name = text(input, 'StackName', operation);
  return (
    lookups.stackArn(name) ??
    `arn:${PARTITION}:cloudformation:${lookups.region}:${lookups.accountId}:stack/${name}/00000000-0000-0000-0000-000000000000`
  );
}

const cloudformation: Readonly<Record<string, RequestBuilder>> = {
  DescribeStacks: (input, lookups) => {
    onlyFields(input, 'DescribeStacks', ['StackName']);
    return [request('cloudformation:DescribeStacks', stackArnOf(input, 'DescribeStacks', lookups), lookups)];
  },
  DescribeStackEvents: (input, lookups) => {
    onlyFields(input, 'DescribeStackEvents', ['StackName']);
    return [
      request(
        'cloudformation:DescribeStackEvents',
        stackArnOf(input, 'DescribeStackEvents', lookups),
        lookups,
      ),
    ];
  },
};

const BUILDERS: Readonly<Record<string, Readonly<Record<string, RequestBuilder>>>> = {
  ecs,
  ecr,
  secretsmanager,
  sns,
  s3,
  states,
  dynamodb,
  ssm,
  cloudformation,
};

/** Every `service:Operation` this map knows, for tests and for the sandbox's own checks. */
export const SUPPORTED_OPERATIONS: readonly string[] = Object.entries(BUILDERS).flatMap(
  ([prefix, builders]) => Object.keys(builders).map((operation) => `${prefix}:${operation}`),
);

/**
 * The authorization requests AWS makes for one SDK command, in the order AWS checks them (the
 * operation's own action first). An empty list means AWS rejects the call before authorizing it.
 */
export function authorizationRequestsFor(command: unknown, lookups: AccountLookups): AuthorizationRequest[] {
  const { namespace, operation, input } = identifyCommand(command);
  const prefix = IAM_PREFIX[namespace];
  const builder = prefix ? BUILDERS[prefix]?.[operation] : undefined;
  if (!builder) {
    throw new UnsupportedCommand(
      `The sandbox does not know what AWS authorizes for ${namespace} ${operation}, so it refuses the call. ` +
        'Add the operation to sandbox/iam/sdk-authorization.ts (action, resource ARN, condition keys).',
    );
  }
  return builder(input, lookups);
}

/** A denied call, shaped as the SDK raises it in AWS. */
export interface AccessDeniedError {
  /** What the SDK sets as `error.name` (what code compares). */
  readonly name: string;
  /** The error code on the wire, when the SDK's name differs (SNS: `AuthorizationError`). */
  readonly code: string;
  readonly message: string;
  readonly httpStatusCode: 400 | 403;
  /** The check that failed, for the sandbox's report (a service may not name it in its message). */
  readonly denied: { readonly action: string; readonly resource: string; readonly reason: string };
}

function iamMessage(principalSessionArn: string, action: string, resource: string, reason: string): string {
  const connector = reason.startsWith('an explicit deny') ? 'with' : 'because';
  return `User: ${principalSessionArn} is not authorized to perform: ${action} on resource: ${resource} ${connector} ${reason}`;
}

/**
 * The AccessDenied the SDK surfaces when one of a call's checks is denied. `namespace` is the called
 * service's (`com.amazonaws.ecs`); `request` is the check that failed, which may be on another
 * service (kms:Decrypt for GetSecretValue): that service's own wording is used then.
 */
export function accessDeniedError(
  namespace: string,
  principalSessionArn: string,
  request: AuthorizationRequest,
  reason: string,
): AccessDeniedError {
  const denied = { action: request.action, resource: request.resource, reason };
  const viaKms = request.action.toLowerCase().startsWith('kms:') && namespace !== 'com.amazonaws.kms';
  const shown = request.shownAs ?? request.resource;
  const plain = iamMessage(principalSessionArn, request.action, shown, reason);
  switch (namespace) {
    case 'com.amazonaws.ecs':
    case 'com.amazonaws.ecr':
    case 'com.amazonaws.sfn':
    case 'com.amazonaws.dynamodb':
    case 'com.amazonaws.ssm':
    case 'com.amazonaws.kms':
      return {
        name: 'AccessDeniedException',
        code: 'AccessDeniedException',
        message: plain,
        httpStatusCode: 400,
        denied,
      };
    case 'com.amazonaws.secretsmanager':
      return {
        name: 'AccessDeniedException',
        code: 'AccessDeniedException',
        // Secrets Manager does not relay KMS's message.
        message: viaKms ? 'Access to KMS is not allowed' : plain,
        httpStatusCode: 400,
        denied,
      };
    case 'com.amazonaws.sns':
      if (viaKms) {
        return {
          name: 'KMSAccessDeniedException',
          code: 'KMSAccessDenied',
          message: `${plain} (Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException)`,
          httpStatusCode: 400,
          denied,
        };
      }
      return {
        name: 'AuthorizationErrorException',
        code: 'AuthorizationError',
        // SNS writes the action's service prefix in capitals.
        message: iamMessage(
          principalSessionArn,
          request.action.replace(/^sns:/i, 'SNS:'),
          request.resource,
          reason,
        ),
        httpStatusCode: 403,
        denied,
      };
    case 'com.amazonaws.cloudformation':
      // CloudFormation's query API answers a denied call with the AccessDenied code, HTTP 403.
      return { name: 'AccessDenied', code: 'AccessDenied', message: plain, httpStatusCode: 403, denied };
    case 'com.amazonaws.s3':
      return {
        name: 'AccessDenied',
        code: 'AccessDenied',
        message: iamMessage(principalSessionArn, request.action, `"${shown}"`, reason),
        httpStatusCode: 403,
        denied,
      };
    default:
      throw new UnsupportedCommand(`The sandbox does not know how ${namespace} reports AccessDenied.`);
  }
}
