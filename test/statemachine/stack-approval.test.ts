/**
 * An infrastructure release whose stack diff needs a person: the same recorded-approval pause as an
 * image release, with the stack as its subject. Runs the real definition with handler doubles.
 */
import * as fixtures from './fixtures';
import { returns, runScenario, throws, type Reply } from './scenario';

const STACKS = ['Afu9NetworkStack', 'Afu9EcsStack'];

const infrastructureRequest = fixtures.deploymentRequest({
  kind: 'infrastructure',
  images: [],
  version: 'infrastructure',
  requestedBy: 'jane.doe',
  deploymentKey: `staging#infrastructure#${fixtures.executionName}`,
  stacks: STACKS,
});

const approver = {
  arn: 'arn:aws:sts::123456789012:assumed-role/deployment-approver/jane.doe',
  accountId: '123456789012',
  userId: 'AROA0EXAMPLE0APPROVER:jane.doe',
};
const approved = {
  decision: 'approved',
  reason: 'CHG-4711: service replacement reviewed with the team',
  approver,
  decidedAt: '2026-12-07T10:05:00.000Z',
};
const denied = { ...approved, decision: 'denied', reason: 'not during the release freeze' };
const expired = {
  decision: 'expired',
  reason: 'No one approved or denied stack Afu9EcsStack by 2026-12-08T09:00:00.000Z.',
  decidedAt: '2026-12-08T09:00:01.000Z',
};

/** What watch-stack answers for a stack CloudFormation updated (no ECS deployment started). */
const deployed = {
  status: 'DEPLOYED',
  stackStatus: 'UPDATE_COMPLETE',
  reason: 'UPDATE_COMPLETE',
  outputs: {},
};
const baseline = { stackStatus: 'UPDATE_COMPLETE', lastUpdatedTime: '2026-12-01T08:00:00.000Z' };

/**
 * The network stack PASSes and deploys; the ECS stack's diff is BLOCKED and waits for `approval`.
 * The deploy steps are scripted for the ECS stack too only when the path deploys it.
 */
function heldEcsStack(
  approval: Record<string, readonly Reply[]>,
  deploysHeldStack = false,
): Record<string, readonly Reply[]> {
  const times = deploysHeldStack ? 2 : 1;
  const each = (reply: Reply) => Array.from({ length: times }, () => reply);
  return {
    ResolveRequest: [returns(fixtures.accepted(infrastructureRequest))],
    SynthAndDiffStack: [returns(fixtures.codeBuildResult()), returns(fixtures.codeBuildResult())],
    AnalyzeStackDiff: [returns(fixtures.diffGate('PASS')), returns(fixtures.diffGate('BLOCKED'))],
    BaselineStack: each(returns(baseline)),
    DeployStack: each(returns(fixtures.codeBuildResult())),
    WatchStack: each(returns(deployed)),
    ...approval,
  };
}

const untilTheGate = [
  'ResolveRequest',
  'RouteRequest',
  'RouteByKind',
  'AcceptInfrastructure',
  'NextStack',
  'SelectStack',
  'SynthAndDiffStack',
  'AnalyzeStackDiff',
  'JudgeStackGate',
  'BaselineStack',
  'DeployStack',
  'WatchStack',
  'JudgeStack',
  'StackDone',
  'NextStack',
  'SelectStack',
  'SynthAndDiffStack',
  'AnalyzeStackDiff',
  'JudgeStackGate',
  'RequestStackApproval',
];

