/**
 * The next task definition revision and the service's deployments, judged without AWS: the new
 * revision is the running one with only the deployed images changed (pinned by digest), and a
 * deployment must not start while another is still rolling out.
 */
import type { ImageRef } from './workflow-state';

/** The parts of a container definition this module reads; every other field is carried over untouched. */
export interface ContainerDefinitionShape {
  readonly name?: string;
  readonly image?: string;
  readonly secrets?: readonly { readonly name?: string; readonly valueFrom?: string }[];
  readonly logConfiguration?: {
    readonly secretOptions?: readonly { readonly name?: string; readonly valueFrom?: string }[];
  };
}

/** The parts of a task definition (DescribeTaskDefinition `taskDefinition`) this module reads. */
export interface TaskDefinitionShape {
  readonly taskDefinitionArn?: string;
  readonly family?: string;
  readonly containerDefinitions?: readonly ContainerDefinitionShape[];
}

/**
 * Fields DescribeTaskDefinition returns that RegisterTaskDefinition does not take: AWS sets them.
 * `requiresCompatibilities` is the caller's choice and stays; `compatibilities` is derived from it.
 */
export const readOnlyTaskDefinitionFields = [
  'taskDefinitionArn',
  'revision',
  'status',
  'requiresAttributes',
  'compatibilities',
  'registeredAt',
  'registeredBy',
  'deregisteredAt',
  'deleteRequestedAt',
] as const;
type ReadOnlyField = (typeof readOnlyTaskDefinitionFields)[number];

/**
 * Tags on every revision the orchestrator registers: which execution registered it (registration
 * requires this tag, see the stack's permissions), for what, and what ran before. An audit trail on
 * the revision itself; retries find their revision in the deployment ledger, not by these tags.
 */
export const RevisionTag = {
  /** The Step Functions execution that registered it. */
  executionId: 'afu9:execution-id',
  /** The request's idempotency key (environment + image). */
  deploymentKey: 'afu9:deployment-key',
  /** The revision the service ran before, so a retried update still knows what to roll back to. */
  previousTaskDefinition: 'afu9:previous-task-definition',
} as const;

export interface ResourceTag {
  readonly key: string;
  readonly value: string;
}

/** ECS tag values: at most 256 of letters, digits, spaces and `+ - = . _ : / @`. */
export function ecsTagValue(value: string): string {
  return value.replace(/[^\p{L}\p{N} +\-=._:/@]/gu, '_').slice(0, 256);
}

export function revisionTags(input: {
  executionId: string;
  deploymentKey: string;
  previousTaskDefinitionArn: string;
}): ResourceTag[] {
  return [
    { key: RevisionTag.executionId, value: ecsTagValue(input.executionId) },
    { key: RevisionTag.deploymentKey, value: ecsTagValue(input.deploymentKey) },
    { key: RevisionTag.previousTaskDefinition, value: ecsTagValue(input.previousTaskDefinitionArn) },
  ];
}

/** ECS's limit of user tags per resource; tags with the `aws:` prefix do not count against it. */
const MAX_RESOURCE_TAGS = 50;

/** The `aws:` prefix is reserved for AWS: such tags cannot be set by RegisterTaskDefinition. */
function isReservedTagKey(key: string): boolean {
  return key.toLowerCase().startsWith('aws:');
}

export type RevisionTags =
  { readonly ok: true; readonly tags: ResourceTag[] } | { readonly ok: false; readonly problem: string };

/**
 * The tags of the next revision: the running revision's own tags (cost allocation, ownership, ...)
 * carried over, with the orchestrator's revision tags replacing any of the same key. Reserved `aws:`
 * tags are AWS's to set and are left out. More than ECS's 50 tags is refused rather than silently
 * dropping some: which tag matters is the owner's call.
 */
export function tagsForNextRevision(
  runningTags: readonly ResourceTag[],
  ownTags: readonly ResourceTag[],
): RevisionTags {
  const own = new Set(ownTags.map((tag) => tag.key));
  const carried = runningTags.filter((tag) => !isReservedTagKey(tag.key) && !own.has(tag.key));
  const tags = [...carried, ...ownTags];
  if (tags.length > MAX_RESOURCE_TAGS) {
    return {
      ok: false,
      problem:
        `the running task definition carries ${carried.length} tags of its own; with the orchestrator's ` +
        `${ownTags.length} (${[...own].join(', ')}) the new revision would have ${tags.length}, over ECS's limit of ` +
        `${MAX_RESOURCE_TAGS}: remove at least ${tags.length - MAX_RESOURCE_TAGS} tag(s) from the task definition in its CDK stack`,
    };
  }
  return { ok: true, tags };
}

