/**
 * Turns CDK context (`-c key=value` or `cdk.json`) into the orchestrator stack's props. Values from
 * the command line arrive as strings, values from `cdk.json` may be JSON; both are accepted.
 */
import type { Node } from 'constructs';
import { resolveConfigPath } from './deploy-config-file';
import type { OrchestratorStackProps } from './orchestrator-stack';

/** The context keys the app reads; docs/operations.md documents each. */
export const ContextKey = {
  /** Path of the deployment configuration file (default `deploy.config.json`, see resolveConfigPath). */
  config: 'config',
  /** Email address subscribed to the notification topic. */
  notificationEmail: 'notificationEmail',
  /** Comma-separated ARNs of the roles the task definitions name (task role, execution role). */
  taskRoleArns: 'taskRoleArns',
  /** Bucket and key of the AFU-9 infrastructure source zip the diff build runs in. */
  infraSourceBucket: 'infraSourceBucket',
  infraSourceKey: 'infraSourceKey',
  /** Days the deployment ledger keeps a record (whole number; default 400). */
  ledgerRetentionDays: 'ledgerRetentionDays',
  /** CDK's own key for a non-default bootstrap qualifier. */
  bootstrapQualifier: '@aws-cdk/core:bootstrapQualifier',
} as const;

function optionalString(node: Node, key: string): string | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new Error(`Context "${key}" must be a string. Received: ${JSON.stringify(value)}.`);
  }
  return value.trim();
}

function optionalNumber(node: Node, key: string): number | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  const number =
    typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : Number.NaN;
  if (Number.isNaN(number)) {
    throw new Error(`Context "${key}" must be a number. Received: ${JSON.stringify(value)}.`);
  }
  return number;
}

function optionalList(node: Node, key: string): string[] | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string'))
    return value.map((item) => item.trim());
  if (typeof value === 'string') {
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  }
  throw new Error(
    `Context "${key}" must be a comma-separated string or a list of strings. Received: ${JSON.stringify(value)}.`,
  );
}

/** The configuration file the stack is built from: `-c config=<path>`, else the default. */
export function configPathFromContext(node: Node): string {
  return resolveConfigPath(optionalString(node, ContextKey.config));
}

export function orchestratorPropsFromContext(node: Node): OrchestratorStackProps {
  const infraSourceBucket = optionalString(node, ContextKey.infraSourceBucket);
  const infraSourceKey = optionalString(node, ContextKey.infraSourceKey);
  if ((infraSourceBucket === undefined) !== (infraSourceKey === undefined)) {
    throw new Error(
      `Set both ${ContextKey.infraSourceBucket} and ${ContextKey.infraSourceKey}, or neither (the artifacts bucket's ` +
        `source/afu9-infra.zip is then used). Received: bucket ${JSON.stringify(infraSourceBucket)}, key ${JSON.stringify(infraSourceKey)}.`,
    );
  }
  return {
    notificationEmail: optionalString(node, ContextKey.notificationEmail),
    taskRoleArns: optionalList(node, ContextKey.taskRoleArns),
    infraSource:
      infraSourceBucket && infraSourceKey
        ? { bucketName: infraSourceBucket, objectKey: infraSourceKey }
        : undefined,
    bootstrapQualifier: optionalString(node, ContextKey.bootstrapQualifier),
    ledgerRetentionDays: optionalNumber(node, ContextKey.ledgerRetentionDays),
  };
}
