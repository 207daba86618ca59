/**
 * A synthesized cloud assembly read as the sandbox needs it: the orchestrator stack's template, and
 * for each Lambda function its bundle (the asset folder `cdk synth` wrote beside the template), its
 * settings and its role's policies, with every intrinsic resolved for one simulated account.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { PolicyDocument } from '../iam/policy';
import { policiesFromTemplate, type TemplatePolicies } from '../iam/template-policies';
import {
  TemplateResolutionError,
  TemplateResolver,
  type Template,
  type TemplateResource,
} from './intrinsics';

export type { PolicyDocument } from '../iam/policy';

/** A synthesized template and the folder its assets are in, not yet placed in an account. */
export interface StackAssembly {
  readonly templatePath: string;
  readonly stackName: string;
  readonly template: Template;
}

export interface DeployedFunction {
  /** The handler file it runs, e.g. `resolve-request` (its `POWERTOOLS_SERVICE_NAME`). */
  readonly handlerName: string;
  readonly logicalId: string;
  readonly functionName: string;
  readonly functionArn: string;
  /** The bundle's entry, `<asset folder>/index.js`. */
  readonly bundlePath: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly roleName: string;
  readonly roleArn: string;
  /** The role's inline and attached policies from the template. */
  readonly policies: readonly PolicyDocument[];
  /** How Lambda handles its asynchronous invocations (its `AWS::Lambda::EventInvokeConfig`, or Lambda's defaults). */
  readonly asyncInvocation: AsyncInvocationConfig;
}

/** Lambda's asynchronous invocation settings of a function (`$LATEST`). */
export interface AsyncInvocationConfig {
  /** Retries after a function error (0 to 2). */
  readonly maximumRetryAttempts: number;
  /** How long an event may wait for an attempt before Lambda gives up on it. */
  readonly maximumEventAgeSeconds: number;
  /** Where the record of an event that failed every attempt goes; none: Lambda drops it. */
  readonly onFailureArn?: string;
}

/** Lambda's defaults without an EventInvokeConfig: two retries, events kept for six hours, no destination. */
const DEFAULT_ASYNC_INVOCATION: AsyncInvocationConfig = {
  maximumRetryAttempts: 2,
  maximumEventAgeSeconds: 6 * 3600,
};

/** An SQS queue of the stack (a dead-letter or on-failure queue). */
export interface DeployedQueue {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** The customer managed key that encrypts it; none for SQS-managed encryption. */
  readonly kmsKeyArn?: string;
}

