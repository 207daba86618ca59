/**
 * VerifySecrets: before anything changes, checks that every secret the new tasks will read exists,
 * is not pending deletion, parses and holds its keys with real values, and that every image to
 * deploy exists in ECR, which pins each image by digest. Values are judged and never repeated.
 */
import { AwsErrorKind, classifyAwsError, describeAwsError } from '../domain/aws-error-kind';
import { environmentOfRequest } from '../domain/environment-lookup';
import { ImageNotFound, SecretsInvalid } from '../domain/errors';
import type { EnvironmentConfig } from '../domain/environments';
import { collectSecretRequirements, describeProblems, judgeSecret } from '../domain/secrets-check';
import { parseEcrImageUri, secretReferences, type TaskDefinitionShape } from '../domain/task-definition';
import type {
  DeploymentRequest,
  ImageRef,
  VerificationCheck,
  VerificationResult,
} from '../domain/workflow-state';
import { lookUpImage } from '../aws/ecr';
import { describeService, describeTaskDefinition } from '../aws/ecs-deploy';
import { observeSecret } from '../aws/secrets';
import { lambdaEntry, type HandlerDeps } from './runtime';

export interface VerifySecretsEvent {
  readonly executionId: string;
  readonly request: DeploymentRequest;
}

async function readRunningTaskDefinition(
  deps: HandlerDeps,
  request: DeploymentRequest,
): Promise<TaskDefinitionShape> {
  const where = `service ${request.serviceName} in cluster ${request.clusterName}`;
  const cannotCheck = (why: string, cause?: unknown) =>
    new SecretsInvalid(
      `Could not check the secrets the running task definition references, because ${why}. Nothing was changed. ` +
        'Make sure the service exists and the orchestrator may call ecs:DescribeServices and ecs:DescribeTaskDefinition, then deploy again.',
      { cause },
    );
  try {
    const service = await describeService(deps.clients, request.clusterName, request.serviceName);
    if (!service || service.status !== 'ACTIVE' || !service.taskDefinition) {
      throw cannotCheck(`${where} was not found or is not ACTIVE (${service?.status ?? 'missing'})`);
    }
    return (await describeTaskDefinition(deps.clients, service.taskDefinition)).taskDefinition;
  } catch (error) {
    const kind = classifyAwsError(error);
    if (
      kind === AwsErrorKind.notFound ||
      kind === AwsErrorKind.accessDenied ||
      kind === AwsErrorKind.refused
    ) {
      throw cannotCheck(`reading ${where} failed (${describeAwsError(error)})`, error);
    }
    throw error;
  }
}

async function verifySecrets(
  deps: HandlerDeps,
  environment: EnvironmentConfig,
  running: TaskDefinitionShape,
): Promise<VerificationCheck[]> {
  const { requirements, skipped } = collectSecretRequirements(secretReferences(running), environment.secrets);
  const judged = await Promise.all(
    requirements.map(async (requirement) =>
      judgeSecret(requirement, await observeSecret(deps.clients, requirement)),
    ),
  );
  return [...judged.flat(), ...skipped];
}

function imageLabel(image: ImageRef): string {
  return `${image.repository}${image.tag ? `:${image.tag}` : ''}${image.digest ? `@${image.digest}` : ''}`;
}

async function verifyImage(
  deps: HandlerDeps,
  image: ImageRef,
  running: TaskDefinitionShape,
): Promise<{ check: VerificationCheck; pinned?: ImageRef }> {
  const container = running.containerDefinitions?.find((candidate) => candidate.name === image.container);
  const registryId = parseEcrImageUri(container?.image ?? '')?.registryId;
  const lookup = await lookUpImage(deps.clients, {
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
          detail: `could not check it (${lookup.failure}): give the orchestrator's role ecr:DescribeImages on ${image.repository}, then retry`,
        },
      };
  }
}

function problemMessage(headline: string, checks: readonly VerificationCheck[]): string {
  return [headline, ...describeProblems(checks).map((problem) => `- ${problem}`)].join('\n');
}

export function createVerifySecretsHandler(deps: HandlerDeps) {
  return async (event: VerifySecretsEvent): Promise<VerificationResult> => {
    deps.logger.resetKeys();
    deps.logger.appendKeys({ executionId: event.executionId });
    const { request } = event;
    const environment = environmentOfRequest(deps.environments, request.environment);

    const running = await readRunningTaskDefinition(deps, request);
    const secretChecks = await verifySecrets(deps, environment, running);
    const imageResults = await Promise.all(request.images.map((image) => verifyImage(deps, image, running)));
    const imageChecks = imageResults.map((result) => result.check);
    const checks = [...secretChecks, ...imageChecks];
    for (const check of checks) deps.logger.info(`${check.status} ${check.kind} ${check.subject}`, { check });

    const secretProblems = secretChecks.filter((check) => check.status === 'NG').length;
    const imageProblems = imageChecks.filter((check) => check.status === 'NG').length;
    const target = `${request.serviceName} (${request.environment})`;
    if (secretProblems > 0) {
      throw new SecretsInvalid(
        problemMessage(
          `${secretProblems + imageProblems} problem(s) would stop the new tasks of ${target} from starting; nothing was changed. Fix each, then deploy again:`,
          checks,
        ),
      );
    }
    if (imageProblems > 0) {
      throw new ImageNotFound(
        problemMessage(
          `${imageProblems} image(s) to deploy to ${target} are not in ECR; nothing was changed. Fix each, then deploy again:`,
          checks,
        ),
      );
    }
    const images = imageResults.map((result) => result.pinned).filter((image): image is ImageRef => !!image);
    deps.logger.info('verification passed', { checks: checks.length, images: images.map(imageLabel) });
    return { ok: true, checks, images };
  };
}

export const handler = lambdaEntry('verify-secrets', createVerifySecretsHandler);
