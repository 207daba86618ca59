/**
 * The repository leaves npm's own voice alone: whoever installs or runs a script sees npm's progress,
 * warnings and errors. Only `npm run -s bench -- --json` asks for silence (test/bench/run.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const repositoryRoot = join(__dirname, '..', '..');

describe('npm in this repository', () => {
  it('says so when a script does not exist, instead of failing silently', () => {
    // Act
    const result = spawnSync('npm', ['run', 'no-such-script'], { cwd: repositoryRoot, encoding: 'utf8' });

    // Assess
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('Missing script: "no-such-script"');
  });
});
