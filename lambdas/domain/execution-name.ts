/**
 * Execution names for deployments started by a person. A name is deterministic for one request, so
 * running the same `afu9-deploy start` twice cannot start two deployments: Step Functions refuses a
 * second execution with the same name (and returns the running one for the same input).
 */
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
    const image = sanitize(
      input.imageTag ?? input.imageDigest?.slice(0, 'sha256:'.length + 16) ?? 'no-image',
    );
    // A tag that already names the environment (`staging-3f9c2ab` when the environment's tag prefix
    // is `staging-`) is not prefixed again: `staging-staging-3f9c2ab` says nothing more. Two images
    // share a name only if both `X` and `staging-X` are tags the environment accepts: with the tag
    // prefix `staging-` no X qualifies; with `stage-` no `staging-X` does.
    name = image.startsWith(`${environment}-`) ? image : `${environment}-${image}`;
    if (input.redeploy) name += `-redeploy-${compactTimestamp(now)}`;
  }
  return name.slice(0, MAX_NAME_LENGTH);
}
