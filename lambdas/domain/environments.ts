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
  ReleaseConfig,
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

/** The application's name for people: the configuration's `displayName`, which every environment carries. */
export function displayNameOf(environments: Environments): string {
  const [first] = Object.values(environments);
  if (!first) {
    // The schema accepts no configuration without an environment.
    throw new Error('The deployment configuration names no environment; add one under "environments".');
  }
  return first.displayName;
}

/**
 * The container whose version the smoke test's `version` check reads: `smoke.versionReportedBy`,
 * or the primary container when the configuration names none.
 */
export function versionReporterOf(environment: EnvironmentConfig): string {
  const named = environment.smoke.versionReportedBy;
  if (named !== undefined) return named;
  const primary = environment.containers.find((container) => container.primary);
  if (!primary) {
    // The schema accepts no environment without exactly one primary container.
    throw new Error(`Environment ${environment.name} names no primary container; mark one "primary": true.`);
  }
  return primary.name;
}
