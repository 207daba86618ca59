/**
 * Every scenario of the sandbox runs the real definition with the real handlers and ends where it
 * must: its outcome, the states it went through, the revision the service ends on, the messages sent.
 */
import type {
  DiffGateResult,
  RollbackResult,
  SmokeResult,
  UpdateResult,
} from '../../../lambdas/domain/workflow-state';
import type { SimulatedExecution } from '../../../sandbox/run/execution';
import { runSimulation, type SimulationRun } from '../../../sandbox/runner';
import { findScenario, scenarios } from '../../../sandbox/scenarios';

/** The Task and terminal states an execution went through, in order (Choice and Pass only route). */
function visited(execution: SimulatedExecution): string[] {
  return execution.states
    .filter((state) => state.type !== 'Choice' && state.type !== 'Pass')
    .map((s) => s.name);
}

function taskOutput<T>(execution: SimulatedExecution, stateName: string): T {
  const state = execution.states.find((s) => s.name === stateName);
  if (!state) throw new Error(`${execution.name} never entered ${stateName}`);
  return state.invocations.at(-1)!.output as T;
}

const rolloutToSmoke = ['UpdateService', 'WaitForDeploymentEvent', 'PollStabilization'];
const rollbackPath = ['Rollback', 'WaitForRollbackEvent', 'PollRollback', 'NotifyRolledBack', 'RolledBack'];

