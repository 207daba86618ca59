import { DeploymentRejected } from './errors';
import type { EnvironmentConfig, EnvironmentName } from './environments';

/**
 * The config of a request's environment. ResolveRequest has validated the name already; this
 * fails closed if a hand-made state-machine input names one that does not exist.
 */
export function environmentOfRequest(
  environments: Readonly<Record<EnvironmentName, EnvironmentConfig>>,
  name: string,
): EnvironmentConfig {
  const environment = Object.prototype.hasOwnProperty.call(environments, name)
    ? environments[name as EnvironmentName]
    : undefined;
  if (!environment) {
    throw new DeploymentRejected(
      `Unknown environment "${name}"; known: ${Object.keys(environments).join(', ')}. Start the deployment with one of those.`,
    );
  }
  return environment;
}
