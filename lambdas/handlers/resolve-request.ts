/**
 * ResolveRequest: the execution input (a start input, an ECR push event or an ECS deployment event)
 * becomes one validated DeploymentRequest, or `ignored` with a reason. Refusals throw
 * DeploymentRejected, which the state machine turns into a `rejected` notification.
 *
 * An accepted request then enters the deployment ledger: a deploy claims its image exactly once (a
 * second trigger for the same image is an ignored duplicate), every request takes the service's lock
 * (a second request while one runs is refused with DeploymentInProgress), and the deployment's
 * record is written with the time it started, which the request carries to the Notify step.
 */
import { getWaitRecord } from '../aws/deployment-table';
import { lookUpImage } from '../aws/ecr';
import {
  acquireServiceLock,
  claimImage,
  ledgerTable,
  putDeploymentRecord,
  recordDuplicate,
  releaseImageClaim,
  releaseServiceLock,
  type ImageClaim,
} from '../aws/ledger';
import { AwsErrorKind, classifyAwsError, transientOrOriginal } from '../domain/aws-error-kind';
import {
  DeploymentError,
  DeploymentInProgress,
  DeploymentRejected,
  TransientAwsError,
} from '../domain/errors';
import {
  deploymentInProgressMessage,
  duplicateReason,
  failureOwnedByRunningExecution,
  imageClaimKey,
  LedgerKeys,
  openedDeploymentRecord,
  restartCommand,
  type RestartContext,
} from '../domain/ledger';
import {
  lockWaitDeadline,
  releaseWaitExpiredMessage,
  waitingForServiceReason,
  type ReleaseRecord,
} from '../domain/release';
import { resolveTrigger, withPinnedDigests } from '../domain/request-validation';
import { parseTriggerInput } from '../domain/trigger-events';
import { Trigger, type DeploymentRequest, type ResolveResult } from '../domain/workflow-state';
import { resolveRelease } from './release-resolution';
import { lambdaEntry, type HandlerDeps } from './runtime';

export interface ResolveRequestEvent {
  /** `$$.Execution.Id`: the execution ARN. */
  readonly executionId: string;
  readonly executionName: string;
  /** The execution input as it was sent (`$$.Execution.Input`: the same on every resolve of a release). */
  readonly input: unknown;
}

/**
 * A failed ECS deployment that an execution is watching is that execution's to roll back; a
 * second, event-started rollback would fight it.
 */
async function unlessWatched(deps: HandlerDeps, request: DeploymentRequest): Promise<ResolveResult> {
  const deploymentId = request.failedDeploymentId!;
  try {
    const record = await getWaitRecord(deps.clients, deps.settings.tableName, deploymentId);
    if (record?.executionId) {
      return {
        status: 'ignored',
        reason: `ECS deployment ${deploymentId} failed; handled by execution ${record.executionId}.`,
      };
    }
    return { status: 'accepted', request };
  } catch (error) {
    if (classifyAwsError(error) === AwsErrorKind.transient) {
      throw new TransientAwsError(
        `DynamoDB is throttling or failing while reading the wait record of ${deploymentId}; the state machine retries.`,
        { cause: error },
      );
    }
    throw new DeploymentRejected(
      `Could not tell whether an execution already handles the failed ECS deployment ${deploymentId} ` +
        `(reading table ${deps.settings.tableName} failed). Check the function's DynamoDB permissions, ` +
        `then roll back by hand with {"environment": "${request.environment}", "action": "rollback"} if needed.`,
      { cause: error },
    );
  }
}

/**
 * Looks up in ECR the digest of every image the request names by tag, so the exactly-once claim is
 * made on what will run, whoever triggered it. An image ECR does not show keeps its tag: VerifySecrets
 * then reports it missing, with what to do.
 */
async function pinDigests(deps: HandlerDeps, request: DeploymentRequest): Promise<DeploymentRequest> {
  const byTag = request.images.filter((image) => !image.digest && image.tag);
  if (request.kind !== 'deploy' || byTag.length === 0) return request;
  const digests = new Map<string, string>();
  for (const image of byTag) {
    const lookup = await lookUpImage(deps.clients, { repository: image.repository, tag: image.tag! });
    if (lookup.state === 'found') digests.set(image.container, lookup.digest);
    else deps.logger.info('Image digest not pinned here; VerifySecrets checks the image', { image, lookup });
  }
  return withPinnedDigests(request, digests);
}

