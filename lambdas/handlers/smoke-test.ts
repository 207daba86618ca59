/**
 * SmokeTest: asks the live service, at the environment's configured base URL only, the environment's
 * configured checks, retrying with backoff while new tasks warm up; then asks ECS whether every
 * container of the new revision with a health check is HEALTHY (`container-health`). The version
 * check runs only when the deployment changed the container whose version the endpoint reports;
 * otherwise it is SKIP with its reason. A failed check is a result (`passed: false`), not an error:
 * the workflow rolls back on it.
 */
import { observeRevisionHealth } from '../aws/ecs-rollout';
import { probe } from '../aws/http-probe';
import { describeAwsError } from '../domain/aws-error-kind';
import { environmentNamed, versionReporterOf } from '../domain/environments';
import { SmokeTestFailed, TransientAwsError } from '../domain/errors';
import {
  BodyExpectation,
  checkUrl,
  judgeContainerHealth,
  judgeSmokeResponse,
  parseSmokeBaseUrl,
  redirectTarget,
  retryDelayMs,
  type CheckVerdict,
  type SmokeCheck,
  type SmokeExpectations,
  versionCheckScope,
} from '../domain/smoke';
import type {
  DeploymentRequest,
  SmokeCheckResult,
  SmokeResult,
  UpdateResult,
} from '../domain/workflow-state';
import { lambdaEntry, type HandlerDeps } from './runtime';

export interface SmokeTestInput {
  readonly executionId: string;
  readonly request: DeploymentRequest;
  /** `$.update`: the revision whose tasks' container health is judged. */
  readonly update: Pick<UpdateResult, 'taskDefinitionArn'>;
}

/** The name of the check that reads the containers' own health from ECS. */
export const CONTAINER_HEALTH_CHECK = 'container-health';

/** A health or readiness document is a few hundred bytes; anything past this is not one. */
const MAX_BODY_BYTES = 64 * 1024;

