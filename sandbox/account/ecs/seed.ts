/**
 * The ECS world the sandbox starts from, built from the configuration: one revision per environment
 * in its task family (the configured containers with their ports, the primary one reading every
 * configured secret, by JSON key where the secret has required keys, whole otherwise; images pinned
 * by digest), and each service steady on it with a COMPLETED deployment.
 */
import { createHash } from 'node:crypto';
import type { RegisterTaskDefinitionCommandInput, Secret } from '@aws-sdk/client-ecs';
import type { EnvironmentConfig, SecretConfig } from '../../../lambdas/domain/environments';
import type { SimulatedEcr } from '../ecr';
import type { SimulatedSecretsManager } from '../secrets-manager';

/** `shop/db` + `password` → `SHOP_DB_PASSWORD`: the variable a task reads a secret key as. */
function variableName(secret: string, key?: string): string {
  return [secret, key]
    .filter((part): part is string => part !== undefined)
    .join('_')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();
}

/** The primary container reads every secret: each required key by JSON key, a secret without one whole. */
function secretsFor(secretConfigs: readonly SecretConfig[], secrets: SimulatedSecretsManager): Secret[] {
  return secretConfigs.flatMap((secret) => {
    const arn = secrets.arnOf(secret.name);
    return secret.requiredKeys.length === 0
      ? [{ name: variableName(secret.name), valueFrom: arn }]
      : secret.requiredKeys.map((key) => ({
          name: variableName(secret.name, key),
          valueFrom: `${arn}:${key}::`,
        }));
  });
}

/** The revision the environment runs, with every container's image pushed to ECR under `imageTag`. */
export function seededTaskDefinition(
  environment: EnvironmentConfig,
  imageTag: string,
  ecr: SimulatedEcr,
  secrets: SimulatedSecretsManager,
  accountId: string,
): RegisterTaskDefinitionCommandInput {
  return {
    family: environment.taskFamily,
    // The roles the service's stack created in CloudFormation (generated names), as the
    // orchestrator's default iam:PassRole grant (`role/<stackName>-*`) expects them.
    taskRoleArn: `arn:aws:iam::${accountId}:role/${environment.stackName}-TaskDefTaskRole1EDB4A67-Q2W3E4R5T6Y7`,
    executionRoleArn: `arn:aws:iam::${accountId}:role/${environment.stackName}-TaskDefExecutionRoleB4FAB-U8I9O0P1A2S3`,
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '1024',
    memory: '2048',
    runtimePlatform: { cpuArchitecture: 'X86_64', operatingSystemFamily: 'LINUX' },
    containerDefinitions: environment.containers.map((container) => {
      const digest =
        ecr.findImage(container.repository, { tag: imageTag })?.digest ??
        ecr.pushImage(container.repository, imageTag, { emitEvent: false });
      return {
        name: container.name,
        image: ecr.imageUri(container.repository, digest),
        essential: container.primary,
        portMappings:
          container.port === undefined
            ? []
            : [{ containerPort: container.port, hostPort: container.port, protocol: 'tcp' }],
        environment: [
          { name: 'NODE_ENV', value: 'production' },
          ...(container.port === undefined ? [] : [{ name: 'PORT', value: String(container.port) }]),
          { name: 'DEPLOY_ENVIRONMENT', value: environment.name },
        ],
        secrets: container.primary ? secretsFor(environment.secrets, secrets) : [],
        logConfiguration: {
          logDriver: 'awslogs',
          options: {
            'awslogs-group': `/ecs/${environment.taskFamily}/${container.name}`,
            'awslogs-region': environment.region,
            'awslogs-stream-prefix': environment.name,
          },
        },
        ...(container.primary
          ? {
              healthCheck: {
                command: ['CMD-SHELL', `curl -f http://localhost:${container.port ?? 80}/ || exit 1`],
                interval: 30,
                timeout: 5,
                retries: 5,
                startPeriod: 120,
              },
            }
          : {}),
      };
    }),
  };
}

/**
 * Values a working secret holds (never placeholders): every configured key of it, required or
 * optional, in any environment, with a value derived from the secret and key names.
 */
export function seededSecretValues(
  name: string,
  environments: readonly EnvironmentConfig[],
): Record<string, string> {
  const keys = new Set(
    environments
      .flatMap((environment) => environment.secrets)
      .filter((secret) => secret.name === name)
      .flatMap((secret) => [...secret.requiredKeys, ...secret.optionalKeys]),
  );
  if (keys.size === 0) return { value: sandboxValue(name, 'value') };
  return Object.fromEntries([...keys].map((key) => [key, sandboxValue(name, key)]));
}

function sandboxValue(secret: string, key: string): string {
  return `sandbox-${key.replace(/[^A-Za-z0-9]+/g, '-')}-${createHash('sha256').update(`${secret}#${key}`).digest('hex').slice(0, 12)}`;
}
