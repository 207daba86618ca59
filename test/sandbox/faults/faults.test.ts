/**
 * The fault suite: every fault runs through the real definition and the real handlers on the
 * simulated account, and ends where a person would want it to: the terminal state, the ledger
 * record, the revision ECS serves, the messages sent, the service lock. The fault table in
 * docs/reliability.md is rendered from these runs and must match them exactly.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RollbackResult, SmokeResult } from '../../../lambdas/domain/workflow-state';
import { faultCases, type FaultCase } from './fault-cases';
import { renderFaultTable, runCase, type CaseRun } from './fault-table';

const runs = new Map<FaultCase, CaseRun>();

function runOf(faultCase: FaultCase): CaseRun {
  const found = runs.get(faultCase);
  if (!found) throw new Error(`The case "${faultCase.at}: ${faultCase.fault}" was not run.`);
  return found;
}

function caseNamed(at: string, fault: RegExp): CaseRun {
  const found = faultCases.find((candidate) => candidate.at === at && fault.test(candidate.fault));
  if (!found) throw new Error(`No fault case at ${at} matches ${String(fault)}.`);
  return runOf(found);
}

beforeAll(async () => {
  for (const faultCase of faultCases) runs.set(faultCase, await runCase(faultCase));
}, 120_000);

describe('fault injection', () => {
  describe.each(faultCases.map((faultCase) => [`${faultCase.at}: ${faultCase.fault}`, faultCase] as const))(
    '%s',
    (_title, faultCase) => {
      it('ends in its terminal state with the ledger record, revision, notifications and lock a person wants', () => {
        // Act
        const { result } = runOf(faultCase);

        // Assess
        expect(result).toEqual(faultCase.expected);
      });
    },
  );

  it('every Task state of the definition meets a crash and a timeout', () => {
    // Prepare
    const { run } = runOf(faultCases[0]!);
    const taskStates = Object.entries(run.definition.States)
      .filter(([, state]) => state.Type === 'Task')
      .map(([name]) => name);

    // Act
    const faulted = new Set(faultCases.flatMap((faultCase) => Object.keys(faultCase.taskFaults ?? {})));

    // Assess
    expect([...faulted].sort()).toEqual(taskStates.sort());
  });

  it('an infrastructure release reports deployed only what CloudFormation completed, and makes live only a verified ECS deployment', () => {
    const infrastructureCases = faultCases.filter((faultCase) => faultCase.expected.stacks);
    expect(infrastructureCases.length).toBeGreaterThan(0);
    for (const faultCase of infrastructureCases) {
      // Act
      const { run, result } = runOf(faultCase);
      const main = run.executions[0]!;
      const stacks = run.document.stacks ?? [];
      const notified = run.document.notifications.flatMap((notification) =>
        [...notification.message.matchAll(/^ {2}(\S+): deployed$/gm)].map((match) => match[1]),
      );
      const live = run.ledgerItems.find((item) => item.pk === 'ENV#staging' && item.sk === 'LIVE');

      // Assess
      for (const stack of stacks) {
        const cloudFormation = run.stackStatuses[stack.name];
        if (stack.status === 'deployed')
          expect([stack.name, cloudFormation]).toEqual([stack.name, 'UPDATE_COMPLETE']);
        if (stack.status === 'not-attempted' || stack.status === 'not-approved') {
          expect([stack.name, cloudFormation]).toEqual([stack.name, 'CREATE_COMPLETE']);
        }
      }
      const reportedDeployed = stacks
        .filter((stack) => stack.status === 'deployed')
        .map((stack) => stack.name);
      for (const name of notified) expect(reportedDeployed).toContain(name);
      if (result.outcome === 'succeeded') {
        expect(live).toMatchObject({ deploymentId: main.name, taskDefinitionArn: run.servingTaskDefinition });
      } else {
        expect(live?.deploymentId).not.toBe(main.name);
      }
    }
  });

  it('every injected fault struck', () => {
    for (const faultCase of faultCases.filter((candidate) => !candidate.taskFaults)) {
      const { run } = runOf(faultCase);
      const injects = faultCase.scenario.world.apiFaults?.length ?? 0;
      if (injects + (faultCase.scenario.world.eventFaults?.length ?? 0) > 0) {
        expect(run.faultsStruck.length).toBeGreaterThan(0);
      }
    }
  });

  it("ECS rolling back while our Rollback updates the service: one target, the event's execution ignored", () => {
    // Act
    const { run } = caseNamed('ECS', /while our Rollback/);
    const [main, eventExecution] = run.executions;
    const rollback = main!.states.find((state) => state.name === 'Rollback')!.invocations.at(-1)!
      .output as RollbackResult;

    // Assess
    expect(run.faultsStruck).toContain('ecs.UpdateService: interleaved');
    expect(rollback.targetTaskDefinitionArn).toBe(run.document.taskDefinitionBefore);
    expect(eventExecution?.currentState).toBe('Ignored');
    expect(run.executions).toHaveLength(2);
  });

  it('the event that arrives before the token is stored completes the wait at once', () => {
    // Act
    const { run } = caseNamed('EventBridge', /before the wait stores its token/);
    const waits = run.executions[0]!.states.filter((state) => state.name === 'WaitForDeploymentEvent');

    // Assess
    expect(waits).toHaveLength(1);
    expect(waits[0]!.status).toBe('SUCCEEDED');
    expect(waits[0]!.invocations).toHaveLength(5);
  });

  it('a hanging smoke target fails the smoke test on time, naming the missing answers', () => {
    // Act
    const { run } = caseNamed('live service', /never answers/);
    const smoke = run.executions[0]!.states.find((state) => state.name === 'SmokeTest')!.invocations.at(-1)!
      .output as SmokeResult;

    // Assess
    expect(smoke.passed).toBe(false);
    expect(smoke.checks.some((check) => /no complete answer within 50 ms/.test(check.reason ?? ''))).toBe(
      true,
    );
  });

  it('a notify attempt that fails pages through the NotifyErrors alarm, delivered past the failing topic API', () => {
    const notifyFaults = faultCases.filter((faultCase) =>
      Object.keys(faultCase.taskFaults ?? {}).some((state) => state.startsWith('Notify')),
    );
    expect(notifyFaults.length).toBeGreaterThan(0);
    for (const faultCase of [...notifyFaults, ...faultCases.filter((c) => /KMSAccessDenied/.test(c.fault))]) {
      // Act
      const { alarms, run } = runOf(faultCase);

      // Assess
      expect(alarms).toContain('Afu9DeployOrchestrator-NotifyErrors');
      expect(run.document.accessDenied).toEqual([]);
    }
  });

  it('a failing SNS never changes the terminal state and the ledger still records the outcome', () => {
    const snsDown = faultCases.filter((faultCase) => /KMSAccessDenied/.test(faultCase.fault));
    expect(snsDown).toHaveLength(6);
    for (const faultCase of snsDown) {
      // Act
      const { run, result } = runOf(faultCase);
      const notify = run.executions[0]!.states.find((state) => state.name.startsWith('Notify'))!;

      // Assess
      expect(notify.status).toBe('CAUGHT');
      expect(notify.error?.Error).toBe('NotificationFailed');
      expect(result.terminalState).toBe(faultCase.expected.terminalState);
    }
  });

  it('docs/reliability.md shows the fault table exactly as these runs produce it', () => {
    // Prepare
    const page = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'reliability.md'), 'utf8');
    const shown = /<!-- fault-table:[^>]*-->\n\n([\s\S]*?)\n\n<!-- \/fault-table -->/.exec(page)?.[1];

    // Act
    const rendered = renderFaultTable(
      faultCases.map((faultCase) => ({ faultCase, result: runOf(faultCase).result })),
    );

    // Assess
    if (shown !== rendered) {
      process.stdout.write(
        `\nThe fault table these runs produce (paste it into docs/reliability.md):\n\n${rendered}\n\n`,
      );
    }
    expect(shown).toBe(rendered);
  });
});
