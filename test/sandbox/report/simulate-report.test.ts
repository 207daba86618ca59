/**
 * `afu9-deploy simulate --report <file.html>` writes one self-contained page that headless
 * Chromium lays out: the state machine graph with every state, coloured by the path the run took.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { CliIo } from '../../../cli/command';
import { main } from '../../../cli/main';
import { renderedDom } from '../../support/chromium';

async function simulate(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env: {},
    stdin: Readable.from([]),
  };
  const code = await main(['simulate', ...args], io);
  return { code, stdout, stderr };
}

describe('afu9-deploy simulate --report', () => {
  it('writes a self-contained page that Chromium renders, with the path taken', async () => {
    // Prepare
    const file = join(mkdtempSync(join(tmpdir(), 'afu9-report-')), 'run.html');

    // Act
    const result = await simulate(['--scenario', 'smoke-fail', '--json', '--report', file]);
    const html = readFileSync(file, 'utf8');
    const dom = await renderedDom(file);

    // Assess
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ outcome: 'rolled-back' });
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']https?:/);
    expect(html).toContain('SmokeTest');
    expect(dom).toContain('data-rendered="true"');
    // What each state decided, as the timeline says it.
    expect(dom).toContain('smoke test FAILED against');
    expect(dom).toContain('afu9-control-center-staging:41 → :42 → :41 (rolled back)');
  });

  it('refuses a report path in a directory that does not exist, before running anything', async () => {
    // Act
    const result = await simulate(['--report', join(tmpdir(), 'no-such-dir-afu9', 'run.html')]);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Cannot write the report to .*: the directory .* does not exist/);
    expect(result.stdout).toBe('');
  });
});
