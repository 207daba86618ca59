import { DeploymentRejected } from './errors';
import { environmentNamed, type EnvironmentConfig, type Environments } from './environments';

/**
 * The config of a request's environment. ResolveRequest has validated the name already; this
 * fails closed if a hand-made state-machine input names one that does not exist.
 */
export function environmentOfRequest(environments: Environments, name: string): EnvironmentConfig {
  const environment = environmentNamed(environments, name);
  if (!environment) {
    throw new DeploymentRejected(
      `Unknown environment "${name}"; known: ${Object.keys(environments).join(', ')}. Start the deployment with one of those.`,
    );
  }
  return environment;
}