/** Per scenario: states that must appear in this order (others may come between), and the SNS subject. */
const pathOf: Readonly<Record<string, { states: readonly string[]; subject: RegExp }>> = {
  happy: {
    states: [...rolloutToSmoke, 'SmokeTest', 'NotifySucceeded', 'Deployed'],
    subject: /Deployed stage-9d1e0f4/,
  },
  'diff-blocked': {
    states: ['RunCdkDiff', 'AnalyzeDiff', 'NotifyBlocked', 'DeploymentFailed'],
    subject: /BLOCKED by the diff gate/,
  },
  'diff-error': {
    states: ['RunCdkDiff', 'AnalyzeDiff', 'NotifyBlocked', 'DeploymentFailed'],
    subject: /BLOCKED by the diff gate/,
  },
  'secret-missing': {
    states: ['VerifySecrets', 'NotifyFailed', 'DeploymentFailed'],
    subject: /FAILED before any change/,
  },
  'image-missing': {
    states: ['VerifySecrets', 'NotifyFailed', 'DeploymentFailed'],
    subject: /FAILED before any change/,
  },
  'circuit-breaker': { states: [...rolloutToSmoke, ...rollbackPath], subject: /ROLLED BACK stage-9d1e0f4/ },
  'health-check-fail': { states: [...rolloutToSmoke, ...rollbackPath], subject: /ROLLED BACK stage-9d1e0f4/ },
  'smoke-fail': {
    states: [...rolloutToSmoke, 'SmokeTest', ...rollbackPath],
    subject: /ROLLED BACK stage-9d1e0f4/,
  },
  'ecs-rolled-back': { states: [...rolloutToSmoke, ...rollbackPath], subject: /ROLLED BACK stage-9d1e0f4/ },
  'rollback-fails': {
    states: [...rolloutToSmoke, 'Rollback', 'NotifyRollbackFailed', 'RollbackFailed'],
    subject: /ROLLBACK FAILED/,
  },
  timeout: { states: [...rolloutToSmoke, ...rollbackPath], subject: /ROLLED BACK stage-9d1e0f4/ },
  'duplicate-push': {
    states: [...rolloutToSmoke, 'SmokeTest', 'NotifySucceeded', 'Deployed'],
    subject: /Deployed/,
  },
  concurrent: {
    states: [...rolloutToSmoke, 'SmokeTest', 'NotifySucceeded', 'Deployed'],
    subject: /Deployed/,
  },
  'wake-up-fails': {
    states: [...rolloutToSmoke, 'SmokeTest', 'NotifySucceeded', 'Deployed'],
    subject: /Deployed stage-9d1e0f4/,
  },
  'lost-event': {
    states: [...rolloutToSmoke, 'SmokeTest', 'NotifySucceeded', 'Deployed'],
    subject: /Deployed/,
  },
  rollback: {
    // A rollback a person asked for succeeds once it is done.
    states: ['ResolveRequest', ...rollbackPath.slice(0, -1), 'RolledBackAsRequested'],
    subject: /ROLLED BACK to the last good revision/,
  },
  'rollback-no-target': {
    states: ['ResolveRequest', 'Rollback', 'NotifyRollbackFailed', 'RollbackFailed'],
    subject: /ROLLBACK FAILED/,
  },
  'sidecar-deploy': {
    states: [...rolloutToSmoke, 'SmokeTest', 'NotifySucceeded', 'Deployed'],
    subject: /Deployed/,
  },
  'infra-release': {
    states: [
      'SynthAndDiffStack',
      'AnalyzeStackDiff',
      'DeployStack',
      'WatchStack',
      'SynthAndDiffStack',
      'DeployStack',
      'WatchStack',
      'SynthAndDiffStack',
      'DeployStack',
      'WatchStack',
      'PollStackDeployment',
      'SmokeTestStack',
      'NotifySucceeded',
      'Deployed',
    ],
    subject: /Infrastructure DEPLOYED: 3 stack/,
  },
  'infra-stack-fails': {
    states: [
      'DeployStack',
      'WatchStack',
      'DeployStack',
      'WatchStack',
      'NotifyStackFailed',
      'InfrastructureFailed',
    ],
    subject: /Infrastructure FAILED at Afu9DatabaseStack/,
  },
  'infra-approval': {
    states: [
      'DeployStack',
      'DeployStack',
      'AnalyzeStackDiff',
      'RequestStackApproval',
      'BaselineStack',
      'DeployStack',
      'WatchStack',
      'PollStackDeployment',
      'SmokeTestStack',
      'NotifySucceeded',
      'Deployed',
    ],
    subject: /Infrastructure DEPLOYED: 3 stack/,
  },
  'infra-denied': {
    states: [
      'DeployStack',
      'DeployStack',
      'AnalyzeStackDiff',
      'RequestStackApproval',
      'NotifyStackNotApproved',
      'InfrastructureNotApproved',
    ],
    subject: /Infrastructure NOT APPROVED at Afu9EcsStack: approval denied/,
  },
  release: {
    states: [
      'ResolveRequest',
      'WaitToResolveAgain',
      ...rolloutToSmoke,
      'SmokeTest',
      'NotifySucceeded',
      'Deployed',
    ],
    subject: /Deployed stage-5e6f7a8/,
  },
  'sidecar-release': {
    states: [
      'ResolveRequest',
      'WaitToResolveAgain',
      ...rolloutToSmoke,
      'SmokeTest',
      'NotifySucceeded',
      'Deployed',
    ],
    subject: /Deployed stage-5e6f7a8/,
  },
  'late-push': {
    states: [...rolloutToSmoke, 'SmokeTest', 'NotifySucceeded', 'Deployed'],
    subject: /Deployed stage-5e6f7a8/,
  },
  'prod-guard': {
    states: ['ResolveRequest', 'NotifyRejected', 'DeploymentFailed'],
    subject: /REJECTED request/,
  },
};

function inOrder(actual: readonly string[], expected: readonly string[]): boolean {
  let at = 0;
  for (const name of actual) if (name === expected[at]) at += 1;
  return at === expected.length;
}

const runs = new Map<string, SimulationRun>();

async function runOf(name: string): Promise<SimulationRun> {
  const cached = runs.get(name);
  if (cached) return cached;
  const run = await runSimulation({ scenario: findScenario(name)! });
  runs.set(name, run);
  return run;
}

