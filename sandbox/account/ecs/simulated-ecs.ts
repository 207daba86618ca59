/**
 * Simulated ECS as a whole: the task definition registry, the service engine seeded with the
 * configured environments' steady services, the API client, and the scenario controls (revision behaviour per image, what
 * the load balancer serves, a deployment started outside the orchestrator).
 */
import type { EnvironmentConfig, EnvironmentName, Environments } from '../../../lambdas/domain/environments';
import type { TimingModel } from '../../timing-model';
import type { SimulatedClient } from '../dispatch';
import { parseImageUri, type SimulatedEcr } from '../ecr';
import type { SimulatedEventBus } from '../event-bus';
import type { FaultInjector } from '../faults';
import type { IdSource } from '../ids';
import type { SimulatedSecretsManager } from '../secrets-manager';
import type { EcsControl, RevisionBehaviour, ServingRevision } from '../simulated-account';
import type { VirtualClock } from '../virtual-clock';
import { createEcsClient } from './api';
import { seededTaskDefinition } from './seed';
import { ServiceEngine, type SimDeployment, type SimService } from './service-engine';
import { TaskDefinitionRegistry, type StoredRevision } from './task-definitions';

export interface EcsServiceOptions {
  /** @default 2 for an environment that requires the allow flag, 1 for any other */
  readonly desiredCount?: number;
  /** Whether ECS's circuit breaker rolls back by itself. @default true (as AFU-9 runs it) */
  readonly circuitBreakerRollback?: boolean;
  /**
   * Tag of the images the service runs at the start.
   * @default the environment's tag prefix + `1a2b3c4` (the first environment), `0f1e2d3` (the second), ...
   */
  readonly runningImageTag?: string;
}

export interface SimulatedEcsDependencies {
  readonly account: { readonly accountId: string; readonly region: string };
  readonly clock: VirtualClock;
  readonly timing: TimingModel;
  readonly ids: IdSource;
  readonly bus: SimulatedEventBus;
  readonly faults: FaultInjector;
  readonly ecr: SimulatedEcr;
  readonly secrets: SimulatedSecretsManager;
}

function primaryContainer(env: EnvironmentConfig): SimService['loadBalancedContainer'] {
  const primary = env.containers.find((container) => container.primary)!;
  return { name: primary.name, ...(primary.port !== undefined ? { port: primary.port } : {}) };
}

/** The builds the seeded services run, in the order of the configured environments. */
const RUNNING_BUILDS = ['1a2b3c4', '0f1e2d3', '2c3d4e5', '3d4e5f6', '4e5f6a7', '5f6a7b8'];
/** The builds of the release before the running one (the ledger's previous verified release), in the same order. */
const PREVIOUS_BUILDS = ['0e7d6c5', '0b9a8f7', '0c1d2e3', '0d2e3f4', '0e3f4a5', '0f4a5b6'];
function previousReleaseTag(env: EnvironmentConfig, index: number): string {
  return `${env.imageTagPrefix}${PREVIOUS_BUILDS[index % PREVIOUS_BUILDS.length]!}`;
}

/** How long the seeded services have been steady when the sandbox starts. */
const SEEDED_STEADY_FOR_MS = 2 * 24 * 3600 * 1000;
/** How long before the running release the previous one was registered. */
const PREVIOUS_RELEASE_BEFORE_MS = 7 * 24 * 3600 * 1000;
/** AFU-9's family is well past its first revisions; the previous release is :40, the running one :41. */
const FIRST_REVISION = 40;

export class SimulatedEcs implements EcsControl {
  readonly client: SimulatedClient;
  private readonly behaviours: Map<string, RevisionBehaviour>;
  private readonly taskDefinitions: TaskDefinitionRegistry;
  private readonly engine: ServiceEngine;
  private readonly serviceByEnvironment = new Map<EnvironmentName, SimService>();

