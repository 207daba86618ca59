/**
 * SmokeTest: asks the live service, at the environment's configured base URL only, the environment's
 * configured checks, retrying with backoff while new tasks warm up. A failed check is a result
 * (`passed: false`), not an error: the workflow rolls back on it.
 */
import { probe } from '../aws/http-probe';
import { environmentNamed } from '../domain/environments';
import { SmokeTestFailed } from '../domain/errors';
import {
  checkUrl,
  judgeSmokeResponse,
  parseSmokeBaseUrl,
  redirectTarget,
  retryDelayMs,
  type CheckVerdict,
  type SmokeCheck,
  type SmokeExpectations,
} from '../domain/smoke';
import type { DeploymentRequest, SmokeCheckResult, SmokeResult } from '../domain/workflow-state';
import { lambdaEntry, type HandlerDeps } from './runtime';

export interface SmokeTestInput {
  readonly executionId: string;
  readonly request: DeploymentRequest;
}

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
    const base = parsed.url;
    const expectations: SmokeExpectations = {
      expectedServiceNames: environment.smoke.expectedServiceNames,
      deployedVersion: request.version,
      versionTagPrefixes: Object.values(deps.environments).map((env) => env.imageTagPrefix),
    };
    const warmUpEndsAt = deps.now().getTime() + environment.smoke.warmUpSeconds * 1000;

    const results: SmokeCheckResult[] = [];
    for (const check of environment.smoke.checks) {
      const result = await runCheck(check, {
        base,
        expectations,
        warmUpEndsAt,
        warmUpSeconds: environment.smoke.warmUpSeconds,
        timeoutMs: environment.smoke.requestTimeoutMs,
      });
      if (result.status === 'PASS') deps.logger.info('Smoke check passed', { check: result });
      else deps.logger.warn('Smoke check failed', { check: result });
      results.push(result);
    }

    const passed = results.every((r) => r.status === 'PASS');
    deps.logger.info(passed ? 'Smoke test passed' : 'Smoke test failed', {
      baseUrl: base.href,
      failed: results.filter((r) => r.status === 'FAIL').map((r) => r.name),
    });
    return { passed, baseUrl: base.href, checks: results };
  };

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

export const handler = lambdaEntry('smoke-test', createSmokeTestHandler);