/** One metric an alarm reads: its namespace, name and dimensions. */
export interface AlarmMetric {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** One entry of a metric-math alarm's `Metrics`: a metric with a statistic, or an expression. */
export type AlarmQuery =
  | {
      readonly id: string;
      readonly returnData: boolean;
      readonly metric: AlarmMetric;
      readonly stat: string;
      readonly period: number;
    }
  | {
      readonly id: string;
      readonly returnData: boolean;
      readonly expression: string;
      readonly label?: string;
    };

/** A CloudWatch alarm of the stack, intrinsics resolved. */
export interface DeployedAlarm {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly description: string;
  readonly alarmActions: readonly string[];
  readonly comparisonOperator: string;
  readonly threshold: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm?: number;
  readonly treatMissingData: string;
  /** A single-metric alarm: the metric, its statistic and period. */
  readonly single?: { readonly metric: AlarmMetric; readonly statistic: string; readonly period: number };
  /** A metric-math alarm: its queries. */
  readonly queries?: readonly AlarmQuery[];
}

/** The stack as deployed in one simulated account. */
export interface DeployedStack {
  readonly stackName: string;
  readonly accountId: string;
  readonly region: string;
  readonly functions: readonly DeployedFunction[];
  readonly topicArn: string;
  readonly tableName: string;
  /** Partition and sort key names of the table. */
  readonly tableKeys: { readonly partitionKey: string; readonly sortKey?: string };
  readonly stateMachineArn: string;
  readonly stateMachineRoleArn: string;
  /** The state machine's DefinitionSubstitutions, resolved (function ARNs, diff project and bucket). */
  readonly definitionSubstitutions: Readonly<Record<string, string>>;
  /** Resource ARN (topic, queue, bucket, KMS key) → its resource policy from the template. */
  readonly resourcePolicies: ReadonlyMap<string, PolicyDocument>;
  /** Topic ARN or bucket name → the ARN of the customer managed key that encrypts it. */
  readonly encryptionKeys: ReadonlyMap<string, string>;
  /** The EventBridge rules of the stack, enabled or not. */
  readonly rules: readonly DeployedRule[];
  /** The role Step Functions runs the workflow's Task states with. */
  readonly stateMachineRole: AssumedRole;
  readonly queues: readonly DeployedQueue[];
  readonly alarms: readonly DeployedAlarm[];
  /** The function URLs of the stack (AWS::Lambda::Url): which function, and how callers authenticate. */
  readonly functionUrls: readonly DeployedFunctionUrl[];
  /** Output key → the managed policy it names (`{ Ref: <AWS::IAM::ManagedPolicy> }`): what people attach. */
  readonly outputManagedPolicies: ReadonlyMap<string, DeployedManagedPolicy>;
}

export interface DeployedFunctionUrl {
  readonly functionArn: string;
  readonly authType: string;
}

export interface DeployedManagedPolicy {
  readonly logicalId: string;
  readonly document: PolicyDocument;
}

/** A role another service assumes to act for the stack (an EventBridge target's role). */
export interface AssumedRole {
  readonly roleName: string;
  readonly roleArn: string;
  readonly policies: readonly PolicyDocument[];
}

export interface RuleTarget {
  readonly arn: string;
  /** The role EventBridge assumes to deliver (required for a state machine target). */
  readonly role?: AssumedRole;
  /** The queue a delivery EventBridge cannot make goes to. */
  readonly deadLetterArn?: string;
}

export interface DeployedRule {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly enabled: boolean;
  /** The event pattern, intrinsics resolved. */
  readonly eventPattern: Readonly<Record<string, unknown>>;
  readonly targets: readonly RuleTarget[];
}

export function readStackAssembly(templatePath: string): StackAssembly {
  if (!existsSync(templatePath)) {
    throw new TemplateResolutionError(
      `No template at ${templatePath}. Pass the *.template.json that \`cdk synth -o <dir>\` wrote (its asset folders beside it).`,
    );
  }
  const template = JSON.parse(readFileSync(templatePath, 'utf8')) as Template;
  if (typeof template.Resources !== 'object' || template.Resources === null) {
    throw new TemplateResolutionError(
      `${templatePath} has no Resources; it is not a CloudFormation template.`,
    );
  }
  return { templatePath, stackName: basename(templatePath).replace(/\.template\.json$/, ''), template };
}

function resourcesOfType(template: Template, type: string): [string, TemplateResource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

function onlyOne(template: Template, type: string, what: string): string {
  const found = resourcesOfType(template, type);
  if (found.length !== 1) {
    throw new TemplateResolutionError(
      `The template defines ${found.length} ${type} resources; the sandbox expects exactly one (${what}).`,
    );
  }
  return found[0]![0];
}

function logicalIdOf(value: unknown, what: string): string {
  const ref = (value as { Ref?: unknown; 'Fn::GetAtt'?: unknown } | null) ?? {};
  const id =
    typeof ref.Ref === 'string'
      ? ref.Ref
      : Array.isArray(ref['Fn::GetAtt'])
        ? ref['Fn::GetAtt'][0]
        : undefined;
  if (typeof id !== 'string') {
    throw new TemplateResolutionError(`${what} is not a Ref or Fn::GetAtt of a resource of the template.`);
  }
  return id;
}

/** A role's identity policies from the template; a role with policies the template does not hold is refused. */
function rolePolicies(policies: TemplatePolicies, roleId: string): readonly PolicyDocument[] {
  const external = policies.externalManagedPolicies.get(roleId);
  if (external && external.length > 0) {
    throw new TemplateResolutionError(
      `Role ${roleId} has managed policies whose statements are not in the template (${external.join(', ')}); ` +
        'the sandbox cannot authorize its calls. Give the role grants defined in the stack to rehearse it.',
    );
  }
  return policies.identityPolicies.get(roleId) ?? [];
}

/** Each resource policy of the template, by the ARN of the resource it governs (topic, queue, bucket, function, key). */
function resourcePoliciesByArn(
  template: Template,
  resolver: TemplateResolver,
  policies: TemplatePolicies,
): Map<string, PolicyDocument> {
  return new Map(
    [...policies.resourcePolicies].map(([key, document]) => [
      key in template.Resources ? resolver.arnOf(key) : key,
      document,
    ]),
  );
}

/** A key reference (`Ref` = key id, `Fn::GetAtt Arn`, or an ARN) as a key ARN; an alias names no key here. */
function keyArn(resolver: TemplateResolver, reference: unknown): string | undefined {
  if (reference === undefined) return undefined;
  const resolved = String(resolver.resolve(reference));
  if (resolved.startsWith('arn:')) return resolved.includes(':alias/') ? undefined : resolved;
  if (resolved.startsWith('alias/')) return undefined;
  return `arn:aws:kms:${resolver.placement.region}:${resolver.placement.accountId}:key/${resolved}`;
}

interface BucketEncryption {
  readonly ServerSideEncryptionConfiguration?: readonly {
    readonly ServerSideEncryptionByDefault?: Readonly<Record<string, unknown>>;
  }[];
}

/** The customer managed keys that encrypt topics and buckets (SSE-KMS), by topic ARN or bucket name. */
function encryptionKeys(template: Template, resolver: TemplateResolver): Map<string, string> {
  const keys = new Map<string, string>();
  for (const [id, topic] of resourcesOfType(template, 'AWS::SNS::Topic')) {
    const key = keyArn(resolver, topic.Properties?.KmsMasterKeyId);
    if (key) keys.set(resolver.arnOf(id), key);
  }
  for (const [id, bucket] of resourcesOfType(template, 'AWS::S3::Bucket')) {
    const encryption = bucket.Properties?.BucketEncryption as BucketEncryption | undefined;
    const byDefault = encryption?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault;
    const key =
      byDefault?.SSEAlgorithm === 'aws:kms' ? keyArn(resolver, byDefault.KMSMasterKeyID) : undefined;
    if (key) keys.set(resolver.physicalName(id), key);
  }
  return keys;
}

/** The stack placed in an account: names, ARNs, settings and policies as CloudFormation would make them. */
export function deployStack(assembly: StackAssembly, accountId: string, region: string): DeployedStack {
  const { template, stackName } = assembly;
  const resolver = new TemplateResolver(template, { stackName, accountId, region });
  const assetRoot = dirname(assembly.templatePath);
  const policies = policiesFromTemplate(template, (intrinsic) => String(resolver.resolve(intrinsic)));
  const functions = resourcesOfType(template, 'AWS::Lambda::Function').map(([logicalId, resource]) => {
    const properties = resource.Properties ?? {};
    const environment = resolver.resolve(
      (properties.Environment as { Variables?: unknown } | undefined)?.Variables ?? {},
    ) as Record<string, string>;
    const handlerName = environment.POWERTOOLS_SERVICE_NAME;
    const assetPath = resource.Metadata?.['aws:asset:path'];
    if (!handlerName || typeof assetPath !== 'string') {
      throw new TemplateResolutionError(
        `Function ${logicalId} has no POWERTOOLS_SERVICE_NAME or no aws:asset:path; the sandbox cannot tell which bundle it runs.`,
      );
    }
    const bundlePath = join(assetRoot, assetPath, 'index.js');
    if (!existsSync(bundlePath)) {
      throw new TemplateResolutionError(
        `The bundle of ${handlerName} is missing: ${bundlePath}. Keep the asset folders beside the template (synthesize with \`cdk synth -o <dir>\`).`,
      );
    }
    const roleId = logicalIdOf(properties.Role, `The Role of function ${logicalId}`);
    return {
      handlerName,
      logicalId,
      functionName: resolver.physicalName(logicalId),
      functionArn: resolver.arnOf(logicalId),
      bundlePath,
      environment,
      roleName: resolver.physicalName(roleId),
      roleArn: resolver.arnOf(roleId),
      policies: rolePolicies(policies, roleId),
      asyncInvocation: asyncInvocationOf(template, resolver, logicalId),
    };
  });
  const assumedRole = (value: unknown, what: string): AssumedRole => {
    const roleId = logicalIdOf(value, what);
    return {
      roleName: resolver.physicalName(roleId),
      roleArn: resolver.arnOf(roleId),
      policies: rolePolicies(policies, roleId),
    };
  };
  const rules = resourcesOfType(template, 'AWS::Events::Rule').map(([logicalId, resource]) => {
    const properties = resource.Properties ?? {};
    const targets = (properties.Targets ?? []) as Record<string, unknown>[];
    return {
      logicalId,
      name: resolver.physicalName(logicalId),
      arn: resolver.arnOf(logicalId),
      enabled: (properties.State ?? 'ENABLED') === 'ENABLED',
      eventPattern: resolver.resolve(properties.EventPattern ?? {}) as Record<string, unknown>,
      targets: targets.map((target) => {
        const deadLetter = (target.DeadLetterConfig as { Arn?: unknown } | undefined)?.Arn;
        return {
          arn: String(resolver.resolve(target.Arn)),
          ...(target.RoleArn !== undefined
            ? { role: assumedRole(target.RoleArn, `The RoleArn of a target of rule ${logicalId}`) }
            : {}),
          ...(deadLetter !== undefined ? { deadLetterArn: String(resolver.resolve(deadLetter)) } : {}),
        };
      }),
    };
  });
  const tableId = onlyOne(template, 'AWS::DynamoDB::Table', 'the deployment table');
  const keySchema = (template.Resources[tableId]!.Properties?.KeySchema ?? []) as {
    AttributeName: string;
    KeyType: string;
  }[];
  const partitionKey = keySchema.find((key) => key.KeyType === 'HASH')?.AttributeName;
  if (!partitionKey) throw new TemplateResolutionError(`Table ${tableId} has no HASH key.`);
  const sortKey = keySchema.find((key) => key.KeyType === 'RANGE')?.AttributeName;
  const stateMachineId = onlyOne(template, 'AWS::StepFunctions::StateMachine', 'the deployment workflow');
  const stateMachine = template.Resources[stateMachineId]!.Properties ?? {};
  return {
    stackName,
    accountId,
    region,
    functions,
    topicArn: resolver.arnOf(onlyOne(template, 'AWS::SNS::Topic', 'the notifications topic')),
    tableName: resolver.physicalName(tableId),
    tableKeys: sortKey ? { partitionKey, sortKey } : { partitionKey },
    stateMachineArn: resolver.arnOf(stateMachineId),
    stateMachineRoleArn: String(resolver.resolve(stateMachine.RoleArn)),
    stateMachineRole: assumedRole(stateMachine.RoleArn, `The RoleArn of state machine ${stateMachineId}`),
    definitionSubstitutions: resolver.resolve(stateMachine.DefinitionSubstitutions ?? {}) as Record<
      string,
      string
    >,
    resourcePolicies: resourcePoliciesByArn(template, resolver, policies),
    encryptionKeys: encryptionKeys(template, resolver),
    rules,
    queues: resourcesOfType(template, 'AWS::SQS::Queue').map(([logicalId, queue]) => {
      const kmsKeyArn = keyArn(resolver, queue.Properties?.KmsMasterKeyId);
      return {
        logicalId,
        name: resolver.physicalName(logicalId),
        arn: resolver.arnOf(logicalId),
        ...(kmsKeyArn ? { kmsKeyArn } : {}),
      };
    }),
    alarms: resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([logicalId, alarm]) =>
      alarmOf(resolver, logicalId, alarm.Properties ?? {}),
    ),
    functionUrls: resourcesOfType(template, 'AWS::Lambda::Url').map(([, url]) => ({
      functionArn: String(resolver.resolve(url.Properties?.TargetFunctionArn)),
      authType: String(url.Properties?.AuthType),
    })),
    outputManagedPolicies: outputManagedPolicies(template, resolver),
  };
}

/** The managed policies the stack's outputs name, with their documents resolved. */
function outputManagedPolicies(
  template: Template,
  resolver: TemplateResolver,
): ReadonlyMap<string, DeployedManagedPolicy> {
  const named = new Map<string, DeployedManagedPolicy>();
  for (const [key, output] of Object.entries(template.Outputs ?? {})) {
    const ref = (output.Value as { Ref?: unknown } | undefined)?.Ref;
    const resource = typeof ref === 'string' ? template.Resources[ref] : undefined;
    if (resource?.Type !== 'AWS::IAM::ManagedPolicy') continue;
    named.set(key, {
      logicalId: ref as string,
      document: resolver.resolve(resource.Properties?.PolicyDocument) as PolicyDocument,
    });
  }
  return named;
}

/** The function's EventInvokeConfig for `$LATEST` (the version EventBridge invokes), or Lambda's defaults. */
function asyncInvocationOf(
  template: Template,
  resolver: TemplateResolver,
  functionId: string,
): AsyncInvocationConfig {
  const configs = resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig').filter(
    ([, config]) =>
      logicalIdOf(config.Properties?.FunctionName, 'The FunctionName of an EventInvokeConfig') ===
        functionId && (config.Properties?.Qualifier ?? '$LATEST') === '$LATEST',
  );
  const properties = configs[0]?.[1].Properties;
  if (!properties) return DEFAULT_ASYNC_INVOCATION;
  const onFailure = (properties.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined)
    ?.OnFailure?.Destination;
  return {
    maximumRetryAttempts: Number(
      properties.MaximumRetryAttempts ?? DEFAULT_ASYNC_INVOCATION.maximumRetryAttempts,
    ),
    maximumEventAgeSeconds: Number(
      properties.MaximumEventAgeInSeconds ?? DEFAULT_ASYNC_INVOCATION.maximumEventAgeSeconds,
    ),
    ...(onFailure !== undefined ? { onFailureArn: String(resolver.resolve(onFailure)) } : {}),
  };
}

