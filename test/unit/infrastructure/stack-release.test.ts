/**
 * One stack of an infrastructure release (lambdas/domain/stack-release.ts): CloudFormation's own
 * status decides, every terminal status is named, the build's exit code never decides alone, and the
 * ECS deployment a stack update started is found by comparing the service's deployments.
 */
import {
  ecsDeploymentStarted,
  judgeStack,
  STACK_WATCH_LIMIT_SECONDS,
  type DeployBuildOutcome,
  type StackBaseline,
} from '../../../lambdas/domain/stack-release';

const BEFORE = '2026-11-20T10:00:00.000Z';
const UPDATED = '2026-11-27T09:03:00.000Z';
const NOW = new Date('2026-11-27T09:05:00.000Z');

const baseline: StackBaseline = {
  stackName: 'DatabaseStack',
  exists: true,
  stackStatus: 'UPDATE_COMPLETE',
  changedAt: BEFORE,
  primaryDeploymentId: 'ecs-svc/1111111111111111111',
  primaryTaskDefinitionArn: 'arn:aws:ecs:eu-central-1:123456789012:task-definition/shop:41',
  takenAt: '2026-11-27T09:02:00.000Z',
};
const succeeded: DeployBuildOutcome = { buildId: 'deploy:1', buildStatus: 'SUCCEEDED' };
const failed: DeployBuildOutcome = {
  Error: 'States.TaskFailed',
  Cause: '{"Build":{"BuildStatus":"FAILED"}}',
};

function judge(
  stackStatus: string,
  options: { changedAt?: string; build?: DeployBuildOutcome; now?: Date } = {},
) {
  return judgeStack({
    baseline,
    observed: { exists: true, stackStatus, changedAt: options.changedAt ?? UPDATED, outputs: [] },
    build: options.build ?? succeeded,
    now: options.now ?? NOW,
  });
}

describe('judgeStack', () => {
  it.each([
    ['UPDATE_COMPLETE', 'DEPLOYED'],
    ['CREATE_COMPLETE', 'DEPLOYED'],
    ['IMPORT_COMPLETE', 'DEPLOYED'],
    ['UPDATE_ROLLBACK_COMPLETE', 'ROLLED_BACK'],
    ['ROLLBACK_COMPLETE', 'ROLLED_BACK'],
    ['IMPORT_ROLLBACK_COMPLETE', 'ROLLED_BACK'],
    ['UPDATE_ROLLBACK_FAILED', 'FAILED'],
    ['ROLLBACK_FAILED', 'FAILED'],
    ['IMPORT_ROLLBACK_FAILED', 'FAILED'],
    ['CREATE_FAILED', 'FAILED'],
    ['UPDATE_FAILED', 'FAILED'],
    ['DELETE_FAILED', 'FAILED'],
    ['DELETE_COMPLETE', 'FAILED'],
    ['REVIEW_IN_PROGRESS', 'FAILED'],
    ['UPDATE_IN_PROGRESS', 'IN_PROGRESS'],
    ['UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', 'IN_PROGRESS'],
    ['UPDATE_ROLLBACK_IN_PROGRESS', 'IN_PROGRESS'],
    ['UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS', 'IN_PROGRESS'],
    ['A_STATUS_CLOUDFORMATION_ADDS_LATER', 'FAILED'],
  ])('GIVEN an update this release started and CloudFormation says %s THEN %s', (stackStatus, expected) => {
    expect(judge(stackStatus)).toMatchObject({ status: expected, stackStatus });
  });

  it('GIVEN a failed rollback THEN it tells a person to continue the rollback', () => {
    expect(judge('UPDATE_ROLLBACK_FAILED').reason).toContain('continue-update-rollback');
  });

  it('GIVEN no operation since the baseline and a build that succeeded THEN there was nothing to deploy', () => {
    expect(judge('UPDATE_COMPLETE', { changedAt: BEFORE })).toMatchObject({ status: 'NO_CHANGE' });
  });

  it('GIVEN no operation since the baseline and a build that failed THEN the build failed before CloudFormation started', () => {
    // Act
    const judgement = judge('UPDATE_COMPLETE', { changedAt: BEFORE, build: failed });

    // Assess
    expect(judgement.status).toBe('FAILED');
    expect(judgement.reason).toMatch(
      /deploy build failed \(States\.TaskFailed.*before CloudFormation started an update/,
    );
  });

  it('GIVEN a build that failed but CloudFormation completed the update THEN CloudFormation decides, and the build is named', () => {
    // Act
    const judgement = judge('UPDATE_COMPLETE', { build: failed });

    // Assess
    expect(judgement.status).toBe('DEPLOYED');
    expect(judgement.reason).toContain('note that the deploy build failed');
  });

  it('GIVEN a build that succeeded but CloudFormation rolled back THEN it is a rollback, not a success', () => {
    expect(judge('UPDATE_ROLLBACK_COMPLETE').status).toBe('ROLLED_BACK');
  });

  it('GIVEN a stack still in progress past the watch limit THEN it is reported, not awaited', () => {
    // Act
    const late = new Date(Date.parse(baseline.takenAt) + (STACK_WATCH_LIMIT_SECONDS + 60) * 1000);

    // Assess
    expect(judge('UPDATE_IN_PROGRESS', { now: late })).toMatchObject({ status: 'FAILED' });
  });

  it('GIVEN a stack that does not exist after the deploy THEN it failed, naming the build', () => {
    // Act
    const judgement = judgeStack({ baseline, observed: { exists: false }, build: failed, now: NOW });

    // Assess
    expect(judgement).toMatchObject({ status: 'FAILED', stackStatus: 'DOES_NOT_EXIST' });
  });

  it('GIVEN a stack the release created (none at the baseline) THEN its CREATE_COMPLETE is a deployment', () => {
    // Act
    const judgement = judgeStack({
      baseline: { stackName: 'DnsStack', exists: false, takenAt: baseline.takenAt },
      observed: { exists: true, stackStatus: 'CREATE_COMPLETE', changedAt: UPDATED, outputs: [] },
      build: succeeded,
      now: NOW,
    });

    // Assess
    expect(judgement.status).toBe('DEPLOYED');
  });
});

describe('ecsDeploymentStarted', () => {
  const primary = (id: string, revision: number) => ({
    id,
    status: 'PRIMARY',
    taskDefinition: `arn:aws:ecs:eu-central-1:123456789012:task-definition/shop:${revision}`,
  });

  it('GIVEN a new PRIMARY deployment after the update THEN that deployment, with the revision it replaces', () => {
    expect(ecsDeploymentStarted(baseline, [primary('ecs-svc/2222222222222222222', 42)])).toEqual({
      deploymentId: 'ecs-svc/2222222222222222222',
      taskDefinitionArn: 'arn:aws:ecs:eu-central-1:123456789012:task-definition/shop:42',
      previousTaskDefinitionArn: baseline.primaryTaskDefinitionArn,
    });
  });

  it('GIVEN the same PRIMARY deployment as before THEN none was started', () => {
    expect(ecsDeploymentStarted(baseline, [primary(baseline.primaryDeploymentId!, 41)])).toBeUndefined();
  });

  it('GIVEN a service without deployments THEN none was started', () => {
    expect(ecsDeploymentStarted(baseline, [])).toBeUndefined();
  });
});
