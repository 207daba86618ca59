/**
 * Values the simulated services hand out the way AWS shapes them: errors named as Step Functions
 * routes on them, UUIDs that stay the same from run to run, payloads copied as JSON crosses the wire.
 */
import { createHash } from 'node:crypto';

/** An error with the name Step Functions routes on, as a failed callback or integration reports it. */
export function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

export function jsonCopy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** A UUID-shaped id derived from `seed`, so the same run names things the same way every time. */
export function uuidFrom(seed: string): string {
  const id = createHash('sha256').update(seed).digest('hex');
  return `${id.slice(0, 8)}-${id.slice(8, 12)}-4${id.slice(13, 16)}-a${id.slice(17, 20)}-${id.slice(20, 32)}`;
}
