import { describeRollbackCause, planRollback } from '../../../lambdas/domain/rollback-plan';
import type { DeploymentSnapshot } from '../../../lambdas/domain/task-definition';
import { taskDefinitionArn } from './fixtures';

const good = taskDefinitionArn(41);
const bad = taskDefinitionArn(42);

function dep(
  id: string,
  status: string,
  taskDefinition: string,
  rolloutState: string,
  createdAt = '2026-11-27T09:00:00.000Z',
): DeploymentSnapshot {
  return { id, status, taskDefinition, rolloutState, createdAt };
}

describe('planRollback with the revision the update recorded', () => {
  it('starts a deployment back to the recorded revision', () => {
    const plan = planRollback({
      deployments: [
        dep('ecs-svc/new', 'PRIMARY', bad, 'IN_PROGRESS'),
        dep('ecs-svc/old', 'ACTIVE', good, 'COMPLETED'),
      ],
      recordedPreviousTaskDefinitionArn: good,
      failingTaskDefinitionArn: bad,
      failingDeploymentId: 'ecs-svc/new',
    });
    expect(plan).toMatchObject({
      action: 'start',
      targetTaskDefinitionArn: good,
      fromTaskDefinitionArn: bad,
    });
  });

  it('watches the deployment ECS already started back to it', () => {
    const plan = planRollback({
      deployments: [
        dep('ecs-svc/back', 'PRIMARY', good, 'IN_PROGRESS'),
        dep('ecs-svc/new', 'ACTIVE', bad, 'FAILED'),
      ],
      recordedPreviousTaskDefinitionArn: good,
      failingTaskDefinitionArn: bad,
    });
    expect(plan).toMatchObject({
      action: 'already-rolled-back',
      deploymentId: 'ecs-svc/back',
      targetTaskDefinitionArn: good,
    });
  });

  it('refuses when the recorded revision is the failing one', () => {
    const plan = planRollback({
      deployments: [dep('ecs-svc/new', 'PRIMARY', bad, 'FAILED')],
      recordedPreviousTaskDefinitionArn: bad,
      failingTaskDefinitionArn: bad,
    });
    expect(plan).toMatchObject({
      action: 'refuse',
      reason: expect.stringContaining('is the failing revision itself'),
    });
  });
});

describe('planRollback from the deployments alone', () => {
  it('returns to the ACTIVE deployment that last reached COMPLETED', () => {
    const plan = planRollback({
      deployments: [
        dep('ecs-svc/new', 'PRIMARY', bad, 'FAILED'),
        dep('ecs-svc/older', 'ACTIVE', taskDefinitionArn(40), 'COMPLETED', '2026-11-20T09:00:00.000Z'),
        dep('ecs-svc/old', 'ACTIVE', good, 'COMPLETED', '2026-11-26T09:00:00.000Z'),
      ],
      failingDeploymentId: 'ecs-svc/new',
    });
    expect(plan).toMatchObject({
      action: 'start',
      targetTaskDefinitionArn: good,
      fromTaskDefinitionArn: bad,
    });
  });

  it("recognises the circuit breaker's own rollback as the PRIMARY away from the failed deployment", () => {
    const plan = planRollback({
      deployments: [
        dep('ecs-svc/back', 'PRIMARY', good, 'IN_PROGRESS'),
        dep('ecs-svc/new', 'ACTIVE', bad, 'FAILED'),
      ],
      failingDeploymentId: 'ecs-svc/new',
    });
    expect(plan).toMatchObject({
      action: 'already-rolled-back',
      deploymentId: 'ecs-svc/back',
      targetTaskDefinitionArn: good,
      fromTaskDefinitionArn: bad,
    });
  });

  it('says the service is already on its last good revision when the update never took effect', () => {
    const plan = planRollback({ deployments: [dep('ecs-svc/old', 'PRIMARY', good, 'COMPLETED')] });
    expect(plan).toMatchObject({
      action: 'already-rolled-back',
      deploymentId: 'ecs-svc/old',
      targetTaskDefinitionArn: good,
    });
  });

  it('refuses when no deployment other than the failing one ever COMPLETED', () => {
    const plan = planRollback({
      deployments: [dep('ecs-svc/new', 'PRIMARY', bad, 'FAILED')],
      failingDeploymentId: 'ecs-svc/new',
    });
    expect(plan).toMatchObject({
      action: 'refuse',
      reason: expect.stringContaining('no deployment of the service reached COMPLETED'),
    });
  });

  it('refuses when the only COMPLETED deployment runs the failing revision', () => {
    const plan = planRollback({
      deployments: [dep('ecs-svc/new', 'PRIMARY', bad, 'COMPLETED')],
      failingTaskDefinitionArn: bad,
    });
    expect(plan.action).toBe('refuse');
  });

  it('refuses without a PRIMARY deployment', () => {
    expect(planRollback({ deployments: [] })).toMatchObject({
      action: 'refuse',
      reason: expect.stringContaining('no PRIMARY'),
    });
  });
});

describe('describeRollbackCause', () => {
  const request = { kind: 'deploy' as const, requestedBy: 'jane' };

  it('names the failed rollout, smoke checks, error or ECS event', () => {
    expect(
      describeRollbackCause({ request, rollout: { status: 'ROLLED_BACK_BY_ECS', reason: 'ECS went back' } }),
    ).toBe('the rollout ended ROLLED_BACK_BY_ECS: ECS went back');
    expect(
      describeRollbackCause({
        request,
        smoke: {
          passed: false,
          checks: [
            { name: 'ready', status: 'FAIL' },
            { name: 'health', status: 'PASS' },
          ],
        },
      }),
    ).toBe('the smoke test failed (ready)');
    expect(
      describeRollbackCause({
        request,
        error: { Error: 'States.Timeout', Cause: '{"errorMessage":"Task timed out after 60.00 seconds"}' },
      }),
    ).toBe('States.Timeout: Task timed out after 60.00 seconds');
    expect(
      describeRollbackCause({
        request: {
          kind: 'rollback',
          requestedBy: 'ecs',
          failedDeploymentId: 'ecs-svc/9',
          failureReason: 'circuit breaker',
        },
      }),
    ).toBe('ECS deployment ecs-svc/9 failed (circuit breaker)');
  });
});
