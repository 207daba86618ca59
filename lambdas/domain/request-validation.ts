/**
 * Turns a parsed trigger into one validated DeploymentRequest, or says why it is ignored, or refuses
 * it with DeploymentRejected and a reason a person can act on. Pure: the caller passes the
 * environment config and the execution name; the one I/O question (is a failed ECS deployment
 * already watched by an execution?) is the handler's.
 */
import {
  environmentNamed,
  type ContainerConfig,
  type EnvironmentConfig,
  type Environments,
} from './environments';
import { DeploymentRejected } from './errors';
import { infrastructureRequest, STACKS_ONLY_FOR_INFRASTRUCTURE } from './infrastructure-request';
import {
  EcsDeploymentEventName,
  type EcrImageActionEvent,
  type EcsDeploymentStateChangeEvent,
  type TriggerInput,
} from './trigger-events';
import {
  Trigger,
  type DeploymentRequest,
  type ImageRef,
  type TriggerResolution,
  type StartDeploymentInput,
} from './workflow-state';

export interface ResolveContext {
  readonly environments: Environments;
  /** Makes a rollback request's idempotency key unique per execution. */
  readonly executionName: string;
}

/** The version of a rollback request: the rollback step finds the revision, not the request. */
export const ROLLBACK_VERSION = 'last-good-revision';

/** Docker's tag grammar: 1–128 characters, no leading `.` or `-`. */
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const IMAGE_DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Echoes a value a person sent without letting a huge or multi-line value flood the message. */
function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

function reject(message: string): never {
  throw new DeploymentRejected(message);
}

function ignored(reason: string): TriggerResolution {
  return { status: 'ignored', reason };
}

function environmentByName(context: ResolveContext, name: string): EnvironmentConfig {
  const environment = environmentNamed(context.environments, name);
  if (!environment) {
    reject(
      `Unknown environment ${quote(name)}. Known environments: ${Object.keys(context.environments).join(', ')}.`,
    );
  }
  return environment;
}

interface ParsedReference {
  readonly tag?: string;
  readonly digest?: string;
}

function checkTag(tag: string, container: string): string {
  if (!IMAGE_TAG.test(tag)) {
    reject(
      `Image tag ${quote(tag)} for container ${container} is malformed: a tag is 1 to 128 letters, ` +
        "digits, '_', '.' or '-' and does not start with '.' or '-' (e.g. stage-3f9c2ab).",
    );
  }
  return tag;
}

function checkDigest(digest: string, container: string): string {
  if (!IMAGE_DIGEST.test(digest)) {
    reject(
      `Image digest ${quote(digest)} for container ${container} is malformed: it must be "sha256:" ` +
        'followed by 64 lowercase hex digits, as the ECR console or `docker inspect` shows it.',
    );
  }
  return digest;
}

/** A per-container value: `tag`, `sha256:<hex>`, or `tag@sha256:<hex>` (a tag pinned to a digest). */
function parseReference(value: string, container: string): ParsedReference {
  const at = value.indexOf('@');
  if (at >= 0) {
    return {
      tag: checkTag(value.slice(0, at), container),
      digest: checkDigest(value.slice(at + 1), container),
    };
  }
  if (value.startsWith('sha256:')) return { digest: checkDigest(value, container) };
  return { tag: checkTag(value, container) };
}

/**
 * The tag guardrails: a forbidden prefix is named first (a `prod-` image never goes to staging),
 * then the environment's own prefix is required. A digest without a tag has no prefix to judge.
 */
function checkTagPrefix(environment: EnvironmentConfig, image: ImageRef): void {
  if (image.tag === undefined) return;
  const forbidden = environment.forbiddenImageTagPrefixes.find((prefix) => image.tag!.startsWith(prefix));
  if (forbidden) {
    reject(
      `Image ${image.repository}:${image.tag} has the prefix "${forbidden}", which is never deployed to ` +
        `${environment.name}. Deploy a "${environment.imageTagPrefix}" image to ${environment.name}.`,
    );
  }
  if (!image.tag.startsWith(environment.imageTagPrefix)) {
    reject(
      `Image ${image.repository}:${image.tag} does not start with "${environment.imageTagPrefix}", the prefix ` +
        `${environment.name} images carry. Tag the image ${environment.imageTagPrefix}<sha> and push it, ` +
        'or deploy it by digest.',
    );
  }
}