/** A parsed ECR image URI: `<account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag][@digest]`. */
export interface EcrImageUri {
  /** `<account>.dkr.ecr.<region>.amazonaws.com`, kept as written (FIPS and China hosts included). */
  readonly registryHost: string;
  readonly registryId: string;
  readonly region: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

const ecrImageUri =
  /^((\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?)\/([^:@]+)(?::([^@]+))?(?:@(sha256:[a-f0-9]{64}))?$/;

export function parseEcrImageUri(uri: string): EcrImageUri | undefined {
  const match = ecrImageUri.exec(uri);
  if (!match) return undefined;
  const [, registryHost, registryId, region, repository, tag, digest] = match;
  return {
    registryHost: registryHost!,
    registryId: registryId!,
    region: region!,
    repository: repository!,
    ...(tag ? { tag } : {}),
    ...(digest ? { digest } : {}),
  };
}

const imageDigest = /^sha256:[a-f0-9]{64}$/;

export type NextRevision<T extends TaskDefinitionShape> =
  | { readonly ok: true; readonly input: Omit<T, ReadOnlyField> & { readonly tags: ResourceTag[] } }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * The RegisterTaskDefinition input for the next revision: the running definition with read-only
 * fields removed and, for each image to deploy, that container's image replaced by
 * `<registry of its current image>/<repository>@<digest>`; its tags are the running revision's
 * plus the orchestrator's (`tagsForNextRevision`). Nothing else changes.
 */
export function nextRevision<T extends TaskDefinitionShape>(
  running: T,
  images: readonly ImageRef[],
  tags: { readonly running: readonly ResourceTag[]; readonly own: readonly ResourceTag[] },
): NextRevision<T> {
  const containers = running.containerDefinitions ?? [];
  const problems: string[] = [];
  const nextTags = tagsForNextRevision(tags.running, tags.own);
  if (!nextTags.ok) problems.push(nextTags.problem);
  const newImages = new Map<string, string>();
  for (const image of images) {
    const container = containers.find((candidate) => candidate.name === image.container);
    if (!container) {
      problems.push(
        `the running task definition has no container named "${image.container}" ` +
          `(it has: ${containers.map((c) => c.name).join(', ') || 'none'}): correct the container name in the request or the environment config`,
      );
      continue;
    }
    if (!image.digest || !imageDigest.test(image.digest)) {
      problems.push(
        `image ${image.repository}:${image.tag ?? '?'} for container "${image.container}" is not pinned by a sha256 digest: ` +
          'run VerifySecrets first, it resolves every image to its digest',
      );
      continue;
    }
    const current = parseEcrImageUri(container.image ?? '');
    if (!current) {
      problems.push(
        `container "${image.container}" runs "${container.image ?? '(no image)'}", which is not an ECR image URI, so the ` +
          'registry to deploy from is unknown: point the task definition at ECR first (a CDK deploy of the ECS stack)',
      );
      continue;
    }
    newImages.set(image.container, `${current.registryHost}/${image.repository}@${image.digest}`);
  }
  if (problems.length || !nextTags.ok) return { ok: false, problems };

  const input = Object.fromEntries(
    Object.entries(running).filter(
      ([field]) => !(readOnlyTaskDefinitionFields as readonly string[]).includes(field),
    ),
  ) as Omit<T, ReadOnlyField>;
  const containerDefinitions = containers.map((container) => {
    const image = container.name === undefined ? undefined : newImages.get(container.name);
    return image ? { ...container, image } : container;
  });
  return { ok: true, input: { ...input, containerDefinitions, tags: nextTags.tags } };
}

/** Every secret reference the task's containers carry (env secrets and log-driver secret options). */
export function secretReferences(
  taskDefinition: TaskDefinitionShape,
): { readonly container: string; readonly valueFrom: string }[] {
  return (taskDefinition.containerDefinitions ?? []).flatMap((container) => {
    const name = container.name ?? '(unnamed)';
    const env = (container.secrets ?? []).map((secret) => ({ container: name, valueFrom: secret.valueFrom }));
    const logs = (container.logConfiguration?.secretOptions ?? []).map((secret) => ({
      container: `${name} (log configuration)`,
      valueFrom: secret.valueFrom,
    }));
    return [...env, ...logs].filter(
      (ref): ref is { container: string; valueFrom: string } => !!ref.valueFrom,
    );
  });
}

/** One entry of DescribeServices `services[].deployments[]`, as the orchestrator reads it. */
export interface DeploymentSnapshot {
  /** `ecs-svc/...` */
  readonly id: string;
  readonly status: 'PRIMARY' | 'ACTIVE' | 'INACTIVE' | string;
  readonly taskDefinition: string;
  readonly rolloutState?: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED' | string;
  readonly rolloutStateReason?: string;
  readonly desiredCount?: number;
  readonly runningCount?: number;
  readonly failedTasks?: number;
  readonly createdAt?: string;
  readonly updatedAt?: string;
}

export function primaryDeployment(
  deployments: readonly DeploymentSnapshot[],
): DeploymentSnapshot | undefined {
  return deployments.find((deployment) => deployment.status === 'PRIMARY');
}

export type InProgressJudgement =
  | { readonly inProgress: false }
  | { readonly inProgress: true; readonly deployment: DeploymentSnapshot; readonly why: string };

/**
 * A deployment is still in progress while ECS holds more than one live deployment (the old tasks
 * are still draining or the new ones still starting) or the PRIMARY one is still rolling out.
 */
export function judgeDeploymentInProgress(deployments: readonly DeploymentSnapshot[]): InProgressJudgement {
  const live = deployments.filter((deployment) => deployment.status !== 'INACTIVE');
  const primary = primaryDeployment(live);
  if (primary?.rolloutState === 'IN_PROGRESS') {
    return { inProgress: true, deployment: primary, why: 'its rollout state is IN_PROGRESS' };
  }
  if (live.length > 1) {
    const rolling = primary ?? live[0]!;
    return {
      inProgress: true,
      deployment: rolling,
      why: `the service still has ${live.length} deployments (${live.map((d) => `${d.id} ${d.status}`).join(', ')})`,
    };
  }
  return { inProgress: false };
}
