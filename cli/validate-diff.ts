/**
 * `npm run validate:diff -- [--app <dir | command>] [--env <name>] <StackName> [cdk args...]`: runs
 * `cdk diff <StackName> [cdk args...]` on your infrastructure app and gates its output exactly like
 * `afu9-deploy diff-gate` (same rules, exit codes, SKIP_DIFF_GATE, `--env`'s approval policy).
 *
 * `--app` names the app: a directory (your infrastructure repository, with its cdk.json) is where
 * cdk runs; anything else is the command that runs the app, passed on as `cdk --app`. Without it,
 * cdk runs here, with this repository's cdk.json.
 *
 * The arguments go to the CDK CLI as an argument vector, never through a shell. CDK prints the diff
 * on stderr, so both streams are captured (and shown as they come). `cdk diff` exits 0, or 1 when
 * asked to fail on differences (`--fail`); both are a finished diff and the gate reads it. A run that
 * exits 1 without a complete diff, any other exit, or a CLI that cannot start is ERROR, and the
 * first line of the cause cdk printed is named (`No stacks match the name(s) Afu9EcsStack`).
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { judgeDiffText, type GatePolicy } from '../lambdas/domain/cdk-diff';
import { configFlag, environmentFlag } from './args';
import { UsageError, USAGE_ERROR_EXIT, type CliIo } from './command';
import { gateDiffText, VerdictExit } from './commands/diff-gate';

const usage = `Usage: npm run validate:diff -- [--app <dir | command>] [--env <name> [--config <path>]] [--json] <StackName> [cdk args...]

Runs \`npx cdk diff <StackName> [cdk args...]\` and judges the output with the diff gate.
  --app <dir>       your infrastructure repository (the directory with its cdk.json): cdk runs there
  --app <command>   the command that runs your CDK app, passed on as \`cdk --app\`,
                    e.g. --app "npx tsx bin/infra.ts"
                    (without --app, cdk runs here with this repository's cdk.json)
  --env <name>      (kept by the gate, not passed to cdk) judge as the workflow judges for that
                    environment: its approval policy (approval.warn: "stop") holds a WARN (exit 1)
  --config <path>   the deployment configuration --env reads (default: ./deploy.config.json, else
                    the repository's)
  --json            (kept by the gate, not passed to cdk) print one JSON document, as
                    \`afu9-deploy diff-gate --json\`
Example: npm run validate:diff -- --app ../my-infra Afu9EcsStack -c imageTag=stage-3f9c2ab
Exit codes: 0 PASS or WARN, 1 BLOCKED (or a WARN the --env policy holds), 2 ERROR or usage error.
SKIP_DIFF_GATE=true lets BLOCKED (and a held WARN) pass.`;

/** CloudFormation's rule for stack names. */
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

export interface ProcessOutcome {
  /** Exit code, or undefined when the process could not start or was killed by a signal. */
  readonly code: number | undefined;
  /** stdout and stderr together, in the order they arrived. */
  readonly output: string;
  readonly failure?: string;
}

export type ProcessRunner = (
  command: string,
  args: readonly string[],
  options?: { readonly cwd?: string },
) => Promise<ProcessOutcome>;

