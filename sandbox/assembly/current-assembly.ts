/**
 * The current stack's cloud assembly: `cdk.out/` when it was synthesized from the sources as they
 * are now, otherwise a fresh `cdk synth` into it. What counts as "the sources" is hashed (every file
 * under infra/, lambdas/ and statemachine/, package-lock.json and cdk.json), and the hash is written
 * into cdk.out after a synth, so an unchanged tree reuses the bundles without running CDK again.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ORCHESTRATOR_STACK_NAME } from '../../lambdas/aws/step-functions';

const repositoryRoot = join(__dirname, '..', '..');

export const assemblyDir = join(repositoryRoot, 'cdk.out');

/** The current stack's template in `cdk.out`. */
export const currentTemplatePath = join(assemblyDir, `${ORCHESTRATOR_STACK_NAME}.template.json`);

const INPUTS_HASH_FILE = join(assemblyDir, 'afu9-sandbox-inputs.sha256');

const hashedTrees = ['infra', 'lambdas', 'statemachine'];
const hashedFiles = ['package-lock.json', 'cdk.json'];

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      return entry.isDirectory() ? filesUnder(path) : [path];
    })
    .sort();
}

/** A hash of everything `cdk synth` reads from this repository. */
export function sourceInputsHash(): string {
  const hash = createHash('sha256');
  const files = [
    ...hashedTrees.flatMap((tree) => filesUnder(join(repositoryRoot, tree))),
    ...hashedFiles.map((file) => join(repositoryRoot, file)),
  ];
  for (const file of files) {
    hash.update(relative(repositoryRoot, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

/**
 * True when cdk.out holds a template synthesized from the sources as they are now: the recorded hash
 * matches, and no synth outside the sandbox (`npx cdk synth`) rewrote the template since it was recorded.
 */
export function assemblyIsCurrent(hash: string = sourceInputsHash()): boolean {
  return (
    existsSync(currentTemplatePath) &&
    existsSync(INPUTS_HASH_FILE) &&
    statSync(INPUTS_HASH_FILE).mtimeMs >= statSync(currentTemplatePath).mtimeMs &&
    readFileSync(INPUTS_HASH_FILE, 'utf8').trim() === hash
  );
}

function runSynth(): Promise<void> {
  return new Promise((resolve, reject) => {
    const cdk = join(repositoryRoot, 'node_modules', '.bin', 'cdk');
    const child = spawn(cdk, ['synth', '--quiet', '--output', assemblyDir], {
      cwd: repositoryRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) =>
      reject(
        new Error(`cdk synth could not start (${error.message}). Run \`npm ci\` first.`, { cause: error }),
      ),
    );
    child.on('close', (code) => {
      if (code === 0) resolve();
      else {
        reject(
          new Error(
            `cdk synth failed (exit ${code}), so there is no current stack to rehearse. Fix the stack, or pass ` +
              `--template with a synthesized template. Its output:\n${output.slice(-4000)}`,
          ),
        );
      }
    });
  });
}

let synthesized: Promise<string> | undefined;

/**
 * The current stack's template path, synthesizing into cdk.out first when the sources changed since
 * it was written (`onSynth` is told before: it takes about 15 s). Once per process.
 */
export function currentAssembly(onSynth: (message: string) => void = () => undefined): Promise<string> {
  synthesized ??= (async () => {
    const hash = sourceInputsHash();
    if (assemblyIsCurrent(hash)) return currentTemplatePath;
    onSynth(
      'Synthesizing the orchestrator stack into cdk.out (about 15 s; reused while infra/, lambdas/, ' +
        'statemachine/, package-lock.json and cdk.json are unchanged)...',
    );
    await runSynth();
    writeFileSync(INPUTS_HASH_FILE, `${hash}\n`);
    return currentTemplatePath;
  })();
  synthesized.catch(() => (synthesized = undefined));
  return synthesized;
}
