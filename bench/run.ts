/**
 * `npm run bench`: the rollout figures and the release figures (sandbox, virtual seconds), the Lambda bundles (size, load +
 * first request) and the diff gate on a large diff, as a table; `npm run bench -- --json` prints
 * exactly one JSON document (docs/json-outputs.md) on stdout and its progress on stderr.
 */
import { benchmarkDiffGate } from './diff-gate';
import { benchmarkLambdas, INIT_RUNS, type LambdaFigure } from './lambdas';
import { benchmarkRelease, type ReleaseFigures, type ReleaseSide } from './release';
import { benchmarkRollout, rolloutTargets, type RolloutContext, type RolloutFigures } from './rollout';

export interface BenchDocument {
  readonly rollout: RolloutFigures;
  readonly release: ReleaseFigures;
  readonly lambdas: readonly LambdaFigure[];
  readonly diffGate: { readonly bytes: number; readonly ms: number };
}

interface Row {
  readonly figure: string;
  readonly orchestrator: string;
  readonly baseline: string;
  readonly ratio: string;
  readonly target: string;
}

/** How many times the baseline's figure the orchestrator's is smaller (sooner, fewer). */
function ratio(orchestrator: number, baseline: number): string {
  if (orchestrator === 0) return baseline === 0 ? '1.0x' : 'no delay';
  return `${(baseline / orchestrator).toFixed(1)}x`;
}

const met = (ok: boolean, target: string): string => `${target}: ${ok ? 'met' : 'NOT MET'}`;

function rolloutRows(figures: RolloutFigures, context: RolloutContext): Row[] {
  const { detectionDelaySeconds: detect, secondsToRollbackStart: rollback } = figures;
  const transitions = figures.stateTransitions10MinRollout;
  return [
    {
      figure: `steady state -> noticed (s), ${context.happyRolloutSeconds} s rollout`,
      orchestrator: `${detect.orchestrator}`,
      baseline: `${detect.poll15s} (15-s poll)`,
      ratio: ratio(detect.orchestrator, detect.poll15s),
      target: met(
        detect.orchestrator <= rolloutTargets.maxDetectionDelaySeconds,
        `<= ${rolloutTargets.maxDetectionDelaySeconds} s`,
      ),
    },
    {
      figure: `first failed task -> rollback starts (s), crash on boot, desired 1`,
      orchestrator: `${rollback.orchestrator} (${context.orchestratorRollbackAction})`,
      baseline: `${rollback.circuitBreaker} (circuit breaker, ${context.circuitBreakerFailedTasks} failed tasks)`,
      ratio: ratio(rollback.orchestrator, rollback.circuitBreaker),
      target: met(
        rollback.circuitBreaker >= rolloutTargets.minRollbackSpeedup * rollback.orchestrator,
        `>= ${rolloutTargets.minRollbackSpeedup}x sooner`,
      ),
    },
    {
      figure: `state transitions, ${context.tenMinuteRolloutSeconds} s rollout (whole run vs poll loop)`,
      orchestrator: `${transitions.orchestrator}`,
      baseline: `${transitions.poll15s} (15-s poll loop)`,
      ratio: ratio(transitions.orchestrator, transitions.poll15s),
      target: met(
        transitions.orchestrator <= rolloutTargets.maxStateTransitions10MinRollout,
        `<= ${rolloutTargets.maxStateTransitions10MinRollout}`,
      ),
    },
  ];
}

function untilAllRunning(side: ReleaseSide, images: number): string {
  const seconds = side.secondsLastPushToAllImagesRunning;
  return seconds === null
    ? `never (${side.imagesNeverDeployed} of ${images} images never deploy)`
    : `${seconds}`;
}

function releaseRows(figures: ReleaseFigures): string[][] {
  const { images } = figures;
  const sides = [figures.orchestrator, figures.onePerPush, figures.onePerPushCiRetries];
  return [
    [`last push -> service runs all ${images} images (s)`, ...sides.map((s) => untilAllRunning(s, images))],
    ['failure notifications per release', ...sides.map((s) => `${s.failureNotifications}`)],
    ['images never deployed', ...sides.map((s) => `${s.imagesNeverDeployed}`)],
    ['executions / ECS deployments', ...sides.map((s) => `${s.executions} / ${s.deployments}`)],
  ];
}

function table(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  rightAligned: ReadonlySet<number>,
): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) =>
        rightAligned.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!),
      )
      .join(' | ')
      .trimEnd();
  return [line(headers), widths.map((width) => '-'.repeat(width)).join('-|-'), ...rows.map(line)].join('\n');
}

function humanReport(document: BenchDocument, context: RolloutContext): string {
  const rollout = table(
    ['figure (virtual seconds, sandbox)', 'orchestrator', 'baseline', 'baseline/orchestrator', 'target'],
    rolloutRows(document.rollout, context).map((row) => [
      row.figure,
      row.orchestrator,
      row.baseline,
      row.ratio,
      row.target,
    ]),
    new Set(),
  );
  const release = table(
    [
      `release of ${document.release.images} images, one tag (virtual seconds, sandbox)`,
      'orchestrator',
      'one execution per push',
      'one per push, CI retries',
    ],
    releaseRows(document.release),
    new Set(),
  );
  const lambdas = table(
    ['Lambda', 'bundle bytes', `load + first request, ms (median of ${INIT_RUNS})`],
    document.lambdas.map((lambda) => [
      lambda.name,
      lambda.bundleBytes.toLocaleString('en-US'),
      lambda.initMs.toFixed(1),
    ]),
    new Set([1, 2]),
  );
  const { bytes, ms } = document.diffGate;
  const diffGate = `diff gate: judged a ${(bytes / 1024 / 1024).toFixed(1)} MB cdk diff in ${ms} ms`;
  return `${rollout}\n\n${release}\n\n${lambdas}\n\n${diffGate}\n`;
}

const USAGE = 'Usage: npm run bench [-- --json]   (--json: one JSON document on stdout, progress on stderr)';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.filter((arg) => arg !== '--json');
  if (unknown.length > 0) {
    process.stderr.write(`Unknown option ${unknown.join(' ')}. ${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const json = args.includes('--json');
  const progress = (text: string): void => {
    process.stderr.write(`${text}\n`);
  };
  const rollout = await benchmarkRollout(progress);
  const release = await benchmarkRelease(progress);
  const lambdas = await benchmarkLambdas(rollout.runs, progress);
  progress('diff gate: judging a large cdk diff');
  const diffGate = benchmarkDiffGate();
  const document: BenchDocument = { rollout: rollout.figures, release, lambdas, diffGate };
  process.stdout.write(json ? `${JSON.stringify(document)}\n` : humanReport(document, rollout.context));
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