describe('sandbox scenarios', () => {
  it('every scenario has a path to check, and the contract names exist', () => {
    // Prepare / Act
    const names = scenarios.map((s) => s.name);

    // Assess
    expect(names.sort()).toEqual(Object.keys(pathOf).sort());
    for (const required of [
      'happy',
      'diff-blocked',
      'secret-missing',
      'circuit-breaker',
      'smoke-fail',
      'duplicate-push',
      'concurrent',
      'release',
      'sidecar-release',
      'late-push',
    ]) {
      expect(names).toContain(required);
    }
  });

  describe.each(scenarios.map((s) => [s.name, s] as const))('%s', (name, scenario) => {
    it('reaches its expected outcome through the expected states', async () => {
      // Act
      const run = await runOf(name);
      const doc = run.document;
      const main = run.executions[0]!;

      // Assess
      expect({ status: doc.status, outcome: doc.outcome }).toEqual({
        status: scenario.expected.status,
        outcome: scenario.expected.outcome,
      });
      expect(doc.rolledBack).toBe(scenario.expected.outcome === 'rolled-back');
      const states = visited(main);
      expect(inOrder(states, pathOf[name]!.states)).toBe(true);
      expect(doc.states.map((s) => s.name)).toEqual(main.states.map((s) => s.name));
    });

    it('leaves the service on the revision it should', async () => {
      // Act
      const { document: doc } = await runOf(name);

      // Assess
      // Each environment's own task family (deploy.config.json).
      expect(doc.taskDefinitionBefore).toMatch(/:task-definition\/afu9-control-center(-staging)?:\d+$/);
      const revision = (arn: string | null) => Number(arn?.slice(arn.lastIndexOf(':') + 1));
      if (scenario.expected.serviceEndsOn === 'previous-revision') {
        expect(doc.taskDefinitionAfter).toBe(doc.taskDefinitionBefore);
      } else if (scenario.expected.serviceEndsOn === 'earlier-release') {
        expect(revision(doc.taskDefinitionAfter)).toBeLessThan(revision(doc.taskDefinitionBefore));
      } else {
        expect(doc.taskDefinitionAfter).not.toBe(doc.taskDefinitionBefore);
        expect(doc.taskDefinitionAfter).toMatch(/:task-definition\/afu9-control-center(-staging)?:\d+$/);
      }
    });

    it("sends the deployment's one notification", async () => {
      // Act
      const run = await runOf(name);
      const main = run.executions[0]!;
      const notified = main.states.filter((s) => s.name.startsWith('Notify'));

      // Assess
      expect(notified).toHaveLength(1);
      const subject = run.document.notifications.find((n) => pathOf[name]!.subject.test(n.subject));
      expect(subject).toBeDefined();
      expect(subject!.message.length).toBeGreaterThan(0);
    });

    it('records states in virtual time, in order', async () => {
      // Act
      const { document: doc } = await runOf(name);

      // Assess
      const times = doc.states.flatMap((s) => [Date.parse(s.enteredAt), Date.parse(s.leftAt)]);
      expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true);
      expect(doc.virtualSeconds).toBeGreaterThanOrEqual((times.at(-1)! - times[0]!) / 1000);
    });
  });

  it('happy: the smoke test passes against the live local service on the new version', async () => {
    // Act
    const run = await runOf('happy');
    const smoke = taskOutput<{ passed: boolean; baseUrl: string }>(run.executions[0]!, 'SmokeTest');

    // Assess
    expect(smoke.passed).toBe(true);
    expect(smoke.baseUrl.startsWith(run.liveServiceUrl)).toBe(true);
    expect(run.document.virtualSeconds).toBeGreaterThan(300);
  });

  it("sidecar-deploy: the sidecar's image alone is verified without the version check, and not rolled back", async () => {
    // Act
    const run = await runOf('sidecar-deploy');
    const smoke = taskOutput<SmokeResult>(run.executions[0]!, 'SmokeTest');

    // Assess
    expect(smoke.passed).toBe(true);
    expect(smoke.checks.map((check) => [check.name, check.status])).toEqual([
      ['health', 'PASS'],
      ['readiness', 'PASS'],
      ['root-page', 'PASS'],
      ['service-identity', 'PASS'],
      ['version', 'SKIP'],
      ['container-health', 'PASS'],
    ]);
    expect(smoke.checks.find((check) => check.name === 'version')?.reason).toBe(
      "mcp-github was deployed; /api/health reports control-center's version",
    );
    expect(run.document.rolledBack).toBe(false);
  });

  it('a sidecar-only deployment that fails is rolled back to the whole previous revision: every container as before', async () => {
    // Prepare: the sidecar's new image crashes on boot; ECS leaves the rollback to the orchestrator.
    const sidecarDeploy = findScenario('sidecar-deploy')!;
    const scenario = {
      ...sidecarDeploy,
      world: {
        ...sidecarDeploy.world,
        newRevision: { kind: 'crash-on-boot', exitCode: 1 } as const,
        ecsRollback: false,
      },
      expected: { status: 'FAILED', outcome: 'rolled-back', serviceEndsOn: 'previous-revision' } as const,
    };

    // Act
    const run = await runSimulation({ scenario });
    const main = run.executions[0]!;
    const update = taskOutput<UpdateResult>(main, 'UpdateService');
    const rollback = taskOutput<RollbackResult>(main, 'Rollback');

    // Assess
    expect({ status: run.document.status, outcome: run.document.outcome }).toEqual({
      status: 'FAILED',
      outcome: 'rolled-back',
    });
    // A task definition revision is immutable: returning to the one that ran before returns the
    // primary and every sidecar to the images they had, not only the sidecar that was deployed.
    expect(rollback).toMatchObject({
      action: 'started',
      targetTaskDefinitionArn: update.previousTaskDefinitionArn,
    });
    expect(run.document.taskDefinitionAfter).toBe(run.document.taskDefinitionBefore);
    expect(run.servingTaskDefinition).toBe(run.document.taskDefinitionBefore);
  });

  it('diff-error: a diff job that printed a synth failure is judged ERROR, never PASS', async () => {
    // Act
    const gate = taskOutput<DiffGateResult>((await runOf('diff-error')).executions[0]!, 'AnalyzeDiff');

    // Assess
    expect(gate.verdict).toBe('ERROR');
    expect(gate.proceed).toBe(false);
  });

  it('ecs-rolled-back: the orchestrator finds ECS already rolled back and still reports a failure', async () => {
    // Act
    const own = taskOutput<RollbackResult>((await runOf('ecs-rolled-back')).executions[0]!, 'Rollback');
    const ours = taskOutput<RollbackResult>((await runOf('health-check-fail')).executions[0]!, 'Rollback');

    // Assess
    expect(own.action).toBe('already-rolled-back');
    expect(ours.action).toBe('started');
  });

  it('lost-event: without the COMPLETED event the safety-net poll carries the rollout to its end', async () => {
    // Act
    const main = (await runOf('lost-event')).executions[0]!;
    const waits = main.states.filter((s) => s.name === 'WaitForDeploymentEvent');

    // Assess
    expect(waits.length).toBeGreaterThanOrEqual(2);
    expect(waits.every((wait) => wait.status === 'CAUGHT')).toBe(true);
  });

  it('duplicate-push: two deliveries of one push start two executions and deploy once', async () => {
    // Act
    const run = await runOf('duplicate-push');
    const updates = run.executions.flatMap((e) => e.states.filter((s) => s.name === 'UpdateService'));

    // Assess
    expect(run.executions).toHaveLength(2);
    expect(run.document.executions.map((e) => e.outcome).sort()).toEqual(['deployed', 'ignored']);
    expect(updates).toHaveLength(1);
    expect(run.document.notifications).toHaveLength(1);
  });

  it('concurrent: the second request is refused with a message naming the running deployment', async () => {
    // Act
    const run = await runOf('concurrent');
    const [first, second] = run.executions;
    const refusal = second!.states.find((s) => s.error !== undefined);

    // Assess
    expect(run.document.executions.map((e) => e.outcome)).toEqual(['deployed', 'failed-before-change']);
    expect(refusal?.error?.Error).toBe('DeploymentInProgress');
    expect(refusal?.error?.Cause).toContain(first!.name);
    expect(second!.states.some((s) => s.name === 'UpdateService')).toBe(false);
    const notice = run.document.notifications.find((n) => n.subject.includes('stage-77aa01c'));
    expect(notice?.message).toContain(first!.name);
  });

  it('release: four pushes of one tag are one deployment of four digests, the other three end quietly', async () => {
    // Act
    const run = await runOf('release');
    const updates = run.executions.flatMap((e) => e.states.filter((s) => s.name === 'UpdateService'));
    const deployed = taskOutput<{ images: { container: string; digest: string }[] }>(
      run.executions[0]!,
      'VerifySecrets',
    );

    // Assess
    expect(run.document.executions.map((e) => [e.trigger, e.outcome])).toEqual([
      ['ecr-push', 'deployed'],
      ['ecr-push', 'ignored'],
      ['ecr-push', 'ignored'],
      ['ecr-push', 'ignored'],
    ]);
    expect(updates).toHaveLength(1);
    expect(deployed.images.map((image) => image.container)).toEqual([
      'control-center',
      'mcp-github',
      'mcp-deploy',
      'mcp-observability',
    ]);
    for (const image of deployed.images) {
      expect(run.document.imagesAfter[image.container]).toMatch(new RegExp(`@${image.digest}$`));
    }
    expect(run.document.notifications).toHaveLength(1);
    // The last push came 9 s after the first: the release sealed then, long before its settle window ended.
    const seal = run.executions[0]!.states.filter((s) => s.name === 'ResolveRequest').at(-1)!;
    expect(seal.leftAtMs - run.startedAt.getTime()).toBeLessThan(30_000);
  });

  it('sidecar-release: one sidecar push settles its window, then deploys that image alone and verifies it', async () => {
    // Act
    const run = await runOf('sidecar-release');
    const main = run.executions[0]!;
    const smoke = taskOutput<SmokeResult>(main, 'SmokeTest');
    const firstResolve = main.states.find((s) => s.name === 'ResolveRequest')!;
    const lastResolve = main.states.filter((s) => s.name === 'ResolveRequest').at(-1)!;

    // Assess
    expect(lastResolve.leftAtMs - firstResolve.enteredAtMs).toBeGreaterThanOrEqual(120_000);
    expect(taskOutput<UpdateResult>(main, 'UpdateService')).toBeDefined();
    expect(main.states.some((s) => s.name === 'Rollback')).toBe(false);
    expect(smoke.passed).toBe(true);
    expect(smoke.checks.find((check) => check.name === 'version')?.status).toBe('SKIP');
    expect(run.document.notifications).toHaveLength(1);
  });

  it('late-push: a rebuilt image of the tag after the update started is deployed by a follow-up that waited', async () => {
    // Act
    const run = await runOf('late-push');
    const followUp = run.executions.at(-1)!;
    const resolutions = followUp.states
      .filter((s) => s.name === 'ResolveRequest')
      .map((s) => (s.invocations.at(-1)?.output as { status: string }).status);
    const updates = run.executions.flatMap((e) => e.states.filter((s) => s.name === 'UpdateService'));

    // Assess
    expect(run.document.executions.map((e) => e.outcome)).toEqual([
      'deployed',
      'ignored',
      'ignored',
      'ignored',
      'deployed',
    ]);
    expect(resolutions[0]).toBe('waiting');
    expect(resolutions.at(-1)).toBe('accepted');
    expect(updates).toHaveLength(2);
    const first = taskOutput<{ images: { container: string; digest: string }[] }>(
      run.executions[0]!,
      'VerifySecrets',
    );
    const second = taskOutput<{ images: { container: string; digest: string }[] }>(followUp, 'VerifySecrets');
    const changed = second.images.filter(
      (image) => first.images.find((before) => before.container === image.container)?.digest !== image.digest,
    );
    expect(changed.map((image) => image.container)).toEqual(['mcp-github']);
    expect(run.document.imagesAfter['mcp-github']).toMatch(new RegExp(`@${changed[0]!.digest}$`));
    expect(run.document.notifications.filter((n) => /FAILED/.test(n.subject))).toEqual([]);
  });

  it('rollback-fails: the service is left on the new revision and the alert says so', async () => {
    // Act
    const run = await runOf('rollback-fails');

    // Assess
    expect(run.document.notifications[0]!.subject).toMatch(/CRITICAL/);
    expect(run.document.taskDefinitionAfter).not.toBe(run.document.taskDefinitionBefore);
  });
});
