/**
 * VerifySecrets: before anything changes, checks that every secret the new tasks will read exists,
 * is not pending deletion, parses and holds its keys with real values, and that every image to
 * deploy exists in ECR, which pins each image by digest. Values are judged and never repeated.
 *
 * Fails closed: a broken secret throws `SecretsInvalid`, a missing image `ImageNotFound`, and a
 * check the orchestrator's own role may not make (DENIED) `OrchestratorPermissionMissing`, whose
 * message says it is a missing grant, not a broken secret, and what to grant.
 */
import { environmentOfRequest } from '../domain/environment-lookup';
import { ImageNotFound, OrchestratorPermissionMissing, SecretsInvalid } from '../domain/errors';
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

    const { checks, images, secretProblems, imageProblems, permissionProblems } = await verifyDeployment(
      deps.clients,
      {
        target: request,
        environment,
        images: request.images,
      },
    );
    for (const check of checks) deps.logger.info(`${check.status} ${check.kind} ${check.subject}`, { check });

    const target = `${request.serviceName} (${request.environment})`;
    const denied =
      permissionProblems > 0
        ? ` ${permissionProblems} more check(s) could not be made because the orchestrator's own role lacks a permission (DENIED: grant it, the lines say what).`
        : '';
    if (secretProblems > 0) {
      throw new SecretsInvalid(
        problemMessage(
          `${secretProblems + imageProblems} problem(s) would stop the new tasks of ${target} from starting; nothing was changed.${denied} Fix each, then deploy again:`,
          checks,
        ),
      );
    }
    if (permissionProblems > 0) {
      throw new OrchestratorPermissionMissing(
        problemMessage(
          `The orchestrator's own role lacks ${permissionProblems} permission(s) to check what ${target} needs, so the ` +
            'deployment is refused (fail closed); this is a missing grant, not a verdict on the secrets or images. ' +
            `Nothing was changed.${imageProblems > 0 ? ` ${imageProblems} image(s) are also not in ECR.` : ''} Grant each, then deploy again:`,
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
