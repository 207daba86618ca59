/**
 * The real Lambda handlers, built once per simulation from their factories with dependencies bound
 * to the simulated account: its clients, the environment config pointing the smoke test at the live
 * local service, the virtual clock, and a logger per function that keeps its lines.
 */
import {
  environments,
  type EnvironmentConfig,
  type EnvironmentName,
} from '../../lambdas/domain/environments';
import { createAnalyzeDiffHandler } from '../../lambdas/handlers/analyze-diff';
import { createDeploymentEventHandler } from '../../lambdas/handlers/deployment-event';
import { createNotifyHandler } from '../../lambdas/handlers/notify';
import { createPollStabilizationHandler } from '../../lambdas/handlers/poll-stabilization';
import { createRegisterWaitHandler } from '../../lambdas/handlers/register-wait';
import { createResolveRequestHandler } from '../../lambdas/handlers/resolve-request';
import { createRollbackHandler } from '../../lambdas/handlers/rollback';
import type { HandlerDeps, HandlerSettings } from '../../lambdas/handlers/runtime';
import { createSmokeTestHandler } from '../../lambdas/handlers/smoke-test';
import { createUpdateServiceHandler } from '../../lambdas/handlers/update-service';
import { createVerifySecretsHandler } from '../../lambdas/handlers/verify-secrets';
import type { SimulatedAccount } from '../account/simulated-account';
import { CapturingLogger } from './capturing-logger';
import type { Scheduler } from './scheduler';

export type LambdaHandler = (event: unknown) => Promise<unknown>;

type HandlerFactory = (deps: HandlerDeps) => (event: never) => Promise<unknown>;

/** Every function of the orchestrator stack, by its handler file name. */
const factories: Readonly<Record<string, HandlerFactory>> = {
  'resolve-request': createResolveRequestHandler,
  'analyze-diff': createAnalyzeDiffHandler,
  'verify-secrets': createVerifySecretsHandler,
  'update-service': createUpdateServiceHandler,
  'register-wait': createRegisterWaitHandler,
  'poll-stabilization': createPollStabilizationHandler,
  'smoke-test': createSmokeTestHandler,
  rollback: createRollbackHandler,
  notify: createNotifyHandler,
  'deployment-event': createDeploymentEventHandler,
};

export const functionNames: readonly string[] = Object.keys(factories);

/** The environment config with each smoke test aimed at the sandbox's live service. */
export function sandboxEnvironments(
  account: SimulatedAccount,
): Readonly<Record<EnvironmentName, EnvironmentConfig>> {
  const entries = Object.values(environments).map((config) => [
    config.name,
    { ...config, smoke: { ...config.smoke, baseUrl: account.liveServiceUrlFor(config.name) } },
  ]);
  return Object.fromEntries(entries) as Record<EnvironmentName, EnvironmentConfig>;
}

export function buildHandlers(
  account: SimulatedAccount,
  settings: HandlerSettings,
  scheduler: Scheduler,
  logLines: string[],
): ReadonlyMap<string, LambdaHandler> {
  const sandboxConfig = sandboxEnvironments(account);
  const handlers = new Map<string, LambdaHandler>();
  for (const [name, factory] of Object.entries(factories)) {
    const deps: HandlerDeps = {
      clients: account.clients,
      environments: sandboxConfig,
      settings,
      logger: new CapturingLogger(logLines, { serviceName: name }),
      now: () => account.clock.now(),
      // A handler's wait passes in virtual time; other activities run meanwhile.
      sleep: (ms) => scheduler.sleep(ms, `${name}: sleep`),
      fetch: globalThis.fetch,
    };
    handlers.set(name, factory(deps) as LambdaHandler);
  }
  return handlers;
}
