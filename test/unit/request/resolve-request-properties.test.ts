import fc from 'fast-check';
import { environments } from '../../support/afu9-config';
import { DeploymentRejected } from '../../../lambdas/domain/errors';
import { resolveTrigger } from '../../../lambdas/domain/request-validation';
import { parseTriggerInput } from '../../../lambdas/domain/trigger-events';
import type { TriggerResolution } from '../../../lambdas/domain/workflow-state';
import { loadSampleEvent } from './sample-events';

function resolveOrRejected(input: unknown): TriggerResolution | DeploymentRejected {
  try {
    return resolveTrigger(parseTriggerInput(input), { environments, executionName: 'prop-run' });
  } catch (error) {
    if (error instanceof DeploymentRejected) return error;
    throw error;
  }
}

const validDigest = fc.stringMatching(/^sha256:[a-f0-9]{64}$/);
const reference = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^stage-[a-f0-9]{7}$/) },
  { weight: 2, arbitrary: fc.stringMatching(/^prod-[a-f0-9]{7}$/) },
  { weight: 2, arbitrary: validDigest },
  { weight: 1, arbitrary: fc.stringMatching(/^(stage|prod)-[a-f0-9]{7}@sha256:[a-f0-9]{64}$/) },
  { weight: 1, arbitrary: fc.constantFrom('v0.2.6', 'staging-latest', '-stage', 'sha256:abc', 'a b') },
  { weight: 1, arbitrary: fc.string() },
);

/** Mostly plausible values, so that many random inputs pass and the guardrails are really tested. */
const startInput = fc.record(
  {
    environment: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom('staging', 'production') },
      { weight: 1, arbitrary: fc.string() },
    ),
    action: fc.constantFrom('deploy', 'deploy', 'rollback'),
    imageTag: reference,
    imageDigest: validDigest,
    images: fc.dictionary(
      fc.oneof(
        { weight: 5, arbitrary: fc.constantFrom('mcp-github', 'mcp-deploy', 'control-center') },
        { weight: 1, arbitrary: fc.string() },
      ),
      reference,
      { maxKeys: 2 },
    ),
    skipDiffGate: fc.boolean(),
    reason: fc.oneof(fc.constant('hotfix INC-231'), fc.string()),
    allowProduction: fc.boolean(),
    redeploy: fc.boolean(),
    requestedBy: fc.string(),
  },
  { requiredKeys: [] },
);

const ecrDetail = fc.record(
  {
    result: fc.constantFrom('SUCCESS', 'SUCCESS', 'FAILURE'),
    'action-type': fc.constantFrom('PUSH', 'PUSH', 'DELETE'),
    'repository-name': fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('afu9/control-center', 'afu9/mcp-deploy') },
      { weight: 1, arbitrary: fc.string() },
    ),
    'image-digest': fc.oneof({ weight: 4, arbitrary: validDigest }, { weight: 1, arbitrary: fc.string() }),
    'image-tag': reference,
  },
  { requiredKeys: ['result', 'action-type', 'repository-name'] },
);

describe('resolve-request on random input', () => {
  it('only ever accepts, ignores or rejects, and every accepted deploy keeps the guardrails', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          startInput,
          ecrDetail.map((detail) => ({ ...loadSampleEvent('ecr-push.json'), detail })),
        ),
        (input) => {
          const result = resolveOrRejected(input);
          if (result instanceof DeploymentRejected || result.status === 'ignored') return;
          const { request } = result;
          const environment = environments[request.environment];
          expect(environment).toBeDefined();
          if (request.kind === 'rollback') return;
          expect(request.images.length).toBeGreaterThan(0);
          for (const image of request.images) {
            if (image.tag !== undefined) expect(image.tag.startsWith(environment.imageTagPrefix)).toBe(true);
            if (image.digest !== undefined) expect(image.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
          }
          if (environment.requiresAllowFlag) {
            expect((input as { allowProduction?: unknown }).allowProduction).toBe(true);
          }
          if (request.skipDiffGate) expect(request.skipReason?.trim()).toBeTruthy();
        },
      ),
      { numRuns: 1000 },
    );
  });
});
