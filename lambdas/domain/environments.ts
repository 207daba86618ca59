/**
 * The one typed source of environment facts: which cluster, service, stack, images, secrets and
 * smoke-test URL each AFU-9 environment has. The Lambdas bundle it, the CDK stack reads it to scope
 * permissions and rules, and the sandbox builds its simulated account from it.
 */

export const EnvironmentName = {
  /** Pre-production; every push of a `stage-` image deploys here. */
  staging: 'staging',
  /** Production; only deploys that carry an explicit allow flag. */
  production: 'production',
} as const;
export type EnvironmentName = (typeof EnvironmentName)[keyof typeof EnvironmentName];

export interface ContainerConfig {
  /** Container name in the task definition. */
  readonly name: string;
  /** ECR repository its image comes from. */
  readonly repository: string;
  readonly port: number;
  /** The container whose image tag is the deployment's version. */
  readonly primary: boolean;
}

export interface SecretConfig {
  /** Secrets Manager name (not ARN). */
  readonly name: string;
  /** JSON keys that must be present, non-empty and not a runbook placeholder. */
  readonly requiredKeys: readonly string[];
  /** JSON keys that may be absent; when present they must not be placeholders. */
  readonly optionalKeys: readonly string[];
}

export interface SmokeConfig {
  /** The only base URL the smoke test will call for this environment. */
  readonly baseUrl: string;
  /** Service names the health and readiness endpoints may report (old and new builds differ). */
  readonly expectedServiceNames: readonly string[];
  /** Per-request timeout. */
  readonly requestTimeoutMs: number;
  /** How long the smoke test keeps retrying while the new tasks warm up. */
  readonly warmUpSeconds: number;
}

export interface RolloutConfig {
  /** The whole rollout (update → steady state) must finish within this. */
  readonly timeoutSeconds: number;
  /** Safety-net look when no deployment event arrives (the event may be lost). */
  readonly safetyNetPollSeconds: number;
  /**
   * Stopped-task reasons (substring match) that will not heal by retrying; one such stop fails the
   * deployment at once instead of waiting for the circuit breaker's threshold.
   */
  readonly failFastStopReasons: readonly string[];
  /** Whether an essential container exiting non-zero fails fast as well. */
  readonly failFastOnEssentialExit: boolean;
}

export interface EnvironmentConfig {
  readonly name: EnvironmentName;
  readonly region: string;
  readonly clusterName: string;
  readonly serviceName: string;
  /**
   * The task definition family each new revision is registered in. One per environment, so the
   * revisions of one environment never interleave with another's; a service still running a
   * revision of another family moves to this one on its next deployment.
   */
  readonly taskFamily: string;
  /** The CDK stack whose `cdk diff` the diff gate judges. */
  readonly stackName: string;
  /** Image tags must start with this prefix. */
  readonly imageTagPrefix: string;
  /** Image tags with these prefixes are refused (a staging image never goes to production). */
  readonly forbiddenImageTagPrefixes: readonly string[];
  /** When true, a request must carry `allowProduction: true`. */
  readonly requiresAllowFlag: boolean;
  readonly containers: readonly ContainerConfig[];
  readonly secrets: readonly SecretConfig[];
  readonly smoke: SmokeConfig;
  readonly rollout: RolloutConfig;
}

const afu9Containers: readonly ContainerConfig[] = [
  { name: 'control-center', repository: 'afu9/control-center', port: 3000, primary: true },
  { name: 'mcp-github', repository: 'afu9/mcp-github', port: 3001, primary: false },
  { name: 'mcp-deploy', repository: 'afu9/mcp-deploy', port: 3002, primary: false },
  { name: 'mcp-observability', repository: 'afu9/mcp-observability', port: 3003, primary: false },
];

const afu9Secrets: readonly SecretConfig[] = [
  { name: 'afu9/github', requiredKeys: ['token', 'owner', 'repo'], optionalKeys: [] },
  {
    name: 'afu9/llm',
    requiredKeys: [],
    optionalKeys: ['openai_api_key', 'anthropic_api_key', 'deepseek_api_key'],
  },
  {
    name: 'afu9/database',
    requiredKeys: ['host', 'port', 'database', 'username', 'password'],
    optionalKeys: [],
  },
];

const afu9Rollout: RolloutConfig = {
  // Runbook: start period 120 s + 5 × 30 s health checks per task attempt; 30 min covers a slow
  // but healthy rollout several times over and still ends one that never finishes.
  timeoutSeconds: 1800,
  safetyNetPollSeconds: 300,
  failFastStopReasons: ['CannotPullContainerError', 'ResourceInitializationError'],
  failFastOnEssentialExit: true,
};

export const environments: Readonly<Record<EnvironmentName, EnvironmentConfig>> = {
  staging: {
    name: 'staging',
    region: 'eu-central-1',
    clusterName: 'afu9-cluster',
    serviceName: 'afu9-control-center-staging',
    // Its own family: staging's revisions never interleave with production's.
    taskFamily: 'afu9-control-center-staging',
    stackName: 'Afu9EcsStack',
    imageTagPrefix: 'stage-',
    forbiddenImageTagPrefixes: ['prod-'],
    requiresAllowFlag: false,
    containers: afu9Containers,
    secrets: afu9Secrets,
    smoke: {
      baseUrl: 'https://stage.afu-9.com',
      expectedServiceNames: ['afu9-control-center', 'control'],
      requestTimeoutMs: 5000,
      warmUpSeconds: 120,
    },
    rollout: afu9Rollout,
  },
  production: {
    name: 'production',
    region: 'eu-central-1',
    clusterName: 'afu9-cluster',
    serviceName: 'afu9-control-center',
    taskFamily: 'afu9-control-center',
    stackName: 'Afu9EcsStack',
    imageTagPrefix: 'prod-',
    forbiddenImageTagPrefixes: ['stage-'],
    requiresAllowFlag: true,
    containers: afu9Containers,
    secrets: afu9Secrets,
    smoke: {
      baseUrl: 'https://afu-9.com',
      expectedServiceNames: ['afu9-control-center', 'control'],
      requestTimeoutMs: 5000,
      warmUpSeconds: 120,
    },
    rollout: afu9Rollout,
  },
};

export function isEnvironmentName(value: unknown): value is EnvironmentName {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(environments, value);
}
