/**
 * A push's release in the definition: while it settles (`assembling`) or waits for the service
 * (`waiting`), the execution waits as ResolveRequest says and resolves the same execution input
 * again; a push that joins a release ends in Ignored without a notification.
 */
import * as fixtures from './fixtures';
import { expectEnd, replies, visits } from './paths';
import { returns, runScenario, throws } from './scenario';

const settling = {
  status: 'assembling',
  reason:
    'Release staging/stage-3f9c2ab settles until 2026-11-27T09:02:00.000Z: no image tagged stage-3f9c2ab yet in afu9/mcp-deploy.',
  waitSeconds: 5,
};
const waiting = {
  status: 'waiting',
  reason:
    'Release staging/stage-3f9c2ab waits for execution ecr-push-first, which deploys the service, until 2026-11-27T09:40:00.000Z.',
  waitSeconds: 30,
};
const resolveAgain = ['ResolveRequest', 'RouteRequest', 'WaitToResolveAgain'];

describe('deployment state machine, a release not ready yet', () => {
  it('waits while the release settles, then resolves the same execution input again and deploys it', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.ecrPushEvent,
      replies: {
        ...replies.diffGate,
        ...replies.verify,
        ...replies.update,
        ...replies.rollout,
        ...replies.smokeTest,
        ResolveRequest: [returns(settling), returns(waiting), returns(fixtures.accepted())],
      },
    });

    // Assess
    expect(result.visited.slice(0, 11)).toEqual([...resolveAgain, ...resolveAgain, ...visits.acceptDeploy]);
    const waits = result.visited
      .map((state, index) => (state === 'WaitToResolveAgain' ? result.enteredWith[index] : undefined))
      .filter((input) => input !== undefined) as { resolution: { waitSeconds: number } }[];
    expect(waits.map((input) => input.resolution.waitSeconds)).toEqual([5, 30]);
    for (const call of result.calls.ResolveRequest!) expect(call.input).toEqual(fixtures.ecrPushEvent);
    expectEnd(result, { status: 'SUCCEEDED', terminalState: 'Deployed', notified: 'succeeded' });
  });

  it('ends quietly when the resolve after a wait finds the push joined another release', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.ecrPushEvent,
      replies: {
        ResolveRequest: [
          returns(waiting),
          returns({
            status: 'ignored',
            reason: 'afu9/mcp-github:stage-3f9c2ab joins release staging/stage-3f9c2ab.',
          }),
        ],
      },
    });

    // Assess
    expect(result.visited).toEqual([...resolveAgain, 'ResolveRequest', 'RouteRequest', 'Ignored']);
    expectEnd(result, { status: 'SUCCEEDED', terminalState: 'Ignored', notified: null });
  });

  it('fails before any change, notifying once, when the release gives up waiting for the service', async () => {
    // Act
    const result = await runScenario({
      input: fixtures.ecrPushEvent,
      replies: {
        ResolveRequest: [
          returns(waiting),
          throws('DeploymentInProgress', 'Release staging/stage-3f9c2ab waited 2400 s for the service'),
        ],
      },
    });

    // Assess
    expectEnd(result, {
      status: 'FAILED',
      terminalState: 'DeploymentFailed',
      notified: 'failed-before-change',
    });
  });
});