function primaryContainer(environment: EnvironmentConfig): ContainerConfig {
  const primary = environment.containers.find((container) => container.primary);
  if (!primary) {
    // A config error, not a request error: every environment names its primary container.
    throw new DeploymentRejected(
      `Environment ${environment.name} names no primary container; mark one "primary": true in the deployment configuration (deploy.config.json).`,
    );
  }
  return primary;
}

function imageRef(container: ContainerConfig, reference: ParsedReference): ImageRef {
  return { container: container.name, repository: container.repository, ...reference };
}

function referenceText(image: ImageRef): string {
  return image.digest ?? image.tag ?? '';
}

/** `environment#primary-ref`, with any further images appended so different sets never collide. */
export function deploymentKeyFor(environment: string, images: readonly ImageRef[]): string {
  const [first, ...rest] = images;
  const extra = rest.map((image) => `+${image.container}=${referenceText(image)}`).join('');
  return `${environment}#${referenceText(first!)}${extra}`;
}

function imagesFromStartInput(environment: EnvironmentConfig, input: StartDeploymentInput): ImageRef[] {
  const primary = primaryContainer(environment);
  const images: ImageRef[] = [];
  const primaryGivenAlone = input.imageTag !== undefined || input.imageDigest !== undefined;
  if (primaryGivenAlone) {
    images.push(
      imageRef(primary, {
        ...(input.imageTag !== undefined && { tag: checkTag(input.imageTag, primary.name) }),
        ...(input.imageDigest !== undefined && { digest: checkDigest(input.imageDigest, primary.name) }),
      }),
    );
  }
  for (const [name, value] of Object.entries(input.images ?? {})) {
    const container = environment.containers.find((candidate) => candidate.name === name);
    if (!container) {
      reject(
        `images names the container ${quote(name)}, which ${environment.name} does not run. ` +
          `Containers: ${environment.containers.map((c) => c.name).join(', ')}.`,
      );
    }
    if (container.primary && primaryGivenAlone) {
      reject(
        `The image of ${container.name} is given twice (imageTag/imageDigest and images.${container.name}). ` +
          'Give it once.',
      );
    }
    const image = imageRef(container, parseReference(value, container.name));
    if (container.primary) images.unshift(image);
    else images.push(image);
  }
  if (images.length === 0) {
    reject(
      `No image to deploy. Give imageTag (e.g. "${environment.imageTagPrefix}3f9c2ab") or imageDigest ` +
        `("sha256:..."), or images per container (${environment.containers.map((c) => c.name).join(', ')}).`,
    );
  }
  return images;
}

export function checkProductionAllowed(environment: EnvironmentConfig, input: StartDeploymentInput): void {
  if (environment.requiresAllowFlag && input.allowProduction !== true) {
    reject(
      `${environment.name} changes only with an explicit "allowProduction": true in the request. ` +
        'Add it if you mean to change production.',
    );
  }
}

/**
 * The fields of a request that name what it changes, all from one environment, so that no request
 * can name one environment's cluster with another's service.
 */
export function serviceTarget(environment: EnvironmentConfig) {
  return {
    environment: environment.name,
    clusterName: environment.clusterName,
    serviceName: environment.serviceName,
    taskFamily: environment.taskFamily,
    stackName: environment.stackName,
  };
}

function rollbackRequest(
  environment: EnvironmentConfig,
  details: {
    trigger: Trigger;
    requestedBy: string;
    deploymentKey: string;
    failedDeploymentId?: string;
    failureReason?: string;
  },
): DeploymentRequest {
  return {
    kind: 'rollback',
    ...serviceTarget(environment),
    images: [],
    version: ROLLBACK_VERSION,
    skipDiffGate: false,
    requestedBy: details.requestedBy,
    trigger: details.trigger,
    deploymentKey: details.deploymentKey,
    redeploy: false,
    ...(details.failedDeploymentId !== undefined && { failedDeploymentId: details.failedDeploymentId }),
    ...(details.failureReason !== undefined && { failureReason: details.failureReason }),
    safetyNetPollSeconds: environment.rollout.safetyNetPollSeconds,
  };
}

export function requestedByOrTrigger(requestedBy: string | undefined, trigger: Trigger): string {
  const trimmed = requestedBy?.trim();
  return trimmed ? trimmed : trigger;
}

