/** `afu9-deploy`: the command a person runs. Each sub-command lives in `cli/commands/<name>.ts`. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfigNotice } from './args';
import { regionFrom } from './aws-context';
import { describeAwsFailure, reportAwsFailure } from './aws-failure';
import type { CliCommand, CliIo } from './command';
import { ExitCode, paintFor } from './command';
import { diffGateCommand } from './commands/diff-gate';
import { historyCommand } from './commands/history';
import { initCommand } from './commands/init';
import { rollbackCommand } from './commands/rollback';
import { simulateCommand } from './commands/simulate';
import { startCommand } from './commands/start';
import { statusCommand } from './commands/status';
import { verifySecretsCommand } from './commands/verify-secrets';
import { didYouMean } from './did-you-mean';

const commands: readonly CliCommand[] = [
  initCommand,
  diffGateCommand,
  simulateCommand,
  verifySecretsCommand,
  startCommand,
  statusCommand,
  historyCommand,
  rollbackCommand,
];

/** The version of the package, as npm knows it. */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 8);
  return [
    'Usage: afu9-deploy <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `afu9-deploy <command> --help` for the options of one command; `afu9-deploy --version` for the version.',
    'Exit codes: 0 success, 1 the deployment failed or was refused, 2 usage error,',
    '3 AWS unreachable or credentials missing, expired or denied (docs/cli.md).',
  ].join('\n');
}

const isHelp = (arg: string) => arg === '--help' || arg === '-h';

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || isHelp(name) || name === 'help') {
    (name ? io.stdout : io.stderr)(overview() + '\n');
    return name ? ExitCode.ok : ExitCode.usage;
  }
  if (name === '--version' || name === '-V') {
    io.stdout(`afu9-deploy ${packageVersion()}\n`);
    return ExitCode.ok;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    const names = commands.map((c) => c.name);
    const what = name.startsWith('-') ? 'option' : 'command';
    io.stderr(
      `${paintFor(io, 'stderr').red('afu9-deploy:')} unknown ${what} '${name}'.${didYouMean(name, names)}\n\n${overview()}\n`,
    );
    return ExitCode.usage;
  }
  if (rest.some(isHelp)) {
    io.stdout(command.usage + '\n');
    return ExitCode.ok;
  }
  if (rest.includes('--version')) {
    io.stdout(`afu9-deploy ${packageVersion()}\n`);
    return ExitCode.ok;
  }
  const notice = command.readsConfiguration?.(rest) ? defaultConfigNotice(rest) : undefined;
  if (notice) io.stderr(notice + '\n');
  try {
    return await command.run(rest, io);
  } catch (error) {
    // Commands explain the AWS failures they meet; this catches one that escaped them.
    const explanation = describeAwsFailure(error, { region: regionFrom(undefined, io.env) });
    if (explanation === undefined) throw error;
    return reportAwsFailure(io, name, explanation, rest.includes('--json'));
  }
}

/** Runs the CLI in this process: results to stdout, progress to stderr, the exit code set. */
export function runFromProcess(): void {
  const io: CliIo = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    stdin: process.stdin,
    tty: { stdout: process.stdout.isTTY === true, stderr: process.stderr.isTTY === true },
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      io.stderr(`afu9-deploy: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = ExitCode.failed;
    },
  );
}
