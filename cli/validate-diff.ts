/**
 * `npm run validate:diff -- <StackName> [cdk args...]`: runs `cdk diff <StackName> [cdk args...]`
 * and gates its output exactly like `afu9-deploy diff-gate` (same rules, exit codes, SKIP_DIFF_GATE).
 *
 * The arguments go to the CDK CLI as an argument vector, never through a shell. CDK prints the diff
 * on stderr, so both streams are captured (and shown as they come). `cdk diff` exits 0, or 1 when
 * asked to fail on differences (`--fail`); both are a finished diff and the gate reads it (a run
 * that exits 1 because it failed has no complete diff, and the gate says ERROR). Any other exit, or
 * a CLI that cannot start, is ERROR.
 */
import { spawn } from 'node:child_process';
import { USAGE_ERROR_EXIT, type CliIo } from './command';
import { gateDiffText, VerdictExit } from './commands/diff-gate';

const usage = `Usage: npm run validate:diff -- <StackName> [cdk args...]

Runs \`npx cdk diff <StackName> [cdk args...]\` and judges the output with the diff gate.
Example: npm run validate:diff -- Afu9EcsStack -c imageTag=stage-3f9c2ab
--json (kept by the gate, not passed to cdk) prints one JSON document, as \`afu9-deploy diff-gate --json\`.
Exit codes: 0 PASS or WARN, 1 BLOCKED, 2 ERROR or usage error. SKIP_DIFF_GATE=true lets BLOCKED pass.`;

/** CloudFormation's rule for stack names. */
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

export interface ProcessOutcome {
  /** Exit code, or undefined when the process could not start or was killed by a signal. */
  readonly code: number | undefined;
  /** stdout and stderr together, in the order they arrived. */
  readonly output: string;
  readonly failure?: string;
}

export type ProcessRunner = (command: string, args: readonly string[]) => Promise<ProcessOutcome>;

/** Runs a command without a shell, echoing both streams to `echo` while capturing them. */
export function runProcess(echo: (text: string) => void): ProcessRunner {
  return (command, args) =>
    new Promise((resolve) => {
      const chunks: string[] = [];
      const child = spawn(command, [...args], { shell: false, stdio: ['ignore', 'pipe', 'pipe'] });
      const collect = (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        chunks.push(text);
        echo(text);
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      child.on('error', (error) =>
        resolve({ code: undefined, output: chunks.join(''), failure: error.message }),
      );
      child.on('close', (code, signal) =>
        resolve({
          code: code ?? undefined,
          output: chunks.join(''),
          ...(signal ? { failure: `killed by ${signal}` } : {}),
        }),
      );
    });
}

export async function validateDiff(argv: readonly string[], io: CliIo, run: ProcessRunner): Promise<number> {
  const [stackName, ...cdkArgs] = argv;
  if (!stackName || stackName === '--help' || stackName === '-h') {
    (stackName ? io.stdout : io.stderr)(usage + '\n');
    return stackName ? 0 : USAGE_ERROR_EXIT;
  }
  if (!STACK_NAME.test(stackName)) {
    io.stderr(
      `validate:diff: '${stackName}' is not a stack name (letters, digits and hyphens, starting with a letter, ` +
        `at most 128 characters).\n\n${usage}\n`,
    );
    return USAGE_ERROR_EXIT;
  }
  const json = cdkArgs.includes('--json');
  io.stderr(`Running: npx cdk diff ${[stackName, ...cdkArgs].join(' ')}\n`);
  const outcome = await run('npx', ['cdk', 'diff', stackName, ...cdkArgs.filter((a) => a !== '--json')]);
  if (outcome.code === 0 || outcome.code === 1) return gateDiffText(outcome.output, { json }, io);

  const why = outcome.failure ?? `it exited with code ${outcome.code}`;
  const message =
    `ERROR: cdk diff did not finish (${why}), so there is no diff to judge. Fix what its output above says ` +
    '(synthesis, credentials, arguments) and run validate:diff again.';
  if (json) {
    io.stdout(
      JSON.stringify(
        { verdict: 'ERROR', stacks: [], blocking: [], warnings: [], safe: [], message },
        null,
        2,
      ) + '\n',
    );
  } else {
    io.stdout(`Diff gate: ERROR\n\n${message}\n`);
  }
  return VerdictExit.ERROR;
}

if (require.main === module) {
  const io: CliIo = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    stdin: process.stdin,
  };
  validateDiff(process.argv.slice(2), io, runProcess(io.stderr)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      io.stderr(`validate:diff: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = VerdictExit.ERROR;
    },
  );
}
