/**
 * Flag parsing every command shares: node's strict `parseArgs`, with its errors turned into usage
 * errors that suggest the flag meant ("Unknown option '--folow'. Did you mean '--follow'?").
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_CONFIG_FILE,
  loadDeployConfig,
  repositoryConfigPath,
  resolveConfigPath,
} from '../infra/deploy-config-file';
import { ConfigurationError, type DeployConfig } from '../lambdas/domain/deploy-config';
import { environmentNamed, type EnvironmentConfig } from '../lambdas/domain/environments';
import { UsageError } from './command';
import { didYouMean } from './did-you-mean';

type Options = NonNullable<ParseArgsConfig['options']>;

/** The flags of every command that calls AWS: which credentials and which region. */
export const awsFlags = {
  profile: { type: 'string' },
  region: { type: 'string' },
} as const satisfies Options;

export const awsFlagsUsage = `  --profile <name>          the AWS profile to use (defaults to $AWS_PROFILE, then the default chain)
  --region <region>         defaults to $AWS_REGION, then $AWS_DEFAULT_REGION, then eu-central-1`;

/** The flag of every command that reads the deployment configuration. */
export const configFlags = {
  config: { type: 'string' },
} as const satisfies Options;

export const configFlagUsage = `  --config <path>           the deployment configuration (default: ./deploy.config.json, else the repository's)`;

/**
 * `--config`: the configuration file given, or the default one, validated. A file that is missing
 * or invalid is a usage error naming every problem with its path.
 */
export function configFlag(value: string | undefined, cwd: string = process.cwd()): DeployConfig {
  try {
    return loadDeployConfig(resolveConfigPath(value, cwd));
  } catch (error) {
    if (error instanceof ConfigurationError) throw new UsageError(error.message);
    throw error;
  }
}

/**
 * The line that says which file is read when nothing chose it: no `--config` and no
 * `./deploy.config.json`, so the repository's own file (its environments, not the caller's) is used.
 * Undefined when the caller chose the file.
 */
export function defaultConfigNotice(
  argv: readonly string[],
  cwd: string = process.cwd(),
): string | undefined {
  const given = argv.some((arg) => arg === '--config' || arg.startsWith('--config='));
  // In the clone's own root, ./deploy.config.json is the repository's file, chosen as the local one.
  if (given || existsSync(join(cwd, DEFAULT_CONFIG_FILE))) return undefined;
  return (
    `afu9-deploy: using ${repositoryConfigPath} (no --config given and no ./deploy.config.json here); ` +
    'pass --config <path> for your own environments.'
  );
}

export function parseFlags<T extends Options>(
  argv: readonly string[],
  options: T,
  settings: { readonly allowPositionals?: boolean } = {},
) {
  try {
    return parseArgs({
      args: [...argv],
      options,
      strict: true,
      allowPositionals: settings.allowPositionals ?? false,
    });
  } catch (error) {
    throw new UsageError(explainParseError(error, Object.keys(options)));
  }
}

function explainParseError(error: unknown, names: readonly string[]): string {
  // Errors are not always `instanceof Error` across realms (jest, vm): read the message field.
  const field = (error as { message?: unknown } | null)?.message;
  const message = typeof field === 'string' ? field : String(error);
  const unknown = /^Unknown option '(-{1,2})([^']+)'/.exec(message);
  if (!unknown) return message;
  const typed = `${unknown[1]}${unknown[2]}`;
  const suggestion = didYouMean(unknown[2]!, names, (name) => `--${name}`);
  return `Unknown option '${typed}'.${suggestion || ` Known options: ${names.map((n) => `--${n}`).join(', ')}.`}`;
}

/** `--env`: required, and one of the configured environments (with a suggestion for a typo). */
export function environmentFlag(value: string | undefined, config: DeployConfig): EnvironmentConfig {
  const known = Object.keys(config.environments);
  if (!value) throw new UsageError(`--env is required (${known.join(' or ')}).`);
  const environment = environmentNamed(config.environments, value);
  if (!environment) {
    throw new UsageError(
      `Unknown environment '${value}'.${didYouMean(value, known)} Known environments: ${known.join(', ')}.`,
    );
  }
  return environment;
}
