/**
 * Releases, not pushes: CI pushes the images of one commit with one tag, one repository after the
 * other, and each push is an EventBridge event that starts an execution. The pushes of one tag to the
 * configured repositories of an environment form one release, deployed by the execution whose push
 * opened it; the others join it and end quietly. Pure: `lambdas/aws/release-ledger.ts` stores the
 * record these decisions read, and the ResolveRequest handler makes the lookups.
 *
 * The release's item in the ledger table:
 *   RELEASE#<env>#<tag>  RELEASE   the execution assembling or deploying the tag's images, and what it sealed
 */
import type { EnvironmentConfig, ReleaseConfig } from './environments';
import { deploymentIdOf } from './ledger';
import type { ImageRef } from './workflow-state';

export const ReleaseKeys = {
  release: (environment: string, tag: string) => ({ pk: `RELEASE#${environment}#${tag}`, sk: 'RELEASE' }),
} as const;

/** An image of a sealed release: what one container runs, pinned by digest. */
export interface ReleaseImage {
  readonly container: string;
  readonly repository: string;
  readonly digest: string;
}

/**
 * `assembling`: the opening execution waits for the tag in the other repositories (the settle window).
 * `sealed`: its images are fixed; the execution deploys them (or waits for the service to do so).
 */
export type ReleaseState = 'assembling' | 'sealed';

/** One release as the ledger keeps it. */
export interface ReleaseRecord {
  readonly environment: string;
  readonly tag: string;
  readonly state: ReleaseState;
  /** The execution that assembles and deploys the release. */
  readonly executionId: string;
  readonly openedAt: string;
  /** When the settle window ends even if some repositories still lack the tag. */
  readonly settleDeadline: string;
  /** How many pushes joined while it assembled: a seal is written only if none joined since it looked. */
  readonly joins: number;
  /** The executions whose push joined the release and ended quietly (for the history). */
  readonly joinedBy?: readonly string[];
  /** Set when sealed: every image of the release, in the configuration's container order. */
  readonly images?: readonly ReleaseImage[];
  readonly sealedAt?: string;
  /** A follow-up release: the execution of the sealed release of the same tag it follows. */
  readonly follows?: string;
}

/** The push (or the re-entry of the execution it started) that asks what to do with a tag. */
export interface ReleasePush {
  readonly executionId: string;
  readonly container: string;
  readonly digest: string;
}

export type ReleaseDecision =
  /** No release of this tag yet: open one. */
  | { readonly action: 'open' }
  /** This execution's own release, still settling: look the tag up again. */
  | { readonly action: 'assemble'; readonly record: ReleaseRecord }
  /** This execution's own release, sealed: deploy its images (again, after waiting for the service). */
  | { readonly action: 'deploy'; readonly record: ReleaseRecord }
  /** Another running execution assembles the release: this push is part of it. */
  | { readonly action: 'join'; readonly record: ReleaseRecord }
  /** The release sealed with exactly this image already: nothing new. */
  | { readonly action: 'duplicate'; readonly record: ReleaseRecord }
  /**
   * A new image of the tag after its release sealed (a late push), or a release whose execution ended
   * before it sealed: this execution takes the tag over and assembles a release of its own.
   */
  | { readonly action: 'take-over'; readonly record: ReleaseRecord };

/**
 * What a push of a tag does, given the tag's release record. `openerRunning` says whether the
 * execution on an assembling record still runs (undefined when the question does not arise).
 */
export function decideReleasePush(
  record: ReleaseRecord | undefined,
  push: ReleasePush,
  openerRunning: boolean | undefined,
): ReleaseDecision {
  if (!record) return { action: 'open' };
  if (record.executionId === push.executionId) {
    return record.state === 'assembling' ? { action: 'assemble', record } : { action: 'deploy', record };
  }
  if (record.state === 'assembling') {
    // A release whose execution died while settling would swallow every later push: take it over.
    return openerRunning === false ? { action: 'take-over', record } : { action: 'join', record };
  }
  const sealedWithIt = (record.images ?? []).some(
    (image) => image.container === push.container && image.digest === push.digest,
  );
  return sealedWithIt ? { action: 'duplicate', record } : { action: 'take-over', record };
}

/** Whether the decision needs to know if the record's execution still runs. */
export function needsOpenerStatus(record: ReleaseRecord | undefined, executionId: string): boolean {
  return record?.state === 'assembling' && record.executionId !== executionId;
}

/** A new release of the tag, opened (or taken over) by this execution now. */
export function openedRelease(input: {
  readonly environment: string;
  readonly tag: string;
  readonly executionId: string;
  readonly now: Date;
  readonly settings: Pick<ReleaseConfig, 'settleSeconds'>;
  readonly follows?: ReleaseRecord;
}): ReleaseRecord {
  return {
    environment: input.environment,
    tag: input.tag,
    state: 'assembling',
    executionId: input.executionId,
    openedAt: input.now.toISOString(),
    settleDeadline: new Date(input.now.getTime() + input.settings.settleSeconds * 1000).toISOString(),
    joins: 0,
    ...(input.follows?.state === 'sealed' && { follows: input.follows.executionId }),
  };
}