interface TemplateDimension {
  readonly Name: string;
  readonly Value: unknown;
}

function metricOf(
  resolver: TemplateResolver,
  namespace: unknown,
  metricName: unknown,
  dimensions: unknown,
): AlarmMetric {
  return {
    namespace: String(namespace),
    metricName: String(metricName),
    dimensions: Object.fromEntries(
      ((dimensions ?? []) as TemplateDimension[]).map((dimension) => [
        dimension.Name,
        String(resolver.resolve(dimension.Value)),
      ]),
    ),
  };
}

interface TemplateMetricQuery {
  readonly Id: string;
  readonly ReturnData?: boolean;
  readonly Expression?: string;
  readonly Label?: string;
  readonly MetricStat?: {
    readonly Metric: {
      readonly Namespace: string;
      readonly MetricName: string;
      readonly Dimensions?: unknown;
    };
    readonly Period: number;
    readonly Stat: string;
  };
}

function alarmOf(
  resolver: TemplateResolver,
  logicalId: string,
  properties: Readonly<Record<string, unknown>>,
): DeployedAlarm {
  const common = {
    logicalId,
    name: resolver.physicalName(logicalId),
    arn: resolver.arnOf(logicalId),
    description: String(properties.AlarmDescription ?? ''),
    alarmActions: ((resolver.resolve(properties.AlarmActions ?? []) as unknown[]) ?? []).map(String),
    comparisonOperator: String(properties.ComparisonOperator),
    threshold: Number(properties.Threshold),
    evaluationPeriods: Number(properties.EvaluationPeriods),
    ...(properties.DatapointsToAlarm !== undefined
      ? { datapointsToAlarm: Number(properties.DatapointsToAlarm) }
      : {}),
    treatMissingData: String(properties.TreatMissingData ?? 'missing'),
  };
  if (Array.isArray(properties.Metrics)) {
    return {
      ...common,
      queries: (properties.Metrics as TemplateMetricQuery[]).map((query) =>
        query.MetricStat
          ? {
              id: query.Id,
              returnData: query.ReturnData ?? true,
              metric: metricOf(
                resolver,
                query.MetricStat.Metric.Namespace,
                query.MetricStat.Metric.MetricName,
                query.MetricStat.Metric.Dimensions,
              ),
              stat: query.MetricStat.Stat,
              period: query.MetricStat.Period,
            }
          : {
              id: query.Id,
              returnData: query.ReturnData ?? true,
              expression: String(query.Expression),
              ...(query.Label !== undefined ? { label: query.Label } : {}),
            },
      ),
    };
  }
  return {
    ...common,
    single: {
      metric: metricOf(resolver, properties.Namespace, properties.MetricName, properties.Dimensions),
      statistic: String(properties.Statistic ?? properties.ExtendedStatistic),
      period: Number(properties.Period),
    },
  };
}
