/**
 * VerifySecrets: before anything changes, checks that every secret the new tasks will read exists,
 * is not pending deletion, parses and holds its keys with real values, and that every image to
 * deploy exists in ECR, which pins each image by digest. Values are judged and never repeated.
 */
import { environmentOfRequest } from '../domain/environment-lookup';
import { ImageNotFound, SecretsInvalid } from '../domain/errors';
import { describeProblems } from '../domain/secrets-check';
import type { DeploymentRequest, VerificationCheck, VerificationResult } from '../domain/workflow-state';
import { imageLabel, verifyDeployment } from '../aws/deployment-verification';
import { lambdaEntry, type HandlerDeps } from './runtime';

export interface VerifySecretsEvent {
  readonly executionId: string;
  readonly request: DeploymentRequest;
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

    const { checks, images, secretProblems, imageProblems } = await verifyDeployment(deps.clients, {
      target: request,
      environment,
      images: request.images,
    });
    for (const check of checks) deps.logger.info(`${check.status} ${check.kind} ${check.subject}`, { check });

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
    deps.logger.info('verification passed', { checks: checks.length, images: images.map(imageLabel) });
    return { ok: true, checks, images };
  };
}

export const handler = lambdaEntry('verify-secrets', createVerifySecretsHandler);