function rollbackFromStartInput(
  environment: EnvironmentConfig,
  input: StartDeploymentInput,
  context: ResolveContext,
): DeploymentRequest {
  if (input.imageTag !== undefined || input.imageDigest !== undefined || input.images !== undefined) {
    reject(
      'A rollback returns the service to its last good revision and takes no image. Remove ' +
        'imageTag/imageDigest/images, or send action "deploy" to deploy that image.',
    );
  }
  if (input.skipDiffGate !== undefined) {
    reject('A rollback runs no diff gate, so skipDiffGate has no meaning there. Remove it.');
  }
  checkProductionAllowed(environment, input);
  const reason = input.reason?.trim();
  return rollbackRequest(environment, {
    trigger: Trigger.manual,
    requestedBy: requestedByOrTrigger(input.requestedBy, Trigger.manual),
    deploymentKey: `${environment.name}#rollback#${context.executionName}`,
    ...(reason && { failureReason: reason }),
  });
}

/** A start-execution input (console, AWS CLI, `afu9-deploy start`) → a validated request. */
export function requestFromStartInput(
  input: StartDeploymentInput,
  context: ResolveContext,
): DeploymentRequest {
  const environment = environmentByName(context, input.environment);
  if (input.action === 'infrastructure') return infrastructureRequest(environment, input, context);
  if (input.stacks !== undefined) reject(STACKS_ONLY_FOR_INFRASTRUCTURE);
  if (input.action === 'rollback') return rollbackFromStartInput(environment, input, context);

  checkProductionAllowed(environment, input);
  const images = imagesFromStartInput(environment, input);
  images.forEach((image) => checkTagPrefix(environment, image));
  if (input.skipDiffGate === true) {
    // A skip named a free-text reason and nobody; an approval records the person's IAM identity.
    reject(
      'skipDiffGate is no longer accepted: a held diff now pauses the deployment for a recorded approval. ' +
        'Start the deployment without skipDiffGate; when the diff gate holds it, approve it with ' +
        '`afu9-deploy approve <execution> --reason "..."` (your IAM identity and reason are recorded).',
    );
  }
  const versionImage = images[0]!;
  return {
    kind: 'deploy',
    ...serviceTarget(environment),
    images,
    version: versionImage.tag ?? versionImage.digest!,
    skipDiffGate: false,
    requestedBy: requestedByOrTrigger(input.requestedBy, Trigger.manual),
    trigger: Trigger.manual,
    deploymentKey: deploymentKeyFor(environment.name, images),
    redeploy: input.redeploy === true,
    safetyNetPollSeconds: environment.rollout.safetyNetPollSeconds,
  };
}

/**
 * An ECR push → a deployment of that image, pinned by the digest in the event. The environment is
 * chosen by tag prefix among the environments that use the repository; a tag matching none (e.g.
 * `staging-latest`, `v0.2.6`) is ignored. An environment that needs an explicit allow flag is never
 * deployed by a push.
 */
export function resolveEcrImageAction(
  event: EcrImageActionEvent,
  context: ResolveContext,
): TriggerResolution {
  const detail = event.detail;
  const repository = detail['repository-name'];
  if (detail['action-type'] !== 'PUSH') {
    return ignored(`ECR ${detail['action-type']} of ${repository} is not a push; nothing to deploy.`);
  }
  if (detail.result !== 'SUCCESS') {
    return ignored(`ECR push to ${repository} ended ${detail.result}; nothing to deploy.`);
  }
  const owners = Object.values(context.environments).filter((environment) =>
    environment.containers.some((container) => container.repository === repository),
  );
  if (owners.length === 0) {
    return ignored(`Repository ${repository} is not deployed by this orchestrator.`);
  }
  const tag = detail['image-tag'];
  if (!tag) {
    return ignored(`Untagged push to ${repository}; only tagged pushes deploy.`);
  }
  const prefixes = owners.map((environment) => `"${environment.imageTagPrefix}" → ${environment.name}`);
  const environment = owners.find((candidate) => tag.startsWith(candidate.imageTagPrefix));
  if (!environment) {
    return ignored(
      `Tag ${repository}:${tag} matches no environment's prefix (${prefixes.join(', ')}); ` +
        'pushes with other tags do not deploy.',
    );
  }
  if (environment.requiresAllowFlag) {
    return ignored(
      `${repository}:${tag} is a ${environment.name} image, and ${environment.name} never deploys from a ` +
        `push. Start a deployment with "allowProduction": true and "imageDigest": "${detail['image-digest'] ?? '<digest>'}".`,
    );
  }
  const digest = detail['image-digest'];
  if (digest === undefined) {
    reject(
      `The ECR push of ${repository}:${tag} carries no image-digest, so the image cannot be pinned. ` +
        'Start the deployment by hand with imageTag and imageDigest.',
    );
  }
  const containers = environment.containers.filter((container) => container.repository === repository);
  const images = containers.map((container) =>
    imageRef(container, { tag: checkTag(tag, container.name), digest: checkDigest(digest, container.name) }),
  );
  return {
    status: 'accepted',
    request: {
      kind: 'deploy',
      ...serviceTarget(environment),
      images,
      version: tag,
      skipDiffGate: false,
      requestedBy: Trigger.ecrPush,
      trigger: Trigger.ecrPush,
      deploymentKey: deploymentKeyFor(environment.name, images.slice(0, 1)),
      redeploy: false,
      safetyNetPollSeconds: environment.rollout.safetyNetPollSeconds,
    },
  };
}

