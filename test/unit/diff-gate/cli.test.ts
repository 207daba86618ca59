import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { main } from '../../../cli/main';
import type { CliIo } from '../../../cli/command';
import { validateDiff, runProcess, type ProcessRunner } from '../../../cli/validate-diff';
import { fixturePath, readFixture } from './fixture-support';

interface Captured {
  readonly io: CliIo;
  readonly stdout: () => string;
  readonly stderr: () => string;
}

function captureIo(options: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): Captured {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: (text) => (out += text),
      stderr: (text) => (err += text),
      env: options.env ?? {},
      stdin: Readable.from([Buffer.from(options.stdin ?? '')]),
    },
    stdout: () => out,
    stderr: () => err,
  };
}

describe('afu9-deploy diff-gate', () => {
  it.each([
    ['ecs-new-image', 0, 'PASS'],
    ['iam-changes', 0, 'WARN'],
    ['ecs-service-replace', 1, 'BLOCKED'],
    ['error-truncated', 2, 'ERROR'],
    ['error-empty', 2, 'ERROR'],
  ])('judges %s with exit %i (%s)', async (fixture, exitCode, verdict) => {
    // Prepare
    const captured = captureIo();

    // Act
    const code = await main(['diff-gate', '--file', fixturePath(fixture)], captured.io);

    // Assess
    expect(code).toBe(exitCode);
    expect(captured.stdout()).toContain(`Diff gate: ${verdict}`);
  });

  describe("--env: the environment's approval policy, as the workflow applies it", () => {
    it.each([
      ['production', 1, "requires a person's review"],
      ['staging', 0, undefined],
    ] as const)('a WARN diff for %s exits %i', async (environment, exitCode, notice) => {
      // Prepare
      const captured = captureIo();

      // Act
      const code = await main(
        ['diff-gate', '--file', fixturePath('iam-changes'), '--env', environment],
        captured.io,
      );

      // Assess
      expect(code).toBe(exitCode);
      expect(captured.stdout()).toContain('Diff gate: WARN');
      if (notice) expect(captured.stderr()).toContain(notice);
      else expect(captured.stderr()).not.toContain('approval policy');
    });

    it('words the remedy for a diff judged here: the local skip, not a deployment that changed nothing', async () => {
      // Prepare
      const captured = captureIo();

      // Act
      await main(['diff-gate', '--file', fixturePath('iam-changes'), '--env', 'production'], captured.io);

      // Assess
      expect(captured.stderr()).toContain(
        'so a deployment to production would stop at this diff (exit 1). Review the warnings listed; to pass ' +
          'this gate after the review, run it again with SKIP_DIFF_GATE=true',
      );
      expect(captured.stderr()).not.toContain('nothing was changed');
      expect(captured.stderr()).not.toContain('skipDiffGate: true');
    });

    it("lets a held WARN through with SKIP_DIFF_GATE=true and a reason, as the workflow's skip does", async () => {
      // Prepare
      const captured = captureIo({
        env: { SKIP_DIFF_GATE: 'true', SKIP_DIFF_GATE_REASON: 'reviewed in CHG-88' },
      });

      // Act
      const code = await main(
        ['diff-gate', '--file', fixturePath('iam-changes'), '--env=production'],
        captured.io,
      );

      // Assess
      expect(code).toBe(0);
    });

    it.each([
      [['--env', 'prodution'], /Unknown environment 'prodution'.*production/s],
      [['--config', 'deploy.config.json'], /give --env <name> too/],
      [['--env'], /--env needs a value/],
    ])('refuses %j as a usage error (exit 2)', async (flags, message) => {
      // Prepare
      const captured = captureIo();

      // Act
      const code = await main(['diff-gate', '--file', fixturePath('iam-changes'), ...flags], captured.io);

      // Assess
      expect(code).toBe(2);
      expect(captured.stderr()).toMatch(message);
    });
  });

  it('prints findings grouped by severity, each with its rule and reason', async () => {
    const captured = captureIo();

    await main(['diff-gate', '--file', fixturePath('multi-stack-blocked')], captured.io);

    const out = captured.stdout();
    expect(out).toMatch(/BLOCKING \(3\)[\s\S]*WARNING \(\d+\)[\s\S]*SAFE \(1\)/);
    expect(out).toContain(
      'AWS::RDS::DBInstance Afu9DatabaseStack/Postgres (Postgres9DC8BB04) destroy  [database-removed]',
    );
    expect(out).toContain('creates an empty one');
  });

  it('prints exactly one JSON document with the contract fields on --json', async () => {
    // Prepare
    const captured = captureIo();

    // Act
    const code = await main(
      ['diff-gate', '--file', fixturePath('multi-stack-deployed'), '--json'],
      captured.io,
    );

    // Assess
    const document = JSON.parse(captured.stdout());
    expect(code).toBe(0);
    expect(Object.keys(document).sort()).toEqual([
      'blocking',
      'message',
      'safe',
      'stacks',
      'verdict',
      'warnings',
    ]);
    expect(document.verdict).toBe('WARN');
    expect(document.stacks).toEqual(['Afu9NetworkStack', 'Afu9EcsStack', 'Afu9IamStack']);
    for (const finding of [...document.blocking, ...document.warnings, ...document.safe]) {
      expect(Object.keys(finding).sort()).toEqual([
        'change',
        'logicalId',
        'path',
        'reason',
        'resourceType',
        'rule',
        'stack',
      ]);
    }
  });

  it('prints an ERROR document on --json for text that is not a diff', async () => {
    const captured = captureIo();

    const code = await main(
      ['diff-gate', '--file', fixturePath('error-synth-failure'), '--json'],
      captured.io,
    );

    expect(code).toBe(2);
    expect(JSON.parse(captured.stdout())).toMatchObject({
      verdict: 'ERROR',
      blocking: [],
      message: expect.stringContaining("image tag '' is not valid"),
    });
  });

  it('reads standard input with --file -', async () => {
    const captured = captureIo({ stdin: readFixture('ecs-cluster-replace') });

    const code = await main(['diff-gate', '--file', '-'], captured.io);

    expect(code).toBe(1);
    expect(captured.stdout()).toContain('Diff gate: BLOCKED');
  });

  describe('with SKIP_DIFF_GATE=true', () => {
    it('lets BLOCKED pass with a loud warning that lists the skipped findings', async () => {
      // Prepare
      const captured = captureIo({ env: { SKIP_DIFF_GATE: 'true', SKIP_DIFF_GATE_REASON: 'INC-42' } });

      // Act
      const code = await main(
        ['diff-gate', '--file', fixturePath('ecs-service-replace'), '--json'],
        captured.io,
      );

      // Assess
      expect(code).toBe(0);
      expect(captured.stderr()).toContain('!!! DIFF GATE SKIPPED (SKIP_DIFF_GATE=true), reason: INC-42');
      expect(captured.stderr()).toContain(
        'AWS::ECS::Service Afu9EcsStack/Service/Service (ServiceD69D759B) replace',
      );
      const document = JSON.parse(captured.stdout());
      expect(document.verdict).toBe('BLOCKED');
      expect(document.blocking).toHaveLength(1);
      expect(document.message).toContain('DIFF GATE SKIPPED');
    });

    it('still fails an ERROR', async () => {
      const captured = captureIo({ env: { SKIP_DIFF_GATE: 'true' } });

      const code = await main(['diff-gate', '--file', fixturePath('error-empty')], captured.io);

      expect(code).toBe(2);
      expect(captured.stderr()).toContain('SKIP_DIFF_GATE=true was ignored');
    });

    it('ignores any value other than true, and says so', async () => {
      const captured = captureIo({ env: { SKIP_DIFF_GATE: 'yes' } });

      const code = await main(['diff-gate', '--file', fixturePath('ecs-service-replace')], captured.io);

      expect(code).toBe(1);
      expect(captured.stderr()).toContain("SKIP_DIFF_GATE='yes' is ignored");
    });
  });

  it.each([
    [[], /--file is required/],
    [['--file'], /--file needs a value/],
    [['--file', 'x.txt', '--verbose'], /Unknown argument '--verbose'/],
  ])('exits 2 with a usage message for %j', async (args, message) => {
    const captured = captureIo();

    const code = await main(['diff-gate', ...args], captured.io);

    expect(code).toBe(2);
    expect(captured.stderr()).toMatch(message);
    expect(captured.stderr()).toContain('Usage: afu9-deploy diff-gate');
    expect(captured.stdout()).toBe('');
  });

  it('exits 2 and names the path when the file cannot be read', async () => {
    const captured = captureIo();

    const code = await main(['diff-gate', '--file', '/nonexistent/diff.txt'], captured.io);

    expect(code).toBe(2);
    expect(captured.stderr()).toMatch(/cannot read \/nonexistent\/diff.txt: ENOENT/);
  });
});

