/**
 * Publishes the images a verified revision runs as the SSM parameters the ECS stack reads (see
 * `lambdas/domain/image-parameters.ts`): DescribeTaskDefinition for the revision's containers, ECR
 * DescribeImages for an image the revision names by tag (a revision CloudFormation registered), then
 * one PutParameter with Overwrite per container. Each container is attempted; what failed is returned.
 */
import { DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { ParameterTier, ParameterType, PutParameterCommand } from '@aws-sdk/client-ssm';
import { describeAwsError } from '../domain/aws-error-kind';
import { imageParameterName, imageParameterValue, parseImageReference } from '../domain/image-parameters';
import type { AwsClients } from './clients';
import { lookUpImage } from './ecr';

export interface PublishedImages {
  /** Container → the value now in its parameter (`<repository>@sha256:<hex>`). */
  readonly published: Readonly<Record<string, string>>;
  /** One line per container (or for the revision) that was not published, saying why. */
  readonly failures: readonly string[];
}

/** The digest-pinned value of one container's image, or why there is none. */
async function pinnedValue(
  clients: Pick<AwsClients, 'ecr'>,
  container: string,
  image: string,
): Promise<{ value: string } | { failure: string }> {
  const reference = parseImageReference(image);
  if (!reference) return { failure: `${container}: the image "${image}" is not an image reference` };
  if (reference.digest) return { value: imageParameterValue(reference.repository, reference.digest) };
  const lookup = await lookUpImage(clients, {
    repository: reference.repository,
    tag: reference.tag ?? 'latest',
  });
  if (lookup.state === 'found') return { value: imageParameterValue(reference.repository, lookup.digest) };
  const why =
    lookup.state === 'missing'
      ? `the ${lookup.what} is not in ECR`
      : `its digest could not be read (${lookup.failure})`;
  return { failure: `${container}: ${image} runs by tag and ${why}` };
}

export async function publishImageParameters(
  clients: Pick<AwsClients, 'ecs' | 'ecr' | 'ssm'>,
  input: { readonly prefix: string; readonly environment: string; readonly taskDefinitionArn: string },
): Promise<PublishedImages> {
  let containers: readonly { name?: string; image?: string }[];
  try {
    const described = await clients.ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: input.taskDefinitionArn }),
    );
    containers = described.taskDefinition?.containerDefinitions ?? [];
  } catch (error) {
    return {
      published: {},
      failures: [`reading the containers of ${input.taskDefinitionArn} (${describeAwsError(error)})`],
    };
  }
  const published: Record<string, string> = {};
  const failures: string[] = [];
  for (const { name, image } of containers) {
    if (!name || !image) continue;
    try {
      const pinned = await pinnedValue(clients, name, image);
      if ('failure' in pinned) {
        failures.push(pinned.failure);
        continue;
      }
      await clients.ssm.send(
        new PutParameterCommand({
          Name: imageParameterName(input.prefix, input.environment, name),
          Value: pinned.value,
          Type: ParameterType.STRING,
          Tier: ParameterTier.STANDARD,
          Overwrite: true,
          Description: `Image of ${name} in ${input.environment}, verified by the deployment orchestrator`,
        }),
      );
      published[name] = pinned.value;
    } catch (error) {
      failures.push(`${name}: ${describeAwsError(error)}`);
    }
  }
  return { published, failures };
}