function restartContext(deps: HandlerDeps, request: DeploymentRequest): RestartContext {
  const environment = deps.environments[request.environment];
  return {
    primaryContainer: environment.containers.find((container) => container.primary)?.name ?? '',
    requiresAllowFlag: environment.requiresAllowFlag,
  };
}

/** What this execution holds in the ledger so far, to give back if it cannot go on. */
interface Holdings {
  imageKey?: string;
  lock?: boolean;
}

/**
 * A failure to give something back is logged, never thrown: the caller is already failing, and what
 * stays held is harmless (a lock of a finished execution is taken over; a claim is taken over by a
 * redeploy).
 */
async function giveBack(deps: HandlerDeps, request: DeploymentRequest, executionId: string, held: Holdings) {
  const table = ledgerTable(deps.settings);
  const { environment } = request;
  try {
    if (held.lock) await releaseServiceLock(deps.clients, table, { environment, executionId });
    if (held.imageKey) {
      await releaseImageClaim(deps.clients, table, {
        environment,
        imageKey: held.imageKey,
        executionId,
        now: deps.now(),
      });
    }
  } catch (error) {
    deps.logger.error('Could not give back what the refused request held in the ledger', {
      error: error as Error,
      held,
    });
  }
}

/** The duplicate is noted on the claim for the history; the ignore itself does not depend on it. */
async function noteDuplicate(deps: HandlerDeps, input: Parameters<typeof recordDuplicate>[2]) {
  try {
    await recordDuplicate(deps.clients, ledgerTable(deps.settings), input);
  } catch (error) {
    deps.logger.warn('Could not note the duplicate on the image claim', { error: error as Error });
  }
}

/**
 * Claims the image (deploy), takes the service's lock and writes the deployment record. A claim held
 * by another execution makes this trigger an ignored duplicate; a lock held by a running execution
 * refuses the request (an ECS failure event is then the running execution's to handle, so ignored).
 */
