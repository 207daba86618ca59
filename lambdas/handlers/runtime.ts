/**
 * What every handler is built from. Each handler module exports `create<Name>Handler(deps)` (used by
 * unit tests and the sandbox) and `handler` (the Lambda entry), which builds the real dependencies
 * once per cold start, on first invocation, so importing a handler module never touches AWS.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createAwsClients, type AwsClients } from '../aws/clients';
import { parseDeployConfigText } from '../domain/deploy-config';
import type { Environments } from '../domain/environments';

/**
 * The deployment configuration the stack was built from, as JSON text: esbuild writes it into every
 * function's bundle at synth time (`define`, see infra/handler-bundling.ts), so a function carries
 * exactly the configuration of its stack and never reads a file the Lambda runtime does not have.
 */
declare const __DEPLOY_CONFIG__: string | undefined;

/** The bundled configuration, validated again as the function starts. */
function bundledEnvironments(): Environments {
  if (typeof __DEPLOY_CONFIG__ !== 'string') {
    throw new Error(
      'This handler was not bundled with a deployment configuration. Deploy it with the orchestrator stack ' +
        '(`npx cdk deploy -c config=<path>`), which bundles one into every function.',
    );
  }
  return parseDeployConfigText(__DEPLOY_CONFIG__, 'bundled into this function').environments;
}

export interface HandlerSettings {
  /** SNS topic for outcome notifications (`TOPIC_ARN`). */
  readonly topicArn: string;
  /** DynamoDB table for wait tokens and the deployment ledger (`DEPLOYMENT_TABLE`). */
  readonly tableName: string;
  readonly region: string;
  /** Days deployment records are kept (`LEDGER_RETENTION_DAYS`); DEFAULT_LEDGER_RETENTION_DAYS when unset. */
  readonly ledgerRetentionDays?: number;
}

export interface HandlerDeps {
  readonly clients: AwsClients;
  readonly environments: Environments;
  readonly settings: HandlerSettings;
  readonly logger: Logger;
  /** The clock; the sandbox passes its virtual one. */
  readonly now: () => Date;
  /** Waits between retries; the sandbox advances its virtual clock instead of sleeping. */
  readonly sleep: (ms: number) => Promise<void>;
  readonly fetch: typeof fetch;
}

/** Environment variables the stack sets on every function. */
export const SettingVariables = {
  topicArn: 'TOPIC_ARN',
  tableName: 'DEPLOYMENT_TABLE',
  ledgerRetentionDays: 'LEDGER_RETENTION_DAYS',
} as const;

function readSetting(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `Environment variable ${name} is not set. The orchestrator stack sets it on every function; ` +
        'redeploy the stack or set it by hand when invoking the handler outside it.',
    );
  }
  return value;
}

function defaultDeps(serviceName: string): HandlerDeps {
  const region = process.env.AWS_REGION ?? 'eu-central-1';
  return {
    clients: createAwsClients({ region }),
    environments: bundledEnvironments(),
    settings: {
      topicArn: readSetting(SettingVariables.topicArn),
      tableName: readSetting(SettingVariables.tableName),
      region,
      ...(process.env[SettingVariables.ledgerRetentionDays] && {
        ledgerRetentionDays: Number(process.env[SettingVariables.ledgerRetentionDays]),
      }),
    },
    logger: new Logger({ serviceName }),
    now: () => new Date(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    fetch: globalThis.fetch,
  };
}

/** The Lambda invocation context, as far as the logger reads it (request id, function, memory). */
export type LambdaContext = Parameters<Logger['addContext']>[0];

/**
 * The Lambda entry for a handler factory: dependencies are built on the first invocation and kept
 * for the life of the execution environment (clients reused across invocations). Every invocation
 * hands its context to the logger first (what Powertools' `injectLambdaContext` does), so each log
 * line carries the Lambda request id, the function and whether this was a cold start; handlers'
 * `resetKeys()` clears only their own keys, never these.
 */
export function lambdaEntry<E, R>(
  serviceName: string,
  factory: (deps: HandlerDeps) => (event: E) => Promise<R>,
): (event: E, context: LambdaContext) => Promise<R> {
  let built: { readonly logger: Logger; readonly handle: (event: E) => Promise<R> } | undefined;
  return (event: E, context: LambdaContext) => {
    if (!built) {
      const deps = defaultDeps(serviceName);
      built = { logger: deps.logger, handle: factory(deps) };
    }
    built.logger.addContext(context);
    return built.handle(event);
  };
}
