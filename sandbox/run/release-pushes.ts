/**
 * How CI pushes a release in the rehearsal: the images of one commit, one tag, one container's
 * repository after the other, a few virtual seconds apart (as a CI job pushing four images does),
 * and a rebuilt image pushed again with the same tag.
 */
import type { EnvironmentConfig } from '../../lambdas/domain/environments';
import { imageDigestFor } from '../account/ids';

/** Virtual seconds between two pushes of a release, and between two `simulate --input` events. */
export const PUSH_SPACING_SECONDS = 3;

export interface ReleasePush {
  readonly container: string;
  readonly repository: string;
  readonly tag: string;
}

/** The pushes of a release, in the configuration's container order. */
export function releasePushes(
  environment: EnvironmentConfig,
  tag: string,
  containers: 'all' | readonly string[],
): ReleasePush[] {
  const chosen =
    containers === 'all'
      ? environment.containers
      : containers.map((name) => {
          const container = environment.containers.find((candidate) => candidate.name === name);
          if (!container) {
            throw new Error(
              `The release pushes an image of ${name}, which ${environment.name} does not run ` +
                `(containers: ${environment.containers.map((c) => c.name).join(', ')}).`,
            );
          }
          return container;
        });
  return chosen.map((container) => ({ container: container.name, repository: container.repository, tag }));
}

/** A rebuild of the same commit is a new image: same tag, another digest. */
export function rebuiltDigest(repository: string, tag: string): string {
  return imageDigestFor(repository, `${tag}#rebuilt`);
}
