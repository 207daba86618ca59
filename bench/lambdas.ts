/**
 * Per Lambda: the size of its minified bundle, built with the options the orchestrator stack gives
 * NodejsFunction (infra/handler-functions.ts), and the time a fresh Node process takes to load that
 * bundle and serve one request (bench/lambda-harness.ts). The requests are the events the real
 * workflow passed each handler in a sandbox run, served by the simulated account; no network.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { handlerBundling } from '../infra/handler-bundling';
import { repositoryConfigPath } from '../infra/deploy-config-file';
import { currentAssembly } from '../sandbox/assembly/current-assembly';
import { HandlerName, handlerEntry } from '../infra/handler-functions';
import type { SimulationRun } from '../sandbox/runner';
import type { HarnessJob, HarnessResult } from './lambda-harness';

export interface LambdaFigure {
  readonly name: string;
  readonly bundleBytes: number;
  readonly initMs: number;
}

/** Fresh processes per Lambda; the median is reported. */
export const INIT_RUNS = 3;

/**
 * What NodejsFunction passes esbuild for these functions (see its bundling: `--bundle`,
 * `--target=node24` from `Runtime.NODEJS_24_X`, `--platform=node`, `--format=cjs`, `--minify`,
 * `--sourcemap`, `--main-fields=module,main`, no `--external` since `bundleAwsSDK: true`), taking
 * the switches from the stack's own bundling options (infra/handler-bundling.ts).
 */
export const stackBundleOptions: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'cjs',
  minify: handlerBundling.minify,
  keepNames: handlerBundling.keepNames,
  sourcemap: handlerBundling.sourceMap,
  mainFields: handlerBundling.mainFields,
  external: [],
  logLevel: 'error',
};

const repositoryRoot = join(__dirname, '..');

/** The state whose Task invoked each handler in a run of the real workflow. */
const sampleStates: Readonly<
  Record<HandlerName, { readonly run: keyof SampleRuns; readonly state?: string }>
> = {
  'resolve-request': { run: 'happy', state: 'ResolveRequest' },
  'analyze-diff': { run: 'happy', state: 'AnalyzeDiff' },
  'verify-secrets': { run: 'happy', state: 'VerifySecrets' },
  'update-service': { run: 'happy', state: 'UpdateService' },
  'register-wait': { run: 'happy', state: 'WaitForDeploymentEvent' },
  'poll-stabilization': { run: 'happy', state: 'PollStabilization' },
  'smoke-test': { run: 'happy', state: 'SmokeTest' },
  rollback: { run: 'crash', state: 'Rollback' },
  notify: { run: 'happy', state: 'NotifySucceeded' },
  // Not a state: the harness takes the ECS event the simulated service emits.
  'deployment-event': { run: 'happy' },
  'request-approval': { run: 'approval', state: 'RequestApproval' },
  // The approved run expires nothing: the harness builds ExpireApproval's event from RequestApproval's.
  'expire-approval': { run: 'approval', state: 'RequestApproval' },
  // Not a state: the function URL request the sandbox approver sent.
  'decide-approval': { run: 'approval' },
  // Not in an image release: the harness takes the baseline of the environment's first stack.
  'watch-stack': { run: 'happy' },
};

export interface SampleRuns {
  /** A deployment that succeeds (the `happy` scenario). */
  readonly happy: SimulationRun;
  /** A deployment that is rolled back (the `circuit-breaker` scenario). */
  readonly crash: SimulationRun;
  /** A BLOCKED diff approved by a person (the `diff-blocked` scenario with an approver). */
  readonly approval: SimulationRun;
}

function factoryName(name: HandlerName): string {
  const pascal = name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
  return `create${pascal}Handler`;
}

