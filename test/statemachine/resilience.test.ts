/**
 * Transient failures are retried, retries end, and a notification that cannot be sent never
 * changes where an execution ends.
 */
import * as fixtures from './fixtures';
import { expectEnd, replies, throughUpdate, type ExpectedEnd } from './paths';
import { returns, runScenario, throws, type Reply } from './scenario';

/** Retry MaxAttempts of every Lambda task in the definition: one call plus this many retries. */
const LAMBDA_RETRIES = 5;

const deployed = { ...throughUpdate, ...replies.rollout, ...replies.smokeTest };

describe('deployment state machine, transient failures', () => {
  it('retries a throttled Lambda (Lambda.TooManyRequestsException) and deploys', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: {
        ...deployed,
        VerifySecrets: [
          throws('Lambda.TooManyRequestsException', 'Rate Exceeded.'),
          returns(fixtures.verification()),
        ],
      },
    });

    // Assess
    expect(result.retries).toEqual({ VerifySecrets: ['Lambda.TooManyRequestsException'] });
    expect(result.visited.filter((state) => state === 'VerifySecrets')).toHaveLength(1);
    expectEnd(result, { status: 'SUCCEEDED', terminalState: 'Deployed', notified: 'succeeded' });
  });

  it('retries an AWS call a handler reports as TransientAwsError, inside the rollout loop too', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: {
        ...deployed,
        PollStabilization: [
          throws('TransientAwsError', 'ECS DescribeServices was throttled. It is retried.'),
          throws('Lambda.ServiceException', 'Lambda was unable to invoke the function.'),
          returns(fixtures.rollout('COMPLETED')),
        ],
      },
    });

    // Assess
    expect(result.retries).toEqual({ PollStabilization: ['TransientAwsError', 'Lambda.ServiceException'] });
    expectEnd(result, { status: 'SUCCEEDED', terminalState: 'Deployed', notified: 'succeeded' });
  });

  it('gives up after the last retry and fails closed before any change', async () => {
    // Prepare
    const stillThrottled = Array.from({ length: LAMBDA_RETRIES + 1 }, () =>
      throws('TransientAwsError', 'Secrets Manager DescribeSecret was throttled.'),
    );

    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: { ...replies.acceptDeploy, ...replies.diffGate, VerifySecrets: stillThrottled },
    });

    // Assess
    expect(result.calls.VerifySecrets).toHaveLength(LAMBDA_RETRIES + 1);
    expectEnd(result, {
      status: 'FAILED',
      terminalState: 'DeploymentFailed',
      notified: 'failed-before-change',
    });
  });

  it('does not retry a deliberate refusal: SecretsInvalid is called once', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: {
        ...replies.acceptDeploy,
        ...replies.diffGate,
        VerifySecrets: [
          throws('SecretsInvalid', 'Secret afu9/github is scheduled for deletion. Restore it.'),
        ],
      },
    });

    // Assess
    expect(result.calls.VerifySecrets).toHaveLength(1);
    expect(result.retries).toEqual({});
  });
});

describe('deployment state machine, notification failures', () => {
  const paths: [string, Record<string, readonly Reply[]>, string, ExpectedEnd][] = [
    [
      'a deployment',
      deployed,
      'NotifySucceeded',
      { status: 'SUCCEEDED', terminalState: 'Deployed', notified: null },
    ],
    [
      'an unreadable diff',
      {
        ...replies.acceptDeploy,
        RunCdkDiff: replies.diffGate.RunCdkDiff,
        AnalyzeDiff: [returns(fixtures.diffGate('ERROR'))],
      },
      'NotifyBlocked',
      { status: 'FAILED', terminalState: 'DeploymentFailed', notified: null },
    ],
    [
      'a rejected request',
      {
        ResolveRequest: [
          throws('DeploymentRejected', 'Unknown environment "prod". Use staging or production.'),
        ],
      },
      'NotifyRejected',
      { status: 'FAILED', terminalState: 'DeploymentFailed', notified: null },
    ],
    [
      'a rollback',
      { ...replies.acceptRollback, ...replies.rollback },
      'NotifyRolledBack',
      { status: 'FAILED', terminalState: 'RolledBack', notified: null },
    ],
    [
      'a failed rollback',
      { ...replies.acceptRollback, Rollback: [throws('RollbackFailed', 'ECS refused the rollback.')] },
      'NotifyRollbackFailed',
      { status: 'FAILED', terminalState: 'RollbackFailed', notified: null },
    ],
  ];

  it.each(paths)(
    'ends %s in its own terminal state when the notification fails',
    async (_path, pathReplies, notifyState, expected) => {
      // Act
      const result = await runScenario({
        input: fixtures.startInput,
        replies: {
          ...pathReplies,
          [notifyState]: [
            throws(
              'NotificationFailed',
              'SNS Publish was denied by the topic key policy. Grant kms:GenerateDataKey.',
            ),
          ],
        },
      });

      // Assess
      expectEnd(result, expected);
      // A rollback's end depends on who asked for it: RollbackRequested chooses between its two ends.
      const between = notifyState === 'NotifyRolledBack' ? ['RollbackRequested'] : [];
      expect(result.visited.slice(result.visited.lastIndexOf(notifyState))).toEqual([
        notifyState,
        ...between,
        expected.terminalState,
      ]);
    },
  );

  it('keeps the terminal state when the notify Lambda stays unavailable through every retry', async () => {
    // Prepare
    const unavailable = Array.from({ length: LAMBDA_RETRIES + 1 }, () =>
      throws('Lambda.ServiceException', 'Lambda was unable to invoke the function.'),
    );

    // Act
    const result = await runScenario({
      input: fixtures.ecsDeploymentFailedEvent,
      replies: { ...replies.acceptRollback, ...replies.rollback, NotifyRolledBack: unavailable },
    });

    // Assess
    expect(result.calls.NotifyRolledBack).toHaveLength(LAMBDA_RETRIES + 1);
    expectEnd(result, { status: 'FAILED', terminalState: 'RolledBack', notified: null });
  });

  it('sends exactly one notification when a throttled notify call succeeds on retry', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: {
        ...deployed,
        NotifySucceeded: [
          throws('Lambda.TooManyRequestsException', 'Rate Exceeded.'),
          returns(fixtures.notification()),
        ],
      },
    });

    // Assess
    expectEnd(result, { status: 'SUCCEEDED', terminalState: 'Deployed', notified: 'succeeded' });
    expect(result.output?.notification).toEqual(fixtures.notification());
  });
});
