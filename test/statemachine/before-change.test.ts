/**
 * Paths that end before the service is changed: success, ignore, rejection, the diff gate, the
 * pre-flight checks and a refused update. Each runs the real definition with handler doubles.
 */
import * as fixtures from './fixtures';
import { expectEnd, replies, throughUpdate, visits } from './paths';
import { returns, runScenario, throws } from './scenario';

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
        skipDiffGate: false,
        skipReason: '',
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

  it('stops at a BLOCKED diff, notifying "blocked" with the findings, before anything is verified or changed', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: {
        ...replies.acceptDeploy,
        RunCdkDiff: [returns(fixtures.codeBuildResult())],
        AnalyzeDiff: [returns(fixtures.diffGate('BLOCKED'))],
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
    expect(result.notifications[0]?.input.state).toMatchObject({
      diffGate: {
        verdict: 'BLOCKED',
        proceed: false,
        blocking: [expect.objectContaining({ change: 'replace' })],
      },
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

  it('lets a BLOCKED diff through when the gate is skipped with a reason, and says so in the success notification', async () => {
    // Prepare
    const request = fixtures.deploymentRequest({
      skipDiffGate: true,
      skipReason: 'INC-2291: hotfix, ALB change reviewed by ops',
    });
    const skippedGate = fixtures.diffGate('BLOCKED', {
      proceed: true,
      skipped: true,
      skipReason: request.skipReason,
    });

    // Act
    const result = await runScenario({
      input: { ...fixtures.startInput, skipDiffGate: true, reason: request.skipReason },
      replies: {
        ...throughUpdate,
        ResolveRequest: [returns(fixtures.accepted(request))],
        AnalyzeDiff: [returns(skippedGate)],
        ...replies.rollout,
        ...replies.smokeTest,
      },
    });

    // Assess
    expect(result.calls.AnalyzeDiff?.[0]).toMatchObject({
      skipDiffGate: true,
      skipReason: request.skipReason,
    });
    expect(result.visited).toContain('VerifySecrets');
    expectEnd(result, { status: 'SUCCEEDED', terminalState: 'Deployed', notified: 'succeeded' });
    expect(result.notifications[0]?.input.state).toMatchObject({
      diffGate: { verdict: 'BLOCKED', skipped: true, skipReason: request.skipReason },
    });
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
