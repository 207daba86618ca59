/**
 * The environment facts every part of the orchestrator works with. They are data: a configuration
 * file (`deploy.config.json`, validated by `deploy-config.ts`) names the environments and their
 * clusters, services, images, secrets and smoke checks. The functions receive the configuration
 * the stack was built from; nothing here names a service.
 */
import type { EnvironmentConfig, Environments } from './deploy-config';

export type {
  ContainerConfig,
  DeployConfig,
  EnvironmentConfig,
  Environments,
  RolloutConfig,
  SecretConfig,
  SmokeConfig,
} from './deploy-config';

/** An environment's name: any key of the configuration's `environments` (`^[a-z][a-z0-9-]*$`). */
export type EnvironmentName = string;

/** The configured environment of that name, if there is one. */
export function environmentNamed(environments: Environments, name: unknown): EnvironmentConfig | undefined {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(environments, name)
    ? environments[name]
    : undefined;
}
