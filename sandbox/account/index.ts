/**
 * `createSimulatedAccount`: one simulated AWS account (ECS, ECR, Secrets Manager, SNS, S3, SSM, Step
 * Functions task tokens, DynamoDB, EventBridge) on one virtual clock, seeded from the deployment
 * configuration's environments, with SDK-shaped clients for the real handlers and a live local service for smoke tests.
 */
import type { AwsClients, SendOnly } from '../../lambdas/aws/clients';
import type { EnvironmentName, Environments } from '../../lambdas/domain/environments';
import { repositoryDeployConfig } from '../../infra/deploy-config-file';
import { startLiveService } from '../live-service';
import { afu9TimingModel, type TimingModel } from '../timing-model';
import type { SimulatedClient } from './dispatch';
import { SimulatedDynamoDb, type TableDefinition } from './dynamodb/table';
import { SimulatedEcr } from './ecr';
import { seededSecretValues } from './ecs/seed';
import { SimulatedEcs, type EcsServiceOptions } from './ecs/simulated-ecs';
import { SimulatedEventBus } from './event-bus';
import { FaultInjector } from './faults';
import { IdSource } from './ids';
import { SimulatedCloudFormation } from './cloudformation';
import { SimulatedS3 } from './s3';
import { SimulatedSecretsManager, type SecretCondition } from './secrets-manager';
import { SimulatedSfn } from './sfn';
import type { RevisionBehaviour, SimulatedAccount } from './simulated-account';
import { SimulatedSns } from './sns';
import { SimulatedSsm } from './ssm';
import { VirtualClock } from './virtual-clock';

export interface SimulatedAccountOptions {
  /** The environments whose services, images and secrets the account holds. @default the repository's deploy.config.json */
  readonly environments?: Environments;
  /** @default 123456789012 */
  readonly accountId?: string;
  /** @default eu-central-1 */
  readonly region?: string;
  /** @default a new clock at 2026-11-27T09:00:00Z */
  readonly clock?: VirtualClock;
  /** Seed of the deterministic ids (task ARNs, deployment ids). @default 1 */
  readonly seed?: number;
  /** Overrides of the timing model. @default afu9TimingModel */
  readonly timing?: Partial<TimingModel>;
  readonly services?: Partial<Record<EnvironmentName, EcsServiceOptions>>;
  /** How revisions behave, by image tag or digest; every other image is healthy. */
  readonly behaviours?: Readonly<Record<string, RevisionBehaviour>>;
  /** Secret name → the JSON value it holds. @default a value for every configured key (seededSecretValues) */
  readonly secretValues?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Secret name → its state. @default every secret valid */
  readonly secrets?: Readonly<Record<string, SecretCondition>>;
  /** @default ['arn:aws:sns:<region>:<account>:afu9-deployments'] */
  readonly topicArns?: readonly string[];
  /** @default ['afu9-deploy-diffs'] */
  readonly buckets?: readonly string[];
  /** @default one table `afu9-deployments` keyed by pk + sk */
  readonly tables?: readonly TableDefinition[];
  /** The environment the live service answers for without a path prefix. @default the first configured */
  readonly liveServiceEnvironment?: EnvironmentName;
}

function asClient<T extends { send: unknown }>(client: SimulatedClient): SendOnly<T> {
  return { send: client.send } as unknown as SendOnly<T>;
}

