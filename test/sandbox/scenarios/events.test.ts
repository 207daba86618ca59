/**
 * Every sample in `events/` runs through `afu9-deploy simulate --input`, exactly as a person would
 * send it, and ends as that kind of input must.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { CliIo } from '../../../cli/command';
import { main } from '../../../cli/main';

const eventsDir = join(__dirname, '..', '..', '..', 'events');

/** What each sample leads to in the default (happy) world, as given and with --pushed. */
const expected: Readonly<
  Record<
    string,
    { code: number; outcome: string; executions: number; pushed?: { code: number; outcome: string } }
  >
> = {
  // The world never had the image the request names: refused before any change, unless --pushed.
  'start-staging.json': {
    code: 1,
    outcome: 'failed-before-change',
    executions: 1,
    pushed: { code: 0, outcome: 'deployed' },
  },
  'start-production.json': {
    code: 1,
    outcome: 'failed-before-change',
    executions: 1,
    pushed: { code: 0, outcome: 'deployed' },
  },
  // A push event says the image was pushed: it deploys either way.
  'ecr-push.json': { code: 0, outcome: 'deployed', executions: 1, pushed: { code: 0, outcome: 'deployed' } },
  // The failed deployment first happens on the service; ECS rolled it back, the branch confirms it.
  'ecs-deployment-failed.json': { code: 1, outcome: 'rolled-back', executions: 1 },
  // The ledger holds the previous verified release: the service returns to it.
  // A rollback a person asked for, done: success.
  'rollback-staging.json': { code: 0, outcome: 'rolled-back', executions: 1 },
};

async function simulateInput(
  path: string,
  extra: readonly string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env: {},
    stdin: Readable.from([]),
  };
  const code = await main(['simulate', '--input', path, '--json', ...extra], io);
  return { code, stdout, stderr };
}

const samples = readdirSync(eventsDir).filter((name) => name.endsWith('.json'));

describe('events/ samples through simulate --input', () => {
  it('every sample has an expectation here', () => {
    expect(samples.sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(samples)('%s runs and ends as expected', async (name) => {
    // Act
    const result = await simulateInput(join(eventsDir, name));
    const doc = JSON.parse(result.stdout);

    // Assess
    const want = expected[name]!;
    expect(result.code).toBe(want.code);
    expect(doc.outcome).toBe(want.outcome);
    expect(doc.executions).toHaveLength(want.executions);
    expect(doc.notifications).toHaveLength(1);
  });

  it.each(samples.filter((name) => expected[name]!.pushed))(
    '%s with --pushed runs and ends as expected',
    async (name) => {
      // Act
      const result = await simulateInput(join(eventsDir, name), ['--pushed']);

      // Assess
      const want = expected[name]!.pushed!;
      expect(result.code).toBe(want.code);
      expect(JSON.parse(result.stdout).outcome).toBe(want.outcome);
    },
  );
});

describe('events/release/ through simulate --input given several times', () => {
  const releaseDir = join(eventsDir, 'release');
  const pushes = readdirSync(releaseDir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => join(releaseDir, name));

  async function simulateInputs(paths: readonly string[]) {
    let stdout = '';
    const io: CliIo = {
      stdout: (text) => (stdout += text),
      stderr: () => undefined,
      env: {},
      stdin: Readable.from([]),
    };
    const code = await main(['simulate', ...paths.flatMap((path) => ['--input', path]), '--json'], io);
    return { code, doc: JSON.parse(stdout) };
  }

  it('four pushes of one tag, 3 s apart, deploy once with the four digests the events carry', async () => {
    // Act
    const { code, doc } = await simulateInputs(pushes);

    // Assess
    expect(code).toBe(0);
    expect(doc).toMatchObject({ status: 'SUCCEEDED', outcome: 'deployed' });
    expect(doc.executions.map((e: { trigger: string; outcome: string }) => [e.trigger, e.outcome])).toEqual([
      ['ecr-push', 'deployed'],
      ['ecr-push', 'ignored'],
      ['ecr-push', 'ignored'],
      ['ecr-push', 'ignored'],
    ]);
    for (const path of pushes) {
      const { detail } = JSON.parse(readFileSync(path, 'utf8'));
      expect(Object.values(doc.imagesAfter)).toContain(
        `${detail['repository-name']}@${detail['image-digest']}`,
      );
    }
    expect(doc.notifications).toHaveLength(1);
  });

  it('the same digests pushed again after the release sealed deploy nothing more', async () => {
    // Act
    const { code, doc } = await simulateInputs([...pushes, pushes[1]!]);

    // Assess
    expect(code).toBe(0);
    expect(doc.executions.map((e: { outcome: string }) => e.outcome)).toEqual([
      'deployed',
      'ignored',
      'ignored',
      'ignored',
      'ignored',
    ]);
    expect(doc.notifications).toHaveLength(1);
  });
});