async function enterLedger(
  deps: HandlerDeps,
  event: ResolveRequestEvent,
  request: DeploymentRequest,
  release?: ReleaseRecord,
): Promise<ResolveResult> {
  const table = ledgerTable(deps.settings);
  const now = deps.now();
  const { environment } = request;
  const { executionId, executionName: deploymentId } = event;
  const held: Holdings = {};
  try {
    let claim: ImageClaim | undefined;
    if (request.kind === 'deploy') {
      const imageKey = imageClaimKey(request);
      const claimedAt = now.toISOString();
      const result = await claimImage(deps.clients, table, {
        environment,
        imageKey,
        claim: {
          executionId,
          deploymentId,
          claimedAt,
          recordSk: LedgerKeys.deployment(environment, claimedAt, deploymentId).sk,
        },
        redeploy: request.redeploy,
        now,
      });
      if (!result.claimed) {
        await noteDuplicate(deps, { environment, imageKey, executionId, at: claimedAt });
        const reason = duplicateReason(request, imageKey, result.by, restartContext(deps, request));
        deps.logger.info('Duplicate trigger ignored', {
          imageKey,
          claimedBy: result.by.executionId,
          claimedAt: result.by.claimedAt,
        });
        return { status: 'ignored', reason };
      }
      held.imageKey = imageKey;
      claim = result.claim;
      if (claim.takenOverFrom) {
        deps.logger.info('Image claim taken over for a redeploy', { imageKey, from: claim.takenOverFrom });
      }
    }

    const lock = await acquireServiceLock(deps.clients, table, { environment, executionId, now });
    if (!lock.acquired && release) {
      // A release started by a push waits for the service (keeping its claim) instead of failing.
      const settings = deps.environments[environment]!.release;
      const until = lockWaitDeadline(release, settings);
      if (now < until) {
        deps.logger.info('Release waits for the service', {
          holder: lock.holder,
          until: until.toISOString(),
        });
        return {
          status: 'waiting',
          reason: waitingForServiceReason(release, lock.holder.executionId, until),
          waitSeconds: settings.lockPollSeconds,
        };
      }
      await giveBack(deps, request, executionId, held);
      throw new DeploymentInProgress(
        releaseWaitExpiredMessage(
          release,
          lock.holder,
          settings.lockWaitSeconds,
          restartCommand(request, restartContext(deps, request), false),
        ),
      );
    }
    if (!lock.acquired) {
      await giveBack(deps, request, executionId, held);
      if (request.trigger === Trigger.ecsDeploymentFailed) {
        deps.logger.info('ECS failure left to the running execution', { holder: lock.holder });
        return { status: 'ignored', reason: failureOwnedByRunningExecution(request, lock.holder) };
      }
      deps.logger.warn('Refused: another execution deploys the service', { holder: lock.holder });
      throw new DeploymentInProgress(
        deploymentInProgressMessage(request, lock.holder, restartContext(deps, request)),
      );
    }
    held.lock = true;
    if (lock.tookOverFrom) {
      deps.logger.warn('Service lock taken over from an execution that is no longer running', {
        from: lock.tookOverFrom,
      });
    }

    // A retried step finds its own claim (or lock) and so the same start time: the same record.
    const startedAt = claim?.claimedAt ?? lock.since;
    await putDeploymentRecord(
      deps.clients,
      table,
      openedDeploymentRecord(request, { deploymentId, executionId, startedAt }),
      now,
    );
    return { status: 'accepted', request: { ...request, startedAt } };
  } catch (error) {
    if (error instanceof DeploymentError) throw error;
    const failure = transientOrOriginal(error, `Writing the deployment ledger in table ${table.tableName}`);
    if (!(failure instanceof TransientAwsError)) {
      // Not healing by retry (permissions, a missing table): nothing of this request may stay held.
      await giveBack(deps, request, executionId, held);
      deps.logger.error(
        'The deployment ledger cannot be written; check the table and the function role (dynamodb:GetItem, ' +
          'PutItem, UpdateItem, DeleteItem on the table; states:DescribeExecution on the state machine executions)',
        { error: error as Error },
      );
    }
    throw failure;
  }
}

export function createResolveRequestHandler(deps: HandlerDeps) {
  return async (event: ResolveRequestEvent): Promise<ResolveResult> => {
    deps.logger.resetKeys();
    deps.logger.appendKeys({ executionId: event.executionId });
    try {
      const trigger = parseTriggerInput(event.input);
      let result: ResolveResult = resolveTrigger(trigger, {
        environments: deps.environments,
        executionName: event.executionName,
      });
      if (result.status === 'accepted' && result.request.trigger === Trigger.ecsDeploymentFailed) {
        deps.logger.appendKeys({ deploymentId: result.request.failedDeploymentId });
        result = await unlessWatched(deps, result.request);
      }
      if (result.status === 'accepted' && result.request.trigger === Trigger.ecrPush) {
        const release = await resolveRelease(deps, event.executionId, result.request);
        result =
          release.kind === 'answer'
            ? release.result
            : await enterLedger(deps, event, release.request, release.release);
      } else if (result.status === 'accepted') {
        result = await enterLedger(deps, event, await pinDigests(deps, result.request));
      }
      if (result.status !== 'accepted') {
        deps.logger.info(result.status === 'ignored' ? 'Trigger ignored' : 'Resolving again after a wait', {
          trigger: trigger.kind,
          status: result.status,
          reason: result.reason,
        });
      } else {
        const { kind, environment, version, deploymentKey, requestedBy, startedAt } = result.request;
        deps.logger.info('Request accepted', {
          kind,
          environment,
          version,
          deploymentKey,
          requestedBy,
          startedAt,
        });
      }
      return result;
    } catch (error) {
      if (error instanceof DeploymentError) {
        deps.logger.warn('Request not resolved', { errorName: error.name, reason: error.message });
      }
      throw error;
    }
  };
}

export const handler = lambdaEntry('resolve-request', createResolveRequestHandler);
