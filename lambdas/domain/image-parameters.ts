/**
 * The live-image pointers the infrastructure app reads so that a later `cdk deploy` of the ECS stack
 * keeps the images the orchestrator verified: one SSM String parameter per environment and container,
 * `<prefix>/<environment>/<container>/image`, holding `<repository>@sha256:<hex>`. Pure: which
 * parameters a revision's images give, never the SSM call.
 */

/** The prefix used when an environment configures none. */
export const DEFAULT_IMAGE_PARAMETER_PREFIX = '/deploy';

/** SSM allows 15 levels in a parameter name; the orchestrator adds three (`/<env>/<container>/image`). */
export const MAX_PARAMETER_DEPTH = 15;
const SUFFIX_LEVELS = 3;

/** `/a/b`: levels of letters, digits, `_ . -`, no trailing slash; SSM reserves `aws` and `ssm` at the start. */
const PREFIX_SHAPE = /^(\/[A-Za-z0-9_.-]+)+$/;
const RESERVED_FIRST_LEVEL = /^\/(aws|ssm)(\/|$)/i;

/** Why a prefix is not usable for the parameters, or undefined when it is. */
export function imageParameterPrefixProblem(prefix: string): string | undefined {
  if (!PREFIX_SHAPE.test(prefix)) {
    return 'expected an SSM path such as /deploy: starts with /, levels of letters, digits, _ . and -, no trailing /';
  }
  if (RESERVED_FIRST_LEVEL.test(prefix))
    return 'expected a path that does not start with /aws or /ssm (reserved by SSM)';
  const levels = prefix.split('/').length - 1;
  if (levels + SUFFIX_LEVELS > MAX_PARAMETER_DEPTH) {
    return `expected at most ${MAX_PARAMETER_DEPTH - SUFFIX_LEVELS} levels (SSM allows ${MAX_PARAMETER_DEPTH}, the orchestrator adds /<environment>/<container>/image)`;
  }
  return undefined;
}

export function imageParameterName(prefix: string, environment: string, container: string): string {
  return `${prefix}/${environment}/${container}/image`;
}

/** Every parameter of an environment, as the IAM resource pattern needs it (`<prefix>/<env>/*`). */
export function imageParameterPath(prefix: string, environment: string): string {
  return `${prefix}/${environment}/`;
}

/** An image reference of a container definition, split (`<registry>/<repository>[:tag][@digest]`). */
export interface ImageReference {
  /** The registry host, e.g. `123456789012.dkr.ecr.eu-central-1.amazonaws.com`; undefined for Docker Hub names. */
  readonly registry?: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function parseImageReference(image: string): ImageReference | undefined {
  const [withoutDigest, digest, ...extra] = image.split('@');
  if (!withoutDigest || extra.length > 0 || (digest !== undefined && !DIGEST.test(digest))) return undefined;
  const levels = withoutDigest.split('/');
  // A first level with a dot, a colon or `localhost` is a registry host (the Docker reference grammar).
  const first = levels[0]!;
  const registry =
    levels.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')
      ? first
      : undefined;
  const path = (registry ? levels.slice(1) : levels).join('/');
  const colon = path.lastIndexOf(':');
  const repository = colon === -1 ? path : path.slice(0, colon);
  const tag = colon === -1 ? undefined : path.slice(colon + 1);
  if (!repository || tag === '') return undefined;
  return {
    ...(registry !== undefined && { registry }),
    repository,
    ...(tag !== undefined && { tag }),
    ...(digest !== undefined && { digest }),
  };
}

/** What a parameter holds: `<repository>@sha256:<hex>`, the form the ECS stack splits at `@sha256:`. */
export function imageParameterValue(repository: string, digest: string): string {
  return `${repository}@${digest}`;
}
