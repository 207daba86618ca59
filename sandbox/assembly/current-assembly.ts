/**
 * The current stack's cloud assembly for a configuration file: `cdk.out/` (the repository's
 * `deploy.config.json`) or `cdk.out/configs/<id>/` (any other file) when it was synthesized from the
 * sources and that configuration as they are now, otherwise a fresh `cdk synth -c config=<path>`
 * into it. What counts as the inputs is hashed (every file under infra/, lambdas/ and
 * statemachine/, package-lock.json, cdk.json and the configuration file), and the hash is written
 * into the assembly after a synth, so an unchanged tree reuses the bundles without running CDK again.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { repositoryConfigPath } from '../../infra/deploy-config-file';
import { ORCHESTRATOR_STACK_NAME } from '../../lambdas/aws/step-functions';

const repositoryRoot = join(__dirname, '..', '..');

/** The assembly of the repository's configuration. */
export const assemblyDir = join(repositoryRoot, 'cdk.out');

const hashedTrees = ['infra', 'lambdas', 'statemachine'];
const hashedFiles = ['package-lock.json', 'cdk.json'];

/** Where the assembly of a configuration file lives. */
export function assemblyDirFor(configPath: string = repositoryConfigPath): string {
  const path = resolve(configPath);
  if (path === resolve(repositoryConfigPath)) return assemblyDir;
  return join(assemblyDir, 'configs', createHash('sha256').update(path).digest('hex').slice(0, 16));
}

/** The stack's template in the assembly of a configuration file. */
export function templatePathFor(configPath?: string): string {
  return join(assemblyDirFor(configPath), `${ORCHESTRATOR_STACK_NAME}.template.json`);
}

/** The current stack's template in `cdk.out` (the repository's configuration). */
export const currentTemplatePath = templatePathFor();

function inputsHashFile(configPath?: string): string {
  return join(assemblyDirFor(configPath), 'afu9-sandbox-inputs.sha256');
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      return entry.isDirectory() ? filesUnder(path) : [path];
    })
    .sort();
}

/** A hash of everything `cdk synth` reads: this repository's sources and the configuration file. */
export function sourceInputsHash(configPath: string = repositoryConfigPath): string {
  const hash = createHash('sha256');
  const files = [
    ...hashedTrees.flatMap((tree) => filesUnder(join(repositoryRoot, tree))),
    ...hashedFiles.map((file) => join(repositoryRoot, file)),
  ];
  for (const file of files) {
    hash.update(relative(repositoryRoot, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  hash.update('config').update('\0').update(readFileSync(configPath));
  return hash.digest('hex');
}

/**
 * True when the assembly holds a template synthesized from the inputs as they are now: the recorded
 * hash matches, and no synth outside the sandbox (`npx cdk synth`) rewrote the template since.
 */
export function assemblyIsCurrent(
  hash: string = sourceInputsHash(),
  configPath: string = repositoryConfigPath,
): boolean {
  const template = templatePathFor(configPath);
  const hashFile = inputsHashFile(configPath);
  return (
    existsSync(template) &&
    existsSync(hashFile) &&
    statSync(hashFile).mtimeMs >= statSync(template).mtimeMs &&
    readFileSync(hashFile, 'utf8').trim() === hash
  );
}

function runSynth(configPath: string, outputDir: string): Promise<void> {
  return new Promise((done, reject) => {
    const cdk = join(repositoryRoot, 'node_modules', '.bin', 'cdk');
    const child = spawn(cdk, ['synth', '--quiet', '--output', outputDir, '-c', `config=${configPath}`], {
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
      if (code === 0) done();
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

/** Synths in flight or done in this process, by configuration file. */
const synthesized = new Map<string, Promise<string>>();

/**
 * The stack's template path for a configuration file (default: the repository's), synthesizing
 * first when the sources or the file changed since it was written (`onSynth` is told before: it
 * takes about 15 s). Once per file per process.
 */
export function currentAssembly(
  onSynth: (message: string) => void = () => undefined,
  configPath: string = repositoryConfigPath,
): Promise<string> {
  const path = resolve(configPath);
  const known = synthesized.get(path);
  if (known) return known;
  const synth = (async () => {
    const hash = sourceInputsHash(path);
    const template = templatePathFor(path);
    if (assemblyIsCurrent(hash, path)) return template;
    onSynth(
      'Synthesizing the orchestrator stack into cdk.out (about 15 s; reused while infra/, lambdas/, ' +
        'statemachine/, package-lock.json, cdk.json and the configuration file are unchanged)...',
    );
    const outputDir = assemblyDirFor(path);
    mkdirSync(outputDir, { recursive: true });
    await runSynth(path, outputDir);
    writeFileSync(inputsHashFile(path), `${hash}\n`);
    return template;
  })();
  synthesized.set(path, synth);
  synth.catch(() => synthesized.delete(path));
  return synth;
}
