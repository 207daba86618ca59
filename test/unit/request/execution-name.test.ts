/**
 * Execution names of deployments a person starts: deterministic per request (Step Functions refuses a
 * second execution of one name), saying the environment once.
 */
import { executionNameFor } from '../../../lambdas/domain/execution-name';

const NOW = new Date('2026-11-27T10:15:30.000Z');

describe('executionNameFor', () => {
  it('names the environment, then the image tag', () => {
    expect(executionNameFor({ environment: 'staging', imageTag: 'stage-3f9c2ab' }, NOW)).toBe(
      'staging-stage-3f9c2ab',
    );
  });

  it('says the environment once when the tag already starts with it (tag prefix `<env>-`)', () => {
    expect(executionNameFor({ environment: 'staging', imageTag: 'staging-3f9c2ab' }, NOW)).toBe(
      'staging-3f9c2ab',
    );
    expect(
      executionNameFor({ environment: 'staging', imageTag: 'staging-3f9c2ab', redeploy: true }, NOW),
    ).toBe('staging-3f9c2ab-redeploy-20261127T101530Z');
  });

  it('keeps the environment in front of a tag that only begins with its letters', () => {
    expect(executionNameFor({ environment: 'staging', imageTag: 'stagingfix-1' }, NOW)).toBe(
      'staging-stagingfix-1',
    );
  });

  it('names a digest by its first 16 hex characters, and a rollback by its time', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(executionNameFor({ environment: 'production', imageDigest: digest }, NOW)).toBe(
      `production-${'a'.repeat(16)}`,
    );
    expect(executionNameFor({ environment: 'production', action: 'rollback', reason: 'x' }, NOW)).toBe(
      'production-rollback-20261127T101530Z',
    );
  });
});
