/**
 * `afu9-deploy simulate` as docs/rehearsal.md and docs/json-outputs.md define it: exit codes, one JSON
 * document on stdout with `--json`, the scenario list, and usage errors that explain themselves without
 * a stack trace.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { CliIo } from '../../../cli/command';
import { main } from '../../../cli/main';
import { scenarios } from '../../../sandbox/scenarios';

interface Captured {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function simulate(args: readonly string[], stdin = ''): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env: {},
    stdin: Readable.from([stdin]),
  };
  const code = await main(['simulate', ...args], io);
  return { code, stdout, stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'afu9-simulate-'));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const documentKeys = [
  'scenario',
  'status',
  'outcome',
  'rolledBack',
  'taskDefinitionBefore',
  'taskDefinitionDeployed',
  'taskDefinitionAfter',
  'states',
  'notifications',
  'virtualSeconds',
];

describe('afu9-deploy simulate', () => {
  it('runs the happy scenario by default: exit 0 and a timeline on stderr', async () => {
    // Act
    const result = await simulate([]);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/\+00:00:00 +ResolveRequest/);
    expect(result.stderr).toMatch(/\+\d\d:\d\d:\d\d +SmokeTest +SUCCEEDED/);
    expect(result.stdout).toMatch(/^Outcome: deployed \(SUCCEEDED\)/);
    expect(result.stdout).toContain('SNS: [AFU-9 staging] Deployed stage-9d1e0f4');
  });

  it('--json prints exactly one JSON document with the contract fields and nothing else', async () => {
    // Act
    const result = await simulate(['--scenario', 'circuit-breaker', '--json']);
    const doc = JSON.parse(result.stdout) as Record<string, unknown>;

    // Assess
    expect(result.code).toBe(1);
    expect(Object.keys(doc)).toEqual(expect.arrayContaining(documentKeys));
    expect(doc).toMatchObject({
      scenario: 'circuit-breaker',
      status: 'FAILED',
      outcome: 'rolled-back',
      rolledBack: true,
    });
    for (const state of doc.states as Record<string, unknown>[]) {
      const keys = [
        'decision',
        'enteredAt',
        ...('error' in state ? ['error'] : []),
        'leftAt',
        'name',
        'status',
      ];
      expect(Object.keys(state).sort()).toEqual(keys);
      expect(state.decision).toEqual(expect.any(Array));
    }
    for (const notification of doc.notifications as Record<string, unknown>[]) {
      expect(Object.keys(notification).sort()).toEqual(['message', 'subject']);
    }
    expect(typeof doc.virtualSeconds).toBe('number');
    expect(result.stderr).toBe('');
  });

  it('exits 1 when the deployment fails before any change', async () => {
    // Act
    const result = await simulate(['--scenario', 'diff-blocked', '--json']);

    // Assess
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ outcome: 'blocked', status: 'FAILED' });
  });

  it('--list names every scenario with one line', async () => {
    // Act
    const result = await simulate(['--list']);
    const lines = result.stdout.trimEnd().split('\n');

    // Assess
    expect(result.code).toBe(0);
    expect(lines).toHaveLength(scenarios.length);
    for (const [index, scenario] of scenarios.entries()) {
      expect(lines[index]).toMatch(new RegExp(`^${scenario.name} +\\S`));
    }
  });

  it('--list --json prints the scenarios as one JSON array', async () => {
    // Act
    const result = await simulate(['--list', '--json']);

    // Assess
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toHaveLength(scenarios.length);
  });

  it.each([
    [['--scenario', 'nope'], /no scenario named 'nope'.*happy/],
    [['--input', join(dir, 'missing.json')], /Cannot read the input file .*missing\.json: it does not exist/],
    [['--input', file('broken.json', '{"environment": ')], /is not valid JSON/],
    [['--list', '--scenario', 'happy'], /--list names the scenarios and runs none/],
    [['--scenario', 'happy', '--scenario', 'smoke-fail'], /--scenario was given 2 times/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--scenario'], /--scenario.*argument missing|argument missing/],
    [['extra'], /Unexpected argument 'extra'/],
  ])('refuses %j with exit 2 and a clear message', async (args, message) => {
    // Act
    const result = await simulate(args);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('Usage: afu9-deploy simulate');
    expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(result.stdout).toBe('');
  });

  it('reads the input from stdin with --input -', async () => {
    // Act
    const result = await simulate(
      ['--input', '-', '--json'],
      JSON.stringify({ environment: 'production', imageTag: 'prod-77aa01c', requestedBy: 'jane.doe' }),
    );

    // Assess
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ outcome: 'rejected' });
  });

  it('runs an input the workflow refuses (a misspelt guardrail flag) and reports it rejected', async () => {
    // Prepare
    const input = file(
      'typo.json',
      JSON.stringify({ environment: 'staging', imageTag: 'stage-77aa01c', skipDiffgate: true }),
    );

    // Act
    const result = await simulate(['--input', input, '--json']);

    // Assess
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      status: 'FAILED',
      outcome: 'rejected',
      rolledBack: false,
    });
  });

  it('ignores an event no rule of the stack routes: nothing runs, nothing is sent', async () => {
    // Prepare
    const push = {
      version: '0',
      id: 'a0b1c2d3-0000-4000-8000-000000000001',
      'detail-type': 'ECR Image Action',
      source: 'aws.ecr',
      account: '111122223333',
      time: '2026-11-27T08:41:07Z',
      region: 'eu-central-1',
      resources: [],
      detail: {
        result: 'SUCCESS',
        'repository-name': 'someone-else/app',
        'image-digest': `sha256:${'a'.repeat(64)}`,
        'action-type': 'PUSH',
        'image-tag': 'v1',
      },
    };

    // Act
    const result = await simulate(['--input', file('other-repo.json', JSON.stringify(push)), '--json']);
    const doc = JSON.parse(result.stdout);

    // Assess
    expect(result.code).toBe(0);
    expect(doc).toMatchObject({ status: 'SUCCEEDED', outcome: 'ignored', states: [], notifications: [] });
    expect(doc.taskDefinitionAfter).toBe(doc.taskDefinitionBefore);
  });
});
