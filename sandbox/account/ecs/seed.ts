/**
 * The AFU-9 ECS world the sandbox starts from: one revision per environment of the
 * `afu9-control-center` family (the four containers with their ports, secrets by JSON key and by
 * plain ARN, images pinned by digest), and each service steady on it with a COMPLETED deployment.
 */
import type { RegisterTaskDefinitionCommandInput, Secret } from '@aws-sdk/client-ecs';
import type { EnvironmentConfig } from '../../../lambdas/domain/environments';
import type { SimulatedEcr } from '../ecr';
import type { SimulatedSecretsManager } from '../secrets-manager';

/** Environment variable → `secret name` or `secret name:json key`, per container. */
const secretReferences: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'control-center': {
    DATABASE_HOST: 'afu9/database:host',
    DATABASE_PORT: 'afu9/database:port',
    DATABASE_NAME: 'afu9/database:database',
    DATABASE_USER: 'afu9/database:username',
    DATABASE_PASSWORD: 'afu9/database:password',
    GITHUB_TOKEN: 'afu9/github:token',
    LLM_API_KEYS: 'afu9/llm',
  },
  'mcp-github': {
    GITHUB_TOKEN: 'afu9/github:token',
    GITHUB_OWNER: 'afu9/github:owner',
    GITHUB_REPO: 'afu9/github:repo',
  },
  'mcp-deploy': {},
  'mcp-observability': {},
};

function secretsFor(container: string, secrets: SimulatedSecretsManager): Secret[] {
  return Object.entries(secretReferences[container] ?? {}).map(([name, reference]) => {
    const [secretName = '', jsonKey] = reference.split(':');
    const arn = secrets.arnOf(secretName);
    return { name, valueFrom: jsonKey ? `${arn}:${jsonKey}::` : arn };
  });
}

/** The revision AFU-9 runs, with every container's image pushed to ECR under `imageTag`. */
export function afu9TaskDefinition(
  environment: EnvironmentConfig,
  imageTag: string,
  ecr: SimulatedEcr,
  secrets: SimulatedSecretsManager,
  accountId: string,
): RegisterTaskDefinitionCommandInput {
  return {
    family: environment.taskFamily,
    // The roles the ECS stack's CloudFormation created (generated names), as the orchestrator's
    // default iam:PassRole grant (`role/Afu9EcsStack-*`) expects them.
    taskRoleArn: `arn:aws:iam::${accountId}:role/Afu9EcsStack-TaskDefTaskRole1EDB4A67-Q2W3E4R5T6Y7`,
    executionRoleArn: `arn:aws:iam::${accountId}:role/Afu9EcsStack-TaskDefExecutionRoleB4FAB-U8I9O0P1A2S3`,
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
        portMappings: [{ containerPort: container.port, hostPort: container.port, protocol: 'tcp' }],
        environment: [
          { name: 'NODE_ENV', value: 'production' },
          { name: 'PORT', value: String(container.port) },
          { name: 'AFU9_ENVIRONMENT', value: environment.name },
        ],
        secrets: secretsFor(container.name, secrets),
        logConfiguration: {
          logDriver: 'awslogs',
          options: {
            'awslogs-group': `/ecs/afu9/${container.name}`,
            'awslogs-region': environment.region,
            'awslogs-stream-prefix': environment.name,
          },
        },
        ...(container.primary
          ? {
              healthCheck: {
                command: ['CMD-SHELL', `curl -f http://localhost:${container.port}/api/health || exit 1`],
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

/** Values a working AFU-9 secret holds (never placeholders). */
export function afu9SecretValues(name: string): Record<string, string> {
  switch (name) {
    case 'afu9/github':
      return {
        token: 'ghp_sandboxR3alLookingT0kenValue0000000000',
        owner: 'adaefler-art',
        repo: 'codefactory-control',
      };
    case 'afu9/llm':
      return {
        openai_api_key: 'sk-proj-sandboxOpenAiKey0000',
        anthropic_api_key: 'sk-ant-api03-sandboxKey0000',
      };
    case 'afu9/database':
      return {
        host: 'afu9-postgres.cluster-abc123.eu-central-1.rds.amazonaws.com',
        port: '5432',
        database: 'afu9',
        username: 'afu9_app',
        password: 'sandbox-Db-Passw0rd-not-real',
      };
    default:
      return { value: `sandbox-value-of-${name}` };
  }
}
