/**
 * The runner's side of the simulated account: opens it in a scenario's world, and does what AWS or
 * a person does outside the orchestrator (CI pushing images, an ECS deployment someone else
 * started, the Step Functions service issuing task tokens and tracking executions).
 */
import { DescribeImagesCommand } from '@aws-sdk/client-ecr';
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import {
  environmentNamed,
  type EnvironmentConfig,
  type Environments,
} from '../../lambdas/domain/environments';
import type { StartDeploymentInput } from '../../lambdas/domain/workflow-state';
import { createSimulatedAccount } from '../account';
import type { SimulatedAccount } from '../account/simulated-account';
import { deployStack, type DeployedStack, type StackAssembly } from '../assembly/cloud-assembly';
import type { ScenarioWorld } from '../scenarios';
import type { SimulatedExecution } from './execution';
import { seedLedgerHistory } from './ledger-history';

/** The resources the orchestrator stack creates, under the names the sandbox account gives them. */
export interface OrchestratorResources {
  readonly topicArn: string;
  readonly tableName: string;
  readonly diffBucket: string;
}

/** How long history may take to play out before the run (an ECS deployment failing). */
const HISTORY_LIMIT_MS = 6 * 3600 * 1000;

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export class SandboxAccount {
  constructor(
    readonly account: SimulatedAccount,
    private readonly world: ScenarioWorld,
    readonly resources: OrchestratorResources,
    /** The orchestrator stack as deployed in this account. */
    readonly stack: DeployedStack,
  ) {}

  issueTaskToken(): string {
    return this.account.sfn.issueToken();
  }

  expireTaskToken(token: string): void {
    this.account.sfn.expireToken(token);
  }

  /** Whether an execution of this ARN ran before (in the ledger's history or in this run). */
  executionExists(executionArn: string): boolean {
    return this.account.sfn.executionExists(executionArn);
  }

  recordExecution(execution: SimulatedExecution): void {
    this.account.sfn.recordExecution({
      executionArn: execution.arn,
      stateMachineArn: execution.arn.replace(':execution:', ':stateMachine:').replace(/:[^:]+$/, ''),
      name: execution.name,
      status: 'RUNNING',
      startDate: new Date(execution.startedAtMs),
    });
  }

  finishExecution(execution: SimulatedExecution): void {
    this.account.sfn.finishExecution(
      execution.arn,
      execution.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED',
    );
  }

  /** CI pushes an image; the new revision behaves as the world says. */
  pushImage(repository: string, tag: string, options: { emitEvent: boolean; digest?: string }): string {
    if (this.world.newRevision) this.account.ecs.setBehaviour(tag, this.world.newRevision);
    const digest = this.account.ecr.pushImage(repository, tag, options);
    if (this.world.newRevision) this.account.ecs.setBehaviour(digest, this.world.newRevision);
    return digest;
  }

  /**
   * The images a start request names exist in ECR (CI pushed them before a person asked for the
   * deployment), unless the world says the image is missing; `pushed` (`simulate --pushed`) pushes
   * them whatever the world says.
   */
  provideRequestedImages(input: StartDeploymentInput, options: { pushed?: boolean } = {}): void {
    if (this.world.imageMissing && !options.pushed) return;
    for (const image of imagesNamedBy(this.account.environments, input))
      this.provide(image.repository, image.tag, image.digest);
  }

  /** The images a start request names that ECR does not hold (`repository:tag` or `repository@digest`). */
  async missingImages(input: StartDeploymentInput): Promise<string[]> {
    const missing: string[] = [];
    for (const image of imagesNamedBy(this.account.environments, input)) {
      const imageId = image.digest !== undefined ? { imageDigest: image.digest } : { imageTag: image.tag };
      try {
        await this.account.clients.ecr.send(
          new DescribeImagesCommand({ repositoryName: image.repository, imageIds: [imageId] }),
        );
      } catch {
        missing.push(
          `${image.repository}${image.tag !== undefined ? `:${image.tag}` : ''}` +
            (image.digest !== undefined ? `@${image.digest}` : ''),
        );
      }
    }
    return missing;
  }

  /**
   * Makes the history a raw `SERVICE_DEPLOYMENT_FAILED` event describes: someone deployed a build
   * that cannot start, as that deployment id, and ECS's circuit breaker failed it. The account's own
   * event for it is withheld: the given event is the one EventBridge delivers.
   */
  async failDeployment(env: EnvironmentConfig, deploymentId: string): Promise<void> {
    const failingTag = `${env.imageTagPrefix}bad0001`;
    this.account.ecs.setBehaviour(failingTag, { kind: 'crash-on-boot', exitCode: 1 });
    this.account.faults.injectEvent({ eventName: 'SERVICE_DEPLOYMENT_FAILED', deploymentId, action: 'drop' });
    this.account.ecs.deployImage({ environment: env.name, imageTag: failingTag, deploymentId });
    const { clock } = this.account;
    const limit = clock.nowMillis() + HISTORY_LIMIT_MS;
    for (;;) {
      const state = await this.rolloutStateOf(env, deploymentId);
      if (state === 'FAILED') return;
      const next = clock.nextDueAt();
      if (next === undefined || next > limit) {
        throw new Error(
          `The sandbox could not make ECS deployment ${deploymentId} fail (it is ${state ?? 'gone'}). ` +
            'Run the event against a scenario whose service has its circuit breaker on.',
        );
      }
      clock.advanceTo(next);
    }
  }

  private async rolloutStateOf(env: EnvironmentConfig, deploymentId: string): Promise<string | undefined> {
    const output = await this.account.clients.ecs.send(
      new DescribeServicesCommand({ cluster: env.clusterName, services: [env.serviceName] }),
    );
    return output.services?.[0]?.deployments?.find((deployment) => deployment.id === deploymentId)
      ?.rolloutState;
  }

  private provide(repository: string, tag: string | undefined, digest: string | undefined): void {
    if (tag === undefined) {
      // A digest alone: CI pushed it under a build tag the request does not name.
      this.pushImage(repository, `build-${digest!.slice(7, 19)}`, { emitEvent: false, digest });
      return;
    }
    const present = this.account.ecr.digestOf(repository, tag);
    if (present !== undefined && (digest === undefined || present === digest)) {
      if (this.world.newRevision) this.account.ecs.setBehaviour(tag, this.world.newRevision);
      return;
    }
    this.pushImage(repository, tag, {
      emitEvent: false,
      ...(digest !== undefined && DIGEST.test(digest) ? { digest } : {}),
    });
  }
}

