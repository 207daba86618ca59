/**
 * Execution names for deployments started by a person. A name is deterministic for one request, so
 * running the same `afu9-deploy start` twice cannot start two deployments: Step Functions refuses a
 * second execution with the same name (and returns the running one for the same input).
 */
import { createHash } from 'node:crypto';
import type { StartDeploymentInput } from './workflow-state';

/** Step Functions allows 1-80 characters: letters, digits, `-` and `_`. */
const MAX_NAME_LENGTH = 80;

function sanitize(part: string): string {
  return part.replace(/^sha256:/, '').replace(/[^A-Za-z0-9_-]/g, '-');
}

function compactTimestamp(now: Date): string {
  return now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** A tag as it is; a digest by its first 16 hex characters (enough to tell images apart). */
function imagePart(reference: string): string {
  return sanitize(reference.startsWith('sha256:') ? reference.slice(0, 'sha256:'.length + 16) : reference);
}

/**
 * Images given per container (`images`) without a primary image: one image is named with its
 * container; several by a hash of the whole set, so different sets never share a name and the same
 * set always gets the same one, in whatever order the input lists them.
 */
function perContainerPart(images: Readonly<Record<string, string>>): string {
  const entries = Object.entries(images).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 1) {
    const [container, reference] = entries[0]!;
    return `${sanitize(container)}-${imagePart(reference)}`;
  }
  const set = entries.map(([container, reference]) => `${container}=${reference}`).join('\n');
  return `images-${createHash('sha256').update(set).digest('hex').slice(0, 16)}`;
}

export function executionNameFor(input: StartDeploymentInput, now: Date): string {
  const environment = sanitize(input.environment);
  let name: string;
  if (input.action === 'rollback') {
    // A rollback is a new decision each time it is asked for; the time keeps names apart.
    name = `${environment}-rollback-${compactTimestamp(now)}`;
  } else if (input.action === 'infrastructure') {
    // So is an infrastructure release: the stacks' source may have changed since the last one.
    name = `${environment}-infrastructure-${compactTimestamp(now)}`;
  } else {
    const primary = input.imageTag ?? input.imageDigest;
    const hasImages = input.images !== undefined && Object.keys(input.images).length > 0;
    const image =
      primary !== undefined ? imagePart(primary) : hasImages ? perContainerPart(input.images!) : 'no-image';
    // A tag that already names the environment (`staging-3f9c2ab` when the environment's tag prefix
    // is `staging-`) is not prefixed again: `staging-staging-3f9c2ab` says nothing more. Two images
    // share a name only if both `X` and `staging-X` are tags the environment accepts: with the tag
    // prefix `staging-` no X qualifies; with `stage-` no `staging-X` does.
    name = image.startsWith(`${environment}-`) ? image : `${environment}-${image}`;
    if (input.redeploy) name += `-redeploy-${compactTimestamp(now)}`;
  }
  return name.slice(0, MAX_NAME_LENGTH);
}
