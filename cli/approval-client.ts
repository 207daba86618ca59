/**
 * How `afu9-deploy approve|deny` reach decide-approval: a POST to its function URL, SigV4-signed
 * (service `lambda`) with the caller's own credentials from the default chain, so AWS verifies who
 * decides and hands that identity to the function. The person never types who they are.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsTarget } from './aws-failure';

/** What the signer hashes and keys with. */
type SourceData = string | ArrayBuffer | ArrayBufferView;
/** The credentials SignatureV4 signs with (a provider: it may refresh them). */
type CredentialsProvider = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

/** SHA-256 (or its HMAC, given a secret) from node:crypto, in the shape SignatureV4 asks for. */
class NodeSha256 {
  private hash: Hash | Hmac;

  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }

  update(data: Uint8Array): void {
    this.hash.update(data);
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.secret));
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(new Uint8Array(data));
}

export interface ApprovalClientDeps {
  /** The caller's credentials: the default chain of the profile and region. */
  readonly credentials: (target: AwsTarget) => CredentialsProvider;
  readonly fetch: typeof fetch;
}

export const realApprovalClientDeps: ApprovalClientDeps = {
  credentials: (target) => defaultProvider(target.profile ? { profile: target.profile } : {}),
  fetch: globalThis.fetch,
};

/** The region of a function URL (`https://<id>.lambda-url.<region>.on.aws/`), which it is signed for. */
export function functionUrlRegion(url: URL): string | undefined {
  return /^[a-z0-9]+\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(url.hostname)?.[1];
}

export interface SignedResponse {
  readonly status: number;
  readonly body: unknown;
}

/** POSTs `body` as JSON to the function URL, signed with the caller's credentials. */
export async function postSigned(
  deps: ApprovalClientDeps,
  target: AwsTarget,
  url: URL,
  body: unknown,
): Promise<SignedResponse> {
  const region = functionUrlRegion(url) ?? target.region;
  const signer = new SignatureV4({
    credentials: deps.credentials(target),
    region,
    service: 'lambda',
    sha256: NodeSha256,
  });
  const text = JSON.stringify(body);
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    path: url.pathname || '/',
    query: {},
    headers: { host: url.hostname, 'content-type': 'application/json' },
    body: text,
  });
  const response = await deps.fetch(url, {
    method: 'POST',
    headers: signed.headers as Record<string, string>,
    body: text,
  });
  const raw = await response.text();
  let parsed: unknown = raw;
  try {
    parsed = JSON.parse(raw) as unknown;
  } catch {
    // Lambda's own refusals are JSON too; anything else is shown as text.
  }
  return { status: response.status, body: parsed };
}
