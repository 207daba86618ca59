/**
 * The deployment ledger as AFU-9's table holds it between deployments: the release before the
 * running one and the running one, each deployed and verified by an execution of the workflow, the
 * running one live. Written through the real ledger adapter (`lambdas/aws/ledger.ts`) in the order
 * the workflow writes it (ResolveRequest claims the image and opens the record, UpdateService
 * records the revision it registered, Notify finishes the record and sets what is live), with the
 * requests built by the real request validation, so every item is one the real code writes.
 */
import { createHash } from 'node:crypto';
import { DescribeImagesCommand } from '@aws-sdk/client-ecr';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ListTaskDefinitionsCommand,
} from '@aws-sdk/client-ecs';
import {
  claimImage,
  finishDeploymentRecord,
  ledgerTable,
  putDeploymentRecord,
  recordRegisteredRevision,
  setLive,
} from '../../lambdas/aws/ledger';
import type { EnvironmentConfig } from '../../lambdas/domain/environments';
import { executionNameFor } from '../../lambdas/domain/execution-name';
import { imageClaimKey, LedgerKeys, ledgerEnding, openedDeploymentRecord } from '../../lambdas/domain/ledger';
import { requestFromStartInput, withPinnedDigests } from '../../lambdas/domain/request-validation';
import type {
  DeploymentRequest,
  DiffGateResult,
  RolloutJudgement,
  UpdateResult,
} from '../../lambdas/domain/workflow-state';
import type { SimulatedAccount } from '../account/simulated-account';

/** ResolveRequest to UpdateService's registration: the CodeBuild `cdk diff` (runner.ts) and a few calls. */
const RESOLVE_TO_REGISTER_MS = 92 * 1000;
/** Registration to the end of a verified rollout of one task (docs/rehearsal.md, timing model). */
const REGISTER_TO_VERIFIED_MS = 520 * 1000;

interface Release {
  readonly taskDefinitionArn: string;
  readonly registeredAt: Date;
  readonly imageTag: string;
  readonly imageDigest: string;
  /** The ECS deployment that rolled it out. */
  readonly ecsDeploymentId: string;
}

/** An `ecs-svc/` id for a deployment ECS no longer lists (it ended before the service's current one). */
function pastDeploymentId(seed: string): string {
  const digits = BigInt(`0x${createHash('sha256').update(seed).digest('hex').slice(0, 15)}`).toString();
  return `ecs-svc/${digits.padStart(19, '1').slice(0, 19)}`;
}

/** The revision registered just before `taskDefinitionArn` (`family:40` → `family:39`). */
function revisionBefore(taskDefinitionArn: string): string {
  return taskDefinitionArn.replace(/:(\d+)$/, (_, revision: string) => `:${Number(revision) - 1}`);
}

/** The environment's last two revisions, newest last, as ECS and ECR describe them. */
async function releasesOf(account: SimulatedAccount, env: EnvironmentConfig): Promise<Release[]> {
  const { ecs, ecr } = account.clients;
  const listed = await ecs.send(
    new ListTaskDefinitionsCommand({ familyPrefix: env.taskFamily, status: 'ACTIVE', sort: 'DESC' }),
  );
  const service = await ecs.send(
    new DescribeServicesCommand({ cluster: env.clusterName, services: [env.serviceName] }),
  );
  const primary = service.services?.[0]?.deployments?.find((deployment) => deployment.status === 'PRIMARY');
  const primaryContainer = env.containers.find((container) => container.primary)!;
  const arns = (listed.taskDefinitionArns ?? []).slice(0, 2).reverse();
  return Promise.all(
    arns.map(async (taskDefinitionArn) => {
      const { taskDefinition } = await ecs.send(
        new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }),
      );
      const image = taskDefinition?.containerDefinitions?.find(
        (container) => container.name === primaryContainer.name,
      )?.image;
      const imageDigest = image?.slice(image.indexOf('@') + 1);
      const described = imageDigest
        ? await ecr.send(
            new DescribeImagesCommand({
              repositoryName: primaryContainer.repository,
              imageIds: [{ imageDigest }],
            }),
          )
        : undefined;
      const imageTag = described?.imageDetails?.[0]?.imageTags?.[0];
      if (!imageDigest || !imageTag || !taskDefinition?.registeredAt) {
        throw new Error(
          `The sandbox's ${taskDefinitionArn} names no pushed ${primaryContainer.name} image by digest, or has no ` +
            'registration time; the ledger history is written from what ECS and ECR hold (sandbox/account/ecs/seed.ts).',
        );
      }
      return {
        taskDefinitionArn,
        registeredAt: taskDefinition.registeredAt,
        imageTag,
        imageDigest,
        ecsDeploymentId:
          primary?.taskDefinition === taskDefinitionArn && primary.id
            ? primary.id
            : pastDeploymentId(taskDefinitionArn),
      };
    }),
  );
}

