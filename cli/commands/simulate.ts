/**
 * `afu9-deploy simulate`: one deployment in the sandbox, through the real state machine definition
 * and the Lambda bundles of a synthesized stack, each call authorized against its function's role,
 * on a simulated AWS account with a virtual clock and a live local service. The timeline is progress (stderr); the outcome is the result (stdout).
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { TemplateResolutionError } from '../../sandbox/assembly/intrinsics';
import { currentAssembly } from '../../sandbox/assembly/current-assembly';
import { renderHtmlReport } from '../../sandbox/html-report';
import { runSimulation } from '../../sandbox/runner';
import { findScenario, scenarios, type Scenario } from '../../sandbox/scenarios';
import { scenarioForConfig } from '../../sandbox/scenarios/configured';
import { resolveConfigPath } from '../../infra/deploy-config-file';
import type { DeployConfig } from '../../lambdas/domain/deploy-config';
import { renderOutcome, TimelinePrinter } from '../../sandbox/report/timeline';
import { configFlag, configFlagUsage, parseFlags } from '../args';
import { USAGE_ERROR_EXIT, UsageError, type CliCommand, type CliIo } from '../command';
import { didYouMean } from '../did-you-mean';

const usage = `Usage: afu9-deploy simulate [--scenario <name>] [--input <file>|- ... [--pushed]] [--config <path>] [--template <file>] [--json] [--report <file.html>]
       afu9-deploy simulate --list [--config <path>] [--json]

Runs one deployment in the sandbox: the real state machine definition and the Lambda bundles the
stack ships, each SDK call authorized against its function's role policies from the synthesized
template, on a simulated AWS account (ECS, ECR, Secrets Manager, SNS, CodeBuild, EventBridge) on a
virtual clock, smoke-tested against a live local service. A rollout of minutes takes a second.
The account holds what the configuration names (services, task definitions, repositories, secrets
with a value for every configured key), and the stack is synthesized from that configuration.

Options:
  --scenario <name>  the world to run in and what happens there (default: happy); see --list
  --input <file>     start with this input instead of the scenario's own: an execution input
                     ({"environment": "staging", "imageTag": "stage-..."}) or a raw EventBridge
                     event (ECR push, ECS deployment state change) exactly as AWS delivers it;
                     '-' reads it from stdin. Given several times, the inputs are delivered in
                     that order, 3 virtual seconds apart, as CI pushes the images of a
                     release (docs/releases.md). It runs in the scenario's world: an image
                     an execution input names is in ECR only if that world has it (an ECR
                     push event's image is, since the event says it was pushed)
  --pushed           treat the images named in the input as pushed to ECR first
  --template <file>  rehearse under this synthesized template (Afu9DeployOrchestrator.template.json
                     as \`cdk synth -o <dir>\` writes it, its asset folders beside it); default:
                     the current stack's, from cdk.out, synthesized first (about 15 s) when
                     infra/, lambdas/, statemachine/, package-lock.json, cdk.json or the
                     configuration changed
${configFlagUsage}
  --json             print exactly one JSON document on stdout (docs/json-outputs.md), no timeline
  --report <file>    also write a self-contained HTML page: the state machine coloured by the
                     path taken, and the timeline of the run with what each state decided
  --list             name every scenario with one line about it

Exit codes: 0 the deployment succeeded (or there was nothing to deploy) and no call was denied,
1 it failed (blocked, refused, rolled back, timed out) or a function made a call its role does not
allow (AccessDenied), 2 usage error.`;

interface SimulateOptions {
  readonly scenario: Scenario;
  readonly configPath: string;
  readonly config: DeployConfig;
  readonly inputFile?: string;
  /** The inputs after the first, when --input is given several times. */
  readonly moreInputFiles: readonly string[];
  readonly templateFile?: string;
  readonly reportFile?: string;
  readonly json: boolean;
  readonly list: boolean;
  readonly pushed: boolean;
}

function single(values: string[] | undefined, flag: string): string | undefined {
  if (!values || values.length === 0) return undefined;
  if (values.length > 1) {
    throw new UsageError(`--${flag} was given ${values.length} times (${values.join(', ')}); give it once.`);
  }
  return values[0];
}

