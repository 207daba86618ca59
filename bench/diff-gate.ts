/**
 * How long the diff gate takes to judge a large diff: thousands of resources over many stacks,
 * several MB, assembled from the resource blocks of the real `cdk diff` fixtures (each block repeated
 * with a fresh logical id). `bench/run.ts` imports `benchmarkDiffGate`; `npx tsx bench/diff-gate.ts`
 * prints one line on its own.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { judgeDiffText, stripAnsi } from '../lambdas/domain/cdk-diff';

const fixtureDir = join(__dirname, '..', 'test', 'fixtures', 'cdk-diff');
/** Fixtures whose resource blocks cover every kind of line: JSON hunks, property trees, paths with spaces. */
const sourceFixtures = [
  'ecs-new-image',
  'network-load-balancer-replace',
  'network-security-group-rules',
  'iam-changes',
  'data-stores-destroy',
  'database-may-replace',
];

/** The resource blocks (a resource line and every line under it) of one real fixture. */
function resourceBlocks(fixture: string): string[][] {
  const lines = stripAnsi(readFileSync(join(fixtureDir, `${fixture}.txt`), 'utf8')).split(/\r?\n/);
  const blocks: string[][] = [];
  let block: string[] | undefined;
  for (const line of lines) {
    if (/^\[[+~-]\] \S+::/.test(line)) {
      block = [line];
      blocks.push(block);
    } else if (block && line.startsWith(' ')) block.push(line);
    else block = undefined;
  }
  return blocks;
}

/** A real-shaped multi-stack `cdk diff` text of at least `targetBytes`. */
export function buildLargeDiff(
  targetBytes = 5 * 1024 * 1024,
  resourcesPerStack = 250,
): {
  text: string;
  resources: number;
  stacks: number;
} {
  const blocks = sourceFixtures.flatMap(resourceBlocks);
  if (blocks.length === 0)
    throw new Error(`No resource blocks found in ${fixtureDir}: run npm run fixtures:diff.`);
  const parts: string[] = [];
  let bytes = 0;
  let resources = 0;
  let stacks = 0;
  while (bytes < targetBytes) {
    stacks += 1;
    const header = `Stack Afu9LoadStack${stacks}\nResources\n`;
    parts.push(header);
    bytes += header.length;
    for (let i = 0; i < resourcesPerStack; i += 1) {
      const [resourceLine, ...details] = blocks[resources % blocks.length];
      // Suffix the logical id (the word before an optional impact) so every resource is distinct.
      const renamed = resourceLine.replace(
        /^(\[.\] \S+ .*?)(\S+?)( (?:may be replaced|replace|destroy|orphan))?$/,
        `$1$2${resources}$3`,
      );
      const block = [renamed, ...details].join('\n') + '\n';
      parts.push(block);
      bytes += block.length;
      resources += 1;
    }
    parts.push('\n');
  }
  parts.push(`\n✨  Number of stacks with differences: ${stacks}\n`);
  return { text: parts.join(''), resources, stacks };
}

export function benchmarkDiffGate(): { bytes: number; ms: number } {
  const { text } = buildLargeDiff();
  judgeDiffText(text); // warm-up: regex compilation and JIT, not part of the figure
  const started = performance.now();
  const judgement = judgeDiffText(text);
  const ms = performance.now() - started;
  if (judgement.verdict === 'ERROR')
    throw new Error(`The benchmark diff did not parse: ${judgement.message}`);
  return { bytes: Buffer.byteLength(text, 'utf8'), ms: Math.round(ms * 10) / 10 };
}

if (require.main === module) {
  const { resources, stacks } = buildLargeDiff();
  const { bytes, ms } = benchmarkDiffGate();
  process.stdout.write(
    `diff gate: judged ${(bytes / 1024 / 1024).toFixed(1)} MB (${resources} resources in ${stacks} stacks) in ${ms} ms\n`,
  );
}