function sampleEvent(name: HandlerName, runs: SampleRuns): unknown {
  const { run, state } = sampleStates[name];
  if (name === 'decide-approval') return runs.approval.approvalAttempts[0]?.request ?? null;
  if (!state) return null;
  const execution = runs[run].executions[0];
  const invocation = execution?.states.find((record) => record.name === state)?.invocations[0];
  if (!invocation) {
    throw new Error(
      `The sandbox run of the ${run} sample never invoked ${state}, ` +
        `so there is no sample event for ${name}. Check that the scenario still reaches that state.`,
    );
  }
  // waitForTaskToken states hand the function `{FunctionName, Payload}`; the handler gets Payload.
  const input = invocation.input as { Payload?: { executionId?: unknown; subject?: unknown } };
  if (name === 'expire-approval')
    return { executionId: input.Payload?.executionId, subject: input.Payload?.subject };
  return input.Payload !== undefined ? input.Payload : invocation.input;
}

function startInputOf(run: SimulationRun): HarnessJob['startInput'] {
  const input = run.executions[0]?.input as { environment?: unknown; imageTag?: unknown } | undefined;
  if (typeof input?.environment !== 'string' || typeof input.imageTag !== 'string') {
    throw new Error(
      'The happy run was not started with an environment and an image tag; it cannot seed ECR.',
    );
  }
  return { environment: input.environment, imageTag: input.imageTag };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function runHarness(harnessPath: string, jobPath: string, name: string): HarnessResult {
  const child = spawnSync(process.execPath, [harnessPath, jobPath], {
    cwd: repositoryRoot,
    encoding: 'utf8',
    // Close to a Lambda's: the region set, and no SDK warning about Node 20 (Lambda runs Node 24).
    env: {
      PATH: process.env.PATH ?? '',
      AWS_REGION: 'eu-central-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    timeout: 60_000,
  });
  const line = child.stdout.split('\n').find((text) => text.startsWith('BENCH_RESULT '));
  if (child.status !== 0 || !line) {
    throw new Error(
      `Timing the ${name} bundle failed (exit ${child.status ?? child.signal}): ${child.stderr.trim() || child.stdout.trim()}`,
    );
  }
  return JSON.parse(line.slice('BENCH_RESULT '.length)) as HarnessResult;
}

export async function benchmarkLambdas(
  runs: SampleRuns,
  onProgress: (text: string) => void = () => undefined,
): Promise<LambdaFigure[]> {
  const names = Object.values(HandlerName);
  const outdir = mkdtempSync(join(tmpdir(), 'afu9-bench-'));
  try {
    onProgress(`bundling ${names.length} Lambdas with the stack's esbuild options`);
    await build({
      ...stackBundleOptions,
      entryPoints: {
        ...Object.fromEntries(names.map((name) => [`${name}/index`, handlerEntry(name)])),
        'harness/index': join(__dirname, 'lambda-harness.ts'),
      },
      outdir,
    });
    const harnessPath = join(outdir, 'harness', 'index.js');
    const diffText = readFileSync(
      join(repositoryRoot, 'test', 'fixtures', 'cdk-diff', 'ecs-new-image.txt'),
      'utf8',
    );
    const startInput = startInputOf(runs.happy);
    const templatePath = await currentAssembly();

    const figures: LambdaFigure[] = [];
    for (const name of names) {
      const bundlePath = join(outdir, name, 'index.js');
      const job: HarnessJob = {
        name,
        bundlePath,
        factoryName: factoryName(name),
        event: sampleEvent(name, runs),
        startInput,
        diffText,
        templatePath,
        configPath: repositoryConfigPath,
      };
      const jobPath = join(outdir, `${name}.job.json`);
      writeFileSync(jobPath, JSON.stringify(job));
      const results = Array.from({ length: INIT_RUNS }, () => runHarness(harnessPath, jobPath, name));
      const failed = results.find((result) => !result.ok);
      if (failed) {
        throw new Error(`The ${name} bundle did not serve its sample request: ${failed.summary}`);
      }
      const initMs = Math.round(median(results.map((result) => result.initMs)) * 10) / 10;
      const bundleBytes = statSync(bundlePath).size;
      figures.push({ name, bundleBytes, initMs });
      onProgress(`${name}: ${bundleBytes} bytes, ${initMs} ms; answered ${results[0]!.summary}`);
    }
    return figures;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