describe('validate:diff', () => {
  function fakeCdk(code: number | undefined, output: string, failure?: string) {
    const calls: [string, readonly string[]][] = [];
    const directories: (string | undefined)[] = [];
    const run: ProcessRunner = async (command, args, options) => {
      calls.push([command, args]);
      directories.push(options?.cwd);
      return { code, output, ...(failure ? { failure } : {}) };
    };
    return { run, calls, directories };
  }

  /** What the real CDK CLI printed (captured from `npx cdk diff` against the fixture app). */
  const capturedCdkOutput = (name: string) =>
    readFileSync(join(__dirname, '..', 'cli', 'fixtures', `${name}.txt`), 'utf8');

  describe('when cdk diff fails', () => {
    it.each([
      ['cdk-diff-no-stack-match', 'No stacks match the name(s) Afu9EcStack'],
      ['cdk-diff-no-app', '--app is required either in command-line, in cdk.json or in ~/.cdk.json'],
    ])('names the first line of the cause (%s), not just ERROR', async (fixture, cause) => {
      // Prepare: cdk exits 1 for these, as it does for a diff with --fail
      const cdk = fakeCdk(1, capturedCdkOutput(fixture));
      const captured = captureIo();

      // Act
      const code = await validateDiff(['Afu9EcStack'], captured.io, cdk.run);

      // Assess
      expect(code).toBe(2);
      expect(captured.stdout()).toContain(`Diff gate: ERROR\n\nERROR: cdk diff failed: ${cause}.`);
    });

    it('names the error of a synthesis that threw, not its stack trace or warnings', async () => {
      const cdk = fakeCdk(1, readFixture('error-synth-failure'));
      const captured = captureIo();

      const code = await validateDiff(['Afu9EcsStack', '--json'], captured.io, cdk.run);

      expect(code).toBe(2);
      expect(JSON.parse(captured.stdout()).message).toMatch(
        /^ERROR: cdk diff failed: Error: Afu9EcsStack: image tag '' is not valid\. Pass the tag/,
      );
    });
  });

  describe('--app', () => {
    let infraDir: string;
    beforeEach(() => {
      infraDir = mkdtempSync(join(tmpdir(), 'afu9-infra-'));
      writeFileSync(join(infraDir, 'cdk.json'), JSON.stringify({ app: 'npx tsx bin/infra.ts' }));
    });
    afterEach(() => rmSync(infraDir, { recursive: true, force: true }));

    it('runs cdk diff in the infrastructure repository a directory names', async () => {
      const cdk = fakeCdk(0, readFixture('ecs-new-image'));
      const captured = captureIo();

      const code = await validateDiff(['--app', infraDir, 'Afu9EcsStack', '-c', 'x=1'], captured.io, cdk.run);

      expect(code).toBe(0);
      expect(cdk.calls).toEqual([['npx', ['cdk', 'diff', 'Afu9EcsStack', '-c', 'x=1']]]);
      expect(cdk.directories).toEqual([infraDir]);
      expect(captured.stderr()).toContain(`(in ${infraDir})`);
    });

    it('passes anything else on as the command that runs the app, wherever it is given', async () => {
      const cdk = fakeCdk(0, readFixture('ecs-new-image'));
      const app = 'npx tsx test/fixtures/cdk-diff/app/main.ts';

      const code = await validateDiff(['Afu9EcsStack', `--app=${app}`, '--json'], captureIo().io, cdk.run);

      expect(code).toBe(0);
      expect(cdk.calls).toEqual([['npx', ['cdk', 'diff', '--app', app, 'Afu9EcsStack']]]);
      expect(cdk.directories).toEqual([undefined]);
    });

    it('refuses a directory without cdk.json before running cdk, and says what to give instead', async () => {
      const cdk = fakeCdk(0, '');
      const captured = captureIo();
      const appDir = join(infraDir, 'app');
      mkdirSync(appDir);

      const code = await validateDiff(['--app', appDir, 'Afu9EcsStack'], captured.io, cdk.run);

      expect(code).toBe(2);
      expect(cdk.calls).toEqual([]);
      expect(captured.stderr()).toContain(`${appDir} is a directory without a cdk.json`);
      expect(captured.stderr()).toContain(`--app "npx tsx ${join(appDir, 'main.ts')}"`);
    });

    it('is a usage error without a value', async () => {
      const captured = captureIo();
      expect(await validateDiff(['Afu9EcsStack', '--app'], captured.io, fakeCdk(0, '').run)).toBe(2);
      expect(captured.stderr()).toContain('--app needs a value');
    });
  });

  describe("--env: the environment's approval policy, as diff-gate --env applies it", () => {
    it.each([
      ['production', 1],
      ['staging', 0],
    ] as const)(
      'holds a WARN diff for %s with exit %i, and keeps --env and --config from cdk',
      async (environment, exitCode) => {
        // Prepare
        const cdk = fakeCdk(0, readFixture('iam-changes'));
        const captured = captureIo();

        // Act
        const code = await validateDiff(
          ['--env', environment, '--config', 'deploy.config.json', 'Afu9EcsStack', '-c', 'x=1'],
          captured.io,
          cdk.run,
        );

        // Assess
        expect(code).toBe(exitCode);
        expect(cdk.calls).toEqual([['npx', ['cdk', 'diff', 'Afu9EcsStack', '-c', 'x=1']]]);
        expect(captured.stdout()).toContain('Diff gate: WARN');
        if (exitCode === 1) {
          expect(captured.stderr()).toContain('would stop at this diff (exit 1)');
          expect(captured.stderr()).toContain('run it again with SKIP_DIFF_GATE=true');
        } else expect(captured.stderr()).not.toContain('approval policy');
      },
    );

    it('lets a held WARN through with SKIP_DIFF_GATE=true, the contract kept', async () => {
      const cdk = fakeCdk(0, readFixture('iam-changes'));
      const captured = captureIo({ env: { SKIP_DIFF_GATE: 'true' } });

      const code = await validateDiff(['Afu9EcsStack', '--env=production'], captured.io, cdk.run);

      expect(code).toBe(0);
      expect(captured.stderr()).toContain('!!! DIFF GATE SKIPPED (SKIP_DIFF_GATE=true)');
    });

    it.each([
      [['--env', 'prodution'], /Unknown environment 'prodution'.*production/s],
      [['--config', 'deploy.config.json'], /give --env <name> too/],
      [['--env'], /--env needs a value/],
    ])('refuses %j as a usage error (exit 2) before running cdk', async (flags, message) => {
      const cdk = fakeCdk(0, readFixture('iam-changes'));
      const captured = captureIo();

      const code = await validateDiff(['Afu9EcsStack', ...flags], captured.io, cdk.run);

      expect(code).toBe(2);
      expect(captured.stderr()).toMatch(message);
      expect(cdk.calls).toEqual([]);
    });
  });

  it('runs cdk diff for the stack with the given arguments and gates its output', async () => {
    // Prepare
    const cdk = fakeCdk(0, readFixture('ecs-new-image'));
    const captured = captureIo();

    // Act
    const code = await validateDiff(['Afu9EcsStack', '-c', 'imageTag=stage-9d1e0f4'], captured.io, cdk.run);

    // Assess
    expect(code).toBe(0);
    expect(cdk.calls).toEqual([['npx', ['cdk', 'diff', 'Afu9EcsStack', '-c', 'imageTag=stage-9d1e0f4']]]);
    expect(captured.stdout()).toContain('Diff gate: PASS');
  });

  it('treats cdk exit 1 as a finished diff (cdk diff --fail)', async () => {
    const cdk = fakeCdk(1, readFixture('ecs-service-replace'));
    const captured = captureIo();

    const code = await validateDiff(['Afu9EcsStack', '--fail'], captured.io, cdk.run);

    expect(code).toBe(1);
    expect(captured.stdout()).toContain('Diff gate: BLOCKED');
  });

  it('is ERROR when cdk exits 1 because it failed', async () => {
    const cdk = fakeCdk(1, readFixture('error-no-credentials'));
    const captured = captureIo();

    const code = await validateDiff(['Afu9EcsStack'], captured.io, cdk.run);

    expect(code).toBe(2);
    expect(captured.stdout()).toContain('Unable to resolve AWS account');
  });

  it.each([
    [2, undefined],
    [undefined, 'spawn npx ENOENT'],
  ])('is ERROR when cdk exits %s (%s)', async (exitCode, failure) => {
    const cdk = fakeCdk(exitCode, readFixture('ecs-new-image'), failure);
    const captured = captureIo();

    const code = await validateDiff(['Afu9EcsStack', '--json'], captured.io, cdk.run);

    expect(code).toBe(2);
    expect(JSON.parse(captured.stdout())).toMatchObject({
      verdict: 'ERROR',
      message: expect.stringMatching(/^ERROR: cdk diff failed \((it exited with code 2|spawn npx ENOENT)\)/),
    });
    expect(cdk.calls[0][1]).toEqual(['cdk', 'diff', 'Afu9EcsStack']);
  });

  it.each([['Afu9EcsStack;rm -rf /'], ['-c'], ['$(whoami)'], ['1Stack']])(
    'refuses %j as a stack name without running cdk',
    async (stackName) => {
      const cdk = fakeCdk(0, '');
      const captured = captureIo();

      const code = await validateDiff([stackName], captured.io, cdk.run);

      expect(code).toBe(2);
      expect(cdk.calls).toEqual([]);
      expect(captured.stderr()).toContain('is not a stack name');
    },
  );

  it('exits 2 with usage when no stack is given', async () => {
    const captured = captureIo();

    expect(await validateDiff([], captured.io, fakeCdk(0, '').run)).toBe(2);
    expect(captured.stderr()).toContain('Usage: npm run validate:diff');
  });

  it('runs a process without a shell and captures both of its streams', async () => {
    // Prepare
    let echoed = '';
    const run = runProcess((text) => (echoed += text));
    const script =
      'process.stdout.write("out:" + process.argv[1]); process.stderr.write(" err"); process.exit(1)';

    // Act
    const outcome = await run(process.execPath, ['-e', script, '$(echo injected); echo nope']);

    // Assess
    expect(outcome.code).toBe(1);
    expect(outcome.output).toContain('out:$(echo injected); echo nope');
    expect(outcome.output).toContain(' err');
    expect(echoed).toBe(outcome.output);
  });

  it('reports a command that cannot start', async () => {
    const outcome = await runProcess(() => undefined)('/nonexistent/cdk', []);

    expect(outcome).toMatchObject({ code: undefined, failure: expect.stringContaining('ENOENT') });
  });
});
