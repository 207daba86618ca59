/**
 * Handler dependencies for unit tests: real SDK clients (intercepted by aws-sdk-client-mock),
 * a fixed clock, no real sleeping, and a silent logger whose lines can still be inspected.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createAwsClients } from '../../lambdas/aws/clients';
import { environments } from './afu9-config';
import type { HandlerDeps } from '../../lambdas/handlers/runtime';

export interface TestDepsOptions {
  readonly now?: Date;
  readonly fetch?: typeof fetch;
}

export interface TestDeps extends HandlerDeps {
  /** Every JSON log line the handler wrote. */
  readonly logLines: string[];
  /** Total milliseconds the handler asked to sleep. */
  readonly sleptMs: () => number;
}

export function testDeps(options: TestDepsOptions = {}): TestDeps {
  const logLines: string[] = [];
  let slept = 0;
  let now = options.now ?? new Date('2026-11-27T09:00:00.000Z');
  const logger = new Logger({
    serviceName: 'test',
    logLevel: 'DEBUG',
    logRecordOrder: ['level', 'message'],
  });
  // Powertools writes through console methods; capture instead of printing.
  const capture = (line: unknown) => logLines.push(String(line));
  (logger as unknown as { console: Record<string, (line: unknown) => void> }).console = {
    info: capture,
    warn: capture,
    error: capture,
    debug: capture,
    log: capture,
    trace: capture,
  };
  return {
    clients: createAwsClients({ region: 'eu-central-1', maxAttempts: 3 }),
    environments,
    settings: {
      topicArn: 'arn:aws:sns:eu-central-1:123456789012:afu9-deployments',
      tableName: 'afu9-deployments',
      region: 'eu-central-1',
    },
    logger,
    now: () => now,
    sleep: async (ms) => {
      slept += ms;
      now = new Date(now.getTime() + ms);
    },
    fetch: options.fetch ?? (() => Promise.reject(new Error('fetch not expected in this test'))),
    logLines,
    sleptMs: () => slept,
  };
}
