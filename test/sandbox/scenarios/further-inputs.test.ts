/**
 * Inputs a caller sends during a run (`simulate --input` given again, the bench's pushes and CI's
 * retries): an execution input may carry the name its caller starts it with, and a caller may send
 * an input at the moment an execution ends.
 */
import { repositoryDeployConfig } from '../../../infra/deploy-config-file';
import type { StartDeploymentInput } from '../../../lambdas/domain/workflow-state';
import { runSimulation } from '../../../sandbox/runner';
import type { SimulatedExecution } from '../../../sandbox/run/execution';
import { findScenario, NEW_STAGING_TAG } from '../../../sandbox/scenarios';

const happy = findScenario('happy')!;
const staging = repositoryDeployConfig().environments.staging!;
const sidecar = staging.containers.find((container) => !container.primary)!;

function request(container: string): StartDeploymentInput {
  return { environment: 'staging', images: { [container]: NEW_STAGING_TAG }, requestedBy: 'ci' };
}

describe('inputs sent during a run', () => {
  it('starts each execution input with the name its caller gives: a second request is refused by the service lock, not by its name', async () => {
    // Act
    const run = await runSimulation({
      scenario: happy,
      input: request(staging.containers.find((container) => container.primary)!.name),
      inputExecutionName: 'push-1',
      moreInputs: [{ input: request(sidecar.name), label: 'the sidecar', executionName: 'push-2' }],
      pushed: true,
    });

    // Assess
    expect(run.document.executions.map((execution) => [execution.name, execution.outcome])).toEqual([
      ['push-1', 'deployed'],
      ['push-2', 'failed-before-change'],
    ]);
    const errors = run.executions[1]!.states.flatMap((record) =>
      record.invocations.flatMap((invocation) => (invocation.error ? [invocation.error.Error] : [])),
    );
    expect(errors).toContain('DeploymentInProgress');
  });

  it('starts an input sent when an execution ends at that virtual moment', async () => {
    // Prepare
    const ended: SimulatedExecution[] = [];

    // Act
    const run = await runSimulation({
      scenario: happy,
      input: request(staging.containers.find((container) => container.primary)!.name),
      inputExecutionName: 'first',
      pushed: true,
      onExecutionEnded: (execution, send) => {
        ended.push(execution);
        if (execution.name === 'first') {
          send({
            input: request(sidecar.name),
            label: 'the sidecar, once the service is free',
            executionName: 'second',
          });
        }
      },
    });

    // Assess
    const [first, second] = run.executions;
    expect(ended.map((execution) => execution.name)).toEqual(['first', 'second']);
    expect(second!.startedAtMs).toBe(first!.endedAtMs);
    expect(run.document.executions.map((execution) => execution.outcome)).toEqual(['deployed', 'deployed']);
  });
});