/** Runs a command without a shell, echoing both streams to `echo` while capturing them. */
export function runProcess(echo: (text: string) => void): ProcessRunner {
  return (command, args, options = {}) =>
    new Promise((resolvePromise) => {
      const chunks: string[] = [];
      const child = spawn(command, [...args], {
        shell: false,
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(options.cwd !== undefined && { cwd: options.cwd }),
      });
      const collect = (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        chunks.push(text);
        echo(text);
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      child.on('error', (error) =>
        resolvePromise({ code: undefined, output: chunks.join(''), failure: error.message }),
      );
      child.on('close', (code, signal) =>
        resolvePromise({
          code: code ?? undefined,
          output: chunks.join(''),
          ...(signal ? { failure: `killed by ${signal}` } : {}),
        }),
      );
    });
}

/** Where and how cdk runs: in the app's directory, or here with `--app <command>`. */
interface CdkInvocation {
  readonly cwd?: string;
  readonly appArgs: readonly string[];
  readonly label: string;
}

interface ValidateOptions {
  readonly stackName: string;
  readonly cdkArgs: readonly string[];
  readonly invocation: CdkInvocation;
  readonly json: boolean;
  /** The approval policy of `--env`, as AnalyzeDiff applies it; none without `--env`. */
  readonly policy?: GatePolicy;
}

function invocationFor(app: string | undefined): CdkInvocation {
  if (app === undefined) return { appArgs: [], label: '' };
  if (app.trim() === '')
    throw new UsageError('--app needs a value: a directory with cdk.json, or a command.');
  if (existsSync(app) && statSync(app).isDirectory()) {
    const cwd = resolve(app);
    if (!existsSync(join(cwd, 'cdk.json'))) {
      throw new UsageError(
        `${app} is a directory without a cdk.json, so cdk would not know how to run the app there. ` +
          'Give --app the directory of your CDK app (where `npx cdk diff` works), or the command that runs ' +
          `the app, e.g. --app "npx tsx ${join(app, 'main.ts')}".`,
      );
    }
    return { cwd, appArgs: [], label: ` (in ${cwd})` };
  }
  return { appArgs: ['--app', app], label: '' };
}

/** The gate's own flags that take a value; everything else goes to cdk. */
const GATE_VALUE_FLAGS = ['env', 'config'] as const;

/** `--env`'s approval policy, read from `--config` (or the default file), as `diff-gate --env` does. */
function policyFor(
  values: Partial<Record<(typeof GATE_VALUE_FLAGS)[number], string>>,
): GatePolicy | undefined {
  if (values.config !== undefined && values.env === undefined) {
    throw new UsageError('--config names the file whose --env policy applies: give --env <name> too.');
  }
  if (values.env === undefined) return undefined;
  const environment = environmentFlag(values.env, configFlag(values.config));
  return { environment: environment.name, approval: environment.approval, judgedFor: 'local-diff' };
}

function parseOptions(argv: readonly string[]): ValidateOptions {
  let app: string | undefined;
  let json = false;
  const gate: Partial<Record<(typeof GATE_VALUE_FLAGS)[number], string>> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') ? arg.slice(2).split(/=(.*)/s, 2) : [undefined, undefined];
    const gateFlag = GATE_VALUE_FLAGS.find((name) => name === flag);
    if (arg === '--json') json = true;
    else if (gateFlag) {
      const value = inline ?? argv[i + 1];
      if (value === undefined || value === '') throw new UsageError(`--${gateFlag} needs a value.`);
      gate[gateFlag] = value;
      if (inline === undefined) i += 1;
    } else if (arg === '--app' || arg === '-a') {
      app = argv[i + 1];
      if (app === undefined)
        throw new UsageError('--app needs a value: a directory with cdk.json, or a command.');
      i += 1;
    } else if (arg.startsWith('--app=')) app = arg.slice('--app='.length);
    else rest.push(arg);
  }
  const [stackName, ...cdkArgs] = rest;
  if (!stackName) throw new UsageError('Name the stack to diff, e.g. Afu9EcsStack.');
  if (!STACK_NAME.test(stackName)) {
    throw new UsageError(
      `'${stackName}' is not a stack name (letters, digits and hyphens, starting with a letter, ` +
        'at most 128 characters).',
    );
  }
  const policy = policyFor(gate);
  return { stackName, cdkArgs, invocation: invocationFor(app), json, ...(policy && { policy }) };
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** Lines that are never the cause: CDK's warnings and notices, stack frames, source excerpts. */
const NOISE = [
  /^WARNING\b/,
  /^\[Warning at /,
  /^ {2,}\S/, // the indented construct path / "Acknowledge with" lines, and stack frames
  /^\S+:\d+(:\d+)?$/, // file:line[:column] of a stack trace
  /^\s*\^+\s*$/,
  /^Node\.js v\d/,
  /feature flags are not configured/,
  /^NOTICES\b/,
  /^Subprocess exited with error/,
  /^\(node:\d+\) /, // Node's own warnings
  /^\(Use `node --trace-/,
];

/**
 * The first line of what made `cdk diff` fail, from its output: an `Error: ...` line when there is
 * one (a synth failure prints a stack trace around it), otherwise the first line that is not a
 * warning, a notice or part of a stack trace.
 */
export function cdkFailureCause(output: string): string | undefined {
  const lines = output
    .replace(ANSI, '')
    .split(/\r?\n/)
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== '' && !NOISE.some((pattern) => pattern.test(line)));
  const error = lines.find((line) => /^\s*(\w*Error|❌)\b/.test(line));
  return (error ?? lines[0])?.trim();
}

function reportFailure(
  outcome: { code?: number; failure?: string; output: string },
  json: boolean,
  io: CliIo,
) {
  const why = outcome.failure ?? `it exited with code ${outcome.code}`;
  // A complete diff from a run that then died (a signal, an odd exit code) has no cause line to show.
  const holdsDiff = judgeDiffText(outcome.output).verdict !== 'ERROR';
  const cause = outcome.failure === undefined && !holdsDiff ? cdkFailureCause(outcome.output) : undefined;
  const message =
    `ERROR: cdk diff failed${cause ? `: ${cause}` : ` (${why})`}. There is no complete diff to judge. ` +
    'Fix what cdk says (stack name, synthesis, credentials, arguments; its full output is above) and ' +
    'run validate:diff again.';
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

export async function validateDiff(argv: readonly string[], io: CliIo, run: ProcessRunner): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(usage + '\n');
    return 0;
  }
  let options: ValidateOptions;
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`validate:diff: ${error.message}\n\n${usage}\n`);
    return USAGE_ERROR_EXIT;
  }
  const { stackName, cdkArgs, invocation, json, policy } = options;
  const args = ['cdk', 'diff', ...invocation.appArgs, stackName, ...cdkArgs];
  const shown = args.map((arg) => (/\s/.test(arg) ? JSON.stringify(arg) : arg)).join(' ');
  io.stderr(`Running: npx ${shown}${invocation.label}\n`);
  const outcome = await run('npx', args, invocation.cwd !== undefined ? { cwd: invocation.cwd } : {});
  const finished =
    outcome.code === 0 || (outcome.code === 1 && judgeDiffText(outcome.output).verdict !== 'ERROR');
  if (finished) return gateDiffText(outcome.output, { json, ...(policy && { policy }) }, io);
  return reportFailure(outcome, json, io);
}

if (require.main === module) {
  const io: CliIo = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    stdin: process.stdin,
    tty: { stdout: process.stdout.isTTY === true, stderr: process.stderr.isTTY === true },
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
