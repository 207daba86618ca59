/**
 * Simulated S3: buckets of text objects (the diff job's `cdk diff` output). GetObject answers with
 * a Body that has the SDK's `transformToString` / `transformToByteArray`.
 */
import { createHash } from 'node:crypto';
import {
  GetObjectCommand,
  NoSuchBucket,
  NoSuchKey,
  PutObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { route, simulatedClient, type SimulatedClient } from './dispatch';
import type { FaultInjector } from './faults';
import { awsError } from './sdk-errors';
import type { VirtualClock } from './virtual-clock';

interface StoredObject {
  readonly body: Uint8Array;
  readonly contentType: string;
  readonly lastModified: Date;
  readonly etag: string;
}

export class SimulatedS3 {
  private readonly buckets = new Map<string, Map<string, StoredObject>>();
  readonly client: SimulatedClient;

  constructor(
    bucketNames: readonly string[],
    private readonly clock: VirtualClock,
    faults: FaultInjector,
  ) {
    for (const name of bucketNames) this.createBucket(name);
    this.client = simulatedClient('s3', 'S3', S3ServiceException, faults, [
      route(GetObjectCommand, (input) => {
        const object = this.bucket(input.Bucket).get(input.Key ?? '');
        if (!object) throw awsError(NoSuchKey, 'The specified key does not exist.', 404);
        const body = object.body;
        return {
          Body: {
            transformToString: async (encoding: BufferEncoding = 'utf-8') =>
              Buffer.from(body).toString(encoding),
            transformToByteArray: async () => new Uint8Array(body),
          },
          ContentLength: body.byteLength,
          ContentType: object.contentType,
          ETag: object.etag,
          LastModified: new Date(object.lastModified),
        };
      }),
      route(PutObjectCommand, (input) => {
        const body = toBytes(input.Body);
        return { ETag: this.store(input.Bucket, input.Key ?? '', body, input.ContentType) };
      }),
    ]);
  }

  createBucket(name: string): void {
    if (!this.buckets.has(name)) this.buckets.set(name, new Map());
  }

  /** Writes an object as another AWS service would (the diff job writing its output). */
  putObject(bucket: string, key: string, body: string, contentType = 'text/plain; charset=utf-8'): void {
    this.store(bucket, key, new TextEncoder().encode(body), contentType);
  }

  getObjectText(bucket: string, key: string): string | undefined {
    const object = this.buckets.get(bucket)?.get(key);
    return object ? Buffer.from(object.body).toString('utf-8') : undefined;
  }

  private bucket(name: string | undefined): Map<string, StoredObject> {
    const bucket = name === undefined ? undefined : this.buckets.get(name);
    if (!bucket) throw awsError(NoSuchBucket, 'The specified bucket does not exist', 404);
    return bucket;
  }

  private store(bucket: string | undefined, key: string, body: Uint8Array, contentType?: string): string {
    const etag = `"${createHash('md5').update(body).digest('hex')}"`;
    this.bucket(bucket).set(key, {
      body,
      contentType: contentType ?? 'binary/octet-stream',
      lastModified: this.clock.now(),
      etag,
    });
    return etag;
  }
}

function toBytes(body: unknown): Uint8Array {
  if (typeof body === 'string') return new TextEncoder().encode(body);
  if (body instanceof Uint8Array) return new Uint8Array(body);
  if (body === undefined) return new Uint8Array();
  throw new TypeError(
    'The sandbox S3 stores string or byte bodies only; pass PutObject a string or Uint8Array instead of a stream.',
  );
}
