/**
 * Whether an image exists in ECR, and its digest: DescribeImages by digest when the request pins
 * one, else by tag. Transient failures become `TransientAwsError`; the rest are answers.
 */
import { DescribeImagesCommand, type ImageIdentifier } from '@aws-sdk/client-ecr';
import {
  AwsErrorKind,
  classifyAwsError,
  describeAwsError,
  isPermissionDenied,
  transientOrOriginal,
} from '../domain/aws-error-kind';
import type { AwsClients } from './clients';

export interface ImageQuery {
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
  /** The registry (account id) holding the repository; the caller's account when omitted. */
  readonly registryId?: string;
}

export type ImageLookup =
  | { readonly state: 'found'; readonly digest: string; readonly tags: readonly string[] }
  | { readonly state: 'missing'; readonly what: 'image' | 'repository' }
  | { readonly state: 'unreadable'; readonly failure: string }
  /** The caller's own permissions refused the lookup: says nothing about the image. */
  | { readonly state: 'access-denied'; readonly failure: string };

export async function lookUpImage(clients: Pick<AwsClients, 'ecr'>, query: ImageQuery): Promise<ImageLookup> {
  const imageId: ImageIdentifier = query.digest ? { imageDigest: query.digest } : { imageTag: query.tag };
  try {
    const response = await clients.ecr.send(
      new DescribeImagesCommand({
        repositoryName: query.repository,
        imageIds: [imageId],
        ...(query.registryId ? { registryId: query.registryId } : {}),
      }),
    );
    const detail = response.imageDetails?.[0];
    if (!detail?.imageDigest) return { state: 'missing', what: 'image' };
    return { state: 'found', digest: detail.imageDigest, tags: detail.imageTags ?? [] };
  } catch (error) {
    const rethrown = transientOrOriginal(error, `ECR DescribeImages (${query.repository})`);
    if (rethrown !== error) throw rethrown;
    const name = (error as { name?: string }).name;
    if (name === 'ImageNotFoundException') return { state: 'missing', what: 'image' };
    if (name === 'RepositoryNotFoundException') return { state: 'missing', what: 'repository' };
    const kind = classifyAwsError(error);
    if (kind === AwsErrorKind.unknown) throw error;
    const failure = `DescribeImages: ${describeAwsError(error)}`;
    return isPermissionDenied(error) ? { state: 'access-denied', failure } : { state: 'unreadable', failure };
  }
}
