import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { HandlerName } from '../../infra/handler-functions';
import { rolloutTargets } from '../../bench/rollout';
import { repositoryDeployConfig } from '../../infra/deploy-config-file';

const repositoryRoot = join(__dirname, '..', '..');

interface Output {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the bench the documented way, `npm run -s bench -- <args>`: `-s` keeps npm's `> script` banner
 * off stdout, which is then the bench's alone.
 */
function runBench(args: readonly string[]): Promise<Output> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '-s', 'bench', '--', ...args], {
      cwd: repositoryRoot,
      env: process.env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function expectMeasured(value: unknown): void {
  expect(typeof value).toBe('number');
  expect(Number.isFinite(value)).toBe(true);
  expect(value as number).toBeGreaterThan(0);
}

interface ReleaseSide {
  secondsLastPushToAllImagesRunning: number | null;
  failureNotifications: number;
  imagesNeverDeployed: number;
  executions: number;
  deployments: number;
}

interface BenchDocument {
  rollout: {
    detectionDelaySeconds: { orchestrator: number; poll15s: number };
    secondsToRollbackStart: { orchestrator: number; circuitBreaker: number };
    stateTransitions10MinRollout: { orchestrator: number; poll15s: number };
  };
  release: {
    images: number;
    orchestrator: ReleaseSide;
    onePerPush: ReleaseSide;
    onePerPushCiRetries: ReleaseSide;
  };
  lambdas: { name: string; bundleBytes: number; initMs: number }[];
  diffGate: { bytes: number; ms: number };
}

describe('npm run -s bench -- --json', () => {
  let output: Output;
  let document: BenchDocument;

  beforeAll(async () => {
    // Act (once: the whole bench takes a while)
    output = await runBench(['--json']);
    document = JSON.parse(output.stdout) as BenchDocument;
  }, 240_000);

  it('prints exactly one JSON document on stdout and its progress on stderr', () => {
    // Assess
    expect(output.code).toBe(0);
    expect(output.stdout.trim().split('\n')).toHaveLength(1);
    expect(Object.keys(document).sort()).toEqual(['diffGate', 'lambdas', 'release', 'rollout']);
    expect(output.stderr).toContain('rollout:');
  });

  it('measures every rollout figure against its baseline', () => {
    // Assess
    const { rollout } = document;
    expect(Object.keys(rollout).sort()).toEqual([
      'detectionDelaySeconds',
      'secondsToRollbackStart',
      'stateTransitions10MinRollout',
    ]);
    expect(Object.keys(rollout.detectionDelaySeconds).sort()).toEqual(['orchestrator', 'poll15s']);
    expect(Object.keys(rollout.secondsToRollbackStart).sort()).toEqual(['circuitBreaker', 'orchestrator']);
    expect(Object.keys(rollout.stateTransitions10MinRollout).sort()).toEqual(['orchestrator', 'poll15s']);
    for (const pair of Object.values(rollout)) {
      for (const value of Object.values(pair)) expectMeasured(value);
    }
  });

  it('measures one release of every configured container on every side, each side with the same fields', () => {
    // Arrange
    const containers = repositoryDeployConfig().environments.staging!.containers.length;

    // Assess
    const { release } = document;
    expect(Object.keys(release).sort()).toEqual([
      'images',
      'onePerPush',
      'onePerPushCiRetries',
      'orchestrator',
    ]);
    expect(release.images).toBe(containers);
    for (const side of [release.orchestrator, release.onePerPush, release.onePerPushCiRetries]) {
      expect(Object.keys(side).sort()).toEqual([
        'deployments',
        'executions',
        'failureNotifications',
        'imagesNeverDeployed',
        'secondsLastPushToAllImagesRunning',
      ]);
    }
    // Every push starts an execution; only CI's retries start more.
    expect(release.orchestrator.executions).toBe(containers);
    expect(release.onePerPush.executions).toBe(containers);
  });

  it('deploys a release as one deployment of every image, with no failure notification', () => {
    // Assess
    const { orchestrator } = document.release;
    expect(orchestrator.failureNotifications).toBe(0);
    expect(orchestrator.imagesNeverDeployed).toBe(0);
    expect(orchestrator.deployments).toBe(1);
    expectMeasured(orchestrator.secondsLastPushToAllImagesRunning);
  });

  it('shows one execution per push losing every image but the first, with a failure notification for each', () => {
    // Assess
    const { images, onePerPush } = document.release;
    // The first push takes the service; every other one is refused while it holds it.
    expect(onePerPush.deployments).toBe(1);
    expect(onePerPush.failureNotifications).toBe(images - 1);
    expect(onePerPush.imagesNeverDeployed).toBe(images - onePerPush.deployments);
    expect(onePerPush.secondsLastPushToAllImagesRunning).toBeNull();
  });

  it('shows CI retrying refused pushes deploying every image one at a time, later and with more failure notifications', () => {
    // Assess
    const { images, orchestrator, onePerPushCiRetries: retries } = document.release;
    expect(retries.imagesNeverDeployed).toBe(0);
    expect(retries.deployments).toBe(images);
    // Every retry wave lets one push through and refuses the others again: (n-1) + (n-2) + ... + 1.
    expect(retries.failureNotifications).toBe((images * (images - 1)) / 2);
    expect(retries.executions).toBe(images + retries.failureNotifications);
    expect(retries.secondsLastPushToAllImagesRunning).toBeGreaterThan(
      (images - 1) * orchestrator.secondsLastPushToAllImagesRunning!,
    );
  });

  it('sizes and times a bundle for each of the ten Lambdas', () => {
    // Assess
    expect(document.lambdas.map((lambda) => lambda.name).sort()).toEqual(Object.values(HandlerName).sort());
    for (const lambda of document.lambdas) {
      expect(Object.keys(lambda).sort()).toEqual(['bundleBytes', 'initMs', 'name']);
      expect(Number.isInteger(lambda.bundleBytes)).toBe(true);
      expectMeasured(lambda.bundleBytes);
      expectMeasured(lambda.initMs);
    }
  });

  it('times the diff gate on a diff of several megabytes', () => {
    // Assess
    expect(Object.keys(document.diffGate).sort()).toEqual(['bytes', 'ms']);
    expect(document.diffGate.bytes).toBeGreaterThan(1024 * 1024);
    expectMeasured(document.diffGate.ms);
  });

  // Virtual seconds on a deterministic clock: these are the orchestrator's specification.
  it('notices steady state within 5 seconds, sooner than a 15-second poll', () => {
    // Assess
    const { orchestrator, poll15s } = document.rollout.detectionDelaySeconds;
    expect(orchestrator).toBeLessThanOrEqual(rolloutTargets.maxDetectionDelaySeconds);
    expect(orchestrator).toBeLessThan(poll15s);
  });

  it("starts the rollback of a crash-on-boot revision at least 3 times sooner than ECS's circuit breaker", () => {
    // Assess
    const { orchestrator, circuitBreaker } = document.rollout.secondsToRollbackStart;
    expect(circuitBreaker / orchestrator).toBeGreaterThanOrEqual(rolloutTargets.minRollbackSpeedup);
  });

  it('runs a ten-minute rollout in at most 40 state transitions, fewer than a 15-second poll loop', () => {
    // Assess
    const { orchestrator, poll15s } = document.rollout.stateTransitions10MinRollout;
    expect(orchestrator).toBeLessThanOrEqual(rolloutTargets.maxStateTransitions10MinRollout);
    expect(orchestrator).toBeLessThan(poll15s);
  });
});

describe('npm run bench', () => {
  it('refuses an option it does not know, naming the ones it takes', async () => {
    // Act
    const output = await runBench(['--jsn']);

    // Assess
    expect(output.code).toBe(2);
    expect(output.stdout).toBe('');
    expect(output.stderr).toContain('--json');
  });
});
