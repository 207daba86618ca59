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

  it('names images given per container by the container, or several by their set', () => {
    const one = executionNameFor({ environment: 'staging', images: { 'mcp-github': 'stage-5e6f7a8' } }, NOW);
    expect(one).toBe('staging-mcp-github-stage-5e6f7a8');
    const digest = `sha256:${'b'.repeat(64)}`;
    expect(executionNameFor({ environment: 'staging', images: { sidecar: digest } }, NOW)).toBe(
      `staging-sidecar-${'b'.repeat(16)}`,
    );
    const set = executionNameFor({ environment: 'staging', images: { a: 'stage-1', b: 'stage-1' } }, NOW);
    const sameSetOtherOrder = executionNameFor(
      { environment: 'staging', images: { b: 'stage-1', a: 'stage-1' } },
      NOW,
    );
    const otherSet = executionNameFor(
      { environment: 'staging', images: { a: 'stage-1', b: 'stage-2' } },
      NOW,
    );
    expect(set).toMatch(/^staging-images-[0-9a-f]{16}$/);
    expect(sameSetOtherOrder).toBe(set);
    expect(otherSet).not.toBe(set);
    expect(one).not.toBe(
      executionNameFor({ environment: 'staging', images: { 'mcp-deploy': 'stage-5e6f7a8' } }, NOW),
    );
  });
});
