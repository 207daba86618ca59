import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createSimulatedAccount } from '../../../sandbox/account';

const root = join(__dirname, '..', '..', '..');

/**
 * Commands only the CLI sends, to a real account: the sandbox runs executions itself (through
 * aws-local-stepfunctions), so it never receives these.
 */
const realAccountOnly: Readonly<Record<string, string>> = {
  StartExecutionCommand: '`afu9-deploy start` starts an execution in a real account',
  GetExecutionHistoryCommand: '`afu9-deploy start --follow` / `status` read a real execution history',
  DescribeStacksCommand: 'the CLI finds the real state machine through the orchestrator stack outputs',
  BatchGetBuildsCommand: '`status` reads the phase and log link of a real infrastructure release build',
};

function typeScriptFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return typeScriptFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function commandsUsedIn(directories: readonly string[]): Map<string, string[]> {
  const used = new Map<string, string[]>();
  for (const file of directories.flatMap((d) => typeScriptFiles(join(root, d)))) {
    for (const match of readFileSync(file, 'utf-8').matchAll(/new\s+([A-Z][A-Za-z0-9]*Command)\s*\(/g)) {
      used.set(match[1]!, [...(used.get(match[1]!) ?? []), relative(root, file)]);
    }
  }
  return used;
}

describe('sandbox command coverage', () => {
  it('answers every SDK command the Lambdas and the CLI send', async () => {
    // Prepare
    const account = await createSimulatedAccount();
    const supported = new Set(Object.values(account.supportedCommands).flat());
    await account.close();

    // Act
    const used = commandsUsedIn(['lambdas', 'cli']);
    const missing = [...used.entries()]
      .filter(([name]) => !supported.has(name) && !(name in realAccountOnly))
      .map(([name, files]) => `${name} (sent in ${[...new Set(files)].join(', ')})`);

    // Assess
    expect(used.size).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });
});
