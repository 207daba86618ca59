/**
 * Simulated ECR: repositories of images, each image a digest with its tags. Pushing an image emits
 * the `ECR Image Action` event EventBridge delivers for real pushes.
 */
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  ECRServiceException,
  ImageNotFoundException,
  ListImagesCommand,
  RepositoryNotFoundException,
  type ImageDetail,
  type ImageIdentifier,
} from '@aws-sdk/client-ecr';
import { route, simulatedClient, type SimulatedClient } from './dispatch';
import type { SimulatedEventBus } from './event-bus';
import type { FaultInjector } from './faults';
import { imageDigestFor } from './ids';
import { awsError } from './sdk-errors';
import type { VirtualClock } from './virtual-clock';

const manifestMediaType = 'application/vnd.docker.distribution.manifest.v2+json';

export interface StoredImage {
  readonly repository: string;
  readonly digest: string;
  readonly tags: Set<string>;
  readonly pushedAt: Date;
  readonly sizeInBytes: number;
}

/** An image reference as a task definition writes it: `<registry>/<repository>(:tag|@digest)`. */
export interface ParsedImageUri {
  readonly registry: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

export function parseImageUri(uri: string): ParsedImageUri | undefined {
  const match = /^([^/]+)\/([^:@]+)(?::([^@]+))?(?:@(sha256:[0-9a-f]{64}))?$/.exec(uri);
  if (!match) return undefined;
  return { registry: match[1]!, repository: match[2]!, tag: match[3], digest: match[4] };
}

export class SimulatedEcr {
  private readonly repositories = new Map<string, StoredImage[]>();
  readonly client: SimulatedClient;

  constructor(
    private readonly account: { readonly accountId: string; readonly region: string },
    private readonly clock: VirtualClock,
    private readonly bus: SimulatedEventBus,
    faults: FaultInjector,
    repositoryNames: readonly string[],
  ) {
    for (const name of repositoryNames) this.repositories.set(name, []);
    this.client = simulatedClient('ecr', 'ECR', ECRServiceException, faults, [
      route(DescribeImagesCommand, (input) => this.describeImages(input.repositoryName, input.imageIds)),
      route(BatchGetImageCommand, (input) => this.batchGetImage(input.repositoryName, input.imageIds ?? [])),
      route(ListImagesCommand, (input) => ({
        imageIds: this.imagesOf(input.repositoryName).flatMap((image) =>
          image.tags.size === 0
            ? [{ imageDigest: image.digest }]
            : [...image.tags].map((imageTag) => ({ imageDigest: image.digest, imageTag })),
        ),
      })),
    ]);
  }

  get registry(): string {
    return `${this.account.accountId}.dkr.ecr.${this.account.region}.amazonaws.com`;
  }

  /** The URI a task definition uses for this image, pinned by digest. */
  imageUri(repository: string, digest: string): string {
    return `${this.registry}/${repository}@${digest}`;
  }

  /**
   * Pushes an image (the tag moves to it, as in ECR) and emits the push event. Pushing the same
   * repository and tag again yields the same digest: the same content.
   */
  pushImage(
    repository: string,
    tag: string,
    options: { readonly digest?: string; readonly emitEvent?: boolean } = {},
  ) {
    const images = this.repositories.get(repository);
    if (!images) {
      throw new Error(
        `The sandbox has no ECR repository ${repository}; it has ${[...this.repositories.keys()].join(', ')}.`,
      );
    }
    const digest = options.digest ?? imageDigestFor(repository, tag);
    for (const image of images) image.tags.delete(tag);
    const existing = images.find((image) => image.digest === digest);
    if (existing) existing.tags.add(tag);
    else
      images.push({
        repository,
        digest,
        tags: new Set([tag]),
        pushedAt: this.clock.now(),
        sizeInBytes: 180_000_000 + (parseInt(digest.slice(7, 13), 16) % 60_000_000),
      });
    if (options.emitEvent ?? true) {
      this.bus.emit('aws.ecr', 'ECR Image Action', [], {
        result: 'SUCCESS',
        'repository-name': repository,
        'image-digest': digest,
        'action-type': 'PUSH',
        'image-tag': tag,
      });
    }
    return digest;
  }

  /** Deletes an image by tag or digest (the image a scenario wants missing). */
  deleteImage(repository: string, tagOrDigest: string): void {
    const images = this.repositories.get(repository);
    if (!images) return;
    const index = images.findIndex((image) => image.digest === tagOrDigest || image.tags.has(tagOrDigest));
    if (index >= 0) images.splice(index, 1);
  }

  /** The image a reference names, or undefined when ECR does not have it. */
  findImage(
    repository: string,
    ref: { readonly tag?: string; readonly digest?: string },
  ): StoredImage | undefined {
    const images = this.repositories.get(repository) ?? [];
    return images.find(
      (image) =>
        (ref.digest === undefined || image.digest === ref.digest) &&
        (ref.tag === undefined || image.tags.has(ref.tag)),
    );
  }

  private imagesOf(repositoryName: string | undefined): StoredImage[] {
    const images = repositoryName === undefined ? undefined : this.repositories.get(repositoryName);
    if (!images) {
      throw awsError(
        RepositoryNotFoundException,
        `The repository with name '${repositoryName}' does not exist in the registry with id '${this.account.accountId}'`,
      );
    }
    return images;
  }

  private notFoundMessage(repository: string, id: ImageIdentifier): string {
    return (
      `The image with imageId {imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'} ` +
      `does not exist within the repository with name '${repository}' in the registry with id '${this.account.accountId}'`
    );
  }

  private describeImages(
    repositoryName: string | undefined,
    imageIds: readonly ImageIdentifier[] | undefined,
  ) {
    const images = this.imagesOf(repositoryName);
    const selected = imageIds?.length
      ? imageIds.map((id) => {
          const image = this.findImage(repositoryName!, { tag: id.imageTag, digest: id.imageDigest });
          if (!image) throw awsError(ImageNotFoundException, this.notFoundMessage(repositoryName!, id));
          return image;
        })
      : images;
    const imageDetails: ImageDetail[] = selected.map((image) => ({
      registryId: this.account.accountId,
      repositoryName: image.repository,
      imageDigest: image.digest,
      imageTags: [...image.tags],
      imageSizeInBytes: image.sizeInBytes,
      imagePushedAt: new Date(image.pushedAt),
      imageManifestMediaType: manifestMediaType,
      artifactMediaType: 'application/vnd.docker.container.image.v1+json',
    }));
    return { imageDetails };
  }

  private batchGetImage(repositoryName: string | undefined, imageIds: readonly ImageIdentifier[]) {
    this.imagesOf(repositoryName);
    const images = [];
    const failures = [];
    for (const id of imageIds) {
      const image = this.findImage(repositoryName!, { tag: id.imageTag, digest: id.imageDigest });
      if (!image) {
        failures.push({
          imageId: { ...id },
          failureCode: 'ImageNotFound',
          failureReason: 'Requested image not found',
        });
        continue;
      }
      images.push({
        registryId: this.account.accountId,
        repositoryName: image.repository,
        imageId: { imageDigest: image.digest, ...(id.imageTag ? { imageTag: id.imageTag } : {}) },
        imageManifest: JSON.stringify({
          schemaVersion: 2,
          mediaType: manifestMediaType,
          config: {
            mediaType: 'application/vnd.docker.container.image.v1+json',
            size: 7023,
            digest: image.digest,
          },
          layers: [],
        }),
        imageManifestMediaType: manifestMediaType,
      });
    }
    return { images, failures };
  }
}