  constructor(
    private readonly deps: SimulatedEcsDependencies,
    private readonly environments: Environments,
    options: {
      readonly services?: Partial<Record<EnvironmentName, EcsServiceOptions>>;
      readonly behaviours?: Readonly<Record<string, RevisionBehaviour>>;
    },
  ) {
    const { account, clock } = deps;
    this.behaviours = new Map(Object.entries(options.behaviours ?? {}));
    this.taskDefinitions = new TaskDefinitionRegistry(account, FIRST_REVISION);
    this.engine = new ServiceEngine({
      ...deps,
      taskDefinitions: this.taskDefinitions,
      behaviourOf: (revision) => this.behaviourOf(revision),
    });
    const envs = Object.values(environments);
    const clusters = [...new Set(envs.map((env) => env.clusterName))];
    if (clusters.length !== 1) {
      throw new Error(
        `The rehearsal simulates one ECS cluster; the configuration names ${clusters.length} (${clusters.join(', ')}). ` +
          'Rehearse with a configuration whose environments share one cluster.',
      );
    }
    const clusterArn = `arn:aws:ecs:${account.region}:${account.accountId}:cluster/${clusters[0]}`;
    envs.forEach((env, index) =>
      this.seedService(env, index, clusterArn, options.services?.[env.name] ?? {}),
    );
    this.client = createEcsClient({
      clusterArn,
      engine: this.engine,
      taskDefinitions: this.taskDefinitions,
      clock,
      faults: deps.faults,
    });
  }

  /** A service steady on its revision, as it runs between deployments. */
  private seedService(
    env: EnvironmentConfig,
    index: number,
    clusterArn: string,
    options: EcsServiceOptions,
  ): void {
    const { account, ids, ecr, secrets } = this.deps;
    const seededAt = new Date(this.deps.clock.nowMillis() - SEEDED_STEADY_FOR_MS);
    const build = RUNNING_BUILDS[index % RUNNING_BUILDS.length]!;
    const imageTag = options.runningImageTag ?? `${env.imageTagPrefix}${build}`;
    // The release before, still ACTIVE as services keep it: what a rollback a person asks for returns to.
    this.taskDefinitions.register(
      seededTaskDefinition(env, previousReleaseTag(env, index), ecr, secrets, account.accountId),
      new Date(seededAt.getTime() - PREVIOUS_RELEASE_BEFORE_MS),
    );
    const revision = this.taskDefinitions.register(
      seededTaskDefinition(env, imageTag, ecr, secrets, account.accountId),
      seededAt,
    );
    const desiredCount = options.desiredCount ?? (env.requiresAllowFlag ? 2 : 1);
    const deploymentId = ids.deploymentId();
    const deployment: SimDeployment = {
      id: deploymentId,
      status: 'PRIMARY',
      taskDefinitionArn: revision.arn,
      desiredCount,
      failedTasks: 0,
      createdAt: seededAt,
      updatedAt: seededAt,
      rolloutState: 'COMPLETED',
      rolloutStateReason: `ECS deployment ${deploymentId} completed.`,
    };
    const service: SimService = {
      name: env.serviceName,
      arn: `${clusterArn.replace(':cluster/', ':service/')}/${env.serviceName}`,
      clusterArn,
      targetGroupArn: `arn:aws:elasticloadbalancing:${account.region}:${account.accountId}:targetgroup/${env.name}-tg/${ids.hex(16)}`,
      loadBalancedContainer: primaryContainer(env),
      createdAt: new Date(seededAt.getTime() - 30 * 24 * 3600 * 1000),
      desiredCount,
      circuitBreaker: { enable: true, rollback: options.circuitBreakerRollback ?? true },
      deployments: [deployment],
      events: [],
      tags: [{ key: 'deploy:environment', value: env.name }],
      lastCompleted: deployment,
    };
    for (let i = 0; i < desiredCount; i++)
      this.engine.seedRunningTask(service, deployment, revision, seededAt);
    this.engine.addEvent(service, 'has reached a steady state.');
    this.engine.services.set(service.name, service);
    this.serviceByEnvironment.set(env.name, service);
  }

  /** Every tag and digest the revision's images go by: a behaviour may name any of them. */
  private imageKeys(revision: StoredRevision): string[] {
    return (revision.definition.containerDefinitions ?? []).flatMap((container) => {
      const parsed = parseImageUri(container.image ?? '');
      if (!parsed) return [];
      const image = this.deps.ecr.findImage(parsed.repository, { tag: parsed.tag, digest: parsed.digest });
      return [parsed.tag, parsed.digest, image?.digest, ...(image ? [...image.tags] : [])].filter(
        (key): key is string => key !== undefined,
      );
    });
  }

