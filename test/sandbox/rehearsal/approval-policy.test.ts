/**
 * The approval policy in a rehearsal: the real definition and handlers deploy to `production`, whose
 * policy (`approval.warn: "stop"`) asks for a person's review of warnings. A diff with warnings ends
 * the deployment before any change, with a notification saying how to go ahead today; started again
 * with skipDiffGate and a reason, the same diff is deployed, the reason in the notification.
 */
import type { DiffGateResult, StartDeploymentInput } from '../../../lambdas/domain/workflow-state';
import { runSimulation } from '../../../sandbox/runner';
import type { Scenario } from '../../../sandbox/scenarios';

/** A new image with security group changes beside it: WARN (3 warnings, 1 safe change). */
const warnDiff = 'multi-stack-deployed.txt';

const deployProduction: StartDeploymentInput = {
  environment: 'production',
  imageTag: 'prod-9d1e0f4',
  allowProduction: true,
  requestedBy: 'jane.doe',
};

function productionWarn(input: StartDeploymentInput): Scenario {
  return {
    name: 'production-warn',
    summary: 'a production deployment whose cdk diff has warnings',
    world: { diffFixture: warnDiff },
    trigger: { kind: 'start', input },
    expected: { status: 'FAILED', outcome: 'blocked', serviceEndsOn: 'previous-revision' },
  };
}

function gateOf(run: Awaited<ReturnType<typeof runSimulation>>): DiffGateResult {
  const state = run.executions[0]!.states.find((s) => s.name === 'AnalyzeDiff');
  if (!state) throw new Error('The deployment never reached AnalyzeDiff.');
  return state.invocations.at(-1)!.output as DiffGateResult;
}

describe('the approval policy, rehearsed', () => {
  it('ends a production deployment with a WARN diff before any change, saying how to go ahead', async () => {
    // Act
    const run = await runSimulation({ scenario: productionWarn(deployProduction) });

    // Assess
    const { document: doc } = run;
    expect({ status: doc.status, outcome: doc.outcome }).toEqual({ status: 'FAILED', outcome: 'blocked' });
    expect(gateOf(run)).toMatchObject({ verdict: 'WARN', proceed: false, skipped: false });
    const states = run.executions[0]!.states.map((s) => s.name);
    expect(states).toContain('NotifyBlocked');
    expect(states).not.toContain('VerifySecrets');
    expect(states).not.toContain('UpdateService');
    expect(doc.taskDefinitionAfter).toBe(doc.taskDefinitionBefore);
    const [notification] = doc.notifications;
    expect(notification?.subject).toMatch(/BLOCKED by the diff gate/);
    expect(notification?.message).toContain(
      'The approval policy of environment production (approval.warn: "stop") requires a person\'s review for warnings',
    );
    expect(notification?.message).toContain(
      'start the deployment again with skipDiffGate: true and a reason',
    );
  });

  it('deploys the same diff when started again with skipDiffGate and a reason, the reason in the notification', async () => {
    // Act
    const run = await runSimulation({
      scenario: productionWarn({
        ...deployProduction,
        skipDiffGate: true,
        reason: 'CHG-7: security group rules reviewed by jane.doe',
      }),
    });

    // Assess
    const { document: doc } = run;
    expect({ status: doc.status, outcome: doc.outcome }).toEqual({
      status: 'SUCCEEDED',
      outcome: 'deployed',
    });
    expect(gateOf(run)).toMatchObject({
      verdict: 'WARN',
      proceed: true,
      skipped: true,
      skipReason: 'CHG-7: security group rules reviewed by jane.doe',
    });
    expect(doc.taskDefinitionAfter).not.toBe(doc.taskDefinitionBefore);
    expect(doc.notifications[0]?.message).toContain('CHG-7: security group rules reviewed by jane.doe');
  });
});
