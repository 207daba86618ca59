/**
 * Simulated ECS as a whole: the task definition registry, the service engine seeded with AFU-9's
 * steady services, the API client, and the scenario controls (revision behaviour per image, what
 * the load balancer serves, a deployment started outside the orchestrator).
 */
import {
  environments,
  type EnvironmentConfig,
  type EnvironmentName,
} from '../../../lambdas/domain/environments';
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
import { afu9TaskDefinition } from './seed';
import { ServiceEngine, type SimDeployment, type SimService } from './service-engine';
import { TaskDefinitionRegistry, type StoredRevision } from './task-definitions';

export interface EcsServiceOptions {
  /** @default 1 for staging, 2 for production */
  readonly desiredCount?: number;
  /** Whether ECS's circuit breaker rolls back by itself. @default true (as AFU-9 runs it) */
  readonly circuitBreakerRollback?: boolean;
  /** Tag of the images the service runs at the start. @default `stage-1a2b3c4` / `prod-0f1e2d3` */
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

const defaultRunningTags: Readonly<Record<EnvironmentName, string>> = {
  staging: 'stage-1a2b3c4',
  production: 'prod-0f1e2d3',
};
/** Tag of the images of the release before the running one (the ledger's previous verified release). */
const previousReleaseTags: Readonly<Record<EnvironmentName, string>> = {
  staging: 'stage-0e7d6c5',
  production: 'prod-0b9a8f7',
};
const defaultDesiredCounts: Readonly<Record<EnvironmentName, number>> = { staging: 1, production: 2 };
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
    const clusterArn = `arn:aws:ecs:${account.region}:${account.accountId}:cluster/${envs[0]!.clusterName}`;
    for (const env of envs) this.seedService(env, clusterArn, options.services?.[env.name] ?? {});
    this.client = createEcsClient({
      clusterArn,
      engine: this.engine,
      taskDefinitions: this.taskDefinitions,
      clock,
      faults: deps.faults,
    });
  }

  /** A service steady on its revision, as AFU-9 runs between deployments. */
  private seedService(env: EnvironmentConfig, clusterArn: string, options: EcsServiceOptions): void {
    const { account, ids, ecr, secrets } = this.deps;
    const seededAt = new Date(this.deps.clock.nowMillis() - SEEDED_STEADY_FOR_MS);
    const imageTag = options.runningImageTag ?? defaultRunningTags[env.name];
    // The release before, still ACTIVE as AFU-9 keeps it: what a rollback a person asks for returns to.
    this.taskDefinitions.register(
      afu9TaskDefinition(env, previousReleaseTags[env.name], ecr, secrets, account.accountId),
      new Date(seededAt.getTime() - PREVIOUS_RELEASE_BEFORE_MS),
    );
    const revision = this.taskDefinitions.register(
      afu9TaskDefinition(env, imageTag, ecr, secrets, account.accountId),
      seededAt,
    );
    const desiredCount = options.desiredCount ?? defaultDesiredCounts[env.name];
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
      targetGroupArn: `arn:aws:elasticloadbalancing:${account.region}:${account.accountId}:targetgroup/afu9-${env.name}-tg/${ids.hex(16)}`,
      createdAt: new Date(seededAt.getTime() - 30 * 24 * 3600 * 1000),
      desiredCount,
      circuitBreaker: { enable: true, rollback: options.circuitBreakerRollback ?? true },
      deployments: [deployment],
      events: [],
      tags: [{ key: 'afu9:environment', value: env.name }],
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
    const env = environments[environment];
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
    const primary = environments[input.environment].containers.find((c) => c.primary)!;
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
