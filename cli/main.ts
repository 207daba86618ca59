/** `afu9-deploy`: the command a person runs. Each sub-command lives in `cli/commands/<name>.ts`. */
import type { CliCommand, CliIo } from './command';
import { USAGE_ERROR_EXIT } from './command';
import { diffGateCommand } from './commands/diff-gate';
import { historyCommand } from './commands/history';
import { rollbackCommand } from './commands/rollback';
import { simulateCommand } from './commands/simulate';
import { startCommand } from './commands/start';
import { statusCommand } from './commands/status';
import { verifySecretsCommand } from './commands/verify-secrets';

const commands: readonly CliCommand[] = [
  diffGateCommand,
  simulateCommand,
  verifySecretsCommand,
  startCommand,
  statusCommand,
  historyCommand,
  rollbackCommand,
];

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 8);
  return [
    'Usage: afu9-deploy <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `afu9-deploy <command> --help` for the options of one command.',
  ].join('\n');
}

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    (name ? io.stdout : io.stderr)(overview() + '\n');
    return name ? 0 : USAGE_ERROR_EXIT;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.stderr(`afu9-deploy: unknown command '${name}'.\n\n${overview()}\n`);
    return USAGE_ERROR_EXIT;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(command.usage + '\n');
    return 0;
  }
  return command.run(rest, io);
}

/** Runs the CLI in this process: results to stdout, progress to stderr, the exit code set. */
export function runFromProcess(): void {
  const io: CliIo = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    stdin: process.stdin,
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      io.stderr(`afu9-deploy: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
