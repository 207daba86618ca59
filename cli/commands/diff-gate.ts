/**
 * `afu9-deploy diff-gate`: judges the text `cdk diff` printed (docs/diff-gate.md; its `--json` document in
 * docs/json-outputs.md). Also the gate that `npm run validate:diff` (cli/validate-diff.ts) runs on the
 * diff it produces.
 */
import { readFile } from 'node:fs/promises';
import {
  decide,
  describeFinding,
  judgeDiffText,
  type DiffJudgement,
  type GateDecision,
  type GatePolicy,
  type SkipRequest,
} from '../../lambdas/domain/cdk-diff';
import type { Finding } from '../../lambdas/domain/workflow-state';
import { configFlag, environmentFlag } from '../args';
import type { Paint } from '../colour';
import { paintFor, USAGE_ERROR_EXIT, UsageError, type CliCommand, type CliIo } from '../command';
import { didYouMean } from '../did-you-mean';

const usage = `Usage: afu9-deploy diff-gate --file <path>|- [--env <name> [--config <path>]] [--json]

Judges the text \`cdk diff\` printed (one or several stacks, with or without colours, any line
endings) by the diff gate rules (docs/diff-gate.md).

  --file <path>   the saved diff; \`-\` reads standard input, e.g.
                  npx cdk diff Afu9EcsStack 2>&1 | npx afu9-deploy diff-gate --file -
                  (CDK prints the diff on stderr: capture both streams)
  --env <name>    judge as the workflow judges for that environment of the configuration: its
                  approval policy (approval.warn: "stop") holds a WARN for a person's review
  --config <path> the deployment configuration --env reads (default: ./deploy.config.json, else
                  the repository's)
  --json          print exactly one JSON document on stdout:
                  {verdict, stacks, blocking, warnings, safe, message}

Exit codes: 0 PASS or WARN, 1 BLOCKED (or a WARN the --env policy holds for review), 2 ERROR (not
a complete cdk diff: empty, cut off, a synth or CLI failure) or a usage error.

SKIP_DIFF_GATE=true lets a BLOCKED diff pass (exit 0) with a loud warning listing every skipped
finding; SKIP_DIFF_GATE_REASON says why. It never applies to ERROR.`;

export const VerdictExit = { PASS: 0, WARN: 0, BLOCKED: 1, ERROR: 2 } as const;

interface DiffGateOptions {
  readonly file: string;
  readonly json: boolean;
  /** The approval policy of `--env`, as AnalyzeDiff applies it; none without `--env`. */
  readonly policy?: GatePolicy;
}

const VALUE_FLAGS = ['file', 'env', 'config'] as const;

function parseOptions(argv: readonly string[]): DiffGateOptions {
  const values: Partial<Record<(typeof VALUE_FLAGS)[number], string>> = {};
  let json = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') ? arg.slice(2).split(/=(.*)/s, 2) : [undefined, undefined];
    const valueFlag = VALUE_FLAGS.find((name) => name === flag);
    if (arg === '--json') json = true;
    else if (valueFlag) {
      const value = inline ?? argv[i + 1];
      if (value === undefined) {
        throw new UsageError(
          valueFlag === 'file'
            ? '--file needs a value: a path, or - for standard input.'
            : `--${valueFlag} needs a value.`,
        );
      }
      values[valueFlag] = value;
      if (inline === undefined) i += 1;
    } else {
      const name = arg.replace(/^--?/, '').split('=')[0]!;
      throw new UsageError(
        `Unknown argument '${arg}'.${didYouMean(name, [...VALUE_FLAGS, 'json'], (n) => `--${n}`)}`,
      );
    }
  }
  if (!values.file)
    throw new UsageError('--file is required: the path of the saved `cdk diff` output, or - for stdin.');
  if (values.config !== undefined && values.env === undefined) {
    throw new UsageError('--config names the file whose --env policy applies: give --env <name> too.');
  }
  if (values.env === undefined) return { file: values.file, json };
  const environment = environmentFlag(values.env, configFlag(values.config));
  return {
    file: values.file,
    json,
    policy: { environment: environment.name, approval: environment.approval, judgedFor: 'local-diff' },
  };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads `SKIP_DIFF_GATE` strictly: only `true` skips; any other value is named and ignored. */
