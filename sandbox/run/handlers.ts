/**
 * The Lambda functions as the stack ships them: each function's bundle from the synthesized cloud
 * assembly (`require`d as the Node.js runtime loads it), built through the factory it exports with
 * dependencies bound to the simulated account: its own clients behind its role, the settings the
 * template gives it, the environment config pointing the smoke test at the live local service, the
 * virtual clock, and a logger that keeps its lines.
 */
import type { Environments, SmokeConfig } from '../../lambdas/domain/environments';
import { SettingVariables, type HandlerDeps, type HandlerSettings } from '../../lambdas/handlers/runtime';
import type { SimulatedAccount } from '../account/simulated-account';
import type { DeployedFunction, DeployedStack } from '../assembly/cloud-assembly';
import { CapturingLogger } from './capturing-logger';
import { functionClients, type AuthorizationRecord, type Authorizer } from './function-clients';
import type { Scheduler } from './scheduler';

export type LambdaHandler = (event: unknown) => Promise<unknown>;

type HandlerFactory = (deps: HandlerDeps) => (event: never) => Promise<unknown>;

/** `resolve-request` → `createResolveRequestHandler`, the factory every handler module exports. */
export function factoryNameOf(handlerName: string): string {
  const pascal = handlerName
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
  return `create${pascal}Handler`;
}

/** Bundles already loaded in this process: loading one is the Lambda init (hundreds of KB of JS). */
const loadedBundles = new Map<string, HandlerFactory>();

/** The factory a function's bundle exports, loaded once per process. */
export function bundleFactory(fn: DeployedFunction): HandlerFactory {
  const loaded = loadedBundles.get(fn.bundlePath);
  if (loaded) return loaded;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the bundle is loaded as the Lambda runtime loads it
  const bundle = require(fn.bundlePath) as Record<string, unknown>;
  const factory = bundle[factoryNameOf(fn.handlerName)];
  if (typeof factory !== 'function') {
    throw new Error(
      `The bundle of ${fn.handlerName} (${fn.bundlePath}) exports no ${factoryNameOf(fn.handlerName)}. ` +
        'Every handler module exports its factory; synthesize the stack again from the current sources.',
    );
  }
  loadedBundles.set(fn.bundlePath, factory as HandlerFactory);
  return factory as HandlerFactory;
}

/** What the template sets in the function's environment, read as the handler's runtime reads it. */
function settingsOf(fn: DeployedFunction, region: string): HandlerSettings {
  const variable = (name: string): string => {
    const value = fn.environment[name];
    if (!value) {
      throw new Error(
        `The template sets no ${name} on ${fn.functionName} (${fn.handlerName}); the function would fail at its first invocation.`,
      );
    }
    return value;
  };
  const retention = fn.environment[SettingVariables.ledgerRetentionDays];
  return {
    topicArn: variable(SettingVariables.topicArn),
    tableName: variable(SettingVariables.tableName),
    region,
    ...(retention ? { ledgerRetentionDays: Number(retention) } : {}),
  };
}

/** How long the smoke test waits, when a world shortens it (a hanging target costs wall-clock time). */
export type SmokeTiming = Partial<Pick<SmokeConfig, 'requestTimeoutMs' | 'warmUpSeconds'>>;

/** The environment config with each smoke test aimed at the sandbox's live service. */
export function sandboxEnvironments(account: SimulatedAccount, smokeTiming: SmokeTiming = {}): Environments {
  const entries = Object.values(account.environments).map((config) => [
    config.name,
    {
      ...config,
      smoke: { ...config.smoke, ...smokeTiming, baseUrl: account.liveServiceUrlFor(config.name) },
    },
  ]);
  return Object.fromEntries(entries) as Environments;
}

export interface HandlerRecorders {
  /** Every log line every handler writes. */
  readonly logLines: string[];
  /** Every URL a handler fetches (the smoke test's requests), in order. */
  readonly requests: string[];
  /** Every authorization request a handler's call made, with its decision. */
  readonly authorizations: AuthorizationRecord[];
}

/** The platform's fetch, noting every URL it is asked for before asking. */
function recordingFetch(requests: string[]): typeof fetch {
  return (input, init) => {
    requests.push(input instanceof Request ? input.url : String(input));
    return globalThis.fetch(input, init);
  };
}

/** The stack's functions by handler name, each running its bundle as that function. */
export function buildHandlers(
  account: SimulatedAccount,
  stack: DeployedStack,
  authorize: Authorizer,
  scheduler: Scheduler,
  recorders: HandlerRecorders,
  smokeTiming: SmokeTiming = {},
): ReadonlyMap<string, LambdaHandler> {
  const sandboxConfig = sandboxEnvironments(account, smokeTiming);
  const fetchFn = recordingFetch(recorders.requests);
  const handlers = new Map<string, LambdaHandler>();
  for (const fn of stack.functions) {
    const deps: HandlerDeps = {
      clients: functionClients(fn, account.clients, authorize, (records) =>
        recorders.authorizations.push(...records),
      ),
      environments: sandboxConfig,
      settings: settingsOf(fn, account.region),
      logger: new CapturingLogger(recorders.logLines, { serviceName: fn.handlerName }),
      now: () => account.clock.now(),
      // A handler's wait passes in virtual time; other activities run meanwhile.
      sleep: (ms) => scheduler.sleep(ms, `${fn.handlerName}: sleep`),
      fetch: fetchFn,
    };
    handlers.set(fn.handlerName, bundleFactory(fn)(deps) as LambdaHandler);
  }
  return handlers;
}