/** `arn:aws:ecs:<region>:<account>:service/<cluster>/<service>` (the long ARN format). */
const SERVICE_ARN = /^arn:aws[a-z-]*:ecs:([a-z0-9-]+):\d{12}:service\/([^/]+)\/([^/]+)$/;

/**
 * An ECS `SERVICE_DEPLOYMENT_FAILED` for a service we own → a rollback request. Whether an execution
 * is already watching that deployment is for the caller to check (it needs the table).
 */
export function resolveEcsDeploymentEvent(
  event: EcsDeploymentStateChangeEvent,
  context: ResolveContext,
): TriggerResolution {
  const { eventName, deploymentId, reason } = event.detail;
  if (eventName !== EcsDeploymentEventName.failed) {
    return ignored(
      `ECS ${eventName} for ${deploymentId} needs no action; only failed deployments roll back.`,
    );
  }
  const serviceArn = event.resources[0]!;
  const match = SERVICE_ARN.exec(serviceArn);
  if (!match) {
    return ignored(`${serviceArn} is not a service ARN that names its cluster; no environment owns it.`);
  }
  const [, region, clusterName, serviceName] = match;
  const environment = Object.values(context.environments).find(
    (candidate) =>
      candidate.region === region &&
      candidate.clusterName === clusterName &&
      candidate.serviceName === serviceName,
  );
  if (!environment) {
    return ignored(`Service ${serviceName} in cluster ${clusterName} (${region}) belongs to no environment.`);
  }
  const failureReason = reason?.trim()
    ? reason.trim()
    : 'ECS reported the deployment failed without a reason.';
  return {
    status: 'accepted',
    request: rollbackRequest(environment, {
      trigger: Trigger.ecsDeploymentFailed,
      requestedBy: Trigger.ecsDeploymentFailed,
      deploymentKey: `${environment.name}#rollback#${deploymentId}`,
      failedDeploymentId: deploymentId,
      failureReason,
    }),
  };
}

/** Every parsed trigger → accepted or ignored; throws DeploymentRejected for a request it refuses. */
export function resolveTrigger(trigger: TriggerInput, context: ResolveContext): TriggerResolution {
  switch (trigger.kind) {
    case 'start':
      return { status: 'accepted', request: requestFromStartInput(trigger.input, context) };
    case 'ecr-image-action':
      return resolveEcrImageAction(trigger.event, context);
    case 'ecs-deployment-state-change':
      return resolveEcsDeploymentEvent(trigger.event, context);
    case 'other-event':
      return ignored(
        `EventBridge "${trigger.detailType}" events from ${trigger.source} do not start deployments.`,
      );
  }
}

/**
 * The request with the digests ECR reported for images named by tag, and its deployment key made
 * from them: a push (which carries the digest) and a start by tag of the same image then claim the
 * same key, so the image deploys once. Images without a found digest keep their tag.
 */
export function withPinnedDigests(
  request: DeploymentRequest,
  digests: ReadonlyMap<string, string>,
): DeploymentRequest {
  const images = request.images.map((image) =>
    image.digest || !digests.has(image.container)
      ? image
      : { ...image, digest: digests.get(image.container)! },
  );
  return { ...request, images, deploymentKey: deploymentKeyFor(request.environment, images) };
}