function skipFromEnvironment(env: NodeJS.ProcessEnv, io: Pick<CliIo, 'stderr'>): SkipRequest | undefined {
  const value = env.SKIP_DIFF_GATE?.trim();
  if (!value || value.toLowerCase() === 'false') return undefined;
  if (value.toLowerCase() !== 'true') {
    io.stderr(`SKIP_DIFF_GATE='${value}' is ignored: only SKIP_DIFF_GATE=true skips the gate.\n`);
    return undefined;
  }
  return { source: 'SKIP_DIFF_GATE=true', reason: env.SKIP_DIFF_GATE_REASON, reasonRequired: false };
}

function findingRows(findings: readonly Finding[]): string[] {
  return findings.flatMap((f) => [`  ${describeFinding(f)}  [${f.rule}]`, `      ${f.reason}`]);
}

/** The person-readable report: findings grouped by severity, each with its reason. */
function formatReport(judgement: DiffJudgement, colours: Paint): string {
  const verdictColour = {
    PASS: colours.green,
    WARN: colours.yellow,
    BLOCKED: colours.red,
    ERROR: colours.red,
  }[judgement.verdict];
  const lines = [
    `Diff gate: ${verdictColour(judgement.verdict)}  (stacks: ${judgement.stacks.join(', ') || 'none'})`,
  ];
  const groups: [string, readonly Finding[]][] = [
    ['BLOCKING', judgement.blocking],
    ['WARNING', judgement.warnings],
    ['SAFE', judgement.safe],
  ];
  for (const [title, findings] of groups) {
    if (findings.length > 0) lines.push('', `${title} (${findings.length})`, ...findingRows(findings));
  }
  lines.push('', judgement.message);
  return lines.join('\n') + '\n';
}

function exitCodeOf(decision: GateDecision): number {
  if (decision.skipped) return 0;
  // A WARN the environment's approval policy holds for review stops the deployment, as BLOCKED does.
  if (decision.judgement.verdict === 'WARN' && !decision.proceed) return VerdictExit.BLOCKED;
  return VerdictExit[decision.judgement.verdict];
}

/** Judges one diff text and reports it; returns the exit code. Shared with `validate:diff`. */
export function gateDiffText(
  text: string,
  options: { readonly json: boolean; readonly policy?: GatePolicy },
  io: CliIo,
): number {
  const decision = decide(judgeDiffText(text), skipFromEnvironment(io.env, io), options.policy);
  const { judgement } = decision;
  if (decision.notice) io.stderr(`\n${decision.notice}\n\n`);
  if (options.json) {
    const message = decision.notice ? `${judgement.message}\n${decision.notice}` : judgement.message;
    const document = {
      verdict: judgement.verdict,
      stacks: judgement.stacks,
      blocking: judgement.blocking,
      warnings: judgement.warnings,
      safe: judgement.safe,
      message,
    };
    io.stdout(JSON.stringify(document, null, 2) + '\n');
  } else {
    io.stdout(formatReport(judgement, paintFor(io, 'stdout')));
  }
  return exitCodeOf(decision);
}

export const diffGateCommand: CliCommand = {
  name: 'diff-gate',
  summary: 'judge a saved `cdk diff` output: PASS, WARN, BLOCKED or ERROR',
  usage,
  // Only --env reads a configuration: its approval policy.
  readsConfiguration: (argv) => argv.some((arg) => arg === '--env' || arg.startsWith('--env=')),
  async run(argv, io) {
    let options: DiffGateOptions;
    try {
      options = parseOptions(argv);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      io.stderr(`afu9-deploy diff-gate: ${error.message}\n\n${usage}\n`);
      return USAGE_ERROR_EXIT;
    }
    let text: string;
    try {
      text = options.file === '-' ? await readAll(io.stdin) : await readFile(options.file, 'utf8');
    } catch (error) {
      // fs errors are not always `instanceof Error` across realms (jest, vm): read the message field.
      const message = (error as { message?: unknown } | null)?.message;
      const reason = typeof message === 'string' ? message : String(error);
      io.stderr(
        `afu9-deploy diff-gate: cannot read ${options.file === '-' ? 'standard input' : options.file}: ${reason}. ` +
          'Check the path (save the diff with `npx cdk diff <Stack> > diff.txt 2>&1`).\n',
      );
      return USAGE_ERROR_EXIT;
    }
    return gateDiffText(text, options, io);
  },
};
