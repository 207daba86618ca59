/**
 * The stretches of the workflow the path tests are built from: the states each stretch visits, and
 * the replies that carry an execution through it. A test joins stretches and scripts the one
 * place where its path leaves the happy one.
 */
import { substitute } from '../../statemachine/definition';
import * as fixtures from './fixtures';
import { returns, type Reply, type ScenarioResult } from './scenario';

export const visits = {
  acceptDeploy: [
    'ResolveRequest',
    'RouteRequest',
    'RouteByKind',
    'DefaultOptionalFields',
    'AcceptDeployment',
  ],
  acceptRollback: ['ResolveRequest', 'RouteRequest', 'RouteByKind', 'AcceptRollback'],
  diffGate: ['RunCdkDiff', 'AnalyzeDiff', 'JudgeDiffGate'],
  rollout: ['WaitForDeploymentEvent', 'PollStabilization', 'JudgeRollout'],
  smokeTest: ['SmokeTest', 'JudgeSmokeTest'],
  rollback: ['Rollback', 'WaitForRollbackEvent', 'PollRollback', 'JudgeRollbackRollout'],
} as const;

type Replies = Record<string, readonly Reply[]>;

export const replies = {
  acceptDeploy: { ResolveRequest: [returns(fixtures.accepted())] },
  acceptRollback: { ResolveRequest: [returns(fixtures.accepted(fixtures.rollbackRequest()))] },
  diffGate: {
    RunCdkDiff: [returns(fixtures.codeBuildResult())],
    AnalyzeDiff: [returns(fixtures.diffGate('PASS'))],
  },
  verify: { VerifySecrets: [returns(fixtures.verification())] },
  update: { UpdateService: [returns(fixtures.update())] },
  rollout: {
    WaitForDeploymentEvent: [returns(fixtures.wake())],
    PollStabilization: [returns(fixtures.rollout('COMPLETED'))],
  },
  smokeTest: { SmokeTest: [returns(fixtures.smoke(true))] },
  rollback: {
    Rollback: [returns(fixtures.rollback())],
    WaitForRollbackEvent: [
      returns(fixtures.wake('SERVICE_DEPLOYMENT_COMPLETED', fixtures.rollbackDeploymentId)),
    ],
    PollRollback: [returns(fixtures.rollout('COMPLETED', fixtures.rollbackDeploymentId))],
  },
} satisfies Record<string, Replies>;

/** Every stretch of a deployment that reaches the changed service, up to and including the update. */
export const throughUpdate: Replies = {
  ...replies.acceptDeploy,
  ...replies.diffGate,
  ...replies.verify,
  ...replies.update,
};

export interface ExpectedEnd {
  readonly status: ScenarioResult['status'];
  readonly terminalState:
    'Deployed' | 'Ignored' | 'DeploymentFailed' | 'RolledBack' | 'RolledBackAsRequested' | 'RollbackFailed';
  /** The one outcome notified, or null for none. */
  readonly notified: string | null;
}

/** The execution ended as expected and sent exactly one notification with that outcome (or none). */
export function expectEnd(result: ScenarioResult, expected: ExpectedEnd): void {
  expect({
    status: result.status,
    terminalState: result.terminalState,
    notified: result.notifications.map((sent) => sent.outcome),
  }).toEqual({
    status: expected.status,
    terminalState: expected.terminalState,
    notified: expected.notified === null ? [] : [expected.notified],
  });
  if (result.status === 'FAILED') expect(result.error?.Error).toBe(expected.terminalState);
}

/**
 * The wait's `TimeoutSecondsPath` (which the local interpreter cannot evaluate the AWS way) points,
 * in the state input of every entry into `stateName`, at a positive whole number of seconds.
 */
export function expectSafetyNetTimeoutResolves(result: ScenarioResult, stateName: string): void {
  const state = substitute(fixtures.fakeSubstitutions).States[stateName];
  const timeoutPath = state?.Type === 'Task' ? state.TimeoutSecondsPath : undefined;
  expect(timeoutPath).toMatch(/^\$(\.[A-Za-z]+)+$/);
  const entries = result.enteredWith.filter((_input, index) => result.visited[index] === stateName);
  expect(entries.length).toBeGreaterThan(0);
  for (const stateInput of entries) {
    const seconds = (timeoutPath as string)
      .split('.')
      .slice(1)
      .reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], stateInput);
    expect(Number.isInteger(seconds) && (seconds as number) > 0).toBe(true);
  }
}