describe('infrastructure release, a stack that needs a person', () => {
  it('pauses the held stack for an approval, handing request-approval the token, the stack as subject and its findings', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: heldEcsStack({ RequestStackApproval: [returns(denied)] }),
    });

    // Assess
    expect(result.calls.RequestStackApproval).toEqual([
      {
        FunctionName: fixtures.fakeSubstitutions.RequestApprovalFunctionArn,
        Payload: {
          taskToken: expect.stringMatching(/\S/),
          executionId: fixtures.executionId,
          environment: 'staging',
          subject: { kind: 'stack', stackName: 'Afu9EcsStack' },
          diffGate: fixtures.diffGate('BLOCKED'),
        },
      },
    ]);
  });

  it('deploys the stack a person approved, and the release succeeds', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: heldEcsStack({ RequestStackApproval: [returns(approved)] }, true),
    });

    // Assess
    expect(result.visited).toEqual([
      ...untilTheGate,
      'StackApproveOrDeny',
      'BaselineStack',
      'DeployStack',
      'WatchStack',
      'JudgeStack',
      'StackDone',
      'NextStack',
      'NotifySucceeded',
      'Deployed',
    ]);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.notifications.map((sent) => sent.outcome)).toEqual(['succeeded']);
    // The deploy build ran for the held stack only after the decision.
    expect(result.calls.DeployStack).toHaveLength(2);
  });

  it('stops at a stack a person denied: "blocked" names the decision, the stack is never deployed', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: heldEcsStack({ RequestStackApproval: [returns(denied)] }),
    });

    // Assess
    expect(result.visited).toEqual([
      ...untilTheGate,
      'StackApproveOrDeny',
      'NotifyStackNotApproved',
      'InfrastructureNotApproved',
    ]);
    expect(result).toMatchObject({ status: 'FAILED', error: { Error: 'InfrastructureNotApproved' } });
    expect(result.notifications.map((sent) => sent.outcome)).toEqual(['blocked']);
    expect(result.notifications[0]?.input.state).toMatchObject({
      stack: { name: 'Afu9EcsStack' },
      stackGate: { verdict: 'BLOCKED', approvalRequired: true },
      stackApproval: denied,
    });
    expect(result.calls.DeployStack).toHaveLength(1);
  });

  it('ends an approval nobody answered as expired: ExpireStackApproval records it for the stack, "blocked" names it', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: heldEcsStack({
        RequestStackApproval: [throws('States.Timeout', 'The approval wait timed out')],
        ExpireStackApproval: [returns(expired)],
      }),
    });

    // Assess
    expect(result.visited).toEqual([
      ...untilTheGate,
      'ExpireStackApproval',
      'NotifyStackNotApproved',
      'InfrastructureNotApproved',
    ]);
    expect(result.calls.ExpireStackApproval).toEqual([
      { executionId: fixtures.executionId, subject: { kind: 'stack', stackName: 'Afu9EcsStack' } },
    ]);
    expect(result.notifications[0]?.input.state).toMatchObject({ stackApproval: expired });
    expect(result.notifications[0]?.input.state).not.toHaveProperty('error');
    expect(result.calls.DeployStack).toHaveLength(1);
  });

  it('still ends "blocked" before the stack when the expiry cannot be recorded (fail closed)', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: heldEcsStack({
        RequestStackApproval: [throws('States.Timeout', 'The approval wait timed out')],
        ExpireStackApproval: [throws('Error', 'ExpireApproval got an incomplete input')],
      }),
    });

    // Assess
    expect(result.visited.slice(-2)).toEqual(['NotifyStackNotApproved', 'InfrastructureNotApproved']);
    expect(result.notifications.map((sent) => sent.outcome)).toEqual(['blocked']);
    expect(result.calls.DeployStack).toHaveLength(1);
  });

  it('fails the release when the approval cannot be requested: "stack-failed", the stack never deployed', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: heldEcsStack({
        RequestStackApproval: [throws('Error', 'RequestApproval got an incomplete input')],
      }),
    });

    // Assess
    expect(result.visited.slice(-3)).toEqual([
      'RequestStackApproval',
      'NotifyStackFailed',
      'InfrastructureFailed',
    ]);
    expect(result.notifications.map((sent) => sent.outcome)).toEqual(['stack-failed']);
    expect(result.calls.DeployStack).toHaveLength(1);
  });

  it('deploys nothing on a decision other than "approved" (fail closed)', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: heldEcsStack({ RequestStackApproval: [returns({ ...approved, decision: 'maybe' })] }),
    });

    // Assess
    expect(result.visited.slice(-3)).toEqual([
      'StackApproveOrDeny',
      'NotifyStackNotApproved',
      'InfrastructureNotApproved',
    ]);
    expect(result.calls.DeployStack).toHaveLength(1);
  });

  it('never asks a person about a diff that cannot be judged (ERROR): the release fails', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.startInput,
      replies: {
        ...heldEcsStack({}),
        AnalyzeStackDiff: [returns(fixtures.diffGate('PASS')), returns(fixtures.diffGate('ERROR'))],
      },
    });

    // Assess
    expect(result.visited).not.toContain('RequestStackApproval');
    expect(result.visited.slice(-3)).toEqual(['JudgeStackGate', 'NotifyStackFailed', 'InfrastructureFailed']);
  });
});
