import fc from 'fast-check';
import {
  decideAssembly,
  decideReleasePush,
  lockWaitDeadline,
  openedRelease,
  releaseImageRefs,
  secondsUntilNextLook,
  type ReleaseRecord,
  type TagLookup,
} from '../../../lambdas/domain/release';
import { deploymentKeyFor } from '../../../lambdas/domain/request-validation';
import { environments } from '../../support/afu9-config';

const staging = environments.staging!;
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const opener = 'arn:aws:states:eu-central-1:123456789012:execution:deploy:push-1';
const other = 'arn:aws:states:eu-central-1:123456789012:execution:deploy:push-2';
const now = new Date('2026-03-02T10:00:00.000Z');

function assembling(overrides: Partial<ReleaseRecord> = {}): ReleaseRecord {
  return {
    ...openedRelease({
      environment: 'staging',
      tag: 'stage-5e6f7a8',
      executionId: opener,
      now,
      settings: { settleSeconds: 120 },
    }),
    ...overrides,
  };
}

const sealed = (images: ReleaseRecord['images']): ReleaseRecord =>
  assembling({ state: 'sealed', images, sealedAt: '2026-03-02T10:00:10.000Z' });

describe('what a push of a tag does to its release', () => {
  it('opens the release when the tag has none', () => {
    expect(
      decideReleasePush(
        undefined,
        { executionId: opener, container: 'mcp-github', digest: digest(1) },
        undefined,
      ),
    ).toEqual({
      action: 'open',
    });
  });

  it('joins a release another running execution assembles, so the push ends quietly', () => {
    const record = assembling();
    expect(
      decideReleasePush(record, { executionId: other, container: 'mcp-github', digest: digest(2) }, true),
    ).toEqual({
      action: 'join',
      record,
    });
  });

  it('takes over a release whose execution ended before it sealed, so no later push is swallowed', () => {
    const record = assembling();
    expect(
      decideReleasePush(record, { executionId: other, container: 'mcp-github', digest: digest(2) }, false)
        .action,
    ).toBe('take-over');
  });

  it('continues assembling, or deploys, its own release when the execution resolves again', () => {
    const push = { executionId: opener, container: 'control-center', digest: digest(1) };
    expect(decideReleasePush(assembling(), push, undefined).action).toBe('assemble');
    expect(decideReleasePush(sealed([]), push, undefined).action).toBe('deploy');
  });

  it('ignores a push of an image the sealed release holds as a duplicate', () => {
    const record = sealed([{ container: 'mcp-github', repository: 'afu9/mcp-github', digest: digest(2) }]);
    expect(
      decideReleasePush(record, { executionId: other, container: 'mcp-github', digest: digest(2) }, undefined)
        .action,
    ).toBe('duplicate');
  });

  it('opens a follow-up release for a new image of the tag after the release sealed (a late push)', () => {
    const record = sealed([{ container: 'mcp-github', repository: 'afu9/mcp-github', digest: digest(2) }]);
    expect(
      decideReleasePush(record, { executionId: other, container: 'mcp-github', digest: digest(3) }, undefined)
        .action,
    ).toBe('take-over');
    const followUp = openedRelease({
      environment: 'staging',
      tag: record.tag,
      executionId: other,
      now,
      settings: { settleSeconds: 0 },
      follows: record,
    });
    expect(followUp).toMatchObject({ state: 'assembling', follows: opener, joins: 0 });
  });
});

describe('assembling a release', () => {
  const found = (container: string, n: number): TagLookup => ({
    container,
    repository: `afu9/${container}`,
    state: 'found',
    digest: digest(n),
  });
  const missing = (container: string): TagLookup => ({
    container,
    repository: `afu9/${container}`,
    state: 'missing',
  });
  const deadline = '2026-03-02T10:02:00.000Z';

  it('seals as soon as every configured repository has the tag, before the settle window ends', () => {
    const lookups = [found('control-center', 1), found('mcp-github', 2)];
    expect(decideAssembly(lookups, now, deadline)).toEqual({
      action: 'seal',
      images: [
        { container: 'control-center', repository: 'afu9/control-center', digest: digest(1) },
        { container: 'mcp-github', repository: 'afu9/mcp-github', digest: digest(2) },
      ],
      missing: [],
    });
  });

  it('waits while a repository lacks the tag and the window is open', () => {
    expect(decideAssembly([found('mcp-github', 2), missing('control-center')], now, deadline)).toEqual({
      action: 'wait',
      missing: ['afu9/control-center'],
    });
  });

  it('seals with what it found when the window has passed: the other containers keep their image', () => {
    const decision = decideAssembly(
      [found('mcp-github', 2), missing('control-center')],
      new Date(deadline),
      deadline,
    );
    expect(decision).toMatchObject({ action: 'seal', missing: ['afu9/control-center'] });
    expect(decision.action === 'seal' && decision.images.map((image) => image.container)).toEqual([
      'mcp-github',
    ]);
  });

  it('never waits past the settle deadline, and never less than a second', () => {
    fc.assert(
      fc.property(fc.integer({ min: -300, max: 600 }), fc.integer({ min: 1, max: 300 }), (offset, poll) => {
        const at = new Date(Date.parse(deadline) - offset * 1000);
        const seconds = secondsUntilNextLook(at, deadline, poll);
        expect(seconds).toBeGreaterThanOrEqual(1);
        expect(seconds).toBeLessThanOrEqual(poll);
        if (offset >= 1) expect(seconds).toBeLessThanOrEqual(offset);
      }),
    );
  });

  it('bounds the wait for the service from the moment the release sealed', () => {
    expect(lockWaitDeadline(sealed([]), { lockWaitSeconds: 60 }).toISOString()).toBe(
      '2026-03-02T10:01:10.000Z',
    );
  });
});

describe('the exactly-once key of a release', () => {
  const containers = staging.containers.map((container) => container.name);

  it('is the same for the same set of digests, whatever order the pushes came in', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.constantFrom(...containers), { minLength: 1 }),
        fc.integer({ min: 1, max: 1_000 }),
        (chosen, seed) => {
          const images = chosen.map((container) => ({
            container,
            repository: `afu9/${container}`,
            digest: digest(seed + containers.indexOf(container)),
          }));
          const key = (list: typeof images) =>
            deploymentKeyFor('staging', releaseImageRefs(staging, 'stage-5e6f7a8', list));
          expect(key([...images].reverse())).toBe(key(images));
        },
      ),
    );
  });

  it('differs when any one digest differs', () => {
    const images = [
      { container: 'control-center', repository: 'afu9/control-center', digest: digest(1) },
      { container: 'mcp-github', repository: 'afu9/mcp-github', digest: digest(2) },
    ];
    const changed = [images[0]!, { ...images[1]!, digest: digest(3) }];
    expect(deploymentKeyFor('staging', releaseImageRefs(staging, 't', images))).not.toBe(
      deploymentKeyFor('staging', releaseImageRefs(staging, 't', changed)),
    );
  });

  it('puts the primary container first, so its tag is the version the smoke test expects', () => {
    const refs = releaseImageRefs(staging, 'stage-5e6f7a8', [
      { container: 'mcp-github', repository: 'afu9/mcp-github', digest: digest(2) },
      { container: 'control-center', repository: 'afu9/control-center', digest: digest(1) },
    ]);
    expect(refs.map((ref) => ref.container)).toEqual(['control-center', 'mcp-github']);
    expect(refs.every((ref) => ref.tag === 'stage-5e6f7a8')).toBe(true);
  });
});