interface NamedImage {
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** The images a start request names, by repository (its primary image and per-container overrides). */
function imagesNamedBy(environments: Environments, input: StartDeploymentInput): NamedImage[] {
  const env = environmentNamed(environments, input.environment);
  if (!env) return [];
  const images: NamedImage[] = [];
  const primary = env.containers.find((container) => container.primary);
  if (primary && (input.imageTag !== undefined || input.imageDigest !== undefined)) {
    images.push({
      repository: primary.repository,
      ...(input.imageTag !== undefined ? { tag: input.imageTag } : {}),
      ...(input.imageDigest !== undefined ? { digest: input.imageDigest } : {}),
    });
  }
  for (const [containerName, reference] of Object.entries(input.images ?? {})) {
    const container = env.containers.find((candidate) => candidate.name === containerName);
    if (!container) continue;
    const [tag, digest] = reference.includes('@') ? reference.split('@') : [reference, undefined];
    if (tag && DIGEST.test(tag)) images.push({ repository: container.repository, digest: tag });
    else
      images.push({
        repository: container.repository,
        ...(tag ? { tag } : {}),
        ...(digest ? { digest } : {}),
      });
  }
  return images;
}

export interface SandboxPlacement {
  /** The account a raw event names, so its ARNs are the sandbox's own. @default 123456789012 */
  readonly accountId?: string;
  /** The stack to deploy in the account: its topic, table and bucket are created under its names. */
  readonly assembly: StackAssembly;
  /** The environments the account holds (the configuration the stack was built from). */
  readonly environments: Environments;
}

const SANDBOX_ACCOUNT_ID = '123456789012';

/** Opens the simulated account of a world, with the orchestrator stack's resources in it. */
export async function openSandboxAccount(
  world: ScenarioWorld,
  placement: SandboxPlacement,
): Promise<SandboxAccount> {
  const accountId = placement.accountId ?? SANDBOX_ACCOUNT_ID;
  // The configuration has one region (the schema holds it to that): the account is in it.
  const region = Object.values(placement.environments)[0]!.region;
  const stack = deployStack(placement.assembly, accountId, region);
  const resources: OrchestratorResources = {
    topicArn: stack.topicArn,
    tableName: stack.tableName,
    diffBucket: requiredSubstitution(stack, 'DiffBucketName'),
  };
  const { environments } = placement;
  const account = await createSimulatedAccount({
    environments,
    accountId,
    region,
    ...(world.timing ? { timing: world.timing } : {}),
    ...(world.secrets ? { secrets: world.secrets } : {}),
    ...(world.secretValues ? { secretValues: world.secretValues } : {}),
    ...(world.ecsRollback !== undefined
      ? {
          services: Object.fromEntries(
            Object.keys(environments).map((name) => [name, { circuitBreakerRollback: world.ecsRollback }]),
          ),
        }
      : {}),
    topicArns: [resources.topicArn],
    buckets: [resources.diffBucket],
    tables: [{ name: resources.tableName, ...stack.tableKeys }],
  });
  if (world.ledgerHistory !== false) {
    await seedLedgerHistory(account, {
      tableName: resources.tableName,
      stateMachineArn: stack.stateMachineArn,
    });
  }
  for (const fault of world.apiFaults ?? []) account.faults.inject(fault);
  for (const fault of world.eventFaults ?? []) account.faults.injectEvent(fault);
  if (world.liveServiceHangs) account.faults.hangLiveService();
  const trip = world.circuitBreakerTripsBefore;
  if (trip) {
    account.faults.duringCall({
      service: 'ecs',
      command: trip.command,
      ...(trip.after !== undefined ? { after: trip.after } : {}),
      action: () => {
        for (const environment of Object.keys(environments)) {
          account.ecs.tripCircuitBreaker(environment);
        }
      },
    });
  }
  return new SandboxAccount(account, world, resources, stack);
}

/** A value of the state machine's DefinitionSubstitutions the sandbox needs. */
export function requiredSubstitution(stack: DeployedStack, name: string): string {
  const value = stack.definitionSubstitutions[name];
  if (!value) {
    throw new Error(
      `The state machine of ${stack.stackName} has no DefinitionSubstitutions.${name}; the sandbox cannot place the resource it names.`,
    );
  }
  return value;
}
