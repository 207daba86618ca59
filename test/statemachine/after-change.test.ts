/**
 * Paths after the service was changed: the event wait and its safety-net poll, every way a
 * rollout fails, the smoke test, and the rollback with its own wait and its own failures.
 */
import * as fixtures from './fixtures';
import { expectEnd, expectSafetyNetTimeoutResolves, replies, throughUpdate, visits } from './paths';
import { returns, runScenario, throws } from './scenario';

const upToRollout = [...visits.acceptDeploy, ...visits.diffGate, 'VerifySecrets', 'UpdateService'];
const safetyNetTimeout = () => throws('States.Timeout', 'No deployment event within safetyNetPollSeconds.');

describe('deployment state machine, after the service is changed', () => {
  it.each(['FAILED', 'ROLLED_BACK_BY_ECS', 'REPLACED', 'TIMED_OUT'] as const)(
    'rolls back a rollout judged %s and notifies "rolled-back" once, ending in RolledBack',
    async (status) => {
      // Act
      const result = await runScenario({
        input: fixtures.startInput,
        replies: {
          ...throughUpdate,
          WaitForDeploymentEvent: [returns(fixtures.wake('SERVICE_DEPLOYMENT_FAILED'))],
          PollStabilization: [returns(fixtures.rollout(status))],
          ...replies.rollback,
        },
      });

      // Assess
      expect(result.visited).toEqual([
        ...upToRollout,
        ...visits.rollout,
        ...visits.rollback,
        'NotifyRolledBack',
        'RollbackRequested',
        'RolledBack',
      ]);
      expectEnd(result, { status: 'FAILED', terminalState: 'RolledBack', notified: 'rolled-back' });
      expect(result.calls.Rollback?.[0]?.state).toMatchObject({
        rollout: { status },
        update: fixtures.update(),
      });
      expect(result.calls.SmokeTest).toBeUndefined();
    },
  );

  it('waits for the rollback deployment ECS already started itself, then reports "rolled-back"', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: {
        ...throughUpdate,
        WaitForDeploymentEvent: [returns(fixtures.wake('SERVICE_DEPLOYMENT_FAILED'))],
        PollStabilization: [returns(fixtures.rollout('ROLLED_BACK_BY_ECS'))],
        ...replies.rollback,
        Rollback: [returns(fixtures.rollback('already-rolled-back'))],
      },
    });

    // Assess
    expect(result.calls.WaitForRollbackEvent?.[0]).toMatchObject({
      Payload: { deploymentId: fixtures.rollbackDeploymentId },
    });
    expect(result.calls.PollRollback?.[0]).toMatchObject({
      target: {
        deploymentId: fixtures.rollbackDeploymentId,
        taskDefinitionArn: fixtures.previousTaskDefinitionArn,
        previousTaskDefinitionArn: fixtures.newTaskDefinitionArn,
        deadline: fixtures.rollback().deadline,
      },
    });
    expectEnd(result, { status: 'FAILED', terminalState: 'RolledBack', notified: 'rolled-back' });
  });

  it('recovers a lost deployment event with the safety-net poll and still deploys', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: {
        ...throughUpdate,
        WaitForDeploymentEvent: [safetyNetTimeout(), safetyNetTimeout()],
        PollStabilization: [returns(fixtures.rollout('IN_PROGRESS')), returns(fixtures.rollout('COMPLETED'))],
        ...replies.smokeTest,
      },
    });

    // Assess
    expect(result.visited).toEqual([
      ...upToRollout,
      ...visits.rollout,
      ...visits.rollout,
      ...visits.smokeTest,
      'NotifySucceeded',
      'Deployed',
    ]);
    expectEnd(result, { status: 'SUCCEEDED', terminalState: 'Deployed', notified: 'succeeded' });
    // The safety net is not a failure: nothing reaches $.error for the notification to report.
    expect(result.notifications[0]?.input.state).not.toHaveProperty('error');
    expectSafetyNetTimeoutResolves(result, 'WaitForDeploymentEvent');
  });

  it('wakes on the event after a safety-net poll found the rollout still running', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: {
        ...throughUpdate,
        WaitForDeploymentEvent: [safetyNetTimeout(), returns(fixtures.wake('SERVICE_DEPLOYMENT_FAILED'))],
        PollStabilization: [returns(fixtures.rollout('IN_PROGRESS')), returns(fixtures.rollout('FAILED'))],
        ...replies.rollback,
      },
    });

    // Assess
    expect(result.visited).toEqual([
      ...upToRollout,
      ...visits.rollout,
      ...visits.rollout,
      ...visits.rollback,
      'NotifyRolledBack',
      'RollbackRequested',
      'RolledBack',
    ]);
    expect(result.calls.Rollback?.[0]?.state).toMatchObject({
      wake: { eventName: 'SERVICE_DEPLOYMENT_FAILED', deploymentId: fixtures.deploymentId },
    });
    expectEnd(result, { status: 'FAILED', terminalState: 'RolledBack', notified: 'rolled-back' });
  });

  it('rolls back a rollout whose deadline passes while only safety-net polls come', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: {
        ...throughUpdate,
        WaitForDeploymentEvent: [safetyNetTimeout(), safetyNetTimeout(), safetyNetTimeout()],
        PollStabilization: [
          returns(fixtures.rollout('IN_PROGRESS')),
          returns(fixtures.rollout('IN_PROGRESS')),
          returns(fixtures.rollout('TIMED_OUT')),
        ],
        ...replies.rollback,
      },
    });

    // Assess
    expect(result.visited).toEqual([
      ...upToRollout,
      ...visits.rollout,
      ...visits.rollout,
      ...visits.rollout,
      ...visits.rollback,
      'NotifyRolledBack',
      'RollbackRequested',
      'RolledBack',
    ]);
    expectEnd(result, { status: 'FAILED', terminalState: 'RolledBack', notified: 'rolled-back' });
  });

  it.each([
    ['answers passed=false', returns(fixtures.smoke(false)), visits.smokeTest],
    [
      'throws SmokeTestFailed',
      throws('SmokeTestFailed', 'GET /api/ready answered 503 for 120 s. Check the database connection.'),
      ['SmokeTest'],
    ],
  ])('rolls back when the smoke test %s', async (_how, smokeReply, smokeVisits) => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: { ...throughUpdate, ...replies.rollout, SmokeTest: [smokeReply], ...replies.rollback },
    });

    // Assess
    expect(result.visited).toEqual([
      ...upToRollout,
      ...visits.rollout,
      ...smokeVisits,
      ...visits.rollback,
      'NotifyRolledBack',
      'RollbackRequested',
      'RolledBack',
    ]);
    expectEnd(result, { status: 'FAILED', terminalState: 'RolledBack', notified: 'rolled-back' });
  });

  it('retries an UpdateService that timed out (the step finds its own revision), then carries on', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: {
        ...throughUpdate,
        UpdateService: [
          throws('Sandbox.Timedout', 'Task timed out after 60.00 seconds'),
          returns(fixtures.update()),
        ],
        ...replies.rollout,
        ...replies.smokeTest,
      },
    });

    // Assess
    expect(result.calls.UpdateService).toHaveLength(2);
    expectEnd(result, { status: 'SUCCEEDED', terminalState: 'Deployed', notified: 'succeeded' });
  });

  it('retries an UpdateService killed by Lambda (Lambda.Unknown: timeout or out of memory), then carries on', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: {
        ...throughUpdate,
        UpdateService: [
          throws('Lambda.Unknown', 'The function was killed: Runtime exited with error: signal: killed'),
          returns(fixtures.update()),
        ],
        ...replies.rollout,
        ...replies.smokeTest,
      },
    });

    // Assess
    expect(result.retries.UpdateService).toEqual(['Lambda.Unknown']);
    expectEnd(result, { status: 'SUCCEEDED', terminalState: 'Deployed', notified: 'succeeded' });
  });

  it.each([
    ['Lambda.Unknown', 5],
    ['States.Timeout', 0],
  ])(
    'rolls back when UpdateService fails with %s (after %i retries), since the update may have gone through',
    async (errorName, retries) => {
      // Act
      const result = await runScenario({
        input: fixtures.startInput,
        replies: {
          ...throughUpdate,
          UpdateService: Array.from({ length: retries + 1 }, () => throws(errorName)),
          ...replies.rollback,
        },
      });

      // Assess
      expect(result.visited).toEqual([
        ...upToRollout,
        ...visits.rollback,
        'NotifyRolledBack',
        'RollbackRequested',
        'RolledBack',
      ]);
      expectEnd(result, { status: 'FAILED', terminalState: 'RolledBack', notified: 'rolled-back' });
      const rollbackState = result.calls.Rollback?.[0]?.state;
      expect(rollbackState).not.toHaveProperty('update');
      expect(rollbackState).toMatchObject({ error: { Error: errorName } });
    },
  );

  it('rolls back when the deployment event wait cannot be registered at all', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: {
        ...throughUpdate,
        WaitForDeploymentEvent: [
          throws('ResourceNotFoundException', 'Requested resource not found: afu9-deploy-waits'),
        ],
        ...replies.rollback,
      },
    });

    // Assess
    expect(result.visited).toEqual([
      ...upToRollout,
      'WaitForDeploymentEvent',
      ...visits.rollback,
      'NotifyRolledBack',
      'RollbackRequested',
      'RolledBack',
    ]);
    expectEnd(result, { status: 'FAILED', terminalState: 'RolledBack', notified: 'rolled-back' });
  });

  it('rolls back when judging the rollout fails (RolloutFailed)', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: {
        ...throughUpdate,
        WaitForDeploymentEvent: [returns(fixtures.wake())],
        PollStabilization: [
          throws('RolloutFailed', 'Deployment ecs-svc/4203881975611234567 is no longer on the service.'),
        ],
        ...replies.rollback,
      },
    });

    // Assess
    expect(result.visited).toEqual([
      ...upToRollout,
      'WaitForDeploymentEvent',
      'PollStabilization',
      ...visits.rollback,
      'NotifyRolledBack',
      'RollbackRequested',
      'RolledBack',
    ]);
    expectEnd(result, { status: 'FAILED', terminalState: 'RolledBack', notified: 'rolled-back' });
  });

  it('enters the rollback branch straight from an ECS deployment-failed event', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.ecsDeploymentFailedEvent,
      replies: { ...replies.acceptRollback, ...replies.rollback },
    });

    // Assess
    expect(result.visited).toEqual([
      ...visits.acceptRollback,
      ...visits.rollback,
      'NotifyRolledBack',
      'RollbackRequested',
      'RolledBack',
    ]);
    expectEnd(result, { status: 'FAILED', terminalState: 'RolledBack', notified: 'rolled-back' });
    expect(result.calls.Rollback?.[0]?.state).toMatchObject({
      request: { kind: 'rollback', failedDeploymentId: fixtures.deploymentId },
    });
    expect(result.calls.RunCdkDiff).toBeUndefined();
    expect(result.calls.UpdateService).toBeUndefined();
  });

  it('ends a rollback a person asked for SUCCEEDED in RolledBackAsRequested, after notifying "rolled-back" once', async () => {
    // Prepare
    const requested = fixtures.deploymentRequest({
      kind: 'rollback',
      trigger: 'manual',
      deploymentKey: 'staging#rollback#requested',
    });

    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: { ResolveRequest: [returns(fixtures.accepted(requested))], ...replies.rollback },
    });

    // Assess
    expect(result.visited).toEqual([
      ...visits.acceptRollback,
      ...visits.rollback,
      'NotifyRolledBack',
      'RollbackRequested',
      'RolledBackAsRequested',
    ]);
    expectEnd(result, {
      status: 'SUCCEEDED',
      terminalState: 'RolledBackAsRequested',
      notified: 'rolled-back',
    });
  });

  it('waits out a slow rollback with the safety-net poll before reporting "rolled-back"', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.ecsDeploymentFailedEvent,
      replies: {
        ...replies.acceptRollback,
        ...replies.rollback,
        WaitForRollbackEvent: [
          safetyNetTimeout(),
          returns(fixtures.wake('SERVICE_DEPLOYMENT_COMPLETED', fixtures.rollbackDeploymentId)),
        ],
        PollRollback: [
          returns(fixtures.rollout('IN_PROGRESS', fixtures.rollbackDeploymentId)),
          returns(fixtures.rollout('COMPLETED', fixtures.rollbackDeploymentId)),
        ],
      },
    });

    // Assess
    expect(result.visited).toEqual([
      ...visits.acceptRollback,
      ...visits.rollback,
      'WaitForRollbackEvent',
      'PollRollback',
      'JudgeRollbackRollout',
      'NotifyRolledBack',
      'RollbackRequested',
      'RolledBack',
    ]);
    expectEnd(result, { status: 'FAILED', terminalState: 'RolledBack', notified: 'rolled-back' });
    expectSafetyNetTimeoutResolves(result, 'WaitForRollbackEvent');
  });

  it('raises the critical "rollback-failed" when the rollback itself is refused', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: {
        ...throughUpdate,
        ...replies.rollout,
        SmokeTest: [returns(fixtures.smoke(false))],
        Rollback: [
          throws('RollbackFailed', 'No COMPLETED revision to return to. Deploy the last good image by hand.'),
        ],
      },
    });

    // Assess
    expect(result.visited).toEqual([
      ...upToRollout,
      ...visits.rollout,
      ...visits.smokeTest,
      'Rollback',
      'NotifyRollbackFailed',
      'RollbackFailed',
    ]);
    expectEnd(result, { status: 'FAILED', terminalState: 'RollbackFailed', notified: 'rollback-failed' });
  });

  it.each(['FAILED', 'TIMED_OUT', 'REPLACED'] as const)(
    'raises "rollback-failed" when the rollback deployment ends %s instead of stabilising',
    async (status) => {
      // Act
      const result = await runScenario({
        input: fixtures.startInput,
        replies: {
          ...throughUpdate,
          WaitForDeploymentEvent: [returns(fixtures.wake('SERVICE_DEPLOYMENT_FAILED'))],
          PollStabilization: [returns(fixtures.rollout('FAILED'))],
          ...replies.rollback,
          PollRollback: [returns(fixtures.rollout(status, fixtures.rollbackDeploymentId))],
        },
      });

      // Assess
      expect(result.visited).toEqual([
        ...upToRollout,
        ...visits.rollout,
        ...visits.rollback,
        'NotifyRollbackFailed',
        'RollbackFailed',
      ]);
      expectEnd(result, { status: 'FAILED', terminalState: 'RollbackFailed', notified: 'rollback-failed' });
    },
  );

  it.each([
    [
      'the rollback wait cannot be registered',
      {
        WaitForRollbackEvent: [
          throws('AccessDeniedException', 'not authorized to perform: dynamodb:PutItem'),
        ],
      },
      ['Rollback', 'WaitForRollbackEvent'],
    ],
    [
      'judging the rollback throws',
      {
        WaitForRollbackEvent: replies.rollback.WaitForRollbackEvent,
        PollRollback: [throws('RollbackFailed', 'The rollback deployment disappeared from the service.')],
      },
      ['Rollback', 'WaitForRollbackEvent', 'PollRollback'],
    ],
  ])('raises "rollback-failed" when %s', async (_what, failingReplies, rollbackVisits) => {
    // Act
    const result = await runScenario({
      input: fixtures.ecsDeploymentFailedEvent,
      replies: { ...replies.acceptRollback, Rollback: replies.rollback.Rollback, ...failingReplies },
    });

    // Assess
    expect(result.visited).toEqual([
      ...visits.acceptRollback,
      ...rollbackVisits,
      'NotifyRollbackFailed',
      'RollbackFailed',
    ]);
    expectEnd(result, { status: 'FAILED', terminalState: 'RollbackFailed', notified: 'rollback-failed' });
  });
});
