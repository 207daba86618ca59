/**
 * Paths that end before the service is changed: success, ignore, rejection, the diff gate, the
 * pre-flight checks and a refused update. Each runs the real definition with handler doubles.
 */
import * as fixtures from './fixtures';
import { expectEnd, replies, throughUpdate, visits } from './paths';
import { returns, runScenario, throws } from './scenario';

/** A person's decision as decide-approval hands it to RequestApproval (SendTaskSuccess output). */
const approver = {
  arn: 'arn:aws:sts::123456789012:assumed-role/deployment-approver/jane.doe',
  accountId: '123456789012',
  userId: 'AROA0EXAMPLE0APPROVER:jane.doe',
};
const approved = {
  decision: 'approved',
  reason: 'CHG-7: service replacement reviewed with the team',
  approver,
  decidedAt: '2026-12-07T10:05:00.000Z',
};
const denied = { ...approved, decision: 'denied', reason: 'not during the release freeze' };

describe('deployment state machine, before the service is changed', () => {
  it('deploys a verified image, notifies "succeeded" once and ends in Deployed', async () => {
    // Prepare
    const scenario = {
      input: fixtures.startInput,
      replies: { ...throughUpdate, ...replies.rollout, ...replies.smokeTest },
    };

    // Act
    const result = await runScenario(scenario);

    // Assess
    expect(result.visited).toEqual([
      ...visits.acceptDeploy,
      ...visits.diffGate,
      'VerifySecrets',
      'UpdateService',
      ...visits.rollout,
      ...visits.smokeTest,
      'NotifySucceeded',
      'Deployed',
    ]);
    expectEnd(result, { status: 'SUCCEEDED', terminalState: 'Deployed', notified: 'succeeded' });
  });

  it('hands every handler the inputs of the workflow contract', async () => {
    // Prepare
    const request = fixtures.deploymentRequest();

    // Act
    const { calls } = await runScenario({
      input: fixtures.startInput,
      replies: { ...throughUpdate, ...replies.rollout, ...replies.smokeTest },
    });

    // Assess
    expect(calls.ResolveRequest).toEqual([
      {
        executionId: fixtures.executionId,
        executionName: fixtures.executionName,
        input: fixtures.startInput,
      },
    ]);
    expect(calls.RunCdkDiff).toEqual([
      {
        ProjectName: fixtures.fakeSubstitutions.DiffProjectName,
        EnvironmentVariablesOverride: [
          { Name: 'STACK_NAME', Type: 'PLAINTEXT', Value: 'Afu9EcsStack' },
          { Name: 'IMAGE_TAG', Type: 'PLAINTEXT', Value: 'stage-3f9c2ab' },
          // The images being released, for the `images` context of `cdk diff`.
          { Name: 'RELEASE_IMAGES', Type: 'PLAINTEXT', Value: JSON.stringify(request.images) },
          { Name: 'DIFF_OBJECT_KEY', Type: 'PLAINTEXT', Value: `diffs/${fixtures.executionName}.txt` },
        ],
      },
    ]);
    expect(calls.AnalyzeDiff).toEqual([
      {
        executionId: fixtures.executionId,
        environment: 'staging',
        bucket: fixtures.fakeSubstitutions.DiffBucketName,
        key: `diffs/${fixtures.executionName}.txt`,
      },
    ]);
    expect(calls.VerifySecrets).toEqual([
      { executionId: fixtures.executionId, request: { ...request, skipReason: '' } },
    ]);
    expect(calls.UpdateService).toEqual([
      {
        executionId: fixtures.executionId,
        request: { ...request, skipReason: '' },
        images: fixtures.verification().images,
      },
    ]);
    expect(calls.WaitForDeploymentEvent).toEqual([
      {
        FunctionName: fixtures.fakeSubstitutions.RegisterWaitFunctionArn,
        Payload: {
          taskToken: expect.stringMatching(/\S/),
          executionId: fixtures.executionId,
          deploymentId: fixtures.deploymentId,
          clusterName: 'afu9-cluster',
          serviceName: 'afu9-control-center-staging',
        },
      },
    ]);
    expect(calls.PollStabilization).toEqual([
      {
        executionId: fixtures.executionId,
        request: { ...request, skipReason: '' },
        target: {
          deploymentId: fixtures.deploymentId,
          taskDefinitionArn: fixtures.newTaskDefinitionArn,
          previousTaskDefinitionArn: fixtures.previousTaskDefinitionArn,
          deadline: fixtures.update().deadline,
        },
      },
    ]);
    expect(calls.SmokeTest).toEqual([
      {
        executionId: fixtures.executionId,
        request: { ...request, skipReason: '' },
        update: fixtures.update(),
      },
    ]);
    expect(calls.NotifySucceeded).toEqual([
      {
        executionId: fixtures.executionId,
        outcome: 'succeeded',
        // The local interpreter stamps $$.Execution.StartTime with the wall clock, whatever the context says.
        startedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
        state: expect.objectContaining({ request: expect.anything() }),
      },
    ]);
  });

  it('keeps the state small: the CodeBuild result is reduced to its id and status, the raw input is dropped', async () => {
    // Act
    const { output } = await runScenario({
      input: fixtures.startInput,
      replies: { ...throughUpdate, ...replies.rollout, ...replies.smokeTest },
    });

    // Assess
    const build = fixtures.codeBuildResult().Build;
    expect(output?.diffBuild).toEqual({ buildId: build.Id, buildStatus: 'SUCCEEDED' });
    expect(Object.keys(output ?? {}).sort()).toEqual(
      [
        'resolution',
        'request',
        'diffBuild',
        'diffGate',
        'verification',
        'update',
        'wake',
        'rollout',
        'smoke',
        'notification',
      ].sort(),
    );
    expect(JSON.stringify(output).length).toBeLessThan(16 * 1024);
  });

  it('ignores a duplicate push quietly: Succeed Ignored, no notification, nothing else runs', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.ecrPushEvent,
      replies: {
        ResolveRequest: [
          returns({
            status: 'ignored',
            reason: 'afu9/control-center@sha256:4f1c… was already deployed to staging.',
          }),
        ],
      },
    });

    // Assess
    expect(result.visited).toEqual(['ResolveRequest', 'RouteRequest', 'Ignored']);
    expectEnd(result, { status: 'SUCCEEDED', terminalState: 'Ignored', notified: null });
  });

  it('notifies "rejected" when a guardrail refuses the request, with the reason in $.error', async () => {
    // Act
    const result = await runScenario({
      input: { ...fixtures.startInput, environment: 'production', imageTag: 'stage-3f9c2ab' },
      replies: {
        ResolveRequest: [
          throws(
            'DeploymentRejected',
            'Production needs allowProduction: true, and a stage- image never goes to production. Deploy a prod- image with allowProduction: true.',
          ),
        ],
      },
    });

    // Assess
    expect(result.visited).toEqual(['ResolveRequest', 'NotifyRejected', 'DeploymentFailed']);
    expectEnd(result, { status: 'FAILED', terminalState: 'DeploymentFailed', notified: 'rejected' });
    expect(result.notifications[0]?.input.state).toMatchObject({
      error: { Error: 'DeploymentRejected', Cause: expect.stringContaining('allowProduction') },
    });
  });

  it.each([
    ['an unknown status', { status: 'queued' }, ['ResolveRequest', 'RouteRequest']],
    [
      'an unknown request kind',
      { status: 'accepted', request: { ...fixtures.deploymentRequest(), kind: 'redeploy' } },
      ['ResolveRequest', 'RouteRequest', 'RouteByKind'],
    ],
  ])('fails closed on %s, notifying "failed-before-change"', async (_what, answer, routing) => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: { ResolveRequest: [returns(answer)] },
    });

    // Assess
    expect(result.visited).toEqual([...routing, 'UnknownResolution', 'NotifyFailed', 'DeploymentFailed']);
    expectEnd(result, {
      status: 'FAILED',
      terminalState: 'DeploymentFailed',
      notified: 'failed-before-change',
    });
    expect(result.notifications[0]?.input.state).toMatchObject({ error: { Error: 'UnknownResolution' } });
  });

  it('pauses a BLOCKED diff for an approval, handing request-approval the token, the subject and the findings', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: {
        ...replies.acceptDeploy,
        RunCdkDiff: [returns(fixtures.codeBuildResult())],
        AnalyzeDiff: [returns(fixtures.diffGate('BLOCKED'))],
        RequestApproval: [returns(denied)],
      },
    });

    // Assess
    expect(result.calls.RequestApproval).toEqual([
      {
        FunctionName: fixtures.fakeSubstitutions.RequestApprovalFunctionArn,
        Payload: {
          taskToken: expect.stringMatching(/\S/),
          executionId: fixtures.executionId,
          environment: 'staging',
          subject: { kind: 'image-release' },
          diffGate: fixtures.diffGate('BLOCKED'),
        },
      },
    ]);
  });

  it('stops a BLOCKED diff a person denied, notifying "blocked" with the findings and the decision, before anything is verified or changed', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: {
        ...replies.acceptDeploy,
        RunCdkDiff: [returns(fixtures.codeBuildResult())],
        AnalyzeDiff: [returns(fixtures.diffGate('BLOCKED'))],
        RequestApproval: [returns(denied)],
      },
    });

    // Assess
    expect(result.visited).toEqual([
      ...visits.acceptDeploy,
      ...visits.diffGate,
      'RequestApproval',
      'ApproveOrDeny',
      'NotifyBlocked',
      'DeploymentFailed',
    ]);
    expectEnd(result, { status: 'FAILED', terminalState: 'DeploymentFailed', notified: 'blocked' });
    expect(result.notifications[0]?.input.state).toMatchObject({
      diffGate: {
        verdict: 'BLOCKED',
        proceed: false,
        blocking: [expect.objectContaining({ change: 'replace' })],
      },
      approval: denied,
    });
  });

  it('ends an approval nobody answered as expired: ExpireApproval records it, "blocked" names it, nothing is changed', async () => {
    // Prepare
    const expired = {
      decision: 'expired',
      reason: 'No one approved or denied the image release by 2026-12-08T09:00:00.000Z.',
      decidedAt: '2026-12-08T09:00:01.000Z',
    };

    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: {
        ...replies.acceptDeploy,
        RunCdkDiff: [returns(fixtures.codeBuildResult())],
        AnalyzeDiff: [returns(fixtures.diffGate('BLOCKED'))],
        RequestApproval: [throws('States.Timeout', 'The approval wait timed out')],
        ExpireApproval: [returns(expired)],
      },
    });

    // Assess
    expect(result.visited).toEqual([
      ...visits.acceptDeploy,
      ...visits.diffGate,
      'RequestApproval',
      'ExpireApproval',
      'NotifyBlocked',
      'DeploymentFailed',
    ]);
    expect(result.calls.ExpireApproval).toEqual([
      { executionId: fixtures.executionId, subject: { kind: 'image-release' } },
    ]);
    expectEnd(result, { status: 'FAILED', terminalState: 'DeploymentFailed', notified: 'blocked' });
    expect(result.notifications[0]?.input.state).toMatchObject({ approval: expired });
    expect(result.notifications[0]?.input.state).not.toHaveProperty('error');
  });

  it('fails closed when the approval cannot be requested: "failed-before-change", nothing verified', async () => {
    const result = await runScenario({
      input: fixtures.startInput,
      replies: {
        ...replies.acceptDeploy,
        RunCdkDiff: [returns(fixtures.codeBuildResult())],
        AnalyzeDiff: [returns(fixtures.diffGate('BLOCKED'))],
        RequestApproval: [throws('Error', 'RequestApproval got an incomplete input')],
      },
    });

    expect(result.visited).not.toContain('VerifySecrets');
    expectEnd(result, {
      status: 'FAILED',
      terminalState: 'DeploymentFailed',
      notified: 'failed-before-change',
    });
  });

  it('stops at an ERROR verdict (an incomplete diff) as "blocked": never PASS by default', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: {
        ...replies.acceptDeploy,
        RunCdkDiff: [returns(fixtures.codeBuildResult())],
        AnalyzeDiff: [returns(fixtures.diffGate('ERROR'))],
      },
    });

    // Assess
    expect(result.visited).toEqual([
      ...visits.acceptDeploy,
      ...visits.diffGate,
      'NotifyBlocked',
      'DeploymentFailed',
    ]);
    expectEnd(result, { status: 'FAILED', terminalState: 'DeploymentFailed', notified: 'blocked' });
    expect(result.notifications[0]?.input.state).toMatchObject({ diffGate: { verdict: 'ERROR' } });
  });

  it.each([
    ['failed', throws('States.TaskFailed', JSON.stringify(fixtures.codeBuildResult('FAILED').Build))],
    ['timed-out', throws('States.Timeout', 'RunCdkDiff did not finish within 1800 seconds.')],
  ])(
    'treats a %s cdk diff build as no diff: "failed-before-change", AnalyzeDiff never runs',
    async (_kind, reply) => {
      // Act
      const result = await runScenario({
        input: fixtures.startInput,
        replies: { ...replies.acceptDeploy, RunCdkDiff: [reply] },
      });

      // Assess
      expect(result.visited).toEqual([
        ...visits.acceptDeploy,
        'RunCdkDiff',
        'NotifyFailed',
        'DeploymentFailed',
      ]);
      expectEnd(result, {
        status: 'FAILED',
        terminalState: 'DeploymentFailed',
        notified: 'failed-before-change',
      });
      expect(result.calls.AnalyzeDiff).toBeUndefined();
    },
  );

  it('retries a throttled CodeBuild start and then goes on', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: {
        ...throughUpdate,
        RunCdkDiff: [
          throws(
            'CodeBuild.AccountLimitExceededException',
            'Cannot have more than 1 builds in queue for the account',
          ),
          returns(fixtures.codeBuildResult()),
        ],
        ...replies.rollout,
        ...replies.smokeTest,
      },
    });

    // Assess
    expect(result.retries).toEqual({ RunCdkDiff: ['CodeBuild.AccountLimitExceededException'] });
    expectEnd(result, { status: 'SUCCEEDED', terminalState: 'Deployed', notified: 'succeeded' });
  });

  it('stops when the diff text cannot be read (DiffUnreadable): "failed-before-change"', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: {
        ...replies.acceptDeploy,
        RunCdkDiff: [returns(fixtures.codeBuildResult())],
        AnalyzeDiff: [
          throws(
            'DiffUnreadable',
            `s3://afu9-deploy-diffs/diffs/${fixtures.executionName}.txt does not exist.`,
          ),
        ],
      },
    });

    // Assess
    expect(result.visited).toEqual([
      ...visits.acceptDeploy,
      'RunCdkDiff',
      'AnalyzeDiff',
      'NotifyFailed',
      'DeploymentFailed',
    ]);
    expectEnd(result, {
      status: 'FAILED',
      terminalState: 'DeploymentFailed',
      notified: 'failed-before-change',
    });
  });

  it('goes on after a recorded approval of a BLOCKED diff, and the success notification names the approver and reason', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: {
        ...throughUpdate,
        AnalyzeDiff: [returns(fixtures.diffGate('BLOCKED'))],
        RequestApproval: [returns(approved)],
        ...replies.rollout,
        ...replies.smokeTest,
      },
    });

    // Assess
    expect(result.visited).toEqual(
      expect.arrayContaining(['RequestApproval', 'ApproveOrDeny', 'VerifySecrets', 'UpdateService']),
    );
    expectEnd(result, { status: 'SUCCEEDED', terminalState: 'Deployed', notified: 'succeeded' });
    expect(result.notifications[0]?.input.state).toMatchObject({
      diffGate: { verdict: 'BLOCKED', proceed: false, approvalRequired: true },
      approval: approved,
    });
  });

  it('never goes on from an approval whose decision is anything but "approved" (fail closed)', async () => {
    const result = await runScenario({
      input: fixtures.startInput,
      replies: {
        ...replies.acceptDeploy,
        RunCdkDiff: [returns(fixtures.codeBuildResult())],
        AnalyzeDiff: [returns(fixtures.diffGate('BLOCKED'))],
        RequestApproval: [returns({ ...approved, decision: 'Approved' })],
      },
    });

    expect(result.visited).not.toContain('VerifySecrets');
    expectEnd(result, { status: 'FAILED', terminalState: 'DeploymentFailed', notified: 'blocked' });
  });

  it.each([
    [
      'SecretsInvalid',
      'Secret afu9/database lacks the key "password". Add it in Secrets Manager, then deploy again.',
    ],
    ['ImageNotFound', 'afu9/mcp-github:stage-3f9c2ab does not exist in ECR. Push it, then deploy again.'],
  ])('stops on %s before the update: "failed-before-change"', async (errorName, message) => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: { ...replies.acceptDeploy, ...replies.diffGate, VerifySecrets: [throws(errorName, message)] },
    });

    // Assess
    expect(result.visited).toEqual([
      ...visits.acceptDeploy,
      ...visits.diffGate,
      'VerifySecrets',
      'NotifyFailed',
      'DeploymentFailed',
    ]);
    expectEnd(result, {
      status: 'FAILED',
      terminalState: 'DeploymentFailed',
      notified: 'failed-before-change',
    });
    expect(result.notifications[0]?.input.state).toMatchObject({
      error: { Error: errorName, Cause: message },
    });
    expect(result.calls.UpdateService).toBeUndefined();
  });

  it.each([
    [
      'DeploymentInProgress',
      'Deployment ecs-svc/1111 of afu9-control-center-staging is still IN_PROGRESS. Wait for it to finish.',
    ],
    [
      'UpdateFailed',
      'ECS refused UpdateService: AccessDeniedException. Grant ecs:UpdateService on the service.',
    ],
  ])(
    'reports a refused update (%s) as "failed-before-change", without a rollback',
    async (errorName, message) => {
      // Act
      const result = await runScenario({
        input: fixtures.startInput,
        replies: { ...throughUpdate, UpdateService: [throws(errorName, message)] },
      });

      // Assess
      expect(result.visited).toEqual([
        ...visits.acceptDeploy,
        ...visits.diffGate,
        'VerifySecrets',
        'UpdateService',
        'NotifyFailed',
        'DeploymentFailed',
      ]);
      expectEnd(result, {
        status: 'FAILED',
        terminalState: 'DeploymentFailed',
        notified: 'failed-before-change',
      });
      expect(result.calls.Rollback).toBeUndefined();
    },
  );
});