function parseOptions(argv: readonly string[]): SimulateOptions {
  const parsed = parseFlags(argv, {
    scenario: { type: 'string', multiple: true },
    input: { type: 'string', multiple: true },
    template: { type: 'string', multiple: true },
    report: { type: 'string', multiple: true },
    json: { type: 'boolean' },
    list: { type: 'boolean' },
    config: { type: 'string', multiple: true },
    pushed: { type: 'boolean' },
  });
  const configPath = resolveConfigPath(single(parsed.values.config, 'config'));
  const config = configFlag(configPath);
  const scenarioName = single(parsed.values.scenario, 'scenario');
  const [inputFile, ...moreInputFiles] = parsed.values.input ?? [];
  if ((parsed.values.input ?? []).filter((file) => file === '-').length > 1) {
    throw new UsageError("--input - reads stdin, which holds one input; give '-' at most once.");
  }
  const reportFile = single(parsed.values.report, 'report');
  const templateFile = single(parsed.values.template, 'template');
  const list = parsed.values.list === true;
  const pushed = parsed.values.pushed === true;
  if (
    list &&
    ([scenarioName, inputFile, reportFile, templateFile].some((value) => value !== undefined) || pushed)
  ) {
    throw new UsageError(
      '--list names the scenarios and runs none; leave out --scenario, --input, --pushed, --template and --report with it.',
    );
  }
  if (pushed && inputFile === undefined) {
    throw new UsageError(
      "--pushed marks the images an --input names as pushed to ECR; give it with --input (a scenario's own images are pushed as its world says).",
    );
  }
  for (const [flag, value] of [
    ['scenario', scenarioName],
    ...(parsed.values.input ?? []).map((file) => ['input', file] as const),
    ['template', templateFile],
    ['report', reportFile],
  ] as const) {
    if (value === '') throw new UsageError(`--${flag} needs a value.`);
  }
  if (templateFile !== undefined && !existsSync(templateFile)) {
    throw new UsageError(
      `There is no template at ${templateFile}. Give the *.template.json that \`cdk synth -o <dir>\` wrote, ` +
        'with its asset folders beside it.',
    );
  }
  if (reportFile !== undefined && !existsSync(dirname(resolve(reportFile)))) {
    throw new UsageError(
      `Cannot write the report to ${reportFile}: the directory ${dirname(resolve(reportFile))} does not exist.`,
    );
  }
  const scenario = findScenario(scenarioName ?? 'happy');
  if (!scenario) {
    const names = scenarios.map((s) => s.name);
    throw new UsageError(
      `There is no scenario named '${scenarioName}'.${didYouMean(scenarioName ?? '', names)} Known scenarios: ${names.join(', ')} ` +
        '(afu9-deploy simulate --list describes them).',
    );
  }
  try {
    scenarioForConfig(scenario, config.environments);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return {
    scenario,
    configPath,
    config,
    inputFile,
    moreInputFiles,
    templateFile,
    reportFile,
    json: parsed.values.json === true,
    list,
    pushed,
  };
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

async function readInput(file: string, io: CliIo): Promise<unknown> {
  let text: string;
  try {
    text = file === '-' ? await readStream(io.stdin) : await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'it does not exist' : code === 'EISDIR' ? 'it is a directory' : String(code);
    throw new UsageError(
      `Cannot read the input file ${file}: ${why}. Give the path of a JSON file (see events/).`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(
      `The input ${file === '-' ? 'on stdin' : `file ${file}`} is not valid JSON ` +
        `(${error instanceof Error ? error.message : String(error)}). ` +
        'Give an execution input or an EventBridge event as one JSON object (see events/).',
    );
  }
}

/** A scenario's summary in the configuration's names, or why it cannot run with it. */
function summaryFor(scenario: Scenario, config: DeployConfig): string {
  try {
    return scenarioForConfig(scenario, config.environments).summary;
  } catch (error) {
    return `${scenario.summary} (cannot run with this configuration: ${(error as Error).message})`;
  }
}

function listScenarios(io: CliIo, json: boolean, config: DeployConfig): number {
  const listed = scenarios.map((s) => ({ name: s.name, summary: summaryFor(s, config) }));
  if (json) {
    io.stdout(JSON.stringify(listed) + '\n');
    return 0;
  }
  const width = Math.max(...listed.map((s) => s.name.length));
  io.stdout(listed.map((s) => `${s.name.padEnd(width)}  ${s.summary}`).join('\n') + '\n');
  return 0;
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let options: SimulateOptions;
  let input: unknown;
  const moreInputs: { input: unknown; label: string }[] = [];
  try {
    options = parseOptions(argv);
    if (options.list) return listScenarios(io, options.json, options.config);
    if (options.inputFile !== undefined) input = await readInput(options.inputFile, io);
    for (const file of options.moreInputFiles)
      moreInputs.push({ input: await readInput(file, io), label: file });
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`afu9-deploy simulate: ${error.message}\n\n${usage}\n`);
      return USAGE_ERROR_EXIT;
    }
    throw error;
  }

  const printer = options.json ? undefined : new TimelinePrinter(io.stderr);
  const templatePath =
    options.templateFile ??
    (await currentAssembly((message) => io.stderr(`${message}\n`), options.configPath));
  if (printer) io.stderr(`Rehearsing under ${templatePath} (its Lambda bundles and role policies)\n`);
  const started = Date.now();
  let result;
  try {
    result = await runSimulation({
      scenario: options.scenario,
      templatePath,
      configPath: options.configPath,
      ...(options.inputFile !== undefined
        ? { input, inputLabel: options.inputFile, moreInputs, pushed: options.pushed }
        : {}),
      ...(printer ? { onProgress: (event) => printer.print(event) } : {}),
    });
  } catch (error) {
    if (error instanceof TemplateResolutionError) {
      io.stderr(`afu9-deploy simulate: the template ${templatePath} cannot be rehearsed: ${error.message}\n`);
      return USAGE_ERROR_EXIT;
    }
    throw error;
  }
  if (options.reportFile !== undefined) {
    await writeFile(options.reportFile, renderHtmlReport(result.document, result.definition));
    if (!options.json) io.stderr(`Report written to ${options.reportFile}\n`);
  }
  if (options.json) {
    io.stdout(JSON.stringify(result.document, null, 2) + '\n');
  } else {
    io.stdout(renderOutcome(result, (Date.now() - started) / 1000) + '\n');
  }
  // A call AWS would refuse fails the rehearsal even when the workflow recovered from it.
  return result.document.status === 'SUCCEEDED' && result.document.accessDenied.length === 0 ? 0 : 1;
}

export const simulateCommand: CliCommand = {
  name: 'simulate',
  summary: 'run one deployment in the local sandbox account (real workflow, real handlers, virtual clock)',
  usage,
  readsConfiguration: () => true,
  run,
};
