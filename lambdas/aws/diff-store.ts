/**
 * Reads the `cdk diff` output the RunCdkDiff CodeBuild job wrote to S3. A missing or forbidden object
 * is an answer the gate reports (verdict ERROR, the deployment stops with a reason saying what to
 * check); throttling and 5xx become `TransientAwsError` so the state machine retries; anything else
 * is `DiffUnreadable` with the SDK error kept as its cause.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import {
  AwsErrorKind,
  classifyAwsError,
  describeAwsError,
  transientOrOriginal,
} from '../domain/aws-error-kind';
import { DiffUnreadable } from '../domain/errors';
import type { AwsClients } from './clients';

export interface DiffLocation {
  readonly bucket: string;
  readonly key: string;
}

export type DiffObject =
  | {
      readonly found: true;
      readonly text: string;
      readonly bytes: number;
      /** The exit code of `cdk diff` the build stored as object metadata, when it did. */
      readonly cdkExitCode?: number;
    }
  /** The object cannot be had; `problem` says what to check. */
  | { readonly found: false; readonly problem: string };

const missingNames = new Set(['NoSuchKey', 'NoSuchBucket', 'NotFound']);

/** Object metadata the RunCdkDiff build sets (`x-amz-meta-cdk-diff-exit-code`). */
const EXIT_CODE_METADATA = 'cdk-diff-exit-code';

function diffUri(location: DiffLocation): string {
  return `s3://${location.bucket}/${location.key}`;
}

export async function readDiffObject(
  clients: Pick<AwsClients, 's3'>,
  location: DiffLocation,
): Promise<DiffObject> {
  const uri = diffUri(location);
  try {
    const response = await clients.s3.send(
      new GetObjectCommand({ Bucket: location.bucket, Key: location.key }),
    );
    const text = response.Body ? await response.Body.transformToString('utf-8') : '';
    const exitCode = response.Metadata?.[EXIT_CODE_METADATA];
    return {
      found: true,
      text,
      bytes: Buffer.byteLength(text, 'utf8'),
      ...(exitCode !== undefined && /^-?\d+$/.test(exitCode) ? { cdkExitCode: Number(exitCode) } : {}),
    };
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    if (missingNames.has(name)) {
      return {
        found: false,
        problem:
          `The diff object ${uri} does not exist. The RunCdkDiff CodeBuild build writes it: check that build's log ` +
          '(did `cdk diff` run and upload its output?) and that its DIFF_OBJECT_KEY matches this key.',
      };
    }
    const kind = classifyAwsError(error);
    if (kind === AwsErrorKind.accessDenied) {
      return {
        found: false,
        problem:
          `The analyze-diff function may not read ${uri} (${describeAwsError(error)}). Check its s3:GetObject ` +
          'permission on the diff bucket and, if the bucket uses a KMS key, kms:Decrypt on that key.',
      };
    }
    const rethrown = transientOrOriginal(error, `Reading the diff ${uri}`);
    if (rethrown !== error) throw rethrown;
    throw new DiffUnreadable(
      `Reading the diff ${uri} failed (${describeAwsError(error)}). Check the bucket and object, then start the ` +
        'deployment again.',
      { cause: error },
    );
  }
}
