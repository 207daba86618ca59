/**
 * Deterministic identifiers for the simulated account: the same scenario produces the same task
 * ARNs, deployment ids and digests on every run, so reports and tests can compare them.
 */
import { createHash } from 'node:crypto';

export class IdSource {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }

  /** mulberry32: small, fast, and good enough for identifiers. */
  private next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  private chars(alphabet: string, length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }

  hex(length: number): string {
    return this.chars('0123456789abcdef', length);
  }

  /** `ecs-svc/` + 19 digits, as ECS names deployments. */
  deploymentId(): string {
    return `ecs-svc/${this.chars('123456789', 1)}${this.chars('0123456789', 18)}`;
  }

  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
  }
}

/** The digest an image with this content would have: stable per repository and tag. */
export function imageDigestFor(repository: string, tag: string): string {
  return `sha256:${createHash('sha256').update(`${repository}:${tag}`).digest('hex')}`;
}

/** The six-character suffix Secrets Manager appends to a secret's ARN, stable per name. */
export function secretArnSuffix(name: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  const bytes = createHash('sha256').update(name).digest();
  return Array.from(bytes.subarray(0, 6), (b) => alphabet[b % alphabet.length]).join('');
}