  private behaviourOf(revision: StoredRevision): RevisionBehaviour {
    for (const key of this.imageKeys(revision)) {
      const behaviour = this.behaviours.get(key);
      if (behaviour) return behaviour;
    }
    return { kind: 'healthy' };
  }

  private serviceOf(environment: EnvironmentName): SimService {
    const service = this.serviceByEnvironment.get(environment);
    if (!service) throw new Error(`The sandbox has no service for environment ${environment}.`);
    return service;
  }

  private environmentConfig(environment: EnvironmentName): EnvironmentConfig {
    const config = this.environments[environment];
    if (!config) throw new Error(`The sandbox has no environment ${environment} in its configuration.`);
    return config;
  }

  /** The newest revision number of a task definition family, whatever its status. */
  latestTaskDefinitionRevision(family: string): number | undefined {
    return this.taskDefinitions.latestRevision(family);
  }

  /** The ARN ECS resolves a bare family to: its newest ACTIVE revision. */
  latestActiveTaskDefinitionArn(family: string): string | undefined {
    return this.taskDefinitions.find(family)?.arn;
  }

  /** What the build reports: its primary image tag (the environment's tag when a digest has several). */
  private versionOf(revision: StoredRevision, environment: EnvironmentName): string {
    const env = this.environmentConfig(environment);
    const primaryName = env.containers.find((c) => c.primary)?.name;
    const container = revision.definition.containerDefinitions?.find((c) => c.name === primaryName);
    const parsed = parseImageUri(container?.image ?? '');
    if (!parsed) return 'unknown';
    if (parsed.tag) return parsed.tag;
    const tags = [...(this.deps.ecr.findImage(parsed.repository, { digest: parsed.digest })?.tags ?? [])];
    return tags.find((tag) => tag.startsWith(env.imageTagPrefix)) ?? tags[0] ?? parsed.digest ?? 'unknown';
  }

  servingRevision(environment: EnvironmentName): ServingRevision | undefined {
    for (const deployment of this.serviceOf(environment).deployments) {
      const task = this.engine.tasksOf(deployment.id).find((t) => this.engine.isServing(t));
      const revision = task ? this.taskDefinitions.findByArn(task.taskDefinitionArn) : undefined;
      if (task && revision) {
        return {
          taskDefinitionArn: revision.arn,
          version: this.versionOf(revision, environment),
          behaviour: task.behaviour,
        };
      }
    }
    return undefined;
  }

  primaryTaskDefinition(environment: EnvironmentName): string {
    return this.serviceOf(environment).deployments[0]!.taskDefinitionArn;
  }

  tripCircuitBreaker(environment: EnvironmentName): boolean {
    return this.engine.tripCircuitBreaker(this.serviceOf(environment));
  }

  setBehaviour(imageTagOrDigest: string, behaviour: RevisionBehaviour): void {
    this.behaviours.set(imageTagOrDigest, behaviour);
  }

  deployImage(input: {
    readonly environment: EnvironmentName;
    readonly imageTag: string;
    readonly deploymentId?: string;
  }) {
    const { ecr, clock } = this.deps;
    const service = this.serviceOf(input.environment);
    const primary = this.environmentConfig(input.environment).containers.find((c) => c.primary)!;
    const digest =
      ecr.findImage(primary.repository, { tag: input.imageTag })?.digest ??
      ecr.pushImage(primary.repository, input.imageTag, { emitEvent: false });
    const current = this.taskDefinitions.findByArn(service.deployments[0]!.taskDefinitionArn)!.definition;
    const revision = this.taskDefinitions.register(
      {
        family: current.family,
        taskRoleArn: current.taskRoleArn,
        executionRoleArn: current.executionRoleArn,
        networkMode: current.networkMode,
        requiresCompatibilities: current.requiresCompatibilities,
        cpu: current.cpu,
        memory: current.memory,
        runtimePlatform: current.runtimePlatform,
        containerDefinitions: (current.containerDefinitions ?? []).map((c) =>
          c.name === primary.name ? { ...c, image: ecr.imageUri(primary.repository, digest) } : c,
        ),
      },
      clock.now(),
    );
    const deployment = this.engine.startDeployment(
      service,
      revision.arn,
      input.deploymentId ? { deploymentId: input.deploymentId } : {},
    );
    return { taskDefinitionArn: revision.arn, deploymentId: deployment.id };
  }
}
