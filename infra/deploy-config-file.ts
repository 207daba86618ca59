/**
 * Reading the configuration file, where a file system is: the CDK app at synth time, the CLI and the
 * sandbox on the operator's machine. The functions never read a file: the stack bundles the
 * configuration it was built from into each of them (see handler-bundling.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  ConfigurationError,
  parseDeployConfigText,
  type DeployConfig,
} from '../lambdas/domain/deploy-config';

/** The file name looked for when no path is given. */
export const DEFAULT_CONFIG_FILE = 'deploy.config.json';

/** This repository's configuration: AFU-9's environments, the default. */
export const repositoryConfigPath = join(__dirname, '..', DEFAULT_CONFIG_FILE);

/** The JSON Schema of the file, generated from the zod schema (infra/deploy-config-reference.ts). */
export const schemaFilePath = join(__dirname, '..', 'deploy.config.schema.json');

/**
 * The configuration file to use: the one given (relative to `cwd`), else `deploy.config.json` in
 * `cwd` when there is one, else the repository's.
 */
export function resolveConfigPath(explicit?: string, cwd: string = process.cwd()): string {
  if (explicit) return resolve(cwd, explicit);
  const local = join(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(local) ? local : repositoryConfigPath;
}

/** The validated configuration in a file, or a ConfigurationError saying what to fix. */
export function loadDeployConfig(path: string): DeployConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigurationError(
      `Cannot read the deployment configuration ${path} (${code ?? (error as Error).message}). ` +
        'Pass the path of an existing file with --config (or -c config=<path> to cdk), or write one with `afu9-deploy init`.',
      [`(file): expected a readable file, received ${code ?? 'an error'}`],
    );
  }
  return parseDeployConfigText(text, path);
}

let repositoryConfig: DeployConfig | undefined;

/** The repository's configuration, read once per process. */
export function repositoryDeployConfig(): DeployConfig {
  repositoryConfig ??= loadDeployConfig(repositoryConfigPath);
  return repositoryConfig;
}
