/**
 * ResolveRequest's part for an ECR push: the push belongs to the release of its tag in its
 * environment (docs/releases.md). The first push opens the release and its execution assembles it
 * (looks the tag up in every configured repository until all have it or the settle window ends,
 * resolving again after each wait), then seals it and deploys every image of it; a push while it
 * assembles joins it and ends quietly; a push of an image it sealed is a duplicate; a new image of
 * the tag after it sealed opens a follow-up release. Decisions are `lambdas/domain/release.ts`'s.
 */
import { lookUpImage } from '../aws/ecr';
import { isExecutionRunning, ledgerTable } from '../aws/ledger';
import { getRelease, joinRelease, putOpenedRelease, sealRelease } from '../aws/release-ledger';
import { DeploymentRejected, OrchestratorPermissionMissing } from '../domain/errors';
import type { EnvironmentConfig } from '../domain/environments';
import {
  alreadyReleasedReason,
  decideAssembly,
  decideReleasePush,
  joinedReason,
  needsOpenerStatus,
  openedRelease,
  releaseImageRefs,
  secondsUntilNextLook,
  settlingReason,
  type ReleaseRecord,
  type TagLookup,
} from '../domain/release';
import { deploymentKeyFor } from '../domain/request-validation';
import type { DeploymentRequest, ResolveResult } from '../domain/workflow-state';
import type { HandlerDeps } from './runtime';

export type ReleaseResolution =
  /** Nothing to deploy now: the push joined or repeated a release, or the release still settles. */
  | { readonly kind: 'answer'; readonly result: ResolveResult }
  /** The release is sealed: deploy its images, every one pinned by digest. */
  | { readonly kind: 'deploy'; readonly request: DeploymentRequest; readonly release: ReleaseRecord };

/**
 * A write refused because another push changed the record between our read and our write is
 * answered by reading again; this many times is far more than pushes of one commit can race.
 */
const MAX_RACES = 5;

async function lookUpTag(
  deps: HandlerDeps,
  environment: EnvironmentConfig,
  tag: string,
): Promise<TagLookup[]> {
  const lookups: TagLookup[] = [];
  for (const container of environment.containers) {
    const { name, repository } = container;
    const lookup = await lookUpImage(deps.clients, { repository, tag });
    if (lookup.state === 'found') {
      lookups.push({ container: name, repository, state: 'found', digest: lookup.digest });
    } else if (lookup.state === 'missing') {
      lookups.push({ container: name, repository, state: 'missing' });
    } else if (lookup.state === 'access-denied') {
      throw new OrchestratorPermissionMissing(
        `The release of ${tag} cannot be assembled: ECR refused to show ${repository} (${lookup.failure}). Nothing ` +
          `was deployed. Grant the resolve-request function ecr:DescribeImages on ${repository} (the orchestrator ` +
          'stack does for every configured repository), then push the tag again or start the deployment by hand.',
      );
    } else {
      throw new DeploymentRejected(
        `The release of ${tag} cannot be assembled: ECR did not answer for ${repository} (${lookup.failure}). ` +
          'Nothing was deployed. Check the repository, then push the tag again or start the deployment by hand.',
      );
    }
  }
  return lookups;
}

function releaseRequest(
  environment: EnvironmentConfig,
  request: DeploymentRequest,
  release: ReleaseRecord,
): DeploymentRequest {
  const images = releaseImageRefs(environment, release.tag, release.images ?? []);
  return {
    ...request,
    images,
    version: release.tag,
    deploymentKey: deploymentKeyFor(environment.name, images),
  };
}

/** One look at the tag: still settling, or sealed (undefined: a push joined meanwhile, decide again). */
async function assemble(
  deps: HandlerDeps,
  environment: EnvironmentConfig,
  request: DeploymentRequest,
  release: ReleaseRecord,
): Promise<ReleaseResolution | undefined> {
  const lookups = await lookUpTag(deps, environment, release.tag);
  const now = deps.now();
  const decision = decideAssembly(lookups, now, release.settleDeadline);
  if (decision.action === 'wait') {
    const reason = settlingReason(release, decision.missing);
    deps.logger.info('Release settling', { tag: release.tag, missing: decision.missing });
    return {
      kind: 'answer',
      result: {
        status: 'assembling',
        reason,
        waitSeconds: secondsUntilNextLook(now, release.settleDeadline, environment.release.pollSeconds),
      },
    };
  }
  if (decision.images.length === 0) {
    throw new DeploymentRejected(
      `The release of ${release.tag} to ${environment.name} holds no image: no configured repository shows the tag ` +
        `after the settle window (${environment.release.settleSeconds} s). Nothing was deployed. Check that CI ` +
        'pushed it to the repositories the configuration names.',
    );
  }
  const sealed = await sealRelease(deps.clients, ledgerTable(deps.settings), release, decision.images, now);
  if (!sealed) return undefined;
  deps.logger.info('Release sealed', {
    tag: release.tag,
    images: decision.images,
    missing: decision.missing,
  });
  return { kind: 'deploy', request: releaseRequest(environment, request, sealed), release: sealed };
}

/** What this push (or this execution, resolving again after a wait) does for its tag's release. */
export async function resolveRelease(
  deps: HandlerDeps,
  executionId: string,
  request: DeploymentRequest,
): Promise<ReleaseResolution> {
  const environment = deps.environments[request.environment]!;
  const table = ledgerTable(deps.settings);
  const tag = request.version;
  const pushed = request.images[0]!;
  const push = { executionId, container: pushed.container, digest: pushed.digest ?? '' };
  const image = { repository: pushed.repository, digest: push.digest };
  for (let attempt = 0; attempt < MAX_RACES; attempt += 1) {
    const record = await getRelease(deps.clients, table, { environment: environment.name, tag });
    const running = needsOpenerStatus(record, executionId)
      ? await isExecutionRunning(deps.clients, record!.executionId)
      : undefined;
    const decision = decideReleasePush(record, push, running);
    let resolution: ReleaseResolution | undefined;
    switch (decision.action) {
      case 'duplicate':
        return {
          kind: 'answer',
          result: { status: 'ignored', reason: alreadyReleasedReason(decision.record, image) },
        };
      case 'join':
        if (!(await joinRelease(deps.clients, table, decision.record, executionId))) continue;
        return {
          kind: 'answer',
          result: { status: 'ignored', reason: joinedReason(decision.record, image) },
        };
      case 'deploy':
        return {
          kind: 'deploy',
          request: releaseRequest(environment, request, decision.record),
          release: decision.record,
        };
      case 'assemble':
        resolution = await assemble(deps, environment, request, decision.record);
        break;
      case 'open':
      case 'take-over': {
        const opened = openedRelease({
          environment: environment.name,
          tag,
          executionId,
          now: deps.now(),
          settings: environment.release,
          ...(decision.action === 'take-over' && { follows: decision.record }),
        });
        const previous = decision.action === 'take-over' ? decision.record : undefined;
        if (!(await putOpenedRelease(deps.clients, table, opened, previous, deps.now()))) continue;
        deps.logger.info('Release opened', {
          tag,
          follows: opened.follows,
          tookOverFrom: previous?.executionId,
        });
        resolution = await assemble(deps, environment, request, opened);
        break;
      }
    }
    if (resolution) return resolution;
  }
  // Only a storm of conflicting writes to one record gets here: refuse loudly rather than loop.
  throw new DeploymentRejected(
    `The release record of ${environment.name}/${tag} kept changing under this push (${MAX_RACES} tries). Nothing ` +
      'was deployed. Push the tag again, or start the deployment by hand.',
  );
}