export function createSmokeTestHandler(deps: HandlerDeps) {
  return async (event: SmokeTestInput): Promise<SmokeResult> => {
    const { request } = event;
    deps.logger.resetKeys();
    deps.logger.appendKeys({ executionId: event.executionId, environment: request?.environment });

    const environment = environmentNamed(deps.environments, request?.environment);
    if (!environment) {
      throw new SmokeTestFailed(
        `The request names environment ${JSON.stringify(request?.environment)}, which has no smoke-test ` +
          'configuration. Check the environments of the deployment configuration the stack was built from.',
      );
    }
    const parsed = parseSmokeBaseUrl(environment.smoke.baseUrl);
    if ('problem' in parsed) {
      throw new SmokeTestFailed(
        `Cannot smoke-test ${environment.name}: ${parsed.problem}. Fix smoke.baseUrl for ${environment.name} ` +
          'in the deployment configuration and redeploy the orchestrator.',
      );
    }
    const taskDefinitionArn = event.update?.taskDefinitionArn;
    if (!taskDefinitionArn) {
      throw new SmokeTestFailed(
        `The smoke test of ${environment.name} was not told which revision was deployed ($.update), so the ` +
          "containers' health cannot be judged. Deploy the functions and the state machine from the same release, " +
          'then deploy again.',
      );
    }
    const base = parsed.url;
    const reporter = versionReporterOf(environment);
    const warmUpEndsAt = deps.now().getTime() + environment.smoke.warmUpSeconds * 1000;
    const context = {
      base,
      warmUpEndsAt,
      warmUpSeconds: environment.smoke.warmUpSeconds,
      timeoutMs: environment.smoke.requestTimeoutMs,
    };

    const results: SmokeCheckResult[] = [];
    for (const check of environment.smoke.checks) {
      const scope = versionCheckScope(request.images, reporter, check.path);
      const result =
        check.expectBody === BodyExpectation.version && !scope.applies
          ? skipped(check.name, checkUrl(base, check.path).href, scope.reason)
          : await runCheck(check, {
              ...context,
              expectations: {
                expectedServiceNames: environment.smoke.expectedServiceNames,
                deployedVersion: scope.applies ? scope.deployedVersion : request.version,
                versionTagPrefixes: Object.values(deps.environments).map((env) => env.imageTagPrefix),
              },
            });
      log(result);
      results.push(result);
    }
    const health = await runContainerHealth(
      { clusterName: request.clusterName, serviceName: request.serviceName, taskDefinitionArn },
      context,
    );
    log(health);
    results.push(health);

    const passed = results.every((r) => r.status !== 'FAIL');
    deps.logger.info(passed ? 'Smoke test passed' : 'Smoke test failed', {
      baseUrl: base.href,
      failed: results.filter((r) => r.status === 'FAIL').map((r) => r.name),
      skipped: results.filter((r) => r.status === 'SKIP').map((r) => r.name),
    });
    return { passed, baseUrl: base.href, checks: results };
  };

  function log(result: SmokeCheckResult): void {
    if (result.status === 'PASS') deps.logger.info('Smoke check passed', { check: result });
    else if (result.status === 'SKIP') deps.logger.info('Smoke check skipped', { check: result });
    else deps.logger.warn('Smoke check failed', { check: result });
  }

  /**
   * Every container of the new revision with a health check must be HEALTHY in its running tasks,
   * asked again while the warm-up lasts. A refused ECS call fails the check (it says what to grant);
   * a throttled or failing one is retried by the workflow.
   */
  async function runContainerHealth(
    target: { clusterName: string; serviceName: string; taskDefinitionArn: string },
    context: { warmUpEndsAt: number; warmUpSeconds: number },
  ): Promise<SmokeCheckResult> {
    const result = (
      status: 'PASS' | 'FAIL' | 'SKIP',
      attempts: number,
      latencyMs: number,
      reason?: string,
    ) => ({
      name: CONTAINER_HEALTH_CHECK,
      url: target.taskDefinitionArn,
      status,
      latencyMs,
      attempts,
      ...(reason !== undefined && { reason }),
    });
    for (let attempt = 1; ; attempt += 1) {
      const started = performance.now();
      let observation: Awaited<ReturnType<typeof observeRevisionHealth>>;
      try {
        observation = await observeRevisionHealth(deps.clients, target);
      } catch (error) {
        if (error instanceof TransientAwsError) throw error;
        const why = error instanceof Error ? error.message : describeAwsError(error);
        return result('FAIL', attempt, Math.round(performance.now() - started), why);
      }
      const latencyMs = Math.round(performance.now() - started);
      if (observation.healthChecked.length === 0) {
        return result(
          'SKIP',
          attempt,
          latencyMs,
          `no container of ${target.taskDefinitionArn} defines a health check, so ECS judges none`,
        );
      }
      const verdict = judgeContainerHealth(
        observation.healthChecked,
        observation.tasks,
        target.taskDefinitionArn,
      );
      if (verdict.passed) return result('PASS', attempt, latencyMs);
      const remainingMs = context.warmUpEndsAt - deps.now().getTime();
      if (!verdict.retryable || remainingMs <= 0) {
        const why = verdict.retryable
          ? `; still so after ${attempt} attempts when the ${context.warmUpSeconds} s warm-up window ended`
          : '';
        return result('FAIL', attempt, latencyMs, `${verdict.reason}${why}`);
      }
      deps.logger.debug('Containers not healthy yet; asking again', { attempt, reason: verdict.reason });
      await deps.sleep(Math.min(retryDelayMs(attempt), remainingMs));
    }
  }

  async function runCheck(
    check: SmokeCheck,
    context: {
      base: URL;
      expectations: SmokeExpectations;
      warmUpEndsAt: number;
      warmUpSeconds: number;
      timeoutMs: number;
    },
  ): Promise<SmokeCheckResult> {
    const url = checkUrl(context.base, check.path);
    // Called as a plain function: the platform's fetch must not be invoked as a method of deps.
    const fetchFn = deps.fetch;
    for (let attempt = 1; ; attempt += 1) {
      const started = performance.now();
      const outcome = await probe(fetchFn, url, {
        timeoutMs: context.timeoutMs,
        maxBodyBytes: MAX_BODY_BYTES,
        followRedirect: (current, location) => redirectTarget(context.base, current, location),
      });
      const latencyMs = Math.round(performance.now() - started);
      const verdict: CheckVerdict =
        outcome.kind === 'failure'
          ? { passed: false, reason: outcome.reason, retryable: outcome.retryable }
          : judgeSmokeResponse(check, outcome, context.expectations);
      const httpStatus = outcome.kind === 'response' ? { httpStatus: outcome.status } : {};
      if (verdict.passed) {
        return {
          name: check.name,
          url: url.href,
          status: 'PASS',
          ...httpStatus,
          latencyMs,
          attempts: attempt,
        };
      }
      const remainingMs = context.warmUpEndsAt - deps.now().getTime();
      if (!verdict.retryable || remainingMs <= 0) {
        const why = verdict.retryable
          ? `; still failing after ${attempt} attempts when the ${context.warmUpSeconds} s warm-up window ended`
          : '';
        return {
          name: check.name,
          url: url.href,
          status: 'FAIL',
          ...httpStatus,
          latencyMs,
          attempts: attempt,
          reason: `${verdict.reason}${why}`,
        };
      }
      deps.logger.debug('Smoke check not passing yet; retrying', {
        check: check.name,
        attempt,
        reason: verdict.reason,
      });
      await deps.sleep(Math.min(retryDelayMs(attempt), remainingMs));
    }
  }
}

function skipped(name: string, url: string, reason: string): SmokeCheckResult {
  return { name, url, status: 'SKIP', latencyMs: 0, attempts: 0, reason };
}

export const handler = lambdaEntry('smoke-test', createSmokeTestHandler);