export async function createSimulatedAccount(
  options: SimulatedAccountOptions = {},
): Promise<SimulatedAccount> {
  const accountId = options.accountId ?? '123456789012';
  const region = options.region ?? 'eu-central-1';
  const account = { accountId, region };
  const clock = options.clock ?? new VirtualClock();
  const timing: TimingModel = { ...afu9TimingModel, ...options.timing };
  const ids = new IdSource(options.seed ?? 1);
  const faults = new FaultInjector();
  const bus = new SimulatedEventBus(
    clock,
    faults,
    ids,
    { account: accountId, region },
    timing.eventDeliverySeconds,
  );
  const environments = options.environments ?? repositoryDeployConfig().environments;
  const envs = Object.values(environments);

  const repositories = [...new Set(envs.flatMap((env) => env.containers.map((c) => c.repository)))];
  const ecr = new SimulatedEcr(account, clock, bus, faults, repositories);
  const secretsManager = new SimulatedSecretsManager(account, clock, faults);
  for (const name of new Set(envs.flatMap((env) => env.secrets.map((s) => s.name)))) {
    secretsManager.seed(name, { ...(options.secretValues?.[name] ?? seededSecretValues(name, envs)) });
  }
  const sns = new SimulatedSns(
    new Set(options.topicArns ?? [`arn:aws:sns:${region}:${accountId}:afu9-deployments`]),
    clock,
    ids,
    faults,
  );
  const s3 = new SimulatedS3(options.buckets ?? ['afu9-deploy-diffs'], clock, faults);
  const sfn = new SimulatedSfn(ids, clock, faults);
  const ssm = new SimulatedSsm(account, clock, faults);
  const dynamodb = new SimulatedDynamoDb(
    faults,
    options.tables ?? [{ name: 'afu9-deployments', partitionKey: 'pk', sortKey: 'sk' }],
  );

  const cloudformation = new SimulatedCloudFormation(account, clock, faults, [
    ...new Set(envs.flatMap((env) => (env.infrastructure?.stacks ?? []).map((stack) => stack.name))),
  ]);

  const ecs = new SimulatedEcs(
    { account, clock, timing, ids, bus, faults, ecr, secrets: secretsManager },
    environments,
    { services: options.services, behaviours: options.behaviours },
  );
  for (const [name, condition] of Object.entries(options.secrets ?? {})) {
    secretsManager.setCondition(name, condition);
  }

  const liveService = await startLiveService({
    environments,
    servedRevision: (environment) => ecs.servingRevision(environment),
    defaultEnvironment: options.liveServiceEnvironment ?? envs[0]!.name,
    now: () => clock.now(),
    hangs: () => faults.liveServiceHangs,
  });

  const clients = {
    ecs: ecs.client,
    ecr: ecr.client,
    secretsManager: secretsManager.client,
    sns: sns.client,
    s3: s3.client,
    sfn: sfn.client,
    dynamodb: dynamodb.client,
    ssm: ssm.client,
    cloudformation: cloudformation.client,
  };

  return {
    accountId,
    region,
    clock,
    environments,
    clients: {
      ecs: asClient(clients.ecs),
      ecr: asClient(clients.ecr),
      secretsManager: asClient(clients.secretsManager),
      sns: asClient(clients.sns),
      s3: asClient(clients.s3),
      sfn: asClient(clients.sfn),
      dynamodb: asClient(clients.dynamodb),
      ssm: asClient(clients.ssm),
      cloudformation: asClient(clients.cloudformation),
    } satisfies AwsClients,
    supportedCommands: {
      ecs: clients.ecs.supportedCommands,
      ecr: clients.ecr.supportedCommands,
      secretsManager: clients.secretsManager.supportedCommands,
      sns: clients.sns.supportedCommands,
      s3: clients.s3.supportedCommands,
      sfn: clients.sfn.supportedCommands,
      dynamodb: clients.dynamodb.supportedCommands,
      ssm: clients.ssm.supportedCommands,
      cloudformation: clients.cloudformation.supportedCommands,
    },
    bus,
    published: sns.published,
    publishAsService: (topicArn, subject, message) =>
      sns.publishAsService({ TopicArn: topicArn, Subject: subject, Message: message }),
    onTaskTokenCompleted: (listener) => sfn.onTaskTokenCompleted(listener),
    liveServiceUrl: liveService.url,
    liveServiceUrlFor: (environment) => liveService.urlFor(environment),
    faults: {
      inject: (fault) => faults.inject(fault),
      injectEvent: (fault) => faults.injectEvent(fault),
      hangLiveService: (hang) => faults.hangLiveService(hang),
      duringCall: (hook) => faults.duringCall(hook),
      get struck() {
        return faults.struck;
      },
    },
    ecs: {
      servingRevision: (environment) => ecs.servingRevision(environment),
      primaryTaskDefinition: (environment) => ecs.primaryTaskDefinition(environment),
      tripCircuitBreaker: (environment) => ecs.tripCircuitBreaker(environment),
      setBehaviour: (key, behaviour) => ecs.setBehaviour(key, behaviour),
      deployImage: (input) => ecs.deployImage(input),
      latestTaskDefinitionRevision: (family) => ecs.latestTaskDefinitionRevision(family),
      latestActiveTaskDefinitionArn: (family) => ecs.latestActiveTaskDefinitionArn(family),
    },
    ecr: {
      pushImage: (repository, tag, pushOptions) => ecr.pushImage(repository, tag, pushOptions),
      deleteImage: (repository, tagOrDigest) => ecr.deleteImage(repository, tagOrDigest),
      digestOf: (repository, tag) => ecr.findImage(repository, { tag })?.digest,
    },
    secretsManager: {
      setCondition: (name, condition) => secretsManager.setCondition(name, condition),
      arnOf: (name) => secretsManager.arnOf(name),
      arnFor: (secretId) => secretsManager.arnFor(secretId),
    },
    s3: {
      createBucket: (name) => s3.createBucket(name),
      putObject: (bucket, key, body) => s3.putObject(bucket, key, body),
      getObjectText: (bucket, key) => s3.getObjectText(bucket, key),
    },
    sfn: {
      issueToken: () => sfn.issueToken(),
      issued: (token) => sfn.issued(token),
      expireToken: (token) => sfn.expireToken(token),
      recordExecution: (execution) => sfn.recordExecution(execution),
      finishExecution: (executionArn, status) => sfn.finishExecution(executionArn, status),
      executionExists: (executionArn) => sfn.executionExists(executionArn),
    },
    dynamodb: { items: (tableName) => dynamodb.items(tableName) },
    ssm: { parameters: () => ssm.all() },
    cloudformation: {
      startUpdate: (name, ending) => cloudformation.startUpdate(name, ending),
      status: (name) => cloudformation.status(name),
      stackArn: (nameOrArn) => cloudformation.stackArn(nameOrArn),
    },
    close: async () => {
      clock.clear();
      await liveService.close();
    },
  };
}

export type { EcsServiceOptions } from './ecs/simulated-ecs';
export type { SimulatedAccount } from './simulated-account';
