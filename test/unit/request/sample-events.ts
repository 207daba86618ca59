/** Reads the sample inputs in events/ exactly as a person would send them. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const eventsDirectory = join(__dirname, '..', '..', '..', 'events');

export function sampleEventFiles(): string[] {
  return readdirSync(eventsDirectory).filter((name) => name.endsWith('.json'));
}

export function loadSampleEvent(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(eventsDirectory, name), 'utf8')) as Record<string, unknown>;
}

/** A copy of a sample event with its `detail` fields replaced. */
export function withDetail(
  event: Record<string, unknown>,
  detail: Record<string, unknown>,
): Record<string, unknown> {
  return { ...event, detail: { ...(event.detail as Record<string, unknown>), ...detail } };
}