/** The workflow state Notify reads at the end of a verified deployment (only what the ledger keeps). */
function verifiedState(request: DeploymentRequest, update: UpdateResult) {
  const diffGate: DiffGateResult = {
    verdict: 'PASS',
    proceed: true,
    approvalRequired: false,
    skipped: false,
    stacks: [request.stackName],
    counts: { blocking: 0, warnings: 0, safe: 1 },
    blocking: [],
    warnings: [],
    message: `PASS: 1 safe change in 1 stack (${request.stackName}).`,
  };
  const rollout: RolloutJudgement = {
    status: 'COMPLETED',
    deploymentId: update.deploymentId,
    reason: `Deployment ${update.deploymentId} completed.`,
    runningCount: 1,
    desiredCount: 1,
    recentEvents: [],
    stoppedTasks: [],
    nextCheckSeconds: 0,
  };
  return {
    request,
    resolution: { status: 'accepted', request },
    diffBuild: { buildId: `diff:${update.deploymentId}`, buildStatus: 'SUCCEEDED' },
    diffGate,
    verification: { ok: true, checks: [], images: request.images },
    update,
    wake: {
      source: 'event',
      eventName: 'SERVICE_DEPLOYMENT_COMPLETED',
      deploymentId: update.deploymentId,
    },
    rollout,
    smoke: { passed: true, baseUrl: '', checks: [] },
  };
}

/** One release deployed by a start request and verified, written as the workflow writes it. */
async function recordVerifiedRelease(
  account: SimulatedAccount,
  table: ReturnType<typeof ledgerTable>,
  env: EnvironmentConfig,
  stateMachineArn: string,
  release: Release,
  previous: Release | undefined,
): Promise<void> {
  const { clients } = account;
  const startedAt = new Date(release.registeredAt.getTime() - RESOLVE_TO_REGISTER_MS);
  const finishedAt = new Date(release.registeredAt.getTime() + REGISTER_TO_VERIFIED_MS);
  const input = {
    environment: env.name,
    imageTag: release.imageTag,
    requestedBy: 'jane.doe',
    ...(env.requiresAllowFlag && { allowProduction: true }),
  };
  const deploymentId = executionNameFor(input, startedAt);
  const executionId = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${deploymentId}`;
  const primary = env.containers.find((container) => container.primary)!;
  const request = withPinnedDigests(
    requestFromStartInput(input, { environments: account.environments, executionName: deploymentId }),
    new Map([[primary.name, release.imageDigest]]),
  );
  const since = startedAt.toISOString();

  // ResolveRequest
  await claimImage(clients, table, {
    environment: env.name,
    imageKey: imageClaimKey(request),
    claim: {
      executionId,
      deploymentId,
      claimedAt: since,
      recordSk: LedgerKeys.deployment(env.name, since, deploymentId).sk,
    },
    redeploy: false,
    now: startedAt,
  });
  await putDeploymentRecord(
    clients,
    table,
    openedDeploymentRecord(request, { deploymentId, executionId, startedAt: since }),
    startedAt,
  );
  // UpdateService
  const previousTaskDefinitionArn = previous?.taskDefinitionArn ?? revisionBefore(release.taskDefinitionArn);
  const key = { environment: env.name, startedAt: since, deploymentId };
  await recordRegisteredRevision(clients, table, key, {
    taskDefinitionArn: release.taskDefinitionArn,
    previousTaskDefinitionArn,
    registeredAt: release.registeredAt.toISOString(),
  });
  const update: UpdateResult = {
    previousTaskDefinitionArn,
    taskDefinitionArn: release.taskDefinitionArn,
    deploymentId: release.ecsDeploymentId,
    startedAt: release.registeredAt.toISOString(),
    deadline: new Date(release.registeredAt.getTime() + env.rollout.timeoutSeconds * 1000).toISOString(),
  };
  // Step Functions keeps the execution (and so its name) after it ended.
  account.sfn.recordExecution({
    executionArn: executionId,
    stateMachineArn,
    name: deploymentId,
    status: 'SUCCEEDED',
    startDate: startedAt,
    stopDate: finishedAt,
  });
  // Notify
  const ending = ledgerEnding({
    outcome: 'succeeded',
    executionId,
    state: verifiedState({ ...request, startedAt: since }, update),
    now: finishedAt,
  });
  if (ending?.record) {
    await finishDeploymentRecord(clients, table, { environment: env.name, ...ending.record });
  }
  if (ending?.live) {
    await setLive(clients, table, {
      environment: env.name,
      taskDefinitionArn: ending.live.taskDefinitionArn,
      ...(ending.live.version !== undefined && { version: ending.live.version }),
      deploymentId,
      provedBy: ending.live.provedBy,
      since: finishedAt.toISOString(),
    });
  }
}

/**
 * Writes the ledger of every environment: the previous release and the running one, both verified,
 * the running one live. A rollback a person asks for then has a verified revision to return to.
 */
export async function seedLedgerHistory(
  account: SimulatedAccount,
  settings: { tableName: string; stateMachineArn: string },
): Promise<void> {
  const table = ledgerTable({ tableName: settings.tableName });
  for (const env of Object.values(account.environments)) {
    const [previous, running] = await releasesOf(account, env);
    if (!previous || !running) {
      throw new Error(
        `The sandbox's ECS family ${env.taskFamily} has fewer than two revisions; the ledger history needs the ` +
          'previous release and the running one (sandbox/account/ecs/simulated-ecs.ts seeds both).',
      );
    }
    await recordVerifiedRelease(account, table, env, settings.stateMachineArn, previous, undefined);
    await recordVerifiedRelease(account, table, env, settings.stateMachineArn, running, previous);
  }
}
