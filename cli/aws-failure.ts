/**
 * When a command cannot talk to AWS at all, the person needs to know what is wrong and what to do:
 * no credentials, expired ones, ones AWS does not accept, a denied action, or no connection. These
 * end a command with exit code 3 (docs/cli.md); every other error is the command's own.
 */
import { ExitCode, type CliIo } from './command';

export const AwsFailureKind = {
  credentialsMissing: 'credentials-missing',
  credentialsExpired: 'credentials-expired',
  credentialsRejected: 'credentials-rejected',
  accessDenied: 'access-denied',
  unreachable: 'unreachable',
} as const;
export type AwsFailureKind = (typeof AwsFailureKind)[keyof typeof AwsFailureKind];

export interface AwsTarget {
  readonly region: string;
  readonly profile?: string;
}

const expiredNames = new Set([
  'ExpiredToken',
  'ExpiredTokenException',
  'RequestExpired',
  'TokenRefreshRequired',
  'InvalidGrantException',
]);
const rejectedNames = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'AuthFailure',
]);
const networkCodes = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

interface ErrorShape {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly code?: unknown;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Which of the AWS access failures `error` itself is, or undefined when it is something else. */
function classifyOne(error: unknown): AwsFailureKind | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const shape = error as ErrorShape;
  const name = text(shape.name);
  const message = text(shape.message);
  if (name === 'CredentialsProviderError' || name === 'TokenProviderError') {
    return /expired|refresh/i.test(message)
      ? AwsFailureKind.credentialsExpired
      : AwsFailureKind.credentialsMissing;
  }
  if (expiredNames.has(name)) return AwsFailureKind.credentialsExpired;
  if (rejectedNames.has(name)) return AwsFailureKind.credentialsRejected;
  if (name.startsWith('AccessDenied') || name === 'UnauthorizedOperation' || name === 'AuthorizationError') {
    return AwsFailureKind.accessDenied;
  }
  if (networkCodes.has(text(shape.code)) || name === 'TimeoutError') return AwsFailureKind.unreachable;
  return undefined;
}

interface FoundFailure {
  readonly kind: AwsFailureKind;
  readonly error: ErrorShape;
}

/** The access failure in `error` or in its causes (adapters wrap SDK errors with `{ cause }`). */
function findFailure(error: unknown): FoundFailure | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth += 1) {
    const kind = classifyOne(current);
    if (kind) return { kind, error: current as ErrorShape };
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Which AWS access failure `error` is (or wraps), or undefined when it is something else. */
export function classifyAwsFailure(error: unknown): AwsFailureKind | undefined {
  return findFailure(error)?.kind;
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.trim();
}

/** An AWS access failure, for a person: what went wrong and what to do about it. */
export interface AwsFailureExplanation {
  readonly kind: AwsFailureKind;
  /** What went wrong, naming AWS's own error. */
  readonly message: string;
  /** What to do about it. */
  readonly remedy: string;
}

/** What went wrong and what to do, for an AWS access failure; undefined for any other error. */
export function describeAwsFailure(error: unknown, target: AwsTarget): AwsFailureExplanation | undefined {
  const found = findFailure(error);
  if (!found) return undefined;
  const { kind, error: shape } = found;
  const detail = `${text(shape.name) || 'Error'}: ${firstLine(text(shape.message))}`;
  const profile = target.profile ?? '<profile>';
  const profileNote = target.profile ? `profile ${target.profile}` : 'the default credential chain';
  switch (kind) {
    case AwsFailureKind.credentialsMissing:
      return {
        kind,
        message: `No AWS credentials found (${detail}).`,
        remedy:
          `Run \`aws sso login --profile ${profile}\` and pass --profile (or set AWS_PROFILE), or set ` +
          'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.',
      };
    case AwsFailureKind.credentialsExpired:
      return {
        kind,
        message: `The AWS credentials of ${profileNote} have expired (${detail}).`,
        remedy: `Run \`aws sso login --profile ${profile}\` (or renew the session token) and run the command again.`,
      };
    case AwsFailureKind.credentialsRejected:
      return {
        kind,
        message: `AWS does not accept the credentials of ${profileNote} (${detail}).`,
        remedy: `Check that the access key belongs to the account of region ${target.region} and is active, or use another --profile.`,
      };
    case AwsFailureKind.accessDenied:
      return {
        kind,
        message: `AWS denied access to ${profileNote} (${detail}).`,
        remedy:
          'Use a profile whose role has the permission named above, or ask an administrator of the account to grant it.',
      };
    case AwsFailureKind.unreachable:
      return {
        kind,
        message: `AWS could not be reached in region ${target.region} (${detail}).`,
        remedy:
          'Check the network connection (VPN, proxy: HTTPS_PROXY) and that --region names a real region, then run the command again.',
      };
  }
}

/**
 * Says an AWS access failure: always on stderr; with `--json`, also as the one document on stdout
 * (`{"error": {kind, message, remedy}}`), so a script that parses stdout learns why there is no result.
 */
export function reportAwsFailure(
  io: Pick<CliIo, 'stdout' | 'stderr'>,
  command: string,
  explanation: AwsFailureExplanation,
  json: boolean,
): number {
  io.stderr(`afu9-deploy ${command}: ${explanation.message} ${explanation.remedy}\n`);
  if (json) io.stdout(JSON.stringify({ error: explanation }) + '\n');
  return ExitCode.awsUnavailable;
}

/**
 * Runs the AWS part of a command: an AWS access failure becomes its explanation on stderr (and, with
 * `json`, the error document on stdout) and exit code 3; any other error goes on to the caller.
 */
export async function exitOnAwsFailure(
  io: Pick<CliIo, 'stdout' | 'stderr'>,
  run: { readonly command: string; readonly json?: boolean },
  target: AwsTarget,
  work: () => Promise<number>,
): Promise<number> {
  try {
    return await work();
  } catch (error) {
    const explanation = describeAwsFailure(error, target);
    if (explanation === undefined) throw error;
    return reportAwsFailure(io, run.command, explanation, run.json === true);
  }
}
