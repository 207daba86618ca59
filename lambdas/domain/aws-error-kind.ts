/**
 * Sorts an AWS SDK v3 error by what the caller can conclude from it. Pure: it reads only the
 * error's `name` and the SDK's `$fault` / `$retryable` markers, so it needs no SDK import.
 */
import { TransientAwsError } from './errors';

export const AwsErrorKind = {
  /** Throttling, a 5xx, a timeout or a dropped connection: may heal on retry; the request may have gone through. */
  transient: 'transient',
  /** The named resource does not exist. */
  notFound: 'not-found',
  /** The caller may not do this (IAM or a KMS key policy). */
  accessDenied: 'access-denied',
  /** AWS answered with a 4xx and did nothing: the request is wrong or not allowed in this state. */
  refused: 'refused',
  /** Not an AWS answer at all (a bug, an unexpected exception): nothing can be concluded. */
  unknown: 'unknown',
} as const;
export type AwsErrorKind = (typeof AwsErrorKind)[keyof typeof AwsErrorKind];

const transientNames = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'KMSThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'InternalServiceError',
  'InternalServiceErrorException',
  'InternalFailure',
  'InternalServerError',
  'ServerException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

const networkErrorCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

const notFoundNames = new Set([
  'ResourceNotFoundException',
  'ServiceNotFoundException',
  'ClusterNotFoundException',
  'RepositoryNotFoundException',
  'ImageNotFoundException',
]);

const accessDeniedNames = new Set([
  'AccessDeniedException',
  'AccessDenied',
  // SNS: the wire code is AuthorizationError, SDK v3 raises AuthorizationErrorException.
  'AuthorizationErrorException',
  'AuthorizationError',
  'UnauthorizedOperation',
  'DecryptionFailure',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSInvalidStateException',
]);

/**
 * The caller's own permissions refused the call (IAM, an SCP, a resource or KMS key policy), as
 * opposed to a resource in a state that refuses everyone (a disabled KMS key, a failed decryption).
 */
const permissionDeniedNames = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'AuthorizationErrorException',
  'AuthorizationError',
  'UnauthorizedOperation',
  'KMSAccessDeniedException',
]);

/** Whether the caller lacks a permission: granting it would make the same call succeed. */
export function isPermissionDenied(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const name = (error as SdkErrorShape).name;
  return typeof name === 'string' && permissionDeniedNames.has(name);
}

/**
 * Whether a permission denial is KMS's: the caller may call the service but not use the KMS key
 * the resource is encrypted with (Secrets Manager says "Access to KMS is not allowed").
 */
export function isKmsPermissionDenied(error: unknown): boolean {
  if (!isPermissionDenied(error)) return false;
  const { name, message } = error as { name?: unknown; message?: unknown };
  return name === 'KMSAccessDeniedException' || (typeof message === 'string' && /\bkms\b/i.test(message));
}

interface SdkErrorShape {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly $fault?: unknown;
  readonly $retryable?: unknown;
  readonly $metadata?: unknown;
}

export function classifyAwsError(error: unknown): AwsErrorKind {
  if (typeof error !== 'object' || error === null) return AwsErrorKind.unknown;
  const shape = error as SdkErrorShape;
  const name = typeof shape.name === 'string' ? shape.name : '';
  if (transientNames.has(name) || shape.$retryable !== undefined) return AwsErrorKind.transient;
  if (typeof shape.code === 'string' && networkErrorCodes.has(shape.code)) return AwsErrorKind.transient;
  if (shape.$fault === 'server') return AwsErrorKind.transient;
  if (notFoundNames.has(name)) return AwsErrorKind.notFound;
  if (accessDeniedNames.has(name)) return AwsErrorKind.accessDenied;
  if (shape.$fault === 'client') return AwsErrorKind.refused;
  return AwsErrorKind.unknown;
}

/** `Name: message` of an AWS error for a person; AWS error messages never carry secret values. */
export function describeAwsError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * What an adapter rethrows: a transient failure becomes `TransientAwsError` (the workflow retries
 * it; the SDK has already retried a few times), anything else stays the SDK error for the handler
 * to judge with `classifyAwsError`.
 */
export function transientOrOriginal(error: unknown, operation: string): unknown {
  if (classifyAwsError(error) !== AwsErrorKind.transient) return error;
  return new TransientAwsError(
    `${operation} failed after the AWS SDK's own retries (${describeAwsError(error)}). The workflow retries this step; ` +
      'if it keeps failing, check the AWS Health Dashboard and the account quotas for the service.',
    { cause: error },
  );
}

/** AWS answered and did nothing: the resource is missing, access is denied, or the request was refused. */
export function wasRefused(error: unknown): boolean {
  const kind = classifyAwsError(error);
  return (
    kind === AwsErrorKind.notFound || kind === AwsErrorKind.accessDenied || kind === AwsErrorKind.refused
  );
}
