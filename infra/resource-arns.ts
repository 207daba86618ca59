/**
 * ARNs of the resources the orchestrator acts on, derived from the deployment configuration. Every
 * permission the stack grants on AFU-9's own resources is built from these, so a service, secret or
 * repository that is not in the config cannot be touched.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import type { EnvironmentConfig } from '../lambdas/domain/environments';
import { imageParameterPath } from '../lambdas/domain/image-parameters';

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** The ECS service (long ARN format: `service/<cluster>/<service>`) of each environment. */
export function serviceArns(stack: Stack, environments: readonly EnvironmentConfig[]): string[] {
  return unique(
    environments.map((env) =>
      stack.formatArn({
        service: 'ecs',
        region: env.region,
        resource: 'service',
        resourceName: `${env.clusterName}/${env.serviceName}`,
      }),
    ),
  );
}

/**
 * The SSM parameters each environment's live images are published as: everything below
 * `<prefix>/<environment>/` (the ARN drops the name's leading slash).
 */
export function imageParameterArns(stack: Stack, environments: readonly EnvironmentConfig[]): string[] {
  return unique(
    environments.map((env) =>
      stack.formatArn({
        service: 'ssm',
        region: env.region,
        resource: 'parameter',
        resourceName: `${imageParameterPath(env.imageParameterPrefix, env.name).replace(/^\//, '')}*`,
      }),
    ),
  );
}

/** The clusters the services run in; the `ecs:cluster` condition for task-level calls. */
export function clusterArns(stack: Stack, environments: readonly EnvironmentConfig[]): string[] {
  return unique(
    environments.map((env) =>
      stack.formatArn({
        service: 'ecs',
        region: env.region,
        resource: 'cluster',
        resourceName: env.clusterName,
      }),
    ),
  );
}

/** Every revision of each environment's task family: the `ecs:task-definition` condition. */
export function taskDefinitionFamilyArns(stack: Stack, environments: readonly EnvironmentConfig[]): string[] {
  return unique(
    environments.map((env) =>
      stack.formatArn({
        service: 'ecs',
        region: env.region,
        resource: 'task-definition',
        resourceName: `${env.taskFamily}:*`,
      }),
    ),
  );
}

/**
 * The configured secrets. Secrets Manager appends `-` and six random characters to a secret's ARN,
 * so `-??????` matches exactly that suffix and nothing longer (a `*` would also match
 * `team/github-admin-Ab12Cd`).
 */
export function secretArns(stack: Stack, environments: readonly EnvironmentConfig[]): string[] {
  return unique(
    environments.flatMap((env) =>
      env.secrets.flatMap((secret) =>
        // A secret's ARN is its name plus `-` and six random characters; a secret that does not
        // exist is authorized against the bare name, so that ARN is granted too: a missing secret
        // then reads as ResourceNotFoundException ("missing"), not as AccessDenied.
        [`${secret.name}-??????`, secret.name].map((resourceName) =>
          stack.formatArn({
            service: 'secretsmanager',
            region: env.region,
            resource: 'secret',
            resourceName,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ),
      ),
    ),
  );
}

/** Secrets RDS manages for a database (`rds!db-<id>`, `rds!cluster-<id>`) in each environment's region. */
export function rdsManagedSecretArns(stack: Stack, environments: readonly EnvironmentConfig[]): string[] {
  return unique(
    environments.map((env) =>
      stack.formatArn({
        service: 'secretsmanager',
        region: env.region,
        resource: 'secret',
        resourceName: 'rds!*',
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    ),
  );
}

/** Any KMS key of this account in each environment's region: a secret may be encrypted with any. */
export function secretKeyArns(stack: Stack, environments: readonly EnvironmentConfig[]): string[] {
  return unique(
    environments.map((env) =>
      stack.formatArn({ service: 'kms', region: env.region, resource: 'key', resourceName: '*' }),
    ),
  );
}

/** The Secrets Manager endpoints (`kms:ViaService`) of the environments' regions. */
export function secretsManagerEndpoints(environments: readonly EnvironmentConfig[]): string[] {
  return unique(environments.map((env) => `secretsmanager.${env.region}.amazonaws.com`));
}

/** The ECR repositories any environment deploys from. */
export function repositoryNames(environments: readonly EnvironmentConfig[]): string[] {
  return unique(environments.flatMap((env) => env.containers.map((container) => container.repository)));
}

export function repositoryArns(stack: Stack, environments: readonly EnvironmentConfig[]): string[] {
  return unique(
    environments.flatMap((env) =>
      env.containers.map((container) =>
        stack.formatArn({
          service: 'ecr',
          region: env.region,
          resource: 'repository',
          resourceName: container.repository,
        }),
      ),
    ),
  );
}

/** The CloudFormation stacks whose `cdk diff` the diff gate judges (any stack id of that name). */
export function targetStackArns(stack: Stack, environments: readonly EnvironmentConfig[]): string[] {
  return unique(
    environments.map((env) =>
      stack.formatArn({
        service: 'cloudformation',
        region: env.region,
        resource: 'stack',
        resourceName: `${env.stackName}/*`,
      }),
    ),
  );
}

/** Every infrastructure stack an environment configures (`stack/<name>/*`): what a release deploys and watches. */
export function infrastructureStackArns(stack: Stack, environments: readonly EnvironmentConfig[]): string[] {
  return unique(
    environments.flatMap((env) =>
      (env.infrastructure?.stacks ?? []).map((configured) =>
        stack.formatArn({
          service: 'cloudformation',
          region: env.region,
          resource: 'stack',
          resourceName: `${configured.name}/*`,
        }),
      ),
    ),
  );
}
