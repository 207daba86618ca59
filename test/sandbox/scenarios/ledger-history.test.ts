/**
 * The simulated deployment ledger holds what AFU-9's table holds between deployments: the previous
 * release and the running one, each deployed and verified by the workflow, the running one live.
 * A rollback a person asks for returns to the previous release; without that history it is refused.
 */
import { runSimulation, type SimulationRun } from '../../../sandbox/runner';
import { findScenario } from '../../../sandbox/scenarios';
import { renderOutcome } from '../../../sandbox/report/timeline';

const STAGING_FAMILY = 'task-definition/afu9-control-center-staging';

const runs = new Map<string, SimulationRun>();

async function runOf(name: string): Promise<SimulationRun> {
  const cached = runs.get(name);
  if (cached) return cached;
  const run = await runSimulation({ scenario: findScenario(name)! });
  runs.set(name, run);
  return run;
}

function stagingRecords(run: SimulationRun) {
  return run.ledgerItems
    .filter((item) => item.pk === 'ENV#staging' && String(item.sk).startsWith('DEPLOYMENT#'))
    .sort((a, b) => String(a.sk).localeCompare(String(b.sk)));
}

describe('the ledger history of the sandbox', () => {
  it('holds two verified staging releases, :40 then :41, written as the workflow writes them', async () => {
    // Act: a run that refuses before ResolveRequest writes anything leaves the history as it was
    const run = await runOf('prod-guard');
    const [previous, running] = stagingRecords(run);

    // Assess
    expect(stagingRecords(run)).toHaveLength(2);
    expect(previous).toMatchObject({
      deploymentId: 'staging-stage-0e7d6c5',
      kind: 'deploy',
      trigger: 'manual',
      version: 'stage-0e7d6c5',
      outcome: 'succeeded',
      reasons: [],
      taskDefinitionAfter: expect.stringMatching(new RegExp(`${STAGING_FAMILY}:40$`)),
      statesReached: [
        'resolution',
        'diffBuild',
        'diffGate',
        'verification',
        'update',
        'wake',
        'rollout',
        'smoke',
      ],
    });
    expect(running).toMatchObject({
      deploymentId: 'staging-stage-1a2b3c4',
      outcome: 'succeeded',
      taskDefinitionBefore: previous!.taskDefinitionAfter,
      taskDefinitionAfter: expect.stringMatching(new RegExp(`${STAGING_FAMILY}:41$`)),
      registeredRevision: {
        taskDefinitionArn: expect.stringMatching(/:41$/),
        previousTaskDefinitionArn: expect.stringMatching(/:40$/),
      },
      images: [expect.objectContaining({ tag: 'stage-1a2b3c4', digest: expect.stringMatching(/^sha256:/) })],
    });
    expect(typeof running!.expiresAt).toBe('number');
    // The running release's ECS deployment is the service's own COMPLETED one.
    expect(running!.ecsDeploymentId).toMatch(/^ecs-svc\/\d{19}$/);
  });

  it('names the running release live, proved by its verified deployment, and holds no lock', async () => {
    // Act
    const run = await runOf('prod-guard');
    const live = run.ledgerItems.find((item) => item.pk === 'ENV#staging' && item.sk === 'LIVE');

    // Assess
    expect(live).toMatchObject({
      taskDefinitionArn: expect.stringMatching(new RegExp(`${STAGING_FAMILY}:41$`)),
      version: 'stage-1a2b3c4',
      deploymentId: 'staging-stage-1a2b3c4',
      provedBy: 'succeeded',
    });
    expect(run.ledgerItems.some((item) => String(item.pk).startsWith('LOCK#'))).toBe(false);
    const claims = run.ledgerItems.filter((item) => String(item.pk).startsWith('IMAGE#staging#'));
    expect(claims).toHaveLength(2);
  });

  it("refuses a start of the running release's image again as Step Functions does, and deploys it with redeploy", async () => {
    // Prepare
    const notes: string[] = [];
    const again = { environment: 'staging', imageTag: 'stage-1a2b3c4', requestedBy: 'jane.doe' };

    // Act
    const refused = await runSimulation({
      scenario: findScenario('happy')!,
      input: again,
      onProgress: (event) => {
        if (event.kind === 'note') notes.push(event.text);
      },
    });
    const redeployed = await runSimulation({
      scenario: findScenario('happy')!,
      input: { ...again, redeploy: true },
    });

    // Assess
    expect(refused.document).toMatchObject({ status: 'FAILED', outcome: 'rejected', executions: [] });
    expect(notes.join('\n')).toContain(
      'StartExecution staging-stage-1a2b3c4 refused: ExecutionAlreadyExists',
    );
    expect(notes.join('\n')).toContain('"redeploy": true');
    expect(redeployed.document).toMatchObject({ status: 'SUCCEEDED', outcome: 'deployed' });
  });

  it('rollback: a person rolls staging back and the service returns to the previous release, now live', async () => {
    // Act
    const run = await runOf('rollback');
    const live = run.ledgerItems.find((item) => item.pk === 'ENV#staging' && item.sk === 'LIVE');

    // Assess
    expect(run.document).toMatchObject({ outcome: 'rolled-back', rolledBack: true });
    expect(run.document.taskDefinitionAfter).toMatch(new RegExp(`${STAGING_FAMILY}:40$`));
    expect(run.servingTaskDefinition).toBe(run.document.taskDefinitionAfter);
    expect(live).toMatchObject({
      taskDefinitionArn: run.document.taskDefinitionAfter,
      provedBy: 'rolled-back',
    });
    expect(renderOutcome(run, 1)).toContain(
      'Task definition: afu9-control-center-staging:41 → :40 (rolled back)',
    );
  });

  it('rollback-no-target: without a verified release before the running one, the rollback is refused', async () => {
    // Act
    const run = await runOf('rollback-no-target');
    const rollback = run.executions[0]!.states.find((state) => state.name === 'Rollback')!;

    // Assess
    expect(run.document).toMatchObject({ outcome: 'rollback-failed', status: 'FAILED' });
    expect(rollback.error?.Error).toBe('RollbackFailed');
    expect(rollback.error?.Cause).toContain('records no verified revision before the running one');
    expect(run.document.taskDefinitionAfter).toBe(run.document.taskDefinitionBefore);
    expect(stagingRecords(run).filter((item) => item.outcome === 'succeeded')).toHaveLength(0);
  });
});
