/**
 * The real Lambda handlers, built once per simulation from their factories with dependencies bound
 * to the simulated account: its clients, the environment config pointing the smoke test at the live
 * local service, the virtual clock, and a logger per function that keeps its lines.
 */
import {
  environments,
  type EnvironmentConfig,
  type EnvironmentName,
  type SmokeConfig,
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

/** How long the smoke test waits, when a world shortens it (a hanging target costs wall-clock time). */
export type SmokeTiming = Partial<Pick<SmokeConfig, 'requestTimeoutMs' | 'warmUpSeconds'>>;

/** The environment config with each smoke test aimed at the sandbox's live service. */
export function sandboxEnvironments(
  account: SimulatedAccount,
  smokeTiming: SmokeTiming = {},
): Readonly<Record<EnvironmentName, EnvironmentConfig>> {
  const entries = Object.values(environments).map((config) => [
    config.name,
    {
      ...config,
      smoke: { ...config.smoke, ...smokeTiming, baseUrl: account.liveServiceUrlFor(config.name) },
    },
  ]);
  return Object.fromEntries(entries) as Record<EnvironmentName, EnvironmentConfig>;
}

export interface HandlerRecorders {
  /** Every log line every handler writes. */
  readonly logLines: string[];
  /** Every URL a handler fetches (the smoke test's requests), in order. */
  readonly requests: string[];
}

/** The platform's fetch, noting every URL it is asked for before asking. */
function recordingFetch(requests: string[]): typeof fetch {
  return (input, init) => {
    requests.push(input instanceof Request ? input.url : String(input));
    return globalThis.fetch(input, init);
  };
}

export function buildHandlers(
  account: SimulatedAccount,
  settings: HandlerSettings,
  scheduler: Scheduler,
  recorders: HandlerRecorders,
  smokeTiming: SmokeTiming = {},
): ReadonlyMap<string, LambdaHandler> {
  const sandboxConfig = sandboxEnvironments(account, smokeTiming);
  const fetchFn = recordingFetch(recorders.requests);
  const handlers = new Map<string, LambdaHandler>();
  for (const [name, factory] of Object.entries(factories)) {
    const deps: HandlerDeps = {
      clients: account.clients,
      environments: sandboxConfig,
      settings,
      logger: new CapturingLogger(recorders.logLines, { serviceName: name }),
      now: () => account.clock.now(),
      // A handler's wait passes in virtual time; other activities run meanwhile.
      sleep: (ms) => scheduler.sleep(ms, `${name}: sleep`),
      fetch: fetchFn,
    };
    handlers.set(name, factory(deps) as LambdaHandler);
  }
  return handlers;
}
