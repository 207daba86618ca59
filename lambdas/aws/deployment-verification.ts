/**
 * The checks VerifySecrets makes, shared by the Lambda and `afu9-deploy verify-secrets`: read the
 * running task definition, judge every secret it and the environment config name, and look up every
 * image to deploy in ECR (pinning it by digest). Values are judged where they are read, never kept.
 */
import { describeAwsError, isPermissionDenied, wasRefused } from '../domain/aws-error-kind';
import { OrchestratorPermissionMissing, SecretsInvalid } from '../domain/errors';
import type { EnvironmentConfig } from '../domain/environments';
import { collectSecretRequirements, judgeSecret } from '../domain/secrets-check';
import { parseEcrImageUri, secretReferences, type TaskDefinitionShape } from '../domain/task-definition';
import type { ImageRef, VerificationCheck } from '../domain/workflow-state';
import type { AwsClients } from './clients';
import { lookUpImage } from './ecr';
import { describeService, describeTaskDefinition } from './ecs-deploy';
import { observeSecret } from './secrets';

/** Where the service runs: the fields of a request the checks need. */
export interface VerificationTarget {
  readonly clusterName: string;
  readonly serviceName: string;
}

export interface VerificationOutcome {
  readonly checks: readonly VerificationCheck[];
  /** Images found in ECR, each pinned by digest. */
  readonly images: readonly ImageRef[];
  /** Secrets and keys checked and found wrong (NG). */
  readonly secretProblems: number;
  /** Images checked and not found, or unreadable for a reason of their own (NG). */
  readonly imageProblems: number;
  /** Checks the caller's own role may not make (DENIED): not verdicts, yet each refuses the deployment. */
  readonly permissionProblems: number;
}

async function readRunningTaskDefinition(
  clients: AwsClients,
  request: VerificationTarget,
): Promise<TaskDefinitionShape> {
  const where = `service ${request.serviceName} in cluster ${request.clusterName}`;
  const cannotCheck = (why: string, cause?: unknown) =>
    new SecretsInvalid(
      `Could not check the secrets the running task definition references, because ${why}. Nothing was changed. ` +
        'Make sure the service exists and is ACTIVE, then deploy again.',
      { cause },
    );
  /** A refused read: the orchestrator's own permission, or the service's state. */
  const refused = (action: string, what: string, error: unknown) =>
    isPermissionDenied(error)
      ? new OrchestratorPermissionMissing(
          `The orchestrator's own role may not call ${action} (${describeAwsError(error)}), so the secrets the running ` +
            `task definition of ${where} references could not be checked; this says nothing about the secrets. ` +
            `Nothing was changed. The orchestrator stack grants ${action}: deploy the current orchestrator stack, or ` +
            'find what denies it (an SCP or a permissions boundary), then deploy again.',
          { cause: error },
        )
      : cannotCheck(`${what} failed (${describeAwsError(error)})`, error);

  let service: Awaited<ReturnType<typeof describeService>>;
  try {
    service = await describeService(clients, request.clusterName, request.serviceName);
  } catch (error) {
    if (wasRefused(error)) throw refused('ecs:DescribeServices', `reading ${where}`, error);
    throw error;
  }
  if (!service || service.status !== 'ACTIVE' || !service.taskDefinition) {
    throw cannotCheck(`${where} was not found or is not ACTIVE (${service?.status ?? 'missing'})`);
  }
  try {
    return (await describeTaskDefinition(clients, service.taskDefinition)).taskDefinition;
  } catch (error) {
    if (wasRefused(error)) {
      throw refused('ecs:DescribeTaskDefinition', `reading task definition ${service.taskDefinition}`, error);
    }
    throw error;
  }
}

async function verifySecrets(
  clients: AwsClients,
  environment: EnvironmentConfig,
  running: TaskDefinitionShape,
): Promise<VerificationCheck[]> {
  const { requirements, skipped } = collectSecretRequirements(secretReferences(running), environment.secrets);
  const judged = await Promise.all(
    requirements.map(async (requirement) =>
      judgeSecret(requirement, await observeSecret(clients, requirement)),
    ),
  );
  return [...judged.flat(), ...skipped];
}

async function verifyImage(
  clients: AwsClients,
  image: ImageRef,
  running: TaskDefinitionShape,
): Promise<{ check: VerificationCheck; pinned?: ImageRef }> {
  const container = running.containerDefinitions?.find((candidate) => candidate.name === image.container);
  const registryId = parseEcrImageUri(container?.image ?? '')?.registryId;
  const lookup = await lookUpImage(clients, {
    repository: image.repository,
    ...(image.tag ? { tag: image.tag } : {}),
    ...(image.digest ? { digest: image.digest } : {}),
    ...(registryId ? { registryId } : {}),
  });
  const subject = imageLabel(image);
  switch (lookup.state) {
    case 'found': {
      const pinned = { ...image, digest: lookup.digest };
      return {
        check: { kind: 'image', subject: imageLabel(pinned), status: 'OK', detail: `exists in ECR` },
        pinned,
      };
    }
    case 'missing':
      return {
        check: {
          kind: 'image',
          subject,
          status: 'NG',
          detail:
            lookup.what === 'repository'
              ? `ECR repository ${image.repository} does not exist${registryId ? ` in registry ${registryId}` : ''}: create it or correct the repository in the environment config`
              : `image not found in ECR repository ${image.repository}: push it first, or correct the tag or digest in the request`,
        },
      };
    case 'unreadable':
      return {
        check: {
          kind: 'image',
          subject,
          status: 'NG',
          detail: `could not check it (${lookup.failure}): look at the repository ${image.repository} in ECR, then retry`,
        },
      };
    case 'access-denied':
      return {
        check: {
          kind: 'image',
          subject,
          status: 'DENIED',
          detail:
            `the orchestrator's own role may not call ecr:DescribeImages on ${image.repository} (${lookup.failure}), so ` +
            'the image was not checked; this says nothing about the image. To fix: the orchestrator stack grants it on ' +
            'the configured repositories: deploy the current orchestrator stack' +
            (registryId
              ? `, and let the role read it in the repository policy of registry ${registryId} if that is another account`
              : '') +
            '; otherwise find what denies it (an SCP or a permissions boundary)',
        },
      };
  }
}

export function imageLabel(image: ImageRef): string {
  return `${image.repository}${image.tag ? `:${image.tag}` : ''}${image.digest ? `@${image.digest}` : ''}`;
}

/**
 * Runs every check; never throws for a problem it found (each is an NG or DENIED check), only when
 * the running task definition cannot be read or AWS fails.
 */
export async function verifyDeployment(
  clients: AwsClients,
  input: { target: VerificationTarget; environment: EnvironmentConfig; images: readonly ImageRef[] },
): Promise<VerificationOutcome> {
  const running = await readRunningTaskDefinition(clients, input.target);
  const secretChecks = await verifySecrets(clients, input.environment, running);
  const imageResults = await Promise.all(input.images.map((image) => verifyImage(clients, image, running)));
  const imageChecks = imageResults.map((result) => result.check);
  return {
    checks: [...secretChecks, ...imageChecks],
    images: imageResults.map((result) => result.pinned).filter((image): image is ImageRef => !!image),
    secretProblems: secretChecks.filter((check) => check.status === 'NG').length,
    imageProblems: imageChecks.filter((check) => check.status === 'NG').length,
    permissionProblems: [...secretChecks, ...imageChecks].filter((check) => check.status === 'DENIED').length,
  };
}
