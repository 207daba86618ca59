/**
 * What Secrets Manager says about one secret: missing, scheduled for deletion, unreadable, or its
 * current string. The string is handed to the domain judge and goes nowhere else: it is never
 * logged, returned from a handler, or put in an error.
 */
import { DescribeSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import {
  AwsErrorKind,
  classifyAwsError,
  isKmsPermissionDenied,
  isPermissionDenied,
  transientOrOriginal,
} from '../domain/aws-error-kind';
import type { SecretObservation } from '../domain/secrets-check';
import type { AwsClients } from './clients';

export interface SecretQuery {
  /** Name or ARN (complete or partial). */
  readonly secretId: string;
  readonly versionStage?: string;
  readonly versionId?: string;
}

type Outcome<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly observation: SecretObservation };

/**
 * "Could not read", kept apart from "does not exist": the caller's own permission refused (with the
 * IAM action that is missing), or the secret could not be read for a reason of its own.
 */
function readFailure(call: 'DescribeSecret' | 'GetSecretValue', error: unknown): SecretObservation {
  const failure = `${call}: ${(error as { name?: string }).name ?? 'Error'}`;
  if (isPermissionDenied(error)) {
    const action = isKmsPermissionDenied(error) ? 'kms:Decrypt' : `secretsmanager:${call}`;
    return { state: 'access-denied', action, failure };
  }
  return { state: 'unreadable', failure };
}

async function attempt<T>(
  call: 'DescribeSecret' | 'GetSecretValue',
  secretId: string,
  run: () => Promise<T>,
  onNotFound: SecretObservation,
): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    const rethrown = transientOrOriginal(error, `Secrets Manager ${call} (${secretId})`);
    if (rethrown !== error) throw rethrown;
    const kind = classifyAwsError(error);
    if (kind === AwsErrorKind.notFound) return { ok: false, observation: onNotFound };
    if (kind === AwsErrorKind.unknown) throw error;
    return { ok: false, observation: readFailure(call, error) };
  }
}

export async function observeSecret(
  clients: Pick<AwsClients, 'secretsManager'>,
  query: SecretQuery,
): Promise<SecretObservation> {
  const described = await attempt(
    'DescribeSecret',
    query.secretId,
    () => clients.secretsManager.send(new DescribeSecretCommand({ SecretId: query.secretId })),
    { state: 'missing' },
  );
  if (!described.ok) return described.observation;
  if (described.value.DeletedDate) {
    return { state: 'scheduled-for-deletion', deletedDate: new Date(described.value.DeletedDate) };
  }
  const read = await attempt(
    'GetSecretValue',
    query.secretId,
    () =>
      clients.secretsManager.send(
        new GetSecretValueCommand({
          SecretId: query.secretId,
          ...(query.versionStage ? { VersionStage: query.versionStage } : {}),
          ...(query.versionId ? { VersionId: query.versionId } : {}),
        }),
      ),
    { state: 'no-current-value' },
  );
  if (!read.ok) return read.observation;
  return read.value.SecretString === undefined
    ? { state: 'readable' }
    : { state: 'readable', secretString: read.value.SecretString };
}
