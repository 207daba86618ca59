/**
 * `imagesAfter` of the `simulate --json` document: what the service runs at the end, read from the
 * revision its load balancer routes to (not from the SSM parameters, which say what the orchestrator
 * published and may lag when publishing failed: the document shows both for comparison).
 */
import { DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { imageParameterValue, parseImageReference } from '../../lambdas/domain/image-parameters';
import type { EnvironmentName } from '../../lambdas/domain/environments';
import type { SimulatedAccount } from '../account/simulated-account';

/** Container → `<repository>@sha256:<hex>` of the serving revision; empty when no revision serves. */
export async function imagesServedBy(
  account: SimulatedAccount,
  environment: EnvironmentName,
): Promise<Record<string, string>> {
  const serving = account.ecs.servingRevision(environment);
  if (!serving) return {};
  const { taskDefinition } = await account.clients.ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: serving.taskDefinitionArn }),
  );
  const images: Record<string, string> = {};
  for (const { name, image } of taskDefinition?.containerDefinitions ?? []) {
    const reference = image ? parseImageReference(image) : undefined;
    if (!name || !reference) continue;
    const digest = reference.digest ?? account.ecr.digestOf(reference.repository, reference.tag ?? 'latest');
    if (digest) images[name] = imageParameterValue(reference.repository, digest);
  }
  return images;
}

/** Parameter name → value of every SSM parameter the account holds at the end. */
export function imageParametersOf(account: SimulatedAccount): Record<string, string> {
  return Object.fromEntries(account.ssm.parameters().map((parameter) => [parameter.name, parameter.value]));
}