/** What ECR said about the tag in one configured repository. */
export type TagLookup =
  | {
      readonly container: string;
      readonly repository: string;
      readonly state: 'found';
      readonly digest: string;
    }
  | { readonly container: string; readonly repository: string; readonly state: 'missing' };

export type AssemblyDecision =
  | { readonly action: 'seal'; readonly images: readonly ReleaseImage[]; readonly missing: readonly string[] }
  | { readonly action: 'wait'; readonly missing: readonly string[] };

/**
 * Seal once every configured repository has the tag, or once the settle window has passed (with the
 * images found by then: the other containers keep their running image); otherwise look again.
 */
export function decideAssembly(
  lookups: readonly TagLookup[],
  now: Date,
  settleDeadline: string,
): AssemblyDecision {
  const images = lookups.flatMap((lookup) =>
    lookup.state === 'found'
      ? [{ container: lookup.container, repository: lookup.repository, digest: lookup.digest }]
      : [],
  );
  const missing = lookups.filter((lookup) => lookup.state === 'missing').map((lookup) => lookup.repository);
  if (missing.length === 0 || now.getTime() >= Date.parse(settleDeadline)) {
    return { action: 'seal', images, missing };
  }
  return { action: 'wait', missing };
}

/** Seconds until the next look: the poll interval, but never past the settle deadline. */
export function secondsUntilNextLook(now: Date, settleDeadline: string, pollSeconds: number): number {
  const left = Math.ceil((Date.parse(settleDeadline) - now.getTime()) / 1000);
  return Math.max(1, Math.min(pollSeconds, left));
}

/**
 * The sealed images as the request's images: the primary container first (its tag is the version the
 * smoke test expects when it is in the release), the others in configuration order; each pinned by
 * digest and carrying the tag. Their set is the exactly-once key (`deploymentKeyFor`).
 */
export function releaseImageRefs(
  environment: EnvironmentConfig,
  tag: string,
  images: readonly ReleaseImage[],
): ImageRef[] {
  const rank = (container: string) => {
    const index = environment.containers.findIndex((candidate) => candidate.name === container);
    return environment.containers[index]?.primary ? -1 : index;
  };
  // One order for one set of images, whatever order the pushes came in: the key is the set's.
  const ordered = [...images].sort((a, b) => rank(a.container) - rank(b.container));
  return ordered.map((image) => ({
    container: image.container,
    repository: image.repository,
    tag,
    digest: image.digest,
  }));
}

/** Why a push that joined an assembling release ends quietly. */
export function joinedReason(record: ReleaseRecord, pushed: { repository: string; digest: string }): string {
  return (
    `${pushed.repository}:${record.tag} (${pushed.digest}) joins release ${record.environment}/${record.tag}, which ` +
    `execution ${deploymentIdOf(record.executionId)} assembles and deploys (it opened at ${record.openedAt}); ` +
    'this execution deploys nothing itself. Follow the release: ' +
    `\`afu9-deploy status ${deploymentIdOf(record.executionId)}\`.`
  );
}

/** Why a push of an image its tag's release already holds ends quietly. */
export function alreadyReleasedReason(
  record: ReleaseRecord,
  pushed: { repository: string; digest: string },
): string {
  return (
    `${pushed.repository}:${record.tag} (${pushed.digest}) is already part of release ${record.environment}/${record.tag}, ` +
    `sealed at ${record.sealedAt ?? record.openedAt} by execution ${deploymentIdOf(record.executionId)}: a repeated ` +
    `push deploys nothing. What happened to it: \`afu9-deploy status ${deploymentIdOf(record.executionId)}\`.`
  );
}

/** Why a release still waits, for the log and the state: what it lacks, until when. */
export function settlingReason(record: ReleaseRecord, missing: readonly string[]): string {
  return (
    `Release ${record.environment}/${record.tag} settles until ${record.settleDeadline}: no image tagged ` +
    `${record.tag} yet in ${missing.join(', ')}.`
  );
}

/** When a sealed release stops waiting for the service another execution holds. */
export function lockWaitDeadline(
  record: ReleaseRecord,
  settings: Pick<ReleaseConfig, 'lockWaitSeconds'>,
): Date {
  const since = Date.parse(record.sealedAt ?? record.openedAt);
  return new Date(since + settings.lockWaitSeconds * 1000);
}

/** Why a sealed release waits for the service. */
export function waitingForServiceReason(record: ReleaseRecord, holder: string, until: Date): string {
  return (
    `Release ${record.environment}/${record.tag} waits for execution ${deploymentIdOf(holder)}, which deploys the ` +
    `service, until ${until.toISOString()}.`
  );
}

/** Why a release that waited as long as it may for the service fails, and how to deploy it by hand. */
export function releaseWaitExpiredMessage(
  record: ReleaseRecord,
  holder: { readonly executionId: string; readonly acquiredAt: string },
  waitedSeconds: number,
  restart: string,
): string {
  const running = deploymentIdOf(holder.executionId);
  return (
    `Release ${record.environment}/${record.tag} waited ${waitedSeconds} s for the service, which execution ${running} ` +
    `has deployed since ${holder.acquiredAt}; it gives up and changed nothing. When ${running} has ended ` +
    `(\`afu9-deploy status ${running}\`), deploy the release by hand: ${restart}.`
  );
}
